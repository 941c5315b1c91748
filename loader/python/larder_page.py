"""larder_page - the Python side of larder.js's values: runPython's result
(main.c's larder_run calls compile_for_run, to_json and after_run),
globals get and set, the modules a page registers with registerJsModule
(worker.js), and warm_up, the idle work worker.js runs after 'ready'.

Values cross as JSON text: None, bool, int, float (finite), str, and lists
and dicts (str keys) of them. Anything else is a TypeError that says so.
"""
import _ast
import sys

import _larder

# compile()'s flag for an AST instead of code (ast.PyCF_ONLY_AST, without
# importing ast, which is not in the core bundle)
_ONLY_AST = 0x400


def compile_for_run(source, want_value):
    """(code of the whole source, None) or, with want_value and when its last
    statement is an expression, (code of the rest, code evaluating that
    expression). What the source imports at module level (not inside
    functions) is announced first (larder.prefetch): the packages download
    together instead of one import after another."""
    tree = compile(source, "<string>", "exec", _ONLY_AST)
    prefetch = getattr(sys.modules.get("larder"), "prefetch", None)  # the loader, when it is on
    if prefetch is not None:
        prefetch(*_module_imports(tree))
    last = None
    if want_value and tree.body and isinstance(tree.body[-1], _ast.Expr):
        last = compile(_ast.Expression(tree.body.pop().value), "<string>", "eval")
    return compile(tree, "<string>", "exec"), last


def after_run():
    """What a run's imports recorded for the next visit, written once the
    run has ended (larder._save_followed; main.c's larder_run calls this
    whether the run raised or not)."""
    save = getattr(sys.modules.get("larder"), "_save_followed", None)  # the loader, when it is on
    if save is not None:
        save()


def _module_imports(tree):
    """The absolute imports of a module's AST that run when the module runs:
    every import statement outside function bodies."""
    names, todo = [], list(tree.body)
    for node in todo:  # todo grows with the bodies of compound statements
        if isinstance(node, _ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, _ast.ImportFrom):
            if not node.level and node.module:
                names.append(node.module)
        elif isinstance(node, _ast.stmt) and not isinstance(node, (_ast.FunctionDef, _ast.AsyncFunctionDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo.extend(getattr(node, field, ()))
            for case in getattr(node, "cases", ()):
                todo.extend(case.body)
        elif isinstance(node, _ast.excepthandler):
            todo.extend(node.body)
    return names


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


# The program warm_up compiles and runs each slice: compiling it exercises
# the tokenizer, parser and compiler (which every run goes through), running
# it the everyday object types and statements. Builtins only: it must not
# import, hence fetch, anything.
_WARM_SOURCE = r'''
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

class Point:
    __slots__ = ("x", "y")
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __repr__(self):
        return f"Point({self.x!r}, {self.y:.3f})"
    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)
    def __hash__(self):
        return hash((self.x, self.y))
    def norm2(self):
        return self.x * self.x + self.y * self.y

class Shape:
    def __init__(self, name, *points, **tags):
        self.name, self.points, self.tags = name, list(points), dict(tags)
    @property
    def size(self):
        return len(self.points)
    def area(self):
        raise NotImplementedError(self.name)

class Polygon(Shape):
    def area(self):
        ps = self.points
        return abs(sum(a.x * b.y - b.x * a.y for a, b in zip(ps, ps[1:] + ps[:1]))) / 2
    def __iter__(self):
        yield from self.points

class Resource:
    def __enter__(self):
        self.open = True
        return self
    def __exit__(self, *exc):
        self.open = False
        return False

def counter(words):
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

def make_adder(n):
    def add(x, *, scale=1):
        return (x + n) * scale
    return add

def gen(n):
    for i in range(n):
        if i % 3 == 0:
            continue
        yield i * i

result = []
d = {}
for i in range(2000):
    k = i % 97
    d[k] = d.get(k, 0) + i
result.append(sum(d.values()))
pause()
text = " ".join(f"{i}:{i * 3:x}/{i / 7:.2f}" for i in range(300))
words = text.replace("/", " ").upper().split()
result.append(len(counter(w[:2] for w in words)))
result.append(text.find("99:") + text.count(":") + len(text.encode("utf-8").decode("utf-8")))
pause()
xs = sorted((i * 7919 % 1009) / 7.0 for i in range(1500))
result.append(round(max(xs) - min(xs), 6))
pause()
pts = [Point(i * 0.5, -i * 0.25) for i in range(300)]
poly = Polygon("p", *pts[:50], colour="red", filled=True)
result.append(int(sum(p.norm2() for p in pts)) + poly.size + int(poly.area()))
result.append(len({p for p in pts} | frozenset(pts[:10])) + len(repr(pts[:5])))
pause()
try:
    Shape("s").area()
except NotImplementedError as e:
    result.append(len(str(e)))
bad = 0
for w in words[:300]:
    try:
        int(w, 16)
    except ValueError:
        bad += 1
    finally:
        bad += 0
pause()
with Resource() as r:
    result.append(r.open)
add = make_adder(3)
result.append(sum(map(add, range(100))) + add(1, scale=2))
result.append(sum(gen(500)) + sum(x for x in range(500) if x & 1))
pause()
big = 3 ** 200 + 7 ** 90
result.append(big % 1000003 + (big >> 100).bit_length())
ba = bytearray(b"larder" * 50)
ba[::2] = b"x" * 150
result.append(bytes(ba).count(b"x") + len(memoryview(ba)[10:20].tobytes()))
pause()
a, *rest = [1, 2, 3, 4]
result.append(dict(zip("abcd", rest + [a])) == {"a": 2, "b": 3, "c": 4, "d": 1})
result.append([(i, j) for i in range(10) for j in range(i) if (i + j) % 3 == 0][-1])
result.append(fib(14) + bad)
'''


# warm_up's import: a module of the warm-up program's definitions (its
# functions and classes, not the work below them), written as a .pyc into a
# directory of its own and imported from there
_WARM_MODULE = "_larder_warm_up_module"
_WARM_DIR = "/tmp/.larder-warm-up"
_warm_module_code = None


def _warm_import():
    """Import _WARM_MODULE as an import statement does (the path finder, a
    directory listing, stat, reading and unmarshalling a .pyc, a module's
    creation and its class bodies), then remove every trace of it: module,
    file, directory, sys.path entry and finder. Without it, the code
    Chromium caches for the next visit has never seen an import: V8
    optimised the interpreter's indirect calls for the warm-up's targets
    alone, and a visit's first imports threw that code away again."""
    global _warm_module_code
    external = sys.modules["_frozen_importlib_external"]
    os = sys.modules["os"]
    if _warm_module_code is None:
        _warm_module_code = compile(_WARM_SOURCE.partition("\nresult = []")[0], _WARM_MODULE, "exec")
    path = f"{_WARM_DIR}/{_WARM_MODULE}.pyc"
    os.makedirs(_WARM_DIR, exist_ok=True)
    try:
        with open(path, "wb") as f:
            f.write(external._code_to_hash_pyc(_warm_module_code, b"\0" * 8, checked=False))
        sys.path.append(_WARM_DIR)
        return __import__(_WARM_MODULE).fib(10)
    finally:
        if _WARM_DIR in sys.path:
            sys.path.remove(_WARM_DIR)
        sys.modules.pop(_WARM_MODULE, None)
        sys.path_importer_cache.pop(_WARM_DIR, None)
        if os.path.exists(path):
            os.remove(path)
        os.rmdir(_WARM_DIR)


class _PageWaiting(Exception):
    """The page has sent the Worker a message: the slice ends (warm_up)."""


# how many slices warm_up ran to their end, and how many it ended early
slices = {"done": 0, "ended_early": 0}


def warm_up(page_waiting=None):
    """One slice (a few milliseconds) of everyday Python for the engine to
    optimise the interpreter's hot code while the page is idle: compiling a
    program, then running it (calls and recursion, classes, dicts, sets,
    str formatting, sorting, floats, big ints, bytes, generators,
    exceptions), importing a module (_warm_import), and the zstd
    decompression and SHA-256 every install runs (_larder.selftest, on a
    14 KB frame). It leaves no state behind.
    worker.js runs a bounded number of slices after 'ready'. Between its
    steps (a few milliseconds each, tens on a cold start) it asks
    page_waiting() and ends at once when the page has sent a message, so
    that a run clicked during a slice does not wait for all of it. The
    number of results computed; 0 when it ended early."""
    def pause():
        if page_waiting is not None and page_waiting():
            raise _PageWaiting

    try:
        _larder.selftest()
        pause()
        code = compile(_WARM_SOURCE, "<warm_up>", "exec")
        pause()
        namespace = {"__name__": "__warm_up__", "pause": pause}
        exec(code, namespace)
        pause()
        _warm_import()
    except _PageWaiting:
        slices["ended_early"] += 1
        return 0
    slices["done"] += 1
    return len(namespace["result"])
