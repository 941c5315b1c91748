#!/bin/sh
# build-ext-modules.sh CPYTHON LIBFFI OPENSSL OUTDIR - build the stdlib
# extension modules whose C libraries CPython's own build does not have:
# _ctypes (libffi), _hashlib and _ssl (OpenSSL), as side modules in
# OUTDIR/*.so, with the compiler flags CPython's Makefile gives its own
# shared stdlib modules (read from the cached build tree). They are loaded
# like the others: from lib-dynload, when first imported (the stdlib split
# puts _ctypes in ctypes, _ssl in ssl, _hashlib in a package of its own).
#
# Nothing here goes into python.wasm. The main module gains only libffi's
# JavaScript (LIBFFI/lib/libffi.js, linked into python.js by
# link-runtime.sh), which _ctypes imports.
set -eu
cpy=$(cd "$1" && pwd) ffi=$(cd "$2" && pwd) ssl=$(cd "$3" && pwd) out=$4
export NODE_PATH=/usr/share/nodejs
rm -rf "$out.tmp"
mkdir -p "$out.tmp/obj"
out_tmp=$(cd "$out.tmp" && pwd)

cd "$cpy/build"
vars=$(make -s --no-print-directory -f Makefile -f - larder-vars <<'MK'
larder-vars:
	@echo 'cflags="$(PY_STDMODULE_CFLAGS) $(CCSHARED)"'
	@echo 'srcdir="$(srcdir)"'
	@echo 'suffix="$(EXT_SUFFIX)"'
MK
)
eval "$vars"
# -g0: no debug sections in what users download
ldflags="-Wl,--no-whole-archive -sSIDE_MODULE=1 -sWASM_BIGINT -O2 -g0"

# module NAME EXTRA_CFLAGS LIBS SOURCES...
module() {
    name=$1 extra=$2 libs=$3; shift 3
    objs=""
    for f in "$@"; do
        o=$out_tmp/obj/$name-$(basename "${f%.c}").o
        # shellcheck disable=SC2086
        emcc $cflags $extra -g0 -c "$srcdir/Modules/$f" -o "$o"
        objs="$objs $o"
    done
    # shellcheck disable=SC2086
    emcc $ldflags -o "$out_tmp/$name$suffix" $objs $libs
    echo "   $name$suffix: $(wc -c < "$out_tmp/$name$suffix") bytes"
}

echo "== _ctypes (libffi)"
# what setup.py would find in ffi.h
module _ctypes "-I$ffi/include -DHAVE_FFI_PREP_CIF_VAR=1 -DHAVE_FFI_PREP_CLOSURE_LOC=1 -DHAVE_FFI_CLOSURE_ALLOC=1" \
    "$ffi/lib/libffi.a" \
    _ctypes/_ctypes.c _ctypes/callbacks.c _ctypes/callproc.c _ctypes/stgdict.c _ctypes/cfield.c
echo "== _hashlib and _ssl (OpenSSL, each with its own copy of libcrypto)"
module _hashlib "-I$ssl/include" "$ssl/lib/libcrypto.a" _hashopenssl.c
module _ssl "-I$ssl/include" "$ssl/lib/libssl.a $ssl/lib/libcrypto.a" _ssl.c

rm -rf "$out_tmp/obj" "$out"
touch "$out_tmp/.ok"
mv "$out_tmp" "$out"
