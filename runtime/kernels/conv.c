/* conv.c: N-D convolution / transposed convolution kernels (see conv.h). Shapes are padded to 3
 * spatial dims internally (size 1, kernel 1, stride 1, pad 0); the valid range of each tap is computed
 * once per row, so inner loops carry no bounds checks. */
#include "runtime/kernels/conv.h"
#include "runtime/kernels/gemm_core.h"

#define MQK_MAC_F32(acc, xv, wv) (acc) += (xv) * (wv)

/* The fused activation of conv_f32: Clip's arithmetic (lo where v < lo, then hi where v > hi). */
static void clamp_f32(float *y, size_t n, float lo, float hi)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float v = y[i];
        if (v < lo) v = lo;
        if (v > hi) v = hi;
        y[i] = v;
    }
}

/* One output row of a depthwise 3x3 convolution: y[ow] = b + sum over the valid rows r of
 * w[r][0..2] . x_r[ow*s - pl + 0..2] (the rows r0, r1, r2: input rows oh*s - pt + 0..2, NULL when
 * outside the input); columns outside the input read 0. The interior columns (all three taps inside)
 * run as a loop the compiler vectorizes, with a constant stride when s is 1 or 2. */
static void dw3_row(const float *r0, const float *r1, const float *r2, const float *w, float b, int32_t in_w,
                    int32_t out_w, int32_t s, int32_t pl, float *y, const mqk_gemm_ep *ep)
{
    const float *r[3];
    int32_t lo, hi, ow, kh, kw;
    r[0] = r0;
    r[1] = r1;
    r[2] = r2;
    /* interior: ow*s - pl >= 0 and ow*s - pl + 2 < in_w */
    mqk_conv_tap_range(in_w - 2, out_w, s, -pl, &lo, &hi);
    if (in_w < 3) lo = hi = 0;
    for (ow = 0; ow < out_w; ow++) {
        float acc = b;
        if (ow == lo && lo < hi) {
            ow = hi - 1;
            continue;
        }
        for (kh = 0; kh < 3; kh++) {
            if (!r[kh]) continue;
            for (kw = 0; kw < 3; kw++) {
                int32_t iw = ow * s - pl + kw;
                if (iw >= 0 && iw < in_w) MQK_MAC_F32(acc, r[kh][iw], w[kh * 3 + kw]);
            }
        }
        y[ow] = acc;
    }
    if (lo >= hi) {
        if (ep && ep->clamp) clamp_f32(y, (size_t)out_w, ep->lo, ep->hi);
        return;
    }
    if (r0 && r1 && r2) {
        const float *a = r0, *c = r1, *d = r2;
        float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8];
#define MQK_DW3_BODY(S)                                                                                     \
        for (ow = lo; ow < hi; ow++) {                                                                     \
            int32_t i = ow * (S) - pl;                                                                     \
            float acc = b;                                                                                 \
            MQK_MAC_F32(acc, a[i], w0);                                                                    \
            MQK_MAC_F32(acc, a[i + 1], w1);                                                                \
            MQK_MAC_F32(acc, a[i + 2], w2);                                                                \
            MQK_MAC_F32(acc, c[i], w3);                                                                    \
            MQK_MAC_F32(acc, c[i + 1], w4);                                                                \
            MQK_MAC_F32(acc, c[i + 2], w5);                                                                \
            MQK_MAC_F32(acc, d[i], w6);                                                                    \
            MQK_MAC_F32(acc, d[i + 1], w7);                                                                \
            MQK_MAC_F32(acc, d[i + 2], w8);                                                                \
            y[ow] = acc;                                                                                   \
        }
        if (s == 1) {
            MQK_DW3_BODY(1)
        } else if (s == 2) {
            MQK_DW3_BODY(2)
        } else {
            MQK_DW3_BODY(s)
        }
#undef MQK_DW3_BODY
    } else {
        for (ow = lo; ow < hi; ow++) {
            float acc = b;
            for (kh = 0; kh < 3; kh++) {
                const float *xr = r[kh] ? r[kh] + ow * s - pl : 0;
                if (!xr) continue;
                MQK_MAC_F32(acc, xr[0], w[kh * 3]);
                MQK_MAC_F32(acc, xr[1], w[kh * 3 + 1]);
                MQK_MAC_F32(acc, xr[2], w[kh * 3 + 2]);
            }
            y[ow] = acc;
        }
    }
    if (ep && ep->clamp) clamp_f32(y, (size_t)out_w, ep->lo, ep->hi);
}

/* Depthwise 2-D 3x3 convolution (group == in_ch == out_ch, dilation 1): one pass per output row with
 * the nine taps in registers (the direct loops make nine passes). */
static void conv_dw3x3_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias, float *y,
                           const mqk_gemm_ep *ep)
{
    int32_t n, ch, oh, H = p->in_size[0], W = p->in_size[1], OH = p->out_size[0], OW = p->out_size[1];
    int32_t sh = p->stride[0], sw = p->stride[1], pt = p->pad_begin[0], pl = p->pad_begin[1];
    size_t in_sp = (size_t)H * (size_t)W, out_sp = (size_t)OH * (size_t)OW;
    for (n = 0; n < p->batch; n++)
        for (ch = 0; ch < p->out_ch; ch++) {
            const float *xc = x + ((size_t)n * (size_t)p->in_ch + (size_t)ch) * in_sp;
            float *yc = y + ((size_t)n * (size_t)p->out_ch + (size_t)ch) * out_sp;
            for (oh = 0; oh < OH; oh++) {
                const float *r[3];
                int kh;
                for (kh = 0; kh < 3; kh++) {
                    int32_t ih = oh * sh - pt + kh;
                    r[kh] = ih >= 0 && ih < H ? xc + (size_t)ih * (size_t)W : 0;
                }
                dw3_row(r[0], r[1], r[2], w + (size_t)ch * 9, bias ? bias[ch] : 0.0f, W, OW, sw, pl,
                        yc + (size_t)oh * (size_t)OW, ep);
            }
        }
}

/* The direct method, then the fused activation (ep: NULL or its clamp). */
static void conv_direct_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias, float *y,
                            const mqk_gemm_ep *ep)
{
    if (p->nd == 2 && p->group == p->in_ch && p->group == p->out_ch && p->kernel[0] == 3 && p->kernel[1] == 3 &&
        p->dilation[0] == 1 && p->dilation[1] == 1) {
        conv_dw3x3_f32(p, x, w, bias, y, ep);
        return;
    }
    {
        MQK_CONV_DIRECT(float, bias ? bias[m] : 0.0f, MQK_MAC_F32);
        if (ep && ep->clamp) clamp_f32(y, (size_t)p->batch * (size_t)p->out_ch * out_sp, ep->lo, ep->hi);
    }
}

void mqk_conv_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias, float *y)
{
    conv_direct_f32(p, x, w, bias, y, 0);
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
    mqk_conv3 c;
    int32_t ci, kd, kh, kw, r, cg, W = 0;
    size_t in_sp;
    mqk_conv_expand(p, &c);
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
                    mqk_conv_tap_range(c.in[2], W, sw, offw, &low, &hiw);
                    for (r = 0; r < n_rows; r++) {
                        int32_t id = od * c.s[0] - c.p[0] + kd * c.d[0];
                        int32_t ih = oh * c.s[1] - c.p[1] + kh * c.d[1];
                        int32_t run = 0;
                        if (sw == 1 && c.s[1] == 1 && c.in[2] == W && low < hiw && id >= 0 && id < c.in[0] && ih >= 0) {
                            /* rows of equal width, stride 1: the next output row reads the next input row,
                             * W floats further in both; copy the run of rows at once, then zero the taps
                             * outside the row (the copy read the neighbouring row's ends there) */
                            size_t start = (size_t)ih * (size_t)W; /* + offw: at least 0 */
                            run = n_rows - r;
                            if (run > c.out[1] - oh) run = c.out[1] - oh;
                            if (run > c.in[1] - ih) run = c.in[1] - ih;
                            if (offw > 0 && ih + run == c.in[1]) run--; /* the last row would read past the plane */
                            if (offw < 0 && ih == 0) run = 0;              /* the first would read before it */
                            if (run > 1) {
                                const float *xs = xi + (size_t)id * (size_t)c.in[1] * (size_t)W + start;
                                size_t q, nq = (size_t)run * (size_t)W;
                                int32_t rr;
                                xs += offw;
                                for (q = 0; q < nq; q++) col[q] = xs[q];
                                for (rr = 0; rr < run; rr++, col += W) {
                                    for (ow = 0; ow < low; ow++) col[ow] = 0.0f;
                                    for (ow = hiw; ow < W; ow++) col[ow] = 0.0f;
                                }
                                r += run - 1;
                                oh += run;
                                if (oh == c.out[1]) {
                                    oh = 0;
                                    od++;
                                }
                                continue;
                            }
                        }
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

void mqk_k_conv_f32(const mqr_call *c)
{
    mqk_conv_params p;
    mqk_gemm_ep ep;
    const float *x = (const float *)c->in[0].data, *w = (const float *)c->in[1].data;
    const float *bias = c->n_in > 2 && c->in[2].rank >= 0 ? (const float *)c->in[2].data : 0;
    float *y = (float *)c->out[0].data, *col = (float *)c->scratch;
    int method = c->p[11];
    int32_t cg, mg, rows, out_rows, W, n, g, r0, tile = c->p[12];
    size_t in_sp, out_sp;
    int i;
    mqk_conv_from_call(c, &p);
    ep.init = 1;
    ep.bias = 0;
    ep.clamp = c->n_p > 13 && c->p[13];
    ep.lo = ep.clamp ? mqr_p_f32(c->p[14]) : 0.0f;
    ep.hi = ep.clamp ? mqr_p_f32(c->p[15]) : 0.0f;
    if (method == MQK_CONV_DIRECT) {
        conv_direct_f32(&p, x, w, bias, y, &ep);
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
            ep.bias = bias ? bias + (size_t)g * (size_t)mg : 0; /* y = bias + w * x: the product writes y */
            if (method == MQK_CONV_POINTWISE) {
                mqk_gemm_nn_ep(mg, (int32_t)out_sp, cg, 1.0f, wg, cg, xg, (int32_t)in_sp, yg, (int32_t)out_sp, &ep);
                continue;
            }
            for (r0 = 0; r0 < out_rows; r0 += tile) {
                int32_t nr = out_rows - r0 < tile ? out_rows - r0 : tile;
                mqk_im2col_f32(&p, xg, r0, nr, col);
                mqk_gemm_nn_ep(mg, nr * W, rows, 1.0f, wg, rows, col, nr * W, yg + (size_t)r0 * (size_t)W,
                               (int32_t)out_sp, &ep);
            }
        }
}

void mqk_conv_transpose_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias,
                            float *y)
{
    mqk_conv3 c;
    int32_t n, m, ci, kd, kh, kw, id, ih, iw, cg, mg;
    size_t in_sp, out_sp, ksz, i;
    mqk_conv_expand(p, &c);
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
                    mqk_conv_tap_range(c.out[0], c.in[0], c.s[0], offd, &lod, &hid);
                    for (kh = 0; kh < c.k[1]; kh++) {
                        int32_t offh = kh * c.d[1] - c.p[1], loh, hih;
                        mqk_conv_tap_range(c.out[1], c.in[1], c.s[1], offh, &loh, &hih);
                        for (kw = 0; kw < c.k[2]; kw++) {
                            int32_t offw = kw * c.d[2] - c.p[2], low, hiw, sw = c.s[2];
                            float wv = wk[((size_t)kd * (size_t)c.k[1] + (size_t)kh) * (size_t)c.k[2] + (size_t)kw];
                            mqk_conv_tap_range(c.out[2], c.in[2], sw, offw, &low, &hiw);
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
    mqk_conv_from_call(c, &p);
    mqk_conv_transpose_f32(&p, (const float *)c->in[0].data, (const float *)c->in[1].data,
                           c->n_in > 2 && c->in[2].rank >= 0 ? (const float *)c->in[2].data : 0,
                           (float *)c->out[0].data);
}


/* Bias (optional in[2]): omitted, or float32 [out_ch]. */
static int conv_bias_ok(const mqr_call *c)
{
    return mqk_nc_absent(c->in, c->n_in, 2) || mqk_nc_vec(&c->in[2], MQR_F32, c->out[0].dims[1]);
}

/* conv_f32: 13 parameters, or 16 with p[13] 0 or 1 (the bounds p[14..15] may be any floats); the
 * shared geometry (mqk_conv_check_geom), the bias, and the method: direct needs
 * nothing more; pointwise reads x as the [in_ch/group x spatial] GEMM operand, so kernel 1, stride 1,
 * pad 0 and out_size == in_size; im2col fills tiles of p[12] >= 1 output rows of in_ch/group *
 * prod(kernel) rows each: that many floats times out_size[nd-1] must fit the scratch. */
int mqk_c_conv_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *y;
    int32_t nd, method, tile, i;
    int64_t rows, need;
    if (!(mqk_nc_counts(c, 2, 3, 1, 1, 13) || mqk_nc_counts(c, 2, 3, 1, 1, 16)) ||
        !mqk_conv_check_geom(c, 0, MQR_F32, MQR_F32, MQR_F32) || !conv_bias_ok(c) ||
        (c->n_p == 16 && !mqk_nc_bool(c->p[13])))
        return MQR_CHECK_BAD;
    x = &c->in[0];
    w = &c->in[1];
    y = &c->out[0];
    nd = c->p[0];
    method = c->p[11];
    tile = c->p[12];
    if (tile < 0) return MQR_CHECK_BAD;
    if (method == MQK_CONV_DIRECT) return MQR_CHECK_OK;
    if (method == MQK_CONV_POINTWISE) {
        for (i = 0; i < nd; i++)
            if (w->dims[2 + i] != 1 || c->p[2 + i] != 1 || c->p[5 + i] != 0 || y->dims[2 + i] != x->dims[2 + i])
                return MQR_CHECK_BAD;
        return MQR_CHECK_OK;
    }
    if (method != MQK_CONV_IM2COL || tile < 1) return MQR_CHECK_BAD;
    rows = w->dims[1];
    for (i = 0; i < nd; i++) rows = mqk_nc_mul(rows, w->dims[2 + i]);
    need = mqk_nc_mul(mqk_nc_mul(mqk_nc_mul(rows, tile), y->dims[1 + nd]), (int64_t)sizeof(float));
    return need <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* conv_transpose_f32: the shared geometry (negative pad_begin allowed) and the bias; no scratch. */
int mqk_c_conv_transpose_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 2, 3, 1, 1, 11) || !mqk_conv_check_geom(c, 1, MQR_F32, MQR_F32, MQR_F32) ||
        !conv_bias_ok(c))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
