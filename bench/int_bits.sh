#!/usr/bin/env bash
# int_bits.sh: the popcount kernel qint_layer_b1 against the general qint_layer on the layers of the
# example CNN for input codes of 1..4 bits (bench/int_bits.c), both compiled with the same flags, one core, same run
# (-DMQK_QB_POPCOUNT_ONLY: the popcounts even where a VNNI build would hand convolutions to qint_layer).
#
# usage: bench/int_bits.sh [SECONDS per measurement, default 1]
# env:   CC=cc, BENCH_COPT=-O2 (e.g. "-O2 -march=native": POPCNT, AVX2, AVX-512 VPOPCNTDQ where the host has them)
#        BENCH_QB_DEFS (e.g. -DMQK_QB_NO_AVX512: POPCNT, never VPOPCNTDQ; -DMQK_QB_PORTABLE: the SWAR count)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc=${CC:-cc}
copt=${BENCH_COPT:--O2}
defs=${BENCH_QB_DEFS:-}
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi
"$cc" $copt -std=c99 -Wall -Wextra -Werror -Wno-unused-function -D_POSIX_C_SOURCE=200809L -DMQK_QB_POPCOUNT_ONLY $defs -I"$root" "$root/bench/int_bits.c" \
    "$root/runtime/kernels/qint_bits.c" "$root/runtime/kernels/qint_layer.c" -o "$work/int_bits"
echo "qint_layer_b1 vs qint_layer: $(date -u '+%Y-%m-%d %H:%M UTC'), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
     "$cc $copt${defs:+ $defs}, pinned: ${pin[*]:-no}, load average $(cut -d' ' -f1-3 /proc/loadavg); process CPU time per call, median"
echo
"${pin[@]}" "$work/int_bits" "${1:-1}"
