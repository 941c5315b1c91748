/*
 * native.test.js - the native packages cross-compiled by builder/native
 * (numpy, matplotlib and its native dependencies), installed on import from
 * an empty cache through a signed repository on 127.0.0.1, and compared with
 * the host's native builds of the same versions: numpy 1.25.2 (PyPI's wheel,
 * Makefile HOST_NUMPY) on values, matplotlib 3.6.3 (Debian's) on pixels.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { root, runtime } = require('../lib/paths');
const { hostNumpyValues, assertSameNumpyValues } = require('../lib/numpy-values');
const { serve } = require('../lib/static-server');
const { makeKey, readEntries, writeRepo } = require('../lib/repo');
const { run } = require('../lib/run');

const scripts = path.join(root, 'tests', 'native');
const HOST_PYTHON = '/usr/bin/python3.11';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-native-'));
const key = makeKey();
let server;

test.before(async () => {
  writeRepo(path.join(work, 'repo'), readEntries(...['stdlib', 'corpus', 'native'].map((d) => path.join(root, 'build', d))),
    { key, serial: 1 });
  // the runtime sees the directory it runs in (larder-python mounts it)
  for (const f of fs.readdirSync(scripts).filter((n) => n.endsWith('.py'))) fs.copyFileSync(path.join(scripts, f), path.join(work, f));
  server = await serve({ routes: { '/': path.join(work, 'repo') } });
});

test.after(async () => {
  if (server) await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/* Run the wasm runtime with an empty cache on the repository, in cwd. */
function wasm(args, cwd = work) {
  return run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${server.url}/index.json`,
    '--key', key.text, ...args], { cwd, timeoutMs: 600000 });
}

const archivesFetched = () => server.log.filter((l) => /^GET \/.*\.tar\.zst 200/.test(l)).map((l) => l.split(' ')[1]);

test('import numpy from an empty cache computes what the host numpy 1.25.2 computes', async (t) => {
  server.log.length = 0;
  const r = await wasm(['numpy_values.py']);
  assert.equal(r.code, 0, r.err);
  assert.ok(archivesFetched().includes('/numpy-1.25.2-0.tar.zst'), 'numpy was downloaded on import');
  const worst = assertSameNumpyValues(JSON.parse(r.out), hostNumpyValues());
  t.diagnostic(`largest relative difference from the host's numpy: ${worst}`);
});

test('matplotlib renders the same figure as the host matplotlib 3.6.3', async (t) => {
  server.log.length = 0;
  const out = path.join(work, 'wasm.png');
  const r = await wasm(['mpl_figure.py', 'wasm.png']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^3\.6\.3 \[6\.4, 4\.0\] 80/);
  const got = archivesFetched();
  for (const p of ['numpy-1.25.2', 'matplotlib-3.6.3', 'kiwisolver-1.4.4', 'contourpy-1.0.7', 'pillow-9.4.0']) {
    assert.ok(got.some((f) => f.startsWith(`/${p}-`)), `${p} downloaded on import (${got.join(' ')})`);
  }
  const ref = path.join(work, 'host.png');
  const h = await run(HOST_PYTHON, [path.join(scripts, 'mpl_figure.py'), ref]);
  assert.equal(h.code, 0, h.err);
  const c = await run(HOST_PYTHON, [path.join(scripts, 'compare_png.py'), out, ref]);
  assert.equal(c.code, 0, c.err);
  const cmp = JSON.parse(c.out);
  assert.deepEqual(cmp.size[0], [320, 512, 3]);
  assert.deepEqual(cmp.size[0], cmp.size[1]);
  assert.ok(cmp.ink > 0.03, `the figure is drawn (${cmp.ink} of the pixels have ink)`);
  assert.ok(cmp.rms <= 1.0, `RMS pixel difference ${cmp.rms} (0..255)`);
  t.diagnostic(`pixel difference from the host's matplotlib: RMS ${cmp.rms.toFixed(4)}, `
    + `${(100 * cmp.differing_pixels).toFixed(3)}% of pixels differ`);
});

test('C++ extensions: kiwisolver exceptions become Python exceptions, getters work', async () => {
  const script = path.join(work, 'kiwi.py');
  fs.writeFileSync(script, `
import kiwisolver as kiwi
x, y = kiwi.Variable("x"), kiwi.Variable("y")
s = kiwi.Solver()
c = x + y == 10
s.addConstraint(c)
s.addConstraint(x - y == 2)
s.updateVariables()
print(x.value(), y.value(), kiwi.strength.strong > kiwi.strength.weak)
try:
    s.addConstraint(x == 3)
except kiwi.UnsatisfiableConstraint:
    print("unsatisfiable")
try:
    s.addConstraint(c)
except kiwi.DuplicateConstraint:
    print("duplicate")
import contourpy, numpy as np
z = np.add.outer(np.arange(4.0), np.arange(4.0))
try:
    contourpy.contour_generator(z=z, name="nonsense")
except ValueError as e:
    print("ValueError")
print(len(contourpy.contour_generator(z=z).lines(2.5)))
`);
  const r = await wasm(['kiwi.py']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['6.0 4.0 True', 'unsatisfiable', 'duplicate', 'ValueError', '1']);
});
