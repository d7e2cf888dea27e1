#!/usr/bin/env python3
# make_fuzz_models.py: writes the small ONNX models tests/unit/test_mqd.c compiles to .mqd and corrupts
# byte by byte (weights as initializers, several steps, constant and run-time indices). Needs python3-onnx.
import os

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(3)


def init(name, arr):
    return numpy_helper.from_array(arr, name)


def write(name, nodes, inputs, outputs, inits):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="maqd-tests")
    m.ir_version = 7
    checker.check_model(m)
    save(m, os.path.join(HERE, name + ".onnx"))


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# Conv -> Relu -> MaxPool -> Reshape -> Gemm -> Softmax, with weights
write("fuzz_cnn",
      [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv", pads=[1, 1, 1, 1]),
       helper.make_node("Relu", ["c1"], ["r1"], name="relu"),
       helper.make_node("MaxPool", ["r1"], ["p1"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
       helper.make_node("Reshape", ["p1", "shape"], ["f1"], name="flatten"),
       helper.make_node("Gemm", ["f1", "w2", "b2"], ["g1"], name="fc", transB=1),
       helper.make_node("Softmax", ["g1"], ["y"], name="softmax", axis=-1)],
      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])],
      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
      [init("w1", f32(3, 2, 3, 3)), init("b1", f32(3)), init("shape", np.array([1, 27], np.int64)),
       init("w2", f32(4, 27)), init("b2", f32(4))])

# Add (broadcast) -> Transpose -> Concat -> Gather (constant indices, one negative) -> ReduceMean -> Resize
write("fuzz_shape",
      [helper.make_node("Add", ["a", "b"], ["s"], name="add"),
       helper.make_node("Transpose", ["s"], ["t"], name="transpose", perm=[2, 0, 1]),
       helper.make_node("Concat", ["t", "k"], ["c"], name="concat", axis=0),
       helper.make_node("Gather", ["c", "idx"], ["g"], name="gather", axis=0),
       helper.make_node("ReduceMean", ["g"], ["m"], name="mean", axes=[2], keepdims=1),
       helper.make_node("Resize", ["m", "", "scales"], ["y"], name="resize", mode="nearest")],
      [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3, 4]),
       helper.make_tensor_value_info("b", TensorProto.FLOAT, [4])],
      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4, 2])],
      [init("k", f32(1, 2, 3)), init("idx", np.array([4, -1, 0], np.int64)),
       init("scales", np.array([1, 2, 2], np.float32))])

# Gather with indices known only at run time (the kernel bounds them itself), then Softmax
write("fuzz_gather_dyn",
      [helper.make_node("Gather", ["data", "idx"], ["g"], name="gather", axis=1),
       helper.make_node("Softmax", ["g"], ["y"], name="softmax", axis=1)],
      [helper.make_tensor_value_info("data", TensorProto.FLOAT, [2, 5]),
       helper.make_tensor_value_info("idx", TensorProto.INT64, [3])],
      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
      [])

# Loop with a constant trip count (4), a carried value and a scan output: y <- 2*y + 1 while
# iteration < limit (a graph input). limit >= 3 runs all 4 iterations; a smaller one ends the loop
# early, which a static program cannot hold (its scan output has 4 rows): the runtime says so.
body = helper.make_graph(
    [helper.make_node("Less", ["i", "limit"], ["cond_out"], name="still"),
     helper.make_node("Mul", ["y_in", "two"], ["y2"], name="double"),
     helper.make_node("Add", ["y2", "one"], ["y_out"], name="plus_one"),
     helper.make_node("Identity", ["y_out"], ["row"], name="row")],
    "loop_body",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("y_in", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("y_out", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("row", TensorProto.FLOAT, [2])],
    [init("two", np.array(2, np.float32)), init("one", np.array(1, np.float32))])
write("loop_scan",
      [helper.make_node("Loop", ["M", "", "y0"], ["y", "rows"], name="loop", body=body)],
      [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [2]),
       helper.make_tensor_value_info("limit", TensorProto.INT64, [])],
      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2]),
       helper.make_tensor_value_info("rows", TensorProto.FLOAT, [4, 2])],
      [init("M", np.array(4, np.int64))])

# Scan over x in reverse (scan_input_directions 1): a running sum, its rows stacked, and a node after
# the Scan reading the stacked rows (its shape is static only once the backend shapes the Scan).
sbody = helper.make_graph(
    [helper.make_node("Add", ["s_in", "x_row"], ["s_out"], name="acc"),
     helper.make_node("Identity", ["s_out"], ["row"], name="row")],
    "scan_body",
    [helper.make_tensor_value_info("s_in", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("x_row", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("s_out", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("row", TensorProto.FLOAT, [2])])
write("scan_rev",
      [helper.make_node("Scan", ["s0", "x"], ["s", "rows"], name="scan", body=sbody, num_scan_inputs=1,
                        scan_input_directions=[1]),
       helper.make_node("Mul", ["rows", "two"], ["rows2"], name="double")],
      [helper.make_tensor_value_info("s0", TensorProto.FLOAT, [2]),
       helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 2])],
      [helper.make_tensor_value_info("s", TensorProto.FLOAT, [2]),
       helper.make_tensor_value_info("rows2", TensorProto.FLOAT, [3, 2])],
      [init("two", np.array(2, np.float32))])

# Data-dependent output shapes (docs/C_BACKEND.md): NonZero, Compress (run-time condition) and Unique to
# graph outputs, beside a static output
write("dyn_outputs",
      [helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
       helper.make_node("Relu", ["x"], ["r"], name="relu"),
       helper.make_node("Compress", ["x", "cond"], ["cz"], name="compress", axis=1),
       helper.make_node("Unique", ["x"], ["u", "ui", "uv", "uc"], name="unique", sorted=1)],
      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
       helper.make_tensor_value_info("cond", TensorProto.BOOL, [3])],
      [helper.make_tensor_value_info("nz", TensorProto.INT64, [2, None]),
       helper.make_tensor_value_info("r", TensorProto.FLOAT, [2, 3]),
       helper.make_tensor_value_info("cz", TensorProto.FLOAT, [2, None]),
       helper.make_tensor_value_info("u", TensorProto.FLOAT, [None]),
       helper.make_tensor_value_info("ui", TensorProto.INT64, [None]),
       helper.make_tensor_value_info("uv", TensorProto.INT64, [None]),
       helper.make_tensor_value_info("uc", TensorProto.INT64, [None])],
      [])

# ... and NonZero read by another node: refused (only graph outputs may have such a shape)
write("dyn_consumed",
      [helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
       helper.make_node("Transpose", ["nz"], ["y"], name="transpose")],
      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
      [helper.make_tensor_value_info("y", TensorProto.INT64, [None, 2])],
      [])
