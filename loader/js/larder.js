/*
 * larder.js - the page-side API: a worker-backed Python interpreter.
 *
 *   <script src="https://your-mirror/runtime/larder.js"></script>
 *   const py = await Larder.create({
 *     indexUrl: 'https://your-mirror/index.json',   // packages load on import
 *     key: 'ed25519:...',                           // the mirror's public key
 *     token: '...',                                 // a private mirror's bearer token
 *     stdout: (line) => ..., stderr: (line) => ...,
 *     stdin: async () => prompt('input') ,          // input() (needs cross-origin isolation)
 *     progress: (pkg, done, total) => ...,
 *     display: (mime, data) => ...,                 // plt.show() figures: 'image/png', an ArrayBuffer
 *   });
 *   const { ok } = await py.runPython('import six; print(six.__version__)');
 *   py.interrupt();   // KeyboardInterrupt in the running code (cross-origin isolated pages)
 *
 * The runtime files are taken from where larder.js was loaded (runtimeUrl
 * overrides). The page must be served with COOP/COEP for input() and
 * interrupt(); larder-mirror serve does that.
 */
(function (root) {
  'use strict';
  const scriptBase = typeof document !== 'undefined' && document.currentScript
    ? new URL('.', document.currentScript.src).href : null;

  async function create(options = {}) {
    const base = options.runtimeUrl || scriptBase;
    if (!base) throw new Error('Larder.create: give runtimeUrl (the directory of worker.js)');
    const shared = typeof SharedArrayBuffer === 'function' && self.crossOriginIsolated;
    const interruptBuffer = shared ? new SharedArrayBuffer(1) : null;
    const inputBuffer = shared ? new SharedArrayBuffer(8 + 65536) : null;
    const worker = new Worker(new URL('worker.js', base).href);
    let pending = null;
    const listeners = { stdout: options.stdout || console.log, stderr: options.stderr || console.error };
    const ready = new Promise((resolve, reject) => {
      worker.onmessage = async (e) => {
        const m = e.data;
        if (m.type === 'ready') resolve();
        else if (m.type === 'stdout' || m.type === 'stderr') listeners[m.type](m.text, { partial: m.partial });
        else if (m.type === 'progress' && options.progress) options.progress(m.package, m.done, m.total);
        else if (m.type === 'installed' && options.installed) options.installed(m.package, m.fromCache);
        else if (m.type === 'display' && options.display) options.display(m.mime, m.data);
        else if (m.type === 'input-request') {
          const text = options.stdin ? await options.stdin() : null;
          const control = new Int32Array(inputBuffer, 0, 2);
          const bytes = new TextEncoder().encode(text == null ? '' : String(text));
          new Uint8Array(inputBuffer, 8).set(bytes.subarray(0, 65536));
          Atomics.store(control, 1, text == null ? -1 : Math.min(bytes.length, 65536));
          Atomics.store(control, 0, 1);
          Atomics.notify(control, 0);
        } else if (m.type === 'done' && pending) {
          pending.resolve({ ok: m.ok });
          pending = null;
        } else if (m.type === 'error') {
          const err = new Error(m.message);
          if (pending) { pending.reject(err); pending = null; } else reject(err);
        }
      };
    });
    worker.postMessage({ type: 'init', baseUrl: base, indexUrl: options.indexUrl, key: options.key, token: options.token,
      allowUnsigned: options.allowUnsigned, interruptBuffer, inputBuffer });
    await ready;
    return {
      /* Run code in a persistent __main__; resolves to {ok}. */
      runPython(code) {
        if (pending) return Promise.reject(new Error('Larder: a run is already in progress'));
        if (interruptBuffer) new Uint8Array(interruptBuffer)[0] = 0;
        return new Promise((resolve, reject) => {
          pending = { resolve, reject };
          worker.postMessage({ type: 'run', id: Date.now(), code });
        });
      },
      /* KeyboardInterrupt in the running code (cross-origin isolated pages only). */
      interrupt() {
        if (!interruptBuffer) throw new Error('Larder: interrupt() needs a cross-origin isolated page');
        new Uint8Array(interruptBuffer)[0] = 2;
      },
      terminate() { worker.terminate(); },
    };
  }

  root.Larder = { create };
})(typeof self !== 'undefined' ? self : this);
