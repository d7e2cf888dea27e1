/* pool.c: max / average / Lp pooling kernels (see pool.h). Shapes are padded to 3 spatial dims
 * internally (size 1, kernel 1, stride 1, pad 0); each window's valid tap range is computed once, so
 * the tap loops carry no bounds checks. */
#include "runtime/kernels/pool.h"
#include "runtime/kernels/nn_check.h"

#include <math.h>

#define MQK_FLT_LOWEST (-3.40282347e+38f)

typedef struct pool3 {
    int32_t in[3], out[3], k[3], s[3], pb[3], pe[3], d[3];
} pool3;

static void pool_expand(const mqk_pool_params *p, pool3 *c)
{
    int i, off = 3 - p->nd;
    for (i = 0; i < 3; i++) {
        c->in[i] = c->out[i] = c->k[i] = c->s[i] = c->d[i] = 1;
        c->pb[i] = c->pe[i] = 0;
    }
    for (i = 0; i < p->nd; i++) {
        c->in[off + i] = p->in_size[i];
        c->out[off + i] = p->out_size[i];
        c->k[off + i] = p->kernel[i];
        c->s[off + i] = p->stride[i];
        c->pb[off + i] = p->pad_begin[i];
        c->pe[off + i] = p->pad_end[i];
        c->d[off + i] = p->dilation[i];
    }
}

/* Taps k in [*lo, *hi) of [0, K) whose input o*s - pb + k*d lies in [0, n); returns the number of
 * taps inside [-pb, n + pe) (the padded extent). */
static int32_t tap_range(int32_t o, int32_t s, int32_t pb, int32_t pe, int32_t d, int32_t n, int32_t K, int32_t *lo,
                         int32_t *hi)
{
    int32_t base = o * s - pb, l, h, hp;
    l = base >= 0 ? 0 : (-base + d - 1) / d;
    h = n - base <= 0 ? 0 : (n - base + d - 1) / d;
    hp = n + pe - base <= 0 ? 0 : (n + pe - base + d - 1) / d;
    if (h > K) h = K;
    if (hp > K) hp = K;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
    return hp;
}

/* Max over the taps [h0, h1) x [w0, w1) of the window at xi + bh * row + bw, in the order of the
 * generic loop (the first valid tap, then each strictly greater one), so NaNs behave the same;
 * MQK_FLT_LOWEST when the window holds no input. */
static float max_window(const float *xi, int32_t row, int32_t bh, int32_t bw, int32_t h0, int32_t h1, int32_t w0,
                        int32_t w1)
{
    float best = MQK_FLT_LOWEST;
    int32_t kh, kw, found = 0;
    for (kh = h0; kh < h1; kh++) {
        const float *xr = xi + (size_t)(bh + kh) * (size_t)row;
        for (kw = w0; kw < w1; kw++) {
            float v = xr[bw + kw];
            if (!found || v > best) best = v;
            found = 1;
        }
    }
    return best;
}

/* max_window over a whole KH x KW window at x0 (every tap inside the input); inlined with constant
 * sizes, the column loop vectorizes (v > best ? v : best is what the vector max instructions do). */
static inline float max_full(const float *x0, int32_t row, int32_t KH, int32_t KW)
{
    float best = x0[0];
    int32_t kh, kw;
    for (kh = 0; kh < KH; kh++)
        for (kw = kh ? 0 : 1; kw < KW; kw++) {
            float v = x0[(size_t)kh * (size_t)row + (size_t)kw];
            best = v > best ? v : best;
        }
    return best;
}

/* 2-D max pooling without indices or dilation: the window bounds of a row once, and the interior
 * columns (whole window inside the input) without per-tap bounds. */
static void max_pool_2d(const pool3 *c, size_t planes, const float *x, float *y)
{
    int32_t oh, ow, H = c->in[1], W = c->in[2], KH = c->k[1], KW = c->k[2], sw = c->s[2], pbw = c->pb[2];
    int32_t lo, hi;
    size_t plane, in_sp = (size_t)H * (size_t)W;
    /* interior: ow*sw - pbw >= 0 and ow*sw - pbw + KW <= W */
    lo = pbw <= 0 ? 0 : (pbw + sw - 1) / sw;
    hi = W - KW + pbw < 0 ? 0 : (W - KW + pbw) / sw + 1;
    if (hi > c->out[2]) hi = c->out[2];
    if (lo > hi) lo = hi;
    for (plane = 0; plane < planes; plane++) {
        const float *xi = x + plane * in_sp;
        for (oh = 0; oh < c->out[1]; oh++) {
            int32_t h0, h1, bh = oh * c->s[1] - c->pb[1];
            tap_range(oh, c->s[1], c->pb[1], c->pe[1], 1, H, KH, &h0, &h1);
            for (ow = 0; ow < c->out[2]; ow++) {
                int32_t w0, w1, bw = ow * sw - pbw;
                if (ow == lo && lo < hi && h0 < h1) {
                    /* rows from bh: only the h0 == 0 forms read through xr, and there bh >= 0 */
                    const float *xr = h0 == 0 ? xi + (size_t)bh * (size_t)W : xi;
                    if (h0 == 0 && h1 == KH && KH == 2 && KW == 2 && sw == 2)
                        for (; ow < hi; ow++) y[ow] = max_full(xr + (ow * 2 - pbw), W, 2, 2);
                    else if (h0 == 0 && h1 == KH && KH == 3 && KW == 3 && sw == 2)
                        for (; ow < hi; ow++) y[ow] = max_full(xr + (ow * 2 - pbw), W, 3, 3);
                    else if (h0 == 0 && h1 == KH && KH == 2 && KW == 2)
                        for (; ow < hi; ow++) y[ow] = max_full(xr + (ow * sw - pbw), W, 2, 2);
                    else if (h0 == 0 && h1 == KH && KH == 3 && KW == 3)
                        for (; ow < hi; ow++) y[ow] = max_full(xr + (ow * sw - pbw), W, 3, 3);
                    else
                        for (; ow < hi; ow++) y[ow] = max_window(xi, W, bh, ow * sw - pbw, h0, h1, 0, KW);
                    ow--;
                    continue;
                }
                tap_range(ow, sw, pbw, c->pe[2], 1, W, KW, &w0, &w1);
                y[ow] = max_window(xi, W, bh, bw, h0, h1, w0, w1);
            }
            y += c->out[2];
        }
    }
}

void mqk_pool_f32(const mqk_pool_params *p, int kind, const float *x, float *y, int64_t *indices, int column_major)
{
    pool3 c;
    int32_t od, oh, ow, kd, kh, kw;
    size_t plane, planes, in_sp, o = 0;
    pool_expand(p, &c);
    planes = (size_t)p->batch * (size_t)p->channels;
    if (kind == MQK_POOL_MAX && !indices && c.in[0] == 1 && c.out[0] == 1 && c.k[0] == 1 && c.pb[0] == 0 &&
        c.d[1] == 1 && c.d[2] == 1) {
        max_pool_2d(&c, planes, x, y);
        return;
    }
    in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];
    if (kind == MQK_POOL_MAX && !indices && c.in[0] == 1 && c.k[1] == 2 && c.k[2] == 2 && c.s[1] == 2 && c.s[2] == 2 &&
        c.d[1] == 1 && c.d[2] == 1 && c.pb[1] == 0 && c.pb[2] == 0 && 2 * c.out[1] <= c.in[1] && 2 * c.out[2] <= c.in[2]) {
        /* 2x2 windows with stride 2 inside the image: the loop below, unrolled (same order of taps) */
        for (plane = 0; plane < planes; plane++) {
            const float *xi = x + plane * in_sp;
            for (oh = 0; oh < c.out[1]; oh++) {
                const float *r0 = xi + (size_t)(2 * oh) * (size_t)c.in[2], *r1 = r0 + c.in[2];
                for (ow = 0; ow < c.out[2]; ow++, o++) {
                    float b = r0[2 * ow];
                    b = r0[2 * ow + 1] > b ? r0[2 * ow + 1] : b;
                    b = r1[2 * ow] > b ? r1[2 * ow] : b;
                    y[o] = r1[2 * ow + 1] > b ? r1[2 * ow + 1] : b;
                }
            }
        }
        return;
    }
    for (plane = 0; plane < planes; plane++) {
        const float *xi = x + plane * in_sp;
        for (od = 0; od < c.out[0]; od++) {
            int32_t d0, d1, pd = tap_range(od, c.s[0], c.pb[0], c.pe[0], c.d[0], c.in[0], c.k[0], &d0, &d1);
            int32_t bd = od * c.s[0] - c.pb[0];
            for (oh = 0; oh < c.out[1]; oh++) {
                int32_t h0, h1, ph = tap_range(oh, c.s[1], c.pb[1], c.pe[1], c.d[1], c.in[1], c.k[1], &h0, &h1);
                int32_t bh = oh * c.s[1] - c.pb[1];
                for (ow = 0; ow < c.out[2]; ow++, o++) {
                    int32_t w0, w1, pw = tap_range(ow, c.s[2], c.pb[2], c.pe[2], c.d[2], c.in[2], c.k[2], &w0, &w1);
                    int32_t bw = ow * c.s[2] - c.pb[2], id, ih, iw;
                    if (kind == MQK_POOL_MAX) {
                        float best = MQK_FLT_LOWEST;
                        int64_t best_i = -1;
                        size_t best_off = 0;
                        int found = 0;
                        for (kd = d0; kd < d1; kd++) {
                            id = bd + kd * c.d[0];
                            for (kh = h0; kh < h1; kh++) {
                                const float *xr;
                                ih = bh + kh * c.d[1];
                                xr = xi + ((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2];
                                for (kw = w0; kw < w1; kw++) {
                                    float v;
                                    iw = bw + kw * c.d[2];
                                    v = xr[iw];
                                    if (!found || v > best) {
                                        best = v;
                                        found = 1;
                                        best_off = column_major
                                                       ? ((size_t)iw * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[0] + (size_t)id
                                                       : ((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2] + (size_t)iw;
                                    }
                                }
                            }
                        }
                        if (found) best_i = (int64_t)(plane * in_sp + best_off);
                        y[o] = best;
                        if (indices) indices[o] = best_i;
                    } else {
                        double sum = 0.0;
                        int32_t count = (d1 - d0) * (h1 - h0) * (w1 - w0);
                        for (kd = d0; kd < d1; kd++) {
                            id = bd + kd * c.d[0];
                            for (kh = h0; kh < h1; kh++) {
                                const float *xr;
                                ih = bh + kh * c.d[1];
                                xr = xi + ((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2];
                                if (kind == MQK_POOL_AVG) {
                                    float s = 0.0f;
                                    for (kw = w0; kw < w1; kw++) s += xr[bw + kw * c.d[2]];
                                    sum += s;
                                } else {
                                    for (kw = w0; kw < w1; kw++)
                                        sum += pow(fabs((double)xr[bw + kw * c.d[2]]), (double)p->p);
                                }
                            }
                        }
                        if (kind == MQK_POOL_AVG) {
                            int32_t div = p->count_include_pad ? pd * ph * pw : count;
                            y[o] = div > 0 ? (float)(sum / div) : 0.0f;
                        } else {
                            y[o] = (float)pow(sum, 1.0 / (double)p->p);
                        }
                    }
                }
            }
        }
    }
}

/* The geometry of a pool_f32 / maxpool_8 call: sizes from the tensors, the rest from p[1..17, 19]. */
static void pool_params_of(const mqr_call *c, mqk_pool_params *p)
{
    const mqr_tensor *x = &c->in[0], *y = &c->out[0];
    int i;
    p->nd = c->p[1];
    p->batch = x->dims[0];
    p->channels = x->dims[1];
    for (i = 0; i < MQK_POOL_MAX_SPATIAL; i++) {
        int sp = i < p->nd;
        p->in_size[i] = sp ? x->dims[2 + i] : 1;
        p->out_size[i] = sp ? y->dims[2 + i] : 1;
        p->kernel[i] = c->p[2 + i];
        p->stride[i] = c->p[5 + i];
        p->pad_begin[i] = c->p[8 + i];
        p->pad_end[i] = c->p[11 + i];
        p->dilation[i] = c->p[14 + i];
    }
    p->count_include_pad = c->p[17];
    p->p = mqr_p_f32(c->p[19]);
}

void mqk_k_pool_f32(const mqr_call *c)
{
    mqk_pool_params p;
    const mqr_tensor *x = &c->in[0], *y = &c->out[0];
    pool_params_of(c, &p);
    mqk_pool_f32(&p, c->p[0], (const float *)x->data, (float *)y->data,
                 c->n_out > 1 && c->out[1].rank >= 0 ? (int64_t *)c->out[1].data : 0, c->p[18]);
}

/* maxpool_8: the generic max loop of mqk_pool_f32 on int8 / uint8 values (exact: no arithmetic). */
#define MQK_MAXPOOL_8(T, x8, y8)                                                                      \
    for (plane = 0; plane < planes; plane++) {                                                     \
        const T *xi = (const T *)x8 + plane * in_sp;                                               \
        for (od = 0; od < g.out[0]; od++) {                                                        \
            int32_t d0, d1, bd = od * g.s[0] - g.pb[0];                                            \
            (void)tap_range(od, g.s[0], g.pb[0], g.pe[0], g.d[0], g.in[0], g.k[0], &d0, &d1);      \
            for (oh = 0; oh < g.out[1]; oh++) {                                                    \
                int32_t h0, h1, bh = oh * g.s[1] - g.pb[1];                                        \
                (void)tap_range(oh, g.s[1], g.pb[1], g.pe[1], g.d[1], g.in[1], g.k[1], &h0, &h1);  \
                for (ow = 0; ow < g.out[2]; ow++, o++) {                                           \
                    int32_t w0, w1, bw = ow * g.s[2] - g.pb[2];                                    \
                    T best = 0;                                                                    \
                    int found = 0;                                                                 \
                    (void)tap_range(ow, g.s[2], g.pb[2], g.pe[2], g.d[2], g.in[2], g.k[2], &w0, &w1); \
                    for (kd = d0; kd < d1; kd++)                                                   \
                        for (kh = h0; kh < h1; kh++) {                                             \
                            const T *xr = xi + ((size_t)(bd + kd * g.d[0]) * (size_t)g.in[1] +     \
                                                (size_t)(bh + kh * g.d[1])) * (size_t)g.in[2];     \
                            for (kw = w0; kw < w1; kw++) {                                         \
                                T v = xr[bw + kw * g.d[2]];                                        \
                                if (!found || v > best) best = v;                                  \
                                found = 1;                                                         \
                            }                                                                      \
                        }                                                                          \
                    ((T *)y8)[o] = best;                                                           \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

void mqk_k_maxpool_8(const mqr_call *c)
{
    mqk_pool_params p;
    pool3 g;
    const mqr_tensor *x = &c->in[0], *y = &c->out[0];
    size_t plane, planes, in_sp, o = 0;
    int32_t od, oh, ow, kd, kh, kw;
    pool_params_of(c, &p);
    pool_expand(&p, &g);
    planes = (size_t)x->dims[0] * (size_t)x->dims[1];
    in_sp = (size_t)g.in[0] * (size_t)g.in[1] * (size_t)g.in[2];
    if (x->dtype == MQR_U8) {
        MQK_MAXPOOL_8(uint8_t, x->data, y->data)
    } else {
        MQK_MAXPOOL_8(int8_t, x->data, y->data)
    }
}
#undef MQK_MAXPOOL_8

void mqk_k_global_pool_f32(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    const float *x = (const float *)xt->data;
    float *y = (float *)c->out[0].data, pe = mqr_p_f32(c->p[1]);
    size_t planes = (size_t)xt->dims[0] * (size_t)xt->dims[1], spatial = 1, i, j;
    int32_t d;
    for (d = 2; d < xt->rank; d++) spatial *= (size_t)xt->dims[d];
    for (i = 0; i < planes; i++) {
        const float *xp = x + i * spatial;
        if (c->p[0] == MQK_POOL_MAX) {
            float m = spatial ? xp[0] : MQK_FLT_LOWEST;
            for (j = 1; j < spatial; j++)
                if (xp[j] > m) m = xp[j];
            y[i] = m;
        } else if (c->p[0] == MQK_POOL_AVG) {
            double s = 0.0;
            for (j = 0; j < spatial; j++) s += xp[j];
            y[i] = spatial ? (float)(s / (double)spatial) : 0.0f;
        } else {
            double s = 0.0;
            for (j = 0; j < spatial; j++) s += pow(fabs((double)xp[j]), (double)pe);
            y[i] = (float)pow(s, 1.0 / (double)pe);
        }
    }
}

void mqk_k_maxunpool_f32(const mqr_call *c)
{
    const mqr_tensor *y = &c->out[0];
    const float *x = (const float *)c->in[0].data;
    const int64_t *idx = (const int64_t *)c->in[1].data;
    float *yv = (float *)y->data;
    int32_t rank = c->p[0], d;
    size_t nx = (size_t)mqr_numel(&c->in[0]), ny = (size_t)mqr_numel(y), nref = ny, i;
    if (c->p[1])
        for (nref = 1, d = 0; d < rank; d++) nref *= (size_t)c->p[2 + d];
    for (i = 0; i < ny; i++) yv[i] = 0.0f;
    for (i = 0; i < nx; i++) {
        size_t o;
        if (idx[i] < 0 || (uint64_t)idx[i] >= (uint64_t)nref) continue;
        o = (size_t)idx[i];
        if (c->p[1]) { /* same coordinates in y's shape */
            size_t rest = o, mul = 1, cd;
            int inside = 1;
            o = 0;
            for (d = rank - 1; d >= 0; d--) {
                cd = rest % (size_t)c->p[2 + d];
                rest /= (size_t)c->p[2 + d];
                if (cd >= (size_t)y->dims[d]) inside = 0;
                o += cd * mul;
                mul *= (size_t)y->dims[d];
            }
            if (!inside) continue;
        }
        yv[o] = x[i];
    }
}

/* pool_f32: p[0] kind (MQK_POOL_*), p[1] nd in 1..3, x and y float32 of rank nd + 2 with the same
 * batch and channels (the kernel walks batch*channels planes of each); out[1] (MaxPool only)
 * omitted or int64 of y's shape. Per spatial dim: kernel >= 1, stride >= 1, dilation >= 1, pads in
 * [0, kernel*dilation), and in + out*stride + pads + (kernel + 1)*dilation <= INT32_MAX, which bounds
 * every int32 position tap_range computes; the product of the kernel sizes fits int32 (the padded
 * tap count); entries past nd are exactly kernel 1, stride 1, pads 0, dilation 1. Taps are clipped
 * to the input, so any output size stays in bounds. p[17], p[18] 0/1; p[19] (Lp exponent) > 0. */
/* pool_f32 (dt 0: float32, every kind, optional indices) and maxpool_8 (dt 1: int8 or uint8, max
 * only, no indices): the same parameters and geometry. */
static int pool_check(const mqr_call *c, int dt8)
{
    const mqr_tensor *x, *y;
    int32_t kind, nd, i, dt;
    int64_t kprod = 1;
    if (!mqk_nc_counts(c, 1, 1, 1, dt8 ? 1 : 2, 20)) return MQR_CHECK_BAD;
    x = &c->in[0];
    y = &c->out[0];
    kind = c->p[0];
    nd = c->p[1];
    dt = dt8 ? x->dtype : MQR_F32;
    if (dt8 && ((dt != MQR_U8 && dt != MQR_I8) || kind != MQK_POOL_MAX)) return MQR_CHECK_BAD;
    if (kind < MQK_POOL_MAX || kind > MQK_POOL_LP || nd < 1 || nd > MQK_POOL_MAX_SPATIAL) return MQR_CHECK_BAD;
    if (mqk_nc_tensor(x, dt, nd + 2, nd + 2) < 0 || mqk_nc_tensor(y, dt, nd + 2, nd + 2) < 0 ||
        y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1])
        return MQR_CHECK_BAD;
    if (!mqk_nc_absent(c->out, c->n_out, 1) &&
        (kind != MQK_POOL_MAX || mqk_nc_tensor(&c->out[1], MQR_I64, 0, MQR_MAX_RANK) < 0 || !mqk_nc_same(&c->out[1], y)))
        return MQR_CHECK_BAD;
    for (i = 0; i < MQK_POOL_MAX_SPATIAL; i++) {
        int64_t k = c->p[2 + i], s = c->p[5 + i], pb = c->p[8 + i], pe = c->p[11 + i], d = c->p[14 + i];
        int64_t in, out, kd, span;
        if (i >= nd) {
            if (k != 1 || s != 1 || pb != 0 || pe != 0 || d != 1) return MQR_CHECK_BAD;
            continue;
        }
        in = x->dims[2 + i];
        out = y->dims[2 + i];
        if (k < 1 || s < 1 || d < 1 || pb < 0 || pe < 0) return MQR_CHECK_BAD;
        kd = mqk_nc_mul(k, d);
        if (pb >= kd || pe >= kd) return MQR_CHECK_BAD;
        span = mqk_nc_add(mqk_nc_add(in, mqk_nc_mul(out, s)), mqk_nc_add(pb + pe, mqk_nc_mul(k + 1, d)));
        if (span > INT32_MAX) return MQR_CHECK_BAD;
        kprod = mqk_nc_mul(kprod, k);
    }
    if (kprod > INT32_MAX || !mqk_nc_bool(c->p[17]) || !mqk_nc_bool(c->p[18]) || !(mqr_p_f32(c->p[19]) > 0.0f))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

int mqk_c_pool_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return pool_check(c, 0);
}

int mqk_c_maxpool_8(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return pool_check(c, 1);
}

/* global_pool_f32: x float32 of rank >= 2, y float32 of dims[0]*dims[1] values, kind in range. */
int mqk_c_global_pool_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 2) || c->p[0] < MQK_POOL_MAX || c->p[0] > MQK_POOL_LP) return MQR_CHECK_BAD;
    x = &c->in[0];
    if (mqk_nc_tensor(x, MQR_F32, 2, MQR_MAX_RANK) < 0 ||
        mqk_nc_tensor(&c->out[0], MQR_F32, 0, MQR_MAX_RANK) != (int64_t)x->dims[0] * x->dims[1])
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* maxunpool_f32: x float32, indices int64 of x's shape, y float32 of rank p[0] == rank(x) (the kernel
 * maps coordinates with y's dims); p[1] 0/1, n_p == 2 + rank, the reference shape p[2..] >= 0 with a
 * product that fits int32 (it bounds the indices; each index is bounded again by y at run time);
 * in[2] (output_shape, not read) omitted or any tensor. */
int mqk_c_maxunpool_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x;
    int32_t r, d;
    int64_t nref = 1;
    (void)scratch_bytes;
    if (c->n_p < 2 || !mqk_nc_counts(c, 2, 3, 1, 1, c->n_p)) return MQR_CHECK_BAD;
    x = &c->in[0];
    r = c->p[0];
    if (mqk_nc_tensor(x, MQR_F32, 1, MQR_MAX_RANK) < 0 || x->rank != r || c->n_p != 2 + r || !mqk_nc_bool(c->p[1]))
        return MQR_CHECK_BAD;
    if (mqk_nc_tensor(&c->in[1], MQR_I64, 0, MQR_MAX_RANK) < 0 || !mqk_nc_same(&c->in[1], x) ||
        mqk_nc_tensor(&c->out[0], MQR_F32, r, r) < 0)
        return MQR_CHECK_BAD;
    if (!mqk_nc_absent(c->in, c->n_in, 2) && mqk_nc_tensor(&c->in[2], 0, 0, MQR_MAX_RANK) < 0) return MQR_CHECK_BAD;
    for (d = 0; d < r; d++) {
        if (c->p[2 + d] < 0) return MQR_CHECK_BAD;
        nref = mqk_nc_mul(nref, c->p[2 + d]);
    }
    return nref <= INT32_MAX ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
