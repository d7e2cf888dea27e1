#!/usr/bin/env bash
# finetune.sh: fine-tuning throughput (images/s, one thread, batch 64) of `maqdc finetune` on
# models/fashion_cnn.onnx with the quantizers on at (3,4), and float (--no-quant), against PyTorch training
# the same float model (bench/finetune_torch.py: same architecture and weights, SGD momentum 0.9, weight
# decay 5e-4, same batch and lr) in the same run. Prints a table with the ratios, by wall clock and by CPU
# time (on a loaded machine the wall clock measures the scheduler; CPU time the work).
#
# usage: bench/finetune.sh [BUILD_DIR]     (default BUILD_DIR: build-bench; configured Release if new)
# env:   BENCH_IMAGES=6400   training images per timed epoch (the first N of Fashion-MNIST's training set)
#        BENCH_REPEATS=3     runs of each, interleaved; the best of each is reported
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$root/build-bench}" && cd "${1:-$root/build-bench}" && pwd)
work="$build/bench-finetune"
n_img=${BENCH_IMAGES:-6400}
reps=${BENCH_REPEATS:-3}
batch=64
py=/usr/bin/python3
data=/usr/share/datasets/fashion-mnist
mkdir -p "$work"

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi
log() { printf '%s\n' "$*" >&2; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target maqdc -j2 >/dev/null
maqdc="$build/maqdc"
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
steps=$((n_img / batch))

# maqdc over EPOCHS epochs of n_img images: prints "WALL_IMG_S CPU_SECONDS". The epoch line gives the
# wall-clock throughput of the epoch; the CPU time of the epoch is that of a 1-epoch run minus that of a
# 0-epoch run (import, calibration and export only).
maqdc_run() { # maqdc_run EPOCHS extra args...
  local ep="$1" out
  shift
  out=$( { /usr/bin/time -f "cpu %U %S" "${pin[@]}" "$maqdc" finetune "$root/models/fashion_cnn.onnx" \
      --train-images "$work/images.npy" --train-labels "$work/labels.npy" --scale 255 --mean 0.2860 --std 0.3530 \
      --epochs "$ep" --batch $batch --lr 0.01 --seed 1 --calib-batches 2 -o "$work/out.onnx" "$@"; } 2>&1)
  local ips cpu
  ips=$(sed -n 's/^epoch 1\/1:.* \([0-9.]*\) img\/s.*/\1/p' <<<"$out")
  cpu=$(sed -n 's/^cpu \([0-9.]*\) \([0-9.]*\)$/\1 \2/p' <<<"$out" | awk '{ print $1 + $2 }')
  [ -n "$cpu" ] && { [ "$ep" = 0 ] || [ -n "$ips" ]; } || { log "maqdc failed: $out"; exit 1; }
  echo "${ips:-0} $cpu"
}

declare -A wall cpu
for k in torch q34 flt; do wall[$k]=0; cpu[$k]=0; done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$reps"); do
  log "round $r/$reps: PyTorch ..."
  line=$("${pin[@]}" "$py" "$root/bench/finetune_torch.py" --model "$root/models/fashion_cnn.onnx" \
    --images "$work/images.npy" --labels "$work/labels.npy" --batch $batch --lr 0.01)
  w=$(sed -n 's/.*images_per_s=\([0-9.]*\) cpu.*/\1/p' <<<"$line")
  c=$(sed -n 's/.*cpu_images_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
  [ -n "$w" ] && [ -n "$c" ] || { log "pytorch failed: $line"; exit 1; }
  torch_ver=$(sed -n 's/.*torch=\([^ ]*\).*/\1/p' <<<"$line")
  wall[torch]=$(best "${wall[torch]}" "$w")
  cpu[torch]=$(best "${cpu[torch]}" "$c")
  for k in q34 flt; do
    if [ $k = q34 ]; then args=(--w-states 3 --a-states 4); else args=(--no-quant); fi
    log "round $r/$reps: maqdc $k ..."
    read -r w1 c1 < <(maqdc_run 1 "${args[@]}")
    read -r _ c0 < <(maqdc_run 0 "${args[@]}")
    c=$(awk -v a="$c1" -v b="$c0" -v n="$n_img" 'BEGIN { d = a - b; printf "%.1f", (d > 0 ? n / d : 0) }')
    wall[$k]=$(best "${wall[$k]}" "$w1")
    cpu[$k]=$(best "${cpu[$k]}" "$c")
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "fine-tuning throughput, models/fashion_cnn.onnx, batch $batch, $steps steps of $n_img images, one thread,"
echo "best of $reps interleaved rounds (load average at start: $load_start; at end: $load_end; PyTorch $torch_ver)"
echo
echo "| trainer | quantizers | images/s (wall) | vs PyTorch | images per CPU-second | vs PyTorch |"
echo "|---|---|---:|---:|---:|---:|"
echo "| PyTorch (float, BatchNorm) | none | ${wall[torch]} | 1.00x | ${cpu[torch]} | 1.00x |"
echo "| maqdc finetune | (3,4), LBN | ${wall[q34]} | $(ratio "${wall[q34]}" "${wall[torch]}") | ${cpu[q34]} | $(ratio "${cpu[q34]}" "${cpu[torch]}") |"
echo "| maqdc finetune --no-quant | none, LBN | ${wall[flt]} | $(ratio "${wall[flt]}" "${wall[torch]}") | ${cpu[flt]} | $(ratio "${cpu[flt]}" "${cpu[torch]}") |"
