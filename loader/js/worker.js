/*
 * worker.js - the Web Worker that hosts the larder interpreter.
 *
 * Messages in:   {type: 'init', baseUrl?, bundles?, sideModules?,
 *                 indexUrl?, key?, token?, allowUnsigned?, cache?,
 *                 interruptBuffer?, inputBuffer?, callBuffer?, waitingBuffer?,
 *                 warmUp?}
 *                warmUp: false to skip the idle work after 'ready' (below).
 *                waitingBuffer: SharedArrayBuffer; Int32 [waiting]: the page
 *                sets it to 1 before each message it posts, the worker to 0
 *                as it takes one; an idle slice ends early when it is 1.
 *                interruptBuffer: SharedArrayBuffer; the page writes 2 into
 *                byte 0 to interrupt (KeyboardInterrupt).
 *                inputBuffer: SharedArrayBuffer; Int32 [state, length] then
 *                the bytes: on 'input-request' the page writes a line there,
 *                sets length (-1: end of input) and state 1, and notifies.
 *                callBuffer: SharedArrayBuffer; Int32 [state, length] then
 *                the bytes: on 'call' the page runs the registered function
 *                and writes its result as JSON there (state 1), or its
 *                error message (state 2), and notifies.
 *                {type: 'run', id, code, value?}  value: also return the
 *                value of the last expression (JSON-compatible)
 *                {type: 'get', id, name} | {type: 'set', id, name, value}
 *                {type: 'register', id, name, functions}  a Python module
 *                whose functions call the page's (registerJsModule)
 * Messages out:  {type: 'starting'}  'init' has arrived, the interpreter starts
 *                {type: 'ready', fetchMode} | {type: 'stdout'|'stderr', text}
 *                {type: 'progress', package, done, total}
 *                {type: 'installed', package, fromCache, version, size, stdlib}
 *                {type: 'display', mime, data}  data: an ArrayBuffer
 *                (a figure from plt.show(), or larder.display())
 *                {type: 'input-request'}
 *                stdout/stderr carry partial: true for a prompt without newline
 *                {type: 'done', id, ok, value?, error?} | {type: 'persisted', id}
 *                {type: 'result', id, ok, value?, error?}  (get, set, register)
 *                {type: 'call', module, name, args}  args: JSON text
 *                {type: 'error', message}
 * 'persisted' follows 'done' once the cache is written back (IndexedDB):
 * the run never waits for it.
 */
/* global LarderRuntime */
importScripts('larder-runtime.js');
/* python.wasm and the core bundle start downloading (and compiling) now,
 * before 'init' says anything else: larder.js starts this worker as soon as
 * it is loaded, while the page goes on loading its own scripts */
LarderRuntime.prepare();

let python = null;

/* input() in the program: ask the page, sleep until it answers. */
function inputFrom(buffer) {
  const control = new Int32Array(buffer, 0, 2);
  const data = new Uint8Array(buffer, 8);
  return () => {
    Atomics.store(control, 0, 0);
    postMessage({ type: 'input-request' });
    Atomics.wait(control, 0, 0);
    const n = Atomics.load(control, 1);
    return n < 0 ? null : new TextDecoder().decode(data.slice(0, n));
  };
}

/* A registered module's function, called from Python (larder_page.py):
 * ask the page, sleep until it answers; JSON text in and out. */
let callBuffer = null;
self.larderCallPage = (module, name, args) => {
  if (!callBuffer) {
    throw new Error(`${module}.${name}: calling the page's functions from Python needs a cross-origin isolated page `
      + '(served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, '
      + 'as larder-mirror serve does): the worker waits for the answer on a SharedArrayBuffer');
  }
  const control = new Int32Array(callBuffer, 0, 2);
  Atomics.store(control, 0, 0);
  postMessage({ type: 'call', module, name, args });
  Atomics.wait(control, 0, 0);
  const text = new TextDecoder().decode(new Uint8Array(callBuffer, 8, Atomics.load(control, 1)).slice());
  if (Atomics.load(control, 0) !== 1) throw new Error(`${module}.${name} (in the page): ${text}`);
  return text;
};

/* get, set and register: {ok, value} or {ok: false, error} */
function answer(id, f) {
  try {
    postMessage({ type: 'result', id, ok: true, value: f() });
  } catch (e) {
    postMessage({ type: 'result', id, ok: false, error: String(e && e.message || e) });
  }
}

/* Idle work: WARM_SLICES slices of everyday Python in all (5-30 ms each,
 * between messages, so a run waits for one slice at most), from 'ready' on.
 * V8 first runs wasm as baseline code and optimises the functions that
 * turn out hot in the background, and Chromium keeps a module's optimised
 * code for the next visit once there is 1 MB of it; the slices do both
 * while the user reads or types, instead of during the user's first
 * program (docs/runtime.md, "Warming up"). A message from the page pauses
 * them; they resume once the page has sent nothing for RESUME_MS. */
const WARM_SLICES = 60;
const RESUME_MS = 1000;
/* the first slice waits this long after 'ready': a page that runs code as
 * soon as the interpreter is ready gets it run at once, not after a slice */
const FIRST_SLICE_MS = 100;
let warmSlices = 0;
let warmTimer = null;
function warmUp() {
  warmTimer = null;
  if (warmSlices <= 0) return;
  warmSlices--;
  try {
    python.warmUp();
  } catch (e) {
    warmSlices = 0;
    postMessage({ type: 'stderr', text: String(e && e.message || e), partial: false });
    return;
  }
  warmTimer = setTimeout(warmUp, 0);
}
function pauseWarmUp() {
  if (warmTimer !== null) clearTimeout(warmTimer);
  warmTimer = null;
}
function resumeWarmUp(delay) {
  pauseWarmUp();
  if (warmSlices > 0) warmTimer = setTimeout(warmUp, delay);
}

let waiting = null;  /* Int32Array over the page's waitingBuffer */
self.onmessage = async (event) => {
  const msg = event.data;
  if (waiting) Atomics.store(waiting, 0, 0);
  pauseWarmUp();  /* the page is in use */
  let resumeAfter = RESUME_MS;
  try {
    if (msg.type === 'init') {
      postMessage({ type: 'starting' });
      waiting = msg.waitingBuffer ? new Int32Array(msg.waitingBuffer) : null;
      python = await LarderRuntime.start({
        baseUrl: msg.baseUrl,  /* default: where worker.js is */
        bundles: msg.bundles,
        sideModules: msg.sideModules,
        indexUrl: msg.indexUrl,
        key: msg.key,
        token: msg.token,
        allowUnsigned: msg.allowUnsigned,
        cache: msg.cache,
        progress: (pkg, done, total) => postMessage({ type: 'progress', package: pkg, done, total }),
        stdout: (text, flags) => postMessage({ type: 'stdout', text, partial: Boolean(flags && flags.partial) }),
        stderr: (text, flags) => postMessage({ type: 'stderr', text, partial: Boolean(flags && flags.partial) }),
        stdin: msg.inputBuffer ? inputFrom(msg.inputBuffer) : undefined,
        interruptBuffer: msg.interruptBuffer ? new Uint8Array(msg.interruptBuffer) : undefined,
        pageWaiting: waiting ? () => Atomics.load(waiting, 0) !== 0 : undefined,
        installed: (pkg, fromCache, info) => postMessage({ type: 'installed', package: pkg, fromCache, ...info }),
        display: (mime, bytes) => postMessage({ type: 'display', mime, data: bytes.buffer }, [bytes.buffer]),
        /* 'ready' means the interpreter is ready; the index is fetched and
         * verified when code first needs it, or in the first idle slice */
        init: true,
      });
      callBuffer = msg.callBuffer || null;
      postMessage({ type: 'ready', fetchMode: python.fetchMode });
      if (msg.warmUp !== false) warmSlices = WARM_SLICES;
      resumeAfter = FIRST_SLICE_MS;
    } else if (msg.type === 'run') {
      if (!python) throw new Error('larder worker: run before init');
      const result = msg.value ? python.runValue(msg.code) : { ok: python.run(msg.code) };
      postMessage({ type: 'done', id: msg.id, ...result });
      python.persisted().then(() => postMessage({ type: 'persisted', id: msg.id }));
    } else if (msg.type === 'get' || msg.type === 'set' || msg.type === 'register') {
      if (!python) throw new Error(`larder worker: ${msg.type} before init`);
      answer(msg.id, () => (msg.type === 'get' ? python.getGlobal(msg.name)
        : msg.type === 'set' ? python.setGlobal(msg.name, msg.value) : python.registerJsModule(msg.name, msg.functions)));
    } else {
      throw new Error(`larder worker: unknown message type ${msg.type}`);
    }
  } catch (e) {
    postMessage({ type: 'error', id: msg.id, message: String(e && e.message || e) });
  }
  if (python) resumeWarmUp(resumeAfter);
};
