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
#
# MAIN_MODULE=2: the module exports CPython's own symbols (the C API, every
# external symbol of its objects) and the names of exports.txt (what the
# published side modules import from libc, libm, zlib and the JS library),
# and the linker drops everything else. OUTDIR/python.symbols lists every
# exported name: larder-mirror publish checks side modules against it.
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
# A library named twice (CPython's list has -lz twice) is a duplicate-symbol
# error when inputs are linked whole: keep the first occurrence of each -l and .a.
PY_LIBS=$(sed -n 's/^PY_LIBS=//p' "$cpy/build/link.env" |
          tr ' ' '\n' | awk 'NF && !(/^-l|\.a$/ && seen[$0]++)' | tr '\n' ' ')
# what the runtime's own JS calls by name (larder-runtime.js, jsffi-library.js)
called="larder_start larder_start_loader larder_run larder_result larder_run_error larder_page_call larder_enable_interrupts
larder_warm_up larder_jsffi_call main malloc free"
cd "$cpy/build"
# shellcheck disable=SC2086
{ emnm --defined-only --extern-only -j $(printf '%s\n' $PY_LIBS | grep '\.o$') 2> "$out/nm.log" | grep -v ':$' | grep -v '^__em_js__'
  grep -v '^#' "$here/exports.txt"
  printf '%s\n' $called; } | awk 'NF' | LC_ALL=C sort -u > "$out/python.symbols.tmp"
# (two objects define nothing: said, harmless)
grep -v ': no symbols$' "$out/nm.log" >&2 || true
rm -f "$out/nm.log"
# EXPORTED_FUNCTIONS names wasm exports and JS library functions alike; the
# JS ones must also be asked for (a name that is not one is ignored there)
sed 's/.*/"_&"/' "$out/python.symbols.tmp" | paste -sd, | sed 's/^/[/; s/$/]/' > "$out/exports.json.tmp"
sed 's/.*/"&"/' "$out/python.symbols.tmp" | paste -sd, | sed 's/^/[/; s/$/]/' > "$out/library.json.tmp"
# em++: the exception support side modules' C++ needs (__cxa_throw and the
# rest are JS in emscripten 3.1.6; __cxa_can_catch comes from libc++abi)
# shellcheck disable=SC2086
em++ $PY_LDFLAGS -sMAIN_MODULE=2 -O2 -g0 \
    -sMODULARIZE=1 -sEXPORT_NAME=createLarderPython \
    -sENVIRONMENT=web,worker,node \
    -sINVOKE_RUN=0 \
    $jslibs \
    -sEXPORTED_FUNCTIONS=@"$out/exports.json.tmp" -sDEFAULT_LIBRARY_FUNCS_TO_INCLUDE=@"$out/library.json.tmp" \
    -sEXPORTED_RUNTIME_METHODS=FS,ENV,callMain,ccall,UTF8ToString,stringToUTF8,lengthBytesUTF8,addRunDependency,removeRunDependency \
    -o "$out/python.js.tmp.js" $objs $PY_LIBS -L"$deps/lib" -lzstd -lsodium -lcjson -lz 2> "$out/link.log" ||
    { grep -v 'depends on internal symbol' "$out/link.log" >&2; exit 1; }
# libffi's JS library uses emscripten's table helpers: said on every link, harmless
grep -v 'depends on internal symbol' "$out/link.log" >&2 || true
rm -f "$out/exports.json.tmp" "$out/library.json.tmp" "$out/link.log"
mv "$out/python.symbols.tmp" "$out/python.symbols"
mv "$out/python.js.tmp.wasm" "$out/python.wasm"
sed 's/python\.js\.tmp\.wasm/python.wasm/g' "$out/python.js.tmp.js" > "$out/python.js.tmp2.js"
rm -f "$out/python.js.tmp.js"
# the data relocations of a position-independent main module, applied here
# rather than at every start (the glue places the module at a fixed base)
node "$here/apply-relocs.js" "$out/python.wasm" "$out/python.js.tmp2.js"
# the JS wrappers of the 2,700 exported C functions: unused, 0.4 MB (trim-glue.js);
# kept: what loader/js/larder-runtime.js and jsffi-library.js call by name
# shellcheck disable=SC2086
node "$here/trim-glue.js" "$out/python.js.tmp2.js" $called
# the dynamic linker: GOT entries made when first needed, only the new ones resolved
# after a dlopen, an undefined symbol failing only its library (patch-dylink.js)
node "$here/patch-dylink.js" "$out/python.js.tmp2.js"
mv "$out/python.js.tmp2.js" "$out/python.js"
