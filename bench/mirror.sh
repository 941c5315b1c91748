#!/bin/bash
# mirror.sh - wrk against `larder-mirror serve` and nginx serving the same
# files (the mirror's export), in one run: the index (small) and a 2 MB
# archive, 64 connections, 10 s each. Reports throughput ratios, p99
# latency, errors, and the mirror's RSS before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench/mirror
rm -rf "$out" && mkdir -p "$out/pkg"
# a package whose archive is about 2 MB (incompressible data)
python3 - "$out/pkg" <<'PY'
import base64, hashlib, os, sys, zipfile
out = sys.argv[1]
files = {"bigdata/__init__.py": b"", "bigdata/blob.bin": os.urandom(2_000_000),
         "bigdata-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: bigdata\nVersion: 1.0\n\n",
         "bigdata-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
rec = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
              for p, d in files.items()) + "bigdata-1.0.dist-info/RECORD,,\n"
files["bigdata-1.0.dist-info/RECORD"] = rec.encode()
with zipfile.ZipFile(f"{out}/bigdata-1.0-py3-none-any.whl", "w") as z:
    for p, d in files.items():
        z.writestr(p, d)
PY
build/bin/larder-build wheel -q -o "$out/pkg" "$out/pkg/bigdata-1.0-py3-none-any.whl"
build/bin/larder-mirror init "$out/repo" > /dev/null
build/bin/larder-mirror --repo "$out/repo" publish "$out/pkg"/*.tar.zst build/stdlib/json-*.tar.zst build/stdlib/re-*.tar.zst \
    build/stdlib/enum-*.tar.zst build/stdlib/functools-*.tar.zst build/stdlib/copyreg-*.tar.zst \
    build/stdlib/collections-*.tar.zst build/stdlib/types-*.tar.zst build/stdlib/keyword-*.tar.zst \
    build/stdlib/operator-*.tar.zst build/stdlib/reprlib-*.tar.zst > /dev/null
build/bin/larder-mirror --repo "$out/repo" sign > /dev/null
build/bin/larder-mirror --repo "$out/repo" export "$out/export"
archive=$(basename "$(ls "$out"/pkg/bigdata-*.tar.zst)")
echo "archive $archive: $(stat -c %s "$out/export/$archive") bytes; index: $(stat -c %s "$out/export/index.json") bytes"

# the mirror users run: make's release build (-O2, no sanitizers)
mirror=build/bin/larder-mirror
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mport=$(free_port); nport=$(free_port)
"$mirror" --repo "$out/repo" serve --listen 127.0.0.1:$mport > "$out/mirror.log" 2>&1 &
mpid=$!
cat > "$out/nginx.conf" <<NGX
user root;
worker_processes 2;
daemon off;
pid $PWD/$out/nginx.pid;
error_log $PWD/$out/nginx-error.log;
events { worker_connections 1024; }
http {
  types { application/json json; application/zstd zst; }
  access_log off;
  sendfile on;
  server { listen 127.0.0.1:$nport; root $PWD/$out/export; }
}
NGX
nginx -c "$PWD/$out/nginx.conf" -p "$PWD/$out" &
npid=$!
trap 'kill $mpid $npid 2>/dev/null; wait 2>/dev/null' EXIT
sleep 1
rss() { awk '/VmRSS/ {print $2}' /proc/$mpid/status; }
rss_before=$(rss)
run() {  # NAME URL
    wrk -t2 -c64 -d10s --latency "$2" > "$out/$1.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$out/$1.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$out/$1.txt")
    errors=$(awk '/Non-2xx|Socket errors/ {s = s $0 "; "} END {print s ? s : "none"}' "$out/$1.txt")
    echo "$1 $rps $p99 $errors"
}
{
    run mirror-index "http://127.0.0.1:$mport/index.json"
    run nginx-index "http://127.0.0.1:$nport/index.json"
    run mirror-archive "http://127.0.0.1:$mport/$archive"
    run nginx-archive "http://127.0.0.1:$nport/$archive"
} | tee "$out/results.txt"
rss_after=$(rss)
python3 - "$out/results.txt" "$rss_before" "$rss_after" <<'PY'
import sys
rows = {l.split()[0]: l.split(maxsplit=3) for l in open(sys.argv[1])}
for what in ("index", "archive"):
    m, n = rows[f"mirror-{what}"], rows[f"nginx-{what}"]
    print(f"{what:8s} mirror {float(m[1]):9.0f} req/s (p99 {m[2]}, errors: {m[3].strip()})  "
          f"nginx {float(n[1]):9.0f} req/s (p99 {n[2]}, errors: {n[3].strip()})  ratio {float(m[1]) / float(n[1]):.2f}x")
print(f"mirror RSS: {int(sys.argv[2]) // 1024} MB before, {int(sys.argv[3]) // 1024} MB after")
sys.path.insert(0, "bench/lib")
from results import save
save("mirror", {"tool": "wrk -t2 -c64 -d10s",
                "rows": {k: {"rps": float(v[1]), "p99": v[2], "errors": v[3].strip()} for k, v in rows.items()},
                "ratios": {w: float(rows[f"mirror-{w}"][1]) / float(rows[f"nginx-{w}"][1]) for w in ("index", "archive")},
                "rss_kb": [int(sys.argv[2]), int(sys.argv[3])]})
PY
