#!/bin/sh
# build-clibs.sh SRCDIR PREFIX - build the C libraries of native packages
# (builder/native/sources.txt) with emcc into PREFIX/include and PREFIX/lib.
# Everything is -fPIC, for linking into side modules. Built in PREFIX.tmp,
# renamed when complete.
set -eu
src=$(cd "$1" && pwd) prefix=$2
work=$prefix.tmp
export NODE_PATH=/usr/share/nodejs
rm -rf "$work"
mkdir -p "$work/include" "$work/lib" "$work/obj"

echo "== freetype (no zlib, bzip2, png, brotli or harfbuzz: the fonts matplotlib ships need none)"
mkdir "$work/obj/freetype" && cd "$work/obj/freetype"
emconfigure "$src/freetype/configure" --host=wasm32-unknown-emscripten --prefix="$work" \
    --enable-static --disable-shared --with-zlib=no --with-bzip2=no --with-png=no \
    --with-harfbuzz=no --with-brotli=no CFLAGS="-O2 -fPIC" > configure.log 2>&1 ||
    { tail -20 configure.log; exit 1; }
emmake make -j2 > make.log 2>&1 || { tail -20 make.log; exit 1; }
emmake make install > install.log 2>&1 || { tail -20 install.log; exit 1; }

echo "== qhull (the reentrant libqhull_r matplotlib uses)"
q=$src/qhull/src/libqhull_r
mkdir "$work/obj/qhull" "$work/include/libqhull_r" && cd "$work/obj/qhull"
for f in "$q"/*.c; do
    case $f in *rbox_r.c|*testqset_r.c|*user_eg*) continue ;; esac
    emcc -O2 -fPIC -c "$f" -o "$(basename "${f%.c}").o"
done
emar rcs "$work/lib/libqhull_r.a" ./*.o
cp "$q"/*.h "$work/include/libqhull_r/"

# the pkg-config files name the directory they will be in
sed -i "s|$work|$prefix|g" "$work"/lib/pkgconfig/*.pc
touch "$work/.ok"
rm -rf "$work/obj" "$prefix"
mv "$work" "$prefix"
echo "== C libraries in $prefix"
