#!/bin/bash
# native.sh - the native packages: archive sizes, and `import numpy` /
# `import matplotlib.pyplot` (and the packages cross-compiled from PyPI's
# sdists by make pypi: pandas, lxml.etree, yaml, markupsafe, msgpack, regex)
# in the wasm runtime, each in a fresh process
# (5 runs): cold (empty cache, fetched from a mirror on loopback: bytes and
# time), warm (from the cache), and already unpacked (files in place, the
# import alone: the baseline of the same run). Writes
# bench/results/native-DATE.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench/native
rm -rf "$out" && mkdir -p "$out"
node -e "
const { makeKey, readEntries, writeRepo } = require('./tests/lib/repo.js');
const k = makeKey();
writeRepo('$out/repo', readEntries('build/stdlib', 'build/corpus', 'build/native', 'build/pypi'), { key: k, serial: 1 });
require('fs').writeFileSync('$out/key', k.text);
"
node tests/lib/static-server.js 0 /="$out/repo" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q 'serving on' "$out/server.log" && break; sleep 0.1; done
url=$(sed -n 's/^serving on \(http:[^ ]*\)\/ .*/\1/p' "$out/server.log")

cache="$out/cache"
for name in numpy matplotlib.pyplot pandas lxml.etree yaml markupsafe msgpack regex; do
    for mode in cold warm unpacked; do
        for i in 1 2 3 4 5; do
            [ "$mode" = cold ] && rm -rf "$cache"
            mark=$(wc -l < "$out/server.log")
            build/runtime/larder-python --index "$url/index.json" --key "$(cat "$out/key")" --cache "$cache" \
                bench/lib/imports.py "$mode" "$name" >> "$out/imports.txt"
            # bytes of the archives this run fetched
            tail -n +"$((mark + 1))" "$out/server.log" | awk -v m="$mode" -v n="$name" \
                '$1 == "GET" && $3 == 200 && $2 ~ /\.tar\.zst$/ {b += $4; k++} END {print m, n, b + 0, k + 0}' >> "$out/bytes.txt"
        done
    done
done

python3 - "$out" <<'PY'
import json, os, statistics, sys
sys.path.insert(0, "bench/lib")
from results import save, stats
out = sys.argv[1]
times, fetched = {}, {}
for l in open(f"{out}/imports.txt"):
    mode, name, us = l.split()
    times.setdefault(name, {}).setdefault(mode, []).append(int(us) / 1e3)
for l in open(f"{out}/bytes.txt"):
    mode, name, b, k = l.split()
    fetched.setdefault(name, {}).setdefault(mode, []).append((int(b), int(k)))
entries = {}
for d in ("build/native", "build/corpus", "build/pypi"):
    for f in os.listdir(d):
        if f.endswith(".json"):
            e = json.load(open(os.path.join(d, f)))
            entries[e["name"].lower()] = e
def closure(name, seen=None):
    seen = set() if seen is None else seen
    if name in entries and name not in seen:
        seen.add(name)
        for dep in entries[name].get("depends", []):
            closure(dep.lower(), seen)
    return seen
sizes = {n: entries[n]["size"] for n in ("numpy", "matplotlib", "kiwisolver", "contourpy", "pillow", "pandas",
                                         "lxml", "pyyaml", "markupsafe", "msgpack", "regex")}
mpl_closure = sorted(closure("matplotlib"))
sizes["matplotlib with its dependencies"] = sum(entries[n]["size"] for n in mpl_closure)
result = save("native", {
    "archive_bytes": sizes, "matplotlib_closure": mpl_closure,
    "reference_bytes": {"pyodide numpy wheel": 3.1e6, "pyodide matplotlib 3.5.2 wheel": 6.1e6},
    "imports_ms": {n: {m: stats(v) for m, v in ms.items()} for n, ms in times.items()},
    "cold_fetched": {n: {"bytes": statistics.median(b for b, _ in ms["cold"]), "archives": ms["cold"][0][1]}
                     for n, ms in fetched.items()},
    "warm_fetched_bytes": {n: max(b for b, _ in ms["warm"]) for n, ms in fetched.items()},
})
print(f"archives: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items()))
print("imports (ms, min/median/max of 5 fresh processes; cold = fetched on loopback from an empty cache):")
for n, ms in result["imports_ms"].items():
    f = result["cold_fetched"][n]
    row = "  ".join(f"{m} {v['min']:.0f}/{v['median']:.0f}/{v['max']:.0f}" for m, v in ms.items())
    print(f"  {n:18s} {row}  cold fetched {f['bytes'] / 1e6:.2f} MB in {f['archives']} archives;"
          f" warm/unpacked {ms['warm']['median'] / ms['unpacked']['median']:.2f}x")
PY
