/*
 * release.test.js - what users run is a release build: build/bin's
 * larder-build and larder-mirror carry no sanitizer runtime (the tests run
 * the sanitizer build in build/sanitize/bin, from the same sources).
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { bin, root } = require('../lib/paths');

const sanitizerRuntime = (file) => {
  const libs = execFileSync('ldd', [file], { encoding: 'utf8' });
  const symbols = execFileSync('nm', ['-D', file], { encoding: 'utf8' });
  return /libasan|libubsan/.test(libs) || /__asan_|__ubsan_/.test(symbols);
};

for (const tool of ['larder-build', 'larder-mirror']) {
  test(`build/bin/${tool} is a release build without sanitizers; the tests' build has them`, () => {
    assert.equal(sanitizerRuntime(path.join(root, 'build', 'bin', tool)), false);
    assert.equal(sanitizerRuntime(path.join(bin, tool)), true);
    const help = execFileSync(path.join(root, 'build', 'bin', tool), ['--help'], { encoding: 'utf8' });
    assert.match(help, new RegExp(tool === 'larder-mirror' ? 'larder-mirror init' : 'larder-build'));
  });
}
