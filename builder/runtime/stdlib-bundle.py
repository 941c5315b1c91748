"""stdlib-bundle.py: pack CPython's pure-Python stdlib into zip bundles.

    python3.11 stdlib-bundle.py LIBDIR SYSCONFIGDATA OUT.zip [--only LIST] [--extra DIR]...

Writes a zip of .pyc files (stored, not deflated: the transport compresses
it, and zipimport then needs no zlib) for every module under LIBDIR, or only
for the modules named in LIST (one dotted module name per line; a package
name takes its __init__ only, NAME.* takes the whole package). The .pyc are
unchecked-hash pycs (PEP 552) and the zip has sorted entries with a fixed
date, so the same input always gives the same bytes. It must run on a
CPython 3.11 so the magic number matches the runtime's.
"""
import argparse
import importlib.util
import os
import sys
import zipfile

# never shipped to the browser: tests, GUI toolkits, installers, build tools
EXCLUDED_TOP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
                "venv", "distutils", "__phello__", "site-packages", "config-3.11"}
EXCLUDED_PARTS = {"tests", "test", "__pycache__", "idle_test"}
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def module_name(rel):
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def select(libdir, only):
    globs = {p[:-2] for p in only if p.endswith(".*")} if only is not None else set()
    names = set(only) if only is not None else None
    found = set()
    for top, dirs, files in os.walk(libdir):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(top, f), libdir)
            parts = rel.split(os.sep)
            if parts[0] in EXCLUDED_TOP or any(p in EXCLUDED_PARTS for p in parts[:-1]):
                continue
            name = module_name(rel)
            if names is not None and name not in names and not any(
                    name == g or name.startswith(g + ".") for g in globs):
                continue
            found.add(name)
            yield rel, os.path.join(top, f)
    if names is not None:
        missing = {n for n in names if not n.endswith(".*")} - found
        missing |= {g for g in globs if g not in found}
        if missing:
            sys.exit(f"stdlib-bundle: modules listed but not found in {libdir}: "
                     + ", ".join(sorted(missing)))


def pyc_bytes(source_path, rel):
    with open(source_path, "rb") as f:
        source = f.read()
    code = compile(source, rel, "exec", dont_inherit=True)
    from importlib._bootstrap_external import _code_to_hash_pyc
    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("libdir")
    ap.add_argument("sysconfigdata")
    ap.add_argument("out")
    ap.add_argument("--only", help="file listing the modules to include")
    ap.add_argument("--add", action="append", default=[], help="another top-level module (.py) or package (a directory) to include")
    args = ap.parse_args()
    if sys.version_info[:2] != (3, 11):
        sys.exit("stdlib-bundle: needs CPython 3.11 (the runtime's bytecode), got "
                 + sys.version.split()[0])
    only = None
    if args.only:
        with open(args.only) as f:
            only = [l.split("#")[0].strip() for l in f]
        only = [l for l in only if l]
    entries = []
    for rel, path in select(args.libdir, only):
        entries.append((rel[:-3] + ".pyc", pyc_bytes(path, rel)))
    for path in args.add:  # a module, or a package directory
        base = os.path.dirname(os.path.normpath(path))
        files = [path] if os.path.isfile(path) else sorted(
            os.path.join(d, f) for d, _, names in os.walk(path) for f in names if f.endswith(".py"))
        for f in files:
            rel = os.path.relpath(f, base)
            entries.append((rel[:-3] + ".pyc", pyc_bytes(f, rel)))
    if only is None:
        name = os.path.basename(args.sysconfigdata)
        entries.append((name[:-3] + ".pyc", pyc_bytes(args.sysconfigdata, name)))
    entries.sort()
    tmp = args.out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name.replace(os.sep, "/"), FIXED_DATE)
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(entries)} modules, {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
