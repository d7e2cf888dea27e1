#!/usr/bin/env bash
# int.sh: latency of integer programs (maqdc --int, docs/INTEGER.md) against our float code and
# onnxruntime float on the example CNN, one image, one core, all measured in this run.
#
# Each program twice: as built by default (emitted C -O2, the Release runtime; on x86 the integer
# kernels still choose AVX-512 VNNI at run time where the CPU has it) and built for this CPU (emitted C
# -O2 -march=native, the runtime configured with MAQD_NATIVE=ON: every kernel compiled for it).
# usage: bench/int.sh [FINETUNED.onnx ...]   (default: models/fashion_cnn_w*a*.onnx, tests/data/int/*.onnx)
# env:   BENCH_BUILD=build-bench (configured Release if new), BENCH_SECONDS=2, CC=cc, BENCH_COPT=-O2,
#        BENCH_NATIVE_COPT="-O2 -march=native"
#        BENCH_FLOAT=models/fashion_cnn.onnx (the float peer: e.g. models/fashion_resnet.onnx for its models)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${BENCH_BUILD:-$root/build-bench}" && cd "${BENCH_BUILD:-$root/build-bench}" && pwd)
work="$build/bench_int"
secs=${BENCH_SECONDS:-2}
cc=${CC:-cc}
copt=${BENCH_COPT:--O2} # flags for the emitted C; the runtime is the Release build
ncopt=${BENCH_NATIVE_COPT:--O2 -march=native} # the same for this CPU; the runtime: build/rt-native, MAQD_NATIVE=ON
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
# the runtime alone (runtime/CMakeLists.txt), built for this CPU
cmake -S "$root/runtime" -B "$build/rt-native" -DCMAKE_BUILD_TYPE=Release -DMAQD_NATIVE=ON >/dev/null
cmake --build "$build/rt-native" -j2 >/dev/null
"$cc" -O2 -Wall -Wextra -Werror -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root" "$root/bench/bench_mqd.c" \
    "$build/rt-native/libmaqdrt.a" -lm -o "$work/bench_mqd_native"

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

bench_pair() { # bench_pair NAME MODEL INPUT [maqdc options]: sets R_mqd, R_c and the native R_nmqd, R_nc
  local name=$1 m=$2 in=$3; shift 3
  local d="$work/$name"; mkdir -p "$d"
  local info; info=$("$maqdc" "$m" -o "$d/model.mqd" "$@" | tail -1)
  W_bytes=$(sed -n 's/.* weights (\([0-9]*\) bytes).*/\1/p' <<<"$info")
  A_bytes=$(sed -n 's/.* arena \([0-9]*\) bytes.*/\1/p' <<<"$info")
  "$maqdc" "$m" -o "$d/bm.c" --prefix bm "$@" >/dev/null
  "$cc" $copt -std=c99 -w -D_POSIX_C_SOURCE=200809L -I"$root" -I"$d" "$root/bench/bench_c.c" "$d/bm.c" -lm -o "$d/bench_c"
  "$cc" $ncopt -std=c99 -w -D_POSIX_C_SOURCE=200809L -I"$root" -I"$d" "$root/bench/bench_c.c" "$d/bm.c" -lm -o "$d/bench_c_native"
  R_mqd=$("${pin[@]}" "$work/bench_mqd" "$d/model.mqd" "$in" "${run_args[@]}")
  R_c=$("${pin[@]}" "$d/bench_c" "$in" "${run_args[@]}")
  R_nmqd=$("${pin[@]}" "$work/bench_mqd_native" "$d/model.mqd" "$in" "${run_args[@]}")
  R_nc=$("${pin[@]}" "$d/bench_c_native" "$in" "${run_args[@]}")
}

norm=(--scale 255 --mean 0.2860 --std 0.3530)
# the statistic compared: process CPU time per run (leaves out time other jobs take on the core);
# BENCH_WALL=1: wall-clock medians
f=cpu_median_ms; [ -n "${BENCH_WALL:-}" ] && f=median_ms
declare -A L
bench_pair float "$peer" "$work/normalized.npy"
L[float,mqd]=$(kv $f "$R_mqd"); L[float,c]=$(kv $f "$R_c"); L[float,w]=$W_bytes; L[float,a]=$A_bytes
L[float,nmqd]=$(kv $f "$R_nmqd"); L[float,nc]=$(kv $f "$R_nc")
ort=$("${pin[@]}" node "$root/bench/ort/ort_bench.js" "$peer" "$work/normalized.npy" "${run_args[@]}")
L[ort]=$(kv $f "$ort")
names=()
for m in "${models[@]}"; do
  n=$(basename "$m" .onnx); names+=("$n")
  bench_pair "$n" "$m" "$work/pixels.npy" --int "${norm[@]}"
  L[$n,mqd]=$(kv $f "$R_mqd"); L[$n,c]=$(kv $f "$R_c"); L[$n,w]=$W_bytes; L[$n,a]=$A_bytes
  L[$n,nmqd]=$(kv $f "$R_nmqd"); L[$n,nc]=$(kv $f "$R_nc")
done

r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b / a }'; }
echo
echo "maqd integer benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
     "pinned: ${pin[*]:-no}; load average at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(basename "$peer" .onnx), batch 1, $f over ~${secs} s; speed-up = onnxruntime float / ours"
echo
echo "| program | emitted C $copt (ms) | runtime .mqd (ms) | emitted C $ncopt (ms) | runtime .mqd MAQD_NATIVE (ms) | speed-up vs ort float: C / .mqd / C native / .mqd native | weight bytes | arena bytes |"
echo "|---|---:|---:|---:|---:|---|---:|---:|"
echo "| onnxruntime float (1 thread) | ${L[ort]} | | | | 1.00x | | |"
row() { # row LABEL KEY
  local k=$2
  echo "| $1 | ${L[$k,c]} | ${L[$k,mqd]} | ${L[$k,nc]} | ${L[$k,nmqd]} |" \
       "$(r "${L[$k,c]}" "${L[ort]}") / $(r "${L[$k,mqd]}" "${L[ort]}") / $(r "${L[$k,nc]}" "${L[ort]}") / $(r "${L[$k,nmqd]}" "${L[ort]}") |" \
       "${L[$k,w]} | ${L[$k,a]} |"
}
row "ours, float (models/$(basename "$peer"))" float
for n in "${names[@]}"; do row "ours, integer $n" "$n"; done
