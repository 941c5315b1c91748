/*
 * worker.js (benchmark) - Pyodide 0.24.1 behind larder's worker protocol, so
 * the very same playground page runs on either: {init} -> {ready},
 * {run, code} -> {stdout}... {done}. Pyodide's files are served under
 * /pyodide/ by the same server.
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
      await pyodide.runPythonAsync(m.code);
    } catch (err) {
      ok = false;
      postMessage({ type: 'stderr', text: String(err.message || err) });
    }
    postMessage({ type: 'done', id: m.id, ok });
  }
};
