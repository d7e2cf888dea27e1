#!/bin/sh
# test_int_residual.sh: residual Adds through the integer lowering, against onnxruntime on the float
# model. A small model in the fine-tuning export's form, made here by onnx (python): a stem convolution
# and quantizer (codes A, 4 states); block 1: conv(A) with per-channel weights on a ternary grid, BN as
# Mul/Add, + A (the identity skip: the exact table form), quantizer; block 2: conv(B) + conv1x1(B) (a
# projection shortcut: the int64 fixed-point form), each with Mul/Add, quantizer; global average pool,
# Gemm. onnxruntime on the float model (input p / 255) and our integer program (uint8 p): same class on
# all 300 random images and logits within 1e-4; onnxruntime on the exported integer ONNX gives our
# logits bit for bit. Usage: test_int_residual.sh MAQDC SOURCE_DIR WORK_DIR
set -eu
MAQDC=$1 SRC=$2 W=$3
rm -rf "$W" && mkdir -p "$W" && cd "$W"
/usr/bin/python3 - <<'PY'
import numpy as np
import onnx
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

rng = np.random.default_rng(11)
C = 6
init, nodes = [], []
def const(name, a):
    init.append(nh.from_array(np.asarray(a, dtype=np.float32), name))
    return name
def ternary(o, i, k):  # per output channel: a scale times codes in {-1, 0, 1}
    return rng.integers(-1, 2, (o, i, k, k)) * rng.uniform(0.05, 0.3, (o, 1, 1, 1))
def quant(x, name, delta):  # the export's quantizer, 4 states
    d, half, lo, hi = const(name + "d", delta), const(name + "h", 0.5), const(name + "lo", 0.0), const(name + "hi", 3.0)
    nodes.extend([h.make_node("Div", [x, d], [name + "div"]), h.make_node("Add", [name + "div", half], [name + "add"]),
                  h.make_node("Floor", [name + "add"], [name + "fl"]), h.make_node("Clip", [name + "fl", lo, hi], [name + "cl"]),
                  h.make_node("Mul", [name + "cl", d], [name])])
    return name
def conv(x, name, w, pads):
    nodes.append(h.make_node("Conv", [x, const(name + "w", w)], [name + "c"], pads=pads))
    nodes.append(h.make_node("Mul", [name + "c", const(name + "s", rng.uniform(0.5, 1.5, (C, 1, 1)))], [name + "m"]))
    nodes.append(h.make_node("Add", [name + "m", const(name + "b", rng.normal(0, 0.2, (C, 1, 1)))], [name]))
    return name
nodes.append(h.make_node("Conv", ["x", const("stem_w", rng.normal(0, 0.6, (C, 1, 3, 3))), const("stem_b", rng.normal(0, 0.2, C))],
                         ["stem"], pads=[1, 1, 1, 1]))
a = quant("stem", "A", 0.3)
y1 = conv(a, "l1", ternary(C, C, 3), [1, 1, 1, 1])
nodes.append(h.make_node("Add", [y1, a], ["res1"], name="res1"))
b = quant("res1", "B", 0.4)
y2 = conv(b, "l2", ternary(C, C, 3), [1, 1, 1, 1])
s2 = conv(b, "sc", ternary(C, C, 1), [0, 0, 0, 0])
nodes.append(h.make_node("Add", [y2, s2], ["res2"], name="res2"))
c = quant("res2", "Cq", 0.35)
nodes += [h.make_node("GlobalAveragePool", [c], ["gap"]), h.make_node("Flatten", ["gap"], ["flat"]),
          h.make_node("Gemm", ["flat", const("fc", rng.normal(0, 1.0, (10, C))), const("fcb", rng.normal(0, 0.1, 10))],
                      ["logits"], transB=1)]
g = h.make_graph(nodes, "res", [h.make_tensor_value_info("x", TP.FLOAT, [300, 1, 8, 8])],
                 [h.make_tensor_value_info("logits", TP.FLOAT, [300, 10])], init)
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, "res.onnx")
p = rng.integers(0, 256, (300, 1, 8, 8)).astype(np.uint8)
np.save("p.npy", p)
np.save("x.npy", (p / np.float32(255)).astype(np.float32))
PY
node "$SRC/bench/ort/ort_chunks.js" res.onnx x.npy 300 ort_float.npy
"$MAQDC" res.onnx -o res.mqd --int --scale 255 | tee info.txt
grep -q "2 residual adds on 2 int32 accumulators" info.txt # block 1 by the table, block 2 by fixed point
"$MAQDC" run res.mqd --input p.npy --output-dir ours >/dev/null
"$MAQDC" res.onnx -o q.onnx --int --scale 255 >/dev/null
node "$SRC/bench/ort/ort_chunks.js" q.onnx p.npy 300 ort_int.npy
/usr/bin/python3 "$SRC/tests/int/check_int_vs_ort.py" "$SRC/tests/models" ours/output_0.pb ort_float.npy ort_int.npy 300
echo "residual Adds: ok"
