/*
 * worker-314.js (benchmark) - Pyodide 314.0.7 behind larder's worker
 * protocol (adapter.js), as worker.js does for 0.24.1: a module worker, since
 * Pyodide 314 refuses classic ones. bench/lib/pages.js pyodideRuntime serves
 * it as worker.js, with a copy of larder.js that asks for a module worker.
 * The handler is set at once: a message that comes while a module worker
 * awaits its imports would be lost.
 */
self.window = self;
const setup = import('/config.js')  // window.LARDER_CONFIG = {loadImports}
  .then(() => import('/pyodide/pyodide.mjs'))
  .then(({ loadPyodide }) => ({ loadPyodide, loadImports: Boolean(self.LARDER_CONFIG && self.LARDER_CONFIG.loadImports) }));
const handler = import('./adapter.js').then(() => self.larderPyodideAdapter(setup));
self.onmessage = (e) => handler.then((handle) => handle(e));
