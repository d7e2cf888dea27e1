#!/bin/sh
# test_int.sh: one fine-tuned model through the integer lowering: all 10,000 Fashion-MNIST test images,
# integer program vs the fake-quantized float model (>= 99.9 % same class, accuracies printed), the
# runtime's logits equal the executor's bit for bit (first 1,000 images); then the emitted C (gcc, -std=c99 -Werror) on the
# first 100 images gives the runtime's logits bit for bit.
# Usage: test_int.sh AGREE MAQDC MODEL.onnx FMNIST_DIR SOURCE_DIR WORK_DIR
set -eu
export OPENBLAS_NUM_THREADS=1 # the float reference: a spinning second BLAS thread only steals the other ctest job's core
AGREE=$1 MAQDC=$2 M=$3 DATA=$4 SRC=$5 W=$6
NORM="--scale 255 --mean 0.2860 --std 0.3530"
CMP="/usr/bin/python3 $SRC/tests/emit/compare_npy.py" # tolerance 0: every logit equal
rm -rf "$W" && mkdir -p "$W" && cd "$W"
LIMIT=${MAQD_INT_LIMIT:+--limit $MAQD_INT_LIMIT} # all 10,000 images unless set (CMakeLists.txt says when)
# the executor's integer run (same kernels as the runtime's, through the host's call path) is compared
# with the runtime's bit for bit on the first 1,000 images; the agreement uses the runtime's logits
"$AGREE" "$M" "$DATA/t10k-images-idx3-ubyte.gz" "$DATA/t10k-labels-idx1-ubyte.gz" $NORM --batch 100 $LIMIT \
    --exec-limit 1000 --save-u8 in_u8.npy --save-logits ref_logits.npy
"$MAQDC" "$M" -o model.c --int $NORM --shape batch=100 --main
gcc -std=c99 -O2 -Wall -Wextra -Werror -pedantic model.c -o model -lm
./model in_u8.npy -o out >/dev/null
$CMP out/output_0.npy ref_logits.npy 0
echo "emitted C: logits identical to the executor's and the runtime's"
# on x86 the -O2 build takes qint_layer's AVX-512 VNNI path where the CPU has it (chosen at run time);
# held to SSE2 (popcounts for the 2-state convolutions) it gives them too
if gcc -dM -E - </dev/null | grep -q __SSE2__; then
    gcc -std=c99 -O2 -Wall -Wextra -Werror -pedantic -DMQK_QL_NO_AVX512 model.c -o model_sse2 -lm
    ./model_sse2 in_u8.npy -o out_sse2 >/dev/null
    $CMP out_sse2/output_0.npy ref_logits.npy 0
    echo "emitted C -O2 -DMQK_QL_NO_AVX512 (SSE2): logits identical"
fi
# on an AVX-512 VNNI host the same C built for it (qint_layer.c's vector paths) gives them too
if grep -q avx512_vnni /proc/cpuinfo 2>/dev/null; then
    gcc -std=c99 -O2 -march=native -Wall -Wextra -Werror -pedantic model.c -o model_native -lm
    ./model_native in_u8.npy -o out_native >/dev/null
    $CMP out_native/output_0.npy ref_logits.npy 0
    echo "emitted C -march=native (AVX-512 VNNI): logits identical"
fi

# Cortex-M4F (-Os, bare metal, batch 1): flash and RAM; then 32-bit ARM Linux under qemu-arm: the same
# 100 images give the host's logits bit for bit
if [ "${MAQD_INT_CROSS:-1}" = 1 ]; then
    for t in arm-none-eabi-gcc arm-linux-gnueabihf-gcc qemu-arm; do
        command -v $t >/dev/null || { echo "$t not installed (run scripts/setup-debian.sh)"; exit 1; }
    done
    mkdir -p m4 arm
    "$MAQDC" "$M" -o m4/fashion.c --int $NORM --shape batch=1 >/dev/null
    M4="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -ffunction-sections -fdata-sections"
    arm-none-eabi-gcc -std=c99 -Wall -Wextra -Werror -pedantic $M4 -c m4/fashion.c -o m4/fashion.o
    arm-none-eabi-gcc -std=gnu99 -Wall -Wextra -Werror $M4 -I m4 -DMODEL_HEADER='"fashion.h"' -DMODEL_INPUT_U8 \
        -c "$SRC/tests/emit/m4_startup.c" -o m4/startup.o
    arm-none-eabi-gcc $M4 -nostartfiles --specs=nano.specs --specs=nosys.specs -T "$SRC/tests/emit/m4.ld" \
        -Wl,--gc-sections m4/startup.o m4/fashion.o -lm -o m4/fashion.elf
    arm-none-eabi-size m4/fashion.elf | awk 'NR==2 {printf "Cortex-M4F integer model: flash %d bytes (text %d + data %d), RAM %d bytes (data %d + bss %d)\n", $1+$2, $1, $2, $2+$3, $2, $3}'
    cp model.c arm/model.c && cp model.h arm/model.h
    arm-linux-gnueabihf-gcc -std=c99 -O2 -Wall -Wextra -Werror -pedantic arm/model.c -o arm/model -lm
    qemu-arm -L /usr/arm-linux-gnueabihf arm/model in_u8.npy -o out_arm >/dev/null
    $CMP out_arm/output_0.npy ref_logits.npy 0
    echo "qemu-arm (32-bit ARM): logits identical to the host's"
fi
