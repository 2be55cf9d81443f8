#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints a markdown section). `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
for b in bench/local.sh bench/s3.sh bench/hf.sh; do
  [ -x "$b" ] && "$b"
done
