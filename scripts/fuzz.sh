#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, docs/fuzzing.md) into ./build-fuzz with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, replays every checked-in input of each target
# (testdata/fuzz/<target>/, seeds and regressions/), then fuzzes each target for FUZZ_SECONDS.
# Fails on any crash, sanitizer report, leak, timeout or out-of-memory, naming the reproducer.
#
#   scripts/fuzz.sh                     # every target, FUZZ_SECONDS (default 30) each
#   FUZZ_SECONDS=0 scripts/fuzz.sh      # replay the checked-in inputs only
#   scripts/fuzz.sh cube location       # only these targets
#
# New inputs found while fuzzing go to a scratch corpus under the build directory, never into
# testdata/ (a finding is added there by hand, minimised, as testdata/fuzz/<target>/regressions/).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
CXX_FUZZ=${CXX_FUZZ:-clang++}

# Longest input per target: a cube is a few kilobytes (the loader refuses more than 4 MiB, but
# short inputs explore faster); XML and JSON pages are larger; locations are one line.
declare -A MAX_LEN=([cube]=16384 [expand]=4096 [s3_xml]=16384 [s3_error]=8192 [hf_json]=16384
                    [location]=1024)
TARGETS=(cube expand s3_xml s3_error hf_json location)

# Checked-in inputs ("target/file", relative to testdata/fuzz/) that are known to fail and are
# left out until their fix lands, each with the reason. Keep this empty whenever possible.
SKIP=(
)
skipped() {
  local rel=$1 s
  for s in "${SKIP[@]}"; do [ "$s" = "$rel" ] && return 0; done
  return 1
}
if [ $# -gt 0 ]; then TARGETS=("$@"); fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DDATACUBE_FUZZ=ON >/dev/null
fi
start=$SECONDS
fuzzers=()
for t in "${TARGETS[@]}"; do fuzzers+=("${t}_fuzzer"); done
ninja -C "$BUILD_DIR" ${NINJA_JOBS:+-j "$NINJA_JOBS"} "${fuzzers[@]}"
echo "fuzz: built ${#fuzzers[@]} targets in $((SECONDS - start))s"

# Sanitizer settings for every run: leaks are findings; UB already aborts (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
COMMON=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=0)

failed=()
for t in "${TARGETS[@]}"; do
  bin=$ROOT/$BUILD_DIR/fuzz/${t}_fuzzer
  seeds=$ROOT/testdata/fuzz/$t
  regressions=$seeds/regressions
  work=$ROOT/$BUILD_DIR/fuzz-work/$t
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  max_len=${MAX_LEN[$t]:-4096}

  # 1. Every checked-in input once (seeds and past findings): a regression fails here, with
  #    the file named, before any new fuzzing.
  inputs=()
  for f in "$seeds"/* "$regressions"/*; do
    [ -f "$f" ] || continue
    if skipped "${f#"$ROOT/testdata/fuzz/"}"; then
      echo "fuzz: $t: skipping known failure ${f#"$ROOT/"}"
      continue
    fi
    inputs+=("$f")
    cp "$f" "$work/corpus/"
  done
  echo "fuzz: $t: replaying ${#inputs[@]} checked-in inputs"
  if [ ${#inputs[@]} -gt 0 ] &&
     ! "$bin" "${COMMON[@]}" -runs=1 "${inputs[@]}" >"$work/replay.log" 2>&1; then
    tail -n 60 "$work/replay.log"
    echo "fuzz: $t: a checked-in input fails (log: $work/replay.log)"
    failed+=("$t")
    continue
  fi

  # 2. Fuzz from those inputs (copied above) in a private scratch corpus.
  [ "$FUZZ_SECONDS" -gt 0 ] || continue
  echo "fuzz: $t: fuzzing for ${FUZZ_SECONDS}s (max_len $max_len)"
  if ! "$bin" "${COMMON[@]}" -max_total_time="$FUZZ_SECONDS" -max_len="$max_len" \
       -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1; then
    tail -n 60 "$work/fuzz.log"
    for a in "$work"/artifacts/*; do
      [ -f "$a" ] && echo "fuzz: $t: reproducer $a (rerun: $bin $a)"
    done
    echo "fuzz: $t: FAILED (log: $work/fuzz.log)"
    failed+=("$t")
    continue
  fi
  grep -E '^#[0-9]+.*DONE' "$work/fuzz.log" | tail -n 1 || true
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in: ${failed[*]}"
  exit 1
fi
echo "fuzz: all targets clean ($((SECONDS - start))s in total)"
