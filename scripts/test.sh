#!/usr/bin/env bash
# `make test`: install, check formatting and layering (scripts/check_format.sh,
# scripts/check_layers.sh), build, start the real test servers on loopback, run the whole suite,
# stop the servers (also on failure or interrupt), then run the fuzz targets (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}

scripts/install-deps.sh
# Seconds, so before the long build and suite: both run, and either fails the run.
checks_rc=0
scripts/check_format.sh || checks_rc=1
scripts/check_layers.sh || checks_rc=1
if [ "$checks_rc" -ne 0 ]; then
  echo "test.sh: fix the formatting and layering problems above first" >&2
  exit 1
fi
scripts/build.sh

STATE_DIR=$(mktemp -d /tmp/datacube-test-XXXXXX)
# mktemp makes it 0700; servers that drop privileges (nginx workers) must be able to enter it.
chmod 755 "$STATE_DIR"
export DATACUBE_TEST_STATE_DIR=$STATE_DIR
cleanup() {
  "$ROOT/testing/servers/all.sh" stop "$STATE_DIR" || true
  rm -rf "$STATE_DIR"
}
trap cleanup EXIT INT TERM

testing/servers/all.sh start "$STATE_DIR"
# Every server's start script wrote NAME.env with the variables tests read.
set -a
for f in "$STATE_DIR"/*.env; do [ -f "$f" ] && . "$f"; done
set +a
# In `make test` a missing server is a failure, never a skip.
export DATACUBE_REQUIRE_SERVERS=1
export DATACUBE_BIN=$ROOT/$BUILD_DIR/src/datacube/cli/datacube

(cd "$BUILD_DIR" && ctest --output-on-failure -j "${CTEST_JOBS:-2}" ${CTEST_ARGS:-})

# The fuzz targets need no server: stop them first, so the fuzzers have the cores to themselves.
cleanup
trap - EXIT INT TERM
# Every checked-in fuzz input, then FUZZ_SECONDS of fuzzing per target (docs/fuzzing.md).
FUZZ_SECONDS=${FUZZ_SECONDS:-25} scripts/fuzz.sh
