#!/usr/bin/env bash
# finetune_mpi.sh: data-parallel fine-tuning throughput (docs/DISTRIBUTED.md): images/s of `maqdc finetune`
# on the example CNN at 1, 2 and 4 ranks on this machine (mpirun; more ranks than cores oversubscribe and
# are reported as measured), with the size and measured time of the per-step gradient allreduce.
#
# usage: bench/finetune_mpi.sh [BUILD_DIR]      (default: build; maqdc built with MAQD_MPI)
# env:   BENCH_RANKS="1 2 4"   BENCH_IMAGES=1536 (training images)   BENCH_BATCH=64   BENCH_GROUP=16
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
maqdc="$build/maqdc"
ranks=${BENCH_RANKS:-"1 2 4"}
images=${BENCH_IMAGES:-1536}
batch=${BENCH_BATCH:-64}
group=${BENCH_GROUP:-16}
py=/usr/bin/python3
work="$build/bench_mpi"
mkdir -p "$work"
cd "$work"
command -v mpirun >/dev/null || { echo "mpirun not found: apt-get install openmpi-bin" >&2; exit 1; }
cores=$(getconf _NPROCESSORS_ONLN) # before OMP_NUM_THREADS, which nproc would obey
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MAQD_DIST_TIMING=1

$py - "$images" <<'PY'
import gzip, sys
import numpy as np
n, d = int(sys.argv[1]), "/usr/share/datasets/fashion-mnist"
x = np.frombuffer(gzip.open(f"{d}/train-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
y = np.frombuffer(gzip.open(f"{d}/train-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
np.save("bx.npy", x[: n * 784].reshape(n, 28, 28))
np.save("by.npy", y[:n].astype(np.int64))
PY

args=("$root/models/fashion_cnn.onnx" --train-images bx.npy --train-labels by.npy --epochs 1 --batch "$batch"
      --lbn-group "$group" --lr 0.01 --w-states 3 --a-states 4 --calib-batches 1 --mean 0.2860 --std 0.3530)
echo "maqdc finetune, fashion_cnn (3,4), $images images, batch $batch, LBN groups of $group, 1 epoch;" \
     "$cores cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-6s %10s %9s %16s %14s %14s\n" ranks "images/s" "vs 1" "allreduce bytes" "ms/allreduce" "ms waiting"
base=""
for r in $ranks; do
  log="np$r.log"
  # the progress line needs a terminal; the epoch summary is printed anyway
  mpirun --oversubscribe --allow-run-as-root -np "$r" "$maqdc" finetune "${args[@]}" -o "np$r.onnx" >"$log" 2>&1 ||
    { cat "$log"; exit 1; }
  ips=$(sed -n 's/.* \([0-9.]*\) img\/s .*/\1/p' "$log" | tail -1)
  bytes=$(sed -n 's/.* allreduces of \([0-9]*\) bytes.*/\1/p' "$log")
  ms=$(sed -n 's/.* bytes, \([0-9.]*\) ms each.*/\1/p' "$log")
  wait=$(sed -n 's/.*(\([0-9.]*\) ms waiting before).*/\1/p' "$log")
  [ -n "$base" ] || base=$ips
  ratio=$(awk -v a="$ips" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')
  over=""
  [ "$r" -le "$cores" ] || over=" (oversubscribed: $r ranks on $cores cores)"
  printf "%-6s %10s %9s %16s %14s %14s%s\n" "$r" "$ips" "$ratio" "${bytes:--}" "${ms:--}" "${wait:--}" "$over"
done
