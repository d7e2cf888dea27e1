/* nn_norm.c: BatchNormalization (inference and training statistics), InstanceNormalization,
 * LayerNormalization, LpNormalization, LRN, MeanVarianceNormalization, Softmax/LogSoftmax/Hardmax. */
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

static mq_status bn_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], sp = nn_prod(x->dims, 2, x->rank);
    float eps = mq_attr_float(n, "epsilon", 1e-5f);
    const float *mean = in[3]->data, *var = in[4]->data;
    if (!bn_training(n)) {
        mqk_batchnorm_f32(N, C, sp, x->data, in[1]->data, in[2]->data, mean, var, eps, out[0]->data);
        for (int i = 1; i < n->n_out; i++) /* running statistics pass through */
            if (out[i]) memcpy(out[i]->data, (i % 2 ? mean : var), C * sizeof(float));
        return MQ_OK;
    }
    float *bm = mq_calloc(C ? 2 * C : 1, sizeof(float));
    if (!bm) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    float *bv = bm + C;
    mqk_channel_stats_f32(N, C, sp, x->data, bm, bv);
    mqk_batchnorm_f32(N, C, sp, x->data, in[1]->data, in[2]->data, bm, bv, eps, out[0]->data);
    float mom = mq_attr_float(n, "momentum", 0.9f);
    mq_tensor *rm = nn_opt_out(n, out, 1), *rv = nn_opt_out(n, out, 2);
    for (size_t c = 0; c < C; c++) {
        if (rm) ((float *)rm->data)[c] = mean[c] * mom + bm[c] * (1.0f - mom);
        if (rv) ((float *)rv->data)[c] = var[c] * mom + bv[c] * (1.0f - mom);
    }
    mq_tensor *sm = nn_opt_out(n, out, 3), *sv = nn_opt_out(n, out, 4);
    if (sm) memcpy(sm->data, bm, C * sizeof(float));
    if (sv) memcpy(sv->data, bv, C * sizeof(float));
    mq_free(bm);
    return MQ_OK;
}

static mq_status bn_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, bn_forward32);
}

const mq_op_def nn_op_batchnorm = {.op_type = "BatchNormalization", .domain = "", .since = 6, .until = 0, .min_in = 5,
                                   .max_in = 5, .min_out = 1, .max_out = 5, .infer = bn_infer, .forward = bn_forward};

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

static mq_status in_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)err;
    const mq_tensor *x = in[0];
    mqk_instancenorm_f32((size_t)x->dims[0], (size_t)x->dims[1], nn_prod(x->dims, 2, x->rank), x->data, in[1]->data,
                         in[2]->data, mq_attr_float(n, "epsilon", 1e-5f), out[0]->data);
    return MQ_OK;
}

static mq_status in_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, in_forward32);
}

const mq_op_def nn_op_instancenorm = {.op_type = "InstanceNormalization", .domain = "", .since = 6, .until = 0,
                                      .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1, .infer = in_infer,
                                      .forward = in_forward};

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

/* Expand t to cols = prod(dims[axis..rank)) values. */
static void ln_expand(const mq_tensor *t, const int64_t *dims, int axis, int rank, float *dst)
{
    int nr = rank - axis;
    int64_t st[MQ_MAX_RANK], idx[MQ_MAX_RANK] = {0};
    mq_broadcast_strides(t, nr, dims + axis, st);
    size_t i = 0;
    const float *src = t->data;
    do {
        int64_t off = 0;
        for (int d = 0; d < nr; d++) off += idx[d] * st[d];
        dst[i++] = src[off];
    } while (mq_index_next(nr, dims + axis, idx));
}

static mq_status ln_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0], *s = in[1], *b = nn_opt(n, in, 2);
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), x->rank, &axis, err));
    size_t rows = nn_prod(x->dims, 0, axis), cols = nn_prod(x->dims, axis, x->rank);
    const float *sp = s->data, *bp = b ? b->data : NULL;
    float *tmp = NULL;
    if ((size_t)mq_numel(s) != cols || (b && (size_t)mq_numel(b) != cols)) {
        tmp = mq_calloc(cols ? 2 * cols : 1, sizeof(float));
        if (!tmp) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        ln_expand(s, x->dims, axis, x->rank, tmp);
        sp = tmp;
        if (b) {
            ln_expand(b, x->dims, axis, x->rank, tmp + cols);
            bp = tmp + cols;
        }
    }
    mq_tensor *om = nn_opt_out(n, out, 1), *oi = nn_opt_out(n, out, 2);
    mqk_layernorm_f32(rows, cols, x->data, sp, bp, mq_attr_float(n, "epsilon", 1e-5f), out[0]->data,
                      om ? (float *)om->data : NULL, oi ? (float *)oi->data : NULL);
    mq_free(tmp);
    return MQ_OK;
}

static mq_status ln_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, ln_forward32);
}

const mq_op_def nn_op_layernorm = {.op_type = "LayerNormalization", .domain = "", .since = 17, .until = 0,
                                   .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 3, .infer = ln_infer,
                                   .forward = ln_forward};

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

static mq_status lpn_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), x->rank, &axis, err));
    size_t len = x->rank ? (size_t)x->dims[axis] : 1;
    mqk_lpnorm_f32(nn_prod(x->dims, 0, axis), len, nn_prod(x->dims, axis + 1, x->rank), (int)mq_attr_int(n, "p", 2),
                   x->data, out[0]->data);
    return MQ_OK;
}

static mq_status lpn_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, lpn_forward32);
}

const mq_op_def nn_op_lpnorm = {.op_type = "LpNormalization", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                .max_in = 1, .min_out = 1, .max_out = 1, .infer = lpn_infer, .forward = lpn_forward};

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

static mq_status lrn_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)err;
    const mq_tensor *x = in[0];
    mqk_lrn_f32((size_t)x->dims[0], (size_t)x->dims[1], nn_prod(x->dims, 2, x->rank), (int32_t)mq_attr_int(n, "size", 1),
                mq_attr_float(n, "alpha", 1e-4f), mq_attr_float(n, "beta", 0.75f), mq_attr_float(n, "bias", 1.0f),
                x->data, out[0]->data);
    return MQ_OK;
}

static mq_status lrn_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, lrn_forward32);
}

const mq_op_def nn_op_lrn = {.op_type = "LRN", .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 1,
                             .min_out = 1, .max_out = 1, .infer = lrn_infer, .forward = lrn_forward};

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

static mq_status mvn_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    uint32_t mask;
    MQ_TRY(mvn_axes(n, x->rank, &mask, err));
    int64_t kept[MQ_MAX_RANK], kst[MQ_MAX_RANK];
    for (int d = 0; d < x->rank; d++) kept[d] = (mask >> d) & 1 ? 1 : x->dims[d];
    mq_strides(x->rank, kept, kst);
    for (int d = 0; d < x->rank; d++)
        if ((mask >> d) & 1) kst[d] = 0;
    size_t groups = nn_prod(kept, 0, x->rank), total = (size_t)mq_numel(x);
    double *acc = mq_calloc(groups ? 2 * groups : 1, sizeof(double));
    if (!acc) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    double *acc2 = acc + groups;
    size_t per = groups ? total / groups : 0;
    const float *xp = x->data;
    float *yp = out[0]->data;
    int64_t idx[MQ_MAX_RANK] = {0};
    for (int pass = 0; pass < 2 && total; pass++) {
        memset(idx, 0, sizeof idx);
        size_t i = 0;
        do {
            int64_t g = 0;
            for (int d = 0; d < x->rank; d++) g += idx[d] * kst[d];
            if (pass == 0) {
                acc[g] += xp[i];
                acc2[g] += (double)xp[i] * xp[i];
            } else {
                double m = acc[g] / (double)per, v = acc2[g] / (double)per - m * m;
                yp[i] = (float)((xp[i] - m) / (sqrt(v > 0 ? v : 0) + 1e-9));
            }
            i++;
        } while (mq_index_next(x->rank, x->dims, idx));
    }
    mq_free(acc);
    return MQ_OK;
}

static mq_status mvn_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, mvn_forward32);
}

const mq_op_def nn_op_mvn = {.op_type = "MeanVarianceNormalization", .domain = "", .since = 9, .until = 0,
                             .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .infer = mvn_infer,
                             .forward = mvn_forward};

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

static mq_status sm_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", n->opset >= 13 ? -1 : 1), x->rank, &axis, err));
    size_t outer = nn_prod(x->dims, 0, axis), len, inner;
    if (n->opset >= 13) { /* along one axis */
        len = x->rank ? (size_t)x->dims[axis] : 1;
        inner = nn_prod(x->dims, axis + 1, x->rank);
    } else { /* flattened to 2-D at axis */
        len = nn_prod(x->dims, axis, x->rank);
        inner = 1;
    }
    if (!strcmp(n->op_type, "Softmax"))
        mqk_softmax_f32(outer, len, inner, x->data, out[0]->data);
    else if (!strcmp(n->op_type, "LogSoftmax"))
        mqk_logsoftmax_f32(outer, len, inner, x->data, out[0]->data);
    else
        mqk_hardmax_f32(outer, len, inner, x->data, out[0]->data);
    return MQ_OK;
}

static mq_status sm_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, sm_forward32);
}

#define SM_DEF(var, name, lo, hi)                                                                    \
    const mq_op_def var = {.op_type = name, .domain = "", .since = lo, .until = hi, .min_in = 1, .max_in = 1,  \
                           .min_out = 1, .max_out = 1, .infer = sm_infer, .forward = sm_forward};
SM_DEF(nn_op_softmax_old, "Softmax", 1, 12)
SM_DEF(nn_op_softmax, "Softmax", 13, 0)
SM_DEF(nn_op_logsoftmax_old, "LogSoftmax", 1, 12)
SM_DEF(nn_op_logsoftmax, "LogSoftmax", 13, 0)
SM_DEF(nn_op_hardmax_old, "Hardmax", 1, 12)
SM_DEF(nn_op_hardmax, "Hardmax", 13, 0)
