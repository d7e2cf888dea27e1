/* conv.c: N-D convolution / transposed convolution kernels (see conv.h). Shapes are padded to 3
 * spatial dims internally (size 1, kernel 1, stride 1, pad 0); the valid range of each tap is computed
 * once per row, so inner loops carry no bounds checks. */
#include "runtime/kernels/conv.h"
#include "runtime/kernels/gemm_core.h"

#define MQK_MAC_F32(acc, xv, wv) (acc) += (xv) * (wv)

void mqk_conv_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias, float *y)
{
    MQK_CONV_DIRECT(float, bias ? bias[m] : 0.0f, MQK_MAC_F32);
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
    const float *x = (const float *)c->in[0].data, *w = (const float *)c->in[1].data;
    const float *bias = c->n_in > 2 && c->in[2].rank >= 0 ? (const float *)c->in[2].data : 0;
    float *y = (float *)c->out[0].data, *col = (float *)c->scratch;
    int method = c->p[11];
    int32_t cg, mg, rows, out_rows, W, n, g, m, r0, tile = c->p[12];
    size_t in_sp, out_sp, j;
    int i;
    mqk_conv_from_call(c, &p);
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

/* conv_f32: the shared geometry (mqk_conv_check_geom), the bias, and the method: direct needs
 * nothing more; pointwise reads x as the [in_ch/group x spatial] GEMM operand, so kernel 1, stride 1,
 * pad 0 and out_size == in_size; im2col fills tiles of p[12] >= 1 output rows of in_ch/group *
 * prod(kernel) rows each: that many floats times out_size[nd-1] must fit the scratch. */
int mqk_c_conv_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *y;
    int32_t nd, method, tile, i;
    int64_t rows, need;
    if (!mqk_nc_counts(c, 2, 3, 1, 1, 13) || !mqk_conv_check_geom(c, 0, MQR_F32, MQR_F32, MQR_F32) ||
        !conv_bias_ok(c))
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
