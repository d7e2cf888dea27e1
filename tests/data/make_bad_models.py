#!/usr/bin/python3
# make_bad_models.py: tiny ONNX models (good and deliberately broken) and tensor files for test_frontend.c
# (frontend/) and tests/cli/test_cli.sh (cli/); run with Debian's python3-onnx, outputs are committed.
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

# ---- tests/cli/test_cli.sh: models and input files for `maqdc info` / `maqdc run` -------------------
CLI = os.path.join(HERE, "cli")
os.makedirs(CLI, exist_ok=True)


def save_cli(model, name, check=True):
    if check:
        onnx.checker.check_model(model)
    with open(os.path.join(CLI, name), "wb") as f:
        f.write(model.SerializeToString())


def write_cli(name, data):
    with open(os.path.join(CLI, name), "wb") as f:
        f.write(data)


def npy_header(descr, shape_text):
    # NumPy format 1.0: magic, version, little-endian u16 header length, dict padded to 64 with '\n'
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    h += " " * (63 - (10 + len(h)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h.encode("latin1")


# a cycle: add1 reads b, which relu1 makes from add1's output a
save_cli(model([helper.make_node("Add", ["x", "b"], ["a"], name="add1"),
                helper.make_node("Relu", ["a"], ["b"], name="relu1")],
               [vi("x", TensorProto.FLOAT, [2])], [vi("a", TensorProto.FLOAT, [2])]), "cycle.onnx", check=False)

# small CNN for `maqdc info` numbers (checked by hand in test_cli.sh):
# x[1,3,8,8] -Conv(4x3x3x3,+b,pad 1)-> [1,4,8,8] -Relu- -Conv(8x4x3x3,no bias,stride 2,pad 1)-> [1,8,4,4]
# -Relu- -Flatten-> [1,128] -Gemm(10x128 transB,+b)-> [1,10]
r = np.random.RandomState(7)
cnn_inits = [numpy_helper.from_array(r.randn(*s).astype(np.float32), n)
             for n, s in (("w1", (4, 3, 3, 3)), ("b1", (4,)), ("w2", (8, 4, 3, 3)), ("w3", (10, 128)), ("b3", (10,)))]
save_cli(model([helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
                helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                 strides=[2, 2]),
                helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
                helper.make_node("Flatten", ["r2"], ["f"], name="flat"),
                helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], name="fc", transB=1)],
               [vi("x", TensorProto.FLOAT, [1, 3, 8, 8])], [vi("y", TensorProto.FLOAT, [1, 10])], cnn_inits,
               name="small_cnn"), "small_cnn.onnx")

# inputs for frontend/good_add.onnx (z = Relu(x + w), x float32 [2,3], w = arange(6) as 2x3)
x = (np.arange(6, dtype=np.float32).reshape(2, 3) - 3.5) * np.float32(1.25)
np.save(os.path.join(CLI, "x_2x3_f4.npy"), x)
write_cli("x_2x3_f4.pb", numpy_helper.from_array(x, "x").SerializeToString())
# expected z, from numpy (independent of maqd)
write_cli("good_add_z.pb", numpy_helper.from_array(np.maximum(x + np.arange(6, dtype=np.float32).reshape(2, 3), 0), "z")
          .SerializeToString())
np.save(os.path.join(CLI, "x_2x3_i8.npy"), np.arange(6, dtype=np.int64).reshape(2, 3))    # dtype mismatch
np.save(os.path.join(CLI, "x_3x2_f4.npy"), np.zeros((3, 2), dtype=np.float32))           # shape mismatch
# corrupt .npy: header says 2x3 float32 (24 bytes), only 10 bytes of data follow
write_cli("truncated.npy", npy_header("<f4", "(2, 3)") + b"\0" * 10)
# corrupt .npy: header is not a dict
write_cli("bad_header.npy", b"\x93NUMPY\x01\x00" + (64 - 10).to_bytes(2, "little") + b"garbage".ljust(53) + b"\n")
# absurd .npy: 2^62 x 4 elements (the count overflows int64), no data
write_cli("absurd.npy", npy_header("<f4", "(4611686018427387904, 4)"))
# corrupt .pb: a serialized 2x3 float TensorProto cut in the middle of raw_data
pb = numpy_helper.from_array(x, "x").SerializeToString()
write_cli("truncated.pb", pb[: len(pb) - 7])
# absurd .pb: dims 2^62 x 4 with 24 bytes of raw_data
ab = TensorProto()
ab.name = "x"
ab.data_type = TensorProto.FLOAT
ab.dims.extend([1 << 62, 4])
ab.raw_data = b"\0" * 24
write_cli("absurd.pb", ab.SerializeToString())
