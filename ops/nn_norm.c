/* nn_norm.c: BatchNormalization (inference and training statistics), InstanceNormalization,
 * LayerNormalization, LpNormalization, LRN, MeanVarianceNormalization, Softmax/LogSoftmax/Hardmax,
 * each lowered to one kernel of runtime/kernels/norm.c or softmax.c. */
#include "ops/grad.h"
#include "ops/nn_internal.h"
#include "runtime/kernels/norm.h"
#include "runtime/kernels/softmax.h"

#include <math.h>
#include <string.h>

/* Check that t (if present and known) is a 1-D tensor of c values with dtype dt. */
static mq_status vec_check(const mq_node *n, const mq_tensor *t, int64_t c, mq_dtype dt, const char *what,
                           mq_err *err)
{
    if (!t) return MQ_OK;
    if (t->dtype != dt) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "%s must have dtype %s", what, mq_dtype_name(dt));
    if (t->rank >= 0 && (t->rank != 1 || t->dims[0] != c))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s must have %lld values", what, (long long)c);
    return MQ_OK;
}

/* ---- BatchNormalization ------------------------------------------------------------------------- */

static int bn_training(const mq_node *n)
{
    if (n->opset >= 14) return mq_attr_int(n, "training_mode", 0) != 0;
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0) return 1;
    return 0;
}

static mq_status bn_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 5; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (n->opset < 9 && mq_attr_int(n, "spatial", 1) != 1)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "spatial=0 is not supported");
    if (nn_unknown(in[0])) {
        for (int i = 0; i < n->n_out; i++)
            if (out[i]) mq_set_out(out[i], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    if (in[0]->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 2");
    int64_t C = in[0]->dims[1];
    static const char *const names[5] = {"", "scale", "B", "input_mean", "input_var"};
    for (int i = 1; i < 5; i++) MQ_TRY(vec_check(n, in[i], C, in[0]->dtype, names[i], err));
    mq_set_like(out[0], in[0]);
    for (int i = 1; i < n->n_out; i++)
        if (out[i]) mq_set_out(out[i], in[0]->dtype, 1, &C);
    return MQ_OK;
}

static mq_status bn_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    int train = bn_training(n);
    kc->kernel = "batchnorm_f32";
    kc->p[0] = nn_pf(mq_attr_float(n, "epsilon", 1e-5f));
    kc->p[1] = train;
    kc->p[2] = nn_pf(mq_attr_float(n, "momentum", 0.9f));
    kc->p[3] = n->opset < 14;
    kc->n_p = 4;
    if (train) {
        int64_t C = in[0]->dims[1];
        if (C > INT32_MAX / 2) return mq_node_fail(err, n, MQ_ERR_LIMIT, "too many channels");
        kc->scratch_bytes = 2 * (size_t)C * sizeof(float);
    }
    return MQ_OK;
}

/* Backward (float32). Training mode: Y depends on the batch statistics, computed as the forward does
 * (mqk_channel_stats_f32: mean and biased variance per channel over N and the spatial dims); with
 * xh = (x - mean) / sqrt(var + eps) and M values per channel, dx = scale / sqrt(var + eps) (g - mean(g) -
 * xh mean(g xh)); input_mean and input_var do not reach Y (gradient 0). Eval: the affine map of the
 * running statistics, exact in all five inputs. The running-statistics outputs carry no gradient. */
static mq_status bn_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             const float *const *dout, float *const *din, mq_err *err)
{
    (void)out;
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    for (int i = 1; i < n->n_out; i++)
        if (dout[i]) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no gradient through the statistics outputs");
    const mq_tensor *x = in[0];
    size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], S = nn_prod(x->dims, 2, x->rank);
    const float *xs = x->data, *scale = in[1]->data, *gy = dout[0];
    const float *mean = in[3]->data, *var = in[4]->data;
    float eps = mq_attr_float(n, "epsilon", 1e-5f);
    int train = bn_training(n);
    float *stats = NULL;
    if (train) {
        stats = mq_malloc(sizeof(float) * 2 * (C ? C : 1));
        if (!stats) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        mqk_channel_stats_f32(N, C, S, xs, stats, stats + C);
        mean = stats;
        var = stats + C;
    }
    double cnt = (double)(N * S);
    for (size_t c = 0; c < C; c++) {
        double m = mean[c], inv = 1.0 / sqrt((double)var[c] + (double)eps), sg = 0, sgx = 0;
        for (size_t b = 0; b < N; b++) {
            const float *xp = xs + (b * C + c) * S, *gp = gy + (b * C + c) * S;
            for (size_t k = 0; k < S; k++) {
                sg += gp[k];
                sgx += gp[k] * ((double)xp[k] - m);
            }
        }
        double sgxh = sgx * inv; /* sum of g * xh */
        if (din[1]) din[1][c] = (float)sgxh;
        if (din[2]) din[2][c] = (float)sg;
        if (din[3]) din[3][c] = train ? 0.0f : (float)(-scale[c] * inv * sg);
        if (din[4]) din[4][c] = train ? 0.0f : (float)(-0.5 * scale[c] * sgx * inv * inv * inv);
        if (!din[0]) continue;
        double a = scale[c] * inv, mg = cnt > 0 ? sg / cnt : 0, mgx = cnt > 0 ? sgxh / cnt : 0;
        for (size_t b = 0; b < N; b++) {
            const float *xp = xs + (b * C + c) * S, *gp = gy + (b * C + c) * S;
            float *dp = din[0] + (b * C + c) * S;
            for (size_t k = 0; k < S; k++)
                dp[k] = train ? (float)(a * (gp[k] - mg - ((double)xp[k] - m) * inv * mgx)) : (float)(a * gp[k]);
        }
    }
    mq_free(stats);
    return MQ_OK;
}

/* In place (inplace_in): batchnorm_f32 reads x[i] before it writes y[i] and never after (training
 * mode computes the batch statistics first), so y may take x's buffer. */
const mq_op_def nn_op_batchnorm = {.op_type = "BatchNormalization", .domain = "", .since = 6, .until = 0, .min_in = 5,
                                   .max_in = 5, .min_out = 1, .max_out = 5, .infer = bn_infer, .forward = nn_forward_kernel,
                                   .inplace_in = 1u, .lower = bn_lower, .backward = bn_backward};

/* ---- InstanceNormalization ---------------------------------------------------------------------- */

static mq_status in_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 3; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (nn_unknown(in[0])) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    if (in[0]->rank < 3) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 3");
    MQ_TRY(vec_check(n, in[1], in[0]->dims[1], in[0]->dtype, "scale", err));
    MQ_TRY(vec_check(n, in[2], in[0]->dims[1], in[0]->dtype, "B", err));
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status in_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    kc->kernel = "instancenorm_f32";
    kc->p[0] = nn_pf(mq_attr_float(n, "epsilon", 1e-5f));
    kc->n_p = 1;
    return MQ_OK;
}

const mq_op_def nn_op_instancenorm = {.op_type = "InstanceNormalization", .domain = "", .since = 6, .until = 0,
                                      .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1, .infer = in_infer,
                                      .forward = nn_forward_kernel, .lower = in_lower};

/* ---- LayerNormalization ------------------------------------------------------------------------- */

/* Does t broadcast (unidirectionally) to dims[axis..rank)? */
static int ln_broadcasts(const mq_tensor *t, const int64_t *dims, int axis, int rank)
{
    int nr = rank - axis;
    if (t->rank > nr) return 0;
    for (int d = 0; d < t->rank; d++) {
        int64_t td = t->dims[d], od = dims[rank - t->rank + d];
        if (td != 1 && td != od) return 0;
    }
    return 1;
}

static mq_status ln_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    const mq_tensor *x = in[0], *s = in[1], *b = nn_opt(n, in, 2);
    if (s->dtype != x->dtype || (b && b->dtype != x->dtype))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "X, Scale and B must have the same dtype");
    mq_tensor *om = nn_opt_out(n, out, 1), *oi = nn_opt_out(n, out, 2);
    mq_dtype st = mq_attr_int(n, "stash_type", 1) == 1 ? MQ_F32 : x->dtype;
    if (nn_unknown(x)) {
        mq_set_out(out[0], x->dtype, -1, NULL);
        if (om) mq_set_out(om, st, -1, NULL);
        if (oi) mq_set_out(oi, st, -1, NULL);
        return MQ_OK;
    }
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), x->rank, &axis, err));
    if ((s->rank >= 0 && !ln_broadcasts(s, x->dims, axis, x->rank)) ||
        (b && b->rank >= 0 && !ln_broadcasts(b, x->dims, axis, x->rank)))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "Scale and B must broadcast to the normalized shape");
    mq_set_like(out[0], x);
    int64_t sd[MQ_MAX_RANK];
    for (int d = 0; d < x->rank; d++) sd[d] = d < axis ? x->dims[d] : 1;
    if (om) mq_set_out(om, st, x->rank, sd);
    if (oi) mq_set_out(oi, st, x->rank, sd);
    return MQ_OK;
}

static mq_status ln_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    const mq_tensor *x = in[0], *s = in[1], *b = nn_opt(n, in, 2);
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), x->rank, &axis, err));
    size_t cols = nn_prod(x->dims, axis, x->rank);
    int expand = (size_t)mq_numel(s) != cols || (b && (size_t)mq_numel(b) != cols);
    kc->kernel = "layernorm_f32";
    kc->p[0] = axis;
    kc->p[1] = nn_pf(mq_attr_float(n, "epsilon", 1e-5f));
    kc->p[2] = expand;
    kc->n_p = 3;
    kc->scratch_bytes = expand ? 2 * cols * sizeof(float) : 0;
    return MQ_OK;
}

const mq_op_def nn_op_layernorm = {.op_type = "LayerNormalization", .domain = "", .since = 17, .until = 0,
                                   .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 3, .infer = ln_infer,
                                   .forward = nn_forward_kernel, .lower = ln_lower};

/* ---- LpNormalization ---------------------------------------------------------------------------- */

static mq_status lpn_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    int64_t p = mq_attr_int(n, "p", 2);
    if (p != 1 && p != 2) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "p=%lld (1 or 2 supported)", (long long)p);
    if (!nn_unknown(in[0])) {
        int axis;
        MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), in[0]->rank, &axis, err));
    }
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status lpn_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), in[0]->rank, &axis, err));
    kc->kernel = "lpnorm_f32";
    kc->p[0] = axis;
    kc->p[1] = (int32_t)mq_attr_int(n, "p", 2);
    kc->n_p = 2;
    return MQ_OK;
}

const mq_op_def nn_op_lpnorm = {.op_type = "LpNormalization", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                .max_in = 1, .min_out = 1, .max_out = 1, .infer = lpn_infer, .forward = nn_forward_kernel,
                                .lower = lpn_lower};

/* ---- LRN ---------------------------------------------------------------------------------------- */

static mq_status lrn_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    int64_t size = mq_attr_int(n, "size", 0);
    if (size < 1 || size > INT32_MAX) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'size' must be positive");
    if (!nn_unknown(in[0]) && in[0]->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 2");
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status lrn_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    kc->kernel = "lrn_f32";
    kc->p[0] = (int32_t)mq_attr_int(n, "size", 1);
    kc->p[1] = nn_pf(mq_attr_float(n, "alpha", 1e-4f));
    kc->p[2] = nn_pf(mq_attr_float(n, "beta", 0.75f));
    kc->p[3] = nn_pf(mq_attr_float(n, "bias", 1.0f));
    kc->n_p = 4;
    return MQ_OK;
}

const mq_op_def nn_op_lrn = {.op_type = "LRN", .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 1,
                             .min_out = 1, .max_out = 1, .infer = lrn_infer, .forward = nn_forward_kernel,
                             .lower = lrn_lower};

/* ---- MeanVarianceNormalization ------------------------------------------------------------------ */

/* Bitmask of reduced axes (default 0, 2, 3). */
static mq_status mvn_axes(const mq_node *n, int rank, uint32_t *mask, mq_err *err)
{
    const int64_t *v;
    static const int64_t dflt[3] = {0, 2, 3};
    int c = mq_attr_ints(n, "axes", &v);
    if (c < 0) {
        v = dflt;
        c = 3;
    }
    *mask = 0;
    for (int i = 0; i < c; i++) {
        int a;
        MQ_TRY(mq_axis(n, v[i], rank, &a, err));
        *mask |= 1u << a;
    }
    return MQ_OK;
}

static mq_status mvn_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (!nn_unknown(in[0])) {
        uint32_t m;
        MQ_TRY(mvn_axes(n, in[0]->rank, &m, err));
    }
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status mvn_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    const mq_tensor *x = in[0];
    uint32_t mask;
    MQ_TRY(mvn_axes(n, x->rank, &mask, err));
    size_t groups = 1;
    for (int d = 0; d < x->rank; d++)
        if (!((mask >> d) & 1)) groups *= (size_t)x->dims[d];
    kc->kernel = "mvn_f32";
    kc->p[0] = (int32_t)mask;
    kc->n_p = 1;
    kc->scratch_bytes = 2 * groups * sizeof(double);
    return MQ_OK;
}

const mq_op_def nn_op_mvn = {.op_type = "MeanVarianceNormalization", .domain = "", .since = 9, .until = 0,
                             .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .infer = mvn_infer,
                             .forward = nn_forward_kernel, .lower = mvn_lower};

/* ---- Softmax, LogSoftmax, Hardmax --------------------------------------------------------------- */

static mq_status sm_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (!nn_unknown(in[0])) {
        int axis;
        MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", n->opset >= 13 ? -1 : 1), in[0]->rank, &axis, err));
    }
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status sm_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", n->opset >= 13 ? -1 : 1), in[0]->rank, &axis, err));
    kc->kernel = "softmax_f32";
    kc->p[0] = !strcmp(n->op_type, "Softmax") ? MQK_SOFTMAX : !strcmp(n->op_type, "LogSoftmax") ? MQK_LOGSOFTMAX
                                                                                                 : MQK_HARDMAX;
    kc->p[1] = axis;
    kc->p[2] = n->opset < 13;
    kc->n_p = 3;
    return MQ_OK;
}

/* Softmax backward: dx = y (g - sum(g y)) within each softmax group. */
static mq_status softmax_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                  const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    const mq_tensor *y = out[0];
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", n->opset < 13 ? 1 : -1), y->rank, &axis, err));
    /* Before opset 13 the input is coerced to 2-D at axis: rows of prod(dims[axis:]) values. From 13,
     * softmax runs along one axis (stride inner). dx = y (g - sum(g y)) within each group. */
    int64_t outer = 1, len = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= y->dims[d];
    if (n->opset < 13)
        for (int d = axis; d < y->rank; d++) len *= y->dims[d];
    else {
        len = y->dims[axis];
        for (int d = axis + 1; d < y->rank; d++) inner *= y->dims[d];
    }
    const float *ys = y->data, *g = dout[0];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            int64_t base = o * len * inner + j;
            double s = 0;
            for (int64_t k = 0; k < len; k++) s += (double)g[base + k * inner] * ys[base + k * inner];
            for (int64_t k = 0; k < len; k++) {
                int64_t e = base + k * inner;
                din[0][e] = (float)(ys[e] * (g[e] - s));
            }
        }
    return MQ_OK;
}

#define SM_DEF(var, name, lo, hi, bw)                                                                \
    const mq_op_def var = {.op_type = name, .domain = "", .since = lo, .until = hi, .min_in = 1, .max_in = 1,  \
                           .min_out = 1, .max_out = 1, .infer = sm_infer, .forward = nn_forward_kernel,        \
                           .lower = sm_lower, .backward = bw};
SM_DEF(nn_op_softmax_old, "Softmax", 1, 12, softmax_backward)
SM_DEF(nn_op_softmax, "Softmax", 13, 0, softmax_backward)
SM_DEF(nn_op_logsoftmax_old, "LogSoftmax", 1, 12, NULL)
SM_DEF(nn_op_logsoftmax, "LogSoftmax", 13, 0, NULL)
SM_DEF(nn_op_hardmax_old, "Hardmax", 1, 12, NULL)
SM_DEF(nn_op_hardmax, "Hardmax", 13, 0, NULL)
