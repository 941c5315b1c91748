#!/bin/bash
# index.sh - parse + resolve of a synthetic 10,000-package index, host (C,
# -O2) against wasm (the same C in the runtime, through _larder.Index), in
# one run. Prints min/median/max of 7 repetitions and the wasm/host ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench
mkdir -p "$out"
python3 bench/gen_index.py 10000 "$out/index-10k.json"
cc -std=c11 -O2 -o "$out/index_bench" bench/index_bench.c common/*.c index/model.c \
   index/resolve.c index/verify.c -lcjson -lsodium
"$out/index_bench" "$out/index-10k.json" pkg-09999 7 > "$out/index-host.txt"
(cd "$out" && ../runtime/larder-python -c '
import _larder, time
data = open("index-10k.json", "rb").read()
for _ in range(7):
    t0 = time.perf_counter()
    index = _larder.Index(data, allow_unsigned=True)
    t1 = time.perf_counter()
    closure = index.resolve(["pkg-09999"])
    t2 = time.perf_counter()
    print(f"{(t1 - t0) * 1e3:.3f} {(t2 - t1) * 1e3:.3f} {len(closure)}")
') > "$out/index-wasm.txt"
python3 - "$out" <<'PY'
import statistics, sys
out = sys.argv[1]
def load(name):
    rows = [list(map(float, l.split())) for l in open(f"{out}/{name}")]
    return [r[0] for r in rows], [r[1] for r in rows], int(rows[0][2])
hp, hr, hn = load("index-host.txt")
wp, wr, wn = load("index-wasm.txt")
assert hn == wn, "host and wasm closures differ"
size = __import__("os").path.getsize(f"{out}/index-10k.json")
print(f"synthetic index: 10000 packages, {size} bytes; closure of pkg-09999: {hn} packages")
for what, h, w in (("parse", hp, wp), ("resolve", hr, wr)):
    fmt = lambda v: f"{min(v):.1f}/{statistics.median(v):.1f}/{max(v):.1f} ms"
    print(f"{what:8s} host {fmt(h)}   wasm {fmt(w)}   wasm/host {statistics.median(w)/statistics.median(h):.2f}x")
PY
