#!/usr/bin/env bash
# test_real_models.sh MAQDC SRCDIR WORKDIR: the executor on real models against onnxruntime (npm
# onnxruntime-node, one thread): ResNet-18 and MobileNetV2 from the Debian torchvision (random seeded
# weights, BatchNorm calibrated on seeded noise; exported with BN folded and with BN kept) and the
# bundled Fashion-MNIST models. Each output must match within 1e-4 relative L2 error.
set -euo pipefail
maqdc="$1"; src="$2"; work="$3"
py=/usr/bin/python3
mkdir -p "$work"
fail=0

# Large exports are generated (never committed) and cached in the build tree.
if [ ! -f "$work/folded/resnet18.onnx" ] || [ ! -f "$work/folded/mobilenetv2.onnx" ]; then
  $py "$src/models/export_torchvision.py" "$work/folded" --calibrate-bn >/dev/null
fi
if [ ! -f "$work/bn/resnet18.onnx" ] || [ ! -f "$work/bn/mobilenetv2.onnx" ]; then
  $py "$src/models/export_torchvision.py" "$work/bn" --calibrate-bn --keep-bn >/dev/null
fi
$py "$src/tests/models/make_inputs.py" "$work/in" >/dev/null

check() { # name model input
  local name="$1" model="$2" input="$3"
  rm -rf "$work/ort_$name" "$work/mq_$name"
  node "$src/bench/ort/ort_run.js" "$model" "$work/ort_$name" "$input" >/dev/null
  "$maqdc" run "$model" --input "$input" --output-dir "$work/mq_$name" >/dev/null
  if out=$($py "$src/tests/models/compare.py" "$work/mq_$name" "$work/ort_$name" --tol 1e-4); then
    echo "PASS $name: $out"
  else
    echo "FAIL $name: $out"; fail=1
  fi
}

check resnet18_bnfolded   "$work/folded/resnet18.onnx"    "$work/in/resnet18_input.npy"
check mobilenetv2_bnfolded "$work/folded/mobilenetv2.onnx" "$work/in/mobilenetv2_input.npy"
check resnet18_bn         "$work/bn/resnet18.onnx"        "$work/in/resnet18_input.npy"
check mobilenetv2_bn      "$work/bn/mobilenetv2.onnx"     "$work/in/mobilenetv2_input.npy"
check fashion_cnn_b8      "$src/models/fashion_cnn.onnx"    "$work/in/fashion_input_8.npy"
check fashion_resnet_b8   "$src/models/fashion_resnet.onnx" "$work/in/fashion_input_8.npy"
check fashion_cnn_b1      "$src/models/fashion_cnn.onnx"    "$work/in/fashion_input_1.npy"
exit $fail
