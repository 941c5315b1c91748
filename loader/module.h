/* module.h - shared by the sources of the _larder module; not public. */
#ifndef LARDER_MODULE_H
#define LARDER_MODULE_H

#include <Python.h>

#include "../index/index.h"

/* Raise the Python exception that matches err->code; returns NULL. */
PyObject *larder_raise(const larder_error *err);

/* Raise _larder.IndexError (or MemoryError) for a failure to open an index. */
PyObject *larder_raise_index(const larder_error *err);

extern PyTypeObject larder_IndexType;

#endif
