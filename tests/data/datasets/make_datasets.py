# make_datasets.py: writes the small image/label files of tests/data/datasets/ that test_data.c reads
# (IDX raw and gzip, NumPy .npy). Run: /usr/bin/python3 make_datasets.py (needs only numpy).
import gzip
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
N, H, W = 20, 7, 5  # H != W so a swapped height/width shows


def idx(arr):
    code = {np.uint8: 0x08}[arr.dtype.type]
    head = struct.pack(">BBBB", 0, 0, code, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return head + arr.tobytes()


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


rng = np.random.default_rng(20240517)
images = rng.integers(0, 256, size=(N, H, W), dtype=np.uint8)
labels = rng.integers(0, 10, size=(N,), dtype=np.uint8)

write("tiny-images-idx3-ubyte", idx(images))
write("tiny-labels-idx1-ubyte", idx(labels))
write("tiny-images-idx3-ubyte.gz", gzip.compress(idx(images), mtime=0))
write("tiny-labels-idx1-ubyte.gz", gzip.compress(idx(labels), mtime=0))
# two gzip members back to back (what `cat a.gz b.gz` gives): one file to gzip readers
raw = idx(images)
write("tiny-images-2members.gz", gzip.compress(raw[:100], mtime=0) + gzip.compress(raw[100:], mtime=0))
np.save(os.path.join(HERE, "tiny-images-u8.npy"), images)
np.save(os.path.join(HERE, "tiny-images-f32.npy"), (images.astype(np.float32) / np.float32(255)).reshape(N, 1, H, W))
np.save(os.path.join(HERE, "tiny-labels-i64.npy"), labels.astype(np.int64))
np.save(os.path.join(HERE, "tiny-labels-u8.npy"), labels)

# values hard-coded in test_data.c
print("labels", labels.tolist())
print("images[0,0,:]", images[0, 0, :].tolist())
print("images[19,6,:]", images[19, 6, :].tolist())
print("images[7,3,2]", int(images[7, 3, 2]), "sum", int(images.sum()))
