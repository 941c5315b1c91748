"""imports.py MODE NAME... - run in the wasm runtime by bench/loader.sh and
bench/native.sh: time `import NAME` for each name, printing "MODE NAME us".
MODE cold or warm: the loader installs on import (from the mirror, or from
the cache); unpacked: install the providers first, then time the import
alone (the baseline)."""
import importlib
import sys
import time

import larder

mode, names = sys.argv[1], sys.argv[2:]
if mode == "unpacked":
    for n in names:
        larder.install(larder._index.provider(n.split(".")[0]))
for n in names:
    t0 = time.perf_counter()
    importlib.import_module(n)
    print(mode, n, int((time.perf_counter() - t0) * 1e6))
