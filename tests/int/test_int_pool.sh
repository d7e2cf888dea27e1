#!/bin/sh
# test_int_pool.sh: AveragePool and Concat on codes through the integer lowering. A small model in the
# fine-tuning export's form, made here by onnx (tests/int/qmodel.py): two 3x3 convolutions each ending in
# the activation quantizer (Div/Add(0.5)/Floor/Clip(0, 3)/Mul, the same step, so one scale), Concat of the
# two code tensors, AveragePool 2x2 stride 2 with one pixel of padding counted (count_include_pad), and a
# float Gemm to 10 logits. onnxruntime on the float model (input p / 255) and our integer program
# (uint8 p) give the same class on every one of 200 random images and logits within 1e-4; onnxruntime
# on the exported integer ONNX gives our logits bit for bit; AveragePool with padding not counted is
# refused naming the node. Usage: test_int_pool.sh MAQDC SOURCE_DIR WORK_DIR
set -eu
MAQDC=$1 SRC=$2 W=$3
rm -rf "$W" && mkdir -p "$W" && cd "$W"
PYTHONPATH="$SRC/tests/int" /usr/bin/python3 - <<'PY'
import numpy as np
import onnx
from qmodel import Builder, save_images

rng = np.random.default_rng(5)
def model(count_include_pad):
    b = Builder()
    w = [(b.const("w%d" % k, rng.normal(0, 0.5, (c, 1, 3, 3))), b.const("b%d" % k, rng.normal(0, 0.3, c)))
         for k, c in ((1, 3), (2, 2))]
    fc, fcb = b.const("fc", rng.normal(0, 0.5, (10, 5 * 5 * 5))), b.const("fcb", rng.normal(0, 0.1, 10))
    for k in (1, 2):  # two convolutions, each with the quantizer (step 0.25, 4 states): one scale
        c = "c%d" % k
        b.node("Conv", ["x", w[k - 1][0], w[k - 1][1]], c + "conv", pads=[1, 1, 1, 1])
        b.quant(c + "conv", c, 0.25, 4)
    b.node("Concat", ["c1", "c2"], "cat", axis=1)
    b.node("AveragePool", ["cat"], "pool", name="pool", kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1],
           count_include_pad=count_include_pad)
    b.node("Flatten", ["pool"], "flat")
    b.node("Gemm", ["flat", fc, fcb], "logits", transB=1)
    return b.model("pool", [200, 1, 8, 8], "logits", [200, 10])
onnx.save(model(1), "pool.onnx")
onnx.save(model(0), "pool_nopad.onnx")
save_images(rng, 200)
PY
node "$SRC/bench/ort/ort_chunks.js" pool.onnx x.npy 200 ort_float.npy
"$MAQDC" pool.onnx -o pool.mqd --int --scale 255
"$MAQDC" run pool.mqd --input p.npy --output-dir ours >/dev/null
"$MAQDC" pool.onnx -o q.onnx --int --scale 255
node "$SRC/bench/ort/ort_chunks.js" q.onnx p.npy 200 ort_int.npy
/usr/bin/python3 "$SRC/tests/int/check_int_vs_ort.py" "$SRC/tests/models" ours/output_0.pb ort_float.npy ort_int.npy 200
rc=0
"$MAQDC" pool_nopad.onnx -o x.mqd --int --scale 255 2>err.txt >/dev/null || rc=$?
[ $rc = 1 ] && grep -q "node 'pool' (AveragePool)" err.txt && [ ! -e x.mqd ] || { echo "padding not counted: not refused"; cat err.txt; exit 1; }
echo "AveragePool and Concat on codes: ok"
