/* paths.js - where the tests find the build outputs. */
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
module.exports = {
  root,
  runtime: path.join(root, 'build', 'runtime'),
  // the tools as the tests run them: built with ASan and UBSan (Makefile: sanitize);
  // build/bin holds the release build users run
  bin: path.join(root, 'build', 'sanitize', 'bin'),
  cache: process.env.LARDER_CACHE || path.join(require('os').homedir(), '.cache', 'larder'),
  // PyPI's numpy 1.25.2 for the host (Makefile: HOST_NUMPY), the reference for the wasm build
  hostNumpy: path.join(process.env.LARDER_CACHE || path.join(require('os').homedir(), '.cache', 'larder'), 'host-numpy-1.25.2', 'lib'),
};
