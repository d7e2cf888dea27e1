# Post-export cleanup shared by the model scripts: torch.onnx deduplicates equal-valued parameters and
# re-creates them with Identity nodes; this gives each such output its own initializer copy instead.
import onnx


def inline_identity_initializers(path):
    """Rewrite the model at path without Identity nodes whose input is an initializer."""
    m = onnx.load(path)
    inits = {t.name: t for t in m.graph.initializer}
    outputs = set(o.name for o in m.graph.output)
    keep = []
    for n in m.graph.node:
        if n.op_type == "Identity" and n.input[0] in inits and n.output[0] not in outputs:
            t = onnx.TensorProto()
            t.CopyFrom(inits[n.input[0]])
            t.name = n.output[0]
            m.graph.initializer.append(t)
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    # drop initializers nobody reads any more
    used = set(i for n in m.graph.node for i in n.input) | outputs
    live = [t for t in m.graph.initializer if t.name in used]
    del m.graph.initializer[:]
    m.graph.initializer.extend(live)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return m
