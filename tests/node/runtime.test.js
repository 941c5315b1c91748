/*
 * runtime.test.js - the wasm runtime under Node, with the browser's
 * filesystem layout (MEMFS, stdlib bundles written by larder-runtime.js).
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runtime } = require('../lib/paths');
const { sideModule } = require('../lib/wasm');
const { start } = require(path.join(runtime, 'larder-runtime.js'));

const CLI = path.join(runtime, 'larder-python');

function python(args, opts = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000, ...opts });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/* An in-process interpreter whose output is collected. */
async function interpreter(bundles = ['python311.zip', 'stdlib-full.zip']) {
  const out = [];
  const err = [];
  const py = await start({ baseUrl: runtime, bundles, sideModules: bundles.length > 1,
    stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { py, out, err };
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

test('print("hello") from the command line', () => {
  const r = python(['-c', "print('hello')"]);
  assert.equal(r.err, '');
  assert.equal(r.out, 'hello\n');
  assert.equal(r.code, 0);
});

test('_larder.selftest() checks a frame made by the native zstd tool at build time', () => {
  const r = python(['-c', 'import _larder, json; print(json.dumps(_larder.selftest()))']);
  assert.equal(r.code, 0, r.err);
  const result = JSON.parse(r.out);
  assert.equal(result.zstd, '1.5.4');
  assert.equal(result.libsodium, '1.0.18');
  assert.ok(result.compressed < result.size, 'the vector is really compressed');
  assert.match(result.sha256, /^[0-9a-f]{64}$/);
});

test('a fresh frame from the native zstd tool decompresses to the same bytes and digest', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-zstd-'));
  const data = Buffer.concat([crypto.randomBytes(4096), Buffer.alloc(200000, 'larder ')]);
  fs.writeFileSync(path.join(dir, 'data'), data);
  execFileSync('zstd', ['-q', '-19', path.join(dir, 'data'), '-o', path.join(dir, 'data.zst')]);
  const frame = fs.readFileSync(path.join(dir, 'data.zst'));
  fs.rmSync(dir, { recursive: true });

  const { py, out, err } = await interpreter();
  py.FS.writeFile('/tmp/data.zst', frame);
  const ok = py.run(`
import _larder
frame = open('/tmp/data.zst', 'rb').read()
data = _larder.zstd_decompress(frame, ${data.length})
print(len(data), _larder.sha256(data))
try:
    _larder.zstd_decompress(frame[:-7], ${data.length})
except _larder.CorruptError as e:
    print('truncated:', isinstance(e, ImportError), e)
try:
    _larder.zstd_decompress(frame, ${data.length - 1})
except _larder.CorruptError as e:
    print('limit:', e)
try:
    _larder.zstd_decompress(b'not zstd at all', 100)
except _larder.CorruptError as e:
    print('garbage:', e)
`);
  assert.ok(ok, err.join('\n'));
  assert.equal(out[0], `${data.length} ${sha256(data)}`);
  assert.match(out[1], /^truncated: True zstd frame is damaged or truncated/);
  assert.match(out[2], /^limit: zstd frame declares \d+ bytes, above the limit of \d+/);
  assert.match(out[3], /^garbage: not a zstd frame/);
});

test('the core bundle alone starts the interpreter and holds only what startup imports', () => {
  const r = python(['--core-only', '-c', `
import sys
loaded = sorted(n for n, m in sys.modules.items()
                if getattr(getattr(m, '__spec__', None), 'origin', None) not in (None, 'frozen', 'built-in'))
print(' '.join(loaded))
try:
    import json
except ModuleNotFoundError as e:
    print('missing:', e.name)
`]);
  assert.equal(r.code, 0, r.err);
  const [loaded, missing] = r.out.trim().split('\n');
  assert.deepEqual(loaded.split(' '), ['encodings', 'encodings.aliases', 'encodings.utf_8']);
  assert.equal(missing, 'missing: json');
  const listed = execFileSync('python3', ['-c',
    `import zipfile,sys; print(' '.join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))`,
    path.join(runtime, 'python311.zip')], { encoding: 'utf8' }).trim().split(' ');
  // what startup imports, and larder's own modules (its matplotlib backend, larder.js's values,
  // the js module and pyodide.ffi)
  assert.deepEqual(listed, ['encodings/__init__.pyc', 'encodings/aliases.pyc', 'encodings/utf_8.pyc', 'js.pyc',
    'larder.pyc', 'larder_matplotlib.pyc', 'larder_page.pyc', 'pyodide/__init__.pyc', 'pyodide/ffi.pyc']);
});

test('the idle warm-up runs on the core bundle alone: it fetches nothing and leaves nothing behind', () => {
  // it imports a module of its own from a directory it then removes, with every trace of it
  const r = python(['--core-only', '-c', `
import gc, os, sys, larder_page
before, finders, path = set(sys.modules), set(sys.path_importer_cache), list(sys.path)
g = dict(globals())
counts = [larder_page.warm_up() for _ in range(3)]
gc.collect()
print(counts, sorted(set(sys.modules) - before), sorted(set(globals()) - set(g) - {'g', 'counts'}))
print(sorted(set(sys.path_importer_cache) ^ finders), sys.path == path, os.path.exists(larder_page._WARM_DIR))
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '[15, 15, 15] [] []\n[] True False\n');
});

test('an idle warm-up slice ends at its next step once the page has sent a message', () => {
  // page_waiting is asked between the slice's steps: 10 times in a slice that runs to its end
  const r = python(['--core-only', '-c', `
import larder_page
asked = []
def waiting():
    asked.append(1)
    return len(asked) == 4
whole = []
print(larder_page.warm_up(lambda: whole.append(1)), len(whole), larder_page.warm_up(waiting), len(asked))
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '15 10 0 4\n');
});

test('C methods, getters and setters are called from wasm, whatever parameters they declare (loader/trampoline.c)', () => {
  // CPython's JavaScript trampolines are replaced at link time: python.wasm no longer imports them
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(fs.readFileSync(path.join(runtime, 'python.wasm'))))
    .map((i) => i.name).filter((n) => /trampoline/i.test(n)).sort();
  assert.deepEqual(imports, ['_PyImport_InitFunc_TrampolineCall']);
  const r = python(['-c', `
import array, fractions
f = lambda: 0
f.__name__ = "g"                      # a setter declaring 3 parameters
print((3 + 4j).real, (7).numerator, fractions.Fraction(3, 4).denominator, f.__name__, f.__qualname__)  # getters
print([].__len__(), "a".upper(), len("abc"), "a b".split(), "x".join(["1", "2"]))  # NOARGS, O, FASTCALL
print(array.array("i", [1, 2]).itemsize, sorted([3, 1], reverse=True), dict.fromkeys("ab", 0))
try:
    f.__name__ = 3
except TypeError as e:
    print(e)
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "3.0 7 4 g <lambda>\n0 A 3 ['a', 'b'] 1x2\n4 [3, 1] {'a': 0, 'b': 0}\n"
    + '__name__ must be set to a string object\n');
});

test('the C libraries built from Debian sources work: zlib, bz2, lzma, sqlite3, decimal, expat', () => {
  const r = python(['-c', `
import zlib, bz2, lzma, sqlite3, decimal, xml.etree.ElementTree as ET, json, hashlib, binascii
blob = b'larder' * 1000
assert zlib.decompress(zlib.compress(blob)) == blob
# binascii's crc32 is zlib's, which python.wasm exports for it (builder/runtime/exports.txt)
assert binascii.crc32(blob) == zlib.crc32(blob) == 1715302045, binascii.crc32(blob)
assert bz2.decompress(bz2.compress(blob)) == blob
assert lzma.decompress(lzma.compress(blob)) == blob
db = sqlite3.connect(':memory:')
db.execute('create table t (x)'); db.executemany('insert into t values (?)', [(i,) for i in range(10)])
print(db.execute('select sum(x) from t').fetchone()[0], sqlite3.sqlite_version)
print(decimal.Decimal(1) / decimal.Decimal(7))
print(ET.fromstring('<a><b>ok</b></a>').find('b').text, hashlib.sha256(b'').hexdigest()[:8])
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '45 3.40.1\n0.1428571428571428571428571429\nok e3b0c442\n');
});

test('stdlib extension modules not needed at startup are side modules, loaded on import', () => {
  const r = python(['-c', `
import sys
lazy = ['_decimal', '_sqlite3', 'unicodedata', 'pyexpat', '_elementtree', '_lzma', '_bz2',
        '_multibytecodec', '_codecs_cn', '_codecs_hk', '_codecs_iso2022', '_codecs_jp', '_codecs_kr', '_codecs_tw']
print(sorted(set(lazy) & set(sys.builtin_module_names)))
import _decimal, unicodedata, _codecs_jp
print(_decimal.__file__.endswith('lib-dynload/_decimal.cpython-311-wasm32-emscripten.so'))
print(unicodedata.name('\u00e9'), '\u65e5\u672c'.encode('shift_jis') == b'\\x93\\xfa\\x96{',
      '\u4e2d'.encode('gb18030') == b'\\xd6\\xd0')
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '[]\nTrue\nLATIN SMALL LETTER E WITH ACUTE True True\n');
});

test('a C extension that needs a symbol nothing defines fails alone, naming it; later ones still load', () => {
  // emscripten's linker left such a symbol in its GOT at 0, so that every
  // later dlopen failed on it, and took the failed library for loaded, so
  // that importing it again found no init function (builder/runtime/patch-dylink.js)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-dylink-'));
  const so = (name, imports) => fs.writeFileSync(path.join(dir, `${name}.cpython-311-wasm32-emscripten.so`), sideModule(imports));
  so('needs_missing', [['GOT.mem', 'no_such_table', 'global']]);
  so('needs_missing_too', [['GOT.mem', 'no_such_table', 'global'], ['GOT.func', 'PyLong_FromLong', 'global']]);
  so('needs_c_api', [['GOT.mem', 'PyExc_TypeError', 'global'], ['GOT.func', 'PyFloat_FromDouble', 'global']]);
  const r = python(['-c', `
import sys
sys.path.insert(0, '.')
for name in ['needs_missing', 'needs_missing_too', 'needs_c_api', 'needs_missing']:
    try:
        __import__(name)
    except ImportError as e:
        print(name, str(e).splitlines()[-1])
`], { cwd: dir });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 0, r.err);
  const missing = 'Error: undefined symbol `no_such_table`: neither python.wasm nor a library loaded before defines it '
    + '(the package was built for another runtime)';
  assert.equal(r.out, [`needs_missing ${missing}`, `needs_missing_too ${missing}`,
    // linked: what fails is Python's next step, the module's init function
    'needs_c_api dynamic module does not define module export function (PyInit_needs_c_api)',
    `needs_missing ${missing}`, ''].join('\n'));
});

test('_larder.Index verifies and resolves in wasm', () => {
  const r = python(['-c', `
import _larder
sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
def pkg(name, deps, imports):
    return f'"{name}": {{"name": "{name}", "version": "1", "file_name": "{name}-1-0.tar.zst", "sha256": "{sha}", "imports": {imports}, "depends": {deps}}}'
doc = '{"info": {"serial": 4}, "packages": {' + ', '.join([
    pkg('app', '["lib", "six"]', '["app"]'), pkg('lib', '["six"]', '["lib_core", "lib"]'), pkg('six', '[]', '["six"]')]) + '}}'
index = _larder.Index(doc.encode(), allow_unsigned=True)
print(len(index), index.info['serial'], index.provider('lib_core.sub'), index.resolve(['app']))
print(index.get('SIX')['file_name'], index.get('nope'))
for bad in (dict(), dict(allow_unsigned=True, min_serial=5), dict(key='ed25519:AAAA')):
    try:
        _larder.Index(doc.encode(), **bad)
    except _larder.IndexError as e:
        print(type(e).__name__, issubclass(type(e), ImportError), str(e)[:40])
try:
    index.resolve(['app', 'ghost'])
except _larder.LoadError as e:
    print(e)
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, [
    "3 4 lib ['six', 'lib', 'app']",
    'six-1-0.tar.zst None',
    'IndexError True no public key is pinned and unsigned ind',
    'IndexError True index serial 4 is older than serial 5 se',
    'IndexError True public key is not base64 of 32 bytes aft',
    "package 'ghost' is not in the index",
    ''].join('\n'));
});

test('time.sleep returns (clock_nanosleep workaround)', () => {
  const r = python(['-c', 'import time; t = time.monotonic(); time.sleep(0.05); print(time.monotonic() - t >= 0.04)']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'True\n');
});

test('exit status and tracebacks reach the shell', () => {
  let r = python(['-c', 'raise SystemExit(3)']);
  assert.equal(r.code, 3);
  r = python(['-c', '1/0']);
  assert.equal(r.code, 1);
  assert.match(r.err, /ZeroDivisionError: division by zero/);
});

test('a script in the host working directory runs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-script-'));
  fs.writeFileSync(path.join(dir, 'hi.py'), 'import sys\nprint("script", sys.argv[1:])\n');
  const r = python(['hi.py', 'a', 'b'], { cwd: dir });
  fs.rmSync(dir, { recursive: true });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "script ['a', 'b']\n");
});

test('run() keeps __main__ between calls and survives errors and SystemExit', async () => {
  const { py, out, err } = await interpreter();
  assert.equal(py.run('x = 20'), true);
  assert.equal(py.run('print(x + 1)'), true);
  assert.equal(py.run('raise ValueError("boom")'), false);
  assert.ok(err.some((l) => l === 'ValueError: boom'), err.join('\n'));
  assert.equal(py.run('raise SystemExit(2)'), false);
  assert.equal(py.run('print(x + 2)'), true);
  assert.deepEqual(out, ['21', '22']);
});

test('python.wasm exports the C API and builder/runtime/exports.txt, no more, and runs no data relocations at start', () => {
  const mod = new WebAssembly.Module(fs.readFileSync(path.join(runtime, 'python.wasm')));
  const symbols = fs.readFileSync(path.join(runtime, 'python.symbols'), 'utf8').trim().split('\n');
  const glue = fs.readFileSync(path.join(runtime, 'python.js'), 'utf8');
  const wasmExports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  // every name promised to side modules is a wasm export or a JS function the glue puts on Module
  const missing = symbols.filter((s) => !wasmExports.has(s) && !glue.includes(`Module["_${s}"]=`));
  assert.deepEqual(missing, []);
  assert.ok(symbols.includes('PyFloat_FromDouble') && symbols.includes('PyExc_TypeError') && symbols.includes('getaddrinfo'));
  // what side modules need and nothing else of libc: none of libc++'s 4,600 symbols, no iconv (libxml2 carries it)
  assert.deepEqual([...wasmExports].filter((n) => n.startsWith('_ZNSt') || n.startsWith('iconv')), []);
  // apply-relocs.js wrote the data's pointers into the data segment: the code section shrank by
  // the 574 KB of stores __wasm_apply_data_relocs held; what is left is well under 3 MB
  const code = WebAssembly.Module.customSections(mod, 'name').length === 0 && fs.statSync(path.join(runtime, 'python.wasm')).size;
  assert.ok(code < 4.0e6, `python.wasm is ${code} bytes`);
});
