# Checks a (fine-tuned) Fashion-MNIST model on the 10,000 test images: runs it with `maqdc run`
# (reference executor) and with onnxruntime-node (bench/ort/ort_run.js), in chunks, and prints both
# accuracies and how many of the 10,000 top-1 predictions agree. Usage (from the repository root):
#   /usr/bin/python3 models/check_agreement.py MAQDC MODEL.onnx [--workdir DIR] [--chunk N]
# Exits 1 if the runs fail or any prediction differs.
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "models"))
from compare import load  # noqa: E402
from make_inputs import FMNIST_LABELS, fashion_inputs, read_idx_labels  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("maqdc")
    ap.add_argument("model")
    ap.add_argument("--workdir")
    ap.add_argument("--chunk", type=int, default=1000)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="agree_")
    os.makedirs(work, exist_ok=True)
    x = fashion_inputs(10000)
    y = read_idx_labels(FMNIST_LABELS)
    ort_js = os.path.join(HERE, "..", "bench", "ort", "ort_run.js")
    ours, ref = [], []
    for i in range(0, len(x), args.chunk):
        inp = os.path.join(work, "in.npy")
        np.save(inp, x[i:i + args.chunk])
        d_ours, d_ort = os.path.join(work, "ours"), os.path.join(work, "ort")
        subprocess.run([args.maqdc, "run", args.model, "--input", inp, "--output-dir", d_ours], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["node", ort_js, args.model, d_ort, inp], check=True)
        ours.append(load(os.path.join(d_ours, "output_0.pb")))
        ref.append(load(os.path.join(d_ort, "output_0.npy")))
    po = np.argmax(np.concatenate(ours), axis=1)
    pr = np.argmax(np.concatenate(ref), axis=1)
    agree = int(np.sum(po == pr))
    print("%s: maqdc accuracy %.4f, onnxruntime accuracy %.4f, top-1 agreement %d/%d" %
          (os.path.basename(args.model), float(np.mean(po == y)), float(np.mean(pr == y)), agree, len(y)))
    return 0 if agree == len(y) else 1


if __name__ == "__main__":
    sys.exit(main())
