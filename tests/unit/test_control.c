/* test_control.c: If, Loop and Scan (ops/control.c) on the models of tests/data/control (nested subgraphs,
 * captures through two scopes, reverse scans, endless loops), against values worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/exec.h"
#include "frontend/onnx_import.h"
#include "ops/control.h"

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif
#define DATA MAQD_SOURCE_DIR "/tests/data/control/"

static mq_graph *load(const char *file, mq_import_result *res)
{
    mq_err err = {0};
    mq_status st = mq_import_onnx_file(file, NULL, res, &err);
    if (st != MQ_OK) fail_msg("import %s: %s", file, err.msg);
    return res->graph;
}

static mq_tensor value(mq_dtype dt, int rank, const int64_t *dims, void *data)
{
    mq_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    mq_tensor_set_shape(&t, rank, dims);
    t.data = data;
    return t;
}

static void expect_f32(const mq_tensor *t, int rank, const int64_t *dims, const float *want)
{
    assert_int_equal(t->dtype, MQ_F32);
    assert_int_equal(t->rank, rank);
    for (int d = 0; d < rank; d++) assert_int_equal(t->dims[d], dims[d]);
    const float *got = t->data;
    for (int64_t i = 0; i < mq_numel(t); i++)
        if (got[i] != want[i]) fail_msg("element %lld: got %g, want %g", (long long)i, (double)got[i], (double)want[i]);
}

static void free_outputs(mq_tensor *o, int n)
{
    for (int i = 0; i < n; i++) mq_free(o[i].data);
}

static void test_nested_capture(void **state)
{
    (void)state;
    mq_import_result res;
    mq_graph *g = load(DATA "nested.onnx", &res);
    /* The Loop reads w only inside the If of its body: w is its hidden input. */
    const mq_node *loop = NULL;
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].op_type, "Loop")) loop = &g->nodes[i];
    assert_non_null(loop);
    assert_int_equal(loop->n_hidden_in, 1);
    assert_string_equal(g->tensors[loop->in[loop->n_in - 1]].name, "w");

    float x[3] = {1, 2, 3}, w[3] = {10, 20, 30};
    int64_t d3[1] = {3};
    mq_tensor in[2] = {value(MQ_F32, 1, d3, x), value(MQ_F32, 1, d3, w)};
    mq_tensor out[2];
    mq_err err = {0};
    assert_int_equal(mq_exec_run(g, in, out, &err), MQ_OK);
    /* i = 0, 1: s += w (i < 2); i = 2, 3: s -= w; the condition i < 3 ends the loop after i = 3. */
    const float final[3] = {1, 2, 3};
    const float all[12] = {11, 22, 33, 21, 42, 63, 11, 22, 33, 1, 2, 3};
    const int64_t d43[2] = {4, 3};
    expect_f32(&out[0], 1, d3, final);
    expect_f32(&out[1], 2, d43, all);
    free_outputs(out, 2);
    mq_import_result_free(&res);
}

static void test_scan_reverse_axis1(void **state)
{
    (void)state;
    mq_import_result res;
    mq_graph *g = load(DATA "scan_rev.onnx", &res);
    float init[2] = {0, 0}, x[6] = {1, 2, 3, 4, 5, 6};
    int64_t d2[1] = {2}, d23[2] = {2, 3};
    mq_tensor in[2] = {value(MQ_F32, 1, d2, init), value(MQ_F32, 2, d23, x)};
    mq_tensor out[2];
    mq_err err = {0};
    assert_int_equal(mq_exec_run(g, in, out, &err), MQ_OK);
    /* columns taken last to first: [3,6], [2,5], [1,4]; running sums [3,6], [5,11], [6,15], stacked on axis 1 */
    const float final[2] = {6, 15}, sums[6] = {3, 5, 6, 6, 11, 15};
    expect_f32(&out[0], 1, d2, final);
    expect_f32(&out[1], 2, d23, sums);
    free_outputs(out, 2);
    mq_import_result_free(&res);
}

static void test_endless_loop_is_capped(void **state)
{
    (void)state;
    mq_import_result res;
    mq_graph *g = load(DATA "forever.onnx", &res);
    uint8_t c = 1;
    int64_t n0 = 0;
    mq_tensor in[2] = {value(MQ_BOOL, 0, NULL, &c), value(MQ_I64, 0, NULL, &n0)};
    mq_tensor out[1];
    mq_err err = {0};
    mq_control_set_max_iterations(1000);
    assert_int_equal(mq_exec_run(g, in, out, &err), MQ_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "'forever' (Loop)"));
    assert_non_null(strstr(err.msg, "1000 iterations"));
    /* cond false from the start: no iteration, the count stays 0 */
    c = 0;
    mq_err_clear(&err);
    assert_int_equal(mq_exec_run(g, in, out, &err), MQ_OK);
    assert_int_equal(*(int64_t *)out[0].data, 0);
    free_outputs(out, 1);
    mq_control_set_max_iterations(0);
    assert_int_equal(mq_control_max_iterations(), MQ_DEFAULT_MAX_LOOP_ITERATIONS);
    mq_import_result_free(&res);
}

static void test_if_outer_and_zero_trip(void **state)
{
    (void)state;
    mq_import_result res;
    mq_graph *g = load(DATA "if_outer.onnx", &res);
    uint8_t c = 1;
    float x[2] = {1.5f, -2};
    int64_t m = 2, d2[1] = {2};
    mq_tensor in[3] = {value(MQ_BOOL, 0, NULL, &c), value(MQ_F32, 1, d2, x), value(MQ_I64, 0, NULL, &m)};
    mq_tensor out[2];
    mq_err err = {0};
    /* then: y = x; two iterations of v += x: v = 3x; scan [2x, 3x] */
    assert_int_equal(mq_exec_run(g, in, out, &err), MQ_OK);
    const float v[2] = {4.5f, -6}, vs[4] = {3, -4, 4.5f, -6};
    const int64_t d22[2] = {2, 2};
    expect_f32(&out[0], 1, d2, v);
    expect_f32(&out[1], 2, d22, vs);
    free_outputs(out, 2);
    /* else: y = -x; M = 0: v = y, and the scan output is empty [0, 2] */
    c = 0;
    m = 0;
    assert_int_equal(mq_exec_run(g, in, out, &err), MQ_OK);
    const float nv[2] = {-1.5f, 2};
    const int64_t d02[2] = {0, 2};
    expect_f32(&out[0], 1, d2, nv);
    expect_f32(&out[1], 2, d02, NULL);
    free_outputs(out, 2);
    mq_import_result_free(&res);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    /* Every allocation failure while importing and running a nested model is an error, never a crash. */
    for (long k = 1; k < 100000; k++) {
        mq_import_result res;
        mq_err err = {0};
        mq_alloc_fail_after(k);
        mq_status st = mq_import_onnx_file(DATA "nested.onnx", NULL, &res, &err);
        if (st == MQ_OK) {
            float x[3] = {1, 2, 3}, w[3] = {10, 20, 30};
            int64_t d3[1] = {3};
            mq_tensor in[2] = {value(MQ_F32, 1, d3, x), value(MQ_F32, 1, d3, w)};
            mq_tensor out[2];
            st = mq_exec_run(res.graph, in, out, &err);
            mq_alloc_fail_after(0);
            if (st == MQ_OK) free_outputs(out, 2);
            mq_import_result_free(&res);
            if (st == MQ_OK) return; /* k exceeds every allocation of the whole job */
        }
        mq_alloc_fail_after(0);
        assert_int_equal(st, MQ_ERR_NOMEM);
    }
    fail_msg("still failing after 100000 allocations");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_capture),        cmocka_unit_test(test_scan_reverse_axis1),
        cmocka_unit_test(test_endless_loop_is_capped), cmocka_unit_test(test_if_outer_and_zero_trip),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
