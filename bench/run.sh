#!/usr/bin/env bash
# run.sh: the benchmark of issue 3, one command: latency, peak memory and compile time of the emitted C
# and the bundled runtime against onnxruntime (one thread), all measured in this run on one core.
#
# usage: bench/run.sh [BUILD_DIR]        (default BUILD_DIR: build-bench; configured Release if new)
# env:   BENCH_SECONDS=2   time budget of the timed runs per model and backend (after the warm-up)
#        BENCH_MODELS="resnet18 mobilenetv2 fashion_cnn fashion_resnet"   a subset
#        BENCH_NO_O3=1     skip the second emitted-C build (-O3 -march=native)
#        CC=cc             the compiler for the harnesses and the emitted C
#        BENCH_RT_CFLAGS="-march=native"   CMAKE_C_FLAGS of BUILD_DIR (libmaqdrt.a, Release: -O3 plus these)
#        BENCH_SWEEP=1     also: fashion_cnn's emitted C under gcc/clang x -O2/-O3 x generic/-march=native
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-$root/build-bench}" && cd "${1:-$root/build-bench}" && pwd)
work="$build/bench"
secs=${BENCH_SECONDS:-2}
models=${BENCH_MODELS:-"resnet18 mobilenetv2 fashion_cnn fashion_resnet"}
cc=${CC:-cc}
py=/usr/bin/python3
cflags_std="-std=c99 -w"          # the emitted C's own warnings are checked by the tests, not here
o2="-O2"
o3="-O3 -march=native"
mkdir -p "$work"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# One core, one thread everywhere. OPENBLAS_CORETYPE is left as the environment has it.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then pin=(taskset -c 0); fi

log() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
kv() { # kv KEY "line of key=value pairs"
  local k="$1" l="$2"
  sed -n "s/.*\b$k=\([^ ]*\).*/\1/p" <<<"$l"
}

# ---- build ------------------------------------------------------------------------------------------
rt_cflags=${BENCH_RT_CFLAGS--march=native}
if [ ! -f "$build/CMakeCache.txt" ]; then
  log "configuring $build (Release, CMAKE_C_FLAGS=$rt_cflags)"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMAQD_TESTS=OFF -DCMAKE_C_FLAGS="$rt_cflags" >/dev/null
elif [ "$(sed -n 's/^CMAKE_C_FLAGS:[A-Z]*=//p' "$build/CMakeCache.txt")" != "$rt_cflags" ]; then
  log "reconfiguring $build with CMAKE_C_FLAGS=$rt_cflags"
  cmake -S "$root" -B "$build" -DCMAKE_C_FLAGS="$rt_cflags" >/dev/null
fi
log "building maqdc and libmaqdrt.a in $build"
cmake --build "$build" -j2 --target maqdc >/dev/null
maqdc="$build/maqdc"
rtlib="$build/runtime/libmaqdrt.a"
bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
rtflags="$(sed -n "s/^CMAKE_C_FLAGS_$(tr a-z A-Z <<<"${bt:-none}"):[A-Z]*=//p" "$build/CMakeCache.txt") $rt_cflags"
"$cc" -O2 -Wall -Wextra -Werror -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root" "$root/bench/bench_mqd.c" "$rtlib" -lm -o "$work/bench_mqd"

# ---- models and inputs (generated, cached in the build tree) ----------------------------------------
if [ ! -f "$work/models/resnet18.onnx" ] || [ ! -f "$work/models/mobilenetv2.onnx" ]; then
  log "exporting resnet18 / mobilenetv2 (torchvision, random seeded weights, calibrated BN)"
  $py "$root/models/export_torchvision.py" "$work/models" --calibrate-bn >/dev/null
fi
$py "$root/tests/models/make_inputs.py" "$work/in" >/dev/null
model_path() {
  case "$1" in
    resnet18|mobilenetv2) echo "$work/models/$1.onnx" ;;
    *) echo "$root/models/$1.onnx" ;;
  esac
}
input_path() {
  case "$1" in
    resnet18|mobilenetv2) echo "$work/in/$1_input.npy" ;;
    *) echo "$work/in/fashion_input_1.npy" ;;
  esac
}

run_args=(--seconds "$secs" --warmup 2 --min-runs 5 --max-runs 1000)
ort_base=$("${pin[@]}" node "$root/bench/ort/ort_bench.js" --baseline)
declare -A R

relerr() { # relerr OURS.npy REF.npy -> relative L2 error, or "n/a"
  [ -f "$1" ] && [ -f "$2" ] || { echo n/a; return; }
  $py -c "import numpy as np,sys; a=np.load(sys.argv[1]).astype(np.float64); b=np.load(sys.argv[2]).astype(np.float64)
print('%.1e' % (np.linalg.norm(a-b)/max(np.linalg.norm(b),1e-300)) if a.shape==b.shape else 'shape!')" "$1" "$2"
}

timed() { # timed OUTVAR CMD...: runs CMD (stdout to $out_line), sets OUTVAR to "WALL (CPU)" seconds
  local var="$1"; shift
  local tf; tf=$(mktemp)
  out_line=$(/usr/bin/time -f "%e %U %S" -o "$tf" "$@") || { rm -f "$tf"; return 1; }
  printf -v "$var" '%s' "$(awk '{ printf "%.2f (%.2f)", $1, $2 + $3 }' "$tf")"
  rm -f "$tf"
}

for m in $models; do
  onnx=$(model_path "$m"); in=$(input_path "$m"); d="$work/$m"
  mkdir -p "$d"; rm -f "$d"/out_*.npy "$d"/model.mqd
  log "== $m"
  # compile: packed binary, then C (maqdc's whole process: import, lower, plan, write)
  timed t "$maqdc" "$onnx" -o "$d/model.mqd"; R[$m,mqd_compile]=$t
  R[$m,weights]=$(sed -n 's/.*weights (\([0-9]*\) bytes).*/\1/p' <<<"$out_line")
  R[$m,arena]=$(sed -n 's/.*arena \([0-9]*\) bytes.*/\1/p' <<<"$out_line")
  R[$m,macs]=$("$maqdc" info "$onnx" | sed -n 's/^MACs: *\([0-9]*\).*/\1/p')
  if timed t "$maqdc" "$onnx" -o "$d/bm.c" --prefix bm 2>"$d/emit.err"; then
    R[$m,c_compile]=$t; R[$m,c_arena]=$(sed -n 's/.*arena \([0-9]*\) bytes.*/\1/p' <<<"$out_line")
    R[$m,c_src_mb]=$(awk -v b="$(stat -c %s "$d/bm.c")" 'BEGIN { printf "%.0f", b / 1e6 }')
  else
    log "   C emitter failed: $(head -3 "$d/emit.err")"; R[$m,c_compile]=fail
  fi
  # the runtime
  log "   runtime (.mqd)"
  R[$m,mqd]=$("${pin[@]}" "$work/bench_mqd" "$d/model.mqd" "$in" -o "$d/out_mqd.npy" "${run_args[@]}")
  # the emitted C, -O2 and -O3 -march=native; a build is reused when bm.c, flags and compiler are unchanged
  for v in O2 O3; do
    [ "${R[$m,c_compile]}" = fail ] && break
    [ "$v" = O3 ] && [ -n "${BENCH_NO_O3:-}" ] && break
    flags=$o2; [ "$v" = O3 ] && flags=$o3
    key="$(md5sum <"$d/bm.c" | cut -d' ' -f1) $(md5sum <"$root/bench/bench_c.c" | cut -d' ' -f1) $cc $flags $("$cc" --version | head -1)"
    if [ -x "$d/bench_c_$v" ] && [ -f "$d/bench_c_$v.key" ] && [ "$(head -1 "$d/bench_c_$v.key")" = "$key" ]; then
      R[$m,cc_$v]="$(sed -n 2p "$d/bench_c_$v.key") cached"
      log "   emitted C ($flags): build reused ($d/bench_c_$v)"
    else
      log "   emitted C ($flags): compiling ($(awk -v b="$(stat -c %s "$d/bm.c")" 'BEGIN { printf "%.0f", b / 1e6 }') MB of C)"
      rm -f "$d/bench_c_$v" "$d/bench_c_$v.key"
      if ! timed t "$cc" $flags $cflags_std -D_POSIX_C_SOURCE=200809L -I"$root" -I"$d" "$root/bench/bench_c.c" "$d/bm.c" \
           -lm -o "$d/bench_c_$v" 2>"$d/cc_$v.err"; then
        log "   cc failed: $(head -3 "$d/cc_$v.err")"; continue
      fi
      R[$m,cc_$v]=$t; printf '%s\n%s\n' "$key" "$t" >"$d/bench_c_$v.key"
    fi
    log "   emitted C ($flags): running"
    R[$m,c_$v]=$("${pin[@]}" "$d/bench_c_$v" "$in" -o "$d/out_c_$v.npy" "${run_args[@]}")
  done
  log "   onnxruntime"
  R[$m,ort]=$("${pin[@]}" node "$root/bench/ort/ort_bench.js" "$onnx" "$in" -o "$d/out_ort.npy" "${run_args[@]}")
  R[$m,err_mqd]=$(relerr "$d/out_mqd.npy" "$d/out_ort.npy")
  R[$m,err_c]=$(relerr "$d/out_c_O2.npy" "$d/out_ort.npy")
done

# ---- tables -----------------------------------------------------------------------------------------
num() { # num KEY FIELD: a measured field with two decimals, or "-"
  local v; v=$(kv "$2" "${R[$1]:-}"); [ -n "$v" ] && printf '%.2f' "$v" || printf -- '-'
}
runs() { local v; v=$(kv runs "${R[$1]:-}"); printf '%s' "${v:--}"; }
ratio() { # ratio KEY MODEL FIELD: ours / onnxruntime's
  local a b; a=$(kv "$3" "${R[$1]:-}"); b=$(kv "$3" "${R[$2,ort]:-}")
  [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }' || printf -- '-'
}
mib() { [ -n "$1" ] && awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }' || printf -- '-'; }
rss() { local v; v=$(kv maxrss_kb "${R[$1]:-}"); [ -n "$v" ] && awk -v k="$v" 'BEGIN { printf "%.1f", k / 1024 }' || printf -- '-'; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo
echo "maqd benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $cpu ($(getconf _NPROCESSORS_ONLN) cores), pinned:" \
     "${pin[*]:-no (taskset unavailable)}; load average at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "emitted C: $cc $o2, and $o3; runtime: libmaqdrt.a ($bt: $rtflags), harness -O2; onnxruntime-node" \
     "$(node -p "require('$root/bench/ort/node_modules/onnxruntime-node/package.json').version"), 1 thread, graph opt all"
echo "Each backend: 2 warm-up runs, then timed runs for ~${secs} s (at least 5); runs = count (C -O2, C -O3n, .mqd, ort)."
for what in wall cpu; do
  if [ $what = wall ]; then
    f=median_ms; fm=min_ms
    echo; echo "Latency, wall clock (ms): median, and min in parentheses; ratio = ours / onnxruntime (medians)"
  else
    f=cpu_median_ms; fm=cpu_min_ms
    echo; echo "Latency, process CPU time per run (ms; leaves out time other jobs on the core take): median (min)"
  fi
  echo
  echo "| model | GMAC | C -O2 | C -O3 native | runtime .mqd | onnxruntime | C -O2 / ort | C -O3n / ort | .mqd / ort | runs | rel. L2 vs ort (C, .mqd) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
  for m in $models; do
    cell() { printf '%s (%s)' "$(num "$1" $f)" "$(num "$1" $fm)"; }
    gmac=$([ -n "${R[$m,macs]}" ] && awk -v v="${R[$m,macs]}" 'BEGIN { printf "%.3f", v / 1e9 }' || echo -)
    echo "| $m | $gmac | $(cell "$m,c_O2") | $(cell "$m,c_O3") | $(cell "$m,mqd") | $(cell "$m,ort") | $(ratio "$m,c_O2" "$m" $f) | $(ratio "$m,c_O3" "$m" $f) | $(ratio "$m,mqd" "$m" $f) | $(runs "$m,c_O2"), $(runs "$m,c_O3"), $(runs "$m,mqd"), $(runs "$m,ort") | ${R[$m,err_c]}, ${R[$m,err_mqd]} |"
  done
done
echo
echo "Peak memory (MiB). weights, arena: maqdc's memory plan. RSS: the process's max resident set (getrusage),"
echo "which for ours includes the weights and the input/output buffers; node + onnxruntime alone (no model"
echo "loaded) is $(awk -v k="$(kv maxrss_kb "$ort_base")" 'BEGIN { printf "%.1f", k / 1024 }') MiB."
echo
echo "| model | weights | arena (.mqd) | arena (C) | runtime RSS | C -O2 RSS | onnxruntime RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for m in $models; do
  echo "| $m | $(mib "${R[$m,weights]}") | $(mib "${R[$m,arena]}") | $(mib "${R[$m,c_arena]:-}") | $(rss "$m,mqd") | $(rss "$m,c_O2") | $(rss "$m,ort") |"
done
echo
echo "Compile time, s: wall (CPU user+sys). maqdc: the whole process (import, lower, plan, write); goal < 2 s."
echo "cc: the emitted C with the harness (\"cached\": the build of an earlier run with identical C, flags and cc)."
echo
echo "Load (s, wall): mqr_load of the .mqd (validation and CRC-32 of the whole file); onnxruntime's session create."
echo
echo "| model | maqdc -o x.mqd | maqdc -o x.c | emitted C (MB) | cc -O2 | cc -O3 -march=native | mqr_load | onnxruntime session load |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for m in $models; do
  sec() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }' || echo -; }
  echo "| $m | ${R[$m,mqd_compile]} | ${R[$m,c_compile]} | ${R[$m,c_src_mb]:--} | ${R[$m,cc_O2]:--} | ${R[$m,cc_O3]:--} |" \
       "$(sec "$(kv load_ms "${R[$m,mqd]:-}")") | $(sec "$(kv load_ms "${R[$m,ort]:-}")") |"
done

# ---- optional: how the emitted C's speed depends on the compiler and flags (small model, cheap) -------
if [ -n "${BENCH_SWEEP:-}" ] && [ -f "$work/fashion_cnn/bm.c" ]; then
  d="$work/fashion_cnn"
  echo
  echo "Compiler and flags, fashion_cnn's emitted C: process CPU time per run (ms), median (min); onnxruntime: $(num fashion_cnn,ort cpu_median_ms)"
  echo
  echo "| compiler | -O2 | -O2 -march=native | -O3 | -O3 -march=native |"
  echo "|---|---:|---:|---:|---:|"
  for c in gcc clang; do
    command -v "$c" >/dev/null 2>&1 || continue
    row="| $c $("$c" -dumpversion) |"
    for flags in "-O2" "-O2 -march=native" "-O3" "-O3 -march=native"; do
      if "$c" $flags $cflags_std -D_POSIX_C_SOURCE=200809L -I"$root" -I"$d" "$root/bench/bench_c.c" "$d/bm.c" -lm \
           -o "$d/sweep" 2>/dev/null; then
        l=$("${pin[@]}" "$d/sweep" "$work/in/fashion_input_1.npy" --seconds 1)
        row+=" $(printf '%.2f (%.2f)' "$(kv cpu_median_ms "$l")" "$(kv cpu_min_ms "$l")") |"
      else
        row+=" - |"
      fi
    done
    echo "$row"
  done
  rm -f "$d/sweep"
fi
