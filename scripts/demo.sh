#!/usr/bin/env bash
# demo.sh: installs what is missing, builds maqdc, and runs the main job on the bundled example model:
# inspect it, then run it on Fashion-MNIST test images and print the predicted classes.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
MAQD_WITH_TORCH=0 "$here/scripts/setup-debian.sh"
"$here/scripts/build.sh" "$here/build"
maqdc="$here/build/maqdc"
model="$here/models/fashion_cnn.onnx"
echo "== maqdc info $model"
"$maqdc" info "$model"
out="$(mktemp -d)"
echo
echo "== maqdc run $model (8 Fashion-MNIST test images)"
"$maqdc" run "$model" --shape batch=8 --input "$here/models/data/fashion_test_8.npy" --output-dir "$out"
/usr/bin/python3 - "$out/output_0.pb" "$here/models/data/fashion_test_8_labels.npy" <<'PY'
import sys, numpy as np, onnx
from onnx import numpy_helper
t = onnx.TensorProto(); t.ParseFromString(open(sys.argv[1], "rb").read())
logits = numpy_helper.to_array(t); labels = np.load(sys.argv[2])
names = ["T-shirt/top","Trouser","Pullover","Dress","Coat","Sandal","Shirt","Sneaker","Bag","Ankle boot"]
for i, (p, l) in enumerate(zip(logits.argmax(1), labels)):
    print(f"image {i}: predicted {names[p]:<12} label {names[l]}")
print(f"{(logits.argmax(1) == labels).sum()}/{len(labels)} correct")
PY
rm -rf "$out"
