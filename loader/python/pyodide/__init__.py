"""pyodide - the part of Pyodide's Python API that larder's runtime provides,
so that code written for Pyodide's FFI runs here: pyodide.ffi (JsProxy,
to_js, create_proxy, JsException, IN_BROWSER). See pyodide/ffi.py for what
is there and what is not; there is no pyodide.http, pyodide.code or
loadPackage (imports load packages by themselves)."""
