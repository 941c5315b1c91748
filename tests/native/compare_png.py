"""compare_png.py A.png B.png - prints the size of both images and the RMS
of their pixel difference (matplotlib.testing.compare's measure, 0..255),
and the share of pixels that differ at all, as JSON."""
import json
import sys

import numpy as np
from matplotlib.testing.compare import calculate_rms
from PIL import Image

a, b = (np.asarray(Image.open(p).convert("RGB")).astype(np.int16) for p in sys.argv[1:3])
out = {"size": [list(a.shape), list(b.shape)]}
if a.shape == b.shape:
    out["rms"] = float(calculate_rms(a, b))
    out["differing_pixels"] = float((a != b).any(axis=2).mean())
    out["ink"] = float((a < 250).any(axis=2).mean())
print(json.dumps(out))
