importScripts('/pyodide/pyodide.js');
(async () => {
  const pyodide = await loadPyodide({ indexURL: '/pyodide/', stdout: (text) => postMessage({ type: 'stdout', text }) });
  postMessage({ type: 'ready' });
  pyodide.runPython("print('hello')");
})();
