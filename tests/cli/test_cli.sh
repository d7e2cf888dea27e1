#!/bin/bash
# test_cli.sh: end-to-end tests of the maqdc command line: help and usage errors, `info` numbers checked
# by hand, `run` against ONNX conformance outputs (.pb and .npy inputs), one-line errors on bad input.
#
# usage: test_cli.sh PATH/TO/maqdc SOURCE_DIR     (VERBOSE=1 also lists the cases that pass)
# Exit 0 when every check passes. A sanitizer report (exit 86, set below) or a signal (exit >= 128) is
# always a failure, whatever the case expected. Needs /usr/share/libonnx-testdata and /usr/bin/python3
# with python3-onnx and numpy (only to convert inputs to .npy and to compare outputs).
#
# Error-message policy checked here: every bad-input case (unreadable, corrupt or inconsistent model,
# input file or output dir) prints exactly ONE line on stderr that starts with "maqdc: ", names the
# offending file (and the node and op when one is at fault), exits 1 and leaves no output file.
# Usage errors exit 2 and may print the usage text after the message. The unsupported-ops report is
# multi-line by design (one line per node, all of them at once): `info` prints the list on stdout
# and one summary line on stderr; `run` prints a header line naming the file and then one line per node
# on stderr.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 PATH/TO/maqdc SOURCE_DIR" >&2
    exit 2
fi
MAQDC=$(readlink -f "$1")
SRC=$(readlink -f "$2")
BAD=$SRC/tests/data/frontend     # models from tests/data/make_bad_models.py
CLI=$SRC/tests/data/cli          # CLI models and input files, same script
DATA=/usr/share/libonnx-testdata/data
PY=/usr/bin/python3

# Harmless without sanitizers; with them, a leak or UB report exits 86 (not 1, which is ours).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=86:print_stacktrace=1}

for need in "$MAQDC" "$BAD/good_add.onnx" "$CLI/small_cnn.onnx" "$DATA/node/test_less/model.onnx" "$PY"; do
    if [ ! -e "$need" ]; then
        echo "test_cli: missing $need" >&2
        exit 1
    fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/maqdc-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

n_pass=0
n_fail=0
case_name=""
case_ok=1

fail() {
    echo "FAIL [$case_name] $*"
    case_ok=0
}

begin() {
    case_name=$1
    case_ok=1
}

end() {
    if [ $case_ok = 1 ]; then
        n_pass=$((n_pass + 1))
        [ -z "${VERBOSE:-}" ] || echo "ok   [$case_name]"
    else
        n_fail=$((n_fail + 1))
        echo "  --- stdout:"; sed 's/^/  | /' "$T/out" | head -20
        echo "  --- stderr:"; sed 's/^/  | /' "$T/err" | head -20
    fi
}

# mq ARGS...: run maqdc, stdout in $T/out, stderr in $T/err, status in $RC. A sanitizer exit or a
# signal fails the case at once.
mq() {
    "$MAQDC" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    if [ $RC = 86 ]; then
        fail "sanitizer report (exit 86): maqdc $*"
    elif [ $RC -ge 128 ]; then
        fail "killed by signal $((RC - 128)): maqdc $*"
    fi
}

expect_rc() { [ "$RC" = "$1" ] || fail "exit status $RC, expected $1"; }
expect_out() { grep -qF -- "$1" "$T/out" || fail "stdout lacks '$1'"; }
expect_out_re() { grep -qE -- "$1" "$T/out" || fail "stdout lacks /$1/"; }
expect_err() { grep -qF -- "$1" "$T/err" || fail "stderr lacks '$1'"; }
expect_no_err() { [ ! -s "$T/err" ] || fail "stderr not empty"; }
expect_no_out() { [ ! -s "$T/out" ] || fail "stdout not empty"; }
expect_err_lines() {
    local n
    n=$(wc -l <"$T/err")
    [ "$n" = "$1" ] || fail "stderr has $n line(s), expected $1"
}
# DIR holds nothing (or does not exist): no output, no temporary left behind
expect_empty_dir() {
    if [ -e "$1" ]; then
        [ -d "$1" ] || { fail "$1 is not a directory"; return; }
        [ -z "$(ls -A "$1")" ] || fail "$1 not empty: $(ls -A "$1" | tr '\n' ' ')"
    fi
}

# bad NAME "NEEDLE;NEEDLE..." ARGS...: a bad-input case of `run`: exit 1, one stderr line starting with
# "maqdc: " and holding every needle, nothing on stdout, and the (pre-created, empty) output dir
# $T/o_NAME still empty. ARGS are the run arguments without --output-dir.
bad() {
    local name=$1 needles=$2
    shift 2
    begin "run: $name"
    mkdir -p "$T/o_$name"
    mq run "$@" --output-dir "$T/o_$name"
    expect_rc 1
    expect_err_lines 1
    grep -q '^maqdc: ' "$T/err" || fail "stderr does not start with 'maqdc: '"
    local IFS=';'
    for nd in $needles; do expect_err "$nd"; done
    unset IFS
    expect_no_out
    expect_empty_dir "$T/o_$name"
    end
}

# bad_info NAME "NEEDLE;..." MODEL: same for `info` (exit 1, one stderr line, nothing on stdout)
bad_info() {
    local name=$1 needles=$2
    shift 2
    begin "info: $name"
    mq info "$@"
    expect_rc 1
    expect_err_lines 1
    local IFS=';'
    for nd in $needles; do expect_err "$nd"; done
    unset IFS
    expect_no_out
    end
}

# ------------------------------------------------------------------------------------------------
# help and usage errors
for args in "--help" "-h" "help" "info --help" "run --help" "info -h"; do
    begin "help: maqdc $args"
    # shellcheck disable=SC2086
    mq $args
    expect_rc 0
    expect_out "usage: maqdc"
    expect_no_err
    end
done
begin "help: run --help documents the options"
mq run --help
expect_out "--input"; expect_out "--output-dir"; expect_out "--shape"; expect_out ".npy"
end
begin "help: info --help documents --shape"
mq info --help
expect_out "usage: maqdc info"; expect_out "--shape"
end

usage_err() { # NAME NEEDLE ARGS...
    local name=$1 needle=$2
    shift 2
    begin "usage: $name"
    mq "$@"
    expect_rc 2
    expect_err "$needle"
    expect_no_out
    end
}
usage_err "no command" "usage: maqdc" # no arguments at all
usage_err "unknown command" "maqdc: unknown command 'frobnicate'" frobnicate x.onnx
usage_err "info unknown option" "unknown or incomplete option '--frob'" info --frob "$BAD/good_add.onnx"
usage_err "run unknown option" "unknown or incomplete option '--frob'" run "$BAD/good_add.onnx" --frob
usage_err "info missing model" "maqdc: no model given" info
usage_err "run missing model" "maqdc: no model given" run --output-dir "$T/never"
usage_err "run --input without a file" "unknown or incomplete option '--input'" run "$BAD/good_add.onnx" --input
usage_err "run without --output-dir" "--output-dir is required" run "$BAD/good_add.onnx" --input "$CLI/x_2x3_f4.npy"
usage_err "two models" "unexpected argument" info "$BAD/good_add.onnx" "$BAD/good_add.onnx"
usage_err "--input is not an info option" "unknown or incomplete option '--input'" info "$BAD/good_add.onnx" --input x.npy
[ ! -e "$T/never" ] || { begin "usage: no output dir created"; fail "$T/never was created"; end; }

# ------------------------------------------------------------------------------------------------
# info: numbers checked by hand
#
# node/test_conv_with_strides_padding: x 1x1x7x5, W 1x1x3x3 (an input, not an initializer: 0
# parameters), kernel 3x3, pads 1, strides 2, opset 11.
#   Ho = (7 + 1 + 1 - 3) / 2 + 1 = 4, Wo = (5 + 1 + 1 - 3) / 2 + 1 = 3  -> y 1x1x4x3
#   MACs = N*Cout*Ho*Wo * (Cin/group * kh * kw) = 1*1*4*3 * (1*3*3) = 12 * 9 = 108
begin "info: test_conv_with_strides_padding"
mq info "$DATA/node/test_conv_with_strides_padding/model.onnx"
expect_rc 0
expect_no_err
expect_out_re "^opsets: +ai\.onnx=11$"
expect_out_re "^  x +float32 +1x1x7x5$"
expect_out_re "^  W +float32 +1x1x3x3$"
expect_out_re "^  y +float32 +1x1x4x3$"
expect_out "ops (1 nodes):"
expect_out_re "^  Conv +1$"
expect_out "parameters: 0 (0 bytes)"
expect_out_re "^MACs: +108$"
end

# tests/data/cli/small_cnn.onnx (see make_bad_models.py), x 1x3x8x8:
#   conv1 w1 4x3x3x3 + b1 4, pads 1, stride 1: 8x8 stays -> 1x4x8x8;  MACs 4*8*8 * 3*3*3 = 256*27 = 6912
#   conv2 w2 8x4x3x3, no bias, pads 1, stride 2: (8+2-3)/2+1 = 4 -> 1x8x4x4; MACs 8*4*4 * 4*3*3 = 128*36 = 4608
#   Flatten -> 1x128; Gemm w3 10x128 (transB) + b3 10 -> 1x10;  MACs 1*10*128 = 1280
#   Relu and Flatten: 0 MACs.  Total MACs 6912 + 4608 + 1280 = 12800
#   parameters 108 + 4 + 288 + 1280 + 10 = 1690 float32 = 6760 bytes
#   histogram (first-appearance order): Conv 2, Relu 2, Flatten 1, Gemm 1 (6 nodes)
begin "info: small_cnn"
mq info "$CLI/small_cnn.onnx"
expect_rc 0
expect_no_err
expect_out_re "^opsets: +ai\.onnx=13$"
expect_out_re "^  x +float32 +1x3x8x8$"
expect_out_re "^  y +float32 +1x10$"
expect_out "ops (6 nodes):"
expect_out_re "^  Conv +2$"
expect_out_re "^  Relu +2$"
expect_out_re "^  Flatten +1$"
expect_out_re "^  Gemm +1$"
hist=$(sed -n '/^ops (/,/^$/p' "$T/out" | awk 'NF==2 {print $1}' | tr '\n' ' ')
[ "$hist" = "Conv Relu Flatten Gemm " ] || fail "histogram order '$hist'"
expect_out "parameters: 1690 (6760 bytes)"
expect_out_re "^MACs: +12800$"
end

# pytorch-converted/test_Conv2d_groups: x 2x4x6x5, W 6x2x3x2 (initializer), bias 6, group 2, opset 6.
#   Ho = 6 - 3 + 1 = 4, Wo = 5 - 2 + 1 = 4 -> 2x6x4x4
#   MACs = 2*6*4*4 * (4/2 * 3*2) = 192 * 12 = 2304; parameters 6*2*3*2 + 6 = 78 float32 = 312 bytes
begin "info: test_Conv2d_groups"
mq info "$DATA/pytorch-converted/test_Conv2d_groups/model.onnx"
expect_rc 0
expect_no_err
expect_out_re "^opsets: +ai\.onnx=6$"
expect_out_re "^  3 +float32 +2x6x4x4$"
expect_out "parameters: 78 (312 bytes)"
expect_out_re "^MACs: +2304$"
end

# symbolic dims: x is [batch, 3, n]; without pins they default to 1 with a note; pins apply
begin "info: symbolic dims default to 1 with a note"
mq info "$BAD/symbolic.onnx"
expect_rc 0
expect_out_re "^  x +float32 +1x3x1$"
expect_out "'batch'"
expect_out "'n'"
end
begin "info: --shape pins symbolic dims"
mq info "$BAD/symbolic.onnx" --shape batch=4 --shape=n=5
expect_rc 0
expect_no_err
expect_out_re "^  x +float32 +4x3x5$"
expect_out_re "^  y +float32 +4x3x5$"
end

# unsupported ops: all of them listed (stdout), one summary line on stderr, exit 1
begin "info: unsupported ops are all listed"
mq info "$BAD/unsupported.onnx"
expect_rc 1
expect_out "unsupported (2):"
expect_out_re "node 'foo1' \(Foo, domain 'com.example'\)"
expect_out_re "node 'nosuch1' \(NoSuchOp"
expect_err_lines 1
expect_err "unsupported.onnx"
end
begin "info: unsupported dtype in a Constant is listed"
mq info "$BAD/const_string.onnx"
expect_rc 1
expect_out "const_str"
expect_err_lines 1
end

bad_info "missing file" "$T/nope.onnx;No such file" "$T/nope.onnx"
bad_info "truncated model" "truncated.onnx" "$BAD/truncated.onnx"
bad_info "random bytes" "random.onnx" "$BAD/random.onnx"
bad_info "dangling name" "dangling.onnx;'add1';Add;'ghost'" "$BAD/dangling.onnx"
bad_info "cycle" "cycle.onnx;'add1';(Add);cycle" "$CLI/cycle.onnx"
bad_info "absurd initializer dims" "absurd_dims.onnx;'huge'" "$BAD/absurd_dims.onnx"
bad_info "a folder as model" "$CLI" "$CLI"

# ------------------------------------------------------------------------------------------------
# run on conformance tests, with the .pb inputs and with the same inputs as .npy
RUN_TESTS="node/test_conv_with_strides_padding pytorch-converted/test_Conv2d_groups node/test_top_k
node/test_less node/test_split_equal_parts_1d"

# convert every input_K.pb to $T/npy/<test>/input_K.npy (numpy writes the .npy files)
mkdir -p "$T/npy"
# shellcheck disable=SC2086
if ! "$PY" - "$DATA" "$T/npy" $RUN_TESTS <<'EOF'; then
import glob, os, sys
import numpy as np
import onnx
from onnx import numpy_helper
data, out, tests = sys.argv[1], sys.argv[2], sys.argv[3:]
for t in tests:
    d = os.path.join(out, os.path.basename(t))
    os.makedirs(d, exist_ok=True)
    for f in sorted(glob.glob(os.path.join(data, t, "test_data_set_0", "input_*.pb"))):
        a = numpy_helper.to_array(onnx.load_tensor(f))
        np.save(os.path.join(d, os.path.basename(f)[:-3] + ".npy"), a)
EOF
    echo "FAIL [run: .pb to .npy conversion]"
    n_fail=$((n_fail + 1))
fi

PAIRS=$T/pairs.txt # "expected actual" per line, compared at the end by one python call
: >"$PAIRS"
for t in $RUN_TESTS; do
    name=$(basename "$t")
    set0=$DATA/$t/test_data_set_0
    n_exp=$(ls "$set0"/output_*.pb | wc -l)
    for kind in pb npy; do
        begin "run: $name ($kind inputs)"
        args=()
        if [ $kind = pb ]; then
            for f in "$set0"/input_*.pb; do args+=(--input "$f"); done
        else
            for f in "$T/npy/$name"/input_*.npy; do args+=(--input "$f"); done
        fi
        out=$T/r_${kind}_$name
        mq run "$DATA/$t/model.onnx" "${args[@]}" --output-dir "$out"
        expect_rc 0
        expect_no_err
        got=$(ls -A "$out" 2>/dev/null | tr '\n' ' ')
        want=$(for ((k = 0; k < n_exp; k++)); do printf 'output_%d.pb ' $k; done)
        [ "$got" = "$want" ] || fail "output dir holds '$got', expected '$want'"
        expect_out "-> $out/output_0.pb"
        [ "$(grep -c -- " -> $out/output_" "$T/out")" = "$n_exp" ] || fail "stdout does not list $n_exp outputs"
        for ((k = 0; k < n_exp; k++)); do echo "$set0/output_$k.pb $out/output_$k.pb $name/$kind/$k" >>"$PAIRS"; done
        end
    done
done

# good_add.onnx: z = Relu(x + w), expected z computed by numpy in make_bad_models.py
for f in x_2x3_f4.npy x_2x3_f4.pb; do
    begin "run: good_add ($f)"
    mq run "$BAD/good_add.onnx" --input "$CLI/$f" --output-dir "$T/r_add_$f"
    expect_rc 0
    expect_no_err
    expect_out "z: float32 2x3 -> $T/r_add_$f/output_0.pb"
    echo "$CLI/good_add_z.pb $T/r_add_$f/output_0.pb good_add/$f" >>"$PAIRS"
    end
done

# an existing output dir is reused; outputs are replaced
begin "run: existing output dir, outputs replaced"
mkdir -p "$T/r_again"
echo stale >"$T/r_again/output_0.pb"
mq run "$BAD/good_add.onnx" --input "$CLI/x_2x3_f4.npy" --output-dir "$T/r_again"
expect_rc 0
[ "$(ls -A "$T/r_again")" = "output_0.pb" ] || fail "r_again holds $(ls -A "$T/r_again" | tr '\n' ' ')"
echo "$CLI/good_add_z.pb $T/r_again/output_0.pb good_add/again" >>"$PAIRS"
end

# every written output equals the expected one: same dtype and shape; floats within the ONNX backend
# test tolerances (rtol 1e-3, atol 1e-7), integers and bools exactly
begin "run: outputs equal the expected outputs"
if ! "$PY" - "$PAIRS" >"$T/out" 2>"$T/err" <<'EOF'; then
import sys
import numpy as np
import onnx
from onnx import numpy_helper
bad = 0
n = 0
for line in open(sys.argv[1]):
    exp_f, act_f, label = line.split()
    n += 1
    try:
        e = numpy_helper.to_array(onnx.load_tensor(exp_f))
        a = numpy_helper.to_array(onnx.load_tensor(act_f))
    except Exception as ex:
        print("%s: cannot load: %s" % (label, ex))
        bad += 1
        continue
    if e.dtype != a.dtype or e.shape != a.shape:
        print("%s: got %s %s, expected %s %s" % (label, a.dtype, a.shape, e.dtype, e.shape))
        bad += 1
    elif e.dtype.kind == "f":
        if not np.allclose(a, e, rtol=1e-3, atol=1e-7):
            print("%s: max abs diff %g" % (label, float(np.max(np.abs(a.astype(np.float64) - e)))))
            bad += 1
    elif not np.array_equal(a, e):
        print("%s: values differ" % label)
        bad += 1
print("%d of %d outputs match" % (n - bad, n))
sys.exit(1 if bad or n == 0 else 0)
EOF
    fail "comparison failed"
fi
[ "$(wc -l <"$PAIRS")" -ge 19 ] || fail "only $(wc -l <"$PAIRS") outputs compared"
end

# ------------------------------------------------------------------------------------------------
# bad input to `run`: one line, exit 1, file named, no output
X=$CLI/x_2x3_f4.npy
: >"$T/empty.onnx"
GOOD=$BAD/good_add.onnx
bad "truncated model" "truncated.onnx" "$BAD/truncated.onnx" --input "$X"
bad "random bytes" "random.onnx" "$BAD/random.onnx" --input "$X"
bad "missing model file" "$T/nope.onnx;No such file" "$T/nope.onnx" --input "$X"
bad "missing initializer" "dangling.onnx;node 'add1' (Add);'ghost'" "$BAD/dangling.onnx" --input "$X"
bad "graph output nobody makes" "dangling_output.onnx;'nowhere'" "$BAD/dangling_output.onnx" --input "$X"
bad "cycle" "cycle.onnx;node 'add1' (Add);cycle" "$CLI/cycle.onnx" --input "$X"
bad "initializer data too short" "bad_init_size.onnx;'w'" "$BAD/bad_init_size.onnx" --input "$X"
bad "rank too deep" "deep_rank.onnx;'deep'" "$BAD/deep_rank.onnx" --input "$X"
bad "external data escapes" "ext_escape.onnx;../secret.bin" "$BAD/ext_escape.onnx" --input "$X"
bad "dtype mismatch" "good_add.onnx;x_2x3_i8.npy;'x';int64;float32" "$GOOD" --input "$CLI/x_2x3_i8.npy"
bad "shape mismatch" "good_add.onnx;x_3x2_f4.npy;'x';3x2;2x3" "$GOOD" --input "$CLI/x_3x2_f4.npy"
bad "no --input" "good_add.onnx;1 input(s), 0 --input" "$GOOD"
bad "two --input for one" "good_add.onnx;1 input(s), 2 --input" "$GOOD" --input "$X" --input "$X"
bad "absurd initializer shape" "absurd_dims.onnx;'huge'" "$BAD/absurd_dims.onnx" --input "$X"
bad "absurd .npy shape" "absurd.npy;element count" "$GOOD" --input "$CLI/absurd.npy"
bad "absurd .pb shape" "absurd.pb;element count" "$GOOD" --input "$CLI/absurd.pb"
bad "absurd --shape pin" "symbolic.onnx;'x'" "$BAD/symbolic.onnx" --input "$X" --shape x=4611686018427387904x3x4
bad "unparsable --shape pin" "symbolic.onnx;99999999999999999999x3" "$BAD/symbolic.onnx" --input "$X" \
    --shape x=99999999999999999999x3
bad "--shape without =" "symbolic.onnx;'foo'" "$BAD/symbolic.onnx" --input "$X" --shape foo
bad "--shape of the wrong rank" "symbolic.onnx;'x=2x3';rank 3" "$BAD/symbolic.onnx" --input "$X" --shape x=2x3
bad "--shape of an unknown name" "symbolic.onnx;'nosuch'" "$BAD/symbolic.onnx" --input "$X" --shape nosuch=3
bad "empty model file" "$T/empty.onnx" "$T/empty.onnx" --input "$X"
bad "input is not a regular file" "/dev/null" "$GOOD" --input /dev/null
bad "truncated .npy" "truncated.npy" "$GOOD" --input "$CLI/truncated.npy"
bad "bad .npy header" "bad_header.npy" "$GOOD" --input "$CLI/bad_header.npy"
bad "truncated .pb" "truncated.pb" "$GOOD" --input "$CLI/truncated.pb"
bad "model as input file" "random.onnx" "$GOOD" --input "$BAD/random.onnx"
bad "missing input file" "$T/nope.npy;No such file" "$GOOD" --input "$T/nope.npy"

begin "run: unsupported ops are all listed"
mkdir -p "$T/o_unsup"
mq run "$BAD/unsupported.onnx" --input "$X" --output-dir "$T/o_unsup"
expect_rc 1
head -1 "$T/err" | grep -q "^maqdc: .*unsupported.onnx: 2 unsupported" || fail "first stderr line"
expect_err "node 'foo1' (Foo, domain 'com.example')"
expect_err "node 'nosuch1' (NoSuchOp"
expect_err_lines 3
expect_empty_dir "$T/o_unsup"
end

begin "run: output dir is a file"
: >"$T/afile"
mq run "$GOOD" --input "$X" --output-dir "$T/afile"
expect_rc 1
expect_err_lines 1
expect_err "$T/afile"
expect_err "not a directory"
if [ ! -f "$T/afile" ] || [ -s "$T/afile" ]; then fail "$T/afile changed"; fi
if compgen -G "$T/afile?*" >/dev/null; then fail "files left next to afile"; fi
end

begin "run: output dir whose parent is missing"
mq run "$GOOD" --input "$X" --output-dir "$T/no/such/dir"
expect_rc 1
expect_err_lines 1
expect_err "$T/no/such/dir: cannot create the output dir"
[ ! -e "$T/no" ] || fail "$T/no was created"
end

begin "run: failed run does not create the output dir"
mq run "$GOOD" --input "$CLI/x_3x2_f4.npy" --output-dir "$T/o_fresh"
expect_rc 1
[ ! -e "$T/o_fresh" ] || fail "$T/o_fresh was created"
end

# writing output_1.pb fails (a folder of that name is in the way): output_0.pb, already written, is
# removed again and no temporary is left
begin "run: a failed write removes the outputs already written"
mkdir -p "$T/o_partial/output_1.pb"
mq run "$DATA/node/test_top_k/model.onnx" --input "$DATA/node/test_top_k/test_data_set_0/input_0.pb" \
    --input "$DATA/node/test_top_k/test_data_set_0/input_1.pb" --output-dir "$T/o_partial"
expect_rc 1
expect_err_lines 1
expect_err "$T/o_partial/output_1.pb"
expect_no_out # outputs are listed on stdout only once all are written
[ "$(ls -A "$T/o_partial")" = "output_1.pb" ] || fail "o_partial holds $(ls -A "$T/o_partial" | tr '\n' ' ')"
end

echo "test_cli: $n_pass passed, $n_fail failed"
[ $n_fail = 0 ]
