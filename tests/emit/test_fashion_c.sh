#!/bin/sh
# test_fashion_c.sh: the example model as portable C: emitted with --main, compiled with gcc and clang
# (-std=c99 -Wall -Wextra -Werror -pedantic), run on 8 test images, outputs within 1e-5 of the executor's;
# the library object (no main) references nothing but libm and memcpy/memset/memmove; --arena=caller
# and --prefix give the same bytes. Usage: test_fashion_c.sh MAQDC SOURCE_DIR WORK_DIR
set -eu
MAQDC=$1 SRC=$2 W=$3
M=$SRC/models/fashion_cnn.onnx X=$SRC/models/data/fashion_test_8.npy
CMP="/usr/bin/python3 $SRC/tests/emit/compare_npy.py"
FLAGS="-std=c99 -O2 -Wall -Wextra -Werror -pedantic"
rm -rf "$W" && mkdir -p "$W/lib" "$W/caller" && cd "$W"

"$MAQDC" run "$M" --input "$X" --output-dir ref --shape batch=8 >/dev/null
"$MAQDC" "$M" -o fashion.c --shape batch=8 --main
for cc in gcc clang; do
    $cc $FLAGS fashion.c -o fashion_$cc -lm
    ./fashion_$cc "$X" -o out_$cc >/dev/null
    $CMP out_$cc/output_0.npy ref/output_0.pb 1e-5
done
cmp out_gcc/output_0.npy out_clang/output_0.npy && echo "gcc and clang builds: identical outputs"

# the library: no main, nothing undefined but libm and the mem* functions
"$MAQDC" "$M" -o lib/fashion.c --shape batch=8 >/dev/null
LIBM=$(gcc -print-file-name=libm.so.6)
nm -D --defined-only "$LIBM" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' | sort -u > libm.syms
[ -s libm.syms ] || { echo "cannot list libm's symbols ($LIBM)"; exit 1; }
for cc in gcc clang; do
    for opt in -O0 -O2; do
        $cc $FLAGS $opt -c lib/fashion.c -o lib/fashion_$cc$opt.o
        bad=$(nm -u lib/fashion_$cc$opt.o | awk '{print $NF}' | grep -vxE 'memcpy|memset|memmove' | grep -vxF -f libm.syms || true)
        if [ -n "$bad" ]; then echo "$cc $opt: model.o needs more than libm and mem*: $bad"; exit 1; fi
        echo "$cc $opt: undefined symbols: $(nm -u lib/fashion_$cc$opt.o | awk '{print $NF}' | tr '\n' ' ')"
    done
done
if grep -nE '\b(malloc|calloc|realloc|free|printf|fprintf|fopen) *\(|FILE *\*|<stdio.h>|<stdlib.h>' lib/fashion.c; then
    echo "the library model.c mentions malloc/stdio"; exit 1
fi

# --arena=caller and --prefix: the run takes the arena; same output bytes
"$MAQDC" "$M" -o caller/net.c --shape batch=8 --arena=caller --prefix fcnn --main >/dev/null
grep -q 'int fcnn_run(const float \*in0, float \*out0, void \*arena);' caller/net.h
grep -q '#define FCNN_ARENA_BYTES' caller/net.h && grep -q '#define FCNN_IN0_DIMS {8, 1, 28, 28}' caller/net.h
grep -q "arena: FCNN_ARENA_BYTES bytes" caller/net.h || { echo "the header comment does not name FCNN_ARENA_BYTES"; exit 1; }
gcc $FLAGS caller/net.c -o caller/net -lm
caller/net "$X" -o out_caller >/dev/null
cmp out_caller/output_0.npy out_gcc/output_0.npy && echo "--arena=caller: identical outputs"
echo "fashion_cnn as C: ok"
