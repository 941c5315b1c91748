/*
 * worker.js (benchmark) - Pyodide 0.24.1 behind larder's worker protocol, for
 * bench/loadpackage.js: like bench/firstload's, but a run first loads the
 * packages its code imports (loadPackagesFromImports, resolved through the
 * pyodide-lock.json served with it), which is how a Pyodide page loads
 * packages without listing them.
 */
importScripts('/pyodide/pyodide.js');
let pyodide = null;
self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === 'init') {
    pyodide = await loadPyodide({
      indexURL: '/pyodide/',
      stdout: (text) => postMessage({ type: 'stdout', text }),
      stderr: (text) => postMessage({ type: 'stderr', text }),
    });
    postMessage({ type: 'ready' });
  } else if (m.type === 'run') {
    let ok = true;
    try {
      await pyodide.loadPackagesFromImports(m.code, { messageCallback: () => {} });
      await pyodide.runPythonAsync(m.code);
    } catch (err) {
      ok = false;
      postMessage({ type: 'stderr', text: String(err.message || err) });
    }
    postMessage({ type: 'done', id: m.id, ok });
  }
};
