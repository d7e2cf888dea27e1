#!/usr/bin/env bash
# demo.sh: installs what is missing, builds maqdc, and runs the main job on the bundled example model
# (models/fashion_cnn.onnx, a Fashion-MNIST CNN): inspect it, run it with the reference executor,
# compile it to portable C and to a packed binary, run both, and print the predicted classes.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
MAQD_WITH_TORCH=0 "$here/scripts/setup-debian.sh"
"$here/scripts/build.sh" "$here/build"
maqdc="$here/build/maqdc"
model="$here/models/fashion_cnn.onnx"
images="$here/models/data/fashion_test_8.npy"
labels="$here/models/data/fashion_test_8_labels.npy"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== maqdc info $model --shape batch=8"
"$maqdc" info "$model" --shape batch=8
echo
echo "== reference executor: maqdc run (8 Fashion-MNIST test images)"
"$maqdc" run "$model" --input "$images" --output-dir "$out/exec"
echo
echo "== compile to portable C and build it: maqdc $model -o fashion.c --main"
"$maqdc" "$model" --shape batch=8 -o "$out/fashion.c" --main
cc -std=c99 -O2 -Wall -Wextra -Werror -pedantic "$out/fashion.c" -lm -o "$out/fashion"
"$out/fashion" "$images" -o "$out/c"
echo
echo "== compile to a packed binary and run it on the bundled runtime"
"$maqdc" "$model" --shape batch=8 -o "$out/fashion.mqd"
"$maqdc" run "$out/fashion.mqd" --input "$images" --output-dir "$out/mqd"
echo
/usr/bin/python3 - "$out" "$labels" <<'PY'
import sys, numpy as np, onnx
from onnx import numpy_helper
out, labels = sys.argv[1], np.load(sys.argv[2])
def pb(p):
    t = onnx.TensorProto(); t.ParseFromString(open(p, "rb").read()); return numpy_helper.to_array(t)
ex, c, mqd = pb(out + "/exec/output_0.pb"), np.load(out + "/c/output_0.npy"), pb(out + "/mqd/output_0.pb")
names = ["T-shirt/top","Trouser","Pullover","Dress","Coat","Sandal","Shirt","Sneaker","Bag","Ankle boot"]
for i, l in enumerate(labels):
    print(f"image {i}: executor {names[ex[i].argmax()]:<12} C {names[c[i].argmax()]:<12} "
          f"runtime {names[mqd[i].argmax()]:<12} label {names[l]}")
print(f"correct: executor {(ex.argmax(1) == labels).sum()}/8, C {(c.argmax(1) == labels).sum()}/8, "
      f"runtime {(mqd.argmax(1) == labels).sum()}/8; C == runtime bit for bit: {np.array_equal(c, mqd)}; "
      f"max |C - executor| = {np.abs(c - ex).max():.2e}")
PY
