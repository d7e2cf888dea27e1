/* test_grad.c: sweeps the op table: every op definition with a backward rule is checked against central
 * finite differences of its own forward (one case per attribute variant that matters), the ops the trainer
 * needs must all have a rule, and the quantizers' surrogate gradients (not differentiable) are checked
 * against their definitions by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/exec.h"
#include "core/op.h"
#include "ops/grad.h"
#include "ops/loss.h"
#include "ops/maqd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The case table leaves trailing fields zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ---- cases ------------------------------------------------------------------------------------------- */

enum { GEN_UNIFORM = 0, GEN_POS, GEN_SPACED, GEN_INT };

typedef struct tin {
    int rank;
    int64_t dims[6];
    int gen;              /* GEN_* */
    int grad;             /* check this input's gradient */
    int64_t ivals[6];     /* GEN_INT: int64 values (count = dims[0]) */
    float lo, hi;         /* GEN_UNIFORM range (0, 0: [-1, 1]) */
} tin;

typedef struct gcase {
    const char *label, *domain, *op;
    int opset, n_in, n_out;
    tin in[5];
    int n_attr;
    mq_attr attrs[8];
    float kinks[4];       /* generated values stay at least 0.05 away from these */
    int n_kinks;
} gcase;

#define F(nm, v) {.name = nm, .type = MQ_ATTR_FLOAT, .f = v}
#define I(nm, v) {.name = nm, .type = MQ_ATTR_INT, .i = v}
#define IS(nm, n_, arr) {.name = nm, .type = MQ_ATTR_INTS, .n = n_, .ints = arr}

#define S(nm, v) {.name = nm, .type = MQ_ATTR_STRING, .s = v, .s_len = sizeof(v) - 1}

static const int64_t k33[] = {3, 3}, s21[] = {2, 1}, p1011[] = {1, 0, 1, 1}, d12[] = {1, 2}, s22[] = {2, 2},
                     p1111[] = {1, 1, 1, 1}, k2[] = {2}, s1[] = {1}, p01[] = {0, 1}, k22[] = {2, 2},
                     k222[] = {2, 2, 2}, s212[] = {2, 1, 2}, p3[] = {1, 0, 0, 0, 1, 1}, k3[] = {3}, s2[] = {2},
                     p11[] = {1, 1}, d2[] = {2};

static const gcase cases[] = {
    {"Add broadcast", "", "Add", 13, 2, 1, {{3, {2, 3, 4}, 0, 1}, {2, {3, 1}, 0, 1}}},
    {"Add same", "", "Add", 13, 2, 1, {{2, {3, 4}, 0, 1}, {2, {3, 4}, 0, 1}}},
    {"Sub broadcast", "", "Sub", 13, 2, 1, {{2, {2, 3}, 0, 1}, {1, {3}, 0, 1}}},
    {"Mul broadcast", "", "Mul", 13, 2, 1, {{3, {2, 3, 4}, 0, 1}, {3, {1, 3, 1}, 0, 1}}},
    {"Mul same", "", "Mul", 13, 2, 1, {{2, {2, 5}, 0, 1}, {2, {2, 5}, 0, 1}}},
    {"Relu", "", "Relu", 14, 1, 1, {{2, {3, 5}, 0, 1}}, 0, {{0}}, {0}, 1},
    {"Clip", "", "Clip", 13, 3, 1, {{2, {3, 6}, 0, 1}, {0, {0}, 0, 1, {0}, -0.5f, -0.5f}, {0, {0}, 0, 1, {0}, 0.5f, 0.5f}},
     0, {{0}}, {-0.5f, 0.5f}, 2},
    {"Clip min only", "", "Clip", 13, 2, 1, {{2, {3, 6}, 0, 1}, {0, {0}, 0, 1, {0}, -0.3f, -0.3f}}, 0, {{0}}, {-0.3f}, 1},
    {"Clip no bounds", "", "Clip", 13, 1, 1, {{2, {3, 4}, 0, 1}}},
    {"Clip attributes (opset 6)", "", "Clip", 6, 1, 1, {{2, {3, 6}, 0, 1}}, 2, {F("min", 0.0f), F("max", 0.6f)},
     {0.0f, 0.6f}, 2},
    {"Sigmoid", "", "Sigmoid", 13, 1, 1, {{2, {3, 5}, 0, 1, {0}, -3, 3}}},
    {"HardSigmoid", "", "HardSigmoid", 6, 1, 1, {{2, {4, 5}, 0, 1, {0}, -2, 2}}, 2, {F("alpha", 0.5f), F("beta", 0.5f)},
     {-1.0f, 1.0f}, 2},
    {"HardSwish", "", "HardSwish", 14, 1, 1, {{2, {4, 5}, 0, 1, {0}, -4, 4}}, 0, {{0}}, {-3.0f, 3.0f}, 2},
    {"Identity", "", "Identity", 14, 1, 1, {{2, {2, 3}, 0, 1}}},
    {"Dropout", "", "Dropout", 13, 1, 1, {{2, {2, 3}, 0, 1}}},
    {"Flatten", "", "Flatten", 13, 1, 1, {{3, {2, 3, 4}, 0, 1}}, 1, {I("axis", 2)}},
    {"Reshape", "", "Reshape", 14, 2, 1, {{3, {2, 3, 4}, 0, 1}, {1, {2}, GEN_INT, 0, {4, -1}}}},
    {"Squeeze", "", "Squeeze", 13, 2, 1, {{3, {2, 1, 4}, 0, 1}, {1, {1}, GEN_INT, 0, {1}}}},
    {"Unsqueeze", "", "Unsqueeze", 13, 2, 1, {{2, {2, 4}, 0, 1}, {1, {1}, GEN_INT, 0, {0}}}},
    {"Concat", "", "Concat", 13, 3, 1, {{3, {2, 2, 3}, 0, 1}, {3, {2, 1, 3}, 0, 1}, {3, {2, 3, 3}, 0, 1}}, 1, {I("axis", 1)}},
    {"Softmax axis", "", "Softmax", 13, 1, 1, {{3, {2, 4, 3}, 0, 1, {0}, -2, 2}}, 1, {I("axis", 1)}},
    {"Softmax 2-D (opset 11)", "", "Softmax", 11, 1, 1, {{3, {2, 3, 4}, 0, 1, {0}, -2, 2}}, 1, {I("axis", 1)}},
    {"Conv groups/strides/pads/dilations", "", "Conv", 11, 3, 1,
     {{4, {2, 4, 5, 7}, 0, 1}, {4, {6, 2, 3, 3}, 0, 1}, {1, {6}, 0, 1}}, 5,
     {I("group", 2), IS("kernel_shape", 2, k33), IS("strides", 2, s21), IS("pads", 4, p1011), IS("dilations", 2, d12)}},
    {"Conv plain", "", "Conv", 11, 2, 1, {{4, {1, 3, 4, 4}, 0, 1}, {4, {2, 3, 3, 3}, 0, 1}}, 1, {IS("pads", 4, p1111)}},
    {"Conv 3-D strides/pads", "", "Conv", 11, 3, 1,
     {{5, {1, 2, 4, 3, 5}, 0, 1}, {5, {2, 2, 2, 2, 2}, 0, 1}, {1, {2}, 0, 1}}, 3,
     {IS("kernel_shape", 3, k222), IS("strides", 3, s212), IS("pads", 6, p3)}},
    {"Conv depthwise", "", "Conv", 11, 2, 1, {{4, {2, 3, 5, 5}, 0, 1}, {4, {3, 1, 3, 3}, 0, 1}}, 3,
     {I("group", 3), IS("strides", 2, s22), IS("pads", 4, p1111)}},
    {"Conv 1-D", "", "Conv", 11, 3, 1, {{3, {2, 2, 6}, 0, 1}, {3, {3, 2, 2}, 0, 1}, {1, {3}, 0, 1}}, 3,
     {IS("kernel_shape", 1, k2), IS("strides", 1, s1), IS("pads", 2, p01)}},
    {"Gemm transB", "", "Gemm", 13, 3, 1, {{2, {3, 4}, 0, 1}, {2, {5, 4}, 0, 1}, {1, {5}, 0, 1}}, 3,
     {I("transB", 1), F("alpha", 0.7f), F("beta", 1.3f)}},
    {"Gemm transA", "", "Gemm", 13, 3, 1, {{2, {4, 3}, 0, 1}, {2, {4, 5}, 0, 1}, {2, {3, 1}, 0, 1}}, 1, {I("transA", 1)}},
    {"Gemm transA transB, no C", "", "Gemm", 13, 2, 1, {{2, {4, 3}, 0, 1}, {2, {5, 4}, 0, 1}}, 2,
     {I("transA", 1), I("transB", 1)}},
    {"Gemm plain, scalar C", "", "Gemm", 13, 3, 1, {{2, {2, 3}, 0, 1}, {2, {3, 4}, 0, 1}, {0, {0}, 0, 1}}},
    {"MatMul batched", "", "MatMul", 13, 2, 1, {{3, {2, 3, 4}, 0, 1}, {2, {4, 5}, 0, 1}}},
    {"MatMul broadcast A", "", "MatMul", 13, 2, 1, {{2, {3, 4}, 0, 1}, {3, {2, 4, 5}, 0, 1}}},
    {"MatMul 1-D", "", "MatMul", 13, 2, 1, {{1, {4}, 0, 1}, {2, {4, 5}, 0, 1}}},
    {"MaxPool", "", "MaxPool", 12, 1, 1, {{4, {1, 2, 5, 5}, GEN_SPACED, 1}}, 3,
     {IS("kernel_shape", 2, k33), IS("strides", 2, s22), IS("pads", 4, p1111)}},
    {"MaxPool 2x2", "", "MaxPool", 12, 1, 1, {{4, {2, 2, 4, 4}, GEN_SPACED, 1}}, 2,
     {IS("kernel_shape", 2, k22), IS("strides", 2, s22)}},
    {"MaxPool 2x2, odd sizes", "", "MaxPool", 12, 1, 1, {{4, {2, 2, 5, 7}, GEN_SPACED, 1}}, 2,
     {IS("kernel_shape", 2, k22), IS("strides", 2, s22)}},
    {"MaxPool 1-D dilations", "", "MaxPool", 12, 1, 1, {{3, {2, 2, 9}, GEN_SPACED, 1}}, 4,
     {IS("kernel_shape", 1, k3), IS("strides", 1, s2), IS("pads", 2, p11), IS("dilations", 1, d2)}},
    {"AveragePool", "", "AveragePool", 11, 1, 1, {{4, {1, 2, 5, 5}, 0, 1}}, 3,
     {IS("kernel_shape", 2, k33), IS("strides", 2, s22), IS("pads", 4, p1111)}},
    {"AveragePool count_include_pad", "", "AveragePool", 11, 1, 1, {{4, {1, 2, 5, 5}, 0, 1}}, 4,
     {IS("kernel_shape", 2, k33), IS("strides", 2, s22), IS("pads", 4, p1111), I("count_include_pad", 1)}},
    {"AveragePool 1-D no pads", "", "AveragePool", 11, 1, 1, {{3, {2, 3, 7}, 0, 1}}, 2,
     {IS("kernel_shape", 1, k3), IS("strides", 1, s2)}},
    {"GlobalAveragePool", "", "GlobalAveragePool", 1, 1, 1, {{4, {2, 3, 4, 4}, 0, 1}}},
    {"GlobalAveragePool 1-D", "", "GlobalAveragePool", 1, 1, 1, {{3, {2, 3, 5}, 0, 1}}},
    {"Softmax default axis", "", "Softmax", 13, 1, 1, {{2, {3, 5}, 0, 1, {0}, -2, 2}}},
    {"Concat negative axis", "", "Concat", 13, 2, 1, {{2, {2, 3}, 0, 1}, {2, {2, 2}, 0, 1}}, 1, {I("axis", -1)}},
    {"SoftmaxCrossEntropyLoss mean", "", "SoftmaxCrossEntropyLoss", 13, 2, 1,
     {{2, {3, 5}, 0, 1, {0}, -2, 2}, {1, {3}, GEN_INT, 0, {1, 4, 0}}}},
    {"SoftmaxCrossEntropyLoss weights ignore_index", "", "SoftmaxCrossEntropyLoss", 13, 3, 1,
     {{2, {4, 3}, 0, 1, {0}, -2, 2}, {1, {4}, GEN_INT, 0, {2, 0, 1, 0}}, {1, {3}, GEN_POS, 1}}, 1,
     {I("ignore_index", 1)}},
    {"SoftmaxCrossEntropyLoss none 3-D", "", "SoftmaxCrossEntropyLoss", 13, 2, 1,
     {{3, {2, 3, 2}, 0, 1, {0}, -2, 2}, {2, {2, 2}, GEN_INT, 0, {0, 2, 1, 1}}}, 1, {S("reduction", "none")}},
    {"SoftmaxCrossEntropyLoss sum with log_prob", "", "SoftmaxCrossEntropyLoss", 13, 2, 2,
     {{2, {2, 4}, 0, 1, {0}, -2, 2}, {1, {2}, GEN_INT, 0, {3, 1}}}, 1, {S("reduction", "sum")}},
    {"NegativeLogLikelihoodLoss mean weights", "", "NegativeLogLikelihoodLoss", 13, 3, 1,
     {{2, {3, 4}, 0, 1}, {1, {3}, GEN_INT, 0, {0, 3, 3}}, {1, {4}, GEN_POS, 1}}},
    {"DistillLoss", MQ_MAQD_DOMAIN, "DistillLoss", 1, 2, 1, {{2, {3, 4}, 0, 1, {0}, -3, 3}, {2, {3, 4}, 0, 1, {0}, -3, 3}},
     1, {F("temperature", 2.0f)}},
    {"BatchNormalization training", "", "BatchNormalization", 15, 5, 1,
     {{4, {3, 2, 2, 2}, 0, 1, {0}, -2, 2}, {1, {2}, 0, 1}, {1, {2}, 0, 1}, {1, {2}, 0, 0}, {1, {2}, GEN_POS, 0}}, 1,
     {I("training_mode", 1)}},
    {"BatchNormalization training batch 1", "", "BatchNormalization", 15, 5, 1,
     {{3, {1, 3, 5}, 0, 1, {0}, -2, 2}, {1, {3}, 0, 1}, {1, {3}, 0, 1}, {1, {3}, 0, 0}, {1, {3}, GEN_POS, 0}}, 1,
     {I("training_mode", 1)}},
    {"BatchNormalization training (opset 9: statistics outputs)", "", "BatchNormalization", 9, 5, 3,
     {{4, {2, 2, 3, 1}, 0, 1, {0}, -2, 2}, {1, {2}, 0, 1}, {1, {2}, 0, 1}, {1, {2}, 0, 0}, {1, {2}, GEN_POS, 0}}},
    {"BatchNormalization eval", "", "BatchNormalization", 15, 5, 1,
     {{4, {2, 3, 2, 2}, 0, 1}, {1, {3}, 0, 1}, {1, {3}, 0, 1}, {1, {3}, 0, 1}, {1, {3}, GEN_POS, 1}}},
    {"LayerBatchNorm training", MQ_MAQD_DOMAIN, "LayerBatchNorm", 1, 5, 1,
     {{3, {3, 2, 4}, 0, 1, {0}, -2, 2}, {1, {2}, 0, 1}, {1, {2}, 0, 1}, {1, {1}, 0, 0}, {1, {1}, GEN_POS, 0}}, 1,
     {I("training", 1)}},
    {"LayerBatchNorm training, rows of 7", MQ_MAQD_DOMAIN, "LayerBatchNorm", 1, 5, 1,
     {{3, {2, 3, 7}, 0, 1, {0}, -2, 2}, {1, {3}, 0, 1}, {1, {3}, 0, 1}, {1, {1}, 0, 0}, {1, {1}, GEN_POS, 0}}, 1,
     {I("training", 1)}},
    {"LayerBatchNorm eval", MQ_MAQD_DOMAIN, "LayerBatchNorm", 1, 5, 1,
     {{4, {2, 3, 2, 2}, 0, 1}, {1, {3}, 0, 1}, {1, {3}, 0, 1}, {1, {1}, 0, 1}, {1, {1}, GEN_POS, 1}}},
};

/* Ops whose rules are checked by hand below (round and clip: no derivative to compare against). */
static const char *const by_hand[] = {"WeightQuant", "ActQuant"};

/* ---- helpers ------------------------------------------------------------------------------------------ */

static uint64_t rng_state = 0x1234567;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

typedef struct built {
    mq_node n;
    int ids[16];
    mq_tensor ins[5], outs[4];
    const mq_tensor *pin[5];
    mq_tensor *pout[4];
} built;

static void build(const gcase *c, built *b)
{
    memset(b, 0, sizeof *b);
    b->n.name = c->label;
    b->n.op_type = c->op;
    b->n.domain = c->domain;
    b->n.opset = c->opset;
    b->n.def = mq_op_find(c->domain, c->op, c->opset, NULL);
    if (!b->n.def) fail_msg("%s: op not found", c->label);
    b->n.n_in = c->n_in;
    b->n.n_out = c->n_out;
    b->n.in = b->ids;
    b->n.out = b->ids + 8;
    b->n.attrs = (mq_attr *)c->attrs;
    b->n.n_attr = c->n_attr;
    for (int i = 0; i < c->n_in; i++) {
        const tin *t = &c->in[i];
        mq_tensor *x = &b->ins[i];
        x->name = "in";
        x->dtype = t->gen == GEN_INT ? MQ_I64 : MQ_F32;
        mq_tensor_set_shape(x, t->rank, t->dims);
        int64_t k = mq_numel(x);
        x->data = test_calloc((size_t)k + 1, 8);
        for (int64_t j = 0; j < k; j++) {
            if (t->gen == GEN_INT) {
                ((int64_t *)x->data)[j] = t->ivals[j];
                continue;
            }
            float *f = x->data;
            if (t->gen == GEN_POS) f[j] = (float)(0.5 + urand());
            else if (t->gen == GEN_SPACED) f[j] = (float)(0.1 * (double)((j * 7 + 3) % k) - 0.05 * (double)k);
            else {
                double lo = t->lo, hi = t->hi;
                if (lo == 0 && hi == 0) lo = -1, hi = 1;
                for (int tries = 0;; tries++) {
                    f[j] = (float)(lo + (hi - lo) * urand());
                    int ok = 1;
                    for (int q = 0; q < c->n_kinks; q++)
                        if (fabs(f[j] - c->kinks[q]) < 0.05) ok = 0;
                    if (ok || lo == hi || tries > 100) break;
                }
            }
        }
        b->ids[i] = i;
        b->pin[i] = x;
    }
    for (int k = 0; k < c->n_out; k++) {
        b->ids[8 + k] = 8 + k;
        b->pout[k] = &b->outs[k];
    }
}

static double objective(built *b, const float *r)
{
    mq_err e;
    mq_err_clear(&e);
    for (int k = 0; k < b->n.n_out; k++) memset(&b->outs[k], 0, sizeof b->outs[k]);
    mq_status st = mq_exec_node(&b->n, b->pin, b->pout, &e);
    if (st != MQ_OK) fail_msg("%s: forward failed: %s", b->n.name, e.msg);
    double s = 0;
    int64_t k = mq_numel(&b->outs[0]);
    for (int64_t j = 0; j < k; j++) s += (double)((float *)b->outs[0].data)[j] * r[j];
    for (int q = 0; q < b->n.n_out; q++) mq_free(b->outs[q].data);
    return s;
}

static void check_case(const gcase *c)
{
    built b;
    build(c, &b);
    mq_backward_fn fn = mq_op_backward(b.n.def);
    if (!fn) fail_msg("%s: no backward rule", c->label);
    mq_err e;
    mq_err_clear(&e);
    for (int k = 0; k < c->n_out; k++) memset(&b.outs[k], 0, sizeof b.outs[k]);
    if (mq_exec_node(&b.n, b.pin, b.pout, &e) != MQ_OK) fail_msg("%s: forward: %s", c->label, e.msg);
    int64_t ny = mq_numel(&b.outs[0]);
    float *r = test_malloc(sizeof(float) * (size_t)(ny + 1));
    for (int64_t j = 0; j < ny; j++) r[j] = (float)(2 * urand() - 1);
    const float *dout[4] = {r, NULL, NULL, NULL};
    float *din[5] = {0};
    for (int i = 0; i < c->n_in; i++)
        if (c->in[i].grad) din[i] = test_calloc((size_t)mq_numel(&b.ins[i]) + 1, sizeof(float));
    const mq_tensor *couts[4] = {&b.outs[0], &b.outs[1], &b.outs[2], &b.outs[3]};
    if (fn(&b.n, b.pin, couts, dout, din, &e) != MQ_OK) fail_msg("%s: backward: %s", c->label, e.msg);
    for (int q = 0; q < c->n_out; q++) mq_free(b.outs[q].data);
    /* eps 1e-2 on O(1) values: the truncation error (eps^2 f''') and the float32 rounding of the
     * objective (~1e-6 / eps) both stay well under the tolerance 2e-3 + 1e-2 |g|. */
    const double eps = 1e-2;
    int checked = 0;
    for (int i = 0; i < c->n_in; i++) {
        if (!din[i]) continue;
        float *x = b.ins[i].data;
        int64_t k = mq_numel(&b.ins[i]);
        for (int64_t j = 0; j < k; j++) {
            float keep = x[j];
            x[j] = (float)(keep + eps);
            double lp = objective(&b, r);
            x[j] = (float)(keep - eps);
            double lm = objective(&b, r);
            x[j] = keep;
            double num = (lp - lm) / ((double)(float)(keep + eps) - (double)(float)(keep - eps));
            double got = din[i][j];
            if (!(fabs(num - got) <= 2e-3 + 1e-2 * fabs(num)))
                fail_msg("%s: d/d input %d [%lld]: backward %.6g, finite difference %.6g", c->label, i, (long long)j, got,
                         num);
            checked++;
        }
        test_free(din[i]);
    }
    assert_true(checked > 0);
    test_free(r);
    for (int i = 0; i < c->n_in; i++) test_free(b.ins[i].data);
}

/* ---- tests -------------------------------------------------------------------------------------------- */

/* Every op definition with a backward rule has a finite-difference case (or a by-hand test). */
static void test_every_rule_has_a_case(void **state)
{
    (void)state;
    int rules = 0;
    for (int i = 0; mq_op_at(i); i++) {
        const mq_op_def *d = mq_op_at(i);
        if (!d->backward) continue;
        rules++;
        int found = 0;
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
            if (mq_op_find(cases[k].domain, cases[k].op, cases[k].opset, NULL) == d) found = 1;
        for (size_t k = 0; k < sizeof by_hand / sizeof by_hand[0]; k++)
            if (mq_op_find(MQ_MAQD_DOMAIN, by_hand[k], 1, NULL) == d) found = 1;
        if (!found) fail_msg("%s (domain '%s', since %d) has a backward rule but no test case", d->op_type, d->domain,
                             d->since);
        assert_ptr_equal(mq_op_backward(d), d->backward);
    }
    assert_true(rules >= 20);
}

/* The ops of CNN and MLP classifiers (issue 4) must all be differentiable, at the opsets models use. */
static void test_required_ops_have_rules(void **state)
{
    (void)state;
    static const struct {
        const char *domain, *op;
        int opset;
    } req[] = {
        {"", "Conv", 11}, {"", "Gemm", 13}, {"", "MatMul", 13}, {"", "Add", 14}, {"", "Sub", 14}, {"", "Mul", 14},
        {"", "Relu", 14}, {"", "Clip", 13}, {"", "Clip", 6}, {"", "Sigmoid", 13}, {"", "HardSigmoid", 6},
        {"", "HardSwish", 14}, {"", "MaxPool", 12}, {"", "AveragePool", 11}, {"", "GlobalAveragePool", 1},
        {"", "Flatten", 13}, {"", "Reshape", 14}, {"", "Concat", 13}, {"", "Softmax", 13}, {"", "Softmax", 11},
        {"", "SoftmaxCrossEntropyLoss", 13}, {"", "BatchNormalization", 15}, {MQ_MAQD_DOMAIN, "LayerBatchNorm", 1},
        {MQ_MAQD_DOMAIN, "WeightQuant", 1}, {MQ_MAQD_DOMAIN, "ActQuant", 1}, {MQ_MAQD_DOMAIN, "DistillLoss", 1},
    };
    for (size_t k = 0; k < sizeof req / sizeof req[0]; k++) {
        const mq_op_def *d = mq_op_find(req[k].domain, req[k].op, req[k].opset, NULL);
        if (!d) fail_msg("%s-%d is not in the op table", req[k].op, req[k].opset);
        if (!d->backward) fail_msg("%s-%d has no backward rule", req[k].op, req[k].opset);
    }
}

static void test_finite_differences(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) check_case(&cases[k]);
}

/* WS backward against finite differences of WS itself (smooth; double-checked in double). */
static void test_ws_backward(void **state)
{
    (void)state;
    enum { OUTER = 2, C = 3, INNER = 4, N = OUTER * C * INNER };
    float w[N], g[N], dw[N], y[N];
    for (int i = 0; i < N; i++) {
        w[i] = (float)(2 * urand() - 1);
        g[i] = (float)(2 * urand() - 1);
    }
    mq_grad_ws_f32(OUTER, C, INNER, w, g, 1e-5f, dw);
    const double eps = 1e-2;
    for (int i = 0; i < N; i++) {
        float keep = w[i];
        double l[2];
        for (int s = 0; s < 2; s++) {
            w[i] = (float)(keep + (s ? -eps : eps));
            mq_maqd_ws_f32(OUTER, C, INNER, w, 1e-5f, y);
            l[s] = 0;
            for (int j = 0; j < N; j++) l[s] += (double)y[j] * g[j];
        }
        w[i] = keep;
        double num = (l[0] - l[1]) / (2 * eps);
        if (!(fabs(num - dw[i]) <= 2e-3 + 1e-2 * fabs(num))) fail_msg("WS d/dw[%d]: %.6g vs %.6g", i, dw[i], num);
    }
}

static void run_rule(const char *op, mq_attr *attrs, int n_attr, const mq_tensor *x, const float *g, float *dx)
{
    mq_node n;
    int ids[2] = {0, 1};
    memset(&n, 0, sizeof n);
    n.name = "t";
    n.op_type = op;
    n.domain = MQ_MAQD_DOMAIN;
    n.opset = 1;
    n.def = mq_op_find(MQ_MAQD_DOMAIN, op, 1, NULL);
    assert_non_null(n.def);
    n.n_in = n.n_out = 1;
    n.in = ids;
    n.out = ids + 1;
    n.attrs = attrs;
    n.n_attr = n_attr;
    const mq_tensor *in[1] = {x}, *out[1] = {x};
    const float *dout[1] = {g};
    float *din[1] = {dx};
    mq_err e;
    mq_err_clear(&e);
    mq_backward_fn fn = mq_op_backward(n.def);
    assert_non_null(fn);
    if (fn(&n, in, out, dout, din, &e) != MQ_OK) fail_msg("%s: %s", op, e.msg);
}

/* ActQuant, MAQD.md section 4: STE passes the gradient where 0 <= x <= (m - 1/2) delta; the sigmoid
 * surrogate is sum_k alpha s (1 - s), s = logistic(alpha (x - t_k) / delta), t_k = (k - 1/2) delta. */
static void test_actquant_surrogates(void **state)
{
    (void)state;
    /* m = 4, delta = 0.5: the STE window is [0, 1.75] */
    float xs[] = {-0.01f, 0.0f, 0.3f, 1.75f, 1.76f, 5.0f};
    float want_ste[] = {0, 2, 2, 2, 0, 0};
    float g[6] = {2, 2, 2, 2, 2, 2}, dx[6];
    int64_t d6 = 6;
    mq_tensor x;
    memset(&x, 0, sizeof x);
    x.dtype = MQ_F32;
    mq_tensor_set_shape(&x, 1, &d6);
    x.data = xs;
    mq_attr a[3] = {{.name = "states", .type = MQ_ATTR_INT, .i = 4}, {.name = "delta", .type = MQ_ATTR_FLOAT, .f = 0.5f},
                    {.name = "surrogate", .type = MQ_ATTR_STRING, .s = "ste", .s_len = 3}};
    run_rule("ActQuant", a, 2, &x, g, dx);
    for (int i = 0; i < 6; i++) assert_true(dx[i] == want_ste[i]);
    run_rule("ActQuant", a, 3, &x, g, dx);
    for (int i = 0; i < 6; i++) assert_true(dx[i] == want_ste[i]);
    /* sigmoid, m = 2, delta = 1: one threshold at 0.5. At x = 0.5: 4 * 1/2 * 1/2 = 1. At 0.5 + ln(3)/4:
     * s = 3/4, 4 * 3/4 * 1/4 = 0.75. Far away: ~0. */
    float xs2[] = {0.5f, (float)(0.5 + log(3.0) / 4), 10.0f};
    float g2[3] = {1, 1, 1}, dx2[3];
    int64_t d3 = 3;
    mq_tensor_set_shape(&x, 1, &d3);
    x.data = xs2;
    mq_attr b[3] = {{.name = "states", .type = MQ_ATTR_INT, .i = 2}, {.name = "delta", .type = MQ_ATTR_FLOAT, .f = 1.0f},
                    {.name = "surrogate", .type = MQ_ATTR_STRING, .s = "sigmoid", .s_len = 7}};
    run_rule("ActQuant", b, 3, &x, g2, dx2);
    assert_true(fabs(dx2[0] - 1.0) < 1e-6);
    assert_true(fabs(dx2[1] - 0.75) < 1e-6);
    assert_true(fabs(dx2[2]) < 1e-6);
    /* m = 3, delta = 2: thresholds 1 and 3; at x = 2 each contributes 4 s (1 - s) with s = logistic(+-2) */
    double s = 1 / (1 + exp(-2.0)), want = 2 * 4 * s * (1 - s);
    assert_true(fabs(mq_grad_actq_surrogate(2.0f, 3, 2.0f, 1) - want) < 1e-6);
    /* an unknown surrogate is an error */
    mq_attr c[3] = {{.name = "states", .type = MQ_ATTR_INT, .i = 2}, {.name = "delta", .type = MQ_ATTR_FLOAT, .f = 1.0f},
                    {.name = "surrogate", .type = MQ_ATTR_STRING, .s = "tanh", .s_len = 4}};
    mq_node n;
    int ids[2] = {0, 1};
    memset(&n, 0, sizeof n);
    n.name = "t";
    n.op_type = "ActQuant";
    n.domain = MQ_MAQD_DOMAIN;
    n.def = mq_op_find(MQ_MAQD_DOMAIN, "ActQuant", 1, NULL);
    n.n_in = n.n_out = 1;
    n.in = ids;
    n.out = ids + 1;
    n.attrs = c;
    n.n_attr = 3;
    const mq_tensor *in[1] = {&x};
    const float *dout[1] = {g2};
    float *din[1] = {dx2};
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_op_backward(n.def)(&n, in, in, dout, din, &e), MQ_ERR_INVALID);
}

/* WeightQuant, MAQD.md section 4: straight-through where |w_hat / delta| <= (n-1)/2 + 1/2, then exactly
 * through WS. */
static void test_weightquant_surrogate(void **state)
{
    (void)state;
    /* standardize = 0, n = 3, delta = 1.224: pass where |w| <= 1.5 * 1.224 = 1.836 */
    float w[] = {1.0f, 1.9f, -1.83f, -1.84f, 0.0f, 1.836f};
    float want[] = {3, 0, 3, 0, 3, 3}, g[6] = {3, 3, 3, 3, 3, 3}, dw[6];
    int64_t dims[2] = {2, 3};
    mq_tensor x;
    memset(&x, 0, sizeof x);
    x.dtype = MQ_F32;
    mq_tensor_set_shape(&x, 2, dims);
    x.data = w;
    mq_attr a[3] = {{.name = "states", .type = MQ_ATTR_INT, .i = 3}, {.name = "delta", .type = MQ_ATTR_FLOAT, .f = 1.224f},
                    {.name = "standardize", .type = MQ_ATTR_INT, .i = 0}};
    run_rule("WeightQuant", a, 3, &x, g, dw);
    for (int i = 0; i < 6; i++)
        if (dw[i] != want[i]) fail_msg("w[%d] = %g: got %g, want %g", i, w[i], dw[i], want[i]);
    /* n = 2: pass where |w / delta| <= 1 */
    assert_true(mq_grad_wq_pass(1.0f, 2, 1.0f));
    assert_false(mq_grad_wq_pass(1.01f, 2, 1.0f));
    assert_true(mq_grad_wq_pass(-3.5f, 8, 1.0f));
    assert_false(mq_grad_wq_pass(-4.01f, 8, 1.0f));
    /* standardize = 1 (axis 0: per row): the masked gradient through WS. Row 0 of {4, 0, 0, 0} has
     * w_hat = {sqrt(3), -1/sqrt(3), ...}: with delta 1 and n = 2 the first entry is outside. */
    float w2[] = {4, 0, 0, 0, 1, 2, 3, 4}, g3[8] = {1, 2, 3, 4, 5, 6, 7, 8}, dw2[8], wh[8], gm[8], ref[8];
    int64_t d24[2] = {2, 4};
    mq_tensor_set_shape(&x, 2, d24);
    x.data = w2;
    mq_attr b[3] = {{.name = "states", .type = MQ_ATTR_INT, .i = 2}, {.name = "delta", .type = MQ_ATTR_FLOAT, .f = 1.0f},
                    {.name = "axis", .type = MQ_ATTR_INT, .i = 0}};
    run_rule("WeightQuant", b, 3, &x, g3, dw2);
    mq_maqd_ws_f32(1, 2, 4, w2, 1e-5f, wh);
    assert_true(wh[0] > 1.7f && wh[1] < 0 && wh[1] > -1.0f);
    for (int i = 0; i < 8; i++) gm[i] = fabsf(wh[i]) <= 1.0f ? g3[i] : 0.0f;
    assert_true(gm[0] == 0 && gm[1] == 2);
    mq_grad_ws_f32(1, 2, 4, w2, gm, 1e-5f, ref);
    for (int i = 0; i < 8; i++) assert_true(fabsf(dw2[i] - ref[i]) <= 1e-6f * (1 + fabsf(ref[i])));
}

/* LayerBatchNorm with the statistics kept from forward to backward (what the trainer does): the forward
 * leaves the batch mean and variances (hand values), the backward given them writes the same gradients,
 * bit for bit, as the op's rule, which recomputes them from X. */
static void test_lbn_saved_statistics(void **state)
{
    (void)state;
    /* X (2, 2, 2) = 1..8: mean 4.5, biased variance 5.25 (sum of squared deviations 42 / 8), unbiased 6 */
    float xv[8] = {1, 2, 3, 4, 5, 6, 7, 8}, gamma[2] = {1.5f, -0.5f}, beta[2] = {0.25f, 1}, rm[1] = {0}, rv[1] = {1};
    float y[8], gy[8] = {0.3f, -1, 2, 0.5f, -0.25f, 1, -2, 0.75f}, dx1[8], dx2[8], dg1[2], dg2[2], db1[2], db2[2];
    int64_t d3[3] = {2, 2, 2}, d1[1] = {2}, d0[1] = {1};
    mq_tensor t[6];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 6; i++) t[i].dtype = MQ_F32;
    mq_tensor_set_shape(&t[0], 3, d3);
    mq_tensor_set_shape(&t[1], 1, d1);
    mq_tensor_set_shape(&t[2], 1, d1);
    mq_tensor_set_shape(&t[3], 1, d0);
    mq_tensor_set_shape(&t[4], 1, d0);
    mq_tensor_set_shape(&t[5], 3, d3);
    t[0].data = xv;
    t[1].data = gamma;
    t[2].data = beta;
    t[3].data = rm;
    t[4].data = rv;
    t[5].data = y;
    mq_attr a[1] = {{.name = "training", .type = MQ_ATTR_INT, .i = 1}};
    mq_node n;
    memset(&n, 0, sizeof n);
    n.op_type = "LayerBatchNorm";
    n.domain = MQ_MAQD_DOMAIN;
    n.opset = 1;
    n.n_in = 5;
    n.n_out = 1;
    n.attrs = a;
    n.n_attr = 1;
    n.def = mq_op_find(MQ_MAQD_DOMAIN, "LayerBatchNorm", 1, NULL);
    assert_non_null(n.def);
    const mq_tensor *in[5] = {&t[0], &t[1], &t[2], &t[3], &t[4]};
    mq_tensor *out[1] = {&t[5]};
    double saved[3] = {0, 0, 0};
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_maqd_lbn_forward_saved(&n, in, out, saved, &e), MQ_OK);
    assert_true(saved[0] == 4.5 && saved[1] == 5.25 && saved[2] == 6.0);
    /* y[0] = gamma[0] (1 - 4.5) / sqrt(5.25 + 1e-5) + beta[0] */
    assert_true(fabs(y[0] - (1.5 * -3.5 / sqrt(5.25 + 1e-5) + 0.25)) < 1e-6);
    const mq_tensor *outc[1] = {&t[5]};
    const float *dout[1] = {gy};
    float *din1[5] = {dx1, dg1, db1, NULL, NULL}, *din2[5] = {dx2, dg2, db2, NULL, NULL};
    assert_int_equal(mq_op_backward(n.def)(&n, in, outc, dout, din1, &e), MQ_OK);
    assert_int_equal(mq_maqd_lbn_backward_saved(&n, in, outc, dout, din2, saved, &e), MQ_OK);
    assert_memory_equal(dx1, dx2, sizeof dx1);
    assert_memory_equal(dg1, dg2, sizeof dg1);
    assert_memory_equal(db1, db2, sizeof db1);
}

/* ---- learned steps (input 1 of ActQuant / WeightQuant) ------------------------------------------------ */

/* A quantizer node with inputs x and its step (one float32 value). */
typedef struct qstep {
    mq_node n;
    int ids[3];
    mq_tensor x, step;
    float d;
    const mq_tensor *in[2];
} qstep;

static void qstep_init(qstep *q, const char *op, mq_attr *attrs, int n_attr, int rank, const int64_t *dims, float *xs,
                       float d)
{
    static const int64_t one = 1;
    memset(q, 0, sizeof *q);
    q->ids[0] = 0;
    q->ids[1] = 1;
    q->ids[2] = 2;
    q->n.name = "t";
    q->n.op_type = op;
    q->n.domain = MQ_MAQD_DOMAIN;
    q->n.opset = 1;
    q->n.def = mq_op_find(MQ_MAQD_DOMAIN, op, 1, NULL);
    assert_non_null(q->n.def);
    q->n.n_in = 2;
    q->n.n_out = 1;
    q->n.in = q->ids;
    q->n.out = q->ids + 2;
    q->n.attrs = attrs;
    q->n.n_attr = n_attr;
    q->x.name = "x";
    q->x.dtype = MQ_F32;
    mq_tensor_set_shape(&q->x, rank, dims);
    q->x.data = xs;
    q->d = d;
    q->step.name = "step";
    q->step.dtype = MQ_F32;
    mq_tensor_set_shape(&q->step, 1, &one);
    q->step.data = &q->d;
    q->in[0] = &q->x;
    q->in[1] = &q->step;
}

/* sum_i g_i y_i with the step at d (the forward). */
static double qstep_objective(qstep *q, float d, const float *g)
{
    float keep = q->d;
    q->d = d;
    mq_tensor y;
    memset(&y, 0, sizeof y);
    mq_tensor *out[1] = {&y};
    mq_err e;
    mq_err_clear(&e);
    if (mq_exec_node(&q->n, q->in, out, &e) != MQ_OK) fail_msg("forward: %s", e.msg);
    double s = 0;
    for (int64_t i = 0; i < mq_numel(&y); i++) s += (double)g[i] * ((float *)y.data)[i];
    mq_free(y.data);
    q->d = keep;
    return s;
}

/* The rule: dx (may be NULL) and dL/d(step). */
static void qstep_rule(qstep *q, const float *g, float *dx, float *dstep)
{
    const float *dout[1] = {g};
    float *din[2] = {dx, dstep};
    const mq_tensor *out[1] = {&q->x};
    mq_err e;
    mq_err_clear(&e);
    if (mq_op_backward(q->n.def)(&q->n, q->in, out, dout, din, &e) != MQ_OK) fail_msg("backward: %s", e.msg);
}

/* Hand values of dL/d(step) = sum g (q - v s) (ops/grad.h, mq_grad_step_term; LSQ's form). */
static void test_step_gradient_by_hand(void **state)
{
    (void)state;
    /* ActQuant m = 4, delta = 0.5: v = x / delta = {-2, 0.6, 1.6, 3.2, 10}, q = {0, 1, 2, 3, 3}, straight-
     * through window 0 <= v <= 3.5: terms {0, 0.4, 0.4, -0.2, 3}; with g = {1, 2, -1, 0.5, 1}: 3.3. */
    float xa[5] = {-1.0f, 0.3f, 0.8f, 1.6f, 5.0f}, ga[5] = {1, 2, -1, 0.5f, 1}, da = 0, dxa[5];
    int64_t d5 = 5, d4 = 4, d3 = 3;
    mq_attr aa[1] = {{.name = "states", .type = MQ_ATTR_INT, .i = 4}};
    qstep q;
    qstep_init(&q, "ActQuant", aa, 1, 1, &d5, xa, 0.5f);
    qstep_rule(&q, ga, dxa, &da);
    if (fabs(da - 3.3) > 1e-5) fail_msg("ActQuant d/d(step): %.7g, want 3.3", da);
    assert_true(dxa[0] == 0 && dxa[1] == 2 && dxa[4] == 0); /* the input's rule is unchanged */
    qstep_rule(&q, ga, NULL, &da); /* the step alone */
    assert_true(fabs(da - 3.3) < 1e-5);
    /* WeightQuant, standardize 0, n = 3, delta = 1: w = {0.3, -1.2, 2.0, -0.6}, q = {0, -1, 1, -1}, pass
     * |v| <= 1.5: {1, 1, 0, 1}; terms {-0.3, 0.2, 1, -0.4}: 0.5 with g = 1. */
    float w3[4] = {0.3f, -1.2f, 2.0f, -0.6f}, g1[4] = {1, 1, 1, 1}, dw = 0;
    mq_attr a3[2] = {{.name = "states", .type = MQ_ATTR_INT, .i = 3}, {.name = "standardize", .type = MQ_ATTR_INT, .i = 0}};
    qstep_init(&q, "WeightQuant", a3, 2, 1, &d4, w3, 1.0f);
    qstep_rule(&q, g1, NULL, &dw);
    if (fabs(dw - 0.5) > 1e-6) fail_msg("WeightQuant n=3 d/d(step): %.7g, want 0.5", dw);
    /* n = 2 (levels +-1/2): w = {0.3, -0.8, 1.7}: q = {0.5, -0.5, 0.5 (clipped)}, pass |v| <= 1: {1, 1, 0};
     * terms {0.2, 0.3, 0.5}; g = {1, 2, 3}: 2.3. */
    float w2[3] = {0.3f, -0.8f, 1.7f}, g2[3] = {1, 2, 3};
    mq_attr a2[2] = {{.name = "states", .type = MQ_ATTR_INT, .i = 2}, {.name = "standardize", .type = MQ_ATTR_INT, .i = 0}};
    qstep_init(&q, "WeightQuant", a2, 2, 1, &d3, w2, 1.0f);
    qstep_rule(&q, g2, NULL, &dw);
    if (fabs(dw - 2.3) > 1e-6) fail_msg("WeightQuant n=2 d/d(step): %.7g, want 2.3", dw);
    /* standardize 1, one row {4, 0, 0, 0}: w_hat = {sqrt(3), -1/sqrt(3) x3} (mean 1, std sqrt(3)); n = 2,
     * delta 1: terms 0.5 (clipped) and 3 x (-1/2 + 1/sqrt(3)): sqrt(3) - 1 in all (eps_w moves it ~1e-5). */
    float w4[4] = {4, 0, 0, 0};
    int64_t d14[2] = {1, 4};
    mq_attr a4[1] = {{.name = "states", .type = MQ_ATTR_INT, .i = 2}};
    qstep_init(&q, "WeightQuant", a4, 1, 2, d14, w4, 1.0f);
    qstep_rule(&q, g1, NULL, &dw);
    if (fabs(dw - (sqrt(3.0) - 1)) > 1e-4) fail_msg("WeightQuant WS d/d(step): %.7g, want %.7g", dw, sqrt(3.0) - 1);
    /* the step input replaces the attribute; a step <= 0 is an error naming it */
    mq_attr a5[2] = {{.name = "states", .type = MQ_ATTR_INT, .i = 4}, {.name = "delta", .type = MQ_ATTR_FLOAT, .f = 7.0f}};
    qstep_init(&q, "ActQuant", a5, 2, 1, &d5, xa, 0.5f);
    float gy[5] = {1, 1, 1, 1, 1};
    assert_true(fabs(qstep_objective(&q, 0.5f, gy) - (0 + 0.5 + 1.0 + 1.5 + 1.5)) < 1e-6);
    q.d = 0;
    mq_tensor y;
    memset(&y, 0, sizeof y);
    mq_tensor *out[1] = {&y};
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_exec_node(&q.n, q.in, out, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "step"));
}

/* Central finite differences of sum g y in the step, inputs away from the rounding thresholds (v within 0.05
 * of a threshold is redrawn, the difference h = 1e-3 delta moves v by at most ~0.01): they give the exact
 * partial sum g q (round held fixed). The rule adds the straight-through term -sum g v s, and
 * x dy/dx + delta dy/d(delta) = y (y is homogeneous in x and delta) says it must equal -(1/delta) sum x dL/dx
 * with the rule's own dL/dx: checked for both surrogates and both quantizers (with and without WS). Where
 * every input is clipped (s = 0) the rule and the difference must agree directly. */
static void check_step_fd(const char *op, mq_attr *attrs, int n_attr, float d, float lo, float hi, int all_clipped)
{
    enum { N = 24 };
    float xs[N], g[N], dx[N], dstep = 0;
    int64_t dims[2] = {4, 6};
    int aq = strcmp(op, "ActQuant") == 0, states = 0, stdz = 1, even;
    for (int k = 0; k < n_attr; k++) {
        if (!strcmp(attrs[k].name, "states")) states = (int)attrs[k].i;
        if (!strcmp(attrs[k].name, "standardize")) stdz = (int)attrs[k].i;
    }
    even = !aq && states % 2 == 0;
    qstep q;
    for (int tries = 0;; tries++) {
        for (int i = 0; i < N; i++) {
            xs[i] = (float)(lo + (hi - lo) * urand());
            g[i] = (float)(2 * urand() - 1);
        }
        float wh[N];
        if (!aq && stdz) mq_maqd_ws_f32(1, 4, 6, xs, 1e-5f, wh);
        else memcpy(wh, xs, sizeof wh);
        int ok = 1;
        for (int i = 0; i < N; i++) { /* v away from every threshold: k + 1/2 (odd n, ActQuant) or k (even n) */
            double v = wh[i] / d, frac = even ? v - floor(v) : v + 0.5 - floor(v + 0.5);
            if (frac < 0.05 || frac > 0.95) ok = 0;
        }
        if (ok) break;
        if (tries > 1000) fail_msg("%s: no inputs away from the thresholds", op);
    }
    qstep_init(&q, op, attrs, n_attr, 2, dims, xs, d);
    qstep_rule(&q, g, dx, &dstep);
    double h = 1e-3 * d, fd = (qstep_objective(&q, (float)(d + h), g) - qstep_objective(&q, (float)(d - h), g)) / (2 * h);
    double ste = 0;
    if (aq || !stdz)
        for (int i = 0; i < N; i++) ste += (double)xs[i] * dx[i];
    else { /* WS: the rule's dx is through WS; the term uses w_hat and the pass mask */
        float wh[N];
        mq_maqd_ws_f32(1, 4, 6, xs, 1e-5f, wh);
        for (int i = 0; i < N; i++) ste += (double)wh[i] * (mq_grad_wq_pass(wh[i], states, d) ? g[i] : 0.0f);
    }
    double want = fd - ste / d;
    if (!(fabs(dstep - want) <= 1e-3 * (1 + fabs(want))))
        fail_msg("%s: d/d(step) %.7g, finite difference %.7g, straight-through term %.7g", op, dstep, fd, -ste / d);
    if (all_clipped) {
        assert_true(fabs(ste) < 1e-12);
        if (!(fabs(dstep - fd) <= 1e-3 * (1 + fabs(fd)))) fail_msg("%s clipped: %.7g vs %.7g", op, dstep, fd);
    }
}

static void test_step_gradient_finite_differences(void **state)
{
    (void)state;
    mq_attr ste[2] = {{.name = "states", .type = MQ_ATTR_INT, .i = 4}, S("surrogate", "ste")};
    mq_attr sig[2] = {{.name = "states", .type = MQ_ATTR_INT, .i = 3}, S("surrogate", "sigmoid")};
    check_step_fd("ActQuant", ste, 2, 0.5f, -0.5f, 2.2f, 0);
    check_step_fd("ActQuant", sig, 2, 0.7f, -0.5f, 2.5f, 0);
    check_step_fd("ActQuant", ste, 2, 0.5f, 1.8f, 4.0f, 1);  /* all above (m - 1/2) delta */
    mq_attr w3[2] = {{.name = "states", .type = MQ_ATTR_INT, .i = 3}, {.name = "standardize", .type = MQ_ATTR_INT, .i = 0}};
    mq_attr w4[2] = {{.name = "states", .type = MQ_ATTR_INT, .i = 4}, {.name = "standardize", .type = MQ_ATTR_INT, .i = 0}};
    mq_attr w2[1] = {{.name = "states", .type = MQ_ATTR_INT, .i = 2}};
    mq_attr w16[1] = {{.name = "states", .type = MQ_ATTR_INT, .i = 16}};
    check_step_fd("WeightQuant", w3, 2, 0.8f, -2.0f, 2.0f, 0);
    check_step_fd("WeightQuant", w4, 2, 0.6f, -1.5f, 1.5f, 0);
    check_step_fd("WeightQuant", w3, 2, 0.5f, 0.8f, 2.0f, 1); /* all beyond 1.5 delta */
    check_step_fd("WeightQuant", w2, 1, 1.3f, -1.0f, 1.0f, 0);
    check_step_fd("WeightQuant", w16, 1, 0.33f, -1.0f, 1.0f, 0);
}

static void test_unknown_op_has_no_rule(void **state)
{
    (void)state;
    assert_null(mq_op_backward(NULL));
    const mq_op_def *d = mq_op_find("", "NonZero", 13, NULL);
    if (d) assert_null(mq_op_backward(d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rule_has_a_case),
        cmocka_unit_test(test_required_ops_have_rules),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_ws_backward),
        cmocka_unit_test(test_actquant_surrogates),
        cmocka_unit_test(test_weightquant_surrogate),
        cmocka_unit_test(test_lbn_saved_statistics),
        cmocka_unit_test(test_step_gradient_by_hand),
        cmocka_unit_test(test_step_gradient_finite_differences),
        cmocka_unit_test(test_unknown_op_has_no_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
