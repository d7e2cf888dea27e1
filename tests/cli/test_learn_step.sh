#!/bin/bash
# test_learn_step.sh: `maqdc finetune --learn-act-step --learn-weight-step` end to end on a small CNN: every
# learned step moves away from where it started (the calibrated activation steps of a run with no
# training, the MSE-optimal weight step 1.224006 of 3 states, per python3-onnx reading both exports), the
# weights stay ternary; the exported model gives onnxruntime's predictions under our executor; a learned
# step without quantizers is a clear error.
# usage: test_learn_step.sh PATH/TO/maqdc SOURCE_DIR     (needs python3-onnx and bench/ort/node_modules; ctest
# sets ASAN_OPTIONS/UBSAN_OPTIONS: a sanitizer report exits 86, a failed run)
set -u
[ $# -eq 2 ] || { echo "usage: $0 PATH/TO/maqdc SOURCE_DIR" >&2; exit 2; }
MAQDC=$(readlink -f "$1") SRC=$(readlink -f "$2")
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/maqdc-lstep.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
n_fail=0
fail() { echo "FAIL $*"; n_fail=$((n_fail + 1)); }
m=$SRC/tests/data/cli/small_cnn.onnx

"$PY" -c "
import numpy as np
r = np.random.default_rng(5)
np.save('simg.npy', r.random((512, 3, 8, 8), dtype=np.float32))
np.save('slab.npy', r.integers(0, 10, 512).astype(np.int64))
x = r.random((16, 3, 8, 8), dtype=np.float32)
np.save('x.npy', x)
for i in range(16): np.save(f'x{i}.npy', x[i:i + 1])" || { echo "FAIL cannot make the data"; exit 1; }
ARGS=(--train-images simg.npy --train-labels slab.npy --batch 8 --w-states 3 --a-states 4 --quant-first
      --calib-batches 2 --seed 7 --optimizer adamw --lr 0.01 --quiet)
"$MAQDC" finetune "$m" "${ARGS[@]}" --epochs 0 -o calibrated.onnx || fail "calibration-only run"
"$MAQDC" finetune "$m" "${ARGS[@]}" --epochs 1 --learn-act-step --learn-weight-step -o learned.onnx ||
    fail "run with learned steps"

"$PY" - <<'PYEOF' || fail "the steps did not move, or the weights are not ternary"
import numpy as np, onnx
from onnx import numpy_helper
def inits(f):
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(f).graph.initializer}
cal, lrn = inits('calibrated.onnx'), inits('learned.onnx')
aq = sorted(k for k in cal if k.endswith('/aq/delta'))
wq = sorted(k for k in lrn if k.endswith('.wq'))
assert len(aq) == 2 and len(wq) == 2, (aq, wq)
for k in aq:
    c, l = float(cal[k]), float(lrn[k])
    print(f"{k}: calibrated {c:.6f}, learned {l:.6f}")
    assert l > 0 and abs(l - c) > 1e-4 * c, k
for k in wq:
    levels = np.unique(np.abs(lrn[k][lrn[k] != 0]))
    assert len(levels) == 1, (k, levels) # ternary: 0 and +-step
    step = float(levels[0])
    print(f"{k}: weight step {step:.6f} (started at 1.224006)")
    assert abs(step - 1.224006) > 1e-4, k
PYEOF

for i in $(seq 0 15); do # the export keeps the model's batch of 1
    "$MAQDC" run learned.onnx --input x$i.npy --output-dir ours$i >/dev/null || fail "maqdc run of the export"
done
node "$SRC/bench/ort/ort_chunks.js" learned.onnx x.npy 1 ort.npy >/dev/null || fail "onnxruntime run of the export"
"$PY" - <<'PYEOF' || fail "onnxruntime and the executor disagree on the export"
import numpy as np, onnx
from onnx import numpy_helper
def pb(f):
    t = onnx.TensorProto()
    t.ParseFromString(open(f, 'rb').read())
    return numpy_helper.to_array(t)
a, b = np.concatenate([pb(f'ours{i}/output_0.pb') for i in range(16)]), np.load('ort.npy')
d = float(np.max(np.abs(a - b)))
print(f"executor vs onnxruntime on 16 inputs: {int((a.argmax(1) == b.argmax(1)).sum())}/16 same class, max |diff| {d:.2e}")
assert a.shape == b.shape == (16, 10) and (a.argmax(1) == b.argmax(1)).all() and d < 1e-3
PYEOF

"$MAQDC" finetune "$m" "${ARGS[@]}" --epochs 1 --no-quant --learn-act-step -o nq.onnx 2>err.txt
rc=$?
[ $rc -eq 1 ] || fail "--learn-act-step --no-quant: exit $rc (want 1)"
grep -q "needs the quantizers" err.txt || fail "--learn-act-step --no-quant: message: $(cat err.txt)"
[ -e nq.onnx ] && fail "--learn-act-step --no-quant wrote a model"

[ $n_fail -eq 0 ] && echo "learn_step: all checks passed"
exit $((n_fail > 0))
