#!/bin/sh
# test_finetuned_accuracy.sh MAQDC SOURCE_DIR: the committed fine-tuned models keep the accuracy issue 4
# asks of them on the 10,000 Fashion-MNIST test images: (3,4) within 1.0 point of the float model's
# 91.27 % (threshold 0.9027; PyTorch measured the float model, models/README.md), (2,2) within 4
# points (0.8727). `maqdc eval` prints "accuracy: 0.XXXX".
set -eu
MAQDC=$1 SRC=$2
D=/usr/share/datasets/fashion-mnist
check() { # model threshold
    a=$("$MAQDC" eval "$SRC/models/$1" --images "$D/t10k-images-idx3-ubyte.gz" --labels "$D/t10k-labels-idx1-ubyte.gz" \
        --mean 0.2860 --std 0.3530 | sed -n 's/^accuracy: //p')
    [ -n "$a" ] || { echo "$1: no accuracy line"; exit 1; }
    if awk -v a="$a" -v t="$2" 'BEGIN { exit !(a >= t) }'; then echo "$1: accuracy $a >= $2"
    else echo "$1: accuracy $a < $2"; exit 1; fi
}
check fashion_cnn.onnx 0.9127
check fashion_cnn_w3a4.onnx 0.9027
check fashion_cnn_w2a2.onnx 0.8727
