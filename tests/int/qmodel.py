"""qmodel.py: small models in the form of the fine-tuning export (train/export.c) for the integer-lowering
tests in tests/int (test_int_pool.sh, test_int_residual.sh, test_int_concat.sh, test_int_concat_sums.sh):
float32 constants, the activation quantizer Div(delta) Add(0.5) Floor Clip(0, m-1) Mul(delta), convolutions,
and random 8-bit images saved as p.npy (uint8, the integer program's input) and x.npy (p / 255, the float
model's); and the reading of a variant's results (variants.sh)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP, helper as h, numpy_helper as nh


class Builder:
    """Nodes and initializers of one graph; every helper returns its output's name."""

    def __init__(self):
        self.init, self.nodes = [], []

    def const(self, name, a):
        self.init.append(nh.from_array(np.asarray(a, dtype=np.float32), name))
        return name

    def node(self, op, ins, out, **attrs):
        self.nodes.append(h.make_node(op, ins, [out], **attrs))
        return out

    def quant(self, x, name, delta, m):
        """The export's activation quantizer with step delta and m states."""
        d, half = self.const(name + "d", delta), self.const(name + "h", 0.5)
        lo, hi = self.const(name + "lo", 0.0), self.const(name + "hi", m - 1.0)
        self.node("Div", [x, d], name + "div")
        self.node("Add", [name + "div", half], name + "add")
        self.node("Floor", [name + "add"], name + "fl")
        self.node("Clip", [name + "fl", lo, hi], name + "cl")
        return self.node("Mul", [name + "cl", d], name)

    def requant(self, x, name, s):
        """Round half up to a multiple of s, in float ops: Div(s) Add(0.5) Floor Mul(s)."""
        d, half = self.const(name + "d", s), self.const(name + "h", 0.5)
        self.node("Div", [x, d], name + "div")
        self.node("Add", [name + "div", half], name + "add")
        self.node("Floor", [name + "add"], name + "fl")
        return self.node("Mul", [name + "fl", d], name)

    def conv(self, x, name, w, bias=None, **attrs):
        ins = [x, self.const(name + "w", w)] + ([self.const(name + "b", bias)] if bias is not None else [])
        return self.node("Conv", ins, name, **attrs)

    def model(self, name, x_shape, out, out_shape):
        """The checked model (opset 13, IR 8) of input x and output `out`."""
        g = h.make_graph(self.nodes, name, [h.make_tensor_value_info("x", TP.FLOAT, x_shape)],
                         [h.make_tensor_value_info(out, TP.FLOAT, out_shape)], self.init)
        m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def ternary(rng, o, i, k):
    """Per output channel a scale times codes in {-1, 0, 1} (weights on a quantized grid)."""
    return rng.integers(-1, 2, (o, i, k, k)) * rng.uniform(0.05, 0.3, (o, 1, 1, 1))


def save_images(rng, n, shape=(1, 8, 8)):
    """n random 8-bit images: p.npy (uint8) and x.npy (p / 255, float32)."""
    p = rng.integers(0, 256, (n,) + tuple(shape)).astype(np.uint8)
    np.save("p.npy", p)
    np.save("x.npy", (p / np.float32(255)).astype(np.float32))
    return p


def results(tag, n, k):
    """The [n, k] logits of variant tag (variants.sh int_variant): ours (the runtime), onnxruntime on the
    float model, on its reference, and on the exported integer ONNX."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    from compare import load
    return tuple(load(f).reshape(n, k) for f in (tag + "_ours/output_0.pb", tag + "_float.npy", tag + "_ref.npy",
                                                 tag + "_int.npy"))



def agreement(tag, n, k):
    """Variant tag's results (results above) compared: same class as onnxruntime on the reference model
    and the largest |logit diff| there, same class as onnxruntime on the float model and the |logit diff|
    array, and whether onnxruntime on the exported integer ONNX gives ours bit for bit."""
    ours, flt, ref, oi = results(tag, n, k)
    return (int((ours.argmax(1) == ref.argmax(1)).sum()), float(np.abs(ours - ref).max()),
            int((ours.argmax(1) == flt.argmax(1)).sum()), np.abs(ours - flt), bool((oi == ours).all()))

def initializers(path):
    """{name: array} of a model's initializers."""
    return {t.name: nh.to_array(t) for t in onnx.load(path).graph.initializer}
