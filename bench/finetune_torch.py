# finetune_torch.py: the PyTorch peer of bench/finetune.sh: trains models/train_fashion_cnn.py's FashionCNN
# (weights loaded from the ONNX file) on one thread with SGD (momentum 0.9, weight decay 5e-4), the batch
# and learning rate given, over the images of an .npy file; prints "images_per_s=X cpu_images_per_s=Y ..."
# (wall clock and process CPU time of the timed steps).
import argparse
import os
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "models"))
from train_fashion_cnn import FashionCNN  # noqa: E402


def load_onnx_weights(model, path):
    """Copy the ONNX initializers into the module by name (the export keeps the state_dict names)."""
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    sd = model.state_dict()
    hit = 0
    for k, v in sd.items():
        if k in inits and tuple(inits[k].shape) == tuple(v.shape):
            sd[k] = torch.from_numpy(inits[k].copy())
            hit += 1
    model.load_state_dict(sd)
    return hit, len([k for k in sd if not k.endswith("num_batches_tracked")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = FashionCNN()
    hit, total = load_onnx_weights(model, args.model)
    x_u8 = np.load(args.images)
    y = torch.from_numpy(np.load(args.labels).astype(np.int64))
    # the same input normalization as maqdc's --scale 255 --mean 0.2860 --std 0.3530
    x = torch.from_numpy(((x_u8.astype(np.float32) / 255.0 - 0.2860) / 0.3530)[:, None, :, :].copy())
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    B = args.batch
    steps = x.shape[0] // B
    g = torch.Generator().manual_seed(0)

    def step(idx):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()

    perm = torch.randperm(x.shape[0], generator=g)
    for s in range(min(args.warmup, steps)):
        step(perm[s * B:(s + 1) * B])
    perm = torch.randperm(x.shape[0], generator=g)
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(steps):
        step(perm[s * B:(s + 1) * B])
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print("images_per_s=%.1f cpu_images_per_s=%.1f steps=%d weights_loaded=%d/%d torch=%s" % (
        steps * B / dt, steps * B / dc, steps, hit, total, torch.__version__))


if __name__ == "__main__":
    main()
