"""numpy_values.py - the computations the wasm numpy is compared on with the
host's native numpy of the same version (tests/node/native.test.js): prints
one JSON object."""
import json

import numpy as np

a = np.array([[3.0, 1.0, 2.0], [1.0, 5.0, 1.0], [2.0, 1.0, 4.0]])
b = np.array([1.0, 2.0, 3.0])
f = np.fft.fft(np.arange(8.0) ** 2)
broadcast = (np.arange(12.0).reshape(3, 4) * np.array([1.0, 2.0, 3.0, 4.0]) + np.arange(3.0)[:, None]) ** 0.5
print(json.dumps({
    "version": np.__version__,
    "solve": np.linalg.solve(a, b).tolist(),
    "fft": [f.real.tolist(), f.imag.tolist()],
    "normal_mean": float(np.random.default_rng(0).normal(size=1000).mean()),
    "broadcast": broadcast.tolist(),
}))
