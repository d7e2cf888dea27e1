"""check_int_vs_ort.py: an integer program's logits against onnxruntime (test_int_pool.sh,
test_int_residual.sh).

usage: check_int_vs_ort.py TESTS_MODELS_DIR OURS.pb ORT_FLOAT.npy ORT_INT.npy N

Passes when our integer logits (OURS.pb) give onnxruntime's class on the float model for all N
inputs, stay within 1e-4 of its logits, and equal bit for bit onnxruntime's run of the exported
integer ONNX (ORT_INT.npy)."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
from compare import load  # noqa: E402

ours, ref, oi = load(sys.argv[2]), load(sys.argv[3]), load(sys.argv[4])
n = int(sys.argv[5])
same = int((ours.argmax(1) == ref.argmax(1)).sum())
diff = float(np.abs(ours - ref).max())
exact = bool(oi.shape == ours.shape and (oi == ours).all())
print("integer program vs onnxruntime float: same class on %d / %d, max |logit diff| %.2e; "
      "onnxruntime on the integer ONNX: bit for bit %s" % (same, n, diff, exact))
sys.exit(0 if ours.shape[0] == n and same == n and diff < 1e-4 and exact else 1)
