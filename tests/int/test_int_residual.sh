#!/bin/sh
# test_int_residual.sh: residual Adds through the integer lowering, against onnxruntime on the float
# model. A small model in the fine-tuning export's form, made here by onnx (tests/int/qmodel.py): a stem
# convolution and quantizer (codes A, 4 states); block 1: conv(A) with per-channel weights on a ternary
# grid, BN as Mul/Add, + A (the identity skip: the exact table form), quantizer; block 2: conv(B) +
# conv1x1(B) (a projection shortcut: the int64 fixed-point form on two QLayer accumulators), each with
# Mul/Add, quantizer; global average pool, Gemm. onnxruntime on the float model (input p / 255) and our
# integer program (uint8 p): same class on all 300 random images and logits within 1e-4; onnxruntime on
# the exported integer ONNX gives our logits bit for bit. Usage: test_int_residual.sh MAQDC SOURCE_DIR WORK_DIR
set -eu
MAQDC=$1 SRC=$2 W=$3
rm -rf "$W" && mkdir -p "$W" && cd "$W"
PYTHONPATH="$SRC/tests/int" /usr/bin/python3 - <<'PY'
import numpy as np
import onnx
from qmodel import Builder, save_images, ternary

rng = np.random.default_rng(11)
C = 6
b = Builder()
def conv_bn(x, name, w, pads):  # a convolution, then its BN as a per-channel Mul and Add
    b.conv(x, name + "c", w, pads=pads)
    b.node("Mul", [name + "c", b.const(name + "s", rng.uniform(0.5, 1.5, (C, 1, 1)))], name + "m")
    return b.node("Add", [name + "m", b.const(name + "b", rng.normal(0, 0.2, (C, 1, 1)))], name)
b.conv("x", "stem", rng.normal(0, 0.6, (C, 1, 3, 3)), rng.normal(0, 0.2, C), pads=[1, 1, 1, 1])
a = b.quant("stem", "A", 0.3, 4)
y1 = conv_bn(a, "l1", ternary(rng, C, C, 3), [1, 1, 1, 1])
b.node("Add", [y1, a], "res1", name="res1")
q = b.quant("res1", "B", 0.4, 4)
y2 = conv_bn(q, "l2", ternary(rng, C, C, 3), [1, 1, 1, 1])
s2 = conv_bn(q, "sc", ternary(rng, C, C, 1), [0, 0, 0, 0])
b.node("Add", [y2, s2], "res2", name="res2")
c = b.quant("res2", "Cq", 0.35, 4)
b.node("GlobalAveragePool", [c], "gap")
b.node("Flatten", ["gap"], "flat")
b.node("Gemm", ["flat", b.const("fc", rng.normal(0, 1.0, (10, C))), b.const("fcb", rng.normal(0, 0.1, 10))], "logits",
       transB=1)
onnx.save(b.model("res", [300, 1, 8, 8], "logits", [300, 10]), "res.onnx")
save_images(rng, 300)
PY
node "$SRC/bench/ort/ort_chunks.js" res.onnx x.npy 300 ort_float.npy
"$MAQDC" res.onnx -o res.mqd --int --scale 255 | tee info.txt
grep -q "2 residual adds on 2 int32 accumulators" info.txt # block 1 by the table, block 2 by fixed point
"$MAQDC" run res.mqd --input p.npy --output-dir ours >/dev/null
"$MAQDC" res.onnx -o q.onnx --int --scale 255 >/dev/null
node "$SRC/bench/ort/ort_chunks.js" q.onnx p.npy 300 ort_int.npy
/usr/bin/python3 "$SRC/tests/int/check_int_vs_ort.py" "$SRC/tests/models" ours/output_0.pb ort_float.npy ort_int.npy 300
echo "residual Adds: ok"
