#!/bin/sh
# test_emit_errors.sh: what `maqdc MODEL -o OUT.c` says when it cannot emit: a node without a runtime
# kernel is named with its op and the reason; bad options are refused; nothing is left behind.
# Usage: test_emit_errors.sh MAQDC WORK_DIR
set -u
MAQDC=$1 W=$2 SRC=$(cd "$(dirname "$0")/../.." && pwd)
D=/usr/share/libonnx-testdata/data/node
rm -rf "$W" && mkdir -p "$W" && cd "$W"
fail=0
expect() { # expect EXIT PATTERN -- command...
    want=$1 pat=$2
    shift 3
    "$@" >out.txt 2>err.txt
    rc=$?
    if [ $rc -ne "$want" ] || ! grep -qE "$pat" err.txt; then
        echo "FAIL: $* -> exit $rc (want $want), stderr:"; cat err.txt; fail=1
    else
        echo "ok: $*: $(head -2 err.txt | tr '\n' ' ')"
    fi
}
# NonZero's output shape depends on the data: a graph output may have it (planned at its bound), but a
# node reading it has no static program, so no C; the reading node is named
expect 1 "node 'transpose' \(Transpose\): input 'nz' has a data-dependent shape" -- \
    "$MAQDC" "$SRC"/tests/data/mqd/dyn_consumed.onnx -o nz.c
[ ! -e nz.c ] && [ ! -e nz.h ] && [ ! -e nz.c.tmp ] || { echo "FAIL: files left behind"; fail=1; }
"$MAQDC" $D/test_nonzero_example/model.onnx -o nz.c >/dev/null || { echo "FAIL: NonZero to a graph output"; fail=1; }
grep -q 'int nz_run(const uint8_t \*in0, int64_t \*out0, int32_t \*out0_dims);' nz.h &&
    grep -q '#define NZ_OUT0_BOUNDED 1' nz.h || { echo "FAIL: the bounded output's API"; fail=1; }
expect 1 "prefix '1abc' is not a C identifier" -- "$MAQDC" $D/test_relu/model.onnx -o r.c --prefix 1abc
expect 2 "apply to C output" -- "$MAQDC" $D/test_relu/model.onnx -o r.mqd --main
expect 2 "unknown output kind" -- "$MAQDC" $D/test_relu/model.onnx -o r.txt
# the default prefix comes from the file name, made a C identifier
"$MAQDC" $D/test_relu/model.onnx -o 3-relu.net.c >/dev/null || fail=1
grep -q 'int m_3_relu_net_run(const float \*in0, float \*out0);' 3-relu.net.h || { echo "FAIL: default prefix"; fail=1; }
exit $fail
