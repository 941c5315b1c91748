/* module.h - shared by the sources of the _larder module; not public. */
#ifndef LARDER_MODULE_H
#define LARDER_MODULE_H

#include <Python.h>

#include "loader.h"

/* Raise the Python exception that matches err->code; returns NULL. */
PyObject *larder_raise(const larder_error *err);

/* Raise _larder.IndexError (or MemoryError) for a failure to open an index. */
PyObject *larder_raise_index(const larder_error *err);

/* The strings of a Python sequence of str as a C array: *names (free with
 * PyMem_Free) points into *keep (release with Py_DECREF), both NULL on
 * error with an exception set. what names the call for the TypeError. */
int larder_names_of(PyObject *seq, const char *what, const char ***names, Py_ssize_t *n, PyObject **keep);

/* A Python tuple (as_tuple) or list of n UTF-8 strings. */
PyObject *larder_py_strings(const char *const *items, size_t n, int as_tuple);

extern PyTypeObject larder_IndexType;
extern PyTypeObject larder_LoaderType;

/* The larder_index inside an _larder.Index (NULL if not an Index). */
const larder_index *larder_index_of(PyObject *obj);

/* The platform hooks of the wasm runtime (fetch.c). */
larder_code larder_platform_fetch(void *ctx, const larder_fetch_request *req, unsigned char **data, size_t *len,
                                  int *from_store, larder_error *err);
void larder_platform_progress(void *ctx, const char *package, uint64_t done, uint64_t total);
void larder_platform_persist(void *ctx);
void larder_platform_prefetch(void *ctx, const larder_fetch_request *reqs, size_t n);
void larder_platform_installed(void *ctx, const larder_package *package, int from_cache);
void larder_platform_warn(void *ctx, const char *message);

#endif
