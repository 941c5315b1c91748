"""pyodide.ffi - JavaScript values in Python: the part of Pyodide's FFI that
larder's runtime provides, on the _jsffi builtin module (loader/jsffi.c).

What exists: JsProxy (attribute access, calls, new(), indexing, len, in,
iteration, ==, typeof, to_py(), to_bytes(), object_entries()...), its
subclasses JsArray, JsBuffer and JsCallable, JsException (what JavaScript
throws), to_js(), create_proxy() (a Python callable JavaScript may keep,
until destroy()), and IN_BROWSER. Conversions: undefined and null become
None, booleans bool, numbers int when integral (float otherwise), BigInt
int, strings str; None, bool, int (BigInt beyond 2**53), float and str go
the other way. A Python callable passed in a call is a JavaScript function
for that call only; assigned to a property it stays. Other Python objects
cross only through to_js().

What does not: PyProxy (JavaScript holding arbitrary Python objects),
awaiting promises (no JSPI: run_sync and can_run_sync are absent, which is
how urllib3 knows to use synchronous XMLHttpRequest), the pyodide.http
and pyodide.code modules.
"""
import _jsffi

__all__ = ["IN_BROWSER", "JsArray", "JsBuffer", "JsCallable", "JsException", "JsProxy",
           "create_proxy", "to_js"]

# Running on a JavaScript engine (a browser Worker or Node), as in Pyodide.
IN_BROWSER = True

_UNDEFINED, _NULL, _FUNCTION, _ARRAY, _BUFFER, _OBJECT = 1, 2, 8, 9, 10, 11
_MISSING = object()


class JsException(Exception):
    """What JavaScript threw: .name, .message, .stack, and .js_error (the
    thrown value)."""

    def __init__(self, handle):
        if isinstance(handle, str):  # raised from Python code
            self.js_error, self.name, self.message, self.stack = None, "Error", handle, ""
        else:
            self.js_error = error = _wrap(handle)
            if isinstance(error, JsProxy):
                self.name = str(getattr(error, "name", "Error"))
                self.message = str(getattr(error, "message", error))
                self.stack = str(getattr(error, "stack", ""))
            else:  # throw "text", throw 42
                self.name, self.message, self.stack = "Error", str(error), ""
        super().__init__(f"{self.name}: {self.message}")


class JsProxy:
    """A JavaScript object. Owns one handle, released when it is freed."""

    __slots__ = ("_h", "_this", "__weakref__")

    def __init__(self, handle, this=None):
        object.__setattr__(self, "_h", handle)
        # the object a function was read from: `this` when it is called
        object.__setattr__(self, "_this", this)

    def __del__(self):
        _jsffi.release(self._h)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        h = _jsffi.get(self._h, name)
        if h is None:
            raise AttributeError(f"JavaScript object has no property {name!r}")
        return _wrap(h, self)

    def __setattr__(self, name, value):
        h = _unwrap(value, keep=True)
        try:
            _jsffi.set(self._h, name, h)
        finally:
            _jsffi.release(h)

    def __delattr__(self, name):
        _jsffi.delete(self._h, name)

    def _with_key(self, key, op, *rest):
        kh = _unwrap(key)
        try:
            return op(self._h, kh, *rest)
        finally:
            _jsffi.release(kh)

    def __getitem__(self, key):
        if _jsffi.kind(self._h) == _OBJECT and _is_map(self):
            return self.get(key)
        return _wrap(self._with_key(key, _jsffi.get_item))

    def __setitem__(self, key, value):
        if _jsffi.kind(self._h) == _OBJECT and _is_map(self):
            self.set(key, value)
            return
        vh = _unwrap(value, keep=True)
        try:
            self._with_key(key, _jsffi.set_item, vh)
        finally:
            _jsffi.release(vh)

    def __delitem__(self, key):
        self._with_key(key, _jsffi.delete_item)

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("JavaScript functions take no keyword arguments")
        this = self._this._h if self._this is not None else 0  # 0: undefined
        return _invoke(lambda hs: _jsffi.call(self._h, this, hs), args)

    def new(self, *args):
        """new F(*args)"""
        return _invoke(lambda hs: _jsffi.new(self._h, hs), args)

    def bind(self, this):
        """This function, called with `this` bound to the given object."""
        return type(self)(_jsffi.dup(self._h), this)

    def __len__(self):
        for name in ("length", "size"):
            h = _jsffi.get(self._h, name)
            if h is not None:
                n = _wrap(h)
                if isinstance(n, int):
                    return n
        raise TypeError(f"object of type {self.typeof!r} has no len()")

    def __iter__(self):
        method = _wrap(self._with_key(js_global().Symbol.iterator, _jsffi.get_item), self)
        if not isinstance(method, JsProxy):
            raise TypeError(f"JavaScript object is not iterable: {self!r}")
        it = method()
        while True:
            step = it.next()
            if step.done:
                return
            yield step.value

    def __contains__(self, item):
        if _jsffi.kind(self._h) == _ARRAY:
            return bool(self.includes(item))
        if _is_map(self) or _is_set(self):
            return bool(self.has(item))
        return bool(js_global().Reflect.has(self, item))

    def __eq__(self, other):
        if isinstance(other, JsProxy):
            return _jsffi.equals(self._h, other._h)
        return NotImplemented

    __hash__ = object.__hash__

    def __bool__(self):
        return _jsffi.truthy(self._h)

    def __repr__(self):
        return _jsffi.to_string(self._h)

    @property
    def typeof(self):
        """JavaScript's typeof of the value."""
        return _jsffi.typeof(self._h)

    @property
    def js_id(self):
        return self._h

    def object_keys(self):
        return js_global().Object.keys(self)

    def object_values(self):
        return js_global().Object.values(self)

    def object_entries(self):
        return js_global().Object.entries(self)

    def to_bytes(self):
        """The bytes of an ArrayBuffer or a view of one."""
        data = _jsffi.buffer_bytes(self._h)
        if data is None:
            raise TypeError(f"not an ArrayBuffer or a view of one: {self!r}")
        return data

    def to_memoryview(self):
        return memoryview(self.to_bytes())

    def to_string(self, encoding=None):
        return self.to_bytes().decode(encoding or "utf-8") if _jsffi.kind(self._h) == _BUFFER else repr(self)

    def to_py(self, *, depth=-1):
        """A Python copy: an array is a list, a Map or a plain object a dict,
        a Set a set, a buffer a memoryview; anything else stays a proxy."""
        if depth == 0:
            return self
        kind = _jsffi.kind(self._h)
        if kind == _BUFFER:
            return self.to_memoryview()
        convert = (lambda v: v.to_py(depth=depth - 1) if isinstance(v, JsProxy) else v)
        if kind == _ARRAY:
            return [convert(v) for v in self]
        if _is_map(self):
            return {convert(k): convert(v) for k, v in self.entries()}
        if _is_set(self):
            return {convert(v) for v in self}
        if kind == _OBJECT and _is_plain_object(self):
            return {str(k): convert(v) for k, v in self.object_entries()}
        return self

    def destroy(self):
        """Release the Python callable of a create_proxy() function."""
        if not _jsffi.destroy_function(self._h):
            raise ValueError("destroy(): not a live Python callable made by create_proxy()")


class JsArray(JsProxy):
    """A JavaScript Array."""
    __slots__ = ()


class JsBuffer(JsProxy):
    """An ArrayBuffer, a typed array or a DataView."""
    __slots__ = ()


class JsCallable(JsProxy):
    """A JavaScript function."""
    __slots__ = ()


_CLASSES = {_FUNCTION: JsCallable, _ARRAY: JsArray, _BUFFER: JsBuffer}


def _wrap(h, this=None):
    """The Python value of a handle (taking it)."""
    kind = _jsffi.kind(h)
    if kind <= 6:
        try:
            return _jsffi.primitive(h)
        finally:
            _jsffi.release(h)
    return _CLASSES.get(kind, JsProxy)(h, this if kind == _FUNCTION else None)


def _unwrap(value, keep=False):
    """A new handle for a Python value. Callables become JavaScript
    functions; with keep=False (call arguments) the caller destroys them
    after the call (_invoke)."""
    if isinstance(value, JsProxy):
        return _jsffi.dup(value._h)
    if value is None or isinstance(value, (bool, int, float, str)):
        return _jsffi.from_primitive(value)
    if callable(value):
        return _jsffi.make_function(value)
    raise TypeError(f"a {type(value).__name__} cannot be passed to JavaScript as it is: "
                    "convert it with pyodide.ffi.to_js() (lists, dicts, bytes), or wrap a callable "
                    "with create_proxy()")


def _invoke(op, args):
    handles = []
    try:
        for a in args:
            handles.append(_unwrap(a))
        return _wrap(op(handles))
    finally:
        for a, h in zip(args, handles):
            if callable(a) and not isinstance(a, JsProxy):
                _jsffi.destroy_function(h)
            _jsffi.release(h)


_global = None


def js_global():
    """globalThis, as a JsProxy (the js module is this object)."""
    global _global
    if _global is None:
        _global = JsProxy(_jsffi.global_this())
    return _global


def _is_map(value):
    return _jsffi.instance_of(value._h, "Map")


def _is_set(value):
    return _jsffi.instance_of(value._h, "Set")


def _is_plain_object(value):
    proto = js_global().Object.getPrototypeOf(value)
    return proto is None or proto == js_global().Object.prototype


def to_js(obj, *, depth=-1, create_pyproxies=True, dict_converter=None, default_converter=None):
    """A JavaScript copy of a Python value: list and tuple -> Array, dict ->
    Map (or dict_converter(array of [key, value]) such as
    js.Object.fromEntries), set -> Set, bytes-like -> Uint8Array; JsProxy,
    None, bool, int, float and str as they are; a callable -> a JavaScript
    function (create_pyproxies=False refuses it)."""
    g = js_global()

    def convert(value, depth):
        if isinstance(value, JsProxy) or value is None or isinstance(value, (bool, int, float, str)):
            return value
        if depth == 0:
            raise TypeError(f"to_js: depth exhausted at a {type(value).__name__}")
        if isinstance(value, (bytes, bytearray, memoryview)):
            return _wrap(_jsffi.from_bytes(value))
        if isinstance(value, (list, tuple)):
            array = g.Array.new()
            for item in value:
                array.push(convert(item, depth - 1))
            return array
        if isinstance(value, dict):
            if dict_converter is not None:
                entries = g.Array.new()
                for k, v in value.items():
                    entries.push(convert([k, v], depth))
                return dict_converter(entries)
            result = g.Map.new()
            for k, v in value.items():
                result.set(convert(k, depth - 1), convert(v, depth - 1))
            return result
        if isinstance(value, (set, frozenset)):
            result = g.Set.new()
            for item in value:
                result.add(convert(item, depth - 1))
            return result
        if callable(value):
            if not create_pyproxies:
                raise TypeError(f"to_js: {value!r} is callable and create_pyproxies is False")
            return create_proxy(value)
        if default_converter is not None:
            return default_converter(value, lambda v: convert(v, depth - 1), None)
        raise TypeError(f"to_js: cannot convert a {type(value).__name__} to JavaScript")

    return convert(obj, depth)


def create_proxy(obj):
    """A JavaScript function calling obj, which JavaScript may keep (a
    callback for setTimeout, an event handler) until destroy() is called."""
    return _wrap(_jsffi.make_function(obj))


_jsffi.set_hooks(JsException, _wrap, _unwrap)
