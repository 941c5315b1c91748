#!/usr/bin/env node
/*
 * patch-dylink.js FILE.js - mend emscripten 3.1.6's dynamic linker, in the
 * JS glue of a MAIN_MODULE: GOT entries made when first needed instead of
 * all at start, only the new ones resolved after each dlopen, and a symbol
 * nothing defines failing only the library that needs it.
 *
 * Why: at start the glue made a GOT entry (a WebAssembly.Global, and a
 * table slot for a function) for each of the main module's 9,000+ exports,
 * and copied each into its symbol tables (asmLibraryArg, and Module as
 * _NAME): 35-45 ms before the page could run anything (Chromium, a cold
 * visit), for names most of which no side module ever imports. Now the
 * relocated exports are kept as they are (GOTMain) and looked up there when
 * a side module needs a name (GOTMainHas); a GOT entry is made when first asked for, by
 * GOTEntry, with the value the export would have given it at start. What a
 * side module binds to is the same as before, and a side module defining a
 * name the main module exports still does not take it over. What changes:
 * Module._NAME exists only for the functions the glue keeps a wrapper for
 * (trim-glue.js), not for every export.
 *
 * And reportUndefinedSymbols(), run after every side module is
 * instantiated, visited every entry of the GOT and read its value, to
 * resolve those still 0: each `import` of a C extension paid for all of
 * them (about 0.7 ms per module under Node, more as packages add theirs).
 * Only an entry GOTEntry has just made without a value can be 0, so it
 * lists those, and the function resolves that list.
 *
 * And a symbol no library defines fails that dlopen alone: emscripten left
 * its entry in the GOT at 0, so that every later dlopen, of any library,
 * failed on it ("bad export type for `x`: undefined"); the entry is now
 * removed (a later module that needs it fails on its own), and the error
 * says what is missing. The library that failed is forgotten too: emscripten
 * kept it as loaded, so that importing it again "succeeded" with a module
 * that has no init function; now the import tries again and says why.
 *
 * Each replaced text must occur exactly once: a glue that differs (another
 * emscripten) fails the build here rather than linking differently.
 */
'use strict';
const fs = require('fs');
const vm = require('vm');

const file = process.argv[2];
const PATCHES = [
  {
    what: 'GOT entries are made by GOTEntry: the main module\'s value at once, else listed to resolve',
    from: 'var GOTHandler={get:function(obj,symName){if(!GOT[symName]){GOT[symName]=new WebAssembly.Global({"value":"i32","mutable":true})}return GOT[symName]}};',
    to: 'var GOTUnresolved=[];var GOTMain=null;'
      + 'function GOTMainHas(symName){return GOTMain!==null&&Object.prototype.hasOwnProperty.call(GOTMain,symName)}'
      + 'function GOTEntry(symName){var entry=GOT[symName];if(entry)return entry;'
      + 'entry=GOT[symName]=new WebAssembly.Global({"value":"i32","mutable":true});'
      + 'var value=GOTMainHas(symName)&&!isInternalSym(symName)?GOTMain[symName]:undefined;'
      + 'if(typeof value=="function"){entry.value=addFunction(value)}else if(typeof value=="number"){entry.value=value}'
      + 'else if(typeof value=="bigint"){entry.value=Number(value)}else{GOTUnresolved.push(symName)}return entry}'
      + 'var GOTHandler={get:function(obj,symName){return GOTEntry(symName)}};',
  },
  {
    what: 'the main module\'s exports are relocated without making a GOT entry for each',
    from: 'function relocateExports(exports,memoryBase,replace){var relocated={};for(var e in exports){var value=exports[e];'
      + 'if(typeof value=="object"){value=value.value}if(typeof value=="number"){value+=memoryBase}relocated[e]=value}'
      + 'updateGOT(relocated,replace);return relocated}',
    to: 'function relocateExports(exports,memoryBase,replace,main){var relocated={};for(var e in exports){var value=exports[e];'
      + 'if(typeof value=="object"){value=value.value}if(typeof value=="number"){value+=memoryBase}relocated[e]=value}'
      + 'if(main){GOTMain=relocated;functionsInTableMap=new WeakMap;updateTableMap(0,wasmTable.length)}'
      + 'else{updateGOT(relocated,replace)}return relocated}',
  },
  {
    what: 'the main module is relocated as the main module',
    from: 'exports=relocateExports(exports,1024);',
    to: 'exports=relocateExports(exports,1024,false,true);',
  },
  {
    what: 'the main module\'s exports are not copied into asmLibraryArg and Module one by one',
    from: 'mergeLibSymbols(exports,"main");',
    to: '',
  },
  {
    what: '... so the linker looks them up in GOTMain, after the JS library and before Module',
    from: 'if(!sym){sym=asmLibraryArg[symName]}if(!sym){sym=Module[asmjsMangle(symName)]}',
    to: 'if(!sym){sym=asmLibraryArg[symName]}if(!sym&&GOTMainHas(symName)){sym=GOTMain[symName]}'
      + 'if(!sym){sym=Module[asmjsMangle(symName)]}',
  },
  {
    what: '... a side module\'s function imports bind to them directly, as before (not through a JS stub)',
    from: 'if(prop in asmLibraryArg){return asmLibraryArg[prop]}',
    to: 'if(prop in asmLibraryArg){return asmLibraryArg[prop]}'
      + 'if(GOTMainHas(prop)){return GOTMain[prop]}',
  },
  {
    what: '... and a side module defining a name the main module exports does not take it over, as before',
    from: 'for(var sym in exports){if(!exports.hasOwnProperty(sym)){continue}if(!asmLibraryArg.hasOwnProperty(sym)){asmLibraryArg[sym]=exports[sym]}',
    to: 'for(var sym in exports){if(!exports.hasOwnProperty(sym)){continue}'
      + 'if(GOTMainHas(sym)){continue}'
      + 'if(!asmLibraryArg.hasOwnProperty(sym)){asmLibraryArg[sym]=exports[sym]}',
  },
  {
    what: 'updateGOT makes its entries with GOTEntry',
    from: 'if(!GOT[symName]){GOT[symName]=new WebAssembly.Global({"value":"i32","mutable":true})}if(replace||GOT[symName].value==0){',
    to: 'GOTEntry(symName);if(replace||GOT[symName].value==0){',
  },
  {
    what: 'getMemory sets __heap_base through GOTEntry',
    from: 'GOT["__heap_base"].value=end;',
    to: 'GOTEntry("__heap_base").value=end;',
  },
  {
    what: 'reportUndefinedSymbols resolves that list; a failure leaves nothing behind',
    from: 'function reportUndefinedSymbols(){for(var symName in GOT){if(GOT[symName].value==0){'
      + 'var value=resolveGlobalSymbol(symName,true);if(typeof value=="function"){GOT[symName].value=addFunction(value,value.sig)}'
      + 'else if(typeof value=="number"){GOT[symName].value=value}else{throw new Error("bad export type for `"+symName+"`: "+typeof value)}}}}',
    to: 'function reportUndefinedSymbols(){var pending=GOTUnresolved,failed=null;GOTUnresolved=[];'
      + 'for(var i=0;i<pending.length;i++){var symName=pending[i];if(GOT[symName].value==0){'
      + 'var value=resolveGlobalSymbol(symName,true);if(typeof value=="function"){GOT[symName].value=addFunction(value,value.sig)}'
      + 'else if(typeof value=="number"){GOT[symName].value=value}else{delete GOT[symName];'
      + 'failed=failed||new Error(typeof value=="undefined"?"undefined symbol `"+symName+"`: neither python.wasm nor a library '
      + 'loaded before defines it (the package was built for another runtime)":"bad export type for `"+symName+"`: "+typeof value)}}}'
      + 'if(failed)throw failed}',
  },
  {
    what: 'a library that failed to load is forgotten',
    from: 'moduleLoaded(getLibModule());return true}',
    to: 'try{moduleLoaded(getLibModule())}catch(e){delete LDSO.loadedLibsByName[lib];'
      + 'if(handle){delete LDSO.loadedLibsByHandle[handle]}throw e}return true}',
  },
];

let js = fs.readFileSync(file, 'utf8');
for (const { what, from, to } of PATCHES) {
  const count = js.split(from).length - 1;
  if (count !== 1) {
    console.error(`patch-dylink: ${file}: expected the text for "${what}" once, found it ${count} times `
      + '(a different emscripten? see builder/runtime/patch-dylink.js)');
    process.exit(1);
  }
  js = js.replace(from, () => to);
}
new vm.Script(js, { filename: file });  // still valid JavaScript
fs.writeFileSync(file, js);
console.log(`patch-dylink: ${PATCHES.length} patches applied`);
