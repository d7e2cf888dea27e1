#!/usr/bin/env bash
# int.sh: latency of integer programs (maqdc --int, docs/INTEGER.md) against our float code and
# onnxruntime float on the example CNN, one image, one core, all measured in this run.
#
# usage: bench/int.sh [FINETUNED.onnx ...]   (default: models/fashion_cnn_w*a*.onnx, tests/data/int/*.onnx)
# env:   BENCH_BUILD=build-bench (configured Release if new), BENCH_SECONDS=2, CC=cc, BENCH_COPT=-O2,
#        BENCH_FLOAT=models/fashion_cnn.onnx (the float peer: e.g. models/fashion_resnet.onnx for its models)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${BENCH_BUILD:-$root/build-bench}" && cd "${BENCH_BUILD:-$root/build-bench}" && pwd)
work="$build/bench_int"
secs=${BENCH_SECONDS:-2}
cc=${CC:-cc}
copt=${BENCH_COPT:--O2} # flags for the emitted C (e.g. "-O2 -march=native"); the runtime is the Release build
mkdir -p "$work"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi
models=("$@")
if [ ${#models[@]} = 0 ]; then models=($(ls "$root"/models/fashion_cnn_w*a*.onnx "$root"/tests/data/int/*.onnx 2>/dev/null)); fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
peer=${BENCH_FLOAT:-$root/models/fashion_cnn.onnx}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMAQD_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j2 --target maqdc >/dev/null
maqdc="$build/maqdc"
"$cc" -O2 -Wall -Wextra -Werror -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root" "$root/bench/bench_mqd.c" \
    "$build/runtime/libmaqdrt.a" -lm -o "$work/bench_mqd"

# the first Fashion-MNIST test image: pixels 0..255 (integer programs) and normalized (float models)
/usr/bin/python3 - "$work" <<'PY'
import gzip, sys, numpy as np
b = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()
p = np.frombuffer(b[16:16 + 784], np.uint8).reshape(1, 1, 28, 28).astype(np.float32)
np.save(sys.argv[1] + '/pixels.npy', p)
np.save(sys.argv[1] + '/normalized.npy', ((p / np.float32(255) - np.float32(0.2860)) / np.float32(0.3530)).astype(np.float32))
PY
run_args=(--seconds "$secs" --warmup 2 --min-runs 5 --max-runs 2000)
kv() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

bench_pair() { # bench_pair NAME MODEL INPUT [maqdc options]: prints "name mqd_line|c_line"
  local name=$1 m=$2 in=$3; shift 3
  local d="$work/$name"; mkdir -p "$d"
  local info; info=$("$maqdc" "$m" -o "$d/model.mqd" "$@" | tail -1)
  W_bytes=$(sed -n 's/.* weights (\([0-9]*\) bytes).*/\1/p' <<<"$info")
  A_bytes=$(sed -n 's/.* arena \([0-9]*\) bytes.*/\1/p' <<<"$info")
  "$maqdc" "$m" -o "$d/bm.c" --prefix bm "$@" >/dev/null
  "$cc" $copt -std=c99 -w -D_POSIX_C_SOURCE=200809L -I"$root" -I"$d" "$root/bench/bench_c.c" "$d/bm.c" -lm -o "$d/bench_c"
  R_mqd=$("${pin[@]}" "$work/bench_mqd" "$d/model.mqd" "$in" "${run_args[@]}")
  R_c=$("${pin[@]}" "$d/bench_c" "$in" "${run_args[@]}")
}

norm=(--scale 255 --mean 0.2860 --std 0.3530)
# the statistic compared: process CPU time per run (leaves out time other jobs take on the core);
# BENCH_WALL=1: wall-clock medians
f=cpu_median_ms; [ -n "${BENCH_WALL:-}" ] && f=median_ms
declare -A L
bench_pair float "$peer" "$work/normalized.npy"
L[float,mqd]=$(kv $f "$R_mqd"); L[float,c]=$(kv $f "$R_c"); L[float,w]=$W_bytes; L[float,a]=$A_bytes
ort=$("${pin[@]}" node "$root/bench/ort/ort_bench.js" "$peer" "$work/normalized.npy" "${run_args[@]}")
L[ort]=$(kv $f "$ort")
names=()
for m in "${models[@]}"; do
  n=$(basename "$m" .onnx); names+=("$n")
  bench_pair "$n" "$m" "$work/pixels.npy" --int "${norm[@]}"
  L[$n,mqd]=$(kv $f "$R_mqd"); L[$n,c]=$(kv $f "$R_c"); L[$n,w]=$W_bytes; L[$n,a]=$A_bytes
done

r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b / a }'; }
echo
echo "maqd integer benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
     "pinned: ${pin[*]:-no}; load average at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(basename "$peer" .onnx), batch 1, $f over ~${secs} s; speed-up = onnxruntime float / ours"
echo
echo "| program | emitted C $copt (ms) | runtime .mqd (ms) | C speed-up vs ort float | .mqd speed-up vs ort float | weight bytes | arena bytes |"
echo "|---|---:|---:|---:|---:|---:|---:|"
echo "| onnxruntime float (1 thread) | ${L[ort]} | | 1.00x | | | |"
echo "| ours, float (models/$(basename "$peer")) | ${L[float,c]} | ${L[float,mqd]} | $(r "${L[float,c]}" "${L[ort]}") | $(r "${L[float,mqd]}" "${L[ort]}") | ${L[float,w]} | ${L[float,a]} |"
for n in "${names[@]}"; do
  echo "| ours, integer $n | ${L[$n,c]} | ${L[$n,mqd]} | $(r "${L[$n,c]}" "${L[ort]}") | $(r "${L[$n,mqd]}" "${L[ort]}") | ${L[$n,w]} | ${L[$n,a]} |"
done
