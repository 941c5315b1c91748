#!/usr/bin/env node
/*
 * larder-python - run the larder wasm runtime from a shell, like python3.
 *
 *   larder-python [--core-only] [--index URL [--key KEY] [--token TOKEN]
 *                 [--allow-unsigned] [--cache DIR]] [PYTHON ARGS...]
 *
 * The interpreter sees the browser's filesystem layout (MEMFS with the stdlib
 * under /usr/local); the current directory of the host is mounted at the same
 * path so scripts and relative paths work. By default the full stdlib bundle
 * is mounted too; --core-only starts with the core bundle alone. With
 * --index, the loader installs packages (the stdlib's too) from that mirror
 * on import, keeping archives in --cache DIR (default: memory only). A
 * private mirror's token comes from --token or the LARDER_TOKEN variable.
 */
'use strict';
const path = require('path');
const { start } = require(path.join(__dirname, 'larder-runtime.js'));

/* A line of this process's standard input, read synchronously (the
 * interpreter is synchronous); null at end of input. */
const fs = require('fs');
let pending = Buffer.alloc(0);
let stdinDone = false;
function readLine() {
  for (;;) {
    const nl = pending.indexOf(10);
    if (nl >= 0) {
      const line = pending.subarray(0, nl + 1).toString('utf8');
      pending = pending.subarray(nl + 1);
      return line;
    }
    if (stdinDone) {
      const rest = pending.length ? pending.toString('utf8') : null;
      pending = Buffer.alloc(0);
      return rest;
    }
    const chunk = Buffer.alloc(65536);
    let n = 0;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      if (e.code !== 'EOF') throw e;
    }
    if (n === 0) stdinDone = true;
    pending = Buffer.concat([pending, chunk.subarray(0, n)]);
  }
}

async function main() {
  let args = process.argv.slice(2);
  let bundles = ['python311.zip', 'stdlib-full.zip'];
  const loader = {};
  for (;;) {
    const a = args[0];
    if (a === '--core-only') bundles = ['python311.zip'];
    else if (a === '--allow-unsigned') loader.allowUnsigned = true;
    else if (['--index', '--key', '--cache', '--token'].includes(a) && args.length > 1) {
      loader[{ '--index': 'indexUrl', '--key': 'key', '--cache': 'cache', '--token': 'token' }[a]] = args[1];
      args = args.slice(1);
    } else break;
    args = args.slice(1);
  }
  if (loader.indexUrl) bundles = ['python311.zip'];
  if (!loader.token && process.env.LARDER_TOKEN) loader.token = process.env.LARDER_TOKEN;
  const py = await start({
    baseUrl: __dirname,
    bundles,
    ...loader,
    sideModules: bundles.length > 1,
    stdout: (text, flags) => process.stdout.write(flags && flags.partial ? text : text + '\n'),
    stderr: (text, flags) => process.stderr.write(flags && flags.partial ? text : text + '\n'),
    stdin: readLine,
  });
  const cwd = process.cwd();
  py.FS.mkdirTree(cwd);
  py.FS.mount(py.module.FS.filesystems.NODEFS, { root: cwd }, cwd);
  py.FS.chdir(cwd);
  process.exitCode = py.main(args);
}

main().catch((e) => {
  process.stderr.write(`larder-python: ${process.env.LARDER_DEBUG ? e.stack : e.message}\n`);
  process.exitCode = 1;
});
