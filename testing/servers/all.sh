#!/usr/bin/env bash
# Starts or stops every test server: each testing/servers/<name>.sh takes
#   start STATE_DIR  -> starts on 127.0.0.1, waits until ready, writes STATE_DIR/<name>.env
#   stop STATE_DIR   -> stops it (idempotent)
# The .env files hold `KEY=value` lines (endpoints, ports, credentials of the throwaway servers)
# that scripts/test.sh exports to the test run.
set -uo pipefail
cd "$(dirname "$0")"
action=$1
state=$2
rc=0
for script in *.sh; do
  [ "$script" = all.sh ] && continue
  name=${script%.sh}
  if [ "$action" = start ]; then
    echo "starting test server: $name"
    if ! bash "$script" start "$state" >"$state/$name.log" 2>&1; then
      echo "failed to start $name; its log:" >&2
      tail -50 "$state/$name.log" >&2
      rc=1
    fi
  else
    bash "$script" stop "$state" >>"$state/$name.log" 2>&1 || true
  fi
done
exit $rc
