"""report.py - the benchmark report: the latest results file of each
benchmark in bench/results (firstload, loadpackage, imports, warmvisit, loader, mirror, native, cpu,
cpu-browser) turned into
bench/results/REPORT.md (a table: ours, the reference measured in the same
run, the ratio, our target and whether it is met) and bench/results/
report.png (bars: each ratio against the reference, with the target).

    /usr/bin/python3.11 bench/report.py     (Debian's matplotlib draws the chart)
"""
import glob
import json
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def latest(kind):
    # KIND-DATE.json: the date starts with a digit ("cpu-" must not match "cpu-browser-")
    files = sorted(glob.glob(os.path.join(RESULTS, f"{kind}-[0-9]*.json")))
    if not files:
        return None, None
    return json.load(open(files[-1])), os.path.basename(files[-1])


def mb(b):
    return f"{b / 1e6:.2f} MB"


def ms(v):
    return f"{v:.0f} ms"


rows = []  # (group, metric, ours, reference, ratio, target, lower_is_better, source)
sources = []

first, name = latest("firstload")
if first:
    sources.append(name)
    encodings = first.get("encodings") or {first.get("encoding", "identity"): {"summary": first["summary"]}}
    for enc, data in encodings.items():
        s = data["summary"]
        lc, pc, lw, pw = s["larder_cold"], s["pyodide_cold"], s["larder_warm"], s["pyodide_warm"]
        rows.append(("first load", f"bytes until first output, cold ({enc})", mb(lc["bytes"]), mb(pc["bytes"]),
                     lc["bytes"] / pc["bytes"], 0.3, True, name))
        if enc == "identity" and "brotli_bytes" in lc:
            rows.append(("first load", "bytes until first output, cold (brotli, computed)", mb(lc["brotli_bytes"]),
                         mb(pc["brotli_bytes"]), lc["brotli_bytes"] / pc["brotli_bytes"], 0.3, True, name))
        rows.append(("first load", f"time to first output, cold ({enc})", ms(lc["output_ms"]), ms(pc["output_ms"]),
                     lc["output_ms"] / pc["output_ms"], 0.25, True, name))
        rows.append(("first load", f"time to first output, warm HTTP cache ({enc})", ms(lw["output_ms"]),
                     ms(pw["output_ms"]), lw["output_ms"] / pw["output_ms"], 0.5, True, name))
        newest = s.get("pyodide314_cold")  # Pyodide 314.0.7, the newest, where measured
        if newest and enc == "identity" and "brotli_bytes" in lc:
            rows.append(("first load", "bytes until first output, cold (brotli), vs Pyodide 314.0.7",
                         mb(lc["brotli_bytes"]), mb(newest["brotli_bytes"]),
                         lc["brotli_bytes"] / newest["brotli_bytes"], 0.25, True, name))
        if newest:
            rows.append(("first load", f"time to first output, cold ({enc}), vs Pyodide 314.0.7", ms(lc["output_ms"]),
                         ms(newest["output_ms"]), lc["output_ms"] / newest["output_ms"], None, True, name))
        if "memory_bytes" in lc:
            rows.append(("first load", "memory after start (page, Worker, wasm)", mb(lc["memory_bytes"]),
                         mb(pc["memory_bytes"]), lc["memory_bytes"] / pc["memory_bytes"], None, True, name))

lp, name = latest("loadpackage")
if lp:
    sources.append(name)
    s = lp["summary"]
    for phase, label, target in (("cold", "cold", 0.8), ("warm", "warm (larder: IndexedDB; Pyodide: HTTP cache)", 0.6)):
        lo, py = s[f"larder_{phase}"], s[f"pyodide_{phase}"]
        idle = f"larder_{phase}_idle" in s  # Run after the page was idle 4 s too (since 2026-12-04)
        rows.append(("packages", f"import 4 pure-Python packages vs loadPackage, time, {label}"
                     + (", Run at ready" if idle else ""), ms(lo["ms"]), ms(py["ms"]), lo["ms"] / py["ms"], target,
                     True, name))
        if idle:
            li, pi = s[f"larder_{phase}_idle"], s[f"pyodide_{phase}_idle"]
            rows.append(("packages", f"import 4 pure-Python packages vs loadPackage, time, {phase}, "
                         "Run after 4 s idle", ms(li["ms"]), ms(pi["ms"]), li["ms"] / pi["ms"], target, True, name))
        if py["bytes"]:
            rows.append(("packages", f"import 4 pure-Python packages vs loadPackage, bytes, {phase}", mb(lo["bytes"]),
                         mb(py["bytes"]), lo["bytes"] / py["bytes"], None, True, name))

wv, name = latest("warmvisit")
if wv:
    sources.append(name)
    s = wv["summary"]
    c, w = s["cold"], s["warm"]
    # the program's output counted from the navigation: ready + run, per visit
    out = {p: statistics.median(r["ready"] + r["run"] for r in wv["rows"][p]) for p in ("cold", "warm")}
    rows.append(("warm visit", "numpy + matplotlib cached: first output of a program importing them, from the "
                 "navigation, warm vs cold visit", ms(out["warm"]), ms(out["cold"]), out["warm"] / out["cold"], 0.8,
                 True, name))
    rows.append(("warm visit", "numpy + matplotlib cached: the import, warm vs cold visit", ms(w["run_ms"]),
                 ms(c["run_ms"]), w["run_ms"] / c["run_ms"], None, True, name))
    rows.append(("warm visit", "numpy + matplotlib cached: ready, warm vs cold visit", ms(w["ready_ms"]),
                 ms(c["ready_ms"]), w["ready_ms"] / c["ready_ms"], None, True, name))
    if "empty" in s:  # since 2026-12-04: a warm visit with nothing in the store, the baseline for memory
        e = s["empty"]
        rows.append(("warm visit", "memory once ready, 12 MB cached vs nothing cached (both warm visits)",
                     mb(w["memory_bytes"]), mb(e["memory_bytes"]), w["memory_bytes"] / e["memory_bytes"], None, True,
                     name))

imp, name = latest("imports")
if imp:
    sources.append(name)
    for key, r in imp["summary"].items():
        rows.append(("packages", f"import {key.split(': ', 1)[1]} in Chromium ({key.split(': ')[0]}), warm vs unpacked",
                     ms(r["warm_ms"]), ms(r["unpacked_ms"]), r["warm_over_unpacked"], 1.3, True, name))

loader, name = latest("loader")
if loader:
    sources.append(name)
    p = loader["pipeline"]
    rows.append(("loader", "pipeline throughput: sha256 + zstd + untar (wasm vs native)",
                 f"{p['unpacked_mb'] / (p['wasm_us']['median'] / 1e6):.0f} MB/s",
                 f"{p['unpacked_mb'] / (p['native_us']['median'] / 1e6):.0f} MB/s",
                 p["wasm_over_native_throughput"], 0.5, False, name))
    for mod, m in loader["imports_us"].items():
        rows.append(("loader", f"import {mod}: cached (lazy) vs already unpacked", ms(m["warm"]["median"] / 1e3),
                     ms(m["unpacked"]["median"] / 1e3), m["warm"]["median"] / m["unpacked"]["median"], 1.5, True, name))

native, name = latest("native")
if native:
    sources.append(name)
    for mod, m in native["imports_ms"].items():
        rows.append(("native", f"import {mod}: cached (lazy) vs already unpacked", ms(m["warm"]["median"]),
                     ms(m["unpacked"]["median"]), m["warm"]["median"] / m["unpacked"]["median"], 1.5, True, name))
    a = native["archive_bytes"]
    rows.append(("native", "numpy archive vs Pyodide's numpy wheel", mb(a["numpy"]), "3.10 MB",
                 a["numpy"] / 3.1e6, None, True, name))
    rows.append(("native", "matplotlib archive vs Pyodide's matplotlib 3.5.2 wheel", mb(a["matplotlib"]), "6.10 MB",
                 a["matplotlib"] / 6.1e6, None, True, name))

cpu_run, name = latest("cpu")
if cpu_run:
    sources.append(name)
    for k, r in cpu_run["kernels"].items():
        for when, label in (("first", "right after start"), ("warm", "after warm-up")):
            rows.append(("cpu", f"kernel {k}, {label} (vs Pyodide, Node)", ms(r["ms"]["larder"][when]),
                         ms(r["ms"]["pyodide"][when]), r["larder_over_pyodide"][when], 1.0, True, name))

browser_run, name = latest("cpu-browser")
if browser_run:
    sources.append(name)
    kernels = browser_run["kernels"]
    for k, r in kernels.items():
        for visit in ("cold", "idle", "warm"):
            if visit not in r:
                continue
            v = r[visit]
            rows.append(("cpu", f"kernel {k}, right after start, {visit} visit (vs Pyodide, Chromium)",
                         ms(v["ms"]["larder"]["first"]), ms(v["ms"]["pyodide"]["first"]),
                         v["larder_over_pyodide"]["first"], 1.0, True, name))
    first_kernel = next(iter(kernels.values()))
    if "ready" in first_kernel["warm"]["ms"]["larder"]:
        def ready(which, visit):
            return sorted(r[visit]["ms"][which]["ready"] for r in kernels.values())[len(kernels) // 2]

        def hits(which, visit):
            return sum(r[visit]["ms"][which]["code_cache_hits"] for r in kernels.values())

        runs = len(kernels) * browser_run["reps"]
        rows.append(("cpu", f"ready, warm visit, from the wasm code cache in {hits('larder', 'warm')}/{runs} "
                     f"(Pyodide {hits('pyodide', 'warm')}/{runs}) (vs Pyodide, Chromium)",
                     ms(ready("larder", "warm")), ms(ready("pyodide", "warm")),
                     ready("larder", "warm") / ready("pyodide", "warm"), None, True, name))

mirror, name = latest("mirror")
if mirror:
    sources.append(name)
    for what, label in (("index", "index.json"), ("archive", "a 2 MB archive")):
        m, n = mirror["rows"][f"mirror-{what}"], mirror["rows"][f"nginx-{what}"]
        rows.append(("mirror", f"requests/s serving {label} (larder-mirror vs nginx)", f"{m['rps']:.0f}/s",
                     f"{n['rps']:.0f}/s", mirror["ratios"][what], 0.8, False, name))

if not rows:
    sys.exit("report.py: no results in bench/results (run make bench)")


def met(r):
    ratio, target, lower = r[4], r[5], r[6]
    if target is None:
        return ""
    return "yes" if (ratio <= target if lower else ratio >= target) else "**no**"


machine = next((d["machine"] for d in (first, lp, loader, native, mirror) if d), {})
cpu = machine.get("cpu") or machine.get("model", "")
lines = [
    "# Benchmark report",
    "",
    f"Generated by `bench/report.py` from {', '.join(f'`{s}`' for s in sources)}"
    f" ({machine.get('cores', '?')} cores, {cpu}). Every ratio is ours over the reference measured in the"
    " same run; medians of 3 (Chromium CPU) or 5 repetitions (each results file says how many).",
    "",
    "| | metric | larder | reference | ratio | target | met |",
    "|---|---|---|---|---|---|---|",
]
for r in rows:
    target = "" if r[5] is None else (f"≤ {r[5]}x" if r[6] else f"≥ {r[5]}x")
    lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.2f}x | {target} | {met(r)} |")
lines += ["", "![ratios against the references](report.png)", ""]
open(os.path.join(RESULTS, "REPORT.md"), "w").write("\n".join(lines))

fig, ax = plt.subplots(figsize=(12, 0.38 * len(rows) + 1.6), dpi=100)
labels = [f"{r[0]}: {r[1]}" for r in rows][::-1]
ratios = [r[4] for r in rows][::-1]
colors = []
for r in rows[::-1]:
    m = met(r)
    colors.append("#4c9a2a" if m == "yes" else "#c0392b" if m else "#7f8c8d")
y = range(len(rows))
ax.barh(y, ratios, color=colors)
for i, r in enumerate(rows[::-1]):
    if r[5] is not None:
        ax.plot([r[5], r[5]], [i - 0.4, i + 0.4], color="black", linewidth=2)
    ax.text(r[4] + 0.02, i, f"{r[4]:.2f}x", va="center", fontsize=8)
ax.axvline(1.0, color="#555", linestyle="--", linewidth=1)
ax.set_yticks(list(y))
ax.set_yticklabels(labels, fontsize=8)
ax.set_xlabel("larder / reference  (dashed: reference; tick: target; green met, red not met, grey: no target)",
              fontsize=8)
ax.set_title("larder against Pyodide 0.24.1, native tools and nginx (same machine, same run)", fontsize=10)
fig.tight_layout()
fig.savefig(os.path.join(RESULTS, "report.png"), metadata={"Software": None})
print(f"wrote {os.path.join(RESULTS, 'REPORT.md')} and report.png ({len(rows)} metrics)")
