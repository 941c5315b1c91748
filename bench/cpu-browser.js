/*
 * cpu-browser.js - bench/cpu.js's kernels in Chromium: the playground page
 * on larder against the same page on Pyodide 0.24.1 (bench/lib/pages.js),
 * each kernel on three visits with one profile: cold (a fresh profile:
 * nothing compiled before; the code run as soon as the page is ready),
 * idle (a reload, the code run IDLE_MS after ready, as when a user reads or
 * types first: larder's worker warms the interpreter up meanwhile), and
 * warm (another reload, the code run as soon as ready: the browser's wasm
 * code cache holds what the earlier visits had optimised, once V8 had
 * optimised 1 MB of the module, the point at which Chromium writes it).
 * On each visit the page runs bench/lib/kernels.py and measure(kernel, 5):
 * the kernel once ("first") and then the best of 5 more ("warm"); and
 * Chromium's trace of the load says whether the module came from the code
 * cache and how many functions V8 compiled lazily, and the time to an
 * enabled Run button is the visit's "ready".
 * BENCH_REPS fresh profiles per kernel and runtime (default 3), medians;
 * ratios larder/Pyodide of the same visit. Writes
 * bench/results/cpu-browser-DATE.json and prints a table.
 */
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { root, runtime } = require('../tests/lib/paths');
const { launch, traced, wasmLoad } = require('../tests/lib/browser');
const { median, makeRepo, makeSites, serve, pyodideRuntime } = require('./lib/pages');

const REPS = Number(process.env.BENCH_REPS) || 3;
const IDLE_MS = 3000;
const PHASES = ['cold', 'idle', 'warm'];
const KERNELS = ['fib', 'dicts', 'strings', 'sorting', 'nbody', 'floats', 'json', 'regex'];
const SOURCE = fs.readFileSync(path.join(__dirname, 'lib', 'kernels.py'), 'utf8');

/* One visit: load (navigate or reload) until Run is enabled, traced; run
 * the kernel, parse what it printed. */
async function visit(page, load, kernel, idle) {
  const t0 = Date.now();
  const cache = wasmLoad(await traced(page, async () => {
    await load();
    await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 120000, polling: 5 });
  }));
  const ready = Date.now() - t0;
  if (idle) await page.waitForTimeout(idle);
  const code = `${SOURCE}\nprint(json.dumps(measure(${JSON.stringify(kernel)}, 5)))`;
  await page.evaluate((c) => { window.playground.setCode(c); window.playground.run(); }, code);
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 300000, polling: 20 });
  const out = await page.textContent('#out');
  const line = out.trim().split('\n').pop();
  try {
    return { ...JSON.parse(line), ready, ...cache };
  } catch (e) {
    throw new Error(`${kernel}: the page printed ${JSON.stringify(out.slice(-500))}`);
  }
}

(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-cpu-browser-'));
  const { repo, key } = makeRepo(work, [path.join(root, 'build', 'stdlib')]);
  const sites = makeSites(work, key);
  const runtimes = { larder: runtime, pyodide: pyodideRuntime(path.join(work, 'runtime-pyodide')) };
  const servers = {};
  for (const which of ['larder', 'pyodide']) {
    servers[which] = await serve(repo, runtimes[which], sites[which], path.join(work, `access-${which}.log`));
  }
  const times = {};
  try {
    for (const k of KERNELS) {
      const checks = new Set();
      for (let rep = 0; rep < REPS; rep++) {
        for (const which of ['larder', 'pyodide']) {
          const browser = await launch();
          const page = await browser.context.newPage();
          for (const phase of PHASES) {
            const m = await visit(page, () => (phase === 'cold' ? page.goto(`${servers[which].url}/`) : page.reload()), k,
              phase === 'idle' ? IDLE_MS : 0);
            checks.add(JSON.stringify(m.check));
            const slot = ((times[k] ||= {})[which] ||= {});
            const at = (slot[phase] ||= { first: [], warm: [], ready: [], hits: 0, lazy: [] });
            at.first.push(m.first);
            at.warm.push(m.warm);
            at.ready.push(m.ready);
            at.hits += m.hit ? 1 : 0;
            at.lazy.push(m.lazy);
            // before the reload: larder's archives in its store, and a moment for
            // the browser to write compiled code to its cache (both pages alike)
            if (phase === 'cold' && which === 'larder') await page.evaluate(() => window.playground.persisted());
            if (phase !== 'warm') await page.waitForTimeout(1000);
            process.stderr.write(`${k} ${which} ${phase}: ready ${m.ready} ms${m.hit ? ' (code cache)' : ''}, `
              + `${m.lazy} lazy compiles, first ${m.first.toFixed(0)} ms, warm ${m.warm.toFixed(0)} ms\n`);
          }
          await browser.close();
        }
      }
      if (checks.size !== 1) throw new Error(`${k}: the interpreters disagree: ${[...checks].join(' / ')}`);
    }
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
  const rows = {};
  for (const k of KERNELS) {
    rows[k] = {};
    for (const phase of PHASES) {
      const m = (which, when) => median(times[k][which][phase][when]);
      const of = (which) => ({ first: m(which, 'first'), warm: m(which, 'warm'), ready: m(which, 'ready'),
        lazy_compiles: m(which, 'lazy'), code_cache_hits: times[k][which][phase].hits });
      rows[k][phase] = {
        ms: { larder: of('larder'), pyodide: of('pyodide') },
        larder_over_pyodide: { first: m('larder', 'first') / m('pyodide', 'first'), warm: m('larder', 'warm') / m('pyodide', 'warm'),
          ready: m('larder', 'ready') / m('pyodide', 'ready') },
      };
    }
  }
  const py = `import json, sys; sys.path.insert(0, "bench/lib"); from results import save
save("cpu-browser", json.loads(sys.stdin.read()))`;
  execFileSync('/usr/bin/python3.11', ['-c', py], { cwd: root, stdio: ['pipe', 'inherit', 'inherit'],
    input: JSON.stringify({ reps: REPS, warm_runs: 5, idle_ms: IDLE_MS, runtime: 'chromium', kernels: rows }) });
  console.log(`Chromium, median of ${REPS} profiles (ms); visit: larder first/warm, pyodide first/warm, larder/pyodide first, warm`);
  for (const phase of PHASES) {
    const sum = (which, f) => KERNELS.reduce((n, k) => n + f(rows[k][phase].ms[which]), 0);
    const line = (which) => `${which} ${sum(which, (x) => x.code_cache_hits)}/${KERNELS.length * REPS} from the code cache, `
      + `ready ${median(KERNELS.map((k) => rows[k][phase].ms[which].ready)).toFixed(0)} ms, `
      + `${median(KERNELS.map((k) => rows[k][phase].ms[which].lazy_compiles)).toFixed(0)} lazy compiles`;
    console.log(`${phase.padEnd(5)} visits: ${line('larder')}; ${line('pyodide')}`);
  }
  for (const [k, r] of Object.entries(rows)) {
    const cell = (p) => {
      const x = r[p];
      return `${p} ${x.ms.larder.first.toFixed(0)}/${x.ms.larder.warm.toFixed(0)} vs ${x.ms.pyodide.first.toFixed(0)}/${x.ms.pyodide.warm.toFixed(0)}`
        + ` = ${x.larder_over_pyodide.first.toFixed(2)}x, ${x.larder_over_pyodide.warm.toFixed(2)}x`;
    };
    console.log(`${k.padEnd(8)} ${cell('cold').padEnd(44)} ${cell('idle').padEnd(44)} ${cell('warm')}`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
