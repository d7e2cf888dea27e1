#!/usr/bin/python3
"""compare_models.py A.onnx B.onnx RTOL [OUT_A.pb OUT_B.pb]: the initializers of two fine-tuned models
(same names and shapes) agree within RTOL of each tensor's largest magnitude (RTOL 0: bit for bit), and,
given the two models' outputs on the same images, both predict the same class for every image. Prints
the largest relative difference. Exit 1 on a mismatch."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def inits(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def main():
    a, b, rtol = inits(sys.argv[1]), inits(sys.argv[2]), float(sys.argv[3])
    if a.keys() != b.keys():
        print("different initializers:", sorted(a.keys() ^ b.keys()))
        return 1
    worst, worst_name, ok = 0.0, "", True
    for k in sorted(a):
        x, y = a[k].astype(np.float64), b[k].astype(np.float64)
        if x.shape != y.shape:
            print(f"{k}: shapes {x.shape} and {y.shape}")
            return 1
        if x.size == 0:
            continue
        rel = float(np.abs(x - y).max() / max(np.abs(x).max(), 1e-30))
        if rel > worst:
            worst, worst_name = rel, k
        if (rtol == 0 and not np.array_equal(a[k], b[k])) or rel > rtol:
            ok = False
    print(f"largest relative weight difference: {worst:.3g} ({worst_name or 'none'}); tolerance {rtol:g}")
    if len(sys.argv) > 5:
        pa = numpy_helper.to_array(onnx.load_tensor(sys.argv[4])).argmax(axis=1)
        pb = numpy_helper.to_array(onnx.load_tensor(sys.argv[5])).argmax(axis=1)
        same = int((pa == pb).sum())
        print(f"same prediction on {same} of {pa.size} images")
        ok = ok and same == pa.size
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
