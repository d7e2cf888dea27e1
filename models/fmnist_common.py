# Shared Fashion-MNIST helpers for the model-training scripts in models/:
# IDX loading (gzip + numpy), a deterministic train loop, evaluation and ONNX export with BN kept.
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx_tidy

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN = 0.2860
STD = 0.3530
SEED = 0


def read_idx(path):
    """Read a (gzipped) IDX file into a numpy array (uint8 payload)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    payload = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    count = int(np.prod(dims))
    if payload.size != count:
        raise ValueError("%s: size mismatch" % path)
    return payload.reshape(dims)


def normalize(images_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28], (x/255 - MEAN)/STD."""
    x = images_u8.astype(np.float32) / 255.0
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32)


def load_split(split):
    prefix = "train" if split == "train" else "t10k"
    imgs = read_idx(os.path.join(DATA_DIR, prefix + "-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, prefix + "-labels-idx1-ubyte.gz"))
    return normalize(imgs), labels.astype(np.int64)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(x[i:i + batch])
            pred = model(xb).argmax(dim=1).numpy()
            correct += int((pred == y[i:i + batch]).sum())
    return correct / len(x)


def train(model, epochs, batch=128, max_lr=3e-3, weight_decay=5e-4, log=print):
    """Adam + one-cycle LR, random horizontal flips; deterministic for a fixed seed."""
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    rng = np.random.default_rng(SEED)
    xtr, ytr = load_split("train")
    xte, yte = load_split("test")
    n = len(xtr)
    steps = (n + batch - 1) // batch
    opt = torch.optim.AdamW(model.parameters(), lr=max_lr / 25, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, epochs=epochs,
                                                steps_per_epoch=steps)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = rng.permutation(n)
        tot_loss = 0.0
        te = time.time()
        for s in range(steps):
            idx = perm[s * batch:(s + 1) * batch]
            xb = xtr[idx].copy()
            flip = rng.random(len(idx)) < 0.5
            xb[flip] = xb[flip][:, :, :, ::-1]
            xb = torch.from_numpy(np.ascontiguousarray(xb))
            yb = torch.from_numpy(ytr[idx])
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += float(loss) * len(idx)
        acc = evaluate(model, xte, yte)
        log("epoch %d/%d loss %.4f test_acc %.4f (%.1f s)" %
            (ep + 1, epochs, tot_loss / n, acc, time.time() - te))
        sys.stdout.flush()
    seconds = time.time() - t0
    acc = evaluate(model, xte, yte)
    return acc, seconds


def export_onnx(model, path):
    """Export in inference mode, keeping BatchNormalization nodes (no Conv+BN fusion)."""
    import onnx
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    # TrainingMode.EVAL runs the eval peephole pass that folds BN into Conv; PRESERVE with the
    # model in eval mode exports plain inference-mode BatchNormalization nodes instead.
    torch.onnx.export(model, dummy, path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    # the exporter may re-create equal-valued parameters with Identity nodes; inline them
    onnx_tidy.inline_identity_initializers(path)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    bns = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
    if not bns:
        raise RuntimeError("export lost the BatchNormalization nodes")
    for n in bns:
        if len(n.output) != 1:
            raise RuntimeError("BatchNormalization %s has training-mode outputs" % n.name)
        for a in n.attribute:
            if a.name == "training_mode" and a.i != 0:
                raise RuntimeError("BatchNormalization %s has training_mode=1" % n.name)
    if [i.name for i in m.graph.input] != ["input"] and m.graph.input[0].name != "input":
        raise RuntimeError("unexpected graph inputs")
    return m


def check_onnx_matches(model, path, log=print):
    """Compare the exported graph against PyTorch using onnx.reference if available."""
    xte, _ = load_split("test")
    x = xte[:8]
    model.eval()
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    try:
        from onnx.reference import ReferenceEvaluator  # onnx >= 1.13
    except ImportError:
        log("onnx.reference not available; skipped ONNX-vs-PyTorch check")
        return
    out = ReferenceEvaluator(path).run(None, {"input": x})[0]
    err = np.linalg.norm(out - ref) / np.linalg.norm(ref)
    log("onnx reference vs torch rel L2 %.3g" % err)


def finish(model, name, epochs, acc, seconds, log=print):
    here = os.path.dirname(os.path.abspath(__file__))
    onnx_path = os.path.join(here, name + ".onnx")
    m = export_onnx(model, onnx_path)
    ops = sorted(set(n.op_type for n in m.graph.node))
    log("exported %s (%d bytes), ops: %s" % (onnx_path, os.path.getsize(onnx_path), ", ".join(ops)))
    check_onnx_matches(model, onnx_path, log)
    info = {"test_accuracy": round(acc, 4), "epochs": epochs, "seconds": round(seconds, 1),
            "params": count_params(model)}
    with open(os.path.join(here, name + ".json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    torch.save(model.state_dict(), os.path.join(here, name + ".pt")) if os.environ.get(
        "SAVE_PT") else None
    log("test accuracy %.4f (%d epochs, %.1f s, %d params)" %
        (acc, epochs, seconds, info["params"]))
