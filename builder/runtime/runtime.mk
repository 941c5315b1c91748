# runtime.mk - included by the top-level Makefile: the wasm runtime in
# $(B)/runtime (python.js, python.wasm, the stdlib bundles, the JS glue).

RUNTIME := $(B)/runtime
GEN := $(B)/gen
WASM_OBJ := $(B)/wasm-obj
PYSRC := $(SRC)/python3.11
BUILD_PYTHON := /usr/bin/python3.11

WASM_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -fPIC -Wall -Wextra -Werror \
	-I$(CPY)/build -I$(PYSRC)/Include -I$(DEPS)/include -I$(GEN)
LOADER_SRCS := loader/main.c loader/module.c loader/index_object.c loader/loader_object.c \
	loader/fetch.c loader/pipeline.c loader/untar.c loader/cache.c loader/install.c loader/jsffi.c loader/trampoline.c \
	$(INDEX_SRCS)
LOADER_OBJS := $(patsubst %.c,$(WASM_OBJ)/%.o,$(LOADER_SRCS))
LOADER_HDRS := loader/loader.h loader/module.h $(INDEX_HDRS) $(GEN)/selftest_vector.h

RUNTIME_FILES := $(RUNTIME)/python.js $(RUNTIME)/python.wasm $(RUNTIME)/python.symbols \
	$(RUNTIME)/python311.zip $(RUNTIME)/stdlib-full.zip $(RUNTIME)/lib-dynload/index.txt \
	$(RUNTIME)/larder-runtime.js $(RUNTIME)/worker.js $(RUNTIME)/fetch-helper.js $(RUNTIME)/larder.js \
	$(RUNTIME)/larder-python

runtime: $(RUNTIME_FILES) $(B)/stdlib/.ok

# The stdlib's Python files as the runtime ships them: CPython's Lib with
# the patches of lib-patches/ (Python only, each saying why), applied to a
# copy here rather than to the source tree, so that they are not part of
# CPython's cache key and changing one rebuilds nothing but the bundles.
PYLIB := $(B)/lib
PYLIB_PATCHES := $(sort $(wildcard $(RT)/lib-patches/*.patch))
$(PYLIB)/.ok: $(PYLIB_PATCHES) | $(CPY)/.ok
	@rm -rf $(@D) && mkdir -p $(@D)
	cp -r $(PYSRC)/Lib/. $(@D)/
	@for p in $(PYLIB_PATCHES); do patch -d $(@D) -p1 --quiet --no-backup-if-mismatch < $$p || exit 1; done
	@touch $@

# The stdlib modules CPython's build leaves out for want of their C library
# (_ctypes: libffi; _hashlib, _ssl: OpenSSL), built against the cached
# CPython from Debian sources of their own (ext-sources.txt). Each library
# is cached under a key of its pinned version and build files, the modules
# under one of theirs and of everything they are built from.
EXT_SOURCES := $(shell grep -v '^\#' $(RT)/ext-sources.txt)
ext_lib_key = $(call strhash,$(filter $(1)=%,$(EXT_SOURCES)))-$(call hash,$(RT)/build-ext-lib.sh $(2))-$(EMCC_VERSION)
LIBFFI := $(LARDER_CACHE)/wasm-libffi-$(call ext_lib_key,libffi,$(RT)/libffi-side-module.patch $(RT)/emjs-library.py)
OPENSSL := $(LARDER_CACHE)/wasm-openssl-$(call ext_lib_key,openssl)
EXT := $(LARDER_CACHE)/stdlib-ext-$(call strhash,$(call hash,$(RT)/build-ext-modules.sh)-$(LIBFFI)-$(OPENSSL)-$(CPY_KEY))
$(LIBFFI)/.ok: | $(call src_stamp,$(filter libffi=%,$(EXT_SOURCES)))
	$(RT)/build-ext-lib.sh libffi $(SRC)/libffi $(@D)
$(OPENSSL)/.ok: | $(call src_stamp,$(filter openssl=%,$(EXT_SOURCES)))
	$(RT)/build-ext-lib.sh openssl $(SRC)/openssl $(@D)
$(EXT)/.ok: $(CPY)/.ok $(LIBFFI)/.ok $(OPENSSL)/.ok
	$(RT)/build-ext-modules.sh $(CPY) $(LIBFFI) $(OPENSSL) $(@D)

# The stdlib's side modules (built by CPython as SIDE_MODULEs; xxlimited*
# are CPython's own API examples and stay out). index.txt lists them for the
# interim full-stdlib mode of larder-runtime.js.
$(RUNTIME)/lib-dynload/index.txt: $(CPY)/.ok $(EXT)/.ok
	@rm -rf $(@D) && mkdir -p $(@D)
	cp $$(ls $(CPY)/build/Modules/*.so | grep -v /xxlimited) $(EXT)/*.so $(@D)/
	cd $(@D) && ls *.so > index.txt

# The stdlib split: one cpython_module package per top-level module
# outside the core.
$(B)/stdlib/.ok: $(B)/bin/larder-build $(RT)/core-modules.txt $(RUNTIME)/lib-dynload/index.txt $(PYLIB)/.ok
	@rm -rf $(@D) && mkdir -p $(@D)
	$(B)/bin/larder-build stdlib -q -o $(@D) --lib $(PYLIB) --core $(RT)/core-modules.txt \
		--dynload $(RUNTIME)/lib-dynload --sysconfigdata $(SYSCONFIGDATA)
	@touch $@

$(GEN)/selftest_vector.h: $(RT)/gen-selftest.sh | $(CPY)/.ok
	@mkdir -p $(@D)
	$(RT)/gen-selftest.sh $(PYSRC)/LICENSE $@

$(WASM_OBJ)/%.o: %.c $(LOADER_HDRS) $(CPY)/.ok
	@mkdir -p $(@D)
	NODE_PATH=/usr/share/nodejs emcc $(WASM_CFLAGS) -c $< -o $@

# python.wasm and python.symbols are written by the same command as python.js
$(RUNTIME)/python.wasm $(RUNTIME)/python.symbols: $(RUNTIME)/python.js
JS_LIBRARIES := $(LIBFFI)/lib/libffi.js loader/js/jsffi-library.js
$(RUNTIME)/python.js: $(LOADER_OBJS) $(RT)/link-runtime.sh $(RT)/exports.txt $(RT)/trim-glue.js $(RT)/apply-relocs.js \
		$(RT)/patch-dylink.js $(CPY)/.ok $(LIBFFI)/.ok \
		loader/js/jsffi-library.js
	$(RT)/link-runtime.sh $(CPY) $(DEPS) $(RUNTIME) $(LOADER_OBJS) $(JS_LIBRARIES)

SYSCONFIGDATA = $(CPY)/build/$(shell sed -n 's/^PY_SYSCONFIGDATA=//p' $(CPY)/build/link.env 2>/dev/null)

# The core bundle: only what starting the interpreter needs.
CORE_PYTHON := loader/python/larder.py loader/python/larder_matplotlib.py loader/python/larder_page.py \
	loader/python/js.py loader/python/pyodide
$(RUNTIME)/python311.zip: $(RT)/stdlib-bundle.py $(RT)/core-modules.txt $(CORE_PYTHON) $(wildcard loader/python/pyodide/*.py) \
		$(CPY)/.ok $(PYLIB)/.ok
	@mkdir -p $(@D)
	$(BUILD_PYTHON) -X no_debug_ranges $(RT)/stdlib-bundle.py $(PYLIB) $(SYSCONFIGDATA) $@ \
		--only $(RT)/core-modules.txt $(addprefix --add ,$(CORE_PYTHON))

# Everything else, until the stdlib split makes it lazy.
$(RUNTIME)/stdlib-full.zip: $(RT)/stdlib-bundle.py $(CPY)/.ok $(PYLIB)/.ok
	@mkdir -p $(@D)
	$(BUILD_PYTHON) -X no_debug_ranges $(RT)/stdlib-bundle.py $(PYLIB) $(SYSCONFIGDATA) $@

$(RUNTIME)/%.js: loader/js/%.js
	@mkdir -p $(@D)
	cp $< $@
$(RUNTIME)/larder-python: loader/js/larder-python.js
	@mkdir -p $(@D)
	cp $< $@
	chmod +x $@
