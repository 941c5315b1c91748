/*
 * add.test.js - a private mirror grown from PyPI by name: `larder-mirror
 * init` (the runtime's stdlib published), `add` of a dozen popular
 * pure-Python projects and their dependencies (real PyPI; downloads kept in
 * ~/.cache/larder/pypi), `sign`, `serve` on 127.0.0.1, and each project doing
 * real work in larder-python --index from an empty cache. Also: a project
 * published only as an sdist, one with extension modules cross-compiled
 * from its sdist, a project with only native wheels (refused,
 * repository unchanged), --dry-run, a conflict, remove and list, the
 * messages of imports no package provides, and tokens end to end.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bin, root, runtime } = require('../lib/paths');
const { run } = require('../lib/run');

const MIRROR = path.join(bin, 'larder-mirror');
const PYTHON = path.join(runtime, 'larder-python');
const REQS = path.join(__dirname, 'add', 'requirements.txt');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-add-test-'));
const repo = path.join(work, 'repo');
const N_STDLIB = fs.readdirSync(path.join(root, 'build', 'stdlib')).filter((f) => f.endsWith('.tar.zst')).length;

const mirror = (dir, ...args) => spawnSync(MIRROR, ['--repo', dir, ...args], { encoding: 'utf8', timeout: 600000 });
const count = (dir) => mirror(dir, 'list').stdout.trim().split('\n').length - 2;

const { start: startServe, stop } = require('../lib/mirror-serve');

const key = (dir) => mirror(dir, 'keys', '--public').stdout.trim();
const python = (s, dir, args, env) => run(PYTHON, ['--index', `${s.url}/index.json`, '--key', key(dir), ...args],
  { env, timeoutMs: 300000 });
let server;
/* Serve the repository as it is now (a new serve reads the new index) and
 * run `python -c code` against it. */
async function reserve(code) {
  await stop(server);
  server = await startServe(repo);
  return python(server, repo, ['-c', code]);
}

test.after(() => fs.rmSync(work, { recursive: true, force: true }));

test('init publishes the runtime\'s stdlib and records the runtime', () => {
  const r = spawnSync(MIRROR, ['init', repo], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`published the runtime's stdlib: ${N_STDLIB} package\\(s\\)`));
  assert.equal(count(repo), N_STDLIB);
  const conf = fs.readFileSync(path.join(repo, 'larder-mirror.conf'), 'utf8');
  assert.match(conf, new RegExp(`^runtime = ${fs.realpathSync(runtime)}$`, 'm'));
});

test('add --dry-run prints the resolution and changes nothing', () => {
  const r = mirror(repo, 'add', '--dry-run', '-r', REQS);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], 'add: would add 19 project(s):');
  const rows = lines.slice(1).map((l) => l.trim().split(/\s+/));
  const pins = ['add/requirements.txt', 'add/deps.txt'].flatMap((f) => fs.readFileSync(path.join(__dirname, f), 'utf8')
    .split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l && !l.startsWith('-')));
  assert.deepEqual(rows.map((c) => `${c[0]}==${c[1]}`).sort(), pins.sort());
  assert.ok(rows.every((c) => /\.whl$/.test(c[2]) && /^[\d.]+$/.test(c[3]) && /^(kB|MB)$/.test(c[4])), r.stdout);
  assert.equal(count(repo), N_STDLIB);
});

test('a conflict names both requirements and who asked for them', () => {
  const r = mirror(repo, 'add', '--dry-run', 'rich==15.0.0', 'pygments<2.13');
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), 'larder-mirror: conflicting requirements: pygments>=2.13.0,<3.0.0 (asked by rich '
    + '15.0.0) and pygments<2.13 (asked by the command line): no release of pygments satisfies both');
});

test('a project with only native wheels is refused and the repository stays as it was', () => {
  const r = mirror(repo, 'add', 'onnxruntime');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /onnxruntime [\d.]+ has only wheels built for other platforms \(cp311-cp311-/);
  assert.match(r.stderr, /cross-compile it for wasm with a recipe/);
  assert.equal(count(repo), N_STDLIB);
  assert.equal(mirror(repo, 'verify').status, 0);
});

test('an index that speaks only the PEP 503 HTML form: relative links, Requires-Python, yanked files', async () => {
  const files = path.join(work, 'html-index', 'files');
  const page = path.join(work, 'html-index', 'page');
  fs.mkdirSync(files, { recursive: true });
  fs.mkdirSync(page);
  const wheel = 'larder_demo-1.2.3-py3-none-any.whl';
  spawnSync('/usr/bin/python3.11', [path.join(__dirname, 'make_wheel.py'), path.join(files, wheel), 'good']);
  const sha = require('node:crypto').createHash('sha256').update(fs.readFileSync(path.join(files, wheel))).digest('hex');
  // 1.5.0 is yanked and 2.0.0 needs a newer Python: neither may be chosen (nor fetched: they do not exist)
  fs.writeFileSync(path.join(page, 'index.html'), `<!DOCTYPE html><html><body>
<a href="../../files/${wheel}#sha256=${sha}" data-requires-python="&gt;=3.7">${wheel}</a>
<a href="../../files/larder_demo-1.5.0-py3-none-any.whl#sha256=${'0'.repeat(64)}" data-yanked="">x</a>
<a href="../../files/larder_demo-2.0.0-py3-none-any.whl#sha256=${'1'.repeat(64)}" data-requires-python="&gt;=3.12">y</a>
</body></html>`);
  const { serve } = require('../lib/static-server');
  const web = await serve({ routes: { '/simple/larder-demo/': page, '/files/': files } });
  const bare = path.join(work, 'bare');
  try {
    assert.equal(spawnSync(MIRROR, ['init', bare, '--no-runtime']).status, 0);
    // asynchronously: the index is served from this process
    const r = await run(MIRROR, ['--repo', bare, 'add', '--no-deps', '--index-url', `${web.url}/simple/`, 'larder-demo']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ {2}larder-demo\s+1\.2\.3\s+larder_demo-1\.2\.3-py3-none-any\.whl\s+-$/m);
    assert.match(r.out, /add: 1 package\(s\) published, 0 already there/);
    assert.match(mirror(bare, 'list').stdout, /^larder-demo\s+1\.2\.3\s+\d+\s+-$/m);
    assert.deepEqual(web.log.filter((l) => /1\.5\.0|2\.0\.0/.test(l)), [], 'the excluded files are not fetched');
  } finally {
    await web.close();
  }
});

/* sympy's answer on the host: Debian's python3.11 running the wheels add
 * downloaded (kept in the cache by sha256). */
function hostSympy() {
  const files = path.join(process.env.LARDER_CACHE || path.join(os.homedir(), '.cache', 'larder'), 'pypi', 'files');
  const wheel = (name) => fs.readdirSync(files).map((d) => path.join(files, d, name)).find((f) => fs.existsSync(f));
  const r = spawnSync('/usr/bin/python3.11', ['-c',
    'import sympy\nx = sympy.Symbol("x")\nprint(sympy.integrate(sympy.sin(x) ** 2, x))'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, PYTHONPATH: [wheel('sympy-1.14.0-py3-none-any.whl'), wheel('mpmath-1.3.0-py3-none-any.whl')].join(':') },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('add of a dozen projects from PyPI, sign, serve: each does real work in wasm from an empty cache', async () => {
  const r = mirror(repo, 'add', '-r', REQS, '--sign');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /add: 19 package\(s\) published, 0 already there; signed index serial 1/);
  assert.equal(count(repo), N_STDLIB + 19);
  // the stdlib modules a package imports are its dependencies
  const rich = JSON.parse(fs.readFileSync(path.join(repo, 'public', 'index.json'), 'utf8')).packages.rich;
  assert.ok(rich.depends.includes('markdown-it-py') && rich.depends.includes('pygments'), rich.depends);
  assert.ok(rich.depends.includes('typing'), `rich imports typing: ${rich.depends}`);
  server = await startServe(repo);
  const res = await python(server, repo, [path.join(__dirname, 'add', 'work.py')]);
  assert.equal(res.code, 0, res.err);
  assert.deepEqual(res.out.trim().split('\n'), [
    'rich True',
    'networkx [1, 4, 5] 3',
    "beautifulsoup4 ['x', 'y'] x",
    'click 42',
    'jsonschema minimum 0',
    'pygments 1',
    'python-dateutil 2027-03-02',
    'pytz 2:00:00',
    'tzdata 9:00:00',
    "attrs P(x=1, y=0) {'x': 2, 'y': 3}",
    'packaging True True',
    "pyparsing ['12', '+', '30']",
    `sympy ${hostSympy()}`,
  ]);
});

test('an import no package provides says so, and what to do', async () => {
  const code = 'import importlib.util\nprint(importlib.util.find_spec("pandas"))\n'
    + 'for m in ("pandas", "curses"):\n    try:\n        __import__(m)\n'
    + '    except ModuleNotFoundError as e:\n        print(type(e).__name__, e.name, e)\n';
  const res = await python(server, repo, ['-c', code]);
  assert.equal(res.code, 0, res.err);
  const lines = res.out.trim().split('\n');
  assert.equal(lines[0], 'None', 'importlib.util.find_spec still answers None');
  assert.equal(lines[1], `ModuleNotFoundError pandas No module named 'pandas' (no package in the index at `
    + `${server.url}/index.json provides it; the mirror's operator can add it with \`larder-mirror add pandas\`)`);
  assert.equal(lines[2], "ModuleNotFoundError curses No module named 'curses' (a standard library module this "
    + 'runtime cannot have: it needs a terminal, which a browser has not)');
});

test('a pure-Python project published only as an sdist is built, added and imported', async () => {
  const r = mirror(repo, 'add', 'docopt==0.6.2', '--sign');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /docopt\s+0\.6\.2\s+docopt-0\.6\.2\.tar\.gz/);
  const res = await reserve('import docopt; print(docopt.docopt("usage: prog [--fast] FILE", argv=["--fast", "a.txt"]))');
  assert.equal(res.code, 0, res.err);
  assert.equal(res.out.trim(), "{'--fast': True,\n 'FILE': 'a.txt'}");
});

test('a project with extension modules and no pure-Python wheel is cross-compiled from its sdist', async () => {
  const before = count(repo);
  const refused = mirror(repo, 'add', '--no-build', 'bitarray==3.9.2');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /bitarray 3\.9\.2: its sdist builds extension modules \(bitarray-3\.9\.2-cp311-cp311-linux_x86_64\.whl\), the package index has no pure-Python wheel, and --no-build forbids cross-compiling it/);
  assert.equal(count(repo), before);
  const r = mirror(repo, 'add', 'bitarray==3.9.2', '--sign');
  assert.equal(r.status, 0, r.stderr);
  // built now, or found built by an earlier run (cached under the toolchain's key)
  assert.match(r.stdout, /add: (cross-compiling bitarray 3\.9\.2 for wasm: its sdist builds extension modules|bitarray 3\.9\.2 for wasm cross-compiled before \(its sdist builds extension modules)/);
  assert.equal(count(repo), before + 1);
  const res = await reserve(
    'import sys, bitarray; a = bitarray.bitarray("10110"); print(a.count(1), sys.modules["bitarray._bitarray"].__file__.endswith(".so"))');
  assert.equal(res.code, 0, res.err);
  assert.equal(res.out.trim(), '3 True');
});

test('remove refuses what others need; --cascade removes them too; list shows dependents', () => {
  const listing = mirror(repo, 'list').stdout;
  assert.match(listing, /^markdown-it-py\s+4\.3\.0\s+\d+\s+rich$/m);
  assert.match(listing, /^mdurl\s+0\.1\.2\s+\d+\s+markdown-it-py$/m);
  let r = mirror(repo, 'remove', 'mdurl');
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), 'larder-mirror: remove: mdurl is needed by markdown-it-py; remove that too, or give '
    + '--cascade to remove everything that needs it');
  assert.equal(count(repo), N_STDLIB + 21);
  r = mirror(repo, 'remove', 'mdurl', '--cascade');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['removed markdown-it-py 4.3.0', 'removed mdurl 0.1.2',
    'removed rich 15.0.0', 'larder-mirror: run `larder-mirror sign` to publish the change']);
  assert.equal(count(repo), N_STDLIB + 18);
  r = mirror(repo, 'remove', 'no-such-thing');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no package named 'no-such-thing' in the repository/);
});

test('init + add six + sign serves six, json and decimal with no other step', async () => {
  const fresh = path.join(work, 'fresh');
  assert.equal(spawnSync(MIRROR, ['init', fresh]).status, 0);
  const r = mirror(fresh, 'add', 'six==1.17.0');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(mirror(fresh, 'sign').status, 0);
  const s = await startServe(fresh);
  try {
    const res = await python(s, fresh, ['-c', 'import six, json, decimal; print(six.__version__, '
      + 'json.dumps([1]), decimal.Decimal("0.1") + decimal.Decimal("0.2"))']);
    assert.equal(res.code, 0, res.err);
    assert.equal(res.out.trim(), '1.17.0 [1] 0.3');
  } finally {
    await stop(s);
  }
});

test('tokens: a private mirror refuses requests without one and serves larder-python with one', async () => {
  await stop(server);
  let r = mirror(repo, 'tokens', 'add', '--name', 'ci');
  assert.equal(r.status, 0, r.stderr);
  const token = r.stdout.trim();
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.match(mirror(repo, 'tokens', 'list').stdout, /^ci\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+[0-9a-f]{16}\.\.\.$/m);
  assert.ok(!fs.readFileSync(path.join(repo, 'catalog.sqlite')).includes(token), 'the token itself is not stored');
  server = await startServe(repo);
  const status = (url, ...h) => spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...h, url],
    { encoding: 'utf8' }).stdout;
  assert.equal(status(`${server.url}/index.json`), '401');
  assert.equal(status(`${server.url}/index.json`, '-H', 'Authorization: Bearer wrong'), '401');
  assert.equal(status(`${server.url}/index.json`, '-H', `Authorization: Bearer ${token}`), '200');
  assert.equal(status(`${server.url}/runtime/larder.js`), '200', 'the runtime stays public');
  const code = ['-c', 'import pyparsing; print(pyparsing.__version__)'];
  let res = await python(server, repo, code);
  assert.notEqual(res.code, 0);
  assert.match(res.err, /HTTP 401/);
  res = await python(server, repo, ['--token', token, ...code]);
  assert.equal(res.code, 0, res.err);
  assert.equal(res.out.trim(), '3.3.3');
  res = await python(server, repo, code, { LARDER_TOKEN: token });
  assert.equal(res.code, 0, res.err);
  assert.equal(res.out.trim(), '3.3.3');
  await stop(server);
  r = mirror(repo, 'tokens', 'revoke', 'ci');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(mirror(repo, 'tokens', 'revoke', 'ci').status, 1);
});

test('serve refuses to start on a malformed token_sha256 entry', async () => {
  fs.appendFileSync(path.join(repo, 'larder-mirror.conf'), 'token_sha256 = sha256:abcdef\n');
  await assert.rejects(startServe(repo), (e) => {
    assert.equal(e.code, 1);
    assert.match(e.message, /token_sha256 entry 'sha256:abcdef' is not a sha256 in hex \(64 digits\); not serving/);
    return true;
  });
});
