#!/usr/bin/env bash
# finetune.sh: fine-tuning throughput (images/s, one thread, batch 64) of `maqdc finetune` on
# models/fashion_cnn.onnx with the quantizers on at (3,4), and float (--no-quant), against PyTorch training
# the same float model (bench/finetune_torch.py: same architecture and weights, SGD momentum 0.9, weight
# decay 5e-4, same batch and lr) in the same run. Prints a table with the ratios.
#
# usage: bench/finetune.sh [BUILD_DIR]     (default BUILD_DIR: build-bench; configured Release if new)
# env:   BENCH_IMAGES=6400   training images per timed epoch (the first N of Fashion-MNIST's training set)
#        BENCH_REPEATS=2     runs of each; the best is reported
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$root/build-bench}" && cd "${1:-$root/build-bench}" && pwd)
work="$build/bench-finetune"
n_img=${BENCH_IMAGES:-6400}
reps=${BENCH_REPEATS:-2}
batch=64
py=/usr/bin/python3
data=/usr/share/datasets/fashion-mnist
mkdir -p "$work"

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi
log() { printf '%s\n' "$*" >&2; }

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target maqdc -j2 >/dev/null
maqdc="$build/tools/maqdc"
[ -x "$maqdc" ] || maqdc=$(find "$build" -name maqdc -type f -perm -u+x | head -1)

# The first n_img training images and labels as .npy (uint8 images, int64 labels).
"$py" - "$data" "$work" "$n_img" <<'PY'
import gzip, struct, sys, numpy as np
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def idx(p):
    d = gzip.open(p, "rb").read()
    nd = d[3]
    dims = struct.unpack(">" + "I" * nd, d[4:4 + 4 * nd])
    return np.frombuffer(d, np.uint8, offset=4 + 4 * nd).reshape(dims)
np.save(dst + "/images.npy", idx(src + "/train-images-idx3-ubyte.gz")[:n].copy())
np.save(dst + "/labels.npy", idx(src + "/train-labels-idx1-ubyte.gz")[:n].astype(np.int64))
PY

# maqdc: one epoch over n_img images; its epoch line reports the training throughput (calibration and
# export are outside the timed epoch).
run_maqdc() { # run_maqdc LABEL extra args...
  local label="$1" best=0 line ips
  shift
  for _ in $(seq "$reps"); do
    line=$("${pin[@]}" "$maqdc" finetune "$root/models/fashion_cnn.onnx" --train-images "$work/images.npy" \
      --train-labels "$work/labels.npy" --scale 255 --mean 0.2860 --std 0.3530 --epochs 1 --batch $batch \
      --lr 0.01 --seed 1 --calib-batches 2 -o "$work/out.onnx" "$@" 2>&1 | grep '^epoch 1/1:' || true)
    ips=$(sed -n 's/.* \([0-9.]*\) img\/s.*/\1/p' <<<"$line")
    [ -n "$ips" ] || { log "maqdc $label failed: $line"; exit 1; }
    best=$(awk -v a="$best" -v b="$ips" 'BEGIN { print (b > a ? b : a) }')
  done
  echo "$best"
}

run_torch() {
  local best=0 line ips
  for _ in $(seq "$reps"); do
    line=$("${pin[@]}" "$py" "$root/bench/finetune_torch.py" --model "$root/models/fashion_cnn.onnx" \
      --images "$work/images.npy" --labels "$work/labels.npy" --batch $batch --lr 0.01)
    ips=$(sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
    [ -n "$ips" ] || { log "pytorch failed: $line"; exit 1; }
    best=$(awk -v a="$best" -v b="$ips" 'BEGIN { print (b > a ? b : a) }')
    tv=$(sed -n 's/.*torch=\([^ ]*\).*/\1/p' <<<"$line")
  done
  echo "$best $tv"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "timing PyTorch ..."
read -r torch_ips torch_ver < <(run_torch)
log "timing maqdc (3,4) ..."
q34=$(run_maqdc "(3,4)" --w-states 3 --a-states 4)
log "timing maqdc float ..."
flt=$(run_maqdc "float" --no-quant)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "fine-tuning throughput, models/fashion_cnn.onnx, batch $batch, $n_img images per epoch, one thread, best of $reps"
echo "(load average at start: $load_start; at end: $load_end; PyTorch $torch_ver)"
echo
echo "| trainer | quantizers | images/s | vs PyTorch |"
echo "|---|---|---:|---:|"
echo "| PyTorch (float, BatchNorm) | none | $torch_ips | 1.00x |"
echo "| maqdc finetune | (3,4), LBN | $q34 | $(ratio "$q34" "$torch_ips") |"
echo "| maqdc finetune --no-quant | none, LBN | $flt | $(ratio "$flt" "$torch_ips") |"
