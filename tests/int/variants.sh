# variants.sh: shell functions shared by tests/int/test_int_concat*.sh (sourced; MAQDC and SRC set, run
# in the work dir holding x.npy = p / 255 and p.npy = the uint8 images).
# int_variant V N: onnxruntime on the float model V.onnx and its reference V_ref.onnx (V_float.npy,
# V_ref.npy), our integer program V.mqd (--int --scale 255, its report in V_info.txt) run on the N
# images (V_ours/output_0.pb), and onnxruntime on its export as standard ONNX (V_int.npy).
int_variant() {
  node "$SRC/bench/ort/ort_chunks.js" "$1.onnx" x.npy "$2" "$1_float.npy"
  node "$SRC/bench/ort/ort_chunks.js" "$1_ref.onnx" x.npy "$2" "$1_ref.npy"
  "$MAQDC" "$1.onnx" -o "$1.mqd" --int --scale 255 | tee "$1_info.txt"
  "$MAQDC" run "$1.mqd" --input p.npy --output-dir "$1_ours" >/dev/null
  "$MAQDC" "$1.onnx" -o "$1_q.onnx" --int --scale 255 >/dev/null
  node "$SRC/bench/ort/ort_chunks.js" "$1_q.onnx" p.npy "$2" "$1_int.npy"
}
# int_emitted_c V: the emitted C of V (gcc -O2, -Werror) gives V_ours' logits bit for bit.
int_emitted_c() {
  "$MAQDC" "$1.onnx" -o "$1.c" --int --scale 255 --main >/dev/null
  gcc -std=c99 -O2 -Wall -Wextra -Werror -pedantic "$1.c" -o "$1_c" -lm
  "./$1_c" p.npy -o "$1_c_out" >/dev/null
  /usr/bin/python3 "$SRC/tests/emit/compare_npy.py" "$1_c_out/output_0.npy" "$1_ours/output_0.pb" 0
}
