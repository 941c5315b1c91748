/*
 * imports.js - what an import costs in Chromium when its packages come
 * through the loader, against the same import with their files already
 * unpacked. The playground, its repository holding numpy, matplotlib,
 * fonttools and their dependencies (bench/lib/pages.js playgroundRepo),
 * served two ways: by larder-mirror serve (the page is cross-origin
 * isolated: parallel downloads, bundles, the archive store read one archive
 * at a time), and the page and runtime by a plain static server without
 * COOP/COEP with the packages from the same mirror on its other origin (not
 * isolated: synchronous XHR, a bundle per install, the cache an IDBFS tree
 * read at start). For each of BENCH_REPS repetitions (default 5), each way and
 * each program, with a fresh profile:
 *   cold      the page opened, the program run (nothing cached);
 *   warm      a reload, the program run (its archives in the cache);
 *   unpacked  a reload, larder.install() of every package the warm run
 *             installed and a listing of every directory under the
 *             install roots (a large package's big directories are
 *             unpacked when first looked into; not timed), then the
 *             program run: the baseline, every file in place.
 * Each timed run comes after the page has been left alone for IDLE_MS
 * (default 4 s, as a user reads the page or types before Run): the Worker
 * runs its idle warm-up then (worker.js), so that the three runs find the
 * interpreter's code equally optimised by V8. Timed at once after 'ready'
 * instead, the warm run would find it as baseline code while the unpacked
 * run, which follows a run that installs and lists everything, would not:
 * the ratio would measure V8's tier-up more than the loader
 * (docs/measured.md). bench/warmvisit.js measures the warm visit at once.
 * The time is the import's, measured by Python (time.perf_counter around
 * the import statement). Writes bench/results/imports-DATE.json and prints
 * the medians with warm/unpacked and cold/unpacked.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { launch } = require('../tests/lib/browser');
const { root, runtime } = require('../tests/lib/paths');
const { serve: staticServe } = require('../tests/lib/static-server');
const serveMirror = require('../tests/lib/mirror-serve');
const { median, playgroundRepo, runCode: run } = require('./lib/pages');

const REPS = Number(process.env.BENCH_REPS) || 5;
const IDLE_MS = Number(process.env.IDLE_MS) || 4000;
const PROGRAMS = {
  'numpy, matplotlib.pyplot': 'import numpy, matplotlib.pyplot',
  'fontTools.ttLib': 'import fontTools.ttLib',
};

/* The import, timed by Python: its milliseconds, after IDLE_MS with
 * nothing sent to the page. The loader is started first (untimed): a
 * page's Worker starts it when the first import needs it or in its first
 * idle moment, and only the unpacked run would otherwise find it started
 * (by its installs). */
async function timed(page, statement) {
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const out = await run(page, 'import larder as _l\n_l.available()\nimport time as _t\n_t0 = _t.perf_counter()\n'
    + `${statement}\nprint("ms", round((_t.perf_counter() - _t0) * 1000, 1))`);
  const m = out.match(/^ms ([\d.]+)\n$/);
  if (!m) throw new Error(`${statement}: ${out}`);
  return Number(m[1]);
}

const ready = (page) => page.waitForSelector('#run:not([disabled])', { timeout: 120000 });

(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-imports-'));
  const { repo, site, key } = playgroundRepo(work);
  const mirror = await serveMirror.start(repo, ['--runtime', runtime, '--site', site]);
  // the static server: the page and the runtime, no COOP/COEP; the packages from the mirror
  const plain = path.join(work, 'plain');
  fs.cpSync(site, plain, { recursive: true });
  fs.writeFileSync(path.join(plain, 'config.js'),
    `window.LARDER_CONFIG = { indexUrl: '${mirror.url}/index.json', key: '${key}' };\n`);
  const stat = await staticServe({ isolated: false, routes: { '/runtime/': runtime, '/': plain } });
  const ways = { isolated: mirror.url, 'not isolated': stat.url };
  const rows = {};
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const [way, url] of Object.entries(ways)) {
        for (const [label, statement] of Object.entries(PROGRAMS)) {
          const browser = await launch();
          try {
            const page = await browser.context.newPage();
            await page.goto(`${url}/`);
            await ready(page);
            const parallel = await page.evaluate(() => window.crossOriginIsolated);
            if (parallel !== (way === 'isolated')) throw new Error(`${way}: crossOriginIsolated is ${parallel}`);
            const cold = await timed(page, statement);
            await page.evaluate(() => window.playground.persisted());
            await page.reload();
            await ready(page);
            const warm = await timed(page, statement);
            const names = (await run(page, 'import larder\nprint(" ".join(larder.installed()))')).trim().split(' ');
            await page.evaluate(() => window.playground.persisted());
            await page.reload();
            await ready(page);
            const done = await run(page, `import larder, os\nlarder.install(*${JSON.stringify(names)})\n`
              + 'for d in (larder.SITE_DIR, larder.STDLIB_DIR):\n    for _ in os.walk(d): pass\nprint("done")');
            if (done !== 'done\n') throw new Error(`install: ${done}`);
            const unpacked = await timed(page, statement);
            const key = `${way}: ${label}`;
            (rows[key] = rows[key] || []).push({ cold, warm, unpacked, packages: names.length });
            console.log(`${key}: cold ${cold} ms, warm ${warm} ms, unpacked ${unpacked} ms (${names.length} packages)`);
          } finally {
            await browser.close();
          }
        }
      }
    }
  } finally {
    await serveMirror.stop(mirror);
    await stat.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const summary = {};
  console.log(`\nimport time in Chromium, median of ${REPS}`);
  for (const [key, r] of Object.entries(rows)) {
    const s = { cold_ms: median(r.map((x) => x.cold)), warm_ms: median(r.map((x) => x.warm)),
      unpacked_ms: median(r.map((x) => x.unpacked)), packages: r[0].packages };
    s.warm_over_unpacked = s.warm_ms / s.unpacked_ms;
    s.cold_over_unpacked = s.cold_ms / s.unpacked_ms;
    summary[key] = s;
    console.log(`${key}: cold ${s.cold_ms} ms (${s.cold_over_unpacked.toFixed(2)}x), warm ${s.warm_ms} ms `
      + `(${s.warm_over_unpacked.toFixed(2)}x), unpacked ${s.unpacked_ms} ms`);
  }
  const out = path.join(root, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(path.join(out, `imports-${date}.json`), JSON.stringify({ date, machine: { cores: os.cpus().length,
    model: os.cpus()[0].model }, reps: REPS, idle_ms: IDLE_MS, programs: PROGRAMS, rows, summary }, null, 1));
})().catch((e) => { console.error(e); process.exit(1); });
