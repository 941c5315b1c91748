/*
 * loader.test.js - the loader in a Web Worker in headless Chromium: a lazy
 * import with progress events, then a reload served from the IndexedDB
 * cache with no archive request, then the same with the mirror gone.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { serve } = require('../lib/static-server');
const { launch } = require('../lib/browser');
const { bin, root, runtime } = require('../lib/paths');
const { makeKey, readEntries, writeRepo } = require('../lib/repo');
const serveMirror = require('../lib/mirror-serve');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-browser-loader-'));
const key = makeKey();
let browser, page, pages;

test.before(async () => {
  const corpus = path.join(work, 'corpus');
  fs.mkdirSync(corpus);
  execFileSync(path.join(bin, 'larder-build'),
    ['dist', '-q', '-o', corpus, '--depends', 'six', 'six', 'python-dateutil']);
  execFileSync(path.join(bin, 'larder-build'), ['dist', '-q', '-o', corpus, 'pyparsing']);
  writeRepo(path.join(work, 'repo'), readEntries(path.join(root, 'build', 'stdlib'), corpus), { key, serial: 2 });
  // the page, the runtime and the mirror on one origin
  pages = await serve({ routes: { '/runtime/': runtime, '/mirror/': path.join(work, 'repo'), '/': path.join(__dirname, 'pages') } });
  browser = await launch();
  page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

test.after(async () => {
  if (browser) await browser.close();
  if (pages) await pages.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const options = () => ({ indexUrl: '/mirror/index.json', key: key.text });
const archiveGets = () => pages.log.filter((l) => l.includes('.tar.zst'));

test('a lazy import in the Worker: progress events, parallel downloads, then the import succeeds', async () => {
  pages.log.length = 0;
  await page.goto(`${pages.url}/loader.html`);
  // no idle warm-up: the index is read by the first import, not in the first idle moment
  assert.equal(await page.evaluate((o) => window.start(o), { ...options(), warmUp: false }), 'parallel',
    'the page is cross-origin isolated');
  const indexGets = () => pages.log.filter((l) => l.startsWith('GET /mirror/index.json ')).length;
  const indexBefore = indexGets();  // the helper asks for it as the page gets ready, without waiting
  pages.log.length = 0;
  pages.stats.delayMs = 150;  // slow archives make overlapping downloads visible
  pages.stats.maxInFlight = 0;
  const r = await page.evaluate(() => window.runPython(
    'import six, dateutil.parser, pyparsing\nprint(dateutil.parser.parse("2026-11-25").strftime("%A"))\n'
    + 'print(six.__version__, pyparsing.Word(pyparsing.nums).parseString("42")[0])\n'
    + 'import os\nprint(os.path.exists("/larder/cache/followed-imports"))'));
  pages.stats.delayMs = 0;
  assert.ok(pages.stats.maxInFlight > 1, `the closure downloads in parallel (max in flight ${pages.stats.maxInFlight})`);
  assert.deepEqual(r.stderr, []);
  // what followed each package's import: recorded during the run, written once it ended
  assert.deepEqual(r.stdout, ['Wednesday', '1.16.0 42', 'False']);
  const followed = await page.evaluate(() => window.runPython(
    'print(sorted(line.split()[0] for line in open("/larder/cache/followed-imports")))'));
  assert.deepEqual(followed.stdout, ["['pyparsing', 'python-dateutil', 'six']"], followed.stderr.join('\n'));
  assert.equal(indexBefore + indexGets(), 1, 'the index is fetched once, and read by the first import');
  const gets = archiveGets();
  assert.equal(new Set(gets).size, gets.length, `each archive is fetched once: ${gets}`);
  for (const f of ['six-1.16.0-0', 'python_dateutil-2.8.2-0', 'pyparsing-3.0.9-0']) {
    assert.equal(gets.filter((l) => l.startsWith(`GET /mirror/${f}.tar.zst 200`)).length, 1, f);
  }
  const packages = new Set(r.progress.map((p) => p[0]));
  assert.ok(packages.has('six') && packages.has('python-dateutil'), [...packages].join(' '));
  const six = r.progress.filter((p) => p[0] === 'six');
  assert.equal(six[six.length - 1][1], six[six.length - 1][2], 'progress reaches the total');
  assert.ok(archiveGets().some((l) => l.startsWith('GET /mirror/six-1.16.0-0.tar.zst 200')));
  await page.evaluate(() => window.saved);  // the cache reached IndexedDB
});

test('after a reload the same import comes from the cache: no archive request', async () => {
  pages.log.length = 0;
  await page.reload();
  await page.evaluate((o) => window.start(o), options());
  const r = await page.evaluate(() => window.runPython(
    'import dateutil.parser\nprint(dateutil.parser.parse("2026-11-26").day)'));
  assert.deepEqual(r.stdout, ['26'], r.stderr.join('\n'));
  assert.deepEqual(archiveGets(), []);
});

test('the second visit reads no archive at start: the cache is an IndexedDB store read one archive at a time', async () => {
  await page.evaluate(() => window.saved);
  await page.reload();
  await page.evaluate((o) => window.start(o), options());
  // what the start put in the interpreter's filesystem: the index and what
  // followed the imports of the first visit (docs/loader.md), no archive
  let r = await page.evaluate(() => window.runPython(
    'import os\nprint(sorted(os.listdir("/larder/cache")))'));
  assert.deepEqual(r.stdout, ["['followed-imports', 'index.json', 'index.json.sig']"], r.stderr.join('\n'));
  // the store holds the archives of the first visit, each keyed by its sha256
  const index = JSON.parse(fs.readFileSync(path.join(work, 'repo', 'index.json'), 'utf8'));
  const keys = await page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('larder-archives');
    open.onsuccess = () => {
      const get = open.result.transaction('archives').objectStore('archives').getAllKeys();
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => reject(get.error);
    };
    open.onerror = () => reject(open.error);
  }));
  for (const name of ['six', 'python-dateutil', 'pyparsing']) {
    assert.ok(keys.includes(index.packages[name].sha256), `${name} is in the store`);
  }
  pages.log.length = 0;
  r = await page.evaluate(() => window.runPython('import pyparsing, os\nprint(pyparsing.__version__, '
    + 'sorted(f for f in os.listdir("/larder/cache") if f.endswith(".tar.zst")))'));
  assert.deepEqual(r.stdout, ['3.0.9 []'], r.stderr.join('\n'));
  assert.deepEqual(archiveGets(), [], 'read from the store, not fetched');
});

/* The bytes the archive store holds under sha (an ArrayBuffer's bytes as an
 * array), or, with damage, flip one byte of them in place first. */
const storeEntry = (sha, damage = false) => page.evaluate(([key, flip]) => new Promise((resolve, reject) => {
  const open = indexedDB.open('larder-archives');
  open.onsuccess = () => {
    const tx = open.result.transaction('archives', 'readwrite');
    const archives = tx.objectStore('archives');
    let bytes;
    const get = archives.get(key);
    get.onsuccess = () => {
      bytes = new Uint8Array(get.result);
      if (flip) {
        bytes[bytes.length >> 1] ^= 0xff;
        archives.put(bytes.slice().buffer, key);
      }
    };
    tx.oncomplete = () => { open.result.close(); resolve(Array.from(bytes)); };
    tx.onerror = () => reject(tx.error);
  };
  open.onerror = () => reject(open.error);
}), [sha, damage]);

test('an archive the store holds damaged is downloaded again, and the good copy kept', async () => {
  await page.evaluate(() => window.saved);
  const index = JSON.parse(fs.readFileSync(path.join(work, 'repo', 'index.json'), 'utf8'));
  const { sha256, size } = index.packages.six;
  const digest = (bytes) => crypto.createHash('sha256').update(Buffer.from(bytes)).digest('hex');
  const damaged = await storeEntry(sha256, true);
  assert.equal(damaged.length, size, 'the same size: only the sha256 tells');
  assert.notEqual(digest(await storeEntry(sha256)), sha256);
  await page.reload();
  await page.evaluate((o) => window.start(o), options());
  pages.log.length = 0;
  const r = await page.evaluate(() => window.runPython('import six, larder\ns = larder.stats()\n'
    + 'print(six.__version__, s["hashed_by_platform"] == s["packages"] > 0)'));
  // the helper hashed every archive it handed over (WebCrypto), the damaged copy found by it
  assert.deepEqual(r.stdout, ['1.16.0 True'], r.stderr.join('\n'));
  assert.deepEqual(r.stderr, []);
  assert.deepEqual(archiveGets().map((l) => l.split(' ').slice(0, 3).join(' ')), ['GET /mirror/six-1.16.0-0.tar.zst 200'],
    'the damaged one downloaded again, nothing else');
  await page.evaluate(() => window.saved);
  assert.equal(digest(await storeEntry(sha256)), sha256, 'the store holds the good copy now');
});

test('with the mirror gone the import still works from the cache', async () => {
  await page.route('**/mirror/**', (route) => route.abort('connectionrefused'));
  await page.reload();
  await page.evaluate((o) => window.start(o), options());
  try {
    const r = await page.evaluate(() => window.runPython('import six, dateutil.tz\nprint(six.__version__)'));
    assert.deepEqual(r.stdout, ['1.16.0'], r.stderr.join('\n'));
    // the index is read when code first needs it, after 'ready'
    const { initStderr, allStderr } = await page.evaluate(() => ({ initStderr: window.initStderr, allStderr: window.allStderr }));
    assert.ok(!initStderr.some((l) => /index/.test(l)), initStderr.join('\n'));
    assert.ok(allStderr.some((l) => /using the index kept in the cache/.test(l)), allStderr.join('\n'));
  } finally {
    await page.unroute('**/mirror/**');
  }
});

test('a load failure reaches the page as a readable ImportError, and a retry recovers', async () => {
  pages.faults['/mirror/fractions-3.11.2-0.tar.zst'] = { kind: 500, times: 1 };
  let r = await page.evaluate(() => window.runPython('import fractions'));
  assert.equal(r.ok, false);
  const last = r.stderr[r.stderr.length - 1];
  assert.match(last, /^larder\.FetchError: cannot load package 'fractions' 3\.11\.2 from http:\/\/127\.0\.0\.1:\d+\/mirror\/fractions-3\.11\.2-0\.tar\.zst: HTTP 500/);
  r = await page.evaluate(() => window.runPython('import fractions\nprint(fractions.Fraction(1, 3) * 3)'));
  assert.deepEqual(r.stdout, ['1'], r.stderr.join('\n'));
});

/* A larder-mirror repository of the corpus (made once): {repo, mirrorKey}. */
let mirrorRepo = null;
function corpusMirror() {
  if (mirrorRepo) return mirrorRepo;
  const repo = path.join(work, 'mirror-repo');
  const mirrorBin = path.join(bin, 'larder-mirror');
  execFileSync(mirrorBin, ['init', repo]);
  const corpus = path.join(work, 'corpus');
  execFileSync(mirrorBin, ['--repo', repo, 'publish', ...fs.readdirSync(corpus).filter((f) => f.endsWith('.tar.zst'))
    .map((f) => path.join(corpus, f))]);
  execFileSync(mirrorBin, ['--repo', repo, 'sign']);
  const mirrorKey = execFileSync(mirrorBin, ['--repo', repo, 'keys', '--public'], { encoding: 'utf8' }).trim();
  mirrorRepo = { repo, mirrorKey };
  return mirrorRepo;
}

/* The archives an access log shows requested, one name per archive (a bundle's one by one). */
const requested = (lines) => lines.flatMap((l) => {
  const bundle = l.match(/GET \/larder-bundle\?files=([^ "]+)/);
  if (bundle) return bundle[1].split(',');
  const one = l.match(/GET \/([^ ?"]+\.tar\.zst)/);
  return one ? [one[1]] : [];
});

test('a page that is not cross-origin isolated gets what an install announces in one request from larder-mirror serve', async () => {
  // the page and the runtime from a plain server, the packages from a mirror on another origin
  const { repo, mirrorKey } = corpusMirror();
  const log = path.join(work, 'mirror-access.log');
  const mirror = await serveMirror.start(repo, ['--access-log', log]);
  const plain = await serve({ isolated: false, routes: { '/runtime/': runtime, '/': path.join(__dirname, 'pages') } });
  const other = await browser.context.newPage();
  try {
    await other.goto(`${plain.url}/loader.html`);
    assert.equal(await other.evaluate((o) => window.start(o),
      { indexUrl: `${mirror.url}/index.json`, key: mirrorKey, cache: 'memory' }), 'sequential');
    const r = await other.evaluate(() => window.runPython('import dateutil.parser, six\nprint(six.__version__)'));
    assert.deepEqual(r.stdout, ['1.16.0'], r.stderr.join('\n'));
    const archives = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('.tar.zst'));
    assert.match(archives[0], /"GET \/larder-bundle\?files=six-1\.16\.0-0\.tar\.zst,python_dateutil-2\.8\.2-0\.tar\.zst" 200 /);
    assert.ok(!archives.some((l) => /GET \/(six|python_dateutil)-/.test(l)), archives.join('\n'));
  } finally {
    await other.close();
    await plain.close();
    await serveMirror.stop(mirror);
  }
});

test('an isolated page takes what its store holds from there and the rest of the same install in one bundle', async () => {
  // page, runtime and packages from larder-mirror serve (cross-origin isolated), on an origin of its own: a new store
  const { repo, mirrorKey } = corpusMirror();
  const log = path.join(work, 'mirror-isolated-access.log');
  const mirror = await serveMirror.start(repo, ['--access-log', log, '--runtime', runtime, '--site', path.join(__dirname, 'pages')]);
  const other = await browser.context.newPage();
  const lines = () => fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('.tar.zst'));
  try {
    await other.goto(`${mirror.url}/loader.html`);
    assert.equal(await other.evaluate(() => self.crossOriginIsolated), true);
    const o = { indexUrl: `${mirror.url}/index.json`, key: mirrorKey };
    assert.equal(await other.evaluate((opts) => window.start(opts), o), 'parallel');
    let r = await other.evaluate(() => window.runPython('import six\nprint(six.__version__)'));
    assert.deepEqual(r.stdout, ['1.16.0'], r.stderr.join('\n'));
    await other.evaluate(() => window.saved);
    const first = requested(lines());
    assert.ok(first.includes('six-1.16.0-0.tar.zst'), first.join(' '));
    await other.reload();
    assert.equal(await other.evaluate((opts) => window.start(opts), o), 'parallel');
    const before = lines().length;
    // one install whose closure is six (held) and two packages the store does not hold
    r = await other.evaluate(() => window.runPython('import larder\nlarder.install("python-dateutil", "pyparsing")\n'
      + 's = larder.stats()\nprint(s["packages"], s["from_cache"])'));
    assert.deepEqual(r.stdout, ['3 1'], r.stderr.join('\n'));
    const second = lines().slice(before);
    assert.equal(second.length, 1, second.join('\n'));
    assert.match(second[0], /"GET \/larder-bundle\?files=[^ ]+" 200 /);
    assert.deepEqual(requested(second).sort(), ['pyparsing-3.0.9-0.tar.zst', 'python_dateutil-2.8.2-0.tar.zst']);
  } finally {
    await other.close();
    await serveMirror.stop(mirror);
  }
});

test('a page that is not cross-origin isolated loads one archive after another from a server without bundles '
  + '(synchronous XHR)', async () => {
  const plain = await serve({ isolated: false, routes: { '/runtime/': runtime, '/mirror/': path.join(work, 'repo'), '/': path.join(__dirname, 'pages') } });
  const other = await browser.context.newPage();
  try {
    await other.goto(`${plain.url}/loader.html`);
    assert.equal(await other.evaluate(() => self.crossOriginIsolated), false);
    assert.equal(await other.evaluate((o) => window.start({ ...o, cache: 'memory' }), options()), 'sequential');
    plain.stats.delayMs = 100;
    plain.stats.arrivals.length = 0;
    const r = await other.evaluate(() => window.runPython('import dateutil.parser, six\nprint(six.__version__)'));
    assert.deepEqual(r.stdout, ['1.16.0'], r.stderr.join('\n'));
    // one after another: each archive request arrives only after the previous
    // (delayed) response came back
    const gaps = plain.stats.arrivals.slice(1).map((t, i) => t - plain.stats.arrivals[i]);
    assert.ok(gaps.length > 0 && gaps.every((g) => g >= 90), `gaps between archive requests: ${gaps.join(', ')} ms`);
    assert.ok(plain.log.filter((l) => l.includes('.tar.zst')).length > 1);
  } finally {
    await other.close();
    await plain.close();
  }
});

test('a page that is not cross-origin isolated (cache in IDBFS) has WebCrypto hash what IndexedDB gave, and '
  + 'downloads a damaged copy again', async () => {
  const plain = await serve({ isolated: false, routes: { '/runtime/': runtime, '/mirror/': path.join(work, 'repo'), '/': path.join(__dirname, 'pages') } });
  const other = await browser.context.newPage();
  const gets = () => plain.log.filter((l) => l.includes('.tar.zst')).map((l) => l.split(' ').slice(0, 3).join(' '));
  const code = 'import six, larder\ns = larder.stats()\n'
    + 'print(six.__version__, s["packages"], s["from_cache"], s["hashed_by_platform"])';
  const visit = async () => {
    await other.goto(`${plain.url}/loader.html`);
    assert.equal(await other.evaluate((o) => window.start({ ...o, warmUp: false }), options()), 'sequential');
    // the archives IndexedDB gave are hashed in the background once the page
    // has started: a few KB here, done well within this wait
    await new Promise((resolve) => setTimeout(resolve, 500));
    plain.log.length = 0;
    const r = await other.evaluate((c) => window.runPython(c), code);
    await other.evaluate(() => window.saved);
    return r;
  };
  try {
    let r = await visit();
    // six and the stdlib modules it needs, downloaded (by synchronous XHR, which does not hash)
    const n = Number((r.stdout[0] || '').split(' ')[1]);
    assert.deepEqual(r.stdout, [`1.16.0 ${n} 0 0`], r.stderr.join('\n'));
    assert.equal(gets().length, n);
    assert.ok(gets().includes('GET /mirror/six-1.16.0-0.tar.zst 200'), gets().join('\n'));
    r = await visit();
    // all from IDBFS, every digest WebCrypto's
    assert.deepEqual(r.stdout, [`1.16.0 ${n} ${n} ${n}`], r.stderr.join('\n'));
    assert.deepEqual(gets(), []);
    // one byte of the copy in IndexedDB flipped (IDBFS: a database per mount point, a record per file)
    const index = JSON.parse(fs.readFileSync(path.join(work, 'repo', 'index.json'), 'utf8'));
    const file = `/larder/cache/${index.packages.six.sha256}.tar.zst`;
    assert.equal(await other.evaluate((key) => new Promise((resolve, reject) => {
      const open = indexedDB.open('/larder');
      open.onsuccess = () => {
        const tx = open.result.transaction('FILE_DATA', 'readwrite');
        const files = tx.objectStore('FILE_DATA');
        const get = files.get(key);
        get.onsuccess = () => {
          const entry = get.result;
          entry.contents[entry.contents.length >> 1] ^= 0xff;
          files.put(entry, key);
        };
        tx.oncomplete = () => { open.result.close(); resolve(true); };
        tx.onerror = () => reject(tx.error);
      };
      open.onerror = () => reject(open.error);
    }), file), true);
    r = await visit();
    // the damaged copy's digest is not the index's: downloaded again
    assert.deepEqual(r.stdout, [`1.16.0 ${n} ${n - 1} ${n - 1}`], r.stderr.join('\n'));
    assert.deepEqual(gets(), ['GET /mirror/six-1.16.0-0.tar.zst 200']);
    r = await visit();
    assert.deepEqual(r.stdout, [`1.16.0 ${n} ${n} ${n}`], r.stderr.join('\n'));  // the good copy kept
  } finally {
    await other.close();
    await plain.close();
  }
});
