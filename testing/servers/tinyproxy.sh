#!/usr/bin/env bash
# tinyproxy (Debian package, scripts/deps/spec.apt) on 127.0.0.1 as a real HTTP/HTTPS forward
# proxy, for the DataCube executor.env tests (HTTPS_PROXY, HTTP_PROXY).
#
#   testing/servers/tinyproxy.sh start STATE_DIR  -> starts, waits until ready, writes
#                                                    STATE_DIR/tinyproxy.env
#   testing/servers/tinyproxy.sh stop  STATE_DIR  -> stops what it started (idempotent)
#
# Port: TINYPROXY_PORT (default 7590). LogLevel Connect records one line per request
# ("Request (file descriptor N): GET http://127.0.0.1:PORT/path HTTP/1.1", or CONNECT host:port
# for HTTPS), which is what the tests look for. No ConnectPort line: CONNECT to any port is
# allowed (test servers listen on high ports).
#
# tinyproxy.env:
#   DATACUBE_TEST_PROXY_URL  http://127.0.0.1:PORT
#   DATACUBE_TEST_PROXY_LOG  the request log
set -euo pipefail

action=${1:-}
state=${2:-}
if [ -z "$action" ] || [ -z "$state" ]; then
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
D=$state/tinyproxy
PORT=${TINYPROXY_PORT:-7590}

stop() {
  if [ -f "$D/tinyproxy.pid" ]; then
    pid=$(cat "$D/tinyproxy.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$D/tinyproxy.pid"
  fi
}

case "$action" in
  start)
    command -v tinyproxy >/dev/null || { echo "tinyproxy is not installed (scripts/deps/spec.apt)" >&2; exit 1; }
    stop
    mkdir -p "$D"
    : >"$D/tinyproxy.log"
    cat >"$D/tinyproxy.conf" <<CONF
Port $PORT
Listen 127.0.0.1
Timeout 600
LogFile "$D/tinyproxy.log"
LogLevel Connect
MaxClients 200
Allow 127.0.0.1
ViaProxyName "tinyproxy"
DisableViaHeader Yes
CONF
    # -d: stay in the foreground so that the pid we record is the proxy's own.
    nohup tinyproxy -d -c "$D/tinyproxy.conf" >"$D/stdout.log" 2>&1 &
    echo $! >"$D/tinyproxy.pid"
    for _ in $(seq 1 100); do
      if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then break; fi
      sleep 0.05
    done
    if ! (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then
      echo "tinyproxy did not start on 127.0.0.1:$PORT; log:" >&2
      cat "$D/stdout.log" "$D/tinyproxy.log" >&2
      exit 1
    fi
    cat >"$state/tinyproxy.env" <<ENV
DATACUBE_TEST_PROXY_URL=http://127.0.0.1:$PORT
DATACUBE_TEST_PROXY_LOG=$D/tinyproxy.log
ENV
    echo "tinyproxy ready on 127.0.0.1:$PORT"
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: $0 start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
