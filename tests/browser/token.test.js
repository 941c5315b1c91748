/*
 * token.test.js - a page using larder.js with {token} imports a package
 * from a token-protected mirror in headless Chromium; without the token the
 * mirror answers 401 and the page reports it. The token goes to the
 * mirror's origin only.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('../lib/browser');
const { bin } = require('../lib/paths');
const serveMirror = require('../lib/mirror-serve');

const MIRROR = path.join(bin, 'larder-mirror');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-token-'));
const repo = path.join(work, 'repo');
let server, url, browser, token, key;

const PAGE = `<!doctype html><meta charset="utf-8"><script src="/runtime/larder.js"></script><pre id="out"></pre>
<script>
  const out = document.getElementById('out');
  const show = (text) => { out.textContent += text + '\\n'; };
  Larder.create({ indexUrl: '/index.json', key: window.LARDER_KEY, token: window.LARDER_TOKEN, stdout: show, stderr: show })
    .then((py) => py.runPython('import six; print("six", six.__version__)'))
    .then((r) => show('done ' + r.ok), (e) => show('error ' + e.message));
</script>`;

test.before(async () => {
  const corpus = path.join(work, 'corpus');
  fs.mkdirSync(corpus);
  execFileSync(path.join(bin, 'larder-build'), ['dist', '-q', '-o', corpus, 'six']);
  execFileSync(MIRROR, ['init', repo]);
  execFileSync(MIRROR, ['--repo', repo, 'publish', ...fs.readdirSync(corpus).filter((f) => f.endsWith('.tar.zst'))
    .map((f) => path.join(corpus, f))]);
  execFileSync(MIRROR, ['--repo', repo, 'sign']);
  token = execFileSync(MIRROR, ['--repo', repo, 'tokens', 'add', '--name', 'page'], { encoding: 'utf8' }).trim();
  key = execFileSync(MIRROR, ['--repo', repo, 'keys', '--public'], { encoding: 'utf8' }).trim();
  server = await serveMirror.start(repo);
  url = `${server.url}/`;
  browser = await launch();
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) await serveMirror.stop(server);
  fs.rmSync(work, { recursive: true, force: true });
});

async function open(withToken) {
  const page = await browser.context.newPage();
  await page.addInitScript(([k, t]) => { window.LARDER_KEY = k; window.LARDER_TOKEN = t; }, [key, withToken ? token : undefined]);
  await page.route('**/private.html', (route) => route.fulfill({ body: PAGE, contentType: 'text/html',
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } }));
  await page.goto(`${url}private.html`);
  await page.waitForFunction(() => /^(done|error) /m.test(document.getElementById('out').textContent), null,
    { timeout: 60000 });
  const text = await page.textContent('#out');
  await page.close();
  return text;
}

// first: after the next test the profile's cache would serve six without asking the mirror
test('without the token the mirror refuses the index (401) and the page says so', async () => {
  const text = await open(false);
  assert.match(text, /HTTP 401/, text);
  assert.doesNotMatch(text, /^six /m);
});

test('larder.js with the token imports from a token-protected mirror', async () => {
  const text = await open(true);
  assert.match(text, /^six 1\.16\.0$/m, text);
  assert.match(text, /^done true$/m, text);
});
