/* test_maqd.c: the MaQD ops (SRC, ActQuant, WS, LayerBatchNorm, the MSE-optimal step) on values worked
 * out by hand, and the passes (bn_to_lbn, fold_bn, insert_quantizers) on conformance and example models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/exec.h"
#include "core/infer.h"
#include "core/op.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"
#include "ops/maqd.h"
#include "passes/passes.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif
#define MODELS MAQD_SOURCE_DIR "/models/"
#define CONF "/usr/share/libonnx-testdata/data/"
#define PI 3.14159265358979323846

/* ---- helpers ----------------------------------------------------------------------------------------- */

static void near(const float *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol))
            fail_msg("element %zu: got %.9g, want %.9g", i, (double)got[i], want[i]);
}

static mq_tensor f32(int rank, const int64_t *dims, const float *data)
{
    mq_tensor t;
    memset(&t, 0, sizeof t);
    t.name = "";
    t.dtype = MQ_F32;
    mq_tensor_set_shape(&t, rank, dims);
    t.data = (void *)data;
    t.producer = -1;
    return t;
}

/* Run one op of the ai.maqd domain on the given inputs; out[k].data is mq_malloc'ed. */
static mq_status run_op(const char *op, mq_attr *attrs, int n_attr, const mq_tensor *ins, int n_in, mq_tensor *outs,
                        int n_out, mq_err *e)
{
    int in_ids[8], out_ids[8];
    mq_node n;
    memset(&n, 0, sizeof n);
    n.name = "t";
    n.op_type = op;
    n.domain = MQ_MAQD_DOMAIN;
    n.opset = 1;
    n.def = mq_op_find(MQ_MAQD_DOMAIN, op, 1, NULL);
    assert_non_null(n.def);
    n.attrs = attrs;
    n.n_attr = n_attr;
    n.n_in = n_in;
    n.n_out = n_out;
    n.in = in_ids;
    n.out = out_ids;
    const mq_tensor *in[8];
    mq_tensor *out[8];
    for (int i = 0; i < n_in; i++) {
        in_ids[i] = i;
        in[i] = &ins[i];
    }
    for (int i = 0; i < n_out; i++) {
        out_ids[i] = n_in + i;
        memset(&outs[i], 0, sizeof outs[i]);
        out[i] = &outs[i];
    }
    mq_err_clear(e);
    return mq_exec_node(&n, in, out, e);
}

static mq_attr attr_i(const char *name, int64_t v) { return (mq_attr){.name = name, .type = MQ_ATTR_INT, .i = v}; }
static mq_attr attr_f(const char *name, float v) { return (mq_attr){.name = name, .type = MQ_ATTR_FLOAT, .f = v}; }

/* max_i |a_i - b_i| / max_i |b_i|: the difference relative to the reference output's scale. */
static double rel_diff(const mq_tensor *a, const mq_tensor *b)
{
    assert_int_equal(a->dtype, MQ_F32);
    assert_int_equal(b->dtype, MQ_F32);
    assert_int_equal(mq_numel(a), mq_numel(b));
    double md = 0, mb = 0;
    const float *x = a->data, *y = b->data;
    for (int64_t i = 0; i < mq_numel(a); i++) {
        if (!isfinite(x[i])) return INFINITY;
        md = fmax(md, fabs((double)x[i] - y[i]));
        mb = fmax(mb, fabs((double)y[i]));
    }
    return mb > 0 ? md / mb : md;
}

static int count_ops(const mq_graph *g, const char *op)
{
    int c = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, op) == 0) c++;
    return c;
}

static void import_ok(const char *path, const char *pin, mq_import_result *r)
{
    mq_import_opts o;
    memset(&o, 0, sizeof o);
    const char *shapes[1] = {pin};
    if (pin) {
        o.n_shapes = 1;
        o.shapes = shapes;
    }
    mq_err e;
    mq_err_clear(&e);
    if (mq_import_onnx_file(path, &o, r, &e) != MQ_OK) fail_msg("import %s: %s", path, e.msg);
}

static void run_ok(const mq_graph *g, const mq_tensor *in, mq_tensor *out)
{
    mq_err e;
    mq_err_clear(&e);
    if (mq_exec_run(g, in, out, &e) != MQ_OK) fail_msg("run: %s", e.msg);
}

static void pass_ok(mq_pass_fn fn, mq_graph *g, const mq_pass_opts *o)
{
    mq_err e;
    mq_err_clear(&e);
    if (fn(g, o, &e) != MQ_OK) fail_msg("pass: %s", e.msg);
}

/* ---- SRC and ActQuant by hand ------------------------------------------------------------------------ */

static void test_round_level(void **state)
{
    (void)state;
    /* odd n: nearest integer, ties away from zero.   even n: nearest half-integer, ties away from zero
     *   v     -> n=3                                   v     -> n=2/4 (unclipped)
     *   0.49  -> 0                                     0.2   -> 0.5
     *   0.5   -> 1   (tie)                             0.9   -> 0.5
     *  -0.5   -> -1  (tie)                             1.0   -> 1.5  (tie 0.5 / 1.5)
     *   1.5   -> 2   (tie)                            -1.0   -> -1.5 (tie)
     *  -2.51  -> -3                                   -0.7   -> -0.5
     *   0     -> 0                                     0     -> +0.5 (tie with no "away": our choice)
     *                                                  2.01  -> 2.5 */
    const float odd_v[6] = {0.49f, 0.5f, -0.5f, 1.5f, -2.51f, 0.0f};
    const double odd_w[6] = {0, 1, -1, 2, -3, 0};
    const float even_v[8] = {0.2f, 0.9f, 1.0f, -1.0f, -0.7f, 0.0f, 2.01f, -0.0f};
    const double even_w[8] = {0.5, 0.5, 1.5, -1.5, -0.5, 0.5, 2.5, 0.5};
    for (int i = 0; i < 6; i++) {
        float r = mq_maqd_round_level(odd_v[i], 3);
        near(&r, &odd_w[i], 1, 0);
    }
    for (int i = 0; i < 8; i++) {
        float r2 = mq_maqd_round_level(even_v[i], 2), r4 = mq_maqd_round_level(even_v[i], 4);
        near(&r2, &even_w[i], 1, 0);
        near(&r4, &even_w[i], 1, 0);
    }
}

static void test_src_tables(void **state)
{
    (void)state;
    /* delta = 1.
     * n = 2, levels {-1/2, +1/2}:  x: -3 -1.0 -0.3  0   0.2  1.7
     *                              -> -.5 -.5  -.5 +.5  .5   .5
     * n = 3, levels {-1, 0, 1}:    x: -7  -0.5 0.49 0   0.5  1.5
     *                              -> -1  -1   0    0   1    1
     * n = 4, levels {+-1/2, +-3/2}: x: -1.0 -0.4 0.99 1.0 1.6 2.0 (tie 1.5/2.5 -> 2.5, clipped) 5
     *                              -> -1.5  -.5  .5   1.5 1.5 1.5                              1.5 */
    const float x2[6] = {-3, -1.0f, -0.3f, 0, 0.2f, 1.7f};
    const double w2[6] = {-0.5, -0.5, -0.5, 0.5, 0.5, 0.5};
    const float x3[6] = {-7, -0.5f, 0.49f, 0, 0.5f, 1.5f};
    const double w3[6] = {-1, -1, 0, 0, 1, 1};
    const float x4[7] = {-1.0f, -0.4f, 0.99f, 1.0f, 1.6f, 2.0f, 5};
    const double w4[7] = {-1.5, -0.5, 0.5, 1.5, 1.5, 1.5, 1.5};
    float y[7];
    for (int i = 0; i < 6; i++) y[i] = mq_maqd_src(x2[i], 2, 1.0f);
    near(y, w2, 6, 0);
    for (int i = 0; i < 6; i++) y[i] = mq_maqd_src(x3[i], 3, 1.0f);
    near(y, w3, 6, 0);
    for (int i = 0; i < 7; i++) y[i] = mq_maqd_src(x4[i], 4, 1.0f);
    near(y, w4, 7, 0);
    /* with a step: n = 3, delta = 0.5: 0.25 -> 0.5 (x/delta = 0.5, tie), 0.24 -> 0, -0.9 -> -0.5;
     * n = 16, delta = 0.25: levels +-0.125 ... +-1.875: 0.3 -> x/d 1.2 -> 1.5 -> 0.375; 9 -> 1.875 */
    const float xs[5] = {0.25f, 0.24f, -0.9f};
    const double ws[3] = {0.5, 0, -0.5};
    for (int i = 0; i < 3; i++) y[i] = mq_maqd_src(xs[i], 3, 0.5f);
    near(y, ws, 3, 0);
    y[0] = mq_maqd_src(0.3f, 16, 0.25f);
    y[1] = mq_maqd_src(9.0f, 16, 0.25f);
    const double w16[2] = {0.375, 1.875};
    near(y, w16, 2, 0);
}

static void test_actquant_values(void **state)
{
    (void)state;
    /* A_m(x; delta) = delta * clip(round(x / delta), 0, m-1), round as roundf (ties away from zero)
     *  m = 2, delta = 1:   x: -1   0.49  0.5 (tie)  3        -> 0 0 1 1
     *  m = 4, delta = 0.5: x: -0.3 0.25 (x/d = 0.5, tie) 0.74 (1.48) 0.75 (1.5, tie) 2.0 (4 -> 3)
     *                      ->  0   0.5                  0.5          1.0             1.5 */
    const float x2[4] = {-1, 0.49f, 0.5f, 3};
    const double w2[4] = {0, 0, 1, 1};
    const float x4[5] = {-0.3f, 0.25f, 0.74f, 0.75f, 2.0f};
    const double w4[5] = {0, 0.5, 0.5, 1.0, 1.5};
    float y[5];
    for (int i = 0; i < 4; i++) y[i] = mq_maqd_actq(x2[i], 2, 1.0f);
    near(y, w2, 4, 0);
    for (int i = 0; i < 5; i++) y[i] = mq_maqd_actq(x4[i], 4, 0.5f);
    near(y, w4, 5, 0);

    /* the op: same values, shape kept */
    int64_t d[2] = {1, 5};
    mq_tensor in = f32(2, d, x4), out;
    mq_attr at[2] = {attr_i("states", 4), attr_f("delta", 0.5f)};
    mq_err e;
    assert_int_equal(run_op("ActQuant", at, 2, &in, 1, &out, 1, &e), MQ_OK);
    assert_int_equal(out.rank, 2);
    near(out.data, w4, 5, 0);
    mq_free(out.data);
    /* bad attributes are errors naming the node */
    mq_attr bad[1] = {attr_i("states", 1)};
    assert_int_equal(run_op("ActQuant", bad, 1, &in, 1, &out, 1, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "states"));
    mq_attr bad2[2] = {attr_i("states", 4), attr_f("delta", -1)};
    assert_int_equal(run_op("ActQuant", bad2, 2, &in, 1, &out, 1, &e), MQ_ERR_INVALID);
}

/* ---- WS + SRC by hand -------------------------------------------------------------------------------- */

static void test_weight_standardization(void **state)
{
    (void)state;
    /* W = [[1, 2, 3], [0, 0, 6]], per row (output channel), population std, eps_w = 1e-5:
     *  row 0: mean 2, std sqrt(2/3) = 0.8164966;  w_hat = [-1, 0, 1] / 0.8165066 = [-1.2247299, 0, 1.2247299]
     *  row 1: mean 2, std sqrt(8) = 2.8284271;    w_hat = [-2, -2, 4] / 2.8284371
     *                                                    = [-0.7071043, -0.7071043, 1.4142086] */
    const float w[6] = {1, 2, 3, 0, 0, 6};
    const double want[6] = {-1.2247298715752986, 0, 1.2247298715752986, -0.7071042811953863, -0.7071042811953863,
                            1.4142085623907725};
    float y[6];
    mq_maqd_ws_f32(1, 2, 3, w, 1e-5f, y);
    near(y, want, 6, 2e-7);
    /* the same weight transposed (3 x 2, channels along axis 1) */
    const float wt[6] = {1, 0, 2, 0, 3, 6};
    mq_maqd_ws_f32(3, 2, 1, wt, 1e-5f, y);
    const double want_t[6] = {want[0], want[3], want[1], want[4], want[2], want[5]};
    near(y, want_t, 6, 2e-7);

    /* WeightQuant = SRC(WS(W)):
     *  n = 3, delta = 1: row 0 -> [-1, 0, 1]; row 1 -> [-1, -1, 1]
     *  n = 4, delta = 1: row 0 -> [-1.5, +0.5 (w_hat 0: the tie at zero), 1.5]; row 1 -> [-0.5, -0.5, 1.5]
     *  n = 3, delta = 0.6: row 0: +-1.2247/0.6 = +-2.04 -> +-1 -> +-0.6; row 1: -1.1785 -> -1, 2.357 -> 1 */
    int64_t d[2] = {2, 3};
    mq_tensor in = f32(2, d, w), out;
    mq_err e;
    mq_attr a3[2] = {attr_i("states", 3), attr_f("delta", 1.0f)};
    assert_int_equal(run_op("WeightQuant", a3, 2, &in, 1, &out, 1, &e), MQ_OK);
    const double q3[6] = {-1, 0, 1, -1, -1, 1};
    near(out.data, q3, 6, 0);
    mq_free(out.data);
    mq_attr a4[2] = {attr_i("states", 4), attr_f("delta", 1.0f)};
    assert_int_equal(run_op("WeightQuant", a4, 2, &in, 1, &out, 1, &e), MQ_OK);
    const double q4[6] = {-1.5, 0.5, 1.5, -0.5, -0.5, 1.5};
    near(out.data, q4, 6, 0);
    mq_free(out.data);
    mq_attr a36[2] = {attr_i("states", 3), attr_f("delta", 0.6f)};
    assert_int_equal(run_op("WeightQuant", a36, 2, &in, 1, &out, 1, &e), MQ_OK);
    const double q36[6] = {-0.6, 0, 0.6, -0.6, -0.6, 0.6};
    near(out.data, q36, 6, 1e-7);
    mq_free(out.data);
    /* axis = 1 on the transpose gives the transposed result */
    int64_t dt[2] = {3, 2};
    mq_tensor int_ = f32(2, dt, wt);
    mq_attr a3t[3] = {attr_i("states", 3), attr_f("delta", 1.0f), attr_i("axis", 1)};
    assert_int_equal(run_op("WeightQuant", a3t, 3, &int_, 1, &out, 1, &e), MQ_OK);
    const double q3t[6] = {-1, -1, 0, -1, 1, 1};
    near(out.data, q3t, 6, 0);
    mq_free(out.data);
    /* default delta = the MSE-optimal step for n = 3 (1.224): row 0 w_hat/delta = +-1.0006 -> +-1 */
    mq_attr a3d[1] = {attr_i("states", 3)};
    assert_int_equal(run_op("WeightQuant", a3d, 1, &in, 1, &out, 1, &e), MQ_OK);
    const float *o = out.data;
    double dd = mq_maqd_optimal_step(3);
    const double q3d[6] = {-dd, 0, dd, -dd, -dd, dd};
    near(o, q3d, 6, 1e-6);
    mq_free(out.data);
}

static void test_optimal_step(void **state)
{
    (void)state;
    /* MAQD.md section 2 (also Max's uniform-quantizer table for a unit normal) */
    const int n[5] = {2, 3, 4, 8, 16};
    const double want[5] = {1.596, 1.224, 0.996, 0.586, 0.335};
    for (int i = 0; i < 5; i++) {
        double d = mq_maqd_optimal_step(n[i]);
        if (!(fabs(d - want[i]) <= 0.0005)) fail_msg("n = %d: step %.6f, want %.3f", n[i], d, want[i]);
    }
    /* n = 2: levels +-delta/2 and the optimum is delta/2 = E|X| = sqrt(2/pi), so delta = 1.5957691 */
    assert_true(fabs(mq_maqd_optimal_step(2) - 2 * sqrt(2 / PI)) < 1e-6);
    /* the objective at n = 2: E(X - sign(X) d/2)^2 = 1 - d sqrt(2/pi) + d^2/4; d = 1: 0.4521239 */
    assert_true(fabs(mq_maqd_src_mse_normal(2, 1.0) - (1 - sqrt(2 / PI) + 0.25)) < 1e-12);
    /* cached (same value twice), decreasing in n, out of range gives 0 */
    assert_true(mq_maqd_optimal_step(8) == mq_maqd_optimal_step(8));
    for (int k = 3; k <= 256; k *= 2) assert_true(mq_maqd_optimal_step(k) < mq_maqd_optimal_step(k - 1));
    assert_true(mq_maqd_optimal_step(1) == 0);
    assert_true(mq_maqd_optimal_step(257) == 0);
}

/* ---- LayerBatchNorm by hand -------------------------------------------------------------------------- */

static void test_lbn_eval_and_training(void **state)
{
    (void)state;
    /* eval: X (1, 2, 1) = [2, -1], gamma [1, 3], beta [0.5, 0], mu_run 1, var_run 3, eps 1 (sqrt 4 = 2):
     *   y0 = 1 (2 - 1) / 2 + 0.5 = 1;  y1 = 3 (-1 - 1) / 2 + 0 = -3 */
    int64_t dx[3] = {1, 2, 1}, dc[1] = {2}, d1[1] = {1};
    const float x[2] = {2, -1}, gamma[2] = {1, 3}, beta[2] = {0.5f, 0}, mu[1] = {1}, var[1] = {3};
    mq_tensor in[5] = {f32(3, dx, x), f32(1, dc, gamma), f32(1, dc, beta), f32(1, d1, mu), f32(1, d1, var)};
    mq_tensor out[3];
    mq_err e;
    mq_attr ae[1] = {attr_f("epsilon", 1.0f)};
    assert_int_equal(run_op("LayerBatchNorm", ae, 1, in, 5, out, 1, &e), MQ_OK);
    const double want[2] = {1, -3};
    near(out[0].data, want, 2, 1e-6);
    mq_free(out[0].data);

    /* training: X (1, 2, 2) = [[1, 3], [5, 7]]: mean over all four = 4, biased var = (9+1+1+9)/4 = 5,
     * gamma [1, 2], beta [0, 1], eps 0: y = gamma (x - 4) / sqrt 5 + beta
     *   = [-1.3416408, -0.4472136, 1.8944272, 3.6832816]
     * running (m = 0.1, from 0 and 1): mu 0.9*0 + 0.1*4 = 0.4; var 0.9*1 + 0.1*(20/3) = 1.5666667 */
    int64_t dx2[3] = {1, 2, 2};
    const float x2[4] = {1, 3, 5, 7}, g2[2] = {1, 2}, b2[2] = {0, 1}, mu0[1] = {0}, var1[1] = {1};
    mq_tensor in2[5] = {f32(3, dx2, x2), f32(1, dc, g2), f32(1, dc, b2), f32(1, d1, mu0), f32(1, d1, var1)};
    mq_attr at[2] = {attr_f("epsilon", 0), attr_i("training", 1)};
    assert_int_equal(run_op("LayerBatchNorm", at, 2, in2, 5, out, 3, &e), MQ_OK);
    const double want2[4] = {-1.3416407864998738, -0.4472135954999579, 1.8944271909999157, 3.6832815729997477};
    near(out[0].data, want2, 4, 1e-6);
    const double run_mu = 0.4, run_var = 1.5666666666666667;
    near(out[1].data, &run_mu, 1, 1e-7);
    near(out[2].data, &run_var, 1, 1e-6);
    for (int k = 0; k < 3; k++) mq_free(out[k].data);
    /* a batch of one is fine in training mode (statistics over C and S) */
    int64_t dx3[3] = {1, 2, 2};
    in2[0] = f32(3, dx3, x2);
    assert_int_equal(run_op("LayerBatchNorm", at, 2, in2, 5, out, 1, &e), MQ_OK);
    mq_free(out[0].data);
    /* running-statistics outputs need training = 1; gamma of the wrong length is a shape error */
    assert_int_equal(run_op("LayerBatchNorm", ae, 1, in, 5, out, 3, &e), MQ_ERR_INVALID);
    in[1] = f32(1, d1, gamma);
    assert_int_equal(run_op("LayerBatchNorm", ae, 1, in, 5, out, 1, &e), MQ_ERR_SHAPE);
}

/* ---- bn_to_lbn and fold_bn on conformance models -------------------------------------------------------- */

/* ONNX node tests feed scale, bias, mean and var as graph inputs: make them constants (values from
 * test_data_set_0) so the passes see an inference-form BatchNormalization. */
static void load_bn_node_test(const char *dir, mq_import_result *r, mq_tensor *x, mq_tensor *want)
{
    char p[512];
    snprintf(p, sizeof p, "%s/model.onnx", dir);
    import_ok(p, NULL, r);
    mq_graph *g = r->graph;
    mq_err e;
    for (int k = 0; k < g->n_inputs; k++) {
        snprintf(p, sizeof p, "%s/test_data_set_0/input_%d.pb", dir, k);
        mq_tensor v;
        if (mq_tensor_read_file(p, &v, &e) != MQ_OK) fail_msg("%s: %s", p, e.msg);
        if (k == 0) {
            *x = v;
            continue;
        }
        mq_tensor *t = &g->tensors[g->inputs[k]];
        size_t nb = mq_nbytes(&v);
        t->data = mq_arena_alloc(g->arena, nb);
        assert_non_null(t->data);
        memcpy(t->data, v.data, nb);
        t->is_const = 1;
        t->is_input = 0;
        mq_tensor_free_data(&v);
    }
    g->n_inputs = 1;
    assert_int_equal(mq_graph_infer(g, 0, &e), MQ_OK);
    snprintf(p, sizeof p, "%s/test_data_set_0/output_0.pb", dir);
    if (mq_tensor_read_file(p, want, &e) != MQ_OK) fail_msg("%s: %s", p, e.msg);
}

static void load_conformance(const char *dir, mq_import_result *r, mq_tensor *x, mq_tensor *want)
{
    char p[512];
    mq_err e;
    snprintf(p, sizeof p, "%s/model.onnx", dir);
    import_ok(p, NULL, r);
    snprintf(p, sizeof p, "%s/test_data_set_0/input_0.pb", dir);
    if (mq_tensor_read_file(p, x, &e) != MQ_OK) fail_msg("%s: %s", p, e.msg);
    snprintf(p, sizeof p, "%s/test_data_set_0/output_0.pb", dir);
    if (mq_tensor_read_file(p, want, &e) != MQ_OK) fail_msg("%s: %s", p, e.msg);
}

/* y = scale (x - mean) / sqrt(var + eps) + bias (ONNX's BatchNormalization), in double, on the graph's
 * single BN node's constants: the independent reference. */
static void bn_reference(const mq_graph *g, const mq_tensor *x, double *y)
{
    const mq_node *n = &g->nodes[0];
    assert_string_equal(n->op_type, "BatchNormalization");
    const float *s = g->tensors[n->in[1]].data, *b = g->tensors[n->in[2]].data, *m = g->tensors[n->in[3]].data,
                *v = g->tensors[n->in[4]].data, *xd = x->data;
    double eps = mq_attr_float(n, "epsilon", 1e-5f);
    int64_t N = x->dims[0], C = x->dims[1], S = mq_numel(x) / (N * C);
    for (int64_t i = 0; i < N * C * S; i++) {
        int64_t c = (i / S) % C;
        y[i] = s[c] * (xd[i] - m[c]) / sqrt(v[c] + eps) + b[c];
    }
}

static double rel_to_ref(const mq_tensor *a, const double *ref)
{
    double md = 0, mb = 0;
    const float *x = a->data;
    for (int64_t i = 0; i < mq_numel(a); i++) {
        md = fmax(md, fabs(x[i] - ref[i]));
        mb = fmax(mb, fabs(ref[i]));
    }
    return md / mb;
}

static void check_bn_conformance(const char *dir, int node_test)
{
    mq_import_result r;
    mq_tensor x, want, before, after;
    if (node_test) load_bn_node_test(dir, &r, &x, &want);
    else load_conformance(dir, &r, &x, &want);
    mq_graph *g = r.graph;
    double *ref = mq_malloc(sizeof(double) * (size_t)mq_numel(&x));
    assert_non_null(ref);
    bn_reference(g, &x, ref);
    run_ok(g, &x, &before);
    mq_pass_stats st = {0};
    mq_pass_opts o = {.stats = &st};
    pass_ok(mq_pass_bn_to_lbn, g, &o);
    assert_int_equal(st.bn_replaced, 1);
    assert_int_equal(count_ops(g, "BatchNormalization"), 0);
    assert_int_equal(count_ops(g, "LayerBatchNorm"), 1);
    run_ok(g, &x, &after);
    double d_spec = rel_to_ref(&after, ref), d_file = rel_diff(&after, &want), d_before = rel_diff(&after, &before);
    print_message("bn_to_lbn %-58s vs spec %.2e, vs output_0.pb %.2e, vs before %.2e\n", dir, d_spec, d_file,
                  d_before);
    assert_true(d_spec <= 1e-5 && d_file <= 1e-5 && d_before <= 1e-5);
    assert_true(rel_to_ref(&before, ref) <= 1e-5);
    mq_tensor_free_data(&after);
    /* fold_bn has no Conv/Gemm to fold into here: the graph is left alone */
    st = (mq_pass_stats){0};
    pass_ok(mq_pass_fold_bn, g, &o);
    assert_int_equal(st.bn_folded, 0);
    assert_int_equal(st.skipped, 1);
    mq_free(ref);
    mq_tensor_free_data(&x);
    mq_tensor_free_data(&want);
    mq_tensor_free_data(&before);
    mq_import_result_free(&r);
}

static void test_bn_to_lbn_conformance(void **state)
{
    (void)state;
    check_bn_conformance(CONF "node/test_batchnorm_example", 1);
    check_bn_conformance(CONF "node/test_batchnorm_epsilon", 1);
    check_bn_conformance(CONF "pytorch-converted/test_BatchNorm1d_3d_input_eval", 0);
    check_bn_conformance(CONF "pytorch-converted/test_BatchNorm2d_eval", 0);
    check_bn_conformance(CONF "pytorch-converted/test_BatchNorm2d_momentum_eval", 0);
    check_bn_conformance(CONF "pytorch-converted/test_BatchNorm3d_eval", 0);
    check_bn_conformance(CONF "pytorch-converted/test_BatchNorm3d_momentum_eval", 0);
}

/* The training-form BatchNormalization (extra outputs) is not converted. */
static void test_bn_training_form_left_alone(void **state)
{
    (void)state;
    mq_import_result r;
    mq_tensor x, want;
    load_bn_node_test(CONF "node/test_batchnorm_example_training_mode", &r, &x, &want);
    mq_pass_stats st = {0};
    mq_pass_opts o = {.stats = &st};
    pass_ok(mq_pass_bn_to_lbn, r.graph, &o);
    assert_int_equal(st.bn_replaced, 0);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(count_ops(r.graph, "BatchNormalization"), 1);
    mq_tensor_free_data(&x);
    mq_tensor_free_data(&want);
    mq_import_result_free(&r);
}

/* ---- example models ---------------------------------------------------------------------------------- */

static void load_fashion_input(mq_tensor *x)
{
    mq_err e;
    if (mq_tensor_read_file(MODELS "data/fashion_test_8.npy", x, &e) != MQ_OK) fail_msg("input: %s", e.msg);
    assert_int_equal(x->rank, 4);
    assert_int_equal(x->dims[0], 8);
}

/* Import a model (batch pinned to 8) and run it on the 8 test images. */
static void load_model(const char *path, mq_import_result *r, const mq_tensor *x, mq_tensor *y)
{
    import_ok(path, "batch=8", r);
    run_ok(r->graph, x, y);
}

static void check_model_passes(const char *path, int n_bn)
{
    mq_import_result r;
    mq_tensor x, y0, y1, y2;
    load_fashion_input(&x);
    load_model(path, &r, &x, &y0);
    mq_graph *g = r.graph;
    assert_int_equal(count_ops(g, "BatchNormalization"), n_bn);
    int n_nodes = g->n_nodes;

    /* bn_to_lbn: every BN replaced; outputs equal the original's to float rounding */
    mq_pass_stats st = {0};
    mq_pass_opts o = {.stats = &st};
    pass_ok(mq_pass_bn_to_lbn, g, &o);
    assert_int_equal(st.bn_replaced, n_bn);
    assert_int_equal(count_ops(g, "BatchNormalization"), 0);
    assert_int_equal(count_ops(g, "LayerBatchNorm"), n_bn);
    assert_int_equal(g->n_nodes, n_nodes);
    run_ok(g, &x, &y1);
    double d_lbn = rel_diff(&y1, &y0);

    /* fold_bn on the LBN graph: every LBN follows a Conv with no other consumer */
    pass_ok(mq_pass_fold_bn, g, &o);
    assert_int_equal(st.bn_folded, n_bn);
    assert_int_equal(count_ops(g, "LayerBatchNorm"), 0);
    assert_int_equal(g->n_nodes, n_nodes - n_bn);
    run_ok(g, &x, &y2);
    double d_fold_lbn = rel_diff(&y2, &y0);
    mq_tensor_free_data(&y1);
    mq_tensor_free_data(&y2);
    mq_import_result_free(&r);

    /* fold_bn straight on the BatchNormalization graph */
    load_model(path, &r, &x, &y1);
    mq_tensor_free_data(&y1);
    st = (mq_pass_stats){0};
    pass_ok(mq_pass_fold_bn, r.graph, &o);
    assert_int_equal(st.bn_folded, n_bn);
    assert_int_equal(count_ops(r.graph, "BatchNormalization"), 0);
    run_ok(r.graph, &x, &y2);
    double d_fold_bn = rel_diff(&y2, &y0);
    print_message("%s: max |diff| / max |y| over 8x10 logits: bn_to_lbn %.2e, bn_to_lbn+fold_bn %.2e, "
                  "fold_bn %.2e\n", path, d_lbn, d_fold_lbn, d_fold_bn);
    assert_true(d_lbn <= 1e-5);
    assert_true(d_fold_lbn <= 1e-5);
    assert_true(d_fold_bn <= 1e-5);
    mq_tensor_free_data(&y2);
    mq_tensor_free_data(&y0);
    mq_tensor_free_data(&x);
    mq_import_result_free(&r);
}

static void test_fashion_cnn_passes(void **state)
{
    (void)state;
    check_model_passes(MODELS "fashion_cnn.onnx", 3);
}

static void test_fashion_resnet_passes(void **state)
{
    (void)state;
    check_model_passes(MODELS "fashion_resnet.onnx", 9);
}

/* Every LBN, run alone on random X, against the ONNX formula with the original BN's constants. */
static void test_lbn_nodes_vs_spec(void **state)
{
    (void)state;
    mq_import_result r, r0;
    import_ok(MODELS "fashion_cnn.onnx", "batch=8", &r);
    import_ok(MODELS "fashion_cnn.onnx", "batch=8", &r0);
    pass_ok(mq_pass_bn_to_lbn, r.graph, NULL);
    const mq_graph *g = r.graph, *g0 = r0.graph;
    int checked = 0;
    uint32_t rng = 7;
    for (int i = 0; i < g0->n_nodes; i++) {
        const mq_node *bn = &g0->nodes[i];
        if (strcmp(bn->op_type, "BatchNormalization") != 0) continue;
        const mq_node *lbn = NULL;
        for (int j = 0; j < g->n_nodes; j++)
            if (strcmp(g->nodes[j].name, bn->name) == 0) lbn = &g->nodes[j];
        assert_non_null(lbn);
        assert_string_equal(lbn->op_type, "LayerBatchNorm");
        const mq_tensor *xt = &g0->tensors[bn->in[0]];
        int64_t C = xt->dims[1], S = 5, dims[3] = {2, C, S};
        float *xd = mq_malloc(sizeof(float) * (size_t)(2 * C * S));
        double *ref = mq_malloc(sizeof(double) * (size_t)(2 * C * S));
        assert_non_null(xd);
        assert_non_null(ref);
        const float *m = g0->tensors[bn->in[3]].data, *v = g0->tensors[bn->in[4]].data;
        const float *s = g0->tensors[bn->in[1]].data, *b = g0->tensors[bn->in[2]].data;
        double eps = mq_attr_float(bn, "epsilon", 1e-5f);
        for (int64_t k = 0; k < 2 * C * S; k++) {
            int64_t c = (k / S) % C;
            rng = rng * 1664525u + 1013904223u;
            xd[k] = (float)(m[c] + sqrt(v[c]) * (((rng >> 8) & 0xffff) / 16384.0 - 2.0)); /* within 2 sd */
            ref[k] = s[c] * (xd[k] - m[c]) / sqrt(v[c] + eps) + b[c];
        }
        mq_tensor in0 = f32(3, dims, xd), out;
        const mq_tensor *in[5] = {&in0, &g->tensors[lbn->in[1]], &g->tensors[lbn->in[2]], &g->tensors[lbn->in[3]],
                                  &g->tensors[lbn->in[4]]};
        mq_tensor *outp[1] = {&out};
        memset(&out, 0, sizeof out);
        mq_err e;
        assert_int_equal(mq_exec_node(lbn, in, outp, &e), MQ_OK);
        double d = rel_to_ref(&out, ref);
        print_message("LBN '%s' (C = %lld) vs the ONNX BatchNormalization formula: %.2e\n", lbn->name,
                      (long long)C, d);
        assert_true(d <= 1e-5);
        mq_free(out.data);
        mq_free(xd);
        mq_free(ref);
        checked++;
    }
    assert_int_equal(checked, 3);
    mq_import_result_free(&r);
    mq_import_result_free(&r0);
}

/* fold_bn into a Gemm (transB = 0, bias of shape [N], beta != 1) built by hand, and into one with no bias. */
static void test_fold_into_gemm(void **state)
{
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        mq_graph *g;
        mq_err e;
        assert_int_equal(mq_graph_new(16, 4, &g, &e), MQ_OK);
        const char *names[9] = {"a", "B", "C", "y", "s", "bb", "m", "v", "z"};
        int id[9];
        for (int k = 0; k < 9; k++) id[k] = mq_graph_tensor(g, names[k]);
        int64_t da[2] = {3, 4}, db[2] = {4, 2}, dn[1] = {2};
        static const float B[8] = {0.5f, -1, 2, 0.25f, -0.75f, 1.5f, 1, -2}, Cb[2] = {0.1f, -0.3f};
        static const float s[2] = {1.5f, -0.5f}, bb[2] = {0.2f, 0.7f}, m[2] = {0.3f, -1.1f}, v[2] = {2.0f, 0.4f};
        struct {
            int t;
            int rank;
            const int64_t *d;
            const float *data;
        } consts[6] = {{1, 2, db, B}, {2, 1, dn, Cb}, {4, 1, dn, s}, {5, 1, dn, bb}, {6, 1, dn, m}, {7, 1, dn, v}};
        for (int k = 0; k < 6; k++) {
            mq_tensor *t = &g->tensors[id[consts[k].t]];
            t->dtype = MQ_F32;
            mq_tensor_set_shape(t, consts[k].rank, consts[k].d);
            t->data = (void *)consts[k].data;
            t->is_const = 1;
        }
        mq_tensor *a = &g->tensors[id[0]];
        a->dtype = MQ_F32;
        mq_tensor_set_shape(a, 2, da);
        a->is_input = 1;
        g->inputs = mq_arena_array(g->arena, 1, sizeof(int));
        g->outputs = mq_arena_array(g->arena, 1, sizeof(int));
        g->inputs[0] = id[0];
        g->outputs[0] = id[8];
        g->n_inputs = g->n_outputs = 1;
        g->tensors[id[8]].is_output = 1;
        mq_node *gemm = mq_graph_add_node(g), *bn = mq_graph_add_node(g);
        int gin[3], gout[1], bin[5], bout[1];
        gin[0] = id[0];
        gin[1] = id[1];
        gin[2] = id[2];
        gout[0] = id[3];
        bin[0] = id[3];
        for (int k = 1; k < 5; k++) bin[k] = id[3 + k];
        bout[0] = id[8];
        mq_attr gattr[1] = {{.name = "beta", .type = MQ_ATTR_FLOAT, .f = 2.0f}};
        *gemm = (mq_node){.name = "fc", .op_type = "Gemm", .domain = "", .opset = 13, .n_in = variant ? 2 : 3,
                          .n_out = 1, .in = gin, .out = gout, .n_attr = 1, .attrs = gattr,
                          .def = mq_op_find("", "Gemm", 13, NULL)};
        *bn = (mq_node){.name = "bn", .op_type = "BatchNormalization", .domain = "", .opset = 15, .n_in = 5,
                        .n_out = 1, .in = bin, .out = bout, .def = mq_op_find("", "BatchNormalization", 15, NULL)};
        assert_int_equal(mq_graph_infer(g, 0, &e), MQ_OK);
        const float av[12] = {1, 2, 3, 4, -1, 0.5f, 0, 2, 0.3f, -0.2f, 1.1f, -3};
        mq_tensor x = f32(2, da, av), y0, y1;
        run_ok(g, &x, &y0);
        /* the independent reference: ONNX Gemm then BatchNormalization, in double */
        double ref[6];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) {
                double acc = 0;
                for (int k = 0; k < 4; k++) acc += (double)av[i * 4 + k] * B[k * 2 + j];
                acc += variant ? 0 : 2.0 * Cb[j];
                ref[i * 2 + j] = s[j] * (acc - m[j]) / sqrt(v[j] + 1e-5) + bb[j];
            }
        mq_pass_stats st = {0};
        mq_pass_opts o = {.stats = &st};
        pass_ok(mq_pass_fold_bn, g, &o);
        assert_int_equal(st.bn_folded, 1);
        assert_int_equal(g->n_nodes, 1);
        run_ok(g, &x, &y1);
        double d0 = rel_to_ref(&y0, ref), d1 = rel_to_ref(&y1, ref);
        print_message("fold_bn into Gemm (%s): before vs spec %.2e, after vs spec %.2e\n",
                      variant ? "no bias" : "bias, beta 2", d0, d1);
        assert_true(d0 <= 1e-6 && d1 <= 1e-6);
        mq_tensor_free_data(&y0);
        mq_tensor_free_data(&y1);
        mq_graph_free(g);
    }
}

/* ---- insert_quantizers ------------------------------------------------------------------------------- */

static int quantized_levels_ok(const mq_graph *g, const mq_node *q)
{
    const mq_tensor *t = &g->tensors[q->out[0]];
    int n = (int)mq_attr_int(q, "states", 0);
    float delta = mq_attr_float(q, "delta", 0);
    const float *d = t->data;
    if (!d || n < 2 || !(delta > 0)) return 0;
    for (int64_t i = 0; i < mq_numel(t); i++) {
        double l = d[i] / delta + 0.5 * (n - 1); /* 0 .. n-1, an integer */
        if (fabs(l - round(l)) > 1e-4 || l < -1e-4 || l > n - 1 + 1e-4) return 0;
    }
    return 1;
}

static void test_insert_quantizers_fashion_cnn(void **state)
{
    (void)state;
    mq_tensor x, y;
    load_fashion_input(&x);
    mq_import_result r;
    load_model(MODELS "fashion_cnn.onnx", &r, &x, &y);
    mq_tensor_free_data(&y);
    mq_graph *g = r.graph;
    pass_ok(mq_pass_bn_to_lbn, g, NULL);
    /* 4 quantizable layers (3 Conv, 1 Gemm); the first Conv and the Gemm are exempt: 2 WeightQuant.
     * 3 Relu: 3 ActQuant. */
    mq_pass_stats st = {0};
    mq_pass_opts o = {.w_states = 2, .a_states = 2, .stats = &st};
    int n_nodes = g->n_nodes;
    pass_ok(mq_pass_insert_quantizers, g, &o);
    assert_int_equal(st.weight_quant, 2);
    assert_int_equal(st.act_quant, 3);
    assert_int_equal(st.exempt, 2);
    assert_int_equal(count_ops(g, "WeightQuant"), 2);
    assert_int_equal(count_ops(g, "ActQuant"), 3);
    assert_int_equal(count_ops(g, "Relu"), 0);
    assert_int_equal(g->n_nodes, n_nodes + 2);
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if (strcmp(n->op_type, "Conv") == 0 || strcmp(n->op_type, "Gemm") == 0) {
            const char *w = g->tensors[n->in[1]].name;
            int exempt = strcmp(n->name, "/features/features.0/Conv") == 0 || strcmp(n->name, "/fc/Gemm") == 0;
            assert_int_equal(strstr(w, ".wq") != NULL, !exempt);
        }
        if (strcmp(n->op_type, "WeightQuant") == 0) {
            assert_int_equal(mq_attr_int(n, "states", 0), 2);
            assert_true(fabs(mq_attr_float(n, "delta", 0) - 1.596) < 5e-4);
            assert_true(quantized_levels_ok(g, n)); /* folded at inference: every value on a level */
        }
        if (strcmp(n->op_type, "ActQuant") == 0) {
            assert_int_equal(mq_attr_int(n, "states", 0), 2);
            assert_true(mq_attr_float(n, "delta", 0) == 1.0f);
        }
    }
    /* the quantized model runs; with 2 states every post-ActQuant activation is 0 or delta */
    run_ok(g, &x, &y);
    for (int64_t i = 0; i < mq_numel(&y); i++) assert_true(isfinite(((float *)y.data)[i]));
    mq_tensor_free_data(&y);
    /* running it again changes nothing (quantized weights are not quantized twice) */
    st = (mq_pass_stats){0};
    pass_ok(mq_pass_insert_quantizers, g, &o);
    assert_int_equal(st.weight_quant, 0);
    assert_int_equal(st.act_quant, 0);
    assert_int_equal(count_ops(g, "WeightQuant"), 2);
    mq_import_result_free(&r);

    /* first and last included: 4 WeightQuant; an override leaves features.4 float and sets the last
     * Relu's states to 16 */
    import_ok(MODELS "fashion_cnn.onnx", "batch=8", &r);
    g = r.graph;
    const char *ov[2] = {"/features/features.4/*=f:-", "*features.10/Relu=-:16"};
    st = (mq_pass_stats){0};
    o = (mq_pass_opts){.quant_first = 1, .quant_last = 1, .n_overrides = 2, .overrides = ov, .stats = &st};
    pass_ok(mq_pass_insert_quantizers, g, &o);
    assert_int_equal(st.weight_quant, 3);
    assert_int_equal(st.exempt, 1);
    assert_int_equal(st.act_quant, 3);
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if (strcmp(n->op_type, "ActQuant") == 0)
            assert_int_equal(mq_attr_int(n, "states", 0),
                             strcmp(n->name, "/features/features.10/Relu") == 0 ? 16 : MQ_PASS_DEFAULT_A_STATES);
        if (strcmp(n->op_type, "WeightQuant") == 0)
            assert_int_equal(mq_attr_int(n, "states", 0), MQ_PASS_DEFAULT_W_STATES);
    }
    run_ok(g, &x, &y);
    mq_tensor_free_data(&y);
    mq_import_result_free(&r);

    /* bad options are errors */
    import_ok(MODELS "fashion_cnn.onnx", "batch=8", &r);
    mq_err e;
    const char *bad[1] = {"conv=1:2"};
    o = (mq_pass_opts){.n_overrides = 1, .overrides = bad};
    assert_int_equal(mq_pass_insert_quantizers(r.graph, &o, &e), MQ_ERR_INVALID);
    const char *bad2[1] = {"conv2"};
    o = (mq_pass_opts){.n_overrides = 1, .overrides = bad2};
    assert_int_equal(mq_pass_insert_quantizers(r.graph, &o, &e), MQ_ERR_INVALID);
    o = (mq_pass_opts){.w_states = 257};
    assert_int_equal(mq_pass_insert_quantizers(r.graph, &o, &e), MQ_ERR_INVALID);
    mq_import_result_free(&r);
    mq_tensor_free_data(&x);
}

/* fashion_resnet (python3-onnx: 9 Conv, 9 BatchNormalization, 7 Relu, 3 Add, 1 Gemm): 10 quantizable
 * layers, the stem Conv and the Gemm exempt: 8 WeightQuant; 7 ActQuant; the graph still runs. */
static void test_insert_quantizers_fashion_resnet(void **state)
{
    (void)state;
    mq_tensor x, y;
    load_fashion_input(&x);
    mq_import_result r;
    import_ok(MODELS "fashion_resnet.onnx", "batch=8", &r);
    mq_pass_stats st = {0};
    mq_pass_opts o = {.w_states = 3, .a_states = 4, .stats = &st};
    pass_ok(mq_pass_bn_to_lbn, r.graph, &o);
    pass_ok(mq_pass_insert_quantizers, r.graph, &o);
    assert_int_equal(st.bn_replaced, 9);
    assert_int_equal(st.weight_quant, 8);
    assert_int_equal(st.exempt, 2);
    assert_int_equal(st.act_quant, 7);
    assert_int_equal(count_ops(r.graph, "Relu"), 0);
    run_ok(r.graph, &x, &y);
    for (int64_t i = 0; i < mq_numel(&y); i++) assert_true(isfinite(((float *)y.data)[i]));
    mq_tensor_free_data(&y);
    mq_tensor_free_data(&x);
    mq_import_result_free(&r);
}

/* Clip(min 0) becomes ActQuant; Clip with another min does not (conformance Clip models, opset 11+). */
static void test_insert_quantizers_clip(void **state)
{
    (void)state;
    mq_import_result r;
    mq_tensor x, want;
    load_bn_node_test(CONF "node/test_clip_default_int8_min", &r, &x, &want); /* int8: not float, left */
    mq_pass_stats st = {0};
    mq_pass_opts o = {.stats = &st};
    pass_ok(mq_pass_insert_quantizers, r.graph, &o);
    assert_int_equal(st.act_quant, 0);
    mq_tensor_free_data(&x);
    mq_tensor_free_data(&want);
    mq_import_result_free(&r);
    load_bn_node_test(CONF "node/test_clip", &r, &x, &want); /* min -1, max 1 */
    pass_ok(mq_pass_insert_quantizers, r.graph, &o);
    assert_int_equal(st.act_quant, 0);
    mq_tensor_free_data(&x);
    mq_tensor_free_data(&want);
    mq_import_result_free(&r);
    /* the same model with its min set to 0 (max 1): Clip(min 0) becomes ActQuant (min, max dropped);
     * m = 4, delta 1 (defaults): y = clip(roundf(x), 0, 3) */
    load_bn_node_test(CONF "node/test_clip", &r, &x, &want);
    mq_graph *g = r.graph;
    assert_string_equal(g->nodes[0].op_type, "Clip");
    float *mn = g->tensors[g->nodes[0].in[1]].data;
    assert_true(mn[0] == -1.0f);
    mn[0] = 0;
    pass_ok(mq_pass_insert_quantizers, g, &o);
    assert_int_equal(st.act_quant, 1);
    assert_string_equal(g->nodes[0].op_type, "ActQuant");
    assert_int_equal(g->nodes[0].n_in, 1);
    mq_tensor y;
    run_ok(g, &x, &y);
    const float *xd = x.data, *yd = y.data;
    for (int64_t i = 0; i < mq_numel(&x); i++) {
        double r0 = roundf(xd[i]);
        double want_i = r0 < 0 ? 0 : r0 > 3 ? 3 : r0;
        near(&yd[i], &want_i, 1, 0);
    }
    mq_tensor_free_data(&y);
    mq_tensor_free_data(&x);
    mq_tensor_free_data(&want);
    mq_import_result_free(&r);
    st.act_quant = 0;
    /* test_relu: one Relu */
    load_conformance(CONF "node/test_relu", &r, &x, &want);
    pass_ok(mq_pass_insert_quantizers, r.graph, &o);
    assert_int_equal(st.act_quant, 1);
    assert_string_equal(r.graph->nodes[0].op_type, "ActQuant");
    mq_tensor_free_data(&x);
    mq_tensor_free_data(&want);
    mq_import_result_free(&r);
}

/* Make the Nth allocation of each pass fail, for every N until the pass succeeds: each failure is
 * MQ_ERR_NOMEM, nothing crashes or leaks (run under the sanitizers in CI). */
static void test_passes_out_of_memory(void **state)
{
    (void)state;
    const mq_pass_fn passes[3] = {mq_pass_bn_to_lbn, mq_pass_insert_quantizers, mq_pass_fold_bn};
    for (int p = 0; p < 3; p++) {
        int ok = 0;
        for (long nth = 1; nth < 100000 && !ok; nth++) {
            mq_import_result r;
            import_ok(MODELS "fashion_cnn.onnx", "batch=8", &r);
            mq_err e;
            mq_err_clear(&e);
            mq_alloc_fail_after(nth);
            mq_status st = passes[p](r.graph, NULL, &e);
            mq_alloc_fail_after(0);
            if (st == MQ_OK) ok = 1;
            else if (st != MQ_ERR_NOMEM) fail_msg("pass %d, allocation %ld: %s", p, nth, e.msg);
            mq_import_result_free(&r);
        }
        assert_true(ok);
    }
}

static void test_pass_table(void **state)
{
    (void)state;
    const char *want[3] = {"bn_to_lbn", "insert_quantizers", "fold_bn"};
    for (int i = 0; i < 3; i++) {
        const mq_pass_def *p = mq_pass_find(want[i]);
        assert_non_null(p);
        assert_non_null(p->fn);
        assert_true(strlen(p->description) > 10);
    }
    assert_null(mq_pass_find("nope"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_level),
        cmocka_unit_test(test_src_tables),
        cmocka_unit_test(test_actquant_values),
        cmocka_unit_test(test_weight_standardization),
        cmocka_unit_test(test_optimal_step),
        cmocka_unit_test(test_lbn_eval_and_training),
        cmocka_unit_test(test_bn_to_lbn_conformance),
        cmocka_unit_test(test_bn_training_form_left_alone),
        cmocka_unit_test(test_fashion_cnn_passes),
        cmocka_unit_test(test_fashion_resnet_passes),
        cmocka_unit_test(test_lbn_nodes_vs_spec),
        cmocka_unit_test(test_fold_into_gemm),
        cmocka_unit_test(test_insert_quantizers_fashion_cnn),
        cmocka_unit_test(test_insert_quantizers_fashion_resnet),
        cmocka_unit_test(test_insert_quantizers_clip),
        cmocka_unit_test(test_passes_out_of_memory),
        cmocka_unit_test(test_pass_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
