#!/bin/sh
# test_int.sh: one fine-tuned model through the integer lowering: all 10,000 Fashion-MNIST test images,
# integer program vs the fake-quantized float model (>= 99.9 % same class, accuracies printed), the
# runtime's logits equal the executor's bit for bit; then the emitted C (gcc, -std=c99 -Werror) on the
# first 100 images gives the runtime's logits bit for bit.
# Usage: test_int.sh AGREE MAQDC MODEL.onnx FMNIST_DIR SOURCE_DIR WORK_DIR
set -eu
AGREE=$1 MAQDC=$2 M=$3 DATA=$4 SRC=$5 W=$6
NORM="--scale 255 --mean 0.2860 --std 0.3530"
rm -rf "$W" && mkdir -p "$W" && cd "$W"
"$AGREE" "$M" "$DATA/t10k-images-idx3-ubyte.gz" "$DATA/t10k-labels-idx1-ubyte.gz" $NORM --batch 100 \
    --save-u8 in_u8.npy --save-logits ref_logits.npy
"$MAQDC" "$M" -o model.c --int $NORM --shape batch=100 --main
gcc -std=c99 -O2 -Wall -Wextra -Werror -pedantic model.c -o model -lm
./model in_u8.npy -o out >/dev/null
cmp out/output_0.npy ref_logits.npy && echo "emitted C: logits identical to the executor's and the runtime's"
