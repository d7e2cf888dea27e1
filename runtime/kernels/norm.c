/* norm.c: normalization kernels (see norm.h). Statistics accumulate in double so long rows do not
 * lose precision. */
#include "runtime/kernels/norm.h"
#include "runtime/kernels/nn_check.h"

#include <math.h>

static size_t prod(const int32_t *d, int32_t from, int32_t to)
{
    size_t p = 1;
    int32_t i;
    for (i = from; i < to; i++) p *= (size_t)d[i];
    return p;
}

void mqk_batchnorm_f32(size_t batch, size_t channels, size_t spatial, const float *x, const float *scale,
                       const float *bias, const float *mean, const float *var, float eps, float *y)
{
    size_t n, c, i;
    for (c = 0; c < channels; c++) {
        float a = scale[c] / sqrtf(var[c] + eps);
        float b = bias[c] - mean[c] * a;
        for (n = 0; n < batch; n++) {
            const float *xp = x + (n * channels + c) * spatial;
            float *yp = y + (n * channels + c) * spatial;
            for (i = 0; i < spatial; i++) yp[i] = xp[i] * a + b;
        }
    }
}

void mqk_channel_stats_f32(size_t batch, size_t channels, size_t spatial, const float *x, float *mean,
                           float *var)
{
    size_t n, c, i;
    for (c = 0; c < channels; c++) {
        double s = 0.0, s2 = 0.0, m, cnt = (double)(batch * spatial);
        for (n = 0; n < batch; n++) {
            const float *xp = x + (n * channels + c) * spatial;
            for (i = 0; i < spatial; i++) s += xp[i];
        }
        m = cnt > 0 ? s / cnt : 0.0;
        for (n = 0; n < batch; n++) {
            const float *xp = x + (n * channels + c) * spatial;
            for (i = 0; i < spatial; i++) s2 += (xp[i] - m) * (xp[i] - m);
        }
        mean[c] = (float)m;
        var[c] = cnt > 0 ? (float)(s2 / cnt) : 0.0f;
    }
}

/* out[i] of an optional output, or 0 */
static float *opt_out(const mqr_call *c, int32_t i)
{
    return i < c->n_out && c->out[i].rank >= 0 ? (float *)c->out[i].data : 0;
}

void mqk_k_batchnorm_f32(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], sp = prod(x->dims, 2, x->rank), i;
    const float *scale = (const float *)c->in[1].data, *bias = (const float *)c->in[2].data;
    const float *mean = (const float *)c->in[3].data, *var = (const float *)c->in[4].data;
    float eps = mqr_p_f32(c->p[0]), mom = mqr_p_f32(c->p[2]);
    float *o1 = opt_out(c, 1), *o2 = opt_out(c, 2), *o3 = opt_out(c, 3), *o4 = opt_out(c, 4);
    if (!c->p[1]) {
        mqk_batchnorm_f32(N, C, sp, (const float *)x->data, scale, bias, mean, var, eps, (float *)c->out[0].data);
        for (i = 0; i < C; i++) { /* running statistics pass through */
            if (o1) o1[i] = mean[i];
            if (o2) o2[i] = var[i];
            if (o3 && c->p[3]) o3[i] = mean[i];
            if (o4 && c->p[3]) o4[i] = var[i];
        }
        return;
    } else {
        float *bm = (float *)c->scratch, *bv = bm + C;
        mqk_channel_stats_f32(N, C, sp, (const float *)x->data, bm, bv);
        mqk_batchnorm_f32(N, C, sp, (const float *)x->data, scale, bias, bm, bv, eps, (float *)c->out[0].data);
        for (i = 0; i < C; i++) {
            if (o1) o1[i] = mean[i] * mom + bm[i] * (1.0f - mom);
            if (o2) o2[i] = var[i] * mom + bv[i] * (1.0f - mom);
            if (o3) o3[i] = bm[i];
            if (o4) o4[i] = bv[i];
        }
    }
}

/* mean and variance of n values */
static void row_stats(const float *x, size_t n, double *mean, double *var)
{
    size_t i;
    double s = 0.0, s2 = 0.0, m;
    for (i = 0; i < n; i++) s += x[i];
    m = n ? s / (double)n : 0.0;
    for (i = 0; i < n; i++) s2 += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = n ? s2 / (double)n : 0.0;
}

void mqk_k_instancenorm_f32(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], sp = prod(x->dims, 2, x->rank), n, ch, i;
    const float *scale = (const float *)c->in[1].data, *bias = (const float *)c->in[2].data;
    double eps = (double)mqr_p_f32(c->p[0]);
    for (n = 0; n < N; n++)
        for (ch = 0; ch < C; ch++) {
            const float *xp = (const float *)x->data + (n * C + ch) * sp;
            float *yp = (float *)c->out[0].data + (n * C + ch) * sp;
            double m, v;
            float a, b;
            row_stats(xp, sp, &m, &v);
            a = (float)(scale[ch] / sqrt(v + eps));
            b = (float)(bias[ch] - m * a);
            for (i = 0; i < sp; i++) yp[i] = xp[i] * a + b;
        }
}

/* Broadcast t (numpy rules) to the shape dims[0..nd) into dst. */
static void expand(const mqr_tensor *t, const int32_t *dims, int32_t nd, float *dst)
{
    size_t st[MQR_MAX_RANK], total = prod(dims, 0, nd), i, s = 1;
    int32_t idx[MQR_MAX_RANK], d;
    const float *src = (const float *)t->data;
    for (d = nd - 1; d >= 0; d--) {
        int32_t td = d - (nd - t->rank);
        st[d] = td >= 0 && t->dims[td] != 1 ? s : 0;
        if (td >= 0) s *= (size_t)t->dims[td];
        idx[d] = 0;
    }
    for (i = 0; i < total; i++) {
        size_t off = 0;
        for (d = 0; d < nd; d++) off += (size_t)idx[d] * st[d];
        dst[i] = src[off];
        for (d = nd - 1; d >= 0; d--) {
            if (++idx[d] < dims[d]) break;
            idx[d] = 0;
        }
    }
}

void mqk_k_layernorm_f32(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    int32_t axis = c->p[0];
    size_t rows = prod(x->dims, 0, axis), cols = prod(x->dims, axis, x->rank), r, j;
    const float *scale = (const float *)c->in[1].data;
    const float *bias = c->n_in > 2 && c->in[2].rank >= 0 ? (const float *)c->in[2].data : 0;
    double eps = (double)mqr_p_f32(c->p[1]);
    float *mean = opt_out(c, 1), *inv_std = opt_out(c, 2);
    if (c->p[2]) {
        float *s = (float *)c->scratch;
        expand(&c->in[1], x->dims + axis, x->rank - axis, s);
        scale = s;
        if (bias) {
            expand(&c->in[2], x->dims + axis, x->rank - axis, s + cols);
            bias = s + cols;
        }
    }
    for (r = 0; r < rows; r++) {
        const float *xp = (const float *)x->data + r * cols;
        float *yp = (float *)c->out[0].data + r * cols;
        double m, v, inv;
        row_stats(xp, cols, &m, &v);
        inv = 1.0 / sqrt(v + eps);
        for (j = 0; j < cols; j++) {
            double t = (xp[j] - m) * inv * scale[j];
            if (bias) t += bias[j];
            yp[j] = (float)t;
        }
        if (mean) mean[r] = (float)m;
        if (inv_std) inv_std[r] = (float)inv;
    }
}

void mqk_k_lpnorm_f32(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    int32_t axis = c->p[0], p = c->p[1];
    size_t outer = prod(xt->dims, 0, axis), n = xt->rank ? (size_t)xt->dims[axis] : 1;
    size_t inner = prod(xt->dims, axis + 1, xt->rank), o, i, k;
    const float *x = (const float *)xt->data;
    float *y = (float *)c->out[0].data;
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            const float *xp = x + o * n * inner + i;
            float *yp = y + o * n * inner + i;
            double s = 0.0;
            for (k = 0; k < n; k++) {
                double v = xp[k * inner];
                s += p == 1 ? fabs(v) : v * v;
            }
            if (p != 1) s = sqrt(s);
            for (k = 0; k < n; k++) yp[k * inner] = s > 0.0 ? (float)(xp[k * inner] / s) : 0.0f;
        }
}

void mqk_k_lrn_f32(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    size_t batch = (size_t)xt->dims[0], channels = (size_t)xt->dims[1], spatial = prod(xt->dims, 2, xt->rank), n, i;
    int32_t size = c->p[0], ch, j, lo = (size - 1) / 2, hi = size / 2; /* floor((size-1)/2), ceil((size-1)/2) */
    double alpha = (double)mqr_p_f32(c->p[1]) / (double)size, beta = (double)mqr_p_f32(c->p[2]);
    double bias = (double)mqr_p_f32(c->p[3]);
    const float *x = (const float *)xt->data;
    float *y = (float *)c->out[0].data;
    for (n = 0; n < batch; n++)
        for (ch = 0; ch < (int32_t)channels; ch++) {
            int32_t j0 = ch - lo < 0 ? 0 : ch - lo, j1 = ch + hi >= (int32_t)channels ? (int32_t)channels - 1 : ch + hi;
            const float *xc = x + (n * channels + (size_t)ch) * spatial;
            float *yc = y + (n * channels + (size_t)ch) * spatial;
            for (i = 0; i < spatial; i++) {
                double s = 0.0;
                for (j = j0; j <= j1; j++) {
                    double v = x[(n * channels + (size_t)j) * spatial + i];
                    s += v * v;
                }
                yc[i] = (float)(xc[i] / pow(bias + alpha * s, beta));
            }
        }
}

void mqk_k_mvn_f32(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    uint32_t mask = (uint32_t)c->p[0];
    int32_t rank = xt->rank, d, idx[MQR_MAX_RANK];
    size_t kst[MQR_MAX_RANK], groups = 1, total = prod(xt->dims, 0, rank), per, i, g;
    double *acc = (double *)c->scratch, *acc2;
    const float *x = (const float *)xt->data;
    float *y = (float *)c->out[0].data;
    int pass;
    for (d = rank - 1; d >= 0; d--) {
        kst[d] = (mask >> d) & 1 ? 0 : groups;
        if (!((mask >> d) & 1)) groups *= (size_t)xt->dims[d];
    }
    acc2 = acc + groups;
    for (g = 0; g < 2 * groups; g++) acc[g] = 0.0;
    per = groups ? total / groups : 0;
    for (pass = 0; pass < 2 && total; pass++) {
        for (d = 0; d < rank; d++) idx[d] = 0;
        for (i = 0; i < total; i++) {
            g = 0;
            for (d = 0; d < rank; d++) g += (size_t)idx[d] * kst[d];
            if (pass == 0) {
                acc[g] += x[i];
                acc2[g] += (double)x[i] * x[i];
            } else {
                double m = acc[g] / (double)per, v = acc2[g] / (double)per - m * m;
                y[i] = (float)((x[i] - m) / (sqrt(v > 0 ? v : 0) + 1e-9));
            }
            for (d = rank - 1; d >= 0; d--) {
                if (++idx[d] < xt->dims[d]) break;
                idx[d] = 0;
            }
        }
    }
}

/* x = in[0] float32 of rank in [rlo, MQR_MAX_RANK] and y = out[0] float32 of the same shape. */
static int same_f32(const mqr_call *c, int32_t rlo)
{
    return mqk_nc_tensor(&c->in[0], MQR_F32, rlo, MQR_MAX_RANK) >= 0 && mqk_nc_tensor(&c->out[0], MQR_F32, 0, MQR_MAX_RANK) >= 0 &&
           mqk_nc_same(&c->in[0], &c->out[0]);
}

/* batchnorm_f32: x [N, C, ...] float32 (rank >= 2), y of x's shape, scale, B, mean, var float32 [C];
 * out[1..4] omitted or float32 [C]; p[1] training and p[3] legacy 0/1; training: 2*C floats of
 * scratch. The kernel reads x[i] before writing y[i] and never after, so y may be x (in place). */
int mqk_c_batchnorm_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t i, C;
    if (!mqk_nc_counts(c, 5, 5, 1, 5, 4) || !same_f32(c, 2) || !mqk_nc_bool(c->p[1]) || !mqk_nc_bool(c->p[3]))
        return MQR_CHECK_BAD;
    C = c->in[0].dims[1];
    for (i = 1; i < 5; i++)
        if (!mqk_nc_vec(&c->in[i], MQR_F32, C)) return MQR_CHECK_BAD;
    for (i = 1; i < c->n_out; i++)
        if (!mqk_nc_absent(c->out, c->n_out, i) && !mqk_nc_vec(&c->out[i], MQR_F32, C)) return MQR_CHECK_BAD;
    if (c->p[1] && mqk_nc_mul(C, 2 * (int64_t)sizeof(float)) > (int64_t)scratch_bytes) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* instancenorm_f32: x [N, C, ...] float32 (rank >= 2), y of x's shape, scale and B float32 [C]. */
int mqk_c_instancenorm_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 3, 3, 1, 1, 1) || !same_f32(c, 2) || !mqk_nc_vec(&c->in[1], MQR_F32, c->in[0].dims[1]) ||
        !mqk_nc_vec(&c->in[2], MQR_F32, c->in[0].dims[1]))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* a LayerNormalization scale / bias t against the normalized dims[axis..rank) of x (cols values):
 * p[2] 0: exactly cols values (read flat); 1: float32 of rank <= rank - axis whose every dim is 1 or
 * the matching dim of x (expand's broadcast strides then stay inside it). */
static int ln_param_ok(const mqr_tensor *t, const mqr_tensor *x, int32_t axis, int64_t cols, int32_t expand)
{
    int64_t n = mqk_nc_tensor(t, MQR_F32, 0, x->rank - axis);
    int32_t d;
    if (n < 0) return 0;
    if (!expand) return n == cols;
    for (d = 0; d < t->rank; d++)
        if (t->dims[d] != 1 && t->dims[d] != x->dims[x->rank - t->rank + d]) return 0;
    return 1;
}

/* layernorm_f32: x float32 (rank >= 1), y of x's shape, p[0] axis in [0, rank), p[2] 0/1; scale and
 * (optional) B as ln_param_ok; mean and inv_std (optional) float32 of rows values; with p[2], scratch
 * of cols floats per broadcast operand (2*cols when B is present). */
int mqk_c_layernorm_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x;
    int32_t axis, expand, d, i;
    int64_t rows = 1, cols = 1;
    int has_b;
    if (!mqk_nc_counts(c, 2, 3, 1, 3, 3) || !same_f32(c, 1)) return MQR_CHECK_BAD;
    x = &c->in[0];
    axis = c->p[0];
    expand = c->p[2];
    if (axis < 0 || axis >= x->rank || !mqk_nc_bool(expand)) return MQR_CHECK_BAD;
    for (d = 0; d < x->rank; d++) {
        if (d < axis) rows *= x->dims[d]; /* <= numel: no overflow */
        else cols *= x->dims[d];
    }
    has_b = !mqk_nc_absent(c->in, c->n_in, 2);
    if (!ln_param_ok(&c->in[1], x, axis, cols, expand) || (has_b && !ln_param_ok(&c->in[2], x, axis, cols, expand)))
        return MQR_CHECK_BAD;
    for (i = 1; i < c->n_out; i++)
        if (!mqk_nc_absent(c->out, c->n_out, i) && mqk_nc_tensor(&c->out[i], MQR_F32, 0, MQR_MAX_RANK) != rows)
            return MQR_CHECK_BAD;
    if (expand && mqk_nc_mul(cols, (has_b ? 2 : 1) * (int64_t)sizeof(float)) > (int64_t)scratch_bytes)
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* lpnorm_f32: x float32, y of x's shape, p[0] axis in [0, rank) (0 for a scalar), p[1] 1 or 2. */
int mqk_c_lpnorm_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t axis;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 2) || !same_f32(c, 0)) return MQR_CHECK_BAD;
    axis = c->p[0];
    if (axis < 0 || (c->in[0].rank > 0 ? axis >= c->in[0].rank : axis != 0) || (c->p[1] != 1 && c->p[1] != 2))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* lrn_f32: x [N, C, ...] float32 (rank >= 2), y of x's shape, p[0] size >= 1 with C + size within
 * int32 (the channel window ch - size/2 .. ch + size/2 is computed in int32 and clipped to [0, C)). */
int mqk_c_lrn_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 4) || !same_f32(c, 2) || c->p[0] < 1 ||
        (int64_t)c->in[0].dims[1] + c->p[0] > INT32_MAX)
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* mvn_f32: x float32, y of x's shape, p[0] a mask of axes below rank; scratch: 2 doubles per group
 * (product of the dims not in the mask). */
int mqk_c_mvn_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x;
    int64_t groups = 1;
    int32_t d;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 1) || !same_f32(c, 0)) return MQR_CHECK_BAD;
    x = &c->in[0];
    if (c->p[0] < 0 || (c->p[0] >> x->rank) != 0) return MQR_CHECK_BAD;
    for (d = 0; d < x->rank; d++)
        if (!((c->p[0] >> d) & 1)) groups = mqk_nc_mul(groups, x->dims[d]);
    return mqk_nc_mul(groups, 2 * (int64_t)sizeof(double)) <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
