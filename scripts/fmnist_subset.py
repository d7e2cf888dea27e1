#!/usr/bin/python3
"""fmnist_subset.py: the first N images and labels of a Fashion-MNIST split as gzipped IDX files, for a
short fine-tuning run (scripts/make-reports.sh, tests/report). Standard library only.

usage: fmnist_subset.py SPLIT N OUTDIR     (SPLIT: train or t10k; writes OUTDIR/SPLIT-{images,labels}-N.gz)
"""
import gzip
import struct
import sys

SRC = "/usr/share/datasets/fashion-mnist"


def subset(path, n, out):
    with gzip.open(path, "rb") as f:
        magic, count = struct.unpack(">II", f.read(8))
        ndim = magic & 0xFF
        dims = struct.unpack(">" + "I" * (ndim - 1), f.read(4 * (ndim - 1)))
        per = 1
        for d in dims:
            per *= d
        n = min(n, count)
        data = f.read(n * per)
    with gzip.open(out, "wb") as f:
        f.write(struct.pack(">II", magic, n) + struct.pack(">" + "I" * len(dims), *dims) + data)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("train", "t10k"):
        sys.exit(__doc__)
    split, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    for kind, width in (("images", "idx3"), ("labels", "idx1")):
        subset(f"{SRC}/{split}-{kind}-{width}-ubyte.gz", n, f"{out}/{split}-{kind}-{n}.gz")


main()
