#!/usr/bin/env bash
# setup-debian.sh: installs the Debian packages the build and the tests need (run as root on Debian 12),
# and onnxruntime-node (npm) for the reference comparisons. Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  libcmocka-dev libopenblas-dev zlib1g-dev
  libopenmpi-dev openmpi-bin
  libonnx-testdata python3-onnx python3-numpy
  gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
  graphviz chromium fonts-dejavu-core python3-pil
)
# Node.js with npm runs onnxruntime-node; use the machine's if it has one (its own npm included),
# else Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi
if [ "${MAQD_WITH_TORCH:-1}" = 1 ]; then
  PKGS+=(python3-torch python3-torchvision dataset-fashion-mnist)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# onnxruntime (CPU) for node, the reference for real-model comparisons. Its install script tries a
# download that cannot work offline and is not needed: the package ships the native binding.
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -f "$here/bench/ort/package.json" ] && [ ! -d "$here/bench/ort/node_modules/onnxruntime-node" ]; then
  (cd "$here/bench/ort" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
