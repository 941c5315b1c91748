/*
 * mirror.test.js - larder-mirror on 127.0.0.1: init, publish, sign, serve
 * (checked with curl), the loader importing through it, export, verify, gc,
 * keys, private mirrors, and bad input.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const zlib = require('node:zlib');
const os = require('node:os');
const path = require('node:path');
const { bin, root, runtime } = require('../lib/paths');
const { run } = require('../lib/run');
const { sideModule } = require('../lib/wasm');
const serveMirror = require('../lib/mirror-serve');

const MIRROR = path.join(bin, 'larder-mirror');
const BUILD = path.join(bin, 'larder-build');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-mirror-test-'));
const repo = path.join(work, 'repo');
const corpus = path.join(work, 'corpus');
let server, base;

const mirror = (...args) => spawnSync(MIRROR, ['--repo', repo, ...args], { encoding: 'utf8' });

function curl(args) {
  const r = spawnSync('curl', ['-s', '--max-time', '20', ...args], { encoding: 'utf8' });
  return r.stdout;
}
const headers = (...args) => curl(['-D', '-', '-o', '/dev/null', ...args]);
const status = (...args) => curl(['-o', '/dev/null', '-w', '%{http_code}', ...args]);

const startServe = (dir, extra = []) => serveMirror.start(dir, ['--runtime', runtime,
  '--access-log', path.join(work, 'access.log'), ...extra]);
const { stop } = serveMirror;

test.before(async () => {
  fs.mkdirSync(corpus);
  execFileSync(BUILD, ['dist', '-q', '-o', corpus, 'six', 'pyparsing']);
  execFileSync(BUILD, ['dist', '-q', '-o', corpus, '--depends', 'six', 'python-dateutil']);
});

test.after(async () => {
  if (server) await stop(server);
  fs.rmSync(work, { recursive: true, force: true });
});

test('init creates a repository with a private key only its owner reads', () => {
  const r = spawnSync(MIRROR, ['init', repo, '--no-runtime'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.statSync(path.join(repo, 'keys', 'signing.pem')).mode & 0o777, 0o600);
  assert.ok(fs.existsSync(path.join(repo, 'catalog.sqlite')));
  assert.equal(spawnSync(MIRROR, ['init', repo, '--no-runtime'], { encoding: 'utf8' }).status, 1, 'init twice fails');
  const key = mirror('keys', '--public');
  assert.match(key.stdout, /^ed25519:[A-Za-z0-9+/]{43}=\n$/);
  assert.equal(fs.readFileSync(path.join(repo, 'keys', 'public.txt'), 'utf8'), key.stdout);
});

test('publish refuses bad input and changes nothing', () => {
  const bad = path.join(work, 'bad');
  fs.mkdirSync(bad);
  const six = fs.readdirSync(corpus).find((f) => f.startsWith('six-') && f.endsWith('.tar.zst'));
  fs.copyFileSync(path.join(corpus, six), path.join(bad, six));
  fs.copyFileSync(path.join(corpus, six.replace('.tar.zst', '.json')), path.join(bad, six.replace('.tar.zst', '.json')));
  const data = fs.readFileSync(path.join(bad, six));
  data[data.length >> 1] ^= 1;
  fs.writeFileSync(path.join(bad, six), data);
  const good = path.join(corpus, fs.readdirSync(corpus).find((f) => f.startsWith('pyparsing-') && f.endsWith('.tar.zst')));
  let r = mirror('publish', good, path.join(bad, six));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /six-1\.16\.0-0\.tar\.zst: sha256 [0-9a-f]{64}, but its entry says/);
  r = mirror('publish', path.join(work, 'nothing-0-0.tar.zst'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /its index entry is missing/);
  const count = execFileSync('sqlite3', [path.join(repo, 'catalog.sqlite'), 'select count(*) from packages'], { encoding: 'utf8' });
  assert.equal(count.trim(), '0', 'the good archive of the failed batch was not published either');
  assert.equal(mirror('publish').status, 2, 'usage error');
});

test('publish + sign: an incomplete index is refused, then a complete one is signed', () => {
  const archives = (dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.tar.zst')).map((f) => path.join(dir, f));
  let r = mirror('publish', ...archives(corpus).filter((f) => !f.includes('/six-')));
  assert.equal(r.status, 0, r.stderr);
  r = mirror('sign');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not signing an incomplete index: package 'six' is not in the index \(needed by python-dateutil -> six\)/);
  r = mirror('publish', ...archives(corpus), ...archives(path.join(root, 'build', 'stdlib')));
  assert.equal(r.status, 0, r.stderr);
  r = mirror('sign');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /signed index serial 1/);
  const index = JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8'));
  assert.equal(index.info.serial, 1);
  assert.ok(Date.parse(index.info.expires) > Date.now() + 29 * 86400e3);
  assert.ok(index.packages.six && index.packages.json);
  // the signature verifies with the public key (node:crypto, independently)
  const raw = Buffer.from(mirror('keys', '--public').stdout.trim().slice(8), 'base64');
  const key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  assert.ok(crypto.verify(null, fs.readFileSync(path.join(repo, 'public', 'index.json')), key,
    Buffer.from(fs.readFileSync(path.join(repo, 'public', 'index.json.sig'), 'utf8'), 'base64')));
  assert.match(mirror('sign').stdout, /serial 2/, 'the serial only grows');
  assert.equal(mirror('verify').status, 0);
});

test('serve: headers, conditional and range requests, encodings, traversal', async () => {
  server = await startServe(repo);
  base = server.url;
  let h = headers(`${base}/six-1.16.0-0.tar.zst`);
  assert.match(h, /^HTTP\/1\.1 200/);
  assert.match(h, /Cache-Control: public, max-age=31536000, immutable/i);
  assert.match(h, /Content-Type: application\/zstd/i);
  assert.match(h, /Access-Control-Allow-Origin: \*/i);
  assert.match(h, /Cross-Origin-Opener-Policy: same-origin/i);
  assert.match(h, /Cross-Origin-Embedder-Policy: require-corp/i);
  assert.match(h, /Cross-Origin-Resource-Policy: cross-origin/i);
  const etag = h.match(/ETag: (".*")/i)[1];
  assert.equal(status('-H', `If-None-Match: ${etag}`, `${base}/six-1.16.0-0.tar.zst`), '304');
  h = headers('-H', 'Range: bytes=10-19', `${base}/six-1.16.0-0.tar.zst`);
  assert.match(h, /^HTTP\/1\.1 206/);
  assert.match(h, /Content-Range: bytes 10-19\/\d+/i);
  assert.match(h, /Content-Length: 10/i);
  assert.equal(status('-H', 'Range: bytes=99999999-', `${base}/six-1.16.0-0.tar.zst`), '416');
  h = headers('-I', `${base}/index.json`);
  assert.match(h, /Cache-Control: no-cache/i);
  const size = fs.statSync(path.join(repo, 'public', 'index.json')).size;
  assert.match(h, new RegExp(`Content-Length: ${size}`, 'i'), 'HEAD gives the length');
  h = headers('-H', 'Accept-Encoding: zstd', `${base}/index.json`);
  assert.match(h, /Content-Encoding: zstd/i);
  assert.match(headers('-H', 'Accept-Encoding: gzip', `${base}/index.json`), /Content-Encoding: gzip/i);
  assert.equal(JSON.parse(curl(['--compressed', `${base}/index.json`])).info.serial, 2);
  assert.equal(status('--path-as-is', `${base}/../catalog.sqlite`), '404');
  assert.equal(status('--path-as-is', `${base}/runtime/../../keys/signing.pem`), '404');
  assert.equal(status(`${base}/keys/signing.pem`), '404');
  assert.equal(status('-X', 'POST', `${base}/index.json`), '405');
  assert.equal(status(`${base}/runtime/python.wasm`), '200');
  assert.match(headers(`${base}/runtime/python.wasm`), /Content-Type: application\/wasm/i);
  assert.match(fs.readFileSync(path.join(work, 'access.log'), 'utf8'), /"GET \/six-1\.16\.0-0\.tar\.zst" 206 10/);
});

test('serve: several archives in one response (/larder-bundle), only archives of the mirror', async () => {
  const names = ['six-1.16.0-0.tar.zst', 'pyparsing-3.0.9-0.tar.zst'];
  const files = names.map((n) => fs.readFileSync(path.join(repo, 'public', n)));
  const got = spawnSync('curl', ['-s', '--max-time', '20', `${base}/larder-bundle?files=${names.join(',')}`]).stdout;
  assert.ok(got.equals(Buffer.concat(files)), 'the archives one after another, in the order asked');
  const h = headers(`${base}/larder-bundle?files=${names.join(',')}`);
  assert.match(h, /^HTTP\/1\.1 200/);
  assert.match(h, new RegExp(`Content-Length: ${files[0].length + files[1].length}`, 'i'));
  assert.match(h, /Cross-Origin-Resource-Policy: cross-origin/i);
  assert.equal(status(`${base}/larder-bundle?files=six-1.16.0-0.tar.zst,no-such-1-0.tar.zst`), '404');
  assert.equal(status(`${base}/larder-bundle?files=index.json`), '404', 'archives only');
  assert.equal(status(`${base}/larder-bundle?files=..%2Fcatalog.sqlite,six-1.16.0-0.tar.zst`), '404');
  assert.equal(status(`${base}/larder-bundle?files=..%2Fpublic%2Fsix-1.16.0-0.tar.zst`), '404');
  assert.equal(status(`${base}/larder-bundle`), '400');
  assert.equal(status(`${base}/larder-bundle?files=${Array(513).fill(names[0]).join(',')}`), '400');
  assert.match(fs.readFileSync(path.join(work, 'access.log'), 'utf8'),
    new RegExp(`"GET /larder-bundle\\?files=six-1\\.16\\.0-0\\.tar\\.zst,pyparsing-3\\.0\\.9-0\\.tar\\.zst" 200 ${files[0].length + files[1].length}`));
});

test('serve: precompressed siblings of site and runtime files, never stale ones', async () => {
  const site = path.join(work, 'site-precompressed');
  fs.mkdirSync(site, { recursive: true });
  const body = 'console.log("larder");\n'.repeat(200);
  fs.writeFileSync(path.join(site, 'app.js'), body);
  fs.writeFileSync(path.join(site, 'app.js.gz'), zlib.gzipSync(body));
  fs.writeFileSync(path.join(site, 'app.js.br'), zlib.brotliCompressSync(body));
  fs.writeFileSync(path.join(site, 'old.js'), body);
  fs.writeFileSync(path.join(site, 'old.js.gz'), zlib.gzipSync('stale'));
  const past = new Date(Date.now() - 3600e3);
  fs.utimesSync(path.join(site, 'old.js.gz'), past, past);  // older than old.js: not used
  const s = await startServe(repo, ['--site', site]);
  try {
    let h = headers('-H', 'Accept-Encoding: gzip, deflate, br', `${s.url}/app.js`);
    assert.match(h, /Content-Encoding: br/i);
    assert.match(h, /Vary: Accept-Encoding/i);
    assert.match(h, /Content-Type: (text|application)\/javascript/i);
    assert.equal(zlib.brotliDecompressSync(execFileSync('curl', ['-s', '-H', 'Accept-Encoding: br', `${s.url}/app.js`])).toString(), body);
    assert.match(headers('-H', 'Accept-Encoding: gzip', `${s.url}/app.js`), /Content-Encoding: gzip/i);
    h = headers(`${s.url}/app.js`);
    assert.doesNotMatch(h, /^Content-Encoding:/im);
    assert.match(h, new RegExp(`Content-Length: ${body.length}`, 'i'));
    h = headers('-H', 'Accept-Encoding: gzip', `${s.url}/old.js`);
    assert.doesNotMatch(h, /^Content-Encoding:/im, 'a sibling older than its file is ignored');
    assert.doesNotMatch(headers('-H', 'Accept-Encoding: gzip, br, zstd', `${s.url}/six-1.16.0-0.tar.zst`), /^Content-Encoding:/im);
  } finally {
    await stop(s);
  }
});

test('the loader imports through the mirror, a package and its dependency in one bundle', async () => {
  const key = mirror('keys', '--public').stdout.trim();
  const log = path.join(work, 'access.log');
  const before = fs.readFileSync(log, 'utf8').length;
  const r = await run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${base}/index.json`,
    '--key', key, '-c', 'import dateutil.parser, json, six; print(json.dumps([six.__version__, dateutil.parser.parse("2026-11-25").day]))']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '["1.16.0", 25]\n');
  const requests = fs.readFileSync(log, 'utf8').slice(before).split('\n').filter((l) => l.includes('.tar.zst'));
  // the first install: dateutil and six, dependencies first (the stdlib
  // packages dateutil.parser imports follow, bundled where several go at once)
  assert.match(requests[0], /"GET \/larder-bundle\?files=six-1\.16\.0-0\.tar\.zst,python_dateutil-2\.8\.2-0\.tar\.zst" 200 /);
  assert.ok(!requests.some((l) => /GET \/(six|python_dateutil)-/.test(l)), 'not fetched again alone');
});

test('export: a static copy that verifies and loads', () => {
  const dest = path.join(work, 'export');
  const r = mirror('export', dest);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fs.readFileSync(path.join(dest, 'index.json')), fs.readFileSync(path.join(repo, 'public', 'index.json')));
  const index = JSON.parse(fs.readFileSync(path.join(dest, 'index.json'), 'utf8'));
  for (const e of Object.values(index.packages)) {
    const sha = crypto.createHash('sha256').update(fs.readFileSync(path.join(dest, e.file_name))).digest('hex');
    assert.equal(sha, e.sha256, e.file_name);
  }
});

test('verify finds a damaged store file; gc removes what nothing references', () => {
  const store = path.join(repo, 'store');
  const sub = fs.readdirSync(store)[0];
  const victim = path.join(store, sub, fs.readdirSync(path.join(store, sub))[0]);
  const saved = fs.readFileSync(victim);
  const damaged = Buffer.from(saved);
  damaged[0] ^= 0xff;
  fs.writeFileSync(victim + '.new', damaged);
  fs.renameSync(victim + '.new', victim);  // a new inode: the public tree keeps the good copy
  let r = mirror('verify');
  assert.equal(r.status, 3);
  assert.match(r.stderr, /does not hash to its sha256/);
  fs.writeFileSync(victim, saved);
  assert.equal(mirror('verify').status, 0);
  fs.mkdirSync(path.join(store, 'ff'), { recursive: true });
  fs.writeFileSync(path.join(store, 'ff', 'f'.repeat(64)), 'orphan');
  fs.writeFileSync(path.join(repo, 'junk.tmp.123'), 'left by a crash');
  r = mirror('gc');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!fs.existsSync(path.join(store, 'ff', 'f'.repeat(64))));
  assert.ok(!fs.existsSync(path.join(repo, 'junk.tmp.123')));
  assert.ok(!fs.existsSync(path.join(repo, 'public-1')), 'the old tree is gone');
  assert.ok(fs.existsSync(path.join(repo, 'public-2', 'index.json')), 'the current tree stays');
  assert.equal(mirror('verify').status, 0);
});

test('a private mirror: no token, 401 that says nothing; the right token, 200', async () => {
  const token = 'secret-token-for-tests';
  const sha = crypto.createHash('sha256').update(token).digest('hex');
  fs.appendFileSync(path.join(repo, 'larder-mirror.conf'), `token_sha256 = ${sha}\n`);
  const priv = await startServe(repo);
  try {
    const body = curl([`${priv.url}/index.json`]);
    assert.equal(status(`${priv.url}/index.json`), '401');
    assert.ok(!body.includes('six'), 'nothing about the packages leaks');
    assert.equal(status(`${priv.url}/no-such-package.tar.zst`), '401', 'not even whether a file exists');
    assert.equal(status(`${priv.url}/larder-bundle?files=six-1.16.0-0.tar.zst`), '401');
    assert.equal(status('-H', `Authorization: Bearer ${token}`, `${priv.url}/larder-bundle?files=six-1.16.0-0.tar.zst`), '200');
    assert.equal(status('-H', 'Authorization: Bearer wrong', `${priv.url}/index.json`), '401');
    assert.equal(status('-H', `Authorization: Bearer ${token}`, `${priv.url}/index.json`), '200');
  } finally {
    await stop(priv);
  }
});

test('keys --rotate: a new key signs from then on', () => {
  const before = mirror('keys', '--public').stdout;
  assert.equal(mirror('keys', '--rotate').status, 0);
  const after = mirror('keys', '--public').stdout;
  assert.notEqual(after, before);
  assert.ok(fs.existsSync(path.join(repo, 'keys', 'signing.pem.1')));
  assert.equal(mirror('sign').status, 0);
  assert.equal(mirror('verify').status, 0);
});

const runMirror = (args) => run(MIRROR, args);

test('sync: a second mirror copies the first, verified, re-signed with its own key', async () => {
  const down = path.join(work, 'down');
  assert.equal(spawnSync(MIRROR, ['init', down, '--no-runtime']).status, 0);
  const upKey = mirror('keys', '--public').stdout.trim();
  let r = await runMirror(['--repo', down, 'sync', `${base}/index.json`, '--key', upKey, '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /sync: \d+ package\(s\) new or updated, 0 removed, \d+ downloaded \(0 resumed\)/);
  const upIndex = JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8'));
  const downIndex = JSON.parse(fs.readFileSync(path.join(down, 'public', 'index.json'), 'utf8'));
  assert.deepEqual(Object.keys(downIndex.packages).sort(), Object.keys(upIndex.packages).sort());
  assert.notEqual(downIndex.info.key_id, upIndex.info.key_id, 're-signed with the downstream key');
  assert.equal(spawnSync(MIRROR, ['--repo', down, 'verify']).status, 0);
  // incremental: nothing new -> only the index and its signature travel
  const log = path.join(work, 'access.log');
  const before = fs.readFileSync(log, 'utf8').split('\n').length;
  r = await runMirror(['--repo', down, 'sync', base, '--key', upKey, '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /sync: up to date/);
  const requests = fs.readFileSync(log, 'utf8').trim().split('\n').slice(before - 1);
  assert.deepEqual(requests.map((l) => l.match(/"GET (\S+)"/)[1]).sort(), ['/index.json', '/index.json.sig']);
  // a wrong upstream key is refused before anything is downloaded
  r = await runMirror(['--repo', down, 'sync', base, '--key', spawnSync(MIRROR, ['--repo', down, 'keys', '--public'], { encoding: 'utf8' }).stdout.trim()]);
  assert.equal(r.code, 1);
  assert.match(r.err, /index signature does not verify with key|names key .* but the pinned key is/);
});

test('sync resumes a partial download and survives kill -9', async () => {
  const upKey = mirror('keys', '--public').stdout.trim();
  const down = path.join(work, 'down2');
  assert.equal(spawnSync(MIRROR, ['init', down, '--no-runtime']).status, 0);
  // an interrupted earlier run left half of six's archive
  const index = JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8'));
  const six = index.packages.six;
  const whole = fs.readFileSync(path.join(repo, 'public', six.file_name));
  fs.mkdirSync(path.join(down, 'store', 'partial'), { recursive: true });
  fs.writeFileSync(path.join(down, 'store', 'partial', `${six.sha256}.part`), whole.subarray(0, whole.length >> 1));
  // kill -9 in the middle of a sync: nothing published, verify is clean
  const child = spawn(MIRROR, ['--repo', down, 'sync', base, '--key', upKey, '--parallel', '1', '--quiet']);
  await new Promise((resolve) => setTimeout(resolve, 150));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(spawnSync(MIRROR, ['--repo', down, 'verify']).status, 0, 'verify after kill -9');
  const r = await runMirror(['--repo', down, 'sync', base, '--key', upKey, '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\(\d+ resumed\)/);
  assert.equal(spawnSync(MIRROR, ['--repo', down, 'verify']).status, 0);
  const copy = fs.readFileSync(path.join(down, 'public', six.file_name));
  assert.ok(copy.equals(whole), 'the resumed archive is whole');
  assert.match(fs.readFileSync(path.join(work, 'access.log'), 'utf8'), new RegExp(`"GET /${six.file_name.replace(/\./g, '\\.')}" 206`));
});

function freePort() {
  return new Promise((resolve) => {
    const srv = require('node:net').createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

test('export served by nginx, used by the loader', async () => {
  const dest = path.join(work, 'nginx-root');
  const exported = mirror('export', dest);
  assert.equal(exported.status, 0, exported.stderr);
  const port = await freePort();
  const conf = path.join(work, 'nginx.conf');
  fs.writeFileSync(conf, `user root;
worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events {}
http {
  types { application/json json; application/zstd zst; text/plain sig; }
  access_log ${work}/nginx-access.log;
  client_body_temp_path ${work}/nginx-tmp;
  server { listen 127.0.0.1:${port}; root ${dest}; }
}
`);
  const nginx = spawn('nginx', ['-c', conf, '-p', work]);
  try {
    for (let i = 0; i < 50 && status(`http://127.0.0.1:${port}/index.json`) !== '200'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const key = mirror('keys', '--public').stdout.trim();
    const r = await run(process.execPath, [path.join(runtime, 'larder-python'), '--index',
      `http://127.0.0.1:${port}/index.json`, '--key', key, '-c', 'import six, json; print(json.dumps(six.__version__))']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '"1.16.0"\n');
    assert.match(fs.readFileSync(path.join(work, 'nginx-access.log'), 'utf8'), /GET \/six-1\.16\.0-0\.tar\.zst/);
  } finally {
    nginx.kill('SIGTERM');
    await new Promise((r) => nginx.on('close', r));
  }
});

test('kill -9 during publish: the catalog and the index stay the old valid ones; a rerun completes', async () => {
  const before = fs.readFileSync(path.join(repo, 'public', 'index.json'));
  const archives = fs.readdirSync(path.join(root, 'build', 'stdlib')).filter((f) => f.endsWith('.tar.zst'))
    .map((f) => path.join(root, 'build', 'stdlib', f));
  const extra = path.join(work, 'republish');
  fs.mkdirSync(extra);
  execFileSync(BUILD, ['dist', '-q', '-o', extra, '--build', '7', 'idna']);
  const all = [...archives, ...fs.readdirSync(extra).filter((f) => f.endsWith('.tar.zst')).map((f) => path.join(extra, f))];
  // a long batch (the list ten times over) so that the kill lands in the middle of it
  const batch = Array(10).fill(all).flat();
  const child = spawn(MIRROR, ['--repo', repo, 'publish', ...batch]);
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGKILL');
  const [, signal] = await new Promise((r) => child.on('close', (...a) => r(a)));
  assert.equal(signal, 'SIGKILL', 'publish was still running when killed');
  assert.ok(fs.readFileSync(path.join(repo, 'public', 'index.json')).equals(before), 'the public index is unchanged');
  assert.equal(mirror('verify').status, 0, 'verify is clean');
  const idna = execFileSync('sqlite3', [path.join(repo, 'catalog.sqlite'), "select count(*) from packages where name='idna'"], { encoding: 'utf8' });
  assert.equal(idna.trim(), '0', 'nothing of the interrupted batch is in the catalog');
  const r = mirror('publish', ...all);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(mirror('sign').status, 0);
  assert.ok(JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8')).packages.idna);
  assert.equal(mirror('verify').status, 0);
});

test('a full disk or a read-only store: a clear error, nothing changed', () => {
  const mnt = path.join(work, 'tiny');
  fs.mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', mnt]);
  try {
    const small = path.join(mnt, 'repo');
    assert.equal(spawnSync(MIRROR, ['init', small, '--no-runtime']).status, 0);
    const big = path.join(corpus, fs.readdirSync(corpus).find((f) => f.startsWith('pyparsing-') && f.endsWith('.tar.zst')));
    const filler = path.join(mnt, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(300 * 1024));  // leave less room than the archive needs
    let r = spawnSync(MIRROR, ['--repo', small, 'publish', big], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /No space left on device/);
    fs.rmSync(filler);
    const count = () => execFileSync('sqlite3', [`file:${path.join(small, 'catalog.sqlite')}?immutable=1`,
      'select count(*) from packages'], { encoding: 'utf8' }).trim();
    assert.equal(count(), '0');
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    r = spawnSync(MIRROR, ['--repo', small, 'publish', big], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Read-only file system|readonly|read-only/i);
    assert.equal(count(), '0');
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('sync --from-lockfile: the pure-Python wheels of a Pyodide-style distribution', async () => {
  const dist = path.join(work, 'pyodide-dist');
  fs.mkdirSync(dist);
  const wheels = ['wheel-0.38.4-py3-none-any.whl', 'setuptools-66.1.1-py3-none-any.whl'];
  const packages = {};
  for (const w of wheels) {
    fs.copyFileSync(path.join('/usr/share/python-wheels', w), path.join(dist, w));
    const [name, version] = w.split('-');
    packages[name] = { name, version, file_name: w, install_dir: 'site', package_type: 'package',
      sha256: crypto.createHash('sha256').update(fs.readFileSync(path.join(dist, w))).digest('hex'),
      imports: [name], depends: [] };
  }
  const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  packages.numpy = { name: 'numpy', version: '1.25.2', file_name: 'numpy-1.25.2-cp311-cp311-emscripten_3_1_45_wasm32.whl',
    install_dir: 'site', sha256: sha, imports: ['numpy'], depends: [], unvendored_tests: true };
  packages['needs-numpy'] = { name: 'needs-numpy', version: '1.0', file_name: 'needs_numpy-1.0-py3-none-any.whl',
    install_dir: 'site', sha256: sha, imports: ['needs_numpy'], depends: ['numpy'] };
  fs.writeFileSync(path.join(dist, 'pyodide-lock.json'), JSON.stringify({
    info: { arch: 'wasm32', platform: 'emscripten_3_1_45', version: '0.24.1', python: '3.11.3' }, packages }));
  const { serve } = require('../lib/static-server');
  const web = await serve({ routes: { '/': dist } });
  const target = path.join(work, 'from-lock');
  assert.equal(spawnSync(MIRROR, ['init', target, '--no-runtime']).status, 0);
  try {
    const r = await runMirror(['--repo', target, 'sync', '--from-lockfile', path.join(dist, 'pyodide-lock.json'),
      '--base-url', `${web.url}/`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /skip needs-numpy 1\.0: needs a package compiled for Pyodide/);
    assert.match(r.out, /skip numpy 1\.25\.2: compiled for Pyodide's runtime/);
    assert.match(r.out, /2 pure-Python wheel\(s\) converted, 2 left out; signed serial 1/);
    const index = JSON.parse(fs.readFileSync(path.join(target, 'public', 'index.json'), 'utf8'));
    assert.deepEqual(Object.keys(index.packages).sort(), ['setuptools', 'wheel']);
    assert.match(index.packages.wheel.file_name, /^wheel-0\.38\.4-0\.tar\.zst$/);
    assert.equal(spawnSync(MIRROR, ['--repo', target, 'verify']).status, 0);
    // a wheel that does not match the lockfile is refused, and nothing is published
    fs.writeFileSync(path.join(dist, 'wheel-0.38.4-py3-none-any.whl'), 'not the wheel');
    const bad = await runMirror(['--repo', target, 'sync', '--from-lockfile', path.join(dist, 'pyodide-lock.json'),
      '--base-url', web.url]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /wheel-0\.38\.4-py3-none-any\.whl: sha256 [0-9a-f]{64}, but the lockfile says/);
  } finally {
    await web.close();
  }
});

test('SIGTERM stops serve cleanly', async () => {
  const { code, signal } = await stop(server);
  server = null;
  assert.equal(signal, null);
  assert.equal(code, 0);
});

/* A repository with the runtime, where publish refused a side module
 * importing what the runtime lacks (sidebad) and took one that imports only
 * what it has (sidegood); the test below checks it as it goes. */
let sideModules;
function sideModuleRepo() {
  const dir = path.join(work, 'side');
  const tree = (name, bytes) => {
    const src = path.join(dir, name);
    fs.mkdirSync(path.join(src, name), { recursive: true });
    fs.writeFileSync(path.join(src, name, '__init__.py'), '');
    new WebAssembly.Module(bytes);  // valid wasm
    fs.writeFileSync(path.join(src, name, '_ext.cpython-311-wasm32-emscripten.so'), bytes);
    execFileSync(BUILD, ['tree', '-q', '-o', dir, '--name', name, '--version', '1.0', src]);
    return path.join(dir, `${name}-1.0-0.tar.zst`);
  };
  // what emscripten's linker provides, what the module defines itself, the C API and libc: fine
  const good = tree('sidegood', sideModule([['env', 'memory', 'memory'], ['env', '__memory_base', 'global'],
    ['env', 'invoke_vii', 'func'], ['env', 'PyFloat_FromDouble', 'func'], ['GOT.mem', 'PyExc_TypeError', 'global'],
    ['env', 'strlen', 'func'], ['GOT.func', 'own_helper', 'global']], ['own_helper']));
  const bad = tree('sidebad', sideModule([['env', 'PyFloat_FromDouble', 'func'], ['env', 'llabs', 'func'],
    ['GOT.mem', 'no_such_table', 'global']]));
  const needs = spawnSync(BUILD, ['needs', good, bad], { encoding: 'utf8' });
  assert.equal(needs.status, 0, needs.stderr);
  assert.equal(needs.stdout, ['PyExc_TypeError', 'PyFloat_FromDouble', 'llabs', 'no_such_table', 'strlen', ''].join('\n'));

  const side = path.join(work, 'side-repo');
  const init = spawnSync(MIRROR, ['init', side, '--runtime', runtime], { encoding: 'utf8' });
  assert.equal(init.status, 0, `the runtime's whole stdlib passes the check: ${init.stderr}`);
  const publish = (...archives) => spawnSync(MIRROR, ['--repo', side, 'publish', ...archives], { encoding: 'utf8' });
  const r = publish(good, bad);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /sidebad-1\.0-0\.tar\.zst: sidebad\/_ext\.cpython-311-wasm32-emscripten\.so imports 2 names that the runtime \S+ does not export: llabs, no_such_table; .*builder\/runtime\/exports\.txt/);
  const list = () => spawnSync(MIRROR, ['--repo', side, 'list'], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(list(), /sidegood|sidebad/, 'all or nothing: the good one is not published either');
  assert.equal(publish(good).status, 0);
  assert.match(list(), /^sidegood +1\.0 /m);
  return { side, good, bad, list };
}

test('publish refuses a side module that imports what the runtime does not export, and names it', () => {
  sideModules = sideModuleRepo();
});

test('sync refuses what does not load in the runtime, as publish does; nothing published', async () => {
  const { side, bad, list } = sideModules;
  // an upstream without a runtime publishes what the runtime-checked mirror would refuse
  const up = path.join(work, 'side-up');
  assert.equal(spawnSync(MIRROR, ['init', up, '--no-runtime']).status, 0);
  assert.equal(spawnSync(MIRROR, ['--repo', up, 'publish', bad]).status, 0);
  assert.equal(spawnSync(MIRROR, ['--repo', up, 'sign']).status, 0);
  const upServer = await startServe(up);
  try {
    const upKey = spawnSync(MIRROR, ['--repo', up, 'keys', '--public'], { encoding: 'utf8' }).stdout.trim();
    const index = path.join(side, 'public', 'index.json');
    const signed = () => (fs.existsSync(index) ? fs.readFileSync(index, 'utf8') : null);
    const before = [list(), signed()];
    const r = await runMirror(['--repo', side, 'sync', upServer.url, '--key', upKey, '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.err, /sync refused, nothing published: upstream's sidebad 1\.0 does not load in this mirror's runtime \(\S+\); .*: sidebad\/_ext\.cpython-311-wasm32-emscripten\.so imports 2 names that the runtime \S+ does not export: llabs, no_such_table;/);
    assert.deepEqual([list(), signed()], before, 'the catalog and the public index as they were');
  } finally {
    await stop(upServer);
  }
});
