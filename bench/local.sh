#!/usr/bin/env bash
# Local-to-local copy benchmark: datacube cp against cp -r, rsync and rclone copy, side
# by side in one run, for (a) one 4 GiB file and (b) 10,000 files of 64 KiB.
#
#   bench/local.sh            # full sizes
#   BIG_MIB=512 SMALL_FILES=2000 bench/local.sh   # quicker
#   DC_BASE=/path/to/older/datacube bench/local.sh # also an older build, to catch regressions
#
# Every tool's time includes a final `sync`, so all are measured durable (datacube fsyncs each
# file itself; the others rely on the sync). Peak memory is the maximum resident set size from
# /usr/bin/time. The best of REPEAT runs is reported. Output: a markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
DC=${DC:-$PWD/build/src/datacube/cli/datacube}
WORK=${BENCH_DIR:-/tmp/datacube-bench}
BIG_MIB=${BIG_MIB:-4096}
SMALL_FILES=${SMALL_FILES:-10000}
REPEAT=${REPEAT:-2}
mkdir -p "$WORK"

[ -x "$DC" ] || { echo "build datacube first (make build)" >&2; exit 2; }
for tool in rsync rclone; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 2; }
done

make_data() {
  if [ ! -f "$WORK/big/big.bin" ] || [ "$(stat -c %s "$WORK/big/big.bin")" != "$((BIG_MIB << 20))" ]; then
    mkdir -p "$WORK/big"
    echo "generating ${BIG_MIB} MiB file" >&2
    # AES-CTR of zeros: fast incompressible bytes. openssl dies of SIGPIPE when head is done.
    (set +o pipefail
     openssl enc -aes-128-ctr -pass pass:datacube -nosalt -pbkdf2 </dev/zero 2>/dev/null \
       | head -c $((BIG_MIB << 20)) >"$WORK/big/big.bin")
  fi
  if [ ! -d "$WORK/small" ] || [ "$(find "$WORK/small" -type f | wc -l)" != "$SMALL_FILES" ]; then
    rm -rf "$WORK/small"
    echo "generating $SMALL_FILES files of 64 KiB" >&2
    mkdir -p "$WORK/small"
    (set +o pipefail
     openssl enc -aes-128-ctr -pass pass:small -nosalt -pbkdf2 </dev/zero 2>/dev/null \
       | head -c $((SMALL_FILES * 65536)) \
       | split -b 65536 -a 5 -d - "$WORK/small/f")
    # Spread over 100 directories, like a sharded dataset.
    (cd "$WORK/small" && for i in $(seq -w 0 99); do mkdir -p "d$i"; done &&
      ls | grep '^f' | awk '{printf "%s d%02d/%s\n", $1, NR % 100, $1}' | xargs -n 2 mv)
  fi
}

# run NAME SRC DST CMD...: best wall time and peak RSS (KiB) over REPEAT runs.
run() {
  local name=$1 src=$2 dst=$3
  shift 3
  local best="" best_mem=0
  for _ in $(seq "$REPEAT"); do
    rm -rf "$dst"
    sync
    local out
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || {
      echo "$name failed:" >&2
      cat "$WORK/stderr.txt" >&2
      exit 1
    }
    out=$(tail -1 "$WORK/time.txt")
    local t0 t1
    t0=$(date +%s.%N)
    sync
    t1=$(date +%s.%N)
    local secs mem
    secs=$(echo "$out" | awk -v s="$(echo "$t1 - $t0" | bc)" '{printf "%.2f", $1 + s}')
    mem=$(echo "$out" | awk '{print $2}')
    if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc)" = 1 ]; then best=$secs; best_mem=$mem; fi
  done
  echo "$name $best $best_mem"
}

verify_copy() {
  local src=$1 dst=$2
  if ! diff -rq "$src" "$dst" >/dev/null; then
    echo "copy in $dst differs from $src" >&2
    exit 1
  fi
}

bench_case() {
  local label=$1 src=$2
  local results=()
  results+=("$(run "cp -r" "$src" "$WORK/out" cp -r "$src" "$WORK/out")")
  results+=("$(run "rsync -a" "$src" "$WORK/out" rsync -a "$src/" "$WORK/out/")")
  results+=("$(run "rclone copy" "$src" "$WORK/out" rclone copy --local-no-check-updated "$src" "$WORK/out")")
  results+=("$(run "datacube cp" "$src" "$WORK/out" "$DC" --progress none -q cp "$src" "$WORK/out")")
  if [ -n "${DC_BASE:-}" ]; then
    results+=("$(run "datacube(base) cp" "$src" "$WORK/out" "$DC_BASE" --progress none -q cp "$src" "$WORK/out")")
  fi
  verify_copy "$src" "$WORK/out"
  local base dc rc
  base=$(printf '%s\n' "${results[@]}" | awk '$1=="cp"{print $3}')
  rc=$(printf '%s\n' "${results[@]}" | awk '$1=="rclone"{print $3}')
  dc=$(printf '%s\n' "${results[@]}" | awk '$1=="datacube"{print $3}')
  echo
  echo "### $label"
  echo
  echo "| tool (+ sync) | seconds | peak RSS | vs cp -r |"
  echo "|---|---|---|---|"
  for r in "${results[@]}"; do
    # name may contain one space: "cp -r", "rsync -a", "rclone copy", "datacube cp",
    # "datacube(base) cp"
    local name secs mem
    name=$(echo "$r" | awk '{print $1" "$2}')
    secs=$(echo "$r" | awk '{print $3}')
    mem=$(echo "$r" | awk '{printf "%.0f MiB", $4/1024}')
    echo "| $name | $secs | $mem | $(echo "scale=2; $secs / $base" | bc)x |"
  done
  echo
  echo "datacube vs cp -r + sync: $(echo "scale=2; $dc / $base" | bc)x the time;" \
       "rclone copy / datacube: $(echo "scale=2; $rc / $dc" | bc)x"
}

make_data
echo "## Local to local ($(date -u +%Y-%m-%d), $(nproc) cores, best of $REPEAT)"
bench_case "(a) one file of ${BIG_MIB} MiB" "$WORK/big"
bench_case "(b) ${SMALL_FILES} files of 64 KiB" "$WORK/small"
rm -rf "$WORK/out"
