#!/usr/bin/env node
/*
 * larder-python - run the larder wasm runtime from a shell, like python3.
 *
 *   larder-python [--core-only] [--index URL [--key KEY] [--allow-unsigned]
 *                 [--cache DIR]] [PYTHON ARGS...]
 *
 * The interpreter sees the browser's filesystem layout (MEMFS with the stdlib
 * under /usr/local); the current directory of the host is mounted at the same
 * path so scripts and relative paths work. By default the full stdlib bundle
 * is mounted too; --core-only starts with the core bundle alone. With
 * --index, the loader installs packages (the stdlib's too) from that mirror
 * on import, keeping archives in --cache DIR (default: memory only).
 */
'use strict';
const path = require('path');
const { start } = require(path.join(__dirname, 'larder-runtime.js'));

async function main() {
  let args = process.argv.slice(2);
  let bundles = ['python311.zip', 'stdlib-full.zip'];
  const loader = {};
  for (;;) {
    const a = args[0];
    if (a === '--core-only') bundles = ['python311.zip'];
    else if (a === '--allow-unsigned') loader.allowUnsigned = true;
    else if (['--index', '--key', '--cache'].includes(a) && args.length > 1) {
      loader[{ '--index': 'indexUrl', '--key': 'key', '--cache': 'cache' }[a]] = args[1];
      args = args.slice(1);
    } else break;
    args = args.slice(1);
  }
  if (loader.indexUrl) bundles = ['python311.zip'];
  const py = await start({
    baseUrl: __dirname,
    bundles,
    ...loader,
    sideModules: bundles.length > 1,
    stdout: (line) => process.stdout.write(line + '\n'),
    stderr: (line) => process.stderr.write(line + '\n'),
  });
  const cwd = process.cwd();
  py.FS.mkdirTree(cwd);
  py.FS.mount(py.module.FS.filesystems.NODEFS, { root: cwd }, cwd);
  py.FS.chdir(cwd);
  process.exitCode = py.main(args);
}

main().catch((e) => {
  process.stderr.write(`larder-python: ${e.message}\n`);
  process.exitCode = 1;
});
