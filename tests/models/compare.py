# Compares two tensors (.npy, or ONNX TensorProto .pb) or two directories of output_K.{pb,npy} files;
# prints the relative L2 error ||a-b||/||b|| and exits 1 if it exceeds --tol (b is the reference).
import argparse
import os
import re
import sys

import numpy as np


def load(path):
    if path.endswith(".pb"):
        import onnx
        from onnx import numpy_helper
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        return numpy_helper.to_array(t)
    return np.load(path, allow_pickle=False)


def compare(a_path, b_path, tol):
    a = load(a_path)
    b = load(b_path)
    if a.shape != b.shape:
        print("FAIL %s vs %s: shape %s != %s" % (a_path, b_path, list(a.shape), list(b.shape)))
        return False
    if a.dtype.kind != b.dtype.kind:
        print("FAIL %s vs %s: dtype %s != %s" % (a_path, b_path, a.dtype, b.dtype))
        return False
    if a.dtype.kind in "biu":
        bad = int(np.count_nonzero(a != b))
        ok = bad == 0
        print("%s %s vs %s: %d of %d elements differ (exact compare)" %
              ("ok  " if ok else "FAIL", a_path, b_path, bad, b.size))
        return ok
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    if not np.all(np.isfinite(a64)) or not np.all(np.isfinite(b64)):
        same = np.array_equal(a64, b64, equal_nan=True)
        print("%s %s vs %s: non-finite values%s" %
              ("ok  " if same else "FAIL", a_path, b_path, " (identical)" if same else ""))
        return same
    diff = np.linalg.norm(a64 - b64)
    ref = np.linalg.norm(b64)
    rel = diff / ref if ref > 0 else diff
    maxabs = float(np.max(np.abs(a64 - b64))) if b.size else 0.0
    ok = rel <= tol
    print("%s %s vs %s: rel_l2 %.3e (tol %.1e) max_abs %.3e shape %s" %
          ("ok  " if ok else "FAIL", a_path, b_path, rel, tol, maxabs, list(b.shape)))
    return ok


def outputs_in(d):
    found = {}
    for name in os.listdir(d):
        m = re.fullmatch(r"output_(\d+)\.(pb|npy)", name)
        if m:
            k = int(m.group(1))
            if k in found:
                raise SystemExit("%s: both .pb and .npy for output_%d" % (d, k))
            found[k] = os.path.join(d, name)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("a", help="tensor or directory under test")
    ap.add_argument("b", help="reference tensor or directory")
    ap.add_argument("--tol", type=float, default=1e-4, help="max relative L2 error (default 1e-4)")
    args = ap.parse_args()
    if os.path.isdir(args.a) and os.path.isdir(args.b):
        oa = outputs_in(args.a)
        ob = outputs_in(args.b)
        if not ob:
            print("FAIL: no output_K files in %s" % args.b)
            return 1
        if sorted(oa) != sorted(ob):
            print("FAIL: outputs %s in %s vs %s in %s" % (sorted(oa), args.a, sorted(ob), args.b))
            return 1
        ok = all([compare(oa[k], ob[k], args.tol) for k in sorted(ob)])
    elif os.path.isdir(args.a) or os.path.isdir(args.b):
        print("FAIL: give two files or two directories")
        return 1
    else:
        ok = compare(args.a, args.b, args.tol)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
