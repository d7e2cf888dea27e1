#!/bin/sh
# test_int_errors.sh: `maqdc --int` refuses what has no integer form: a model that was not fine-tuned (a
# float ReLU after a layer) fails naming the node and writes nothing; bad normalization options are
# usage errors. Usage: test_int_errors.sh MAQDC SOURCE_DIR WORK_DIR
set -eu
MAQDC=$1 SRC=$2 W=$3
rm -rf "$W" && mkdir -p "$W" && cd "$W"
expect() { # expect CODE PATTERN CMD...: exit code CODE and PATTERN in stderr
    code=$1 pat=$2
    shift 2
    rc=0
    "$@" 2>err.txt >/dev/null || rc=$?
    [ "$rc" = "$code" ] || { echo "exit $rc (want $code): $*"; cat err.txt; exit 1; }
    grep -q "$pat" err.txt || { echo "no '$pat' in:"; cat err.txt; exit 1; }
}
expect 2 "unknown output kind" "$MAQDC" "$SRC/models/fashion_cnn.onnx" -o x.onnx # ONNX out: only with --int
[ ! -e x.onnx ] || { echo "x.onnx written without --int"; exit 1; }
for out in x.mqd x.c x.onnx; do
    expect 1 "node '/features/features.2/Relu' (Relu): no integer form" "$MAQDC" "$SRC/models/fashion_cnn.onnx" -o $out --int
    [ ! -e $out ] || { echo "$out written on failure"; exit 1; }
done
expect 1 "no integer form" "$MAQDC" "$SRC/models/fashion_resnet.onnx" -o x.mqd --int
expect 2 "needs a number" "$MAQDC" "$SRC/models/fashion_cnn.onnx" -o x.mqd --int --mean abc
expect 2 "needs a number > 0" "$MAQDC" "$SRC/models/fashion_cnn.onnx" -o x.mqd --int --std 0
expect 2 "needs a number > 0" "$MAQDC" "$SRC/models/fashion_cnn.onnx" -o x.mqd --int --scale -1
expect 1 "input mean" "$MAQDC" "$SRC/tests/data/int/fashion_cnn_w3a4_1ep.onnx" -o x.mqd --int --mean 200
echo "maqdc --int errors: ok"
