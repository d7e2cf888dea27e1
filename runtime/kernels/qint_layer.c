/* qint_layer.c: the integer Conv / Gemm kernel of lowered MaQD models (qint.h): packed weight codes
 * unpacked one output channel at a time, int32 accumulation by strided rows, thresholds or an affine out. */
#include "runtime/kernels/qint.h"
#include "runtime/kernels/conv_core.h"

size_t mqk_qint_layer_scratch(int32_t fan_in, int32_t out_plane)
{
    return (size_t)out_plane * 4 + (size_t)fan_in * 2;
}

/* Codes of one row, LSB first, decoded to q = wmul * c - woff. */
static void unpack_row(const uint8_t *row, int32_t n, int32_t bits, int32_t wmul, int32_t woff, int16_t *q)
{
    uint32_t buf = 0, mask = (bits >= 32) ? 0xffffffffu : ((1u << bits) - 1u);
    int32_t have = 0, i;
    for (i = 0; i < n; i++) {
        while (have < bits) {
            buf |= (uint32_t)*row++ << have;
            have += 8;
        }
        q[i] = (int16_t)(wmul * (int32_t)(buf & mask) - woff);
        buf >>= bits;
        have -= bits;
    }
}

/* acc[o] += w * x[o * s] for the valid positions of one (input channel, tap): a strided row update, in
 * uint32 so that wrapping is defined. */
#define QL_ROWS(XT)                                                                                \
    for (od = lod; od < hid; od++)                                                                 \
        for (oh = loh; oh < hih; oh++) {                                                           \
            const XT *xr = (const XT *)xv + ((size_t)(od * c3.s[0] + offd) * (size_t)c3.in[1] +    \
                                             (size_t)(oh * c3.s[1] + offh)) * (size_t)c3.in[2] +   \
                           (size_t)(low * sw + offw);                                              \
            uint32_t *ar = acc + ((size_t)od * (size_t)c3.out[1] + (size_t)oh) * (size_t)c3.out[2]; \
            if (sw == 1)                                                                           \
                for (ow = low; ow < hiw; ow++) ar[ow] += uw * (uint32_t)(int32_t)xr[ow - low];     \
            else                                                                                   \
                for (ow = low; ow < hiw; ow++) ar[ow] += uw * (uint32_t)(int32_t)xr[(size_t)(ow - low) * (size_t)sw]; \
        }

void mqk_k_qint_layer(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *w = &c->in[1], *t = &c->in[2], *y = &c->out[0];
    const int32_t *p = c->p;
    int32_t nd = p[MQK_QL_ND], bits = p[MQK_QL_BITS], wmul = p[MQK_QL_WMUL], woff = p[MQK_QL_WOFF];
    int32_t i, n, m, ci, kd, kh, kw, od, oh, ow, cg, mg, n_thr = 0;
    size_t in_sp = 1, out_sp = 1, ksz, fan, rowb, e;
    mqk_conv_params cp;
    mqk_conv3 c3;
    uint32_t *acc = (uint32_t *)c->scratch;
    int16_t *wq;
    cp.nd = nd > 0 ? nd : 1;
    cp.batch = x->dims[0];
    cp.in_ch = x->dims[1];
    cp.out_ch = y->dims[1];
    cp.group = p[MQK_QL_GROUP];
    for (i = 0; i < MQK_MAX_SPATIAL; i++) {
        int sp = i < nd;
        cp.in_size[i] = sp ? x->dims[2 + i] : 1;
        cp.out_size[i] = sp ? y->dims[2 + i] : 1;
        cp.kernel[i] = p[MQK_QL_KERNEL + i];
        cp.stride[i] = p[MQK_QL_STRIDE + i];
        cp.pad_begin[i] = p[MQK_QL_PAD + i];
        cp.dilation[i] = p[MQK_QL_DIL + i];
    }
    mqk_conv_expand(&cp, &c3);
    for (i = 0; i < 3; i++) {
        in_sp *= (size_t)c3.in[i];
        out_sp *= (size_t)c3.out[i];
    }
    ksz = (size_t)c3.k[0] * (size_t)c3.k[1] * (size_t)c3.k[2];
    cg = cp.in_ch / cp.group;
    mg = cp.out_ch / cp.group;
    fan = (size_t)cg * ksz;
    rowb = mqk_qint_row_bytes(fan, bits);
    wq = (int16_t *)(void *)((char *)c->scratch + out_sp * 4);
    if (y->dtype == MQR_U8) n_thr = t->dims[1];
    for (m = 0; m < cp.out_ch; m++) {
        int32_t g = m / mg;
        unpack_row((const uint8_t *)w->data + (size_t)m * rowb, (int32_t)fan, bits, wmul, woff, wq);
        for (n = 0; n < cp.batch; n++) {
            for (e = 0; e < out_sp; e++) acc[e] = 0;
            for (ci = 0; ci < cg; ci++) {
                size_t xoff = ((size_t)n * (size_t)cp.in_ch + (size_t)(g * cg + ci)) * in_sp;
                const int16_t *wk = wq + (size_t)ci * ksz;
                for (kd = 0; kd < c3.k[0]; kd++) {
                    int32_t offd = kd * c3.d[0] - c3.p[0], lod, hid;
                    mqk_conv_tap_range(c3.in[0], c3.out[0], c3.s[0], offd, &lod, &hid);
                    for (kh = 0; kh < c3.k[1]; kh++) {
                        int32_t offh = kh * c3.d[1] - c3.p[1], loh, hih;
                        mqk_conv_tap_range(c3.in[1], c3.out[1], c3.s[1], offh, &loh, &hih);
                        for (kw = 0; kw < c3.k[2]; kw++) {
                            int32_t offw = kw * c3.d[2] - c3.p[2], low, hiw, sw = c3.s[2];
                            int32_t wv = wk[((size_t)kd * (size_t)c3.k[1] + (size_t)kh) * (size_t)c3.k[2] + (size_t)kw];
                            uint32_t uw = (uint32_t)wv;
                            if (wv == 0) continue; /* ternary and sparse codes: skip the zeros */
                            mqk_conv_tap_range(c3.in[2], c3.out[2], sw, offw, &low, &hiw);
                            if (low >= hiw) continue;
                            if (x->dtype == MQR_U8) {
                                const uint8_t *xv = (const uint8_t *)x->data + xoff;
                                QL_ROWS(uint8_t)
                            } else if (x->dtype == MQR_I16) {
                                const int16_t *xv = (const int16_t *)x->data + xoff;
                                QL_ROWS(int16_t)
                            } else {
                                const int32_t *xv = (const int32_t *)x->data + xoff;
                                QL_ROWS(int32_t)
                            }
                        }
                    }
                }
            }
            if (y->dtype == MQR_U8) {
                const int32_t *thr = (const int32_t *)t->data + (size_t)m * (size_t)n_thr;
                uint8_t *yo = (uint8_t *)y->data + ((size_t)n * (size_t)cp.out_ch + (size_t)m) * out_sp;
                for (e = 0; e < out_sp; e++) {
                    int32_t a = (int32_t)acc[e], k = 0;
                    while (k < n_thr && a >= thr[k]) k++;
                    yo[e] = (uint8_t)k;
                }
            } else {
                const float *kb = (const float *)t->data;
                float k = kb[m], b = kb[cp.out_ch + m];
                float *yo = (float *)y->data + ((size_t)n * (size_t)cp.out_ch + (size_t)m) * out_sp;
                for (e = 0; e < out_sp; e++) yo[e] = k * (float)(int32_t)acc[e] + b;
            }
        }
    }
}

/* qint_layer (qint.h): counts and parameters; x of rank nd + 2 (2 for dense) and dtype uint8, int16 or
 * int32; y [N, O, out...] uint8 or float32; group dividing C and O; per spatial dim kernel, stride,
 * dilation >= 1, pad >= 0 and the int32 position bound of mqk_conv_check_geom (every tap is clipped
 * to the input by mqk_conv_tap_range); past nd exactly 1, 1, 0, 1; w uint8 [O, row_bytes(fan_in, bits)];
 * bits 1..16, wmul 1|2, woff so that every decoded q fits int16; thresholds int32 [O, 1..255] with
 * uint8 y, or float32 [2, O] with float32 y; scratch for one plane and one channel's weights. */
int mqk_c_qint_layer(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *t, *y;
    int32_t nd, g, i, bits, wmul, woff;
    int64_t C, O, fan, out_sp = 1, top;
    if (!mqk_nc_counts(c, 3, 3, 1, 1, MQK_QL_NP)) return MQR_CHECK_BAD;
    x = &c->in[0], w = &c->in[1], t = &c->in[2], y = &c->out[0];
    nd = c->p[MQK_QL_ND];
    g = c->p[MQK_QL_GROUP];
    if (nd < 0 || nd > MQK_MAX_SPATIAL || g < 1) return MQR_CHECK_BAD;
    if (x->dtype != MQR_U8 && x->dtype != MQR_I16 && x->dtype != MQR_I32) return MQR_CHECK_BAD;
    if (mqk_nc_tensor(x, 0, nd + 2, nd + 2) < 0 || mqk_nc_tensor(y, 0, nd + 2, nd + 2) < 0) return MQR_CHECK_BAD;
    if (y->dtype != MQR_U8 && y->dtype != MQR_F32) return MQR_CHECK_BAD;
    C = x->dims[1];
    O = y->dims[1];
    if (y->dims[0] != x->dims[0] || C % g || O % g || (nd == 0 && g != 1)) return MQR_CHECK_BAD;
    fan = C / g;
    for (i = 0; i < MQK_MAX_SPATIAL; i++) {
        int64_t k = c->p[MQK_QL_KERNEL + i], s = c->p[MQK_QL_STRIDE + i], pb = c->p[MQK_QL_PAD + i];
        int64_t d = c->p[MQK_QL_DIL + i], in, out, span;
        if (i >= nd) {
            if (k != 1 || s != 1 || pb != 0 || d != 1) return MQR_CHECK_BAD;
            continue;
        }
        in = x->dims[2 + i];
        out = y->dims[2 + i];
        if (k < 1 || s < 1 || d < 1 || pb < 0) return MQR_CHECK_BAD;
        span = mqk_nc_add(mqk_nc_add(in, mqk_nc_mul(out, s)), mqk_nc_add(pb, mqk_nc_mul(k + 1, d)));
        if (mqk_nc_add(span, s) > INT32_MAX) return MQR_CHECK_BAD;
        fan = mqk_nc_mul(fan, k);
        out_sp = mqk_nc_mul(out_sp, out);
    }
    if (fan > INT32_MAX) return MQR_CHECK_BAD;
    bits = c->p[MQK_QL_BITS];
    wmul = c->p[MQK_QL_WMUL];
    woff = c->p[MQK_QL_WOFF];
    if (bits < 1 || bits > 16 || (wmul != 1 && wmul != 2) || woff < 0 || woff > 32767) return MQR_CHECK_BAD;
    top = (int64_t)wmul * (((int64_t)1 << bits) - 1) - woff;
    if (top > 32767) return MQR_CHECK_BAD;
    if (mqk_nc_tensor(w, MQR_U8, 2, 2) < 0 || w->dims[0] != O ||
        w->dims[1] != (int64_t)mqk_qint_row_bytes((size_t)fan, bits))
        return MQR_CHECK_BAD;
    if (y->dtype == MQR_U8) {
        if (mqk_nc_tensor(t, MQR_I32, 2, 2) < 0 || t->dims[0] != O || t->dims[1] < 1 || t->dims[1] > 255)
            return MQR_CHECK_BAD;
    } else if (mqk_nc_tensor(t, MQR_F32, 2, 2) < 0 || t->dims[0] != 2 || t->dims[1] != O) {
        return MQR_CHECK_BAD;
    }
    return mqk_nc_add(mqk_nc_mul(out_sp, 4), mqk_nc_mul(fan, 2)) <= (int64_t)scratch_bytes ? MQR_CHECK_OK
                                                                                           : MQR_CHECK_BAD;
}
