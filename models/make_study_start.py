# The common start of the LBN-vs-BatchNorm batch-size study (docs/RESULTS.md): the fashion_cnn
# architecture freshly initialized by PyTorch (torch.manual_seed(SEED)), exported with its
# BatchNormalization nodes kept (running mean 0, var 1, gamma 1, beta 0), plus a training subset: the
# first COUNT images of a seeded permutation of the 60,000 Fashion-MNIST training images, as gzipped
# IDX files. Usage: make_study_start.py OUTDIR [--seed S] [--count N]
# Writes OUTDIR/cnn_init.onnx, OUTDIR/train-subset-images-idx3-ubyte.gz, OUTDIR/train-subset-labels-idx1-ubyte.gz.
import argparse
import gzip
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_common as fc  # noqa: E402
from train_fashion_cnn import FashionCNN  # noqa: E402


def write_idx_gz(path, arr):
    tmp = path + ".tmp"
    with gzip.open(tmp, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, arr.ndim))
        f.write(struct.pack(">" + "I" * arr.ndim, *arr.shape))
        f.write(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=10000)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.manual_seed(args.seed)
    model = FashionCNN()
    fc.export_onnx(model, os.path.join(args.outdir, "cnn_init.onnx"))
    imgs = fc.read_idx(os.path.join(fc.DATA_DIR, "train-images-idx3-ubyte.gz"))
    labels = fc.read_idx(os.path.join(fc.DATA_DIR, "train-labels-idx1-ubyte.gz"))
    idx = np.random.default_rng(args.seed).permutation(len(imgs))[:args.count]
    write_idx_gz(os.path.join(args.outdir, "train-subset-images-idx3-ubyte.gz"), imgs[idx])
    write_idx_gz(os.path.join(args.outdir, "train-subset-labels-idx1-ubyte.gz"), labels[idx])
    print("wrote %s/cnn_init.onnx and a %d-image training subset (seed %d); class counts %s" %
          (args.outdir, args.count, args.seed, np.bincount(labels[idx], minlength=10).tolist()))


if __name__ == "__main__":
    main()
