/*
 * worker.js (benchmark) - Pyodide 0.24.1 behind larder's worker protocol, so
 * the very same playground page runs on either: {init} -> {ready},
 * {run, code} -> {stdout}... {done}. Pyodide's files are served under
 * /pyodide/ by the same server. With loadImports: true in the page's
 * config.js (bench/lib/pages.js makeSites; the worker reads the same file,
 * since larder.js passes the worker only its own options), as
 * bench/loadpackage.js sets it, a run first loads the packages its code imports
 * (loadPackagesFromImports, through the pyodide-lock.json served with it),
 * which is how a Pyodide page loads packages without listing them.
 */
importScripts('/pyodide/pyodide.js');
self.window = self;
importScripts('/config.js');  // window.LARDER_CONFIG = {loadImports}
const loadImports = Boolean(self.LARDER_CONFIG && self.LARDER_CONFIG.loadImports);
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
      if (loadImports) await pyodide.loadPackagesFromImports(m.code, { messageCallback: () => {} });
      await pyodide.runPythonAsync(m.code);
    } catch (err) {
      ok = false;
      postMessage({ type: 'stderr', text: String(err.message || err) });
    }
    postMessage({ type: 'done', id: m.id, ok });
  }
};
