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
# check and clean work with what is installed: no apt step
$(GOALS): $(if $(filter-out check clean,$(GOALS)),bootstrap)
	@$(MAKE) --no-print-directory LARDER_BOOTSTRAPPED=1 $@

bootstrap:
	@builder/bootstrap.sh

else
# ---------------------------------------------------------------------------

RT := builder/runtime
hash = $(shell cat $(1) | sha256sum | cut -c1-16)
strhash = $(shell echo '$(1)' | sha256sum | cut -c1-16)
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

.PHONY: all sources deps cpython runtime tools sanitize site native cross pypi corpus unit fuzz test check install dist demo bench clean
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

# The C sources both the wasm runtime and the host tools are built from:
# common/ (errors, digests, paths, files, the target) and index/.
COMMON_SRCS := common/error.c common/path.c common/digest.c common/file.c
INDEX_SRCS := $(COMMON_SRCS) index/model.c index/resolve.c index/verify.c
INDEX_HDRS := index/index.h common/common.h

include $(RT)/runtime.mk

# ---------------------------------------------------------------------------
# Host builds, two of each tool from the same sources: the release build
# users run and `make demo` serves ($(B)/bin: -O2, no sanitizers), and the
# build the tests run ($(B)/sanitize/bin, like the unit tests: ASan+UBSan).
HOST_CC ?= cc
HOST_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=all
RELEASE_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong
HOST_OBJ := $(B)/host-obj
RELEASE_OBJ := $(B)/release-obj
UNIT_TESTS := $(B)/tests/test_common $(B)/tests/test_pipeline $(B)/tests/test_index $(B)/tests/test_metadata $(B)/tests/test_loader
INDEX_HOST_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,$(INDEX_SRCS) index/sign.c)
HOST_LIBS := -lcjson -lsodium -lcrypto
BUILDER_SRCS := builder/main.c builder/fileset.c builder/archive.c builder/metadata.c builder/pyc.c \
	builder/package.c builder/finish.c builder/wheel.c builder/installed.c builder/spawn.c \
	builder/stdlib.c builder/plan.c builder/version.c builder/sdist.c builder/sidemodule.c
BUILDER_HDRS := builder/builder.h builder/internal.h
MIRROR_SRCS := mirror/main.c mirror/repo.c mirror/publish.c mirror/tree.c mirror/maintenance.c mirror/serve.c \
	mirror/sync.c mirror/lockfile.c mirror/http.c mirror/pypi.c mirror/add.c mirror/catalog.c

# host_build(OBJDIR, BINDIR, CFLAGS): the objects and the two tools of one
# flavour. The mirror converts wheels with the builder's library.
define host_build
$(1)/common/%.o: common/%.c common/common.h
	@mkdir -p $$(@D)
	$$(HOST_CC) $(3) -D_POSIX_C_SOURCE=200809L -c $$< -o $$@
$(1)/loader/%.o: loader/%.c loader/loader.h $$(INDEX_HDRS)
	@mkdir -p $$(@D)
	$$(HOST_CC) $(3) -D_POSIX_C_SOURCE=200809L -c $$< -o $$@
$(1)/index/%.o: index/%.c $$(INDEX_HDRS)
	@mkdir -p $$(@D)
	$$(HOST_CC) $(3) -D_POSIX_C_SOURCE=200809L -c $$< -o $$@
$(1)/builder/%.o: builder/%.c $$(BUILDER_HDRS) $$(INDEX_HDRS)
	@mkdir -p $$(@D)
	$$(HOST_CC) $(3) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$$(B)/gen -c $$< -o $$@
$(1)/builder/plan.o: $$(B)/gen/stdlib_plan.h
$(1)/mirror/%.o: mirror/%.c mirror/mirror.h mirror/internal.h $$(INDEX_HDRS) builder/builder.h
	@mkdir -p $$(@D)
	$$(HOST_CC) $(3) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -c $$< -o $$@
$(2)/larder-build: $$(patsubst %.c,$(1)/%.o,$$(BUILDER_SRCS) $$(INDEX_SRCS) index/sign.c)
	@mkdir -p $$(@D)
	$$(HOST_CC) $(3) -o $$@ $$^ -larchive -lzstd $$(HOST_LIBS)
$(2)/larder-mirror: $$(patsubst %.c,$(1)/%.o,$$(MIRROR_SRCS) $$(filter-out builder/main.c,$$(BUILDER_SRCS)) \
		$$(INDEX_SRCS) index/sign.c)
	@mkdir -p $$(@D)
	$$(HOST_CC) $(3) -o $$@ $$^ -lmicrohttpd -lcurl -lsqlite3 -larchive -lz -lzstd -lpthread $$(HOST_LIBS)
endef
$(eval $(call host_build,$(RELEASE_OBJ),$(B)/bin,$(RELEASE_CFLAGS)))
$(eval $(call host_build,$(HOST_OBJ),$(B)/sanitize/bin,$(HOST_CFLAGS)))
$(B)/gen/stdlib_plan.h: builder/stdlib_plan.py builder/embed.sh
	@mkdir -p $(@D)
	builder/embed.sh stdlib_plan_py $< $@

tools: $(B)/bin/larder-build $(B)/bin/larder-mirror
sanitize: $(B)/sanitize/bin/larder-build $(B)/sanitize/bin/larder-mirror

LOADER_HOST_OBJS := $(patsubst %.c,$(HOST_OBJ)/%.o,loader/pipeline.c loader/untar.c loader/cache.c loader/install.c)
$(B)/tests/test_loader: tests/unit/test_loader.c tests/unit/tap.h $(LOADER_HOST_OBJS) $(INDEX_HOST_OBJS) \
		$(HOST_OBJ)/builder/fileset.o $(HOST_OBJ)/builder/archive.o
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) -larchive -lzstd $(HOST_LIBS)

$(B)/tests/test_metadata: tests/unit/test_metadata.c tests/unit/tap.h $(HOST_OBJ)/builder/metadata.o $(HOST_OBJ)/builder/version.o \
		$(HOST_OBJ)/index/model.o $(patsubst %.c,$(HOST_OBJ)/%.o,$(COMMON_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) $(HOST_LIBS)

$(B)/tests/test_common: tests/unit/test_common.c tests/unit/tap.h $(patsubst %.c,$(HOST_OBJ)/%.o,$(COMMON_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) -lsodium

$(B)/tests/test_index: tests/unit/test_index.c tests/unit/tap.h $(INDEX_HOST_OBJS)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) $(HOST_LIBS)

$(B)/tests/test_pipeline: tests/unit/test_pipeline.c tests/unit/tap.h \
		$(HOST_OBJ)/loader/pipeline.o $(patsubst %.c,$(HOST_OBJ)/%.o,$(COMMON_SRCS))
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $(filter %.c %.o,$^) -lzstd -lsodium

unit: $(UNIT_TESTS)

# libFuzzer targets (clang), beside the sanitizers
FUZZ_CC := clang-14
$(B)/fuzz/fuzz_index: tests/fuzz/fuzz_index.c $(INDEX_SRCS) $(INDEX_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L \
		-o $@ $(filter %.c,$^) -lcjson -lsodium
$(B)/fuzz/fuzz_untar: tests/fuzz/fuzz_untar.c loader/untar.c $(COMMON_SRCS) loader/loader.h $(INDEX_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L \
		-o $@ $(filter %.c,$^) -lsodium
$(B)/fuzz/fuzz_wasm: tests/fuzz/fuzz_wasm.c builder/sidemodule.c $(COMMON_SRCS) $(BUILDER_HDRS) common/common.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
		-o $@ $(filter %.c,$^) -larchive -lsodium
fuzz: $(B)/fuzz/fuzz_index $(B)/fuzz/fuzz_untar $(B)/fuzz/fuzz_wasm

test: runtime tools sanitize site native pypi corpus unit fuzz
	tests/run.sh

# Native packages, cross-compiled from their sdists (builder/native): each
# build tree is cached under a key made of its recipe (and the recipe's own
# files, builder/native/NAME-*), the driver, CPython and what it builds on
# (numpy's headers, the C libraries); the archives are made here.
NATIVE_SOURCES := $(shell grep -v '^\#' builder/native/sources.txt)
CLIBS_KEY := $(call hash,builder/native/sources.txt builder/native/build-clibs.sh)-$(EMCC_VERSION)
CLIBS := $(LARDER_CACHE)/native-clibs-$(CLIBS_KEY)
$(CLIBS)/.ok: | $(foreach s,$(NATIVE_SOURCES),$(call src_stamp,$(s)))
	builder/native/build-clibs.sh $(SRC) $(CLIBS)
native_key = $(call hash,builder/native/build.sh builder/native/cross-env.sh builder/native/$(1).recipe \
	$(wildcard builder/native/$(1)-*))
NUMPY := $(LARDER_CACHE)/native-numpy-$(call native_key,numpy)-$(CPY_KEY)
KIWISOLVER := $(LARDER_CACHE)/native-kiwisolver-$(call native_key,kiwisolver)-$(CPY_KEY)
PILLOW := $(LARDER_CACHE)/native-pillow-$(call native_key,pillow)-$(CPY_KEY)
CONTOURPY := $(LARDER_CACHE)/native-contourpy-$(call strhash,$(call native_key,contourpy)-$(NUMPY))
MATPLOTLIB := $(LARDER_CACHE)/native-matplotlib-$(call strhash,$(call native_key,matplotlib)-$(NUMPY)-$(CLIBS))
NATIVE_ENV := LARDER_DEPS=$(DEPS) LARDER_CLIBS=$(CLIBS) LARDER_NUMPY=$(NUMPY)
$(NUMPY)/.ok $(KIWISOLVER)/.ok $(PILLOW)/.ok: $(CPY)/.ok
$(CONTOURPY)/.ok: $(CPY)/.ok $(NUMPY)/.ok
$(MATPLOTLIB)/.ok: $(CPY)/.ok $(NUMPY)/.ok $(CLIBS)/.ok
$(NUMPY)/.ok $(KIWISOLVER)/.ok $(PILLOW)/.ok $(CONTOURPY)/.ok $(MATPLOTLIB)/.ok:
	$(NATIVE_ENV) builder/native/build.sh builder/native/$(word 2,$(subst -, ,$(notdir $(@D)))).recipe $(CPY) $(@D)
NATIVE_TREES := $(NUMPY) $(KIWISOLVER) $(PILLOW) $(CONTOURPY) $(MATPLOTLIB)
NATIVE := $(B)/native
$(NATIVE)/.ok: $(NATIVE_TREES:%=%/.ok) $(B)/bin/larder-build $(B)/stdlib/.ok
	@rm -rf $(@D) && mkdir -p $(@D)
	@for t in $(NATIVE_TREES); do \
	    n=$${t##*/native-}; n=$${n%%-*}; \
	    ( . builder/native/$$n.recipe && $(B)/bin/larder-build tree -q -o $(@D) --stdlib $(B)/stdlib \
	        --name $$NAME --version $$VERSION \
	        --imports $$IMPORTS $$(for d in $$DEPENDS; do echo --depends $$d; done) $$t/tree ) || exit 1; \
	done
	@touch $@
native: $(NATIVE)/.ok

# A named subset of numpy's own tests (its package leaves them out), run in
# wasm with pytest by tests/node/numpy-suite.test.js: one directory per numpy
# subpackage, named so that none shadows a stdlib module.
NUMPY_TESTS := linalg/test_linalg fft/test_pocketfft fft/test_helper random/test_generator_mt19937 \
	core/test_umath core/test_ufunc core/test_einsum core/test_shape_base core/test_datetime lib/test_shape_base \
	lib/test_nanfunctions ma/test_core polynomial/test_polynomial
$(B)/numpy-tests/.ok: $(NUMPY)/.ok tests/native/numpy-suite/pytest.ini tests/native/numpy-suite/conftest.py Makefile
	@rm -rf $(@D) && mkdir -p $(@D)
	@for t in $(NUMPY_TESTS); do mkdir -p $(@D)/numpy-$${t%/*} && \
	    cp $(NUMPY)/numpy-*/numpy/$${t%/*}/tests/$${t#*/}.py $(@D)/numpy-$${t%/*}/ || exit 1; done
	@cp tests/native/numpy-suite/pytest.ini tests/native/numpy-suite/conftest.py $(@D)/
	@touch $@

# The host's native numpy of the wasm build's version (Debian 12 has 1.24.2),
# which the tests compare values with: PyPI's wheel, pinned by sha256.
HOST_NUMPY := $(LARDER_CACHE)/host-numpy-1.25.2
HOST_NUMPY_WHEEL := numpy-1.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
HOST_NUMPY_SHA256 := 60e7f0f7f6d0eee8364b9a6304c2845b9c491ac706048c7e8cf47b83123b8dbf
$(HOST_NUMPY)/.ok:
	@rm -rf $(@D) $(@D).tmp && mkdir -p $(@D).tmp
	/usr/bin/python3.11 -m pip download -q --no-deps --only-binary :all: numpy==1.25.2 -d $(@D).tmp
	echo "$(HOST_NUMPY_SHA256)  $(@D).tmp/$(HOST_NUMPY_WHEEL)" | sha256sum -c --quiet -
	cd $(@D).tmp && /usr/bin/python3.11 -m zipfile -e $(HOST_NUMPY_WHEEL) lib && rm $(HOST_NUMPY_WHEEL)
	@touch $(@D).tmp/.ok && mv $(@D).tmp $(@D)
native: $(B)/numpy-tests/.ok $(HOST_NUMPY)/.ok

# The generic cross-build (builder/native/cross-wheel.sh) as the tools run it:
# $(B)/cross holds the script and a config naming what it builds against;
# larder-build and larder-mirror find it beside their bin directory.
CROSS_FILES := builder/native/cross-wheel.sh builder/native/cross-env.sh builder/native/cross-constraints.txt \
	builder/native/pypi-fetch.py
CROSS_ENV := LARDER_CPYTHON=$(CPY) LARDER_PYSRC=$(SRC)/python3.11 LARDER_NUMPY=$(NUMPY) LARDER_DEPS=$(DEPS) \
	LARDER_CACHE=$(LARDER_CACHE)
CROSS := $(B)/cross
$(CROSS)/.ok: $(CROSS_FILES) $(CPY)/.ok $(NUMPY)/.ok Makefile
	@rm -rf $(@D) && mkdir -p $(@D) $(B)/sanitize
	@cp $(CROSS_FILES) $(@D)/
	@for v in $(CROSS_ENV); do echo "$${v%%=*}=\$${$${v%%=*}:-$${v#*=}}"; done > $(@D)/config
	@ln -sfn ../cross $(B)/sanitize/cross
	@touch $@
cross: $(CROSS)/.ok

# C libraries that packages cross-compiled from sdists link (builder/native/
# clib-sources.txt: Debian source packages), each in a prefix of its own
# cached under a key of its line and build-clib.sh.
CLIB_LINES := $(shell grep -v '^\#' builder/native/clib-sources.txt)
clib_words = $(subst :, ,$(filter $(1)=%,$(CLIB_LINES)))
clib_deps = $(wordlist 2,9,$(call clib_words,$(1)))
clib_dir = $(LARDER_CACHE)/clib-$(1)-$(call strhash,$(filter $(1)=%,$(CLIB_LINES))-$(call hash,builder/native/build-clib.sh)-$(foreach d,$(call clib_deps,$(1)),$(call clib_dir,$(d))))-$(EMCC_VERSION)
define clib_rule
$(call clib_dir,$(1))/.ok: $(foreach d,$(call clib_deps,$(1)),$(call clib_dir,$(d))/.ok) | $(call src_stamp,$(firstword $(call clib_words,$(1))))
	builder/native/build-clib.sh $(1) $(SRC)/$(1) $$(@D) $(foreach d,$(call clib_deps,$(1)),$(call clib_dir,$(d)))
endef
$(foreach l,$(CLIB_LINES),$(eval $(call clib_rule,$(firstword $(subst =, ,$(l))))))

# Packages from PyPI: the sdists of builder/native/sdists.txt cross-compiled
# by the generic path with no recipe (each wheel cached under a key of its
# line, the cross-build's files, CPython, numpy and its C libraries), the
# pure wheels they need (wheels.txt), converted into $(B)/pypi; and the
# host's wheels of the same versions (host-wheels.txt), the tests' reference.
SDIST_LINES := $(shell grep -v '^\#' builder/native/sdists.txt)
sdist_spec = $(word 1,$(subst :, ,$(1)))
sdist_name = $(firstword $(subst ==, ,$(call sdist_spec,$(1))))
sdist_libs = $(wordlist 3,9,$(subst :, ,$(1)))
sdist_dir = $(LARDER_CACHE)/sdist-$(call sdist_name,$(1))-$(call strhash,$(1)-$(call hash,$(CROSS_FILES))-$(CPY_KEY)-$(NUMPY)-$(foreach l,$(call sdist_libs,$(1)),$(call clib_dir,$(l))))
define sdist_rule
$(call sdist_dir,$(1))/.ok: $(CPY)/.ok $(NUMPY)/.ok $(foreach l,$(call sdist_libs,$(1)),$(call clib_dir,$(l))/.ok)
	@rm -rf $$(@D) $$(@D).tmp && mkdir -p $$(@D).tmp
	$(CROSS_ENV) builder/native/cross-wheel.sh $(call sdist_spec,$(1)) $$(@D).tmp --sha256 $(word 2,$(subst :, ,$(1))) \
		$(foreach l,$(call sdist_libs,$(1)),--with $(call clib_dir,$(l))) >/dev/null
	@touch $$(@D).tmp/.ok && mv $$(@D).tmp $$(@D)
endef
$(foreach l,$(SDIST_LINES),$(eval $(call sdist_rule,$(l))))
SDIST_TREES := $(foreach l,$(SDIST_LINES),$(call sdist_dir,$(l)))
PYPI_WHEELS := $(LARDER_CACHE)/pypi-wheels
PYPI := $(B)/pypi
$(PYPI)/.ok: $(SDIST_TREES:%=%/.ok) $(B)/bin/larder-build $(B)/stdlib/.ok builder/native/wheels.txt
	@rm -rf $(@D) && mkdir -p $(@D)
	$(B)/bin/larder-build wheel -q -o $(@D) --stdlib $(B)/stdlib --exclude tests $(foreach t,$(SDIST_TREES),$(t)/*.whl)
	@for l in $$(grep -v '^#' builder/native/wheels.txt); do \
	    w=$$(/usr/bin/python3.11 builder/native/pypi-fetch.py $(PYPI_WHEELS) $${l%%:*} $${l##*:}) && \
	    $(B)/bin/larder-build wheel -q -o $(@D) --stdlib $(B)/stdlib $$w || exit 1; done
	@touch $@
HOST_PYPI := $(LARDER_CACHE)/host-pypi-$(call hash,builder/native/host-wheels.txt)
$(HOST_PYPI)/.ok: builder/native/pypi-fetch.py
	@rm -rf $(@D) $(@D).tmp && mkdir -p $(@D).tmp/lib
	@for l in $$(grep -v '^#' builder/native/host-wheels.txt); do \
	    w=$$(/usr/bin/python3.11 builder/native/pypi-fetch.py $(PYPI_WHEELS) $${l%%:*} $${l##*:}) && \
	    (cd $(@D).tmp/lib && /usr/bin/python3.11 -m zipfile -e $$w .) || exit 1; done
	@touch $(@D).tmp/.ok && mv $(@D).tmp $(@D)
# the tests find the host's wheels at $(B)/host-pypi
$(B)/host-pypi: $(HOST_PYPI)/.ok
	@ln -sfn $(HOST_PYPI) $@
pypi: $(PYPI)/.ok $(B)/host-pypi $(CROSS)/.ok

# A named subset of pandas' own tests (its archive leaves them out), run in
# wasm by tests/node/pandas-suite.test.js: these directories and files of
# pandas/tests from the pinned sdist, named so that none shadows a module,
# less the files that import pandas.tests (not installed).
PANDAS_LINE := $(filter pandas==%,$(SDIST_LINES))
PANDAS_TESTS := tslibs libs window reshape strings tools test_sorting.py test_nanops.py test_take.py test_algos.py
$(B)/pandas-tests/.ok: $(call sdist_dir,$(PANDAS_LINE))/.ok tests/native/pandas-suite/pytest.ini Makefile
	@rm -rf $(@D) && mkdir -p $(@D)/src
	@tar -xzf $(LARDER_CACHE)/sdists/$(word 2,$(subst :, ,$(PANDAS_LINE)))/pandas-1.5.3.tar.gz -C $(@D)/src \
		pandas-1.5.3/pandas/tests
	@for t in $(PANDAS_TESTS); do case $$t in *.py) d=$$t ;; *) d=pandas-$$t ;; esac; \
	    cp -r $(@D)/src/pandas-1.5.3/pandas/tests/$$t $(@D)/$$d || exit 1; done
	@rm -rf $(@D)/src
	@grep -rlE '(from|import) pandas\.tests' $(@D) | xargs -r rm -f
	@find $(@D) -name __init__.py -delete
	@cp tests/native/pandas-suite/pytest.ini $(@D)/
	@touch $@
pypi: $(B)/pandas-tests/.ok

# The package corpus: Debian's wheels and installed pure-Python packages.
CORPUS := $(B)/corpus
corpus: $(CORPUS)/.ok
# Each records the stdlib packages it imports (--stdlib), fetched with it.
$(CORPUS)/.ok: $(B)/bin/larder-build builder/packages.txt $(B)/stdlib/.ok
	@rm -rf $(@D) && mkdir -p $(@D)
	$(B)/bin/larder-build wheel -q -o $(@D) --stdlib $(B)/stdlib $$(ls /usr/share/python-wheels/{pip,setuptools,wheel}-*.whl)
	$(B)/bin/larder-build dist -q -o $(@D) --stdlib $(B)/stdlib six pyparsing cycler packaging fonttools idna attrs
	$(B)/bin/larder-build dist -q -o $(@D) --stdlib $(B)/stdlib --depends six python-dateutil
	$(B)/bin/larder-build dist -q -o $(@D) --stdlib $(B)/stdlib pytest pluggy iniconfig
	@touch $@

# The playground page, bundled (CodeMirror from npm) with esbuild: two ES
# modules, playground.js and editor.js (CodeMirror), which it imports.
SITE := $(B)/site
SITE_FILES := $(SITE)/index.html $(SITE)/style.css $(SITE)/playground.js $(SITE)/editor.js
$(SITE)/editor.js: $(SITE)/playground.js ;
$(SITE)/playground.js: loader/web/playground.js loader/web/editor.js package-lock.json
	@mkdir -p $(@D)
	node_modules/.bin/esbuild loader/web/playground.js loader/web/editor.js --bundle --splitting --format=esm \
		--minify --target=es2020 --log-level=warning --outdir=$(@D)
	@test "$$(ls $(@D)/*.js | wc -l)" = 2 || { echo "esbuild wrote more than playground.js and editor.js" >&2; exit 1; }
$(SITE)/%: loader/web/%
	@mkdir -p $(@D)
	cp $< $@
site: $(SITE_FILES)

# The demo: a mirror holding the split stdlib, the corpus and the native
# packages (recipes' and those cross-compiled from PyPI's sdists), serving the
# runtime and the page on http://127.0.0.1:8000 (Ctrl-C stops).
DEMO := $(B)/demo
$(DEMO)/repo/.ok: $(B)/bin/larder-mirror $(B)/stdlib/.ok $(CORPUS)/.ok $(NATIVE)/.ok $(PYPI)/.ok
	@rm -rf $(@D) && mkdir -p $(DEMO)
	$(B)/bin/larder-mirror init $(@D) >/dev/null
	$(B)/bin/larder-mirror --repo $(@D) publish $(B)/stdlib/*.tar.zst $(CORPUS)/*.tar.zst $(NATIVE)/*.tar.zst \
		$(PYPI)/*.tar.zst >/dev/null
	$(B)/bin/larder-mirror --repo $(@D) sign
	@touch $@
$(DEMO)/site/config.js: $(DEMO)/repo/.ok $(SITE_FILES)
	@rm -rf $(@D) && mkdir -p $(@D)
	cp $(SITE_FILES) $(@D)/
	echo "window.LARDER_CONFIG = { indexUrl: '/index.json', key: '$$($(B)/bin/larder-mirror --repo $(DEMO)/repo keys --public)' };" > $@
# The runtime and the page are served precompressed (gzip -9 beside each file;
# larder-mirror sends it to browsers that accept gzip).
demo: runtime tools $(DEMO)/site/config.js
	@rm -rf $(DEMO)/runtime && cp -r $(RUNTIME) $(DEMO)/runtime
	@find $(DEMO)/runtime $(DEMO)/site -type f ! -name '*.gz' -exec gzip -9kf {} +
	@exec $(B)/bin/larder-mirror --repo $(DEMO)/repo serve --listen 127.0.0.1:8000 \
		--runtime $(DEMO)/runtime --site $(DEMO)/site --access-log $(DEMO)/access.log

# Benchmarks: ratios against a baseline measured in the same run (not tests).
bench: runtime tools native pypi corpus $(B)/stdlib/.ok
	bench/index.sh
	bench/corpus.sh
	bench/loader.sh
	node bench/idbfs-memory.js
	bench/mirror.sh
	node bench/firstload.js
	node bench/loadpackage.js
	node bench/warmvisit.js
	node bench/imports.js
	bench/native.sh
	node bench/cpu.js
	node bench/cpu-browser.js
	node bench/side-modules.js
	/usr/bin/python3.11 bench/report.py

# make check: the quick tests (unit, and the host tools against real
# mirrors and PyPI's cached files), no browser and no apt step; minutes when
# the trees are cached.
check: tools sanitize unit corpus $(B)/stdlib/.ok
	tests/run.sh unit host

# make install [PREFIX=/usr/local] [DESTDIR=]: the release tools, the runtime
# (with larder.js and larder-python) and its stdlib split, man pages from the
# tools' --help. larder-mirror finds PREFIX/share/larder/runtime by itself.
PREFIX ?= /usr/local
SHARE := $(DESTDIR)$(PREFIX)/share/larder
MAN1 := $(DESTDIR)$(PREFIX)/share/man/man1
install: runtime tools
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/runtime $(SHARE)/stdlib $(MAN1)
	install -m 755 $(B)/bin/larder-build $(B)/bin/larder-mirror $(DESTDIR)$(PREFIX)/bin/
	cp -r $(RUNTIME)/. $(SHARE)/runtime/
	install -m 644 $(B)/stdlib/*.tar.zst $(B)/stdlib/*.json $(SHARE)/stdlib/
	ln -sf ../share/larder/runtime/larder-python $(DESTDIR)$(PREFIX)/bin/larder-python
	$(B)/bin/larder-build --help 2>&1 | builder/man.sh larder-build "convert Python packages into larder archives" \
		> $(MAN1)/larder-build.1
	$(B)/bin/larder-mirror --help 2>&1 | builder/man.sh larder-mirror "a private larder package mirror" \
		> $(MAN1)/larder-mirror.1
	@echo "installed in $(DESTDIR)$(PREFIX): bin/larder-build bin/larder-mirror bin/larder-python share/larder share/man"

# make dist: the runtime and larder.js as one versioned tarball, for anyone
# to host statically (serve .wasm as application/wasm, with COOP/COEP for
# input() and parallel downloads). Reproducible: sorted, fixed times.
LARDER_VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
DIST := $(B)/dist/larder-runtime-$(LARDER_VERSION).tar.gz
dist: runtime
	@mkdir -p $(B)/dist
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--transform 's,^\.,larder-runtime-$(LARDER_VERSION),' -C $(RUNTIME) -cf - . | gzip -9n > $(DIST)
	@echo "$(DIST): $$(tar -tzf $(DIST) | grep -vc '/$$') files, $$(wc -c < $(DIST)) bytes"

clean:
	rm -rf $(B)

endif
