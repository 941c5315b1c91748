/*
 * numpy-suite.test.js - a named subset of numpy's own test suite
 * (Makefile NUMPY_TESTS, copied into build/numpy-tests) run with pytest in
 * the wasm runtime, numpy and pytest installed on import from the
 * repository. Reports the counts; every test must pass or be skipped by
 * numpy itself (its own skip marks for platforms without threads,
 * subprocesses or floating-point exceptions); tests/native/numpy-suite/
 * pytest.ini says which ones are deselected here and why.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { root, runtime } = require('../lib/paths');
const { serve } = require('../lib/static-server');
const { makeKey, readEntries, writeRepo } = require('../lib/repo');
const { run } = require('../lib/run');

test('numpy\'s own tests pass in wasm', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-numpy-suite-'));
  const key = makeKey();
  writeRepo(path.join(work, 'repo'), readEntries(...['stdlib', 'corpus', 'native'].map((d) => path.join(root, 'build', d))),
    { key, serial: 1 });
  fs.cpSync(path.join(root, 'build', 'numpy-tests'), path.join(work, 'tests'), { recursive: true });
  const server = await serve({ routes: { '/': path.join(work, 'repo') } });
  try {
    const r = await run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${server.url}/index.json`,
      '--key', key.text, '-m', 'pytest', '-q'], { cwd: path.join(work, 'tests'), timeoutMs: 1500000 });
    const summary = r.out.trim().split('\n').pop();
    const count = (what) => Number((summary.match(new RegExp(`(\\d+) ${what}`)) || [0, 0])[1]);
    t.diagnostic(`numpy 1.25.2 tests in wasm: ${summary}`);
    assert.equal(r.code, 0, `pytest failed:\n${r.out.slice(-4000)}\n${r.err.slice(-2000)}`);
    assert.equal(count('failed'), 0, summary);
    assert.equal(count('error'), 0, summary);
    // pinned: a test that stops being collected or starts skipping shows here
    assert.equal(count('passed'), 11511, summary);
    assert.equal(count('skipped'), 448, summary);
    assert.equal(count('xfailed'), 23, summary);
    assert.equal(count('deselected'), 32, summary);
  } finally {
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
