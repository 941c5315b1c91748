#!/bin/sh
# build-ext-lib.sh NAME SRCDIR PREFIX - build one C library of the stdlib's
# extension modules (ext-sources.txt) with emcc into PREFIX/include and
# PREFIX/lib, for linking into side modules.
#
#   libffi   the wasm32 port, patched for emscripten 3.1.6 (see the patch);
#            also writes PREFIX/lib/libffi.js, the port's JavaScript as a
#            JS library for the main module's link (emjs-library.py)
#   openssl  libcrypto and libssl only: no-asm no-shared no-dso no-engine,
#            and without the protocols and algorithms that _hashlib and _ssl
#            do not reach (DTLS, SRP, CMS, CT, OCSP, TS, the national
#            ciphers...). With threads: CPython refuses an OpenSSL without
#            OPENSSL_THREADS, and emscripten's libc (no pthreads) gives
#            single-threaded locks that cost nothing.
#
# Every object is -fPIC -fvisibility=hidden: the library is linked whole
# into each module that uses it (_hashlib and _ssl both carry libcrypto),
# and emscripten 3.1.6 binds a symbol exported by two side modules to the
# first one loaded, which would mix two copies' global state. Built in
# PREFIX.tmp, renamed when complete.
set -eu
name=$1 src=$(cd "$2" && pwd) prefix=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$prefix.tmp
export NODE_PATH=/usr/share/nodejs
rm -rf "$work"
mkdir -p "$work/obj"
cd "$work/obj"
flags="-O2 -fPIC -fvisibility=hidden"

case $name in
libffi)
    # Debian's tree has no generated configure; ours is patched first.
    cp -r "$src" ffi-src
    patch -d ffi-src -p1 --quiet < "$here/libffi-side-module.patch"
    (cd ffi-src && autoreconf -fi > ../autoreconf.log 2>&1) || { tail -20 autoreconf.log; exit 1; }
    mkdir build && cd build
    CFLAGS="$flags" emconfigure ../ffi-src/configure --host=wasm32-unknown-emscripten \
        --prefix="$work" --enable-static --disable-shared --disable-dependency-tracking \
        --disable-builddir --disable-multi-os-directory --disable-raw-api --disable-docs \
        > configure.log 2>&1 || { tail -20 configure.log; exit 1; }
    grep -q '^TARGET = wasm32$' Makefile || { echo "build-ext-lib: libffi did not configure its wasm32 port" >&2; exit 1; }
    emmake make -j2 > make.log 2>&1 || { tail -20 make.log; exit 1; }
    emmake make install > install.log 2>&1 || { tail -20 install.log; exit 1; }
    # the JavaScript half: the port's EM_JS bodies with their macros expanded
    emcc -E -DLARDER_EMIT_JS -DHAVE_CONFIG_H -I. -Iinclude -I../ffi-src/include -I../ffi-src/src \
        ../ffi-src/src/wasm32/ffi.c -o ffi-js.i
    /usr/bin/python3.11 "$here/emjs-library.py" ffi-js.i '$getWasmTableEntry,$setWasmTableEntry' \
        "$work/lib/libffi.js"
    ;;
openssl)
    cp -r "$src" ssl-src && cd ssl-src
    CC=emcc AR=emar RANLIB=emranlib ./Configure linux-generic32 \
        no-asm no-shared no-dso no-engine no-afalgeng no-async no-ui-console \
        no-tests no-secure-memory no-comp no-dtls no-srp no-gost no-idea no-mdc2 no-rc5 \
        no-seed no-whirlpool no-cmp no-cms no-ct no-ts no-srtp no-camellia no-aria no-sm2 \
        no-sm4 no-ocsp no-rfc3779 no-siphash no-siv no-ec2m \
        --prefix="$work" --openssldir=/etc/ssl $flags > configure.log 2>&1 ||
        { tail -20 configure.log; exit 1; }
    make -j2 build_generated libcrypto.a libssl.a > make.log 2>&1 || { tail -20 make.log; exit 1; }
    mkdir -p "$work/lib" "$work/include"
    cp libcrypto.a libssl.a "$work/lib/"
    cp -r include/openssl "$work/include/"
    ;;
*)
    echo "build-ext-lib: unknown library $name (libffi or openssl)" >&2; exit 1 ;;
esac

rm -rf "$work/obj" "$work/lib/pkgconfig" "$work/lib"/*.la "$work/share" "$prefix"
touch "$work/.ok"
mv "$work" "$prefix"
echo "== $name for wasm in $prefix"
