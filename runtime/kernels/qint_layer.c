/* qint_layer.c: the integer Conv / Gemm kernel of lowered MaQD models (qint.h): im2col of the codes in
 * position tiles, packed weight codes unpacked a few output channels at a time, integer dot products
 * (pmaddwd on SSE2/AVX2, portable C elsewhere), thresholds by binary search or an affine float out. */
#include "runtime/kernels/qint.h"

#include <string.h>

#if defined(__GNUC__) && defined(__SSE2__) && !defined(__OPTIMIZE_SIZE__)
#include <immintrin.h>
#define QL_SSE2 1
#endif

/* The geometry of one call. */
typedef struct ql_geom {
    mqk_conv3 c3;
    int32_t batch, in_ch, out_ch, cg, mg, n_thr, bits, wmul, woff, wide, xdt;
    size_t in_sp, out_sp, ksz, fan, ks, rowb, pt;
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
    q->ks = (size_t)mqk_qint_ks((int64_t)q->fan);
    q->bits = p[MQK_QL_BITS];
    q->wmul = p[MQK_QL_WMUL];
    q->woff = p[MQK_QL_WOFF];
    q->rowb = mqk_qint_row_bytes(q->fan, q->bits);
    q->n_thr = y->dtype == MQR_U8 ? c->in[2].dims[1] : 0;
    q->xdt = x->dtype;
    q->wide = p[MQK_QL_ACC64] || x->dtype == MQR_I32;
    q->pt = (size_t)mqk_qint_layer_ptile((int64_t)q->fan, (int64_t)q->out_sp, q->wide);
}

/* Row m's codes, LSB first, decoded to q = wmul * c - woff into w[0, fan); zeros on to w[ks). With a
 * table (1, 2, 4, 8 bits): lut[b * per + j] is the j-th code of byte b, decoded. */
#define QL_UNPACK(WT)                                                                              \
    static void ql_unpack_##WT(const ql_geom *g, const uint8_t *row, const WT##_t *lut, WT##_t *w) \
    {                                                                                              \
        size_t i = 0;                                                                              \
        if (lut) {                                                                                 \
            size_t per = (size_t)(8 / g->bits), j;                                                 \
            for (; i + per <= g->fan; i += per) {                                                  \
                const WT##_t *e = lut + (size_t)*row++ * per;                                      \
                if (per == 2) memcpy(w + i, e, 2 * sizeof *w); /* constant sizes: inlined moves */  \
                else if (per == 4) memcpy(w + i, e, 4 * sizeof *w);                                \
                else if (per == 8) memcpy(w + i, e, 8 * sizeof *w);                                \
                else *(w + i) = *e;                                                                \
            }                                                                                      \
            for (j = 0; i < g->fan; i++, j++) w[i] = lut[(size_t)*row * per + j];                  \
        } else {                                                                                   \
            uint32_t buf = 0, mask = (1u << g->bits) - 1u;                                         \
            int32_t have = 0;                                                                      \
            for (; i < g->fan; i++) {                                                              \
                while (have < g->bits) {                                                           \
                    buf |= (uint32_t)*row++ << have;                                               \
                    have += 8;                                                                     \
                }                                                                                  \
                w[i] = (WT##_t)(g->wmul * (int32_t)(buf & mask) - g->woff);                        \
                buf >>= g->bits;                                                                   \
                have -= g->bits;                                                                   \
            }                                                                                      \
        }                                                                                          \
        for (i = g->fan; i < g->ks; i++) w[i] = 0;                                                 \
    }
QL_UNPACK(int16)
QL_UNPACK(int32)

/* im2col of positions [p0, p0 + np) of image n, group grp: row q of col holds the window of position
 * p0 + q in weight order (channel, then kernel taps row-major), 0 for taps outside the input, then
 * zeros to ks; rows [np, rows) are zeros. */
#define QL_IM2COL(NAME, XT, CT)                                                                    \
    static void NAME(const mqr_call *c, const ql_geom *g, int32_t n, int32_t grp, size_t p0, size_t np, \
                     size_t rows, CT *col)                                                         \
    {                                                                                              \
        const mqk_conv3 *c3 = &g->c3;                                                              \
        const XT *xg = (const XT *)c->in[0].data + ((size_t)n * (size_t)g->in_ch + (size_t)grp * (size_t)g->cg) * g->in_sp; \
        size_t q, i;                                                                               \
        int32_t ci, kd, kh, kw;                                                                    \
        for (q = 0; q < np; q++) {                                                                 \
            size_t p = p0 + q;                                                                     \
            int32_t ow = (int32_t)(p % (size_t)c3->out[2]), oh = (int32_t)(p / (size_t)c3->out[2] % (size_t)c3->out[1]); \
            int32_t od = (int32_t)(p / ((size_t)c3->out[2] * (size_t)c3->out[1]));                 \
            int32_t bd = od * c3->s[0] - c3->p[0], bh = oh * c3->s[1] - c3->p[1], bw = ow * c3->s[2] - c3->p[2]; \
            int inside = bd >= 0 && bh >= 0 && bw >= 0 && bd + (c3->k[0] - 1) * c3->d[0] < c3->in[0] && \
                         bh + (c3->k[1] - 1) * c3->d[1] < c3->in[1] && bw + (c3->k[2] - 1) * c3->d[2] < c3->in[2]; \
            CT *dst = col + q * g->ks;                                                             \
            for (ci = 0; ci < g->cg; ci++) {                                                       \
                const XT *xp = xg + (size_t)ci * g->in_sp;                                         \
                for (kd = 0; kd < c3->k[0]; kd++) {                                                \
                    int32_t id = bd + kd * c3->d[0];                                               \
                    for (kh = 0; kh < c3->k[1]; kh++) {                                            \
                        int32_t ih = bh + kh * c3->d[1];                                           \
                        const XT *xr = xp + ((size_t)id * (size_t)c3->in[1] + (size_t)ih) * (size_t)c3->in[2]; \
                        if (inside) {                                                              \
                            for (kw = 0; kw < c3->k[2]; kw++) *dst++ = (CT)xr[bw + kw * c3->d[2]]; \
                        } else if (id < 0 || id >= c3->in[0] || ih < 0 || ih >= c3->in[1]) {       \
                            for (kw = 0; kw < c3->k[2]; kw++) *dst++ = 0;                          \
                        } else {                                                                   \
                            for (kw = 0; kw < c3->k[2]; kw++) {                                    \
                                int32_t iw = bw + kw * c3->d[2];                                   \
                                *dst++ = iw >= 0 && iw < c3->in[2] ? (CT)xr[iw] : 0;               \
                            }                                                                      \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
            for (i = g->fan; i < g->ks; i++) *dst++ = 0;                                           \
        }                                                                                          \
        for (i = np * g->ks; i < rows * g->ks; i++) col[i] = 0;                                    \
    }
QL_IM2COL(ql_im2col_u8_16, uint8_t, int16_t)
QL_IM2COL(ql_im2col_i16_16, int16_t, int16_t)
QL_IM2COL(ql_im2col_u8_32, uint8_t, int32_t)
QL_IM2COL(ql_im2col_i16_32, int16_t, int32_t)
QL_IM2COL(ql_im2col_i32_32, int32_t, int32_t)

/* Where the outputs of channel m of image n from position p0 on go, in locals (a uint8 store may
 * alias anything, so nothing is re-read through c or g per output). */
typedef struct ql_sink {
    uint8_t *y8;          /* codes out, else float out yf */
    float *yf;
    const int32_t *t32;   /* the channel's thresholds (one of t32, t64) */
    const int64_t *t64;
    int32_t n_thr;
    float k, b;
} ql_sink;

static inline void ql_sink_init(const mqr_call *c, const ql_geom *g, int32_t n, int32_t m, size_t p0, ql_sink *s)
{
    size_t at = ((size_t)n * (size_t)g->out_ch + (size_t)m) * g->out_sp + p0;
    memset(s, 0, sizeof *s);
    if (c->out[0].dtype == MQR_U8) {
        s->y8 = (uint8_t *)c->out[0].data + at;
        s->n_thr = g->n_thr;
        if (c->p[MQK_QL_ACC64]) s->t64 = (const int64_t *)c->in[2].data + (size_t)m * (size_t)g->n_thr;
        else s->t32 = (const int32_t *)c->in[2].data + (size_t)m * (size_t)g->n_thr;
    } else {
        const float *kb = (const float *)c->in[2].data;
        s->yf = (float *)c->out[0].data + at;
        s->k = kb[m];
        s->b = kb[g->out_ch + m];
    }
}

/* Output q of a sink from its accumulator a (an int32 or int64 value). Codes: the number of thresholds
 * <= a, by a branch-free binary search on the nondecreasing row (the answer lies in [b - t, b - t +
 * len]; every threshold before b is <= a). */
static inline void ql_put(const ql_sink *s, size_t q, int64_t a)
{
    if (s->y8) {
        int32_t len = s->n_thr;
        size_t cnt;
        if (s->t64) {
            const int64_t *t = s->t64, *b = t;
            for (; len > 1; len -= len / 2) b = b[len / 2] <= a ? b + len / 2 : b;
            cnt = (size_t)(b - t) + (*b <= a);
        } else {
            const int32_t *t = s->t32, *b = t;
            int32_t a32 = (int32_t)a;
            for (; len > 1; len -= len / 2) b = b[len / 2] <= a32 ? b + len / 2 : b;
            cnt = (size_t)(b - t) + (*b <= a32);
        }
        s->y8[q] = (uint8_t)cnt;
    } else {
        s->yf[q] = s->k * (float)a + s->b;
    }
}

/* int32 accumulators of MQK_QL_MR weight rows w (stride ks) with two im2col rows x0, x1 (ks int16 each,
 * ks a multiple of 8): acc[r][j] = sum_k w[r][k] * xj[k] modulo 2^32. */
static void ql_dot_4x2(const int16_t *w, const int16_t *x0, const int16_t *x1, size_t ks, uint32_t acc[MQK_QL_MR][2])
{
#if defined(QL_SSE2)
/* Four weight rows by two im2col rows in eight named registers (an indexed array would live in memory). */
#define QL_DOT_STEP(VT, LOAD, MADD, ADD, WIDTH)                                                     \
    {                                                                                              \
        VT a = LOAD(x0 + k), b = LOAD(x1 + k), v;                                                  \
        v = LOAD(w + k), s00 = ADD(s00, MADD(v, a)), s01 = ADD(s01, MADD(v, b));                   \
        v = LOAD(w + ks + k), s10 = ADD(s10, MADD(v, a)), s11 = ADD(s11, MADD(v, b));              \
        v = LOAD(w + 2 * ks + k), s20 = ADD(s20, MADD(v, a)), s21 = ADD(s21, MADD(v, b));          \
        v = LOAD(w + 3 * ks + k), s30 = ADD(s30, MADD(v, a)), s31 = ADD(s31, MADD(v, b));          \
        k += WIDTH;                                                                                \
    }
#define QL_L128(P) _mm_loadu_si128((const __m128i *)(const void *)(P))
    size_t k = 0;
    __m128i s00 = _mm_setzero_si128(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
#if defined(__AVX2__)
    if (ks >= 16) {
#define QL_L256(P) _mm256_loadu_si256((const __m256i *)(const void *)(P))
#define QL_FOLD(T) _mm_add_epi32(_mm256_castsi256_si128(T), _mm256_extracti128_si256(T, 1))
        __m256i t00 = _mm256_setzero_si256(), t01 = t00, t10 = t00, t11 = t00, t20 = t00, t21 = t00, t30 = t00, t31 = t00;
        while (k + 16 <= ks) {
            __m256i a = QL_L256(x0 + k), b = QL_L256(x1 + k), v;
            v = QL_L256(w + k), t00 = _mm256_add_epi32(t00, _mm256_madd_epi16(v, a)), t01 = _mm256_add_epi32(t01, _mm256_madd_epi16(v, b));
            v = QL_L256(w + ks + k), t10 = _mm256_add_epi32(t10, _mm256_madd_epi16(v, a)), t11 = _mm256_add_epi32(t11, _mm256_madd_epi16(v, b));
            v = QL_L256(w + 2 * ks + k), t20 = _mm256_add_epi32(t20, _mm256_madd_epi16(v, a)), t21 = _mm256_add_epi32(t21, _mm256_madd_epi16(v, b));
            v = QL_L256(w + 3 * ks + k), t30 = _mm256_add_epi32(t30, _mm256_madd_epi16(v, a)), t31 = _mm256_add_epi32(t31, _mm256_madd_epi16(v, b));
            k += 16;
        }
        s00 = QL_FOLD(t00), s01 = QL_FOLD(t01), s10 = QL_FOLD(t10), s11 = QL_FOLD(t11);
        s20 = QL_FOLD(t20), s21 = QL_FOLD(t21), s30 = QL_FOLD(t30), s31 = QL_FOLD(t31);
    }
#endif
    while (k < ks) QL_DOT_STEP(__m128i, QL_L128, _mm_madd_epi16, _mm_add_epi32, 8)
#define QL_HSUM(V, R, J)                                                                           \
    {                                                                                              \
        __m128i h = _mm_add_epi32(V, _mm_shuffle_epi32(V, 0x4E));                                  \
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));                                          \
        acc[R][J] = (uint32_t)_mm_cvtsi128_si32(h);                                                \
    }
    QL_HSUM(s00, 0, 0) QL_HSUM(s01, 0, 1) QL_HSUM(s10, 1, 0) QL_HSUM(s11, 1, 1)
    QL_HSUM(s20, 2, 0) QL_HSUM(s21, 2, 1) QL_HSUM(s30, 3, 0) QL_HSUM(s31, 3, 1)
#else
    size_t k;
    int32_t r;
    for (r = 0; r < MQK_QL_MR; r++) {
        const int16_t *wr = w + (size_t)r * ks;
        uint32_t a = 0, b = 0;
        for (k = 0; k < ks; k++) {
            a += (uint32_t)((int32_t)wr[k] * (int32_t)x0[k]);
            b += (uint32_t)((int32_t)wr[k] * (int32_t)x1[k]);
        }
        acc[r][0] = a;
        acc[r][1] = b;
    }
#endif
}

/* The wide first layer on uint8 / int16 x with a small fan-in (ks <= 24): each weight q (|q| <= 2^23)
 * splits into q = 4096 hi + lo, lo in [-2048, 2047], hi in [-2048, 2048]; every product of a part
 * with x is below 2^26 in magnitude, so a sum over ks <= 24 terms (or any part of one) stays inside
 * int32 and the int16 dot products above are exact: acc = 4096 sum(hi x) + sum(lo x) in int64. Two
 * channels per MQK_QL_MR weight rows (hi, lo, hi, lo). */
static int ql_split_ok(const ql_geom *g, int32_t acc64)
{
    int64_t top = (int64_t)g->wmul * (((int64_t)1 << g->bits) - 1) - g->woff; /* the largest q; -woff the least */
    return acc64 && g->xdt != MQR_I32 && g->ks <= 24 && top <= ((int64_t)1 << 23) && g->woff <= ((int64_t)1 << 23);
}

/* int16 weights and im2col values, int32 dot products: the quantized layers on uint8 / int16 x (four
 * channels per block), or with split (ql_split_ok) the wide first layer (two channels per block). */
static void ql_run16(const mqr_call *c, const ql_geom *g, int split)
{
    int16_t *lut = NULL, *wb, *col;
    int32_t *wq = NULL;
    size_t rows = (g->pt + 1) / 2 * 2, p0, q, k;
    int32_t n, grp, m0, r, j, per_block = split ? MQK_QL_MR / 2 : MQK_QL_MR;
    char *s = (char *)c->scratch;
    ql_sink sk[MQK_QL_MR];
    if (split) {
        wq = (int32_t *)(void *)s;
        s += g->ks * sizeof *wq;
    } else if (g->bits == 1 || g->bits == 2 || g->bits == 4 || g->bits == 8) {
        size_t per = (size_t)(8 / g->bits), b;
        lut = (int16_t *)(void *)s;
        for (b = 0; b < 256; b++)
            for (q = 0; q < per; q++)
                lut[b * per + q] = (int16_t)(g->wmul * (int32_t)((b >> (q * (size_t)g->bits)) & ((1u << g->bits) - 1u)) - g->woff);
        s += 256 * per * 2;
    }
    wb = (int16_t *)(void *)s;
    col = wb + MQK_QL_MR * g->ks;
    for (n = 0; n < g->batch; n++)
        for (grp = 0; grp < c->p[MQK_QL_GROUP]; grp++)
            for (p0 = 0; p0 < g->out_sp; p0 += g->pt) {
                size_t np = g->out_sp - p0 < g->pt ? g->out_sp - p0 : g->pt;
                if (g->xdt == MQR_U8) ql_im2col_u8_16(c, g, n, grp, p0, np, rows, col);
                else ql_im2col_i16_16(c, g, n, grp, p0, np, rows, col);
                for (m0 = grp * g->mg; m0 < (grp + 1) * g->mg; m0 += per_block) {
                    int32_t mr = (grp + 1) * g->mg - m0 < per_block ? (grp + 1) * g->mg - m0 : per_block;
                    const uint8_t *wrow = (const uint8_t *)c->in[1].data + (size_t)m0 * g->rowb;
                    if (split) memset(wb, 0, MQK_QL_MR * g->ks * sizeof *wb);
                    else if (mr < MQK_QL_MR) memset(wb + (size_t)mr * g->ks, 0, (size_t)(MQK_QL_MR - mr) * g->ks * sizeof *wb);
                    for (r = 0; r < mr; r++, wrow += g->rowb) {
                        if (!split) {
                            ql_unpack_int16(g, wrow, lut, wb + (size_t)r * g->ks);
                            continue;
                        }
                        ql_unpack_int32(g, wrow, NULL, wq);
                        for (k = 0; k < g->fan; k++) {
                            int32_t lo = (int32_t)(((uint32_t)wq[k] & 0xFFFu) ^ 0x800u) - 0x800;
                            wb[(size_t)(2 * r) * g->ks + k] = (int16_t)((wq[k] - lo) / 4096);
                            wb[(size_t)(2 * r + 1) * g->ks + k] = (int16_t)lo;
                        }
                    }
                    for (r = 0; r < mr; r++) ql_sink_init(c, g, n, m0 + r, p0, &sk[r]);
                    for (q = 0; q < np; q += 2) {
                        uint32_t acc[MQK_QL_MR][2];
                        ql_dot_4x2(wb, col + q * g->ks, col + (q + 1) * g->ks, g->ks, acc);
                        for (r = 0; r < mr; r++)
                            for (j = 0; j < 2 && q + (size_t)j < np; j++)
                                ql_put(&sk[r], q + (size_t)j,
                                       split ? (int64_t)(int32_t)acc[2 * r][j] * 4096 + (int32_t)acc[2 * r + 1][j]
                                             : (int64_t)(int32_t)acc[r][j]);
                    }
                }
            }
}

/* int32 im2col values and weights, int64 (acc64) or int32 (int32 x) sums: the wide layers. */
static void ql_run32(const mqr_call *c, const ql_geom *g)
{
    int32_t *wb = (int32_t *)c->scratch, *col = wb + g->ks;
    size_t rows = (g->pt + 1) / 2 * 2, p0, q, k;
    int32_t n, grp, m, acc64 = c->p[MQK_QL_ACC64];
    for (n = 0; n < g->batch; n++)
        for (grp = 0; grp < c->p[MQK_QL_GROUP]; grp++)
            for (p0 = 0; p0 < g->out_sp; p0 += g->pt) {
                size_t np = g->out_sp - p0 < g->pt ? g->out_sp - p0 : g->pt;
                if (g->xdt == MQR_U8) ql_im2col_u8_32(c, g, n, grp, p0, np, rows, col);
                else if (g->xdt == MQR_I16) ql_im2col_i16_32(c, g, n, grp, p0, np, rows, col);
                else ql_im2col_i32_32(c, g, n, grp, p0, np, rows, col);
                for (m = grp * g->mg; m < (grp + 1) * g->mg; m++) {
                    ql_sink sk;
                    ql_unpack_int32(g, (const uint8_t *)c->in[1].data + (size_t)m * g->rowb, NULL, wb);
                    ql_sink_init(c, g, n, m, p0, &sk);
                    for (q = 0; q < np; q++) {
                        const int32_t *x = col + q * g->ks;
                        uint64_t a = 0;
                        for (k = 0; k < g->fan; k++) a += (uint64_t)((int64_t)wb[k] * (int64_t)x[k]);
                        ql_put(&sk, q, acc64 ? (int64_t)a : (int64_t)(int32_t)(uint32_t)a);
                    }
                }
            }
}

void mqk_k_qint_layer(const mqr_call *c)
{
    ql_geom g;
    ql_setup(c, &g);
    if (ql_split_ok(&g, c->p[MQK_QL_ACC64])) ql_run16(c, &g, 1);
    else if (g.wide) ql_run32(c, &g);
    else ql_run16(c, &g, 0);
}

/* qint_layer (qint.h): counts and parameters; x of rank nd + 2 (2 for dense) and dtype uint8, int16 or
 * int32; y [N, O, out...] uint8 or float32; group dividing C and O; per spatial dim kernel, stride,
 * dilation >= 1, pad >= 0 and the int32 position bound of mqk_conv_check_geom (every tap is clipped
 * to the input by mqk_conv_tap_range); past nd exactly 1, 1, 0, 1; w uint8 [O, row_bytes(fan_in, bits)];
 * acc64 0 or 1; bits 1..16 (1..24 with acc64), wmul 1|2, woff so that every decoded q fits int16
 * (int32); thresholds int32 (int64) [O, 1..255] with uint8 y, or float32 [2, O] with float32 y;
 * scratch of mqk_qint_layer_scratch (qint.h). */
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
    return mqk_qint_layer_scratch(fan, out_sp, acc64 || x->dtype == MQR_I32, bits) <= (int64_t)scratch_bytes
               ? MQR_CHECK_OK
               : MQR_CHECK_BAD;
}
