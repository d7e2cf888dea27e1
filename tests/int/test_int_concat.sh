#!/bin/sh
# test_int_concat.sh: Concat of codes at different scales through the integer lowering (QRequant, docs/
# INTEGER.md "Residual Add and Concat"). Small models in the fine-tuning export's form, made here
# by onnx (tests/int/qmodel.py): two 3x3 convolutions on the input, each ending in the activation quantizer
# (Div/Add(0.5)/Floor/Clip(0, m-1)/Mul) with its own step and state count, Concat of the two code tensors,
# then convolutions to 10 logits.
#   A: steps 0.3 (4 states) and 0.17 (8 states): the common step is the finer, 0.17; the first input is
#      requantized (codes 0..3 -> 0, 2, 4, 5). Concat feeds a convolution over the whole 8x8 plane (the
#      logits), so the requantization's error bounds the logits' exactly: |logit - float logit| <= sum of
#      |w| x the largest |requantized value - value| of its input channel.
#   B: steps 0.3 (4 states) and 0.0019 (256 states; no code within 0.006 of a rounding tie): the finer
#      step would take codes above 255, so the common step is 0.9 / 255 and both inputs are requantized;
#      Concat feeds a 3x3 convolution on a ternary grid with its quantizer (a packed QLayer on the requantized codes), then the logits.
# For each: the tables in the exported ONNX equal round-half-away(c s_i / s) computed here by numpy with
# the documented choice of s; onnxruntime on a float model with the requantization written as float ops
# (Div(s) Add(0.5) Floor Mul(s) after the branch) gives our integer program's class on all 300 random
# images and logits within 1e-4; onnxruntime on the float model itself: A within the error bound above,
# the class agreement printed for both (the requantization is a real rounding: a few flips of images
# whose top-2 logits are that close);
# onnxruntime on the exported integer ONNX gives our logits bit for bit, and so does B's emitted C. (Concat of
# window or plane sums at different scales: test_int_concat_sums.sh.)
# Usage: test_int_concat.sh MAQDC SOURCE_DIR WORK_DIR
set -eu
MAQDC=$1 SRC=$2 W=$3
rm -rf "$W" && mkdir -p "$W" && cd "$W"
PYTHONPATH="$SRC/tests/int" /usr/bin/python3 - <<'PY'
import json
import numpy as np
import onnx
from qmodel import Builder, save_images, ternary

rng = np.random.default_rng(7)
N = 300
def make(name, steps, states, head, requant_float):
    b = Builder()
    # the documented common step: the finest, unless a code would exceed 255; then the largest value / 255
    s_i = [float(np.float32(d)) for d in steps]
    top = max((m - 1) * s for s, m in zip(s_i, states))
    s = min(s_i)
    if np.floor(top / s + 0.5) > 255:
        s = top / 255
    chans, outs, tables, errs = [3, 2], [], [], []
    for k, (d, m, c) in enumerate(zip(steps, states, chans)):
        br = "b%d" % k
        b.conv("x", br + "conv", rng.normal(0, 0.6, (c, 1, 3, 3)), rng.normal(0.3, 0.3, c), pads=[1, 1, 1, 1])
        q = b.quant(br + "conv", br + "q", d, m)
        if abs(s_i[k] - s) > 1e-9 * s:
            codes = np.arange(m, dtype=np.float64)
            t = np.floor(codes * s_i[k] / s + 0.5)
            tables.append(t.astype(np.uint8).tolist())
            errs += [float(np.abs(t * s - codes * s_i[k]).max())] * c
            if requant_float:  # the same rounding written in float ops
                q = b.quant(q, br + "r", s, 256)
        else:
            errs += [0.0] * c
        outs.append(q)
    feat = b.node("Concat", outs, "cat", name="cat", axis=1)
    if head == "quantized":
        b.conv(feat, "hc", ternary(rng, 4, 5, 3), rng.normal(0, 0.2, 4), pads=[1, 1, 1, 1])
        feat = b.quant("hc", "hq", 0.25, 4)
    fw = rng.normal(0, 0.1, (10, 5 if head == "plain" else 4, 8, 8))
    b.conv(feat, "logits", fw, rng.normal(0, 0.1, 10))
    mo = b.model(name, [N, 1, 8, 8], "logits", [N, 10, 1, 1])
    # the logits' error bound: sum over the logit conv's inputs of |w| x the channel's largest error
    bound = (np.abs(fw) * np.array(errs)[None, :, None, None]).sum(axis=(1, 2, 3)) if head == "plain" else None
    return mo, tables, bound
info = {}
for name, steps, states, head in (("a", (0.3, 0.17), (4, 8), "plain"), ("b", (0.3, 0.0019), (4, 256), "quantized")):
    state = rng.bit_generator.state
    mo, tables, bound = make(name, steps, states, head, False)
    rng.bit_generator.state = state  # the same weights for the reference
    ref, _, _ = make(name, steps, states, head, True)
    onnx.save(mo, name + ".onnx")
    onnx.save(ref, name + "_ref.onnx")
    info[name] = {"tables": tables, "bound": None if bound is None else bound.tolist()}
json.dump(info, open("info.json", "w"))
save_images(rng, N)
PY
. "$SRC/tests/int/variants.sh"
for v in a b; do int_variant $v 300; done
int_emitted_c b # the emitted C of B (QRequant in C) gives the runtime's logits bit for bit
grep -q "1 Concat inputs requantized" a_info.txt
grep -q "2 Concat inputs requantized" b_info.txt
PYTHONPATH="$SRC/tests/int" /usr/bin/python3 - <<'PY'
import json
import sys
import numpy as np
import onnx
from qmodel import agreement, initializers
info = json.load(open("info.json"))
ok = True
for v in ("a", "b"):
    same_ref, diff_ref, same, diff, exact = agreement(v, 300, 10)
    # the requantization tables in the exported graph: the Gathers' constant data
    q = onnx.load(v + "_q.onnx")
    consts = initializers(v + "_q.onnx")
    got = sorted(consts[n.input[0]].tolist() for n in q.graph.node if n.op_type == "Gather" and n.input[0] in consts)
    tables = got == sorted(info[v]["tables"])
    line = ("%s: tables %s (%s); vs onnxruntime float with the requantization in float: same class %d / 300, max "
            "|logit diff| %.2e; vs onnxruntime float: same class %d / 300, max |logit diff| %.3f; onnxruntime "
            "on the integer ONNX: bit for bit %s" % (v, "as computed" if tables else "DIFFER", ["%d entries: %s%s" % (len(t), t[:6], "..." if len(t) > 6 else "") for t in got], same_ref,
                                                     diff_ref, same, diff.max(), exact))
    good = tables and same_ref == 300 and diff_ref < 1e-4 and exact
    if info[v]["bound"] is not None:
        bound = np.array(info[v]["bound"])
        within = bool((diff <= bound[None, :] + 1e-4).all())
        line += "; worst-case error bound per logit %.3f..%.3f: within %s" % (bound.min(), bound.max(), within)
        good = good and within
    print(line)
    ok = ok and good
sys.exit(0 if ok else 1)
PY
echo "Concat of codes at different scales: ok"
