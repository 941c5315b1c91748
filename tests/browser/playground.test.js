/*
 * playground.test.js - the playground page in headless Chromium, served by
 * larder-mirror from a signed repository: output, input(), Stop, lazy
 * imports with progress, the cache after a reload, a load error, numpy
 * (compared with the host's) and a matplotlib figure shown in the page.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('../lib/browser');
const { hostNumpyValues, assertSameNumpyValues } = require('../lib/numpy-values');
const { bin, root, runtime } = require('../lib/paths');
const serveMirror = require('../lib/mirror-serve');

const BIN = bin;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-playground-'));
const repo = path.join(work, 'repo');
let server, url, browser, page;

test.before(async () => {
  const corpus = path.join(work, 'corpus');
  fs.mkdirSync(corpus);
  execFileSync(path.join(BIN, 'larder-build'), ['dist', '-q', '-o', corpus, '--depends', 'six', 'six', 'python-dateutil']);
  execFileSync(path.join(BIN, 'larder-mirror'), ['init', repo]);
  const stdlib = path.join(root, 'build', 'stdlib');
  // the stdlib, the test's corpus, and the native packages (numpy, matplotlib) with
  // matplotlib's pure-Python dependencies from the build's corpus
  const native = path.join(root, 'build', 'native');
  const mplDeps = /^(cycler|fonttools|packaging|pyparsing)-/;
  const archives = [...fs.readdirSync(stdlib).map((f) => path.join(stdlib, f)), ...fs.readdirSync(corpus).map((f) => path.join(corpus, f)),
    ...fs.readdirSync(native).map((f) => path.join(native, f)),
    ...fs.readdirSync(path.join(root, 'build', 'corpus')).filter((f) => mplDeps.test(f)).map((f) => path.join(root, 'build', 'corpus', f))]
    .filter((f) => f.endsWith('.tar.zst'));
  execFileSync(path.join(BIN, 'larder-mirror'), ['--repo', repo, 'publish', ...archives]);
  execFileSync(path.join(BIN, 'larder-mirror'), ['--repo', repo, 'sign']);
  const site = path.join(work, 'site');
  fs.cpSync(path.join(root, 'build', 'site'), site, { recursive: true });
  const key = execFileSync(path.join(BIN, 'larder-mirror'), ['--repo', repo, 'keys', '--public'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(site, 'config.js'), `window.LARDER_CONFIG = { indexUrl: '/index.json', key: '${key}' };\n`);
  server = await serveMirror.start(repo, ['--runtime', runtime, '--site', site]);
  url = `${server.url}/`;
  browser = await launch();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) await serveMirror.stop(server);
  fs.rmSync(work, { recursive: true, force: true });
});

const output = () => page.evaluate(() => document.getElementById('out').textContent);
const runCode = async (code) => {
  await page.evaluate((c) => window.playground.setCode(c), code);
  await page.click('#run');
};
const finished = () => page.waitForFunction(() => !document.getElementById('run').disabled);

test('the page starts the interpreter in a Worker and shows output as it is printed', async () => {
  await page.goto(url);
  await page.waitForSelector('#run:not([disabled])', { timeout: 30000 });
  assert.match(await page.textContent('#status'), /^Ready in \d+ ms\.$/);
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
  await runCode('import time\nprint("first")\ntime.sleep(0.5)\nprint("second")');
  await page.waitForFunction(() => document.getElementById('out').textContent.includes('first'));
  assert.doesNotMatch(await output(), /second/, 'the first line is shown before the program ends');
  await finished();
  assert.equal(await output(), 'first\nsecond\n');
});

test('input() is answered in the page', async () => {
  await runCode('name = input("Your name? ")\nprint(f"Hello, {name}!")');
  await page.waitForSelector('#out input');
  assert.equal(await output(), 'Your name? ');
  await page.fill('#out input', 'Ada');
  await page.press('#out input', 'Enter');
  await finished();
  assert.equal(await output(), 'Your name? Ada\nHello, Ada!\n');
});

test('Stop interrupts a running loop with KeyboardInterrupt; the interpreter stays usable', async () => {
  await runCode('n = 1\nwhile True: pass');
  await page.waitForTimeout(300);
  assert.equal(await page.isEnabled('#stop'), true);
  await page.click('#stop');
  await finished();
  assert.match(await output(), /KeyboardInterrupt/);
  await runCode('print("still here", n > 0)');
  await finished();
  assert.equal(await output(), 'still here True\n');
});

test('a lazy import downloads its packages with progress, then works', async () => {
  // record what the progress line says while the packages download
  await page.evaluate(() => {
    window.loadingSeen = [];
    new MutationObserver(() => window.loadingSeen.push(document.getElementById('loading').textContent))
      .observe(document.getElementById('loading'), { childList: true, characterData: true, subtree: true });
  });
  // the run announces what its code imports before it runs (larder.prefetch):
  // python-dateutil and six are downloading before the first line
  await runCode('import larder\nprint(larder.stats()["prefetched"])\nimport dateutil.parser\n'
    + 'print(dateutil.parser.parse("2026-11-25").strftime("%A"))');
  await finished();
  const seen = await page.evaluate(() => window.loadingSeen);
  assert.ok(seen.some((t) => /^loading python-dateutil \(\d+ KB\)$/.test(t)), seen.join(' | '));
  assert.equal(await output(), '2\nWednesday\n');
  const line = await page.textContent('#cache');
  assert.match(line, /^Downloaded python-dateutil 2\.8\.2, six 1\.16\.0 and \d+ stdlib modules, \d+\.\d MB in \d+\.\d s\.$/);
  fs.mkdirSync(path.join(root, 'build'), { recursive: true });
  await page.screenshot({ path: path.join(root, 'build', 'playground.png') });
});

test('after a reload the same import comes from the cache', async () => {
  await page.evaluate(() => window.playground.persisted());  // the cache written back to IndexedDB
  await page.reload();
  await page.waitForSelector('#run:not([disabled])', { timeout: 30000 });
  await runCode('import dateutil.parser\nprint(dateutil.parser.parse("2026-11-26").day)');
  await finished();
  assert.equal(await output(), '26\n');
  assert.match(await page.textContent('#cache'), /^From the cache: python-dateutil 2\.8\.2, six 1\.16\.0 and \d+ stdlib modules\.$/);
});

test('a load error is shown with its cause', async () => {
  const index = JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8'));
  const file = path.join(repo, 'public', index.packages.fractions.file_name);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length >> 1] ^= 1;
  fs.unlinkSync(file);  // a new file: the store keeps the good copy
  fs.writeFileSync(file, bytes);
  await runCode('import fractions');
  await finished();
  assert.match(await output(), /larder\.IntegrityError: cannot load package 'fractions' 3\.11\.2 from http:\/\/127\.0\.0\.1:\d+\/fractions-3\.11\.2-0\.tar\.zst: .*sha256 mismatch/);
});

test('the embedding example: larder.js in another page, from the mirror', async () => {
  const key = execFileSync(path.join(BIN, 'larder-mirror'), ['--repo', repo, 'keys', '--public'], { encoding: 'utf8' }).trim();
  const other = await browser.context.newPage();
  await other.addInitScript((k) => { window.LARDER_KEY = k; }, key);
  await other.route('**/embed.html', (route) => route.fulfill({
    path: path.join(root, 'examples', 'embed.html'), contentType: 'text/html',
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } }));
  await other.goto(`${url}embed.html`);
  await other.waitForFunction(() => document.getElementById('out').textContent.includes('python'), null, { timeout: 30000 });
  assert.equal(await other.textContent('#out'), '{"python": "3.11.2"}\n');
  await other.close();
});

test('numpy computes what the host numpy computes, and plt.show() shows the figure', async (t) => {
  await page.goto(url);
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 60000 });
  const scripts = path.join(root, 'tests', 'native');
  await runCode(fs.readFileSync(path.join(scripts, 'numpy_values.py'), 'utf8'));
  await finished();
  const text = await output();
  assertSameNumpyValues(JSON.parse(text.trim().split('\n')[0]), hostNumpyValues());
  // the same figure, shown: the page's backend instead of Agg, plt.show() instead of savefig
  await runCode(fs.readFileSync(path.join(scripts, 'mpl_figure.py'), 'utf8').replace('matplotlib.use("Agg")', '')
    .replace('fig.savefig(sys.argv[1], format="png", metadata={"Software": None})', 'plt.show()'));
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 240000 });
  assert.equal(await page.$('#out .err'), null, await output());
  const img = await page.waitForSelector('#out img.figure');
  const size = await img.evaluate((e) => e.decode().then(() => [e.naturalWidth, e.naturalHeight]));
  assert.deepEqual(size, [512, 320]);
  assert.match(await output(), /^3\.6\.3 \[6\.4, 4\.0\] 80/);
  await page.screenshot({ path: path.join(root, 'build', 'playground-matplotlib.png') });
  t.diagnostic(`cache line: ${await page.textContent('#cache')}`);
});

test('matplotlib\'s font list is kept with the cache: the next visit reads it instead of every font', async () => {
  await page.evaluate(() => window.playground.persisted());
  await page.reload();
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 60000 });
  await runCode('import logging, os, sys\nlogging.basicConfig(level=logging.INFO, stream=sys.stdout)\n'
    + 'import matplotlib.font_manager as fm\n'
    + 'print(os.environ["MPLCONFIGDIR"], sorted(os.listdir(os.environ["MPLCONFIGDIR"])), len(fm.fontManager.ttflist))');
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 120000 });
  assert.equal(await output(), "/larder/matplotlib ['fontlist-v330.json'] 38\n");
});

test('the code is kept across reloads, shared as a link, and examples are one click away', async () => {
  const fresh = await browser.context.newPage();
  await fresh.goto(url);
  await fresh.waitForSelector('#run:not([disabled])', { timeout: 30000 });
  const code = () => fresh.evaluate(() => window.playground.editor.state.doc.toString());
  await fresh.evaluate(() => window.playground.setCode('print("kept", 6 * 7)  # é'));
  await fresh.reload();
  await fresh.waitForSelector('#run:not([disabled])', { timeout: 30000 });
  assert.equal(await code(), 'print("kept", 6 * 7)  # é', 'the code survives a reload (localStorage)');
  // a shared link carries its code, which wins over the kept one
  await fresh.evaluate(() => window.playground.setCode('print("shared")'));
  await fresh.click('#share');
  const link = await fresh.evaluate(() => location.href);
  assert.match(link, /#code=[A-Za-z0-9_-]+$/);
  await fresh.evaluate(() => window.playground.setCode('print("something else")'));
  const other = await browser.context.newPage();
  await other.goto(link);
  await other.waitForSelector('#run:not([disabled])', { timeout: 30000 });
  assert.equal(await other.evaluate(() => window.playground.editor.state.doc.toString()), 'print("shared")');
  await other.click('#run');
  await other.waitForFunction(() => document.getElementById('out').textContent === 'shared\n');
  await other.close();
  // examples replace the code
  const examples = await fresh.$$eval('#examples option', (os) => os.map((o) => o.textContent));
  assert.deepEqual(examples, ['Examples…', 'Packages on import', 'numpy', 'A matplotlib figure', 'pandas',
    'input()']);
  await fresh.selectOption('#examples', 'numpy');
  assert.match(await code(), /^import numpy as np\n/);
  await fresh.close();
});

test('the page lists the packages the mirror offers', async () => {
  const fresh = await browser.context.newPage();
  await fresh.goto(url);
  await fresh.waitForFunction(() => /^The mirror offers/.test(document.getElementById('offers').textContent));
  const index = JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8'));
  const own = Object.values(index.packages).filter((p) => p.package_type !== 'cpython_module');
  const text = await fresh.textContent('#offers');
  assert.match(text, new RegExp(`^The mirror offers ${own.length} package\\(s\\) and ${Object.keys(index.packages).length - own.length} stdlib modules: `));
  assert.match(text, /numpy 1\.25\.2/);
  assert.match(text, /python-dateutil 2\.8\.2/);
  await fresh.close();
});
