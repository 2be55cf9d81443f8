#!/usr/bin/env bash
# Installs every Debian and npm package the project needs, and only what is missing.
# Idempotent; works as root on a fresh Debian 12 (uses sudo when not root).
#
# Debian packages are listed one per line in scripts/deps/*.apt (comments with #).
# npm packages are in package.json; they are installed into ./node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

wanted=$(cat scripts/deps/*.apt | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=()
for pkg in $wanted; do
  # A machine may already carry its own Node.js (newer than Debian's); Debian's npm package would
  # conflict with it, and any working node + npm will do for our test tools.
  if { [ "$pkg" = nodejs ] && command -v node >/dev/null; } ||
     { [ "$pkg" = npm ] && command -v npm >/dev/null; }; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package.json ]; then
  stamp=node_modules/.datacube-installed
  if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
    echo "installing npm packages"
    if [ -f package-lock.json ]; then
      npm ci --no-audit --no-fund --loglevel=error
    else
      npm install --no-audit --no-fund --loglevel=error
    fi
    touch "$stamp"
  fi
fi
