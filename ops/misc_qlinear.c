/* misc_qlinear.c: QLinearMatMul and QLinearConv (opset 10): integer products of zero-point-shifted
 * uint8/int8 values, requantized with float multipliers. Part of the 'misc' family (table in misc.c). */
#include "ops/util.h"

#include <math.h>
#include <string.h>

static const mq_dtype ql_types[] = {MQ_U8, MQ_I8, MQ_UNDEFINED};

static int ql_saturate(float v, mq_dtype t)
{
    int lo = t == MQ_I8 ? -128 : 0, hi = t == MQ_I8 ? 127 : 255;
    if (isnan(v)) return 0;
    return v < (float)lo ? lo : v > (float)hi ? hi : (int)v;
}

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

static inline double ql_param(const mq_tensor *t, int64_t i)
{
    return mq_load_f64(t->data, t->dtype, (size_t)(mq_numel(t) == 1 ? 0 : i));
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

static mq_status qmm_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *a = in[0], *b = in[3];
    mq_tensor *y = out[0];
    int r;
    int64_t dims[MQ_MAX_RANK], M, K, N;
    MQ_TRY(qmm_shape(n, a, b, &r, dims, &M, &K, &N, err));
    int br = r - (a->rank > 1) - (b->rank > 1);
    /* batch strides of a and b (in matrices), broadcast */
    int64_t nb = 1, sa[MQ_MAX_RANK], sb[MQ_MAX_RANK], idx[MQ_MAX_RANK] = {0};
    for (int d = 0; d < br; d++) nb *= dims[d];
    {
        int ba = a->rank > 2 ? a->rank - 2 : 0, bb = b->rank > 2 ? b->rank - 2 : 0;
        int64_t s = 1;
        for (int d = br - 1; d >= 0; d--) {
            int e = d - (br - ba);
            sa[d] = (e >= 0 && a->dims[e] != 1) ? s : 0;
            if (e >= 0) s *= a->dims[e];
        }
        s = 1;
        for (int d = br - 1; d >= 0; d--) {
            int e = d - (br - bb);
            sb[d] = (e >= 0 && b->dims[e] != 1) ? s : 0;
            if (e >= 0) s *= b->dims[e];
        }
    }
    float ys = (float)ql_param(in[6], 0);
    int yz = (int)mq_load_i64(in[7]->data, in[7]->dtype, 0);
    for (int64_t bi = 0; bi < nb; bi++) {
        int64_t oa = 0, ob = 0;
        for (int d = 0; d < br; d++) {
            oa += idx[d] * sa[d];
            ob += idx[d] * sb[d];
        }
        size_t abase = (size_t)(oa * M * K), bbase = (size_t)(ob * K * N), ybase = (size_t)(bi * M * N);
        for (int64_t i = 0; i < M; i++) {
            int64_t az = mq_load_i64(in[2]->data, in[2]->dtype, (size_t)(mq_numel(in[2]) == 1 ? 0 : i));
            float as = (float)ql_param(in[1], i);
            for (int64_t j = 0; j < N; j++) {
                int64_t bz = mq_load_i64(in[5]->data, in[5]->dtype, (size_t)(mq_numel(in[5]) == 1 ? 0 : j));
                float bs = (float)ql_param(in[4], j);
                int64_t acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += (mq_load_i64(a->data, a->dtype, abase + (size_t)(i * K + k)) - az) *
                           (mq_load_i64(b->data, b->dtype, bbase + (size_t)(k * N + j)) - bz);
                float mult = as * bs / ys;
                float v = nearbyintf((float)acc * mult) + (float)yz;
                mq_store_i64(y->data, y->dtype, ybase + (size_t)(i * N + j), ql_saturate(v, y->dtype));
            }
        }
        mq_index_next(br, dims, idx);
    }
    return MQ_OK;
}

const mq_op_def mq_def_qlinear_matmul = {.op_type = "QLinearMatMul", .domain = "", .since = 10, .until = 0,
                                         .min_in = 8, .max_in = 8, .min_out = 1, .max_out = 1,
                                         .infer = qmm_infer, .forward = qmm_forward};

/* ---- QLinearConv --------------------------------------------------------------------------------- */

#define QC_MAX_SP 3

typedef struct qc_geom {
    int sp;                                  /* spatial rank */
    int64_t group, k[QC_MAX_SP], stride[QC_MAX_SP], dil[QC_MAX_SP], pad0[QC_MAX_SP], out[QC_MAX_SP];
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

static mq_status qc_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0], *w = in[3], *bias = n->n_in > 8 ? in[8] : NULL;
    mq_tensor *y = out[0];
    qc_geom g;
    MQ_TRY(qc_geometry(n, x, w, &g, err));
    int sp = g.sp;
    /* pad spatial rank to 3 with unit dims so one loop nest serves 1-D to 3-D */
    int64_t id[3] = {1, 1, 1}, od[3] = {1, 1, 1}, kd[3] = {1, 1, 1}, st[3] = {1, 1, 1}, dl[3] = {1, 1, 1},
            p0[3] = {0, 0, 0};
    for (int d = 0; d < sp; d++) {
        int e = 3 - sp + d;
        id[e] = x->dims[2 + d];
        od[e] = g.out[d];
        kd[e] = g.k[d];
        st[e] = g.stride[d];
        dl[e] = g.dil[d];
        p0[e] = g.pad0[d];
    }
    int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0], G = g.group, Cg = C / G, Mg = M / G;
    int64_t isz = id[0] * id[1] * id[2], osz = od[0] * od[1] * od[2], ksz = kd[0] * kd[1] * kd[2];
    int64_t xz = mq_load_i64(in[2]->data, in[2]->dtype, 0);
    float xs = (float)ql_param(in[1], 0), ys = (float)ql_param(in[6], 0);
    int yz = (int)mq_load_i64(in[7]->data, in[7]->dtype, 0);
    for (int64_t b = 0; b < N; b++)
        for (int64_t m = 0; m < M; m++) {
            int64_t grp = m / Mg;
            int64_t wz = mq_load_i64(in[5]->data, in[5]->dtype, (size_t)(mq_numel(in[5]) == 1 ? 0 : m));
            float mult = xs * (float)ql_param(in[4], m) / ys;
            int64_t bv = bias ? mq_load_i64(bias->data, bias->dtype, (size_t)m) : 0;
            for (int64_t o0 = 0; o0 < od[0]; o0++)
                for (int64_t o1 = 0; o1 < od[1]; o1++)
                    for (int64_t o2 = 0; o2 < od[2]; o2++) {
                        int64_t acc = bv;
                        for (int64_t c = 0; c < Cg; c++) {
                            size_t xb = (size_t)((b * C + grp * Cg + c) * isz);
                            size_t wb = (size_t)((m * Cg + c) * ksz);
                            for (int64_t k0 = 0; k0 < kd[0]; k0++) {
                                int64_t i0 = o0 * st[0] - p0[0] + k0 * dl[0];
                                if (i0 < 0 || i0 >= id[0]) continue;
                                for (int64_t k1 = 0; k1 < kd[1]; k1++) {
                                    int64_t i1 = o1 * st[1] - p0[1] + k1 * dl[1];
                                    if (i1 < 0 || i1 >= id[1]) continue;
                                    for (int64_t k2 = 0; k2 < kd[2]; k2++) {
                                        int64_t i2 = o2 * st[2] - p0[2] + k2 * dl[2];
                                        if (i2 < 0 || i2 >= id[2]) continue;
                                        int64_t xv = mq_load_i64(x->data, x->dtype,
                                                                 xb + (size_t)((i0 * id[1] + i1) * id[2] + i2));
                                        int64_t wv = mq_load_i64(w->data, w->dtype,
                                                                 wb + (size_t)((k0 * kd[1] + k1) * kd[2] + k2));
                                        acc += (xv - xz) * (wv - wz);
                                    }
                                }
                            }
                        }
                        float v = nearbyintf((float)acc * mult) + (float)yz;
                        size_t yi = (size_t)((b * M + m) * osz + (o0 * od[1] + o1) * od[2] + o2);
                        mq_store_i64(y->data, y->dtype, yi, ql_saturate(v, y->dtype));
                    }
        }
    (void)err;
    return MQ_OK;
}

const mq_op_def mq_def_qlinear_conv = {.op_type = "QLinearConv", .domain = "", .since = 10, .until = 0,
                                       .min_in = 8, .max_in = 9, .min_out = 1, .max_out = 1, .infer = qc_infer,
                                       .forward = qc_forward};
