# Prints the top-1 accuracy of a logits tensor (.npy or TensorProto .pb, shape [N,classes]) against
# int labels (.npy); exits 1 if below --min. Used to check a runtime reproduces a model's accuracy.
import argparse
import sys

import numpy as np

from compare import load


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logits")
    ap.add_argument("labels")
    ap.add_argument("--min", type=float, default=0.0, help="fail below this accuracy")
    args = ap.parse_args()
    logits = load(args.logits)
    labels = load(args.labels)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        print("FAIL: logits %s vs labels %s" % (list(logits.shape), list(labels.shape)))
        return 1
    acc = float(np.mean(np.argmax(logits, axis=1) == labels))
    ok = acc >= args.min
    print("%s accuracy %.4f on %d samples (min %.4f)" % ("ok  " if ok else "FAIL", acc, len(labels),
                                                         args.min))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
