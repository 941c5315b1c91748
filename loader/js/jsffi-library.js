/*
 * jsffi-library.js - the JavaScript half of the js module (loader/jsffi.c),
 * linked into python.js with --js-library (link-runtime.sh).
 *
 * JavaScript values that Python holds live in a handle table; C and Python
 * see small positive integers. A handle is owned by exactly one holder and
 * released once (jsffi_release); a freed slot is reused. An operation that
 * throws returns 0 and keeps what was thrown for jsffi_take_error. Python
 * callables become JavaScript functions (jsffi_make_function) that call
 * back into the interpreter through larder_jsffi_call (jsffi.c).
 */
mergeInto(LibraryManager.library, {
  $JSFFI: {
    // emscripten 3.1.6 writes this object out by value: plain functions,
    // and null in slot 0 (never handed out: handle 0 means "it threw")
    values: [null],
    free: [],
    live: 0,
    thrown: undefined,
    pyError: null,
    put: function (v) {
      const h = JSFFI.free.length ? JSFFI.free.pop() : JSFFI.values.length;
      JSFFI.values[h] = v;
      JSFFI.live++;
      return h;
    },
    take: function (h) {
      const v = JSFFI.values[h];
      JSFFI.release(h);
      return v;
    },
    release: function (h) {
      if (h > 0 && h < JSFFI.values.length) {
        JSFFI.values[h] = undefined;
        JSFFI.free.push(h);
        JSFFI.live--;
      }
    },
    guard: function (f) {
      try {
        return f();
      } catch (e) {
        JSFFI.thrown = e;
        return 0;
      }
    },
    newString: function (s) {
      const n = lengthBytesUTF8(s) + 1;
      const p = _malloc(n);
      stringToUTF8(s, p, n);
      return p;
    },
    text: function (ptr, len) {
      return new TextDecoder().decode(HEAPU8.subarray(ptr, ptr + len));
    },
    /* A Python callable as a JavaScript function: calling it runs the
     * callable in the interpreter, with the arguments converted; a Python
     * exception becomes a thrown Error named PythonError. */
    pyFunction: function (pyobj) {
      const f = function (...args) {
        if (f.destroyed) {
          throw new Error('larder: this Python callable was released (a callable passed to JavaScript in a '
            + 'call lives only during that call; keep one with pyodide.ffi.create_proxy)');
        }
        const n = args.length;
        const p = _malloc(4 * (n + 1));
        for (let i = 0; i < n; i++) HEAP32[(p >> 2) + i] = JSFFI.put(args[i]);
        const r = _larder_jsffi_call(pyobj, JSFFI.put(this), p, n);
        _free(p);
        if (r === 0) {
          const e = JSFFI.pyError;
          JSFFI.pyError = null;
          throw e;
        }
        return JSFFI.take(r);
      };
      f.destroyed = false;
      f.pyobj = pyobj;
      return f;
    },
  },

  jsffi_global__deps: ['$JSFFI'],
  jsffi_global: function () { return JSFFI.put(globalThis); },
  jsffi_release__deps: ['$JSFFI'],
  jsffi_release: function (h) { JSFFI.release(h); },
  jsffi_dup__deps: ['$JSFFI'],
  jsffi_dup: function (h) { return JSFFI.put(JSFFI.values[h]); },
  jsffi_live__deps: ['$JSFFI'],
  jsffi_live: function () { return JSFFI.live; },
  jsffi_take_error__deps: ['$JSFFI'],
  jsffi_take_error: function () {
    const h = JSFFI.put(JSFFI.thrown);
    JSFFI.thrown = undefined;
    return h;
  },
  jsffi_set_py_error__deps: ['$JSFFI'],
  jsffi_set_py_error: function (ptr) {
    const e = new Error(UTF8ToString(ptr));
    e.name = 'PythonError';
    JSFFI.pyError = e;
  },

  /* What a value is: 1 undefined, 2 null, 3 boolean, 4 number, 5 bigint,
   * 6 string, 7 symbol, 8 function, 9 array, 10 ArrayBuffer or a view of
   * one, 11 any other object. */
  jsffi_kind__deps: ['$JSFFI'],
  jsffi_kind: function (h) {
    const v = JSFFI.values[h];
    switch (typeof v) {
      case 'undefined': return 1;
      case 'boolean': return 3;
      case 'number': return 4;
      case 'bigint': return 5;
      case 'string': return 6;
      case 'symbol': return 7;
      case 'function': return 8;
      default:
        if (v === null) return 2;
        if (Array.isArray(v)) return 9;
        if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)
            || (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer)) return 10;
        return 11;
    }
  },
  jsffi_number__deps: ['$JSFFI'],
  jsffi_number: function (h) { return Number(JSFFI.values[h]); },
  /* String(value) as a malloc'd UTF-8 string (the caller frees it); 0 if
   * that throws. */
  jsffi_string__deps: ['$JSFFI'],
  jsffi_string: function (h) { return JSFFI.guard(() => JSFFI.newString(String(JSFFI.values[h]))); },
  jsffi_typeof__deps: ['$JSFFI'],
  jsffi_typeof: function (h) { return JSFFI.newString(typeof JSFFI.values[h]); },

  jsffi_undefined__deps: ['$JSFFI'],
  jsffi_undefined: function () { return JSFFI.put(undefined); },
  jsffi_from_bool__deps: ['$JSFFI'],
  jsffi_from_bool: function (b) { return JSFFI.put(b !== 0); },
  jsffi_from_number__deps: ['$JSFFI'],
  jsffi_from_number: function (x) { return JSFFI.put(x); },
  jsffi_from_bigint__deps: ['$JSFFI'],
  jsffi_from_bigint: function (ptr) { return JSFFI.put(BigInt(UTF8ToString(ptr))); },
  jsffi_from_string__deps: ['$JSFFI'],
  jsffi_from_string: function (ptr, len) { return JSFFI.put(JSFFI.text(ptr, len)); },
  jsffi_from_bytes__deps: ['$JSFFI'],
  jsffi_from_bytes: function (ptr, len) { return JSFFI.put(HEAPU8.slice(ptr, ptr + len)); },

  /* obj[name]: -1 when obj has no such property (in or inherited). */
  jsffi_get__deps: ['$JSFFI'],
  jsffi_get: function (h, ptr) {
    return JSFFI.guard(() => {
      const obj = JSFFI.values[h];
      const name = UTF8ToString(ptr);
      if (obj === undefined || obj === null || !(name in Object(obj))) return -1;
      return JSFFI.put(obj[name]);
    });
  },
  jsffi_set__deps: ['$JSFFI'],
  jsffi_set: function (h, ptr, vh) {
    return JSFFI.guard(() => { JSFFI.values[h][UTF8ToString(ptr)] = JSFFI.values[vh]; return 1; });
  },
  jsffi_delete__deps: ['$JSFFI'],
  jsffi_delete: function (h, ptr) {
    return JSFFI.guard(() => { delete JSFFI.values[h][UTF8ToString(ptr)]; return 1; });
  },
  jsffi_get_item__deps: ['$JSFFI'],
  jsffi_get_item: function (h, kh) { return JSFFI.guard(() => JSFFI.put(JSFFI.values[h][JSFFI.values[kh]])); },
  jsffi_set_item__deps: ['$JSFFI'],
  jsffi_set_item: function (h, kh, vh) {
    return JSFFI.guard(() => { JSFFI.values[h][JSFFI.values[kh]] = JSFFI.values[vh]; return 1; });
  },
  jsffi_delete_item__deps: ['$JSFFI'],
  jsffi_delete_item: function (h, kh) {
    return JSFFI.guard(() => { delete JSFFI.values[h][JSFFI.values[kh]]; return 1; });
  },
  jsffi_equals__deps: ['$JSFFI'],
  jsffi_equals: function (a, b) { return JSFFI.values[a] === JSFFI.values[b] ? 1 : 0; },
  /* value instanceof globalThis[name]; 0 when there is no such constructor */
  jsffi_instance_of__deps: ['$JSFFI'],
  jsffi_instance_of: function (h, ptr) {
    const ctor = globalThis[UTF8ToString(ptr)];
    return typeof ctor === 'function' && JSFFI.values[h] instanceof ctor ? 1 : 0;
  },
  jsffi_truthy__deps: ['$JSFFI'],
  jsffi_truthy: function (h) { return JSFFI.values[h] ? 1 : 0; },

  /* f.apply(this, args) and new f(...args); args: n handles at ptr. */
  jsffi_call__deps: ['$JSFFI'],
  jsffi_call: function (fh, thish, ptr, n) {
    return JSFFI.guard(() => {
      const args = [];
      for (let i = 0; i < n; i++) args.push(JSFFI.values[HEAP32[(ptr >> 2) + i]]);
      return JSFFI.put(Reflect.apply(JSFFI.values[fh], JSFFI.values[thish], args));
    });
  },
  jsffi_new__deps: ['$JSFFI'],
  jsffi_new: function (fh, ptr, n) {
    return JSFFI.guard(() => {
      const args = [];
      for (let i = 0; i < n; i++) args.push(JSFFI.values[HEAP32[(ptr >> 2) + i]]);
      return JSFFI.put(Reflect.construct(JSFFI.values[fh], args));
    });
  },

  /* The bytes of an ArrayBuffer or a view: its length (-1 for anything
   * else), then a copy into memory at dest. */
  jsffi_buffer_length__deps: ['$JSFFI'],
  jsffi_buffer_length: function (h) {
    const v = JSFFI.values[h];
    return v && typeof v.byteLength === 'number' ? v.byteLength : -1;
  },
  jsffi_buffer_copy__deps: ['$JSFFI'],
  jsffi_buffer_copy: function (h, dest) {
    const v = JSFFI.values[h];
    const bytes = ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v);
    HEAPU8.set(bytes, dest);
  },

  jsffi_make_function__deps: ['$JSFFI'],
  jsffi_make_function: function (pyobj) { return JSFFI.put(JSFFI.pyFunction(pyobj)); },
  /* For a function made by jsffi_make_function and not destroyed yet:
   * marks it destroyed and returns its Python object (whose reference the
   * caller then drops); else 0. */
  jsffi_destroy_function__deps: ['$JSFFI'],
  jsffi_destroy_function: function (h) {
    const f = JSFFI.values[h];
    if (typeof f !== 'function' || !('pyobj' in f) || f.destroyed) return 0;
    f.destroyed = true;
    return f.pyobj;
  },
});
