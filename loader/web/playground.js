/*
 * playground.js - the playground page: a CodeMirror editor, the interpreter
 * in a Web Worker (larder's worker.js), output streamed as it is printed,
 * input() answered in the page, Stop (KeyboardInterrupt), download progress
 * and which packages came from the cache; the code is kept across reloads
 * (localStorage) and shared as a link (the code in the URL fragment), a few
 * examples are one click away, and the page lists what the mirror offers.
 * Bundled by esbuild at build time.
 */
import { EditorView, basicSetup } from 'codemirror';
import { keymap } from '@codemirror/view';
import { python } from '@codemirror/lang-python';

const $ = (id) => document.getElementById(id);
const out = $('out');
const config = window.LARDER_CONFIG || null;
const SAMPLE = `# Packages load on import: nothing was declared up front.
import sqlite3, dateutil.parser
db = sqlite3.connect(":memory:")
print("sqlite", sqlite3.sqlite_version, "says", db.execute("select 6 * 7").fetchone()[0])
print("2026-11-25 is a", dateutil.parser.parse("2026-11-25").strftime("%A"))
name = input("Your name? ")
print(f"Hello, {name}!")
`;

const EXAMPLES = {
  'Packages on import': SAMPLE,
  'numpy': `import numpy as np
a = np.arange(12).reshape(3, 4)
print(a @ a.T)
print("eigenvalues:", np.linalg.eigvalsh(a @ a.T).round(2))
`,
  'A matplotlib figure': `import matplotlib.pyplot as plt
import numpy as np
x = np.linspace(0, 6.28, 200)
plt.plot(x, np.sin(x), label="sin")
plt.plot(x, np.cos(x), label="cos")
plt.legend()
plt.show()
`,
  'input()': `name = input("Your name? ")
print(f"Hello, {name}!")
`,
};

/* The code in a link: #code=BASE64URL(UTF-8). */
const KEPT = 'larder-playground-code';
function codeFromLink() {
  const m = /^#code=([A-Za-z0-9_-]*)$/.exec(location.hash);
  if (!m) return null;
  try {
    const bin = atob(m[1].replace(/-/g, '+').replace(/_/g, '/'));
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch (e) {
    return null;
  }
}
function linkFor(code) {
  const bin = String.fromCharCode(...new TextEncoder().encode(code));
  return `${location.origin}${location.pathname}#code=${btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}
function keptCode() {
  try {
    return localStorage.getItem(KEPT);
  } catch (e) {
    return null;  // storage disabled: start from the sample
  }
}

const editor = new EditorView({
  doc: codeFromLink() ?? keptCode() ?? SAMPLE,
  parent: $('editor'),
  extensions: [basicSetup, python(), keymap.of([{ key: 'Mod-Enter', run: () => { run(); return true; } }]),
    EditorView.updateListener.of((u) => {
      if (!u.docChanged) return;
      try {
        localStorage.setItem(KEPT, u.state.doc.toString());
      } catch (e) { /* storage disabled or full: the code is simply not kept */ }
    })],
});
const setCode = (code) => editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: code } });

for (const name of Object.keys(EXAMPLES)) $('examples').append(new Option(name, name));
$('examples').onchange = () => {
  if ($('examples').value) setCode(EXAMPLES[$('examples').value]);
  $('examples').value = '';
};
$('share').onclick = async () => {
  const link = linkFor(editor.state.doc.toString());
  history.replaceState(null, '', link);
  try {
    await navigator.clipboard.writeText(link);
    $('shared').textContent = 'Link copied.';
  } catch (e) {
    $('shared').textContent = 'The link is in the address bar.';
  }
};

/* What the mirror offers: the packages of its index (the loader verifies
 * the index itself; this list is only for reading). */
async function listPackages() {
  if (!config || !config.indexUrl) return;
  try {
    const index = await (await fetch(config.indexUrl)).json();
    const all = Object.values(index.packages || {});
    const own = all.filter((p) => p.package_type !== 'cpython_module').map((p) => `${p.name} ${p.version}`).sort();
    $('offers').textContent = `The mirror offers ${own.length} package(s) and ${all.length - own.length} stdlib `
      + `modules: ${own.join(', ')}.`;
  } catch (e) {
    $('offers').textContent = `The mirror's package list could not be read (${e.message}).`;
  }
}

// Shared memory with the worker: interrupts and input() (the mirror's
// COOP/COEP headers make the page cross-origin isolated).
const shared = self.crossOriginIsolated;
const interruptBuffer = shared ? new SharedArrayBuffer(1) : null;
const inputBuffer = shared ? new SharedArrayBuffer(8 + 65536) : null;

let worker = null;
let running = false;
let ran = { downloaded: [], cached: [] };
let partial = null;  // the span holding a prompt printed without a newline

function write(text, cls, isPartial) {
  const span = partial || document.createElement('span');
  if (cls) span.className = cls;
  span.textContent += text + (isPartial ? '' : '\n');
  if (!partial) out.appendChild(span);
  partial = isPartial ? span : null;
  out.scrollTop = out.scrollHeight;
}

/* What the program displays (plt.show(), larder.display()): images inline. */
function show(mime, data) {
  if (!mime.startsWith('image/')) {
    write(`[cannot show ${mime}]`, 'err');
    return;
  }
  const img = document.createElement('img');
  img.className = 'figure';
  img.alt = 'figure';
  img.src = URL.createObjectURL(new Blob([data], { type: mime }));
  out.appendChild(img);
  partial = null;
  out.scrollTop = out.scrollHeight;
}

function askInput() {
  const field = document.createElement('input');
  field.setAttribute('aria-label', 'input');
  out.appendChild(field);
  partial = null;
  field.focus();
  field.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    const text = field.value;
    field.replaceWith(document.createTextNode(text + '\n'));
    answer(text);
  });
}

function answer(text) {
  const control = new Int32Array(inputBuffer, 0, 2);
  const bytes = new TextEncoder().encode(text === null ? '' : text);
  new Uint8Array(inputBuffer, 8).set(bytes.subarray(0, 65536));
  Atomics.store(control, 1, text === null ? -1 : Math.min(bytes.length, 65536));
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
}

function setRunning(on) {
  running = on;
  $('run').disabled = on;
  $('stop').disabled = !on || !shared;
}

function start() {
  const t0 = performance.now();
  worker = new Worker('/runtime/worker.js');
  worker.onmessage = (e) => {
    const m = e.data;
    if (m.type === 'ready') {
      $('status').textContent = `Ready in ${Math.round(performance.now() - t0)} ms.`;
      $('run').disabled = false;
    } else if (m.type === 'stdout') write(m.text, null, m.partial);
    else if (m.type === 'stderr') write(m.text, 'err', m.partial);
    else if (m.type === 'input-request') askInput();
    else if (m.type === 'progress') {
      $('progress').hidden = m.done === m.total;
      $('progress').max = m.total || 1;
      $('progress').value = m.done;
      $('loading').textContent = m.done === m.total ? '' : `loading ${m.package} (${(m.total / 1024).toFixed(0)} KB)`;
    } else if (m.type === 'display') {
      show(m.mime, m.data);
    } else if (m.type === 'installed') {
      (m.fromCache ? ran.cached : ran.downloaded).push(m.package);
    } else if (m.type === 'done') {
      setRunning(false);
      $('progress').hidden = true;
      $('loading').textContent = '';
      const parts = [];
      if (ran.downloaded.length) parts.push(`downloaded: ${ran.downloaded.join(', ')}`);
      if (ran.cached.length) parts.push(`from the cache: ${ran.cached.join(', ')}`);
      $('cache').textContent = parts.length ? `Packages ${parts.join('; ')}.` : '';
    } else if (m.type === 'error') {
      write(m.message, 'err');
      setRunning(false);
    }
  };
  worker.postMessage({
    type: 'init', interruptBuffer, inputBuffer,
    ...(config ? config : { bundles: ['python311.zip', 'stdlib-full.zip'], sideModules: true }),
  });
}

function run() {
  if (running || $('run').disabled) return;
  out.textContent = '';
  partial = null;
  ran = { downloaded: [], cached: [] };
  $('cache').textContent = '';
  if (interruptBuffer) new Uint8Array(interruptBuffer)[0] = 0;
  setRunning(true);
  worker.postMessage({ type: 'run', id: Date.now(), code: editor.state.doc.toString() });
}

function stop() {
  if (!running || !interruptBuffer) return;
  new Uint8Array(interruptBuffer)[0] = 2;  // SIGINT: KeyboardInterrupt in the program
  const pending = out.querySelector('input');
  if (pending) {  // waiting in input(): end it
    pending.replaceWith(document.createTextNode('\n'));
    answer(null);
  }
}

$('run').onclick = run;
$('stop').onclick = stop;
window.playground = { editor, run, stop, setCode, linkFor };
start();
listPackages();
