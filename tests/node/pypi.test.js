/*
 * pypi.test.js - the packages cross-compiled from PyPI's sdists by the
 * generic path with no recipe (make pypi: builder/native/sdists.txt):
 * pandas 1.5.3, PyYAML 6.0.2 with libyaml, MarkupSafe 3.0.2 (and Jinja2's
 * pure wheel over it), msgpack 1.1.0, regex 2024.11.6, lxml 5.3.0 (with
 * libxml2 and libxslt from Debian's sources). Installed on import
 * from an empty cache through a signed repository on 127.0.0.1, they
 * compute what the host's wheels of the same versions compute
 * (tests/native/pypi_values.py, Makefile HOST_PYPI), with their extension
 * modules compiled, not pure-Python fallbacks.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { root, runtime, hostNumpy } = require('../lib/paths');
const { serve } = require('../lib/static-server');
const { makeKey, readEntries, writeRepo } = require('../lib/repo');
const { run } = require('../lib/run');

const SCRIPT = path.join(root, 'tests', 'native', 'pypi_values.py');
const HOST_PYTHON = '/usr/bin/python3.11';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-pypi-'));
const key = makeKey();
let server;

/* The host's wheels of builder/native/host-wheels.txt, unpacked by make pypi. */
const HOST_PYPI = path.join(root, 'build', 'host-pypi', 'lib');

test.before(async () => {
  writeRepo(path.join(work, 'repo'),
    readEntries(...['stdlib', 'corpus', 'native', 'pypi'].map((d) => path.join(root, 'build', d))), { key, serial: 1 });
  fs.copyFileSync(SCRIPT, path.join(work, 'pypi_values.py'));
  server = await serve({ routes: { '/': path.join(work, 'repo') } });
});

test.after(async () => {
  if (server) await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

function wasm(args) {
  return run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${server.url}/index.json`,
    '--key', key.text, ...args], { cwd: work, timeoutMs: 600000 });
}

/* Equal, numbers within a relative 1e-9 (SIMD on the host sums in
 * another order than wasm's scalar code). */
function assertClose(got, want, where = '') {
  if (typeof want === 'number' && typeof got === 'number') {
    assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${where}: ${got} != ${want}`);
  } else if (want && typeof want === 'object') {
    assert.equal(typeof got, 'object', where);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), where);
    for (const k of Object.keys(want)) assertClose(got[k], want[k], `${where}.${k}`);
  } else {
    assert.equal(got, want, where);
  }
}

test('pandas, PyYAML, MarkupSafe + Jinja2, msgpack, regex and lxml from their sdists compute what the host wheels compute', async (t) => {
  assert.ok(fs.existsSync(HOST_PYPI), `make pypi unpacked the host's wheels into ${HOST_PYPI}`);
  const host = await run(HOST_PYTHON, ['-s', SCRIPT],
    { env: { ...process.env, PYTHONPATH: `${HOST_PYPI}:${hostNumpy}` } });
  assert.equal(host.code, 0, host.err);
  const want = JSON.parse(host.out);
  assert.equal(want.pandas.version, '1.5.3', 'the host reference is pandas 1.5.3');

  const r = await wasm(['pypi_values.py']);
  assert.equal(r.code, 0, r.err);
  const got = JSON.parse(r.out);
  for (const name of ['pandas', 'yaml', 'markupsafe', 'msgpack', 'regex', 'lxml']) {
    assert.equal(got[name].compiled, true, `${name}'s extension module is the compiled one in wasm`);
    assertClose(got[name], want[name], name);
  }
  assert.equal(got.yaml.with_libyaml, true, 'yaml.CLoader is libyaml\'s');
  const fetched = server.log.filter((l) => /^GET \/.*\.tar\.zst 200/.test(l)).map((l) => l.split(' ')[1]);
  for (const p of ['pandas-1.5.3', 'pyyaml-6.0.2', 'markupsafe-3.0.2', 'jinja2-3.1.6', 'msgpack-1.1.0', 'regex-2024.11.6',
    'lxml-5.3.0', 'pytz-', 'numpy-1.25.2']) {
    assert.ok(fetched.some((f) => f.startsWith(`/${p}`)), `${p} fetched on import (${fetched.length} archives)`);
  }
  t.diagnostic(`${fetched.length} archives fetched`);
});

test('the archives leave the sdists\' tests out and carry only wasm extension modules', () => {
  const entries = readEntries(path.join(root, 'build', 'pypi'));
  assert.deepEqual(Object.keys(entries).sort(), ['Jinja2', 'MarkupSafe', 'PyYAML', 'hypothesis', 'lxml',
    'msgpack', 'pandas', 'pytz', 'regex', 'sortedcontainers']);
  const listing = (e) => require('node:child_process').execFileSync('tar', ['--zstd', '-tf', path.join(e._dir, e.file_name)],
    { encoding: 'utf8', maxBuffer: 1 << 26 }).split('\n').filter(Boolean);
  const pandas = listing(entries.pandas);
  assert.equal(pandas.filter((f) => f.includes('/tests/')).length, 0, 'pandas/tests left out (--exclude tests)');
  const so = pandas.filter((f) => f.endsWith('.so'));
  assert.equal(so.length, 42, `pandas' extension modules: ${so.length}`);
  assert.ok(so.every((f) => f.endsWith('.cpython-311-wasm32-emscripten.so')), 'all wasm side modules');
});
