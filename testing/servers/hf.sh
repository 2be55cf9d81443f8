#!/usr/bin/env bash
# Hugging Face Hub fixture on 127.0.0.1 for the hf tests and benchmarks (no real Hub can run here;
# testing/hf_fixture/ is proven against the official @huggingface/hub client).
#
#   testing/servers/hf.sh start STATE_DIR   -> starts, waits until ready, writes STATE_DIR/hf.env
#   testing/servers/hf.sh stop  STATE_DIR   -> stops what it started (idempotent)
#
# Ports: HF_PORT_BASE (7500) = the Hub API, +1 = the LFS storage host it redirects to.
# The fixture binary comes from the build: $BUILD_DIR (default build)/testing/hf_fixture/.
#
# hf.env (KEY=value, exported to the tests by scripts/test.sh):
#   DATACUBE_TEST_HF_ENDPOINT     http://127.0.0.1:7500 (use as HF_ENDPOINT)
#   DATACUBE_TEST_HF_STORAGE      http://127.0.0.1:7501 (never sees a token)
#   DATACUBE_TEST_HF_TOKEN        write token of user "dc-ci", member of org DATACUBE_TEST_HF_ORG
#   DATACUBE_TEST_HF_READ_TOKEN   read-only token of user "dc-reader" (no org)
#   DATACUBE_TEST_HF_ORG          the org tests create repositories in
#   DATACUBE_TEST_HF_ROOT         where the fixture keeps repositories
# Tokens are random per start; tests treat them as secrets (grep every output for them).
set -euo pipefail

action=${1:-}
state=${2:-}
if [ -z "$action" ] || [ -z "$state" ]; then
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
D=$state/hf
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE=${HF_PORT_BASE:-7500}
BIN=${HF_FIXTURE_BIN:-$ROOT/${BUILD_DIR:-build}/testing/hf_fixture/datacube-hf-fixture}

stop() {
  if [ -f "$D/pid" ]; then
    p=$(cat "$D/pid")
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$p" 2>/dev/null || true
    fi
    rm -f "$D/pid"
  fi
}

case "$action" in
  start)
    stop
    [ -x "$BIN" ] || { echo "hf fixture binary not built: $BIN" >&2; exit 1; }
    mkdir -p "$D/root"
    rand() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
    TOKEN=hf_dcwrite_$(rand)
    READ_TOKEN=hf_dcread_$(rand)
    ORG=dc-test
    rm -f "$D/ready"
    "$BIN" --root "$D/root" --hub-port "$BASE" --storage-port $((BASE + 1)) \
      --token "$TOKEN=dc-ci:$ORG" --token "$READ_TOKEN=dc-reader:ro" \
      --ready-file "$D/ready" >"$D/fixture.log" 2>&1 &
    echo $! >"$D/pid"
    for _ in $(seq 1 100); do
      [ -f "$D/ready" ] && break
      kill -0 "$(cat "$D/pid")" 2>/dev/null || { cat "$D/fixture.log" >&2; exit 1; }
      sleep 0.05
    done
    [ -f "$D/ready" ] || { echo "hf fixture did not become ready" >&2; exit 1; }
    curl -sf "http://127.0.0.1:$BASE/_fixture/health" >/dev/null
    cat >"$state/hf.env" <<ENV
DATACUBE_TEST_HF_ENDPOINT=http://127.0.0.1:$BASE
DATACUBE_TEST_HF_STORAGE=http://127.0.0.1:$((BASE + 1))
DATACUBE_TEST_HF_TOKEN=$TOKEN
DATACUBE_TEST_HF_READ_TOKEN=$READ_TOKEN
DATACUBE_TEST_HF_ORG=$ORG
DATACUBE_TEST_HF_ROOT=$D/root
ENV
    echo "hf fixture ready: $(cat "$D/ready")"
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
