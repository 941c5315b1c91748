/*
 * main.c - entry points of the wasm runtime.
 *
 * The runtime is CPython 3.11 with _larder (the loader) and _jsffi (the
 * JavaScript values under pyodide.ffi and js) registered as builtin modules.
 * Two ways in:
 *   main()          the command line (Node: larder-python ARGS), as python3;
 *   larder_start()  + larder_start_loader() + larder_run(code): a long-lived
 *                   interpreter that a Web Worker (or a Node script) feeds
 *                   code to, keeping __main__ between runs; the loader is
 *                   started apart, so that the JS side can start the
 *                   interpreter while what the loader needs (the fetch
 *                   helper, the IndexedDB trust store) is still on its way,
 *                   and a page can run code before the index is verified.
 * Both use the same configuration: the stdlib lives under /usr/local in the
 * in-memory filesystem (python311.zip, the core bundle, written there by the
 * JS glue before start), so the prefix is fixed rather than searched for.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

PyMODINIT_FUNC PyInit__larder(void);
PyMODINIT_FUNC PyInit__jsffi(void);

#define LARDER_HOME L"" LARDER_TARGET_PREFIX

static PyStatus configure(PyConfig *config, int argc, char **argv)
{
    PyStatus status;
    PyConfig_InitPythonConfig(config);
    status = PyConfig_SetString(config, &config->home, LARDER_HOME);
    if (PyStatus_Exception(status))
        return status;
    /* there is no use for .pyc files written into a MEMFS that vanishes */
    config->write_bytecode = 0;
    /* output goes to JS as it is written (a page shows it while it runs);
     * the JS side assembles lines */
    config->buffered_stdio = 0;
    if (argv)
        status = PyConfig_SetBytesArgv(config, argc, argv);
    return status;
}

/* With LARDER_INDEX_URL in the environment, start the loader (larder.py)
 * in the started interpreter: every import that finds nothing locally then
 * goes to the index. With defer, larder.py only notes it and starts it when
 * something first needs the index; calling again without defer starts a
 * deferred one, and a started one stays as it is. A failure is reported by
 * larder.py, and the interpreter goes on without the loader. */
EMSCRIPTEN_KEEPALIVE void larder_start_loader(int defer)
{
    if (!getenv("LARDER_INDEX_URL"))
        return;
    PyObject *larder = PyImport_ImportModule("larder");
    PyObject *r = larder ? PyObject_CallMethod(larder, "_init_from_environment", "i", defer) : NULL;
    if (!r)
        PyErr_Print();  /* larder itself is missing or broken: say so, keep the interpreter */
    Py_XDECREF(r);
    Py_XDECREF(larder);
}

static int init(int argc, char **argv, int with_loader)
{
    PyConfig config;
    if (PyImport_AppendInittab("_larder", PyInit__larder) < 0 ||
        PyImport_AppendInittab("_jsffi", PyInit__jsffi) < 0) {
        fprintf(stderr, "larder: cannot register the _larder and _jsffi modules\n");
        return -1;
    }
    PyStatus status = configure(&config, argc, argv);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        if (PyStatus_IsExit(status))
            return status.exitcode;
        Py_ExitStatusException(status);
    }
    if (with_loader)
        larder_start_loader(0);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = init(argc, argv, 1);
    if (rc != 0)
        return rc;
    return Py_RunMain();
}

/* CPython's emscripten signal hook (Python/emscripten_signal.c): once on,
 * the eval loop polls Module.Py_EmscriptenSignalBuffer, which the page
 * writes SIGINT into to interrupt a running program (KeyboardInterrupt). */
extern int Py_EMSCRIPTEN_SIGNAL_HANDLING;

EMSCRIPTEN_KEEPALIVE void larder_enable_interrupts(void)
{
    Py_EMSCRIPTEN_SIGNAL_HANDLING = 1;
}

/* Start the interpreter without running anything, and without the
 * loader; 0 on success. */
EMSCRIPTEN_KEEPALIVE int larder_start(void)
{
    static int started;
    if (started)
        return 0;
    char *argv[] = {"python", NULL};
    int rc = init(1, argv, 0);
    if (rc == 0)
        started = 1;
    return rc;
}

/* What the last larder_run left: the value of the code's last expression
 * as JSON text (want_value; NULL when there was none), or the one-line
 * description of what it raised ("ZeroDivisionError: division by zero"). */
static char *result_json, *error_line;

EMSCRIPTEN_KEEPALIVE const char *larder_result(void)
{
    return result_json;
}

EMSCRIPTEN_KEEPALIVE const char *larder_run_error(void)
{
    return error_line;
}

static char *utf8_copy(PyObject *text)
{
    const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
    return s ? strdup(s) : NULL;
}

/* Report the pending exception (its traceback to stderr, its line for
 * larder_error); without_traceback for errors of larder_page's own steps,
 * whose frames say nothing about the user's code. */
static void report(int without_traceback)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *line = value ? PyUnicode_FromFormat("%s: %S", ((PyTypeObject *)type)->tp_name, value) : NULL;
    free(error_line);
    error_line = utf8_copy(line);
    Py_XDECREF(line);
    PyErr_Clear();
    if (without_traceback)
        Py_CLEAR(tb);
    if (PyErr_GivenExceptionMatches(type, PyExc_SystemExit)) {
        fprintf(stderr, "SystemExit ignored: the interpreter keeps running\n");
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return;
    }
    PyErr_Restore(type, value, tb);
    PyErr_Print();
}

/* larder_page.FUNC(), FUNC(a) or FUNC(a, b) (a or b NULL: fewer
 * arguments): its result, or NULL with the exception set. */
static PyObject *page_method(const char *func, const char *a, const char *b)
{
    PyObject *page = PyImport_ImportModule("larder_page");
    PyObject *r = !page ? NULL
        : !a ? PyObject_CallMethod(page, func, NULL)
        : !b ? PyObject_CallMethod(page, func, "s", a)
             : PyObject_CallMethod(page, func, "ss", a, b);
    Py_XDECREF(page);
    return r;
}

/* Whether the page has sent the Worker a message it has not taken yet:
 * Module.larderPageWaiting(), which larder-runtime.js sets where the page
 * can say so (a SharedArrayBuffer); 0 where it cannot. */
EM_JS(int, larder_js_page_waiting, (void), {
    return Module.larderPageWaiting ? Module.larderPageWaiting() : 0;
});

static PyObject *page_waiting(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyBool_FromLong(larder_js_page_waiting());
}

static PyMethodDef page_waiting_def = {"page_waiting", page_waiting, METH_NOARGS,
                                       "whether the page has sent a message the Worker has not taken yet"};

/* One slice of idle work (larder_page.warm_up) for the engine to optimise
 * the interpreter's hot code; 0 on success. The slice ends early when the
 * page sends a message (page_waiting), so that a run clicked meanwhile
 * waits a few milliseconds at most. The signal buffer is not polled
 * meanwhile: an interrupt the page sends is for the user's run that
 * follows, and stays in the buffer for it. */
EMSCRIPTEN_KEEPALIVE int larder_warm_up(void)
{
    int polling = Py_EMSCRIPTEN_SIGNAL_HANDLING;
    Py_EMSCRIPTEN_SIGNAL_HANDLING = 0;
    PyObject *page = PyImport_ImportModule("larder_page");
    PyObject *waiting = page ? PyCFunction_New(&page_waiting_def, NULL) : NULL;
    PyObject *r = waiting ? PyObject_CallMethod(page, "warm_up", "O", waiting) : NULL;
    Py_XDECREF(waiting);
    Py_XDECREF(page);
    Py_EMSCRIPTEN_SIGNAL_HANDLING = polling;
    if (!r) {
        report(1);
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Run source code in __main__; 0 on success, -1 when it raised (the
 * traceback has been printed to stderr). SystemExit is reported, not obeyed:
 * the interpreter stays usable. With want_value, the value of a last
 * statement that is an expression is kept as JSON for larder_result().
 * larder_page.py compiles the code (announcing the packages its imports
 * need, so that they download together), splits it and converts the value. */
EMSCRIPTEN_KEEPALIVE int larder_run(const char *code, int want_value)
{
    free(result_json);
    free(error_line);
    result_json = error_line = NULL;
    PyObject *main = PyImport_AddModule("__main__");
    if (!main) {
        report(0);
        return -1;
    }
    PyObject *globals = PyModule_GetDict(main);
    PyObject *page = PyImport_ImportModule("larder_page");
    PyObject *parts = page ? PyObject_CallMethod(page, "compile_for_run", "si", code, want_value) : NULL;
    if (!parts) {
        Py_XDECREF(page);
        report(1);
        return -1;
    }
    PyObject *body = PyTuple_GET_ITEM(parts, 0), *last = PyTuple_GET_ITEM(parts, 1);
    int rc = -1;
    PyObject *r = PyEval_EvalCode(body, globals, globals);
    PyObject *value = r && last != Py_None ? PyEval_EvalCode(last, globals, globals) : NULL;
    if (!r || (last != Py_None && !value)) {
        report(0);
    } else if (value) {
        /* not CallMethod(..., "O", value): a tuple value would become the arguments */
        PyObject *name = PyUnicode_FromString("to_json");
        PyObject *json = name ? PyObject_CallMethodOneArg(page, name, value) : NULL;
        Py_XDECREF(name);
        result_json = utf8_copy(json);
        if (!result_json)
            report(1);
        else
            rc = 0;
        Py_XDECREF(json);
    } else {
        rc = 0;
    }
    Py_XDECREF(value);
    Py_XDECREF(r);
    Py_DECREF(parts);
    /* what the run's imports recorded for the next visit, written once per
     * run (it reports its own failure on stderr) */
    PyObject *after = PyObject_CallMethod(page, "after_run", NULL);
    if (!after) {
        report(1);
        rc = -1;
    }
    Py_XDECREF(after);
    Py_DECREF(page);
    return rc;
}

/* larder_page.FUNC(a) or FUNC(a, b) (b NULL: one argument), for larder.js's
 * globals and registerJsModule: 0 with a str result kept for
 * larder_result(), -1 with the error kept for larder_error() (and printed
 * to stderr without a traceback). */
EMSCRIPTEN_KEEPALIVE int larder_page_call(const char *func, const char *a, const char *b)
{
    free(result_json);
    free(error_line);
    result_json = error_line = NULL;
    PyObject *r = page_method(func, a, b);
    if (!r) {
        report(1);
        return -1;
    }
    if (PyUnicode_Check(r))
        result_json = utf8_copy(r);
    Py_DECREF(r);
    return 0;
}
