/* qint_layer.c: the integer Conv / Gemm kernel of lowered MaQD models (qint.h): packed weight codes
 * unpacked one output channel at a time, integer accumulation by strided rows, thresholds or an affine
 * out; an int32 form for quantized layers and an int64 form for wide (float-trained) weights. */
#include "runtime/kernels/qint.h"

size_t mqk_qint_layer_scratch(int32_t fan_in, int32_t out_plane, int acc64)
{
    return acc64 ? (size_t)out_plane * 8 + (size_t)fan_in * 4 : (size_t)out_plane * 4 + (size_t)fan_in * 2;
}

/* The geometry of one call. */
typedef struct ql_geom {
    mqk_conv3 c3;
    int32_t batch, in_ch, out_ch, cg, mg, n_thr, bits, wmul, woff;
    size_t in_sp, out_sp, ksz, fan, rowb;
} ql_geom;

static void ql_setup(const mqr_call *c, ql_geom *q)
{
    const mqr_tensor *x = &c->in[0], *y = &c->out[0];
    const int32_t *p = c->p;
    int32_t i;
    mqk_qint_window(c, p[MQK_QL_ND], p + MQK_QL_KERNEL, p + MQK_QL_STRIDE, p + MQK_QL_PAD, p + MQK_QL_DIL, &q->c3);
    q->in_sp = q->out_sp = 1;
    for (i = 0; i < 3; i++) {
        q->in_sp *= (size_t)q->c3.in[i];
        q->out_sp *= (size_t)q->c3.out[i];
    }
    q->ksz = (size_t)q->c3.k[0] * (size_t)q->c3.k[1] * (size_t)q->c3.k[2];
    q->batch = x->dims[0];
    q->in_ch = x->dims[1];
    q->out_ch = y->dims[1];
    q->cg = q->in_ch / p[MQK_QL_GROUP];
    q->mg = q->out_ch / p[MQK_QL_GROUP];
    q->fan = (size_t)q->cg * q->ksz;
    q->bits = p[MQK_QL_BITS];
    q->wmul = p[MQK_QL_WMUL];
    q->woff = p[MQK_QL_WOFF];
    q->rowb = mqk_qint_row_bytes(q->fan, q->bits);
    q->n_thr = y->dtype == MQR_U8 ? c->in[2].dims[1] : 0;
}

/* The codes of one row, LSB first, decoded to q = wmul * c - woff. */
#define QL_UNPACK(WT)                                                                              \
    {                                                                                              \
        const uint8_t *row = (const uint8_t *)c->in[1].data + (size_t)m * g.rowb;                  \
        uint32_t buf = 0, mask = (1u << g.bits) - 1u;                                              \
        int32_t have = 0;                                                                          \
        size_t i;                                                                                  \
        for (i = 0; i < g.fan; i++) {                                                              \
            while (have < g.bits) {                                                                \
                buf |= (uint32_t)*row++ << have;                                                   \
                have += 8;                                                                         \
            }                                                                                      \
            wq[i] = (WT)(g.wmul * (int32_t)(buf & mask) - g.woff);                                 \
            buf >>= g.bits;                                                                        \
            have -= g.bits;                                                                        \
        }                                                                                          \
    }

/* acc[o] += w * x[o * s] over the valid output positions of one (input channel, tap): strided row
 * updates in unsigned arithmetic (defined wrapping). */
#define QL_ROWS(XT, UT)                                                                            \
    {                                                                                              \
        const XT *xv = (const XT *)c->in[0].data + xoff;                                           \
        for (od = lod; od < hid; od++)                                                             \
            for (oh = loh; oh < hih; oh++) {                                                       \
                const XT *xr = xv + ((size_t)(od * c3->s[0] + offd) * (size_t)c3->in[1] +          \
                                     (size_t)(oh * c3->s[1] + offh)) * (size_t)c3->in[2] +         \
                               (size_t)(low * sw + offw);                                          \
                UT *ar = acc + ((size_t)od * (size_t)c3->out[1] + (size_t)oh) * (size_t)c3->out[2]; \
                if (sw == 1)                                                                       \
                    for (ow = low; ow < hiw; ow++) ar[ow] += uw * (UT)(int32_t)xr[ow - low];       \
                else                                                                               \
                    for (ow = low; ow < hiw; ow++) ar[ow] += uw * (UT)(int32_t)xr[(size_t)(ow - low) * (size_t)sw]; \
            }                                                                                      \
    }

/* One form of the kernel: WT weights, UT (unsigned) accumulators read back as ST, TT thresholds. */
#define QL_KERNEL(NAME, WT, UT, ST, TT)                                                            \
    static void NAME(const mqr_call *c)                                                            \
    {                                                                                              \
        ql_geom g;                                                                                 \
        const mqk_conv3 *c3;                                                                       \
        int32_t n, m, ci, kd, kh, kw, od, oh, ow, xdt = c->in[0].dtype;                            \
        size_t e;                                                                                  \
        UT *acc = (UT *)c->scratch;                                                                \
        WT *wq;                                                                                    \
        ql_setup(c, &g);                                                                           \
        c3 = &g.c3;                                                                                \
        wq = (WT *)(void *)((char *)c->scratch + g.out_sp * sizeof(UT));                           \
        for (m = 0; m < g.out_ch; m++) {                                                           \
            int32_t grp = m / g.mg;                                                                \
            QL_UNPACK(WT)                                                                          \
            for (n = 0; n < g.batch; n++) {                                                        \
                for (e = 0; e < g.out_sp; e++) acc[e] = 0;                                         \
                for (ci = 0; ci < g.cg; ci++) {                                                    \
                    size_t xoff = ((size_t)n * (size_t)g.in_ch + (size_t)(grp * g.cg + ci)) * g.in_sp; \
                    const WT *wk = wq + (size_t)ci * g.ksz;                                        \
                    for (kd = 0; kd < c3->k[0]; kd++) {                                            \
                        int32_t offd = kd * c3->d[0] - c3->p[0], lod, hid;                         \
                        mqk_conv_tap_range(c3->in[0], c3->out[0], c3->s[0], offd, &lod, &hid);     \
                        for (kh = 0; kh < c3->k[1]; kh++) {                                        \
                            int32_t offh = kh * c3->d[1] - c3->p[1], loh, hih;                     \
                            mqk_conv_tap_range(c3->in[1], c3->out[1], c3->s[1], offh, &loh, &hih); \
                            for (kw = 0; kw < c3->k[2]; kw++) {                                    \
                                int32_t offw = kw * c3->d[2] - c3->p[2], low, hiw, sw = c3->s[2];  \
                                WT wv = wk[((size_t)kd * (size_t)c3->k[1] + (size_t)kh) * (size_t)c3->k[2] + (size_t)kw]; \
                                UT uw = (UT)(ST)wv;                                                \
                                if (wv == 0) continue; /* ternary and sparse codes: skip zeros */  \
                                mqk_conv_tap_range(c3->in[2], c3->out[2], sw, offw, &low, &hiw);   \
                                if (low >= hiw) continue;                                          \
                                if (xdt == MQR_U8) QL_ROWS(uint8_t, UT)                            \
                                else if (xdt == MQR_I16) QL_ROWS(int16_t, UT)                      \
                                else QL_ROWS(int32_t, UT)                                          \
                            }                                                                      \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
                if (c->out[0].dtype == MQR_U8) {                                                   \
                    const TT *thr = (const TT *)c->in[2].data + (size_t)m * (size_t)g.n_thr;       \
                    uint8_t *yo = (uint8_t *)c->out[0].data + ((size_t)n * (size_t)g.out_ch + (size_t)m) * g.out_sp; \
                    for (e = 0; e < g.out_sp; e++) {                                               \
                        ST a = (ST)acc[e];                                                         \
                        int32_t k = 0;                                                             \
                        while (k < g.n_thr && a >= thr[k]) k++;                                    \
                        yo[e] = (uint8_t)k;                                                        \
                    }                                                                              \
                } else {                                                                           \
                    const float *kb = (const float *)c->in[2].data;                                \
                    float k = kb[m], b = kb[g.out_ch + m];                                         \
                    float *yo = (float *)c->out[0].data + ((size_t)n * (size_t)g.out_ch + (size_t)m) * g.out_sp; \
                    for (e = 0; e < g.out_sp; e++) yo[e] = k * (float)(ST)acc[e] + b;              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

QL_KERNEL(ql_run32, int16_t, uint32_t, int32_t, int32_t)
QL_KERNEL(ql_run64, int32_t, uint64_t, int64_t, int64_t)

void mqk_k_qint_layer(const mqr_call *c)
{
    if (c->p[MQK_QL_ACC64]) ql_run64(c);
    else ql_run32(c);
}

/* qint_layer (qint.h): counts and parameters; x of rank nd + 2 (2 for dense) and dtype uint8, int16 or
 * int32; y [N, O, out...] uint8 or float32; group dividing C and O; per spatial dim kernel, stride,
 * dilation >= 1, pad >= 0 and the int32 position bound of mqk_conv_check_geom (every tap is clipped
 * to the input by mqk_conv_tap_range); past nd exactly 1, 1, 0, 1; w uint8 [O, row_bytes(fan_in, bits)];
 * acc64 0 or 1; bits 1..16 (1..24 with acc64), wmul 1|2, woff so that every decoded q fits int16
 * (int32); thresholds int32 (int64) [O, 1..255] with uint8 y, or float32 [2, O] with float32 y;
 * scratch for one plane of accumulators and one channel's weights. */
int mqk_c_qint_layer(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *t, *y;
    int32_t nd, g, i, bits, wmul, woff, acc64;
    int64_t C, O, fan, out_sp = 1, top;
    if (!mqk_nc_counts(c, 3, 3, 1, 1, MQK_QL_NP)) return MQR_CHECK_BAD;
    x = &c->in[0], w = &c->in[1], t = &c->in[2], y = &c->out[0];
    nd = c->p[MQK_QL_ND];
    g = c->p[MQK_QL_GROUP];
    acc64 = c->p[MQK_QL_ACC64];
    if (nd < 0 || nd > MQK_MAX_SPATIAL || g < 1 || !mqk_nc_bool(acc64)) return MQR_CHECK_BAD;
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
    if (bits < 1 || bits > (acc64 ? 24 : 16) || (wmul != 1 && wmul != 2) || woff < 0 ||
        woff > (acc64 ? (1 << 24) : 32767))
        return MQR_CHECK_BAD;
    top = (int64_t)wmul * (((int64_t)1 << bits) - 1) - woff;
    if (!acc64 && top > 32767) return MQR_CHECK_BAD;
    if (mqk_nc_tensor(w, MQR_U8, 2, 2) < 0 || w->dims[0] != O ||
        w->dims[1] != (int64_t)mqk_qint_row_bytes((size_t)fan, bits))
        return MQR_CHECK_BAD;
    if (y->dtype == MQR_U8) {
        if (mqk_nc_tensor(t, acc64 ? MQR_I64 : MQR_I32, 2, 2) < 0 || t->dims[0] != O || t->dims[1] < 1 || t->dims[1] > 255)
            return MQR_CHECK_BAD;
    } else if (mqk_nc_tensor(t, MQR_F32, 2, 2) < 0 || t->dims[0] != 2 || t->dims[1] != O) {
        return MQR_CHECK_BAD;
    }
    return mqk_nc_add(mqk_nc_mul(out_sp, acc64 ? 8 : 4), mqk_nc_mul(fan, acc64 ? 4 : 2)) <= (int64_t)scratch_bytes
               ? MQR_CHECK_OK
               : MQR_CHECK_BAD;
}
