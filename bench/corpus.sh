#!/bin/bash
# corpus.sh - the package corpus as larder archives against the same
# packages as wheels (zip, deflate). For Debian's three real wheels the
# wheel is the file itself; for the installed distributions, the "wheel"
# is a zip (deflate, as wheels use) of the same files with .py sources,
# which is what their wheels hold.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench/corpus
rm -rf "$out" && mkdir -p "$out/pyc" "$out/src"
dists="six python-dateutil pyparsing cycler packaging fonttools idna attrs"
wheels=$(ls /usr/share/python-wheels/{pip,setuptools,wheel}-*.whl)
build/bin/larder-build wheel -q -o "$out/pyc" $wheels
build/bin/larder-build dist -q -o "$out/pyc" $dists 2>/dev/null
build/bin/larder-build dist -q -k -o "$out/src" $dists 2>/dev/null
python3 - "$out" $wheels <<'PY'
import io, json, os, subprocess, sys, tarfile, zipfile
out, wheels = sys.argv[1], sys.argv[2:]
real = {os.path.basename(w).split("-")[0]: os.path.getsize(w) for w in wheels}
rows = []
for f in sorted(os.listdir(f"{out}/pyc")):
    if not f.endswith(".json"):
        continue
    e = json.load(open(f"{out}/pyc/{f}"))
    if e["name"] in real:
        whl = real[e["name"]]
    else:
        raw = subprocess.run(["zstd", "-dc", f"{out}/src/{e['file_name']}"], capture_output=True, check=True).stdout
        buf = io.BytesIO()
        with tarfile.open(fileobj=io.BytesIO(raw)) as t, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for m in t.getmembers():
                if m.isfile() and "__pycache__" not in m.name:
                    z.writestr(m.name, t.extractfile(m).read())
        whl = len(buf.getvalue())
    rows.append((e["name"], whl, e["size"], e["unpacked_size"]))
print(f"{'package':18s} {'wheel (zip)':>12s} {'larder .tar.zst':>16s} {'ratio':>6s}")
for name, whl, ours, _ in rows:
    print(f"{name:18s} {whl:12d} {ours:16d} {ours / whl:6.2f}")
tw, to = sum(r[1] for r in rows), sum(r[2] for r in rows)
print(f"{'total':18s} {tw:12d} {to:16d} {to / tw:6.2f}")
PY
