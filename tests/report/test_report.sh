#!/bin/bash
# test_report.sh: `maqdc report` and `maqdc info --dot` end to end. The example models' reports rendered
# by headless Chromium: the screenshot is not blank (and shows the op-kind colours of the drawing), the
# page's text holds the numbers `maqdc info` prints, and the parameter count python3-onnx reads from the
# initializers; a short fine-tune writes its CSV log, whose report shows the epochs, the states asked
# for and the packed size python3-onnx computes; bad or missing logs and a missing Graphviz give a page
# with a note; a bad model is an error with no output; --dot output is read by Graphviz's dot.
#
# usage: test_report.sh PATH/TO/maqdc SOURCE_DIR        (needs chromium, graphviz, python3-onnx, python3-pil,
#                                                        dataset-fashion-mnist: scripts/setup-debian.sh)
set -u
[ $# -eq 2 ] || { echo "usage: $0 PATH/TO/maqdc SOURCE_DIR" >&2; exit 2; }
MAQDC=$(readlink -f "$1") SRC=$(readlink -f "$2")
PY=/usr/bin/python3
CHECK="$PY $SRC/tests/report/check_page.py"
FMNIST=/usr/share/datasets/fashion-mnist
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=86:print_stacktrace=1}

for need in "$MAQDC" "$PY" "$SRC/models/fashion_cnn.onnx" "$FMNIST/train-images-idx3-ubyte.gz"; do
    [ -e "$need" ] || { echo "test_report: missing $need (scripts/setup-debian.sh installs it)" >&2; exit 1; }
done
for prog in chromium dot; do
    command -v $prog >/dev/null || { echo "test_report: '$prog' not found: apt-get install ${prog/dot/graphviz}" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/maqdc-report.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
n_pass=0
n_fail=0
ok() { n_pass=$((n_pass + 1)); [ -n "${VERBOSE:-}" ] && echo "ok   $*"; return 0; }
bad() { n_fail=$((n_fail + 1)); echo "FAIL $*"; }
check() { # check NAME COMMAND...: passes if the command succeeds
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
has() { grep -qF -- "$2" "$1"; }

# maqdc itself: exit 86 is a sanitizer report, >= 128 a signal: always a failure.
run() { # run EXPECTED_RC OUT ERR maqdc-args...
    local want=$1 out=$2 err=$3
    shift 3
    "$MAQDC" "$@" >"$out" 2>"$err"
    local rc=$?
    if [ $rc -ne "$want" ]; then
        bad "maqdc $* exited $rc, expected $want: $(head -c 400 "$err")"
        return 1
    fi
    return 0
}

# Chromium, with a timeout and retries: a headless browser occasionally hangs or crashes at start-up on
# a loaded machine; three tries, each with its own profile, then a clear failure.
chrome() { # chrome OUTFILE MODE(dom|shot) URL
    local out=$1 mode=$2 url=$3 try
    for try in 1 2 3; do
        rm -rf "$T/profile"
        if [ "$mode" = dom ]; then
            timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$T/profile" \
                --dump-dom "$url" >"$out" 2>"$T/chrome.err" && [ -s "$out" ] && return 0
        else
            rm -f "$out"
            timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$T/profile" \
                --window-size=1280,3000 --screenshot="$out" "$url" >/dev/null 2>"$T/chrome.err" && [ -s "$out" ] && return 0
        fi
        echo "test_report: chromium try $try of 3 failed ($mode $url): $(grep -v dbus "$T/chrome.err" | tail -n 2)" >&2
        sleep 2
    done
    return 1
}

info_num() { # info_num INFO_FILE REGEX: the first match's group 1
    sed -nE "s/$2/\1/p" "$1" | head -n 1
}

# ---- the example models: page text vs `maqdc info`, screenshot not blank ---------------------------
for name in fashion_cnn fashion_resnet; do
    model=$SRC/models/$name.onnx
    run 0 info.txt info.err info "$model" || continue
    params=$(info_num info.txt '^parameters: ([0-9]+ \([0-9]+ bytes\))')
    macs=$(info_num info.txt '^MACs: +([0-9]+)$')
    arena=$(info_num info.txt '^arena: +([0-9]+ bytes \(sum of intermediates [0-9]+, largest [0-9]+\))')
    compile=$(info_num info.txt '^compile: +(.*)$')
    if [ -z "$params" ] || [ -z "$macs" ] || [ -z "$arena" ] || [ -z "$compile" ]; then
        bad "$name: cannot read maqdc info's numbers"
        continue
    fi
    read -r onnx_params onnx_bytes < <($CHECK params "$model")
    check "$name: info's parameters match python3-onnx's count" [ "$params" = "$onnx_params ($onnx_bytes bytes)" ]
    run 0 out.txt err.txt report "$model" -o "$name.html" || continue
    check "$name: nothing on stderr" [ ! -s err.txt ]
    if ! chrome dom.html dom "file://$T/$name.html"; then
        bad "$name: chromium --dump-dom failed 3 times"
        continue
    fi
    $CHECK text dom.html page.txt
    check "$name: page holds the parameters" has page.txt "parameters $params"
    check "$name: page holds the MACs" has page.txt "MACs $macs ("
    check "$name: page holds the arena" has page.txt "arena $arena"
    check "$name: page holds the compiled program" has page.txt "compiled $compile"
    peak=${arena%% *}
    check "$name: timeline marks the peak" has page.txt "arena peak $peak bytes"
    check "$name: graph drawn" grep -q '<svg[^>]*id="graph0"\|class="graph"' dom.html
    check "$name: no fine-tuning log note" has page.txt "No fine-tuning log given:"
    check "$name: no script in the page" eval "! grep -qi '<script' $name.html"
    check "$name: no network reference" eval "! grep -qiE '(src|href)=\"(https?:)?//' $name.html"
    if ! chrome shot.png shot "file://$T/$name.html"; then
        bad "$name: chromium --screenshot failed 3 times"
        continue
    fi
    read -r w h frac colors kinds < <($CHECK png shot.png)
    # a blank page is one colour; the report has text, bars, the drawing in several kind colours
    check "$name: screenshot ${w}x$h not blank (non-white $frac, $colors colours)" \
        $PY -c "import sys; sys.exit(not ($frac > 0.05 and $colors > 50))"
    check "$name: drawing shows the op-kind colours ($kinds)" [ "$kinds" -ge 4 ]
    run 0 dot.txt dot.err info "$model" --dot || continue
    check "$name: --dot read by Graphviz" dot -Tsvg dot.txt -o dot.svg
    run 0 out.txt err.txt info "$model" --dot -o file.dot
    check "$name: --dot -o FILE writes the same" cmp -s dot.txt file.dot
done

# ---- a short fine-tune with its log ---------------------------------------------------------------
$PY "$SRC/scripts/fmnist_subset.py" train 256 "$T" && $PY "$SRC/scripts/fmnist_subset.py" t10k 256 "$T"
FT=(--train-images train-images-256.gz --train-labels train-labels-256.gz --val-images t10k-images-256.gz
    --val-labels t10k-labels-256.gz --scale 255 --mean 0.2860 --std 0.3530 --batch 64 --lr 0.01
    --w-states 3 --a-states 4 --calib-batches 2 --quiet)
if run 0 ft.out ft.err finetune "$SRC/models/fashion_cnn.onnx" "${FT[@]}" --epochs 2 -o ft.onnx; then
    check "finetune: default log next to the output" [ -f ft.log.csv ]
    check "finetune: log header" [ "$(head -n 1 ft.log.csv)" = "phase,epoch,step,lr,train_loss,train_acc,val_loss,val_acc,images_per_s,seconds" ]
    check "finetune: a float row and 2 epochs" [ "$(cut -d, -f1,2 ft.log.csv | tail -n +2 | tr '\n' ' ')" = "float,0 train,1 train,2 " ]
    check "finetune: 4 steps per epoch (256 / 64)" [ "$(cut -d, -f3 ft.log.csv | tail -n 1)" = 8 ]
    # the float row's accuracy is what `maqdc eval` measures on the same images
    run 0 eval.txt eval.err eval "$SRC/models/fashion_cnn.onnx" --images t10k-images-256.gz --labels t10k-labels-256.gz \
        --scale 255 --mean 0.2860 --std 0.3530
    ev=$(sed -nE 's/^accuracy: ([0-9.]+)$/\1/p' eval.txt)
    fl=$(sed -n 2p ft.log.csv | cut -d, -f8)
    check "finetune: float row's val_acc $fl = maqdc eval's $ev" $PY -c "import sys; sys.exit(abs($fl - $ev) > 5e-5)"
    run 0 eval.txt eval.err eval ft.onnx --images t10k-images-256.gz --labels t10k-labels-256.gz \
        --scale 255 --mean 0.2860 --std 0.3530
    ev=$(sed -nE 's/^accuracy: ([0-9.]+)$/\1/p' eval.txt)
    qa=$(tail -n 1 ft.log.csv | cut -d, -f8)
    check "finetune: last row's val_acc $qa = maqdc eval of the export $ev" $PY -c "import sys; sys.exit(abs($qa - $ev) > 5e-5)"
    run 0 out.txt err.txt finetune "$SRC/models/fashion_cnn.onnx" "${FT[@]}" --epochs 1 -o ft1.onnx --log custom.csv
    check "finetune: --log FILE" eval '[ -f custom.csv ] && [ ! -f ft1.log.csv ]'
    run 1 out.txt err.txt finetune "$SRC/models/fashion_cnn.onnx" "${FT[@]}" --epochs 1 -o ft2.onnx --log nodir/x.csv
    check "finetune: unwritable log fails before training, no model" [ ! -f ft2.onnx ]

    run 0 out.txt err.txt report ft.onnx --log ft.log.csv -o ft.html
    if chrome dom.html dom "file://$T/ft.html"; then
        $CHECK text dom.html page.txt
        check "fine-tuned: comparison table" grep -q 'id="compare"' dom.html
        check "fine-tuned: loss and accuracy charts" grep -q 'id="acc-chart"' dom.html
        check "fine-tuned: weight states 3 (2 bit)" has page.txt "3 (2 bit)"
        check "fine-tuned: activation states 4 (2 bit)" has page.txt "4 (2 bit)"
        check "fine-tuned: 2 layers' weights quantized" grep -qE "2 of [0-9]+ layers with quantized weights, 3 activation quantizers" page.txt
        read -r stored packed < <($CHECK packed ft.onnx 3)
        check "fine-tuned: packed $packed of $stored bytes (python3-onnx)" has page.txt "$stored bytes as stored"
        check "fine-tuned: packed bytes" has page.txt "$packed bytes packed at the layers' states"
        check "fine-tuned: accuracy from the log" has page.txt "validation accuracy $(printf %.4f "$fl") $(printf %.4f "$qa")"
    else
        bad "fine-tuned: chromium --dump-dom failed 3 times"
    fi
    run 0 dot.txt dot.err info ft.onnx --dot && check "fine-tuned: --dot read by Graphviz" dot -Tsvg dot.txt -o dot.svg
fi

# ---- bad and missing logs: the page without the section, with a note --------------------------------
printf 'phase,epoch,step,lr,train_loss,train_acc,val_loss,val_acc,images_per_s,seconds\ntrain,1,8,0.01,1.2,0.5,,,,\n' >noval.csv
printf 'not,a,log\n1,2,3\n' >wrong.csv
printf 'phase,epoch,step,lr,train_loss,train_acc,val_loss,val_acc,images_per_s,seconds\ntrain,1,8,zero,1,0.5,,,,\n' >badnum.csv
: >empty.csv
head -c 3000 /dev/urandom >random.csv
for log in wrong.csv badnum.csv empty.csv random.csv missing.csv; do
    run 0 out.txt err.txt report "$SRC/models/fashion_cnn.onnx" --log "$log" -o "log-$log.html" || continue
    check "log $log: a note on stderr" has err.txt "no fine-tuning section: $log"
    check "log $log: note in the page" has "log-$log.html" "the log could not be used: $log"
    check "log $log: no fine-tuning tables" eval "! grep -q 'id=\"compare\"\|id=\"epochs\"' log-$log.html"
    check "log $log: the rest is there" grep -q 'id="arena"' "log-$log.html"
done
run 0 out.txt err.txt report "$SRC/models/fashion_cnn.onnx" --log noval.csv -o noval.html &&
    check "log without validation: epochs shown" grep -q 'id="epochs"' noval.html &&
    check "log without validation: the note" has noval.html "No validation accuracy in the log"

# ---- no Graphviz at run time: the page with a note ---------------------------------------------------
MAQD_DOT=$T/no-such-dot run 0 out.txt err.txt report "$SRC/models/fashion_cnn.onnx" -o nodot.html &&
    check "no dot: note in the page" has nodot.html "No drawing:" &&
    check "no dot: note on stderr" has err.txt "no graph drawing" &&
    check "no dot: the rest is there" grep -q 'id="layer-chart"' nodot.html
printf '#!/bin/sh\nexit 3\n' >failing-dot && chmod +x failing-dot
MAQD_DOT=$T/failing-dot run 0 out.txt err.txt report "$SRC/models/fashion_cnn.onnx" -o faildot.html &&
    check "failing dot: note" has faildot.html "failed (exit 3)"

# ---- bad model, bad arguments: errors, no output ----------------------------------------------------
head -c 200 /dev/urandom >bad.onnx
head -c 5000 "$SRC/models/fashion_cnn.onnx" >truncated.onnx
for m in bad.onnx truncated.onnx missing.onnx; do
    mkdir -p "out-$m"
    run 1 out.txt err.txt report "$m" -o "out-$m/r.html"
    check "bad model $m: one stderr line naming it" eval '[ "$(wc -l <err.txt)" = 1 ] && has err.txt "maqdc: $m"'
    check "bad model $m: no output, no temporary" [ -z "$(ls -A "out-$m")" ]
    run 1 out.txt err.txt info "$m" --dot -o "out-$m/g.dot"
    check "bad model $m: --dot writes nothing" eval '[ -z "$(ls -A "out-$m")" ] && [ ! -s out.txt ]'
done
run 1 out.txt err.txt report "$SRC/models/fashion_cnn.onnx" -o no-such-dir/r.html
check "unwritable output: error names it" has err.txt "no-such-dir/r.html"
run 2 out.txt err.txt report "$SRC/models/fashion_cnn.onnx"
check "no -o: usage error" has err.txt "-o REPORT.html is required"
run 2 out.txt err.txt report "$SRC/models/fashion_cnn.onnx" --log
run 2 out.txt err.txt info "$SRC/models/fashion_cnn.onnx" -o x.dot
run 0 out.txt err.txt report --help && check "report --help" has out.txt "usage: maqdc report"

echo "test_report: $n_pass passed, $n_fail failed"
[ "$n_fail" -eq 0 ]
