/* conv_core.h: what the float (conv.c) and integer (conv_int.c) convolution kernels share, as static
 * functions so each source stays self-contained: geometry, the direct loops, and the call checks. */
#ifndef MQK_CONV_CORE_H
#define MQK_CONV_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/kernels/nn_check.h"

#define MQK_MAX_SPATIAL 3

/* Shapes of one convolution. Conv: x is [batch, in_ch, in_size...], w is [out_ch, in_ch/group,
 * kernel...], y is [batch, out_ch, out_size...]; output position o reads input o*stride - pad_begin
 * + k*dilation. ConvTranspose: x is [batch, in_ch, in_size...], w is [in_ch, out_ch/group, kernel...],
 * y is [batch, out_ch, out_size...]; input position i writes output i*stride - pad_begin + k*dilation.
 * Entries past nd are ignored. */
typedef struct mqk_conv_params {
    int nd;
    int32_t batch, in_ch, out_ch, group;
    int32_t in_size[MQK_MAX_SPATIAL], out_size[MQK_MAX_SPATIAL], kernel[MQK_MAX_SPATIAL];
    int32_t stride[MQK_MAX_SPATIAL], pad_begin[MQK_MAX_SPATIAL], dilation[MQK_MAX_SPATIAL];
} mqk_conv_params;

/* Shapes padded to 3 spatial dims (size 1, kernel 1, stride 1, pad 0). */
typedef struct mqk_conv3 {
    int32_t in[3], out[3], k[3], s[3], p[3], d[3];
} mqk_conv3;

static inline void mqk_conv_expand(const mqk_conv_params *p, mqk_conv3 *c)
{
    int i, off = 3 - p->nd;
    for (i = 0; i < 3; i++) {
        c->in[i] = c->out[i] = c->k[i] = c->s[i] = c->d[i] = 1;
        c->p[i] = 0;
    }
    for (i = 0; i < p->nd; i++) {
        c->in[off + i] = p->in_size[i];
        c->out[off + i] = p->out_size[i];
        c->k[off + i] = p->kernel[i];
        c->s[off + i] = p->stride[i];
        c->p[off + i] = p->pad_begin[i];
        c->d[off + i] = p->dilation[i];
    }
}

/* Positions o in [*lo, *hi) of [0, n_o) for which o*s + off lies in [0, n_i). */
static inline void mqk_conv_tap_range(int32_t n_i, int32_t n_o, int32_t s, int32_t off, int32_t *lo, int32_t *hi)
{
    int32_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int32_t h = n_i - off <= 0 ? 0 : (n_i - off + s - 1) / s;
    if (h > n_o) h = n_o;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Direct convolution, generic over the value type: y[o] += w[k] * x[o*s - p + k*d] as strided row
 * updates, one (channel, tap) at a time over the valid output range. MAC(acc, x, w) accumulates. */
#define MQK_CONV_DIRECT(T, BIAS, MAC)                                                          \
    mqk_conv3 c;                                                                                   \
    int32_t n, m, ci, kd, kh, kw, od, oh, ow, cg, mg;                                              \
    size_t in_sp, out_sp, ksz, i;                                                                  \
    mqk_conv_expand(p, &c);                                                                        \
    cg = p->in_ch / p->group;                                                                      \
    mg = p->out_ch / p->group;                                                                     \
    in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];                                   \
    out_sp = (size_t)c.out[0] * (size_t)c.out[1] * (size_t)c.out[2];                               \
    ksz = (size_t)c.k[0] * (size_t)c.k[1] * (size_t)c.k[2];                                        \
    for (n = 0; n < p->batch; n++)                                                                 \
        for (m = 0; m < p->out_ch; m++) {                                                          \
            int32_t g = m / mg;                                                                    \
            T *yo = y + ((size_t)n * (size_t)p->out_ch + (size_t)m) * out_sp;                      \
            T b0 = BIAS;                                                                           \
            for (i = 0; i < out_sp; i++) yo[i] = b0;                                               \
            for (ci = 0; ci < cg; ci++) {                                                          \
                const T *xi = x + ((size_t)n * (size_t)p->in_ch + (size_t)(g * cg + ci)) * in_sp;  \
                const T *wk = w + ((size_t)m * (size_t)cg + (size_t)ci) * ksz;                     \
                for (kd = 0; kd < c.k[0]; kd++) {                                                  \
                    int32_t offd = kd * c.d[0] - c.p[0], lod, hid;                                 \
                    mqk_conv_tap_range(c.in[0], c.out[0], c.s[0], offd, &lod, &hid);               \
                    for (kh = 0; kh < c.k[1]; kh++) {                                              \
                        int32_t offh = kh * c.d[1] - c.p[1], loh, hih;                             \
                        mqk_conv_tap_range(c.in[1], c.out[1], c.s[1], offh, &loh, &hih);           \
                        for (kw = 0; kw < c.k[2]; kw++) {                                          \
                            int32_t offw = kw * c.d[2] - c.p[2], low, hiw, sw = c.s[2];            \
                            T wv = wk[((size_t)kd * (size_t)c.k[1] + (size_t)kh) * (size_t)c.k[2] + (size_t)kw]; \
                            mqk_conv_tap_range(c.in[2], c.out[2], sw, offw, &low, &hiw);           \
                            if (low >= hiw) continue;                                              \
                            for (od = lod; od < hid; od++)                                         \
                                for (oh = loh; oh < hih; oh++) {                                   \
                                    int32_t id = od * c.s[0] + offd, ih = oh * c.s[1] + offh;      \
                                    const T *xr = xi + ((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2] + \
                                                  (size_t)(low * sw + offw);                       \
                                    T *yr = yo + ((size_t)od * (size_t)c.out[1] + (size_t)oh) * (size_t)c.out[2]; \
                                    if (sw == 1)                                                   \
                                        for (ow = low; ow < hiw; ow++) MAC(yr[ow], xr[ow - low], wv); \
                                    else                                                           \
                                        for (ow = low; ow < hiw; ow++)                             \
                                            MAC(yr[ow], xr[(size_t)(ow - low) * (size_t)sw], wv);  \
                                }                                                                  \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }

/* Geometry of a conv / conv-transpose call: sizes from the tensors, the rest from p[0..10]. */
static inline void mqk_conv_from_call(const mqr_call *c, mqk_conv_params *p)
{
    const mqr_tensor *x = &c->in[0], *w = &c->in[1], *y = &c->out[0];
    int i;
    p->nd = c->p[0];
    p->group = c->p[1];
    p->batch = x->dims[0];
    p->in_ch = x->dims[1];
    p->out_ch = y->dims[1];
    for (i = 0; i < MQK_MAX_SPATIAL; i++) {
        int sp = i < p->nd;
        p->in_size[i] = sp ? x->dims[2 + i] : 1;
        p->out_size[i] = sp ? y->dims[2 + i] : 1;
        p->kernel[i] = sp ? w->dims[2 + i] : 1;
        p->stride[i] = c->p[2 + i];
        p->pad_begin[i] = c->p[5 + i];
        p->dilation[i] = c->p[8 + i];
    }
}

/* The check shared by conv_f32, conv_transpose_f32 and conv_integer: x = in[0] (dtype dx), w = in[1]
 * (dw; 0: int8 or uint8), y = out[0] (dy), all of rank p[0] + 2 with p[0] in 1..3; p[1] group >= 1
 * dividing in_ch and out_ch; w [out_ch, in_ch/group, k...] (transpose: [in_ch, out_ch/group, k...]),
 * y [batch, out_ch, ...]; for each spatial dim kernel >= 1, stride >= 1, dilation >= 1, pad_begin >= 0
 * (transpose: any), and in + out*stride + |pad| + (kernel + 1)*dilation + stride <= INT32_MAX, which
 * bounds every int32 position the loops compute (tap offsets, tap ranges, im2col rows); entries past
 * nd are exactly stride 1, pad 0, dilation 1. Every tap is clipped to the input (and, transposed, to
 * the output) by mqk_conv_tap_range, so the reads and writes stay inside x, w and y for any output
 * size; Conv's output size is still held to at least what the parameters give with pad_end 0. */
static inline int mqk_conv_check_geom(const mqr_call *c, int transpose, int32_t dx, int32_t dw, int32_t dy)
{
    const mqr_tensor *x = &c->in[0], *w = &c->in[1], *y = &c->out[0];
    int32_t nd, g, i;
    int64_t C, M;
    if (c->n_p < 11) return 0;
    nd = c->p[0];
    g = c->p[1];
    if (nd < 1 || nd > MQK_MAX_SPATIAL || g < 1) return 0;
    if (mqk_nc_tensor(x, dx, nd + 2, nd + 2) < 0 || mqk_nc_tensor(y, dy, nd + 2, nd + 2) < 0) return 0;
    if (dw ? mqk_nc_tensor(w, dw, nd + 2, nd + 2) < 0
           : (w->dtype != MQR_I8 && w->dtype != MQR_U8) || mqk_nc_tensor(w, 0, nd + 2, nd + 2) < 0)
        return 0;
    C = x->dims[1];
    M = y->dims[1];
    if (y->dims[0] != x->dims[0] || C % g || M % g) return 0;
    if (transpose ? (w->dims[0] != C || (int64_t)w->dims[1] * g != M)
                  : (w->dims[0] != M || (int64_t)w->dims[1] * g != C))
        return 0;
    for (i = 0; i < MQK_MAX_SPATIAL; i++) {
        int64_t s = c->p[2 + i], pb = c->p[5 + i], d = c->p[8 + i], k, in, out, apb, span;
        if (i >= nd) {
            if (s != 1 || pb != 0 || d != 1) return 0;
            continue;
        }
        k = w->dims[2 + i];
        in = x->dims[2 + i];
        out = y->dims[2 + i];
        if (k < 1 || s < 1 || d < 1 || (!transpose && pb < 0)) return 0;
        apb = pb < 0 ? -pb : pb;
        span = mqk_nc_add(mqk_nc_add(in, mqk_nc_mul(out, s)), mqk_nc_add(apb, mqk_nc_mul(k + 1, d)));
        if (mqk_nc_add(span, s) > INT32_MAX) return 0;
        if (!transpose) {
            int64_t ek = (k - 1) * d + 1; /* < 2^31 by the bound above */
            if (out < 1 || (in + pb >= ek && out < (in + pb - ek) / s + 1)) return 0;
        }
    }
    return 1;
}

#endif
