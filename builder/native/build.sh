#!/bin/bash
# build.sh RECIPE CPYTHON OUTDIR - cross-compile a native package for the
# runtime and write its build tree (the installable files) to OUTDIR/tree.
#
# The package's own build (setup.py) runs on Debian's python3.11 but is
# pointed at the wasm CPython: its sysconfig data (_PYTHON_SYSCONFIGDATA_NAME
# with that directory on PYTHONPATH), its headers first on the include
# path, emcc as the compiler, and extension modules linked as side modules
# (-sSIDE_MODULE=1 -sWASM_BIGINT like the main module; -fvisibility=hidden
# because emscripten 3.1.6 shares function symbols across side modules).
# Sources are downloaded with pip and checked against the recipe's sha256.
set -euo pipefail
recipe=$1 cpy=$(cd "$2" && pwd) out=$3
# shellcheck disable=SC1090
. "$recipe"
pysrc=${LARDER_CACHE:?}/src/python3.11
rm -rf "$out" && mkdir -p "$out/dl" "$out/hosttools"
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
    pythonpath=$pythonpath:$(ls -d "$out"/hosttools/*/ | tail -1)
done
tar -xzf "$sdist" -C "$out"
cd "$out/$NAME-$VERSION"
export NODE_PATH=/usr/share/nodejs
export _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__emscripten_wasm32-emscripten
export PYTHONPATH=$pythonpath
export _PYTHON_HOST_PLATFORM=emscripten-3.1.6-wasm32
export SETUPTOOLS_USE_DISTUTILS=stdlib
export CC=emcc CXX=em++ AR=emar
export LDSHARED="emcc -shared -sSIDE_MODULE=1 -sWASM_BIGINT"
export CFLAGS="-I$cpy/build -I$pysrc/Include -fPIC -fvisibility=hidden -g0"
export CXXFLAGS="$CFLAGS"
export LDFLAGS="-sSIDE_MODULE=1 -sWASM_BIGINT -g0"
# shellcheck disable=SC2086
env $ENV /usr/bin/python3.11 setup.py $BUILD_ARGS > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
lib=$(ls -d build/lib.*)
mkdir -p "$out/tree"
cp -r "$lib"/. "$out/tree/"
if [ -n "${EXCLUDE:-}" ]; then
    find "$out/tree" -type d -name "$EXCLUDE" -prune -exec rm -rf {} +
fi
touch "$out/.ok"
echo "== $NAME $VERSION built into $out/tree"
