#!/usr/bin/env bash
# Hugging Face download benchmark: `datacube cp hf://...` against curl and aria2c
# fetching the very same resolve URLs from the Hub fixture (testing/hf_fixture), side by side in
# one run, for (a) a repo with one 4 GiB LFS file and (b) a repo with 2,000 small files.
#
#   bench/hf.sh                                   # full sizes
#   BIG_MIB=512 SMALL_FILES=500 bench/hf.sh       # quicker
#
# The fixture runs on 127.0.0.1:7502 (Hub) and :7503 (LFS storage host) with its repositories
# under $BENCH_DIR. Large files are LFS: the Hub answers 302 to the storage host, which curl -L,
# aria2c and datacube all follow. The small files are regular (non-LFS) files served by the Hub
# itself, like configs and tokenizers.
#
# Tools and settings:
#   datacube cp      default jobs (4 per core) and part size (8 MiB); verifies every file
#                    (SHA-256 of LFS files, git blob id of small ones) and fsyncs each one
#   curl             (a) one stream; (b) --parallel --parallel-max 16 over a URL list
#   aria2c           (a) -x 16 -s 16 -k 8M (16 connections); (b) -j 16 over a URL list
# Every tool's time includes a final `sync`, so all are measured durable; the best of REPEAT runs
# is reported with its peak RSS (/usr/bin/time). Output: a markdown section on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
DC=${DC:-$PWD/${BUILD_DIR:-build}/src/datacube/cli/datacube}
FIXTURE=${FIXTURE:-$PWD/${BUILD_DIR:-build}/testing/hf_fixture/datacube-hf-fixture}
WORK=${BENCH_DIR:-/tmp/datacube-bench-hf}
BIG_MIB=${BIG_MIB:-4096}
SMALL_FILES=${SMALL_FILES:-2000}
SMALL_KIB=${SMALL_KIB:-64}
REPEAT=${REPEAT:-2}
HUB_PORT=${HF_BENCH_PORT:-7502}
HUB=http://127.0.0.1:$HUB_PORT

for bin in "$DC" "$FIXTURE"; do
  [ -x "$bin" ] || { echo "build first (make build): $bin" >&2; exit 2; }
done
for tool in curl aria2c bc; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 2; }
done
mkdir -p "$WORK"

"$FIXTURE" --root "$WORK/hub" --hub-port "$HUB_PORT" --storage-port $((HUB_PORT + 1)) \
  --ready-file "$WORK/ready" >"$WORK/fixture.log" 2>&1 &
FIXTURE_PID=$!
trap 'kill $FIXTURE_PID 2>/dev/null || true; wait $FIXTURE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -f "$WORK/ready" ] && break; sleep 0.05; done
curl -sf "$HUB/_fixture/health" >/dev/null

seed() {  # seed REPO JSON_FILES -> writes the answer to $WORK/<name>.seed.json
  printf '{"type":"model","id":"%s","files":%s}' "$1" "$2" >"$WORK/seed-request.json"
  curl -sf -X POST "$HUB/_fixture/seed" -H 'content-type: application/json' \
    --data-binary @"$WORK/seed-request.json" >"$WORK/$(basename "$1").seed.json"
}

# Seeding is idempotent: the same seeds give the same content and commit tree.
if ! curl -sf "$HUB/api/models/bench/big-$BIG_MIB" >/dev/null; then
  echo "seeding bench/big-$BIG_MIB (${BIG_MIB} MiB LFS file)" >&2
  seed "bench/big-$BIG_MIB" "[{\"path\":\"model.safetensors\",\"random_size\":$((BIG_MIB << 20)),\"seed\":7,\"lfs\":true}]"
fi
if ! curl -sf "$HUB/api/models/bench/small-$SMALL_FILES" >/dev/null; then
  echo "seeding bench/small-$SMALL_FILES ($SMALL_FILES files of $SMALL_KIB KiB)" >&2
  files=$(seq 0 $((SMALL_FILES - 1)) | awk -v k=$((SMALL_KIB * 1024)) \
    '{printf "%s{\"path\":\"shard%02d/f%05d.json\",\"random_size\":%d,\"seed\":%d,\"lfs\":false}", (NR>1?",":""), $1%100, $1, k, $1+1}')
  seed "bench/small-$SMALL_FILES" "[$files]"
fi

# URL lists (the same resolve URLs every tool fetches), from the tree API through `datacube ls`.
HF_ENDPOINT=$HUB "$DC" ls -R --json "hf://bench/small-$SMALL_FILES" \
  | sed -n 's/.*"path":"\([^"]*\)".*/\1/p' | grep -v '^\.gitattributes$' >"$WORK/small.paths"
[ "$(wc -l <"$WORK/small.paths")" -ge "$SMALL_FILES" ] || { echo "listing incomplete" >&2; exit 1; }
awk -v hub="$HUB" -v repo="bench/small-$SMALL_FILES" -v out="$WORK/out" \
  '{printf "url = \"%s/%s/resolve/main/%s\"\noutput = \"%s/%s\"\n", hub, repo, $1, out, $1}' \
  "$WORK/small.paths" >"$WORK/small.curl"
awk -v hub="$HUB" -v repo="bench/small-$SMALL_FILES" -v out="$WORK/out" \
  '{d=$1; sub(/\/[^\/]*$/, "", d); f=$1; sub(/.*\//, "", f);
    printf "%s/%s/resolve/main/%s\n  dir=%s/%s\n  out=%s\n", hub, repo, $1, out, d, f}' \
  "$WORK/small.paths" >"$WORK/small.aria2"

# run NAME CMD...: best wall time (+ sync) and peak RSS (KiB) over REPEAT runs.
run() {
  local name=$1
  shift
  local best="" best_mem=0
  for _ in $(seq "$REPEAT"); do
    rm -rf "$WORK/out"
    mkdir -p "$WORK/out"
    sync
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || {
      echo "$name failed:" >&2
      cat "$WORK/stderr.txt" >&2
      exit 1
    }
    local t0 t1 secs mem
    t0=$(date +%s.%N)
    sync
    t1=$(date +%s.%N)
    secs=$(tail -1 "$WORK/time.txt" | awk -v s="$(echo "$t1 - $t0" | bc)" '{printf "%.2f", $1 + s}')
    mem=$(tail -1 "$WORK/time.txt" | awk '{print $2}')
    if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc)" = 1 ]; then best=$secs; best_mem=$mem; fi
  done
  echo "$name|$best|$best_mem"
}

verify_big() {
  local want
  want=$(sed -n 's/.*"sha256":"\([0-9a-f]*\)".*/\1/p' "$WORK/big-$BIG_MIB.seed.json" 2>/dev/null)
  if [ -n "$want" ]; then
    [ "$(sha256sum "$WORK/out/model.safetensors" | cut -d' ' -f1)" = "$want" ] || {
      echo "$1: wrong content" >&2; exit 1; }
  fi
}

verify_small() {
  local n
  n=$(find "$WORK/out" -name '*.json' -type f | wc -l)
  [ "$n" -ge "$SMALL_FILES" ] || { echo "$1: only $n files" >&2; exit 1; }
}

table() {  # table TITLE BYTES RESULT...
  local title=$1 bytes=$2
  shift 2
  local dc
  dc=$(printf '%s\n' "$@" | awk -F'|' '$1 ~ /^datacube/{print $2}')
  echo
  echo "### $title"
  echo
  echo "| tool (+ sync) | seconds | MiB/s | peak RSS | time vs datacube |"
  echo "|---|---|---|---|---|"
  for r in "$@"; do
    IFS='|' read -r name secs mem <<<"$r"
    echo "| $name | $secs | $(echo "scale=0; $bytes / 1048576 / $secs" | bc) |" \
         "$(echo "scale=0; $mem / 1024" | bc) MiB | $(echo "scale=2; $secs / $dc" | bc)x |"
  done
}

BIG_URL="$HUB/bench/big-$BIG_MIB/resolve/main/model.safetensors"
big=()
export HF_ENDPOINT=$HUB
big+=("$(run "datacube cp" "$DC" --progress none -q cp "hf://bench/big-$BIG_MIB" "$WORK/out")")
verify_big datacube
big+=("$(run "curl -L (1 stream)" curl -sfL -o "$WORK/out/model.safetensors" "$BIG_URL")")
verify_big curl
big+=("$(run "aria2c -x16 -s16" aria2c -q -x 16 -s 16 -k 8M --file-allocation=none \
          --allow-overwrite=true --auto-file-renaming=false -d "$WORK/out" -o model.safetensors \
          "$BIG_URL")")
verify_big aria2c

small=()
small+=("$(run "datacube cp" "$DC" --progress none -q cp "hf://bench/small-$SMALL_FILES" "$WORK/out")")
verify_small datacube
small+=("$(run "curl --parallel (16)" curl -sfL --parallel --parallel-max 16 --create-dirs \
            -K "$WORK/small.curl")")
verify_small curl
small+=("$(run "aria2c -j16" aria2c -q -j 16 --file-allocation=none --allow-overwrite=true \
            --auto-file-renaming=false -d "$WORK/out" -i "$WORK/small.aria2")")
verify_small aria2c

echo "## Hugging Face downloads from the Hub fixture ($(date -u +%Y-%m-%d), $(nproc) cores, best of $REPEAT)"
table "(a) one LFS file of ${BIG_MIB} MiB (302 to the storage host)" $((BIG_MIB << 20)) "${big[@]}"
table "(b) ${SMALL_FILES} files of ${SMALL_KIB} KiB served by the Hub" \
      $((SMALL_FILES * SMALL_KIB * 1024)) "${small[@]}"
echo
echo "Fixture, clients and disk share the same $(nproc) cores; compare rows of one run only."
rm -rf "$WORK/out"
