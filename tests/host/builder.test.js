/*
 * builder.test.js - larder-build on real wheels (Debian's python3-*-whl), on
 * Debian's installed pure-Python packages, and on bad input.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bin, root } = require('../lib/paths');

const BUILD = path.join(bin, 'larder-build');
const WHEELS = '/usr/share/python-wheels';
const CORPUS = ['six', 'python-dateutil', 'pyparsing', 'cycler', 'packaging', 'fonttools', 'idna', 'attrs'];

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'larder-build-test-'));
}

function larderBuild(args) {
  const r = spawnSync(BUILD, args, { encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function makeWheel(dir, kind) {
  const file = path.join(dir, `larder_demo-1.2.3-py3-none-any-${kind}.whl`);
  execFileSync('python3', [path.join(__dirname, 'make_wheel.py'), file, kind]);
  return file;
}

const tarList = (file) => execFileSync('tar', ['--zstd', '-tvf', file], { encoding: 'utf8' }).trim().split('\n');
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('Debian\'s pip, setuptools and wheel wheels convert, with correct entries', () => {
  const out = tmpdir();
  const wheels = fs.readdirSync(WHEELS).filter((f) => /^(pip|setuptools|wheel)-.*\.whl$/.test(f));
  assert.equal(wheels.length, 3, `wheels in ${WHEELS}: ${wheels}`);
  const r = larderBuild(['wheel', '-o', out, ...wheels.map((w) => path.join(WHEELS, w))]);
  assert.equal(r.code, 0, r.err);
  for (const w of wheels) {
    const [name, version] = w.split('-');
    const entry = JSON.parse(fs.readFileSync(path.join(out, `${name}-${version}-0.json`), 'utf8'));
    const archive = path.join(out, entry.file_name);
    assert.equal(entry.name, name);
    assert.equal(entry.version, version);
    assert.equal(entry.file_name, `${name}-${version}-0.tar.zst`);
    assert.equal(entry.sha256, sha256(archive), 'entry sha256 is the archive\'s');
    assert.equal(entry.size, fs.statSync(archive).size);
    assert.equal(entry.package_type, 'package');
    assert.equal(entry.install_dir, 'site');
    assert.ok(entry.imports.includes(name === 'setuptools' ? 'setuptools' : name), entry.imports);
    const list = tarList(archive);
    assert.ok(list.every((l) => /^(-rw-r--r--|-rwxr-xr-x|drwxr-xr-x) 0\/0 .* 1970-01-01 00:00 /.test(l)),
      'modes 0644/0755, owner 0/0, mtime 0');
    assert.ok(!list.some((l) => l.endsWith('.py')), 'sources replaced by .pyc');
    assert.ok(list.some((l) => l.endsWith(`${name}/__init__.pyc`)));
    assert.ok(!list.some((l) => /RECORD$/.test(l)), 'the stale RECORD is dropped');
  }
  const pipSize = fs.statSync(path.join(out, 'pip-23.0.1-0.tar.zst')).size;
  assert.ok(pipSize < fs.statSync(path.join(WHEELS, 'pip-23.0.1-py3-none-any.whl')).size, 'smaller than the wheel');
  fs.rmSync(out, { recursive: true });
});

test('archives are byte-identical when rebuilt', () => {
  const a = tmpdir();
  const b = tmpdir();
  const wheel = path.join(WHEELS, 'wheel-0.38.4-py3-none-any.whl');
  assert.equal(larderBuild(['wheel', '-q', '-o', a, wheel]).code, 0);
  assert.equal(larderBuild(['wheel', '-q', '-o', b, wheel]).code, 0);
  assert.equal(larderBuild(['dist', '-q', '-o', a, 'six']).code, 0);
  assert.equal(larderBuild(['dist', '-q', '-o', b, 'six']).code, 0);
  for (const f of fs.readdirSync(a)) {
    assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs`);
  }
  assert.equal(fs.readdirSync(a).length, 4);
  fs.rmSync(a, { recursive: true });
  fs.rmSync(b, { recursive: true });
});

test('the Debian corpus of installed pure-Python packages converts', () => {
  const out = tmpdir();
  const r = larderBuild(['dist', '-o', out, ...CORPUS]);
  assert.equal(r.code, 0, r.err);
  const entries = Object.fromEntries(fs.readdirSync(out).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(out, f), 'utf8'))).map((e) => [e.name, e]));
  assert.deepEqual(Object.keys(entries).sort(), [...CORPUS].sort());
  assert.deepEqual(entries['python-dateutil'].imports, ['dateutil']);
  assert.deepEqual(entries.fonttools.imports, ['fontTools']);
  assert.deepEqual(entries.attrs.imports, ['attr', 'attrs']);
  assert.deepEqual(entries.six.imports, ['six']);
  // fonttools' host-native speedups are left out, their pure-Python twins kept
  assert.match(r.err, /fonttools: left out 4 host-native extension module/);
  const fontList = tarList(path.join(out, entries.fonttools.file_name));
  assert.ok(!fontList.some((l) => l.endsWith('.so')));
  assert.ok(fontList.some((l) => l.endsWith('fontTools/cu2qu/cu2qu.pyc')));
  // importlib.metadata keeps working: the egg-info/dist-info travels along
  assert.ok(tarList(path.join(out, entries.six.file_name)).some((l) => l.endsWith('six-1.16.0.egg-info/PKG-INFO')));
  fs.rmSync(out, { recursive: true });
});

test('requirements: markers evaluated for emscripten/wasm32/3.11, extras only when asked', () => {
  const dir = tmpdir();
  const wheel = makeWheel(dir, 'good');
  let r = larderBuild(['wheel', '-o', dir, wheel]);
  assert.equal(r.code, 0, r.err);
  let entry = JSON.parse(fs.readFileSync(path.join(dir, 'larder_demo-1.2.3-0.json'), 'utf8'));
  assert.deepEqual(entry.depends, ['six', 'attrs']);
  assert.deepEqual(entry.imports, ['larder_demo']);
  r = larderBuild(['wheel', '-o', dir, '--extra', 'plot', '--build', '7', wheel]);
  assert.equal(r.code, 0, r.err);
  entry = JSON.parse(fs.readFileSync(path.join(dir, 'larder_demo-1.2.3-7.json'), 'utf8'));
  assert.deepEqual(entry.depends, ['six', 'attrs', 'pyparsing', 'cycler']);
  r = larderBuild(['dist', '-o', dir, '--depends', 'six', '--depends', 'Six', 'python-dateutil']);
  assert.equal(r.code, 0, r.err);
  entry = JSON.parse(fs.readFileSync(path.join(dir, 'python_dateutil-2.8.2-0.json'), 'utf8'));
  assert.deepEqual(entry.depends, ['six'], 'Debian dropped six from requires.txt; --depends restores it once');
  fs.rmSync(dir, { recursive: true });
});

test('--keep-sources keeps .py and puts .pyc in __pycache__', () => {
  const dir = tmpdir();
  const r = larderBuild(['wheel', '-o', dir, '--keep-sources', makeWheel(dir, 'good')]);
  assert.equal(r.code, 0, r.err);
  const list = tarList(path.join(dir, 'larder_demo-1.2.3-0.tar.zst')).map((l) => l.split(' ').pop());
  assert.ok(list.includes('larder_demo/core.py'));
  assert.ok(list.includes('larder_demo/__pycache__/core.cpython-311.pyc'));
  fs.rmSync(dir, { recursive: true });
});

const BAD = [
  ['corrupt', (dir) => { const f = path.join(dir, 'x-1-py3-none-any.whl'); fs.writeFileSync(f, crypto.randomBytes(5000)); return f; }, /not a readable zip|corrupt/],
  ['truncated', (dir) => { const f = makeWheel(dir, 'good'); const d = fs.readFileSync(f); fs.writeFileSync(f, d.subarray(0, d.length - 300)); return f; }, /not a readable zip|corrupt or truncated/],
  ['tampered', (dir) => makeWheel(dir, 'tampered'), /core\.py does not match its RECORD hash/],
  ['unlisted', (dir) => makeWheel(dir, 'unlisted'), /sneaky\.py is not listed in RECORD/],
  ['no-metadata', (dir) => makeWheel(dir, 'no-metadata'), /no \.dist-info\/METADATA/],
  ['traversal', (dir) => makeWheel(dir, 'traversal'), /unsafe path "\.\.\/evil\.py"/],
  ['absolute', (dir) => makeWheel(dir, 'absolute'), /unsafe path "\/etc\/evil\.py"/],
  ['symlink', (dir) => makeWheel(dir, 'symlink'), /link\.py is a symbolic link/],
  ['native', (dir) => makeWheel(dir, 'native'), /built for another platform \(tag cp311-cp311-manylinux_2_17_x86_64\)/],
  ['big', (dir) => makeWheel(dir, 'big'), /big\.bin is 2000000 bytes, over the per-file limit of 1000000/],
  ['syntax', (dir) => makeWheel(dir, 'syntax'), /broken\.py: does not compile with Python 3\.11/],
];

for (const [kind, make, message] of BAD) {
  test(`a bad wheel (${kind}) is refused with a clear error and no output`, () => {
    const src = tmpdir();
    const out = tmpdir();
    const wheel = make(src);
    const r = larderBuild(['wheel', '-o', out, '--max-file-size', '1000000', wheel]);
    assert.equal(r.code, 1);
    assert.match(r.err, message);
    assert.deepEqual(fs.readdirSync(out), [], 'nothing written');
    fs.rmSync(src, { recursive: true });
    fs.rmSync(out, { recursive: true });
  });
}

test('--stdlib: the stdlib packages a package imports at module level become its dependencies', () => {
  const out = tmpdir();
  const stdlib = path.join(root, 'build', 'stdlib');
  let r = larderBuild(['dist', '-q', '-o', out, '--stdlib', stdlib, 'pyparsing', 'six']);
  assert.equal(r.code, 0, r.err);
  const entry = (name) => JSON.parse(fs.readFileSync(path.join(out, fs.readdirSync(out).find((f) => f.startsWith(`${name}-`) && f.endsWith('.json'))), 'utf8'));
  const stdlibNames = new Set(fs.readdirSync(stdlib).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(stdlib, f), 'utf8')).name));
  const p = entry('pyparsing').depends;
  // pyparsing/__init__ imports pyparsing.core, which imports these at module level
  for (const name of ['re', 'typing', 'copy', 'string', 'warnings']) assert.ok(p.includes(name), `${name} in ${p}`);
  assert.ok(p.every((d) => stdlibNames.has(d)), `only stdlib packages: ${p}`);
  assert.deepEqual([...p].sort(), p, 'in a stable order');
  for (const core of ['os', 'sys', 'encodings', 'pyparsing']) assert.ok(!p.includes(core), `not ${core}`);
  // without --stdlib nothing is added
  r = larderBuild(['dist', '-q', '-o', out, 'pyparsing']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(entry('pyparsing').depends, []);
  r = larderBuild(['dist', '-q', '-o', out, '--stdlib', out, 'six']);
  assert.equal(r.code, 1);
  assert.match(r.err, /--stdlib .*: no cpython_module entries there \(give the output directory of larder-build stdlib\)/);
});

test('--stdlib: what importing each submodule adds is written into the package (.larder-imports)', () => {
  const out = tmpdir();
  const r = larderBuild(['dist', '-q', '-o', out, '--stdlib', path.join(root, 'build', 'stdlib'), 'python-dateutil']);
  assert.equal(r.code, 0, r.err);
  const archive = path.join(out, fs.readdirSync(out).find((f) => f.endsWith('.tar.zst')));
  const files = execFileSync('sh', ['-c', `zstd -dcq "${archive}" | tar -t`], { encoding: 'utf8' }).split('\n');
  assert.deepEqual(files.filter((f) => f.endsWith('.larder-imports')), ['dateutil/.larder-imports']);
  const lines = execFileSync('sh', ['-c', `zstd -dcq "${archive}" | tar -xO dateutil/.larder-imports`], { encoding: 'utf8' })
    .trim().split('\n');
  // dateutil/__init__ imports nothing at module level, so its submodules list
  // every stdlib package they bring, by package name; sorted by module
  assert.equal(lines.length, 15);
  assert.deepEqual(lines.map((l) => l.split(' ')[0]), [...lines.map((l) => l.split(' ')[0])].sort());
  assert.ok(lines.includes('dateutil.easter datetime'), lines[0]);
  assert.ok(lines.includes('dateutil.rrule calendar datetime functools heapq math re warnings'));
  // "from __future__ import x" imports __future__ when it runs
  assert.ok(lines.includes('dateutil.utils __future__ datetime'));
  fs.rmSync(out, { recursive: true });
});

test('usage errors exit 2; an unknown distribution exits 1 and names it', () => {
  assert.equal(larderBuild([]).code, 2);
  assert.equal(larderBuild(['frobnicate', 'x']).code, 2);
  assert.equal(larderBuild(['wheel']).code, 2);
  assert.equal(larderBuild(['wheel', '-o', '/nonexistent/dir', 'x.whl']).code, 2);
  const r = larderBuild(['dist', '-o', os.tmpdir(), 'no-such-project-here']);
  assert.equal(r.code, 1);
  assert.match(r.err, /no installed distribution named 'no-such-project-here'/);
  assert.match(larderBuild(['--help']).out, /larder-build wheel/);
});
