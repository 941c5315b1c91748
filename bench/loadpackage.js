/*
 * loadpackage.js - loading pure-Python packages in Chromium: larder's lazy
 * `import` against Pyodide 0.24.1's loadPackage, on the same packages.
 *
 * The packages are PyPI's wheels of six 1.16.0, python-dateutil 2.8.2,
 * pyparsing 3.0.9 and fonttools 4.38.0 (pip, pinned by sha256 below). Pyodide
 * gets them as wheels through a Pyodide-style lockfile (its own
 * pyodide-lock.json with these four entries pointing at them; its worker,
 * bench/firstload's with loadImports, calls loadPackagesFromImports,
 * Pyodide's way of loading what code imports, then runs the code); larder gets the same wheels converted by larder-build
 * into a signed mirror, and imports them lazily. Both pages are served by the
 * same larder-mirror serve on loopback, identity encoding.
 *
 * For each of 5 repetitions, with a fresh profile: the page loads, then Run
 * with `import six, dateutil.parser, pyparsing, fontTools.ttLib` (cold: empty
 * caches), then a reload and Run again (warm: larder's IndexedDB cache,
 * Pyodide's HTTP cache). Measured: time from Run to the output printed after
 * the imports, and the bytes served in between (access log), for larder with
 * the stdlib modules' share (their archives) separated: Pyodide fetched its
 * whole stdlib before the page was ready. Two ways, each with fresh profiles:
 * Run as the page gets ready (300 ms after, for the access log), and Run
 * after the page has been left alone for 4 s (as a user reads the page or
 * types the code: larder's Worker warms the interpreter up while idle,
 * worker.js; Pyodide's engine goes on optimising in the background).
 * Writes bench/results/loadpackage-DATE.json and prints a table.
 */
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { root, runtime } = require('../tests/lib/paths');
const { median, makeRepo, makeSites, serve, eachRun, pyodideRuntime } = require('./lib/pages');

const BIN = path.join(root, 'build', 'bin');
const REPS = Number(process.env.BENCH_REPS) || 5;  // BENCH_REPS=1: a quick check that it runs
const WHEELS = {
  six: ['six==1.16.0', '8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254', ['six'], []],
  'python-dateutil': ['python-dateutil==2.8.2', '961d03dc3453ebbc59dbdea9e4e11c5651520a876d0f4db161e8674aae935da9', ['dateutil'], ['six']],
  pyparsing: ['pyparsing==3.0.9', '5026bae9a10eeaefb61dab2f09052b9f4307d44aee4eda64b309723d8d206bbc', ['pyparsing'], []],
  fonttools: ['fonttools==4.38.0', '820466f43c8be8c3009aef8b87e785014133508f0de64ec469e4efb643ae54fb', ['fontTools'], []],
};
const CODE = "import six, dateutil.parser, pyparsing, fontTools.ttLib\nprint('imported')";

(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-loadpackage-'));
  const wheels = path.join(work, 'wheels');
  execFileSync('/usr/bin/python3.11', ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary', ':all:',
    '-d', wheels, ...Object.values(WHEELS).map((w) => w[0])]);
  const files = {};
  for (const [name, [, sha]] of Object.entries(WHEELS)) {
    const file = fs.readdirSync(wheels).find((f) => f.toLowerCase().startsWith(name.replace('-', '_')));
    const got = crypto.createHash('sha256').update(fs.readFileSync(path.join(wheels, file))).digest('hex');
    if (got !== sha) throw new Error(`${file}: sha256 ${got}, pinned ${sha}`);
    files[name] = file;
  }
  // larder: the stdlib and the four wheels converted, published and signed
  const converted = path.join(work, 'converted');
  fs.mkdirSync(converted);
  execFileSync(path.join(BIN, 'larder-build'), ['wheel', '-q', '-o', converted, '--stdlib', path.join(root, 'build', 'stdlib'),
    ...Object.values(files).map((f) => path.join(wheels, f))]);
  const { repo, key } = makeRepo(work, [path.join(root, 'build', 'stdlib'), converted]);
  const sites = makeSites(work, key, { loadImports: true });
  // Pyodide: its distribution, the four wheels beside it, its lockfile pointing at them
  const pyo = path.join(sites.pyodide, 'pyodide');
  const lock = JSON.parse(fs.readFileSync(path.join(pyo, 'pyodide-lock.json'), 'utf8'));
  for (const [name, [spec, sha, imports, depends]] of Object.entries(WHEELS)) {
    fs.copyFileSync(path.join(wheels, files[name]), path.join(pyo, files[name]));
    lock.packages[name] = { name, version: spec.split('==')[1], file_name: files[name], install_dir: 'site', sha256: sha,
      package_type: 'package', imports, depends, unvendored_tests: false, shared_library: false };
  }
  fs.writeFileSync(path.join(pyo, 'pyodide-lock.json'), JSON.stringify(lock));
  const runtimes = { larder: runtime, pyodide: pyodideRuntime(path.join(work, 'runtime-pyodide')) };
  const servers = {};
  for (const which of ['larder', 'pyodide']) {
    servers[which] = await serve(repo, runtimes[which], sites[which], path.join(work, `access-${which}.log`));
  }
  const logBytes = (which) => servers[which].bytes();
  // the stdlib's share of what larder fetches: its archives by file name
  const stdlibDir = path.join(root, 'build', 'stdlib');
  const stdlibFiles = new Set(fs.readdirSync(stdlibDir).filter((f) => f.endsWith('.tar.zst')));
  // an archive alone, or several in one bundle (/larder-bundle?files=A,B,...)
  const stdlibBytes = (which, from) => servers[which].requests().slice(from).reduce((n, l) => {
    const url = l.split(' ')[1];
    const bundle = url.match(/\/larder-bundle\?files=(.*)$/);
    if (!bundle) return n + (stdlibFiles.has(path.basename(url)) ? Number(l.split(' ').pop()) : 0);
    return n + bundle[1].split(',').map(decodeURIComponent).filter((f) => stdlibFiles.has(f))
      .reduce((m, f) => m + fs.statSync(path.join(stdlibDir, f)).size, 0);
  }, 0);
  // ways: Run as the page gets ready, and Run once the page has been idle
  const WAYS = { ready: 300, idle: 4000 };
  const byWay = {};
  for (const [way, wait] of Object.entries(WAYS)) {
    const rows = byWay[way] = { larder: { cold: [], warm: [] }, pyodide: { cold: [], warm: [] } };
    await eachRun(servers, REPS, async (which, phase, page, load) => {
      await load();
      await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 120000, polling: 5 });
      await new Promise((r) => setTimeout(r, wait));  // at least 300 ms: the access log catches up with the page load
      const before = logBytes(which);
      const beforeRequests = servers[which].requests().length;
      const ms = await page.evaluate((code) => new Promise((resolve) => {
        const out = document.getElementById('out');
        const t0 = performance.now();
        setTimeout(() => resolve(-1), 60000);  // checked below, with what the page printed
        new MutationObserver((_, obs) => {
          if (out.textContent.includes('imported')) { obs.disconnect(); resolve(performance.now() - t0); }
        }).observe(out, { childList: true, subtree: true, characterData: true });
        window.playground.setCode(code);
        window.playground.run();
      }), CODE);
      if (!(await page.textContent('#out')).startsWith('imported')) throw new Error(`${which}: ${await page.textContent('#out')}`);
      await new Promise((r) => setTimeout(r, 300));
      rows[which][phase].push({ ms, bytes: logBytes(which) - before, stdlib_bytes: stdlibBytes(which, beforeRequests) });
      await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 60000 });
      if (which === 'larder') await page.evaluate(() => window.playground.persisted());  // the archives in the store
    });
  }
  for (const s of Object.values(servers)) s.child.kill('SIGTERM');
  const summary = {};
  for (const [way, rows] of Object.entries(byWay)) {
    const suffix = way === 'ready' ? '' : `_${way}`;
    console.log(`import of six, dateutil, pyparsing, fontTools.ttLib in Chromium, Run ${WAYS[way]} ms after ready, `
      + `median of ${REPS} (min-max), bytes served`);
    for (const phase of ['cold', 'warm']) {
      for (const which of ['larder', 'pyodide']) {
        const r = rows[which][phase];
        const t = r.map((x) => x.ms);
        summary[`${which}_${phase}${suffix}`] = { ms: median(t), bytes: median(r.map((x) => x.bytes)),
          stdlib_bytes: median(r.map((x) => x.stdlib_bytes)) };
        console.log(`${phase} ${which.padEnd(8)} ${median(t).toFixed(0)} ms (${Math.min(...t).toFixed(0)}-${Math.max(...t).toFixed(0)}), `
          + `${(median(r.map((x) => x.bytes)) / 1e6).toFixed(3)} MB`
          + (which === 'larder' ? ` (stdlib modules ${(median(r.map((x) => x.stdlib_bytes)) / 1e6).toFixed(3)} MB of it)` : ''));
      }
      const l = summary[`larder_${phase}${suffix}`], p = summary[`pyodide_${phase}${suffix}`];
      console.log(`${phase} ratio larder/pyodide: time ${(l.ms / p.ms).toFixed(2)}x, bytes ${p.bytes ? (l.bytes / p.bytes).toFixed(2) + 'x' : `${l.bytes} vs 0`}`);
    }
  }
  const out = path.join(root, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(path.join(out, `loadpackage-${date}.json`), JSON.stringify({ date, machine: { cores: os.cpus().length,
    model: os.cpus()[0].model }, reps: REPS, packages: files, code: CODE, waits_ms: WAYS, rows: byWay.ready,
    rows_idle: byWay.idle, summary }, null, 1));
  fs.rmSync(work, { recursive: true, force: true });
})().catch((e) => { console.error(e); process.exit(1); });
