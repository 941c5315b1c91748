/*
 * fetch-helper.js - the loader's download helper, a Worker started by the
 * interpreter's Worker when the page is cross-origin isolated.
 *
 * The interpreter blocks (Atomics.wait) while Python imports, so it cannot
 * await a fetch. It posts {prefetch: [{url, headers}]} when it knows what
 * it will need — the helper starts all those downloads at once — and then,
 * for each archive in turn, {fetch: url, headers, control}: the helper waits
 * for that download, stores its length (or an error) in the shared control
 * array and wakes the interpreter, which allocates a SharedArrayBuffer of
 * that size and posts {deliver: url, data}; the helper copies the bytes in
 * and wakes it again. headers are what to send with the URL (a private
 * mirror's token: the interpreter's side decides which URL gets one).
 * Each download stops as soon as it passes its limit (the size the index
 * declares; larder-runtime.js's readLimited).
 * control: Int32Array [state, length, error length], state 0 =
 * waiting, 1 = length ready, 2 = bytes copied, 3 = failed (error text
 * follows in control as UTF-16 code units from index 4).
 */
'use strict';
/* global LarderRuntime */
importScripts('larder-runtime.js');
const pending = new Map();  // url -> Promise<Uint8Array>

function download(url, headers, limit) {
  if (!pending.has(url)) {
    pending.set(url, fetch(url, { headers }).catch((e) => {
      throw new Error(`network error (${e.message})`);
    }).then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}${r.statusText ? ' ' + r.statusText : ''}`);
      return LarderRuntime.readLimited(r, limit);
    }));
    pending.get(url).catch(() => {});  // reported when asked for
  }
  return pending.get(url);
}

function wake(control, state) {
  Atomics.store(control, 0, state);
  Atomics.notify(control, 0);
}

self.onmessage = async (event) => {
  const m = event.data;
  if (m.prefetch) {
    for (const { url, headers, limit } of m.prefetch) download(url, headers, limit);
  } else if (m.fetch) {
    try {
      const bytes = await download(m.fetch, m.headers, m.limit);
      Atomics.store(m.control, 1, bytes.length);
      wake(m.control, 1);
    } catch (e) {
      const text = String(e.message).slice(0, 400);
      Atomics.store(m.control, 2, text.length);
      for (let i = 0; i < text.length; i++) m.control[4 + i] = text.charCodeAt(i);
      pending.delete(m.fetch);  // a later attempt fetches again
      wake(m.control, 3);
    }
  } else if (m.deliver) {
    const bytes = await download(m.deliver);
    new Uint8Array(m.data).set(bytes);
    pending.delete(m.deliver);  // delivered once; the loader caches it itself
    wake(m.control, 2);
  }
};
self.postMessage('ready');
