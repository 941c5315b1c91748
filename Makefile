# larder - top-level build.
#
#   make          build the runtime and tools (installs what is missing first)
#   make test     build, then run every test; ends with "N passed, N failed"
#   make demo     build, then serve the demo on http://127.0.0.1:8000
#
# Expensive steps are cached outside the work tree in $(LARDER_CACHE), keyed
# by a hash of their inputs: a changed input builds into a new key, an
# unchanged one is reused by every clone on this machine (CI included).

LARDER_CACHE ?= $(HOME)/.cache/larder
export LARDER_CACHE
B := build
SHELL := /bin/bash
.DELETE_ON_ERROR:

# ---------------------------------------------------------------------------
# Bootstrap: install what the build needs, then re-enter make so that keys
# that depend on installed tools are computed after the install.
ifndef LARDER_BOOTSTRAPPED

GOALS := $(or $(MAKECMDGOALS),all)
.PHONY: $(GOALS) bootstrap
$(GOALS): bootstrap
	@$(MAKE) --no-print-directory LARDER_BOOTSTRAPPED=1 $@

bootstrap:
	@builder/bootstrap.sh

else
# ---------------------------------------------------------------------------

RT := builder/runtime
hash = $(shell cat $(1) | sha256sum | cut -c1-16)
EMCC_VERSION := $(shell dpkg-query -W -f '$${Version}' emscripten)

# Pinned Debian sources, unpacked into the cache. Stamps are named by what
# they hold (the pinned version; for python3.11 also a hash of the patches
# applied), never compared by time with files of a clone: a fresh clone on a
# machine that has them reuses them.
SOURCES := $(shell grep -v '^\#' $(RT)/sources.txt)
SRC := $(LARDER_CACHE)/src
PATCH_KEY := $(call hash,$(RT)/python-patches.txt $(RT)/apply-patches.sh $(wildcard $(RT)/patches/*.patch))
src_stamp = $(SRC)/.$(subst :,_,$(1))$(if $(filter python3.11=%,$(1)),-$(PATCH_KEY)).ok
SOURCE_STAMPS := $(foreach s,$(SOURCES),$(call src_stamp,$(s)))

DEPS_KEY := $(call hash,$(RT)/sources.txt $(RT)/build-deps.sh)-$(EMCC_VERSION)
DEPS := $(LARDER_CACHE)/wasm-deps-$(DEPS_KEY)
CPY_KEY := $(call hash,$(RT)/sources.txt $(RT)/python-patches.txt $(wildcard $(RT)/patches/*.patch) \
	$(RT)/build-cpython.sh $(RT)/config.site-larder)-$(DEPS_KEY)
CPY := $(LARDER_CACHE)/cpython-$(CPY_KEY)

.PHONY: all sources deps cpython runtime tools site native unit fuzz test demo bench clean
all: runtime tools site

sources: $(SOURCE_STAMPS)
$(SRC)/.%.ok:
	@spec='$(subst _,:,$(patsubst %-$(PATCH_KEY),%,$*))'; name=$${spec%%=*}; \
	 echo "fetch $$spec"; \
	 $(RT)/fetch-source.sh "$$spec" "$(SRC)/$$name" $$([ "$$name" = python3.11 ] && echo --skip-patches); \
	 if [ "$$name" = python3.11 ]; then $(RT)/apply-patches.sh "$(SRC)/$$name" $(RT)/python-patches.txt; fi
	@touch $@

deps: $(DEPS)/.ok
$(DEPS)/.ok: | $(SOURCE_STAMPS)
	$(RT)/build-deps.sh $(SRC) $(DEPS)
	@touch $@

cpython: $(CPY)/.ok
$(CPY)/.ok: $(DEPS)/.ok | $(call src_stamp,$(filter python3.11=%,$(SOURCES)))
	$(RT)/build-cpython.sh $(SRC)/python3.11 $(DEPS) $(CPY)

include $(RT)/runtime.mk

# ---------------------------------------------------------------------------
# Host builds: the same C sources, with sanitizers for the tests.
HOST_CC ?= cc
HOST_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=all
HOST_OBJ := $(B)/host-obj
UNIT_TESTS := $(B)/tests/test_pipeline $(B)/tests/test_index $(B)/tests/test_metadata $(B)/tests/test_loader
INDEX_SRCS := index/error.c index/path.c index/model.c index/resolve.c index/verify.c
INDEX_HOST_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,$(INDEX_SRCS) index/sign.c)
HOST_LIBS := -lcjson -lsodium -lcrypto

$(HOST_OBJ)/loader/%.o: loader/%.c loader/loader.h index/index.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -D_POSIX_C_SOURCE=200809L -c $< -o $@
$(HOST_OBJ)/%.o: %.c loader/loader.h index/index.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -D_POSIX_C_SOURCE=200809L -c $< -o $@

# larder-build, the host tool (built with the same sanitizers for the tests)
BUILDER_SRCS := builder/main.c builder/fileset.c builder/archive.c builder/metadata.c builder/pyc.c \
	builder/package.c builder/distribution.c builder/wheel.c builder/dist.c builder/spawn.c \
	builder/stdlib.c loader/pipeline.c
BUILDER_HDRS := builder/builder.h builder/internal.h
$(HOST_OBJ)/builder/%.o: builder/%.c $(BUILDER_HDRS) index/index.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$(B)/gen -c $< -o $@
$(HOST_OBJ)/builder/stdlib.o: $(B)/gen/stdlib_plan.h
$(B)/gen/stdlib_plan.h: builder/stdlib_plan.py builder/embed.sh
	@mkdir -p $(@D)
	builder/embed.sh stdlib_plan_py $< $@
$(B)/bin/larder-build: $(patsubst %.c,$(HOST_OBJ)/%.o,$(BUILDER_SRCS)) $(INDEX_HOST_OBJS)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $^ -larchive -lzstd $(HOST_LIBS)
# larder-mirror
MIRROR_SRCS := mirror/main.c mirror/repo.c mirror/publish.c mirror/tree.c mirror/maintenance.c mirror/serve.c \
	mirror/sync.c mirror/lockfile.c
# the mirror converts wheels with the builder's library
BUILDER_LIB_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,$(filter-out builder/main.c,$(BUILDER_SRCS)))
$(HOST_OBJ)/mirror/%.o: mirror/%.c mirror/mirror.h mirror/internal.h index/index.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -c $< -o $@
$(B)/bin/larder-mirror: $(patsubst %.c,$(HOST_OBJ)/%.o,$(MIRROR_SRCS)) $(BUILDER_LIB_OBJS) $(INDEX_HOST_OBJS)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $^ -lmicrohttpd -lcurl -lsqlite3 -larchive -lz -lzstd -lpthread $(HOST_LIBS)

tools: $(B)/bin/larder-build $(B)/bin/larder-mirror

LOADER_HOST_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,loader/pipeline.c loader/untar.c loader/cache.c loader/install.c)
$(B)/tests/test_loader: tests/unit/test_loader.c tests/unit/tap.h $(LOADER_HOST_OBJS) $(INDEX_HOST_OBJS) \
		$(HOST_OBJ)/builder/fileset.o $(HOST_OBJ)/builder/archive.o
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) -larchive -lzstd $(HOST_LIBS)

$(B)/tests/test_metadata: tests/unit/test_metadata.c tests/unit/tap.h $(HOST_OBJ)/builder/metadata.o \
		$(HOST_OBJ)/index/model.o $(HOST_OBJ)/index/error.o
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) $(HOST_LIBS)

$(B)/tests/test_index: tests/unit/test_index.c tests/unit/tap.h $(INDEX_HOST_OBJS)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) $(HOST_LIBS)

$(B)/tests/test_pipeline: tests/unit/test_pipeline.c tests/unit/tap.h \
		$(HOST_OBJ)/loader/pipeline.o $(HOST_OBJ)/index/error.o
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) -lzstd -lsodium

unit: $(UNIT_TESTS)

# libFuzzer targets (clang), beside the sanitizers
FUZZ_CC := clang-14
$(B)/fuzz/fuzz_index: tests/fuzz/fuzz_index.c $(INDEX_SRCS) index/index.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L \
		-o $@ $(filter %.c,$^) -lcjson -lsodium
$(B)/fuzz/fuzz_untar: tests/fuzz/fuzz_untar.c loader/untar.c index/error.c index/path.c loader/loader.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L \
		-o $@ $(filter %.c,$^)
fuzz: $(B)/fuzz/fuzz_index $(B)/fuzz/fuzz_untar

test: runtime tools site native unit fuzz
	tests/run.sh

# Native packages, cross-compiled from their sdists (builder/native): the
# build tree is cached by recipe, driver and CPython; the archive is made here.
NUMPY_KEY := $(call hash,builder/native/numpy.recipe builder/native/build.sh)-$(CPY_KEY)
NUMPY := $(LARDER_CACHE)/native-numpy-$(NUMPY_KEY)
$(NUMPY)/.ok: $(CPY)/.ok
	builder/native/build.sh builder/native/numpy.recipe $(CPY) $(NUMPY)
NATIVE := $(B)/native
$(NATIVE)/.ok: $(NUMPY)/.ok $(B)/bin/larder-build
	@rm -rf $(@D) && mkdir -p $(@D)
	. builder/native/numpy.recipe && $(B)/bin/larder-build tree -q -o $(@D) --name $$NAME --version $$VERSION \
		--imports $$IMPORTS $(NUMPY)/tree
	@touch $@
native: $(NATIVE)/.ok

# The package corpus: Debian's wheels and installed pure-Python packages.
CORPUS := $(B)/corpus
$(CORPUS)/.ok: $(B)/bin/larder-build builder/packages.txt
	@rm -rf $(@D) && mkdir -p $(@D)
	$(B)/bin/larder-build wheel -q -o $(@D) $$(ls /usr/share/python-wheels/{pip,setuptools,wheel}-*.whl)
	$(B)/bin/larder-build dist -q -o $(@D) six pyparsing cycler packaging fonttools idna attrs 2>/dev/null
	$(B)/bin/larder-build dist -q -o $(@D) --depends six python-dateutil
	@touch $@

# The playground page, bundled (CodeMirror from npm) with esbuild.
SITE := $(B)/site
SITE_FILES := $(SITE)/index.html $(SITE)/style.css $(SITE)/playground.js
$(SITE)/playground.js: loader/web/playground.js package-lock.json
	@mkdir -p $(@D)
	node_modules/.bin/esbuild $< --bundle --minify --format=iife --target=es2020 --log-level=warning --outfile=$@
$(SITE)/%: loader/web/%
	@mkdir -p $(@D)
	cp $< $@
site: $(SITE_FILES)

# The demo: a mirror holding the split stdlib and the corpus, serving the
# runtime and the page on http://127.0.0.1:8000 (Ctrl-C stops).
DEMO := $(B)/demo
$(DEMO)/repo/.ok: $(B)/bin/larder-mirror $(B)/stdlib/.ok $(CORPUS)/.ok $(NATIVE)/.ok
	@rm -rf $(@D) && mkdir -p $(DEMO)
	$(B)/bin/larder-mirror init $(@D) >/dev/null
	$(B)/bin/larder-mirror --repo $(@D) publish $(B)/stdlib/*.tar.zst $(CORPUS)/*.tar.zst $(NATIVE)/*.tar.zst >/dev/null
	$(B)/bin/larder-mirror --repo $(@D) sign
	@touch $@
$(DEMO)/site/config.js: $(DEMO)/repo/.ok $(SITE_FILES)
	@rm -rf $(@D) && mkdir -p $(@D)
	cp $(SITE_FILES) $(@D)/
	echo "window.LARDER_CONFIG = { indexUrl: '/index.json', key: '$$($(B)/bin/larder-mirror --repo $(DEMO)/repo keys --public)' };" > $@
demo: runtime tools $(DEMO)/site/config.js
	@exec $(B)/bin/larder-mirror --repo $(DEMO)/repo serve --listen 127.0.0.1:8000 \
		--runtime $(RUNTIME) --site $(DEMO)/site --access-log $(DEMO)/access.log

# Benchmarks: ratios against a baseline measured in the same run (not tests).
bench: runtime tools $(B)/stdlib/.ok
	bench/index.sh
	bench/corpus.sh
	bench/loader.sh
	node bench/idbfs-memory.js
	bench/mirror.sh
	node bench/firstload.js

clean:
	rm -rf $(B)

endif
