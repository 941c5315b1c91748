"""gen_index.py N OUT.json - a synthetic larder index of N packages.

Package i depends on up to three earlier packages (fixed seed), so resolving
the last one walks a large part of the graph; every package has one import
name. Used by bench/index.sh to time parse + resolve on the host and in wasm.
"""
import json
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1)
sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
packages = {}
for i in range(n):
    name = f"pkg-{i:05d}"
    deps = sorted({f"pkg-{rng.randrange(i):05d}" for _ in range(3)}) if i else []
    packages[name] = {"name": name, "version": "1.0.0", "file_name": f"pkg_{i:05d}-1.0.0-0.tar.zst",
                      "install_dir": "site", "sha256": sha, "size": 1000 + i, "unpacked_size": 4000 + i,
                      "package_type": "package", "imports": [f"mod_{i:05d}"], "depends": deps,
                      "shared_libraries": []}
info = {"arch": "wasm32", "platform": "emscripten_3_1_6", "python": "3.11.2", "abi_version": "larder-1",
        "serial": 1, "generated": "2026-11-26T00:00:00Z"}
with open(out, "w") as f:
    json.dump({"info": info, "packages": packages}, f)
