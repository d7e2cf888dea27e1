#!/usr/bin/env bash
# run_results.sh MAQDC OUTDIR [table|study|all|lstep]: reproduces docs/RESULTS.md.
#   table: float and LBN-only accuracy of models/fashion_cnn.onnx, and MaQD fine-tuning at (w,a) = (3,4)
#          (14 epochs over the 60,000 training images), (2,2), (16,16), (3,2) (10 epochs each): the
#          committed models/fashion_cnn_w*a*.onnx; accuracy on the 10,000 Fashion-MNIST test images;
#   study: LBN vs BatchNorm from one seeded random start (models/make_study_start.py), batch 1, 2, 8, 64,
#          one pass over the same 10,000 training images each;
#   lstep: (not in all) the learned activation step (--learn-act-step) against the calibrated one kept
#          fixed, at (2,2) and (3,4), one epoch each from the same start with the table's recipe.
# Each run logs to OUTDIR/NAME.log (per-epoch loss, test accuracy, images/s, seconds; then `time -v`) and
# appends a line to OUTDIR/summary.txt; runs are sequential, one thread each. On a free core the whole
# thing costs about 85 minutes of CPU (44 epochs of about 110 s); on a loaded machine it takes hours of
# wall clock (docs/RESULTS.md has the measured times).
set -euo pipefail
maqdc="$(readlink -f "$1")"
out="$(mkdir -p "$2" && readlink -f "$2")"
what="${3:-all}"
here="$(cd "$(dirname "$0")/.." && pwd)"
D=/usr/share/datasets/fashion-mnist
export OPENBLAS_NUM_THREADS=1
norm=(--mean 0.2860 --std 0.3530)
test_set=(--images "$D/t10k-images-idx3-ubyte.gz" --labels "$D/t10k-labels-idx1-ubyte.gz")
val=(--val-images "$D/t10k-images-idx3-ubyte.gz" --val-labels "$D/t10k-labels-idx1-ubyte.gz")

run() { # NAME MODEL TRAIN_IMAGES TRAIN_LABELS finetune-args...
    local name=$1 model=$2 ti=$3 tl=$4
    shift 4
    local t0=$SECONDS
    /usr/bin/time -v "$maqdc" finetune "$model" --train-images "$ti" --train-labels "$tl" "${val[@]}" "${norm[@]}" \
        -o "$out/$name.onnx" "$@" > "$out/$name.log" 2>&1
    echo "$name: $(grep -o 'val-acc [0-9.]*' "$out/$name.log" | tail -1) wall $((SECONDS - t0))s" | tee -a "$out/summary.txt"
}

# The study's start and its 10,000-image training subset (seed 7)
s="$out/study"
si="$s/train-subset-images-idx3-ubyte.gz"
sl="$s/train-subset-labels-idx1-ubyte.gz"
if [ "$what" = study ] || [ "$what" = all ]; then
    /usr/bin/python3 "$here/models/make_study_start.py" "$s" --seed 7 --count 10000
fi

if [ "$what" = table ] || [ "$what" = all ]; then
    m="$here/models/fashion_cnn.onnx"
    ti="$D/train-images-idx3-ubyte.gz"
    tl="$D/train-labels-idx1-ubyte.gz"
    "$maqdc" eval "$m" "${test_set[@]}" "${norm[@]}" > "$out/float.log"
    echo "float: $(grep '^accuracy' "$out/float.log")" | tee -a "$out/summary.txt"
    # LBN only: the exact BN -> LBN conversion, not fine-tuned (epochs 0; calibration off, so the
    # converted running statistics are kept)
    run lbn_only "$m" "$ti" "$tl" --no-quant --epochs 0 --calib-batches 0
    "$maqdc" eval "$out/lbn_only.onnx" "${test_set[@]}" "${norm[@]}" > "$out/lbn_only_eval.log"
    echo "lbn_only: $(grep '^accuracy' "$out/lbn_only_eval.log")" | tee -a "$out/summary.txt"
    common=(--batch 64 --optimizer adamw --lr 0.001 --hflip --distill --seed 1)
    run w3a4 "$m" "$ti" "$tl" --w-states 3 --a-states 4 --epochs 14 "${common[@]}"
    run w2a2 "$m" "$ti" "$tl" --w-states 2 --a-states 2 --epochs 10 "${common[@]}"
    run w16a16 "$m" "$ti" "$tl" --w-states 16 --a-states 16 --epochs 10 "${common[@]}"
    run w3a2 "$m" "$ti" "$tl" --w-states 3 --a-states 2 --epochs 10 "${common[@]}"
fi

if [ "$what" = study ] || [ "$what" = all ]; then
    for b in 64 8 2 1; do
        # SGD (momentum 0.9) with the linear scaling rule: lr 0.1 at batch 64, 0.1 * b / 64 below
        lr=$(awk -v b=$b 'BEGIN { printf "%.6g", 0.1 * b / 64 }')
        for nm in lbn bn; do
            run "study_${nm}_b$b" "$s/cnn_init.onnx" "$si" "$sl" --norm "$nm" --no-quant --epochs 1 --batch "$b" \
                --lr "$lr" --calib-batches 0 --seed 1
        done
    done
fi

if [ "$what" = lstep ]; then
    m="$here/models/fashion_cnn.onnx"
    common=(--batch 64 --optimizer adamw --lr 0.001 --hflip --distill --seed 1 --epochs 1)
    for wa in 2:2 3:4; do
        w=${wa%:*} a=${wa#*:}
        for mode in fixed learned; do
            extra=()
            [ "$mode" = learned ] && extra=(--learn-act-step)
            name="lstep_w${w}a${a}_$mode"
            run "$name" "$m" "$D/train-images-idx3-ubyte.gz" "$D/train-labels-idx1-ubyte.gz" --w-states "$w" \
                --a-states "$a" "${common[@]}" "${extra[@]}"
            "$maqdc" eval "$out/$name.onnx" "${test_set[@]}" "${norm[@]}" > "$out/${name}_eval.log"
            echo "$name: $(grep '^accuracy' "$out/${name}_eval.log")" | tee -a "$out/summary.txt"
        done
    done
fi
