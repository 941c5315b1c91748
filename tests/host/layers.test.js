/*
 * layers.test.js - the components' dependencies point one way (docs/design.md):
 * index uses nothing of ours; loader and builder use index; mirror uses
 * builder and index. A C file that includes another component's header
 * outside these edges fails here, naming the file and the header.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('../lib/paths');

const ALLOWED = { common: [], index: ['common'], loader: ['index'], builder: ['index'], mirror: ['builder'] };

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.[ch]$/.test(e.name) ? [p] : [];
  });
}

test('components include only the headers of the components below them', () => {
  const edges = new Set();
  const bad = [];
  for (const [component, allowed] of Object.entries(ALLOWED)) {
    for (const file of sources(path.join(root, component))) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/^#\s*include\s+"\.\.\/([a-z]+)\/([^"]+)"/gm)) {
        edges.add(`${component} -> ${m[1]}`);
        if (!allowed.includes(m[1])) bad.push(`${path.relative(root, file)} includes ../${m[1]}/${m[2]}`);
      }
    }
  }
  assert.deepEqual(bad, []);
  assert.deepEqual([...edges].sort(), ['builder -> index', 'index -> common', 'loader -> index', 'mirror -> builder']);
});
