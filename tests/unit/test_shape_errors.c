/* test_shape_errors.c: shape/index ops on bad indices, sizes and attributes must fail with the right
 * status and a message naming the node and op; and a Shape->...->Reshape chain must fold at import. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/exec.h"
#include "core/graph.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif
/* Models and data made by tests/golden/make_golden_shape.py (numpy for the expected values). */
#define DATA MAQD_SOURCE_DIR "/tests/data/shape_errors/"
#define MAX_IO 8

typedef struct err_case {
    const char *name; /* model <name>.onnx, inputs <name>.input_K.pb; its one node is called <name> */
    const char *op;
    int at_run;       /* 0: import (inference or folding) must fail; 1: import succeeds, the run fails */
    mq_status code;
    const char *msg;  /* expected after "node '<name>' (<op>): " */
} err_case;

static const err_case cases[] = {
    {"squeeze_bad", "Squeeze", 0, MQ_ERR_SHAPE, "cannot squeeze axis 1 of size 3"},
    {"unsqueeze_dup", "Unsqueeze", 0, MQ_ERR_INVALID, "axis 1 repeated"},
    {"split_uneven", "Split", 0, MQ_ERR_SHAPE, "axis of size 3 does not split into 2 equal parts"},
    {"split_toomany", "Split", 0, MQ_ERR_INVALID, "split has 3 values for 2 outputs"},
    {"slice_zerostep", "Slice", 0, MQ_ERR_INVALID, "step for axis 2 is 0"},
    {"slice_zerostep_run", "Slice", 1, MQ_ERR_INVALID, "step for axis 2 is 0"},
    {"reshape_bad", "Reshape", 0, MQ_ERR_SHAPE, "cannot reshape 24 elements"},
    {"reshape_bad_run", "Reshape", 1, MQ_ERR_SHAPE, "cannot reshape 24 elements"},
    {"transpose_bad", "Transpose", 0, MQ_ERR_INVALID, "perm is not a permutation of 0..2"},
    {"gather_oob", "Gather", 1, MQ_ERR_INVALID, "index 3 is out of range for a dimension of size 3"},
    {"gather_oob_fold", "Gather", 0, MQ_ERR_INVALID, "index -4 is out of range for a dimension of size 3"},
    {"scatter_elems_oob", "ScatterElements", 1, MQ_ERR_INVALID, "index 5 is out of range"},
    {"range_huge", "Range", 0, MQ_ERR_LIMIT, "too many elements"},
    {"cos_huge", "ConstantOfShape", 0, MQ_ERR_LIMIT, "output has more than"},
    {"compress_bad", "Compress", 1, MQ_ERR_INVALID, "condition selects index 3 beyond size 3"},
    {"revseq_bad", "ReverseSequence", 1, MQ_ERR_INVALID, "sequence_lens[0] = 5 is out of range"},
    {"const_string", "Constant", 0, MQ_ERR_UNSUPPORTED, "attribute 'value_string' is not supported"},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void assert_msg_has(const mq_err *e, const char *s)
{
    if (!strstr(e->msg, s)) fail_msg("message lacks '%s': %s", s, e->msg);
}

/* Reads <name>.<kind>_K.pb for K = 0.. while the file exists; returns the count. */
static int read_tensors(const char *name, const char *kind, mq_tensor *t)
{
    int k = 0;
    for (; k < MAX_IO; k++) {
        char p[512];
        snprintf(p, sizeof p, DATA "%s.%s_%d.pb", name, kind, k);
        if (access(p, R_OK) != 0) break;
        mq_err e = {0};
        if (mq_tensor_read_file(p, &t[k], &e) != MQ_OK) fail_msg("reading %s: %s", p, e.msg);
    }
    return k;
}

static void free_tensors(mq_tensor *t, int n)
{
    for (int k = 0; k < n; k++) mq_tensor_free_data(&t[k]);
}

static void test_error_case(void **state)
{
    const err_case *c = *state;
    char path[512], prefix[256];
    snprintf(path, sizeof path, DATA "%s.onnx", c->name);
    snprintf(prefix, sizeof prefix, "node '%s' (%s): ", c->name, c->op);
    mq_import_result r = {0};
    mq_err e = {0};
    mq_status st = mq_import_onnx_file(path, NULL, &r, &e);
    if (!c->at_run) {
        if (st == MQ_OK) fail_msg("%s: import succeeded, expected %s", c->name, mq_status_name(c->code));
        if (st != c->code)
            fail_msg("%s: status %s, expected %s: %s", c->name, mq_status_name(st), mq_status_name(c->code), e.msg);
        assert_msg_has(&e, prefix);
        assert_msg_has(&e, c->msg);
        assert_msg_has(&e, path); /* import errors name the file */
        mq_import_result_free(&r);
        return;
    }
    if (st != MQ_OK) fail_msg("%s: import failed: %s", c->name, e.msg);
    const mq_graph *g = r.graph;
    mq_tensor in[MAX_IO], out[MAX_IO];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    int n_in = read_tensors(c->name, "input", in);
    assert_int_equal(n_in, g->n_inputs);
    assert_true(g->n_outputs <= MAX_IO);
    st = mq_exec_run(g, in, out, &e);
    if (st == MQ_OK) {
        free_tensors(out, g->n_outputs);
        fail_msg("%s: run succeeded, expected %s", c->name, mq_status_name(c->code));
    }
    for (int k = 0; k < g->n_outputs; k++) assert_null(out[k].data); /* nothing handed back on failure */
    if (st != c->code)
        fail_msg("%s: status %s, expected %s: %s", c->name, mq_status_name(st), mq_status_name(c->code), e.msg);
    assert_msg_has(&e, prefix);
    assert_msg_has(&e, c->msg);
    free_tensors(in, n_in);
    mq_import_result_free(&r);
}

static const mq_node *node_named(const mq_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return &g->nodes[i];
    fail_msg("no node '%s'", name);
    return NULL;
}

static const mq_tensor *tensor(const mq_graph *g, const char *name)
{
    int id = mq_graph_find(g, name);
    if (id < 0) fail_msg("no tensor '%s'", name);
    return &g->tensors[id];
}

static void import_chain(int64_t batch, mq_import_result *r)
{
    char pin[32];
    snprintf(pin, sizeof pin, "N=%lld", (long long)batch);
    const char *shapes[] = {pin};
    mq_import_opts o = {0};
    o.n_shapes = batch > 0 ? 1 : 0;
    o.shapes = shapes;
    mq_err e = {0};
    if (mq_import_onnx_file(DATA "fold_chain.onnx", &o, r, &e) != MQ_OK) fail_msg("import: %s", e.msg);
}

/* x[N,3,4] -> Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape with N pinned: the Reshape's
 * shape input is folded to the constant [N, -1] and y's shape is known at import. */
static void test_fold_chain(void **state)
{
    (void)state;
    mq_import_result r = {0};
    import_chain(5, &r);
    const mq_graph *g = r.graph;
    const mq_node *rs = node_named(g, "reshape");
    assert_string_equal(rs->op_type, "Reshape");
    assert_int_equal(rs->n_in, 2);
    const mq_tensor *shp = &g->tensors[rs->in[1]];
    assert_string_equal(shp->name, "shp");
    assert_true(shp->is_const);
    assert_non_null(shp->data);
    assert_int_equal(shp->dtype, MQ_I64);
    assert_int_equal(shp->rank, 1);
    assert_int_equal(shp->dims[0], 2);
    assert_int_equal(((const int64_t *)shp->data)[0], 5);
    assert_int_equal(((const int64_t *)shp->data)[1], -1);
    /* every link of the chain is a constant; the Reshape itself is not (x is a run-time input) */
    const char *links[] = {"s", "n", "n1", "shp", "x_len", "rg"};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (!tensor(g, links[i])->is_const) fail_msg("'%s' was not folded", links[i]);
    const mq_tensor *y = tensor(g, "y");
    assert_false(y->is_const);
    assert_int_equal(y->dtype, MQ_F32);
    assert_int_equal(y->rank, 2);
    assert_int_equal(y->dims[0], 5);
    assert_int_equal(y->dims[1], 12);
    /* Range(0, Size(x), 2) folds to 30 values; NonZero's output is known only at run time */
    const mq_tensor *rg = tensor(g, "rg");
    assert_int_equal(rg->rank, 1);
    assert_int_equal(rg->dims[0], 30);
    assert_int_equal(((const int64_t *)rg->data)[29], 58);
    assert_int_equal(tensor(g, "nz")->rank, -1);
    assert_true(g->dynamic);

    /* run with the pinned batch: all four outputs as numpy computed them */
    mq_tensor in[MAX_IO], out[MAX_IO], want[MAX_IO];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    memset(want, 0, sizeof want);
    assert_int_equal(read_tensors("fold_chain", "input", in), 1);
    assert_int_equal(read_tensors("fold_chain", "output", want), 4);
    assert_int_equal(g->n_outputs, 4);
    mq_err e = {0};
    if (mq_exec_run(g, in, out, &e) != MQ_OK) fail_msg("run: %s", e.msg);
    for (int k = 0; k < 4; k++) {
        assert_int_equal(out[k].dtype, want[k].dtype);
        if (!mq_shape_equal(&out[k], &want[k])) {
            char a[64], b[64];
            fail_msg("output %d: shape %s, expected %s", k, mq_shape_str(&out[k], a, sizeof a),
                     mq_shape_str(&want[k], b, sizeof b));
        }
        assert_memory_equal(out[k].data, want[k].data, mq_nbytes(&want[k])); /* exact: reshape, ints */
    }
    free_tensors(in, 1);
    free_tensors(out, 4);
    free_tensors(want, 4);
    mq_import_result_free(&r);
}

/* Unpinned, the symbolic batch defaults to 1 (with a note) and the chain folds with it. */
static void test_fold_chain_default_batch(void **state)
{
    (void)state;
    mq_import_result r = {0};
    import_chain(0, &r);
    const mq_graph *g = r.graph;
    assert_non_null(r.notes);
    if (!strstr(r.notes, "'x'") || !strstr(r.notes, "'N'")) fail_msg("note does not name x and N: %s", r.notes);
    const mq_tensor *shp = tensor(g, "shp");
    assert_true(shp->is_const);
    assert_int_equal(((const int64_t *)shp->data)[0], 1);
    assert_int_equal(((const int64_t *)shp->data)[1], -1);
    const mq_tensor *y = tensor(g, "y");
    assert_int_equal(y->rank, 2);
    assert_int_equal(y->dims[0], 1);
    assert_int_equal(y->dims[1], 12);
    mq_import_result_free(&r);
}

/* Unpinned import, then a run with N = 5: the values folded for N = 1 no longer hold, so the run must
 * either be right (y 5x12) or refuse the input (the executor refuses: the graph is specialized to the
 * shapes it was imported with; `maqdc run` and the runner pin symbolic dims from the input files). */
static void test_fold_chain_other_batch(void **state)
{
    (void)state;
    mq_import_result r = {0};
    import_chain(0, &r);
    mq_tensor in[MAX_IO], out[MAX_IO];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    assert_int_equal(read_tensors("fold_chain", "input", in), 1);
    mq_err e = {0};
    mq_status st = mq_exec_run(r.graph, in, out, &e);
    if (st == MQ_OK) {
        int64_t d0 = out[0].dims[0], n = out[3].dims[0];
        free_tensors(out, 4);
        assert_int_equal(d0, 5);
        assert_int_equal(n, 30);
    } else {
        assert_int_equal(st, MQ_ERR_SHAPE);
    }
    free_tensors(in, 1);
    mq_import_result_free(&r);
}

int main(void)
{
    struct CMUnitTest tests[N_CASES + 3];
    for (int i = 0; i < N_CASES; i++)
        tests[i] = (struct CMUnitTest){cases[i].name, test_error_case, NULL, NULL, (void *)&cases[i]};
    tests[N_CASES] = (struct CMUnitTest)cmocka_unit_test(test_fold_chain);
    tests[N_CASES + 1] = (struct CMUnitTest)cmocka_unit_test(test_fold_chain_default_batch);
    tests[N_CASES + 2] = (struct CMUnitTest)cmocka_unit_test(test_fold_chain_other_batch);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
