/*
 * playground.js - the playground page: a CodeMirror editor, the interpreter
 * in a Web Worker through larder.js (the page's one client of the Worker
 * protocol, loaded from the runtime before this), output streamed as it is printed,
 * input() answered in the page, Stop (KeyboardInterrupt), download progress
 * and which packages came from the cache; the code is kept across reloads
 * (localStorage) and shared as a link (the code in the URL fragment), a few
 * examples are one click away, and the page lists what the mirror offers.
 * Bundled by esbuild at build time into two modules: this one (a few KB)
 * and editor.js (CodeMirror, ~460 KB), imported once the Worker has the
 * interpreter's options (larder.js, starting). Chromium hands a message to
 * a Worker still evaluating its script only once the page's thread is
 * free, and building the editor takes that thread for ~250 ms on a cold
 * load: so the options go first, CPython starts on the other core while
 * the editor is built, and Run is enabled once both are ready. */

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
  'pandas': `import io
import pandas as pd
df = pd.read_csv(io.StringIO("""city,temp
Oslo,-3.5
Lima,24.1
Oslo,-1.0
Lima,25.3"""))
print(df.groupby("city").temp.agg(["min", "max", "mean"]))
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

let editor = null;
const EDITOR_WAIT_MS = 1000;
/* The editor (editor.js, CodeMirror), loaded and built now. */
async function makeEditor() {
  const { createEditor } = await import('./editor.js');
  editor = createEditor({
    doc: codeFromLink() ?? keptCode() ?? SAMPLE,
    parent: $('editor'),
    onRun: () => run(),
    onChange: (text) => {
      try {
        localStorage.setItem(KEPT, text);
      } catch (e) { /* storage disabled or full: the code is simply not kept */ }
    },
  });
}
const setCode = (code) => editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: code } });

for (const name of Object.keys(EXAMPLES)) $('examples').append(new Option(name, name));
$('examples').onchange = () => {
  if (editor && $('examples').value) setCode(EXAMPLES[$('examples').value]);
  $('examples').value = '';
};
$('share').onclick = async () => {
  if (!editor) return;
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

// input() and Stop need shared memory with the Worker (larder.js sets it
// up; the mirror's COOP/COEP headers make the page cross-origin isolated).
const shared = self.crossOriginIsolated;

let py = null;
let running = false;
let installs = [];     // this run's packages: {name, fromCache, version, size, stdlib}
let runStarted = 0;
let partial = null;    // the span holding a prompt printed without a newline
let pendingInput = null;  // resolves the line input() waits for

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

/* input(): a field in the output; the line (null: end of input) resolves
 * what larder.js's stdin returned. */
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
  return new Promise((resolve) => { pendingInput = resolve; });
}

function answer(text) {
  if (pendingInput) pendingInput(text);
  pendingInput = null;
}

/* "Downloaded numpy 1.25.2, six 1.16.0 and 48 stdlib modules, 2.9 MB in 0.7 s." */
function summary(list, verb, withSize) {
  if (!list.length) return '';
  const own = list.filter((p) => !p.stdlib).map((p) => `${p.name} ${p.version}`).sort();
  const std = list.length - own.length;
  const parts = [...own];
  if (std) parts.push(`${std} stdlib module${std === 1 ? '' : 's'}`);
  const names = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0];
  if (!withSize) return `${verb} ${names}.`;
  const mb = list.reduce((n, p) => n + p.size, 0) / 1e6;
  const seconds = (Math.max(...list.map((p) => p.at)) - runStarted) / 1000;
  return `${verb} ${names}, ${mb.toFixed(1)} MB in ${seconds.toFixed(1)} s.`;
}

function setRunning(on) {
  running = on;
  $('run').disabled = on;
  $('stop').disabled = !on || !shared;
}

/* The interpreter, then the editor, built as the interpreter starts; Run
 * is enabled once both are ready. */
async function start() {
  const t0 = performance.now();
  let editorReady = null;
  const buildEditor = () => {
    if (!editorReady) editorReady = makeEditor();
  };
  /* on a slow network the Worker's scripts take a while to come: the
   * editor does not wait for them more than a second */
  setTimeout(buildEditor, EDITOR_WAIT_MS);
  try {
    py = await Larder.create({
      starting: buildEditor,
      runtimeUrl: new URL('/runtime/', location.href).href,
      ...(config ? config : { bundles: ['python311.zip', 'stdlib-full.zip'], sideModules: true }),
      stdout: (text, flags) => write(text, null, flags && flags.partial),
      stderr: (text, flags) => write(text, 'err', flags && flags.partial),
      stdin: askInput,
      progress: (pkg, done, total) => {
        $('progress').hidden = done === total;
        $('progress').max = total || 1;
        $('progress').value = done;
        $('loading').textContent = done === total ? '' : `loading ${pkg} (${(total / 1024).toFixed(0)} KB)`;
      },
      installed: (name, fromCache, info) => installs.push({ name, fromCache, ...info, at: performance.now() }),
      display: show,
    });
  } catch (e) {
    $('status').textContent = `The interpreter could not start: ${e.message}`;
    buildEditor();  // the code can still be read and kept
    return;
  }
  try {
    await editorReady;  // set: create() calls starting before it resolves
  } catch (e) {
    $('status').textContent = `The editor could not be built: ${e.message}`;
    return;
  }
  $('status').textContent = `Ready in ${Math.round(performance.now() - t0)} ms.`;
  $('run').disabled = false;
  // after the Worker has fetched the index: the page's request is a revalidation, not a second download
  listPackages();
}

async function run() {
  if (running || $('run').disabled) return;
  out.textContent = '';
  partial = null;
  installs = [];
  $('cache').textContent = '';
  setRunning(true);
  runStarted = performance.now();
  try {
    await py.runPython(editor.state.doc.toString(), { value: false });
  } catch (e) {
    write(e.message, 'err');
  }
  setRunning(false);
  $('progress').hidden = true;
  $('loading').textContent = '';
  $('cache').textContent = [summary(installs.filter((p) => !p.fromCache), 'Downloaded', true),
    summary(installs.filter((p) => p.fromCache), 'From the cache:', false)].filter(Boolean).join(' ');
}

function stop() {
  if (!running || !shared) return;
  py.interrupt();  // KeyboardInterrupt in the program
  const pending = out.querySelector('input');
  if (pending) {  // waiting in input(): end it
    pending.replaceWith(document.createTextNode('\n'));
    answer(null);
  }
}

$('run').onclick = run;
$('stop').onclick = stop;
window.playground = { get editor() { return editor; }, run, stop, setCode, linkFor,
  persisted: () => (py ? py.persisted() : Promise.resolve()) };
start();
