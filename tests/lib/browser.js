/*
 * browser.js - Debian's Chromium driven by playwright-core, launched the way
 * this machine needs it (no network beyond loopback, fresh profile).
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const EXECUTABLE = process.env.LARDER_CHROMIUM || '/usr/bin/chromium';

async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    profile,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/* Chromium's trace events (of every process of the browser: the page, its
 * workers, V8's compile threads) recorded while `during` runs, for the
 * categories given (default: the timeline's and V8's wasm events, where
 * v8.wasm.moduleCacheHit and wasm.CompileLazy are). */
async function traced(page, during, categories = 'disabled-by-default-devtools.timeline,v8.wasm') {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (m) => events.push(...m.value));
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', { categories, transferMode: 'ReportEvents' });
  try {
    await during();
  } finally {
    await cdp.send('Tracing.end');
    await complete;
    await cdp.detach();
  }
  return events;
}

/* What a trace says of a page load: hits, the file names of the wasm
 * modules that came from the code cache; hit, whether the runtime's
 * (python.wasm, or Pyodide's pyodide.asm.wasm) is among them; lazy, how
 * many functions V8 compiled on first call. */
function wasmLoad(events) {
  const hits = events.filter((e) => e.name === 'v8.wasm.moduleCacheHit').map((e) => e.args.url.replace(/.*\//, ''));
  return {
    hits,
    hit: hits.some((name) => /^(python|pyodide\.asm)\.wasm$/.test(name)),
    lazy: events.filter((e) => e.name === 'wasm.CompileLazy').length,
  };
}

module.exports = { launch, traced, wasmLoad };
