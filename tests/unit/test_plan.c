/* test_plan.c: the memory planner (backend/plan.h): small hand-built graphs with hand-computed offsets
 * and peaks (in-place included), and a sweep over every conformance model checking the plan's invariants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/plan.h"
#include "core/infer.h"
#include "core/op.h"
#include "frontend/onnx_import.h"

#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif
#define CONF_ROOT "/usr/share/libonnx-testdata/data/"

/* ---- a tiny graph builder (opset 13) ------------------------------------------------------------- */

static mq_graph *gb_new(void)
{
    mq_graph *g;
    assert_int_equal(mq_graph_new(32, 16, &g, NULL), MQ_OK);
    g->opset = 13;
    g->inputs = mq_arena_array(g->arena, 8, sizeof(int));
    g->outputs = mq_arena_array(g->arena, 8, sizeof(int));
    assert_non_null(g->inputs);
    assert_non_null(g->outputs);
    return g;
}

static int gb_input(mq_graph *g, const char *name, int rank, const int64_t *dims)
{
    int t = mq_graph_tensor(g, name);
    assert_true(t >= 0);
    g->tensors[t].dtype = MQ_F32;
    mq_tensor_set_shape(&g->tensors[t], rank, dims);
    g->tensors[t].is_input = 1;
    g->inputs[g->n_inputs++] = t;
    return t;
}

static int gb_const_i64(mq_graph *g, const char *name, int n, const int64_t *vals)
{
    int t = mq_graph_tensor(g, name);
    assert_true(t >= 0);
    mq_tensor *x = &g->tensors[t];
    x->dtype = MQ_I64;
    x->rank = 1;
    x->dims[0] = n;
    x->data = mq_arena_array(g->arena, (size_t)n, sizeof(int64_t));
    assert_non_null(x->data);
    memcpy(x->data, vals, sizeof(int64_t) * (size_t)n);
    x->is_const = 1;
    return t;
}

/* ins/outs: NULL-ended name lists. */
static mq_node *gb_node(mq_graph *g, const char *op, const char *name, const char *const *ins,
                        const char *const *outs)
{
    mq_node *n = mq_graph_add_node(g);
    assert_non_null(n);
    n->name = name;
    n->op_type = op;
    n->domain = "";
    n->opset = 13;
    while (ins[n->n_in]) n->n_in++;
    while (outs[n->n_out]) n->n_out++;
    n->in = mq_arena_array(g->arena, (size_t)n->n_in + 1, sizeof(int));
    n->out = mq_arena_array(g->arena, (size_t)n->n_out + 1, sizeof(int));
    assert_non_null(n->in);
    assert_non_null(n->out);
    for (int k = 0; k < n->n_in; k++) n->in[k] = mq_graph_tensor(g, ins[k]);
    for (int k = 0; k < n->n_out; k++) n->out[k] = mq_graph_tensor(g, outs[k]);
    n->def = mq_op_find("", op, 13, NULL);
    assert_non_null(n->def);
    return n;
}

static void gb_axis(mq_graph *g, mq_node *n, int64_t axis)
{
    n->n_attr = 1;
    n->attrs = mq_arena_array(g->arena, 1, sizeof(mq_attr));
    assert_non_null(n->attrs);
    n->attrs[0].name = "axis";
    n->attrs[0].type = MQ_ATTR_INT;
    n->attrs[0].i = axis;
}

static void gb_output(mq_graph *g, const char *name)
{
    int t = mq_graph_find(g, name);
    assert_true(t >= 0);
    g->tensors[t].is_output = 1;
    g->outputs[g->n_outputs++] = t;
}

static void gb_infer(mq_graph *g)
{
    mq_err err = {0};
    mq_status st = mq_graph_infer(g, 0, &err);
    if (st != MQ_OK) fail_msg("infer: %s", err.msg);
}

static const mq_plan_tensor *entry(const mq_graph *g, const mq_plan *p, const char *name)
{
    return mq_plan_find(p, mq_graph_find(g, name));
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- hand-computed plans ----------------------------------------------------------------------- */

/* Graph B (no op here may work in place): x is [1,4] f32 (an input: not planned).
 *   n0: a = Concat(x, x)       [1,8]  =  32 B, read by n1, n3   life [0,3]
 *   n1: b = Concat(a, a, a, a) [1,32] = 128 B, read by n2       life [1,2]
 *   n2: c = Concat(b, b)       [1,64] = 256 B, read by n3       life [2,3]
 *   n3: y = Concat(c, a)       [1,72] = 288 B, graph output     life [3,end=4] */
static mq_graph *graph_b(void)
{
    mq_graph *g = gb_new();
    int64_t d[2] = {1, 4};
    gb_input(g, "x", 2, d);
    gb_axis(g, gb_node(g, "Concat", "n0", L("x", "x"), L("a")), 1);
    gb_axis(g, gb_node(g, "Concat", "n1", L("a", "a", "a", "a"), L("b")), 1);
    gb_axis(g, gb_node(g, "Concat", "n2", L("b", "b"), L("c")), 1);
    gb_axis(g, gb_node(g, "Concat", "n3", L("c", "a"), L("y")), 1);
    gb_output(g, "y");
    gb_infer(g);
    return g;
}

static void test_plan_greedy(void **state)
{
    (void)state;
    mq_graph *g = graph_b();
    mq_plan p;
    mq_err err = {0};
    /* Defaults (align 16, outputs in the arena). Largest first:
     *   y 288 [3,4]: nothing placed               -> 0
     *   c 256 [2,3]: meets y [0,288)              -> 288
     *   b 128 [1,2]: meets c [288,544); 0+128 <= 288 -> 0
     *   a  32 [0,3]: meets y [0,288), b [0,128), c [288,544) -> 544
     * peak 544 + 32 = 576 (= a + c + y live at n3, so optimal); sum 32+128+256+288 = 704. */
    assert_int_equal(mq_plan_memory(g, NULL, &p, &err), MQ_OK);
    assert_int_equal(p.n, 4);
    assert_int_equal(entry(g, &p, "y")->offset, 0);
    assert_int_equal(entry(g, &p, "c")->offset, 288);
    assert_int_equal(entry(g, &p, "b")->offset, 0);
    assert_int_equal(entry(g, &p, "a")->offset, 544);
    assert_int_equal(entry(g, &p, "a")->first, 0);
    assert_int_equal(entry(g, &p, "a")->last, 3);
    assert_int_equal(entry(g, &p, "y")->last, 4);
    assert_int_equal(entry(g, &p, "b")->size, 128);
    assert_null(entry(g, &p, "x"));
    assert_int_equal(p.arena_bytes, 576);
    assert_int_equal(p.sum_bytes, 704);
    assert_int_equal(p.largest_bytes, 288);
    assert_int_equal(p.n_inplace, 0);
    mq_plan_free(&p);

    /* Outputs in caller buffers: y is not planned.
     *   c 256 [2,3] -> 0;  b 128 [1,2]: meets c -> 256;  a 32 [0,3]: meets c [0,256), b [256,384) -> 384
     * peak 416 (= a + b + c live at n2); sum 32+128+256 = 416. */
    mq_plan_opts o;
    mq_plan_opts_init(&o);
    o.outputs_in_arena = 0;
    assert_int_equal(mq_plan_memory(g, &o, &p, &err), MQ_OK);
    assert_int_equal(p.n, 3);
    assert_null(entry(g, &p, "y"));
    assert_int_equal(entry(g, &p, "c")->offset, 0);
    assert_int_equal(entry(g, &p, "b")->offset, 256);
    assert_int_equal(entry(g, &p, "a")->offset, 384);
    assert_int_equal(p.arena_bytes, 416);
    assert_int_equal(p.sum_bytes, 416);
    mq_plan_free(&p);

    /* Alignment 64: sizes round to a 64, b 128, c 256, y 320.
     *   y -> 0;  c -> 320;  b -> 0;  a: past y [0,320), b, c [320,576) -> 576
     * peak 576 + 64 = 640; sum 64+128+256+320 = 768. */
    mq_plan_opts_init(&o);
    o.align = 64;
    assert_int_equal(mq_plan_memory(g, &o, &p, &err), MQ_OK);
    assert_int_equal(entry(g, &p, "c")->offset, 320);
    assert_int_equal(entry(g, &p, "a")->offset, 576);
    assert_int_equal(entry(g, &p, "a")->size, 32); /* the size stays the value's bytes */
    assert_int_equal(p.arena_bytes, 640);
    assert_int_equal(p.sum_bytes, 768);
    mq_plan_free(&p);

    /* a bad alignment is refused */
    o.align = 24;
    assert_int_equal(mq_plan_memory(g, &o, &p, &err), MQ_ERR_INVALID);
    assert_int_equal(p.n, 0);
    mq_plan_free(&p);
    mq_graph_free(g);
}

/* Graph A: x is [1,64] f32 (256 B), every tensor below is 256 B.
 *   n0: a = Relu(x)      life [0,2]  (x is an input: never reused)
 *   n1: b = Sigmoid(a)   life [1,2]  (a is still read by n2: no reuse)
 *   n2: c = Add(a, b)    life [2,3]  n2 is a's last use: c takes a's slot
 *   n3: y = Relu(c)      life [3,4]  graph output; n3 is c's last use: y takes c's slot */
static mq_graph *graph_a(void)
{
    mq_graph *g = gb_new();
    int64_t d[2] = {1, 64};
    gb_input(g, "x", 2, d);
    gb_node(g, "Relu", "n0", L("x"), L("a"));
    gb_node(g, "Sigmoid", "n1", L("a"), L("b"));
    gb_node(g, "Add", "n2", L("a", "b"), L("c"));
    gb_node(g, "Relu", "n3", L("c"), L("y"));
    gb_output(g, "y");
    gb_infer(g);
    return g;
}

static void test_plan_inplace(void **state)
{
    (void)state;
    mq_graph *g = graph_a();
    mq_plan p;
    mq_err err = {0};
    /* In place: slot S1 = {a, c, y} life [0,4], slot S2 = {b} life [1,2], 256 B each.
     * S1 (first 0) -> 0; S2 meets S1 -> 256. peak 512; sum 4 * 256 = 1024; two reuses. */
    assert_int_equal(mq_plan_memory(g, NULL, &p, &err), MQ_OK);
    assert_int_equal(p.n_inplace, 2);
    assert_int_equal(entry(g, &p, "c")->reuses, mq_graph_find(g, "a"));
    assert_int_equal(entry(g, &p, "y")->reuses, mq_graph_find(g, "c"));
    assert_int_equal(entry(g, &p, "b")->reuses, -1);
    assert_int_equal(entry(g, &p, "a")->offset, 0);
    assert_int_equal(entry(g, &p, "c")->offset, 0);
    assert_int_equal(entry(g, &p, "y")->offset, 0);
    assert_int_equal(entry(g, &p, "b")->offset, 256);
    assert_int_equal(p.arena_bytes, 512);
    assert_int_equal(p.sum_bytes, 1024);
    mq_plan_free(&p);

    /* Without in-place, all 256 B, ties by first use:
     *   a [0,2] -> 0;  b [1,2] -> 256;  c [2,3]: meets a, b -> 512;  y [3,4]: meets c only -> 0
     * peak 768. */
    mq_plan_opts o;
    mq_plan_opts_init(&o);
    o.no_inplace = 1;
    assert_int_equal(mq_plan_memory(g, &o, &p, &err), MQ_OK);
    assert_int_equal(p.n_inplace, 0);
    assert_int_equal(entry(g, &p, "a")->offset, 0);
    assert_int_equal(entry(g, &p, "b")->offset, 256);
    assert_int_equal(entry(g, &p, "c")->offset, 512);
    assert_int_equal(entry(g, &p, "y")->offset, 0);
    assert_int_equal(p.arena_bytes, 768);
    mq_plan_free(&p);
    mq_graph_free(g);
}

/* Graph C: broadcasting blocks in-place, Reshape aliases. x [2,4], s [2,1,4] inputs, k = {4,4}.
 *   n0: a = Relu(x)          [2,4]   =  32 B  life [0,1]
 *   n1: b = Add(s, a)        [2,2,4] =  64 B  life [1,2]  a dies here but 8 != 16 elements: no reuse
 *   n2: y = Reshape(b, k)    [4,4]   =  64 B  life [2,3]  graph output; takes b's slot (alias)
 * Slots: {b, y} 64 B [1,3] -> 0; {a} 32 B [0,1] meets it -> 64. peak 96; sum 32+64+64 = 160. */
static void test_plan_broadcast_and_alias(void **state)
{
    (void)state;
    mq_graph *g = gb_new();
    int64_t dx[2] = {2, 4}, ds[3] = {2, 1, 4}, k[2] = {4, 4};
    gb_input(g, "x", 2, dx);
    gb_input(g, "s", 3, ds);
    gb_const_i64(g, "k", 2, k);
    gb_node(g, "Relu", "n0", L("x"), L("a"));
    gb_node(g, "Add", "n1", L("s", "a"), L("b"));
    gb_node(g, "Reshape", "n2", L("b", "k"), L("y"));
    gb_output(g, "y");
    gb_infer(g);
    mq_plan p;
    mq_err err = {0};
    assert_int_equal(mq_plan_memory(g, NULL, &p, &err), MQ_OK);
    assert_int_equal(p.n, 3);
    assert_int_equal(entry(g, &p, "b")->reuses, -1);
    assert_int_equal(entry(g, &p, "y")->reuses, mq_graph_find(g, "b"));
    assert_int_equal(entry(g, &p, "b")->offset, 0);
    assert_int_equal(entry(g, &p, "y")->offset, 0);
    assert_int_equal(entry(g, &p, "a")->offset, 64);
    assert_int_equal(p.arena_bytes, 96);
    assert_int_equal(p.sum_bytes, 160);
    assert_int_equal(p.largest_bytes, 64);
    mq_plan_free(&p);
    mq_graph_free(g);
}

/* A data-dependent shape (NonZero) cannot be planned: the error names the tensor. */
static void test_plan_runtime_shape(void **state)
{
    (void)state;
    mq_graph *g = gb_new();
    int64_t d[1] = {4};
    gb_input(g, "x", 1, d);
    gb_node(g, "NonZero", "nz_node", L("x"), L("nz"));
    gb_output(g, "nz");
    gb_infer(g);
    assert_true(g->tensors[mq_graph_find(g, "nz")].rank < 0);
    mq_plan p;
    mq_err err = {0};
    assert_int_equal(mq_plan_memory(g, NULL, &p, &err), MQ_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "'nz'"));
    assert_non_null(strstr(err.msg, "run time"));
    mq_plan_free(&p);
    /* with the output in the caller's buffer there is nothing to plan */
    mq_plan_opts o;
    mq_plan_opts_init(&o);
    o.outputs_in_arena = 0;
    mq_err_clear(&err);
    assert_int_equal(mq_plan_memory(g, &o, &p, &err), MQ_OK);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.arena_bytes, 0);
    mq_plan_free(&p);
    mq_graph_free(g);
}

static void test_plan_alloc_failure(void **state)
{
    (void)state;
    mq_graph *g = graph_a();
    mq_plan p;
    for (long k = 1; k < 20; k++) {
        mq_err err = {0};
        mq_alloc_fail_after(k);
        mq_status st = mq_plan_memory(g, NULL, &p, &err);
        mq_alloc_fail_after(0);
        if (st == MQ_OK) {
            assert_int_equal(p.arena_bytes, 512);
            mq_plan_free(&p);
            break;
        }
        assert_int_equal(st, MQ_ERR_NOMEM);
        assert_null(p.t);
    }
    mq_graph_free(g);
}

/* ---- invariants, checked against lifetimes recomputed here from the graph ------------------------ */

static int node_runs(const mq_graph *g, const mq_node *n)
{
    int any = n->n_out == 0;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0 && !g->tensors[n->out[k]].is_const) any = 1;
    return any;
}

/* Check p against g; returns the number of violations (and prints the first few). */
static int check_plan(const char *what, const mq_graph *g, const mq_plan *p, const mq_plan_opts *o)
{
    int bad = 0, nt = g->n_tensors;
    int *first = malloc(sizeof(int) * (size_t)(nt + 1)), *last = malloc(sizeof(int) * (size_t)(nt + 1));
    assert_non_null(first);
    assert_non_null(last);
#define BAD(...)                                                                                   \
    do {                                                                                           \
        if (bad++ < 5) {                                                                           \
            printf("%s: ", what);                                                                  \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)
    for (int t = 0; t < nt; t++) first[t] = last[t] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if (!node_runs(g, n)) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) last[n->in[k]] = i;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0 && first[n->out[k]] < 0) first[n->out[k]] = i;
    }
    for (int k = 0; k < g->n_outputs; k++) last[g->outputs[k]] = g->n_nodes;
    /* every intermediate is planned, with the right lifetime and size */
    int count = 0;
    size_t largest = 0;
    for (int t = 0; t < nt; t++) {
        const mq_tensor *x = &g->tensors[t];
        int want = first[t] >= 0 && !x->is_const && !x->is_input && (!x->is_output || o->outputs_in_arena);
        const mq_plan_tensor *e = mq_plan_find(p, t);
        if (!want) {
            if (e) BAD("tensor '%s' should not be planned", x->name);
            continue;
        }
        count++;
        if (!e) {
            BAD("tensor '%s' not planned", x->name);
            continue;
        }
        int lt = last[t] < first[t] ? first[t] : last[t];
        if (e->first != first[t] || e->last != lt)
            BAD("tensor '%s' life [%d,%d], expected [%d,%d]", x->name, e->first, e->last, first[t], lt);
        if (e->size != mq_nbytes(x)) BAD("tensor '%s' size %zu, expected %zu", x->name, e->size, mq_nbytes(x));
        if (e->size > largest) largest = e->size;
        if (e->offset % p->align) BAD("tensor '%s' offset %zu not aligned", x->name, e->offset);
        if (e->offset + e->size > p->arena_bytes) BAD("tensor '%s' past the arena", x->name);
        if (e->reuses >= 0) { /* a legitimate in-place reuse */
            const mq_plan_tensor *r = mq_plan_find(p, e->reuses);
            const mq_node *n = &g->nodes[e->first];
            int j = -1;
            for (int k = 0; k < n->n_in - n->n_hidden_in; k++)
                if (n->in[k] == e->reuses && ((n->def->inplace_in >> k) & 1u)) j = k;
            if (!r || j < 0 || n->out[0] != t || r->last != e->first || r->offset != e->offset ||
                r->size != e->size || g->tensors[e->reuses].dtype != x->dtype)
                BAD("tensor '%s' reuses '%s' illegitimately", x->name, g->tensors[e->reuses].name);
        }
    }
    if (count != p->n) BAD("%d planned, expected %d", p->n, count);
    if (largest != p->largest_bytes) BAD("largest %zu, expected %zu", p->largest_bytes, largest);
    if (p->arena_bytes > p->sum_bytes) BAD("arena %zu > sum %zu", p->arena_bytes, p->sum_bytes);
    /* no two tensors alive at once share bytes, unless one took the other's slot where it died */
    for (int i = 0; i < p->n; i++)
        for (int j = i + 1; j < p->n; j++) {
            const mq_plan_tensor *a = &p->t[i], *b = &p->t[j];
            if (a->last < b->first || b->last < a->first) continue;
            if (a->offset + a->size <= b->offset || b->offset + b->size <= a->offset) continue;
            if ((b->reuses == a->tensor && b->first == a->last) || (a->reuses == b->tensor && a->first == b->last))
                continue;
            BAD("'%s' [%zu,+%zu) life [%d,%d] overlaps '%s' [%zu,+%zu) life [%d,%d]",
                g->tensors[a->tensor].name, a->offset, a->size, a->first, a->last,
                g->tensors[b->tensor].name, b->offset, b->size, b->first, b->last);
        }
#undef BAD
    free(first);
    free(last);
    return bad;
}

static void test_plan_invariants_hand(void **state)
{
    (void)state;
    mq_graph *gs[2] = {graph_a(), graph_b()};
    for (int i = 0; i < 2; i++)
        for (int v = 0; v < 4; v++) {
            mq_plan_opts o;
            mq_plan_opts_init(&o);
            o.no_inplace = v & 1;
            o.outputs_in_arena = !(v & 2);
            mq_plan p;
            mq_err err = {0};
            assert_int_equal(mq_plan_memory(gs[i], &o, &p, &err), MQ_OK);
            assert_int_equal(check_plan("hand", gs[i], &p, &o), 0);
            mq_plan_free(&p);
        }
    mq_graph_free(gs[0]);
    mq_graph_free(gs[1]);
}

/* ---- the sweep ----------------------------------------------------------------------------------- */

typedef struct sweep {
    int planned, import_failed, runtime_shapes, other_fail, bad;
    unsigned long long peak, sum, peak_noinplace;
} sweep;

static void sweep_model(const char *path, const char *label, sweep *s, int verbose)
{
    mq_import_result res = {0};
    mq_err err = {0};
    if (mq_import_onnx_file(path, NULL, &res, &err) != MQ_OK) {
        s->import_failed++;
        mq_import_result_free(&res);
        return;
    }
    const mq_graph *g = res.graph;
    mq_plan p, q;
    mq_plan_opts o;
    mq_plan_opts_init(&o);
    mq_status st = mq_plan_memory(g, &o, &p, &err);
    if (st == MQ_ERR_SHAPE && strstr(err.msg, "run time")) {
        s->runtime_shapes++;
        mq_import_result_free(&res);
        return;
    }
    if (st != MQ_OK) {
        printf("%s: plan failed: %s\n", label, err.msg);
        s->other_fail++;
        mq_import_result_free(&res);
        return;
    }
    s->planned++;
    s->bad += check_plan(label, g, &p, &o);
    s->peak += p.arena_bytes;
    s->sum += p.sum_bytes;
    /* the other options obey the same invariants */
    mq_plan_opts o2;
    mq_plan_opts_init(&o2);
    o2.no_inplace = 1;
    o2.outputs_in_arena = 0;
    o2.align = 64;
    if (mq_plan_memory(g, &o2, &q, &err) != MQ_OK) {
        printf("%s: plan (no in-place, outputs outside, align 64) failed: %s\n", label, err.msg);
        s->bad++;
    } else {
        s->bad += check_plan(label, g, &q, &o2);
        mq_plan_free(&q);
    }
    o2.outputs_in_arena = 1;
    o2.align = 16;
    if (mq_plan_memory(g, &o2, &q, &err) == MQ_OK) {
        s->peak_noinplace += q.arena_bytes;
        if (q.sum_bytes != p.sum_bytes) s->bad++;
        mq_plan_free(&q);
    } else {
        s->bad++;
    }
    if (verbose)
        printf("  %-60s arena %10zu  sum %10zu  largest %10zu  in-place %d\n", label, p.arena_bytes, p.sum_bytes,
               p.largest_bytes, p.n_inplace);
    mq_plan_free(&p);
    mq_import_result_free(&res);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void sweep_folder(const char *folder, sweep *s, int verbose)
{
    char dir[1024];
    snprintf(dir, sizeof dir, CONF_ROOT "%s", folder);
    DIR *d = opendir(dir);
    if (!d) return;
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            names = realloc(names, sizeof(char *) * (size_t)cap);
            assert_non_null(names);
        }
        names[n] = strdup(de->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, name_cmp);
    for (int i = 0; i < n; i++) {
        char path[2300], label[1200];
        struct stat stt;
        snprintf(path, sizeof path, "%s/%s/model.onnx", dir, names[i]);
        snprintf(label, sizeof label, "%s/%s", folder, names[i]);
        if (stat(path, &stt) == 0) sweep_model(path, label, s, verbose);
        free(names[i]);
    }
    free(names);
}

static void test_plan_sweep(void **state)
{
    (void)state;
    const char *folders[] = {"node", "simple", "pytorch-converted", "pytorch-operator"};
    int verbose = getenv("MQ_PLAN_VERBOSE") != NULL;
    struct stat stt;
    if (stat(CONF_ROOT, &stt) != 0) fail_msg("%s is missing (apt-get install libonnx-testdata)", CONF_ROOT);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sweep total = {0};
    for (int f = 0; f < 4; f++) {
        sweep s = {0};
        sweep_folder(folders[f], &s, verbose);
        printf("plan sweep %-18s planned %4d  import failed %3d  run-time shapes %3d  other failures %d  "
               "violations %d  arena %llu / sum %llu bytes (%.1f%%; without in-place %llu)\n",
               folders[f], s.planned, s.import_failed, s.runtime_shapes, s.other_fail, s.bad, s.peak, s.sum,
               s.sum ? 100.0 * (double)s.peak / (double)s.sum : 0.0, s.peak_noinplace);
        total.planned += s.planned;
        total.import_failed += s.import_failed;
        total.runtime_shapes += s.runtime_shapes;
        total.other_fail += s.other_fail;
        total.bad += s.bad;
    }
    /* the example models, if built */
    glob_t gl;
    if (glob(MAQD_SOURCE_DIR "/models/*.onnx", 0, NULL, &gl) == 0) {
        sweep s = {0};
        for (size_t i = 0; i < gl.gl_pathc; i++) {
            sweep_model(gl.gl_pathv[i], gl.gl_pathv[i], &s, 1);
        }
        globfree(&gl);
        total.other_fail += s.other_fail;
        total.bad += s.bad;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("plan sweep total: planned %d, import failed %d, run-time shapes %d, %.1f s\n", total.planned,
           total.import_failed, total.runtime_shapes,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    assert_int_equal(total.bad, 0);
    assert_int_equal(total.other_fail, 0);
    assert_true(total.planned > 800);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_greedy),
        cmocka_unit_test(test_plan_inplace),
        cmocka_unit_test(test_plan_broadcast_and_alias),
        cmocka_unit_test(test_plan_runtime_shape),
        cmocka_unit_test(test_plan_alloc_failure),
        cmocka_unit_test(test_plan_invariants_hand),
        cmocka_unit_test(test_plan_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
