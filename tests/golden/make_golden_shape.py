#!/usr/bin/python3
# make_golden_shape.py: builds the golden tests of the shape/index ops (one-node ONNX models + numpy
# expected outputs in the conformance layout) and the bad-index models that test_shape_errors.c imports.
"""Writes
  tests/golden/data/shape/<case>/model.onnx + test_data_set_0/{input,output}_K.pb   (maqd-conformance
      --root tests/golden/data --folder shape), plus tests/golden/data/shape/manifest.txt;
  tests/data/shape_errors/<case>.onnx + <case>.input_K.pb   (tests/unit/test_shape_errors.c): models
      that must fail with a message naming the node and op, and the Shape->Gather->...->Reshape chain
      that must fold at import (fold_chain, with its numpy outputs fold_chain.output_K.pb).
Expected values come from numpy (np.take, np.pad, np.unique, ...) or, for a few, hand calculation;
never from maqd. Inputs marked `init` become initializers, so the op is folded at import; the others
are graph inputs, so the op runs in the executor. Every array comes from a generator with a fixed
seed, so the output is byte-for-byte reproducible.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_golden_shape.py [--clean]"""
import argparse
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as H
from onnx import numpy_helper as NH

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "data", "shape")
ERRORS = os.path.join(HERE, "..", "data", "shape_errors")

NP2TP = {np.dtype(np.float32): TP.FLOAT, np.dtype(np.float64): TP.DOUBLE, np.dtype(np.int8): TP.INT8,
         np.dtype(np.int16): TP.INT16, np.dtype(np.int32): TP.INT32, np.dtype(np.int64): TP.INT64,
         np.dtype(np.uint8): TP.UINT8, np.dtype(np.uint16): TP.UINT16, np.dtype(np.bool_): TP.BOOL}


def I(*v):
    return np.array(v, np.int64)


def build(name, nodes, inputs, out_vis, opset, inits=()):
    """inputs: (name, array, init). Returns (model, [arrays of the graph inputs, in order])."""
    gin, ginit, feeds = [], list(inits), []
    for nm, a, init in inputs:
        if not nm:
            continue
        if init:
            ginit.append(NH.from_array(a, nm))
        else:
            gin.append(H.make_tensor_value_info(nm, NP2TP[a.dtype], a.shape))
            feeds.append((nm, a))
    graph = H.make_graph(nodes, name, gin, out_vis, ginit)
    model = H.make_model(graph, producer_name="maqd make_golden_shape.py",
                         opset_imports=[H.make_opsetid("", opset)])
    model.ir_version = 8  # initializers need not be graph inputs (IR >= 4); onnx 1.12 reads IR 8
    return model, feeds


def write_pb(path, name, a):
    with open(path, "wb") as f:
        f.write(NH.from_array(a, name).SerializeToString())


class Writer:
    def __init__(self):
        self.manifest = []
        self.names = set()
        self.errors = []

    def case(self, name, op, inputs, outputs, attrs=None, opset=13, out_names=None, ref="numpy"):
        """A golden case: one `op` node named after the case. outputs: expected arrays in node output
        order, None where the output is omitted (out_names gives '' there)."""
        assert name not in self.names, name
        self.names.add(name)
        out_names = out_names or [f"y{k}" for k in range(len(outputs))]
        assert len(out_names) == len(outputs)
        node = H.make_node(op, [nm for nm, _, _ in inputs], out_names, name=name, **(attrs or {}))
        outs = [(n, np.asarray(a)) for n, a in zip(out_names, outputs) if n]
        out_vis = [H.make_tensor_value_info(n, NP2TP[a.dtype], a.shape) for n, a in outs]
        model, feeds = build(name, [node], inputs, out_vis, opset)
        onnx.checker.check_model(model, full_check=True)  # ONNX's own type and shape inference agrees
        self.save_golden(name, model, feeds, outs)
        self.manifest.append(f"shape/{name}\t{op}\t{opset}\t{ref}")

    def save_golden(self, name, model, feeds, outs):
        d = os.path.join(GOLDEN, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "test_data_set_0"))
        onnx.save(model, os.path.join(d, "model.onnx"))
        for kind, items in (("input", feeds), ("output", outs)):
            for k, (n, a) in enumerate(items):
                write_pb(os.path.join(d, "test_data_set_0", f"{kind}_{k}.pb"), n, a)

    def error(self, name, op, inputs, attrs=None, opset=13, n_out=1, out_names=None):
        """A model that must fail (at import or at run time): tests/data/shape_errors/<name>.onnx and
        its graph inputs as <name>.input_K.pb. The node is named after the case."""
        out_names = out_names or [f"y{k}" for k in range(n_out)]
        node = H.make_node(op, [nm for nm, _, _ in inputs], out_names, name=name, **(attrs or {}))
        out_vis = [H.make_tensor_value_info(n, TP.UNDEFINED, None) for n in out_names if n]
        model, feeds = build(name, [node], inputs, out_vis, opset)  # not checked: most are invalid
        self.save_error(name, model, feeds)

    def save_error(self, name, model, feeds):
        os.makedirs(ERRORS, exist_ok=True)
        onnx.save(model, os.path.join(ERRORS, name + ".onnx"))
        for k, (n, a) in enumerate(feeds):
            write_pb(os.path.join(ERRORS, f"{name}.input_{k}.pb"), n, a)
        self.errors.append(name)


def golden_cases(w):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    xi8 = rng.integers(-100, 100, (2, 3, 4)).astype(np.int8)
    xb = rng.random((2, 3, 4)) > 0.5
    xd = rng.standard_normal((2, 3, 4))
    x5 = np.arange(60, dtype=np.int64).reshape(3, 4, 5)
    xp = np.arange(12, dtype=np.float32).reshape(3, 4)
    c = w.case

    # Squeeze / Unsqueeze: attribute form (opset 11) and input form (13), no axes
    c("squeeze11", "Squeeze", [("x", x.reshape(2, 1, 3, 4, 1), 0)], [x.reshape(2, 3, 4, 1)], {"axes": [1]}, 11)
    c("squeeze_all", "Squeeze", [("x", xi8.reshape(1, 2, 1, 3, 4), 0)], [xi8])
    # Not a case: Squeeze-13 with an empty axes tensor. onnxruntime removes every 1-dim, while ONNX's
    # shape inference (and np.squeeze(axis=())) removes none; the spec does not say.
    c("unsqueeze11", "Unsqueeze", [("x", xb, 0)], [xb.reshape(1, 2, 3, 1, 4)], {"axes": [0, -2]}, 11)
    # Split: attribute sizes (11), sizes as an initializer (13)
    c("split11", "Split", [("x", xd, 0)], [xd[:, :1], xd[:, 1:]], {"axis": 1, "split": [1, 2]}, 11)
    c("split13_init", "Split", [("x", x, 0), ("s", I(3, 1), 1)], [x[..., :3], x[..., 3:]], {"axis": -1})
    # Not a case: Split-13 with an empty split tensor. onnxruntime splits in equal parts, ONNX's shape
    # inference rejects it (0 sizes for 2 outputs); the spec does not say.
    # Slice: attribute form with clamped ends, negative steps with INT64_MIN end, empty, steps > 1
    c("slice9", "Slice", [("x", x5, 0)], [x5[1:3, :, -3:]],
      {"starts": [1, -3], "ends": [1000, 1000], "axes": [0, 2]}, 9)
    c("slice_negbig", "Slice", [("x", x5, 0), ("s", I(-1, 100), 1), ("e", I(-2**63, -100), 1),
                               ("a", I(0, 2), 1), ("st", I(-1, -2), 1)], [x5[::-1, :, ::-2]])
    c("slice_empty", "Slice", [("x", x5, 0), ("s", I(2), 1), ("e", I(1), 1)], [x5[2:1]])
    c("slice_step3", "Slice", [("x", x5, 0), ("s", I(0), 0), ("e", I(5), 0), ("a", I(-1), 0), ("st", I(3), 0)],
      [x5[:, :, 0:5:3]])
    # Pad: attribute form (2) in every mode, input form (11) with an int value, negative pads, reflect
    c("pad2_reflect", "Pad", [("x", xp, 0)], [np.pad(xp, ((2, 1), (3, 2)), mode="reflect")],
      {"pads": [2, 3, 1, 2], "mode": "reflect"}, 2)
    c("pad2_edge", "Pad", [("x", xp, 0)], [np.pad(xp, ((2, 1), (3, 2)), mode="edge")],
      {"pads": [2, 3, 1, 2], "mode": "edge"}, 2)
    c("pad2_const", "Pad", [("x", xp, 0)], [np.pad(xp, ((0, 1), (1, 0)), constant_values=2.5)],
      {"pads": [0, 1, 1, 0], "value": 2.5}, 2)
    c("pad11_int", "Pad", [("x", x5, 0), ("p", I(1, 0, 0, 0, 2, 1), 1), ("v", np.array(7, np.int64), 1)],
      [np.pad(x5, ((1, 0), (0, 2), (0, 1)), constant_values=7)], opset=11)
    c("pad11_crop", "Pad", [("x", xp, 0), ("p", I(-1, 1, 0, -2), 1)], [np.pad(xp[1:, :2], ((0, 0), (1, 0)))],
      opset=11)
    xu8 = xp.astype(np.uint8)
    c("pad11_reflect_u8", "Pad", [("x", xu8, 0), ("p", I(0, 2, 1, 3), 0)],
      [np.pad(xu8, ((0, 1), (2, 3)), mode="reflect")], {"mode": "reflect"})
    # Reshape: opset 5 with 0 and -1, allowzero with an empty tensor
    c("reshape5_init", "Reshape", [("x", x, 0), ("s", I(0, -1), 1)], [x.reshape(2, 12)], opset=5)
    c("reshape_allowzero_empty", "Reshape", [("x", np.zeros((0, 3), np.float32), 0), ("s", I(3, 0), 1)],
      [np.zeros((3, 0), np.float32)], {"allowzero": 1}, 14)
    # Shape / Size of non-float inputs
    c("shape13", "Shape", [("x", xb, 0)], [I(2, 3, 4)])
    c("size_i8", "Size", [("x", xi8, 0)], [np.array(24, np.int64)])
    # Transpose of several dtypes, default perm
    c("transpose_i8", "Transpose", [("x", xi8, 0)], [xi8.transpose(1, 2, 0)], {"perm": [1, 2, 0]})
    c("transpose_bool", "Transpose", [("x", xb, 0)], [xb.transpose()])
    c("transpose_f64", "Transpose", [("x", xd, 0)], [xd.transpose(0, 2, 1)], {"perm": [0, 2, 1]})
    # Concat of bools, with an empty operand
    c("concat_bool", "Concat", [("a", xb, 0), ("b", xb[:, :1], 0)], [np.concatenate([xb, xb[:, :1]], 1)],
      {"axis": 1})
    c("concat_empty", "Concat", [("a", x, 0), ("b", np.zeros((2, 0, 4), np.float32), 1)], [x], {"axis": 1})
    # Gather: int32 negative indices, scalar index
    gi = np.array([[-1, 0], [2, 1]], np.int32)
    c("gather_i8_neg", "Gather", [("x", xi8, 0), ("i", gi, 0)], [np.take(xi8, gi, axis=1)], {"axis": 1})
    c("gather_scalar_idx", "Gather", [("x", x, 0), ("i", np.array(1, np.int64), 0)], [x[:, :, 1]], {"axis": 2})
    # GatherElements / ScatterElements (reduction mul, 16; plain, 13)
    ge_i = np.array([[[0, 1], [2, 0]], [[1, 1], [0, 2]]], np.int64)
    c("gather_elems_ax1", "GatherElements", [("x", x, 0), ("i", ge_i, 0)],
      [np.take_along_axis(x[:, :, :2], ge_i, 1)], {"axis": 1})
    upd = np.array([[[10, 20], [30, 40]], [[50, 60], [70, 80]]], np.float32)
    ref_mul, ref_set = x.copy(), x.copy()
    for a in range(2):
        for b in range(2):
            for k in range(2):
                ref_mul[a, ge_i[a, b, k], k] *= upd[a, b, k]
                ref_set[a, ge_i[a, b, k], k] = upd[a, b, k]
    c("scatter_elems_mul", "ScatterElements", [("x", x, 0), ("i", ge_i, 0), ("u", upd, 0)], [ref_mul],
      {"axis": 1, "reduction": "mul"}, 16)
    c("scatter_elems_13", "ScatterElements", [("x", x, 0), ("i", ge_i, 0), ("u", upd, 0)], [ref_set],
      {"axis": 1})
    # GatherND (batch_dims 0 and 1), ScatterND with duplicate indices and reduction add
    c("gathernd_b0", "GatherND", [("x", x5, 0), ("i", I(1, 2, 0, -1).reshape(2, 2), 0)],
      [np.stack([x5[1, 2], x5[0, -1]])])
    c("gathernd_b1", "GatherND", [("x", x5, 0), ("i", I(1, 0, 3).reshape(3, 1), 0)],
      [np.stack([x5[0, 1], x5[1, 0], x5[2, 3]])], {"batch_dims": 1})
    sref = x5.copy()
    sref[1, 2] += 1
    sref[1, 2] += 2
    c("scatternd_add_dup", "ScatterND", [("x", x5, 0), ("i", I(1, 2, 1, 2).reshape(2, 2), 0),
                                         ("u", np.array([[1] * 5, [2] * 5], np.int64), 0)], [sref],
      {"reduction": "add"}, 16)
    # Expand / Tile
    c("expand_bool", "Expand", [("x", xb[:, :1, :], 0), ("s", I(1, 3, 1), 1)],
      [np.broadcast_to(xb[:, :1, :], (2, 3, 4)).copy()])
    c("expand_rank_up", "Expand", [("x", xp, 0), ("s", I(2, 1, 1), 0)], [np.broadcast_to(xp, (2, 3, 4)).copy()])
    c("tile_zero", "Tile", [("x", xp, 0), ("r", I(0, 2), 0)], [np.tile(xp, (0, 2))])
    c("tile_i8", "Tile", [("x", xi8, 0), ("r", I(2, 1, 3), 1)], [np.tile(xi8, (2, 1, 3))])
    # Range of double and int16; ConstantOfShape default value and bool value
    c("range_f64", "Range", [("s", np.array(1.5), 0), ("l", np.array(-2.0), 0), ("d", np.array(-0.5), 0)],
      [np.arange(1.5, -2.0, -0.5)])
    c("range_i16", "Range", [("s", np.array(10, np.int16), 0), ("l", np.array(3, np.int16), 0),
                             ("d", np.array(-3, np.int16), 0)], [np.arange(10, 3, -3).astype(np.int16)])
    c("cos_default", "ConstantOfShape", [("s", I(2, 3), 0)], [np.zeros((2, 3), np.float32)], opset=9)
    c("cos_bool", "ConstantOfShape", [("s", I(2), 1)], [np.ones(2, np.bool_)],
      {"value": NH.from_array(np.array([True]))}, 9)
    # OneHot with float indices (truncated), float depth, a negative and an out-of-range index
    c("onehot_float", "OneHot", [("i", np.array([[0., 2.7], [-1., 5.]], np.float32), 0),
                                 ("d", np.array(3.0, np.float32), 1), ("v", np.array([0, 9], np.int32), 1)],
      [np.array([[[9, 0, 0], [0, 0, 9]], [[0, 0, 9], [0, 0, 0]]], np.int32)], opset=11, ref="hand")
    # NonZero folded, on -0.0, on bools
    nzi = np.array([[0, 1], [2, 0]], np.int8)
    c("nonzero_init", "NonZero", [("x", nzi, 1)], [np.array(np.nonzero(nzi), np.int64)])
    nzf = np.array([-0.0, 1.0, 0.0], np.float32)
    c("nonzero_negzero", "NonZero", [("x", nzf, 0)], [np.array(np.nonzero(nzf), np.int64)])
    c("nonzero_bool", "NonZero", [("x", xb, 0)], [np.array(np.nonzero(xb), np.int64)])
    # Compress with a condition shorter than the axis
    c("compress_short", "Compress", [("x", x5, 0), ("c", np.array([0, 1], np.bool_), 0)],
      [np.compress([0, 1], x5, axis=1)], {"axis": 1}, 11)
    # EyeLike: negative k with a dtype, bool
    c("eyelike_k_neg", "EyeLike", [("x", np.zeros((4, 3), np.int32), 0)], [np.eye(4, 3, k=-2, dtype=np.float64)],
      {"k": -2, "dtype": TP.DOUBLE})
    c("eyelike_bool", "EyeLike", [("x", np.zeros((3, 3), np.bool_), 0)], [np.eye(3, dtype=np.bool_)])
    # Trilu on a batch, k as initializer / input
    xt = np.arange(2 * 3 * 5, dtype=np.int64).reshape(2, 3, 5)
    c("triu_k_init", "Trilu", [("x", xt, 0), ("k", np.array(-1, np.int64), 1)], [np.triu(xt, -1)], opset=14)
    c("tril_k2_bool", "Trilu", [("x", xt % 2 == 0, 0), ("k", np.array(2, np.int64), 0)], [np.tril(xt % 2 == 0, 2)],
      {"upper": 0}, 14)
    # ReverseSequence, time axis 0
    xr = np.arange(24, dtype=np.float32).reshape(4, 3, 2)
    lens = [4, 1, 2]
    rref = xr.copy()
    for b in range(3):
        rref[:lens[b], b] = xr[:lens[b], b][::-1]
    c("revseq", "ReverseSequence", [("x", xr, 0), ("l", np.array(lens, np.int64), 0)], [rref],
      {"time_axis": 0, "batch_axis": 1}, 10)
    # DepthToSpace (DCR, CRD) on int16, SpaceToDepth on double; numpy reshape/transpose as in the spec
    xs = np.arange(2 * 8 * 2 * 3, dtype=np.int16).reshape(2, 8, 2, 3)
    N, C, Hh, W = xs.shape
    dcr = xs.reshape(N, 2, 2, C // 4, Hh, W).transpose(0, 3, 4, 1, 5, 2).reshape(N, C // 4, Hh * 2, W * 2)
    crd = xs.reshape(N, C // 4, 2, 2, Hh, W).transpose(0, 1, 4, 2, 5, 3).reshape(N, C // 4, Hh * 2, W * 2)
    c("d2s_dcr_i16", "DepthToSpace", [("x", xs, 0)], [dcr], {"blocksize": 2})
    c("d2s_crd_i16", "DepthToSpace", [("x", xs, 0)], [crd], {"blocksize": 2, "mode": "CRD"})
    xs2 = np.arange(2 * 3 * 4 * 6, dtype=np.float64).reshape(2, 3, 4, 6)
    s2d = xs2.reshape(2, 3, 2, 2, 3, 2).transpose(0, 3, 5, 1, 2, 4).reshape(2, 12, 2, 3)
    c("s2d_f64", "SpaceToDepth", [("x", xs2, 0)], [s2d], {"blocksize": 2})
    # Unique along axes, unsorted with omitted outputs, folded
    xu = np.array([[1, 3, 1], [2, 2, 2], [1, 3, 1], [0, 0, 9]], np.int32)
    for ax in (0, 1):
        y, idx, inv, cnt = np.unique(xu, axis=ax, return_index=True, return_inverse=True, return_counts=True)
        c(f"unique_axis{ax}_int", "Unique", [("x", xu, 0)],
          [y, idx.astype(np.int64), inv.ravel().astype(np.int64), cnt.astype(np.int64)], {"axis": ax}, 11)
    xu2 = np.array([2., 1., 1., 3., 4., 3.], np.float32)
    c("unique_unsorted_outs", "Unique", [("x", xu2, 0)],
      [np.array([2, 1, 3, 4], np.float32), None, I(0, 1, 1, 2, 3, 2), None], {"sorted": 0}, 11,
      out_names=["y", "", "inv", ""], ref="hand")
    y, idx = np.unique(xu2, return_index=True)
    c("unique_init", "Unique", [("x", xu2, 1)], [y, idx.astype(np.int64)], {}, 11, out_names=["y", "i"])
    # Constant forms
    c("const_floats", "Constant", [], [np.array([1.5, 2.5], np.float32)], {"value_floats": [1.5, 2.5]})
    c("const_int", "Constant", [], [np.array(7, np.int64)], {"value_int": 7})
    c("const_tensor_i8", "Constant", [], [xi8], {"value": NH.from_array(xi8)})
    # Flatten with axis = rank (opset 9)
    c("flatten_end", "Flatten", [("x", xb, 0)], [xb.reshape(24, 1)], {"axis": 3}, 9)


def chain_nodes():
    """x[N,3,4] -> Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape, plus
    NonZero(x > 0) -> Transpose -> Shape(start=-1) and Range(0, Size(x), 2)."""
    nodes = [H.make_node("Shape", ["x"], ["s"], name="shape"),
             H.make_node("Gather", ["s", "i0"], ["n"], name="gather", axis=0),
             H.make_node("Unsqueeze", ["n", "ax0"], ["n1"], name="unsqueeze"),
             H.make_node("Concat", ["n1", "m1"], ["shp"], name="concat", axis=0),
             H.make_node("Reshape", ["x", "shp"], ["y"], name="reshape"),
             H.make_node("Greater", ["x", "zero"], ["pos"], name="greater"),
             H.make_node("NonZero", ["pos"], ["nz"], name="nonzero"),
             H.make_node("Transpose", ["nz"], ["nzt"], name="transpose"),
             H.make_node("Shape", ["nzt"], ["nzs"], name="shape_last", start=-1),
             H.make_node("Size", ["x"], ["x_len"], name="size"),
             H.make_node("Range", ["r0", "x_len", "r1"], ["rg"], name="range")]
    inits = [NH.from_array(np.array(0, np.int64), "i0"), NH.from_array(I(0), "ax0"), NH.from_array(I(-1), "m1"),
             NH.from_array(np.array(0, np.float32), "zero"), NH.from_array(np.array(0, np.int64), "r0"),
             NH.from_array(np.array(2, np.int64), "r1")]
    return nodes, inits


def chain_expected(x):
    return [("y", x.reshape(x.shape[0], -1)), ("nzt", np.array(np.nonzero(x > 0), np.int64).T),
            ("nzs", I(3)), ("rg", np.arange(0, x.size, 2, dtype=np.int64))]


def chain_cases(w):
    nodes, inits = chain_nodes()
    # Golden: symbolic batch, fed with N = 1 (the importer's default for an unpinned symbolic dim).
    x = np.random.default_rng(1).standard_normal((1, 3, 4)).astype(np.float32)
    outs = chain_expected(x)
    vis = [H.make_tensor_value_info(n, NP2TP[a.dtype], a.shape) for n, a in outs]
    model, feeds = build("chain_fold", nodes, [], vis, 15, inits)
    model.graph.input.extend([H.make_tensor_value_info("x", TP.FLOAT, ["N", 3, 4])])
    onnx.checker.check_model(model, full_check=True)
    w.save_golden("chain_fold", model, [("x", x)], outs)
    w.names.add("chain_fold")
    w.manifest.append("shape/chain_fold\tShape,Gather,Unsqueeze,Concat,Reshape,NonZero,Range\t15\tnumpy")
    # For test_shape_errors.c: the same graph with undeclared outputs, pinned with N=5 there; the
    # expected outputs for N=5 are fold_chain.output_K.pb.
    vis = [H.make_tensor_value_info(n, TP.UNDEFINED, None) for n, _ in outs]
    model, _ = build("fold_chain", nodes, [], vis, 15, inits)
    model.graph.input.extend([H.make_tensor_value_info("x", TP.FLOAT, ["N", 3, 4])])
    x5 = np.random.default_rng(1).standard_normal((5, 3, 4)).astype(np.float32)
    w.save_error("fold_chain", model, [("x", x5)])
    for k, (n, a) in enumerate(chain_expected(x5)):
        write_pb(os.path.join(ERRORS, f"fold_chain.output_{k}.pb"), n, a)


def error_cases(w):
    """Each must fail with the message and status listed in test_shape_errors.c. Inputs with init=1 are
    initializers, so the failure comes from import-time inference/folding; otherwise at run time."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    x5 = np.arange(60, dtype=np.int64).reshape(3, 4, 5)
    xr = np.arange(24, dtype=np.float32).reshape(4, 3, 2)
    ge_i = np.array([[[0, 1], [2, 0]], [[1, 1], [0, 2]]], np.int64)
    upd = np.ones((2, 2, 2), np.float32)
    e = w.error
    e("squeeze_bad", "Squeeze", [("x", x, 0), ("a", I(1), 1)])
    e("unsqueeze_dup", "Unsqueeze", [("x", x, 0), ("a", I(1, 1), 1)])
    e("split_uneven", "Split", [("x", x, 0)], {"axis": 1}, out_names=["a", "b"])
    e("split_toomany", "Split", [("x", x, 0), ("s", I(1, 1, 0), 1)], {"axis": 0}, out_names=["a", "b"])
    e("slice_zerostep", "Slice", [("x", x5, 0), ("s", I(0), 1), ("e", I(5), 1), ("a", I(-1), 1), ("st", I(0), 1)])
    e("slice_zerostep_run", "Slice", [("x", x5, 0), ("s", I(0), 0), ("e", I(5), 0), ("a", I(-1), 0),
                                      ("st", I(0), 0)])
    e("reshape_bad", "Reshape", [("x", x, 0), ("s", I(5, -1), 1)])
    e("reshape_bad_run", "Reshape", [("x", x, 0), ("s", I(5, -1), 0)])
    e("transpose_bad", "Transpose", [("x", x, 0)], {"perm": [0, 0, 1]})
    e("gather_oob", "Gather", [("x", x, 0), ("i", I(3), 0)], {"axis": 1})
    e("gather_oob_fold", "Gather", [("x", x, 1), ("i", I(-4), 1)], {"axis": 1})
    e("scatter_elems_oob", "ScatterElements", [("x", x, 0), ("i", ge_i + 5, 0), ("u", upd, 0)], {"axis": 1})
    e("range_huge", "Range", [("s", np.array(0, np.int64), 1), ("l", np.array(2**62, np.int64), 1),
                              ("d", np.array(1, np.int64), 1)])
    e("cos_huge", "ConstantOfShape", [("s", I(2**40, 2**40), 1)], opset=9)
    e("compress_bad", "Compress", [("x", x5, 0), ("c", np.array([0, 0, 0, 1], np.bool_), 0)], {"axis": 0}, 11)
    e("revseq_bad", "ReverseSequence", [("x", xr, 0), ("l", I(5, 1, 1), 0)], {"time_axis": 0, "batch_axis": 1}, 10)
    e("const_string", "Constant", [], {"value_string": "hi"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clean", action="store_true", help="remove the output folders first")
    args = ap.parse_args()
    if args.clean:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.rmtree(ERRORS, ignore_errors=True)
    w = Writer()
    golden_cases(w)
    chain_cases(w)
    error_cases(w)
    with open(os.path.join(GOLDEN, "manifest.txt"), "w") as f:
        f.write("# case\top\topset\treference (written by make_golden_shape.py)\n")
        f.write("".join(line + "\n" for line in sorted(w.manifest)))
    print(f"{len(w.manifest)} golden cases in {os.path.relpath(GOLDEN)}, "
          f"{len(w.errors)} models in {os.path.relpath(ERRORS)}")


if __name__ == "__main__":
    main()
