/* test_core.c: unit tests of the IR core: arena and allocation failure, checked arithmetic, dtype
 * conversions (hand-computed values), topological sort and its errors, the op table's consistency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/graph.h"
#include "core/op.h"
#include "ops/util.h"

#include <math.h>
#include <string.h>

static void test_arena(void **state)
{
    (void)state;
    mq_arena *a = mq_arena_new();
    assert_non_null(a);
    char *p = mq_arena_alloc(a, 3);
    char *q = mq_arena_alloc(a, 100000); /* larger than a chunk */
    char *r = mq_arena_alloc(a, 5);
    assert_non_null(p);
    assert_non_null(q);
    assert_non_null(r);
    assert_int_equal((uintptr_t)p % 16, 0);
    assert_int_equal((uintptr_t)r % 16, 0);
    assert_int_equal(q[99999], 0); /* zeroed */
    assert_null(mq_arena_array(a, SIZE_MAX / 2, 4)); /* overflow refused */
    assert_string_equal(mq_arena_strdup(a, "conv1"), "conv1");
    mq_arena_free(a);
}

static void test_alloc_failure_injection(void **state)
{
    (void)state;
    mq_alloc_fail_after(2);
    void *a = mq_malloc(8);
    void *b = mq_malloc(8);
    void *c = mq_malloc(8);
    assert_non_null(a);
    assert_null(b);
    assert_null(c);
    mq_alloc_fail_after(0);
    mq_free(a);
    void *d = mq_malloc(8);
    assert_non_null(d);
    mq_free(d);
}

static void test_checked_arithmetic(void **state)
{
    (void)state;
    size_t s;
    int64_t v;
    assert_int_equal(mq_mul_size(SIZE_MAX / 2 + 1, 2, &s), -1);
    assert_int_equal(mq_mul_size(1000, 1000, &s), 0);
    assert_int_equal(s, 1000000);
    assert_int_equal(mq_add_size(SIZE_MAX, 1, &s), -1);
    assert_int_equal(mq_mul_i64((int64_t)1 << 40, (int64_t)1 << 40, &v), -1);
    assert_int_equal(mq_mul_i64(-1, 2, &v), -1);
    int64_t dims[2] = {(int64_t)1 << 40, (int64_t)1 << 40}, n;
    mq_err err = {0};
    assert_int_equal(mq_shape_numel(dims, 2, 0, &n, &err), MQ_ERR_LIMIT);
    int64_t ok[3] = {2, 3, 4};
    assert_int_equal(mq_shape_numel(ok, 3, 0, &n, NULL), MQ_OK);
    assert_int_equal(n, 24);
}

static void test_f16(void **state)
{
    (void)state;
    /* IEEE 754 half bit patterns, by hand: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff,
     * smallest subnormal 2^-24 = 0x0001, 0.5 = 0x3800, inf = 0x7c00. */
    assert_true(mq_f16_to_f32(0x3c00) == 1.0f);
    assert_true(mq_f16_to_f32(0xc000) == -2.0f);
    assert_true(mq_f16_to_f32(0x7bff) == 65504.0f);
    assert_true(mq_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    assert_true(isinf(mq_f16_to_f32(0x7c00)));
    assert_true(isnan(mq_f16_to_f32(0x7e00)));
    assert_int_equal(mq_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(mq_f32_to_f16(0.5f), 0x3800);
    assert_int_equal(mq_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(mq_f32_to_f16(1e6f), 0x7c00);
    /* 1 + 2^-11 is halfway between 1.0 and the next half (1 + 2^-10): ties to even gives 1.0 */
    assert_int_equal(mq_f32_to_f16(1.0f + ldexpf(1.0f, -11)), 0x3c00);
    /* bfloat16 0x3f80 = 1.0, 0xc040 = -3.0 */
    assert_true(mq_bf16_to_f32(0x3f80) == 1.0f);
    assert_true(mq_bf16_to_f32(0xc040) == -3.0f);
}

/* Build a graph by hand: x -> A -> t1 -> B -> y, with the nodes added in reverse order. */
static mq_graph *chain(int cycle)
{
    mq_graph *g;
    assert_int_equal(mq_graph_new(8, 4, &g, NULL), MQ_OK);
    int x = mq_graph_tensor(g, "x"), t1 = mq_graph_tensor(g, "t1"), y = mq_graph_tensor(g, "y");
    g->tensors[x].is_input = 1;
    mq_node *b = mq_graph_add_node(g);
    b->name = "B";
    b->op_type = "Relu";
    b->n_in = b->n_out = 1;
    b->in = mq_arena_array(g->arena, 1, sizeof(int));
    b->out = mq_arena_array(g->arena, 1, sizeof(int));
    b->in[0] = t1;
    b->out[0] = y;
    mq_node *a = mq_graph_add_node(g);
    a->name = "A";
    a->op_type = "Relu";
    a->n_in = a->n_out = 1;
    a->in = mq_arena_array(g->arena, 1, sizeof(int));
    a->out = mq_arena_array(g->arena, 1, sizeof(int));
    a->in[0] = cycle ? y : x;
    a->out[0] = t1;
    return g;
}

static void test_toposort(void **state)
{
    (void)state;
    mq_graph *g = chain(0);
    mq_err err = {0};
    assert_int_equal(mq_graph_toposort(g, &err), MQ_OK);
    assert_string_equal(g->nodes[0].name, "A");
    assert_string_equal(g->nodes[1].name, "B");
    assert_int_equal(g->tensors[mq_graph_find(g, "y")].producer, 1);
    mq_graph_free(g);

    g = chain(1);
    mq_err_clear(&err);
    assert_int_equal(mq_graph_toposort(g, &err), MQ_ERR_INVALID);
    assert_non_null(strstr(err.msg, "cycle"));
    assert_non_null(strstr(err.msg, "(Relu)"));
    mq_graph_free(g);
}

static void test_dangling(void **state)
{
    (void)state;
    mq_graph *g = chain(0);
    g->tensors[mq_graph_find(g, "x")].is_input = 0; /* now nobody provides x */
    mq_err err = {0};
    assert_int_equal(mq_graph_toposort(g, &err), MQ_ERR_INVALID);
    assert_non_null(strstr(err.msg, "node 'A' (Relu)"));
    assert_non_null(strstr(err.msg, "'x'"));
    mq_graph_free(g);
}

static void test_broadcast(void **state)
{
    (void)state;
    mq_tensor a = {.rank = 3, .dims = {2, 1, 4}}, b = {.rank = 2, .dims = {3, 1}}, out = {0};
    const mq_tensor *ts[2] = {&a, &b};
    assert_int_equal(mq_broadcast_shape(NULL, ts, 2, &out, NULL), MQ_OK);
    assert_int_equal(out.rank, 3);
    assert_int_equal(out.dims[0], 2);
    assert_int_equal(out.dims[1], 3);
    assert_int_equal(out.dims[2], 4);
    int64_t st[3];
    mq_broadcast_strides(&b, 3, out.dims, st); /* b is 3x1 seen as 1x3x1 broadcast to 2x3x4 */
    assert_int_equal(st[0], 0);
    assert_int_equal(st[1], 1);
    assert_int_equal(st[2], 0);
    mq_tensor c = {.rank = 1, .dims = {5}};
    const mq_tensor *bad[2] = {&a, &c};
    mq_err err = {0};
    assert_int_equal(mq_broadcast_shape(NULL, bad, 2, &out, &err), MQ_ERR_SHAPE);
}

/* Every op definition is complete and no two claim the same (domain, op, version). */
static void test_op_table(void **state)
{
    (void)state;
    int count = 0;
    for (int i = 0; mq_op_at(i); i++, count++) {
        const mq_op_def *d = mq_op_at(i);
        assert_non_null(d->op_type);
        assert_non_null(d->infer);
        assert_non_null(d->forward);
        assert_true(d->since >= 1);
        assert_true(d->until == 0 || d->until >= d->since);
        assert_true(d->min_in >= 0);
        assert_true(d->max_in < 0 || d->max_in >= d->min_in);
        assert_true(d->min_out >= 0 && (d->max_out < 0 || d->max_out >= d->min_out));
        for (int j = 0; j < i; j++) {
            const mq_op_def *e = mq_op_at(j);
            if (strcmp(d->op_type, e->op_type) || strcmp(d->domain ? d->domain : "", e->domain ? e->domain : ""))
                continue;
            int d_hi = d->until ? d->until : 1 << 30, e_hi = e->until ? e->until : 1 << 30;
            int overlap = d->since <= e_hi && e->since <= d_hi;
            if (overlap) fail_msg("op %s defined twice for overlapping opset versions", d->op_type);
        }
        const char *why;
        assert_ptr_equal(mq_op_find(d->domain, d->op_type, d->since, &why), d);
    }
    assert_true(count > 100);
    const char *why = NULL;
    assert_null(mq_op_find("", "NoSuchOp", 13, &why));
    assert_null(why);
    assert_null(mq_op_find("com.example", "Relu", 1, &why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena),         cmocka_unit_test(test_alloc_failure_injection),
        cmocka_unit_test(test_checked_arithmetic), cmocka_unit_test(test_f16),
        cmocka_unit_test(test_toposort),      cmocka_unit_test(test_dangling),
        cmocka_unit_test(test_broadcast),     cmocka_unit_test(test_op_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
