#!/bin/sh
# apply-patches.sh SRCDIR LIST: apply the patches named in LIST (one per
# line, '#' comments) to SRCDIR, in order: Debian's from SRCDIR/debian/patches,
# and larder's own (named larder/NAME) from builder/runtime/patches.
set -eu
src=$1 list=$2
ours=$(cd "$(dirname "$0")" && pwd)/patches
grep -v '^#' "$list" | while read -r p; do
    [ -n "$p" ] || continue
    case $p in
        larder/*) file=$ours/${p#larder/} ;;
        *) file=$src/debian/patches/$p ;;
    esac
    patch -d "$src" -p1 -s -N < "$file" || { echo "apply-patches: $p does not apply" >&2; exit 1; }
done
