/* module.h - shared by the sources of the _larder module; not public: its
 * symbols are named module_* and platform_* (fetch.c), not larder_*. */
#ifndef LARDER_MODULE_H
#define LARDER_MODULE_H

#include <Python.h>

#include "loader.h"

/* Raise the Python exception that matches err->code; returns NULL. */
PyObject *module_raise(const larder_error *err);

/* Raise _larder.IndexError (or MemoryError) for a failure to open an index. */
PyObject *module_raise_index(const larder_error *err);

/* The strings of a Python sequence of str as a C array: *names (free with
 * PyMem_Free) points into *keep (release with Py_DECREF), both NULL on
 * error with an exception set. what names the call for the TypeError. */
int module_names_of(PyObject *seq, const char *what, const char ***names, Py_ssize_t *n, PyObject **keep);

/* A Python tuple (as_tuple) or list of n UTF-8 strings. */
PyObject *module_py_strings(const char *const *items, size_t n, int as_tuple);

extern PyTypeObject module_IndexType;
extern PyTypeObject module_LoaderType;

/* The larder_index inside an _larder.Index (NULL if not an Index). */
const larder_index *module_index_of(PyObject *obj);

/* The platform hooks of the wasm runtime (fetch.c). */
larder_code platform_fetch(void *ctx, const larder_fetch_request *req, unsigned char **data, size_t *len,
                           larder_fetch_result *result, larder_error *err);
void platform_progress(void *ctx, const char *package, uint64_t done, uint64_t total);
void platform_persist(void *ctx);
void platform_prefetch(void *ctx, const larder_fetch_request *reqs, size_t n);
void platform_installed(void *ctx, const larder_package *package, int from_cache);
void platform_warn(void *ctx, const char *message);
larder_code platform_write_files(void *ctx, const char *root, const larder_tar_entry *entries, size_t n,
                                 int *handled, larder_error *err);
int platform_file_sha256(void *ctx, const char *path, char out[LARDER_SHA256_HEX]);

#endif
