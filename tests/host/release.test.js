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

test('make install DESTDIR=...: the installed larder-mirror, larder-build and larder-python run from there', () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-install-'));
  try {
    execFileSync('make', ['--no-print-directory', 'LARDER_BOOTSTRAPPED=1', 'install', `DESTDIR=${dest}`, 'PREFIX=/usr'],
      { cwd: root, encoding: 'utf8' });
    const usr = path.join(dest, 'usr');
    assert.match(execFileSync(path.join(usr, 'bin', 'larder-mirror'), ['--help'], { encoding: 'utf8' }),
      /larder-mirror init/);
    assert.match(execFileSync(path.join(usr, 'bin', 'larder-build'), ['--help'], { encoding: 'utf8' }), /larder-build wheel/);
    assert.equal(execFileSync(path.join(usr, 'bin', 'larder-python'), ['-c', 'print(1 + 1)'], { encoding: 'utf8' }), '2\n');
    assert.equal(sanitizerRuntime(path.join(usr, 'bin', 'larder-mirror')), false);
    // the installed mirror finds the installed runtime and its stdlib by itself
    const repo = path.join(dest, 'repo');
    const out = execFileSync(path.join(usr, 'bin', 'larder-mirror'), ['init', repo], { encoding: 'utf8' });
    assert.match(out, /published the runtime's stdlib: 197 package\(s\)/);
    for (const tool of ['larder-build', 'larder-mirror']) {
      const man = fs.readFileSync(path.join(usr, 'share', 'man', 'man1', `${tool}.1`), 'utf8');
      assert.match(man, new RegExp(`^\\.TH ${tool.toUpperCase()} 1 `));
      assert.match(man, /usage|larder-mirror init/);
    }
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
});

test('make dist: one reproducible tarball of the runtime and larder.js', () => {
  const fs = require('node:fs');
  const crypto = require('node:crypto');
  const make = () => execFileSync('make', ['--no-print-directory', 'LARDER_BOOTSTRAPPED=1', 'dist'],
    { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
  const line = make();
  const m = line.match(/^(build\/dist\/larder-runtime-[^ ]+\.tar\.gz): (\d+) files, (\d+) bytes$/);
  assert.ok(m, line);
  const digest = () => crypto.createHash('sha256').update(fs.readFileSync(path.join(root, m[1]))).digest('hex');
  const first = digest();
  make();
  assert.equal(digest(), first, 'the same tree gives the same bytes');
  const list = execFileSync('tar', ['-tzf', path.join(root, m[1])], { encoding: 'utf8' });
  for (const f of ['python.wasm', 'python.js', 'larder.js', 'worker.js', 'larder-runtime.js', 'python311.zip']) {
    assert.match(list, new RegExp(`/${f.replace('.', '\\.')}\n`));
  }
});
