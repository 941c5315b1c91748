"""conftest.py for numpy's tests in wasm: what numpy's own conftest.py sets
that the selected tests need (its hypothesis profiles are not needed)."""
import os

# numpy.core._umath_tests refuses to load without it (test_umath uses it)
os.environ["NUMPY_EXPERIMENTAL_DTYPE_API"] = "1"
