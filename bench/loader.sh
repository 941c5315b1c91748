#!/bin/bash
# loader.sh - the loader's pipeline and imports, measured in one run.
#
# 1. Pipeline: verify (sha256) + zstd + untar + write, in wasm (the loader
#    installing from its cache into an empty directory) against native
#    tools on the same archive (sha256sum; zstd -dc | tar -x), 7 runs each.
# 2. Imports (wasm): cold (fetched over loopback), warm (from the cache) and
#    already unpacked (files in place, import only), for the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench/loader
rm -rf "$out" && mkdir -p "$out/corpus"
build/bin/larder-build dist -q -o "$out/corpus" six pyparsing fonttools
build/bin/larder-build dist -q -o "$out/corpus" --depends six python-dateutil
node -e "
const { makeKey, readEntries, writeRepo } = require('./tests/lib/repo.js');
const k = makeKey();
writeRepo('$out/repo', readEntries('build/stdlib', '$out/corpus'), { key: k, serial: 1 });
require('fs').writeFileSync('$out/key', k.text);
"
archive=$(ls "$out"/repo/fonttools-*.tar.zst)
echo "archive: $(basename "$archive"), $(stat -c %s "$archive") bytes"

# native: sha256 + zstd -d + tar -x into a fresh directory
native=()
for i in 1 2 3 4 5 6 7; do
    rm -rf "$out/native" && mkdir "$out/native"
    t0=$(date +%s%N)
    sha256sum "$archive" > /dev/null
    zstd -dc "$archive" | tar -x -C "$out/native"
    t1=$(date +%s%N)
    native+=($(( (t1 - t0) / 1000 )))
done

node tests/lib/static-server.js 0 /="$out/repo" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q 'serving on' "$out/server.log" && break; sleep 0.1; done
url=$(sed -n 's/^serving on \(http:[^ ]*\)\/ .*/\1/p' "$out/server.log")

build/runtime/larder-python --index "$url/index.json" --key "$(cat "$out/key")" -c "
import _larder, larder, sys, time, os, shutil, statistics
entry = larder.info('fonttools')
idx = larder._index
# fill the cache, then install from it into fresh directories
larder.install('fonttools')
runs = []
for i in range(7):
    site = f'/tmp/bench-site-{i}'
    os.makedirs(site)
    loader = _larder.Loader(idx, 'http://invalid/', site, site, site, larder.CACHE_DIR)
    t0 = time.perf_counter()
    loader.install(['fonttools'])
    runs.append((time.perf_counter() - t0) * 1e6)
print('wasm_us', ' '.join(str(int(r)) for r in runs))
print('unpacked_bytes', entry['unpacked_size'])
" > "$out/wasm.txt"

# imports: cold / warm / unpacked, each in a fresh process
imports="six dateutil.parser pyparsing fontTools.ttLib"
cache="$out/cache"
for mode in cold warm unpacked; do
    for i in 1 2 3 4 5; do
        [ "$mode" = cold ] && rm -rf "$cache"
        build/runtime/larder-python --index "$url/index.json" --key "$(cat "$out/key")" --cache "$cache" \
            bench/lib/imports.py "$mode" $imports >> "$out/imports.txt"
    done
done

python3 - "$out" "${native[@]}" <<'PY'
import statistics, sys
out, native = sys.argv[1], [int(x) for x in sys.argv[2:]]
lines = dict(l.split(" ", 1) for l in open(f"{out}/wasm.txt").read().splitlines())
wasm = [int(x) for x in lines["wasm_us"].split()]
mb = int(lines["unpacked_bytes"]) / 1e6
fmt = lambda v: f"{min(v)/1e3:.1f}/{statistics.median(v)/1e3:.1f}/{max(v)/1e3:.1f} ms"
print(f"pipeline (sha256 + zstd + untar + write, {mb:.1f} MB unpacked), min/median/max of 7:")
print(f"  native  {fmt(native)}  {mb / (statistics.median(native) / 1e6):.0f} MB/s")
print(f"  wasm    {fmt(wasm)}  {mb / (statistics.median(wasm) / 1e6):.0f} MB/s")
print(f"  wasm throughput / native: {statistics.median(native) / statistics.median(wasm):.2f}x")
rows = {}
for l in open(f"{out}/imports.txt"):
    mode, name, us = l.split()
    rows.setdefault(name, {}).setdefault(mode, []).append(int(us))
print("imports (ms, median of 5 fresh processes; cold = fetched on loopback):")
print(f"  {'module':20s} {'cold':>8s} {'warm':>8s} {'unpacked':>9s} {'warm/unpacked':>14s}")
for name, m in rows.items():
    med = {k: statistics.median(v) / 1e3 for k, v in m.items()}
    print(f"  {name:20s} {med['cold']:8.1f} {med['warm']:8.1f} {med['unpacked']:9.1f} {med['warm'] / med['unpacked']:14.2f}")
sys.path.insert(0, "bench/lib")
from results import save, stats
save("loader", {"pipeline": {"unpacked_mb": mb, "native_us": stats(native), "wasm_us": stats(wasm),
                             "wasm_over_native_throughput": statistics.median(native) / statistics.median(wasm)},
                "imports_us": {name: {k: stats(v) for k, v in m.items()} for name, m in rows.items()}})
PY
