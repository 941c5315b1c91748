#!/bin/sh
# fetch-source.sh: download and unpack one pinned Debian source package.
#
#   fetch-source.sh NAME=VERSION DESTDIR [--skip-patches]
#
# Uses a project-local apt configuration under $LARDER_CACHE/apt with deb-src
# lines derived from the system's own sources; the system's apt configuration
# is never modified. The unpacked tree lands in DESTDIR (replaced atomically:
# it is built in DESTDIR.tmp and renamed when complete).
set -eu
spec=$1 dest=$2 patches=${3:-}
name=${spec%%=*} version=${spec#*=}
cache=${LARDER_CACHE:?LARDER_CACHE must be set}
apt=$cache/apt

mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$cache/src/dl"
# One deb-src line per deb line of the system (deb822 and one-line forms),
# and for each bookworm line the same for trixie: a later release's source
# package is used where bookworm's lacks what we need (libffi's wasm32
# port). Rewritten when the system's sources change; apt-get update runs
# when a download fails (below).
{
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/{u=$2} /^Suites:/{$1=""; s=$0} /^Components:/{$1=""; c=$0}
             /^$/{if(u!=""){n=split(s,a," "); for(i=1;i<=n;i++) print "deb-src " u " " a[i] c}; u=""}
             END{if(u!=""){n=split(s,a," "); for(i=1;i<=n;i++) print "deb-src " u " " a[i] c}}' "$f"
    done
    [ -f /etc/apt/sources.list ] && sed -n 's/^deb[[:space:]]/deb-src /p' /etc/apt/sources.list
} | awk '{print} $3 == "bookworm" {$3 = "trixie"; print}' | sort -u > "$apt/sources.list.tmp"
[ -s "$apt/sources.list.tmp" ] || { echo "fetch-source: no Debian sources found in /etc/apt" >&2; exit 1; }
if cmp -s "$apt/sources.list.tmp" "$apt/sources.list"; then
    rm "$apt/sources.list.tmp"
else
    mv "$apt/sources.list.tmp" "$apt/sources.list"
fi
aptopts="-o Dir::Etc::SourceList=$apt/sources.list -o Dir::Etc::SourceParts=$apt/parts
         -o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache -o APT::Sandbox::User=root"

cd "$cache/src/dl"
if ! ls "${name}_"*.dsc >/dev/null 2>&1 || ! apt-get $aptopts source --download-only -qq "$name=$version" >/dev/null 2>&1; then
    apt-get $aptopts update -qq >/dev/null || { echo "fetch-source: apt-get update failed (network?)" >&2; exit 1; }
    apt-get $aptopts source --download-only -qq "$name=$version" >/dev/null || {
        echo "fetch-source: cannot download Debian source package $name=$version" >&2
        echo "  (pinned in a sources.txt under builder/; check 'apt-cache showsrc $name')" >&2
        exit 1
    }
fi
dsc=$(ls "${name}_$(echo "${version#*:}")".dsc)
tmp=$name.unpack.$$
rm -rf "$tmp" "$dest"
dpkg-source --no-check -x ${patches:+--skip-patches} "$dsc" "$tmp" >/dev/null
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
