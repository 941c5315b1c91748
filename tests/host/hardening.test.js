/*
 * hardening.test.js - the mirror against careless operators, hostile
 * upstreams and concurrent commands (the security review's items; the
 * loader's side of them is in tests/unit/test_loader.c and
 * tests/node/loader.test.js): import squatting and planted files refused
 * at sign, a file name never republished with other bytes, reserved names
 * refused from publish and from a hostile upstream's sync, and one writer
 * at a time.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bin } = require('../lib/paths');
const { serve } = require('../lib/static-server');
const { makeKey, writeRepo } = require('../lib/repo');

const MIRROR = path.join(bin, 'larder-mirror');
const BUILD = path.join(bin, 'larder-build');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-hardening-'));
const corpus = path.join(work, 'corpus');
const mirror = (repo, ...args) => spawnSync(MIRROR, ['--repo', repo, ...args], { encoding: 'utf8' });
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

let six, pyparsing;  // {archive, entry} of larder-build's
test.before(() => {
  fs.mkdirSync(corpus);
  execFileSync(BUILD, ['dist', '-q', '-o', corpus, 'six', 'pyparsing']);
  const load = (name) => {
    const json = fs.readdirSync(corpus).find((f) => f.startsWith(`${name}-`) && f.endsWith('.json'));
    const entry = JSON.parse(fs.readFileSync(path.join(corpus, json), 'utf8'));
    return { entry, archive: fs.readFileSync(path.join(corpus, entry.file_name)) };
  };
  six = load('six');
  pyparsing = load('pyparsing');
});
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

let n = 0;
function freshRepo() {
  const repo = path.join(work, `repo${n++}`);
  execFileSync(MIRROR, ['init', '--no-runtime', repo]);
  return repo;
}

/* An archive + entry in dir, as larder-build writes them. */
function writePackage(dir, entry, bytes) {
  fs.mkdirSync(dir, { recursive: true });
  const e = { ...entry, sha256: sha256(bytes), size: bytes.length };
  fs.writeFileSync(path.join(dir, e.file_name), bytes);
  const json = path.join(dir, e.file_name.replace(/\.tar\.zst$/, '.json'));
  fs.writeFileSync(json, JSON.stringify(e));
  return path.join(dir, e.file_name);
}

test('import squatting: sign refuses two packages that provide the same import, naming both', () => {
  const repo = freshRepo();
  const dir = path.join(work, 'squat');
  const clone = writePackage(dir, { ...six.entry, name: 'six-clone', file_name: 'six_clone-1.16.0-0.tar.zst' },
    six.archive);
  assert.equal(mirror(repo, 'publish', path.join(corpus, six.entry.file_name), clone).status, 0);
  const r = mirror(repo, 'sign');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not signing: packages 'six' and 'six-clone' both provide the import 'six' .*remove one/);
  assert.equal(fs.existsSync(path.join(repo, 'public', 'index.json')), false, 'nothing was signed');
  assert.equal(mirror(repo, 'remove', 'six-clone').status, 0);
  assert.equal(mirror(repo, 'sign').status, 0);
});

test('republishing a file_name with other bytes is refused (archives are served immutable)', () => {
  const repo = freshRepo();
  assert.equal(mirror(repo, 'publish', path.join(corpus, six.entry.file_name)).status, 0);
  const other = execFileSync('zstd', ['-19', '-q', '-c'], {
    input: execFileSync('zstd', ['-d', '-q', '-c'], { input: six.archive }),
  });
  assert.notEqual(sha256(other), six.entry.sha256);
  const again = writePackage(path.join(work, 'rebuilt'), six.entry, other);
  let r = mirror(repo, 'publish', again);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`six-1\\.16\\.0-0\\.tar\\.zst was published before with other bytes \\(sha256 ${six.entry.sha256}\\).*new file name`));
  // also after the package was removed: the name was served once
  assert.equal(mirror(repo, 'remove', 'six').status, 0);
  r = mirror(repo, 'publish', again);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /was published before with other bytes/);
  // the same bytes again are fine
  assert.equal(mirror(repo, 'publish', path.join(corpus, six.entry.file_name)).status, 0);
});

test('reserved names: an archive called index.json... is refused at publish', () => {
  const repo = freshRepo();
  const bad = writePackage(path.join(work, 'reserved'), { ...six.entry, file_name: 'index.json.tar.zst' }, six.archive);
  const r = mirror(repo, 'publish', bad);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /"index\.json\.tar\.zst" is not an archive name the mirror serves/);
});

test('reserved names: a hostile upstream whose entry is called index.json.gz cannot overwrite the index', async () => {
  const up = path.join(work, 'upstream');
  const key = makeKey();
  fs.mkdirSync(up);
  fs.writeFileSync(path.join(up, 'index.json.gz'), six.archive);
  writeRepo(up, { six: { ...six.entry, file_name: 'index.json.gz' } }, { key, serial: 1 });
  const server = await serve({ routes: { '/': up } });
  try {
    const repo = freshRepo();
    const r = await new Promise((resolve) => {
      const child = spawn(MIRROR, ['--repo', repo, 'sync', `${server.url}/index.json`, '--key', key.text]);
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      child.on('close', (code) => resolve({ code, err }));
    });
    assert.equal(r.code, 1);
    assert.match(r.err, /"index\.json\.gz" is not an archive name the mirror serves/);
    assert.equal(mirror(repo, 'list').stdout.includes('six'), false, 'nothing recorded');
  } finally {
    await server.close();
  }
});

test('concurrent commands: a writer waits for no one; a second one is refused, naming the holder', async () => {
  const repo = freshRepo();
  const lock = path.join(repo, '.lock');
  fs.writeFileSync(lock, 'larder-mirror publish (pid 4242)\n');
  // hold the lock the way a running publish does (flock on .lock)
  const holder = spawn('flock', ['-x', lock, 'sleep', '30'], { detached: true, stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  try {
    for (const args of [['gc'], ['sign'], ['publish', path.join(corpus, six.entry.file_name)]]) {
      const r = mirror(repo, ...args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, /the repository is busy: larder-mirror publish \(pid 4242\) is changing it; run this again/);
    }
    assert.equal(mirror(repo, 'list').status, 0, 'readers take no lock');
    assert.equal(mirror(repo, 'keys', '--public').status, 0);
  } finally {
    process.kill(-holder.pid);  // flock and its sleep, which holds the lock too
  }
  await new Promise((r) => holder.on('exit', r));
  assert.equal(mirror(repo, 'publish', path.join(corpus, six.entry.file_name)).status, 0, 'free again');
  assert.match(fs.readFileSync(lock, 'utf8'), /^larder-mirror publish \(pid \d+\)\n$/);
});

test('sync mirrors the upstream exactly: removals and metadata-only changes travel; --keep-local keeps local ones',
  async () => {
    const up = path.join(work, 'exact-upstream');
    const key = makeKey();
    fs.mkdirSync(up);
    for (const p of [six, pyparsing]) fs.writeFileSync(path.join(up, p.entry.file_name), p.archive);
    // serial 1: both, pyparsing (wrongly) depending on six
    writeRepo(up, { six: six.entry, pyparsing: { ...pyparsing.entry, depends: ['six'] } }, { key, serial: 1 });
    const server = await serve({ routes: { '/': up } });
    const sync = (repo, ...extra) => new Promise((resolve) => {
      const child = spawn(MIRROR, ['--repo', repo, 'sync', `${server.url}/index.json`, '--key', key.text, '--quiet', ...extra]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.on('close', (code) => resolve({ code, out, err }));
    });
    const names = (repo) => Object.keys(JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8'))
      .packages).sort();
    try {
      const plain = freshRepo();
      const keeping = freshRepo();
      // a package published here, not upstream
      const local = writePackage(path.join(work, 'local'), { ...six.entry, name: 'local-tool', imports: ['local_tool'],
        file_name: 'local_tool-1.0-0.tar.zst', depends: [] }, six.archive);
      for (const repo of [plain, keeping]) {
        assert.equal(mirror(repo, 'publish', local).status, 0);
        const r = await sync(repo, ...(repo === keeping ? ['--keep-local'] : []));
        assert.equal(r.code, 0, r.err);
      }
      assert.deepEqual(names(plain), ['pyparsing', 'six'], 'without --keep-local the set is the upstream\'s');
      assert.deepEqual(names(keeping), ['local-tool', 'pyparsing', 'six']);
      // serial 2: six is gone upstream (yanked), pyparsing's depends fixed, same archive
      writeRepo(up, { pyparsing: { ...pyparsing.entry, depends: [] } }, { key, serial: 2 });
      for (const repo of [plain, keeping]) {
        const r = await sync(repo, ...(repo === keeping ? ['--keep-local'] : []));
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /sync: 1 package\(s\) new or updated, 1 removed, 0 downloaded/);
        const index = JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8'));
        assert.deepEqual(index.packages.pyparsing.depends, [], 'the metadata-only change arrived');
      }
      assert.deepEqual(names(plain), ['pyparsing']);
      assert.deepEqual(names(keeping), ['local-tool', 'pyparsing'], '--keep-local: the local package stays, six goes');
    } finally {
      await server.close();
    }
  });

test('the small ones: access-log lines escape control bytes; sync --base-url "" and sync index.json are refused', async () => {
  const repo = freshRepo();
  assert.equal(mirror(repo, 'publish', path.join(corpus, six.entry.file_name)).status, 0);
  assert.equal(mirror(repo, 'sign').status, 0);
  const log = path.join(work, 'access.log');
  const serveMirror = require('../lib/mirror-serve');
  const s = await serveMirror.start(repo, ['--access-log', log]);
  try {
    const r = await fetch(`${s.url}/index.json%0A127.0.0.1%20-%20-%20[forged]%20%22GET%20/evil%22%20200%201`);
    assert.equal(r.status, 404);
  } finally {
    await serveMirror.stop(s);
  }
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0], /"GET \/index\.json\\x0a127\.0\.0\.1 - - \[forged\] \\x22GET \/evil\\x22 200 1" 404 \d+$/);

  const lock = path.join(work, 'pyodide-lock.json');
  fs.writeFileSync(lock, JSON.stringify({ info: {}, packages: {} }));
  const r = spawnSync(MIRROR, ['--repo', repo, 'sync', '--from-lockfile', lock, '--base-url', ''], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--base-url is empty: give the URL the wheels of .* are downloaded from/);
  // sync index.json with no '/' (once a NULL dereference)
  const k = makeKey().text;
  const r2 = spawnSync(MIRROR, ['--repo', repo, 'sync', 'index.json', '--key', k], { encoding: 'utf8' });
  assert.equal(r2.status, 1);
  assert.match(r2.stderr, /upstream index\.json: expected an http:\/\/ or https:\/\/ URL/);
});
