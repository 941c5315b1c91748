/*
 * main.c - entry points of the wasm runtime.
 *
 * The runtime is CPython 3.11 with _larder registered as a builtin module.
 * Two ways in:
 *   main()          the command line (Node: larder-python ARGS), as python3;
 *   larder_start()  + larder_run(code): a long-lived interpreter that a Web
 *                   Worker (or a Node script) feeds code to, keeping __main__
 *                   between runs.
 * Both use the same configuration: the stdlib lives under /usr/local in the
 * in-memory filesystem (python311.zip, the core bundle, written there by the
 * JS glue before start), so the prefix is fixed rather than searched for.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <emscripten.h>
#include <stdlib.h>

PyMODINIT_FUNC PyInit__larder(void);

#define LARDER_HOME L"/usr/local"

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

/* With LARDER_INDEX_URL in the environment, start the loader (larder.py):
 * every import that finds nothing locally then goes to the index. */
static void start_loader(void)
{
    if (!getenv("LARDER_INDEX_URL"))
        return;
    PyObject *larder = PyImport_ImportModule("larder");
    PyObject *r = larder ? PyObject_CallMethod(larder, "_init_from_environment", NULL) : NULL;
    if (!r)
        PyErr_Print();  /* larder itself is missing or broken: say so, keep the interpreter */
    Py_XDECREF(r);
    Py_XDECREF(larder);
}

static int init(int argc, char **argv)
{
    PyConfig config;
    if (PyImport_AppendInittab("_larder", PyInit__larder) < 0) {
        fprintf(stderr, "larder: cannot register the _larder module\n");
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
    start_loader();
    return 0;
}

int main(int argc, char **argv)
{
    int rc = init(argc, argv);
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

/* Start the interpreter without running anything; 0 on success. */
EMSCRIPTEN_KEEPALIVE int larder_start(void)
{
    static int started;
    if (started)
        return 0;
    char *argv[] = {"python", NULL};
    int rc = init(1, argv);
    if (rc == 0)
        started = 1;
    return rc;
}

/* Run source code in __main__; 0 on success, -1 when it raised (the
 * traceback has been printed to stderr). SystemExit is reported, not obeyed:
 * the interpreter stays usable. */
EMSCRIPTEN_KEEPALIVE int larder_run(const char *code)
{
    PyObject *main = PyImport_AddModule("__main__");
    if (!main) {
        PyErr_Print();
        return -1;
    }
    PyObject *globals = PyModule_GetDict(main);
    PyObject *result = PyRun_String(code, Py_file_input, globals, globals);
    if (result) {
        Py_DECREF(result);
        return 0;
    }
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        fprintf(stderr, "SystemExit ignored: the interpreter keeps running\n");
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return -1;
    }
    PyErr_Print();
    return -1;
}
