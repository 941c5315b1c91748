"""pypi-fetch.py - one file from PyPI, checked and cached.

    pypi-fetch.py CACHE NAME==VERSION [SHA256]   the release's sdist
    pypi-fetch.py CACHE FILENAME [SHA256]        that file (a wheel)

The file is found in PyPI's JSON simple index (PEP 691), downloaded, and
checked against the sha256 the index gives and, when given, against SHA256
(a pin); it is kept as CACHE/SHA256/FILENAME (written to a .part file and
renamed, so a cached file is whole) and its path printed. Errors name the
file and the cause, exit 1.
"""
import hashlib
import json
import os
import re
import sys
import urllib.request

INDEX = os.environ.get("LARDER_PYPI_INDEX", "https://pypi.org/simple/")


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def listing(project):
    url = INDEX + norm(project) + "/"
    req = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)["files"]
    except Exception as e:
        sys.exit("pypi-fetch: cannot read %s: %s" % (url, e))


def find(what):
    if "==" in what:
        name, _, version = what.partition("==")
        for f in listing(name):
            stem = re.sub(r"\.(tar\.gz|zip)$", "", f["filename"])
            n, _, v = stem.rpartition("-")
            if stem != f["filename"] and norm(n) == norm(name) and v == version and not f.get("yanked"):
                return f
        sys.exit("pypi-fetch: %s has no sdist on PyPI" % what)
    for f in listing(what.split("-")[0]):
        if f["filename"] == what:
            return f
    sys.exit("pypi-fetch: PyPI has no file %s" % what)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip().split("\n\n")[1])
    cache, what = sys.argv[1], sys.argv[2]
    pin = sys.argv[3] if len(sys.argv) == 4 else ""
    if pin:  # a pinned file already cached needs no index
        for name in os.listdir(os.path.join(cache, pin)) if os.path.isdir(os.path.join(cache, pin)) else []:
            if not name.endswith(".part") and ("==" in what or name == what):
                print(os.path.join(cache, pin, name))
                return
    f = find(what)
    sha = f["hashes"]["sha256"]
    if pin and pin != sha:
        sys.exit("pypi-fetch: PyPI's %s has sha256 %s, not the pinned %s" % (f["filename"], sha, pin))
    path = os.path.join(cache, sha, f["filename"])
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with urllib.request.urlopen(f["url"], timeout=600) as r:
                data = r.read()
        except Exception as e:
            sys.exit("pypi-fetch: cannot download %s: %s" % (f["url"], e))
        if hashlib.sha256(data).hexdigest() != sha:
            sys.exit("pypi-fetch: %s does not match PyPI's sha256 %s" % (f["url"], sha))
        with open(path + ".part", "wb") as out:
            out.write(data)
        os.rename(path + ".part", path)
    print(path)


if __name__ == "__main__":
    main()
