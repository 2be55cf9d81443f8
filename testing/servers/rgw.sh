#!/usr/bin/env bash
# Ceph RADOS Gateway (RGW) on 127.0.0.1: the real S3 server of the test suite and the benchmarks.
#
#   testing/servers/rgw.sh start STATE_DIR   -> one monitor, one OSD, radosgw; writes STATE_DIR/rgw.env
#   testing/servers/rgw.sh stop  STATE_DIR   -> stops every daemon it started (idempotent)
#
# The cluster is the smallest one that behaves like production S3: a monitor speaking msgr2 only,
# one BlueStore OSD on a sparse file, no cephx (auth "none"; S3 SigV4 is still fully checked by
# radosgw), pools of size 1, and an S3 user with fixed throwaway keys. Everything lives under
# STATE_DIR/rgw and listens on 127.0.0.1 ports RGW_PORT_BASE..RGW_PORT_BASE+9 only:
#   +0 radosgw (S3, "beast" frontend)   +1 monitor   +2..+9 the OSD's messenger ports
#
# rgw.env (KEY=value, exported to the tests by scripts/test.sh):
#   DATACUBE_TEST_S3_ENDPOINT    http://127.0.0.1:PORT (path-style addressing)
#   DATACUBE_TEST_S3_ACCESS_KEY  DATACUBE_TEST_S3_SECRET_KEY  (throwaway keys of the test user)
#   DATACUBE_TEST_S3_REGION      "default": RGW's zonegroup, what GetBucketLocation answers and the
#                                only LocationConstraint CreateBucket accepts (SigV4 scope: any)
#   DATACUBE_TEST_RGW_CONF       ceph.conf of the cluster (for radosgw-admin in tests)
#
# The server runs as production RGW does, for the tests, `make demo` and the benchmarks alike:
# debug logging off and tcmalloc. Both only save server CPU, which on a small machine is taken
# from the client under test (with Ceph's default log levels and glibc's malloc, a first upload
# in `make demo` ran at a fraction of the speed).
#
# Knobs (environment): RGW_PORT_BASE (7480), RGW_STORE (bluestore | memstore: data in RAM),
# RGW_BLOCK_GB (sparse OSD file size, 64), RGW_START_TIMEOUT (seconds, 180), RGW_LOGS (quiet:
# no debug logging, the default | ceph: Ceph's own log levels in $STATE_DIR/rgw/log, to diagnose
# a failure), RGW_MALLOC (tcmalloc: the OSD and radosgw run on tcmalloc, as upstream Ceph builds
# ship, the default | glibc: glibc's malloc, as Debian builds Ceph).
# Debian packages: scripts/deps/s3.apt.
set -euo pipefail

action=${1:-}
state=${2:-}
if [ -z "$action" ] || [ -z "$state" ]; then
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
D=$state/rgw
CONF=$D/ceph.conf
BASE=${RGW_PORT_BASE:-7480}
RGW_PORT=$BASE
MON_PORT=$((BASE + 1))
EP=http://127.0.0.1:$RGW_PORT
# Throwaway credentials of a loopback-only test server. They are still treated as secrets by the
# tests (which grep every output for the secret value).
ACCESS_KEY=DATACUBETESTACCESS01
SECRET_KEY=dcTestSecret0rgwLoopbackOnly0000000000x1
REGION=default  # what RGW answers to GetBucketLocation and accepts as LocationConstraint
DAEMONS=(rgw osd.0 mon.a)  # stop order

log() { echo "rgw.sh: $*"; }
die() { echo "rgw.sh: $*" >&2; exit 1; }

pid_alive() {  # $1 = pid file
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

s3_answers() {  # any HTTP answer from the S3 port counts (anonymous list is 200 on RGW)
  curl -s -o /dev/null --max-time 2 "$EP/"
}

port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_daemon() {  # $1 = daemon name; SIGTERM, then SIGKILL after 10 s
  local f=$D/run/$1.pid p
  [ -f "$f" ] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null; then
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
    log "stopped $1 (pid $p)"
  fi
  rm -f "$f"
}

stop_all() {
  local n p
  for n in "${DAEMONS[@]}"; do stop_daemon "$n"; done
  # A daemon that died before writing its pid file, or forked again, is found by its config
  # path, which is unique to this STATE_DIR: only processes this script started match it.
  if [ -f "$CONF" ]; then
    for p in $(pgrep -f -- "-c $CONF" || true); do
      kill -9 "$p" 2>/dev/null && log "killed leftover pid $p"
    done
  fi
  return 0
}

# Ceph formats debug lines into an in-memory ring even when it does not write them ("1/5" means
# level 1 to the file, 5 to memory). With RGW_LOGS=quiet every subsystem on the data path is 0/0.
# The levels go on each daemon's command line, not into ceph.conf, so a cluster kept from an
# earlier run (make demo keeps its state) starts with the levels asked for now.
LOG_ARGS=()
set_log_args() {
  local s
  case ${RGW_LOGS:-quiet} in
    ceph) LOG_ARGS=() ;;
    quiet)
      for s in rgw rgw_sync osd bluestore bluefs bdev rocksdb ms objecter rados objclass \
        optracker asok auth mon monc finisher throttle context buffer timer heartbeatmap \
        perfcounter filestore journal crush; do
        LOG_ARGS+=("--debug_$s=0/0")
      done
      ;;
    *) die "RGW_LOGS=${RGW_LOGS}: expected quiet (the default) or ceph" ;;
  esac
}

# The allocator RGW_MALLOC asks for: the library to preload, or "" for glibc's malloc.
TCMALLOC=""
find_malloc() {
  case ${RGW_MALLOC:-tcmalloc} in
    glibc) TCMALLOC="" ;;
    tcmalloc)
      TCMALLOC=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
      [ -e "$TCMALLOC" ] ||
        TCMALLOC=$(ldconfig -p | awk '/libtcmalloc_minimal\.so\.4 / {print $NF; exit}')
      if [ -z "$TCMALLOC" ] || [ ! -e "$TCMALLOC" ]; then
        die "libtcmalloc_minimal.so.4 not found: install libtcmalloc-minimal4" \
          "(scripts/install-deps.sh), or run with RGW_MALLOC=glibc"
      fi
      ;;
    *) die "RGW_MALLOC=${RGW_MALLOC}: expected tcmalloc (the default) or glibc" ;;
  esac
}

# Runs a daemon on the allocator find_malloc chose.
with_malloc() {
  if [ -n "$TCMALLOC" ]; then
    LD_PRELOAD=$TCMALLOC "$@"
  else
    "$@"
  fi
}

write_conf() {
  local fsid block_bytes
  fsid=$(cat /proc/sys/kernel/random/uuid)
  block_bytes=$(( ${RGW_BLOCK_GB:-64} * 1024 * 1024 * 1024 ))
  cat >"$CONF" <<EOF
# Written by testing/servers/rgw.sh: a throwaway single-node cluster on 127.0.0.1.
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind msgr1 = false
ms bind msgr2 = true
ms bind ipv6 = false
ms bind port min = $((BASE + 2))
ms bind port max = $((BASE + 9))
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
log to stderr = false
err to stderr = false
crash dir = $D/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
osd objectstore = ${RGW_STORE:-bluestore}
osd data = $D/osd.\$id
osd memory target = 1073741824
osd op num shards = 1
osd op num threads per shard = 2
# Not "block": BlueStore itself puts a symlink of that name in the OSD directory.
bluestore block path = $D/osd.\$id/block.file
bluestore block create = true
bluestore block size = $block_bytes
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mount = false
bluestore fsck on mkfs = false
memstore device bytes = $block_bytes

[mon.a]
mon data = $D/mon.a

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
# radosgw's own defaults ask for cephx and a "secure" monitor session, which a cluster with
# auth "none" never offers: it would retry for minutes. Ask for what the cluster speaks.
auth client required = none
ms mon client mode = crc
rgw data = $D/rgw
rgw init timeout = 120
rgw dns name = 127.0.0.1
rgw enable usage log = false
rgw thread pool size = 64
# Free the space of deleted and overwritten objects within seconds, not hours (benchmarks
# overwrite multi-GiB objects).
rgw gc obj min wait = 10
rgw gc processor period = 15
rgw gc processor max time = 15
EOF
}

start_mon() {
  pid_alive "$D/run/mon.a.pid" && return 0
  if [ ! -d "$D/mon.a/store.db" ]; then
    local fsid
    fsid=$(awk '$1 == "fsid" {print $3}' "$CONF")
    monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" \
      "$D/monmap" >/dev/null
    ceph-mon -c "$CONF" -i a "${LOG_ARGS[@]}" --mkfs --monmap "$D/monmap" </dev/null \
      >>"$D/log/start.log" 2>&1
  fi
  ceph-mon -c "$CONF" -i a "${LOG_ARGS[@]}" </dev/null >>"$D/log/start.log" 2>&1
}

start_osd() {
  pid_alive "$D/run/osd.0.pid" && return 0
  if [ ! -f "$D/osd.0/whoami" ]; then
    local uuid id
    uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$(ceph -c "$CONF" --connect-timeout 30 osd new "$uuid" </dev/null 2>>"$D/log/start.log")
    [ "$id" = 0 ] || die "expected OSD id 0, monitor gave '$id' (see $D/log)"
    mkdir -p "$D/osd.0"
    ceph-osd -c "$CONF" -i 0 "${LOG_ARGS[@]}" --mkfs --osd-uuid "$uuid" </dev/null \
      >>"$D/log/start.log" 2>&1
  fi
  with_malloc ceph-osd -c "$CONF" -i 0 "${LOG_ARGS[@]}" </dev/null >>"$D/log/start.log" 2>&1
}

# RGW creates the pools of bucket indexes and object data lazily, at the first bucket and the first
# object: a client's first upload would wait seconds for the pools and their placement groups (it
# made the first upload of `make demo` several times slower than the next). Create them before
# radosgw starts, under the names RGW's default zone uses; RGW takes existing pools as they are.
create_data_pools() {
  local pool
  for pool in default.rgw.buckets.index default.rgw.buckets.data; do
    ceph -c "$CONF" --connect-timeout 30 osd pool create "$pool" </dev/null >/dev/null \
      2>>"$D/log/start.log"
    ceph -c "$CONF" --connect-timeout 30 osd pool application enable "$pool" rgw </dev/null \
      >/dev/null 2>>"$D/log/start.log"
  done
}

# Listing a pool waits until all its placement groups are active (`ceph pg stat` would need a
# manager daemon, which this cluster does not run).
data_pools_active() {
  local pool
  for pool in default.rgw.buckets.index default.rgw.buckets.data; do
    timeout 5 rados -c "$CONF" -p "$pool" ls </dev/null >/dev/null 2>&1 || return 1
  done
}

start_rgw() {
  pid_alive "$D/run/rgw.pid" && return 0
  with_malloc radosgw -c "$CONF" -n client.rgw.a "${LOG_ARGS[@]}" --pid-file "$D/run/rgw.pid" \
    </dev/null >>"$D/log/start.log" 2>&1
}

wait_for() {  # $1 = what, $2.. = command; polls until it succeeds or the deadline passes
  local what=$1
  shift
  while ! "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      die "timed out waiting for $what (logs in $D/log)"
    fi
    sleep 0.3
  done
}

create_user() {
  if ! radosgw-admin -c "$CONF" user info --uid=datacube-test >/dev/null 2>&1; then
    radosgw-admin -c "$CONF" user create --uid=datacube-test --display-name="datacube tests" \
      --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
  fi
}

write_env() {
  cat >"$state/rgw.env.tmp" <<EOF
DATACUBE_TEST_S3_ENDPOINT=$EP
DATACUBE_TEST_S3_ACCESS_KEY=$ACCESS_KEY
DATACUBE_TEST_S3_SECRET_KEY=$SECRET_KEY
DATACUBE_TEST_S3_REGION=$REGION
DATACUBE_TEST_RGW_CONF=$CONF
EOF
  mv "$state/rgw.env.tmp" "$state/rgw.env"
}

start_failed() {
  local f
  echo "rgw.sh: start failed; last lines of the daemon logs in $D/log:" >&2
  for f in "$D"/log/*.log; do
    [ -s "$f" ] || continue
    echo "--- $f" >&2
    tail -n 8 "$f" >&2
  done
  stop_all
}

start() {
  local b t0
  t0=$(date +%s.%N)
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph rados monmaptool curl timeout; do
    command -v "$b" >/dev/null || die "$b not found: install the packages in scripts/deps/s3.apt"
  done
  set_log_args
  find_malloc
  if pid_alive "$D/run/rgw.pid" && s3_answers; then
    create_user
    write_env
    log "already running at $EP"
    return 0
  fi
  if ! pid_alive "$D/run/mon.a.pid" && port_busy "$MON_PORT"; then
    die "port $MON_PORT is taken by another process (another RGW? set RGW_PORT_BASE)"
  fi
  if ! pid_alive "$D/run/rgw.pid" && port_busy "$RGW_PORT"; then
    die "port $RGW_PORT is taken by another process (another RGW? set RGW_PORT_BASE)"
  fi
  mkdir -p "$D"/{run,log,crash,mon.a,osd.0,rgw}
  [ -f "$CONF" ] || write_conf
  export CEPH_CONF=$CONF
  deadline=$(( $(date +%s) + ${RGW_START_TIMEOUT:-180} ))

  start_mon
  start_osd
  # Only the monitor is needed to create pools: their placement groups are made while the OSD boots.
  create_data_pools
  wait_for "the OSD to come up" sh -c "ceph -c '$CONF' --connect-timeout 5 osd stat | grep -q '1 up'"
  start_rgw
  wait_for "radosgw on $EP" s3_answers
  wait_for "the data pools to become active" data_pools_active
  create_user
  write_env
  log "ready at $EP in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s" \
    "(store ${RGW_STORE:-bluestore}, logs ${RGW_LOGS:-quiet}, malloc ${RGW_MALLOC:-tcmalloc}, state in $D)"
}

case $action in
  start)
    # A failed start leaves nothing running behind it.
    # shellcheck disable=SC2154  # rc is assigned inside the trap
    trap 'rc=$?; if [ "$rc" -ne 0 ]; then start_failed; fi' EXIT
    start
    ;;
  stop)
    stop_all
    rm -f "$state/rgw.env"
    ;;
  *)
    die "unknown action '$action' (start|stop)"
    ;;
esac
