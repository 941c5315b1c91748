/*
 * firstload.js - the first load of the playground page, larder against the
 * same page on Pyodide 0.24.1 and on Pyodide 314.0.7, the newest (npm; their
 * worker speaks larder's worker protocol,
 * bench/firstload/pyodide-runtime/worker.js), in one Chromium run,
 * both served by larder-mirror serve with the same headers and the same
 * content encoding: identity, then gzip (every runtime and site file of both
 * precompressed with gzip -9 beside it, served by Accept-Encoding; the
 * archives are zstd already). Chromium does not offer brotli over plain
 * HTTP, so for brotli the bytes are computed: the files each page fetched,
 * compressed with brotli at quality 11.
 * For each encoding and each of 5 repetitions, with a fresh profile: cold
 * load (empty HTTP cache) then a reload (warm HTTP cache): time from
 * navigation to an enabled Run button, to the first output of print('hello')
 * (Run clicked as soon as it is enabled), and the bytes served until then
 * (from the access log); after the cold identity load, the memory of the page
 * with its Worker and wasm memory (performance.measureUserAgentSpecificMemory;
 * the pages are cross-origin isolated). Writes bench/results/firstload-DATE.json
 * and prints a table.
 */
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const os = require('os');
const path = require('path');
const { root, runtime } = require('../tests/lib/paths');
const { median, makeRepo, makeSites, serve, eachRun, pyodideRuntime } = require('./lib/pages');

const REPS = Number(process.env.BENCH_REPS) || 5;  // BENCH_REPS=1: a quick check that it runs
const SIDES = ['larder', 'pyodide', 'pyodide314'];

(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-firstload-'));
  const { repo, key } = makeRepo(work, [path.join(root, 'build', 'stdlib')]);
  const sites = makeSites(work, key, { sides: SIDES });
  // each runtime in a directory of its own, so precompressed copies can sit beside its files
  const runtimes = Object.fromEntries(SIDES.map((which) => [which, path.join(work, `runtime-${which}`)]));
  fs.cpSync(runtime, runtimes.larder, { recursive: true });
  for (const which of SIDES.slice(1)) pyodideRuntime(runtimes[which], which);
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory()
    ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]));
  const precompress = () => {
    for (const dir of [...Object.values(runtimes), ...Object.values(sites)]) {
      for (const f of walk(dir).filter((n) => !/\.(gz|br|zst)$/.test(n))) {
        fs.writeFileSync(`${f}.gz`, zlib.gzipSync(fs.readFileSync(f), { level: 9 }));
      }
    }
  };
  const brotliSize = new Map();
  const brotliBytes = (which, line) => {  // "GET /path 200 bytes" -> the brotli size of that file
    const url = line.split(' ')[1];
    const roots = url.startsWith('/runtime/') ? [runtimes[which], url.slice(9)] : [sites[which], url.slice(1) || 'index.html'];
    const file = path.join(...roots);
    if (!fs.existsSync(file) || /\.(tar\.zst|zst)$/.test(file)) return Number(line.split(' ').pop());
    if (!brotliSize.has(file)) {
      brotliSize.set(file, zlib.brotliCompressSync(fs.readFileSync(file), { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: fs.statSync(file).size } }).length);
    }
    return brotliSize.get(file);
  };
  const results = {};
  for (const encoding of ['identity', 'gzip']) {
    if (encoding === 'gzip') precompress();
    const servers = {};
    for (const which of SIDES) {
      servers[which] = await serve(repo, runtimes[which], sites[which], path.join(work, `access-${which}-${encoding}.log`));
    }
    const requests = (which) => servers[which].requests();
    const rows = Object.fromEntries(SIDES.map((which) => [which, { cold: [], warm: [] }]));
    await eachRun(servers, REPS, async (which, phase, page, load) => {
      const before = requests(which).length;
      await load();
      const ready = await page.waitForFunction(() => !document.getElementById('run').disabled && performance.now(),
        null, { timeout: 120000, polling: 5 }).then((h) => h.jsonValue());
      await page.evaluate(() => { window.playground.setCode("print('hello')"); window.playground.run(); });
      const output = await page.waitForFunction(() => document.getElementById('out').textContent === 'hello\n' && performance.now(),
        null, { timeout: 120000, polling: 5 }).then((h) => h.jsonValue());
      await new Promise((r) => setTimeout(r, 200));  // let the access log catch up
      // memory after start: the page with its Worker and the wasm memory
      // (measureUserAgentSpecificMemory counts both; least of 3 samples)
      let memory = null;
      if (phase === 'cold' && encoding === 'identity') {
        const samples = [];
        for (let i = 0; i < 3; i++) samples.push(await page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes));
        memory = Math.min(...samples);
      }
      const sent = requests(which).slice(before);
      const bytes = sent.reduce((n, l) => n + Number(l.split(' ').pop()), 0);
      // brotli: what the same 200 responses would have weighed (304s send nothing)
      const brotli = sent.reduce((n, l) => n + (l.split(' ')[2] === '200' ? brotliBytes(which, l) : 0), 0);
      rows[which][phase].push({ ready, output, bytes, ...(encoding === 'gzip' ? {} : { brotli_bytes: brotli }),
        ...(memory === null ? {} : { memory }) });
    });
    for (const srv of Object.values(servers)) srv.child.kill('SIGTERM');
    const summary = {};
    console.log(`first load of the playground (${encoding}), median of ${REPS} (min-max); ready = Run enabled; bytes served until the first output`);
    for (const phase of ['cold', 'warm']) {
      for (const which of SIDES) {
        const r = rows[which][phase];
        const pick = (k) => r.map((x) => x[k]);
        summary[`${which}_${phase}`] = { ready_ms: median(pick('ready')), output_ms: median(pick('output')), bytes: median(pick('bytes')),
          ...(encoding === 'identity' ? { brotli_bytes: median(pick('brotli_bytes')) } : {}),
          ...(encoding === 'identity' && phase === 'cold' ? { memory_bytes: median(pick('memory')) } : {}) };
        console.log(`${phase} ${which.padEnd(8)} ready ${median(pick('ready')).toFixed(0)} ms, first output ${median(pick('output')).toFixed(0)} ms `
          + `(${Math.min(...pick('output')).toFixed(0)}-${Math.max(...pick('output')).toFixed(0)}), ${(median(pick('bytes')) / 1e6).toFixed(2)} MB`
          + (encoding === 'identity' ? `, ${(median(pick('brotli_bytes')) / 1e6).toFixed(2)} MB as brotli` : '')
          + (encoding === 'identity' && phase === 'cold' ? `; memory after start ${(median(pick('memory')) / 1e6).toFixed(1)} MB` : ''));
      }
      for (const other of SIDES.slice(1)) {
        const l = summary[`larder_${phase}`], p = summary[`${other}_${phase}`];
        const bytes = p.bytes ? `${(l.bytes / p.bytes).toFixed(2)}x` : `${l.bytes} vs ${p.bytes} (revalidated, nothing sent)`;
        console.log(`${phase} ratios larder/${other}: time to first output ${(l.output_ms / p.output_ms).toFixed(2)}x, bytes ${bytes}`
          + (encoding === 'identity' && p.brotli_bytes ? `, brotli bytes ${(l.brotli_bytes / p.brotli_bytes).toFixed(2)}x` : ''));
      }
    }
    results[encoding] = { rows, summary };
  }
  const out = path.join(root, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(path.join(out, `firstload-${date}.json`), JSON.stringify({ date, machine: { cores: os.cpus().length,
    model: os.cpus()[0].model }, reps: REPS, encodings: results }, null, 1));
  fs.rmSync(work, { recursive: true, force: true });
})().catch((e) => { console.error(e); process.exit(1); });
