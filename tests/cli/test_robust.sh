#!/bin/bash
# test_robust.sh: maqdc under faults and limits (docs/ROBUSTNESS.md):
#   limits   each --max-* flag triggers with one clear error line and exit 1; a bad value exits 2
#   kill     `maqdc MODEL -o OUT.mqd|OUT.c` killed with SIGKILL at random moments: OUT (and OUT.h) is
#            always either the old file byte for byte or the complete new one, never partial
#   resume   `maqdc finetune --checkpoint DIR --resume` killed with SIGKILL at random moments and
#            restarted until it finishes: the model it writes equals, byte for byte, the one of an
#            uninterrupted run with the same seed
#   resume_step  the same with the quantizers' steps learned (--learn-act-step --learn-weight-step)
#   nan      a huge --lr makes the loss NaN/Inf: the run stops with a message naming the step and
#            suggesting a lower learning rate, writes no model, and the last good checkpoint is kept
# usage: test_robust.sh PATH/TO/maqdc SOURCE_DIR [limits|kill|resume|resume_step|nan ...]   (default: all)
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 PATH/TO/maqdc SOURCE_DIR [parts...]" >&2
    exit 2
fi
MAQDC=$(readlink -f "$1")
SRC=$(readlink -f "$2")
shift 2
PARTS=${*:-limits kill resume resume_step nan}
PY=/usr/bin/python3
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=86:print_stacktrace=1}
T=$(mktemp -d "${TMPDIR:-/tmp}/maqdc-robust.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
n_fail=0
fail() {
    echo "FAIL $*"
    n_fail=$((n_fail + 1))
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# sleep a random number of milliseconds in [0, $1)
sleep_rand_ms() { local ms=$((RANDOM % $1)); sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"; }
RANDOM=${ROBUST_SEED:-12345} # reproducible kill times (the machine's speed varies anyway)

# expect_limit NAME ARGS...: exit 1, one stderr line saying what exceeded which limit (+ the hint)
expect_limit() {
    local what=$1 want=$2
    shift 2
    "$MAQDC" "$@" >out.txt 2>err.txt
    local rc=$?
    if [ $rc -ne 1 ]; then fail "limits $what: exit $rc (want 1): $(cat err.txt)"; return; fi
    grep -q -- "$want" err.txt || fail "limits $what: no '$want' in: $(cat err.txt)"
    grep -q -- "raise it with --max-rank" err.txt || fail "limits $what: no hint in: $(cat err.txt)"
    [ -e out.mqd ] && fail "limits $what: wrote out.mqd"
    rm -f out.mqd
}

part_limits() {
    local m=$SRC/tests/data/cli/small_cnn.onnx # conv weights 8x3x3x3 (rank 4), 6 nodes, 7 KB
    expect_limit rank "initializer '.*': rank 4 exceeds the maximum rank 3" info "$m" --max-rank 3
    expect_limit elems "element count exceeds the limit of 100" "$m" -o out.mqd --max-elems 100
    expect_limit bytes "over the limit of 1000" "$m" -o out.mqd --max-bytes=1000
    expect_limit nodes "6 nodes exceed the limit of 5" info "$m" --max-nodes 5
    # a Conv of constants whose folded output would be 75 M elements: refused before it is computed
    expect_limit folded "(Conv): output '3': element count exceeds the limit 1000000" \
        info "$SRC/tests/fuzz/regressions/onnx/conv_fold_75m_elements" --max-elems 1000000
    "$MAQDC" "$m" -o small.mqd >/dev/null || fail "limits: compile failed"
    expect_limit mqd-bytes "over the limit of 100" run small.mqd --input "$SRC/tests/data/cli/x_2x3_f4.npy" \
        --output-dir o --max-bytes 100
    "$MAQDC" info "$m" --max-rank 4 --max-nodes 6 --max-elems 1440 --max-bytes 10000 >/dev/null ||
        fail "limits: the model at its limits was refused"
    for bad in "--max-rank 9" "--max-rank 0" "--max-elems x" "--max-bytes -1" "--max-nodes"; do
        # shellcheck disable=SC2086
        "$MAQDC" info "$m" $bad >/dev/null 2>err.txt
        local rc=$?
        [ $rc -eq 2 ] || fail "limits: '$bad' exit $rc (want 2)"
    done
    echo "limits: done"
}

# kill_compile OUT FILES...: FILES (OUT, and OUT's header for C) hold "old" content; maqdc is killed
# with SIGKILL at random moments while compiling fashion_resnet to OUT; after each kill every file is
# its old bytes or the complete new file (ref/FILE, from an uninterrupted run), never anything else.
kill_compile() {
    local out=$1 m=$SRC/models/fashion_resnet.onnx t0 t1 dur killed=0 old=0 new=0 i f pid
    shift
    mkdir -p ref
    (cd ref && "$MAQDC" "$m" -o "$out" >/dev/null) || { fail "kill: reference compile of $out"; return; }
    t0=$(now_ms)
    "$MAQDC" "$m" -o "$out" >/dev/null || fail "kill: compile of $out"
    t1=$(now_ms)
    dur=$((t1 - t0 + 1))
    for i in $(seq 1 "${KILLS:-15}"); do
        for f in "$@"; do echo "old $f" >"$f" && cp "$f" "old_$f"; done
        "$MAQDC" "$m" -o "$out" >/dev/null 2>&1 &
        pid=$!
        sleep_rand_ms $((dur * 12 / 10))
        kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
        wait "$pid" 2>/dev/null
        for f in "$@"; do
            if cmp -s "$f" "old_$f"; then old=$((old + 1))
            elif cmp -s "$f" "ref/$f"; then new=$((new + 1))
            else fail "kill: $f after attempt $i is neither the old nor the complete new file"
            fi
        done
        rm -f ./*.tmp??????
    done
    echo "kill $out: $killed of ${KILLS:-15} runs killed (an uninterrupted compile takes ${dur} ms); files found old $old times, new $new times, never partial"
}

part_kill() {
    kill_compile out.mqd out.mqd
    kill_compile out.c out.c out.h
}

# Fine-tuning data: 2048 random 3x8x8 float images, 10 classes (small_cnn's input), seed fixed.
make_data() {
    [ -e simg.npy ] && return 0
    "$PY" -c "
import numpy as np
r = np.random.default_rng(1)
np.save('simg.npy', r.random((2048, 3, 8, 8), dtype=np.float32))
np.save('slab.npy', r.integers(0, 10, 2048).astype(np.int64))" || fail "cannot make the data"
}

FT_ARGS=(--train-images simg.npy --train-labels slab.npy --epochs 6 --batch 8 --w-states 3 --a-states 4
         --calib-batches 2 --seed 7 --optimizer adamw --quiet)

RESUME_EXTRA=()
part_resume() {
    make_data
    local m=$SRC/tests/data/cli/small_cnn.onnx t0 t1 dur
    t0=$(now_ms)
    "$MAQDC" finetune "$m" "${FT_ARGS[@]}" "${RESUME_EXTRA[@]}" --lr 0.01 -o ref.onnx ||
        { fail "resume: uninterrupted run"; return; }
    t1=$(now_ms)
    dur=$((t1 - t0 + 1))
    rm -rf ck && mkdir ck
    local kills=0 resumed=0 runs=0 rc=1
    while [ $runs -lt 60 ]; do
        runs=$((runs + 1))
        "$MAQDC" finetune "$m" "${FT_ARGS[@]}" "${RESUME_EXTRA[@]}" --lr 0.01 --checkpoint ck --resume -o out.onnx \
            2>err.txt &
        local pid=$!
        if [ $kills -lt "${RESUME_KILLS:-5}" ]; then
            sleep_rand_ms $((dur / 2))
            kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
        elif [ $resumed -eq 0 ] && [ $kills -lt $((${RESUME_KILLS:-5} + 10)) ]; then
            # every kill so far came before the first checkpoint (a loaded machine can run slower than the
            # uninterrupted run did): kill later, half a reference run more each time, until one resumes
            local late=$(((dur / 2) * (kills - ${RESUME_KILLS:-5} + 1)))
            sleep "$((late / 1000)).$(printf %03d $((late % 1000)))"
            kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
        fi
        wait "$pid" 2>/dev/null
        rc=$?
        grep -q "^resumed from" err.txt && resumed=$((resumed + 1))
        if [ $rc -eq 0 ]; then break; fi
        [ $rc -eq 137 ] || { fail "resume: run $runs exit $rc: $(cat err.txt)"; return; }
        [ -e out.onnx ] && { fail "resume: a killed run left out.onnx"; return; }
    done
    [ $rc -eq 0 ] || fail "resume: never finished"
    [ $kills -ge 2 ] || fail "resume: only $kills run(s) killed"
    [ $resumed -ge 1 ] || fail "resume: no run resumed from a checkpoint (kills too early?)"
    cmp -s out.onnx ref.onnx || fail "resume: the resumed run's model differs from the uninterrupted run's"
    echo "resume${RESUME_EXTRA[*]:+ ${RESUME_EXTRA[*]}}: $kills kills, $runs runs ($resumed resumed from a checkpoint); model identical to the uninterrupted run (~${dur} ms)"
}

part_resume_step() {
    RESUME_EXTRA=(--learn-act-step --learn-weight-step --quant-first)
    rm -f ref.onnx out.onnx
    part_resume
    RESUME_EXTRA=()
}

part_nan() {
    make_data
    local m=$SRC/tests/data/cli/small_cnn.onnx
    rm -rf ckn && mkdir ckn
    "$MAQDC" finetune "$m" "${FT_ARGS[@]}" --epochs 1 --lr 0.01 --checkpoint ckn -o good.onnx ||
        { fail "nan: first epoch"; return; }
    cp ckn/checkpoint.mqck saved.mqck
    "$MAQDC" finetune "$m" "${FT_ARGS[@]}" --lr 1000000 --checkpoint ckn --resume -o bad.onnx 2>err.txt
    local rc=$?
    [ $rc -eq 1 ] || fail "nan: exit $rc (want 1): $(cat err.txt)"
    grep -Eq "loss .*(nan|inf).* at epoch [0-9]+ step [0-9]+" err.txt || fail "nan: message lacks the step: $(cat err.txt)"
    grep -q "lower the learning rate" err.txt || fail "nan: message lacks the advice: $(cat err.txt)"
    grep -q "last good checkpoint (ckn/checkpoint.mqck, after epoch 1) is kept" err.txt ||
        fail "nan: message does not mention the kept checkpoint: $(cat err.txt)"
    [ -e bad.onnx ] && fail "nan: a model was written"
    cmp -s ckn/checkpoint.mqck saved.mqck || fail "nan: the last good checkpoint changed"
    echo "nan: $(grep -i loss err.txt | head -n 1)"
}

for p in $PARTS; do "part_$p"; done
if [ $n_fail -ne 0 ]; then
    echo "test_robust: $n_fail failure(s)"
    exit 1
fi
echo "test_robust: all passed"
