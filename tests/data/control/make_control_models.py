#!/usr/bin/env python3
# make_control_models.py: small If/Loop/Scan models for tests/unit/test_control.c (nested subgraphs,
# outer-scope captures, reverse scans on axis 1, endless loops); the expected values are hand-computed there.
import onnx
from onnx import TensorProto as TP, helper as h

F, I64, B = TP.FLOAT, TP.INT64, TP.BOOL


def save(g, name, opset):
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="maqd-tests")
    onnx.checker.check_model(m)
    onnx.save(m, name)


def const_i64(name, v):
    return h.make_node("Constant", [], [name], value=h.make_tensor(name + "_v", I64, [], [v]))


# nested.onnx: a while-loop (no M) whose body holds an If; the branches read the body's carried value
# and the top-level input w (captured through two scopes).
then_b = h.make_graph([h.make_node("Add", ["s", "w"], ["t_out"])], "then_b", [], [h.make_tensor_value_info("t_out", F, [3])])
else_b = h.make_graph([h.make_node("Sub", ["s", "w"], ["e_out"])], "else_b", [], [h.make_tensor_value_info("e_out", F, [3])])
body = h.make_graph(
    [const_i64("two", 2), const_i64("three", 3),
     h.make_node("Less", ["i", "two"], ["lt2"]),
     h.make_node("If", ["lt2"], ["s2"], then_branch=then_b, else_branch=else_b),
     h.make_node("Less", ["i", "three"], ["c_out"]),
     h.make_node("Identity", ["s2"], ["scan"])],
    "body",
    [h.make_tensor_value_info("i", I64, []), h.make_tensor_value_info("c", B, []), h.make_tensor_value_info("s", F, [3])],
    [h.make_tensor_value_info("c_out", B, []), h.make_tensor_value_info("s2", F, [3]), h.make_tensor_value_info("scan", F, [3])])
g = h.make_graph(
    [h.make_node("Constant", [], ["go"], value=h.make_tensor("go_v", B, [], [True])),
     h.make_node("Loop", ["", "go", "x"], ["s_final", "s_all"], name="while", body=body)],
    "nested",
    [h.make_tensor_value_info("x", F, [3]), h.make_tensor_value_info("w", F, [3])],
    [h.make_tensor_value_info("s_final", F, [3]), h.make_tensor_value_info("s_all", F, [None, 3])])
save(g, "nested.onnx", 13)

# scan_rev.onnx: Scan 16 over axis 1 in reverse, scan output stacked on axis 1.
sbody = h.make_graph(
    [h.make_node("Add", ["acc", "col"], ["acc_out"]), h.make_node("Identity", ["acc_out"], ["col_out"])],
    "sbody",
    [h.make_tensor_value_info("acc", F, [2]), h.make_tensor_value_info("col", F, [2])],
    [h.make_tensor_value_info("acc_out", F, [2]), h.make_tensor_value_info("col_out", F, [2])])
g = h.make_graph(
    [h.make_node("Scan", ["init", "x"], ["final", "sums"], name="scan", body=sbody, num_scan_inputs=1,
                 scan_input_axes=[1], scan_input_directions=[1], scan_output_axes=[1])],
    "scan_rev",
    [h.make_tensor_value_info("init", F, [2]), h.make_tensor_value_info("x", F, [2, 3])],
    [h.make_tensor_value_info("final", F, [2]), h.make_tensor_value_info("sums", F, [2, 3])])
save(g, "scan_rev.onnx", 16)

# forever.onnx: no M and a condition that stays true: the executor's iteration cap must stop it.
fbody = h.make_graph(
    [h.make_node("Identity", ["fc"], ["fc_out"]), const_i64("one", 1), h.make_node("Add", ["n", "one"], ["n_out"])],
    "fbody",
    [h.make_tensor_value_info("fi", I64, []), h.make_tensor_value_info("fc", B, []), h.make_tensor_value_info("n", I64, [])],
    [h.make_tensor_value_info("fc_out", B, []), h.make_tensor_value_info("n_out", I64, [])])
g = h.make_graph(
    [h.make_node("Loop", ["", "c0", "n0"], ["count"], name="forever", body=fbody)],
    "forever",
    [h.make_tensor_value_info("c0", B, []), h.make_tensor_value_info("n0", I64, [])],
    [h.make_tensor_value_info("count", I64, [])])
save(g, "forever.onnx", 16)

# if_outer.onnx: then returns the outer input itself, else its negation; plus a Loop with M = 0.
tb = h.make_graph([], "tb", [], [h.make_tensor_value_info("x", F, [2])])
eb = h.make_graph([h.make_node("Neg", ["x"], ["nx"])], "eb", [], [h.make_tensor_value_info("nx", F, [2])])
zbody = h.make_graph(
    [h.make_node("Identity", ["zc"], ["zc_out"]), h.make_node("Add", ["zv", "x"], ["zv_out"]),
     h.make_node("Identity", ["zv_out"], ["zs"])],
    "zbody",
    [h.make_tensor_value_info("zi", I64, []), h.make_tensor_value_info("zc", B, []), h.make_tensor_value_info("zv", F, [2])],
    [h.make_tensor_value_info("zc_out", B, []), h.make_tensor_value_info("zv_out", F, [2]), h.make_tensor_value_info("zs", F, [2])])
g = h.make_graph(
    [h.make_node("If", ["c"], ["y"], name="pick", then_branch=tb, else_branch=eb),
     h.make_node("Loop", ["m", "", "y"], ["v", "vs"], name="maybe", body=zbody)],
    "if_outer",
    [h.make_tensor_value_info("c", B, []), h.make_tensor_value_info("x", F, [2]), h.make_tensor_value_info("m", I64, [])],
    [h.make_tensor_value_info("v", F, [2]), h.make_tensor_value_info("vs", F, [None, 2])])
save(g, "if_outer.onnx", 16)
