# Writes deterministic input .npy files for the model tests (torchvision models: seeded standard
# normal; Fashion-MNIST models: first test images, normalized). Usage: make_inputs.py OUTDIR [--full]
import argparse
import gzip
import os
import struct

import numpy as np

FMNIST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
FMNIST_LABELS = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
MEAN = 0.2860
STD = 0.3530


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code != 0x08 or ndim != 3:
        raise SystemExit("%s: not a uint8 image IDX file" % path)
    dims = struct.unpack(">III", data[4:16])
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(dims)


def read_idx_labels(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code != 0x08 or ndim != 1:
        raise SystemExit("%s: not a uint8 label IDX file" % path)
    return np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64)


def fashion_inputs(count):
    imgs = read_idx_images(FMNIST)[:count].astype(np.float32) / np.float32(255.0)
    x = (imgs - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(x[:, None, :, :], dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--full", action="store_true",
                    help="also write all 10000 test images (31 MB) and their labels")
    args = ap.parse_args()
    out = args.outdir
    os.makedirs(out, exist_ok=True)
    files = {}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 224, 224), dtype=np.float32)
    files["resnet18_input.npy"] = x
    files["mobilenetv2_input.npy"] = x
    files["fashion_input_1.npy"] = fashion_inputs(1)
    files["fashion_input_8.npy"] = fashion_inputs(8)
    if args.full:
        files["fashion_test_10000.npy"] = fashion_inputs(10000)
        files["fashion_labels_10000.npy"] = read_idx_labels(FMNIST_LABELS)
    for name, arr in files.items():
        np.save(os.path.join(out, name), arr)
        print("%s %s %s" % (os.path.join(out, name), arr.dtype, list(arr.shape)))


if __name__ == "__main__":
    main()
