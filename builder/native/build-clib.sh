#!/bin/sh
# build-clib.sh NAME SRCDIR PREFIX - build one C library of clib-sources.txt
# with emcc into PREFIX (include/, lib/ with a static -fPIC library for
# linking into side modules, lib/pkgconfig/). Built in PREFIX.tmp, renamed
# when complete, so a prefix that exists is whole.
set -eu
name=$1 src=$(cd "$2" && pwd) prefix=$3
work=$prefix.tmp
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
*)
    echo "build-clib.sh: no build for '$name' (clib-sources.txt names it?)" >&2; exit 1 ;;
esac
rm -rf "$work/obj" "$prefix"
touch "$work/.ok"
mv "$work" "$prefix"
echo "== $name in $prefix"
