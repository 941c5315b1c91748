#!/bin/sh
# link-runtime.sh CPYTHON DEPS LIBFFI OUTDIR OBJ...: link the wasm runtime.
#
# Links the cached CPython objects (CPYTHON/build, flags from its link.env)
# with the loader objects into OUTDIR/python.js + OUTDIR/python.wasm, and
# libffi's JavaScript (LIBFFI/lib/libffi.js: the functions the _ctypes side
# module imports; emscripten 3.1.6 cannot put them in the side module). Unlike
# CPython's own link, no stdlib is preloaded into the module (the JS glue
# writes the core bundle into MEMFS) and the JS is a factory function
# (createLarderPython) that a Web Worker and Node both call.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cpy=$(cd "$1" && pwd) deps=$(cd "$2" && pwd) ffi=$(cd "$3" && pwd) out=$4
shift 4
mkdir -p "$out"
out=$(cd "$out" && pwd)
objs=""
for o in "$@"; do objs="$objs $(cd "$(dirname "$o")" && pwd)/$(basename "$o")"; done
export NODE_PATH=/usr/share/nodejs
PY_LDFLAGS=$(sed -n 's/^PY_LDFLAGS=//p' "$cpy/build/link.env")
# With MAIN_MODULE every input is linked whole-archive, so a library named
# twice (CPython's list has -lz twice) is a duplicate-symbol error: keep the
# first occurrence of each -l and .a.
PY_LIBS=$(sed -n 's/^PY_LIBS=//p' "$cpy/build/link.env" |
          tr ' ' '\n' | awk 'NF && !(/^-l|\.a$/ && seen[$0]++)' | tr '\n' ' ')
cd "$cpy/build"
# shellcheck disable=SC2086
emcc $PY_LDFLAGS -sMAIN_MODULE -O2 -g0 \
    -sMODULARIZE=1 -sEXPORT_NAME=createLarderPython \
    -sENVIRONMENT=web,worker,node \
    -sINVOKE_RUN=0 \
    --js-library "$ffi/lib/libffi.js" \
    -sEXPORTED_RUNTIME_METHODS=FS,ENV,callMain,ccall,UTF8ToString,stringToUTF8,lengthBytesUTF8,addRunDependency,removeRunDependency \
    -o "$out/python.js.tmp.js" $objs $PY_LIBS -L"$deps/lib" -lzstd -lsodium -lcjson
mv "$out/python.js.tmp.wasm" "$out/python.wasm"
sed 's/python\.js\.tmp\.wasm/python.wasm/g' "$out/python.js.tmp.js" > "$out/python.js.tmp2.js"
rm -f "$out/python.js.tmp.js"
# the JS wrappers of the 9,000 exported C functions: unused, 2.5 MB (trim-glue.js);
# kept: what loader/js/larder-runtime.js calls by name
node "$here/trim-glue.js" "$out/python.js.tmp2.js" larder_start larder_run larder_enable_interrupts main malloc free
mv "$out/python.js.tmp2.js" "$out/python.js"
