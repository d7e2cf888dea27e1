#!/usr/bin/env bash
# test_fuse.sh MAQDC SRCDIR WORKDIR: the activation fusion of the backends (backend/fuse.h) on a small
# generated model against onnxruntime. Conv->Relu and depthwise Conv->Clip(0, 6) (constant bounds) are
# fused; a Conv whose output is also a graph output, and one read by another node too, keep their Relu.
# Checks the step count maqdc reports (9 nodes, 2 fused: 7 steps), every output of the .mqd and of the
# emitted C within 1e-5 relative L2 of onnxruntime, and the two backends bit for bit equal.
set -euo pipefail
maqdc="$1"; src="$2"; work="$3"
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
$py - "$work" <<'PY'
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
w = sys.argv[1]
rng = np.random.default_rng(7)
def init(name, shape, scale):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)
inits = [init("W1", (8, 3, 3, 3), 1.5), init("B1", (8,), 0.5), init("W2", (8, 1, 3, 3), 1.5), init("B2", (8,), 0.5),
         init("W3", (16, 8, 1, 1), 0.7), init("W4", (4, 8, 3, 3), 0.5),
         numpy_helper.from_array(np.array(0.0, np.float32), "lo"), numpy_helper.from_array(np.array(6.0, np.float32), "hi")]
nodes = [
    helper.make_node("Conv", ["x", "W1", "B1"], ["c1"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c1"], ["r1"]),
    helper.make_node("Conv", ["r1", "W2", "B2"], ["c2"], group=8, strides=[2, 2], pads=[1, 1, 1, 1]),
    helper.make_node("Clip", ["c2", "lo", "hi"], ["k2"]),
    helper.make_node("Conv", ["k2", "W3"], ["c3"]),
    helper.make_node("Relu", ["c3"], ["r3"]),
    helper.make_node("Conv", ["r1", "W4"], ["c4"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c4"], ["r4"]),
    helper.make_node("Add", ["c4", "r4"], ["s"]),
]
g = helper.make_graph(nodes, "fuse", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 11, 9])],
                      [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in (("c3", [1, 16, 6, 5]), ("r3", [1, 16, 6, 5]), ("s", [1, 4, 11, 9]))], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 7
onnx.checker.check_model(m)
onnx.save(m, w + "/fuse.onnx")
np.save(w + "/x.npy", rng.standard_normal((1, 3, 11, 9)).astype(np.float32))
PY
d="$work"
node "$src/bench/ort/ort_run.js" "$d/fuse.onnx" "$d/ort" "$d/x.npy" >/dev/null
line=$("$maqdc" "$d/fuse.onnx" -o "$d/m.mqd")
case "$line" in
  *" 7 steps,"*) ;;
  *) echo "FAIL: expected 7 steps (9 nodes, 2 activations fused): $line"; exit 1 ;;
esac
"$maqdc" run "$d/m.mqd" --input "$d/x.npy" --output-dir "$d/mqd" >/dev/null
"$maqdc" "$d/fuse.onnx" -o "$d/m.c" --main >/dev/null
cc -std=c99 -O1 "$d/m.c" -lm -o "$d/m"
"$d/m" "$d/x.npy" -o "$d/c" >/dev/null
$py "$src/tests/models/compare.py" "$d/mqd" "$d/ort" --tol 1e-5
$py "$src/tests/models/compare.py" "$d/c" "$d/ort" --tol 1e-5
$py "$src/tests/models/compare.py" "$d/c" "$d/mqd" --tol 0
echo "PASS fuse: $line"
