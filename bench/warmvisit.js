/*
 * warmvisit.js - does the cache make a visit faster? The playground served
 * by larder-mirror serve from a repository with numpy, matplotlib and their
 * dependencies, in Chromium: for each of BENCH_REPS repetitions (default
 * 3), with a fresh profile, a cold visit (empty HTTP cache and archive
 * store) then a warm one (a reload, numpy and matplotlib in the store),
 * each timing navigation to an enabled Run button ("ready") and the run of
 * `import numpy, matplotlib.pyplot; print("ok")`, saying from Chromium's
 * trace whether python.wasm came from the wasm code cache (the cold visit
 * is left IDLE_MS after its run, as a user reads the output: the worker's
 * warm-up resumes and the browser writes that cache), and the memory of the page
 * with its Workers and wasm once it is ready (measureUserAgentSpecificMemory,
 * least of 3 samples): with nothing cached on the cold visit, with numpy and
 * matplotlib (about 12 MB of archives) in the store on the warm one, which
 * should cost nothing until an import reads them. The ratio warm/cold is
 * the measure (same machine, same run). The cold visit's memory is not the
 * empty store's alone, though: a warm visit takes python.wasm's code from
 * the code cache, all of it compiled, where a cold one compiles functions as
 * they are first called. So each repetition also opens another fresh
 * profile, runs `print("ok")` (nothing installed), leaves it IDLE_MS and
 * reloads: a warm visit with the code cache and an empty store ("empty"),
 * the baseline for the store's cost in memory and time to ready; its run of
 * the same program downloads what the warm visit read from the store.
 * Writes bench/results/warmvisit-DATE.json and prints the medians.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { launch, traced, wasmLoad } = require('../tests/lib/browser');
const { root, runtime } = require('../tests/lib/paths');
const { median, playgroundRepo, runCode } = require('./lib/pages');
const serveMirror = require('../tests/lib/mirror-serve');

const REPS = Number(process.env.BENCH_REPS) || 3;
const CODE = 'import numpy, matplotlib.pyplot\nprint("ok")';
const IDLE_MS = 3000;

(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-warmvisit-'));
  const { repo, site } = playgroundRepo(work);
  const server = await serveMirror.start(repo, ['--runtime', runtime, '--site', site]);
  const rows = { cold: [], warm: [], empty: [] };
  /* One visit of PHASE on PAGE (goto when first, else reload): its time to
   * ready, memory once ready, and the run of CODE. */
  async function visit(page, phase, first) {
    const t0 = Date.now();
    const load = wasmLoad(await traced(page, async () => {
      if (first) await page.goto(`${server.url}/`);
      else await page.reload();
      await page.waitForSelector('#run:not([disabled])', { timeout: 60000 });
    }));
    const ready = Date.now() - t0;
    const samples = [];
    for (let i = 0; i < 3; i++) samples.push(await page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes));
    const memory = Math.min(...samples);
    await page.evaluate((c) => window.playground.setCode(c), CODE);
    const t1 = Date.now();
    await page.click('#run');
    await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 120000 });
    const run = Date.now() - t1;
    const out = await page.textContent('#out');
    if (out !== 'ok\n') throw new Error(`the ${phase} run printed ${JSON.stringify(out)}`);
    const cache = await page.textContent('#cache');
    if (phase === 'warm' && /^Downloaded/.test(cache)) throw new Error(`the warm visit downloaded: ${cache}`);
    if (phase === 'empty' && !/^Downloaded/.test(cache)) throw new Error(`the empty store gave: ${cache}`);
    rows[phase].push({ ready, run, memory, code_cache: load.hit, lazy_compiles: load.lazy });
  }
  /* Run code untimed, leave the page IDLE_MS (the worker's warm-up runs and
   * the browser writes the code cache), after the archives are stored. */
  async function settle(page, code) {
    if (code) await runCode(page, code, 120000);
    await page.evaluate(() => window.playground.persisted());
    await page.waitForTimeout(IDLE_MS);
  }
  try {
    for (let rep = 0; rep < REPS; rep++) {
      let browser = await launch();
      let page = await browser.context.newPage();
      await visit(page, 'cold', true);
      await settle(page, null);
      await visit(page, 'warm', false);
      await browser.close();
      browser = await launch();
      page = await browser.context.newPage();
      await page.goto(`${server.url}/`);
      await page.waitForSelector('#run:not([disabled])', { timeout: 60000 });
      await settle(page, 'print("ok")');
      await visit(page, 'empty', false);
      await browser.close();
    }
  } finally {
    await serveMirror.stop(server);
    fs.rmSync(work, { recursive: true, force: true });
  }
  const summary = {};
  for (const phase of ['cold', 'warm', 'empty']) {
    summary[phase] = { ready_ms: median(rows[phase].map((r) => r.ready)), run_ms: median(rows[phase].map((r) => r.run)),
      memory_bytes: median(rows[phase].map((r) => r.memory)), code_cache_hits: rows[phase].filter((r) => r.code_cache).length };
    console.log(`${phase}: ready ${summary[phase].ready_ms} ms, import numpy, matplotlib.pyplot ${summary[phase].run_ms} ms,`
      + ` memory once ready ${(summary[phase].memory_bytes / 1e6).toFixed(1)} MB (median of ${REPS}),`
      + ` python.wasm from the code cache ${summary[phase].code_cache_hits}/${REPS}`);
  }
  summary.ratios = { ready: summary.warm.ready_ms / summary.cold.ready_ms, run: summary.warm.run_ms / summary.cold.run_ms,
    memory: summary.warm.memory_bytes / summary.cold.memory_bytes,
    memory_over_empty: summary.warm.memory_bytes / summary.empty.memory_bytes,
    ready_over_empty: summary.warm.ready_ms / summary.empty.ready_ms };
  console.log(`warm/cold: ready ${summary.ratios.ready.toFixed(2)}x, import ${summary.ratios.run.toFixed(2)}x,`
    + ` memory once ready ${summary.ratios.memory.toFixed(2)}x; warm/empty store: memory`
    + ` ${summary.ratios.memory_over_empty.toFixed(2)}x, ready ${summary.ratios.ready_over_empty.toFixed(2)}x`);
  const out = path.join(root, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(path.join(out, `warmvisit-${date}.json`), JSON.stringify({ date, machine: { cores: os.cpus().length,
    model: os.cpus()[0].model }, reps: REPS, rows, summary }, null, 1));
})().catch((e) => { console.error(e); process.exit(1); });
