"""imports.py MODE NAME... - run in the wasm runtime by bench/loader.sh and
bench/native.sh: time `import NAME` for each name, printing "MODE NAME us".
MODE cold or warm: the loader installs on import (from the mirror, or from
the cache); unpacked: install the providers first and list every directory
(a large package's big directories are unpacked when first looked into),
then time the import alone (the baseline)."""
import importlib
import os
import sys
import time

import larder

mode, names = sys.argv[1], sys.argv[2:]
if mode == "unpacked":
    for n in names:
        larder.install(larder._index.provider(n.split(".")[0]))
    # a large package's big directories are unpacked when first looked
    # into: look into all of them, so that every file is in place
    for d in (larder.SITE_DIR, larder.STDLIB_DIR):
        for _ in os.walk(d):
            pass
for n in names:
    t0 = time.perf_counter()
    importlib.import_module(n)
    print(mode, n, int((time.perf_counter() - t0) * 1e6))
