/*
 * loader.test.js - imports that install packages, in the wasm runtime under
 * Node, from a real HTTP server on 127.0.0.1 serving a signed repository:
 * cold imports, the cache, offline starts and a hostile mirror (every
 * stdlib module: stdlib-ext.test.js).
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { bin, root, runtime } = require('../lib/paths');
const { serve } = require('../lib/static-server');
const { makeKey, readEntries, writeRepo } = require('../lib/repo');
const { run } = require('../lib/run');

const CLI = path.join(runtime, 'larder-python');
const BUILD = path.join(bin, 'larder-build');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-loader-'));
const corpus = path.join(work, 'corpus');
const repo = path.join(work, 'repo');
const key = makeKey();
let entries;
let server;

/* The runtime's command line, run asynchronously: the HTTP server lives in
 * this process and must keep answering. */
const runCli = (argv) => run(process.execPath, [CLI, ...argv]);

function python(args, { cache, indexUrl = `${server.url}/index.json`, keyText = key.text } = {}) {
  const opts = ['--index', indexUrl];
  if (keyText) opts.push('--key', keyText);
  if (cache) opts.push('--cache', cache);
  return runCli([...opts, ...args]);
}

const archiveGets = () => server.log.filter((l) => l.startsWith('GET /') && l.includes('.tar.zst'));

test.before(async () => {
  fs.mkdirSync(corpus);
  execFileSync(BUILD, ['dist', '-q', '-o', corpus, 'six', 'pyparsing']);
  execFileSync(BUILD, ['dist', '-q', '-o', corpus, '--depends', 'six', 'python-dateutil']);
  entries = readEntries(path.join(root, 'build', 'stdlib'), corpus);
  writeRepo(repo, entries, { key, serial: 5 });
  server = await serve({ routes: { '/': repo } });
});

test.after(async () => {
  if (server) await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('cold imports: six, dateutil.parser (pulls six), pyparsing; each archive fetched once', async () => {
  server.log.length = 0;
  const r = await python(['-c', `
import six, dateutil.parser, pyparsing, larder
print(six.__version__, dateutil.parser.parse('2026-11-25 12:30').isoformat(), pyparsing.__version__)
print(pyparsing.Word(pyparsing.nums).parseString('1234')[0])
print(sorted(n for n in larder.installed() if n in ('six', 'python-dateutil', 'pyparsing')))
print(larder.info('six')['version'], 'numpy' in larder.available())
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "1.16.0 2026-11-25T12:30:00 3.0.9\n1234\n['pyparsing', 'python-dateutil', 'six']\n1.16.0 False\n");
  const gets = archiveGets();
  assert.equal(new Set(gets).size, gets.length, `an archive was fetched twice: ${gets}`);
  for (const f of ['six-1.16.0-0', 'python_dateutil-2.8.2-0', 'pyparsing-3.0.9-0']) {
    assert.ok(gets.some((l) => l.startsWith(`GET /${f}.tar.zst 200`)), `${f} fetched`);
  }
});

test('larder.prefetch(): what importing modules would install starts downloading, nothing installs; imports then use those downloads', async () => {
  server.log.length = 0;
  const r = await python(['-c', `
import larder
print(larder.prefetch('six', 'dateutil.parser', 'sys', 'larder', 'no_such_module_x'))
s = larder.stats()
print(s['prefetched'], s['packages'], larder.installed())
import dateutil.parser
print(larder.stats()['prefetched'], 'six' in larder.installed(), larder.prefetch('six', 'dateutil'))
`]);
  assert.equal(r.code, 0, r.err);
  // the archives of six and python-dateutil (sys is built in, larder imported, no_such_module_x in no package)
  assert.equal(r.out, "['six', 'python-dateutil']\n2 0 []\n2 True []\n");
  const gets = archiveGets();
  assert.equal(new Set(gets).size, gets.length, `an archive was fetched twice: ${gets}`);
});

test('archives a prefetch announced are handed over ahead, before the loader asks (no round trip to the helper); '
  + 'one nobody announced is asked for', async () => {
  server.log.length = 0;
  const r = await python(['-c', `
import larder, time
larder.prefetch('dateutil')
time.sleep(2)  # the helper downloads six and python-dateutil meanwhile, and puts them in its slots
larder.install('python-dateutil')
s = larder.stats()
print(s['packages'], s['handed_ahead'], s['hashed_by_platform'])
larder.install('pyparsing')
s = larder.stats()
print(s['packages'], s['handed_ahead'], s['hashed_by_platform'])
import dateutil.parser, pyparsing
print(dateutil.parser.parse('2026-12-05').year, pyparsing.__version__)
`]);
  assert.equal(r.code, 0, r.err);
  // both taken from the slots, checked against the index as any other (the helper's digests);
  // pyparsing, announced by nobody, by message
  assert.equal(r.out, '2 2 2\n3 2 3\n2026 3.0.9\n');
  const gets = archiveGets();
  assert.equal(new Set(gets).size, gets.length, `an archive was fetched twice: ${gets}`);
});

test('larder.stats(): what the installs did, counted, and where their time went', async () => {
  const r = await python(['-c', `
import larder
s = larder.stats()
print(sorted(s))
print([s[k] for k in ('packages', 'files', 'archive_bytes', 'prefetched')])
larder.install('six')
s = larder.stats()
print(s['packages'], s['from_cache'], s['files'], s['archive_bytes'] == larder.info('six')['size'],
      s['unpacked_bytes'] == larder.info('six')['unpacked_size'], s['install_ms'] == 0)
print(all(s[k] >= 0 for k in s if k.endswith('_ms')), s['unpack_ms'] > 0, s['fetch_ms'] > 0, s['hashed_by_platform'])
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "['archive_bytes', 'cache_read_ms', 'cache_write_ms', 'decompress_ms', 'fetch_ms', "
    + "'files', 'from_cache', 'handed_ahead', 'hashed_by_platform', 'install_ms', 'packages', 'prefetched', 'rescan_ms', "
    + "'resolve_ms', 'unpack_ms', 'unpacked_bytes', 'verify_ms']\n[0, 0, 0, 0]\n1 0 4 True True True\nTrue True True 1\n");
});

test('a submodule\'s stdlib imports are fetched at once when it is imported (.larder-imports)', async () => {
  const corpus2 = path.join(work, 'corpus-stdlib');
  fs.mkdirSync(corpus2);
  execFileSync(BUILD, ['dist', '-q', '-o', corpus2, '--stdlib', path.join(root, 'build', 'stdlib'), '--depends', 'six',
    'python-dateutil']);
  const withImports = path.join(repo, 'with-imports');
  const ownKey = makeKey();  // its own key: the serials of the other tests' repositories stay apart
  writeRepo(withImports, { ...entries, ...readEntries(corpus2) }, { key: ownKey, serial: 1 });
  server.log.length = 0;
  const r = await python(['-c', `
import larder
import dateutil
before = larder.stats()
import dateutil.rrule
after = larder.stats()
print(after['prefetched'] - before['prefetched'], after['packages'] - before['packages'])
print(list(dateutil.rrule.rrule(dateutil.rrule.DAILY, count=2, dtstart=dateutil.rrule.datetime.datetime(2026, 12, 3))))
`], { indexUrl: `${server.url}/with-imports/index.json`, keyText: ownKey.text });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '16 20\n[datetime.datetime(2026, 12, 3, 0, 0), datetime.datetime(2026, 12, 4, 0, 0)]\n');
  const gets = archiveGets();
  assert.equal(new Set(gets).size, gets.length, `an archive was fetched twice: ${gets}`);
});

test('what followed a package\'s import is kept in the cache and announced at once when it is imported again', async () => {
  const corpus2 = path.join(work, 'corpus-stdlib');
  const followKey = makeKey();
  writeRepo(path.join(repo, 'followed'), { ...entries, ...readEntries(corpus2) }, { key: followKey, serial: 1 });
  const indexUrl = `${server.url}/followed/index.json`;
  const first = path.join(work, 'cache-followed');
  const code = `
import larder
import dateutil.rrule
s = larder.stats()
print(s['packages'], s['prefetched'])
`;
  let r = await python(['-c', code], { cache: first, indexUrl, keyText: followKey.text });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '22 16\n');
  // python-dateutil, then the 20 stdlib packages its submodule's import statements installed
  const lines = fs.readFileSync(path.join(first, 'cache', 'followed-imports'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 1);
  const [pkg, ...names] = lines[0].split(' ');
  assert.equal(pkg, 'python-dateutil');
  assert.equal(names.length, 20);
  assert.ok(['calendar', 'datetime', 're', 'math'].every((n) => names.includes(n)), names.join(' '));
  // the same program again: the record stands, nothing is written
  const kept = path.join(first, 'cache', 'followed-imports');
  const written = fs.statSync(kept).mtimeMs;
  r = await python(['-c', code], { cache: first, indexUrl, keyText: followKey.text });
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.statSync(kept).mtimeMs, written);
  // a cache holding only that record: importing dateutil announces its archive, six's and the 20 at once
  const second = path.join(work, 'cache-followed-2');
  fs.mkdirSync(path.join(second, 'cache'), { recursive: true });
  fs.copyFileSync(path.join(first, 'cache', 'followed-imports'), path.join(second, 'cache', 'followed-imports'));
  r = await python(['-c', `
import larder
import dateutil
print(larder.stats()['prefetched'])
`], { cache: second, indexUrl, keyText: followKey.text });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '22\n');
});

test('a record of what followed that cannot be written is said on stderr, and the program still succeeds', async () => {
  const corpus2 = path.join(work, 'corpus-stdlib');
  const followKey = makeKey();
  writeRepo(path.join(repo, 'followed-ro'), { ...entries, ...readEntries(corpus2) }, { key: followKey, serial: 1 });
  const cache = path.join(work, 'cache-followed-ro');
  fs.mkdirSync(path.join(cache, 'cache', 'followed-imports.tmp'), { recursive: true });  // where the record is written
  const r = await python(['-c', 'import dateutil.rrule\nprint("imported")'],
    { cache, indexUrl: `${server.url}/followed-ro/index.json`, keyText: followKey.text });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'imported\n');
  assert.match(r.err, /^larder: cannot write \/larder\/cache\/followed-imports: .*Is a directory.*; the next visit will fetch/m);
  assert.equal(fs.existsSync(path.join(cache, 'cache', 'followed-imports')), false);
});

test('a module no package provides is still ModuleNotFoundError', async () => {
  const r = await python(['-c', `
try:
    import no_such_module_anywhere
except ModuleNotFoundError as e:
    print(type(e).__name__, e.name)
`]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'ModuleNotFoundError no_such_module_anywhere\n');
});

test('the cache: a second start fetches no archive; with the server gone imports still work', async () => {
  const cache = path.join(work, 'cache-offline');
  let r = await python(['-c', 'import dateutil.parser, json; print("cold")'], { cache });
  assert.equal(r.code, 0, r.err);
  server.log.length = 0;
  r = await python(['-c', 'import dateutil.parser, json; print("warm")'], { cache });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(archiveGets(), [], 'no archive request on a warm start');
  // the mirror goes away: a port where nothing listens
  const other = await serve({ routes: { '/': repo } });
  const url = `${other.url}/index.json`;
  await other.close();
  r = await python(['-c', 'import dateutil.parser; print(dateutil.parser.parse("2020-01-02").year)'],
    { cache, indexUrl: url });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '2020\n');
  assert.match(r.err, /using the index kept in the cache/);
});

/* A hostile mirror: each fault ends in the right exception, and the same
 * process recovers once the fault is gone. */
const FAULTS = [
  ['one flipped byte', 'flip', 'IntegrityError', /sha256 mismatch/],
  ['a response cut in half', 'cut', 'FetchError', /cannot load package 'six' 1\.16\.0 from http:\/\/127\.0\.0\.1:\d+\/six-1\.16\.0-0\.tar\.zst: network error/],
  ['404', 404, 'FetchError', /HTTP 404/],
  ['500', 500, 'FetchError', /HTTP 500/],
];
for (const [label, kind, exc, message] of FAULTS) {
  test(`hostile mirror: ${label} -> larder.${exc}, then recovery`, async () => {
    server.faults['/six-1.16.0-0.tar.zst'] = { kind, times: 1 };
    const r = await python(['-c', `
import larder, sys
try:
    import six
    print('imported?!')
except larder.${exc} as e:
    print('${exc}', isinstance(e, ImportError), 'six' in sys.modules)
    print(e, file=sys.stderr)
import six
print(six.__version__)
`]);
    delete server.faults['/six-1.16.0-0.tar.zst'];
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${exc} True False\n1.16.0\n`);
    assert.match(r.err, message);
  });
}

test('hostile mirror: an index altered without a new signature is refused', async () => {
  const altered = path.join(repo, 'altered');
  writeRepo(altered, {}, { key, serial: 6 });
  const doc = fs.readFileSync(path.join(altered, 'index.json'), 'utf8').replace('"serial": 6', '"serial": 7');
  fs.writeFileSync(path.join(altered, 'index.json'), doc);
  const r = await python(['-c', `
import larder
try:
    import six
except larder.IndexError as e:
    print('IndexError')
larder.init('${server.url}/index.json', key='${key.text}')
import six
print(six.__version__)
`], { indexUrl: `${server.url}/altered/index.json` });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'IndexError\n1.16.0\n');
  assert.match(r.err, /packages cannot be loaded: index signature does not verify with key/);
});

test('rollback protection resets no more: the serial seen is kept per key apart from the cache', async () => {
  // a memory cache (the Node default) and then another cache directory: the
  // serial 5 seen at the first start still refuses serial 4
  const trust = fs.mkdtempSync(path.join(work, 'trust-'));
  const env = { ...process.env, LARDER_TRUST_DIR: trust };
  let r = await run(process.execPath, [CLI, '--index', `${server.url}/index.json`, '--key', key.text, '-c', 'import six'],
    { env });
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.readFileSync(path.join(trust, `${key.id}.serial`), 'utf8'), '5\n');
  const older = path.join(repo, 'older');
  writeRepo(older, {}, { key, serial: 4 });
  r = await run(process.execPath, [CLI, '--index', `${server.url}/older/index.json`, '--key', key.text,
    '--cache', path.join(work, 'another-cache'), '-c', 'pass'], { env });
  assert.match(r.err, /packages cannot be loaded: index serial 4 is older than serial 5 seen before/);
});

test('an index made for another archive format or Python is refused at start, saying so', async () => {
  const other = path.join(repo, 'other-abi');
  const json = writeRepo(other, {}, { key, serial: 5 }).toString().replace('"larder-1"', '"larder-2"');
  fs.writeFileSync(path.join(other, 'index.json'), json);
  fs.writeFileSync(path.join(other, 'index.json.sig'),
    require('node:crypto').sign(null, Buffer.from(json), key.privateKey).toString('base64'));
  const r = await python(['-c', 'pass'], { indexUrl: `${server.url}/other-abi/index.json` });
  assert.match(r.err, /packages cannot be loaded: the index at http:\/\/127\.0\.0\.1:\d+\/other-abi\/index\.json is for archive format 'larder-2', and this runtime reads 'larder-1'/);
});

test('hostile mirror: a validly signed but older index is a rollback', async () => {
  const cache = path.join(work, 'cache-rollback');
  let r = await python(['-c', 'import six'], { cache });
  assert.equal(r.code, 0, r.err);
  const older = path.join(repo, 'old');
  writeRepo(older, {}, { key, serial: 4 });
  r = await python(['-c', `
import larder
try:
    import six
except larder.IndexError as e:
    print('IndexError:', e)
`], { cache, indexUrl: `${server.url}/old/index.json` });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^IndexError: cannot import 'six': the package index is not available \(index serial 4 is older than serial 5 seen before/);
  assert.match(r.err, /packages cannot be loaded: index serial 4 is older than serial 5/);
});

/* Archives that a compromised builder or mirror signed into the index: the
 * signature is valid, the contents are hostile. */
/* Python that writes hand-made archives into sys.argv[1]: archive(name,
 * members, unpacked) with members from file(path, data); print
 * json.dumps(packages) for their index entries. */
const ARCHIVES_PY = `
import hashlib, io, json, subprocess, sys, tarfile
out, packages = sys.argv[1], {}
def archive(name, members, unpacked, size=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data else None)
    open(f'{out}/{name}.tar', 'wb').write(buf.getvalue())  # a file, so the frame records its size
    z = subprocess.run(['zstd', '-q', '-c', f'{out}/{name}.tar'], capture_output=True, check=True).stdout
    open(f'{out}/{name}.tar.zst', 'wb').write(z)
    packages[name] = {'name': name, 'version': '1', 'file_name': f'{name}.tar.zst', 'install_dir': 'site',
                      'sha256': hashlib.sha256(z).hexdigest(), 'size': size or len(z), 'unpacked_size': unpacked,
                      'entries': len(members), 'imports': [name], 'depends': []}
def file(path, data):
    info = tarfile.TarInfo(path); info.size = len(data); return info, data
`;

/* A signed repository at repo/NAME with the stdlib, the corpus and the
 * archives the Python program makes (ARCHIVES_PY); returns its index URL. */
function handMadeRepo(name, program, serial) {
  const dir = path.join(repo, `${name}-archives`);
  fs.mkdirSync(dir, { recursive: true });
  const made = JSON.parse(execFileSync('python3', ['-c', ARCHIVES_PY + program, dir], { encoding: 'utf8' }));
  for (const e of Object.values(made)) e._dir = dir;
  writeRepo(path.join(repo, name), { ...entries, ...made }, { key, serial });
  return `${server.url}/${name}/index.json`;
}

test('hostile archives: ../ entry, absolute path, symlink, decompression bomb, files planted for another package, '
  + 'a download larger than the index says', async () => {
  const mixedUrl = handMadeRepo('mixed', `
link = tarfile.TarInfo('evil_link/__init__.py'); link.type = tarfile.SYMTYPE; link.linkname = '/etc/passwd'
archive('evil_dotdot', [file('evil_dotdot/__init__.py', b'x = 1'), file('../../escaped.py', b'x = 1')], 10)
archive('evil_abs', [file('/tmp/larder-evil-abs.py', b'x = 1')], 5)
archive('evil_link', [(link, None)], 0)
archive('evil_bomb', [file('evil_bomb/__init__.py', b'\\\\0' * 3000000)], 100)
archive('evil_plant', [file('evil_plant.py', b'x = 1'), file('six.py', b'raise SystemExit("planted")')], 100)
archive('evil_big', [file('evil_big.py', bytes(range(256)) * 4000)], 1024000, size=100)
print(json.dumps(packages))
`, 9);
  const r = await python(['-c', `
import larder, os, sys
for name in ('evil_dotdot', 'evil_abs', 'evil_link', 'evil_bomb', 'evil_plant', 'evil_big'):
    try:
        __import__(name)
        print(name, 'imported?!')
    except larder.LoadError as e:
        print(name, type(e).__name__, isinstance(e, ImportError), name in sys.modules)
        print(e, file=sys.stderr)
site = larder.SITE_DIR
print(sorted(os.listdir(site)), os.path.exists('/tmp/larder-evil-abs.py'), os.path.exists(site + '/../../escaped.py'))
import six
print(six.__version__)
`], { indexUrl: mixedUrl });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, [
    'evil_dotdot LoadError True False',
    'evil_abs LoadError True False',
    'evil_link LoadError True False',
    'evil_bomb CorruptError True False',
    'evil_plant CorruptError True False',
    'evil_big FetchError True False',
    "[] False False",
    '1.16.0', ''].join('\n'));
  assert.match(r.err, /cannot load package 'evil_dotdot' 1 from .*: archive entry "\.\.\/\.\.\/escaped\.py" has an unsafe path/);
  assert.match(r.err, /archive entry "\/tmp\/larder-evil-abs\.py" has an unsafe path/);
  assert.match(r.err, /archive entry "evil_link\/__init__\.py" is a symbolic link/);
  assert.match(r.err, /evil_bomb.*above the limit of 15971/);
  assert.match(r.err, /evil_plant.*the archive writes six\.py, outside the top-level names the package declares/);
  assert.match(r.err, /evil_big.*the server sent more than the 100 bytes the index declares; the download was stopped/);
});


test('a package never writes over a file or through a link, and leaves nothing behind when refused', async () => {
  const url = handMadeRepo('clash', `
archive('clash', [file('clash/__init__.py', b'x = 1'), file('clash/sub/a.py', b'y = 2'), file('clash/z.py', b'z = 3')], 15)
archive('clashlink', [file('clashlink/__init__.py', b'x = 1')], 5)
print(json.dumps(packages))
`, 10);
  const r = await python(['-c', `
import larder, os, sys
site = larder.SITE_DIR
os.makedirs(site + '/clash')
open(site + '/clash/z.py', 'w').write('planted = True')
os.symlink('/tmp', site + '/clashlink')
for name in ('clash', 'clashlink'):
    try:
        larder.install(name)
        print(name, 'installed?!')
    except larder.LoadError as e:
        print(name, type(e).__name__)
        print(e, file=sys.stderr)
print(sorted(os.listdir(site + '/clash')), open(site + '/clash/z.py').read(), os.path.islink(site + '/clashlink'))
print(larder.installed())
`], { indexUrl: url });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "clash LoadError\nclashlink LoadError\n['z.py'] planted = True True\n[]\n");
  assert.match(r.err, /cannot load package 'clash' 1 from .*: \/usr\/local\/lib\/python3\.11\/site-packages\/clash\/z\.py already exists/);
  assert.match(r.err, /cannot load package 'clashlink' 1 from .*: \/usr\/local\/lib\/python3\.11\/site-packages\/clashlink exists and is not a directory/);
});
test('a large package\'s big directories are unpacked when first looked into, and behave as if unpacked at once', async () => {
  const url = handMadeRepo('lazy', `
blob = bytes(70000)
archive('lazypkg', [file('lazypkg/__init__.py', b'x = 1'),
                    file('lazypkg/big/__init__.py', b'from . import deep\\nname = "big"'),
                    file('lazypkg/big/data.bin', blob),
                    file('lazypkg/big/deep/__init__.py', b'y = 2'), file('lazypkg/big/deep/blob.bin', blob),
                    file('lazypkg/other/data.bin', blob), file('lazypkg/small/__init__.py', b'z = 3')], 4 * 70000 + 64)
archive('nsa', [file('nsa.py', b''), file('ns/a/one.bin', blob)], 70000)
archive('nsb', [file('nsb.py', b''), file('ns/a/two.bin', blob)], 70000)
for name in ('nsa', 'nsb'): packages[name]['imports'] = [name, 'ns']
print(json.dumps(packages))
`, 11);
  const r = await python(['-c', `
import errno, larder, os
larder.install('lazypkg', 'nsa', 'nsb')
site = larder.SITE_DIR
print(sorted(os.listdir(site + '/lazypkg')))
try:
    os.rmdir(site + '/lazypkg/other')
    print('removed?!')
except OSError as e:
    print('rmdir', errno.errorcode[e.errno])
print(len(open(site + '/lazypkg/other/data.bin', 'rb').read()))
import lazypkg.big, lazypkg.small
print(lazypkg.big.name, lazypkg.big.deep.y, lazypkg.small.z)
print(sorted((os.path.relpath(d, site), sorted(f)) for d, _, f in os.walk(site) if not d.endswith('__pycache__')))
`], { indexUrl: url });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, [
    "['__init__.py', 'big', 'other', 'small']",
    'rmdir ENOTEMPTY',
    '70000',
    'big 2 3',
    "[('.', ['nsa.py', 'nsb.py']), ('lazypkg', ['__init__.py']), ('lazypkg/big', ['__init__.py', 'data.bin']), "
      + "('lazypkg/big/deep', ['__init__.py', 'blob.bin']), ('lazypkg/other', ['data.bin']), "
      + "('lazypkg/small', ['__init__.py']), ('ns', []), ('ns/a', ['one.bin', 'two.bin'])]", ''].join('\n'));
});
