"""js - the JavaScript global scope (globalThis of the Worker, or of Node) as
a module, as in Pyodide: `import js; js.Math.max(1, 5)`, `from js import
fetch`. The module is the JsProxy of globalThis itself (pyodide/ffi.py)."""
import sys

from pyodide.ffi import js_global

sys.modules[__name__] = js_global()
