#!/usr/bin/env bash
# Git smart-HTTP server over HTTPS with basic auth and Git LFS, on 127.0.0.1, for the git tests.
#
#   testing/servers/git.sh start STATE_DIR   -> starts, waits until ready, writes STATE_DIR/git.env
#   testing/servers/git.sh stop  STATE_DIR   -> stops what it started (idempotent)
#
# Pieces (Debian packages in scripts/deps/git.apt):
#   nginx (nginx-light)  TLS with a self-signed certificate made at start (openssl), basic auth
#   fcgiwrap             runs /usr/lib/git-core/git-http-backend for /<repo>.git/...
#   datacube-lfs-server  our LFS batch server (testing/lfs_server/), behind nginx at
#                        /<repo>.git/info/lfs/ (object URLs carry their own per-object token)
# Ports: GIT_PORT_BASE (7510) = nginx HTTPS, +1 = the LFS server (loopback HTTP behind nginx).
#
# Basic auth accepts the throwaway token as password of any of the users "git", "x-access-token"
# and as the user name with an empty password (the https://TOKEN@host form of DataCube git
# URLs). A bare
# repository holding a file named datacube-public-read can be fetched without credentials.
#
# git.env (KEY=value, exported to the tests by scripts/test.sh):
#   DATACUBE_TEST_GIT_URL        https://127.0.0.1:PORT (repositories are at /<name>.git)
#   DATACUBE_TEST_GIT_HOST       127.0.0.1:PORT
#   DATACUBE_TEST_GIT_TOKEN      the token (a secret: tests grep every output for it)
#   DATACUBE_TEST_GIT_CA         CA certificate (PEM) to trust; pass as GIT_SSL_CAINFO or ca-file
#   DATACUBE_TEST_GIT_REPOS      directory of the bare repositories (tests create their own)
#   DATACUBE_TEST_GIT_LFS_ROOT   LFS object storage: <root>/<name>.git/<oid[0:2]>/<oid>
#   DATACUBE_TEST_GIT_ACCESS_LOG nginx access log (tests count requests, e.g. 401 answers)
set -euo pipefail

action=${1:-}
state=${2:-}
if [ -z "$action" ] || [ -z "$state" ]; then
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
D=$state/git
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE=${GIT_PORT_BASE:-7510}
PORT=$BASE
LFS_PORT=$((BASE + 1))
BACKEND=/usr/lib/git-core/git-http-backend

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pid() {  # stop_pid PIDFILE GROUP(0/1)
  local f=$1 group=$2 p
  [ -f "$f" ] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null; then
    if [ "$group" = 1 ]; then kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true
    else kill "$p" 2>/dev/null || true; fi
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      if [ "$group" = 1 ]; then kill -9 -- "-$p" 2>/dev/null || true; fi
      kill -9 "$p" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

stop_all() {
  stop_pid "$D/nginx.pid" 0
  stop_pid "$D/fcgiwrap.pid" 1
  stop_pid "$D/lfs.pid" 1
  rm -f "$D/fcgiwrap.sock"
}
if [ "$action" = stop ]; then
  stop_all
  exit 0
fi
[ "$action" = start ] || { echo "unknown action $action" >&2; exit 2; }

for b in nginx fcgiwrap openssl git git-lfs curl; do
  command -v "$b" >/dev/null || { echo "missing $b: run scripts/install-deps.sh" >&2; exit 1; }
done
[ -x "$BACKEND" ] || { echo "missing $BACKEND (package git)" >&2; exit 1; }
LFS_BIN=${DATACUBE_LFS_SERVER:-}
if [ -z "$LFS_BIN" ]; then
  for b in "$ROOT/${BUILD_DIR:-build}" "$ROOT/build" "$ROOT"/build*; do
    if [ -x "$b/testing/lfs_server/datacube-lfs-server" ]; then
      LFS_BIN=$b/testing/lfs_server/datacube-lfs-server
      break
    fi
  done
fi
[ -x "$LFS_BIN" ] || { echo "datacube-lfs-server not built (build the project first)" >&2; exit 1; }

stop_all
mkdir -p "$D"/{repos,lfs,tls,tmp,logs}
if [ ! -f "$D/tls/cert.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$D/tls/key.pem" -out "$D/tls/cert.pem" 2>/dev/null
fi
if [ ! -f "$D/token" ]; then
  echo "dctest-$(openssl rand -hex 12)" >"$D/token"
fi
TOKEN=$(cat "$D/token")
{
  printf '%s:%s\n' "$TOKEN" "$(openssl passwd -apr1 '')"
  for u in git x-access-token; do printf '%s:%s\n' "$u" "$(openssl passwd -apr1 "$TOKEN")"; done
} >"$D/htpasswd"
chmod 644 "$D/htpasswd"

cat >"$D/nginx.conf" <<CONF
worker_processes 2;
pid $D/nginx.pid;
error_log $D/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log $D/logs/access.log;
  client_body_temp_path $D/tmp/body; fastcgi_temp_path $D/tmp/fcgi; proxy_temp_path $D/tmp/proxy;
  uwsgi_temp_path $D/tmp/uwsgi; scgi_temp_path $D/tmp/scgi;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:$PORT ssl;
    ssl_certificate $D/tls/cert.pem;
    ssl_certificate_key $D/tls/key.pem;
    # Reads (never pushes) of a repository whose bare directory holds a file named
    # datacube-public-read need no credentials, like a public repository on a Git host.
    set \$git_realm "datacube test git";
    set \$public_repo "";
    if (\$uri ~ "^/(.+\\.git)/(info/refs|git-upload-pack)\$") { set \$public_repo \$1; }
    if (-f "$D/repos/\${public_repo}/datacube-public-read") { set \$git_realm off; }
    if (\$arg_service = "git-receive-pack") { set \$git_realm "datacube test git"; }
    auth_basic \$git_realm;
    auth_basic_user_file $D/htpasswd;
    # LFS object transfers and verify calls authenticate with the per-object token of the batch
    # response.
    location ~ "^/.+\\.git/info/lfs/(objects/[0-9a-f]{64}|verify)\$" {
      auth_basic off;
      proxy_pass http://127.0.0.1:$LFS_PORT;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_http_version 1.1;
    }
    location ~ "^/.+\\.git/info/lfs/" {
      proxy_pass http://127.0.0.1:$LFS_PORT;
      proxy_http_version 1.1;
    }
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$D/fcgiwrap.sock;
      fastcgi_param SCRIPT_FILENAME $BACKEND;
      fastcgi_param GIT_PROJECT_ROOT $D/repos;
      fastcgi_param GIT_HTTP_EXPORT_ALL "";
      fastcgi_param PATH_INFO \$uri;
      fastcgi_param REMOTE_USER \$remote_user;
      fastcgi_request_buffering off;
      fastcgi_buffering off;
      fastcgi_read_timeout 600s;
    }
  }
}
CONF

# Each daemon leads its own process group, so stop can signal its workers too.
setsid "$LFS_BIN" --port "$LFS_PORT" --root "$D/lfs" --repos "$D/repos" --public-url "https://127.0.0.1:$PORT" \
  >"$D/logs/lfs.log" 2>&1 </dev/null &
echo $! >"$D/lfs.pid"
setsid fcgiwrap -c 4 -s "unix:$D/fcgiwrap.sock" >"$D/logs/fcgiwrap.log" 2>&1 </dev/null &
echo $! >"$D/fcgiwrap.pid"
for _ in $(seq 1 100); do [ -S "$D/fcgiwrap.sock" ] && break; sleep 0.05; done
[ -S "$D/fcgiwrap.sock" ] || { echo "fcgiwrap did not start" >&2; cat "$D/logs/fcgiwrap.log" >&2; exit 1; }
chmod 666 "$D/fcgiwrap.sock"  # nginx workers may run as another user when started as root
nginx -e "$D/logs/error.log" -p "$D" -c "$D/nginx.conf"

ready=0
for _ in $(seq 1 100); do
  if curl -sf -o /dev/null "http://127.0.0.1:$LFS_PORT/healthz" &&
     curl -s -o /dev/null --cacert "$D/tls/cert.pem" "https://127.0.0.1:$PORT/"; then
    ready=1
    break
  fi
  sleep 0.1
done
[ "$ready" = 1 ] || { echo "git server did not become ready" >&2; tail -20 "$D"/logs/*.log >&2; exit 1; }

# Self-check: an authenticated ls-remote of a throwaway repository answers.
probe=$D/repos/.probe.git
rm -rf "$probe"
git init -q --bare "$probe"
if ! env -i PATH="$PATH" HOME="$D" GIT_TERMINAL_PROMPT=0 GIT_SSL_CAINFO="$D/tls/cert.pem" \
     git ls-remote "https://git:$TOKEN@127.0.0.1:$PORT/.probe.git" >/dev/null 2>"$D/logs/probe.err"; then
  echo "git server self-check failed:" >&2
  cat "$D/logs/probe.err" >&2
  exit 1
fi
rm -rf "$probe"

cat >"$state/git.env" <<ENV
DATACUBE_TEST_GIT_URL=https://127.0.0.1:$PORT
DATACUBE_TEST_GIT_HOST=127.0.0.1:$PORT
DATACUBE_TEST_GIT_TOKEN=$TOKEN
DATACUBE_TEST_GIT_CA=$D/tls/cert.pem
DATACUBE_TEST_GIT_REPOS=$D/repos
DATACUBE_TEST_GIT_LFS_ROOT=$D/lfs
DATACUBE_TEST_GIT_ACCESS_LOG=$D/logs/access.log
ENV
echo "git server ready on https://127.0.0.1:$PORT (LFS on 127.0.0.1:$LFS_PORT)"
