/* numpy-values.js - the host's answers to tests/native/numpy_values.py
 * (PyPI's numpy 1.25.2, Makefile HOST_NUMPY), and the check that the wasm
 * numpy's answers are the same. */
'use strict';
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { root, hostNumpy } = require('./paths');

const SCRIPT = path.join(root, 'tests', 'native', 'numpy_values.py');

function hostNumpyValues() {
  return JSON.parse(execFileSync('/usr/bin/python3.11', [SCRIPT],
    { encoding: 'utf8', env: { ...process.env, PYTHONPATH: hostNumpy } }));
}

/* Asserts that wasm (the script's JSON from the runtime) has the host's
 * version, 1.25.2, and every value within 1e-12 relative of the host's;
 * returns the largest relative difference. */
function assertSameNumpyValues(wasm, host) {
  assert.equal(host.version, '1.25.2', `the host reference is numpy 1.25.2 from ${hostNumpy}`);
  assert.equal(wasm.version, host.version);
  const flat = (v) => (Array.isArray(v) ? v.flatMap(flat) : [v]);
  let worst = 0;
  for (const k of ['solve', 'fft', 'normal_mean', 'broadcast']) {
    const a = flat(wasm[k]);
    const b = flat(host[k]);
    assert.equal(a.length, b.length, k);
    a.forEach((x, i) => {
      const rel = Math.abs(x - b[i]) / Math.max(1, Math.abs(b[i]));
      worst = Math.max(worst, rel);
      assert.ok(rel <= 1e-12, `${k}[${i}]: wasm ${x}, host ${b[i]}`);
    });
  }
  return worst;
}

module.exports = { hostNumpyValues, assertSameNumpyValues };
