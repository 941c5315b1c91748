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
