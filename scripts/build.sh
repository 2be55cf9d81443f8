#!/usr/bin/env bash
# Configures and builds into ./build (Release with debug info, Ninja, ccache when present).
#   scripts/build.sh                  # everything (tests, fixtures, tools)
#   scripts/build.sh datacube         # only the named targets
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# Two cores and 24 GiB here; the compiler's memory is the limit, not the cores.
ninja -C "$BUILD_DIR" ${NINJA_JOBS:+-j "$NINJA_JOBS"} "$@"
