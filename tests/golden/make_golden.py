#!/usr/bin/python3
# make_golden.py: builds the hand-made golden tests (one-node ONNX models + TensorProto data in the ONNX
# conformance layout) whose expected outputs come from numpy, Python ints or PyTorch, never from maqd.
"""Writes <out>/<family>/<case>/model.onnx and test_data_set_0/{input,output}_K.pb for the families
elementwise, reduce, misc and nn, plus <out>/manifest.txt (case, op, opset, reference).

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_golden.py [--out DIR] [--clean]
numpy and onnx are required; torch is optional: without it the cases whose reference is PyTorch are
skipped (their committed folders are left as they are) and --clean is refused.
Every case seeds its own generator from its name, so the output is byte-for-byte reproducible and
adding a case does not change the others."""
import argparse
import os
import shutil
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as H
from onnx import numpy_helper as NH

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # torch is optional
    torch = None

HERE = os.path.dirname(os.path.abspath(__file__))
FAMILIES = ("elementwise", "reduce", "misc", "nn")

NP2TP = {np.dtype(np.float16): TP.FLOAT16, np.dtype(np.float32): TP.FLOAT, np.dtype(np.float64): TP.DOUBLE,
         np.dtype(np.int8): TP.INT8, np.dtype(np.int16): TP.INT16, np.dtype(np.int32): TP.INT32,
         np.dtype(np.int64): TP.INT64, np.dtype(np.uint8): TP.UINT8, np.dtype(np.uint16): TP.UINT16,
         np.dtype(np.uint32): TP.UINT32, np.dtype(np.uint64): TP.UINT64, np.dtype(np.bool_): TP.BOOL}


class BF16:
    """A bfloat16 tensor (numpy has no bfloat16): float32 values that bfloat16 holds exactly. Written as
    TensorProto data_type BFLOAT16 with the 16-bit patterns in raw_data."""

    def __init__(self, values):
        self.f32 = np.asarray(values, np.float32)
        bits = self.f32.view(np.uint32)
        assert not np.any(bits[~np.isnan(self.f32)] & 0xFFFF), "value not exact in bfloat16"
        self.bits = (bits >> 16).astype("<u2")
        self.shape = self.f32.shape


def elem_type(a):
    return TP.BFLOAT16 if isinstance(a, BF16) else NP2TP[a.dtype]


def to_proto(a, name):
    if isinstance(a, BF16):
        t = TP(name=name, data_type=TP.BFLOAT16, dims=list(a.shape))
        t.raw_data = a.bits.tobytes()
        return t
    return NH.from_array(a, name)


def as_value(a):
    return a if isinstance(a, BF16) else np.asarray(a)


class Writer:
    def __init__(self, out):
        self.out = out
        self.manifest = []
        self.skipped = []
        self.names = set()

    def add(self, family, name, op, inputs, outputs, opset=13, ref="numpy", **attrs):
        """One case: a single `op` node. inputs: arrays, None for an omitted optional input (it gets
        the empty name and no graph input). outputs: the expected arrays, in node output order."""
        assert family in FAMILIES and (family, name) not in self.names, (family, name)
        self.names.add((family, name))
        if outputs is None:  # the reference needs torch and torch is missing
            self.skipped.append(f"{family}/{name}")
            return
        in_names = ["" if a is None else f"x{k}" for k, a in enumerate(inputs)]
        given = [(n, as_value(a)) for n, a in zip(in_names, inputs) if a is not None]
        outs = [(f"y{k}", as_value(a)) for k, a in enumerate(outputs)]
        node = H.make_node(op, in_names, [n for n, _ in outs], name=f"{op}_0", **attrs)
        graph = H.make_graph(
            [node], name,
            [H.make_tensor_value_info(n, elem_type(a), a.shape) for n, a in given],
            [H.make_tensor_value_info(n, elem_type(a), a.shape) for n, a in outs])
        model = H.make_model(graph, producer_name="maqd make_golden.py",
                             opset_imports=[H.make_opsetid("", opset)])
        onnx.checker.check_model(model, full_check=True)  # also ONNX's own type and shape inference
        d = os.path.join(self.out, family, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "test_data_set_0"))
        onnx.save(model, os.path.join(d, "model.onnx"))
        for kind, items in (("input", given), ("output", outs)):
            for k, (n, a) in enumerate(items):
                with open(os.path.join(d, "test_data_set_0", f"{kind}_{k}.pb"), "wb") as f:
                    f.write(to_proto(a, n).SerializeToString())
        self.manifest.append(f"{family}/{name}\t{op}\t{opset}\t{ref}")


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def rand(g, shape, dt=np.float32, lo=-5, hi=5):
    if np.issubdtype(dt, np.integer):
        return g.integers(lo, hi, size=shape).astype(dt)
    return g.uniform(lo, hi, size=shape).astype(dt)


def randn(g, *shape):
    return g.standard_normal(shape).astype(np.float32)


def f32(a):
    return np.asarray(a).astype(np.float32)


# ---------------------------------------------------------------------------------------------------
# elementwise: broadcasting, integer wrap-around and division/modulo signs, casts at the edges, legacy
# attribute forms, big-argument activations. References: numpy, or Python ints where numpy would not
# say what ONNX means.
def elementwise(w):
    fam = "elementwise"

    def add(name, op, inputs, outputs, **kw):
        w.add(fam, name, op, inputs, outputs, **kw)

    g = rng_for("add_bcast5")
    a, b = rand(g, [2, 1, 4, 1, 3]), rand(g, [3, 1, 5, 1])
    add("add_bcast5", "Add", [a, b], [a + b])
    g = rng_for("mul_bcast5_i32")
    a, b = rand(g, [2, 1, 4, 1, 3], np.int32), rand(g, [3, 1, 5, 1], np.int32)
    add("mul_bcast5_i32", "Mul", [a, b], [a * b])

    # two's-complement wrap-around, computed with Python ints
    a = np.array([2**31 - 1, -2**31, 100, 65536], np.int32)
    b = np.array([1, -1, 2**30, 65536], np.int32)

    def wrap32(v):
        return np.array([((x + 2**31) % 2**32) - 2**31 for x in v], np.int32)

    al, bl = a.tolist(), b.tolist()
    add("add_wrap_i32", "Add", [a, b], [wrap32([x + y for x, y in zip(al, bl)])], ref="python")
    add("sub_wrap_i32", "Sub", [a, b], [wrap32([x - y for x, y in zip(al, bl)])], ref="python")
    add("mul_wrap_i32", "Mul", [a, b], [wrap32([x * y for x, y in zip(al, bl)])], ref="python")

    # integer Div truncates toward zero (C semantics); -128 / -1 wraps to -128
    a = np.array([7, -7, 7, -7, -128, 5], np.int8)
    b = np.array([2, 2, -2, -2, -1, 7], np.int8)
    q = [int(x / y) for x, y in zip(a.tolist(), b.tolist())]
    q = [((v + 128) % 256) - 128 for v in q]
    add("div_trunc_i8", "Div", [a, b], [np.array(q, np.int8)], opset=14, ref="python")  # int8: Div-14
    a2, b2 = a[:4], b[:4]  # Mod: sign of the divisor (fmod=0) or of the dividend (fmod=1)
    add("mod_i8", "Mod", [a2, b2], [np.mod(a2, b2)], fmod=0)
    add("mod_fmod_i8", "Mod", [a2, b2], [np.fmod(a2, b2)], fmod=1)
    g = rng_for("mod_bcast_i64")
    a = rand(g, [3, 4], np.int64, -20, 20)
    b = rand(g, [4], np.int64, 1, 6) * np.array([1, -1, 1, -1], np.int64)
    add("mod_bcast_i64", "Mod", [a, b], [np.mod(a, b)])
    g = rng_for("fmod_f64")
    a, b = rand(g, [3, 4], np.float64), rand(g, [4], np.float64)
    add("fmod_f64", "Mod", [a, b], [np.fmod(a, b)], fmod=1)

    g = rng_for("where_3way")
    c = g.integers(0, 2, size=[3, 1, 1]).astype(bool)
    x, y = rand(g, [1, 4, 1], np.int16), rand(g, [5], np.int16)
    add("where_3way_i16", "Where", [c, x, y], [np.where(c, x, y)])
    x, y = rand(g, [1, 4, 1], np.float64), rand(g, [5], np.float64)
    add("where_3way_f64", "Where", [c, x, y], [np.where(c, x, y)])

    g = rng_for("variadic3")
    a, b, c3 = rand(g, [2, 3]), rand(g, [3]), rand(g, [1, 1])
    add("max3", "Max", [a, b, c3], [np.maximum(np.maximum(a, b), c3)])
    add("min3", "Min", [a, b, c3], [np.minimum(np.minimum(a, b), c3)])
    add("sum3", "Sum", [a, b, c3], [f32(a.astype(np.float64) + b + c3)])
    add("mean3", "Mean", [a, b, c3], [f32((a.astype(np.float64) + b + c3) / 3)])
    g = rng_for("max_u32")
    au, bu = rand(g, [2, 3], np.uint32, 0, 100), rand(g, [3], np.uint32, 0, 100)
    add("max_u32", "Max", [au, bu], [np.maximum(au, bu)])

    # Pow: integer base with float exponent gives the base type (truncated); int64 ** int64 exactly
    a = np.array([[0, 1, 2], [3, 4, 2]], np.int32)
    e = np.array([1.5, 0.5, 2.0], np.float32)
    add("pow_i32_f32", "Pow", [a, e],
        [np.trunc(np.power(a.astype(np.float64), e.astype(np.float64))).astype(np.int32)])
    a = np.array([3, -3, 2, 7], np.int64)
    e = np.array([39, 3, 62, 0], np.int64)
    add("pow_i64_i64", "Pow", [a, e], [np.array([x**y for x, y in zip(a.tolist(), e.tolist())], np.int64)],
        ref="python")
    g = rng_for("pow_f32_i8")
    a, e = rand(g, [2, 3], np.float32, 0.5, 3), np.array([2, 3, -1], np.int8)
    add("pow_f32_i8", "Pow", [a, e], [f32(np.power(a.astype(np.float64), e.astype(np.float64)))])

    # Cast: float -> int truncates toward zero; only in-range values (out of range is undefined)
    x = np.array([-1.7, -0.5, 0.5, 1.5, 2.5, 127.9, -128.9], np.float32)
    add("cast_f32_i8", "Cast", [x], [np.trunc(x).astype(np.int8)], to=TP.INT8)
    add("cast_f32_i64", "Cast", [x], [np.trunc(x).astype(np.int64)], to=TP.INT64)
    x = np.array([0, 3, 255], np.uint8)
    add("cast_u8_bool", "Cast", [x], [x != 0], to=TP.BOOL)
    x = np.array([True, False])
    add("cast_bool_f64", "Cast", [x], [x.astype(np.float64)], to=TP.DOUBLE)
    x = np.array([2**64 - 1, 2**63, 5], np.uint64)
    add("cast_u64_f64", "Cast", [x], [np.array([float(v) for v in x.tolist()], np.float64)], to=TP.DOUBLE,
        ref="python")
    x = np.array([-1, 300, -129, 255], np.int32)  # integer narrowing keeps the low bits
    add("cast_i32_u8", "Cast", [x], [np.array([v & 255 for v in x.tolist()], np.uint8)], to=TP.UINT8,
        ref="python")
    x = np.array([-1.5, 0.0, 0.25, np.nan, -0.0], np.float32)
    add("cast_f32_bool", "Cast", [x], [x != 0], to=TP.BOOL)
    x = np.array([0.1, 1.0 / 3, 65504, 1e-5, -2.5e-6, 70000], np.float32)  # subnormal; overflow -> inf
    with np.errstate(over="ignore"):
        add("cast_f32_f16", "Cast", [x], [x.astype(np.float16)], to=TP.FLOAT16)
    x = np.array([1.0, -0.333, 6e-5, 65504], np.float16)
    add("cast_f16_f32", "Cast", [x], [x.astype(np.float32)], to=TP.FLOAT)
    # CastLike takes the target type from `like`: float16 (subnormal, overflow) and bfloat16 targets
    x = np.array([0.1, 1e-7, 70000, -2.5e-6, 1.0], np.float32)
    with np.errstate(over="ignore"):
        add("castlike_f32_f16", "CastLike", [x, np.array([0], np.float16)], [x.astype(np.float16)], opset=15)
    add("castlike_f16_f64", "CastLike", [np.array([1.0, -0.333, 6e-5], np.float16), np.array([0.0])],
        [np.array([1.0, -0.333, 6e-5], np.float16).astype(np.float64)], opset=15)
    # bfloat16: values whose bits below bfloat16 precision are under half a step, so truncation (ONNX
    # 1.12's reference) and round-to-nearest-even agree; each still moves by more than the 1e-3 tolerance
    x = np.array([1.003, 3.005, -5.01, 300.5, 0.0, -np.inf, np.nan, 1.2e-3], np.float32)
    bits = x.view(np.uint32)
    low = bits & 0xFFFF
    assert np.all((low < 0x8000) | np.isnan(x)), "truncation and rounding would differ"
    xb = BF16(np.where(np.isnan(x), np.float32(np.nan), (bits & 0xFFFF0000).view(np.float32)))
    add("cast_f32_bf16", "Cast", [x], [xb], to=TP.BFLOAT16)
    add("cast_bf16_f32", "Cast", [xb], [xb.f32], to=TP.FLOAT)
    add("castlike_f32_bf16", "CastLike", [x, BF16([0.0])], [xb], opset=15)

    g = rng_for("clip_i32_min")
    x = rand(g, [3, 4], np.int32, -10, 10)
    add("clip_i32_min", "Clip", [x, np.array(-3, np.int32)], [np.maximum(x, -3)])
    g = rng_for("bitshift_u8")
    x, sh = rand(g, [3, 4], np.uint8, 0, 255), np.array([0, 3, 7, 8], np.uint8)
    add("shl_u8", "BitShift", [x, sh],
        [np.array([[(int(v) << int(s)) & 255 for v, s in zip(row, sh)] for row in x], np.uint8)],
        ref="python", direction="LEFT")
    add("shr_u8", "BitShift", [x, sh],
        [np.array([[int(v) >> int(s) for v, s in zip(row, sh)] for row in x], np.uint8)],
        ref="python", direction="RIGHT")
    g = rng_for("equal_bool")
    a, b = g.integers(0, 2, size=[3, 4]).astype(bool), g.integers(0, 2, size=[4]).astype(bool)
    add("equal_bool", "Equal", [a, b], [a == b])
    g = rng_for("le_u16")
    a, b = rand(g, [3, 4], np.uint16, 0, 5), rand(g, [1, 4], np.uint16, 0, 5)
    add("le_u16", "LessOrEqual", [a, b], [a <= b], opset=16)

    g = rng_for("int_unary")
    x = rand(g, [3, 4], np.int32)
    add("abs_i32", "Abs", [x], [np.abs(x)])
    add("neg_i64", "Neg", [x.astype(np.int64)], [-x.astype(np.int64)])
    add("sign_i32", "Sign", [x], [np.sign(x)])
    add("relu_i8", "Relu", [x.astype(np.int8)], [np.maximum(x, 0).astype(np.int8)], opset=14)
    add("shrink_i32", "Shrink", [x], [np.where(x < -2, x + 1, np.where(x > 2, x - 1, 0)).astype(np.int32)],
        lambd=2.0, bias=1.0)
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, -2.6, -0.0], np.float32)
    add("round_even", "Round", [x], [np.round(x)])
    x = np.array([-np.inf, np.inf, np.nan, 1.0], np.float64)
    add("isinf_pos", "IsInf", [x], [np.isposinf(x)], detect_negative=0)
    add("isinf_neg", "IsInf", [x], [np.isneginf(x)], detect_positive=0)

    g = rng_for("prelu_uni")
    x, s = rand(g, [2, 3, 4]), rand(g, [3, 1])
    add("prelu_uni", "PRelu", [x, s], [np.where(x < 0, x * s, x)])
    g = rng_for("legacy_bcast")
    x, s = rand(g, [2, 3, 4]), rand(g, [3])
    add("add_legacy_axis", "Add", [x, s], [x + s.reshape(1, 3, 1)], opset=6, broadcast=1, axis=1)
    s2 = rand(g, [4])
    add("sub_legacy_suffix", "Sub", [x, s2], [x - s2], opset=6, broadcast=1)
    g = rng_for("legacy_attrs")
    x = rand(g, [3, 4])
    add("clip6", "Clip", [x], [np.clip(x, -1, 2)], opset=6, min=-1.0, max=2.0)
    add("cast1_str", "Cast", [x], [x.astype(np.float64)], opset=1, to="DOUBLE")

    g = rng_for("big_activations")
    x = rand(g, [3, 4], np.float32, -100, 100)
    xd = x.astype(np.float64)
    add("softplus_big", "Softplus", [x], [f32(np.logaddexp(0, xd))])
    add("sigmoid_big", "Sigmoid", [x], [f32(1 / (1 + np.exp(-xd)))])

    g = rng_for("dropout")
    x = rand(g, [3, 4])
    add("dropout_mask", "Dropout", [x], [x, np.ones([3, 4], bool)], opset=13)
    add("dropout7_mask", "Dropout", [x], [x, np.ones([3, 4], np.float32)], opset=7)
    g = rng_for("add_empty")
    x, y = rand(g, [0, 4]), rand(g, [1, 4])
    add("add_empty", "Add", [x, y], [x + y])
    x, y = np.array(3.0, np.float32), rand(g, [2, 2])
    add("add_scalar", "Add", [x, y], [x + y])


# ---------------------------------------------------------------------------------------------------
# reduce: Einsum, Det, reductions on ints and odd axes, ArgMax/ArgMin ties, TopK, CumSum.
def reduce_family(w):
    fam = "reduce"

    def add(name, op, inputs, outputs, **kw):
        w.add(fam, name, op, inputs, outputs, **kw)

    # ONNX: every "..." stands for the same number of dimensions; their sizes broadcast
    einsums = [("matmul_ellipsis", "...ij,...jk->...ik", [(2, 3, 4, 5), (1, 3, 5, 2)]),
               ("transpose", "ij->ji", [(3, 4)]),
               ("diag", "ii->i", [(4, 4)]),
               ("batch_diag", "bii->bi", [(2, 3, 3)]),
               ("implicit_out", "ij,jk", [(2, 3), (3, 4)]),
               ("outer", "i,j->ij", [(3,), (4,)]),
               ("sum_all", "ij->", [(3, 4)]),
               ("sum_last_ellipsis", "...i->...", [(2, 3, 4)]),
               ("bmm", "ijk,ikl->ijl", [(2, 3, 4), (2, 4, 5)]),
               ("chain3", "abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 2)]),
               ("move_ellipsis", "i...->...i", [(2, 3, 4)]),
               ("batch_dot", "bi,bi->b", [(3, 4), (3, 4)]),
               ("mid_ellipsis", "ab...,b...->a...", [(2, 3, 4), (3, 4)])]
    for name, eq, shapes in einsums:
        g = rng_for("einsum_" + name)
        ins = [randn(g, *s) for s in shapes]
        add("einsum_" + name, "Einsum", ins, [f32(np.einsum(eq, *[a.astype(np.float64) for a in ins]))],
            opset=12, equation=eq)
    g = rng_for("einsum_int")
    ins = [rand(g, (3, 4), np.int64, -5, 5), rand(g, (4, 2), np.int64, -5, 5)]
    add("einsum_int", "Einsum", ins, [np.einsum("ij,jk->ik", *ins)], opset=12, equation="ij,jk->ik")

    g = rng_for("det")
    a = randn(g, 3, 2, 4, 4)
    add("det", "Det", [a], [f32(np.linalg.det(a.astype(np.float64)))], opset=11)

    g = rng_for("int_reduce")
    xi = rand(g, (3, 4, 5), np.int32, -10, 10)
    add("int_ReduceSum", "ReduceSum", [xi, np.array([0, 2], np.int64)],
        [np.sum(xi, axis=(0, 2), keepdims=True, dtype=np.int64).astype(np.int32)])
    add("int_ReduceMax", "ReduceMax", [xi], [np.max(xi, axis=(0, 2))], axes=[0, -1], keepdims=0)
    add("int_ReduceMin", "ReduceMin", [xi], [np.min(xi, axis=(0, 2))], axes=[0, -1], keepdims=0)
    add("int_ReduceL1", "ReduceL1", [xi], [np.sum(np.abs(xi), axis=(0, 2), dtype=np.int64).astype(np.int32)],
        axes=[0, -1], keepdims=0)
    xp = rand(g, (3, 4, 5), np.int32, -3, 4)  # |product| of 15 values <= 3**15: no overflow
    add("int_ReduceProd", "ReduceProd", [xp], [np.prod(xp, axis=(0, 2), dtype=np.int64).astype(np.int32)],
        axes=[0, -1], keepdims=0)
    g = rng_for("reduce_float")
    x = randn(g, 2, 3, 4)
    xd = x.astype(np.float64)
    add("rsum_noaxes", "ReduceSum", [x], [f32(np.sum(xd, keepdims=True))])
    add("rsum_opset11", "ReduceSum", [x], [f32(np.sum(xd, axis=1))], opset=11, axes=[1], keepdims=0)
    add("rlse_big", "ReduceLogSumExp", [x * 100],
        [f32(np.log(np.sum(np.exp((x * 100).astype(np.float64)), axis=2, keepdims=True)))], axes=[2])
    add("rmean_scalar_in", "ReduceMean", [np.array(3.0, np.float32)], [np.array(3.0, np.float32)])
    add("argmin_axis0", "ArgMin", [x], [np.argmin(x, axis=0)], axis=0, keepdims=0)

    xa = np.array([[1, 3, 3, 0], [2, 2, 1, 2]], np.int64)
    add("argmax_int", "ArgMax", [xa], [np.array([[1], [0]], np.int64)], ref="hand", axis=1)
    add("argmax_int_last", "ArgMax", [xa], [np.array([[2], [3]], np.int64)], opset=12, ref="hand", axis=1,
        select_last_index=1)

    # TopK: ties keep the lower index first (ONNX spec); reference from a stable numpy sort
    def topk(x, k, axis, largest=True):
        key = -x.astype(np.float64) if largest else x.astype(np.float64)
        idx = np.take(np.argsort(key, axis=axis, kind="stable"), np.arange(k), axis=axis)
        return np.take_along_axis(x, idx, axis=axis), idx.astype(np.int64)

    xt = np.array([[3, 1, 3, 2, 5, 5], [0, 0, 0, 1, 1, 1]], np.float32)
    add("topk_ties", "TopK", [xt, np.array([3], np.int64)],
        [np.array([[5, 5, 3], [1, 1, 1]], np.float32), np.array([[4, 5, 0], [3, 4, 5]], np.int64)],
        opset=11, ref="hand")
    add("topk_small_ties", "TopK", [xt, np.array([4], np.int64)],
        [np.array([[1, 2, 3, 3], [0, 0, 0, 1]], np.float32), np.array([[1, 3, 0, 2], [0, 1, 2, 3]], np.int64)],
        opset=11, ref="hand", largest=0)
    g = rng_for("topk_axis1")
    xt2 = randn(g, 3, 7, 2)
    add("topk_axis1", "TopK", [xt2, np.array([3], np.int64)], list(topk(xt2, 3, 1)), opset=11, axis=1)
    add("topk_v1", "TopK", [xt2], list(topk(xt2, 3, 1)), opset=1, axis=1, k=3)
    g = rng_for("topk_int")
    xti = rand(g, (4, 9), np.int32, 0, 20)  # narrow range: many ties
    add("topk_int", "TopK", [xti, np.array([4], np.int64)], list(topk(xti, 4, 1)), opset=11)

    g = rng_for("cumsum")
    xc = randn(g, 3, 4, 5)
    xcd = xc.astype(np.float64)
    add("cumsum_ax1_rev_excl", "CumSum", [xc, np.array(1, np.int32)],
        [f32(np.flip(np.cumsum(np.flip(xcd, 1), 1), 1) - xcd)], opset=14, reverse=1, exclusive=1)
    xci = rand(g, (3, 4), np.int64, -9, 9)
    add("cumsum_int", "CumSum", [xci, np.array([-1], np.int64)], [np.cumsum(xci, 1)], opset=14)


# ---------------------------------------------------------------------------------------------------
# misc: Resize / Upsample and GridSample against PyTorch, QuantizeLinear / DequantizeLinear.
def misc(w):
    fam = "misc"

    def add(name, op, inputs, outputs, **kw):
        w.add(fam, name, op, inputs, outputs, **kw)

    def tref(fn):  # a PyTorch reference, or None (skipped) without torch
        return None if torch is None else fn()

    g = rng_for("resize")
    xr = randn(g, 2, 3, 5, 7)
    for mode, tmode, ac in (("linear", "bilinear", False), ("linear", "bilinear", True),
                            ("cubic", "bicubic", False), ("cubic", "bicubic", True)):
        for size in ((9, 4), (3, 11), (10, 14)):
            exp = tref(lambda: [F.interpolate(torch.from_numpy(xr), size=size, mode=tmode,
                                              align_corners=ac).numpy()])
            ct = "align_corners" if ac else "pytorch_half_pixel"
            add(f"resize_{mode}_{'ac' if ac else 'php'}_{size[0]}x{size[1]}", "Resize",
                [xr, None, None, np.array([2, 3, *size], np.int64)], exp, ref="torch", mode=mode,
                coordinate_transformation_mode=ct)
    for size in ((9, 4), (3, 11), (10, 14)):
        exp = tref(lambda: [F.interpolate(torch.from_numpy(xr), size=size, mode="nearest").numpy()])
        add(f"resize_nearest_{size[0]}x{size[1]}", "Resize", [xr, None, None, np.array([2, 3, *size], np.int64)],
            exp, ref="torch", mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    g = rng_for("resize_1d")
    x1 = randn(g, 1, 2, 6)
    add("resize_1d_scales", "Resize", [x1, np.array([], np.float32), np.array([1, 1, 1.5], np.float32)],
        tref(lambda: [F.interpolate(torch.from_numpy(x1), scale_factor=1.5, mode="linear", align_corners=False,
                                    recompute_scale_factor=False).numpy()]),
        opset=11, ref="torch", mode="linear")
    g = rng_for("resize_legacy")
    x2 = randn(g, 1, 1, 3, 3)
    add("resize10_nearest_up", "Resize", [x2, np.array([1, 1, 2, 2], np.float32)],
        [np.repeat(np.repeat(x2, 2, 2), 2, 3)], opset=10)
    add("upsample7", "Upsample", [x2], [np.repeat(np.repeat(x2, 2, 2), 3, 3)], opset=7, scales=[1., 1., 2., 3.])

    g = rng_for("gridsample")
    xg = randn(g, 2, 3, 5, 6)
    grid = (g.random((2, 4, 7, 2)) * 2.6 - 1.3).astype(np.float32)  # reaches outside [-1, 1]
    for mode in ("bilinear", "nearest", "bicubic"):
        for pad in ("zeros", "border", "reflection"):
            for ac in (0, 1):
                exp = tref(lambda: [F.grid_sample(torch.from_numpy(xg), torch.from_numpy(grid), mode=mode,
                                                  padding_mode=pad, align_corners=bool(ac)).numpy()])
                add(f"gridsample_{mode}_{pad}_{ac}", "GridSample", [xg, grid], exp, opset=16, ref="torch",
                    mode=mode, padding_mode=pad, align_corners=ac)

    # QuantizeLinear rounds half to even, then saturates; scales are powers of two so x / scale is exact
    g = rng_for("quant")
    xq = randn(g, 2, 3, 4) * 40
    xq[0, 0, :4] = [0.25, 0.75, -1.25, 300.0]  # x / 0.5 is a tie (even wins); saturation
    sc, zp = np.array([0.5, 0.25, 1.0], np.float32), np.array([-3, 0, 5], np.int8)
    exp = np.clip(np.rint(xq.astype(np.float64) / sc[None, :, None]) + zp[None, :, None], -128, 127)
    add("quant_i8_axis", "QuantizeLinear", [xq, sc, zp], [exp.astype(np.int8)], axis=1)
    zpu = np.array(128, np.uint8)
    exp = np.clip(np.rint(xq.astype(np.float64) / 0.5) + 128, 0, 255)
    add("quant_u8", "QuantizeLinear", [xq, np.array(0.5, np.float32), zpu], [exp.astype(np.uint8)])
    add("dequant_i32", "DequantizeLinear", [np.array([-5, 0, 7], np.int32), np.array(0.5, np.float32)],
        [np.array([-2.5, 0, 3.5], np.float32)], ref="hand")


# ---------------------------------------------------------------------------------------------------
# nn: float64 Gemm/Softmax/Conv/BatchNorm, broadcasting MatMul, BLAS-sized Gemm and grouped strided Conv,
# LayerNormalization with its Mean/InvStdDev outputs. References in float64 numpy (loops for Conv).
def nn(w):
    fam = "nn"

    def add(name, op, inputs, outputs, **kw):
        w.add(fam, name, op, inputs, outputs, **kw)

    def conv_ref(x, wt, pads, strides, group):
        """Direct float64 convolution, NCHW (1-D or 2-D), symmetric pads."""
        x, wt = x.astype(np.float64), wt.astype(np.float64)
        sp = x.ndim - 2
        xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pads])
        k = wt.shape[2:]
        osz = [(xp.shape[2 + i] - k[i]) // strides[i] + 1 for i in range(sp)]
        y = np.zeros((x.shape[0], wt.shape[0], *osz))
        cin, cout = wt.shape[1], wt.shape[0] // group
        for m in range(wt.shape[0]):
            c0 = (m // cout) * cin
            for o in np.ndindex(*osz):
                sl = tuple(slice(o[i] * strides[i], o[i] * strides[i] + k[i]) for i in range(sp))
                y[(slice(None), m) + o] = np.tensordot(xp[(slice(None), slice(c0, c0 + cin)) + sl], wt[m],
                                                        axes=sp + 1)
        return y

    g = rng_for("f64_gemm")
    A, B, C = g.standard_normal((3, 4)), g.standard_normal((5, 4)), g.standard_normal((5,))
    add("f64_gemm", "Gemm", [A, B, C], [0.5 * A @ B.T + 2 * C], transB=1, alpha=0.5, beta=2.0)
    g = rng_for("f64_softmax")
    X = g.standard_normal((2, 3, 4))
    e = np.exp(X - X.max(axis=1, keepdims=True))
    add("f64_softmax", "Softmax", [X], [e / e.sum(axis=1, keepdims=True)], axis=1)
    g = rng_for("f64_conv")
    x, wt = g.standard_normal((1, 2, 6)), g.standard_normal((3, 2, 3))
    add("f64_conv", "Conv", [x, wt], [conv_ref(x, wt, [1], [1], 1)], pads=[1, 1])
    g = rng_for("f64_batchnorm")
    x, s, b = g.standard_normal((2, 3, 2)), g.standard_normal(3), g.standard_normal(3)
    mu, var = g.standard_normal(3), g.random(3) + 0.5
    y = s[None, :, None] * (x - mu[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5) + b[None, :, None]
    add("f64_batchnorm", "BatchNormalization", [x, s, b, mu, var], [y], opset=15)
    g = rng_for("f32_matmul")
    a, bb = randn(g, 2, 1, 3, 4), randn(g, 5, 4, 2)
    add("f32_matmul_bcast", "MatMul", [a, bb], [f32(np.matmul(a.astype(np.float64), bb))])
    a1 = randn(g, 4)
    add("f32_matmul_1d", "MatMul", [a1, bb], [f32(np.matmul(a1.astype(np.float64), bb))])
    g = rng_for("f32_gemm_large")
    A, B = randn(g, 64, 70), randn(g, 70, 50)
    add("f32_gemm_large", "Gemm", [A, B], [f32(A.astype(np.float64) @ B)])
    g = rng_for("f32_conv_large")
    x, wt = randn(g, 2, 4, 9, 9), randn(g, 6, 2, 3, 3)
    add("f32_conv_large", "Conv", [x, wt], [f32(conv_ref(x, wt, [1, 1], [2, 2], 2))], pads=[1, 1, 1, 1],
        strides=[2, 2], group=2)
    g = rng_for("f32_layernorm_stats")
    x, s, b = randn(g, 2, 3, 4), randn(g, 3, 4), randn(g, 3, 4)
    xd = x.astype(np.float64)
    mu = xd.mean(axis=(1, 2), keepdims=True)
    inv = 1 / np.sqrt(xd.var(axis=(1, 2), keepdims=True) + 1e-5)
    add("f32_layernorm_stats", "LayerNormalization", [x, s, b], [f32((xd - mu) * inv * s + b), f32(mu), f32(inv)],
        opset=17, axis=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "data"), help="output root (default: %(default)s)")
    ap.add_argument("--clean", action="store_true", help="remove the family folders first (needs torch)")
    args = ap.parse_args()
    if args.clean:
        if torch is None:
            sys.exit("make_golden.py: --clean needs torch (the torch-referenced cases would be lost)")
        for fam in FAMILIES:
            shutil.rmtree(os.path.join(args.out, fam), ignore_errors=True)
    w = Writer(args.out)
    elementwise(w)
    reduce_family(w)
    misc(w)
    nn(w)
    if not w.skipped:  # a partial run keeps the committed manifest
        with open(os.path.join(args.out, "manifest.txt"), "w") as f:
            f.write("# case\top\topset\treference (written by make_golden.py)\n")
            f.write("\n".join(sorted(w.manifest)) + "\n")
    print(f"make_golden.py: wrote {len(w.manifest)} cases under {args.out}")
    if w.skipped:
        print(f"make_golden.py: torch not available, skipped {len(w.skipped)} cases (left as committed)")


if __name__ == "__main__":
    main()
