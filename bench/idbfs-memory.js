/*
 * idbfs-memory.js - what a cached MB costs in memory: IDBFS keeps the whole
 * cache in the Worker's memory. Writes 32 MiB into the cache, reloads the
 * page (the cache comes back from IndexedDB) and compares the page's
 * memory (performance.measureUserAgentSpecificMemory, which counts the
 * Workers) with a start without a cache, in one Chromium run.
 */
'use strict';
const path = require('path');
const { serve } = require('../tests/lib/static-server');
const { launch } = require('../tests/lib/browser');
const { runtime } = require('../tests/lib/paths');

const MB = 32;

async function measure(page) {
  // several samples: the API reports after a GC, at the browser's pace
  const samples = [];
  for (let i = 0; i < 3; i++) samples.push(await page.evaluate(async () => (await performance.measureUserAgentSpecificMemory()).bytes));
  return Math.min(...samples);
}

(async () => {
  const pages = await serve({ routes: { '/runtime/': runtime, '/': path.join(__dirname, '..', 'tests', 'browser', 'pages') } });
  const browser = await launch();
  const page = await browser.context.newPage();
  const start = async (cache) => {
    await page.goto(`${pages.url}/loader.html`);
    await page.evaluate((c) => window.start({ indexUrl: '/none/index.json', allowUnsigned: true, cache: c }), cache);
  };
  await start('memory');
  const base = await measure(page);
  await start('idbfs');
  await page.evaluate((mb) => window.runPython(`
import os
for i in range(${mb}):
    with open(f'/larder/cache/bench-{i}.bin', 'wb') as f:
        f.write(os.urandom(1 << 20))
`), MB);
  await page.evaluate(() => window.saved);
  await start('idbfs');  // a reload: the cache is read back from IndexedDB into memory
  const files = await page.evaluate(() => window.runPython('import os\nprint(len([f for f in os.listdir("/larder/cache") if f.startswith("bench-")]))'));
  const cached = await measure(page);
  const perMb = (cached - base) / (MB * 1048576);
  console.log(JSON.stringify({ cached_mib: MB, files: files.stdout[0], base_bytes: base, with_cache_bytes: cached,
    bytes_per_cached_byte: Number(perMb.toFixed(3)) }));
  await browser.close();
  await pages.close();
})().catch((e) => { console.error(e); process.exit(1); });
