/*
 * mirror-serve.js - `larder-mirror serve` on a free port of 127.0.0.1 for
 * the tests: start(repo, extraArgs) resolves to {child, url} (url without a
 * trailing slash) once serve prints its address, and rejects with an Error
 * carrying {code, out, err} if serve exits first; stop(s) resolves to
 * {code, signal} after SIGTERM.
 */
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const { bin } = require('./paths');

const MIRROR = path.join(bin, 'larder-mirror');

function start(repo, extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(MIRROR, ['--repo', repo, 'serve', '--listen', '127.0.0.1:0', ...extra]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => reject(Object.assign(new Error(`serve exited ${code}: ${out}${err}`), { code, out, err })));
  });
}

function stop(s) {
  return new Promise((resolve) => {
    s.child.removeAllListeners('exit');
    s.child.on('exit', (code, signal) => resolve({ code, signal }));
    s.child.kill('SIGTERM');
  });
}

module.exports = { start, stop };
