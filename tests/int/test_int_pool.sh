#!/bin/sh
# test_int_pool.sh: AveragePool and Concat on codes through the integer lowering. A small model in the
# fine-tuning export's form, made here by onnx (python): two 3x3 convolutions each ending in the
# activation quantizer (Div/Add(0.5)/Floor/Clip(0, 3)/Mul, the same step, so one scale), Concat of the
# two code tensors, AveragePool 2x2 stride 2 with one pixel of padding counted (count_include_pad), and a
# float Gemm to 10 logits. onnxruntime on the float model (input p / 255) and our integer program
# (uint8 p) give the same class on every one of 200 random images and logits within 1e-4; onnxruntime
# on the exported integer ONNX gives our logits bit for bit; AveragePool with padding not counted is
# refused naming the node. Usage: test_int_pool.sh MAQDC SOURCE_DIR WORK_DIR
set -eu
MAQDC=$1 SRC=$2 W=$3
rm -rf "$W" && mkdir -p "$W" && cd "$W"
/usr/bin/python3 - <<'PY'
import numpy as np
import onnx
from onnx import TensorProto as TP, helper as h, numpy_helper as nh

rng = np.random.default_rng(5)
def const(name, a):
    return nh.from_array(np.asarray(a, dtype=np.float32), name)
def model(count_include_pad):
    delta = 0.25
    init = [const("w1", rng.normal(0, 0.5, (3, 1, 3, 3))), const("b1", rng.normal(0, 0.3, 3)),
            const("w2", rng.normal(0, 0.5, (2, 1, 3, 3))), const("b2", rng.normal(0, 0.3, 2)),
            const("delta", delta), const("half", 0.5), const("lo", 0.0), const("hi", 3.0),
            const("fc", rng.normal(0, 0.5, (10, 5 * 5 * 5))), const("fcb", rng.normal(0, 0.1, 10))]
    nodes = []
    for k in (1, 2):
        c = "c%d" % k
        nodes += [h.make_node("Conv", ["x", "w%d" % k, "b%d" % k], [c + "conv"], pads=[1, 1, 1, 1]),
                  h.make_node("Div", [c + "conv", "delta"], [c + "div"]),
                  h.make_node("Add", [c + "div", "half"], [c + "add"]),
                  h.make_node("Floor", [c + "add"], [c + "floor"]),
                  h.make_node("Clip", [c + "floor", "lo", "hi"], [c + "clip"]),
                  h.make_node("Mul", [c + "clip", "delta"], [c])]
    nodes += [h.make_node("Concat", ["c1", "c2"], ["cat"], axis=1),
              h.make_node("AveragePool", ["cat"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2],
                          pads=[1, 1, 1, 1], count_include_pad=count_include_pad),
              h.make_node("Flatten", ["pool"], ["flat"]),
              h.make_node("Gemm", ["flat", "fc", "fcb"], ["logits"], transB=1)]
    g = h.make_graph(nodes, "pool", [h.make_tensor_value_info("x", TP.FLOAT, [200, 1, 8, 8])],
                     [h.make_tensor_value_info("logits", TP.FLOAT, [200, 10])], init)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m
onnx.save(model(1), "pool.onnx")
onnx.save(model(0), "pool_nopad.onnx")
p = rng.integers(0, 256, (200, 1, 8, 8)).astype(np.uint8)
np.save("p.npy", p)
np.save("x.npy", (p / np.float32(255)).astype(np.float32))
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
