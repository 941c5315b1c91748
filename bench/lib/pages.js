/*
 * pages.js - what the browser benchmarks share: a signed mirror of the given
 * archives, the playground page set up twice (larder with the mirror's index,
 * Pyodide 0.24.1 behind bench/firstload/pyodide-runtime/worker.js), each
 * served by its own larder-mirror serve with an access log.
 */
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { root } = require('../../tests/lib/paths');
const { launch } = require('../../tests/lib/browser');

const BIN = path.join(root, 'build', 'bin');
const mirror = (args, opts = {}) => execFileSync(path.join(BIN, 'larder-mirror'), args, opts);

function median(v) { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; }

/* A signed repository in work/repo holding every .tar.zst of dirs; its public key. */
function makeRepo(work, dirs) {
  const repo = path.join(work, 'repo');
  mirror(['init', repo]);
  mirror(['--repo', repo, 'publish',
    ...dirs.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.tar.zst')).map((f) => path.join(d, f)))]);
  mirror(['--repo', repo, 'sign']);
  return { repo, key: mirror(['--repo', repo, 'keys', '--public'], { encoding: 'utf8' }).trim() };
}

/* The playground's repository for the browser benchmarks: work/repo made by
 * larder-mirror init (the runtime's stdlib) with numpy, matplotlib and their
 * native dependencies (build/native) and the pure-Python packages they need,
 * fonttools among them (build/corpus), signed; work/site, the playground
 * pointed at it. {repo, site, key}. */
function playgroundRepo(work) {
  const repo = path.join(work, 'repo');
  mirror(['init', repo]);
  const native = path.join(root, 'build', 'native');
  const corpus = path.join(root, 'build', 'corpus');
  const archives = [...fs.readdirSync(native).map((f) => path.join(native, f)),
    ...fs.readdirSync(corpus).filter((f) => /^(cycler|fonttools|packaging|pyparsing|six|python_dateutil)-/.test(f))
      .map((f) => path.join(corpus, f))].filter((f) => f.endsWith('.tar.zst'));
  mirror(['--repo', repo, 'publish', ...archives]);
  mirror(['--repo', repo, 'sign']);
  const site = path.join(work, 'site');
  fs.cpSync(path.join(root, 'build', 'site'), site, { recursive: true });
  const key = mirror(['--repo', repo, 'keys', '--public'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(site, 'config.js'), `window.LARDER_CONFIG = { indexUrl: '/index.json', key: '${key}' };\n`);
  return { repo, site, key };
}

/* The playground for each side: work/site-larder (the mirror's index and key)
 * and work/site-pyodide (Pyodide's files under pyodide/, the worker told to
 * load the packages a run imports when loadImports). */
function makeSites(work, key, { loadImports = false, sides = ['larder', 'pyodide'] } = {}) {
  const sites = {};
  for (const which of sides) {
    const site = path.join(work, `site-${which}`);
    fs.cpSync(path.join(root, 'build', 'site'), site, { recursive: true });
    fs.writeFileSync(path.join(site, 'config.js'), which === 'larder'
      ? `window.LARDER_CONFIG = { indexUrl: '/index.json', key: '${key}' };\n`
      : `window.LARDER_CONFIG = { loadImports: ${loadImports} };\n`);
    if (which !== 'larder') fs.cpSync(path.join(root, 'node_modules', PYODIDE_PACKAGES[which]), path.join(site, 'pyodide'), { recursive: true });
    sites[which] = site;
  }
  return sites;
}

/* larder-mirror serve of repo with this runtime and site; {child, url, log, requests()}:
 * requests() lists the access log as "METHOD PATH STATUS BYTES" lines. */
async function serve(repo, runtimeDir, site, log) {
  const child = spawn(path.join(BIN, 'larder-mirror'), ['--repo', repo, 'serve', '--listen', '127.0.0.1:0',
    '--runtime', runtimeDir, '--site', site, '--access-log', log]);
  const url = await new Promise((resolve) => {
    let text = '';
    child.stdout.on('data', (d) => { text += d; const m = text.match(/on (http:\/\/127\.0\.0\.1:\d+)\//); if (m) resolve(m[1]); });
  });
  const requests = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [])
    .map((l) => { const m = l.match(/"(\w+) ([^ ]+)[^"]*" (\d+) (\d+)/); return m ? `${m[1]} ${m[2]} ${m[3]} ${m[4]}` : null; })
    .filter(Boolean);
  return { child, url, log, requests, bytes: () => requests().reduce((n, l) => n + Number(l.split(' ').pop()), 0) };
}

/* For each repetition and each side, in a fresh browser profile, two runs:
 * fn(which, phase, page, load) with phase 'cold' then 'warm'; load() opens
 * the page (cold: navigation, warm: a reload) when fn wants it to. */
async function eachRun(servers, reps, fn) {
  for (let rep = 0; rep < reps; rep++) {
    // the sides take turns at going first: the first load after a pause ran slower
    const order = Object.keys(servers);
    if (rep % 2) order.reverse();
    for (const which of order) {
      const browser = await launch();
      const page = await browser.context.newPage();
      for (const phase of ['cold', 'warm']) {
        await fn(which, phase, page, () => (phase === 'cold' ? page.goto(`${servers[which].url}/`) : page.reload()));
      }
      await browser.close();
    }
  }
}

/* Run code in the playground on page and wait for the run to end (at most
 * timeout ms); its output. */
async function runCode(page, code, timeout = 180000) {
  await page.evaluate((c) => window.playground.setCode(c), code);
  await page.click('#run');
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout });
  return page.textContent('#out');
}

const PYODIDE_RUNTIME = path.join(root, 'bench', 'firstload', 'pyodide-runtime');
// the npm packages (package.json) of each Pyodide side: 0.24.1, and the newest, 314.0.7
const PYODIDE_PACKAGES = { pyodide: 'pyodide', pyodide314: 'pyodide-314' };

/* Pyodide's /runtime/ for the playground in dir: the adapter worker, and
 * larder.js, the page's client of the Worker protocol (the same file on
 * both pages). */
function pyodideRuntime(dir, which = 'pyodide') {
  fs.cpSync(PYODIDE_RUNTIME, dir, { recursive: true });
  // the adapter worker of this version is worker.js (the name larder.js starts)
  if (which !== 'pyodide') fs.renameSync(path.join(dir, 'worker-314.js'), path.join(dir, 'worker.js'));
  else fs.rmSync(path.join(dir, 'worker-314.js'));
  const larder = fs.readFileSync(path.join(root, 'build', 'runtime', 'larder.js'), 'utf8');
  const worker = /new Worker\(new URL\('worker\.js', (\w+)\)\.href\)/g;
  if ((larder.match(worker) || []).length !== 2) throw new Error('larder.js no longer starts its workers as pyodideRuntime expects');
  // Pyodide 314 runs only in a module worker
  fs.writeFileSync(path.join(dir, 'larder.js'), which === 'pyodide' ? larder
    : larder.replace(worker, "new Worker(new URL('worker.js', $1).href, { type: 'module' })"));
  return dir;
}

module.exports = { median, makeRepo, makeSites, playgroundRepo, serve, eachRun, runCode, pyodideRuntime };
