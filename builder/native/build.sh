#!/bin/bash
# build.sh RECIPE CPYTHON OUTDIR - cross-compile a native package for the
# runtime and write its build tree (the installable files) to OUTDIR/tree.
#
# The package's own build (setup.py) runs on Debian's python3.11 pointed at
# the wasm CPython (cross-env.sh: the target, shared with the generic path
# cross-wheel.sh). Sources are downloaded with pip and checked against the
# recipe's sha256.
#
# A recipe is a shell fragment setting (see numpy.recipe):
#   NAME VERSION SDIST SDIST_SHA256   the sdist on PyPI and its sha256
#   BUILD_DEPS    "spec:sha256 ..."   host-side sdists put on PYTHONPATH
#   ENV           "VAR=value ..."     environment of the package's build
#   BUILD_ARGS                        setup.py arguments
#   USES          "numpy clibs zlib c++"  what the build needs from us: the
#                 wasm numpy's headers ($LARDER_NUMPY, a build.sh OUTDIR), the
#                 C libraries of build-clibs.sh ($LARDER_CLIBS, also as
#                 pkg-config's only search path), the runtime's zlib
#                 ($LARDER_DEPS, as ZLIB_ROOT), C++ with exception catching
#                 (libc++ linked into the module)
#   FILES         "name:recipe-file"  files of ours copied into the source tree
#   PATCHES       "file.patch ..."    patches of ours (-p1), each saying why
#   IMPORTS DEPENDS EXCLUDE           for the archive (Makefile, larder-build)
set -euo pipefail
recipe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") cpy=$(cd "$2" && pwd) out=$3
here=$(cd "$(dirname "$0")" && pwd)
BUILD_DEPS= ENV= BUILD_ARGS=build USES= FILES= PATCHES= EXCLUDE=
# shellcheck disable=SC1090
. "$recipe"
pysrc=${LARDER_CACHE:?}/src/python3.11
rm -rf "$out" && mkdir -p "$out/dl" "$out/hosttools/bin"
out=$(cd "$out" && pwd)
fetch() {  # SPEC SHA256
    local spec=$1 sha=$2
    /usr/bin/python3.11 -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation "$spec" -d "$out/dl" >/dev/null
    local file
    file=$(ls "$out"/dl/"${spec%%==*}"-"${spec##*==}".tar.gz 2>/dev/null || ls "$out"/dl/"${spec%%==*}"-*.tar.gz | head -1)
    echo "$sha  $file" | sha256sum -c --quiet - || { echo "build.sh: $file does not match the recipe's sha256" >&2; exit 1; }
    echo "$file"
}
sdist=$(fetch "$SDIST" "$SDIST_SHA256")
pythonpath=$cpy/build/build/lib.emscripten-wasm32-3.11
for dep in $BUILD_DEPS; do
    file=$(fetch "${dep%%:*}" "${dep##*:}")
    tar -xzf "$file" -C "$out/hosttools"
    pythonpath=$pythonpath:$(ls -d "$out"/hosttools/*/ | grep -v /bin/ | tail -1)
done
srcdir=$out/$(tar -tzf "$sdist" | awk -F/ 'NR == 1 {print $1}')
tar -xzf "$sdist" -C "$out"
for f in $FILES; do cp "$here/${f#*:}" "$srcdir/${f%%:*}"; done
for p in $PATCHES; do patch -d "$srcdir" -p1 --quiet < "$here/$p"; done
cd "$srcdir"

# the target (cross-env.sh, shared with the generic path cross-wheel.sh)
# shellcheck disable=SC1091
. "$here/cross-env.sh"
cross_flags "$cpy" "$pysrc"
export PYTHONPATH=$pythonpath
export SETUPTOOLS_USE_DISTUTILS=stdlib
# nothing of the host's: no pkg-config search path but ours
export PKG_CONFIG_LIBDIR=$out/hosttools/pkgconfig
cxx=em++
for use in $USES; do
    case $use in
    numpy) inc=$(cross_numpy_include "${LARDER_NUMPY:?}" "$out/hosttools/numpy-include") ||
               { echo "build.sh: $LARDER_NUMPY holds no wasm numpy build" >&2; exit 1; }
           flags="-I$inc $flags" ;;
    clibs) flags="-I${LARDER_CLIBS:?}/include $flags"; ldflags="$ldflags -L$LARDER_CLIBS/lib"
           export PKG_CONFIG_LIBDIR=$LARDER_CLIBS/lib/pkgconfig ;;
    c++)   flags="$flags -fexceptions"
           cxx=$(cross_cxx "$out/hosttools/bin") ;;
    zlib)  export ZLIB_ROOT=${LARDER_DEPS:?} ;;  # the runtime's wasm deps
    *) echo "build.sh: unknown USES entry '$use' in $recipe" >&2; exit 1 ;;
    esac
done
cross_export "$cxx"
# shellcheck disable=SC2086
env $ENV /usr/bin/python3.11 setup.py $BUILD_ARGS > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
lib=$(ls -d build/lib.*)
mkdir -p "$out/tree"
cp -r "$lib"/. "$out/tree/"
for x in $EXCLUDE; do
    find "$out/tree" -name "$x" -prune -exec rm -rf {} +
done
touch "$out/.ok"
echo "== $NAME $VERSION built into $out/tree"
