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
 *     warmUp: false,                                // skip the idle warm-up after start (worker.js)
 *     starting: () => ...,                          // the Worker has the options and starts (below)
 *   });
 *   const { ok, value } = await py.runPython('import six; six.__version__');   // value: '1.16.0'
 *   await py.globals.set('n', [1, 2]);  await py.globals.get('n');
 *   await py.registerJsModule('page', { title: () => document.title });
 *   await py.runPython('import page; print(page.title())');
 *   py.interrupt();   // KeyboardInterrupt in the running code (cross-origin isolated pages)
 *   await py.persisted();   // what the runs so far installed is in the browser's cache
 *
 * Values cross as JSON: runPython resolves to {ok: true, value} (the value
 * of the code's last expression; undefined when it does not end in one) or
 * {ok: false, error}, where error names what was raised, also when the
 * value has no JSON form. The functions of registerJsModule take and return
 * JSON-compatible values and may be async; Python calls them synchronously,
 * which needs a cross-origin isolated page (elsewhere the call raises an
 * error that says so).
 *
 * The runtime files are taken from where larder.js was loaded (runtimeUrl
 * overrides). Loading larder.js starts the first interpreter's Worker at
 * once (python.wasm downloads while the page loads); <script
 * data-prestart="no" src=".../larder.js"> leaves that to create().
 * Chromium hands a message to a Worker whose script is still being
 * evaluated only once the page's own thread is free, so create()'s options
 * wait for whatever the page's thread does then: a page with heavy work of
 * its own at load (building an editor) does it from starting(), called
 * once the Worker has them (or at ready, from a worker that does not say),
 * and the interpreter starts on the other core meanwhile. The page
 * must be served with COOP/COEP for input(), interrupt() and
 * registerJsModule; larder-mirror serve does that.
 */
(function (root) {
  'use strict';
  const scriptBase = typeof document !== 'undefined' && document.currentScript
    ? new URL('.', document.currentScript.src).href : null;
  /* The first create()'s Worker, started as this script loads (unless the
   * tag says data-prestart="no"): its python.wasm downloads and compiles
   * while the page goes on loading, instead of after the page's scripts. */
  let spare = scriptBase && typeof Worker === 'function' && document.currentScript.dataset.prestart !== 'no'
    ? { base: scriptBase, worker: new Worker(new URL('worker.js', scriptBase).href) } : null;

  async function create(options = {}) {
    const base = options.runtimeUrl || scriptBase;
    if (!base) throw new Error('Larder.create: give runtimeUrl (the directory of worker.js)');
    const shared = typeof SharedArrayBuffer === 'function' && self.crossOriginIsolated;
    const interruptBuffer = shared ? new SharedArrayBuffer(1) : null;
    /* [waiting]: set before each message posted to the worker, so that an
     * idle slice of its warm-up ends at once (worker.js) */
    const waiting = shared ? new Int32Array(new SharedArrayBuffer(4)) : null;
    const inputBuffer = shared ? new SharedArrayBuffer(8 + 65536) : null;
    const callBuffer = shared ? new SharedArrayBuffer(8 + (1 << 20)) : null;
    const modules = {};
    const requests = new Map();  // id -> {resolve, reject}: get, set, register
    let nextId = 1;
    const worker = spare && spare.base === base ? spare.worker : new Worker(new URL('worker.js', base).href);
    if (spare && spare.worker !== worker) spare.worker.terminate();
    spare = null;
    const post = (msg) => {
      if (waiting) Atomics.store(waiting, 0, 1);
      worker.postMessage(msg);
    };
    let pending = null;
    let runs = 0;            // runs done, and of those written back to the cache:
    let persistedRuns = 0;
    let persistWaiters = [];
    const listeners = { stdout: options.stdout || console.log, stderr: options.stderr || console.error };
    /* options.starting, once; as a microtask, so that an error in it
     * reaches the console as an unhandled rejection without stopping
     * create() */
    let starting = options.starting || null;
    const started = () => {
      if (starting) Promise.resolve().then(starting);
      starting = null;
    };
    const ready = new Promise((resolve, reject) => {
      worker.onmessage = async (e) => {
        const m = e.data;
        if (m.type === 'starting') started();
        else if (m.type === 'ready') {
          started();
          resolve();
        }
        else if (m.type === 'stdout' || m.type === 'stderr') listeners[m.type](m.text, { partial: m.partial });
        else if (m.type === 'progress' && options.progress) options.progress(m.package, m.done, m.total);
        else if (m.type === 'installed' && options.installed) {
          options.installed(m.package, m.fromCache, { version: m.version, size: m.size, stdlib: m.stdlib });
        }
        else if (m.type === 'display' && options.display) options.display(m.mime, m.data);
        else if (m.type === 'input-request') {
          const text = options.stdin ? await options.stdin() : null;
          const control = new Int32Array(inputBuffer, 0, 2);
          const bytes = new TextEncoder().encode(text == null ? '' : String(text));
          new Uint8Array(inputBuffer, 8).set(bytes.subarray(0, 65536));
          Atomics.store(control, 1, text == null ? -1 : Math.min(bytes.length, 65536));
          Atomics.store(control, 0, 1);
          Atomics.notify(control, 0);
        } else if (m.type === 'call') {
          answerCall(m);
        } else if (m.type === 'result' && requests.has(m.id)) {
          const r = requests.get(m.id);
          requests.delete(m.id);
          if (m.ok) r.resolve(m.value); else r.reject(new Error(m.error));
        } else if (m.type === 'done' && pending) {
          runs++;
          pending.resolve(m.ok ? { ok: true, value: m.value } : { ok: false, error: m.error });
          pending = null;
        } else if (m.type === 'persisted') {
          persistedRuns++;
          const ready = persistWaiters.filter((w) => w.upTo <= persistedRuns);
          persistWaiters = persistWaiters.filter((w) => w.upTo > persistedRuns);
          for (const w of ready) w.resolve();
        } else if (m.type === 'error') {
          const err = new Error(m.message);
          if (pending) { pending.reject(err); pending = null; } else reject(err);
        }
      };
    });
    /* A registered function called from Python: its result (awaited) or
     * its error into callBuffer, then wake the worker. */
    async function answerCall(m) {
      let state = 1;
      let text;
      try {
        const module = modules[m.module];
        if (!module || typeof module[m.name] !== 'function') throw new Error(`no function ${m.name} in ${m.module}`);
        text = JSON.stringify(await module[m.name](...JSON.parse(m.args)));
        if (text === undefined) text = 'null';
      } catch (e) {
        state = 2;
        text = String(e && e.message || e);
      }
      let bytes = new TextEncoder().encode(text);
      if (bytes.length > callBuffer.byteLength - 8) {
        state = 2;
        bytes = new TextEncoder().encode(`the result of ${m.module}.${m.name} is more than 1 MiB of JSON`);
      }
      const control = new Int32Array(callBuffer, 0, 2);
      new Uint8Array(callBuffer, 8).set(bytes);
      Atomics.store(control, 1, bytes.length);
      Atomics.store(control, 0, state);
      Atomics.notify(control, 0);
    }
    const request = (msg) => new Promise((resolve, reject) => {
      const id = nextId++;
      requests.set(id, { resolve, reject });
      post({ ...msg, id });
    });
    worker.postMessage({ type: 'init', baseUrl: base, indexUrl: options.indexUrl, key: options.key, token: options.token,
      allowUnsigned: options.allowUnsigned, bundles: options.bundles, sideModules: options.sideModules, warmUp: options.warmUp,
      interruptBuffer, inputBuffer, callBuffer, waitingBuffer: waiting && waiting.buffer });
    await ready;
    return {
      /* Run code in a persistent __main__; resolves to {ok, value} or {ok: false, error}.
       * {value: false}: run it as a script, without evaluating a last expression for its value. */
      runPython(code, { value = true } = {}) {
        if (pending) return Promise.reject(new Error('Larder: a run is already in progress'));
        if (interruptBuffer) new Uint8Array(interruptBuffer)[0] = 0;
        return new Promise((resolve, reject) => {
          pending = { resolve, reject };
          post({ type: 'run', id: Date.now(), code, value });
        });
      },
      /* __main__'s globals, as JSON-compatible values */
      globals: {
        get: (name) => request({ type: 'get', name }),
        set: (name, value) => request({ type: 'set', name, value }),
      },
      /* A Python module `name` whose functions call object's (JSON in and out). */
      registerJsModule(name, object) {
        modules[name] = object;
        const functions = Object.keys(object).filter((k) => typeof object[k] === 'function');
        return request({ type: 'register', name, functions });
      },
      /* KeyboardInterrupt in the running code (cross-origin isolated pages only). */
      interrupt() {
        if (!interruptBuffer) throw new Error('Larder: interrupt() needs a cross-origin isolated page');
        new Uint8Array(interruptBuffer)[0] = 2;
      },
      /* Resolves once what the runs finished so far installed is written
       * to the browser's cache (IndexedDB), e.g. before a reload. */
      persisted() {
        if (persistedRuns >= runs) return Promise.resolve();
        return new Promise((resolve) => persistWaiters.push({ upTo: runs, resolve }));
      },
      terminate() { worker.terminate(); },
    };
  }

  root.Larder = { create };
})(typeof self !== 'undefined' ? self : this);
