#!/usr/bin/env bash
# fuzz.sh TARGET [SECONDS] [-- libFuzzer options]: builds the libFuzzer targets (clang, ASan+UBSan, in
# build-fuzz/) if needed, makes the seed corpus, and fuzzes TARGET (onnx, mqd, idx, npy, pb, or all)
# for SECONDS (default 60) each. The corpus grows in build-fuzz/corpus/TARGET (kept between runs);
# crashes land in build-fuzz/crashes/TARGET/ and make the script fail: copy each into
# tests/fuzz/regressions/TARGET/ (replayed by ctest) and fix it. docs/ROBUSTNESS.md.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:?usage: fuzz.sh onnx|mqd|idx|npy|pb|all [SECONDS] [-- libFuzzer options]}"
secs="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))
[ "${1:-}" = "--" ] && shift
bdir="${MAQD_FUZZ_BUILD:-$here/build-fuzz}"
conf=/usr/share/libonnx-testdata/data

if [ ! -x "$bdir/tests/fuzz/fuzz_onnx" ] || [ "${MAQD_FUZZ_REBUILD:-1}" = 1 ]; then
  cmake -S "$here" -B "$bdir" -DCMAKE_C_COMPILER=clang -DMAQD_FUZZ=ON -DMAQD_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$bdir" -j"$(nproc)" --target fuzz_onnx fuzz_mqd fuzz_idx fuzz_npy fuzz_pb >/dev/null
fi

# Seeds: made here from the repository and libonnx-testdata, not committed (tests/fuzz/seeds holds
# the few that need a special layout).
seeds() {
  local t="$1" d="$bdir/seeds/$t"
  [ -d "$d" ] && return 0
  mkdir -p "$d.tmp"
  case "$t" in
    onnx)
      cp "$here"/tests/data/frontend/*.onnx "$here"/tests/data/cli/*.onnx "$here"/models/*.onnx "$d.tmp/"
      # every conformance model of at most 4 KiB (about 900 of them): many ops, attributes, subgraphs
      find "$conf" -name model.onnx -size -4k | while read -r f; do
        cp "$f" "$d.tmp/$(echo "${f#$conf/}" | tr / _)"
      done ;;
    mqd)
      cp "$here"/tests/fuzz/seeds/mqd/* "$d.tmp/"
      local maqdc="$bdir/maqdc"
      [ -x "$here/build/maqdc" ] && maqdc="$here/build/maqdc"
      # plus the data-dependent output shapes (bounded outputs, .mqd version 3) and unrolled loops
      for m in "$here"/models/fashion_cnn.onnx "$here"/tests/data/frontend/good_add.onnx \
               "$here"/tests/data/mqd/*.onnx \
               $(find "$conf/node" -name model.onnx -size -2k | sort | head -n 300) \
               $(find "$conf/node" -path '*nonzero*/model.onnx' -o -path '*unique*/model.onnx' \
                   -o -path '*compress*/model.onnx' -o -path '*loop11*/model.onnx' | sort); do
        "$maqdc" "$m" -o "$d.tmp/$(echo "$m" | tr / _).mqd" >/dev/null 2>&1 || true
      done ;;
    idx)
      cp "$here"/tests/fuzz/seeds/idx/* "$d.tmp/" ;;
    npy)
      cp "$here"/tests/data/frontend/*.npy "$here"/tests/data/datasets/*.npy "$here"/tests/data/cli/*.npy \
         "$here"/models/data/*.npy "$d.tmp/" ;;
    pb)
      find "$conf/node" -name 'input_*.pb' -size -2k | sort | head -n 400 | while read -r f; do
        cp "$f" "$d.tmp/$(echo "${f#$conf/}" | tr / _)"
      done
      cp "$here"/tests/data/cli/*.pb "$d.tmp/" ;;
  esac
  mv "$d.tmp" "$d"
}

run() {
  local t="$1"
  shift
  seeds "$t"
  mkdir -p "$bdir/corpus/$t" "$bdir/crashes/$t"
  echo "== fuzz_$t for ${secs}s"
  # -rss_limit_mb: the targets' caps keep honest inputs far below it; -timeout: a hang is a bug
  set +e
  (cd "$bdir/crashes/$t" && "$bdir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 "$@" "$bdir/corpus/$t" "$bdir/seeds/$t" 2>"$bdir/fuzz_$t.log")
  local rc=$?
  set -e
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$bdir/fuzz_$t.log" | sed "s/^/fuzz_$t: /" || true
  local crashes
  crashes=$(find "$bdir/crashes/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  echo "fuzz_$t: corpus $(ls "$bdir/corpus/$t" | wc -l) inputs; crashes/leaks/timeouts so far: $crashes"
  if [ "$rc" -ne 0 ]; then
    echo "fuzz_$t FAILED (exit $rc): see $bdir/fuzz_$t.log and $bdir/crashes/$t/" >&2
    tail -n 40 "$bdir/fuzz_$t.log" >&2
    return 1
  fi
}

if [ "$target" = all ]; then
  fail=0
  for t in onnx mqd idx npy pb; do run "$t" "$@" || fail=1; done
  exit "$fail"
fi
run "$target" "$@"
