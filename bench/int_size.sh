#!/bin/sh
# int_size.sh: issue 5's size table: per layer and total, the bytes of weights and of per-channel
# parameters (float: BatchNormalization; integer: thresholds, or k, b of the float-logit layer), the code
# (emitted C compiled -Os: host gcc, and arm-none-eabi-gcc for a Cortex-M4F) and the arena, for the float
# model and each fine-tuned model lowered with --int (batch 1).
# Usage: bench/int_size.sh [FLOAT.onnx [FINETUNED.onnx...]]  (default: models/fashion_cnn.onnx and
# models/fashion_cnn_w*a*.onnx); MAQDC=path (default build/maqdc).
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
MAQDC=${MAQDC:-$SRC/build/maqdc}
NORM="--scale 255 --mean 0.2860 --std 0.3530"
M4="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -ffunction-sections -fdata-sections"
if [ $# -eq 0 ]; then set -- "$SRC/models/fashion_cnn.onnx" "$SRC"/models/fashion_cnn_w*a*.onnx; fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# code bytes: the .text sections of the -Os object (weights are .rodata, the arena .bss)
text_of() { "$1" -A "$2" | awk '$1 ~ /^\.text/ {s += $2} END {print s + 0}'; }
k=0
for m in "$@"; do
    name=$(basename "$m" .onnx)
    d="$W/$k" && mkdir -p "$d"
    if [ $k -eq 0 ]; then INT=""; else INT="--int $NORM"; fi
    "$MAQDC" "$m" -o "$d/model.c" $INT --shape batch=1 >/dev/null
    gcc -std=c99 -Os -ffunction-sections -fdata-sections -c "$d/model.c" -o "$d/host.o"
    arm-none-eabi-gcc -std=c99 $M4 -c "$d/model.c" -o "$d/m4.o"
    printf '%s %s %s %s\n' "$name" "$(text_of size "$d/host.o")" "$(text_of arm-none-eabi-size "$d/m4.o")" \
        "$(awk '/_ARENA_BYTES/ {print $3}' "$d/model.h")" >"$d/info"
    k=$((k + 1))
done
/usr/bin/python3 - "$W" "$k" "$@" <<'PY'
import os, re, sys
import onnx
from onnx import numpy_helper

w, n, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
DT = {"float32": 4, "int64": 8, "int32": 4, "uint8": 1, "int16": 2}


def emitted(path):  # {tensor name: bytes} from the emitted C's weight comments
    out = {}
    for m in re.finditer(r"/\* '([^']+)' (\w+) \[([0-9, ]*)\] \*/", open(path).read()):
        size = DT[m.group(2)]
        for d in filter(None, m.group(3).split(",")):
            size *= int(d)
        out[m.group(1)] = size
    return out


def layers(path):  # the Conv / Gemm / MatMul nodes in order: (node name, weight names, following-BN names)
    g = onnx.load(path).graph
    inits = {i.name for i in g.initializer}
    res = []
    for nd in g.node:
        if nd.op_type in ("Conv", "Gemm", "MatMul"):
            res.append([nd.name, [x for x in nd.input if x in inits], []])
        elif nd.op_type == "BatchNormalization" and res:
            res[-1][2] += [x for x in nd.input if x in inits]
    return res


names, rows, totals = [], {}, []
for k in range(n):
    name, host, m4, arena = open(os.path.join(w, str(k), "info")).read().split()
    sizes = emitted(os.path.join(w, str(k), "model.c"))
    names.append(name)
    tw = tp = 0
    for lname, ws, bns in layers(models[k]):
        if k == 0:
            wb, pb = sum(sizes.get(x, 0) for x in ws), sum(sizes.get(x, 0) for x in bns)
        else:
            wb = sizes.get(lname + ".wpacked", 0)  # packed codes
            pb = sizes.get(lname + ".thresholds", 0) + sizes.get(lname + ".kb", 0)
        rows.setdefault(lname, {})[name] = (wb, pb)
        tw, tp = tw + wb, tp + pb
    allw = sum(sizes.values())
    totals.append((name, tw, tp, allw, int(host), int(m4), int(arena)))

print("Per layer: weight bytes / per-channel parameter bytes (float: conv or gemm weights + bias / BN;")
print("integer: packed codes / thresholds, or k, b of the float-logit")
print("layer; a residual Add's table or fixed-point parameters count in the total only)\n")
print("| layer | " + " | ".join(names) + " |")
print("|---|" + "---:|" * len(names))
for lname, r in rows.items():
    print("| %s | %s |" % (lname, " | ".join("%d / %d" % r[m] if m in r else "-" for m in names)))
print("\nTotals (batch 1; code = .text of the emitted C compiled -Os, host gcc x86-64 and arm-none-eabi-gcc")
print("Cortex-M4F; arena = NAME_ARENA_BYTES):\n")
print("| model | weights | per-channel params | all weight arrays | all vs float | code host | code M4 | arena |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
f = totals[0][3]
for name, tw, tp, allw, host, m4, arena in totals:
    print("| %s | %d | %d | %d | 1/%.2f | %d | %d | %d |" % (name, tw, tp, allw, f / allw if allw else 0, host, m4, arena))
PY
