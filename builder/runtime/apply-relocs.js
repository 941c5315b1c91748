#!/usr/bin/env node
/*
 * apply-relocs.js WASM GLUE.js - apply, at build time, the data relocations
 * that emscripten 3.1.6's MAIN_MODULE applies at every start.
 *
 * A MAIN_MODULE is linked as a position-independent executable: every
 * pointer in its static data (CPython's deep-frozen modules and type
 * objects hold tens of thousands) is stored at start by a generated
 * function, __wasm_apply_data_relocs, one `i32.store` of
 * `__memory_base + target` (or `__table_base + index` for a function
 * pointer; or of a GOT global that __wasm_apply_global_relocs, run first,
 * set to one of those) each: 574 KB of wasm code, 109 KB of it brotli,
 * compiled and run on every visit. Yet the glue gives the main module a
 * fixed base (its `___memory_base` global is the constant GLOBAL_BASE, 1024,
 * and `___table_base` is 1: side modules are the ones placed at run time),
 * so the values are known here. This writes them into the data segment and
 * leaves in the function only the stores it cannot know (addresses in
 * globals the dynamic linker fills, if any).
 *
 * Checked, or it refuses (and the link fails): the glue's two bases are the
 * constants above; the function is what wasm-ld writes (stores of base
 * plus or minus a constant, nothing else); every relocated word lies inside
 * the one active data segment, placed at __memory_base. The module is
 * validated after.
 */
'use strict';
const fs = require('fs');

const [wasmFile, glueFile] = process.argv.slice(2);
const fail = (why) => { console.error(`apply-relocs: ${wasmFile}: ${why}`); process.exit(1); };

const glue = fs.readFileSync(glueFile, 'utf8');
const constGlobal = (name) => {
  const m = glue.match(new RegExp(`var ${name}=new WebAssembly\\.Global\\(\\{"value":"i32","mutable":false\\},(\\d+)\\);`));
  if (!m) fail(`the glue does not give ${name} a constant value; the relocations cannot be applied in advance`);
  return Number(m[1]);
};
const MEMORY_BASE = constGlobal('___memory_base');
const TABLE_BASE = constGlobal('___table_base');

const buf = fs.readFileSync(wasmFile);
let pos = 8;
const u32 = () => { let r = 0, s = 0, b; do { b = buf[pos++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
const s32 = () => { let r = 0, s = 0, b; do { b = buf[pos++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return s < 32 && (b & 0x40) ? r | (-1 << s) : r; };
const name = () => { const n = u32(); const s = buf.toString('utf8', pos, pos + n); pos += n; return s; };
const encU32 = (v) => { const out = []; do { let b = v & 0x7f; v = Math.floor(v / 128); if (v) b |= 0x80; out.push(b); } while (v); return out; };
const encS32 = (v) => { const out = []; for (;;) { const b = v & 0x7f; v >>= 7; if ((v === 0 && !(b & 0x40)) || (v === -1 && (b & 0x40))) { out.push(b); return out; } out.push(b | 0x80); } };

// sections, and what is needed of them
const sections = [];
let memoryBaseGlobal = -1, tableBaseGlobal = -1, importedFuncs = 0, ctors = -1, startFunc = -1;
while (pos < buf.length) {
  const header = pos, id = buf[pos++], size = u32(), start = pos;
  sections.push({ id, header, start, end: start + size });
  if (id === 2) {
    let globals = 0;
    for (let n = u32(); n > 0; n--) {
      const mod = name(), field = name(), kind = buf[pos++];
      if (kind === 0) { u32(); importedFuncs++; }
      else if (kind === 1) { pos++; const f = u32(); u32(); if (f & 1) u32(); }
      else if (kind === 2) { const f = u32(); u32(); if (f & 1) u32(); }
      else if (kind === 3) {
        if (mod === 'env' && field === '__memory_base') memoryBaseGlobal = globals;
        if (mod === 'env' && field === '__table_base') tableBaseGlobal = globals;
        globals++; pos += 2;
      } else fail(`import kind ${kind} not understood`);
    }
  } else if (id === 8) {
    startFunc = u32();
  } else if (id === 7) {
    for (let n = u32(); n > 0; n--) {
      const field = name(), kind = buf[pos++], index = u32();
      if (field === '__wasm_call_ctors' && kind === 0) ctors = index;
    }
  }
  pos = start + size;
}
if (memoryBaseGlobal < 0 || tableBaseGlobal < 0 || ctors < 0) fail('no __memory_base, __table_base or __wasm_call_ctors: not a MAIN_MODULE');
const codeSection = sections.find((s) => s.id === 10), dataSection = sections.find((s) => s.id === 11);

// the function bodies
pos = codeSection.start;
const bodies = [];
for (let n = u32(); n > 0; n--) { const prefix = pos, size = u32(); bodies.push({ prefix, start: pos, end: pos + size }); pos += size; }
const body = (func) => bodies[func - importedFuncs];
// __wasm_call_ctors begins with `call __wasm_apply_data_relocs`
pos = body(ctors).start;
for (let n = u32(); n > 0; n--) { u32(); pos++; }  // its locals
if (buf[pos++] !== 0x10) fail('__wasm_call_ctors does not begin with a call (the relocations)');
const relocsFunc = u32();
const relocs = body(relocsFunc);

// The GOT of the module's own symbols: globals that the start function's
// __wasm_apply_global_relocs sets to __memory_base or __table_base plus a
// constant, once; their values are known too.
const known = new Map();
// the constant a base global stands for (undefined for other globals)
const baseOf = (g) => (g === memoryBaseGlobal ? MEMORY_BASE : g === tableBaseGlobal ? TABLE_BASE : undefined);
// the sets of base + constant into globals in func (and the functions it
// calls first); stops at the first other instruction
const collectGlobals = (func, depth = 0) => {
  pos = body(func).start;
  for (let n = u32(); n > 0; n--) { u32(); pos++; }
  const stack = [];
  for (;;) {
    const op = buf[pos++];
    if (op === 0x10 && !stack.length) {
      const callee = u32(), back = pos;
      if (depth < 2 && callee >= importedFuncs) collectGlobals(callee, depth + 1);
      pos = back;
    } else if (op === 0x23) {
      const g = u32();
      const value = baseOf(g) ?? known.get(g);
      if (value === undefined) return;
      stack.push(value);
    } else if (op === 0x41) stack.push(s32());
    else if (op === 0x6a && stack.length >= 2) stack.push((stack.pop() + stack.pop()) | 0);
    else if (op === 0x24 && stack.length === 1) known.set(u32(), stack.pop());
    else return;
  }
};
if (startFunc >= importedFuncs) collectGlobals(startFunc);

// the single active data segment at __memory_base
pos = dataSection.start;
if (u32() !== 1) fail('more than one data segment');
if (u32() !== 0 || buf[pos++] !== 0x23 || u32() !== memoryBaseGlobal || buf[pos++] !== 0x0b) {
  fail('the data segment is not placed at __memory_base');
}
const dataLen = u32(), dataStart = pos;
const data = Buffer.from(buf.subarray(dataStart, dataStart + dataLen));

// evaluate the relocation function: a stack of {global, add} values
pos = relocs.start;
if (u32() !== 0) fail('the relocation function has locals');
const kept = [];
let applied = 0, left = 0;
const stack = [];
for (;;) {
  const op = buf[pos++];
  if (op === 0x0b && pos === relocs.end) break;
  if (op === 0x23) {
    const g = u32();
    stack.push(known.has(g) ? { global: -1, add: known.get(g) } : { global: g, add: 0 });
  }
  else if (op === 0x41) stack.push({ global: -1, add: s32() });
  else if (op === 0x6a) {
    const b = stack.pop(), a = stack.pop();
    if (!a || !b || (a.global >= 0 && b.global >= 0)) fail('an addition of two globals');
    stack.push({ global: Math.max(a.global, b.global), add: (a.add + b.add) | 0 });
  } else if (op === 0x6b) {  // an address before a symbol: its global (or a constant) minus a constant
    const b = stack.pop(), a = stack.pop();
    if (!a || !b || b.global >= 0) fail('a subtraction of a global');
    stack.push({ global: a.global, add: (a.add - b.add) | 0 });
  } else if (op === 0x36) {
    const align = u32(), offset = u32(), value = stack.pop(), address = stack.pop();
    if (!value || !address || address.global !== memoryBaseGlobal) fail('a store that is not to __memory_base + constant');
    const at = address.add + offset;
    const base = value.global < 0 ? 0 : baseOf(value.global);
    if (base !== undefined) {
      if (at < 0 || at + 4 > dataLen) fail(`a relocation at ${at}, outside the data segment (${dataLen} bytes)`);
      data.writeInt32LE((base + value.add) | 0, at);
      applied++;
    } else {
      // an address from a GOT global, known only once the dynamic linker has run: keep the store
      left++;
      kept.push(0x23, ...encU32(memoryBaseGlobal), 0x41, ...encS32(address.add), 0x6a,
        0x23, ...encU32(value.global), ...(value.add ? [0x41, ...encS32(value.add), 0x6a] : []),
        0x36, ...encU32(align), ...encU32(offset));
    }
  } else fail(`instruction 0x${op.toString(16)} in the relocation function`);
}
if (stack.length) fail('values left on the stack');

// rewrite: the relocation function keeps the unknown stores; the data holds the rest
const newBody = Buffer.from([0, ...kept, 0x0b]);
pos = codeSection.start;
const nBodies = u32();
const code = Buffer.concat([Buffer.from(encU32(nBodies)), buf.subarray(pos, relocs.prefix),
  Buffer.from(encU32(newBody.length)), newBody, buf.subarray(relocs.end, codeSection.end)]);
const dataPayload = Buffer.concat([buf.subarray(dataSection.start, dataStart), data, buf.subarray(dataStart + dataLen, dataSection.end)]);
const section = (id, payload) => Buffer.concat([Buffer.from([id, ...encU32(payload.length)]), payload]);
const parts = [buf.subarray(0, 8)];
for (const s of sections) {
  parts.push(s.id === 10 ? section(10, code) : s.id === 11 ? section(11, dataPayload) : buf.subarray(s.header, s.end));
}
const out = Buffer.concat(parts);
if (!WebAssembly.validate(out)) fail('the rewritten module does not validate');
fs.writeFileSync(wasmFile, out);
console.log(`apply-relocs: ${applied} data relocations applied at build time, ${left} left to run; `
  + `${(buf.length / 1e6).toFixed(2)} -> ${(out.length / 1e6).toFixed(2)} MB`);
