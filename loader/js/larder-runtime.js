/*
 * larder-runtime.js - start the larder wasm runtime (CPython 3.11 + _larder).
 *
 * One script for both places the runtime runs:
 *   - a Web Worker:  importScripts('larder-runtime.js'); LarderRuntime.start({...})
 *   - Node:          require('./larder-runtime.js').start({...})
 *
 * start(options) fetches (browser) or reads (Node) python.wasm and the stdlib
 * bundles from options.baseUrl, writes the bundles into the in-memory
 * filesystem under /usr/local/lib, instantiates the module and resolves to
 *   { module, run(code) -> bool, main(args) -> exit status, FS }
 * run() executes code in a persistent __main__; main() runs the interpreter
 * like the python3 command line (Node only, once per process).
 *
 * options:
 *   baseUrl   where python.js, python.wasm and the bundles are (a URL in a
 *             worker, a directory in Node; default: this script's location)
 *   bundles   stdlib zips to mount; default ['python311.zip'] (the core).
 *             The first is the interpreter's default python311.zip; the
 *             others are put on sys.path through PYTHONPATH.
 *   sideModules  true to also install the stdlib's extension modules from
 *             lib-dynload/ (listed in lib-dynload/index.txt): the interim
 *             full-stdlib mode, until the loader installs them on import
 *   stdout, stderr   called with each line of output (default: console)
 *   env       extra environment variables for the interpreter
 */
(function (root) {
  'use strict';
  const isNode = typeof process === 'object' && process.versions && process.versions.node &&
    typeof importScripts !== 'function';
  const LIB = '/usr/local/lib';

  function defaultBase() {
    if (isNode) return __dirname;
    return new URL('.', self.location.href).href;
  }

  async function readFile(base, name) {
    if (isNode) {
      const path = require('path');
      return new Uint8Array(require('fs').readFileSync(path.join(base, name)));
    }
    const url = new URL(name, base).href;
    let response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new Error(`larder: cannot fetch ${url}: ${e.message}`);
    }
    if (!response.ok) throw new Error(`larder: cannot fetch ${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  function loadFactory(base) {
    if (isNode) return require(require('path').join(base, 'python.js'));
    if (typeof createLarderPython !== 'function') importScripts(new URL('python.js', base).href);
    return createLarderPython; // eslint-disable-line no-undef
  }

  async function start(options = {}) {
    const base = options.baseUrl || defaultBase();
    const bundles = options.bundles || ['python311.zip'];
    const out = options.stdout || ((line) => console.log(line));
    const err = options.stderr || ((line) => console.error(line));
    const factory = loadFactory(base);
    const [wasmBinary, ...zips] = await Promise.all(
      ['python.wasm', ...bundles].map((name) => readFile(base, name)));
    let sideModules = [];
    if (options.sideModules) {
      const list = new TextDecoder().decode(await readFile(base, 'lib-dynload/index.txt'));
      const names = list.split('\n').filter((n) => n.endsWith('.so'));
      sideModules = await Promise.all(names.map(async (n) => [n, await readFile(base, `lib-dynload/${n}`)]));
    }

    const module = await factory({
      wasmBinary,
      noInitialRun: true,
      print: out,
      printErr: err,
      preRun: [(M) => {
        M.FS.mkdirTree(`${LIB}/python3.11/lib-dynload`);
        const extra = [];
        zips.forEach((data, i) => {
          const path = i === 0 ? `${LIB}/python311.zip` : `${LIB}/${bundles[i].replace(/.*\//, '')}`;
          M.FS.writeFile(path, data);
          if (i > 0) extra.push(path);
        });
        if (extra.length) M.ENV.PYTHONPATH = extra.join(':');
        for (const [name, data] of sideModules) M.FS.writeFile(`${LIB}/python3.11/lib-dynload/${name}`, data);
        Object.assign(M.ENV, options.env || {});
      }],
    });

    let started = false;
    return {
      module,
      FS: module.FS,
      /* Run code in the persistent __main__; true when it raised nothing. */
      run(code) {
        if (!started) {
          if (module._larder_start() !== 0) throw new Error('larder: the interpreter failed to start');
          started = true;
        }
        return module.ccall('larder_run', 'number', ['string'], [code]) === 0;
      },
      /* Run like the python3 command line; returns the exit status. */
      main(args) {
        if (started) throw new Error('larder: main() cannot follow run() in the same runtime');
        started = true;
        return module.callMain(args);
      },
    };
  }

  const api = { start };
  if (isNode) module.exports = api;
  else root.LarderRuntime = api;
})(typeof self !== 'undefined' ? self : this);
