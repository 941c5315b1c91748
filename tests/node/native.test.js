/*
 * native.test.js - numpy, cross-compiled from its sdist by builder/native,
 * installed on import through the loader from a signed repository.
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

test('import numpy loads the cross-compiled package and computes correctly', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-native-'));
  const key = makeKey();
  writeRepo(path.join(work, 'repo'), readEntries(path.join(root, 'build', 'stdlib'), path.join(root, 'build', 'native')),
    { key, serial: 1 });
  const server = await serve({ routes: { '/': path.join(work, 'repo') } });
  try {
    const r = await run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${server.url}/index.json`,
      '--key', key.text, '-c', `
import numpy as np, larder
a = np.arange(12, dtype=np.float64).reshape(3, 4)
print(np.__version__, a.sum(), a.T.shape, a.mean(axis=0).tolist())
m = np.array([[4.0, 7.0], [2.0, 6.0]])
print(np.allclose(np.linalg.inv(m) @ m, np.eye(2)), np.round(np.linalg.det(m), 6))
print(np.fft.fft([1, 0, 0, 0]).real.tolist(), np.random.default_rng(42).integers(0, 100, 3).tolist())
print(larder.info('numpy')['version'], 'numpy' in larder.installed())
`]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines[0], '1.25.2 66.0 (4, 3) [4.0, 5.0, 6.0, 7.0]');
    assert.equal(lines[1], 'True 10.0');
    assert.match(lines[2], /^\[1\.0, 1\.0, 1\.0, 1\.0\] \[\d+, \d+, \d+\]$/);
    assert.equal(lines[3], '1.25.2 True');
    assert.ok(server.log.some((l) => l.startsWith('GET /numpy-1.25.2-0.tar.zst 200')));
  } finally {
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
