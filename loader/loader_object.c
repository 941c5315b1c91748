/*
 * loader_object.c - _larder.Loader: installs packages of an _larder.Index
 * (with their dependencies) from the cache or the mirror. The finder in
 * larder.py calls install() when an import misses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "module.h"

typedef struct {
    PyObject_HEAD
    larder_loader *loader;
    PyObject *index;  /* keeps the borrowed larder_index alive */
    char *base_url, *cache_dir, *site_dir, *stdlib_dir, *dynlib_dir;
} LoaderObject;

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *d = PyMem_Malloc(strlen(s) + 1);
    if (d)
        strcpy(d, s);
    return d;
}

static void free_strings(LoaderObject *self)
{
    PyMem_Free(self->base_url);
    PyMem_Free(self->cache_dir);
    PyMem_Free(self->site_dir);
    PyMem_Free(self->stdlib_dir);
    PyMem_Free(self->dynlib_dir);
    self->base_url = self->cache_dir = self->site_dir = self->stdlib_dir = self->dynlib_dir = NULL;
}

static int Loader_init(LoaderObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"index", "base_url", "site_dir", "stdlib_dir", "dynlib_dir", "cache_dir",
                             "cache_cap", NULL};
    PyObject *index;
    const char *base_url, *site, *stdlib, *dynlib, *cache = NULL;
    unsigned long long cap = 256ull << 20;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Ossss|zK:Loader", kwlist, &index, &base_url, &site,
                                     &stdlib, &dynlib, &cache, &cap))
        return -1;
    const larder_index *ix = module_index_of(index);
    if (!ix) {
        PyErr_SetString(PyExc_TypeError, "Loader() needs an _larder.Index");
        return -1;
    }
    larder_loader_free(self->loader);
    self->loader = NULL;
    free_strings(self);
    self->base_url = dup_or_null(base_url);
    self->cache_dir = dup_or_null(cache);
    self->site_dir = dup_or_null(site);
    self->stdlib_dir = dup_or_null(stdlib);
    self->dynlib_dir = dup_or_null(dynlib);
    larder_loader_config cfg = {
        .base_url = self->base_url, .cache_dir = self->cache_dir, .cache_cap = cap,
        .site_dir = self->site_dir, .stdlib_dir = self->stdlib_dir, .dynlib_dir = self->dynlib_dir,
        .fetch = platform_fetch, .progress = platform_progress,
        .persist = platform_persist, .warn = platform_warn,
        .prefetch = platform_prefetch, .installed = platform_installed,
        .write_files = platform_write_files, .file_sha256 = platform_file_sha256,
    };
    larder_error err = {0};
    self->loader = larder_loader_new(&cfg, ix, &err);
    if (!self->loader) {
        module_raise(&err);
        return -1;
    }
    Py_INCREF(index);
    Py_XSETREF(self->index, index);
    return 0;
}

static void Loader_dealloc(LoaderObject *self)
{
    larder_loader_free(self->loader);
    free_strings(self);
    Py_XDECREF(self->index);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int ready(LoaderObject *self)
{
    if (self->loader)
        return 1;
    PyErr_SetString(PyExc_ValueError, "Loader was not initialised");
    return 0;
}

static PyObject *Loader_install(LoaderObject *self, PyObject *arg)
{
    if (!ready(self))
        return NULL;
    PyObject *seq, *result = NULL;
    const char **names;
    Py_ssize_t n;
    if (module_names_of(arg, "install() takes a list of package names", &names, &n, &seq) < 0)
        return NULL;
    larder_install_report *report = PyMem_Malloc(sizeof *report);
    if (!report) {
        PyErr_NoMemory();
        goto done;
    }
    larder_error err = {0};
    larder_code rc;
    /* no GIL release: the JS fetch hook must run on this thread anyway */
    rc = larder_loader_install(self->loader, names, (size_t)n, report, &err);
    if (rc != LARDER_OK) {
        module_raise(&err);
        goto done;
    }
    result = PyList_New((Py_ssize_t)report->n);
    for (size_t i = 0; result && i < report->n; i++) {
        PyObject *item = Py_BuildValue("(sO)", report->packages[i]->key,
                                       report->from_cache[i] ? Py_True : Py_False);
        if (!item) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, (Py_ssize_t)i, item);
    }
done:
    PyMem_Free(report);
    PyMem_Free(names);
    Py_DECREF(seq);
    return result;
}

static PyObject *Loader_prefetch(LoaderObject *self, PyObject *arg)
{
    if (!ready(self))
        return NULL;
    PyObject *seq;
    const char **names;
    Py_ssize_t n;
    if (module_names_of(arg, "prefetch() takes a list of package names", &names, &n, &seq) < 0)
        return NULL;
    larder_error err = {0};
    larder_code rc = larder_loader_prefetch(self->loader, names, (size_t)n, &err);
    PyMem_Free(names);
    Py_DECREF(seq);
    if (rc != LARDER_OK)
        return module_raise(&err);
    Py_RETURN_NONE;
}

static PyObject *Loader_is_installed(LoaderObject *self, PyObject *name)
{
    if (!ready(self))
        return NULL;
    const char *s = PyUnicode_AsUTF8(name);
    if (!s)
        return NULL;
    return PyBool_FromLong(larder_loader_is_installed(self->loader, s));
}

static PyObject *Loader_installed(LoaderObject *self, PyObject *unused)
{
    (void)unused;
    if (!ready(self))
        return NULL;
    const char *const *names;
    size_t n = larder_loader_installed(self->loader, &names);
    return module_py_strings(names, n, 0);
}

static PyObject *Loader_cache_bytes(LoaderObject *self, PyObject *unused)
{
    (void)unused;
    if (!ready(self))
        return NULL;
    larder_cache *c = larder_loader_cache(self->loader);
    return PyLong_FromUnsignedLongLong(c ? larder_cache_bytes(c) : 0);
}

static PyObject *Loader_stats(LoaderObject *self, PyObject *unused)
{
    (void)unused;
    if (!ready(self))
        return NULL;
    const larder_loader_stats *s = larder_loader_get_stats(self->loader);
    return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:d,s:d,s:d,s:d,s:d,s:d,s:d}",
                         "packages", (unsigned long long)s->packages,
                         "from_cache", (unsigned long long)s->from_cache,
                         "files", (unsigned long long)s->files,
                         "archive_bytes", (unsigned long long)s->archive_bytes,
                         "unpacked_bytes", (unsigned long long)s->unpacked_bytes,
                         "prefetched", (unsigned long long)s->prefetched,
                         "hashed_by_platform", (unsigned long long)s->hashed_by_platform,
                         "handed_ahead", (unsigned long long)s->handed_ahead,
                         "resolve_ms", s->resolve_ms, "fetch_ms", s->fetch_ms,
                         "cache_read_ms", s->cache_read_ms, "verify_ms", s->verify_ms,
                         "decompress_ms", s->decompress_ms, "unpack_ms", s->unpack_ms,
                         "cache_write_ms", s->cache_write_ms);
}

static PyMethodDef Loader_methods[] = {
    {"install", (PyCFunction)Loader_install, METH_O,
     "install(names) -> [(name, from_cache)]: install packages and their dependencies."},
    {"prefetch", (PyCFunction)Loader_prefetch, METH_O,
     "prefetch(names): start downloading what installing names would fetch; installs nothing."},
    {"is_installed", (PyCFunction)Loader_is_installed, METH_O, "is_installed(name) -> bool"},
    {"installed", (PyCFunction)Loader_installed, METH_NOARGS, "installed() -> names installed so far"},
    {"cache_bytes", (PyCFunction)Loader_cache_bytes, METH_NOARGS, "cache_bytes() -> bytes in the cache"},
    {"stats", (PyCFunction)Loader_stats, METH_NOARGS,
     "stats() -> dict: counts and milliseconds per step of every install so far"},
    {NULL, NULL, 0, NULL}
};

PyTypeObject module_LoaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_larder.Loader",
    .tp_basicsize = sizeof(LoaderObject),
    .tp_dealloc = (destructor)Loader_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Loader(index, base_url, site_dir, stdlib_dir, dynlib_dir, cache_dir=None, cache_cap=256 MiB)\n\n"
              "Installs packages of index from base_url, through the cache in cache_dir.",
    .tp_methods = Loader_methods,
    .tp_init = (initproc)Loader_init,
    .tp_new = PyType_GenericNew,
};
