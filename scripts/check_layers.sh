#!/usr/bin/env bash
# Layering check (run by scripts/test.sh before the suite). A module is a directory under
# src/datacube/ (base, io, engine, ...); each storage backend (storage/local, storage/s3, ...) is a
# module of its own, and storage itself is the interface. LAYERS below says, one line per module,
# which other modules its code may use (a module may always use itself). Checked:
#   1. every `#include "datacube/..."` of a non-test source file (*.cc, *.h under src/datacube/,
#      not *_test.cc, not under a testing/ directory);
#   2. the DEPS of every datacube_cc_library() in src/**/CMakeLists.txt (library names map to
#      modules through LIBRARIES).
# Every forbidden edge is printed as file:line and the edge; the script exits 1 if there is any.
# A header or library that belongs to no module is an error too.
#
# Adding a module: add its line to LAYERS (and, if its library is not simply datacube_<module>
# with / turned into _, a line to LIBRARIES), then add it to the lines of the modules that may
# use it. Test-only modules (storage/testing, http/testing) and test-only libraries appear on no
# module's line: production code never includes or links them.
set -euo pipefail
cd "$(dirname "$0")/.."

# module: the modules it may include
LAYERS='
base:
crypto:          base
retry:           base
io:              base crypto
http:            base io
location:        base
artifact:        base crypto io
policy:          base location
audit:           base crypto io
retention:       policy base
storage:         base io location crypto
storage/local:   storage base crypto io location
storage/memory:  storage base crypto io location
storage/s3:      storage base crypto io http location retry
storage/hf:      storage base crypto io http location retry
storage/http:    storage base crypto io http location retry
git:             base crypto io retry location
engine:          storage base crypto io retry location
transfer:        retention policy engine storage storage/local storage/memory storage/s3 storage/hf storage/http git base crypto io retry http location audit
cube:            retention policy transfer base crypto io retry location audit
cli:             retention policy cube transfer base io location audit
storage/testing: test-only
http/testing:    test-only
'

# CMake library: its module, where it is not datacube_<module with / as _>. "test-only" marks a
# library no production library may depend on (datacube_testing_* are test-only as well).
LIBRARIES='
datacube_artifact_pickle:      artifact
datacube_hf_transfer:          transfer
datacube_storage_registry:     transfer
datacube_storage_testing:      test-only
datacube_storage_conformance:  test-only
datacube_http_testing:         test-only
'

SRC=src/datacube

# 1. Includes. Prints "file:line: from -> to (#include ...)" for each forbidden one.
# shellcheck disable=SC2016  # the $ in the awk program are awk's, not the shell's
check_includes() {
  find "$SRC" -type f \( -name '*.cc' -o -name '*.h' \) ! -name '*_test.cc' \
    ! -path '*/testing/*' -print | LC_ALL=C sort |
    xargs -r awk -v layers="$LAYERS" -v src="$SRC/" '
      BEGIN { parse_layers(layers) }
      FNR == 1 {
        from = module_of(substr(FILENAME, length(src) + 1))
        if (from == "") {
          printf "%s:1: a file in no module (add its directory to LAYERS)\n", FILENAME
          bad++
          nextfile
        }
      }
      /^[ \t]*#[ \t]*include[ \t]*["<]datacube\// {
        header = $0
        sub(/^[^"<]*["<]datacube\//, "", header)
        sub(/[">].*$/, "", header)
        to = module_of(header)
        if (to == "") {
          printf "%s:%d: %s -> ? (#include \"datacube/%s\": a header in no module)\n",
            FILENAME, FNR, from, header
          bad++
        } else if (to != from && !((from, to) in allowed)) {
          printf "%s:%d: %s -> %s (#include \"datacube/%s\")\n", FILENAME, FNR, from, to, header
          bad++
        }
      }
      END { exit (bad > 0) }
      '"$AWK_LIB"
}

# 2. CMake DEPS. Prints "file:line: datacube_x (module) -> datacube_y (module)".
# shellcheck disable=SC2016  # the $ in the awk program are awk's, not the shell's
check_cmake() {
  find src -name CMakeLists.txt -print | LC_ALL=C sort |
    xargs -r awk -v layers="$LAYERS" -v libraries="$LIBRARIES" '
      BEGIN {
        parse_layers(layers)
        n = split(libraries, lines, "\n")
        for (i = 1; i <= n; i++) {
          if (split(lines[i], kv, ":") == 2) { gsub(/[ \t]/, "", kv[1]); gsub(/[ \t]/, "", kv[2]); lib_module[kv[1]] = kv[2] }
        }
      }
      # Collects one datacube_cc_library(...) call, possibly over several lines.
      /^[ \t]*datacube_cc_library[ \t]*\(/ { call = ""; start = FNR; collecting = 1 }
      collecting {
        line = $0
        sub(/#.*/, "", line)
        call = call " " line
        if (line ~ /\)/) { collecting = 0; check_call(call, FILENAME, start) }
      }
      function check_call(text, file, line,   words, n, i, name, from, to, in_deps, dep) {
        gsub(/[()]/, " ", text)
        n = split(text, words, /[ \t]+/)
        in_deps = 0
        for (i = 1; i <= n; i++) {
          if (words[i] == "NAME") { name = "datacube_" words[++i]; continue }
          if (words[i] ~ /^(SRCS|DEPS)$/) { in_deps = (words[i] == "DEPS"); continue }
          if (in_deps && words[i] ~ /^datacube_/) deps[++ndeps] = words[i]
        }
        from = library_module(name)
        if (from == "test-only") { ndeps = 0; return }
        if (from == "") {
          printf "%s:%d: %s is a library of no module (add it to LIBRARIES or LAYERS)\n", file, line, name
          bad++
          from = "?"
        }
        for (i = 1; i <= ndeps; i++) {
          dep = deps[i]
          to = library_module(dep)
          if (to == "") {
            printf "%s:%d: %s (%s) -> %s (a library of no module)\n", file, line, name, from, dep
            bad++
          } else if (from != "?" && to != from && !((from, to) in allowed)) {
            printf "%s:%d: %s (%s) -> %s (%s)\n", file, line, name, from, dep, to
            bad++
          }
        }
        ndeps = 0
      }
      function library_module(lib,   m) {
        if (lib in lib_module) return lib_module[lib]
        if (lib ~ /^datacube_testing_/) return "test-only"
        m = substr(lib, length("datacube_") + 1)
        if (m ~ /^storage_/) m = "storage/" substr(m, length("storage_") + 1)
        if (m ~ /_testing$/) return "test-only"
        return (m in known) ? m : ""
      }
      END { exit (bad > 0) }
      '"$AWK_LIB"
}

# Shared awk functions: the LAYERS table and the module of a path below src/datacube/.
AWK_LIB='
  function parse_layers(text,   lines, n, i, kv, mod, uses, k, j) {
    n = split(text, lines, "\n")
    for (i = 1; i <= n; i++) {
      if (split(lines[i], kv, ":") != 2) continue
      mod = kv[1]
      gsub(/[ \t]/, "", mod)
      known[mod] = 1
      k = split(kv[2], uses, /[ \t]+/)
      for (j = 1; j <= k; j++) if (uses[j] != "" && uses[j] != "test-only") allowed[mod, uses[j]] = 1
    }
  }
  # storage/s3/x.h -> storage/s3, storage/x.h -> storage, http/testing/x.h -> http/testing,
  # engine/x.h -> engine; "" when the path is in no module of LAYERS.
  function module_of(rel,   p, n, m) {
    n = split(rel, p, "/")
    if (n < 2) return ""
    if (p[1] == "storage" && n >= 3) m = "storage/" p[2]
    else if (n >= 3 && p[2] == "testing") m = p[1] "/testing"
    else m = p[1]
    return (m in known) ? m : ""
  }
'

rc=0
includes=$(check_includes) || rc=1
cmake=$(check_cmake) || rc=1
if [ "$rc" -ne 0 ]; then
  echo "check_layers.sh: forbidden dependencies between modules (the allowed ones are in LAYERS" \
    "at the top of scripts/check_layers.sh):" >&2
  [ -n "$includes" ] && echo "$includes" >&2
  [ -n "$cmake" ] && echo "$cmake" >&2
  echo "check_layers.sh: $(printf '%s\n%s\n' "$includes" "$cmake" | grep -c .) violations" >&2
  exit 1
fi
echo "check_layers.sh: every include and library dependency follows LAYERS"
