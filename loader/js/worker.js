/*
 * worker.js - the Web Worker that hosts the larder interpreter.
 *
 * Messages in:   {type: 'init', baseUrl?, bundles?, sideModules?}
 *                {type: 'run', id, code}
 * Messages out:  {type: 'ready'} | {type: 'stdout'|'stderr', text}
 *                {type: 'done', id, ok} | {type: 'error', message}
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
        stdout: (text) => postMessage({ type: 'stdout', text }),
        stderr: (text) => postMessage({ type: 'stderr', text }),
      });
      postMessage({ type: 'ready' });
    } else if (msg.type === 'run') {
      if (!python) throw new Error('larder worker: run before init');
      const ok = python.run(msg.code);
      postMessage({ type: 'done', id: msg.id, ok });
    } else {
      throw new Error(`larder worker: unknown message type ${msg.type}`);
    }
  } catch (e) {
    postMessage({ type: 'error', id: msg.id, message: String(e && e.message || e) });
  }
};
