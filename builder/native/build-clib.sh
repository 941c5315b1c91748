#!/bin/sh
# build-clib.sh NAME SRCDIR PREFIX [DEP_PREFIX...] - build one C library of
# clib-sources.txt with emcc into PREFIX (include/, lib/ with static -fPIC
# libraries for linking into side modules, lib/pkgconfig/, and bin/ with
# the library's *-config script where it has one), against the prefixes of
# the libraries it needs. Built in PREFIX.tmp, renamed when complete, so a
# prefix that exists is whole.
set -eu
name=$1 src=$(cd "$2" && pwd) prefix=$3
shift 3
work=$prefix.tmp
# autotools: in a copy of the source tree, regenerated, whose config.sub
# and config.guess are Debian's (autotools-dev; older releases' do not know
# emscripten, the way dh_update_autotools_config does it), static and -fPIC
# only; a failure shows the end of the step's log
autotools() {
    cp -a "$src/." .
    # regenerated with Debian's autotools: the Debian patches leave the
    # generated files older than their sources (make would rerun automake),
    # and libxslt's tarball has libtool 2.4.7's macros against Debian 12's 2.4.6
    autoreconf -fi > reconf.log 2>&1 || { tail -20 reconf.log; exit 1; }
    find . -name config.sub -exec cp /usr/share/misc/config.sub {} \;
    find . -name config.guess -exec cp /usr/share/misc/config.guess {} \;
    emconfigure ./configure --host=wasm32-unknown-emscripten --prefix="$work" --enable-static \
        --disable-shared --with-pic CFLAGS="-O2 -fPIC" "$@" > configure.log 2>&1 || { tail -20 configure.log; exit 1; }
    emmake make -j2 > make.log 2>&1 || { tail -20 make.log; exit 1; }
    emmake make install > install.log 2>&1 || { tail -20 install.log; exit 1; }
}
export NODE_PATH=/usr/share/nodejs
rm -rf "$work"
mkdir -p "$work/include" "$work/lib/pkgconfig" "$work/obj"
cd "$work/obj"
case $name in
libyaml)
    # upstream's build is autotools without a generated configure in the
    # Debian source; the library is its six C files and one header
    v=$(sed -n 's/^m4_define(\[YAML_\(MAJOR\|MINOR\|PATCH\)\], \([0-9]*\))/\2/p' "$src/configure.ac" | tr '\n' '.')
    v=${v%.}
    set -- $(echo "$v" | tr . ' ')
    for f in "$src"/src/*.c; do
        emcc -O2 -fPIC -I"$src/include" -DYAML_VERSION_MAJOR="$1" -DYAML_VERSION_MINOR="$2" \
            -DYAML_VERSION_PATCH="$3" -DYAML_VERSION_STRING="\"$v\"" -c "$f" -o "$(basename "${f%.c}").o"
    done
    emar rcs "$work/lib/libyaml.a" ./*.o
    cp "$src/include/yaml.h" "$work/include/"
    printf 'prefix=%s\nName: yaml-0.1\nDescription: libyaml %s (wasm)\nVersion: %s\nCflags: -I${prefix}/include\nLibs: -L${prefix}/lib -lyaml\n' \
        "$prefix" "$v" "$v" > "$work/lib/pkgconfig/yaml-0.1.pc" ;;
libxml2)
    # what lxml needs: no Python bindings, threads, network, compression
    # or ICU (the encodings are libc's iconv)
    autotools --without-python --without-threads --without-thread-alloc --without-http --without-ftp \
        --without-lzma --without-zlib --without-icu --without-debug --without-modules
    # libc's iconv goes into libxml2.a, so the modules that convert encodings
    # link their own copy: python.wasm does not export it (its 150 KB of
    # charset tables would be in every page's first load)
    emar x "$(dirname "$(command -v emcc)")/../share/emscripten/cache/sysroot/lib/wasm32-emscripten/pic/libc.a" \
        iconv.o iconv_close.o
    emar rs "$work/lib/libxml2.a" iconv.o iconv_close.o ;;
libxslt)
    autotools --without-python --without-crypto --without-debug --without-debugger --without-plugins \
        --with-libxml-prefix="${1:?build-clib.sh: libxslt needs the libxml2 prefix}" LDFLAGS="-L$1/lib" ;;
*)
    echo "build-clib.sh: no build for '$name' (clib-sources.txt names it?)" >&2; exit 1 ;;
esac
# the install names the directory it was built in: name the final one
grep -rlI "$work" "$work" 2>/dev/null | while read -r f; do sed -i "s|$work|$prefix|g" "$f"; done
rm -rf "$work/obj" "$work/share" "$prefix"
touch "$work/.ok"
mv "$work" "$prefix"
echo "== $name in $prefix"
