/*
 * stdlib.test.js - the stdlib split in build/stdlib: one cpython_module
 * package per top-level module outside the core, side modules inside the
 * packages that import them, dependencies that resolve.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { root, runtime } = require('../lib/paths');

const STDLIB = path.join(root, 'build', 'stdlib');
const entries = Object.fromEntries(fs.readdirSync(STDLIB).filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(STDLIB, f), 'utf8'))).map((e) => [e.name, e]));
const list = (name) => execFileSync('tar', ['--zstd', '-tf', path.join(STDLIB, entries[name].file_name)],
  { encoding: 'utf8' }).trim().split('\n');

test('every top-level stdlib module outside the core is a cpython_module package', () => {
  assert.ok(Object.keys(entries).length > 150, `${Object.keys(entries).length} packages`);
  for (const e of Object.values(entries)) {
    assert.equal(e.package_type, 'cpython_module', e.name);
    assert.equal(e.install_dir, 'stdlib', e.name);
    assert.equal(e.version, '3.11.2');
    assert.equal(e.imports[0], e.name, 'a stdlib package is named after its module');
  }
  for (const name of ['json', 'asyncio', 'sqlite3', 'decimal', 'xml', 'email', 'collections', 'typing', 're',
    'unittest', 'sysconfig', 'encodings']) {
    assert.ok(entries[name], `${name} is a package`);
  }
  // frozen modules and GUI/test packages are not
  for (const name of ['os', 'site', 'codecs', 'io', 'abc', 'stat', 'posixpath', 'test', 'tkinter', 'idlelib']) {
    assert.equal(entries[name], undefined, `${name} should not be a package`);
  }
});

test('side modules travel in the packages that import them', () => {
  const so = (name) => list(name).filter((f) => f.endsWith('.so')).map((f) => f.split('/').pop().split('.')[0]).sort();
  assert.deepEqual(so('decimal'), ['_decimal']);
  assert.deepEqual(so('sqlite3'), ['_sqlite3']);
  assert.deepEqual(so('xml'), ['_elementtree', 'pyexpat']);
  assert.deepEqual(so('lzma'), ['_lzma']);
  assert.deepEqual(so('bz2'), ['_bz2']);
  assert.deepEqual(so('unicodedata'), ['unicodedata']);
  // the CJK codecs, each a package of its own: a codec such as cp437 does not bring them
  assert.deepEqual(so('encodings'), []);
  for (const name of ['_codecs_cn', '_codecs_hk', '_codecs_iso2022', '_codecs_jp', '_codecs_kr', '_codecs_tw',
    '_multibytecodec']) {
    assert.deepEqual(so(name), [name]);
    assert.deepEqual([entries[name].imports, entries[name].depends], [[name], []]);
  }
  assert.deepEqual(entries.decimal.imports, ['decimal', '_decimal']);
  assert.ok(list('sqlite3').includes('lib-dynload/_sqlite3.cpython-311-wasm32-emscripten.so'));
});

test('the core bundle and the packages do not overlap; sources are compiled', () => {
  const core = execFileSync('python3', ['-c',
    'import zipfile,sys; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))',
    path.join(runtime, 'python311.zip')], { encoding: 'utf8' }).trim().split('\n');
  const enc = list('encodings');
  for (const f of core) assert.ok(!enc.includes(f), `${f} is in the core and in encodings`);
  assert.ok(enc.includes('encodings/cp1252.pyc'));
  assert.ok(!list('json').some((f) => f.endsWith('.py')));
  assert.ok(list('sysconfig').includes('_sysconfigdata__emscripten_wasm32-emscripten.pyc'));
});

test('module-level dependencies: found statically, closed under resolution', () => {
  assert.deepEqual(entries.json.depends, ['re']);
  assert.ok(entries.typing.depends.includes('collections'));
  assert.ok(!entries.pickle.depends.includes('argparse'), 'imports under if __name__ == "__main__" are skipped');
  assert.deepEqual(entries.decimal.depends, [], 'the _pydecimal fallback is not a dependency');
  // every dependency is a package, so the whole index resolves: check with the
  // index library itself, in the wasm runtime
  const index = { info: { serial: 1 }, packages: entries };
  const file = path.join(root, 'build', 'stdlib-index.json');
  fs.writeFileSync(file, JSON.stringify(index));
  const r = spawnSync(process.execPath, [path.join(runtime, 'larder-python'), '--core-only', '-c', `
import _larder
index = _larder.Index(open('build/stdlib-index.json', 'rb').read(), allow_unsigned=True)
print(len(index.resolve(index.names())) == len(index), index.resolve(['json']), index.provider('_sqlite3'))
`], { encoding: 'utf8', cwd: root });
  fs.rmSync(file);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^True \[.*'re', 'json'\] sqlite3\n$/);
});
