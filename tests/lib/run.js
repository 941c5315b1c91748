/* run.js - run a command asynchronously (tests that also serve HTTP from
 * their own process must not block it) and collect its output. */
'use strict';
const { spawn } = require('child_process');

function run(command, args, { timeoutMs = 120000, cwd, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: env ? { ...process.env, ...env } : process.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

module.exports = { run };
