/*
 * codecache.test.js - python.wasm is compiled from its response while it
 * downloads (WebAssembly.compileStreaming, served as application/wasm by
 * larder-mirror serve), the path on which Chromium can keep compiled code
 * in the profile's wasm code cache. What the cache holds after a visit and
 * the first and second visits' start are reported, not asserted: on this
 * Chromium (156, headless, a dedicated Worker) it stays empty after a short
 * run (issue #19 follows it up; bench/ measures speed).
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('../lib/browser');
const { bin, root, runtime } = require('../lib/paths');
const serveMirror = require('../lib/mirror-serve');

const MIRROR = path.join(bin, 'larder-mirror');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-codecache-'));
let server, browser;

test.before(async () => {
  const repo = path.join(work, 'repo');
  execFileSync(MIRROR, ['init', '--no-runtime', repo]);
  execFileSync(MIRROR, ['--repo', repo, 'sign']);
  const site = path.join(work, 'site');
  fs.cpSync(path.join(root, 'build', 'site'), site, { recursive: true });
  const key = execFileSync(MIRROR, ['--repo', repo, 'keys', '--public'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(site, 'config.js'), `window.LARDER_CONFIG = { indexUrl: '/index.json', key: '${key}' };\n`);
  server = await serveMirror.start(repo, ['--runtime', runtime, '--site', site]);
  browser = await launch();
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) await serveMirror.stop(server);
  fs.rmSync(work, { recursive: true, force: true });
});

function dirBytes(dir) {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { withFileTypes: true })
    .reduce((n, e) => n + (e.isDirectory() ? dirBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);
}

test('python.wasm is compiled while it streams, on both visits; the code cache is reported', async (t) => {
  const cache = path.join(browser.profile, 'Default', 'Code Cache', 'wasm');
  const page = await browser.context.newPage();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#run:not([disabled])', { timeout: 30000 });
  const first = await page.textContent('#status');
  // run Python long enough for V8 to optimise the hot code, which it then caches
  await page.evaluate(() => window.playground.setCode('print(sum(i * i for i in range(3_000_000)))'));
  await page.click('#run');
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 60000 });
  assert.equal(await page.textContent('#out'), '8999995500000500000\n');
  await new Promise((r) => setTimeout(r, 3000));
  const bytes = dirBytes(cache);
  assert.deepEqual(warnings.filter((w) => /application\/wasm/.test(w)), [],
    'compiled from the response: no fallback to compiling bytes');
  await page.reload();
  await page.waitForSelector('#run:not([disabled])', { timeout: 30000 });
  const second = await page.textContent('#status');
  t.diagnostic(`wasm code cache after a visit: ${bytes} bytes; first visit: ${first}; second visit: ${second}`);
  assert.match(second, /^Ready in \d+ ms\.$/);
  assert.deepEqual(warnings.filter((w) => /application\/wasm/.test(w)), [], 'the second visit streams too');
  await page.close();
});
