/*
 * jsffi.test.js - JavaScript interop in headless Chromium, against a
 * mirror grown from PyPI (`larder-mirror add` of requests and what it
 * needs, pinned; real PyPI, downloads kept in ~/.cache/larder/pypi) and
 * served by `larder-mirror serve` with the playground: requests (through
 * urllib3's browser backend, on js and pyodide.ffi) reads the mirror's own
 * index.json; the js module in the playground's worker, with a callback
 * JavaScript calls after the run; and larder.js's values in an embedding
 * page (runPython's value, globals, registerJsModule).
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
const REQUESTS = ['requests==2.34.2', 'urllib3==2.8.0', 'charset-normalizer==3.5.3', 'idna==3.20',
  'certifi==2026.10.19.post1'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-jsffi-'));
const repo = path.join(work, 'repo');
let server, url, browser, page;

// A page of the site embedding larder.js: runPython's value, globals, a
// module of page functions (one async, one throwing) called from Python.
const EMBED = `<!doctype html><meta charset="utf-8"><script src="/runtime/larder.js"></script>
<script src="config.js"></script><pre id="out"></pre>
<script>
  const show = (x) => { document.getElementById('out').textContent += JSON.stringify(x) + '\\n'; };
  (async () => {
    let starting = 0;
    const py = await Larder.create({ ...window.LARDER_CONFIG, stdout: () => {}, stderr: () => {},
      starting: () => { starting++; } });
    show({ starting });
    show(await py.runPython('1 + 2'));
    await py.globals.set('data', { xs: [1, 2, 3], name: 'larder' });
    show(await py.runPython('import statistics\\nstatistics.mean(data["xs"]), data["name"].upper()'));
    show(await py.globals.get('data'));
    show(await py.runPython('object()'));
    await py.registerJsModule('page', {
      title: () => document.title,
      add: (a, b) => a + b,
      later: async (x) => new Promise((resolve) => setTimeout(() => resolve(x * 10), 20)),
      fails: () => { throw new Error('nope'); },
    });
    show(await py.runPython('import page\\npage.add(2, 3), page.later(4), page.title()'));
    show(await py.runPython('page.fails()'));
    show('end');
  })().catch((e) => show('error ' + e.message));
</script><title>embedded</title>`;

test.before(async () => {
  execFileSync(MIRROR, ['init', repo]);
  execFileSync(MIRROR, ['--repo', repo, 'add', '--sign', ...REQUESTS], { timeout: 600000 });
  const site = path.join(work, 'site');
  fs.cpSync(path.join(root, 'build', 'site'), site, { recursive: true });
  const key = execFileSync(MIRROR, ['--repo', repo, 'keys', '--public'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(site, 'config.js'), `window.LARDER_CONFIG = { indexUrl: '/index.json', key: '${key}' };\n`);
  fs.writeFileSync(path.join(site, 'embed.html'), EMBED);
  server = await serveMirror.start(repo, ['--runtime', runtime, '--site', site]);
  url = `${server.url}/`;
  browser = await launch();
  page = await browser.context.newPage();
  await page.goto(url);
  await page.waitForSelector('#run:not([disabled])', { timeout: 30000 });
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) await serveMirror.stop(server);
  fs.rmSync(work, { recursive: true, force: true });
});

const output = () => page.evaluate(() => document.getElementById('out').textContent);
async function run(code) {
  await page.evaluate((c) => window.playground.setCode(c), code);
  await page.click('#run');
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 120000 });
  return output();
}

test('requests, from PyPI\'s wheels, reads the mirror\'s index.json in the playground; a 404 is an HTTPError', async () => {
  const out = await run(`
import js, requests
origin = js.location.origin
r = requests.get(origin + "/index.json")
print("serial", r.status_code, r.json()["info"]["serial"], r.headers["content-type"])
try:
    requests.get(origin + "/no-such-file.json").raise_for_status()
except requests.HTTPError as e:
    print("HTTPError", e.response.status_code)
import urllib3.contrib.emscripten.fetch as backend
print("backend", type(backend._fetcher).__name__)
`);
  assert.equal(out, 'serial 200 1 application/json\nHTTPError 404\nbackend _StreamingFetcher\n');
});

test('js in the playground\'s worker: globals, JSON, bytes, JsException, and a callback after the run', async () => {
  const out = await run(`
import js
from pyodide.ffi import JsException, create_proxy, to_js
print(js.Math.max(1, 5), js.JSON.parse('{"a": [1, 2]}').a[1], js.crossOriginIsolated)
print(js.Uint8Array.new(to_js(b"larder")).to_bytes(), js.TextEncoder.new().encode("\u00e9").to_bytes())
try:
    js.JSON.parse("{")
except JsException as e:
    print("JsException", e.name)
def later():
    print("later", js.Date.now() >= started + 900)
    callback.destroy()
callback = create_proxy(later)
started = js.Date.now()
js.setTimeout(callback, 1000)
print("run ends")
`);
  // The run has ended when run() returns; the callback prints a second later. A loaded machine may
  // take that second to read the output, so only the run's own lines are asserted here.
  assert.equal(out.split('later')[0], "5 2 True\nb'larder' b'\\xc3\\xa9'\nJsException SyntaxError\nrun ends\n");
  await page.waitForFunction(() => document.getElementById('out').textContent.includes('later'), null, { timeout: 10000 });
  assert.equal(await output(), "5 2 True\nb'larder' b'\\xc3\\xa9'\nJsException SyntaxError\nrun ends\nlater True\n");
});

test('larder.js: starting once before create() resolves; runPython resolves to the last value; globals get and set; registerJsModule', async () => {
  const embed = await browser.context.newPage();
  await embed.goto(`${url}embed.html`);
  await embed.waitForFunction(() => /^"(end|error .*)"$/m.test(document.getElementById('out').textContent), null,
    { timeout: 60000 });
  const lines = (await embed.textContent('#out')).trim().split('\n').map((l) => JSON.parse(l));
  await embed.close();
  assert.deepEqual(lines.slice(0, 4), [
    { starting: 1 },  // once, before create() resolves
    { ok: true, value: 3 },
    { ok: true, value: [2, 'LARDER'] },
    { xs: [1, 2, 3], name: 'larder' },
  ]);
  assert.equal(lines[4].ok, false);
  assert.match(lines[4].error, /^TypeError: a value of type object cannot go to JavaScript/);
  assert.deepEqual(lines[5], { ok: true, value: [5, 40, 'embedded'] });
  assert.deepEqual(lines[6], { ok: false, error: 'JsException: Error: page.fails (in the page): nope' });
  assert.equal(lines[7], 'end');
});
