"""make_wheel.py - write small wheels for the builder tests, good and bad.

    python3 make_wheel.py OUT.whl KIND

KIND: good, tampered (a file differs from RECORD), unlisted (a file not in
RECORD), no-metadata, traversal (a ../ member), absolute (a /etc member),
symlink (a symbolic link member), native (a linux x86_64 tag), big (a 2 MB
file), syntax (a module that does not compile), extras (requirements with
markers and extras).
"""
import base64
import hashlib
import sys
import zipfile

out, kind = sys.argv[1], sys.argv[2]
name, version = "larder_demo", "1.2.3"
dist = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": b"from .core import answer\n",
    f"{name}/core.py": b"def answer():\n    return 42\n",
    f"{name}/data.txt": b"some data\n",
}
requires = ["six>=1.5", "attrs ; python_version >= '3.7'", "pywin32 ; sys_platform == 'win32'",
            "importlib-metadata ; python_version < '3.8'", "pyparsing[diagrams] ; extra == 'plot'",
            "cycler ; platform_machine == 'wasm32' and extra == 'plot'"]
metadata = f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n"
metadata += "".join(f"Requires-Dist: {r}\n" for r in requires) + "\nA description.\n"
tag = "cp311-cp311-manylinux_2_17_x86_64" if kind == "native" else "py3-none-any"
if kind == "big":
    files[f"{name}/big.bin"] = b"x" * 2_000_000
if kind == "syntax":
    files[f"{name}/broken.py"] = b"def f(:\n    pass\n"
if kind != "no-metadata":
    files[f"{dist}/METADATA"] = metadata.encode()
files[f"{dist}/WHEEL"] = f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
files[f"{dist}/top_level.txt"] = f"{name}\n".encode()
extra_members = {}
if kind == "traversal":
    extra_members["../evil.py"] = b"print('escaped')\n"
if kind == "absolute":
    extra_members["/etc/evil.py"] = b"print('escaped')\n"


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\n"


record = "".join(record_line(p, d) for p, d in sorted({**files, **extra_members}.items()))
record += f"{dist}/RECORD,,\n"
if kind == "tampered":
    files[f"{name}/core.py"] = b"def answer():\n    return 666\n"
if kind == "unlisted":
    extra_members[f"{name}/sneaky.py"] = b"print('not in RECORD')\n"
files[f"{dist}/RECORD"] = record.encode()

with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for path, data in sorted(files.items()):
        z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data)
    for path, data in extra_members.items():
        z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), data)
    if kind == "symlink":
        info = zipfile.ZipInfo(f"{name}/link.py", (2020, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")
