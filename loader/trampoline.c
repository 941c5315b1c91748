/*
 * trampoline.c - CPython's call trampoline for C functions, without leaving
 * wasm.
 *
 * CPython 3.11 built with PY_CALL_TRAMPOLINE (builder/runtime/build-cpython.sh
 * says why) calls C methods (METH_NOARGS, METH_O, METH_VARARGS, with or
 * without keywords) through _PyCFunctionWithKeywords_TrampolineCall, which
 * Objects/methodobject.c defines in JavaScript, and the getters and setters
 * of C types through descr_get_trampoline_call and descr_set_trampoline_call
 * (Objects/descrobject.c): JS calls the function with all the arguments, and
 * a function declared with fewer ignores the rest, where wasm's
 * call_indirect would trap on the mismatched type. The cost is a call from
 * wasm to JS and back for every such call (len(), list.append, str.upper,
 * a property of a C type, ...).
 *
 * This file defines the same symbols in C, which the link prefers to the
 * JavaScript imports: it asks JS once per function how many parameters it
 * declares (the `length` of the table's entry, a wasm function), keeps the
 * answer, and calls the function with exactly that many arguments, cast to
 * its own type, by call_indirect. Every parameter of these functions is a
 * pointer (an i32 in wasm32) and every result a pointer or an int (also
 * i32), so the number of parameters is the whole type. A function declaring
 * more than three parameters, or not found in the table, still goes through
 * JavaScript as before.
 *
 * The table only grows for these functions (side modules are appended by
 * dlopen, never closed), so an index, once seen, keeps its function. (libffi
 * reuses the slots of freed closures, which are ctypes callbacks, never C
 * methods or getters.)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <emscripten.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* How many parameters the function at table index func declares; -1 when
 * the slot is empty. */
EM_JS(int, larder_function_params, (void *func), {
    const f = wasmTable.get(func);
    return typeof f === 'function' ? f.length : -1;
});

/* The JavaScript trampolines, for what the C ones do not handle. */
EM_JS(PyObject *, larder_method_js, (PyCFunctionWithKeywords func, PyObject *self, PyObject *args, PyObject *kw), {
    return wasmTable.get(func)(self, args, kw);
});
EM_JS(PyObject *, larder_getter_js, (getter get, PyObject *obj, void *closure), {
    return wasmTable.get(get)(obj, closure);
});
EM_JS(int, larder_setter_js, (setter set, PyObject *obj, PyObject *value, void *closure), {
    return wasmTable.get(set)(obj, value, closure);
});

typedef PyObject *(*params0)(void);
typedef PyObject *(*params1)(PyObject *);
typedef PyObject *(*params2)(PyObject *, PyObject *);
typedef int (*setter2)(PyObject *, PyObject *);

/* params[i]: 0 not asked yet, else the parameter count of table index i
 * plus one, or UNKNOWN for a slot JavaScript has to handle. */
enum { UNKNOWN = 0x7f, TABLE_LIMIT = 1 << 22 };
static unsigned char *params;
static size_t params_len;

static int lookup(void (*func)(void))
{
    uintptr_t i = (uintptr_t)func;
    if (i >= TABLE_LIMIT)
        return -1;
    if (i >= params_len) {
        size_t len = params_len ? params_len : 4096;
        while (len <= i)
            len *= 2;
        unsigned char *grown = realloc(params, len);
        if (!grown)
            return -1;  /* no memory to remember it: JavaScript calls it */
        memset(grown + params_len, 0, len - params_len);
        params = grown;
        params_len = len;
    }
    if (params[i] == 0) {
        int n = larder_function_params((void *)func);
        params[i] = (unsigned char)(n >= 0 && n <= 3 ? n + 1 : UNKNOWN);
    }
    return params[i] == UNKNOWN ? -1 : params[i] - 1;
}

/* The definitions CPython's objects call (declared by its EM_JS macros). */
PyObject *_PyCFunctionWithKeywords_TrampolineCall(PyCFunctionWithKeywords func, PyObject *self, PyObject *args,
                                                  PyObject *kw);
PyObject *descr_get_trampoline_call(getter get, PyObject *obj, void *closure);
int descr_set_trampoline_call(setter set, PyObject *obj, PyObject *value, void *closure);

PyObject *_PyCFunctionWithKeywords_TrampolineCall(PyCFunctionWithKeywords func, PyObject *self, PyObject *args,
                                                  PyObject *kw)
{
    switch (lookup((void (*)(void))func)) {
    case 0:
        return ((params0)(void (*)(void))func)();
    case 1:
        return ((params1)(void (*)(void))func)(self);
    case 2:
        return ((params2)(void (*)(void))func)(self, args);
    case 3:
        return func(self, args, kw);
    default:
        return larder_method_js(func, self, args, kw);
    }
}

PyObject *descr_get_trampoline_call(getter get, PyObject *obj, void *closure)
{
    switch (lookup((void (*)(void))get)) {
    case 1:
        return ((params1)(void (*)(void))get)(obj);
    case 2:
        return get(obj, closure);
    default:
        return larder_getter_js(get, obj, closure);
    }
}

int descr_set_trampoline_call(setter set, PyObject *obj, PyObject *value, void *closure)
{
    switch (lookup((void (*)(void))set)) {
    case 2:
        return ((setter2)(void (*)(void))set)(obj, value);
    case 3:
        return set(obj, value, closure);
    default:
        return larder_setter_js(set, obj, value, closure);
    }
}
