"""larder: Python packages that load when they are imported.

The runtime starts with a small core; every other module lives in a signed
package index on a mirror. ``larder.init()`` (done at startup when the page
or the command line gives an index URL) fetches and verifies the index and
puts a finder at the end of ``sys.meta_path``: when an import finds nothing
locally, the finder asks the index which package provides the module, and
``_larder`` fetches (or takes from the cache), verifies, unpacks and installs
that package and its dependencies before the import goes on.

API: ``install(*names)``, ``prefetch(*modules)``, ``available()``,
``installed()``, ``info(name)``, ``stats()``;
errors are ImportError subclasses: ``LoadError`` and its ``FetchError``,
``IntegrityError``, ``CorruptError``, ``IndexError``.
"""
import atexit
import os
import sys
from time import perf_counter as _clock

import _larder

LoadError = _larder.LoadError
FetchError = _larder.FetchError
IntegrityError = _larder.IntegrityError
CorruptError = _larder.CorruptError
IndexError = _larder.IndexError  # noqa: A001 - the documented name

# The runtime's layout and target, defined once in C (common/common.h).
PREFIX = _larder.PREFIX
STDLIB_DIR = _larder.STDLIB_DIR
SITE_DIR = _larder.SITE_DIR
DYNLIB_DIR = f"{PREFIX}/lib"
CACHE_DIR = "/larder/cache"
TRUST_DIR = "/larder-trust"

_index = None
_index_url = None
_loader = None
_init_error = None
_from_environment = None  # _init_from_environment: "deferred" (noted, not started) or "started"
_finder_ms = {"install_ms": 0.0, "rescan_ms": 0.0}
# submodule -> the stdlib packages importing it fetches beyond its package's
# depends (TOP/.larder-imports of an installed package, from larder-build)
_submodule_needs = {}
# What followed a package's import on earlier visits: the packages installed
# after it (the stdlib modules its code imported, one import statement after
# another) until the next package of the site was imported. Kept in the cache
# directory; importing that package again announces them all at once.
_FOLLOWED = "followed-imports"
_FOLLOWED_MAX = 1024  # names per package
_followed = {}        # package -> [packages]
_following = None     # [package, [packages]]: this visit's record
_followed_unsaved = False  # _followed changed since it was read or written
_cache_dir = None
_PathFinder = sys.modules["_frozen_importlib_external"].PathFinder


def _makedirs(path):
    if not os.path.isdir(path):
        os.makedirs(path, exist_ok=True)


def _fetch_index(url, cache_dir, allow_unsigned):
    """index.json and its signature: from the mirror, or (offline) the copy
    kept in the cache, which is verified the same way."""
    try:
        data = _larder.fetch(url)
        try:
            sig = _larder.fetch(url + ".sig")
        except FetchError:
            if not allow_unsigned:
                raise
            sig = None
        return data, sig, True
    except FetchError as error:
        kept = os.path.join(cache_dir, "index.json")
        if not os.path.exists(kept):
            raise
        with open(kept, "rb") as f:
            data = f.read()
        sig = None
        if os.path.exists(kept + ".sig"):
            with open(kept + ".sig", "rb") as f:
                sig = f.read()
        print(f"larder: {error}; using the index kept in the cache", file=sys.stderr)
        return data, sig, False


def _trusted_serial(trust_dir, key_id, new=None):
    """The highest index serial accepted before under key_id (0: none), from
    the trust store: a directory of its own (IndexedDB in a browser, a
    per-user directory under Node), apart from the archive cache, so that a
    memory cache, a cleared cache or another cache directory does not reset
    the rollback protection. With new, record it when it is higher."""
    path = os.path.join(trust_dir, key_id + ".serial")
    try:
        with open(path) as f:
            seen = int(f.read().strip() or 0)
    except FileNotFoundError:
        seen = 0
    except ValueError:
        raise IndexError(f"the trust store's {path} is damaged (not a serial); remove it to trust "
                         "the mirror's current index again") from None
    if new is not None and new > seen:
        _makedirs(trust_dir)
        with open(path + ".tmp", "w") as f:
            f.write(f"{new}\n")
        os.replace(path + ".tmp", path)
        seen = new
    return seen


# What this runtime is, as an index's info names it (larder-mirror sign
# writes these): packages built for another Python or archive format would
# fail later, and less clearly.
RUNTIME_PYTHON = ".".join(_larder.PYTHON_VERSION.split(".")[:2])
RUNTIME_ABI = _larder.ABI_VERSION


def _check_target(info, index_url):
    python, abi = info.get("python"), info.get("abi_version")
    if python and ".".join(python.split(".")[:2]) != RUNTIME_PYTHON:
        raise IndexError(f"the index at {index_url} is for Python {python}, and this runtime is CPython "
                         f"{RUNTIME_PYTHON}: use a mirror made for it")
    if abi and abi != RUNTIME_ABI:
        raise IndexError(f"the index at {index_url} is for archive format {abi!r}, and this runtime reads "
                         f"{RUNTIME_ABI!r}: use a mirror made for it, or update the runtime")


def init(index_url, key=None, allow_unsigned=False, cache_dir=CACHE_DIR, cache_cap=256 << 20,
         trust_dir=TRUST_DIR):
    """Fetch and verify the index at index_url (pinned key: "ed25519:..."),
    then load packages on import. Raises IndexError or FetchError."""
    global _index, _index_url, _loader, _init_error, _from_environment
    if _from_environment == "deferred":
        _from_environment = "started"  # this index, not the one the runtime noted
    _makedirs(cache_dir)
    data, sig, fresh = _fetch_index(index_url, cache_dir, allow_unsigned)
    key_id = _larder.key_id(key) if key else None
    min_serial = _trusted_serial(trust_dir, key_id) if key_id else 0
    index = _larder.Index(data, sig, key, min_serial, allow_unsigned=allow_unsigned)
    _check_target(index.info, index_url)
    if key_id:
        _trusted_serial(trust_dir, key_id, index.info["serial"])
    if fresh:
        for name, blob in (("index.json", data), ("index.json.sig", sig)):
            if blob is not None:
                with open(os.path.join(cache_dir, name + ".tmp"), "wb") as f:
                    f.write(blob)
                os.replace(os.path.join(cache_dir, name + ".tmp"), os.path.join(cache_dir, name))
    base_url = index_url.rsplit("/", 1)[0] + "/"
    for d in (SITE_DIR, STDLIB_DIR, DYNLIB_DIR):
        _makedirs(d)
    if SITE_DIR not in sys.path:
        sys.path.append(SITE_DIR)
    _index = index
    _index_url = index_url
    _loader = _larder.Loader(index, base_url, SITE_DIR, STDLIB_DIR, DYNLIB_DIR, cache_dir, cache_cap)
    _read_followed(cache_dir)
    _init_error = None
    # the codecs outside the core install into the stdlib directory
    import encodings
    if f"{STDLIB_DIR}/encodings" not in encodings.__path__:
        encodings.__path__.append(f"{STDLIB_DIR}/encodings")
    _install_finder()
    _invalidate()


def _init_from_environment(defer=False):
    """Called by the runtime at startup when LARDER_INDEX_URL is set. A
    failure is reported on stderr and again by every import that would have
    needed the index. With defer, only noted: the loader starts when
    something first needs the index (_ready: an import nothing local has, a
    prefetch, install...), or when the runtime calls again without defer (a
    page's Worker does in its first idle moment), so that a page is ready
    to run code before the index is fetched and verified."""
    global _init_error, _from_environment
    if _from_environment == "started" or (defer and _from_environment == "deferred"):
        return
    if defer:
        _from_environment = "deferred"
        _install_finder()
        return
    _from_environment = "started"
    env = os.environ
    try:
        init(env["LARDER_INDEX_URL"], key=env.get("LARDER_KEY") or None,
             allow_unsigned=env.get("LARDER_ALLOW_UNSIGNED") == "1",
             cache_dir=env.get("LARDER_CACHE_DIR") or CACHE_DIR,
             cache_cap=int(env.get("LARDER_CACHE_CAP") or 256 << 20),
             trust_dir=env.get("LARDER_TRUST_DIR") or TRUST_DIR)
    except LoadError as error:
        _init_error = error
        _install_finder()
        print(f"larder: packages cannot be loaded: {error}", file=sys.stderr)


def _ready():
    """Start the loader _init_from_environment(defer=True) noted, if it has
    not started."""
    if _from_environment == "deferred":
        _init_from_environment()


_ROOTS = {"site": SITE_DIR, "stdlib": STDLIB_DIR, "dynlib": DYNLIB_DIR}  # by install_dir


def _entries(installed):
    """(name, index entry) of each package of an install's list of (name,
    from_cache): what the steps after an install read, looked up once."""
    return [(key, _index.get(key)) for key, _ in installed]


def _invalidate(entries=None):
    """After installs: what importlib.invalidate_caches() does, but only for
    the directory finders an install can have changed (entries: _entries()
    of what it installed; None: every finder), so that the others keep their
    listings: an install writes under its root only its top-level names (and
    stdlib side modules into lib-dynload)."""
    if entries is None:
        _PathFinder.invalidate_caches()
        return
    roots, tops = set(), set()  # directories changed; directories changed with all below them
    for _, info in entries:
        root = _ROOTS.get(info and info["install_dir"])
        if root:
            roots.add(root)
            tops.update(f"{root}/{top}" for top in info["imports"])
            if root == STDLIB_DIR:
                tops.add(f"{root}/lib-dynload")
    cache = sys.path_importer_cache
    for name, finder in list(cache.items()):
        if finder is None or not os.path.isabs(name):
            del cache[name]
        elif (name in roots or name in tops or any(name.startswith(t + "/") for t in tops)) \
                and hasattr(finder, "invalidate_caches"):
            finder.invalidate_caches()
    sys.modules["_frozen_importlib_external"]._NamespacePath._epoch += 1


# Stdlib modules this runtime cannot have, and why.
_NO_TERMINAL = "it needs a terminal, which a browser has not"
_NO_UNIX = "it is a Unix system interface that Emscripten does not provide"
_NO_WINDOWS = "it exists on Windows only"
_NOT_HERE = {
    **dict.fromkeys(("curses", "_curses", "_curses_panel", "readline", "termios", "tty", "pty"), _NO_TERMINAL),
    **dict.fromkeys(("fcntl", "grp", "pwd", "resource", "syslog", "nis", "spwd", "_posixshmem",
                     "_multiprocessing", "_posixsubprocess", "crypt", "_crypt"), _NO_UNIX),
    **dict.fromkeys(("msvcrt", "winreg", "winsound", "_winapi", "nt", "_msi", "msilib", "_overlapped", "_wmi"),
                    _NO_WINDOWS),
    **dict.fromkeys(("tkinter", "_tkinter", "turtle", "turtledemo", "idlelib"), "it needs Tk, which has no wasm build"),
    "ossaudiodev": "it needs OSS sound devices",
    "_scproxy": "it exists on macOS only",
    "_uuid": "it needs libuuid (the uuid module works without it)",
    "_dbm": "no dbm C library is built for wasm (dbm.dumb works)",
    "_gdbm": "no gdbm C library is built for wasm (dbm.dumb works)",
}


def _missing(fullname):
    """The message of a ModuleNotFoundError for a top-level module no
    package in the index provides."""
    if fullname in _NOT_HERE:
        return (f"No module named {fullname!r} (a standard library module this runtime cannot have: "
                f"{_NOT_HERE[fullname]})")
    if fullname in sys.stdlib_module_names:
        return (f"No module named {fullname!r} (a standard library module, but the index at {_index_url} does "
                f"not provide it; the mirror's operator can publish the runtime's stdlib with "
                f"`larder-mirror runtime` and `larder-mirror sign`)")
    return (f"No module named {fullname!r} (no package in the index at {_index_url} provides it; the mirror's "
            f"operator can add it with `larder-mirror add {fullname}`)")


def _by_import_statement():
    """True when find_spec was called by the import system for an import
    (import statement, importlib.import_module), False for
    importlib.util.find_spec, which must get None for a missing module."""
    try:
        return sys._getframe(3).f_code.co_name == "_find_and_load_unlocked"
    except ValueError:
        return False


class _Finder:
    """The last finder on sys.meta_path: consulted only when nothing local
    has the module."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        _ready()
        if _init_error is not None:
            raise IndexError(f"cannot import {fullname!r}: the package index is not available "
                             f"({_init_error})", name=fullname)
        if _loader is None:
            return None
        package = _index.provider(fullname.partition(".")[0])
        if package is None and "." not in fullname and _by_import_statement():
            raise ModuleNotFoundError(_missing(fullname), name=fullname)
        if package is None or _loader.is_installed(package):
            return None
        t0 = _clock()
        if package in _followed:
            _prefetch([package] + _followed[package])
        entries = _entries(_loader.install([package]))
        _learn(entries)
        _follow(package, entries)
        t1 = _clock()
        _invalidate(entries)
        spec = _PathFinder.find_spec(fullname, path, target)
        _finder_ms["install_ms"] += (t1 - t0) * 1e3
        _finder_ms["rescan_ms"] += (_clock() - t1) * 1e3
        return spec

    @classmethod
    def invalidate_caches(cls):
        pass


def _prefetch(names):
    """Announce the archives installing names would fetch (a head start only:
    the import that needs a package reports its failure, in context)."""
    try:
        _loader.prefetch(names)
    except LoadError:
        pass


def _read_followed(cache_dir):
    global _cache_dir, _following, _followed_unsaved
    if _cache_dir is None:
        atexit.register(_save_followed)  # a command line's record; a page's run saves its own
    else:
        _save_followed()  # what followed in the cache used until now
    _cache_dir, _following, _followed_unsaved = cache_dir, None, False
    _followed.clear()
    try:
        with open(os.path.join(cache_dir, _FOLLOWED), encoding="utf-8") as f:
            for line in f:
                words = line.split()
                if words:
                    _followed[words[0]] = words[1:_FOLLOWED_MAX + 1]
    except FileNotFoundError:
        pass  # nothing followed yet


def _follow(package, entries):
    """Record what the finder installed (package, and _entries() of what its
    install made) in this visit's record of what followed the last package of
    the site imported; keep the record (in _FOLLOWED) when it names a package
    the kept one does not: a visit that repeats the last one writes nothing."""
    global _following, _followed_unsaved
    if any(key == package and info and info["install_dir"] == "site" for key, info in entries):
        _following = [package, []]
        return
    if _following is None:
        return
    names = _following[1]
    known = _followed.get(_following[0], ())
    news = False  # a name the kept record lacks: keep this visit's record instead
    for name, _ in entries:
        if name not in names and len(names) < _FOLLOWED_MAX:
            names.append(name)
            news = news or name not in known
    if not news:
        return
    _followed[_following[0]] = list(names)
    _followed_unsaved = True


def _save_followed():
    """Write the record _follow() keeps to the cache directory when it has
    changed: once when a run ends (larder_page.after_run), the process exits
    (atexit) or the loader moves to another cache, instead of at every
    install that adds a name to it. Nothing is left to report a failure to
    there, so it is said on stderr, and the record is kept for the next
    try."""
    global _followed_unsaved
    if not _followed_unsaved:
        return
    path = os.path.join(_cache_dir, _FOLLOWED)
    try:
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.writelines(f"{key} {' '.join(value)}\n" for key, value in sorted(_followed.items()) if value)
        os.replace(path + ".tmp", path)
    except OSError as e:
        print(f"larder: cannot write {path}: {e}; the next visit will fetch the packages its imports need "
              f"one import at a time (check that the cache directory is writable)", file=sys.stderr)
        return
    _followed_unsaved = False


class _Prefetcher:
    """The first finder on sys.meta_path. When a submodule is about to load
    whose package listed the stdlib packages it imports (.larder-imports),
    it starts downloading them all at once; each installs when an import
    statement of the submodule asks for it (_Finder), from a download
    already under way instead of one round trip after another. It finds
    nothing itself."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        needs = _submodule_needs.pop(fullname, None) if _submodule_needs else None
        if needs and _loader is not None:
            _prefetch(needs)
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


def _learn(entries):
    """Read the .larder-imports of the packages just installed (_entries())."""
    for _, info in entries:
        if not info or info["install_dir"] != "site":
            continue
        for top in info["imports"]:
            try:
                with open(f"{SITE_DIR}/{top}/.larder-imports", encoding="utf-8") as f:
                    for line in f:
                        module, *packages = line.split()
                        if packages:
                            _submodule_needs[module] = packages
            except (FileNotFoundError, NotADirectoryError):
                pass  # a single module, or a package whose submodules import nothing more


def _install_finder():
    if not any(f is _Finder for f in sys.meta_path):
        sys.meta_path.append(_Finder)
    if not any(f is _Prefetcher for f in sys.meta_path):
        sys.meta_path.insert(0, _Prefetcher)


def _require():
    _ready()
    if _loader is None:
        raise IndexError("larder is not initialised: no package index "
                         + (f"({_init_error})" if _init_error else "(call larder.init(url))"))


def install(*names):
    """Install packages (and their dependencies) now; returns the list of
    (name, from_cache) actually installed."""
    _require()
    done = _loader.install(list(names))
    entries = _entries(done)
    _learn(entries)
    _invalidate(entries)
    return done


def prefetch(*modules):
    """Begin downloading what importing these modules would install (the
    packages that provide them, their dependencies, and what followed them
    on the last visit), without waiting and without installing: a head
    start for imports that follow, which then install from downloads
    already under way. Modules already imported, provided by no package or
    by an installed one are skipped; a failed download is reported by the
    import that needs it. Returns the package names announced."""
    if modules:
        _ready()
    if _loader is None:
        return []
    packages = []
    for module in modules:
        top = module.partition(".")[0]
        package = None if top in sys.modules else _index.provider(top)
        if package is None or package in packages or _loader.is_installed(package):
            continue
        packages.append(package)
        packages.extend(p for p in _followed.get(package, ()) if p not in packages)
    if packages:
        _prefetch(packages)
    return packages


def stats():
    """Where loading packages took its time in this session: counts
    (packages, from_cache, files, archive_bytes, unpacked_bytes, and
    prefetched: archives whose download began ahead of the install, and
    hashed_by_platform: archives whose sha256 the fetch helper, or the runtime
    for its IDBFS cache, computed with WebCrypto, which the loader compared
    with the index's instead of hashing them, and handed_ahead: archives the
    fetch helper had handed over before the loader asked for them) and
    milliseconds per step of the installs (resolve, fetch, cache_read,
    verify, decompress, unpack, cache_write), with install_ms, the whole of
    the installs imports made, and rescan_ms, finding the module afterwards.
    What an import took beyond these is running the imported code."""
    _require()
    return {**_loader.stats(), **{k: round(v, 3) for k, v in _finder_ms.items()}}


def available():
    """Names of every package in the index."""
    _require()
    return _index.names()


def installed():
    """Names of the packages installed in this session."""
    _require()
    return _loader.installed()


def info(name):
    """The index entry of a package, as a dict; None if it is not there."""
    _require()
    return _index.get(name)


def display(data, mime="image/png"):
    """Show data (bytes of the MIME type) on the page running the program, in
    order with its output: the playground shows images inline. Returns False
    when nothing can show it (under Node, or a page with no display callback).
    Figures of matplotlib's plt.show() come here (larder_matplotlib)."""
    return _larder.display(mime, bytes(data))
