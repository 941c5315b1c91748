/*
 * worker.js (benchmark) - Pyodide 0.24.1 behind larder's worker protocol
 * (adapter.js), so the very same playground page runs on either. Pyodide's
 * files are served under /pyodide/ by the same server; the page's config.js
 * (bench/lib/pages.js makeSites) is read here too, since larder.js passes the
 * worker only its own options.
 */
/* global larderPyodideAdapter, loadPyodide */
importScripts('/pyodide/pyodide.js');
self.window = self;
importScripts('/config.js');  // window.LARDER_CONFIG = {loadImports}
importScripts('adapter.js');
self.onmessage = larderPyodideAdapter(Promise.resolve({
  loadPyodide, loadImports: Boolean(self.LARDER_CONFIG && self.LARDER_CONFIG.loadImports) }));
