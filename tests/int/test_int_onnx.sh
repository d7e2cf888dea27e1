#!/bin/sh
# test_int_onnx.sh: the integer program exported as standard ONNX (`maqdc MODEL -o q.onnx --int`) run by
# onnxruntime (node, bench/ort) on the Fashion-MNIST test images (all 10,000 unless MAQD_INT_ONNX_LIMIT):
# its predicted class equals our integer program's (the runtime on the .mqd) on every image, and our
# executor runs the exported file with the runtime's logits bit for bit (first 100 images).
# Usage: test_int_onnx.sh MAQDC MODEL.onnx FMNIST_DIR SOURCE_DIR WORK_DIR
set -eu
MAQDC=$1 M=$2 DATA=$3 SRC=$4 W=$5
N=${MAQD_INT_ONNX_LIMIT:-10000} CHUNK=1000
NORM="--scale 255 --mean 0.2860 --std 0.3530"
rm -rf "$W" && mkdir -p "$W" && cd "$W"
# the images as uint8 [N, 1, 28, 28] chunks, read by numpy from the idx file
/usr/bin/python3 - "$DATA/t10k-images-idx3-ubyte.gz" "$N" "$CHUNK" <<'PY'
import gzip, sys
import numpy as np
raw = gzip.open(sys.argv[1]).read()
n, chunk = int(sys.argv[2]), int(sys.argv[3])
assert int.from_bytes(raw[:4], "big") == 2051 and int.from_bytes(raw[4:8], "big") >= n
x = np.frombuffer(raw, dtype=np.uint8, offset=16, count=n * 784).reshape(n, 1, 28, 28)
np.save("all.npy", x)
np.save("first100.npy", x[:100])
for k in range(0, n, chunk):
    np.save("chunk_%05d.npy" % k, x[k:k + chunk])
PY
"$MAQDC" "$M" -o q.onnx --int $NORM
B=$CHUNK; [ "$N" -lt "$B" ] && B=$N
"$MAQDC" "$M" -o int.mqd --int $NORM --shape batch=$B >/dev/null
for f in chunk_*.npy; do
    "$MAQDC" run int.mqd --input "$f" --output-dir "ours_${f%.npy}" >/dev/null
done
node "$SRC/bench/ort/ort_chunks.js" q.onnx all.npy 100 ort.npy
"$MAQDC" "$M" -o int100.mqd --int $NORM --shape batch=100 >/dev/null
"$MAQDC" run int100.mqd --input first100.npy --output-dir ours100 >/dev/null
"$MAQDC" run q.onnx --input first100.npy --output-dir exec100 --shape batch=100 >/dev/null
/usr/bin/python3 - "$SRC/tests/models" "$N" <<'PY'
import glob, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from compare import load
n = int(sys.argv[2])
ours = np.concatenate([load(d + "/output_0.pb") for d in sorted(glob.glob("ours_chunk_*"))])
ort = load("ort.npy")
assert ours.shape == (n, 10) and ort.shape == (n, 10), (ours.shape, ort.shape)
same = int((ours.argmax(1) == ort.argmax(1)).sum())
exact = int((ours == ort).all(1).sum())
print("onnxruntime on the exported ONNX: same class as the integer program on %d / %d images "
      "(logits bit for bit on %d)" % (same, n, exact))
ex, r = load("exec100/output_0.pb"), load("ours100/output_0.pb")
print("our executor on the exported ONNX: logits equal to the runtime's on %d / 100 images" % int((ex == r).all(1).sum()))
sys.exit(0 if same == n and (ex == r).all() else 1)
PY
