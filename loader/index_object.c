/*
 * index_object.c - _larder.Index: a verified, parsed package index (index/)
 * as a Python object. This is what the finder consults on an import miss.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <time.h>

#include "loader.h"
#include "module.h"

typedef struct {
    PyObject_HEAD
    larder_index *index;
} IndexObject;

static PyObject *package_dict(const larder_package *p)
{
    PyObject *imports = module_py_strings(p->imports, p->n_imports, 1);
    PyObject *depends = module_py_strings(p->depends, p->n_depends, 1);
    PyObject *shlibs = module_py_strings(p->shared_libraries, p->n_shared_libraries, 1);
    PyObject *d = NULL;
    if (imports && depends && shlibs)
        d = Py_BuildValue("{s:s,s:s,s:s,s:s,s:s,s:s,s:K,s:K,s:O,s:O,s:O}", "name", p->key, "version",
                          p->version, "file_name", p->file_name, "install_dir", p->install_dir, "sha256",
                          p->sha256, "package_type", p->package_type, "size",
                          (unsigned long long)p->size, "unpacked_size", (unsigned long long)p->unpacked_size,
                          "imports", imports, "depends", depends, "shared_libraries", shlibs);
    Py_XDECREF(imports);
    Py_XDECREF(depends);
    Py_XDECREF(shlibs);
    return d;
}

static int Index_init(IndexObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "signature", "key", "min_serial", "now", "allow_unsigned", NULL};
    Py_buffer data, sig = {0};
    const char *key_text = NULL;
    unsigned long long min_serial = 0;
    long long now = -1;
    int allow_unsigned = 0;
    PyObject *sig_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|OzKLp:Index", kwlist, &data, &sig_obj, &key_text,
                                     &min_serial, &now, &allow_unsigned))
        return -1;
    if (sig_obj != Py_None && PyObject_GetBuffer(sig_obj, &sig, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&data);
        return -1;
    }
    larder_error err = {0};
    larder_pubkey key;
    larder_trust trust = {NULL, allow_unsigned, min_serial, now >= 0 ? now : (int64_t)time(NULL)};
    larder_index *index = NULL;
    if (key_text && larder_pubkey_parse(key_text, &key, &err) != LARDER_OK) {
        /* err filled */
    } else {
        if (key_text)
            trust.key = &key;
        Py_BEGIN_ALLOW_THREADS
        index = larder_index_open(data.buf, (size_t)data.len, sig.buf, (size_t)sig.len, &trust, &err);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&data);
    if (sig.obj)
        PyBuffer_Release(&sig);
    if (!index) {
        module_raise_index(&err);
        return -1;
    }
    larder_index_free(self->index);
    self->index = index;
    return 0;
}

static void Index_dealloc(IndexObject *self)
{
    larder_index_free(self->index);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

const larder_index *module_index_of(PyObject *obj)
{
    if (!PyObject_TypeCheck(obj, &module_IndexType))
        return NULL;
    return ((IndexObject *)obj)->index;
}

static int ready(IndexObject *self)
{
    if (self->index)
        return 1;
    PyErr_SetString(PyExc_ValueError, "Index was not initialised");
    return 0;
}

static Py_ssize_t Index_len(IndexObject *self)
{
    return ready(self) ? (Py_ssize_t)larder_index_count(self->index) : -1;
}

static PyObject *Index_get(IndexObject *self, PyObject *name)
{
    if (!ready(self))
        return NULL;
    const char *s = PyUnicode_AsUTF8(name);
    if (!s)
        return NULL;
    const larder_package *p = larder_index_find(self->index, s);
    if (!p)
        Py_RETURN_NONE;
    return package_dict(p);
}

static PyObject *Index_provider(IndexObject *self, PyObject *module)
{
    if (!ready(self))
        return NULL;
    const char *s = PyUnicode_AsUTF8(module);
    if (!s)
        return NULL;
    const larder_package *p = larder_index_find_import(self->index, s);
    if (!p)
        Py_RETURN_NONE;
    return PyUnicode_FromString(p->key);
}

static PyObject *Index_names(IndexObject *self, PyObject *unused)
{
    (void)unused;
    if (!ready(self))
        return NULL;
    size_t n = larder_index_count(self->index);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *s = PyUnicode_FromString(larder_index_at(self->index, i)->key);
        if (!s) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    return list;
}

static PyObject *Index_resolve(IndexObject *self, PyObject *arg)
{
    if (!ready(self))
        return NULL;
    PyObject *seq, *result = NULL;
    const char **names;
    Py_ssize_t n;
    if (module_names_of(arg, "resolve() takes a list of package names", &names, &n, &seq) < 0)
        return NULL;
    const larder_package **order;
    size_t n_order;
    larder_error err = {0};
    if (larder_index_resolve(self->index, names, (size_t)n, &order, &n_order, &err) != LARDER_OK) {
        module_raise(&err);
        goto done;
    }
    const char **keys = PyMem_Calloc(n_order + 1, sizeof *keys);
    for (size_t i = 0; keys && i < n_order; i++)
        keys[i] = order[i]->key;
    result = keys ? module_py_strings(keys, n_order, 0) : PyErr_NoMemory();
    PyMem_Free(keys);
    free(order);
done:
    PyMem_Free(names);
    Py_DECREF(seq);
    return result;
}

static PyObject *Index_info(IndexObject *self, void *closure)
{
    (void)closure;
    if (!ready(self))
        return NULL;
    const larder_index_info *i = larder_index_get_info(self->index);
    return Py_BuildValue("{s:z,s:z,s:z,s:z,s:z,s:z,s:z,s:K}", "arch", i->arch, "platform", i->platform,
                         "python", i->python, "abi_version", i->abi_version, "generated", i->generated,
                         "expires", i->expires, "key_id", i->key_id, "serial",
                         (unsigned long long)i->serial);
}

static PyMethodDef Index_methods[] = {
    {"get", (PyCFunction)Index_get, METH_O, "get(name) -> dict or None: the package entry."},
    {"provider", (PyCFunction)Index_provider, METH_O,
     "provider(module) -> str or None: the package that provides a top-level module."},
    {"resolve", (PyCFunction)Index_resolve, METH_O,
     "resolve(names) -> list: the dependency closure, dependencies first."},
    {"names", (PyCFunction)Index_names, METH_NOARGS, "names() -> list of package names."},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef Index_getset[] = {
    {"info", (getter)Index_info, NULL, "the index's info object", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PySequenceMethods Index_as_sequence = {.sq_length = (lenfunc)Index_len};

PyTypeObject module_IndexType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_larder.Index",
    .tp_basicsize = sizeof(IndexObject),
    .tp_dealloc = (destructor)Index_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Index(data, signature=None, key=None, min_serial=0, now=None, allow_unsigned=False)\n\n"
              "A package index, verified (signature with the pinned key, key id, serial not below\n"
              "min_serial, not expired) and parsed. Raises _larder.IndexError when it cannot be trusted.",
    .tp_methods = Index_methods,
    .tp_getset = Index_getset,
    .tp_as_sequence = &Index_as_sequence,
    .tp_init = (initproc)Index_init,
    .tp_new = PyType_GenericNew,
};
