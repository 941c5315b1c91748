# cross-env.sh - the target every cross-compiled package is built for,
# sourced by build.sh (recipes) and cross-wheel.sh (the generic path), so
# both compile and link the same way. The package's own build runs on
# Debian's python3.11 pointed at the wasm CPython: its sysconfig data
# (_PYTHON_SYSCONFIGDATA_NAME, found on PYTHONPATH, which the caller sets),
# its headers first on the include path, emcc as the compiler, and
# extension modules linked as side modules (-sSIDE_MODULE=1 -sWASM_BIGINT
# like the main module; -fvisibility=hidden because emscripten 3.1.6 shares
# function symbols across side modules).

# cross_flags CPYTHON_TREE PYTHON_SOURCES: the base compile and link flags
# into $flags and $ldflags. emcc links every archive of a side module whole
# (SIDE_MODULE=1 is "linkable"); --no-whole-archive first makes archives
# (libc++, freetype, zlib, numpy's npymath) contribute only what is used.
cross_flags() {
    flags="-I$1/build -I$2/Include -fPIC -fvisibility=hidden -g0"
    ldflags="-Wl,--no-whole-archive -sSIDE_MODULE=1 -sWASM_BIGINT -O2 -g0"
}

# cross_cxx DIR: C++ with exception catching (C++ exceptions become Python
# ones). Side modules get no system library from emscripten, and the main
# module is C and has no libc++: the C++ runtime is linked into each module,
# after its objects, by a wrapper around em++ written to DIR/em++-side; its
# path is printed. (In emscripten 3.1.6 the unsuffixed libc++ is the JS
# exceptions one; "-except" is wasm EH.)
cross_cxx() {
    local lib
    lib=$(dirname "$(command -v emcc)")/../share/emscripten/cache/sysroot/lib/wasm32-emscripten/pic
    [ -f "$lib/libc++.a" ] || lib=/usr/share/emscripten/cache/sysroot/lib/wasm32-emscripten/pic
    mkdir -p "$1"
    cat > "$1/em++-side" <<WRAP
#!/bin/sh
case " \$* " in *" -c "*) exec em++ "\$@" ;; esac
exec em++ "\$@" $lib/libc++.a $lib/libc++abi.a
WRAP
    chmod +x "$1/em++-side"
    echo "$1/em++-side"
}

# cross_numpy_include NUMPY_TREE DIR: the wasm numpy's headers (its sources'
# and those its build generated: _numpyconfig.h says long is 4 bytes there,
# 8 on the host) merged into DIR/numpy, as an installed numpy has them (they
# include each other by quoted names); DIR is printed. Fails when the tree
# (a build.sh OUTDIR of numpy.recipe) has none.
cross_numpy_include() {
    local inc gen
    inc=$(ls -d "$1"/numpy-*/numpy/core/include 2>/dev/null | head -1)
    gen=$(ls -d "$1"/numpy-*/build/src.*/numpy/core/include 2>/dev/null | head -1)
    [ -n "$inc" ] && [ -f "$gen/numpy/_numpyconfig.h" ] || return 1
    mkdir -p "$2"
    cp -r "$inc/numpy" "$2/"
    cp -r "$gen/numpy/." "$2/numpy/"
    echo "$2"
}

# cross_export CXX: the environment of the package's build, from $flags and
# $ldflags, with CXX (em++, or cross_cxx's wrapper) linking.
cross_export() {
    export NODE_PATH=/usr/share/nodejs
    export _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__emscripten_wasm32-emscripten
    export _PYTHON_HOST_PLATFORM=emscripten-3.1.6-wasm32
    export CC=emcc CXX=$1 AR=emar
    export LDSHARED="$1 -shared $ldflags" LDCXXSHARED="$1 -shared $ldflags"
    export CFLAGS="$flags" CXXFLAGS="$flags" LDFLAGS="$ldflags"
}
