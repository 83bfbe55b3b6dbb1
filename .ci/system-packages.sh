#!/usr/bin/env bash
# Install the Debian packages listed in .ci/apt-packages.txt that are not installed yet.
# Needs root and apt-get (as on CI); elsewhere it names what is missing and carries on, and the
# tests that need those programs say so when they are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' .ci/apt-packages.txt | grep -v '^$' || true)
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
else
    echo "Note: not installed (needs root and apt-get): ${missing[*]}; tests needing them are skipped." >&2
fi
