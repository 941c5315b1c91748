/*
 * fetch-helper.js - the loader's download helper, the one module that
 * fetches archives for the interpreter: a Web Worker started by the
 * interpreter's Worker when the page is cross-origin isolated, and a
 * worker_threads Worker under Node (larder-runtime.js starts it either way).
 *
 * The interpreter blocks (Atomics.wait) while Python imports, so it cannot
 * await a fetch. After 'ready' it sends {ping} and waits for {pong} before
 * anything else. It posts {prefetch: [{url, headers, limit, size, sha256}]}
 * when it knows what it will need — the helper starts all of them at once —
 * and then, for each archive in turn, {fetch: url, headers, limit, size,
 * sha256, refresh?, control?, pool?}: the helper waits for that archive and, when it
 * fits in pool (a SharedArrayBuffer the interpreter sends when it makes a
 * new one), copies it there, stores its length in the shared control array
 * and wakes the interpreter (state 2); an archive that does not fit, or an
 * error, wakes it with state 1 and the length (or 3 and the error): it then
 * posts {deliver: url, data} with a pool big enough, and the helper copies
 * the bytes in and wakes it again. control (below) comes with the first
 * fetch only, like pool; the slots of the hand-over ahead come with the
 * first prefetch ({prefetch, slots, slotBufs}): the helper
 * puts the next archives a prefetch announced there as they become ready,
 * and the interpreter takes one without a message when it is the one it
 * needs, then posts {freed: slot, url} (larder-runtime.js, AHEAD_SLOTS).
 * A prefetch's archives are the next ones asked for, in its order; one
 * passed over goes to the end of the list. headers are what to
 * send with the URL (a private mirror's token: the interpreter's side
 * decides which URL gets one). Each download stops as soon as it passes its
 * limit (the size the index declares; larder-runtime.js's readLimited).
 *
 * Every archive's SHA-256 is computed here, with the platform's native
 * SHA-256 (WebCrypto), as soon as its bytes are in, while the interpreter
 * works on the archives before it, and handed over with the bytes (the
 * interpreter would take four to six times as long in wasm, on its own
 * thread); the loader compares it with the signed index's digest.
 *
 * The archive store ({store: {name, cap}}, the runtime's 'idb' cache): an
 * IndexedDB database of archives keyed by sha256, read when the
 * interpreter announces or asks for one (READ_AHEAD at a time), so that a
 * start reads nothing of it but the list of digests it holds (an archive
 * not in it goes straight to the network). A hit whose size or sha256 is not the one asked for is dropped
 * and the archive downloaded; should the interpreter still find a copy from
 * the store wrong, it asks again with refresh, which does the same.
 * Downloads are kept when they hash to the
 * index's digest, together in one transaction once the interpreter has
 * asked for nothing for KEEP_AFTER_MS (an IndexedDB write would hold up the
 * reads and the fetches of the install under way); the least recently used
 * go beyond cap. {flush: id} answers {flushed: id} once every archive handed
 * over is kept; what cannot be kept is reported as {warn}.
 *
 * control: Int32Array [state, length, text length, from store, text...],
 * state 0 = waiting, 1 = length ready (the bytes to deliver), 2 = bytes
 * copied, 3 = failed; the text, as UTF-16 code units from index 4, is the
 * error (3) or the archive's sha256 in hex (1 and 2; none for a URL asked
 * for without a digest, such as the index).
 */
'use strict';
/* global LarderRuntime */
/* The two hosts differ only in how messages come and go. */
const inNode = typeof importScripts !== 'function';
let post;
let readLimited;
let sha256Hex;
let bundleGroups;
let bundleUrl;
let noBundles;
let slotFill;
let slotClear;
let slotState;
let AHEAD_SLOTS;
if (inNode) {
  const { parentPort } = require('worker_threads');
  post = (m) => parentPort.postMessage(m);
  parentPort.on('message', (m) => handle(m));
  ({ readLimited, sha256Hex, bundleGroups, bundleUrl, noBundles, slotFill, slotClear, slotState, AHEAD_SLOTS } =
    require('./larder-runtime.js'));
} else {
  importScripts('larder-runtime.js');
  post = (m) => self.postMessage(m);
  self.onmessage = (event) => handle(event.data);
  ({ readLimited, sha256Hex, bundleGroups, bundleUrl, noBundles, slotFill, slotClear, slotState, AHEAD_SLOTS } =
    LarderRuntime);
}
const pending = new Map();  // url -> Promise<{bytes, fromStore}>
let store = null;           // {name, cap}
let database = null;        // Promise<IDBDatabase>
let held = null;            // Promise<Set>: the digests of the archives in the store
const unkept = new Map();   // sha256 -> bytes downloaded, to keep
const used = new Map();     // sha256 -> size: archives read from the store, their use to record
const writes = new Set();   // batches being kept
const KEEP_AFTER_MS = 100;
let pool = null;            // the interpreter's SharedArrayBuffer for an archive's bytes
let control = null;         // its Int32Array for the hand-over (below)
let keepTimer = null;
let slots = null;           // the hand-over ahead (larder-runtime.js): the slots' Int32Array
let slotBufs = null;        // and their buffers
const inSlot = [];          // slot -> the URL put there, until freed or cleared
let announced = [];         // {url, sha256} of the prefetches not handed over yet, in their order
let filling = false;

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

/* archives: sha256 -> ArrayBuffer; entries: sha256 -> {size, used} (what
 * eviction reads, without the bytes) */
function db() {
  if (!database) {
    const open = indexedDB.open(store.name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore('archives');
      open.result.createObjectStore('entries');
    };
    database = request(open);
  }
  return database;
}

function heldDigests() {
  if (!held) {
    held = db().then((d) => request(d.transaction('entries').objectStore('entries').getAllKeys()))
      .then((keys) => new Set(keys));
  }
  return held;
}

/* Reads from the store go READ_AHEAD at a time, in the order they were
 * asked for (a prefetch's order is the order of the installs), each in a
 * transaction of its own; an archive the interpreter waits for goes to the
 * front (readFirst). Reading a long prefetch all at once filled this
 * thread's event loop with the answers, and the interpreter's requests for
 * archives already read waited behind them (5-13 ms each at the start of a
 * warm import of numpy and matplotlib). */
const READ_AHEAD = 4;
const readQueue = [];       // {sha256, resolve, reject}, not started yet
let reading = 0;

function pumpReads() {
  while (reading < READ_AHEAD && readQueue.length) {
    const job = readQueue.shift();
    reading++;
    db().then((d) => request(d.transaction('archives').objectStore('archives').get(job.sha256)))
      .then(job.resolve, job.reject)
      .finally(() => {
        reading--;
        pumpReads();
      });
  }
}

function readFirst(sha256) {
  const at = readQueue.findIndex((job) => job.sha256 === sha256);
  if (at > 0) readQueue.unshift(readQueue.splice(at, 1)[0]);
}

/* The raw buffers of the archives with these digests that the store holds,
 * each ready as soon as its own read is (the first install need not wait
 * for the last archive of a long prefetch), read after those asked for
 * before, or before them (first: the interpreter waits for it):
 * sha256 -> Promise<ArrayBuffer|null>. */
function readMany(digests, first = false) {
  return new Map(digests.map((sha256) => [sha256, heldDigests().then((heldSet) => (!heldSet.has(sha256) ? null
    : new Promise((resolve, reject) => {
      readQueue[first ? 'unshift' : 'push']({ sha256, resolve, reject });
      pumpReads();
    })))]));
}

/* An archive from the store (buffer: its readMany promise) with its digest;
 * null when the store has none, or one of another size or digest (dropped:
 * fetched again). */
async function stored(sha256, size, buffer) {
  const raw = await (buffer || readMany([sha256], true).get(sha256));
  if (!raw) return null;
  const bytes = new Uint8Array(raw);
  const digest = size && bytes.length !== size ? null : await sha256Hex(bytes);
  if (digest === null || (digest && digest !== sha256)) {
    await drop(await db(), [sha256]);
    return null;
  }
  used.set(sha256, bytes.length);  // recorded with the next batch kept
  return { bytes, digest };
}

async function drop(d, shas) {
  const tx = d.transaction(['archives', 'entries'], 'readwrite');
  for (const sha of shas) {
    tx.objectStore('archives').delete(sha);
    tx.objectStore('entries').delete(sha);
  }
  await done(tx);
  const digests = await heldDigests();
  for (const sha of shas) digests.delete(sha);
}

/* Keep what was downloaded since the last batch and record when the
 * archives read from the store were used, then evict beyond cap. */
async function keepHeld() {
  const batch = [];
  for (const [sha256, bytes] of unkept) {
    if (bytes.length <= store.cap) batch.push([sha256, bytes]);
  }
  unkept.clear();
  const touched = [...used];
  used.clear();
  if (!batch.length && !touched.length) return;
  const d = await db();
  /* only the list when nothing new is kept: reads of the archives go on meanwhile */
  const tx = d.transaction(batch.length ? ['archives', 'entries'] : ['entries'], 'readwrite');
  for (const [sha256, size] of touched) tx.objectStore('entries').put({ size, used: Date.now() }, sha256);
  for (const [sha256, bytes] of batch) {
    tx.objectStore('archives').put(bytes.slice().buffer, sha256);
    tx.objectStore('entries').put({ size: bytes.length, used: Date.now() }, sha256);
  }
  await done(tx);
  if (!batch.length) return;
  const digests = await heldDigests();
  for (const [sha256] of batch) digests.add(sha256);
  const read = d.transaction('entries');
  const [keys, entries] = await Promise.all([request(read.objectStore('entries').getAllKeys()),
    request(read.objectStore('entries').getAll())]);
  let total = entries.reduce((n, e) => n + e.size, 0);
  if (total <= store.cap) return;
  const order = keys.map((k, i) => [k, entries[i]]).sort((a, b) => a[1].used - b[1].used);
  const victims = [];
  for (const [key, entry] of order) {
    if (total <= store.cap) break;
    victims.push(key);
    total -= entry.size;
  }
  await drop(d, victims);
}

/* Bundles: a prefetch's downloads from one directory of one server (with
 * the same headers) come in one request (larder-runtime.js bundleGroups),
 * split here by the sizes the signed index declares as the bytes arrive. A
 * server that does not answer it (404 and the like: a static file server)
 * gets one request per archive from then on; an archive a bundle did not
 * bring in full is fetched on its own. */
const unbundled = new Set(); // directories whose server has no bundles

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});  // a failed bundle part is fetched alone
  return { promise, resolve, reject };
}

/* url -> Promise<bytes> for the items of a prefetch that the store does not
 * hold (by the list of its digests), when two or more can share a
 * bundle; the others get no entry and are fetched alone. */
function bundled(items) {
  const parts = new Map();
  for (const { dir, headers, items: chunk } of bundleGroups(items, (item) => item.headers, unbundled)) {
    const mine = new Map(chunk.map((item) => [item.url, deferred()]));
    for (const [url, d] of mine) parts.set(url, d.promise);
    fetchBundle(dir, headers, chunk, mine)
      .catch((e) => { for (const d of mine.values()) d.reject(e); });
  }
  return parts;
}

async function fetchBundle(dir, headers, chunk, parts) {
  const wanted = [];
  let heldSet = new Set();
  try {
    if (store) heldSet = await heldDigests();
  } catch (e) {
    // the store cannot be read: everything comes from the network
  }
  for (const item of chunk) {
    if (item.sha256 && heldSet.has(item.sha256)) parts.get(item.url).reject(new Error('in the store'));  // obtain takes it from there
    else wanted.push(item);
  }
  if (wanted.length < 2) throw new Error('nothing to bundle');
  let response;
  try {
    response = await fetch(bundleUrl(dir, wanted), { headers });
  } catch (e) {
    throw new Error(`network error (${(e.cause && e.cause.message) || e.message})`);
  }
  if (!response.ok) {
    if (noBundles(response.status)) unbundled.add(dir);
    throw new Error(`HTTP ${response.status}`);
  }
  const reader = response.body.getReader();
  let index = 0;
  let current = new Uint8Array(wanted[0].size);
  let filled = 0;
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    let rest = value;
    while (rest.length) {
      if (index === wanted.length) {  // more than the index declares: the rest is not trusted
        reader.cancel().catch(() => {});
        return;
      }
      const take = Math.min(rest.length, current.length - filled);
      current.set(rest.subarray(0, take), filled);
      filled += take;
      rest = rest.subarray(take);
      if (filled === current.length) {
        parts.get(wanted[index].url).resolve(current);
        index++;
        if (index < wanted.length) {
          current = new Uint8Array(wanted[index].size);
          filled = 0;
        }
      }
    }
  }
  if (index < wanted.length) throw new Error('the bundle ended early');
}

/* Downloaded bytes with their digest (when the index gave one), kept in
 * the store when it is the index's: another archive the loader refuses. */
async function downloaded(bytes, sha256) {
  const digest = sha256 ? await sha256Hex(bytes) : '';
  if (store && sha256 && digest === sha256) unkept.set(sha256, bytes);
  return { bytes, fromStore: false, digest };
}

/* The bytes of url and their sha256 (pending: one promise per URL until
 * handed over); from the store first unless fresh. */
function obtain({ url, headers, limit, size, sha256 }, buffer, part, fresh = false) {
  if (!pending.has(url)) {
    const p = (async () => {
      if (store && sha256 && !fresh) {
        try {
          const hit = await stored(sha256, size, buffer);
          if (hit) return { ...hit, fromStore: true };
        } catch (e) {
          post({ warn: `the archive store could not be read (${e.message}); fetching` });
        }
      }
      if (part) {
        let bytes = null;
        try {
          bytes = await part;
        } catch (e) {
          // not in the bundle, or the bundle failed: fetched alone
        }
        if (bytes) return downloaded(bytes, sha256);
      }
      let response;
      try {
        response = await fetch(url, { headers });
      } catch (e) {
        throw new Error(`network error (${(e.cause && e.cause.message) || e.message})`);
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ' ' + response.statusText : ''}`);
      return downloaded(await readLimited(response, limit), sha256);
    })();
    pending.set(url, p);
    p.catch(() => {});  // reported when asked for
  }
  return pending.get(url);
}

/* Keep the downloads now (flush), or once the interpreter is quiet. */
function keepSoon(now) {
  clearTimeout(keepTimer);
  keepTimer = null;
  if (!unkept.size && !used.size) return;
  if (!now) {
    keepTimer = setTimeout(() => keepSoon(true), KEEP_AFTER_MS);
    return;
  }
  const w = keepHeld().catch((e) => {
    post({ warn: `cannot keep archives in the store (${e.message}); they will be fetched again` });
  });
  writes.add(w);
  w.then(() => writes.delete(w));
}

/* Put the first archives of the list in the free slots, each once it is
 * ready (the interpreter takes them without asking: larder-runtime.js). */
const firstOnes = () => announced.slice(0, AHEAD_SLOTS);
async function fillAhead() {
  if (filling || !slots) return;
  filling = true;
  try {
    for (;;) {
      let slot = -1;
      for (let i = 0; i < AHEAD_SLOTS && slot < 0; i++) if (slotState(slots, i) === 0) slot = i;
      const next = firstOnes().find((item) => !inSlot.includes(item.url));
      if (slot < 0 || !next) break;
      let got = null;
      try {
        got = await pending.get(next.url);
      } catch (e) {
        // asked for by message, the failure is reported then
      }
      /* handed over meanwhile, or no longer among the next */
      if (inSlot.includes(next.url) || !firstOnes().some((item) => item.url === next.url)) continue;
      if (!got || !slotFill(slots, slotBufs, slot, next.sha256, got)) {
        /* failed, or too big for a slot: the interpreter asks for it by message */
        announced = announced.filter((item) => item.url !== next.url);
        continue;
      }
      inSlot[slot] = next.url;
    }
  } finally {
    filling = false;
  }
}

/* Empty the full slots whose URL which(url) picks (those the interpreter
 * has taken stay as they are). */
function emptySlots(which) {
  for (let i = 0; slots && i < AHEAD_SLOTS; i++) {
    if (inSlot[i] && which(inSlot[i]) && slotClear(slots, i)) inSlot[i] = null;
  }
}

/* Keep in the slots the first archives of the list only: one the
 * interpreter has not taken and that is no longer among them is taken out
 * (fillAhead puts the first ones in). */
function realign() {
  const first = new Set(firstOnes().map((item) => item.url));
  emptySlots((url) => !first.has(url));
  fillAhead();
}

/* url handed over (by message, or taken from a slot) leaves the list; what
 * was announced before it and not asked for yet goes to its end (an import
 * that did not happen, or not yet). */
function handedOver(url) {
  const at = announced.findIndex((item) => item.url === url);
  if (at >= 0) announced = announced.slice(at + 1).concat(announced.slice(0, at));
  pending.delete(url);  // delivered once
  keepSoon(false);
  realign();
}

/* control's text: the error, or the archive's sha256 (above) */
function putText(text) {
  Atomics.store(control, 2, text.length);
  for (let i = 0; i < text.length; i++) control[4 + i] = text.charCodeAt(i);
}

function wake(control, state) {
  Atomics.store(control, 0, state);
  Atomics.notify(control, 0);
}

async function handle(m) {
  if (m.ping) {  /* the interpreter's thread checks that its messages arrive (larder-runtime.js) */
    post({ pong: true });
    return;
  }
  keepSoon(m.flush);
  if (m.store) {
    store = m.store;
    heldDigests().catch(() => {});  // read while the interpreter starts; a failure is reported when used
  } else if (m.prefetch) {
    if (m.slots) {
      slots = m.slots;
      slotBufs = m.slotBufs;
    }
    const fresh = m.prefetch.filter((item) => !pending.has(item.url));
    const buffers = store ? readMany(fresh.filter((item) => item.sha256).map((item) => item.sha256)) : new Map();
    const parts = fresh.length > 1 ? bundled(fresh) : new Map();
    for (const item of fresh) obtain(item, buffers.get(item.sha256), parts.get(item.url));
    /* what the interpreter asks for next, in its order (an install announces
     * its closure as it begins): first in the list, before what was announced earlier */
    const batch = m.prefetch.filter((item) => item.sha256 && pending.has(item.url));
    const urls = new Set(batch.map((item) => item.url));
    announced = batch.map(({ url, sha256 }) => ({ url, sha256 })).concat(announced.filter((item) => !urls.has(item.url)));
    realign();
  } else if (m.freed !== undefined) {
    if (inSlot[m.freed] === m.url) inSlot[m.freed] = null;
    handedOver(m.url);
  } else if (m.fetch) {
    emptySlots((url) => url === m.fetch);  /* put there after the interpreter looked */
    if (m.pool) pool = m.pool;
    if (m.control) control = m.control;
    try {
      if (m.refresh && store && m.sha256) {  /* the store's copy did not match its digest */
        pending.delete(m.fetch);
        used.delete(m.sha256);
        try {
          await drop(await db(), [m.sha256]);
        } catch (e) {
          post({ warn: `a damaged archive could not be removed from the store (${e.message})` });
        }
      }
      if (m.sha256) readFirst(m.sha256);
      const { bytes, fromStore, digest } = await obtain({ ...m, url: m.fetch }, undefined, undefined,
        Boolean(m.refresh));
      Atomics.store(control, 1, bytes.length);
      Atomics.store(control, 3, fromStore ? 1 : 0);
      putText(digest);
      if (pool && bytes.length <= pool.byteLength) {
        new Uint8Array(pool).set(bytes);
        wake(control, 2);
        handedOver(m.fetch);
      } else {
        wake(control, 1);
      }
    } catch (e) {
      putText(String(e.message).slice(0, 400));
      pending.delete(m.fetch);  // a later attempt fetches again
      announced = announced.filter((item) => item.url !== m.fetch);
      wake(control, 3);
    }
  } else if (m.deliver) {
    pool = m.data;
    const { bytes } = await pending.get(m.deliver);
    new Uint8Array(m.data).set(bytes);
    wake(control, 2);
    handedOver(m.deliver);
  } else if (m.flush) {
    await Promise.all([...writes]);
    post({ flushed: m.flush });
  }
}
post('ready');
