#!/usr/bin/env bash
# S3 benchmark: datacube vs rclone vs the AWS CLI against one Ceph RGW on loopback
# (testing/servers/rgw.sh), side by side in one run:
#   (a) one 4 GiB object: upload, then download
#   (b) 10,000 objects of 64 KiB: upload, then download
#
#   bench/s3.sh                                      # full sizes
#   BIG_MIB=512 SMALL_FILES=1000 bench/s3.sh         # quicker
#   S3_BENCH_TOOLS="datacube rclone" bench/s3.sh     # a subset of the tools
#
# Every tool runs with its default settings (datacube hashes SHA-256 on every byte, always).
# Downloads end with `sync`, so every tool is measured with its data on disk (datacube fsyncs
# each file itself). Peak memory is the maximum RSS from /usr/bin/time -v; "client CPU" is the
# tool's user+system time and "server CPU" what radosgw and ceph-osd used meanwhile: RGW shares
# the 2 cores with the client, so a client that saves CPU leaves more to the server. The best of
# REPEAT runs is reported. Output: a markdown section on stdout; logs in $WORK.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DC=${DC:-$ROOT/build/src/datacube/cli/datacube}
WORK=${BENCH_DIR:-/tmp/datacube-bench-s3}
BIG_MIB=${BIG_MIB:-4096}
SMALL_FILES=${SMALL_FILES:-10000}
REPEAT=${REPEAT:-1}
TOOLS=${S3_BENCH_TOOLS:-datacube rclone aws}
AWS=/usr/bin/aws  # never a pyenv shim that may shadow it on PATH
mkdir -p "$WORK"

[ -x "$DC" ] || { echo "build datacube first (make build)" >&2; exit 2; }
for tool in rclone $AWS /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 2; }
done

# --- the server -------------------------------------------------------------------------------
STATE=$WORK/state
cleanup() { "$ROOT/testing/servers/rgw.sh" stop "$STATE" >/dev/null 2>&1 || true; rm -rf "$STATE"; }
trap cleanup EXIT INT TERM
cleanup
mkdir -p "$STATE"
echo "starting RGW" >&2
# The server as production runs it: debug logging off (RGW_LOGS=quiet; Ceph's default levels
# format lines in memory on every request) and tcmalloc (RGW_MALLOC; upstream Ceph builds link
# it, Debian's do not). Both only lower the server CPU taken from the two cores the tools run on;
# every tool meets the same server.
export RGW_LOGS=${RGW_LOGS:-quiet} RGW_MALLOC=${RGW_MALLOC:-tcmalloc}
"$ROOT/testing/servers/rgw.sh" start "$STATE" >&2
set -a
. "$STATE/rgw.env"
set +a
EP=$DATACUBE_TEST_S3_ENDPOINT
BUCKET=bench
first=${TOOLS%% *}  # the tool whose uploads the downloads read
# Credentials reach every tool through its environment, never its argv.
export AWS_ACCESS_KEY_ID=$DATACUBE_TEST_S3_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$DATACUBE_TEST_S3_SECRET_KEY
export AWS_REGION=$DATACUBE_TEST_S3_REGION AWS_DEFAULT_REGION=$DATACUBE_TEST_S3_REGION
export AWS_CONFIG_FILE=$WORK/aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/aws-config AWS_PAGER=
printf '[default]\ns3 =\n    addressing_style = path\n' >"$AWS_CONFIG_FILE"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export RCLONE_CONFIG=$WORK/rclone.conf RCLONE_CONFIG_RGW_TYPE=s3 RCLONE_CONFIG_RGW_PROVIDER=Ceph \
  RCLONE_CONFIG_RGW_ENDPOINT=$EP RCLONE_CONFIG_RGW_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID \
  RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
  RCLONE_CONFIG_RGW_REGION=$AWS_REGION RCLONE_CONFIG_RGW_FORCE_PATH_STYLE=true
: >"$RCLONE_CONFIG"
# One bucket per tool: a tool never writes into a bucket index another tool has already grown
# (RGW's index operations slow down as a bucket fills). Downloads read the first tool's bucket.
for tool in $TOOLS; do
  $AWS --endpoint-url "$EP" s3api create-bucket --bucket "$BUCKET-$tool" >/dev/null
done

# The command line of each tool for one operation. $1 = tool, $2 = op, $3 = local path,
# $4 = key (prefix for trees); the bucket is $B.
cmd_for() {
  local tool=$1 op=$2 path=$3 key=$4 BUCKET=$B
  case "$tool:$op" in
    datacube:up-file) echo "$DC --endpoint $EP -q cp $path s3://$BUCKET/$key" ;;
    datacube:down-file) echo "$DC --endpoint $EP -q cp s3://$BUCKET/$key $path" ;;
    datacube:up-tree) echo "$DC --endpoint $EP -q cp $path s3://$BUCKET/$key/" ;;
    datacube:down-tree) echo "$DC --endpoint $EP -q cp s3://$BUCKET/$key/ $path" ;;
    rclone:up-file) echo "rclone copyto $path rgw:$BUCKET/$key" ;;
    rclone:down-file) echo "rclone copyto rgw:$BUCKET/$key $path" ;;
    rclone:up-tree) echo "rclone copy $path rgw:$BUCKET/$key" ;;
    rclone:down-tree) echo "rclone copy rgw:$BUCKET/$key $path" ;;
    aws:up-file) echo "$AWS --endpoint-url $EP s3 cp --only-show-errors $path s3://$BUCKET/$key" ;;
    aws:down-file) echo "$AWS --endpoint-url $EP s3 cp --only-show-errors s3://$BUCKET/$key $path" ;;
    aws:up-tree) echo "$AWS --endpoint-url $EP s3 cp --recursive --only-show-errors $path s3://$BUCKET/$key/" ;;
    aws:down-tree) echo "$AWS --endpoint-url $EP s3 cp --recursive --only-show-errors s3://$BUCKET/$key/ $path" ;;
  esac
}

# CPU ticks (user+system) used so far by the server daemons.
server_ticks() {
  local f t=0
  for f in "$STATE"/rgw/run/rgw.pid "$STATE"/rgw/run/osd.0.pid; do
    [ -f "$f" ] || continue
    t=$((t + $(awk '{print $14 + $15}' "/proc/$(cat "$f")/stat")))
  done
  echo "$t"
}

# Waits (at most 120 s) until the server has been idle for a second: BlueStore keeps working
# (flushes, compaction) after a large write, and that work must not be billed to the next tool.
settle() {
  local a b
  for _ in $(seq 120); do
    a=$(server_ticks)
    sleep 1
    b=$(server_ticks)
    [ $((b - a)) -le 3 ] && return 0
  done
}

# run TOOL OP PATH KEY: prints "seconds peak_kib client_cpu_s server_cpu_s", best of REPEAT.
run() {
  local tool=$1 op=$2 path=$3 key=$4 best="" line cmd
  cmd=$(cmd_for "$tool" "$op" "$path" "$key")
  for _ in $(seq "$REPEAT"); do
    case $op in down-*) rm -rf "$path" ;; esac
    sync
    settle
    local s0 t0 t1 s1 tick
    tick=$(getconf CLK_TCK)
    s0=$(server_ticks)
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086  # cmd is a word list without quoting needs
    if ! /usr/bin/time -v -o "$WORK/time.txt" $cmd >"$WORK/out.txt" 2>"$WORK/err.txt"; then
      echo "$tool $op failed: $cmd" >&2
      tail -20 "$WORK/err.txt" >&2
      exit 1
    fi
    sync
    t1=$(date +%s.%N)
    s1=$(server_ticks)
    line=$(awk -v t0="$t0" -v t1="$t1" -v s="$((s1 - s0))" -v tick="$tick" '
      /Maximum resident set size/ {mem=$NF}
      /User time/ {u=$NF} /System time/ {sy=$NF}
      END {printf "%.2f %d %.1f %.1f", t1-t0, mem, u+sy, s/tick}' "$WORK/time.txt")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then
      best=$line
    fi
  done
  echo "$best"
}

make_data() {
  if [ ! -f "$WORK/big.bin" ] || [ "$(stat -c %s "$WORK/big.bin")" != "$((BIG_MIB << 20))" ]; then
    echo "generating ${BIG_MIB} MiB file" >&2
    # AES-CTR of zeros: fast incompressible bytes. openssl dies of SIGPIPE when head is done.
    (set +o pipefail
     openssl enc -aes-128-ctr -pass pass:datacube-s3 -nosalt -pbkdf2 </dev/zero 2>/dev/null \
       | head -c $((BIG_MIB << 20)) >"$WORK/big.bin")
  fi
  if [ ! -d "$WORK/small" ] || [ "$(find "$WORK/small" -type f | wc -l)" != "$SMALL_FILES" ]; then
    rm -rf "$WORK/small"
    echo "generating $SMALL_FILES files of 64 KiB" >&2
    mkdir -p "$WORK/small"
    (set +o pipefail
     openssl enc -aes-128-ctr -pass pass:small-s3 -nosalt -pbkdf2 </dev/zero 2>/dev/null \
       | head -c $((SMALL_FILES * 65536)) \
       | split -b 65536 -a 5 -d - "$WORK/small/f")
    # Spread over 100 directories, like a sharded dataset.
    (cd "$WORK/small" && for i in $(seq -w 0 99); do mkdir -p "d$i"; done &&
      find . -maxdepth 1 -name 'f*' -printf '%f\n' |
      awk '{printf "%s d%02d/%s\n", $1, NR % 100, $1}' | xargs -n 2 mv)
  fi
}

# fmt_row TOOL RESULT DATACUBE_SECONDS MIB: one table row.
fmt_row() {
  echo "$2" | awk -v tool="$1" -v dc="$3" -v mib="$4" '{
    ratio = (dc == "") ? "-" : sprintf("%.2fx", $1 / dc)
    printf "| %s | %.1f | %.0f MiB/s | %.0f MiB | %.1f s | %.1f s | %s |\n",
      tool, $1, mib / $1, $2 / 1024, $3, $4, ratio }'
}

# bench_case LABEL OP LOCAL KEY MIB: every tool does OP; rows compare each tool with datacube.
bench_case() {
  local label=$1 op=$2 local=$3 key=$4 mib=$5 tool
  declare -A res
  for tool in $TOOLS; do
    local path=$local k=$key
    case $op in
      up-*) B=$BUCKET-$tool k=$key-$tool ;;
      down-*) B=$BUCKET-$first path=$WORK/dl-$tool ;;
    esac
    echo "  $tool $op" >&2
    res[$tool]=$(run "$tool" "$op" "$path" "$k")
    verify "$op" "$path" "$k"
    case $op in down-*) rm -rf "$path" ;; esac
  done
  local dc=${res[datacube]:-}
  echo
  echo "#### $label"
  echo
  echo "| tool | seconds | throughput | peak RSS | client CPU | server CPU | time / datacube's |"
  echo "|---|---|---|---|---|---|---|"
  for tool in $TOOLS; do fmt_row "$tool" "${res[$tool]}" "${dc%% *}" "$mib"; done
}

# The copy must be complete and identical, whatever the tool.
verify() {
  local op=$1 path=$2 key=$3 BUCKET=$B
  case $op in
    down-file) cmp -s "$path" "$WORK/big.bin" || { echo "download by $path differs" >&2; exit 1; } ;;
    down-tree) diff -rq "$path" "$WORK/small" >/dev/null || { echo "tree $path differs" >&2; exit 1; } ;;
    up-file)
      local n
      n=$($AWS --endpoint-url "$EP" s3api head-object --bucket "$BUCKET" --key "$key" \
        --query ContentLength --output text)
      [ "$n" = $((BIG_MIB << 20)) ] || { echo "$key has $n bytes" >&2; exit 1; } ;;
    up-tree)
      local n
      n=$(rclone size --json "rgw:$BUCKET/$key" | sed 's/.*"count":\([0-9]*\).*/\1/')
      [ "$n" = "$SMALL_FILES" ] || { echo "$key has $n objects" >&2; exit 1; } ;;
  esac
}

make_data
unset AWS_CA_BUNDLE  # rclone 1.60 refuses its S3 transport when it is set; http needs none
echo "## S3: datacube vs rclone vs AWS CLI against Ceph RGW on loopback"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(rclone version | head -1), $($AWS --version | cut -d' ' -f1)," \
  "best of $REPEAT; tools with default settings; RGW (1 OSD, ${RGW_STORE:-bluestore}, logs $RGW_LOGS, malloc $RGW_MALLOC) on the same cores."
# Downloads read what the first tool uploaded (datacube's objects carry the SHA-256 metadata
# that datacube verifies on the way down).
bench_case "(a) upload one ${BIG_MIB} MiB object" up-file "$WORK/big.bin" big "$BIG_MIB"
bench_case "(a) download one ${BIG_MIB} MiB object" down-file "" "big-$first" "$BIG_MIB"
bench_case "(b) upload ${SMALL_FILES} objects of 64 KiB" up-tree "$WORK/small" small "$((SMALL_FILES / 16))"
bench_case "(b) download ${SMALL_FILES} objects of 64 KiB" down-tree "" "small-$first" "$((SMALL_FILES / 16))"
echo
echo "\"time / datacube's\": 2.00x means that tool took twice as long as datacube. The AWS CLI" \
  "is Python and often CPU-bound on the client side."
