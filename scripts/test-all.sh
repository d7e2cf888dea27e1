#!/usr/bin/env bash
# test-all.sh: installs what is missing, builds, and runs every test twice: a normal build and one
# under AddressSanitizer + UndefinedBehaviorSanitizer; then fuzzes each libFuzzer target for a bounded
# time (MAQD_FUZZ_SECONDS, default 30; 0 skips it) from a fixed seed (MAQD_FUZZ_SEED, default 1), so a
# CI run explores the same way each time; longer and other-seeded runs: scripts/fuzz.sh
# (docs/ROBUSTNESS.md).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/setup-debian.sh"
jobs="$(nproc)"

echo "== build (RelWithDebInfo) and test"
"$here/scripts/build.sh" "$here/build"
(cd "$here/build" && ctest --output-on-failure -j"$jobs")

echo "== build with ASan+UBSan and test"
"$here/scripts/build.sh" "$here/build-asan" -DMAQD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd "$here/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs")

fuzz_s="${MAQD_FUZZ_SECONDS:-30}"
if [ "$fuzz_s" != 0 ]; then
  echo "== fuzz each target for ${fuzz_s}s (clang, libFuzzer, ASan+UBSan, seed ${MAQD_FUZZ_SEED:-1})"
  "$here/scripts/fuzz.sh" all "$fuzz_s" -- -seed="${MAQD_FUZZ_SEED:-1}"
fi
