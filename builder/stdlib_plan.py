"""stdlib_plan.py - plan the split of CPython's stdlib into lazy packages.

    python3.11 stdlib_plan.py LIBDIR CORE_LIST [--dynload DIR] [--sysconfigdata FILE]
    python3.11 stdlib_plan.py --imports ROOT TOP...

Prints JSON: {"core": [module names kept in the core bundle],
"packages": [{"name", "imports": [top-level names it provides],
"files": [[archive path, source path]...], "depends": [package names]}]}. larder-build stdlib turns each package into
a cpython_module archive.

Every top-level stdlib module or package outside the core becomes one
package. Its depends are the other packages it imports *at module level*
(static analysis of every file of the package: import statements outside
function bodies, including those under if/try/class, but not the fallbacks
in "except ImportError" handlers), following the package's own submodules
that its __init__ imports. Extension modules
built as side modules (DIR/*.so) travel in the package that imports them
(_decimal in decimal, pyexpat and _elementtree in xml, ...); the non-core
codecs form the "encodings" package, and each CJK codec module is a package
of its own (_codecs_jp, _multibytecodec...). Frozen and builtin
modules are always there and are never dependencies.

--imports prints, one a line, the top-level names that importing the given
top-level names of the package under ROOT imports at module level, by the
same rules: larder-build --stdlib records the stdlib packages among them as
dependencies of a package, so the loader fetches them with it. Then a line
"--modules" and, for each submodule whose import brings more top-level
names than its package's does, a line "MODULE NAME...": larder-build
writes the stdlib packages among them into the package (.larder-imports),
and the loader fetches them all at once when that submodule is imported.
"""
import _imp
import argparse
import ast
import json
import os
import sys

EXCLUDED_TOP = {
    # not for the browser, or cannot work in this runtime (no _curses,
    # _tkinter)
    "test", "idlelib", "tkinter", "turtledemo", "turtle", "__phello__",
    "curses", "site-packages",
}
EXCLUDED_PARTS = {"test", "tests", "idle_test", "__pycache__"}
# side module -> the package it travels in
EXTENSION_HOME = {
    "_decimal": "decimal", "_sqlite3": "sqlite3", "pyexpat": "xml", "_elementtree": "xml",
    "_lzma": "lzma", "_bz2": "bz2", "unicodedata": "unicodedata",
    # the CJK codecs (760 KB of wasm, nine tenths of what "encodings" was) are
    # packages by themselves: encodings.shift_jis imports _codecs_jp and
    # _multibytecodec, and what needs only cp437 or utf_16 does not get them
    "_multibytecodec": "_multibytecodec", "_codecs_cn": "_codecs_cn", "_codecs_hk": "_codecs_hk",
    "_codecs_iso2022": "_codecs_iso2022", "_codecs_jp": "_codecs_jp", "_codecs_kr": "_codecs_kr",
    "_codecs_tw": "_codecs_tw",
    # the accelerators travel with the module that uses them
    "_asyncio": "asyncio", "_bisect": "bisect", "_contextvars": "contextvars", "_csv": "csv",
    "_heapq": "heapq", "_json": "json", "_lsprof": "cProfile", "_opcode": "opcode",
    "_pickle": "pickle", "_queue": "queue", "_random": "random", "_struct": "struct",
    "_typing": "typing", "_zoneinfo": "zoneinfo", "_statistics": "statistics",
    "_datetime": "datetime", "_crypt": "crypt", "_socket": "socket", "select": "socket",
    "_ctypes": "ctypes", "_ssl": "ssl",
    # OpenSSL's hashes: hashlib imports it when first needed (lib-patches/)
    "_hashlib": "_hashlib",
    "_md5": "hashlib", "_sha1": "hashlib", "_sha256": "hashlib", "_sha512": "hashlib",
    "_sha3": "hashlib", "_blake2": "hashlib",
    # and those with no Python module of their own are packages by themselves
    "array": "array", "audioop": "audioop", "math": "math", "cmath": "cmath",
    "binascii": "binascii", "zlib": "zlib", "mmap": "mmap",
}


def _catches_import_error(handler):
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError")
               for n in names)


def _is_main_guard(test):
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


def module_level_imports(tree, module, is_package):
    """Absolute names of the modules imported when the module body runs
    (for "from X import y", both X and X.y: y may be a submodule)."""
    found = set()
    package = module if is_package else module.rpartition(".")[0]
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Try):
            # "try: import _decimal / except ImportError: import _pydecimal":
            # the handler's imports are a fallback that only runs when the
            # first choice is missing, so they are not dependencies
            stack.extend(node.body + node.orelse + node.finalbody)
            stack.extend(h for h in node.handlers if not _catches_import_error(h))
            continue
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            stack.extend(node.orelse)  # the script part never runs on import
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if target:  # "from __future__ import x" imports __future__ when it runs
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
        else:
            stack.extend(ast.iter_child_nodes(node))
    return found


def imports_of(modules, top, module=None):
    """Top-level names, other than top, whose modules importing top (or its
    submodule module) runs imports of: the bodies of top, of the packages on
    the way to module, of module, and of the submodules of top that those
    bodies import, transitively (modules: name -> module_level_imports)."""
    parts = (module or top).split(".")
    imported, todo, seen = set(), [".".join(parts[:i]) for i in range(1, len(parts) + 1)], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        for target in modules[name]:
            if target.split(".")[0] == top:
                todo.append(target)
            else:
                imported.add(target.split(".")[0])
    return imported


def package_imports(root, tops):
    """For larder-build --stdlib: what importing each of tops (a package's
    import names) imports at module level, from the .py files under root;
    and, by submodule, what importing it adds to that."""
    modules = {}
    for dirpath, dirs, files in os.walk(root):
        for f in files:
            if not f.endswith(".py"):
                continue
            full = os.path.join(dirpath, f)
            name = os.path.relpath(full, root)[:-3].replace(os.sep, ".")
            is_package = f == "__init__.py"
            if is_package:
                name = name[:-len(".__init__")]
            with open(full, "rb") as fh:
                modules[name] = module_level_imports(ast.parse(fh.read(), full), name, is_package)
    found = set()
    for top in tops:
        found |= imports_of(modules, top)
    found -= set(tops)
    more = {}
    for name in sorted(modules):
        top = name.split(".")[0]
        if top in tops and name != top:
            adds = imports_of(modules, top, name) - found - set(tops)
            if adds:
                more[name] = sorted(adds)
    return sorted(found), more


def walk_package(libdir, top):
    """(relative path, absolute path) of every .py of a top-level name."""
    path = os.path.join(libdir, top)
    if os.path.isfile(path + ".py"):
        yield top + ".py", path + ".py"
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_PARTS)
        for f in sorted(files):
            if f.endswith(".py"):
                full = os.path.join(root, f)
                yield os.path.relpath(full, libdir), full


def main():
    if sys.argv[1:2] == ["--imports"]:  # --imports ROOT TOP...: one name a line, then --modules
        found, more = package_imports(sys.argv[2], sys.argv[3:])
        print("\n".join(found + ["--modules"] + [" ".join([name] + adds) for name, adds in more.items()]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("libdir")
    ap.add_argument("core_list")
    ap.add_argument("--dynload")
    ap.add_argument("--sysconfigdata")
    args = ap.parse_args()
    if sys.version_info[:2] != (3, 11):
        sys.exit("stdlib_plan: needs CPython 3.11")

    with open(args.core_list) as f:
        core = [l.split("#")[0].strip() for l in f]
    core = [c for c in core if c]
    # top-level modules frozen into the runtime (importlib itself is not:
    # only importlib.util and importlib.machinery are)
    frozen = {n for n in _imp._frozen_module_names() if "." not in n and not n.startswith("__")}
    # top-level names of the stdlib
    tops = set()
    for entry in os.listdir(args.libdir):
        full = os.path.join(args.libdir, entry)
        if entry.endswith(".py"):
            tops.add(entry[:-3])
        elif os.path.isdir(full) and os.path.isfile(os.path.join(full, "__init__.py")):
            tops.add(entry)
    tops -= EXCLUDED_TOP
    tops -= frozen
    core_files = set()
    for name in core:
        parts = name.split(".")
        base = os.path.join(*parts)
        if os.path.isdir(os.path.join(args.libdir, base)):
            core_files.add(os.path.join(base, "__init__.py"))
        else:
            core_files.add(base + ".py")

    extensions = {}
    if args.dynload:
        for f in sorted(os.listdir(args.dynload)):
            if f.endswith(".so"):
                mod = f.split(".")[0]
                if mod not in EXTENSION_HOME:
                    sys.exit(f"stdlib_plan: no package is known to own side module {f}")
                extensions.setdefault(EXTENSION_HOME[mod], []).append(
                    (f"lib-dynload/{f}", os.path.join(args.dynload, f), mod))

    owner = {}  # importable top-level name -> package
    for top in tops:
        owner[top] = top
    for home, exts in extensions.items():
        tops.add(home)
        owner[home] = home
        for _, _, mod in exts:
            owner[mod] = home

    packages = []
    for top in sorted(tops):
        files, modules = [], {}
        for rel, full in walk_package(args.libdir, top):
            is_package = rel.endswith("__init__.py")
            name = rel[:-3].replace(os.sep, ".")
            if is_package:
                name = name[:-len(".__init__")]
            with open(full, "rb") as f:
                modules[name] = module_level_imports(ast.parse(f.read(), full), name, is_package)
            if rel not in core_files:
                files.append([rel, full])
        imported = imports_of(modules, top)
        for rel, full, _ in extensions.get(top, []):
            files.append([rel, full])
        if top == "sysconfig" and args.sysconfigdata:
            files.append([os.path.basename(args.sysconfigdata), args.sysconfigdata])
        if not files:
            continue
        depends = sorted({owner[n] for n in imported if n in owner and owner[n] != top})
        imports = [top] + sorted(mod for _, _, mod in extensions.get(top, []) if mod != top)
        if top == "sysconfig" and args.sysconfigdata:
            # the build's data module, imported by name: a package declares
            # every top-level name it installs (the loader checks)
            imports.append(os.path.basename(args.sysconfigdata)[:-3])
        packages.append({"name": top, "imports": imports, "files": files, "depends": depends})
    json.dump({"core": core, "packages": packages}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
