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
const { runPytestSuite } = require('../lib/pytest-suite');

test('pandas\' own tests pass in wasm', (t) => runPytestSuite(t, {
  label: 'pandas 1.5.3 tests',
  dirs: ['stdlib', 'corpus', 'native', 'pypi'],
  tests: 'pandas-tests',
  pins: { passed: 17356, skipped: 1902, xfailed: 70, deselected: 571 },
}));
