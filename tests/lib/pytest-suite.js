/* pytest-suite.js - run a copied test suite with pytest in the wasm runtime
 * (numpy's, pandas'), its packages installed on import from a signed
 * repository of the given build directories on 127.0.0.1, and check the
 * summary's counts against pins: a test that stops being collected, starts
 * skipping or fails shows as a changed count. */
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { root, runtime } = require('./paths');
const { serve } = require('./static-server');
const { makeKey, readEntries, writeRepo } = require('./repo');
const { run } = require('./run');

/* dirs: build/ subdirectories for the repository; tests: a build/ directory
 * holding the suite and its pytest.ini; pins: {passed, skipped, ...}. */
async function runPytestSuite(t, { label, dirs, tests, pins }) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-suite-'));
  const key = makeKey();
  writeRepo(path.join(work, 'repo'), readEntries(...dirs.map((d) => path.join(root, 'build', d))), { key, serial: 1 });
  fs.cpSync(path.join(root, 'build', tests), path.join(work, 'tests'), { recursive: true });
  const server = await serve({ routes: { '/': path.join(work, 'repo') } });
  try {
    const r = await run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${server.url}/index.json`,
      '--key', key.text, '-m', 'pytest', '-q'], { cwd: path.join(work, 'tests'), timeoutMs: 1500000 });
    const summary = r.out.trim().split('\n').pop();
    const count = (what) => Number((summary.match(new RegExp(`(\\d+) ${what}`)) || [0, 0])[1]);
    t.diagnostic(`${label} in wasm: ${summary}`);
    const failures = r.out.split('\n').filter((l) => l.startsWith('FAILED') || l.startsWith('ERROR')).join('\n');
    assert.equal(count('failed'), 0, `${summary}\n${failures}\n${r.err.slice(-2000)}`);
    assert.equal(count('error'), 0, `${summary}\n${failures}`);
    assert.equal(r.code, 0, `pytest failed:\n${r.out.slice(-4000)}\n${r.err.slice(-2000)}`);
    for (const [what, n] of Object.entries(pins)) assert.equal(count(what), n, `${what}: ${summary}`);
  } finally {
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { runPytestSuite };
