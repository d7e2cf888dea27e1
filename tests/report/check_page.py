#!/usr/bin/python3
"""check_page.py: checks on a rendered report for tests/report/test_report.sh.

  check_page.py text DOM.html OUT.txt     the visible text of a DOM dump (chromium --dump-dom), one line,
                                          whitespace collapsed, <style> left out
  check_page.py png SHOT.png              prints "W H nonwhite_fraction distinct_colors kinds_seen"
                                          (kinds_seen: how many of the report's op-kind colours occur)
  check_page.py params MODEL.onnx         parameter count and bytes from the initializers (python3-onnx)
  check_page.py packed MODEL.onnx W       expected weight bytes stored and packed for a model fine-tuned
                                          at W weight states with the first and last layer left float
"""
import math
import sys
from html.parser import HTMLParser


class Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def text(dom, out):
    p = Text()
    p.feed(open(dom, encoding="utf-8").read())
    open(out, "w", encoding="utf-8").write(" ".join(" ".join(p.parts).split()) + "\n")


KIND_COLORS = ["#f4a261", "#a8dadc", "#90be6d", "#e76f51", "#bdb2ff", "#ffd166", "#d9d9d9"]


def png(path):
    from PIL import Image

    im = Image.open(path).convert("RGB")
    w, h = im.size
    colors = im.getcolors(maxcolors=1 << 24)
    nonwhite = sum(c for c, rgb in colors if rgb != (255, 255, 255))
    have = {rgb for _, rgb in colors}
    kinds = sum(1 for k in KIND_COLORS if tuple(int(k[i:i + 2], 16) for i in (1, 3, 5)) in have)
    print(w, h, "%.4f" % (nonwhite / (w * h)), len(colors), kinds)


def onnx_inits(path):
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    return m, {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def params(path):
    _, inits = onnx_inits(path)
    print(sum(a.size for a in inits.values()), sum(a.nbytes for a in inits.values()))


def packed(path, w_states):
    import numpy as np

    m, inits = onnx_inits(path)
    layers = [n for n in m.graph.node if n.op_type in ("Conv", "Gemm", "MatMul") and n.input[1] in inits]
    stored = sum(a.nbytes for a in inits.values())
    packed = stored
    bits = math.ceil(math.log2(w_states))
    for n in layers[1:-1]:
        w = inits[n.input[1]]
        levels = np.unique(w)
        assert len(levels) <= w_states, (n.name, len(levels))
        packed -= w.nbytes - math.ceil(w.size * bits / 8)
    print(stored, packed)


cmd = sys.argv[1] if len(sys.argv) > 1 else ""
if cmd == "text" and len(sys.argv) == 4:
    text(sys.argv[2], sys.argv[3])
elif cmd == "png" and len(sys.argv) == 3:
    png(sys.argv[2])
elif cmd == "params" and len(sys.argv) == 3:
    params(sys.argv[2])
elif cmd == "packed" and len(sys.argv) == 4:
    packed(sys.argv[2], int(sys.argv[3]))
else:
    sys.exit(__doc__)
