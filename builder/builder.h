/*
 * builder.h - larder-build's library: the one public header of builder/.
 *
 * Turns Python distributions into larder packages: a deterministic
 * NAME-VERSION-BUILD.tar.zst archive plus its index entry NAME-VERSION-
 * BUILD.json (the format of docs/design.md, "Formats"). Sources:
 *   - wheels (zip, read with libarchive; RECORD hashes checked),
 *   - installed distributions (*.dist-info with RECORD, or *.egg-info with
 *     top_level.txt), as Debian's python3-* packages install them.
 * Python files are compiled to .pyc by a host CPython 3.11 whose bytecode
 * matches the runtime's. Nothing is written unless the whole package built:
 * outputs appear by rename, and a failure removes every partial file.
 */
#ifndef LARDER_BUILDER_H
#define LARDER_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "../index/index.h"

/* ------------------------------------------------------------------------
 * File sets and archives
 * ------------------------------------------------------------------------ */

/* Files of one package, relative to its install dir, in memory. */
typedef struct larder_fileset larder_fileset;

typedef struct larder_file {
    char *path;        /* relative, '/'-separated, no "..", no leading '/' */
    unsigned mode;     /* 0644 or 0755 */
    unsigned char *data;
    size_t size;
} larder_file;

larder_fileset *larder_fileset_new(void);
void larder_fileset_free(larder_fileset *set);
/* Add a regular file (data is copied). The path is checked: absolute paths,
 * ".." or "." components, empty components, backslashes, and a path already
 * in the set are LARDER_EINVAL. */
larder_code larder_fileset_add(larder_fileset *set, const char *path, const void *data, size_t size,
                               unsigned mode, larder_error *err);
/* Remove a file; returns 1 if it was there. */
int larder_fileset_remove(larder_fileset *set, const char *path);
size_t larder_fileset_count(const larder_fileset *set);
larder_file *larder_fileset_at(const larder_fileset *set, size_t i);
larder_file *larder_fileset_find(const larder_fileset *set, const char *path);
/* Sum of file sizes. */
uint64_t larder_fileset_bytes(const larder_fileset *set);

/* Write set as a deterministic POSIX tar (sorted, parent directories
 * included, mtime 0, uid/gid 0, no names, modes 0644/0755) compressed as one
 * zstd frame with content size and checksum at `level`. *out is malloc'd. */
larder_code larder_archive_write(larder_fileset *set, int level, unsigned char **out, size_t *out_len,
                                 larder_error *err);
/* How many entries that tar holds (files and their parent directories):
 * the index's "entries", which bounds what the loader decompresses.
 * 0 when out of memory. */
size_t larder_archive_entries(larder_fileset *set);

/* What a side module (a wasm .so of a compiled extension, `what` naming it
 * in errors) imports from the runtime that loads it: its env, GOT.mem and
 * GOT.func imports, less what it exports itself and what emscripten's
 * dynamic linker makes (memory, __memory_base, __table_base,
 * __stack_pointer, __indirect_function_table, invoke_*,
 * __cxa_find_matching_catch_N). *needs: sorted, malloc'd names (each too).
 * LARDER_EINVAL when data is not wasm, LARDER_ECORRUPT when it is damaged. */
larder_code larder_side_module_needs(const unsigned char *data, size_t len, const char *what, char ***needs,
                                     size_t *n_needs, larder_error *err);
/* What a runtime exports: its python.symbols (the names python.wasm
 * exports, written by the runtime's link), read once for many checks.
 * LARDER_ENOTFOUND (saying to rebuild the runtime) when runtime_dir has no
 * python.symbols. Free with larder_runtime_symbols_free. */
typedef struct larder_runtime_symbols larder_runtime_symbols;
larder_code larder_runtime_symbols_load(const char *runtime_dir, larder_runtime_symbols **out, larder_error *err);
void larder_runtime_symbols_free(larder_runtime_symbols *symbols);
/* Check every side module of a .tar.zst archive against what a runtime
 * exports. LARDER_EINVAL names the module and up to 8 missing names (and
 * says what to do). */
larder_code larder_check_side_modules(const char *archive, const larder_runtime_symbols *runtime,
                                      larder_error *err);
/* The sorted union of what the side modules of the .tar.zst archives need
 * (larder_side_module_needs); *needs and each name malloc'd. */
larder_code larder_archives_needs(const char *const *archives, size_t n, char ***needs, size_t *n_needs,
                                  larder_error *err);

/* ------------------------------------------------------------------------
 * Metadata and markers
 * ------------------------------------------------------------------------ */

/* The target the runtime is: PEP 508 marker values. */
typedef struct larder_target {
    const char *python_version;       /* "3.11" */
    const char *python_full_version;  /* "3.11.2" */
    const char *sys_platform;         /* "emscripten" */
    const char *platform_system;      /* "Emscripten" */
    const char *platform_machine;     /* "wasm32" */
    const char *platform_release;     /* "3.1.6" */
    const char *os_name;              /* "posix" */
    const char *implementation_name;  /* "cpython" */
} larder_target;

extern const larder_target larder_default_target;

/* Evaluate a PEP 508 environment marker for target with the given extras
 * (NULL-terminated list, may be NULL). *result is 1 or 0. A malformed marker
 * is LARDER_EINVAL. */
larder_code larder_marker_eval(const char *marker, const larder_target *target, const char *const *extras,
                               int *result, larder_error *err);

/* A distribution's core metadata (METADATA or PKG-INFO). */
typedef struct larder_metadata {
    char *name, *version;
    char **requires;   /* Requires-Dist values, as written */
    size_t n_requires;
} larder_metadata;

/* Parse RFC 822-style core metadata (headers up to the first blank line).
 * Name and Version are required (LARDER_EINVAL naming `what` otherwise). */
larder_code larder_metadata_parse(const char *text, size_t len, const char *what, larder_metadata *md,
                                  larder_error *err);
/* Add requirements from an egg-info requires.txt ("[extra]", "[:marker]"
 * and "[extra:marker]" sections) as Requires-Dist equivalents. */
larder_code larder_metadata_add_requires_txt(larder_metadata *md, const char *text, size_t len,
                                             larder_error *err);
void larder_metadata_clear(larder_metadata *md);

/* The normalised names of the requirements that apply to target with
 * extras; *names is a malloc'd array of malloc'd strings, deduplicated, in
 * the order written. */
larder_code larder_requirements_eval(const larder_metadata *md, const larder_target *target,
                                     const char *const *extras, char ***names, size_t *n,
                                     larder_error *err);

/* ------------------------------------------------------------------------
 * Versions and requirements (PEP 440, PEP 508)
 * ------------------------------------------------------------------------ */

#define LARDER_VERSION_PARTS 16

/* A PEP 440 version, normalised. */
typedef struct larder_version {
    long epoch;
    long release[LARDER_VERSION_PARTS];
    int n_release;
    char pre_kind;        /* 'a', 'b', 'c' (rc), or 0 */
    long pre;
    int has_post, has_dev;
    long post, dev;
    char local[64];       /* the local label, '.'-separated, lower case, or "" */
} larder_version;

/* 1 when text is a valid PEP 440 version (parsed into *v), else 0. */
int larder_version_parse(const char *text, larder_version *v);
/* PEP 440 ordering: <0, 0, >0. */
int larder_version_cmp(const larder_version *a, const larder_version *b);
/* 1 for pre-releases and development releases. */
int larder_version_is_pre(const larder_version *v);
/* 1 when v (written version_text) satisfies every comma-separated clause of
 * spec ("" matches every version), 0 when not, -1 when spec is malformed.
 * Pre-release exclusion is the caller's (larder_specifier_names_pre). */
int larder_specifier_match(const char *spec, const char *version_text, const larder_version *v);
/* 1 when a clause of spec names a pre-release (which then lets them in). */
int larder_specifier_names_pre(const char *spec);

/* A PEP 508 requirement. */
typedef struct larder_requirement {
    char name[128];      /* normalised (PEP 503) */
    char display[128];   /* as written */
    char extras[256];    /* normalised, comma-separated, or "" */
    char spec[256];      /* the specifier clauses without spaces, or "" */
    char marker[512];    /* the marker's text, or "" */
} larder_requirement;

/* Parse "name[extras] specifiers ; marker". Direct URL references and
 * malformed specifiers are LARDER_EINVAL naming the requirement. */
larder_code larder_requirement_parse(const char *text, larder_requirement *req, larder_error *err);

/* ------------------------------------------------------------------------
 * Building packages
 * ------------------------------------------------------------------------ */

typedef struct larder_build_options {
    const char *outdir;          /* where NAME-VERSION-BUILD.{tar.zst,json} go */
    const char *build;           /* build tag, default "0" */
    const char *const *extras;   /* extras to include (NULL-terminated), or NULL */
    const char *const *depends;  /* extra dependencies to record (NULL-terminated),
                                    for metadata that lost them; or NULL */
    const char *const *exclude;  /* wheel, sdist: leave out files with a path component
                                    matching one of these fnmatch patterns
                                    (NULL-terminated), e.g. "tests"; or NULL */
    int keep_sources;            /* keep .py beside the .pyc */
    int level;                   /* zstd level (default 19) */
    uint64_t max_file_size;      /* per file; default 64 MiB */
    uint64_t max_total_size;     /* per package; default 512 MiB */
    const char *python;          /* host CPython 3.11; default /usr/bin/python3.11 */
    const char *const *site_dirs;/* for dist: where to look (NULL: Debian's) */
    const char *stdlib_dir;      /* a stdlib split's outdir (entries *.json): the stdlib
                                    packages a package imports at module level become
                                    its dependencies, fetched with it; or NULL */
    int quiet;
} larder_build_options;

/* What one build produced. */
typedef struct larder_build_result {
    char name[128], version[64];
    char archive_path[1024], entry_path[1024];
    uint64_t size, unpacked_size;
    size_t n_files;
} larder_build_result;

/* Convert a wheel file. Refuses corrupt or truncated zips, RECORD hash or
 * size mismatches, files missing from RECORD, missing METADATA, unsafe
 * paths, links, oversize files, and wheels built for another platform. */
larder_code larder_build_wheel(const char *path, const larder_build_options *opt,
                               larder_build_result *result, larder_error *err);

/* The core metadata (METADATA of the wheel's .dist-info) of a wheel file,
 * read with the same checks as larder_build_wheel's reading. */
larder_code larder_wheel_metadata(const char *path, larder_metadata *md, larder_error *err);

/* Convert an installed distribution, found by project name in
 * opt->site_dirs. Files outside the site directory (scripts) and host-native
 * extension modules are left out, with a note on stderr. */
larder_code larder_build_dist(const char *name, const larder_build_options *opt,
                              larder_build_result *result, larder_error *err);

/* Build a wheel from a source distribution with pip on the host (the
 * project's own build backend, in pip's isolated build environment; build
 * requirements from index_url, default PyPI) and move it into outdir;
 * *wheel receives its path. The wheel may hold extension modules for the
 * host: the caller decides whether it can be converted. */
larder_code larder_wheel_from_sdist(const char *sdist, const char *outdir, const char *python, const char *index_url,
                                    char *wheel, size_t wheel_size, larder_error *err);

/* Cross-compile a source distribution for the runtime with its own
 * setuptools build backend (builder/native/cross-wheel.sh: emcc, the wasm
 * CPython's sysconfig and headers, side modules, the wasm numpy's headers
 * when it builds against numpy) and write the wheel (*-emscripten_*_wasm32,
 * or a pure one when the sdist has no compiled sources) into outdir;
 * *wheel receives its path. sdist is a file or NAME==VERSION (PyPI's sdist,
 * checked against the sha256 PyPI gives, and against sha256 when not NULL).
 * withs (NULL-terminated, at most LARDER_MAX_WITH, or NULL): prefixes of C
 * libraries built for wasm (include/, lib/). The toolchain is the directory
 * $LARDER_CROSS, else ../cross beside the executable; a missing one is
 * LARDER_ENOTFOUND. A backend it cannot drive (meson, scikit-build, maturin)
 * or a build that fell back to pure Python is LARDER_EINVAL saying so; a
 * failed compile names its first error and the kept log. */
#define LARDER_MAX_WITH 8
/* 16 hex digits naming the cross toolchain's state (its script and the
 * trees it builds against), for caching what larder_cross_wheel built. */
larder_code larder_cross_key(char key[17], larder_error *err);
larder_code larder_cross_wheel(const char *sdist, const char *sha256, const char *const *withs, const char *outdir,
                               char *wheel, size_t wheel_size, larder_error *err);

/* The stdlib split. */
typedef struct larder_stdlib_options {
    const char *libdir;         /* CPython's Lib/ */
    const char *core_list;      /* modules kept in the core bundle, one a line */
    const char *dynload;        /* side modules (*.so) to distribute, or NULL */
    const char *sysconfigdata;  /* the target's _sysconfigdata*.py, or NULL */
    const char *version;        /* the CPython version, e.g. "3.11.2" */
} larder_stdlib_options;

/* Write one cpython_module package (install_dir "stdlib") per top-level
 * stdlib module or package outside the core, into opt->outdir. depends are
 * the packages imported at module level (static analysis); side modules
 * travel in the package that imports them. *n_built counts the packages. */
larder_code larder_build_stdlib(const larder_stdlib_options *so, const larder_build_options *opt,
                                size_t *n_built, larder_error *err);

/* Package a directory tree as it would be installed in site-packages (a
 * cross-compiled build tree, for instance): every file below dir, under
 * name and version, with the given import names (comma-separated; NULL:
 * derived from the files) and opt->depends. */
larder_code larder_build_tree(const char *dir, const char *name, const char *version, const char *imports,
                              const larder_build_options *opt, larder_build_result *result, larder_error *err);

/* Compile every .py of set to .pyc with the host python (unchecked-hash
 * pycs, so the bytes depend on the source only), each code object's
 * filename the file's path in the runtime, prefix/PATH (what tracebacks
 * show, and what packages compare with __file__ to find their own frames:
 * pandas' warnings' stacklevel). Without keep_sources the
 * .py is replaced by a sourceless NAME.pyc; with it, the .pyc goes to
 * __pycache__/NAME.cpython-311.pyc. A source that does not compile is an
 * error naming the file. With n_tops > 0, *imported (malloc'd, one name a
 * line, or NULL) receives the top-level names that importing tops imports
 * at module level, other than tops (stdlib_plan.py --imports). */
larder_code larder_compile_pyc(larder_fileset *set, const char *python, const char *prefix, int keep_sources,
                               const char *const *tops, size_t n_tops, char **imported,
                               larder_error *err);

/* Write archive + entry for set into opt->outdir atomically. The entry
 * fields come from the arguments; imports and depends are lists of n
 * strings. */
larder_code larder_package_write(larder_fileset *set, const char *name, const char *version,
                                 const char *install_dir, const char *package_type,
                                 const char *const *imports, size_t n_imports,
                                 const char *const *depends, size_t n_depends,
                                 const larder_build_options *opt, larder_build_result *result,
                                 larder_error *err);

#endif
