/*
 * jsffi.c - the _jsffi builtin module: JavaScript values for Python, by
 * handle, over the functions of loader/js/jsffi-library.js.
 *
 * A handle is a positive int naming a JavaScript value in the JS-side table;
 * whoever receives one from a function here owns it and must release it
 * (pyodide/ffi.py's JsProxy does, when it is freed). Primitive values are
 * converted both ways (undefined/null -> None, booleans, numbers -> int
 * when integral and float otherwise, BigInt <-> int, strings); everything
 * else stays a handle. A JavaScript exception becomes the exception class
 * given to set_hooks(), constructed with the handle of what was thrown.
 * Python callables handed to JavaScript (make_function) are JavaScript
 * functions holding a reference to the callable until destroy_function.
 *
 * Everything here runs on the interpreter's one thread; JavaScript calls
 * back into Python (larder_jsffi_call) only while that thread is in a call
 * into JavaScript, or from the event loop between runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <emscripten.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* loader/js/jsffi-library.js */
extern int jsffi_global(void);
extern void jsffi_release(int h);
extern int jsffi_dup(int h);
extern int jsffi_instance_of(int h, const char *constructor);
extern int jsffi_live(void);
extern int jsffi_take_error(void);
extern void jsffi_set_py_error(const char *message);
extern int jsffi_kind(int h);
extern double jsffi_number(int h);
extern char *jsffi_string(int h);
extern char *jsffi_typeof(int h);
extern int jsffi_undefined(void);
extern int jsffi_from_bool(int b);
extern int jsffi_from_number(double x);
extern int jsffi_from_bigint(const char *decimal);
extern int jsffi_from_string(const char *utf8, int len);
extern int jsffi_from_bytes(const void *data, int len);
extern int jsffi_get(int h, const char *name);
extern int jsffi_set(int h, const char *name, int vh);
extern int jsffi_delete(int h, const char *name);
extern int jsffi_get_item(int h, int kh);
extern int jsffi_set_item(int h, int kh, int vh);
extern int jsffi_delete_item(int h, int kh);
extern int jsffi_equals(int a, int b);
extern int jsffi_truthy(int h);
extern int jsffi_call(int fh, int thish, const int *args, int n);
extern int jsffi_new(int fh, const int *args, int n);
extern int jsffi_buffer_length(int h);
extern void jsffi_buffer_copy(int h, void *dest);
extern int jsffi_make_function(PyObject *callable);
extern PyObject *jsffi_destroy_function(int h);

enum { K_UNDEFINED = 1, K_NULL, K_BOOLEAN, K_NUMBER, K_BIGINT, K_STRING };

/* set_hooks(): the exception class for what JavaScript throws, and the
 * converters for callbacks: wrap(handle) -> Python value (taking the
 * handle), unwrap(value) -> a new handle. */
static PyObject *js_exception, *wrap_hook, *unwrap_hook;

/* Raise for the value JavaScript threw (the last operation returned 0). */
static PyObject *raise_thrown(void)
{
    int err = jsffi_take_error();
    if (!js_exception) {
        jsffi_release(err);
        PyErr_SetString(PyExc_RuntimeError, "_jsffi: a JavaScript exception, and no exception class set "
                                             "(import pyodide.ffi first)");
        return NULL;
    }
    PyObject *exc = PyObject_CallFunction(js_exception, "i", err);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* A handle result: the handle as an int, or the thrown exception. */
static PyObject *handle_or_raise(int h)
{
    return h ? PyLong_FromLong(h) : raise_thrown();
}

/* None, or the thrown exception when the operation returned 0. */
static PyObject *none_or_raise(int ok)
{
    if (!ok)
        return raise_thrown();
    Py_RETURN_NONE;
}

static int handle_arg(PyObject *obj, int *h)
{
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred())
        return 0;
    if (v <= 0 || v > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "_jsffi: %ld is not a handle", v);
        return 0;
    }
    *h = (int)v;
    return 1;
}

static PyObject *take_c_string(char *s)
{
    if (!s)
        return raise_thrown();
    PyObject *r = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogatepass");
    free(s);
    return r;
}

/* The Python value of a primitive (kind 1-6); the handle stays owned. */
static PyObject *primitive(int h, int kind)
{
    switch (kind) {
    case K_UNDEFINED:
    case K_NULL:
        Py_RETURN_NONE;
    case K_BOOLEAN:
        return PyBool_FromLong(jsffi_number(h) != 0);
    case K_NUMBER: {
        double x = jsffi_number(h);
        if (isfinite(x) && x == floor(x) && x >= -9007199254740992.0 && x <= 9007199254740992.0)
            return PyLong_FromLongLong((long long)x);
        return PyFloat_FromDouble(x);
    }
    case K_BIGINT:
    case K_STRING: {
        PyObject *text = take_c_string(jsffi_string(h));
        if (!text || kind == K_STRING)
            return text;
        PyObject *n = PyLong_FromUnicodeObject(text, 10);
        Py_DECREF(text);
        return n;
    }
    default:
        PyErr_Format(PyExc_TypeError, "_jsffi: value of kind %d is not a primitive", kind);
        return NULL;
    }
}

/* A new handle for None, bool, int, float or str; NULL with TypeError for
 * anything else. */
static int from_primitive(PyObject *obj)
{
    if (obj == Py_None)
        return jsffi_undefined();
    if (PyBool_Check(obj))
        return jsffi_from_bool(obj == Py_True);
    if (PyLong_Check(obj)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (!overflow && v >= -9007199254740992LL && v <= 9007199254740992LL)
            return jsffi_from_number((double)v);
        PyErr_Clear();
        PyObject *text = PyObject_Str(obj);
        if (!text)
            return 0;
        int h = jsffi_from_bigint(PyUnicode_AsUTF8(text));
        Py_DECREF(text);
        return h;
    }
    if (PyFloat_Check(obj))
        return jsffi_from_number(PyFloat_AS_DOUBLE(obj));
    if (PyUnicode_Check(obj)) {
        Py_ssize_t len;
        const char *utf8 = PyUnicode_AsUTF8AndSize(obj, &len);
        return utf8 ? jsffi_from_string(utf8, (int)len) : 0;
    }
    PyErr_Format(PyExc_TypeError, "_jsffi: %s is not a JavaScript primitive", Py_TYPE(obj)->tp_name);
    return 0;
}

/* Handles of a sequence of handle ints, in a malloc'd array. */
static int *handle_array(PyObject *seq, int *n)
{
    PyObject *fast = PySequence_Fast(seq, "_jsffi: arguments must be a sequence of handles");
    if (!fast)
        return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    int *hs = malloc(sizeof(int) * (size_t)(len ? len : 1));
    if (!hs) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        if (!handle_arg(PySequence_Fast_GET_ITEM(fast, i), &hs[i])) {
            free(hs);
            Py_DECREF(fast);
            return NULL;
        }
    }
    Py_DECREF(fast);
    *n = (int)len;
    return hs;
}

static PyObject *m_release(PyObject *self, PyObject *arg)
{
    (void)self;
    int h;
    if (!handle_arg(arg, &h))
        return NULL;
    jsffi_release(h);
    Py_RETURN_NONE;
}

/* The methods that only convert: nothing, one handle, two handles, or a
 * handle and a property name in; CONVERT(CALL(...)) out. */
#define NO_ARGS(NAME, CONVERT, CALL)                                           \
    static PyObject *m_##NAME(PyObject *self, PyObject *unused)                \
    {                                                                          \
        (void)self, (void)unused;                                              \
        return CONVERT(CALL());                                                \
    }
#define ONE_HANDLE(NAME, CONVERT, CALL)                                        \
    static PyObject *m_##NAME(PyObject *self, PyObject *arg)                   \
    {                                                                          \
        (void)self;                                                            \
        int h;                                                                 \
        return handle_arg(arg, &h) ? CONVERT(CALL(h)) : NULL;                  \
    }
#define TWO_HANDLES(NAME, CONVERT, CALL)                                       \
    static PyObject *m_##NAME(PyObject *self, PyObject *args)                  \
    {                                                                          \
        (void)self;                                                            \
        int a, b;                                                              \
        return PyArg_ParseTuple(args, "ii:" #NAME, &a, &b) ? CONVERT(CALL(a, b)) : NULL; \
    }
#define HANDLE_AND_NAME(NAME, CONVERT, CALL)                                   \
    static PyObject *m_##NAME(PyObject *self, PyObject *args)                  \
    {                                                                          \
        (void)self;                                                            \
        int h;                                                                 \
        const char *name;                                                      \
        return PyArg_ParseTuple(args, "is:" #NAME, &h, &name) ? CONVERT(CALL(h, name)) : NULL; \
    }

NO_ARGS(global_this, PyLong_FromLong, jsffi_global)
NO_ARGS(live, PyLong_FromLong, jsffi_live)                /* how many handles are held */
ONE_HANDLE(dup, PyLong_FromLong, jsffi_dup)
ONE_HANDLE(kind, PyLong_FromLong, jsffi_kind)
ONE_HANDLE(truthy, PyBool_FromLong, jsffi_truthy)
ONE_HANDLE(to_string, take_c_string, jsffi_string)
ONE_HANDLE(typeof, take_c_string, jsffi_typeof)
TWO_HANDLES(get_item, handle_or_raise, jsffi_get_item)   /* h[k] */
TWO_HANDLES(delete_item, none_or_raise, jsffi_delete_item)
TWO_HANDLES(equals, PyBool_FromLong, jsffi_equals)       /* a === b */
HANDLE_AND_NAME(instance_of, PyBool_FromLong, jsffi_instance_of)  /* h instanceof globalThis[name] */
HANDLE_AND_NAME(delete, none_or_raise, jsffi_delete)

static PyObject *m_primitive(PyObject *self, PyObject *arg)
{
    (void)self;
    int h;
    return handle_arg(arg, &h) ? primitive(h, jsffi_kind(h)) : NULL;
}

static PyObject *m_from_primitive(PyObject *self, PyObject *arg)
{
    (void)self;
    int h = from_primitive(arg);
    return h ? PyLong_FromLong(h) : NULL;
}

static PyObject *m_from_bytes(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (view.len > INT32_MAX) {
        PyBuffer_Release(&view);
        return PyErr_Format(PyExc_OverflowError, "_jsffi: %zd bytes are too many for one Uint8Array", view.len);
    }
    int h = jsffi_from_bytes(view.buf, (int)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromLong(h);
}

/* get(h, name) -> handle, or None when the object has no such property */
static PyObject *m_get(PyObject *self, PyObject *args)
{
    (void)self;
    int h;
    const char *name;
    if (!PyArg_ParseTuple(args, "is:get", &h, &name))
        return NULL;
    int v = jsffi_get(h, name);
    if (v == -1)
        Py_RETURN_NONE;
    return handle_or_raise(v);
}

static PyObject *m_set(PyObject *self, PyObject *args)
{
    (void)self;
    int h, vh;
    const char *name;
    if (!PyArg_ParseTuple(args, "isi:set", &h, &name, &vh))
        return NULL;
    return none_or_raise(jsffi_set(h, name, vh));
}

static PyObject *m_set_item(PyObject *self, PyObject *args)
{
    (void)self;
    int h, kh, vh;
    if (!PyArg_ParseTuple(args, "iii:set_item", &h, &kh, &vh))
        return NULL;
    return none_or_raise(jsffi_set_item(h, kh, vh));
}

/* call(function, this, [handles]) -> handle; this 0 is undefined */
static PyObject *m_call(PyObject *self, PyObject *args)
{
    (void)self;
    int fh, thish, n;
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "iiO:call", &fh, &thish, &seq))
        return NULL;
    int *hs = handle_array(seq, &n);
    if (!hs)
        return NULL;
    int r = jsffi_call(fh, thish, hs, n);
    free(hs);
    return handle_or_raise(r);
}

/* new(constructor, [handles]) -> handle */
static PyObject *m_new(PyObject *self, PyObject *args)
{
    (void)self;
    int fh, n;
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "iO:new", &fh, &seq))
        return NULL;
    int *hs = handle_array(seq, &n);
    if (!hs)
        return NULL;
    int r = jsffi_new(fh, hs, n);
    free(hs);
    return handle_or_raise(r);
}

/* buffer_bytes(h) -> the bytes of an ArrayBuffer or view, or None */
static PyObject *m_buffer_bytes(PyObject *self, PyObject *arg)
{
    (void)self;
    int h;
    if (!handle_arg(arg, &h))
        return NULL;
    int len = jsffi_buffer_length(h);
    if (len < 0)
        Py_RETURN_NONE;
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, len);
    if (bytes && len)
        jsffi_buffer_copy(h, PyBytes_AS_STRING(bytes));
    return bytes;
}

/* make_function(callable) -> handle of a JavaScript function calling it */
static PyObject *m_make_function(PyObject *self, PyObject *callable)
{
    (void)self;
    if (!PyCallable_Check(callable))
        return PyErr_Format(PyExc_TypeError, "_jsffi: %s is not callable", Py_TYPE(callable)->tp_name);
    Py_INCREF(callable);  /* dropped by destroy_function */
    return PyLong_FromLong(jsffi_make_function(callable));
}

/* destroy_function(h) -> True if h was a live function of make_function */
static PyObject *m_destroy_function(PyObject *self, PyObject *arg)
{
    (void)self;
    int h;
    if (!handle_arg(arg, &h))
        return NULL;
    PyObject *callable = jsffi_destroy_function(h);
    if (!callable)
        Py_RETURN_FALSE;
    Py_DECREF(callable);
    Py_RETURN_TRUE;
}

static PyObject *m_set_hooks(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *exc, *wrap, *unwrap;
    if (!PyArg_ParseTuple(args, "OOO:set_hooks", &exc, &wrap, &unwrap))
        return NULL;
    Py_INCREF(exc), Py_INCREF(wrap), Py_INCREF(unwrap);
    Py_XSETREF(js_exception, exc);
    Py_XSETREF(wrap_hook, wrap);
    Py_XSETREF(unwrap_hook, unwrap);
    Py_RETURN_NONE;
}

/* A Python exception as text for JavaScript: its traceback. */
static void report_to_js(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *text = NULL;
    PyObject *traceback = PyImport_ImportModule("traceback");
    if (traceback) {
        PyObject *lines = PyObject_CallMethod(traceback, "format_exception", "OOO", type,
                                              value ? value : Py_None, tb ? tb : Py_None);
        if (lines) {
            PyObject *empty = PyUnicode_FromString("");
            text = empty ? PyUnicode_Join(empty, lines) : NULL;
            Py_XDECREF(empty);
            Py_DECREF(lines);
        }
        Py_DECREF(traceback);
    }
    const char *utf8 = text ? PyUnicode_AsUTF8(text) : NULL;
    jsffi_set_py_error(utf8 ? utf8 : "a Python exception (its traceback could not be formatted)");
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* Called by the JavaScript function of make_function: calls the callable
 * with the arguments (handles, taken) and returns a handle of the result;
 * 0 after a Python exception, whose traceback jsffi_set_py_error keeps. */
EMSCRIPTEN_KEEPALIVE int larder_jsffi_call(PyObject *callable, int this_h, const int *args, int n)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    int result = 0;
    jsffi_release(this_h);
    PyObject *tuple = PyTuple_New(n);
    for (int i = 0; i < n; i++) {
        PyObject *v = (tuple && wrap_hook) ? PyObject_CallFunction(wrap_hook, "i", args[i]) : NULL;
        if (!v) {
            for (int j = i + 1; j < n; j++)
                jsffi_release(args[j]);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_RuntimeError, "_jsffi: no converters set (import pyodide.ffi first)");
            break;
        }
        PyTuple_SET_ITEM(tuple, i, v);
    }
    PyObject *r = PyErr_Occurred() ? NULL : PyObject_Call(callable, tuple, NULL);
    Py_XDECREF(tuple);
    if (r) {
        PyObject *h = PyObject_CallFunctionObjArgs(unwrap_hook, r, NULL);
        Py_DECREF(r);
        if (h) {
            result = (int)PyLong_AsLong(h);
            Py_DECREF(h);
        }
    }
    if (PyErr_Occurred()) {
        result = 0;
        report_to_js();
    }
    PyGILState_Release(gil);
    return result;
}

static PyMethodDef methods[] = {
    {"global_this", m_global_this, METH_NOARGS, "global_this() -> handle of globalThis"},
    {"release", m_release, METH_O, "release(h): drop a handle"},
    {"dup", m_dup, METH_O, "dup(h) -> a second handle of the same value"},
    {"instance_of", m_instance_of, METH_VARARGS, "instance_of(h, name) -> value instanceof globalThis[name]"},
    {"live", m_live, METH_NOARGS, "live() -> how many handles are held"},
    {"kind", m_kind, METH_O, "kind(h) -> 1 undefined .. 6 string, 7 symbol, 8 function, 9 array, "
                             "10 buffer, 11 other object"},
    {"primitive", m_primitive, METH_O, "primitive(h) -> the Python value of a primitive"},
    {"from_primitive", m_from_primitive, METH_O, "from_primitive(None|bool|int|float|str) -> handle"},
    {"from_bytes", m_from_bytes, METH_O, "from_bytes(buffer) -> handle of a new Uint8Array"},
    {"to_string", m_to_string, METH_O, "to_string(h) -> String(value)"},
    {"typeof", m_typeof, METH_O, "typeof(h) -> typeof value"},
    {"get", m_get, METH_VARARGS, "get(h, name) -> handle, or None if there is no such property"},
    {"set", m_set, METH_VARARGS, "set(h, name, value_h)"},
    {"delete", m_delete, METH_VARARGS, "delete(h, name)"},
    {"get_item", m_get_item, METH_VARARGS, "get_item(h, key_h) -> handle"},
    {"set_item", m_set_item, METH_VARARGS, "set_item(h, key_h, value_h)"},
    {"delete_item", m_delete_item, METH_VARARGS, "delete_item(h, key_h)"},
    {"equals", m_equals, METH_VARARGS, "equals(a, b) -> a === b"},
    {"truthy", m_truthy, METH_O, "truthy(h) -> Boolean(value)"},
    {"call", m_call, METH_VARARGS, "call(f, this, [handles]) -> handle"},
    {"new", m_new, METH_VARARGS, "new(f, [handles]) -> handle"},
    {"buffer_bytes", m_buffer_bytes, METH_O, "buffer_bytes(h) -> bytes of an ArrayBuffer or view, or None"},
    {"make_function", m_make_function, METH_O, "make_function(callable) -> handle of a JavaScript function"},
    {"destroy_function", m_destroy_function, METH_O, "destroy_function(h) -> True if it was live"},
    {"set_hooks", m_set_hooks, METH_VARARGS, "set_hooks(exception_class, wrap, unwrap)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jsffi",
    "JavaScript values by handle (loader/jsffi.c); pyodide.ffi and js are built on it.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__jsffi(void)
{
    return PyModule_Create(&module);
}
