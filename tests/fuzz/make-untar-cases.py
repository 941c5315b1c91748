"""make-untar-cases.py - write the tar reader's hostile seed cases into
tests/fuzz/corpus/untar/ (checked in; tests/unit/test_loader.c asserts what
the reader answers to each, the fuzzer mutates them).

    python3 tests/fuzz/make-untar-cases.py

Each case is a tar the builder never writes: what untar.c must refuse.
"""
import io
import os
import tarfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "untar")


def tar_bytes(members, fmt=tarfile.PAX_FORMAT, pax_headers=None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=pax_headers) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return bytearray(buf.getvalue())


def member(name, data=b"x", kind=tarfile.REGTYPE, **extra):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mtime = 0
    for k, v in extra.items():
        setattr(info, k, v)
    return info, (data if kind == tarfile.REGTYPE else None)


def checksum(block):
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block[:512])


def write(name, data):
    with open(os.path.join(OUT, name + ".tar"), "wb") as f:
        f.write(bytes(data))


# a symbolic link spelled as a pax linkpath on a regular-looking entry
info, _ = member("pkg/link.py")
info.pax_headers = {"linkpath": "/etc/passwd"}
write("pax-linkpath", tar_bytes([(info, b"x")]))
# a global pax header (type 'g') before a file
write("pax-global", tar_bytes([member("pkg/a.py")], pax_headers={"comment": "global"}))
# a GNU long name (type 'L')
write("gnu-longname", tar_bytes([member("pkg/" + "n" * 120 + ".py")], fmt=tarfile.GNU_FORMAT))
# ".." in the ustar prefix field: prefix "pkg/../.." + name "escape.py"
t = tar_bytes([member("pkg/escape.py")], fmt=tarfile.USTAR_FORMAT)
t[0:100] = b"escape.py".ljust(100, b"\0")
t[345:500] = b"pkg/../..".ljust(155, b"\0")
checksum(t)
write("ustar-prefix-dotdot", t)
# a header whose checksum is wrong
t = tar_bytes([member("pkg/a.py")], fmt=tarfile.USTAR_FORMAT)
t[148:156] = b"0000000\0"
write("bad-checksum", t)
# a size in base-256 (GNU's binary form for sizes beyond 8 GiB)
t = tar_bytes([member("pkg/a.py")], fmt=tarfile.USTAR_FORMAT)
t[124:136] = b"\x80" + b"\0" * 10 + b"\x01"
checksum(t)
write("base256-size", t)
# data after the end-of-archive marker
write("data-after-end", tar_bytes([member("pkg/a.py")], fmt=tarfile.USTAR_FORMAT) + b"trailing data".ljust(512, b"\0"))
# a directory entry carrying data
t = tar_bytes([member("pkg/a.py", b"y" * 10)], fmt=tarfile.USTAR_FORMAT)
t[0:100] = b"pkg/dir/".ljust(100, b"\0")
t[156:157] = b"5"
checksum(t)
write("dir-with-data", t)
