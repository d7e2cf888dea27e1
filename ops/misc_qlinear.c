/* misc_qlinear.c: QLinearMatMul and QLinearConv (opset 10): shapes and lowering to the integer kernels of
 * runtime/kernels/misc_qlinear.c. Part of the 'misc' family (table in misc.c). */
#include "ops/util.h"

#include <string.h>

static const mq_dtype ql_types[] = {MQ_U8, MQ_I8, MQ_UNDEFINED};

/* scale/zero-point pair: one value, or `count` values (per row / column / channel). */
static mq_status ql_check_param(const mq_node *n, const mq_tensor *t, int is_zp, int64_t count, const char *what,
                                mq_err *err)
{
    if (!t) return mq_node_fail(err, n, MQ_ERR_INVALID, "%s is required", what);
    if (!is_zp) MQ_TRY(mq_require_dtype(n, t, mq_types_float, err));
    if (t->rank < 0) return MQ_OK;
    int64_t k = mq_numel(t);
    if (k != 1 && k != count)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s has %lld values (expected 1 or %lld)", what, (long long)k,
                            (long long)count);
    return MQ_OK;
}

/* Lowering needs float32 scales (the kernels read them as float). */
static mq_status ql_f32_scales(const mq_node *n, const mq_tensor *const *in, mq_err *err)
{
    static const int which[] = {1, 4, 6};
    for (int i = 0; i < 3; i++)
        if (in[which[i]]->dtype != MQ_F32)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "scale of dtype %s has no runtime kernel (float32 only)",
                                mq_dtype_name(in[which[i]]->dtype));
    return MQ_OK;
}

/* ---- QLinearMatMul ------------------------------------------------------------------------------- */

static mq_status qmm_shape(const mq_node *n, const mq_tensor *a, const mq_tensor *b, int *rank, int64_t *dims,
                           int64_t *M, int64_t *K, int64_t *N, mq_err *err)
{
    if (a->rank < 1 || b->rank < 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "inputs must have rank >= 1");
    *M = a->rank == 1 ? 1 : a->dims[a->rank - 2];
    *K = a->dims[a->rank - 1];
    int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    *N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    if (kb != *K) return mq_node_fail(err, n, MQ_ERR_SHAPE, "inner dimensions differ: %lld vs %lld", (long long)*K,
                                      (long long)kb);
    int ba = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
    int br = ba > bb ? ba : bb;
    for (int d = 0; d < br; d++) {
        int64_t da = d - (br - ba) >= 0 ? a->dims[d - (br - ba)] : 1, db = d - (br - bb) >= 0 ? b->dims[d - (br - bb)] : 1;
        if (da != db && da != 1 && db != 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "batch dimensions differ");
        dims[d] = da == 1 ? db : da;
    }
    int r = br;
    if (a->rank > 1) dims[r++] = *M;
    if (b->rank > 1) dims[r++] = *N;
    *rank = r;
    return MQ_OK;
}

static mq_status qmm_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 8; i++) MQ_TRY(mq_require_input(n, in, i, err));
    const mq_tensor *a = in[0], *b = in[3];
    MQ_TRY(mq_require_dtype(n, a, ql_types, err));
    MQ_TRY(mq_require_dtype(n, b, ql_types, err));
    MQ_TRY(mq_require_dtype(n, in[7], ql_types, err));
    if (a->rank < 0 || b->rank < 0) {
        mq_set_out(out[0], in[7]->dtype, -1, NULL);
        return MQ_OK;
    }
    int r;
    int64_t dims[MQ_MAX_RANK], M, K, N;
    MQ_TRY(qmm_shape(n, a, b, &r, dims, &M, &K, &N, err));
    MQ_TRY(ql_check_param(n, in[1], 0, M, "a_scale", err));
    MQ_TRY(ql_check_param(n, in[2], 1, M, "a_zero_point", err));
    MQ_TRY(ql_check_param(n, in[4], 0, N, "b_scale", err));
    MQ_TRY(ql_check_param(n, in[5], 1, N, "b_zero_point", err));
    MQ_TRY(ql_check_param(n, in[6], 0, 1, "y_scale", err));
    MQ_TRY(ql_check_param(n, in[7], 1, 1, "y_zero_point", err));
    mq_set_out(out[0], in[7]->dtype, r, dims);
    return MQ_OK;
}

/* Lowering: kernel qlinear_matmul (runtime/kernels/misc_qlinear.h) with the broadcast batch strides. */
static mq_status qmm_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    (void)out;
    const mq_tensor *a = in[0], *b = in[3];
    int r;
    int64_t dims[MQ_MAX_RANK], M, K, N;
    MQ_TRY(qmm_shape(n, a, b, &r, dims, &M, &K, &N, err));
    MQ_TRY(ql_f32_scales(n, in, err));
    int br = r - (a->rank > 1) - (b->rank > 1);
    kc->kernel = "qlinear_matmul";
    kc->p[0] = (int32_t)M;
    kc->p[1] = (int32_t)K;
    kc->p[2] = (int32_t)N;
    kc->p[3] = br;
    int ba = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
    int64_t sa = 1, sb = 1;
    for (int d = br - 1; d >= 0; d--) {
        int ea = d - (br - ba), eb = d - (br - bb);
        kc->p[4 + d] = (int32_t)dims[d];
        kc->p[4 + br + d] = (ea >= 0 && a->dims[ea] != 1) ? (int32_t)sa : 0;
        kc->p[4 + 2 * br + d] = (eb >= 0 && b->dims[eb] != 1) ? (int32_t)sb : 0;
        if (ea >= 0) sa *= a->dims[ea];
        if (eb >= 0) sb *= b->dims[eb];
    }
    kc->n_p = 4 + 3 * br;
    return MQ_OK;
}

const mq_op_def mq_def_qlinear_matmul = {.op_type = "QLinearMatMul", .domain = "", .since = 10, .until = 0,
                                         .min_in = 8, .max_in = 8, .min_out = 1, .max_out = 1,
                                         .infer = qmm_infer, .forward = mq_forward_lowered,
                                         .lower = qmm_lower};

/* ---- QLinearConv --------------------------------------------------------------------------------- */

#define QC_MAX_SP 3

typedef struct qc_geom {
    int sp;                                  /* spatial rank */
    int64_t group, k[QC_MAX_SP], stride[QC_MAX_SP], dil[QC_MAX_SP], pad0[QC_MAX_SP], pad1[QC_MAX_SP], out[QC_MAX_SP];
} qc_geom;

static mq_status qc_geometry(const mq_node *n, const mq_tensor *x, const mq_tensor *w, qc_geom *g, mq_err *err)
{
    if (x->rank < 3 || x->rank > 2 + QC_MAX_SP || w->rank != x->rank)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "X and W must be [N,C,spatial...] with 1 to 3 spatial dims");
    int sp = x->rank - 2;
    g->sp = sp;
    g->group = mq_attr_int(n, "group", 1);
    if (g->group < 1 || x->dims[1] % g->group || w->dims[0] % g->group || w->dims[1] * g->group != x->dims[1])
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "channels do not match group %lld", (long long)g->group);
    const int64_t *v;
    int c;
    for (int d = 0; d < sp; d++) {
        g->k[d] = w->dims[2 + d];
        g->stride[d] = 1;
        g->dil[d] = 1;
        g->pad0[d] = 0;
        g->pad1[d] = 0;
    }
    if ((c = mq_attr_ints(n, "kernel_shape", &v)) >= 0) {
        if (c != sp) return mq_node_fail(err, n, MQ_ERR_INVALID, "kernel_shape has the wrong length");
        for (int d = 0; d < sp; d++)
            if (v[d] != g->k[d]) return mq_node_fail(err, n, MQ_ERR_SHAPE, "kernel_shape differs from W");
    }
    if ((c = mq_attr_ints(n, "strides", &v)) >= 0) {
        if (c != sp) return mq_node_fail(err, n, MQ_ERR_INVALID, "strides has the wrong length");
        for (int d = 0; d < sp; d++) g->stride[d] = v[d];
    }
    if ((c = mq_attr_ints(n, "dilations", &v)) >= 0) {
        if (c != sp) return mq_node_fail(err, n, MQ_ERR_INVALID, "dilations has the wrong length");
        for (int d = 0; d < sp; d++) g->dil[d] = v[d];
    }
    for (int d = 0; d < sp; d++)
        if (g->stride[d] < 1 || g->dil[d] < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "bad strides/dilations");
    const char *ap = mq_attr_str(n, "auto_pad", "NOTSET");
    int64_t pads[2 * QC_MAX_SP] = {0};
    if (strcmp(ap, "NOTSET") == 0) {
        if ((c = mq_attr_ints(n, "pads", &v)) >= 0) {
            if (c != 2 * sp) return mq_node_fail(err, n, MQ_ERR_INVALID, "pads has the wrong length");
            for (int d = 0; d < 2 * sp; d++) pads[d] = v[d];
        }
    } else if (strcmp(ap, "VALID") != 0) {
        int upper = strcmp(ap, "SAME_UPPER") == 0;
        if (!upper && strcmp(ap, "SAME_LOWER") != 0)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "auto_pad '%s' is not supported", ap);
        for (int d = 0; d < sp; d++) {
            int64_t in = x->dims[2 + d], o = (in + g->stride[d] - 1) / g->stride[d];
            int64_t tot = (o - 1) * g->stride[d] + g->dil[d] * (g->k[d] - 1) + 1 - in;
            if (tot < 0) tot = 0;
            pads[d] = upper ? tot / 2 : tot - tot / 2;
            pads[d + sp] = tot - pads[d];
        }
    }
    for (int d = 0; d < sp; d++) {
        g->pad0[d] = pads[d];
        g->pad1[d] = pads[d + sp];
        int64_t span = x->dims[2 + d] + pads[d] + pads[d + sp] - g->dil[d] * (g->k[d] - 1) - 1;
        if (span < 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "kernel larger than padded input");
        g->out[d] = span / g->stride[d] + 1;
    }
    return MQ_OK;
}

static mq_status qc_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 8; i++) MQ_TRY(mq_require_input(n, in, i, err));
    const mq_tensor *x = in[0], *w = in[3];
    MQ_TRY(mq_require_dtype(n, x, ql_types, err));
    MQ_TRY(mq_require_dtype(n, w, ql_types, err));
    MQ_TRY(mq_require_dtype(n, in[7], ql_types, err));
    if (n->n_in > 8 && in[8] && in[8]->dtype != MQ_I32)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "bias must be int32");
    if (x->rank < 0 || w->rank < 0) {
        mq_set_out(out[0], in[7]->dtype, -1, NULL);
        return MQ_OK;
    }
    qc_geom g;
    MQ_TRY(qc_geometry(n, x, w, &g, err));
    MQ_TRY(ql_check_param(n, in[1], 0, 1, "x_scale", err));
    MQ_TRY(ql_check_param(n, in[2], 1, 1, "x_zero_point", err));
    MQ_TRY(ql_check_param(n, in[4], 0, w->dims[0], "w_scale", err));
    MQ_TRY(ql_check_param(n, in[5], 1, w->dims[0], "w_zero_point", err));
    MQ_TRY(ql_check_param(n, in[6], 0, 1, "y_scale", err));
    MQ_TRY(ql_check_param(n, in[7], 1, 1, "y_zero_point", err));
    int64_t dims[2 + QC_MAX_SP] = {x->dims[0], w->dims[0]};
    for (int d = 0; d < g.sp; d++) dims[2 + d] = g.out[d];
    mq_set_out(out[0], in[7]->dtype, 2 + g.sp, dims);
    return MQ_OK;
}

/* Lowering: kernel qlinear_conv (runtime/kernels/misc_qlinear.h). */
static mq_status qc_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    (void)out;
    qc_geom g;
    MQ_TRY(qc_geometry(n, in[0], in[3], &g, err));
    MQ_TRY(ql_f32_scales(n, in, err));
    for (int d = 0; d < g.sp; d++)
        if (g.stride[d] > INT32_MAX || g.dil[d] > INT32_MAX || g.pad0[d] < 0 || g.pad0[d] > INT32_MAX || g.pad1[d] < 0 ||
            g.pad1[d] > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "strides, dilations or pads outside the kernel's range");
    kc->kernel = "qlinear_conv";
    kc->p[0] = (int32_t)g.group;
    for (int e = 0; e < 3; e++) {
        int d = e - (3 - g.sp);
        kc->p[1 + e] = d >= 0 ? (int32_t)g.stride[d] : 1;
        kc->p[4 + e] = d >= 0 ? (int32_t)g.dil[d] : 1;
        kc->p[7 + e] = d >= 0 ? (int32_t)g.pad0[d] : 0;
        kc->p[10 + e] = d >= 0 ? (int32_t)g.pad1[d] : 0;
    }
    kc->n_p = 13;
    return MQ_OK;
}

const mq_op_def mq_def_qlinear_conv = {.op_type = "QLinearConv", .domain = "", .since = 10, .until = 0,
                                       .min_in = 8, .max_in = 9, .min_out = 1, .max_out = 1, .infer = qc_infer,
                                       .forward = mq_forward_lowered, .lower = qc_lower};
