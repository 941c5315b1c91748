#!/bin/sh
# build-deps.sh: build the C libraries the wasm runtime links, with emcc,
# from the Debian source trees that fetch-source.sh unpacked.
#
#   build-deps.sh SRCDIR PREFIX
#
# SRCDIR holds one unpacked tree per package (zlib, bzip2, xz-utils, sqlite3,
# libzstd, libsodium, cjson). PREFIX receives include/ and lib/*.a. Everything
# is compiled -fPIC so it can go into a MAIN_MODULE or a SIDE_MODULE. The
# build happens in PREFIX.tmp and is renamed to PREFIX only when complete.
set -eu
src=$(cd "$1" && pwd) prefix=$2
work=$prefix.tmp
export NODE_PATH=/usr/share/nodejs
CFLAGS="-O2 -fPIC"
rm -rf "$work"
mkdir -p "$work/include" "$work/lib" "$work/obj"
cd "$work/obj"

# compile NAME FILE...: compile sources into lib/libNAME.a
compile() {
    name=$1; shift
    mkdir -p "$name"
    for f in "$@"; do
        emcc $CFLAGS $EXTRA -c "$f" -o "$name/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')"
    done
    emar rcs "$work/lib/lib$name.a" "$name"/*.o
}

echo "== zlib"
z=$src/zlib
EXTRA="-DHAVE_UNISTD_H -DHAVE_STDARG_H"
compile z $(ls "$z"/*.c | grep -v -e example -e minigzip)
cp "$z/zlib.h" "$z/zconf.h" "$work/include/"

echo "== bzip2"
b=$src/bzip2
EXTRA="-D_FILE_OFFSET_BITS=64"
compile bz2 "$b/blocksort.c" "$b/huffman.c" "$b/crctable.c" "$b/randtable.c" \
    "$b/compress.c" "$b/decompress.c" "$b/bzlib.c"
cp "$b/bzlib.h" "$work/include/"

echo "== libzstd (common + decompress; compression is host-side only)"
zs=$src/libzstd/lib
EXTRA="-DZSTD_DISABLE_ASM -DXXH_NAMESPACE=ZSTD_ -DZSTD_LEGACY_SUPPORT=0"
compile zstd "$zs"/common/*.c "$zs"/decompress/*.c
cp "$zs/zstd.h" "$zs/zstd_errors.h" "$work/include/"

echo "== sqlite3 (amalgamation generated natively, compiled with emcc)"
rm -rf sqlite-gen && mkdir sqlite-gen && cd sqlite-gen
"$src/sqlite3/configure" --disable-tcl --disable-readline >/dev/null
make -s sqlite3.c >/dev/null 2>&1
cd ..
EXTRA="-DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_THREADSAFE=0 -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_JSON1 -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_DQS=0"
compile sqlite3 sqlite-gen/sqlite3.c
cp sqlite-gen/sqlite3.h "$work/include/"

echo "== xz-utils (liblzma)"
rm -rf xz && mkdir xz && cd xz
CFLAGS="$CFLAGS" emconfigure "$src/xz-utils/configure" --host=wasm32-unknown-emscripten \
    --prefix="$work" --disable-shared --enable-static --disable-threads --disable-nls \
    --disable-xz --disable-xzdec --disable-lzmadec --disable-lzmainfo --disable-lzma-links \
    --disable-scripts --disable-doc >/dev/null
emmake make -s -j2 -C src/liblzma >/dev/null
emmake make -s -C src/liblzma install >/dev/null
cd ..

echo "== libsodium (minimal: SHA-256, Ed25519)"
# Debian's source ships no generated configure: regenerate it in a copy.
rm -rf sodium-src sodium && cp -r "$src/libsodium" sodium-src && mkdir sodium
(cd sodium-src && autoreconf -fi >/dev/null 2>&1)
cd sodium
CFLAGS="$CFLAGS" emconfigure ../sodium-src/configure --host=wasm32-unknown-emscripten \
    --prefix="$work" --disable-shared --enable-static --enable-minimal --disable-asm \
    --without-pthreads --disable-ssp --disable-pie >/dev/null
emmake make -s -j2 -C src/libsodium >/dev/null
emmake make -s -C src/libsodium install >/dev/null
cd ..

echo "== cJSON"
EXTRA=""
compile cjson "$src/cjson/cJSON.c"
mkdir -p "$work/include/cjson"
cp "$src/cjson/cJSON.h" "$work/include/cjson/"

rm -rf "$work/obj" "$work/lib/pkgconfig" "$work/share" "$work/lib"/*.la
rm -rf "$prefix"
mv "$work" "$prefix"
echo "== wasm libraries ready in $prefix"
