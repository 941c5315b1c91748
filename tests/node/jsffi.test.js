/*
 * jsffi.test.js - the js module and pyodide.ffi under Node (the browser's
 * part, urllib3 and requests included: tests/browser/jsffi.test.js), and
 * larder-runtime.js's values: runValue, getGlobal, setGlobal.
 */
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { runtime } = require('../lib/paths');
const { start } = require(path.join(runtime, 'larder-runtime.js'));

const python = (code) => {
  const r = spawnSync(process.execPath, [path.join(runtime, 'larder-python'), '-c', code],
    { encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('js: globals, calls with the right this, JSON, BigInt, typed arrays to bytes and back', () => {
  const r = python(`
import js
from pyodide.ffi import JsProxy, JsArray, JsBuffer, to_js
print(js.Math.max(1, 5), js.JSON.parse('{"a": [1, 2]}').a[1], js.Number.MAX_SAFE_INTEGER + 1 == 2 ** 53)
print(js.BigInt('1180591620717411303424') == 2 ** 70, js.eval('2n ** 70n') == 2 ** 70)
u = js.Uint8Array.new(to_js(b'\\x00\\x01\\xff'))
print(type(u).__name__, len(u), u[2], u.to_bytes(), bytes(u.to_py()), u.buffer.to_bytes())
a = to_js([1, 'two', None, [3.5]])
print(type(a).__name__, js.Array.isArray(a), a.to_py(), list(js.Array.of(5, 6)), 6 in js.Array.of(5, 6))
o = to_js({'k': 1, 'n': [True]}, dict_converter=js.Object.fromEntries)
print(js.JSON.stringify(o), o.k, to_js({'a': 2}).get('a'), js.Object.new().to_py())
o.fresh = 'x'
print(o.fresh, hasattr(js, 'no_such_global'), hasattr(js, 'process'), js.process.release.name)
print(js.globalThis == js.globalThis, js.Math.typeof, js.Math.max.typeof, repr(js.Array.of(1, 2)))
from js import JSON
print(JSON.stringify(to_js({'x': [1]}, dict_converter=js.Object.fromEntries)))
`);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, [
    '5 2 True',
    'True True',
    "JsBuffer 3 255 b'\\x00\\x01\\xff' b'\\x00\\x01\\xff' b'\\x00\\x01\\xff'",
    "JsArray True [1, 'two', None, [3.5]] [5, 6] True",
    '{"k":1,"n":[true]} 1 2 {}',
    'x False True node',
    'True object function 1,2',
    '{"x":[1]}',
    ''].join('\n'));
});

test('js: exceptions both ways; callbacks for one call, kept ones until destroy()', () => {
  const r = python(`
import js
from pyodide.ffi import JsException, create_proxy
try:
    js.JSON.parse('{bad')
except JsException as e:
    print('JsException', e.name, isinstance(e.js_error, object), 'JSON' in e.message)
def boom(x, *_):
    raise ValueError(f'bad {x}')
try:
    js.Array.of(7).map(boom)
except JsException as e:
    print(e.name, 'ValueError: bad 7' in e.message, 'Traceback' in e.message)
print(js.Array.of(3, 1, 2).sort(lambda a, b: a - b).to_py())
double = create_proxy(lambda x, *_: x * 2)
holder = js.Object.new()
holder.f = double
print(js.Array.of(1, 2).map(double).to_py(), holder.f(21))
double.destroy()
try:
    holder.f(1)
except JsException as e:
    print('released:', 'create_proxy' in e.message)
try:
    js.Array.of(1).map(object())
except TypeError as e:
    print('TypeError', 'to_js' in str(e))
`);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, ['JsException SyntaxError True True', 'PythonError True True', '[1, 2, 3]', '[2, 4] 42',
    'released: True', 'TypeError True', ''].join('\n'));
});

test('the handle table stays bounded: 100,000 round trips leave 0 handles behind', () => {
  const r = python(`
import _jsffi, js
from pyodide.ffi import create_proxy
before = _jsffi.live()
for i in range(100_000):
    assert js.Math.abs(-i) == i
for i in range(1000):
    js.Array.of(i).map(lambda x, *_: x)
proxy = create_proxy(lambda: None)
proxy.destroy()
del proxy
print(_jsffi.live() - before)
`);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '0\n');
});

test('larder-runtime.js: runValue returns the last expression as JSON; globals get and set', async () => {
  const err = [];
  const py = await start({ baseUrl: runtime, bundles: ['python311.zip', 'stdlib-full.zip'], sideModules: true,
    stdout: () => {}, stderr: (l) => err.push(l) });
  assert.deepEqual(py.runValue('1 + 2'), { ok: true, value: 3 });
  assert.deepEqual(py.runValue('1, "a"'), { ok: true, value: [1, 'a'] });
  assert.deepEqual(py.runValue('x = [1, {"a": None, "b": 2.5}]\nx'), { ok: true, value: [1, { a: null, b: 2.5 }] });
  assert.deepEqual(py.runValue('y = 1'), { ok: true, value: undefined });
  assert.deepEqual(py.runValue('1 / 0'), { ok: false, error: 'ZeroDivisionError: division by zero' });
  const r = py.runValue('object()');
  assert.equal(r.ok, false);
  assert.match(r.error, /^TypeError: a value of type object cannot go to JavaScript .*values cross as JSON/);
  py.setGlobal('z', { k: [1, 'x', null, true] });
  assert.deepEqual(py.runValue('z["k"][1] * 2'), { ok: true, value: 'xx' });
  assert.deepEqual(py.getGlobal('x'), [1, { a: null, b: 2.5 }]);
  assert.throws(() => py.getGlobal('nope'), /NameError: name 'nope' is not defined in __main__/);
  assert.equal(py.run('print("still here")'), true);
  assert.match(err.join('\n'), /ZeroDivisionError/);
});
