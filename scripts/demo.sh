#!/usr/bin/env bash
# `make demo`: install, build, generate a sample model, copy it into ./demo/pvc with a live
# progress bar, write and verify a manifest, and say what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh datacube make_sample_model
DC=$PWD/build/src/datacube/cli/datacube
MODEL=demo/source/demo-model
PVC=demo/pvc

echo
echo "== 1. A sample model (safetensors shards, config.json, tokenizer.json)"
if [ ! -f "$MODEL/config.json" ]; then
  build/tools/make_sample_model "$MODEL" --total-mib "${DEMO_MIB:-300}" --shards 3
fi
ls -l "$MODEL"

echo
echo "== 2. datacube cp $MODEL pvc://models/demo-model   (PVC root: $PVC)"
mkdir -p "$PVC/models"
progress=bar
[ -t 2 ] || progress=json
"$DC" --pvc-root "$PVC" --progress "$progress" cp "$MODEL" pvc://models/demo-model \
  --manifest-out demo/demo-model.manifest.jsonl 2> >(grep -v '"event":"file"' >&2)

echo
echo "== 3. Run it again: nothing to copy, every file is already there and verified"
"$DC" --pvc-root "$PVC" --progress none cp "$MODEL" pvc://models/demo-model

echo
echo "== 4. datacube verify against the manifest written during the copy"
"$DC" --pvc-root "$PVC" verify pvc://models/demo-model --manifest demo/demo-model.manifest.jsonl
echo
echo "manifest (path, size, sha256):"
cat demo/demo-model.manifest.jsonl
echo
echo "Done: $MODEL was copied into $PVC/models/demo-model, every byte SHA-256 hashed while it"
echo "moved, and the copy verified against its manifest."
