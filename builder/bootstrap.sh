#!/bin/sh
# bootstrap.sh: install what building and testing larder needs on Debian 12.
# Quick (a dpkg query and a file comparison) when everything is there.
set -eu
cd "$(dirname "$0")/.."

# Debian packages, one per line, in builder/packages.txt.
want=$(grep -v '^#' builder/packages.txt | tr '\n' ' ')
missing=$(dpkg-query -W -f '${Package} ${Status}\n' $want 2>/dev/null |
          awk '$NF != "installed" {print $1}')
# dpkg-query prints nothing at all for packages it has never heard of
for p in $want; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ -n "${missing% }" ]; then
    echo "bootstrap: installing Debian packages: $missing"
    if [ "$(id -u)" != 0 ]; then
        echo "bootstrap: run as root (or install them yourself): apt-get install $missing" >&2
        exit 1
    fi
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

# node and npm: Debian's, unless the machine already has a node with npm
if ! command -v npm >/dev/null 2>&1; then
    echo "bootstrap: installing Debian's nodejs and npm"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
fi

# npm packages, pinned by package-lock.json; node_modules is reinstalled only
# when the lock file changed.
if [ -f package-lock.json ]; then
    if ! cmp -s package-lock.json node_modules/.larder-lock 2>/dev/null; then
        echo "bootstrap: npm ci"
        npm ci --no-audit --no-fund --loglevel=error >/dev/null
        cp package-lock.json node_modules/.larder-lock
    fi
fi
