#!/bin/sh
# link-runtime.sh CPYTHON DEPS OUTDIR INPUT...: link the wasm runtime.
#
# Links the cached CPython objects (CPYTHON/build, flags from its link.env)
# with the loader objects into OUTDIR/python.js + OUTDIR/python.wasm. An
# INPUT ending in .js is a JS library linked into python.js (libffi's, whose
# functions the _ctypes side module imports because emscripten 3.1.6 cannot
# put them in a side module; the js module's, loader/js/jsffi-library.js).
# Unlike CPython's own link, no stdlib is preloaded into the module (the JS
# glue writes the core bundle into MEMFS) and the JS is a factory function
# (createLarderPython) that a Web Worker and Node both call.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cpy=$(cd "$1" && pwd) deps=$(cd "$2" && pwd) out=$3
shift 3
mkdir -p "$out"
out=$(cd "$out" && pwd)
objs="" jslibs=""
for o in "$@"; do
    abs=$(cd "$(dirname "$o")" && pwd)/$(basename "$o")
    case $o in
    *.js) jslibs="$jslibs --js-library $abs" ;;
    *) objs="$objs $abs" ;;
    esac
done
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
    $jslibs \
    -sEXPORTED_RUNTIME_METHODS=FS,ENV,callMain,ccall,UTF8ToString,stringToUTF8,lengthBytesUTF8,addRunDependency,removeRunDependency \
    -o "$out/python.js.tmp.js" $objs $PY_LIBS -L"$deps/lib" -lzstd -lsodium -lcjson
mv "$out/python.js.tmp.wasm" "$out/python.wasm"
sed 's/python\.js\.tmp\.wasm/python.wasm/g' "$out/python.js.tmp.js" > "$out/python.js.tmp2.js"
rm -f "$out/python.js.tmp.js"
# the JS wrappers of the 9,000 exported C functions: unused, 2.5 MB (trim-glue.js);
# kept: what loader/js/larder-runtime.js and jsffi-library.js call by name
node "$here/trim-glue.js" "$out/python.js.tmp2.js" larder_start larder_run larder_result larder_run_error larder_page_call larder_enable_interrupts larder_warm_up larder_jsffi_call main malloc free
mv "$out/python.js.tmp2.js" "$out/python.js"
