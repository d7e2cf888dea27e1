#!/usr/bin/env bash
# make-reports.sh [--retrain]: regenerates the committed reports in docs/reports/ (docs/REPORTS.md): the
# example models, every fine-tuned models/NAME.onnx that has its log models/NAME.log.csv, and the
# fine-tuned example docs/reports/fashion_cnn_w3a4_subset.onnx (fine-tuned here, on a subset, if missing or
# with --retrain). Builds maqdc first (scripts/build.sh). Run from anywhere; paths in the pages are
# relative to the repository root.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
retrain=0
[ "${1:-}" = "--retrain" ] && retrain=1
./scripts/build.sh build >/dev/null
MAQDC=build/maqdc
out=docs/reports
mkdir -p "$out"

for m in models/fashion_cnn.onnx models/fashion_resnet.onnx; do
    $MAQDC report "$m" -o "$out/$(basename "$m" .onnx).html"
done

# Fine-tuned models other work commits under models/, each with the log its fine-tuning wrote.
for log in models/*.log.csv; do
    [ -e "$log" ] || continue
    m=${log%.log.csv}.onnx
    [ -f "$m" ] && $MAQDC report "$m" --log "$log" -o "$out/$(basename "$m" .onnx).html"
done

# The fine-tuned example: fashion_cnn at 3 weight / 4 activation states, 2 epochs on the first 6000
# training images, validated on the first 2000 test images (a few minutes on 2 cores).
ft=$out/fashion_cnn_w3a4_subset
if [ $retrain = 1 ] || [ ! -f "$ft.onnx" ] || [ ! -f "$ft.log.csv" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    /usr/bin/python3 scripts/fmnist_subset.py train 6000 "$tmp"
    /usr/bin/python3 scripts/fmnist_subset.py t10k 2000 "$tmp"
    $MAQDC finetune models/fashion_cnn.onnx --train-images "$tmp/train-images-6000.gz" \
        --train-labels "$tmp/train-labels-6000.gz" --val-images "$tmp/t10k-images-2000.gz" \
        --val-labels "$tmp/t10k-labels-2000.gz" --scale 255 --mean 0.2860 --std 0.3530 \
        --epochs 2 --batch 64 --lr 0.01 --w-states 3 --a-states 4 --seed 0 -o "$ft.onnx" --log "$ft.log.csv"
fi
$MAQDC report "$ft.onnx" --log "$ft.log.csv" -o "$ft.html"
ls -l "$out"
