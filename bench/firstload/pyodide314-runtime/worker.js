/*
 * worker.js (benchmark) - Pyodide 314.0.7 behind larder's worker protocol,
 * as ../pyodide-runtime/worker.js does for 0.24.1; a module worker (Pyodide
 * 314 refuses classic ones), started by a copy of larder.js that asks for one
 * (bench/lib/pages.js pyodideRuntime).
 */
self.window = self;
// the handler is set at once (a message that comes while a module worker awaits is lost)
const imports = import('/config.js')  // window.LARDER_CONFIG = {loadImports}
  .then(() => import('/pyodide/pyodide.mjs'));
let pyodide = null, loadImports = false;
self.onmessage = async (e) => {
  const m = e.data;
  const { loadPyodide } = await imports;
  loadImports = Boolean(self.LARDER_CONFIG && self.LARDER_CONFIG.loadImports);
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
