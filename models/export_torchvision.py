# Exports torchvision resnet18 and mobilenet_v2 with random weights (seed 0, nothing downloaded) to
# OUTDIR/resnet18.onnx and OUTDIR/mobilenetv2.onnx (opset 13, input "input" [1,3,224,224]).
import argparse
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_tidy  # noqa: E402


def export(model, path, keep_bn):
    model.eval()
    x = torch.zeros(1, 3, 224, 224)
    if keep_bn:
        # PRESERVE + eval(): inference-mode BatchNormalization nodes stay separate from Conv
        kw = dict(do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    else:
        # default exporter behaviour: eval peephole folds BatchNorm into the preceding Conv
        kw = dict(do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["logits"], **kw)
    m = onnx_tidy.inline_identity_initializers(path)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("%s: %.1f MB, %d nodes: %s" % (path, os.path.getsize(path) / 1e6, len(m.graph.node),
                                          ", ".join("%s x%d" % kv for kv in sorted(ops.items()))))


def calibrate_bn(model, seed=1, batches=2, batch=4):
    """Give BatchNorm realistic running statistics from seeded random inputs. With torchvision's
    default init the BN layers are identities and mobilenet_v2 logits shrink to ~1e-9; calibrated BN
    keeps activations O(1), so BN and the later layers are actually exercised by comparisons."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch, 3, 224, 224, generator=g))
    model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--keep-bn", action="store_true",
                    help="keep BatchNormalization nodes (default: folded into Conv by the exporter)")
    ap.add_argument("--calibrate-bn", action="store_true",
                    help="set BN running stats from seeded random batches (default: init stats)")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.manual_seed(0)
    resnet = torchvision.models.resnet18(weights=None)
    torch.manual_seed(0)
    mobilenet = torchvision.models.mobilenet_v2(weights=None)
    if args.calibrate_bn:
        calibrate_bn(resnet)
        calibrate_bn(mobilenet)
    with torch.no_grad():
        export(resnet, os.path.join(args.outdir, "resnet18.onnx"), args.keep_bn)
        export(mobilenet, os.path.join(args.outdir, "mobilenetv2.onnx"), args.keep_bn)


if __name__ == "__main__":
    main()
