/* nn_pool.c: MaxPool (with Indices), AveragePool, LpPool, their global forms and MaxUnpool
 * (1D/2D/3D, pads, strides, dilations, ceil_mode, auto_pad), lowered to runtime/kernels/pool.c. */
#include "ops/grad.h"
#include "ops/nn_internal.h"
#include "runtime/kernels/pool.h"

#include <string.h>

enum { KIND_MAX, KIND_AVG, KIND_LP };

static mq_status pool_geometry(const mq_node *n, const mq_tensor *x, int kind, mqk_pool_params *p,
                               int64_t *out_dims, mq_err *err)
{
    if (x->rank < 3 || x->rank > 2 + NN_MAX_SPATIAL)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "input rank %d (3 to %d supported)", x->rank,
                            2 + NN_MAX_SPATIAL);
    int nd = x->rank - 2;
    int64_t kernel[NN_MAX_SPATIAL];
    nn_window w;
    MQ_TRY(nn_kernel_attr(n, nd, kernel, err));
    /* ceil_mode and dilations are read whenever present (MaxPool-10, AveragePool-19, LpPool-18) */
    MQ_TRY(nn_window_forward(n, nd, x->dims + 2, kernel, 1, 1, &w, err));
    MQ_TRY(nn_check_i32(n, x->dims, 2, err));
    memset(p, 0, sizeof *p);
    p->nd = nd;
    p->batch = (int32_t)x->dims[0];
    p->channels = (int32_t)x->dims[1];
    for (int i = 0; i < nd; i++) {
        p->in_size[i] = (int32_t)w.in[i];
        p->out_size[i] = (int32_t)w.out[i];
        p->kernel[i] = (int32_t)w.k[i];
        p->stride[i] = (int32_t)w.s[i];
        p->pad_begin[i] = (int32_t)w.pb[i];
        p->pad_end[i] = (int32_t)w.pe[i];
        p->dilation[i] = (int32_t)w.d[i];
        if (w.pb[i] >= w.k[i] * w.d[i] || w.pe[i] >= w.k[i] * w.d[i])
            return mq_node_fail(err, n, MQ_ERR_INVALID, "pads must be smaller than the kernel");
    }
    p->count_include_pad = (int)mq_attr_int(n, "count_include_pad", 0);
    if (kind == KIND_LP) {
        const mq_attr *a = mq_attr_get(n, "p");
        p->p = !a ? 2.0f : a->type == MQ_ATTR_FLOAT ? a->f : (float)a->i;
        if (!(p->p > 0.0f)) return mq_node_fail(err, n, MQ_ERR_INVALID, "p must be positive");
    }
    out_dims[0] = x->dims[0];
    out_dims[1] = x->dims[1];
    for (int i = 0; i < nd; i++) out_dims[2 + i] = w.out[i];
    return MQ_OK;
}

static const mq_dtype types_maxpool[] = {MQ_F32, MQ_F64, MQ_I8, MQ_U8, MQ_UNDEFINED};

static mq_status pool_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                            int kind)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], kind == KIND_MAX && n->opset >= 12 ? types_maxpool : mq_types_float, err));
    mq_tensor *ind = nn_opt_out(n, out, 1);
    if (nn_unknown(in[0])) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        if (ind) mq_set_out(ind, MQ_I64, -1, NULL);
        return MQ_OK;
    }
    mqk_pool_params p;
    int64_t dims[MQ_MAX_RANK];
    MQ_TRY(pool_geometry(n, in[0], kind, &p, dims, err));
    mq_set_out(out[0], in[0]->dtype, in[0]->rank, dims);
    if (ind) {
        if (in[0]->dtype != MQ_F32 && in[0]->dtype != MQ_F64)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "Indices output for %s input", mq_dtype_name(in[0]->dtype));
        mq_set_out(ind, MQ_I64, in[0]->rank, dims);
    }
    return MQ_OK;
}

static mq_status pool_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                            mq_kcall *kc, mq_err *err, int kind)
{
    const mq_tensor *ind = n->n_out > 1 ? out[1] : NULL;
    int dt8 = kind == KIND_MAX && !ind && (in[0]->dtype == MQ_U8 || in[0]->dtype == MQ_I8);
    if (in[0]->dtype != MQ_F32 && !dt8)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "dtype %s has no runtime kernel (float32; MaxPool: int8, uint8)",
                            mq_dtype_name(in[0]->dtype));
    if (ind && ind->dtype != MQ_I64) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "Indices must be int64");
    mqk_pool_params p;
    int64_t dims[MQ_MAX_RANK];
    MQ_TRY(pool_geometry(n, in[0], kind, &p, dims, err));
    kc->kernel = dt8 ? "maxpool_8" : "pool_f32";
    kc->p[0] = kind == KIND_MAX ? MQK_POOL_MAX : kind == KIND_AVG ? MQK_POOL_AVG : MQK_POOL_LP;
    kc->p[1] = p.nd;
    for (int i = 0; i < MQK_POOL_MAX_SPATIAL; i++) {
        int sp = i < p.nd;
        kc->p[2 + i] = sp ? p.kernel[i] : 1;
        kc->p[5 + i] = sp ? p.stride[i] : 1;
        kc->p[8 + i] = sp ? p.pad_begin[i] : 0;
        kc->p[11 + i] = sp ? p.pad_end[i] : 0;
        kc->p[14 + i] = sp ? p.dilation[i] : 1;
    }
    kc->p[17] = p.count_include_pad != 0;
    kc->p[18] = kind == KIND_MAX && mq_attr_int(n, "storage_order", 0) != 0;
    kc->p[19] = nn_pf(kind == KIND_LP ? p.p : 2.0f);
    kc->n_p = 20;
    return MQ_OK;
}

static mq_status maxpool_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               mq_kcall *kc, mq_err *err)
{
    return pool_lower(n, in, out, kc, err, KIND_MAX);
}
static mq_status avgpool_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               mq_kcall *kc, mq_err *err)
{
    return pool_lower(n, in, out, kc, err, KIND_AVG);
}
static mq_status lppool_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    return pool_lower(n, in, out, kc, err, KIND_LP);
}

static mq_status maxpool_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return pool_infer(n, in, out, err, KIND_MAX);
}
static mq_status avgpool_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return pool_infer(n, in, out, err, KIND_AVG);
}
static mq_status lppool_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return pool_infer(n, in, out, err, KIND_LP);
}

static mq_status maxpool_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    mq_dtype dt = in[0]->dtype;
    if (dt == MQ_F32 || dt == MQ_F64) return nn_forward_kernel(n, in, out, err);
    /* int8 / uint8 (no runtime kernel yet): exact in float, so run the float kernel on a float copy */
    size_t nx = (size_t)mq_numel(in[0]), ny = (size_t)mq_numel(out[0]);
    mq_tensor tx = *in[0], ty = *out[0];
    tx.dtype = ty.dtype = MQ_F32;
    tx.data = mq_calloc(nx ? nx : 1, sizeof(float));
    ty.data = mq_calloc(ny ? ny : 1, sizeof(float));
    mq_status st = MQ_OK;
    if (!tx.data || !ty.data) {
        st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < nx; i++) ((float *)tx.data)[i] = (float)mq_load_f64(in[0]->data, dt, i);
        const mq_tensor *pi[2] = {&tx, NULL};
        mq_tensor *po[2] = {&ty, NULL};
        mq_node one = *n;
        one.n_in = 1;
        one.n_out = 1;
        st = mq_forward_lowered(&one, pi, po, err);
        for (size_t i = 0; st == MQ_OK && i < ny; i++) mq_store_f64(out[0]->data, dt, i, ((float *)ty.data)[i]);
    }
    mq_free(tx.data);
    mq_free(ty.data);
    return st;
}

/* ---- backward of MaxPool and AveragePool (float32) ------------------------------------------ */

/* kind 0: max (the gradient goes to the first tap equal to the output), 1: average. */
static mq_status pool_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               const float *const *dout, float *const *din, int kind, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    if (!din[0]) return MQ_OK;
    const mq_tensor *x = in[0], *y = out[0];
    mqk_pool_params p;
    int64_t dims[MQ_MAX_RANK];
    MQ_TRY(pool_geometry(n, x, kind == 0 ? KIND_MAX : KIND_AVG, &p, dims, err));
    nn_window w, g;
    w.nd = p.nd;
    for (int i = 0; i < p.nd; i++) {
        w.in[i] = p.in_size[i];
        w.out[i] = p.out_size[i];
        w.k[i] = p.kernel[i];
        w.s[i] = p.stride[i];
        w.d[i] = p.dilation[i];
        w.pb[i] = p.pad_begin[i];
        w.pe[i] = p.pad_end[i];
    }
    nn_window_pad3(&w, &g);
    int include_pad = p.count_include_pad != 0;
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t in_sp = g.in[0] * g.in[1] * g.in[2], out_sp = g.out[0] * g.out[1] * g.out[2];
    const float *xs = x->data, *ys = y->data, *gy = dout[0];
    float *dx = din[0];
    if (kind == 0 && g.in[0] == 1 && g.k[1] == 2 && g.k[2] == 2 && g.s[1] == 2 && g.s[2] == 2 && g.d[1] == 1 &&
        g.d[2] == 1 && g.pb[1] == 0 && g.pb[2] == 0 && 2 * g.out[1] <= g.in[1] && 2 * g.out[2] <= g.in[2]) {
        /* 2x2 windows with stride 2 inside the image: every input is in at most one window, so each window
         * writes its four gradients: g to the first tap equal to the maximum (the loop below's order), 0 to
         * the others; g + 0.0f is what the loop's 0 += g gives (a -0.0 gradient becomes +0.0). Only inputs
         * outside every window (an odd last row or column) need clearing first. */
        int64_t W = g.in[2], OW = g.out[2];
        if (2 * g.out[1] != g.in[1] || 2 * OW != W) memset(dx, 0, sizeof(float) * (size_t)(planes * in_sp));
        for (int64_t pl = 0; pl < planes; pl++)
            for (int64_t oh = 0; oh < g.out[1]; oh++) {
                const float *restrict x0 = xs + pl * in_sp + 2 * oh * W, *restrict x1 = x0 + W;
                const float *restrict yr = ys + pl * out_sp + oh * OW, *restrict gr = gy + pl * out_sp + oh * OW;
                float *restrict d0 = dx + pl * in_sp + 2 * oh * W, *restrict d1 = d0 + W;
                for (int64_t ow = 0; ow < OW; ow++) {
                    float yv = yr[ow], gv = gr[ow] + 0.0f;
                    int e0 = x0[2 * ow] == yv, e1 = x0[2 * ow + 1] == yv, e2 = x1[2 * ow] == yv;
                    int t1 = (!e0) & e1, t2 = (!(e0 | e1)) & e2, t3 = (!(e0 | e1 | e2)) & (x1[2 * ow + 1] == yv);
                    d0[2 * ow] = e0 ? gv : 0.0f;
                    d0[2 * ow + 1] = t1 ? gv : 0.0f;
                    d1[2 * ow] = t2 ? gv : 0.0f;
                    d1[2 * ow + 1] = t3 ? gv : 0.0f;
                }
            }
        return MQ_OK;
    }
    memset(dx, 0, sizeof(float) * (size_t)(planes * in_sp));
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = xs + pl * in_sp;
        float *dxp = dx + pl * in_sp;
        for (int64_t od = 0; od < g.out[0]; od++)
            for (int64_t oh = 0; oh < g.out[1]; oh++)
                for (int64_t ow = 0; ow < g.out[2]; ow++) {
                    int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
                    float gv = gy[pl * out_sp + o], yv = ys[pl * out_sp + o];
                    int64_t b0 = od * g.s[0] - g.pb[0], b1 = oh * g.s[1] - g.pb[1], b2 = ow * g.s[2] - g.pb[2];
                    int64_t count = 0;
                    if (kind == 1) { /* the divisor, as the kernel computes it */
                        for (int64_t kd = 0; kd < g.k[0]; kd++)
                            for (int64_t kh = 0; kh < g.k[1]; kh++)
                                for (int64_t kw = 0; kw < g.k[2]; kw++) {
                                    int64_t i0 = b0 + kd * g.d[0], i1 = b1 + kh * g.d[1], i2 = b2 + kw * g.d[2];
                                    int64_t lo0 = include_pad ? -g.pb[0] : 0, lo1 = include_pad ? -g.pb[1] : 0,
                                            lo2 = include_pad ? -g.pb[2] : 0;
                                    int64_t hi0 = g.in[0] + (include_pad ? g.pe[0] : 0),
                                            hi1 = g.in[1] + (include_pad ? g.pe[1] : 0),
                                            hi2 = g.in[2] + (include_pad ? g.pe[2] : 0);
                                    if (i0 >= lo0 && i0 < hi0 && i1 >= lo1 && i1 < hi1 && i2 >= lo2 && i2 < hi2) count++;
                                }
                        if (count == 0) continue;
                    }
                    int done = 0;
                    for (int64_t kd = 0; kd < g.k[0] && !done; kd++)
                        for (int64_t kh = 0; kh < g.k[1] && !done; kh++)
                            for (int64_t kw = 0; kw < g.k[2] && !done; kw++) {
                                int64_t i0 = b0 + kd * g.d[0], i1 = b1 + kh * g.d[1], i2 = b2 + kw * g.d[2];
                                if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
                                int64_t e = (i0 * g.in[1] + i1) * g.in[2] + i2;
                                if (kind == 0) {
                                    if (xp[e] == yv) {
                                        dxp[e] += gv;
                                        done = 1;
                                    }
                                } else
                                    dxp[e] += gv / (float)count;
                            }
                }
    }
    return MQ_OK;
}

static mq_status maxpool_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                  const float *const *dout, float *const *din, mq_err *err)
{
    if (n->n_out > 1 && out[1] && dout[1]) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no gradient for Indices");
    return pool_backward(n, in, out, dout, din, 0, err);
}

static mq_status avgpool_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                  const float *const *dout, float *const *din, mq_err *err)
{
    return pool_backward(n, in, out, dout, din, 1, err);
}

const mq_op_def nn_op_maxpool = {.op_type = "MaxPool", .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 1,
                                 .min_out = 1, .max_out = 2, .infer = maxpool_infer, .forward = maxpool_forward,
                                 .lower = maxpool_lower, .backward = maxpool_backward};
const mq_op_def nn_op_avgpool = {.op_type = "AveragePool", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                 .max_in = 1, .min_out = 1, .max_out = 1, .infer = avgpool_infer,
                                 .forward = nn_forward_kernel, .lower = avgpool_lower, .backward = avgpool_backward};
const mq_op_def nn_op_lppool = {.op_type = "LpPool", .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 1,
                                .min_out = 1, .max_out = 1, .infer = lppool_infer, .forward = nn_forward_kernel,
                                .lower = lppool_lower};

/* ---- Global pools ---------------------------------------------------------------------------------- */

static mq_status global_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (nn_unknown(in[0])) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    if (in[0]->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 2");
    int64_t dims[MQ_MAX_RANK];
    for (int d = 0; d < in[0]->rank; d++) dims[d] = d < 2 ? in[0]->dims[d] : 1;
    mq_set_out(out[0], in[0]->dtype, in[0]->rank, dims);
    return MQ_OK;
}

static mq_status global_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    kc->kernel = "global_pool_f32";
    if (!strcmp(n->op_type, "GlobalMaxPool")) kc->p[0] = MQK_POOL_MAX;
    else if (!strcmp(n->op_type, "GlobalAveragePool")) kc->p[0] = MQK_POOL_AVG;
    else kc->p[0] = MQK_POOL_LP;
    const mq_attr *a = mq_attr_get(n, "p");
    kc->p[1] = nn_pf(!a ? 2.0f : a->type == MQ_ATTR_FLOAT ? a->f : (float)a->i);
    kc->n_p = 2;
    return MQ_OK;
}

static mq_status global_avgpool_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                         const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    const mq_tensor *x = in[0];
    (void)out;
    if (x->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "X must have rank >= 2");
    int64_t planes = x->dims[0] * x->dims[1], sp = 1;
    for (int d = 2; d < x->rank; d++) sp *= x->dims[d];
    for (int64_t p = 0; p < planes; p++) {
        float v = dout[0][p] / (float)sp;
        for (int64_t k = 0; k < sp; k++) din[0][p * sp + k] = v;
    }
    return MQ_OK;
}

const mq_op_def nn_op_global_avgpool = {.op_type = "GlobalAveragePool", .domain = "", .since = 1, .until = 0,
                                        .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
                                        .infer = global_infer, .forward = nn_forward_kernel,
                                        .lower = global_lower, .backward = global_avgpool_backward};
const mq_op_def nn_op_global_maxpool = {.op_type = "GlobalMaxPool", .domain = "", .since = 1, .until = 0,
                                        .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
                                        .infer = global_infer, .forward = nn_forward_kernel,
                                        .lower = global_lower};
const mq_op_def nn_op_global_lppool = {.op_type = "GlobalLpPool", .domain = "", .since = 1, .until = 0,
                                       .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
                                       .infer = global_infer, .forward = nn_forward_kernel,
                                        .lower = global_lower};

/* ---- MaxUnpool ------------------------------------------------------------------------------------- */

/* dims: the output shape; dflt: the shape the indices refer to (the pooled input's, from the
 * attributes), which differs from dims when output_shape is given. */
static mq_status unpool_shape(const mq_node *n, const mq_tensor *const *in, int64_t *dims, int64_t *dflt,
                              int *known, mq_err *err)
{
    const mq_tensor *x = in[0], *os = nn_opt(n, in, 2);
    if (x->rank < 3 || x->rank > 2 + NN_MAX_SPATIAL)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "input rank %d (3 to %d supported)", x->rank,
                            2 + NN_MAX_SPATIAL);
    int nd = x->rank - 2;
    int64_t kernel[NN_MAX_SPATIAL];
    MQ_TRY(nn_kernel_attr(n, nd, kernel, err));
    *known = 1;
    const int64_t *v;
    int64_t s[NN_MAX_SPATIAL], pads[2 * NN_MAX_SPATIAL] = {0};
    for (int i = 0; i < nd; i++) s[i] = 1;
    int c = mq_attr_ints(n, "strides", &v);
    if (c >= 0) {
        if (c != nd) return mq_node_fail(err, n, MQ_ERR_INVALID, "strides has %d values", c);
        for (int i = 0; i < nd; i++) s[i] = v[i];
    }
    c = mq_attr_ints(n, "pads", &v);
    if (c >= 0) {
        if (c != 2 * nd) return mq_node_fail(err, n, MQ_ERR_INVALID, "pads has %d values", c);
        for (int i = 0; i < 2 * nd; i++) pads[i] = v[i];
    }
    dflt[0] = x->dims[0];
    dflt[1] = x->dims[1];
    for (int i = 0; i < nd; i++) {
        if (s[i] < 1 || s[i] > INT32_MAX || pads[i] < 0 || pads[nd + i] < 0 || pads[i] > INT32_MAX ||
            pads[nd + i] > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "bad strides or pads");
        dflt[2 + i] = (x->dims[2 + i] - 1) * s[i] + kernel[i] - pads[i] - pads[nd + i];
        if (dflt[2 + i] < 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "negative output size");
    }
    memcpy(dims, dflt, sizeof(int64_t) * (size_t)x->rank);
    if (os) {
        if (!os->data) {
            *known = 0;
            return MQ_OK;
        }
        int c;
        MQ_TRY(mq_read_ints(n, os, dims, MQ_MAX_RANK, &c, err));
        if (c != x->rank) return mq_node_fail(err, n, MQ_ERR_SHAPE, "output_shape must have %d values", x->rank);
        for (int i = 0; i < c; i++)
            if (dims[i] < 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "negative output_shape");
    }
    return MQ_OK;
}

static mq_status unpool_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (in[1]->dtype != MQ_I64) return mq_node_fail(err, n, MQ_ERR_SHAPE, "indices must be int64");
    if (nn_unknown(in[0]) || nn_unknown(in[1])) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    if (!mq_shape_equal(in[0], in[1])) return mq_node_fail(err, n, MQ_ERR_SHAPE, "X and I shapes differ");
    int64_t dims[MQ_MAX_RANK], dflt[MQ_MAX_RANK];
    int known;
    MQ_TRY(unpool_shape(n, in, dims, dflt, &known, err));
    if (!known) mq_set_out(out[0], in[0]->dtype, -1, NULL);
    else mq_set_out(out[0], in[0]->dtype, in[0]->rank, dims);
    return MQ_OK;
}

static mq_status unpool_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    if (in[0]->dtype != MQ_F32 || out[0]->dtype != MQ_F32)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "dtype %s has no runtime kernel (float32 only)",
                            mq_dtype_name(in[0]->dtype));
    int64_t dims[MQ_MAX_RANK], dflt[MQ_MAX_RANK];
    int known, rank = in[0]->rank;
    MQ_TRY(unpool_shape(n, in, dims, dflt, &known, err));
    MQ_TRY(nn_check_i32(n, dflt, rank, err));
    int same = !memcmp(out[0]->dims, dflt, sizeof(int64_t) * (size_t)rank);
    kc->kernel = "maxunpool_f32";
    kc->p[0] = rank;
    kc->p[1] = !same;
    for (int d = 0; d < rank; d++) kc->p[2 + d] = (int32_t)dflt[d];
    kc->n_p = 2 + rank;
    return MQ_OK;
}

/* Indices are data: checked here (the kernel skips bad ones), then the runtime kernel runs. */
static mq_status unpool_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    int64_t dims[MQ_MAX_RANK], dflt[MQ_MAX_RANK];
    int known, rank = in[0]->rank;
    MQ_TRY(unpool_shape(n, in, dims, dflt, &known, err));
    size_t nx = (size_t)mq_numel(in[0]), nd = nn_prod(dflt, 0, rank);
    const int64_t *idx = in[1]->data;
    for (size_t i = 0; i < nx; i++) {
        if (idx[i] < 0 || (uint64_t)idx[i] >= nd)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "index %lld out of range [0, %zu)", (long long)idx[i], nd);
        size_t rest = (size_t)idx[i];
        for (int d = rank - 1; d >= 0; d--) { /* its coordinates must lie inside the requested shape */
            if (rest % (size_t)dflt[d] >= (size_t)dims[d])
                return mq_node_fail(err, n, MQ_ERR_INVALID, "index %lld outside output_shape", (long long)idx[i]);
            rest /= (size_t)dflt[d];
        }
    }
    return nn_forward_kernel(n, in, out, err);
}

const mq_op_def nn_op_maxunpool = {.op_type = "MaxUnpool", .domain = "", .since = 9, .until = 0, .min_in = 2,
                                   .max_in = 3, .min_out = 1, .max_out = 1, .static_in = 4u, .infer = unpool_infer,
                                   .forward = unpool_forward, .lower = unpool_lower};
