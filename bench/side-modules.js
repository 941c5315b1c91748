/*
 * side-modules.js - what compiling the side modules of native packages
 * costs under this Node's V8 (the engine Chromium has), as the runtime's
 * dlopen compiles them: synchronously, new WebAssembly.Module(bytes), since
 * an import cannot wait for a promise. Three ways, each in fresh processes
 * (REPS, median): V8's default (lazy: a function is compiled by Liftoff on
 * its first call, so compiling the module only validates it), everything
 * by Liftoff up front, everything by TurboFan up front (the optimised code
 * a code cache would hold). python.wasm, the main module, for scale.
 * Packages: numpy, matplotlib and pandas, from their archives in build/.
 * Writes bench/results/side-modules-DATE.json and prints a table.
 */
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { root, runtime } = require('../tests/lib/paths');

const REPS = Number(process.env.BENCH_REPS) || 5;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const WAYS = {
  lazy: [],
  liftoff: ['--no-wasm-lazy-compilation'],
  turbofan: ['--no-wasm-lazy-compilation', '--no-liftoff'],
};

function archive(glob) {
  const [dir, prefix] = glob;
  const f = fs.readdirSync(path.join(root, dir)).find((n) => n.startsWith(prefix) && n.endsWith('.tar.zst'));
  if (!f) throw new Error(`no ${prefix}*.tar.zst in ${dir}: run make native pypi first`);
  return path.join(root, dir, f);
}
const PACKAGES = {
  numpy: archive(['build/native', 'numpy-']),
  matplotlib: archive(['build/native', 'matplotlib-']),
  pandas: archive(['build/pypi', 'pandas-']),
};

function sideModules(tarZst, into) {
  fs.mkdirSync(into);
  execFileSync('bash', ['-c', `zstd -dcq "${tarZst}" | tar -x -C "${into}"`]);
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory()
    ? walk(path.join(d, e.name)) : e.name.endsWith('.so') ? [path.join(d, e.name)] : []));
  return walk(into);
}

/* One fresh process compiling files; prints the milliseconds. */
const COMPILE = `
const fs = require('fs');
const files = JSON.parse(process.argv[1]);
const bytes = files.map((f) => fs.readFileSync(f));
const t = process.hrtime.bigint();
for (const b of bytes) new WebAssembly.Module(b);
console.log(Number(process.hrtime.bigint() - t) / 1e6);
`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-side-modules-'));
const sets = { 'python.wasm': [path.join(runtime, 'python.wasm')] };
for (const [name, tarZst] of Object.entries(PACKAGES)) sets[name] = sideModules(tarZst, path.join(work, name));
const results = {};
for (const [name, files] of Object.entries(sets)) {
  const row = { modules: files.length, bytes: files.reduce((n, f) => n + fs.statSync(f).size, 0) };
  for (const [way, flags] of Object.entries(WAYS)) {
    const ms = [];
    for (let i = 0; i < REPS; i++) {
      ms.push(Number(execFileSync(process.execPath, [...flags, '-e', COMPILE, JSON.stringify(files)], { encoding: 'utf8' })));
    }
    row[`${way}_ms`] = Math.round(median(ms));
  }
  results[name] = row;
  console.log(`${name.padEnd(12)} ${String(row.modules).padStart(3)} modules ${(row.bytes / 1e6).toFixed(2).padStart(6)} MB  `
    + `lazy ${row.lazy_ms} ms, Liftoff ${row.liftoff_ms} ms, TurboFan ${row.turbofan_ms} ms`);
}
fs.rmSync(work, { recursive: true, force: true });
const date = new Date().toISOString().slice(0, 10);
const out = path.join(__dirname, 'results', `side-modules-${date}.json`);
fs.writeFileSync(out, JSON.stringify({ date, node: process.version, cpus: os.cpus().length, reps: REPS, results }, null, 2) + '\n');
console.log(`wrote ${path.relative(root, out)}`);
