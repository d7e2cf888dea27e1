/* conv.c: N-D convolution / transposed convolution kernels (see conv.h). Shapes are padded to 3
 * spatial dims internally (size 1, kernel 1, stride 1, pad 0); the valid range of each tap is computed
 * once per row, so inner loops carry no bounds checks. */
#include "runtime/kernels/conv.h"
#include "runtime/kernels/gemm_core.h"

typedef struct conv3 {
    int32_t in[3], out[3], k[3], s[3], p[3], d[3];
} conv3;

static void conv_expand(const mqk_conv_params *p, conv3 *c)
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
static void tap_range(int32_t n_i, int32_t n_o, int32_t s, int32_t off, int32_t *lo, int32_t *hi)
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
    conv3 c;                                                                                       \
    int32_t n, m, ci, kd, kh, kw, od, oh, ow, cg, mg;                                              \
    size_t in_sp, out_sp, ksz, i;                                                                  \
    conv_expand(p, &c);                                                                            \
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
                    tap_range(c.in[0], c.out[0], c.s[0], offd, &lod, &hid);                        \
                    for (kh = 0; kh < c.k[1]; kh++) {                                              \
                        int32_t offh = kh * c.d[1] - c.p[1], loh, hih;                             \
                        tap_range(c.in[1], c.out[1], c.s[1], offh, &loh, &hih);                    \
                        for (kw = 0; kw < c.k[2]; kw++) {                                          \
                            int32_t offw = kw * c.d[2] - c.p[2], low, hiw, sw = c.s[2];            \
                            T wv = wk[((size_t)kd * (size_t)c.k[1] + (size_t)kh) * (size_t)c.k[2] + (size_t)kw]; \
                            tap_range(c.in[2], c.out[2], sw, offw, &low, &hiw);                    \
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

#define MQK_MAC_F32(acc, xv, wv) (acc) += (xv) * (wv)
#define MQK_MAC_I32(acc, xv, wv) (acc) = (int32_t)((uint32_t)(acc) + (uint32_t)(xv) * (uint32_t)(wv))

void mqk_conv_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias, float *y)
{
    MQK_CONV_DIRECT(float, bias ? bias[m] : 0.0f, MQK_MAC_F32);
}

void mqk_conv_i32(const mqk_conv_params *p, const int32_t *x, const int32_t *w, int32_t *y)
{
    MQK_CONV_DIRECT(int32_t, 0, MQK_MAC_I32);
}

int32_t mqk_conv_out_rows(const mqk_conv_params *p)
{
    int32_t r = 1;
    int i;
    for (i = 0; i + 1 < p->nd; i++) r *= p->out_size[i];
    return r;
}

size_t mqk_conv_scratch_bytes(const mqk_conv_params *p, int method, int32_t tile_rows)
{
    size_t rows = (size_t)(p->in_ch / p->group);
    int i;
    if (method != MQK_CONV_IM2COL) return 0;
    for (i = 0; i < p->nd; i++) rows *= (size_t)p->kernel[i];
    return rows * (size_t)tile_rows * (size_t)p->out_size[p->nd - 1] * sizeof(float);
}

void mqk_im2col_f32(const mqk_conv_params *p, const float *x_img, int32_t row0, int32_t n_rows, float *col)
{
    conv3 c;
    int32_t ci, kd, kh, kw, r, cg, W = 0;
    size_t in_sp;
    conv_expand(p, &c);
    W = c.out[2];
    cg = p->in_ch / p->group;
    in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];
    for (ci = 0; ci < cg; ci++) {
        const float *xi = x_img + (size_t)ci * in_sp;
        for (kd = 0; kd < c.k[0]; kd++)
            for (kh = 0; kh < c.k[1]; kh++)
                for (kw = 0; kw < c.k[2]; kw++) {
                    int32_t offw = kw * c.d[2] - c.p[2], low, hiw, sw = c.s[2], ow;
                    int32_t od = row0 / c.out[1], oh = row0 % c.out[1];
                    tap_range(c.in[2], W, sw, offw, &low, &hiw);
                    for (r = 0; r < n_rows; r++) {
                        int32_t id = od * c.s[0] - c.p[0] + kd * c.d[0];
                        int32_t ih = oh * c.s[1] - c.p[1] + kh * c.d[1];
                        if (id < 0 || id >= c.in[0] || ih < 0 || ih >= c.in[1] || low >= hiw) {
                            for (ow = 0; ow < W; ow++) col[ow] = 0.0f;
                        } else {
                            const float *xr = xi + ((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2];
                            for (ow = 0; ow < low; ow++) col[ow] = 0.0f;
                            if (sw == 1) {
                                const float *xs = xr + offw;
                                for (ow = low; ow < hiw; ow++) col[ow] = xs[ow];
                            } else {
                                for (ow = low; ow < hiw; ow++) col[ow] = xr[(size_t)ow * (size_t)sw + (size_t)offw];
                            }
                            for (ow = hiw; ow < W; ow++) col[ow] = 0.0f;
                        }
                        col += W;
                        if (++oh == c.out[1]) {
                            oh = 0;
                            od++;
                        }
                    }
                }
    }
}

/* Geometry of a conv / conv-transpose call: sizes from the tensors, the rest from p[0..10]. */
static void conv_from_call(const mqr_call *c, int transpose, mqk_conv_params *p)
{
    const mqr_tensor *x = &c->in[0], *w = &c->in[1], *y = &c->out[0];
    int i;
    p->nd = c->p[0];
    p->group = c->p[1];
    p->batch = x->dims[0];
    p->in_ch = x->dims[1];
    p->out_ch = y->dims[1];
    (void)transpose;
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

void mqk_k_conv_f32(const mqr_call *c)
{
    mqk_conv_params p;
    const float *x = (const float *)c->in[0].data, *w = (const float *)c->in[1].data;
    const float *bias = c->n_in > 2 && c->in[2].rank >= 0 ? (const float *)c->in[2].data : 0;
    float *y = (float *)c->out[0].data, *col = (float *)c->scratch;
    int method = c->p[11];
    int32_t cg, mg, rows, out_rows, W, n, g, m, r0, tile = c->p[12];
    size_t in_sp, out_sp, j;
    int i;
    conv_from_call(c, 0, &p);
    if (method == MQK_CONV_DIRECT) {
        mqk_conv_f32(&p, x, w, bias, y);
        return;
    }
    cg = p.in_ch / p.group;
    mg = p.out_ch / p.group;
    rows = cg;
    in_sp = 1;
    for (i = 0; i < p.nd; i++) {
        rows *= p.kernel[i];
        in_sp *= (size_t)p.in_size[i];
    }
    out_rows = mqk_conv_out_rows(&p);
    W = p.out_size[p.nd - 1];
    out_sp = (size_t)out_rows * (size_t)W;
    for (n = 0; n < p.batch; n++)
        for (g = 0; g < p.group; g++) {
            const float *xg = x + ((size_t)n * (size_t)p.in_ch + (size_t)g * (size_t)cg) * in_sp;
            const float *wg = w + (size_t)g * (size_t)mg * (size_t)rows;
            float *yg = y + ((size_t)n * (size_t)p.out_ch + (size_t)g * (size_t)mg) * out_sp;
            for (m = 0; m < mg; m++) {
                float b0 = bias ? bias[g * mg + m] : 0.0f;
                for (j = 0; j < out_sp; j++) yg[(size_t)m * out_sp + j] = b0;
            }
            if (method == MQK_CONV_POINTWISE) {
                mqk_gemm_nn(mg, (int32_t)out_sp, cg, 1.0f, wg, cg, xg, (int32_t)in_sp, yg, (int32_t)out_sp);
                continue;
            }
            for (r0 = 0; r0 < out_rows; r0 += tile) {
                int32_t nr = out_rows - r0 < tile ? out_rows - r0 : tile;
                mqk_im2col_f32(&p, xg, r0, nr, col);
                mqk_gemm_nn(mg, nr * W, rows, 1.0f, wg, rows, col, nr * W, yg + (size_t)r0 * (size_t)W,
                            (int32_t)out_sp);
            }
        }
}

void mqk_conv_transpose_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias,
                            float *y)
{
    conv3 c;
    int32_t n, m, ci, kd, kh, kw, id, ih, iw, cg, mg;
    size_t in_sp, out_sp, ksz, i;
    conv_expand(p, &c);
    cg = p->in_ch / p->group;
    mg = p->out_ch / p->group;
    in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];
    out_sp = (size_t)c.out[0] * (size_t)c.out[1] * (size_t)c.out[2];
    ksz = (size_t)c.k[0] * (size_t)c.k[1] * (size_t)c.k[2];
    for (n = 0; n < p->batch; n++)
        for (m = 0; m < p->out_ch; m++) {
            float *yo = y + ((size_t)n * (size_t)p->out_ch + (size_t)m) * out_sp;
            float b = bias ? bias[m] : 0.0f;
            for (i = 0; i < out_sp; i++) yo[i] = b;
        }
    for (n = 0; n < p->batch; n++)
        for (ci = 0; ci < p->in_ch; ci++) {
            int32_t g = ci / cg;
            const float *xi = x + ((size_t)n * (size_t)p->in_ch + (size_t)ci) * in_sp;
            for (m = 0; m < mg; m++) {
                float *yo = y + ((size_t)n * (size_t)p->out_ch + (size_t)(g * mg + m)) * out_sp;
                const float *wk = w + ((size_t)ci * (size_t)mg + (size_t)m) * ksz;
                for (kd = 0; kd < c.k[0]; kd++) {
                    int32_t offd = kd * c.d[0] - c.p[0], lod, hid;
                    tap_range(c.out[0], c.in[0], c.s[0], offd, &lod, &hid);
                    for (kh = 0; kh < c.k[1]; kh++) {
                        int32_t offh = kh * c.d[1] - c.p[1], loh, hih;
                        tap_range(c.out[1], c.in[1], c.s[1], offh, &loh, &hih);
                        for (kw = 0; kw < c.k[2]; kw++) {
                            int32_t offw = kw * c.d[2] - c.p[2], low, hiw, sw = c.s[2];
                            float wv = wk[((size_t)kd * (size_t)c.k[1] + (size_t)kh) * (size_t)c.k[2] + (size_t)kw];
                            tap_range(c.out[2], c.in[2], sw, offw, &low, &hiw);
                            if (low >= hiw) continue;
                            for (id = lod; id < hid; id++)
                                for (ih = loh; ih < hih; ih++) {
                                    int32_t od = id * c.s[0] + offd, oh = ih * c.s[1] + offh;
                                    const float *xr = xi + ((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2];
                                    float *yr = yo + ((size_t)od * (size_t)c.out[1] + (size_t)oh) * (size_t)c.out[2] +
                                                (size_t)(low * sw + offw);
                                    for (iw = low; iw < hiw; iw++) yr[(size_t)(iw - low) * (size_t)sw] += wv * xr[iw];
                                }
                        }
                    }
                }
            }
        }
}

void mqk_k_conv_transpose_f32(const mqr_call *c)
{
    mqk_conv_params p;
    conv_from_call(c, 1, &p);
    mqk_conv_transpose_f32(&p, (const float *)c->in[0].data, (const float *)c->in[1].data,
                           c->n_in > 2 && c->in[2].rank >= 0 ? (const float *)c->in[2].data : 0,
                           (float *)c->out[0].data);
}

/* element i of an int8 / uint8 tensor */
static int32_t load8(const mqr_tensor *t, size_t i)
{
    return t->dtype == MQR_U8 ? (int32_t)((const uint8_t *)t->data)[i] : (int32_t)((const int8_t *)t->data)[i];
}

void mqk_k_conv_integer(const mqr_call *c)
{
    mqk_conv_params p;
    const mqr_tensor *x = &c->in[0], *w = &c->in[1];
    const mqr_tensor *xz = c->n_in > 2 && c->in[2].rank >= 0 ? &c->in[2] : 0;
    const mqr_tensor *wz = c->n_in > 3 && c->in[3].rank >= 0 ? &c->in[3] : 0;
    size_t nx = (size_t)mqr_numel(x), nw = (size_t)mqr_numel(w), per_m, i;
    int32_t *xi = (int32_t *)c->scratch, *wi = xi + nx, x0 = xz ? load8(xz, 0) : 0;
    int per_channel = wz && mqr_numel(wz) > 1;
    conv_from_call(c, 0, &p);
    per_m = nw / (size_t)p.out_ch;
    for (i = 0; i < nx; i++) xi[i] = load8(x, i) - x0;
    for (i = 0; i < nw; i++) wi[i] = load8(w, i) - (wz ? load8(wz, per_channel ? i / per_m : 0) : 0);
    mqk_conv_i32(&p, xi, wi, (int32_t *)c->out[0].data);
}
