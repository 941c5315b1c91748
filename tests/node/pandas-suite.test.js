/*
 * pandas-suite.test.js - a named subset of pandas 1.5.3's own test suite
 * (Makefile PANDAS_TESTS, copied into build/pandas-tests: tslibs, libs,
 * window, reshape, strings, tools, and the top-level algos, nanops, sorting
 * and take tests) run with pytest in the wasm runtime, pandas (cross-
 * compiled from its sdist with no recipe), numpy, pytest and hypothesis
 * installed on import from the repository. The counts are pinned; pandas'
 * own marks skip what does not apply (tests/native/pandas-suite/pytest.ini
 * deselects the slow, network, database and single-CPU ones, as pandas' CI).
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

test('pandas\' own tests pass in wasm', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-pandas-suite-'));
  const key = makeKey();
  writeRepo(path.join(work, 'repo'),
    readEntries(...['stdlib', 'corpus', 'native', 'pypi'].map((d) => path.join(root, 'build', d))), { key, serial: 1 });
  fs.cpSync(path.join(root, 'build', 'pandas-tests'), path.join(work, 'tests'), { recursive: true });
  const server = await serve({ routes: { '/': path.join(work, 'repo') } });
  try {
    const r = await run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${server.url}/index.json`,
      '--key', key.text, '-m', 'pytest', '-q'], { cwd: path.join(work, 'tests'), timeoutMs: 1500000 });
    const summary = r.out.trim().split('\n').pop();
    const count = (what) => Number((summary.match(new RegExp(`(\\d+) ${what}`)) || [0, 0])[1]);
    t.diagnostic(`pandas 1.5.3 tests in wasm: ${summary}`);
    assert.equal(count('failed'), 0, `${summary}\n${r.out.split('\n').filter((l) => l.startsWith('FAILED')).join('\n')}`);
    assert.equal(count('error'), 0, summary);
    // pinned: a test that stops being collected or starts skipping shows here
    assert.equal(count('passed'), 17356, summary);
    assert.equal(count('skipped'), 1902, summary);
    assert.equal(count('xfailed'), 70, summary);
    assert.equal(count('deselected'), 571, summary);
  } finally {
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
