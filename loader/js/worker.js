/*
 * worker.js - the Web Worker that hosts the larder interpreter.
 *
 * Messages in:   {type: 'init', baseUrl?, bundles?, sideModules?,
 *                 indexUrl?, key?, allowUnsigned?, cache?}
 *                {type: 'run', id, code}
 * Messages out:  {type: 'ready', fetchMode} | {type: 'stdout'|'stderr', text}
 *                {type: 'progress', package, done, total}
 *                {type: 'done', id, ok} | {type: 'persisted', id}
 *                {type: 'error', message}
 * 'persisted' follows 'done' once the cache is written back (IndexedDB):
 * the run never waits for it.
 */
/* global LarderRuntime */
importScripts('larder-runtime.js');

let python = null;

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'init') {
      python = await LarderRuntime.start({
        baseUrl: msg.baseUrl,
        bundles: msg.bundles,
        sideModules: msg.sideModules,
        indexUrl: msg.indexUrl,
        key: msg.key,
        allowUnsigned: msg.allowUnsigned,
        cache: msg.cache,
        progress: (pkg, done, total) => postMessage({ type: 'progress', package: pkg, done, total }),
        stdout: (text) => postMessage({ type: 'stdout', text }),
        stderr: (text) => postMessage({ type: 'stderr', text }),
      });
      postMessage({ type: 'ready', fetchMode: python.fetchMode });
    } else if (msg.type === 'run') {
      if (!python) throw new Error('larder worker: run before init');
      const ok = python.run(msg.code);
      postMessage({ type: 'done', id: msg.id, ok });
      python.persisted().then(() => postMessage({ type: 'persisted', id: msg.id }));
    } else {
      throw new Error(`larder worker: unknown message type ${msg.type}`);
    }
  } catch (e) {
    postMessage({ type: 'error', id: msg.id, message: String(e && e.message || e) });
  }
};
