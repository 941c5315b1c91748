#!/usr/bin/env node
/*
 * patch-dylink.js FILE.js - make emscripten 3.1.6's dynamic linker, in the
 * JS glue of a MAIN_MODULE, resolve after each dlopen only the GOT entries
 * created since the last time, instead of walking the whole GOT.
 *
 * Why: reportUndefinedSymbols(), run after every side module is
 * instantiated, visits every entry of the global offset table and reads its
 * WebAssembly.Global's value, to resolve those still 0. The GOT holds an
 * entry for each of the main module's 9,000+ exports (updateGOT at start)
 * plus every side module's, so each `import` of a C extension paid for all
 * of them: about 0.7 ms per module under Node, more as packages add theirs.
 * Only an entry the GOT proxy (GOTHandler) has just created can be 0 —
 * updateGOT gives the others their value as it makes them — so the proxy
 * now lists the ones it creates and the function resolves that list.
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
    what: 'the GOT proxy lists the entries it creates',
    from: 'var GOTHandler={get:function(obj,symName){if(!GOT[symName]){GOT[symName]=new WebAssembly.Global({"value":"i32","mutable":true})}return GOT[symName]}};',
    to: 'var GOTUnresolved=[];var GOTHandler={get:function(obj,symName){if(!GOT[symName]){GOT[symName]=new WebAssembly.Global({"value":"i32","mutable":true});GOTUnresolved.push(symName)}return GOT[symName]}};',
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
