"""mpl_figure.py OUT.png - the figure the wasm matplotlib renders and the
host's native matplotlib of the same version renders too, to be compared
pixel by pixel (tests/node/native.test.js): a line plot, a scatter with a
colour bar, text, a legend, with the Agg backend."""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

x = np.linspace(0.0, 10.0, 200)
fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=80)
ax.plot(x, np.sin(x), label="sin(x)")
pts = x[::8]
sc = ax.scatter(pts, np.cos(pts), c=pts, cmap="viridis", label="cos(x)")
ax.text(0.5, -0.8, "larder: matplotlib in wasm", fontsize=12)
ax.set_title("matplotlib " + matplotlib.__version__)
ax.set_xlabel("x")
ax.legend(loc="upper right")
fig.colorbar(sc, ax=ax, label="x")
fig.savefig(sys.argv[1], format="png", metadata={"Software": None})
print(matplotlib.__version__, fig.get_size_inches().tolist(), fig.dpi)
