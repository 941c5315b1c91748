/*
 * worker.test.js - the runtime in a Web Worker in headless Chromium: a page
 * on 127.0.0.1 starts the interpreter and gets output back by postMessage.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { serve } = require('../lib/static-server');
const { launch } = require('../lib/browser');
const { runtime } = require('../lib/paths');

let server, browser, page;

test.before(async () => {
  server = await serve({ routes: { '/runtime/': runtime, '/': path.join(__dirname, 'pages') } });
  browser = await launch();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}/worker.html`);
  await page.evaluate(() => window.ready);
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

// first: the idle slices (60, the first of which would start a loader this page has
// not) have only begun
test('an idle slice ends early while the page says a message is waiting; the message clears it', async () => {
  const counts = async () => {
    const r = await page.evaluate(() => window.runPython('import larder_page\nprint(*larder_page.slices.values())'));
    assert.equal(r.ok, true, r.stderr.join('\n'));
    return r.stdout[0].split(' ').map(Number);
  };
  const [done, early] = await counts();
  // the slices resume a second after that run; with the flag set and no message, every
  // one left ends at its first step
  await page.evaluate(() => Atomics.store(window.waiting, 0, 1));
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(await page.evaluate(() => Atomics.load(window.waiting, 0)), 1);
  const [done2, early2] = await counts();
  assert.equal(await page.evaluate(() => Atomics.load(window.waiting, 0)), 0, 'the worker cleared it on the run');
  assert.equal(done2, done, 'no slice ran to its end');
  assert.equal(done2 + early2, 59, `all slices used: ${done} done and ${early} ended early before`);
  assert.ok(early2 > early);
});

test('the page is cross-origin isolated and the interpreter runs in a Worker', async () => {
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
  const r = await page.evaluate(() => window.runPython("print('hello')"));
  assert.deepEqual(r, { ok: true, stdout: ['hello'], stderr: [] });
});

test('the _larder self-test passes in the browser', async () => {
  const r = await page.evaluate(() => window.runPython(
    "import _larder\nr = _larder.selftest()\nprint(r['zstd'], r['libsodium'], len(r['sha256']))"));
  assert.deepEqual(r.stdout, ['1.5.4 1.0.18 64']);
  assert.equal(r.ok, true);
});

test('state persists between runs and errors come back as tracebacks', async () => {
  await page.evaluate(() => window.runPython('counter = 41'));
  let r = await page.evaluate(() => window.runPython('counter += 1\nprint(counter)'));
  assert.deepEqual(r.stdout, ['42']);
  r = await page.evaluate(() => window.runPython('import json\njson.loads("{")'));
  assert.equal(r.ok, false);
  assert.ok(r.stderr.some((l) => l.startsWith('json.decoder.JSONDecodeError')), r.stderr.join('\n'));
});
