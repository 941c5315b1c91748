/*
 * cpu.js - how fast the interpreter runs pure Python: larder's wasm CPython
 * against Pyodide 0.24.1's (the same CPython 3.11 line, from npm), both
 * under this Node, with the host's native CPython 3.11 for scale.
 *
 * The kernels (bench/lib/kernels.py: recursion, dicts, string formatting,
 * sorting, an n-body loop, float objects, json, regular expressions) are the
 * same source in all three. For each kernel and interpreter, REPS fresh
 * processes: the interpreter starts, imports what the kernels need, runs
 * the kernel once ("first": before the engine has optimised the
 * interpreter's hot code, what a user's first program meets) and then 5
 * more times ("warm": the best of those). Every interpreter must compute
 * the same check value. Ratios larder/Pyodide are of medians measured in
 * this run. Writes bench/results/cpu-DATE.json and prints a table.
 * (Chromium, cold and warm visits, is not measured here yet.)
 */
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { root, runtime } = require('../tests/lib/paths');
const { makeKey, readEntries, writeRepo } = require('../tests/lib/repo');
const { serve } = require('../tests/lib/static-server');
const { run } = require('../tests/lib/run');

const REPS = Number(process.env.BENCH_REPS) || 5;  // BENCH_REPS=1: a quick check that it runs
const WARM = 5;
const KERNELS = ['fib', 'dicts', 'strings', 'sorting', 'nbody', 'floats', 'json', 'regex'];
const SOURCE = path.join(__dirname, 'lib', 'kernels.py');
const PYODIDE = path.join(root, 'node_modules', 'pyodide');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/* One Pyodide process: load, run the kernels' source, measure one kernel. */
const PYODIDE_RUNNER = `
const { loadPyodide } = require(${JSON.stringify(path.join(PYODIDE, 'pyodide.js'))});
(async () => {
  const py = await loadPyodide({ indexURL: ${JSON.stringify(PYODIDE + '/')} });
  py.runPython(require('fs').readFileSync(process.argv[1], 'utf8'));
  console.log(py.runPython('json.dumps(measure(' + JSON.stringify(process.argv[2]) + ', ' + process.argv[3] + '))'));
})();
`;

(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-cpu-'));
  const key = makeKey();
  writeRepo(path.join(work, 'repo'), readEntries(path.join(root, 'build', 'stdlib')), { key, serial: 1 });
  fs.copyFileSync(SOURCE, path.join(work, 'kernels.py'));
  const server = await serve({ routes: { '/': path.join(work, 'repo') } });
  const cache = path.join(work, 'cache');
  const runners = {
    larder: (k) => run(process.execPath, [path.join(runtime, 'larder-python'), '--index', `${server.url}/index.json`,
      '--key', key.text, '--cache', cache, 'kernels.py', k, String(WARM)], { cwd: work, timeoutMs: 300000 }),
    pyodide: (k) => run(process.execPath, ['-e', PYODIDE_RUNNER, SOURCE, k, String(WARM)], { cwd: work, timeoutMs: 300000 }),
    native: (k) => run('/usr/bin/python3.11', [SOURCE, k, String(WARM)], { cwd: work, timeoutMs: 300000 }),
  };
  const times = {};
  try {
    for (const k of KERNELS) {
      const checks = new Set();
      for (const [name, go] of Object.entries(runners)) {
        for (let i = 0; i < REPS; i++) {
          const r = await go(k);
          if (r.code !== 0) throw new Error(`${name} ${k}: exit ${r.code}\n${r.err.slice(-2000)}`);
          const m = JSON.parse(r.out.trim().split('\n').pop());
          checks.add(m.check);
          ((times[k] ||= {})[name] ||= { first: [], warm: [] }).first.push(m.first);
          times[k][name].warm.push(m.warm);
        }
      }
      if (checks.size !== 1) throw new Error(`${k}: the interpreters disagree: ${[...checks].join(' / ')}`);
    }
  } finally {
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const rows = {};
  for (const k of KERNELS) {
    const m = (name, when) => median(times[k][name][when]);
    rows[k] = {
      ms: Object.fromEntries(Object.keys(runners).map((n) => [n, { first: m(n, 'first'), warm: m(n, 'warm') }])),
      larder_over_pyodide: { first: m('larder', 'first') / m('pyodide', 'first'), warm: m('larder', 'warm') / m('pyodide', 'warm') },
    };
  }
  const py = `import json, sys; sys.path.insert(0, "bench/lib"); from results import save
save("cpu", json.loads(sys.stdin.read()))`;
  execFileSync('/usr/bin/python3.11', ['-c', py], { cwd: root, stdio: ['pipe', 'inherit', 'inherit'],
    input: JSON.stringify({ reps: REPS, warm_runs: WARM, runtime: 'node ' + process.version, kernels: rows }) });
  console.log(`kernel    ${'larder first/warm'.padEnd(20)}${'pyodide first/warm'.padEnd(20)}${'native first/warm'.padEnd(20)}larder/pyodide first, warm (median of ${REPS} processes, ms)`);
  for (const [k, r] of Object.entries(rows)) {
    const cell = (n) => `${r.ms[n].first.toFixed(0)}/${r.ms[n].warm.toFixed(0)}`.padEnd(20);
    console.log(`${k.padEnd(10)}${cell('larder')}${cell('pyodide')}${cell('native')}${r.larder_over_pyodide.first.toFixed(2)}x, ${r.larder_over_pyodide.warm.toFixed(2)}x`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
