#!/usr/bin/env bash
# Install Debian's Chromium and PostgreSQL when missing. Needs root (CI runs as root);
# without it, the tests that need them skip and say why.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "note: ${missing[*]} not installed and not root: their tests will be skipped" >&2
    exit 0
fi
echo "installing ${missing[*]} from Debian packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
