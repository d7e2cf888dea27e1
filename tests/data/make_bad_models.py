#!/usr/bin/python3
# make_bad_models.py: builds the tiny ONNX models (good and deliberately broken) that
# tests/unit/test_frontend.c imports; run with Debian's python3-onnx, outputs are committed.
import os
import random

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "frontend")
os.makedirs(OUT, exist_ok=True)


def save(model, name, check=True):
    if check:
        onnx.checker.check_model(model)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(model.SerializeToString())


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def model(nodes, inputs, outputs, inits=(), opsets=(("", 13),), name="g", value_info=()):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits), value_info=list(value_info))
    return helper.make_model(g, producer_name="make_bad_models",
                             opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])


# good: Add of an input and an initializer, for truncation and the allocation-failure sweep
w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "w")
good = model([helper.make_node("Add", ["x", "w"], ["y"], name="add1"),
              helper.make_node("Relu", ["y"], ["z"], name="relu1")],
             [vi("x", TensorProto.FLOAT, [2, 3])], [vi("z", TensorProto.FLOAT, [2, 3])], [w])
save(good, "good_add.onnx")
data = good.SerializeToString()
with open(os.path.join(OUT, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])

# random bytes that protobuf refuses
rng = random.Random(1234)
while True:
    blob = bytes(rng.randrange(256) for _ in range(200))
    try:
        onnx.load_from_string(blob)
    except Exception:
        break
with open(os.path.join(OUT, "random.onnx"), "wb") as f:
    f.write(blob)

# dangling name: node 'add1' reads 'ghost', which nobody produces (a missing initializer)
save(model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add1")],
           [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])]), "dangling.onnx", check=False)

# graph output nobody produces
save(model([helper.make_node("Relu", ["x"], ["y"], name="relu1")],
           [vi("x", TensorProto.FLOAT, [2])], [vi("nowhere", TensorProto.FLOAT, [2])]),
     "dangling_output.onnx", check=False)

# initializer 'w' whose raw_data is 20 bytes for a 2x3 float tensor (needs 24)
bad = TensorProto()
bad.name = "w"
bad.data_type = TensorProto.FLOAT
bad.dims.extend([2, 3])
bad.raw_data = b"\0" * 20
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add1")],
           [vi("x", TensorProto.FLOAT, [2, 3])], [vi("y", TensorProto.FLOAT, [2, 3])], [bad]),
     "bad_init_size.onnx", check=False)

# absurd dims: 2^40 x 2^40 with no data
huge = TensorProto()
huge.name = "huge"
huge.data_type = TensorProto.FLOAT
huge.dims.extend([1 << 40, 1 << 40])
save(model([helper.make_node("Add", ["x", "huge"], ["y"], name="add1")],
           [vi("x", TensorProto.FLOAT, [1])], [vi("y", TensorProto.FLOAT, [1])], [huge]),
     "absurd_dims.onnx", check=False)

# rank 9 initializer (MQ_MAX_RANK is 8)
deep = numpy_helper.from_array(np.zeros([1] * 9, dtype=np.float32), "deep")
save(model([helper.make_node("Add", ["x", "deep"], ["y"], name="add1")],
           [vi("x", TensorProto.FLOAT, [1])], [vi("y", TensorProto.FLOAT, [1])], [deep]),
     "deep_rank.onnx", check=False)

# external data escaping the model's folder
esc = TensorProto()
esc.name = "w"
esc.data_type = TensorProto.FLOAT
esc.dims.extend([2])
esc.data_location = TensorProto.EXTERNAL
for k, v in (("location", "../secret.bin"), ("offset", "0"), ("length", "8")):
    e = esc.external_data.add()
    e.key, e.value = k, v
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add1")],
           [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])], [esc]),
     "ext_escape.onnx", check=False)

# external data done right: w = [1.5, -2, 3.25] at offset 8 of ext_ok.bin
with open(os.path.join(OUT, "ext_ok.bin"), "wb") as f:
    f.write(b"PADDING!" + np.array([1.5, -2.0, 3.25], dtype="<f4").tobytes() + b"tail")
ext = TensorProto()
ext.name = "w"
ext.data_type = TensorProto.FLOAT
ext.dims.extend([3])
ext.data_location = TensorProto.EXTERNAL
for k, v in (("location", "ext_ok.bin"), ("offset", "8"), ("length", "12")):
    e = ext.external_data.add()
    e.key, e.value = k, v
save(model([helper.make_node("Add", ["x", "w"], ["y"], name="add1")],
           [vi("x", TensorProto.FLOAT, [3])], [vi("y", TensorProto.FLOAT, [3])], [ext]), "ext_ok.onnx",
     check=False)

# unknown domain and unknown op in one model: both must be reported together
save(model([helper.make_node("Foo", ["x"], ["a"], name="foo1", domain="com.example"),
            helper.make_node("NoSuchOp", ["a"], ["b"], name="nosuch1"),
            helper.make_node("Relu", ["b"], ["y"])],
           [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, [2])],
           opsets=(("", 13), ("com.example", 1))), "unsupported.onnx", check=False)

# symbolic dims: x is [batch, 3, n]; y = Relu(x)
save(model([helper.make_node("Relu", ["x"], ["y"], name="relu1")],
           [vi("x", TensorProto.FLOAT, ["batch", 3, "n"])], [vi("y", TensorProto.FLOAT, ["batch", 3, "n"])]),
     "symbolic.onnx")

# typed-field initializers (no raw_data), each passed to an output through Identity
typed = [
    helper.make_tensor("f32", TensorProto.FLOAT, [2], [1.5, -2.25]),
    helper.make_tensor("i8", TensorProto.INT8, [3], [-128, 5, 127]),
    helper.make_tensor("u16", TensorProto.UINT16, [2], [65535, 7]),
    helper.make_tensor("i64", TensorProto.INT64, [2], [-(1 << 40), 3]),
    helper.make_tensor("f64", TensorProto.DOUBLE, [1], [0.1]),
    helper.make_tensor("u32", TensorProto.UINT32, [2], [4000000000, 1]),
    helper.make_tensor("b", TensorProto.BOOL, [3], [True, False, True]),
    helper.make_tensor("f16", TensorProto.FLOAT16, [3], [0.5, -1.0, 65504.0]),  # stored as bits in int32_data
]
save(model([helper.make_node("Identity", [t.name], ["o_" + t.name], name="id_" + t.name) for t in typed],
           [], [vi("o_" + t.name, TensorProto.FLOAT16 if t.name == "f16" else t.data_type, list(t.dims))
                for t in typed], typed), "typed.onnx")

# a Constant node whose value is a string tensor: unsupported dtype, reported with the node
save(model([helper.make_node("Constant", [], ["c"], name="const_str",
                             value=helper.make_tensor("v", TensorProto.STRING, [1], [b"hi"])),
            helper.make_node("Size", ["c"], ["n"], name="size1")],
           [], [vi("n", TensorProto.INT64, [])]), "const_string.onnx")

# npy written by numpy, for tensor_io
np.save(os.path.join(OUT, "arange_2x3_f4.npy"), np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5)
np.save(os.path.join(OUT, "bools_4.npy"), np.array([True, False, False, True]))
np.save(os.path.join(OUT, "scalar_i8.npy"), np.array(-7, dtype=np.int64))
np.save(os.path.join(OUT, "half_3.npy"), np.array([0.5, -2.0, 1024.0], dtype=np.float16))
