#!/bin/bash
# test_const.sh: `maqdc MODEL --const NAME=FILE -o OUT.{mqd,c}` end to end: a model whose shape is a graph
# input cannot be compiled and the error names that input; frozen, it compiles to .mqd and to C without
# it, and both give ONNX's expected output; bad --const values are refused with a clear message and
# leave no output. Usage: test_const.sh MAQDC WORK_DIR. Needs libonnx-testdata, cc and python3-onnx.
set -u
MAQDC=$1 W=$2
D=/usr/share/libonnx-testdata/data
R=$D/node/test_reshape_reordered_all_dims   # inputs: data (float32 2x3x4), shape (int64 [3])
PY=/usr/bin/python3
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
fail=0
expect() { # expect EXIT PATTERN -- command...: exit status and a line of stderr (ERE)
    want=$1 pat=$2
    shift 3
    "$@" >out.txt 2>err.txt
    rc=$?
    if [ $rc -ne "$want" ] || ! grep -qE -- "$pat" err.txt; then
        echo "FAIL: $* -> exit $rc (want $want), stderr:"; cat err.txt; fail=1
    else
        echo "ok: $*: $(head -3 err.txt | tr '\n' ' ')"
    fi
}
none_left() { for f in "$@"; do [ ! -e "$f" ] || { echo "FAIL: $f left behind"; fail=1; }; done; }
# same_as_expected OUT.pb|OUT.npy: equal to the test's expected output (ONNX's data), exactly
same_as_expected() {
    $PY - "$1" "$R/test_data_set_0/output_0.pb" <<'PYEOF' || { echo "FAIL: $1 differs from ONNX's output"; fail=1; }
import sys, numpy as np, onnx
from onnx import numpy_helper
def load(p):
    if p.endswith('.npy'): return np.load(p)
    t = onnx.TensorProto(); t.ParseFromString(open(p, 'rb').read()); return numpy_helper.to_array(t)
got, want = load(sys.argv[1]), load(sys.argv[2])
sys.exit(0 if got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want) else 1)
PYEOF
}

# the shape is a graph input: no static program, and the error names exactly that input
expect 1 "shape-defining graph input\(s\), known only at run time: 'shape' \(freeze them with --const" -- \
    "$MAQDC" $R/model.onnx -o r.mqd
expect 1 "node '' \(Reshape\): output 'reshaped' has a shape known only at run time" -- "$MAQDC" $R/model.onnx -o r.mqd
none_left r.mqd

# frozen: .mqd with one input left; the runtime gives ONNX's output
"$MAQDC" $R/model.onnx --const shape=$R/test_data_set_0/input_1.pb -o r.mqd >out.txt 2>err.txt ||
    { echo "FAIL: --const compile"; cat err.txt; fail=1; }
"$MAQDC" run r.mqd --input $R/test_data_set_0/input_0.pb --output-dir o >out.txt 2>err.txt ||
    { echo "FAIL: run r.mqd"; cat err.txt; fail=1; }
same_as_expected o/output_0.pb
expect 1 "the model has 1 input\(s\), 2 --input given" -- \
    "$MAQDC" run r.mqd --input $R/test_data_set_0/input_0.pb --input $R/test_data_set_0/input_1.pb --output-dir o2

# frozen, as C with main(): the API has one input; built and run it gives ONNX's output too
$PY -c "
import numpy as np, onnx, sys
from onnx import numpy_helper
t = onnx.TensorProto(); t.ParseFromString(open('$R/test_data_set_0/input_0.pb', 'rb').read())
np.save('in0.npy', numpy_helper.to_array(t))
np.save('shape_npy.npy', np.array([4, 2, 3], dtype=np.int64))
np.save('shape_bad.npy', np.array([4, 6], dtype=np.int64))
np.save('shape_prod.npy', np.array([5, 5, 5], dtype=np.int64))" || fail=1
"$MAQDC" $R/model.onnx --const=shape=shape_npy.npy -o r.c --main >out.txt 2>err.txt ||
    { echo "FAIL: --const compile to C"; cat err.txt; fail=1; }
grep -q 'int r_run(const float \*in0, float \*out0);' r.h || { echo "FAIL: r_run should take one input"; fail=1; }
grep -q 'R_IN1' r.h && { echo "FAIL: the frozen input is still in r.h"; fail=1; }
cc -std=c99 -O1 -Wall -Wextra -Werror -pedantic -o r r.c -lm || { echo "FAIL: cc r.c"; fail=1; }
./r in0.npy -o co >out.txt 2>err.txt || { echo "FAIL: ./r"; cat err.txt; fail=1; }
same_as_expected co/output_0.npy

# bad --const values: refused, nothing written
expect 1 "--const nosuch: the model has no graph input called 'nosuch'" -- \
    "$MAQDC" $R/model.onnx --const nosuch=shape_npy.npy -o b1.mqd
expect 1 "--const reshaped: the model has no graph input called 'reshaped'" -- \
    "$MAQDC" $R/model.onnx --const reshaped=shape_npy.npy -o b2.mqd
expect 1 "--const 1: the model has no graph input called '1' \(it is an initializer: constant already\)" -- \
    "$MAQDC" $D/pytorch-converted/test_PReLU_1d/model.onnx --const 1=shape_npy.npy -o b3.mqd
expect 1 "--const shape: the value is float32, graph input 'shape' is int64" -- \
    "$MAQDC" $R/model.onnx --const shape=$R/test_data_set_0/input_0.pb -o b4.mqd
expect 1 "--const shape: the value has shape 2, graph input 'shape' is declared 3$" -- \
    "$MAQDC" $R/model.onnx --const shape=shape_bad.npy -o b5.mqd
# the right dtype and shape, but a value the node refuses: the node's own error
expect 1 "\(Reshape\): .*(5x5x5|125|24)" -- "$MAQDC" $R/model.onnx --const shape=shape_prod.npy -o b10.mqd
expect 1 "--const shape is given twice" -- \
    "$MAQDC" $R/model.onnx --const shape=shape_npy.npy --const shape=shape_npy.npy -o b6.mqd
expect 1 "--const nosuch.npy: " -- "$MAQDC" $R/model.onnx --const shape=nosuch.npy -o b7.mqd
expect 2 "--const 'shape': expected NAME=FILE" -- "$MAQDC" $R/model.onnx --const shape -o b8.mqd
expect 2 "--const '=x.npy': expected NAME=FILE" -- "$MAQDC" $R/model.onnx --const =x.npy -o b9.c
none_left b1.mqd b2.mqd b3.mqd b4.mqd b5.mqd b6.mqd b7.mqd b8.mqd b9.c b9.h b10.mqd

# control flow: a Loop's trip count is shape-defining (named); frozen (5), the body's own run-time shape
# (a Slice by the iteration number) folds in each copy of the unrolled loop, and the C gives ONNX's
# outputs; with a trip count beyond the unrolling limit (64) that shape is the reason left
L=$D/node/test_loop11
expect 1 "shape-defining graph input\(s\), known only at run time: 'trip_count'" -- "$MAQDC" $L/model.onnx -o l.c
none_left l.c l.h
"$MAQDC" $L/model.onnx --const trip_count=$L/test_data_set_0/input_0.pb -o l.c --main >out.txt 2>err.txt ||
    { echo "FAIL: compile test_loop11 with the trip count frozen"; cat err.txt; fail=1; }
cc -std=c99 -O1 -Wall -Wextra -Werror -pedantic -o l_prog l.c -lm || { echo "FAIL: cc l.c"; fail=1; }
$PY - "$L" <<'PYEOF' || fail=1
import sys, numpy as np, onnx
from onnx import numpy_helper
for k in (1, 2):
    np.save("l_in%d.npy" % k, numpy_helper.to_array(onnx.load_tensor(sys.argv[1] + "/test_data_set_0/input_%d.pb" % k)))
np.save("trip100.npy", np.array(100, np.int64))
PYEOF
./l_prog l_in1.npy l_in2.npy -o lo >/dev/null || { echo "FAIL: ./l_prog"; fail=1; }
$PY - "$L" <<'PYEOF' || { echo "FAIL: l.c differs from ONNX's outputs"; fail=1; }
import sys, numpy as np, onnx
from onnx import numpy_helper
for k in (0, 1):
    want = numpy_helper.to_array(onnx.load_tensor(sys.argv[1] + "/test_data_set_0/output_%d.pb" % k))
    got = np.load("lo/output_%d.npy" % k)
    sys.exit(1) if got.shape != want.shape or not np.array_equal(got, want) else None
PYEOF
expect 1 "\(Loop\): scan output 'scan_out' has a shape known only at run time" -- \
    "$MAQDC" $L/model.onnx --const trip_count=trip100.npy -o l100.c
none_left l100.c l100.h
# If as C: both branches compiled, the condition picks one at run time (ONNX's data: cond true -> then)
I=$D/node/test_if
"$MAQDC" $I/model.onnx -o if.c --main >out.txt 2>err.txt || { echo "FAIL: compile test_if"; cat err.txt; fail=1; }
grep -q '    if (\*(const unsigned char \*)(const void \*)(in0)) {' if.c || { echo "FAIL: no if in if.c"; fail=1; }
cc -std=c99 -O1 -Wall -Wextra -Werror -pedantic -o if_prog if.c -lm || { echo "FAIL: cc if.c"; fail=1; }
$PY -c "import numpy as np; np.save('t.npy', np.array(True)); np.save('f.npy', np.array(False))" || fail=1
./if_prog t.npy -o it >/dev/null && ./if_prog f.npy -o if_ >/dev/null || { echo "FAIL: ./if_prog"; fail=1; }
$PY -c "
import numpy as np, sys
t, f = np.load('it/output_0.npy'), np.load('if_/output_0.npy')
# test_if's model: then_branch gives [1, 2, 3, 4, 5], else_branch [5, 4, 3, 2, 1]
sys.exit(0 if t.tolist() == [1, 2, 3, 4, 5] and f.tolist() == [5, 4, 3, 2, 1] else 1)" ||
    { echo "FAIL: if.c picks the wrong branch"; fail=1; }

# `maqdc -o --help` prints the help (it is not an output file called --help)
for args in "-o --help" "$R/model.onnx -o -h"; do
    "$MAQDC" $args >out.txt 2>err.txt
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q -- "--const NAME=FILE" out.txt || [ -e ./--help ] || [ -e ./-h ]; then
        echo "FAIL: maqdc $args -> exit $rc"; cat err.txt; fail=1
    else
        echo "ok: maqdc $args prints the help"
    fi
done
exit $fail
