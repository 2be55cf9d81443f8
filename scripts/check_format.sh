#!/usr/bin/env bash
# Format check (run by scripts/test.sh before the suite): every C++ file (*.cc, *.h) under src/,
# testing/, tests/, fuzz/, tools/ and bench/ must be exactly what Debian's clang-format 14 makes of
# it with the project's .clang-format. Lists the files that differ and exits 1.
#
#   scripts/check_format.sh            # the whole tree
#   scripts/check_format.sh FILE...    # only these files (any path; the style is still ours)
#
# Fix a listed file with `clang-format -i FILE`. Only version 14 is accepted: other versions
# format the same style differently. Installed by scripts/install-deps.sh (scripts/deps/check.apt).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIRS=(src testing tests fuzz tools bench)

find_clang_format() {
  local candidate
  for candidate in clang-format-14 clang-format; do
    if command -v "$candidate" >/dev/null && "$candidate" --version | grep -q 'version 14\.'; then
      echo "$candidate"
      return 0
    fi
  done
  echo "check_format.sh: clang-format 14 not found (run scripts/install-deps.sh)" >&2
  return 1
}

list_sources() {
  local d
  for d in "${DIRS[@]}"; do
    [ -d "$d" ] && find "$d" -type f \( -name '*.cc' -o -name '*.h' \) -print
  done | LC_ALL=C sort
}

CF=$(find_clang_format)
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(list_sources)
fi

differ=()
for f in "${files[@]}"; do
  # The style file is named explicitly, so a file outside the tree is checked against ours too.
  if ! "$CF" --style="file:$ROOT/.clang-format" "$f" | cmp -s - "$f"; then
    differ+=("$f")
  fi
done

if [ ${#differ[@]} -gt 0 ]; then
  echo "check_format.sh: ${#differ[@]} of ${#files[@]} files differ from .clang-format" \
    "(fix with: clang-format -i FILE):" >&2
  printf '  %s\n' "${differ[@]}" >&2
  exit 1
fi
echo "check_format.sh: ${#files[@]} files formatted"
