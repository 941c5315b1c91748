#!/bin/bash
# cross-wheel.sh SDIST OUTDIR [--with PREFIX]... - cross-compile a source
# distribution for the runtime with its own PEP 517 backend, and write the
# wheel (tag cp311-cp311-emscripten_3_1_6_wasm32) into OUTDIR; its path is
# the last line printed. SDIST is a file (.tar.gz, .zip) or NAME==VERSION:
# then PyPI's sdist of that release, checked against the sha256 PyPI's JSON
# API gives (or against --sha256 HEX when given), cached under
# $LARDER_CACHE/sdists/SHA256/.
#
# The generic path of `larder-build sdist` (and so of `larder-mirror add`):
# no recipe. What it takes from the environment, or from the file config
# beside it (make writes build/cross/config, see Makefile, "cross"):
#   LARDER_CPYTHON  the wasm CPython build tree (sysconfig data, pyconfig.h)
#   LARDER_PYSRC    CPython's sources (Include/)
#   LARDER_NUMPY    the wasm numpy's build tree, for projects that build
#                   against numpy (their build requirements name it)
#   LARDER_DEPS     the runtime's wasm libraries (zlib, ...), on the linker's
#                   path after the --with ones
# and --with PREFIX: a C library built for wasm (PREFIX/include, PREFIX/lib,
# PREFIX/lib/pkgconfig, PREFIX/bin), put first on the compiler's, pkg-config's
# and the shell's paths.
#
# Only the setuptools backend (setup.py, setup.cfg or pyproject.toml; with
# or without Cython) is driven: it compiles through $CC/$LDSHARED and the
# target's sysconfig, which is what cross-compiling needs. Other backends
# (meson-python, scikit-build, maturin, ...) are refused by name, exit 3.
# Build requirements are installed for the host from PyPI by pip (within
# cross-constraints.txt, beside this script), and the
# build runs on them alone (python3.11 -S: none of Debian's dist-packages,
# whose numpy.distutils would patch setuptools' compiler); a requirement of
# numpy becomes the host wheel of the wasm numpy's version, while the wasm
# numpy's headers are what is compiled against. A build that yields no
# extension module while the sdist has C, C++ or Cython sources is a
# failure (setuptools projects often fall back to pure Python silently when
# compiling fails): exit 4.
set -euo pipefail
usage() { echo "usage: cross-wheel.sh SDIST|NAME==VERSION OUTDIR [--sha256 HEX] [--with PREFIX]..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091
. "$here/cross-env.sh"
# shellcheck disable=SC1091
[ -f "$here/config" ] && . "$here/config"
[ $# -ge 2 ] || usage
spec=$1 outdir=$2 pin=
shift 2
withs=()
while [ $# -gt 0 ]; do
    case $1 in
    --sha256) [ $# -ge 2 ] || usage; pin=$2; shift 2 ;;
    --with) [ $# -ge 2 ] || usage; [ -d "$2/include" ] || { echo "cross-wheel.sh: --with $2: no include/ directory there (a prefix of a C library built for wasm)" >&2; exit 2; }
            withs+=("$(cd "$2" && pwd)"); shift 2 ;;
    *) usage ;;
    esac
done
cpy=${LARDER_CPYTHON:?cross-wheel.sh: LARDER_CPYTHON (the wasm CPython build tree) is not set}
pysrc=${LARDER_PYSRC:?cross-wheel.sh: LARDER_PYSRC (CPython sources) is not set}
host=/usr/bin/python3.11
work=$(mktemp -d "${TMPDIR:-/tmp}/larder-cross-XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/build.log
fail() { echo "cross-wheel.sh: ${spec##*/}: $*" >&2; exit "${code:-1}"; }
# A failed build's log is kept (its path ends the message) and its first
# error line quoted, since a caller may show only the last line of stderr.
keep_log() {
    local kept="${TMPDIR:-/tmp}/larder-cross-$(basename "${spec%%==*}" | sed 's/\.\(tar\.gz\|tgz\|zip\)$//').log"
    cp "$1" "$kept"
    tail -25 "$1" >&2
    local first
    first=$(grep -m1 -E 'error:|Error:|error [A-Z][0-9]+' "$1" | cut -c1-300 || true)
    echo "${first:+first error: $first; }whole log: $kept"
}

case $spec in
*==*)
    sdist=$("$host" "$here/pypi-fetch.py" "${LARDER_CACHE:?}/sdists" "$spec" $pin 2>&1) ||
        fail "$(printf '%s\n' "$sdist" | tail -1)" ;;
*)  [ -f "$spec" ] || fail "no such file"
    sdist=$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")
    if [ -n "$pin" ]; then
        echo "$pin  $sdist" | sha256sum -c --quiet - 2>/dev/null || fail "its sha256 is not the pinned $pin"
    fi ;;
esac

mkdir -p "$work/src" "$work/req" "$work/bin" "$work/wheel"
case $sdist in
*.tar.gz|*.tgz) tar -xzf "$sdist" -C "$work/src" ;;
*.zip) (cd "$work/src" && "$host" -m zipfile -e "$sdist" .) ;;
*) fail "not an sdist (.tar.gz or .zip)" ;;
esac
srcdir=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d | head -1)
[ -n "$srcdir" ] || fail "the archive holds no directory"

# The backend and the build requirements, as PEP 517/518 define them.
"$host" - "$srcdir" > "$work/build-system" <<'PY'
import os, sys, tomllib
path = os.path.join(sys.argv[1], "pyproject.toml")
table = {}
if os.path.exists(path):
    with open(path, "rb") as f:
        table = tomllib.load(f).get("build-system", {})
backend = table.get("build-backend", "setuptools.build_meta:__legacy__")
requires = table.get("requires", ["setuptools>=40.8.0", "wheel"])
# An in-tree backend (PEP 517 backend-path) that wraps setuptools' is
# setuptools (PyYAML's does, to pass config settings through).
paths = table.get("backend-path", [])
kind = backend
for p in paths:
    f = os.path.join(sys.argv[1], p, backend.split(":")[0].replace(".", "/") + ".py")
    if os.path.exists(f) and "from setuptools import build_meta" in open(f).read():
        kind = "setuptools.build_meta"
print(kind, backend, ":".join(paths))
for r in requires:
    print(r)
PY
read -r kind backend backend_path < "$work/build-system"
case $kind in
setuptools.build_meta|setuptools.build_meta:__legacy__) ;;
*) code=3 fail "its build backend is $backend; larder cross-compiles setuptools projects only (with or without Cython). Build it with a recipe (builder/native) or ask its authors for a pure-Python wheel" ;;
esac
reqs=() numpy=
while IFS= read -r r; do
    name=$(printf '%s' "$r" | sed 's/[ ;<>=!~\[].*//' | tr 'A-Z_.' 'a-z--')
    case $name in
    numpy|oldest-supported-numpy) numpy=1 ;;
    "") ;;
    *) reqs+=("$r") ;;
    esac
done < <(tail -n +2 "$work/build-system")

# The host's build requirements: binary wheels for this host CPython.
if [ ${#reqs[@]} -gt 0 ]; then
    "$host" -m pip install --quiet --disable-pip-version-check --no-input --target "$work/req" \
        --prefer-binary -c "$here/cross-constraints.txt" "${reqs[@]}" > "$work/pip.log" 2>&1 ||
        fail "cannot install its build requirements (${reqs[*]}) from PyPI: $(keep_log "$work/pip.log")"
fi
if [ -n "$numpy" ]; then
    npinc=$(cross_numpy_include "${LARDER_NUMPY:-/nonexistent}" "$work/numpy-include") ||
        fail "it builds against numpy, and LARDER_NUMPY names no wasm numpy build tree"
    nv=$(sed -n 's/^ *"version": "\(.*\)".*/\1/p' "$LARDER_NUMPY/tree/numpy/_version.py")
    "$host" -m pip install --quiet --disable-pip-version-check --no-input --target "$work/req" \
        --only-binary :all: "numpy==$nv" >> "$work/pip.log" 2>&1 ||
        fail "cannot install the host's numpy $nv from PyPI: $(keep_log "$work/pip.log")"
fi

# the target (cross-env.sh, shared with the recipes' build.sh)
cross_flags "$cpy" "$pysrc"
flags="$flags -fexceptions"
if [ -n "$numpy" ]; then flags="-I$npinc $flags"; fi
pkgconfig=$work/pkgconfig
for p in "${withs[@]}"; do
    flags="-I$p/include $flags"
    ldflags="$ldflags -L$p/lib"
    pkgconfig=$p/lib/pkgconfig:$pkgconfig
    # a library's *-config script (xml2-config, xslt-config) is found first
    if [ -d "$p/bin" ]; then PATH=$p/bin:$PATH; fi
done
# the runtime's own wasm libraries (zlib, bz2, lzma, sqlite3, zstd) for a
# package that links one (-lz): only the objects it uses are linked in
if [ -n "${LARDER_DEPS:-}" ]; then
    export ZLIB_ROOT=$LARDER_DEPS
    ldflags="$ldflags -L$LARDER_DEPS/lib"
fi
# every module may be C++: the wrapper links the C++ runtime after a
# module's objects, and with --no-whole-archive a C module takes nothing
cross_export "$(cross_cxx "$work/bin")"
export PYTHONPATH=$cpy/build/build/lib.emscripten-wasm32-3.11:$work/req
export PKG_CONFIG_LIBDIR=$pkgconfig
export MAX_CONCURRENCY=2
(cd "$srcdir" && "$host" -S - "$backend" "$work/wheel" "${backend_path:-}" > "$log" 2>&1 <<'PY'
import importlib, os, sys
sys.path[:0] = [os.path.abspath(p) for p in sys.argv[3].split(":") if p]
module, _, attr = sys.argv[1].partition(":")
backend = importlib.import_module(module)
if attr:
    backend = getattr(backend, attr)
print("built", backend.build_wheel(sys.argv[2]))
PY
) || fail "the build failed: $(keep_log "$log")"

wheel=$(ls "$work"/wheel/*.whl 2>/dev/null | head -1)
[ -n "$wheel" ] || fail "the backend wrote no wheel: $(keep_log "$log")"
case $(basename "$wheel") in
*-emscripten_*_wasm32.whl|*-none-any.whl) ;;
*) fail "the wheel $(basename "$wheel") has an unexpected platform tag" ;;
esac
# no extension module in the wheel while the sdist has compiled sources:
# the build skipped them (setuptools projects often fall back to pure
# Python when compiling fails, and say so only in the log)
if ! "$host" -c 'import sys, zipfile; sys.exit(not any(n.endswith(".so") for n in zipfile.ZipFile(sys.argv[1]).namelist()))' "$wheel"; then
    if [ -n "$(find "$srcdir" \( -name '*.c' -o -name '*.cpp' -o -name '*.cc' -o -name '*.pyx' \) -print -quit)" ]; then
        code=4 fail "the build yielded a pure-Python wheel although the sdist has C/C++/Cython sources: its extension modules did not compile and the build fell back to pure Python ($(keep_log "$log"))"
    fi
fi
mkdir -p "$outdir"
cp "$wheel" "$outdir/"
echo "$outdir/$(basename "$wheel")"
