/*
 * adapter.js (benchmark) - larder's worker protocol over Pyodide, for the
 * adapter workers of both Pyodide versions (worker.js: 0.24.1, a classic
 * worker; worker-314.js: 314.0.7, a module worker): {init} -> {starting},
 * {ready},
 * {run, code} -> {stdout}... {done}. larderPyodideAdapter(setup) returns the
 * message handler; setup resolves to {loadPyodide, loadImports}. With
 * loadImports (the page's config.js says so: bench/loadpackage.js), a run
 * first loads the packages its code imports (loadPackagesFromImports, through
 * the pyodide-lock.json served with it), which is how a Pyodide page loads
 * packages without listing them.
 */
self.larderPyodideAdapter = (setup) => {
  let pyodide = null;
  return async (e) => {
    const m = e.data;
    const { loadPyodide, loadImports } = await setup;
    if (m.type === 'init') {
      postMessage({ type: 'starting' });
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
};
