"""kernels.py - pure-Python CPU kernels for bench/cpu.js, the same source in
every interpreter (larder's, Pyodide's, the host's CPython 3.11).

measure(name, warm) runs kernel `name` once right away ("first": how fast
the interpreter runs before the engine has optimised it) and then `warm`
times more ("warm": the best of those), and returns {"first": ms, "warm":
ms, "check": a value every interpreter must agree on}."""
import json
import math
import random
import re
import time


def fib():
    def f(n):
        return n if n < 2 else f(n - 1) + f(n - 2)
    return f(25)


def dicts():
    d = {}
    for i in range(200000):
        k = i % 997
        d[k] = d.get(k, 0) + i
    return sum(d.values())


def strings():
    s = "".join(f"{i}:{i * 3:x};" for i in range(60000))
    parts = s.upper().split(";")
    return len(parts) + sum(len(p) for p in parts[:1000])


def sorting():
    rng = random.Random(1)
    xs = [rng.random() for _ in range(60000)]
    words = [f"w{rng.randrange(10**6)}" for _ in range(30000)]
    return round(sorted(xs)[30000], 9), sorted(words, key=lambda w: (len(w), w))[0]


def nbody():
    bodies = [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 39.47],
              [4.84, -1.16, -0.10, 0.606, 2.81, -0.02, 0.037],
              [8.34, 4.12, -0.40, -1.01, 1.82, 0.008, 0.011],
              [12.89, -15.11, -0.22, 1.08, 0.868, -0.01, 0.0017],
              [15.37, -25.91, 0.179, 0.979, 0.594, -0.034, 0.002]]
    dt = 0.01
    for _ in range(4000):
        for i in range(5):
            bi = bodies[i]
            for j in range(i + 1, 5):
                bj = bodies[j]
                dx, dy, dz = bi[0] - bj[0], bi[1] - bj[1], bi[2] - bj[2]
                mag = dt / ((dx * dx + dy * dy + dz * dz) ** 1.5)
                bi[3] -= dx * bj[6] * mag
                bi[4] -= dy * bj[6] * mag
                bi[5] -= dz * bj[6] * mag
                bj[3] += dx * bi[6] * mag
                bj[4] += dy * bi[6] * mag
                bj[5] += dz * bi[6] * mag
        for b in bodies:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]
    return round(bodies[1][0], 6)


class Point:
    __slots__ = ("x", "y", "z")

    def __init__(self, i):
        self.x = x = math.sin(i)
        self.y = math.cos(i) * 3
        self.z = (x * x) / 2

    def normalize(self):
        n = math.sqrt(self.x * self.x + self.y * self.y + self.z * self.z)
        self.x /= n
        self.y /= n
        self.z /= n


def floats():
    points = [Point(i) for i in range(60000)]
    for p in points:
        p.normalize()
    return round(max(p.x for p in points), 9)


def jsons():
    doc = {"items": [{"id": i, "name": f"item{i}", "tags": ["a", "b", str(i)], "price": i * 1.25}
                     for i in range(300)], "ok": True, "note": None}
    n = 0
    for _ in range(25):
        n += len(json.loads(json.dumps(doc))["items"])
    return n


def regexes():
    text = " ".join(f"user{i}@host{i % 7}.example.org id={i:05d} 2026-12-{i % 28 + 1:02d}" for i in range(4000))
    emails = re.findall(r"[\w.]+@[\w.]+\.\w+", text)
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", text)
    return len(emails), len(dates), len(re.sub(r"id=(\d+)", r"<\1>", text))


KERNELS = {"fib": fib, "dicts": dicts, "strings": strings, "sorting": sorting, "nbody": nbody,
           "floats": floats, "json": jsons, "regex": regexes}


def measure(name, warm):
    k = KERNELS[name]
    t0 = time.perf_counter()
    check = k()
    first = (time.perf_counter() - t0) * 1e3
    best = None
    for _ in range(warm):
        t0 = time.perf_counter()
        k()
        ms = (time.perf_counter() - t0) * 1e3
        best = ms if best is None else min(best, ms)
    return {"first": first, "warm": best, "check": repr(check)}


if __name__ == "__main__" and len(__import__("sys").argv) == 3:  # (Pyodide runs the source without argv)
    import sys
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
