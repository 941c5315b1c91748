/*
 * stdlib-ext.test.js - the whole standard library through a signed index,
 * from an empty cache, in the wasm runtime under Node: every name of
 * sys.stdlib_module_names imports but the ones a browser cannot have (the
 * list docs/loader.md gives), and the modules built on libffi and OpenSSL work:
 * ctypes (C functions of the runtime, structures, pointers, callbacks),
 * hashlib (OpenSSL fetched only when an algorithm needs it; digests equal
 * the host's), ssl (a TLS handshake between two in-memory contexts).
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { root, runtime } = require('../lib/paths');
const { serve } = require('../lib/static-server');
const { makeKey, readEntries, writeRepo } = require('../lib/repo');
const { run } = require('../lib/run');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-stdlib-ext-'));
const key = makeKey();
let server;

/* A fresh run: no --cache, so every package comes from the server. */
const python = (code) => run(process.execPath, [path.join(runtime, 'larder-python'),
  '--index', `${server.url}/index.json`, '--key', key.text, '-c', code], { timeoutMs: 300000 });
const fetched = (pkg) => server.log.filter((l) => l.startsWith(`GET /${pkg}-3.11.2-0.tar.zst`)).length;

test.before(async () => {
  writeRepo(path.join(work, 'repo'), readEntries(path.join(root, 'build', 'stdlib')), { key, serial: 1 });
  server = await serve({ routes: { '/': path.join(work, 'repo') } });
});

test.after(async () => {
  if (server) await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

// What a browser cannot have, with the reasons of docs/loader.md ("What the standard
// library lacks"): each fails with larder's ModuleNotFoundError.
const CANNOT = {
  terminal: ['_curses', '_curses_panel', 'curses', 'readline', 'termios', 'pty', 'tty'],
  unix: ['_multiprocessing', '_posixshmem', '_posixsubprocess', 'fcntl', 'grp', 'nis', 'pwd', 'resource', 'spwd',
    'syslog'],
  libraries: ['_dbm', '_gdbm', '_uuid', 'ossaudiodev'],
  tk: ['_tkinter', 'tkinter', 'idlelib', 'turtle', 'turtledemo'],
  'other systems': ['_msi', 'msilib', '_overlapped', '_winapi', 'msvcrt', 'nt', 'winreg', 'winsound', '_scproxy'],
};

test('every module of sys.stdlib_module_names imports from an empty cache, but the 35 a browser cannot have', async () => {
  const r = await python(`
import sys, io, contextlib
failed = []
for name in sorted(sys.stdlib_module_names):
    if name in ('antigravity', 'this'):
        continue  # a web browser opened, the Zen printed
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            __import__(name)
    except ModuleNotFoundError as e:
        failed.append(name)
    except BaseException as e:
        failed.append(f'{name}: {type(e).__name__}: {e}')
print(len(sys.stdlib_module_names))
print(' '.join(failed))
print(all(m in sys.modules for m in ('ctypes', '_ctypes', 'ssl', '_ssl', '_hashlib')))
`);
  assert.equal(r.code, 0, r.err);
  const [total, failed, extOk] = r.out.trim().split('\n');
  assert.equal(total, '305');
  const expected = Object.values(CANNOT).flat();
  assert.equal(expected.length, 35);
  assert.deepEqual(failed.split(' ').sort(), expected.sort());
  assert.equal(extOk, 'True');
});

test('hashlib: builtin algorithms fetch no OpenSSL; OpenSSL\'s come on first use, with the host\'s digests', async () => {
  const before = fetched('_hashlib');
  const cases = `
print(hashlib.sha256(b'larder').hexdigest(), hashlib.md5(b'x').hexdigest(), hashlib.blake2b(b'x', digest_size=8).hexdigest())
print(hashlib.new('sha512_256', b'abc').hexdigest(), hashlib.new('ripemd160', b'abc').hexdigest())
print(hashlib.pbkdf2_hmac('sha256', b'password', b'salt', 4096).hex())
print(hashlib.scrypt(b'password', salt=b'NaCl', n=1024, r=8, p=16, dklen=32).hex())
print(hmac.new(b'key', b'message', 'sha512_256').hexdigest())
print(sorted(hashlib.algorithms_guaranteed - hashlib.algorithms_available))
`;
  const host = execFileSync('/usr/bin/python3.11', ['-c', `import hashlib, hmac\n${cases}`], { encoding: 'utf8' });
  const r = await python(`
import sys, hashlib, hmac
print('_hashlib' in sys.modules)
hashlib.sha256(b'x'); hmac.new(b'k', b'm', 'sha256').digest()
print('_hashlib' in sys.modules)
${cases}
print('_hashlib' in sys.modules)
`);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.deepEqual(lines.slice(0, 2), ['False', 'False']);
  assert.equal(lines.slice(2, -1).join('\n'), host.trim());
  assert.equal(lines.at(-1), 'True');
  assert.equal(fetched('_hashlib') - before, 1);
});

test('codecs: a single-byte codec fetches encodings alone; a CJK codec its own module and _multibytecodec', async () => {
  const counts = () => ['encodings', '_multibytecodec', '_codecs_jp', '_codecs_cn', '_codecs_kr']
    .map((name) => fetched(name));
  const before = counts();
  const r = await python(`
import sys
print('\u00e9\u2500'.encode('cp437').hex(), sorted(m for m in sys.modules if m.startswith('_codecs_') or m == '_multibytecodec'))
print('\u65e5\u672c'.encode('shift_jis').hex(), sorted(m for m in sys.modules if m.startswith('_codecs_') or m == '_multibytecodec'))
`);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "82c4 []\n93fa967b ['_codecs_jp', '_multibytecodec']\n");
  assert.deepEqual(counts().map((n, i) => n - before[i]), [1, 1, 1, 0, 0]);
});

// CDLL(None) is python.wasm: CPython's C API and the C library functions
// of builder/runtime/exports.txt (what side modules import), not all of libc
test('ctypes: CDLL(None), C functions of the runtime, structures, pointers, callbacks', async () => {
  const r = await python(`
import ctypes, ctypes.util
print(ctypes.sizeof(ctypes.c_void_p), ctypes.util.find_library('c'), ctypes.util.find_library('m'))
libc = ctypes.CDLL(None)
print(libc.strlen(b'larder'))
libc.strtoll.restype = ctypes.c_longlong
libc.strtoll.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
libc.strtod.restype = ctypes.c_double
libc.strtod.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
end = ctypes.c_char_p()
print(libc.strtoll(b'-1099511627776', None, 10), libc.strtod(b'2.5e3xyz', ctypes.byref(end)), end.value)
try:
    libc.llabs
except AttributeError as e:
    print('AttributeError', 'llabs' in str(e))

class Point(ctypes.Structure):
    _fields_ = [('x', ctypes.c_int), ('y', ctypes.c_short)]
p = Point(1, 2)
ptr = ctypes.pointer(p)
ptr.contents.x = 10
print(p.x, p.y, ctypes.sizeof(Point), ctypes.addressof(p) == ctypes.addressof(ptr.contents))
buf = ctypes.create_string_buffer(b'abcdef', 10)
libc.memset(ctypes.byref(buf, 1), ord('z'), 2)
print(buf.value, ctypes.string_at(ctypes.addressof(buf) + 3, 3))

values = (ctypes.c_int * 6)(5, 1, 7, 33, 99, -4)
calls = []
@ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
def compare(a, b):
    calls.append(1)
    return a[0] - b[0]
libc.qsort(values, len(values), ctypes.sizeof(ctypes.c_int), compare)
print(list(values), len(calls) > 0)
ctypes.pythonapi.Py_GetVersion.restype = ctypes.c_char_p
print(ctypes.pythonapi.Py_GetVersion().split()[0].decode())
try:
    ctypes.CDLL('libnothere.so')
except OSError as e:
    print('OSError', 'libnothere.so' in str(e))
`);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, ['4 None None', '6', '-1099511627776 2500.0 b\'xyz\'', 'AttributeError True', '10 2 8 True', 'b\'azzdef\' b\'def\'',
    '[-4, 1, 5, 7, 33, 99] True', '3.11.2', 'OSError True', ''].join('\n'));
});

test('ssl: OpenSSL 3.0, a TLS 1.3 handshake between two in-memory contexts; no sockets, said plainly', async () => {
  const certs = fs.mkdtempSync(path.join(work, 'cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=larder.test', '-days', '1', '-keyout', path.join(certs, 'key.pem'), '-out', path.join(certs, 'cert.pem')],
  { stdio: 'ignore' });
  const pem = (f) => JSON.stringify(fs.readFileSync(path.join(certs, f), 'utf8'));
  const r = await python(`
import ssl, socket
print(ssl.OPENSSL_VERSION.split()[:2])
open('/tmp/cert.pem', 'w').write(${pem('cert.pem')})
open('/tmp/key.pem', 'w').write(${pem('key.pem')})
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain('/tmp/cert.pem', '/tmp/key.pem')
client_ctx = ssl.create_default_context(cafile='/tmp/cert.pem')
c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
client = client_ctx.wrap_bio(c_in, c_out, server_hostname='larder.test')
server = server_ctx.wrap_bio(s_in, s_out, server_side=True)

def pump():
    for src, dst in ((c_out, s_in), (s_out, c_in)):
        data = src.read()
        if data:
            dst.write(data)

done = set()
for _ in range(10):
    for end in (client, server):
        if end not in done:
            try:
                end.do_handshake()
                done.add(end)
            except ssl.SSLWantReadError:
                pass
    pump()
client.write(b'ping')
pump()
print(len(done), client.version(), server.read(4), client.getpeercert()['subject'][0][0][1])
try:
    ssl.create_default_context().wrap_socket(socket.socket(), server_hostname='example.org')
except OSError as e:
    print(type(e).__name__, 'no TLS over sockets' in str(e), 'MemoryBIO' in str(e))
`);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "['OpenSSL', '3.0.17']\n2 TLSv1.3 b'ping' larder.test\nOSError True True\n");
});
