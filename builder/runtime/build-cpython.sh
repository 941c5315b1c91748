#!/bin/sh
# build-cpython.sh: cross-compile CPython 3.11.2 for wasm32-emscripten.
#
#   build-cpython.sh PYSRC DEPS PREFIX
#
# PYSRC is the unpacked Debian python3.11 source (upstream 3.11.2), DEPS the
# emcc-built libraries from build-deps.sh, PREFIX the output: the configured
# and built tree (libpython3.11.a, the module libraries, pyconfig.h, the
# sysconfig data) plus link.env, the flags the final link needs. The final
# link of python.js/python.wasm is not done here: the top-level Makefile links
# the cached libpython with the loader (loader/), so loader changes never
# rebuild CPython.
#
# The build python is Debian's /usr/bin/python3.11 (the same 3.11.2), so no
# native CPython build is needed. The tree is built in place (CPython's
# Makefile and sysconfig data record absolute paths); PREFIX/.ok marks it
# complete, and a partial tree is wiped by the next run. The emscripten target is "browser": MEMFS,
# no NODERAWFS, which is also what the runtime uses under Node.
set -eu
pysrc=$(cd "$1" && pwd) deps=$(cd "$2" && pwd) prefix=$3
here=$(cd "$(dirname "$0")" && pwd)
export NODE_PATH=/usr/share/nodejs
rm -rf "$prefix"
mkdir -p "$prefix/build"
cd "$prefix/build"

cat "$pysrc/Tools/wasm/config.site-wasm32-emscripten" "$here/config.site-larder" > config.site
export CONFIG_SITE="$PWD/config.site"
inc="-I$deps/include" lib="-L$deps/lib"
export ZLIB_CFLAGS="$inc" ZLIB_LIBS="$lib -lz"
export BZIP2_CFLAGS="$inc" BZIP2_LIBS="$lib -lbz2"
export LIBLZMA_CFLAGS="$inc" LIBLZMA_LIBS="$lib -llzma"
export LIBSQLITE3_CFLAGS="$inc" LIBSQLITE3_LIBS="$lib -lsqlite3"

# CPython's call trampoline for Emscripten (3.11 has it, off unless
# PY_CALL_TRAMPOLINE is defined; 3.12 turns it on): C methods, getters,
# setters and module init functions are called through JS, which tolerates
# a function cast to a type with more parameters than it declares. wasm's
# call_indirect traps on such casts, and third-party extensions have them
# (kiwisolver 1.4.4's strength getters take one argument: reading
# kiwisolver.strength.strong traps without it). CFLAGS_NODIST: the
# interpreter's build only, not the flags extension modules are built with.
export CFLAGS_NODIST="-DPY_CALL_TRAMPOLINE"
echo "== configure (slow: every probe is an emcc link)"
emconfigure "$pysrc/configure" -C \
    --host=wasm32-unknown-emscripten \
    --build="$("$pysrc/config.guess")" \
    --with-emscripten-target=browser \
    --enable-wasm-dynamic-linking \
    --with-build-python=/usr/bin/python3.11 \
    --prefix=/usr/local > configure.log 2>&1 || { tail -30 configure.log; exit 1; }

# Extension modules that starting Python does not need are built as side
# modules (loaded with dlopen from lib-dynload when first imported) instead
# of being linked into python.wasm: move their lines from the static part
# of the generated Setup.stdlib to its *shared* section.
# Every module of Setup.stdlib's static part is one: none is imported at
# startup (that needs only Setup.bootstrap's), and each costs first-load bytes
# (_pickle, _datetime, _blake2, _asyncio, _socket, math... 1.2 MB of wasm).
LAZY_MODULES="_decimal _sqlite3 unicodedata pyexpat _elementtree _lzma _bz2 _multibytecodec
 _codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw
 array _asyncio _bisect _contextvars _csv _heapq _json _lsprof _opcode _pickle _queue _random
 _struct _typing _zoneinfo audioop math cmath _statistics _datetime binascii zlib _md5 _sha1
 _sha256 _sha512 _sha3 _blake2 _crypt mmap select _socket"
awk -v lazy="$LAZY_MODULES" '
    BEGIN { n = split(lazy, l, /[ \n]+/); for (i = 1; i <= n; i++) want[l[i]] = 1 }
    want[$1] { moved = moved $0 "\n"; next }
    { print }
    END { printf "\n# larder: lazily loaded side modules\n*shared*\n%s", moved }
' Modules/Setup.stdlib > Modules/Setup.stdlib.larder
for m in $LAZY_MODULES; do
    grep -q "^$m " Modules/Setup.stdlib.larder || { echo "build-cpython: module $m not in Setup.stdlib" >&2; exit 1; }
done
mv Modules/Setup.stdlib.larder Modules/Setup.stdlib

echo "== make"
# MODULE_BINASCII_LDFLAGS=: with MAIN_MODULE every input is linked whole-archive
# and -lz would otherwise appear twice.
emmake make -j"$(nproc)" MODULE_BINASCII_LDFLAGS= > make.log 2>&1 || { tail -40 make.log; exit 1; }

# Record what the final link needs, resolved by CPython's own Makefile.
make -s --no-print-directory -f Makefile -f - larder-link-env > link.env <<'MK'
larder-link-env:
	@echo 'PY_LDFLAGS=$(PY_CORE_LDFLAGS)'
	@echo 'PY_LINKFORSHARED=$(LINKFORSHARED)'
	@echo 'PY_LIBS=$(LINK_PYTHON_OBJS) $(LIBS) $(MODLIBS) $(SYSLIBS)'
	@echo 'PY_SYSCONFIGDATA=$(shell cat pybuilddir.txt)/_sysconfigdata_$(ABIFLAGS)_$(MACHDEP)_$(MULTIARCH).py'
MK
cat link.env
touch "$prefix/.ok"
echo "== CPython for wasm ready in $prefix"
