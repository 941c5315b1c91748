/*
 * wasm.js - tiny wasm side modules built byte by byte, for tests of what
 * the toolchain does with their imports (publish's check, the runtime's
 * dynamic linker) without a compiler.
 */
'use strict';

/* A side module as bytes: emscripten's dylink.0 section (no memory, no
 * table), imports ([module, name, 'func' | 'global' | 'memory']) and one
 * exported function, doing nothing, per name of `own`. */
function sideModule(imports, own = []) {
  const u32 = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
  const str = (s) => [...u32(Buffer.byteLength(s)), ...Buffer.from(s)];
  const section = (id, body) => [id, ...u32(body.length), ...body];
  const kinds = { func: [0, 0], global: [3, 0x7f, 1], memory: [2, 0, 1] };
  const nFuncs = imports.filter((i) => i[2] === 'func').length;
  return Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(0, [...str('dylink.0'), 1, 4, 0, 0, 0, 0]),  // WASM_DYLINK_MEM_INFO: sizes and alignments 0
    ...section(1, [1, 0x60, 0, 0]),  // one type: () -> ()
    ...section(2, [...u32(imports.length), ...imports.flatMap(([m, n, k]) => [...str(m), ...str(n), ...kinds[k]])]),
    ...section(3, [...u32(own.length), ...own.map(() => 0)]),
    ...section(7, [...u32(own.length), ...own.flatMap((n, i) => [...str(n), 0, ...u32(nFuncs + i)])]),
    ...section(10, [...u32(own.length), ...own.flatMap(() => [2, 0, 0x0b])])]);
}

module.exports = { sideModule };
