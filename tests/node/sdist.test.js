/*
 * sdist.test.js - `larder-build sdist`, the generic cross-build with no
 * recipe: two small C-extension projects from PyPI by name (bitarray 3.9.2,
 * plain C; simplejson 3.20.2, whose C speedups are optional and fall back
 * to pure Python silently when they do not compile), pinned by sha256,
 * built, imported in wasm from an empty cache with their compiled modules
 * in use; and the refusals: a wrong pin, a backend it cannot drive, a build
 * that fell back to pure Python, no cross toolchain.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bin, root, runtime } = require('../lib/paths');
const { serve } = require('../lib/static-server');
const { makeKey, readEntries, writeRepo } = require('../lib/repo');
const { run } = require('../lib/run');

const BUILD = path.join(bin, 'larder-build');
const PINS = {
  'bitarray==3.9.2': '37342f81c8f8e10ee5d1e23d5eda2e8dbd9d8d3a9d90e8285181fad57f21cdc1',
  'simplejson==3.20.2': '5fe7a6ce14d1c300d80d08695b7f7e633de6cd72c80644021874d985b3393649',
};
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-sdist-'));
const out = path.join(work, 'out');
fs.mkdirSync(out);

const build = (args, env = {}) => spawnSync(BUILD, ['sdist', '--stdlib', path.join(root, 'build', 'stdlib'), ...args],
  { encoding: 'utf8', timeout: 900000, env: { ...process.env, ...env } });

/* A local sdist: files {path: text} under NAME-1.0/, as a .tar.gz. */
function sdist(name, files) {
  const dir = path.join(work, 'src', `${name}-1.0`);
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  const file = path.join(work, `${name}-1.0.tar.gz`);
  const r = spawnSync('tar', ['-czf', file, '-C', path.dirname(dir), path.basename(dir)]);
  assert.equal(r.status, 0);
  return file;
}

test.after(() => fs.rmSync(work, { recursive: true, force: true }));

test('two C-extension projects by name, no recipe: built, imported in wasm, compiled modules in use', async (t) => {
  for (const [spec, sha] of Object.entries(PINS)) {
    const r = build(['-o', out, '--sha256', sha, spec]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${spec.replace('==', ' ')}: .*-0\\.tar\\.zst \\(\\d+ bytes`));
  }
  const entries = readEntries(out);
  assert.deepEqual(Object.keys(entries).sort(), ['bitarray', 'simplejson']);
  const so = (e) => spawnSync('tar', ['--zstd', '-tf', path.join(out, e.file_name)], { encoding: 'utf8' })
    .stdout.split('\n').filter((f) => f.endsWith('.so'));
  assert.deepEqual(so(entries.bitarray), ['bitarray/_bitarray.cpython-311-wasm32-emscripten.so',
    'bitarray/_util.cpython-311-wasm32-emscripten.so']);
  assert.deepEqual(so(entries.simplejson), ['simplejson/_speedups.cpython-311-wasm32-emscripten.so']);

  const key = makeKey();
  writeRepo(path.join(work, 'repo'), readEntries(path.join(root, 'build', 'stdlib'), out), { key, serial: 1 });
  const server = await serve({ routes: { '/': path.join(work, 'repo') } });
  try {
    const r = await run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${server.url}/index.json`,
      '--key', key.text, '-c', `
import sys, bitarray, bitarray.util, simplejson, simplejson.encoder
a = bitarray.bitarray("1101") + bitarray.bitarray("0011")
print(a.count(1), a.to01(), bitarray.util.ba2int(a), sys.modules["bitarray._bitarray"].__file__.endswith(".so"))
print(simplejson.dumps({"b": [1.5, None], "a": "\\u00e9"}, sort_keys=True),
      simplejson.encoder.c_make_encoder is not None, sys.modules["simplejson._speedups"].__file__.endswith(".so"))
`], { timeoutMs: 300000 });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n'), ['5 11010011 211 True', '{"a": "\\u00e9", "b": [1.5, null]} True True']);
  } finally {
    await server.close();
  }
  t.diagnostic(`archives: ${Object.values(entries).map((e) => `${e.name} ${e.size} bytes`).join(', ')}`);
});

test('a pin that PyPI\'s sdist does not match is refused before anything is built', () => {
  const r = build(['-o', out, '--sha256', '0'.repeat(64), 'bitarray==3.9.2']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bitarray==3\.9\.2: cross-compiling: .*PyPI's bitarray-3\.9\.2\.tar\.gz has sha256 37342f81\w+, not the pinned 0{64}/);
});

test('a project whose build backend cannot cross-compile is refused, naming the backend', () => {
  const file = sdist('mesonish', {
    'pyproject.toml': '[build-system]\nrequires = ["meson-python"]\nbuild-backend = "mesonpy"\n',
    'meson.build': "project('mesonish', 'c')\n",
  });
  const r = build(['-o', out, file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /its build backend is mesonpy; larder cross-compiles setuptools projects only/);
  assert.equal(fs.readdirSync(out).filter((f) => f.startsWith('mesonish')).length, 0);
});

test('an extension that does not compile is an error, not a silent pure-Python package', () => {
  const file = sdist('fallback', {
    'setup.py': `from setuptools import setup, Extension
from setuptools.command.build_ext import build_ext
class optional(build_ext):
    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:
            print("WARNING: speedups not built:", e)
setup(name="fallback", version="1.0", packages=["fallback"],
      ext_modules=[Extension("fallback._speed", ["fallback/_speed.c"])], cmdclass={"build_ext": optional})
`,
    'fallback/__init__.py': '',
    'fallback/_speed.c': '#error this extension does not compile\n',
  });
  const r = build(['-o', out, file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the build yielded a pure-Python wheel although the sdist has C\/C\+\+\/Cython sources/);
  assert.match(r.stderr, /first error: .*_speed\.c:1:2: error: this extension does not compile/);
  assert.equal(fs.readdirSync(out).filter((f) => f.startsWith('fallback')).length, 0);
});

test('without a cross toolchain the error says where it looked and what to do', () => {
  const r = build(['-o', out, 'bitarray==3.9.2'], { LARDER_CROSS: path.join(work, 'nowhere') });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no cross toolchain at .*nowhere .*`make cross`.* or LARDER_CROSS naming one/);
});
