/*
 * module.c - the _larder builtin module: the Python face of loader.h.
 *
 * Failures raise larder errors as Python exceptions: _larder.IntegrityError,
 * _larder.CorruptError and _larder.IndexError derive from _larder.LoadError,
 * which derives from ImportError, so a failed load is an import failure.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "module.h"
#include "selftest_vector.h"

static PyObject *LoadError, *IntegrityError, *CorruptError, *IndexError, *FetchError;

PyObject *module_raise(const larder_error *err)
{
    PyObject *type = LoadError;
    if (err->code == LARDER_EINTEGRITY)
        type = IntegrityError;
    else if (err->code == LARDER_ECORRUPT || err->code == LARDER_ETOOBIG)
        type = CorruptError;
    else if (err->code == LARDER_ESIGNATURE || err->code == LARDER_ESTALE)
        type = IndexError;
    else if (err->code == LARDER_EFETCH)
        type = FetchError;
    else if (err->code == LARDER_ENOMEM)
        return PyErr_NoMemory();
    PyErr_SetString(type, err->message);
    return NULL;
}

int module_names_of(PyObject *obj, const char *what, const char ***names, Py_ssize_t *n, PyObject **keep)
{
    *names = NULL;
    *n = 0;
    *keep = PySequence_Fast(obj, what);
    if (!*keep)
        return -1;
    *n = PySequence_Fast_GET_SIZE(*keep);
    *names = PyMem_Calloc((size_t)*n + 1, sizeof **names);
    if (!*names) {
        PyErr_NoMemory();
        Py_CLEAR(*keep);
        return -1;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        if (!((*names)[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(*keep, i)))) {
            PyMem_Free(*names);
            *names = NULL;
            Py_CLEAR(*keep);
            return -1;
        }
    }
    return 0;
}

PyObject *module_py_strings(const char *const *items, size_t n, int as_tuple)
{
    PyObject *seq = as_tuple ? PyTuple_New((Py_ssize_t)n) : PyList_New((Py_ssize_t)n);
    for (size_t i = 0; seq && i < n; i++) {
        PyObject *s = PyUnicode_FromString(items[i]);
        if (!s) {
            Py_DECREF(seq);
            return NULL;
        }
        if (as_tuple)
            PyTuple_SET_ITEM(seq, (Py_ssize_t)i, s);
        else
            PyList_SET_ITEM(seq, (Py_ssize_t)i, s);
    }
    return seq;
}

PyObject *module_raise_index(const larder_error *err)
{
    if (err->code == LARDER_ENOMEM)
        return PyErr_NoMemory();
    PyErr_SetString(IndexError, err->message);
    return NULL;
}

PyDoc_STRVAR(sha256_doc, "sha256(data) -> str\n\nSHA-256 of a bytes-like object, as lowercase hex.");
static PyObject *larder_py_sha256(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_buffer view;
    char hex[LARDER_SHA256_HEX];
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    larder_sha256_hex(view.buf, (size_t)view.len, hex);
    PyBuffer_Release(&view);
    return PyUnicode_FromString(hex);
}

PyDoc_STRVAR(decompress_doc,
"zstd_decompress(frame, max_size) -> bytes\n\n"
"Decompress one zstd frame that declares its content size (at most max_size\n"
"bytes). Raises CorruptError for damaged, truncated or oversized input.");
static PyObject *larder_py_zstd_decompress(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer view;
    Py_ssize_t max_size;
    void *out;
    size_t out_len;
    larder_error err;
    if (!PyArg_ParseTuple(args, "y*n:zstd_decompress", &view, &max_size))
        return NULL;
    if (max_size < 0) {  /* an argument error, not a load failure */
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "max_size must be >= 0");
        return NULL;
    }
    larder_code rc = larder_zstd_decompress(view.buf, (size_t)view.len, (size_t)max_size, 0,
                                            &out, &out_len, &err);
    PyBuffer_Release(&view);
    if (rc != LARDER_OK)
        return module_raise(&err);
    PyObject *result = PyBytes_FromStringAndSize(out, (Py_ssize_t)out_len);
    free(out);
    return result;
}

PyDoc_STRVAR(selftest_doc,
"selftest() -> dict\n\n"
"Decompress a zstd frame that the native zstd tool made at build time and\n"
"check the SHA-256 of the result against the digest recorded then. Returns\n"
"the library versions and the checked digest; raises on any mismatch.");
static PyObject *larder_py_selftest(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    void *out;
    size_t out_len;
    larder_error err;
    if (larder_zstd_decompress(selftest_frame, sizeof selftest_frame, selftest_size, 0,
                               &out, &out_len, &err) != LARDER_OK)
        return module_raise(&err);
    larder_code rc = out_len == selftest_size
        ? larder_verify_sha256(out, out_len, selftest_sha256, "selftest vector", &err)
        : larder_fail(&err, LARDER_ECORRUPT, "selftest vector: %zu bytes, expected %zu",
                      out_len, (size_t)selftest_size);
    free(out);
    if (rc != LARDER_OK)
        return module_raise(&err);
    return Py_BuildValue("{s:s,s:s,s:n,s:n,s:s}",
                         "zstd", larder_zstd_version(),
                         "libsodium", larder_sodium_version(),
                         "compressed", (Py_ssize_t)sizeof selftest_frame,
                         "size", (Py_ssize_t)out_len,
                         "sha256", selftest_sha256);
}

PyDoc_STRVAR(fetch_doc, "fetch(url) -> bytes\n\nFetch a URL through the runtime's fetcher; FetchError names the cause.");
static PyObject *larder_py_fetch(PyObject *self, PyObject *arg)
{
    (void)self;
    const char *url = PyUnicode_AsUTF8(arg);
    unsigned char *data;
    size_t len;
    larder_error err = {0};
    if (!url)
        return NULL;
    larder_fetch_request req = {url, 0, NULL, 0};
    larder_fetch_result got;
    if (platform_fetch(NULL, &req, &data, &len, &got, &err) != LARDER_OK) {
        larder_prefix(&err, LARDER_EFETCH, "cannot fetch %s", url);
        return module_raise(&err);
    }
    PyObject *result = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)len);
    free(data);
    return result;
}

PyDoc_STRVAR(key_id_doc, "key_id(key) -> str\n\n"
             "The id of a public key \"ed25519:...\": the first 16 hex digits of the sha256 of its\n"
             "bytes, as index.json's info.key_id names it.");
static PyObject *larder_py_key_id(PyObject *self, PyObject *arg)
{
    (void)self;
    const char *text = PyUnicode_AsUTF8(arg);
    if (!text)
        return NULL;
    larder_pubkey key;
    larder_error err = {0};
    if (larder_pubkey_parse(text, &key, &err) != LARDER_OK)
        return module_raise_index(&err);
    return PyUnicode_FromString(key.id);
}

/* Hands bytes to the page (Module.larderDisplay, set by larder-runtime.js
 * from its display option); 0 when the runtime has no display. */
EM_JS(int, larder_js_display, (const char *mime, const unsigned char *data, size_t len), {
    if (!Module.larderDisplay)
        return 0;
    Module.larderDisplay(UTF8ToString(mime), HEAPU8.slice(data, data + len));
    return 1;
});

PyDoc_STRVAR(display_doc, "display(mime, data) -> bool\n\n"
             "Show data (bytes of the given MIME type, e.g. image/png) on the page running\n"
             "the interpreter, in order with its output. False when nothing displays it\n"
             "(no display callback: under Node, or a page that gave none).");
static PyObject *larder_py_display(PyObject *self, PyObject *args)
{
    (void)self;
    const char *mime;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "sy*:display", &mime, &data))
        return NULL;
    int shown = larder_js_display(mime, data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    return PyBool_FromLong(shown);
}

static PyMethodDef larder_methods[] = {
    {"display", larder_py_display, METH_VARARGS, display_doc},
    {"fetch", larder_py_fetch, METH_O, fetch_doc},
    {"key_id", larder_py_key_id, METH_O, key_id_doc},
    {"sha256", larder_py_sha256, METH_O, sha256_doc},
    {"zstd_decompress", larder_py_zstd_decompress, METH_VARARGS, decompress_doc},
    {"selftest", larder_py_selftest, METH_NOARGS, selftest_doc},
    {NULL, NULL, 0, NULL}
};

static int add_exception(PyObject *m, PyObject **slot, const char *name, PyObject *base,
                         const char *doc)
{
    char qualified[64];
    snprintf(qualified, sizeof qualified, "larder.%s", name);  /* the public name */
    *slot = PyErr_NewExceptionWithDoc(qualified, doc, base, NULL);
    if (!*slot)
        return -1;
    Py_INCREF(*slot);
    return PyModule_AddObject(m, name, *slot);
}

static struct PyModuleDef larder_module = {
    PyModuleDef_HEAD_INIT, "_larder",
    "larder loader core: verification and decompression of package archives.",
    -1, larder_methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__larder(void)
{
    larder_error err;
    if (larder_loader_init(&err) != LARDER_OK) {
        PyErr_SetString(PyExc_ImportError, err.message);
        return NULL;
    }
    PyObject *m = PyModule_Create(&larder_module);
    if (!m)
        return NULL;
    if (add_exception(m, &LoadError, "LoadError", PyExc_ImportError,
                      "A package could not be loaded.") < 0
        || add_exception(m, &IntegrityError, "IntegrityError", LoadError,
                         "Downloaded or cached data does not match its signed digest.") < 0
        || add_exception(m, &CorruptError, "CorruptError", LoadError,
                         "An archive is damaged, truncated or over its size limit.") < 0
        || add_exception(m, &IndexError, "IndexError", LoadError,
                         "The package index cannot be trusted: bad signature, rollback, expired.") < 0
        || add_exception(m, &FetchError, "FetchError", LoadError,
                         "A download failed: network error or an HTTP error status.") < 0
        || PyType_Ready(&module_IndexType) < 0
        || PyModule_AddObjectRef(m, "Index", (PyObject *)&module_IndexType) < 0
        || PyType_Ready(&module_LoaderType) < 0
        || PyModule_AddObjectRef(m, "Loader", (PyObject *)&module_LoaderType) < 0
        /* the target (common.h), for larder.py: one definition, not copies */
        || PyModule_AddStringConstant(m, "PYTHON_VERSION", LARDER_PYTHON_VERSION) < 0
        || PyModule_AddStringConstant(m, "ABI_VERSION", LARDER_ABI_VERSION) < 0
        || PyModule_AddStringConstant(m, "PREFIX", LARDER_TARGET_PREFIX) < 0
        || PyModule_AddStringConstant(m, "STDLIB_DIR", LARDER_TARGET_STDLIB_DIR) < 0
        || PyModule_AddStringConstant(m, "SITE_DIR", LARDER_TARGET_SITE_DIR) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
