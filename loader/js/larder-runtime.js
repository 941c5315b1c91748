/*
 * larder-runtime.js - start the larder wasm runtime (CPython 3.11 + _larder).
 *
 * One script for both places the runtime runs:
 *   - a Web Worker:  importScripts('larder-runtime.js'); LarderRuntime.start({...})
 *   - Node:          require('./larder-runtime.js').start({...})
 *
 * start(options) fetches (browser) or reads (Node) python.wasm and the stdlib
 * bundles from options.baseUrl, writes the bundles into the in-memory
 * filesystem under /usr/local/lib, instantiates the module and resolves to
 *   { module, run(code) -> bool, runValue(code) -> {ok, value, error},
 *     getGlobal(name), setGlobal(name, value), registerJsModule(name, names),
 *     main(args) -> exit status, FS }
 * run() executes code in a persistent __main__; runValue() also returns the
 * value of a last statement that is an expression, as JSON-compatible JS
 * (larder_page.py); getGlobal/setGlobal read and write __main__'s globals
 * (JSON-compatible values); registerJsModule makes a Python module whose
 * functions call self.larderCallPage (worker.js). main() runs the interpreter
 * like the python3 command line (Node only, once per process).
 *
 * options:
 *   baseUrl   where python.js, python.wasm and the bundles are (a URL in a
 *             worker, a directory in Node; default: this script's location)
 *   bundles   stdlib zips to mount; default ['python311.zip'] (the core).
 *             The first is the interpreter's default python311.zip; the
 *             others are put on sys.path through PYTHONPATH.
 *   sideModules  true to also install the stdlib's extension modules from
 *             lib-dynload/ (listed in lib-dynload/index.txt): the interim
 *             full-stdlib mode, until the loader installs them on import
 *   stdout, stderr   called with each line of output (default: console), and
 *             with a partial line, flagged {partial: true}, when the program
 *             waits for input (its prompt)
 *   stdin     called when the program reads standard input; returns the next
 *             line (with or without its newline), or null for end of input
 *   interruptBuffer  a Uint8Array over a SharedArrayBuffer: writing 2 (SIGINT)
 *             into element 0 raises KeyboardInterrupt in the running program
 *   pageWaiting  a function, true when the page has sent a message that
 *             is waiting for the interpreter: warmUp()'s slice then ends at
 *             once (worker.js reads it from a SharedArrayBuffer the page sets)
 *   installed(package, fromCache, {version, size, stdlib})   after each
 *             package the loader installs (size: the archive's bytes;
 *             stdlib: a module of the standard library)
 *   display(mime, bytes)   shows what the program displays (larder.display,
 *             plt.show() through the larder_matplotlib backend, which is
 *             selected when this is given), e.g. 'image/png' and its bytes
 *   env       extra environment variables for the interpreter
 *   init      true to start the interpreter before resolving, while the
 *             IndexedDB stores are read, instead of at the first run; the
 *             loader then starts when code first needs the index (an import
 *             nothing local has) or at the first warmUp(), not before the
 *             page can run code (not with main())
 *
 * The loader (packages installed on import) is on when indexUrl is given:
 *   indexUrl       the mirror's index.json (absolute, or relative to baseUrl)
 *   key            the mirror's public key, "ed25519:..." (pinned)
 *   token          a bearer token for a private mirror: sent as
 *                  "Authorization: Bearer TOKEN" with every request to the
 *                  index's origin (index, signature, archives), never to
 *                  another origin
 *   allowUnsigned  accept an index without a signature (tests, local work)
 *   cache          where downloaded archives are kept: in a browser, 'idb'
 *                  (the default on a cross-origin isolated page: an
 *                  IndexedDB store the fetch helper reads one archive at a
 *                  time, when an import needs it), 'idbfs' (the default
 *                  elsewhere: the whole cache in IDBFS, read at start) or
 *                  'memory'; under Node, a host directory (default: memory)
 *   cacheCap       the most the cache keeps, in bytes (default 256 MiB;
 *                  least recently used archives go first)
 *   trust          where the highest index serial seen per key is kept (the
 *                  rollback protection), apart from the cache: in a browser,
 *                  'idbfs' (default: an IndexedDB database of its own) or
 *                  'memory'; under Node, a host directory (default:
 *                  $LARDER_TRUST_DIR, else ~/.local/state/larder/trust)
 *   progress(package, done, total)   download progress
 *   parallel       false to fetch one archive after another even where the
 *                  page is cross-origin isolated
 */
(function (root) {
  'use strict';
  const isNode = typeof process === 'object' && process.versions && process.versions.node &&
    typeof importScripts !== 'function';
  /* the runtime's layout (common/common.h: LARDER_TARGET_PREFIX, ..._STDLIB_DIR) */
  const LIB = '/usr/local/lib';
  const STDLIB = `${LIB}/python3.11`;
  const CACHE_ROOT = '/larder';
  const TRUST_ROOT = '/larder-trust';

  /* WebCrypto: the browser's (in a secure context: https, localhost, a
   * cross-origin isolated page) or Node's, from its crypto module */
  const subtle = isNode ? require('crypto').webcrypto.subtle : self.crypto && self.crypto.subtle;

  /* The hex SHA-256 of bytes (copied as the call is made); '' when WebCrypto
   * cannot tell (the interpreter then hashes them itself). Used here for the
   * IDBFS cache and by fetch-helper.js for what it hands over. */
  async function sha256Hex(bytes) {
    try {
      const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
      return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    } catch (e) {
      return '';
    }
  }

  /* Synchronous fetch for the loader, two ways:
   * - Node, and a cross-origin isolated Worker: fetch-helper.js downloads in
   *   parallel (prefetch of the whole closure) while this thread waits on
   *   Atomics.wait, and the bytes arrive through a SharedArrayBuffer;
   * - any other Worker: synchronous XHR, one archive after another.
   * Each returns {fetch(url, size) -> Uint8Array, prefetch([{url, size}]), parallel},
   * and stops a download past its size (limitOf: the index's size, or a cap).
   * headers(url) gives the request headers of a URL (a private mirror's
   * token, for its origin only); the helpers send what they are given. */
  /* The most a download may be: the index's size for an archive, a fixed
   * cap for what has none (the index and its signature). */
  const FETCH_CAP = 64 * 1024 * 1024;
  const limitOf = (size) => (size > 0 ? size : FETCH_CAP);
  function tooLarge(limit) {
    return limit === FETCH_CAP ? `the server sent more than ${FETCH_CAP} bytes, the cap for a download of no `
      + 'declared size; the download was stopped'
      : `the server sent more than the ${limit} bytes the index declares; the download was stopped`;
  }
  /* Bundles (larder-mirror serve's GET DIR/larder-bundle?files=A,B,...: the
   * archives one after another): the archives of items ({url, size}) that
   * can share one, grouped by directory and request headers (headersOf(item)),
   * at most BUNDLE_MAX a group (what serve takes), leaving out those of no
   * known size and directories in unbundled: [{dir, headers, items}]. */
  const BUNDLE_MAX = 512;
  function bundleGroups(items, headersOf, unbundled) {
    const groups = new Map();
    for (const item of items) {
      const dir = item.url.slice(0, item.url.lastIndexOf('/') + 1);
      if (!(item.size > 0) || unbundled.has(dir)) continue;
      const headers = headersOf(item);
      const key = dir + '\n' + JSON.stringify(headers || {});
      if (!groups.has(key)) groups.set(key, { dir, headers, items: [] });
      groups.get(key).items.push(item);
    }
    return [...groups.values()].flatMap(({ dir, headers, items: all }) => {
      const chunks = [];
      for (let i = 0; i < all.length; i += BUNDLE_MAX) chunks.push({ dir, headers, items: all.slice(i, i + BUNDLE_MAX) });
      return chunks;
    });
  }
  const bundleUrl = (dir, items) => `${dir}larder-bundle?files=${items.map((item) => encodeURIComponent(item.url.slice(dir.length))).join(',')}`;
  /* A bundle refused with status: does the server have none (a static file
   * server's 404 and the like), so that archives go one by one from then on?
   * Not for 401/403: the token, not the bundle, was refused. */
  const noBundles = (status) => status !== 401 && status !== 403;

  /* Hand-over ahead: AHEAD_SLOTS SharedArrayBuffers of AHEAD_BYTES that the
   * fetch helper fills, unasked, with the archives a prefetch announced, in
   * its order, so that the interpreter takes the next one without a message
   * and a wait (each round trip to the helper cost 0.4 ms on average and up
   * to 5 ms, its thread and the interpreter's sharing two cores with V8's
   * compilers). Each slot's state and what it holds are an Int32Array
   * (aheadControl(), SLOT_INTS a slot): [state, length, from store, digest
   * length, the requested sha256 (64 UTF-16 code units), the helper's digest
   * of the bytes (64)]. state: 0 free (the helper may fill it), 1 full (the
   * interpreter may take it), 2 taken (the interpreter reads it; it frees it
   * once the bytes are copied, or at its next fetch, and tells the helper
   * {freed: slot, url}). Only the helper moves a slot 0 -> 1 and 1 -> 0 (an
   * archive the interpreter asked for by message after all, or no longer
   * among the next), only the interpreter 1 -> 2 -> 0 (or 2 -> 1: not the
   * archive it looked at), each 1 -> x by compareExchange: a slot is never
   * read and written at once. */
  const AHEAD_SLOTS = 4;
  const AHEAD_BYTES = 1 << 20;
  const SLOT_INTS = 4 + 64 + 64;
  const aheadControl = () => new Int32Array(new SharedArrayBuffer(4 * SLOT_INTS * AHEAD_SLOTS));
  const slotText = (ctl, at, n) => String.fromCharCode(...ctl.subarray(at, at + n));
  function slotTake(ctl, bufs, slot, sha256) {
    const at = slot * SLOT_INTS;
    if (Atomics.load(ctl, at) !== 1 || slotText(ctl, at + 4, 64) !== sha256 || Atomics.compareExchange(ctl, at, 1, 2) !== 1) {
      return null;
    }
    if (slotText(ctl, at + 4, 64) !== sha256) {  /* emptied and filled again between the look and the take */
      Atomics.store(ctl, at, 1);
      return null;
    }
    return { bytes: new Uint8Array(bufs[slot], 0, ctl[at + 1]), fromStore: ctl[at + 2] === 1,
      sha256: slotText(ctl, at + 68, ctl[at + 3]), ahead: true };
  }
  /* the helper's side: true when the archive went into the free slot */
  function slotFill(ctl, bufs, slot, sha256, { bytes, fromStore, digest }) {
    const at = slot * SLOT_INTS;
    if (Atomics.load(ctl, at) !== 0 || bytes.length > bufs[slot].byteLength || sha256.length !== 64 || digest.length > 64) {
      return false;
    }
    new Uint8Array(bufs[slot]).set(bytes);
    ctl[at + 1] = bytes.length;
    ctl[at + 2] = fromStore ? 1 : 0;
    ctl[at + 3] = digest.length;
    for (let i = 0; i < 64; i++) ctl[at + 4 + i] = sha256.charCodeAt(i);
    for (let i = 0; i < digest.length; i++) ctl[at + 68 + i] = digest.charCodeAt(i);
    Atomics.store(ctl, at, 1);
    return true;
  }
  /* the interpreter's side: a taken slot whose bytes it has copied goes back to the helper */
  const slotFree = (ctl, slot) => Atomics.store(ctl, slot * SLOT_INTS, 0);
  /* the helper's side: empty a full slot the interpreter will not take */
  const slotClear = (ctl, slot) => Atomics.compareExchange(ctl, slot * SLOT_INTS, 1, 0) === 1;
  const slotState = (ctl, slot) => Atomics.load(ctl, slot * SLOT_INTS);

  /* The body of a fetch() response, stopped as soon as it passes limit;
   * a failure while reading is a network error. */
  async function readLimited(response, limit) {
    if (Number(response.headers.get('content-length')) > limit) throw new Error(tooLarge(limit));
    const reader = response.body.getReader();
    const chunks = [];
    let total = 0;
    for (;;) {
      let step;
      try {
        step = await reader.read();
      } catch (e) {
        throw new Error(`network error (${(e.cause && e.cause.message) || e.message})`);
      }
      const { done, value } = step;
      if (done) break;
      total += value.length;
      if (total > limit) {
        reader.cancel();
        throw new Error(tooLarge(limit));
      }
      chunks.push(value);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /* 'idb' keeps no archives in IDBFS: those an older version left there go
   * (the next write-back removes them from IndexedDB too). */
  function dropOldArchives(FS) {
    let names = [];
    try {
      names = FS.readdir(`${CACHE_ROOT}/cache`);
    } catch (e) {
      return;  /* no cache directory yet */
    }
    for (const name of names) {
      if (name.endsWith('.tar.zst') || name === 'lru.txt') FS.unlink(`${CACHE_ROOT}/cache/${name}`);
    }
  }

  /* 'idbfs' (a page that is not isolated): the archives IndexedDB gave at
   * start, hashed with WebCrypto one after another, off the interpreter's
   * thread, while the page gets ready and idles; the loader compares a
   * digest found here with the signed index's instead of hashing the
   * archive in wasm (Module.larderFileSha256, loader/fetch.c). A digest
   * holds while the file is the node that was hashed, unchanged: MEMFS
   * gives a file written since new contents or a new timestamp (the
   * files IndexedDB gave carry their old times). Returns the lookup:
   * path -> 64 hex digits, or null (not hashed yet, changed, no WebCrypto:
   * outside a secure context). */
  function hashCachedArchives(FS) {
    const dir = `${CACHE_ROOT}/cache`;
    const known = new Map();  /* path -> {hex, node, contents, size, time} */
    const state = (path) => {
      try {
        const node = FS.lookupPath(path).node;
        return { node, contents: node.contents, size: node.usedBytes, time: node.timestamp };
      } catch (e) {
        return null;  /* gone */
      }
    };
    const same = (a, b) => Boolean(a && b) && a.node === b.node && a.contents === b.contents
      && a.size === b.size && a.time === b.time;
    let names = [];
    try {
      names = FS.readdir(dir).filter((name) => name.endsWith('.tar.zst'));
    } catch (e) {
      /* no cache directory yet */
    }
    (async () => {
      for (const name of names) {
        const path = `${dir}/${name}`;
        const before = state(path);
        if (!before || !ArrayBuffer.isView(before.contents)) continue;  /* MEMFS: an Int8Array */
        const hex = await sha256Hex(before.contents.subarray(0, before.size));
        if (!hex) return;  /* no WebCrypto, or it refused: the loader hashes, as without it */
        if (same(before, state(path))) known.set(path, { hex, ...before });
      }
    })();
    return (path) => {
      const entry = known.get(path);
      return entry && same(entry, state(path)) ? entry.hex : null;
    };
  }

  function authHeaders(auth) {
    return (url) => {
      if (!auth) return {};
      let origin;
      try {
        origin = new URL(url).origin;
      } catch (e) {
        return {};
      }
      return origin === auth.origin ? { Authorization: `Bearer ${auth.token}` } : {};
    };
  }

  /* Start fetch-helper.js: a Web Worker, or a worker_threads Worker under
   * Node; either way an object with post(message) and onMessage(handler),
   * once the helper has said it is ready. */
  async function startHelper(base) {
    if (isNode) {
      const { Worker } = require('worker_threads');
      const worker = new Worker(require('path').join(base, 'fetch-helper.js'));
      await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', (e) => reject(new Error(`larder: the fetch helper failed to start: ${e.message}`)));
      });
      /* the helper does not keep the process alive (unref after each
       * listener: adding one refs the worker again) */
      worker.unref();
      return {
        post: (m) => worker.postMessage(m),
        onMessage: (f) => { worker.on('message', f); worker.unref(); },
        terminate: () => worker.terminate(),
      };
    }
    const worker = new Worker(new URL('fetch-helper.js', base).href);
    await new Promise((resolve, reject) => {
      worker.onmessage = () => resolve();
      worker.onerror = (e) => reject(new Error(`larder: the fetch helper failed to start: ${e.message}`));
    });
    /* Chromium hands this thread's messages to a Worker it has just
     * started only once this thread's event loop has turned again: a
     * fetch posted at once, followed by Atomics.wait, would wait forever.
     * A message answered proves the way there open. */
    await new Promise((resolve) => {
      worker.onmessage = () => resolve();
      worker.postMessage({ ping: true });
    });
    return { post: (m) => worker.postMessage(m), onMessage: (f) => { worker.onmessage = (e) => f(e.data); },
      terminate: () => worker.terminate() };
  }

  /* Fetch through the helper (started: startHelper's promise): it
   * downloads (in parallel after a prefetch) while this thread waits on
   * Atomics.wait, then copies the bytes into a SharedArrayBuffer this
   * thread allocated. store: {name, cap} to keep
   * archives in the helper's IndexedDB store (read one by one when
   * needed), or null. warn(text) reports what the helper could not do
   * (keep an archive) without failing the import. */
  async function helperFetcher(started, headers, store, warn) {
    const helper = await started;
    const flushes = new Map();
    helper.onMessage((m) => {
      if (m.warn) warn(m.warn);
      if (m.flushed) {
        flushes.get(m.flushed)();
        flushes.delete(m.flushed);
      }
    });
    if (store) helper.post({ store });
    const control = new Int32Array(new SharedArrayBuffer(4 * (4 + 400)));
    /* where the helper puts an archive's bytes: one buffer, grown when an
     * archive does not fit, and given to the helper only then */
    let pool = new SharedArrayBuffer(1 << 20);
    let poolSent = false;
    /* the slots of the hand-over ahead (above), made with the first prefetch */
    let slots = null;
    let slotBufs = null;
    let taken = -1;       /* the slot whose bytes the last fetch returned */
    let takenUrl = null;
    /* the caller has copied the bytes (or fetches again): the slot is the helper's again */
    const release = () => {
      if (taken < 0) return;
      slotFree(slots, taken);
      helper.post({ freed: taken, url: takenUrl });
      taken = -1;
    };
    let flushId = 0;
    return {
      parallel: true,
      prefetch: (items) => {
        /* the slots go with the first prefetch: a page that loads no package makes none */
        const first = !slots;
        if (first) {
          slots = aheadControl();
          slotBufs = Array.from({ length: AHEAD_SLOTS }, () => new SharedArrayBuffer(AHEAD_BYTES));
        }
        helper.post({
          prefetch: items.map(({ url, size, sha256 }) => ({ url, headers: headers(url), limit: limitOf(size), size, sha256 })),
          slots: first ? slots : undefined, slotBufs: first ? slotBufs : undefined,
        });
      },
      /* The bytes returned are a view of the pool or of a slot, valid until
       * the next fetch or until the caller, having copied them (larder_js_fetch:
       * into the wasm heap), calls release() when there is one.
       * refresh: the store's copy did not match sha256 (the loader checks
       * it); the helper drops it and downloads the archive. */
      fetch: (url, expected, sha256, refresh) => {
        release();
        for (let i = 0; slots && sha256 && !refresh && i < AHEAD_SLOTS; i++) {
          const got = slotTake(slots, slotBufs, i, sha256);
          if (got) {
            taken = i;
            takenUrl = url;
            return { ...got, release };
          }
        }
        Atomics.store(control, 0, 0);
        /* the shared control array and pool go once: cloning shared memory
         * into a message costs more than the rest of it */
        helper.post({ fetch: url, headers: headers(url), limit: limitOf(expected), size: expected, sha256, refresh,
          control: poolSent ? undefined : control, pool: poolSent ? undefined : pool });
        poolSent = true;
        Atomics.wait(control, 0, 0);
        /* the error, or the archive's sha256 as the helper computed it (the loader compares it with the index's) */
        const text = String.fromCharCode(...control.subarray(4, 4 + Atomics.load(control, 2)));
        if (Atomics.load(control, 0) === 3) throw new Error(text);
        const fromStore = Atomics.load(control, 3) === 1;
        const length = Atomics.load(control, 1);
        if (Atomics.load(control, 0) === 1) {  // too big for the pool: a bigger one, then the bytes
          pool = new SharedArrayBuffer(Math.max(length, 2 * pool.byteLength));
          helper.post({ deliver: url, data: pool });
          Atomics.wait(control, 0, 1);
        }
        return { bytes: new Uint8Array(pool, 0, length), fromStore, sha256: text };
      },
      /* resolves when the archives it was given are in its store */
      flush: store ? () => new Promise((resolve) => {
        flushes.set(++flushId, resolve);
        helper.post({ flush: flushId });
      }) : undefined,
    };
  }

  function xhrFetcher(headers) {
    /* A synchronous XHR cannot be stopped part way: the size is checked
     * once the response is complete, before it reaches the interpreter. */
    const get = (url) => {
      const xhr = new XMLHttpRequest();
      xhr.open('GET', url, false);
      xhr.responseType = 'arraybuffer';
      for (const [name, value] of Object.entries(headers(url))) xhr.setRequestHeader(name, value);
      try {
        xhr.send();
      } catch (e) {
        throw new Error(`network error (${e.message})`);
      }
      return xhr;
    };
    const fetched = new Map();  // url -> bytes a bundle brought, until asked for
    const unbundled = new Set(); // directories whose server has no bundles
    const fetchOne = (url, expected) => {
      if (fetched.has(url)) {
        const bytes = fetched.get(url);
        fetched.delete(url);
        return { bytes, fromStore: false };
      }
      const xhr = get(url);
      if (xhr.status !== 200) throw new Error(`HTTP ${xhr.status}${xhr.statusText ? ' ' + xhr.statusText : ''}`);
      if (xhr.response.byteLength > limitOf(expected)) throw new Error(tooLarge(limitOf(expected)));
      return { bytes: new Uint8Array(xhr.response), fromStore: false };
    };
    /* What an install announces comes in one synchronous request where the
     * server has bundles (larder-mirror serve: /larder-bundle, as in
     * fetch-helper.js), split by the sizes the index declares; anything
     * else (a 404 from a static server, a short answer) leaves the archives
     * to be fetched one by one. */
    const prefetch = (items) => {
      const fresh = items.filter((item) => !fetched.has(item.url));
      for (const { dir, items: group } of bundleGroups(fresh, (item) => headers(item.url), unbundled)) {
        if (group.length < 2) continue;
        let xhr;
        try {
          xhr = get(bundleUrl(dir, group));
        } catch (e) {
          continue;  // fetched one by one, which reports the error
        }
        if (xhr.status !== 200) {
          if (noBundles(xhr.status)) unbundled.add(dir);
          continue;
        }
        const all = new Uint8Array(xhr.response);
        if (all.length !== group.reduce((n, item) => n + item.size, 0)) continue;
        let at = 0;
        for (const item of group) {
          fetched.set(item.url, all.subarray(at, at + item.size));
          at += item.size;
        }
      }
    };
    return { parallel: false, prefetch, fetch: fetchOne };
  }

  /* prepare(): in a Worker, begin what start() will wait for before any
   * option is known: python.wasm's download and compilation, the core
   * bundle's download, python.js (right after the Worker's script). A
   * start() with the same base uses them (worker.js calls this as it loads,
   * so that the download runs while the page is still loading its own
   * scripts). A failure is reported by start(). */
  let prepared = null;
  function prepare(baseUrl) {
    if (isNode || prepared) return;
    const base = baseUrl || defaultBase();
    const quiet = (p) => { p.catch(() => {}); return p; };  // start() reports the error
    prepared = {
      base,
      wasm: quiet(compileWasm(new URL('python.wasm', base).href)),
      bundles: new Map([['python311.zip', quiet(readFile(base, 'python311.zip'))]]),
      factory: null,
      /* the fetch helper too, where it will run (start() ends it if the
       * page turns out to have no loader): it is ready by the time the
       * interpreter needs it, instead of starting after the interpreter */
      helper: self.crossOriginIsolated && typeof SharedArrayBuffer === 'function' ? quiet(startHelper(base)) : null,
    };
    /* python.js (importScripts: synchronous) once the Worker's script has
     * been evaluated: until then Chromium holds the page's messages (the
     * options of 'init') back */
    const early = prepared;
    setTimeout(() => {
      try {
        early.factory = loadFactory(base);
      } catch (e) {
        // start() loads it again and reports why it cannot
      }
    }, 0);
  }

  function defaultBase() {
    if (isNode) return __dirname;
    return new URL('.', self.location.href).href;
  }

  /* Compile a wasm module from its response while it downloads. Streaming
   * needs the server to send Content-Type: application/wasm (larder-mirror
   * serve does); only when it does not are the bytes compiled instead, with
   * a warning, since the browser then keeps no compiled code for next time. */
  async function compileWasm(url) {
    const response = await fetchOk(url);
    if ((response.headers.get('content-type') || '').split(';')[0].trim() === 'application/wasm') {
      return WebAssembly.compileStreaming(response);
    }
    console.warn(`larder: ${url} is not served as application/wasm: compiled from bytes, without the browser's `
      + 'streaming compilation and code cache');
    return WebAssembly.compile(await response.arrayBuffer());
  }

  /* A successful response for url, or an error naming it. */
  async function fetchOk(url) {
    let response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new Error(`larder: cannot fetch ${url}: ${e.message}`);
    }
    if (!response.ok) throw new Error(`larder: cannot fetch ${url}: HTTP ${response.status}`);
    return response;
  }

  async function readFile(base, name) {
    if (isNode) {
      const path = require('path');
      return new Uint8Array(require('fs').readFileSync(path.join(base, name)));
    }
    return new Uint8Array(await (await fetchOk(new URL(name, base).href)).arrayBuffer());
  }

  function loadFactory(base) {
    if (isNode) return require(require('path').join(base, 'python.js'));
    if (typeof createLarderPython !== 'function') importScripts(new URL('python.js', base).href);
    return createLarderPython; // eslint-disable-line no-undef
  }

  async function start(options = {}) {
    const base = options.baseUrl || defaultBase();
    const bundles = options.bundles || ['python311.zip'];
    const out = options.stdout || ((line) => console.log(line));
    const err = options.stderr || ((line) => console.error(line));
    /* output arrives byte by byte; lines are decoded and passed on whole,
     * and a pending partial line is flushed before the program reads input */
    const stream = (sink) => {
      let bytes = [];
      const flush = (partial) => {
        if (!bytes.length && partial) return;
        const text = new TextDecoder().decode(new Uint8Array(bytes));
        bytes = [];
        sink(text, partial ? { partial: true } : undefined);
      };
      return {
        put: (code) => {
          if (code === null || code === undefined) return;
          if (code === 10) flush(false);
          else bytes.push(code < 0 ? code + 256 : code);
        },
        flush,
      };
    };
    const stdoutStream = stream(out);
    const stderrStream = stream(err);
    /* Emscripten calls stdin() for each byte until it returns null, which
     * ends that read(). A line is asked for only when a read starts with
     * nothing left; after its last byte one null ends the read. */
    let stdinBytes = [];
    let midRead = false;
    const stdin = () => {
      if (stdinBytes.length) {
        midRead = true;
        return stdinBytes.shift();
      }
      if (midRead) {
        midRead = false;
        return null;
      }
      stdoutStream.flush(true);
      stderrStream.flush(true);
      const line = options.stdin ? options.stdin() : null;
      if (line === null || line === undefined) return null;  /* end of input */
      stdinBytes = Array.from(new TextEncoder().encode(line.endsWith('\n') ? line : line + '\n'));
      midRead = true;
      return stdinBytes.shift();
    };
    /* In a browser python.wasm is compiled while it downloads, from the
     * response (compileStreaming): that is also what lets Chromium keep the
     * compiled code in its wasm code cache for the next visit; prepare()
     * may have begun it. Node reads the file and compiles the bytes. */
    const early = !isNode && prepared && prepared.base === base ? prepared : null;
    const preparedHelper = prepared && prepared.helper;
    prepared = null;
    const [wasm, ...zips] = await Promise.all([
      isNode ? readFile(base, 'python.wasm') : early ? early.wasm : compileWasm(new URL('python.wasm', base).href),
      ...bundles.map((name) => (early && early.bundles.has(name) ? early.bundles.get(name) : readFile(base, name)))]);
    const factory = early && early.factory ? early.factory : loadFactory(base);
    let sideModules = [];
    if (options.sideModules) {
      const list = new TextDecoder().decode(await readFile(base, 'lib-dynload/index.txt'));
      const names = list.split('\n').filter((n) => n.endsWith('.so'));
      sideModules = await Promise.all(names.map(async (n) => [n, await readFile(base, `lib-dynload/${n}`)]));
    }

    const loaderOn = Boolean(options.indexUrl);
    const indexUrl = !loaderOn ? null : isNode && !/^[a-z]+:/.test(options.indexUrl) ? options.indexUrl
      : new URL(options.indexUrl, isNode ? 'http://invalid/' : base).href;
    let auth = null;
    if (loaderOn && options.token) {
      if (!/^[a-z]+:\/\//.test(indexUrl)) throw new Error('larder: a token needs an http(s) index URL');
      if (/[\s]/.test(options.token)) throw new Error('larder: the token contains white space');
      auth = { origin: new URL(indexUrl).origin, token: options.token };
    }
    const isolated = !isNode && self.crossOriginIsolated && typeof SharedArrayBuffer === 'function'
      && options.parallel !== false;
    /* 'idb': archives in the fetch helper's IndexedDB store, each read when
     * an import needs it (the default where the helper runs: a cross-origin
     * isolated page); 'idbfs': the whole cache in IDBFS, read at start
     * (pages that are not isolated: nothing else can read IndexedDB while
     * Python waits for an archive). */
    let cacheMode = options.cache || (isNode ? 'memory' : isolated ? 'idb' : 'idbfs');
    if (cacheMode === 'idb' && !isolated) cacheMode = 'idbfs';
    const cacheCap = options.cacheCap || 256 * 1024 * 1024;
    /* The fetch helper (started by prepare(), or now) is waited for only
     * when the loader starts (below). */
    let fetcher = null;
    const earlyHelper = early && loaderOn && isolated ? early.helper : null;
    const fetcherReady = !loaderOn ? Promise.resolve(null) : isNode || isolated
      ? helperFetcher(earlyHelper || startHelper(base), authHeaders(auth),
        cacheMode === 'idb' ? { name: 'larder-archives', cap: cacheCap } : null, (text) => err(`larder: ${text}`))
      : Promise.resolve(xhrFetcher(authHeaders(auth)));
    /* one prepare() started that this start does not use (no loader, or another base URL) */
    if (preparedHelper && preparedHelper !== earlyHelper) preparedHelper.then((helper) => helper.terminate(), () => {});
    fetcherReady.catch(() => {});  /* awaited below */
    const trustMode = options.trust || (!isNode ? 'idbfs' : process.env.LARDER_TRUST_DIR
      || require('path').join(require('os').homedir(), '.local', 'state', 'larder', 'trust'));
    /* IDBFS at /larder holds the verified index in 'idb' mode, everything in 'idbfs' */
    const cacheIdbfs = cacheMode === 'idbfs' || cacheMode === 'idb';
    const anyIdbfs = cacheIdbfs || trustMode === 'idbfs';
    let syncing = Promise.resolve();
    let persistTimer = null;
    let idbfsRead = Promise.resolve();  /* IDBFS read into memory (below) */
    let cachedDigest = null;            /* the cache's archives hashed (hashCachedArchives) */
    /* C++ side modules built with exception catching (kiwisolver,
     * matplotlib) import ___cxa_find_matching_catch_N, N-2 being how many
     * types a catch site names; emscripten 3.1.6 generates these only for
     * the main module's own imports. Each is the variadic function. */
    const catchers = {};
    for (let n = 2; n <= 16; n++) catchers[`___cxa_find_matching_catch_${n}`] = (...types) => module.___cxa_find_matching_catch(...types);
    const module = await factory({
      ...catchers,
      ...(isNode ? { wasmBinary: wasm } : {
        /* emscripten's hook: instantiate the module compiled above */
        instantiateWasm: (imports, receive) => {
          WebAssembly.instantiate(wasm, imports).then((instance) => receive(instance, wasm),
            (e) => err(`larder: cannot instantiate python.wasm: ${e.message}`));
          return {};
        },
      }),
      noInitialRun: true,
      stdout: stdoutStream.put,
      stderr: stderrStream.put,
      stdin,
      larderInstalled: options.installed,
      larderDisplay: options.display,
      larderPageWaiting: options.pageWaiting,
      larderFetch: loaderOn ? (...args) => fetcher.fetch(...args) : undefined,
      larderPrefetch: loaderOn ? (...args) => fetcher.prefetch(...args) : undefined,
      larderProgress: options.progress,
      larderWarn: (message) => err(`larder: ${message}`),
      larderFileSha256: (path) => (cachedDigest ? cachedDigest(path) : null),
      /* write the cache back to IndexedDB after installs, off the import's path */
      larderPersist: () => {
        if (!anyIdbfs || persistTimer) return;
        persistTimer = setTimeout(() => {
          persistTimer = null;
          syncing = syncing.then(() => new Promise((resolve) => module.FS.syncfs(false, (e) => {
            if (e) err(`larder: cannot save the cache and trust store to IndexedDB: ${e.message || e}`);
            resolve();
          })));
        }, 0);
      },
      preRun: [(M) => {
        M.FS.mkdirTree(`${STDLIB}/lib-dynload`);
        M.FS.mkdirTree(CACHE_ROOT);
        M.FS.mkdirTree(TRUST_ROOT);
        /* each IDBFS mount is an IndexedDB database named by its mount
         * point: the trust store survives a cleared cache */
        for (const [mode, where] of [[cacheIdbfs ? 'idbfs' : cacheMode, CACHE_ROOT], [trustMode, TRUST_ROOT]]) {
          if (mode === 'idbfs') {
            M.FS.mount(M.FS.filesystems.IDBFS, {}, where);
          } else if (isNode && mode !== 'memory') {
            require('fs').mkdirSync(mode, { recursive: true });
            M.FS.mount(M.FS.filesystems.NODEFS, { root: mode }, where);
          }
        }
        /* read while the interpreter starts: only the loader (started
         * after it) looks under these mount points */
        if (anyIdbfs) {
          idbfsRead = new Promise((resolve) => M.FS.syncfs(true, (e) => {
            if (e) err(`larder: cannot read the cache and trust store from IndexedDB: ${e.message || e}`);
            if (cacheMode === 'idb') dropOldArchives(M.FS);
            if (cacheMode === 'idbfs' && !isNode) cachedDigest = hashCachedArchives(M.FS);
            resolve();
          }));
        }
        if (loaderOn) {
          M.ENV.LARDER_INDEX_URL = indexUrl;
          if (options.key) M.ENV.LARDER_KEY = options.key;
          if (options.allowUnsigned) M.ENV.LARDER_ALLOW_UNSIGNED = '1';
          M.ENV.LARDER_CACHE_DIR = `${CACHE_ROOT}/cache`;
          /* in 'idb' mode the helper keeps the archives; the loader's own cache is off */
          M.ENV.LARDER_CACHE_CAP = String(cacheMode === 'idb' ? 0 : cacheCap);
          M.ENV.LARDER_TRUST_DIR = TRUST_ROOT;
        }
        const extra = [];
        zips.forEach((data, i) => {
          const path = i === 0 ? `${LIB}/python311.zip` : `${LIB}/${bundles[i].replace(/.*\//, '')}`;
          M.FS.writeFile(path, data);
          if (i > 0) extra.push(path);
        });
        if (extra.length) M.ENV.PYTHONPATH = extra.join(':');
        for (const [name, data] of sideModules) M.FS.writeFile(`${STDLIB}/lib-dynload/${name}`, data);
        if (options.display) M.ENV.MPLBACKEND = 'module://larder_matplotlib';
        /* matplotlib's font list (read from every font it ships, 0.2-0.3 s
         * on each import of matplotlib.pyplot) kept with the cache, so that
         * only a page's first visit builds it */
        M.ENV.MPLCONFIGDIR = `${CACHE_ROOT}/matplotlib`;
        Object.assign(M.ENV, options.env || {});
      }],
    });

    /* CPython's signal check (Python/emscripten_signal.c) reads byte 0 of
     * Module.Py_EmscriptenSignalBuffer, then writes 0 to it: two steps, so
     * a SIGINT the page writes between them was lost, and Stop did nothing
     * (in about one run of five, since the check runs a million times a
     * second in a loop). Reading and clearing here in one atomic step, and
     * ignoring the clear, loses none. */
    if (options.interruptBuffer) {
      const buffer = options.interruptBuffer;
      module.Py_EmscriptenSignalBuffer = {
        get 0() { return Atomics.exchange(buffer, 0, 0); },
        set 0(value) { /* cleared by the read */ },
      };
    }
    let started = false;
    let loaderNoted = false;   /* larder_start_loader called */
    let loaderForced = false;  /* ... without defer */
    const begin = () => {
      if (options.interruptBuffer) module._larder_enable_interrupts();
    };
    const startInterpreter = () => {
      if (started) return;
      if (module._larder_start() !== 0) throw new Error('larder: the interpreter failed to start');
      started = true;
    };
    /* The interpreter, then the loader, which needs the helper and the
     * IndexedDB read (awaited below, before start() resolves). Without
     * options.init the loader starts here (the index fetched and verified);
     * with it, it is only noted, and starts when code first needs the index
     * (an import nothing local has) or at the first idle moment (warmUp),
     * whichever comes first: the page can run code sooner. */
    const init = () => {
      if (loaderNoted) return;
      startInterpreter();
      module._larder_start_loader(options.init ? 1 : 0);
      loaderNoted = true;
      loaderForced = !options.init;
      module.larderPersist();  /* the index's serial, recorded in the trust store */
      begin();
    };
    /* options.init: the interpreter starts while IndexedDB is read (and
     * the helper, if prepare() did not start it, starts), instead of after */
    if (options.init) startInterpreter();
    fetcher = await fetcherReady;
    /* the signed index, which the noted loader reads first: asked for now,
     * while the page gets ready, so that the first import does not wait
     * for it (the helper keeps it until asked, once); one URL per prefetch,
     * as two would be asked for as a bundle of archives */
    if (options.init && fetcher && fetcher.parallel)
      for (const url of [indexUrl, `${indexUrl}.sig`]) fetcher.prefetch([{ url, size: 0 }]);
    await idbfsRead;
    if (options.init) init();
    const flushAll = () => {
      stdoutStream.flush(true);
      stderrStream.flush(true);
      module.larderPersist();  /* whatever the run wrote under /larder, too */
    };
    const errorText = () => {
      const p = module._larder_run_error();
      return p ? module.UTF8ToString(p) : 'an error (see stderr)';
    };
    const runIt = (code, wantValue) => {
      init();
      try {
        return module.ccall('larder_run', 'number', ['string', 'number'], [code, wantValue]);
      } finally {
        flushAll();
      }
    };
    /* larder_page.FUNC(a[, b]) -> its str result (or null); throws its error */
    const pageCall = (func, a, b) => {
      init();
      let rc;
      try {
        rc = module.ccall('larder_page_call', 'number', ['string', 'string', 'string'], [func, a, b === undefined ? null : b]);
      } finally {
        flushAll();
      }
      if (rc !== 0) throw new Error(errorText());
      const p = module._larder_result();
      return p ? module.UTF8ToString(p) : null;
    };
    return {
      module,
      FS: module.FS,
      /* Initialise the interpreter (and the loader: the index is fetched and
       * verified) now rather than at the first run(). */
      init,
      /* Run code in the persistent __main__; true when it raised nothing. */
      run(code) {
        return runIt(code, 0) === 0;
      },
      /* Run code; {ok: true, value} (value undefined when the code does not
       * end in an expression) or {ok: false, error: "Type: message"}. */
      runValue(code) {
        if (runIt(code, 1) !== 0) return { ok: false, error: errorText() };
        const p = module._larder_result();
        return { ok: true, value: p ? JSON.parse(module.UTF8ToString(p)) : undefined };
      },
      getGlobal(name) {
        return JSON.parse(pageCall('get_global', String(name)));
      },
      setGlobal(name, value) {
        const text = JSON.stringify(value);
        if (text === undefined) throw new TypeError(`larder: setGlobal(${name}): the value has no JSON form`);
        pageCall('set_global', String(name), text);
      },
      /* One slice of idle work (larder_page.warm_up, a few ms): the engine
       * optimises the interpreter's hot code before the user's code needs it. */
      warmUp() {
        init();
        if (!loaderForced) {  /* the loader options.init left for now: its first idle slice */
          loaderForced = true;
          try {
            module._larder_start_loader(0);
          } finally {
            flushAll();  /* its failure on stderr; the index's serial in the trust store */
          }
          return;
        }
        if (module._larder_warm_up() !== 0) throw new Error(`larder: warm-up failed: ${errorText()}`);
      },
      registerJsModule(name, functionNames) {
        pageCall('register_js_module', String(name), JSON.stringify(functionNames));
      },
      /* How archives are fetched: 'parallel' or 'sequential' (null: no loader). */
      fetchMode: fetcher ? (fetcher.parallel ? 'parallel' : 'sequential') : null,
      /* Resolves when the cache has been written back to IndexedDB. */
      persisted() {
        return new Promise((resolve) => setTimeout(resolve, 0)).then(() => syncing)
          .then(() => (fetcher && fetcher.flush ? fetcher.flush() : undefined));
      },
      /* Run like the python3 command line; returns the exit status. */
      main(args) {
        if (started) throw new Error('larder: main() cannot follow run() or init in the same runtime');
        started = true;
        begin();
        try {
          return module.callMain(args);
        } finally {
          stdoutStream.flush(true);
          stderrStream.flush(true);
        }
      },
    };
  }

  const api = { start, prepare, readLimited, sha256Hex, bundleGroups, bundleUrl, noBundles, slotFill, slotClear, slotState,
    AHEAD_SLOTS };
  if (isNode) module.exports = api;
  else root.LarderRuntime = api;
})(typeof self !== 'undefined' ? self : this);
