/* grad.c: the trainer's table of backward rules keyed by (domain, op_type) with its look-up, and the
 * rules of elementwise, activation, shape and softmax ops (ops/grad.h). */
#include "ops/grad.h"
#include "ops/maqd.h"
#include "ops/util.h"

#include <math.h>
#include <string.h>

/* ---- table ----------------------------------------------------------------------------------------- */

typedef struct grad_entry {
    const char *domain, *op_type;
    mq_backward_fn fn;
} grad_entry;

static const grad_entry table[] = {
    {"", "Add", mq_grad_add},
    {"", "Sub", mq_grad_sub},
    {"", "Mul", mq_grad_mul},
    {"", "Relu", mq_grad_relu},
    {"", "Clip", mq_grad_clip},
    {"", "Sigmoid", mq_grad_sigmoid},
    {"", "HardSigmoid", mq_grad_hardsigmoid},
    {"", "HardSwish", mq_grad_hardswish},
    {"", "Identity", mq_grad_copy0},
    {"", "Dropout", mq_grad_copy0},
    {"", "Flatten", mq_grad_copy0},
    {"", "Reshape", mq_grad_copy0},
    {"", "Squeeze", mq_grad_copy0},
    {"", "Unsqueeze", mq_grad_copy0},
    {"", "Concat", mq_grad_concat},
    {"", "Softmax", mq_grad_softmax},
    {"", "Conv", mq_grad_conv},
    {"", "Gemm", mq_grad_gemm},
    {"", "MatMul", mq_grad_matmul},
    {"", "MaxPool", mq_grad_maxpool},
    {"", "AveragePool", mq_grad_avgpool},
    {"", "GlobalAveragePool", mq_grad_global_avgpool},
    {MQ_MAQD_DOMAIN, "LayerBatchNorm", mq_grad_lbn},
    {MQ_MAQD_DOMAIN, "WeightQuant", mq_grad_weightquant},
    {MQ_MAQD_DOMAIN, "ActQuant", mq_grad_actquant},
};

static int same_domain(const char *a, const char *b)
{
    if (!a || strcmp(a, "ai.onnx") == 0) a = "";
    if (!b || strcmp(b, "ai.onnx") == 0) b = "";
    return strcmp(a, b) == 0;
}

mq_backward_fn mq_op_backward(const mq_op_def *d)
{
    if (!d) return NULL;
    if (d->backward) return d->backward;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (same_domain(table[i].domain, d->domain) && strcmp(table[i].op_type, d->op_type) == 0) return table[i].fn;
    return NULL;
}

int mq_grad_table_at(int i, const char **domain, const char **op_type)
{
    if (i < 0 || (size_t)i >= sizeof table / sizeof table[0]) return 0;
    *domain = table[i].domain;
    *op_type = table[i].op_type;
    return 1;
}

/* ---- broadcasting ---------------------------------------------------------------------------------- */

void mq_grad_unbroadcast(const float *g, int rank, const int64_t *dims, const mq_tensor *t, float scale, float *out)
{
    int64_t tn = mq_numel(t), gn = 1;
    for (int d = 0; d < rank; d++) gn *= dims[d];
    if (tn == gn) { /* same element count: same layout (broadcasting never reorders) */
        for (int64_t i = 0; i < gn; i++) out[i] = scale * g[i];
        return;
    }
    for (int64_t i = 0; i < tn; i++) out[i] = 0;
    if (tn == 1) {
        double s = 0;
        for (int64_t i = 0; i < gn; i++) s += g[i];
        out[0] = (float)(scale * s);
        return;
    }
    int64_t st[MQ_MAX_RANK], idx[MQ_MAX_RANK] = {0};
    mq_broadcast_strides(t, rank, dims, st);
    if (gn == 0) return;
    int64_t off = 0;
    for (int64_t i = 0; i < gn; i++) {
        out[off] += scale * g[i];
        /* advance the multi-index and the offset together */
        for (int d = rank - 1; d >= 0; d--) {
            off += st[d];
            if (++idx[d] < dims[d]) break;
            off -= st[d] * dims[d];
            idx[d] = 0;
        }
    }
}

/* Element k of a broadcast binary op: offsets of a and b for each output element, walked in order. */
typedef struct bcast_walk {
    int rank;
    int64_t dims[MQ_MAX_RANK], sa[MQ_MAX_RANK], sb[MQ_MAX_RANK], idx[MQ_MAX_RANK];
    int64_t oa, ob;
} bcast_walk;

static void walk_init(bcast_walk *w, const mq_tensor *y, const mq_tensor *a, const mq_tensor *b)
{
    memset(w, 0, sizeof *w);
    w->rank = y->rank;
    memcpy(w->dims, y->dims, sizeof(int64_t) * (size_t)(y->rank > 0 ? y->rank : 0));
    mq_broadcast_strides(a, y->rank, y->dims, w->sa);
    mq_broadcast_strides(b, y->rank, y->dims, w->sb);
}

static void walk_next(bcast_walk *w)
{
    for (int d = w->rank - 1; d >= 0; d--) {
        w->oa += w->sa[d];
        w->ob += w->sb[d];
        if (++w->idx[d] < w->dims[d]) return;
        w->oa -= w->sa[d] * w->dims[d];
        w->ob -= w->sb[d] * w->dims[d];
        w->idx[d] = 0;
    }
}

static mq_status need_f32(const mq_node *n, const mq_tensor *t, mq_err *err)
{
    if (t && t->dtype != MQ_F32) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "backward supports float32 only");
    return MQ_OK;
}

/* ---- Add, Sub, Mul --------------------------------------------------------------------------------- */

static mq_status add_sub(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                         const float *const *dout, float *const *din, float sign_b, mq_err *err)
{
    MQ_TRY(need_f32(n, out[0], err));
    if (din[0]) mq_grad_unbroadcast(dout[0], out[0]->rank, out[0]->dims, in[0], 1.0f, din[0]);
    if (din[1]) mq_grad_unbroadcast(dout[0], out[0]->rank, out[0]->dims, in[1], sign_b, din[1]);
    return MQ_OK;
}

mq_status mq_grad_add(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                      const float *const *dout, float *const *din, mq_err *err)
{
    return add_sub(n, in, out, dout, din, 1.0f, err);
}

mq_status mq_grad_sub(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                      const float *const *dout, float *const *din, mq_err *err)
{
    return add_sub(n, in, out, dout, din, -1.0f, err);
}

mq_status mq_grad_mul(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                      const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, out[0], err));
    const float *a = in[0]->data, *b = in[1]->data, *g = dout[0];
    int64_t na = mq_numel(in[0]), nb = mq_numel(in[1]), ny = mq_numel(out[0]);
    if (din[0])
        for (int64_t i = 0; i < na; i++) din[0][i] = 0;
    if (din[1])
        for (int64_t i = 0; i < nb; i++) din[1][i] = 0;
    if (na == ny && nb == ny) {
        for (int64_t i = 0; i < ny; i++) {
            if (din[0]) din[0][i] = g[i] * b[i];
            if (din[1]) din[1][i] = g[i] * a[i];
        }
        return MQ_OK;
    }
    bcast_walk w;
    walk_init(&w, out[0], in[0], in[1]);
    for (int64_t i = 0; i < ny; i++) {
        if (din[0]) din[0][w.oa] += g[i] * b[w.ob];
        if (din[1]) din[1][w.ob] += g[i] * a[w.oa];
        walk_next(&w);
    }
    return MQ_OK;
}

/* ---- activations ----------------------------------------------------------------------------------- */

mq_status mq_grad_relu(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                       const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    const float *x = in[0]->data;
    int64_t k = mq_numel(in[0]);
    (void)out;
    for (int64_t i = 0; i < k; i++) din[0][i] = x[i] > 0 ? dout[0][i] : 0.0f;
    return MQ_OK;
}

mq_status mq_grad_sigmoid(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                          const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    const float *y = out[0]->data;
    int64_t k = mq_numel(in[0]);
    for (int64_t i = 0; i < k; i++) din[0][i] = dout[0][i] * y[i] * (1.0f - y[i]);
    return MQ_OK;
}

mq_status mq_grad_hardsigmoid(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    float alpha = mq_attr_float(n, "alpha", 0.2f), beta = mq_attr_float(n, "beta", 0.5f);
    const float *x = in[0]->data;
    int64_t k = mq_numel(in[0]);
    (void)out;
    for (int64_t i = 0; i < k; i++) {
        float v = alpha * x[i] + beta;
        din[0][i] = v > 0 && v < 1 ? alpha * dout[0][i] : 0.0f;
    }
    return MQ_OK;
}

mq_status mq_grad_hardswish(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                            const float *const *dout, float *const *din, mq_err *err)
{
    /* y = x * max(0, min(1, x/6 + 1/2)): 0 below -3, 1 above 3, x/3 + 1/2 between. */
    MQ_TRY(need_f32(n, in[0], err));
    const float *x = in[0]->data;
    int64_t k = mq_numel(in[0]);
    (void)out;
    for (int64_t i = 0; i < k; i++) {
        float d = x[i] < -3.0f ? 0.0f : x[i] > 3.0f ? 1.0f : x[i] / 3.0f + 0.5f;
        din[0][i] = d * dout[0][i];
    }
    return MQ_OK;
}

mq_status mq_grad_clip(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                       const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    float lo = -INFINITY, hi = INFINITY;
    if (n->opset < 11) {
        lo = mq_attr_float(n, "min", -INFINITY);
        hi = mq_attr_float(n, "max", INFINITY);
    } else {
        if (n->n_in > 1 && in[1] && in[1]->data) lo = ((const float *)in[1]->data)[0];
        if (n->n_in > 2 && in[2] && in[2]->data) hi = ((const float *)in[2]->data)[0];
    }
    const float *x = in[0]->data, *g = dout[0];
    int64_t k = mq_numel(in[0]);
    double below = 0, above = 0;
    (void)out;
    for (int64_t i = 0; i < k; i++) {
        /* Where min > max every output is max (ONNX: min(max(x, lo), hi)). */
        int pass = x[i] >= lo && x[i] <= hi && lo <= hi;
        if (din[0]) din[0][i] = pass ? g[i] : 0.0f;
        if (!pass) {
            if (lo > hi || x[i] > hi) above += g[i];
            else below += g[i];
        }
    }
    if (n->n_in > 1 && din[1]) din[1][0] = (float)below;
    if (n->n_in > 2 && din[2]) din[2][0] = (float)above;
    return MQ_OK;
}

/* ---- shape ops --------------------------------------------------------------------------------------- */

mq_status mq_grad_copy0(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                        const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    int64_t k = mq_numel(in[0]);
    (void)out;
    if (din[0] && k > 0) memcpy(din[0], dout[0], sizeof(float) * (size_t)k);
    for (int i = 1; i < n->n_in; i++)
        if (din[i] && in[i]) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no gradient for input %d", i);
    return MQ_OK;
}

mq_status mq_grad_concat(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                         const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, out[0], err));
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), out[0]->rank, &axis, err));
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= out[0]->dims[d];
    for (int d = axis + 1; d < out[0]->rank; d++) inner *= out[0]->dims[d];
    int64_t total = out[0]->dims[axis] * inner, pos = 0;
    for (int i = 0; i < n->n_in; i++) {
        if (!in[i]) continue;
        int64_t len = in[i]->dims[axis] * inner;
        if (din[i])
            for (int64_t o = 0; o < outer; o++) memcpy(din[i] + o * len, dout[0] + o * total + pos, sizeof(float) * (size_t)len);
        pos += len;
    }
    return MQ_OK;
}

mq_status mq_grad_softmax(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                          const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
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
