"""larder_page - the Python side of larder.js's values: runPython's result
(main.c's larder_run calls compile_for_value and to_json), globals get and
set, the modules a page registers with registerJsModule (worker.js), and
warm_up, the idle work worker.js runs after 'ready'.

Values cross as JSON text: None, bool, int, float (finite), str, and lists
and dicts (str keys) of them. Anything else is a TypeError that says so.
"""
import _ast
import sys

# compile()'s flag for an AST instead of code (ast.PyCF_ONLY_AST, without
# importing ast, which is not in the core bundle)
_ONLY_AST = 0x400


def compile_for_value(source):
    """(code of the whole source, None) or, when its last statement is an
    expression, (code of the rest, code evaluating that expression)."""
    tree = compile(source, "<string>", "exec", _ONLY_AST)
    last = None
    if tree.body and isinstance(tree.body[-1], _ast.Expr):
        last = compile(_ast.Expression(tree.body.pop().value), "<string>", "eval")
    return compile(tree, "<string>", "exec"), last


def to_json(value):
    import json
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"a value of type {type(value).__name__} cannot go to JavaScript ({e}): values cross as JSON "
                        "(None, bool, int, float, str, and lists and dicts with str keys of them)") from None


def get_global(name):
    """The JSON text of __main__'s global `name`."""
    main = sys.modules["__main__"].__dict__
    if name not in main:
        raise NameError(f"name {name!r} is not defined in __main__")
    return to_json(main[name])


def set_global(name, text):
    """Set __main__'s global `name` to the value of JSON text."""
    import json
    sys.modules["__main__"].__dict__[name] = json.loads(text)


def register_js_module(name, functions):
    """sys.modules[name]: a module whose functions (names as JSON text)
    call the page's functions of that name, synchronously (worker.js's
    larderCallPage), with JSON-compatible arguments and result."""
    import json
    import types
    from pyodide.ffi import js_global
    call_page = js_global().larderCallPage
    module = types.ModuleType(name, f"functions of the page, registered with larder.js registerJsModule({name!r})")
    for fname in json.loads(functions):
        def call(*args, _fname=fname):
            return json.loads(call_page(name, _fname, to_json(list(args))))
        call.__name__ = call.__qualname__ = fname
        setattr(module, fname, call)
    sys.modules[name] = module


class _Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def norm2(self):
        return self.x * self.x + self.y * self.y


def warm_up():
    """One slice (a few milliseconds) of everyday Python for the engine to
    optimise the interpreter's hot code while the page is idle: calls and
    recursion, dicts, str formatting, sorting, floats, objects, exceptions.
    Builtins only (it must not import, hence fetch, anything) and no state
    left behind. worker.js runs a bounded number of slices after 'ready'."""
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    d = {}
    for i in range(3000):
        k = i % 97
        d[k] = d.get(k, 0) + i
    s = "".join(f"{i}:{i * 3:x};" for i in range(400)).upper().split(";")
    xs = sorted((i * 7919 % 1009) / 7.0 for i in range(1500))
    words = sorted(s, key=lambda w: (len(w), w))
    pts = [_Point(i * 0.5, -i * 0.25) for i in range(500)]
    total = sum(p.norm2() for p in pts)
    bad = 0
    for w in words[:200]:
        try:
            int(w, 16)
        except ValueError:
            bad += 1
    return fib(14) + len(d) + len(xs) + int(total) + bad
