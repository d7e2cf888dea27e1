# compare_npy.py (run with Debian's /usr/bin/python3: numpy, python3-onnx): compares a .npy output of emitted C with a reference (.npy, or TensorProto .pb from
# `maqdc run`): same shape and dtype, max |a - b| <= TOL; prints the max difference and whether bit-identical.
import sys

import numpy as np


def load(path):
    if path.endswith(".npy"):
        return np.load(path)
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
if a.shape != b.shape or a.dtype != b.dtype:
    print(f"{sys.argv[1]}: {a.dtype}{list(a.shape)}, reference {b.dtype}{list(b.shape)}")
    sys.exit(1)
d = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
same = a.tobytes() == b.tobytes()
print(f"{sys.argv[1]} vs {sys.argv[2]}: max |diff| {d:.3g}{' (bit-identical)' if same else ''}")
sys.exit(0 if d <= tol else 1)
