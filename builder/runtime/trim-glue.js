#!/usr/bin/env node
/*
 * trim-glue.js FILE.js KEEP... - drop, from emscripten 3.1.6's JS glue of a
 * MAIN_MODULE, the JS wrapper it writes for every exported wasm function
 *     var _NAME=Module["_NAME"]=function(){return(_NAME=Module["_NAME"]=
 *         Module["asm"]["NAME"]).apply(null,arguments)};
 * when nothing else in the file names _NAME and NAME is not in KEEP (the
 * functions the runtime's own JS calls by name, e.g. through ccall).
 *
 * Why: a MAIN_MODULE exports all of libc and libpython (9,000+ functions) so
 * that side modules can link against them, and the glue carried a wrapper
 * for each: 2.5 of its 3.3 MB. Side modules never use those wrappers: the
 * dynamic linker resolves them against the instance's exports, which it
 * merges into its symbol table (mergeLibSymbols(exports, "main")). Data
 * symbols and every wrapper the glue itself uses are kept. The result is
 * checked: the file must still parse, and the count is printed.
 */
'use strict';
const fs = require('fs');
const vm = require('vm');

const [file, ...keep] = process.argv.slice(2);
const keepSet = new Set(keep);
const js = fs.readFileSync(file, 'utf8');
const wrapper = /var _([A-Za-z0-9_$]+)=Module\["_\1"\]=function\(\)\{return\(_\1=Module\["_\1"\]=Module\["asm"\]\["([A-Za-z0-9_$]+)"\]\)\.apply\(null,arguments\)\};/g;
// how often each identifier-like token occurs, to know what else refers to a wrapper
const counts = new Map();
for (const m of js.matchAll(/[A-Za-z0-9_$]+/g)) counts.set(m[0], (counts.get(m[0]) || 0) + 1);
let dropped = 0;
const out = js.replace(wrapper, (whole, name, asmName) => {
  // a wrapper names _NAME four times (var, Module["_NAME"] twice, the reassignment)
  if (keepSet.has(name) || asmName !== name || counts.get(`_${name}`) !== 4) return whole;
  dropped++;
  return '';
});
new vm.Script(out, { filename: file });  // still valid JavaScript
fs.writeFileSync(file, out);
console.log(`trim-glue: ${dropped} export wrappers dropped, ${(js.length / 1e6).toFixed(2)} -> ${(out.length / 1e6).toFixed(2)} MB`);
