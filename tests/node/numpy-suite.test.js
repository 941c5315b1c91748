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
const { runPytestSuite } = require('../lib/pytest-suite');

test('numpy\'s own tests pass in wasm', (t) => runPytestSuite(t, {
  label: 'numpy 1.25.2 tests',
  dirs: ['stdlib', 'corpus', 'native'],
  tests: 'numpy-tests',
  pins: { passed: 11511, skipped: 448, xfailed: 23, deselected: 32 },
}));
