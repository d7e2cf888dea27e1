#!/usr/bin/env bash
# test_real_models_backends.sh MAQDC SRCDIR WORKDIR: both backends on real models against onnxruntime:
# ResNet-18 and MobileNetV2 (torchvision, seeded random weights, BN calibrated and folded/kept) and the
# Fashion-MNIST models, compiled to a packed .mqd (run by the runtime through `maqdc run`) and to C
# (`--main`, built with cc -O1, run); each output within 1e-4 relative L2 of onnxruntime, and the two
# backends bit for bit equal (they run the same kernels in the same order).
set -euo pipefail
maqdc="$1"; src="$2"; work="$3"
py=/usr/bin/python3
mkdir -p "$work"
fail=0
if [ ! -f "$work/folded/resnet18.onnx" ] || [ ! -f "$work/folded/mobilenetv2.onnx" ]; then
  $py "$src/models/export_torchvision.py" "$work/folded" --calibrate-bn >/dev/null
fi
if [ ! -f "$work/bn/mobilenetv2.onnx" ]; then
  $py "$src/models/export_torchvision.py" "$work/bn" --calibrate-bn --keep-bn >/dev/null
fi
$py "$src/tests/models/make_inputs.py" "$work/in" >/dev/null

check() { # name model input [shape pin]
  local name="$1" model="$2" input="$3" pin="${4:-}"
  local d="$work/$name"
  rm -rf "$d" && mkdir -p "$d"
  node "$src/bench/ort/ort_run.js" "$model" "$d/ort" "$input" >/dev/null
  "$maqdc" "$model" ${pin:+--shape $pin} -o "$d/m.mqd" >/dev/null
  "$maqdc" run "$d/m.mqd" --input "$input" --output-dir "$d/mqd" >/dev/null
  "$maqdc" "$model" ${pin:+--shape $pin} -o "$d/m.c" --main >/dev/null
  cc -std=c99 -O1 "$d/m.c" -lm -o "$d/m"
  "$d/m" "$input" -o "$d/c" >/dev/null
  local r1 r2 r3
  if r1=$($py "$src/tests/models/compare.py" "$d/mqd" "$d/ort" --tol 1e-4) &&
     r2=$($py "$src/tests/models/compare.py" "$d/c" "$d/ort" --tol 1e-4) &&
     r3=$($py "$src/tests/models/compare.py" "$d/c" "$d/mqd" --tol 0); then
    echo "PASS $name: mqd vs ort: ${r1##*rel_l2 } | c vs ort: ${r2##*rel_l2 } | c vs mqd: ${r3##*rel_l2 }"
  else
    echo "FAIL $name: ${r1:-} ${r2:-} ${r3:-}"; fail=1
  fi
  rm -f "$d/m.c" "$d/m" # large
}

check fashion_cnn_b8      "$src/models/fashion_cnn.onnx"    "$work/in/fashion_input_8.npy" batch=8
check fashion_resnet_b8   "$src/models/fashion_resnet.onnx" "$work/in/fashion_input_8.npy" batch=8
check mobilenetv2_bn      "$work/bn/mobilenetv2.onnx"      "$work/in/mobilenetv2_input.npy"
check mobilenetv2_bnfolded "$work/folded/mobilenetv2.onnx" "$work/in/mobilenetv2_input.npy"
check resnet18_bnfolded   "$work/folded/resnet18.onnx"     "$work/in/resnet18_input.npy"
exit $fail
