/* qint_layer.c: the integer Conv / Gemm kernel of lowered MaQD models (qint.h): im2col of the codes in
 * position tiles, packed weight codes unpacked a few output channels at a time, integer dot products
 * (pmaddwd on SSE2/AVX2, portable C elsewhere; AVX-512 and AVX-512 VNNI over 16 positions per register
 * when compiled for them or, on x86 with GCC >= 8 / clang, when the CPU has them: chosen at run time),
 * thresholds by binary search or an affine float out. */
#include "runtime/kernels/qint.h"
#include "runtime/kernels/qint_isa.h"

#include <string.h>

/* The vector paths compiled in: QL_SSE2 (x86 with SSE2), QL_AVX512 (the AVX-512 F/BW/VL region below)
 * and QL_VNNI (its VNNI part). A region the compiler does not target is compiled for its ISA
 * (QL_AVX512_RT, QL_VNNI_RT: qint_isa.h) and runs only if the CPU has it (ql_level, at the end), so a
 * default x86 build uses AVX-512 VNNI where it exists; not when built for size, nor on other targets
 * (the portable C99 code is all they see). Tests force a path: MQK_QL_PORTABLE (portable C),
 * MQK_QL_NO_AVX512 (SSE2/AVX2 at most), MQK_QL_NO_VNNI (AVX-512 without VNNI at most). */
#if defined(__GNUC__) && defined(__SSE2__) && !defined(__OPTIMIZE_SIZE__) && !defined(MQK_QL_PORTABLE)
#include <immintrin.h>
#define QL_SSE2 1
#if !defined(MQK_QL_NO_AVX512)
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define QL_AVX512 1
#elif defined(MQK_ISA_DISPATCH)
#define QL_AVX512 1
#define QL_AVX512_RT 1
#endif
#if defined(QL_AVX512) && !defined(MQK_QL_NO_VNNI)
#if defined(__AVX512VNNI__) && !defined(QL_AVX512_RT)
#define QL_VNNI 1
#elif defined(MQK_ISA_DISPATCH)
#define QL_VNNI 1
#define QL_VNNI_RT 1
#endif
#endif
#endif
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
    mqk_qint_geom b;
    mqk_qint_geom_setup(c, &b);
    q->c3 = b.c3;
    q->in_sp = b.in_sp, q->out_sp = b.out_sp, q->ksz = b.ksz, q->fan = b.fan, q->rowb = b.rowb;
    q->batch = b.batch, q->in_ch = b.in_ch, q->out_ch = b.out_ch, q->cg = b.cg, q->mg = b.mg;
    q->bits = b.bits, q->wmul = b.wmul, q->woff = b.woff;
    q->ks = (size_t)mqk_qint_ks((int64_t)q->fan);
    q->n_thr = y->dtype == MQR_U8 ? c->in[2].dims[1] : 0;
    q->xdt = x->dtype;
    q->wide = c->p[MQK_QL_ACC64] || x->dtype == MQR_I32;
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
        } else if (g->bits == 24) { /* the wide layers' codes: three bytes, LSB first */          \
            for (; i < g->fan; i++, row += 3)                                                      \
                w[i] = (WT##_t)(g->wmul * (int32_t)((uint32_t)row[0] | (uint32_t)row[1] << 8 | (uint32_t)row[2] << 16) - g->woff); \
        } else if (g->bits % 8 == 0) { /* 8, 16 bits: whole bytes, LSB first */                    \
            int32_t nb = g->bits / 8, b;                                                           \
            for (; i < g->fan; i++, row += nb) {                                                   \
                uint32_t v = 0;                                                                    \
                for (b = nb - 1; b >= 0; b--) v = v << 8 | row[b];                                 \
                w[i] = (WT##_t)(g->wmul * (int32_t)v - g->woff);                                   \
            }                                                                                      \
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
    uint8_t *y8;          /* codes out, else float out yf, else the accumulator y32 */
    float *yf;
    int32_t *y32;
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
    } else if (c->out[0].dtype == MQR_I32) {
        s->y32 = (int32_t *)c->out[0].data + at;
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
    } else if (s->y32) {
        s->y32[q] = (int32_t)a;
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

#if defined(QL_AVX512)
#if defined(QL_AVX512_RT)
MQK_ISA_BEGIN_AVX512
#endif
/* ---- AVX-512: 16 output positions per register --------------------------------------------------
 * The im2col tile is stored transposed, [fan / G][positions][G] (G = 4 uint8 codes, or 2 int16 values
 * of the wide first layer), so one 64-byte load holds G fan-in values of 16 consecutive positions and
 * one broadcast dword holds G weights of one channel: vpdpbusd (VNNI, uint8 x int8 -> int32, not
 * saturating) or vpmaddwd sums exactly what the portable loop sums. The thresholds are counted for 16
 * positions at once and the codes stored contiguously (positions are consecutive in [N, O, plane]).
 * The tile uses the scratch of the int16 path: positions up to 2 x its rows (qint.h). */

/* A dword from memory (weights) without an aliasing cast. */
static inline int32_t ql_ld32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The positions of a transposed tile: at most cap, the plane cut into equal tiles. */
static size_t ql_vtile(size_t out_sp, size_t cap)
{
    size_t tiles = (out_sp + cap - 1) / cap;
    return (out_sp + tiles - 1) / tiles;
}

/* The outputs o (stride s) whose input o * s + off lies in [0, n): [*lo, *hi). */
static void ql_span(int32_t off, int32_t s, int32_t n, int32_t *lo, int32_t *hi)
{
    int64_t l, h;
    if (s == 1) /* no division (once per tap and fan-in group) */
        l = off >= 0 ? 0 : -(int64_t)off, h = (int64_t)n - off;
    else
        l = off >= 0 ? 0 : ((int64_t)-off + s - 1) / s, h = n - (int64_t)off <= 0 ? 0 : ((int64_t)n - off + s - 1) / s;
    *lo = (int32_t)l;
    *hi = (int32_t)(h > l ? h : l);
}

/* The low bytes of 16 int32 lanes as 16 bytes, by two shuffles: a masked store of vpmovdb's result is
 * folded by the compiler into vpmovdb to memory, which is slow on some CPUs (AMD Zen 4). */
static inline __m128i ql_bytes32(__m512i v)
{
    const __m512i pick = _mm512_set4_epi32(-1, -1, -1, 0x0C080400), lanes = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
    return _mm512_castsi512_si128(_mm512_permutexvar_epi32(lanes, _mm512_shuffle_epi8(v, pick)));
}

/* Transposed im2col of positions [p0, p0 + np) (image n, group grp) into col[(k / G * ptv + q) * G + k %
 * G] (k < fan_in rounded up to G; zeros past fan_in and for taps outside). G = 4: uint8 x into uint8; G = 2: int16
 * x into int16. Unit stride along the last dim: each output row's run of a tap is a masked load of 16
 * consecutive inputs (the lane masks precomputed per tap when whole rows of up to 64 positions are
 * in the tile); else one value at a time. */
#define QL_VCOL(NAME, XT, G, LOADV, WIDEN)                                                             \
    static void NAME(const mqr_call *c, const ql_geom *g, int32_t n, int32_t grp, size_t p0, size_t np,  \
                     size_t ptv, XT *col)                                                              \
    {                                                                                                  \
        const mqk_conv3 *c3 = &g->c3;                                                                  \
        const XT *xg = (const XT *)c->in[0].data + ((size_t)n * (size_t)g->in_ch + (size_t)grp * (size_t)g->cg) * g->in_sp; \
        size_t OW = (size_t)c3->out[2], k0, r;                                                         \
        ptrdiff_t W = c3->in[2], HW = (ptrdiff_t)c3->in[1] * c3->in[2];                                \
        int32_t ci = 0, kd = 0, kh = 0, kw = 0, j, oh, od, ch;                                         \
        for (k0 = 0; k0 < g->fan; k0 += G) {                                                           \
            /* the G taps of this fan-in group: offset of the tap of output (0, 0, 0) from xg, the      \
             * output rows (od, oh) whose tap row is inside, lane masks of whole rows */               \
            ptrdiff_t off[G];                                                                          \
            int32_t tw[G], dlo[G], dhi[G], hlo[G], hhi[G];                                             \
            uint32_t mrow[G][4];                                                                       \
            XT *cg = col + k0 * ptv;                                                                   \
            for (j = 0; j < G; j++) {                                                                  \
                int32_t td = kd * c3->d[0] - c3->p[0], th = kh * c3->d[1] - c3->p[1];                  \
                tw[j] = kw * c3->d[2] - c3->p[2];                                                      \
                off[j] = (ptrdiff_t)ci * (ptrdiff_t)g->in_sp + td * HW + th * W + tw[j];               \
                ql_span(td, c3->s[0], c3->in[0], &dlo[j], &dhi[j]);                                    \
                ql_span(th, c3->s[1], c3->in[1], &hlo[j], &hhi[j]);                                    \
                if (k0 + (size_t)j >= g->fan) dlo[j] = dhi[j] = 0; /* past fan_in: never inside */      \
                for (ch = 0; ch < 4; ch++) {                                                           \
                    int64_t o = 16 * (int64_t)ch, s0 = o + tw[j], lo = s0 < 0 ? -s0 : 0, hi = (int64_t)c3->in[2] - s0; \
                    if (hi > (int64_t)OW - o) hi = (int64_t)OW - o;                                    \
                    if (hi > 16) hi = 16;                                                              \
                    mrow[j][ch] = lo < hi ? (uint32_t)(((1u << (hi - lo)) - 1u) << lo) : 0;            \
                }                                                                                      \
                if (k0 + (size_t)j < g->fan && ++kw == c3->k[2]) {                                     \
                    kw = 0;                                                                            \
                    if (++kh == c3->k[1]) {                                                            \
                        kh = 0;                                                                        \
                        if (++kd == c3->k[0]) kd = 0, ci++;                                            \
                    }                                                                                  \
                }                                                                                      \
            }                                                                                          \
            r = p0 / OW;                                                                               \
            oh = (int32_t)(r % (size_t)c3->out[1]), od = (int32_t)(r / (size_t)c3->out[1]);            \
            for (; r * OW < p0 + np; r++) {                                                            \
                size_t a = r * OW < p0 ? p0 - r * OW : 0, b = (r + 1) * OW > p0 + np ? p0 + np - r * OW : OW; \
                ptrdiff_t rb = (ptrdiff_t)od * c3->s[0] * HW + (ptrdiff_t)oh * c3->s[1] * W;           \
                int inside[G];                                                                         \
                _Pragma("GCC unroll 4")                                                                \
                for (j = 0; j < G; j++) inside[j] = od >= dlo[j] && od < dhi[j] && oh >= hlo[j] && oh < hhi[j]; \
                if (c3->s[2] == 1 && OW <= 64 && a == 0 && b == OW) {                                  \
                    for (ch = 0; ch < 4 && 16 * (size_t)ch < OW; ch++) {                               \
                        size_t len = OW - 16 * (size_t)ch < 16 ? OW - 16 * (size_t)ch : 16;            \
                        __m512i d = _mm512_setzero_si512();                                            \
                        _Pragma("GCC unroll 4")                                                        \
                        for (j = 0; j < G; j++)                                                        \
                            if (inside[j] && mrow[j][ch])                                              \
                                d = _mm512_or_si512(d, _mm512_slli_epi32(WIDEN(LOADV(mrow[j][ch], xg + off[j] + rb + 16 * ch)), 32 / G * j)); \
                        _mm512_mask_storeu_epi32(cg + (r * OW + 16 * (size_t)ch - p0) * G, (__mmask16)((1u << len) - 1u), d); \
                    }                                                                                  \
                } else if (c3->s[2] == 1) {                                                            \
                    size_t o;                                                                          \
                    for (o = a; o < b; o += 16) {                                                      \
                        size_t len = b - o < 16 ? b - o : 16;                                          \
                        __m512i d = _mm512_setzero_si512();                                            \
                        for (j = 0; j < G; j++) {                                                      \
                            /* lanes l < len with 0 <= o + l + tw < in: lo <= l < hi */                  \
                            int64_t s0 = (int64_t)o + tw[j], lo = s0 < 0 ? -s0 : 0, hi = (int64_t)c3->in[2] - s0; \
                            uint32_t m;                                                                \
                            if (!inside[j]) continue;                                                  \
                            if (hi > (int64_t)len) hi = (int64_t)len;                                  \
                            if (lo >= hi) continue;                                                    \
                            m = (uint32_t)(((1u << (hi - lo)) - 1u) << lo);                            \
                            d = _mm512_or_si512(d, _mm512_slli_epi32(WIDEN(LOADV(m, xg + off[j] + rb + (ptrdiff_t)o)), 32 / G * j)); \
                        }                                                                              \
                        _mm512_mask_storeu_epi32(cg + (r * OW + o - p0) * G, (__mmask16)((1u << len) - 1u), d); \
                    }                                                                                  \
                } else {                                                                               \
                    size_t o;                                                                          \
                    for (o = a; o < b; o++)                                                            \
                        for (j = 0; j < G; j++) {                                                      \
                            int64_t iw = (int64_t)o * c3->s[2] + tw[j];                                \
                            cg[(r * OW + o - p0) * G + (size_t)j] =                                    \
                                inside[j] && iw >= 0 && iw < c3->in[2] ? xg[off[j] + rb + (ptrdiff_t)o * c3->s[2]] : 0; \
                        }                                                                              \
                }                                                                                      \
                if (++oh == c3->out[1]) oh = 0, od++;                                                  \
            }                                                                                          \
        }                                                                                              \
    }
/* The same for "same" 2-D windows with unit strides (one input row per output row, out width = in
 * width): the input of tap (kh, kw) for positions p.. is x[p + th W + tw ..], 16 positions per masked
 * load whatever rows they span; the lane masks of each kernel tap are computed once per 16 positions,
 * the offset and tap of every fan-in index once per call (tables on the stack, fan_in <= QL_VCOLF_FAN),
 * so the inner loop is loads, the interleave and a store. 0 if the window is not of that kind (the
 * caller uses the general form). */
#define QL_VCOLF_FAN 2304
#define QL_VCOLF(NAME, XT, G, VT, LOADV, PACK)                                                              \
    static int NAME(const mqr_call *c, const ql_geom *g, int32_t n, int32_t grp, size_t p0, size_t np,   \
                    size_t ptv, XT *col)                                                                 \
    {                                                                                                    \
        const mqk_conv3 *c3 = &g->c3;                                                                    \
        const XT *xg = (const XT *)c->in[0].data + ((size_t)n * (size_t)g->in_ch + (size_t)grp * (size_t)g->cg) * g->in_sp; \
        ptrdiff_t W = c3->in[2], offh[16], offw[16];                                                     \
        int32_t off[QL_VCOLF_FAN + G];                                                                   \
        uint8_t tap[QL_VCOLF_FAN + G];                                                                   \
        uint16_t tmask[257];                                                                             \
        size_t q, k0, kq = (g->fan + G - 1) / G * G, ksz = (size_t)c3->k[1] * (size_t)c3->k[2];          \
        int32_t j, l, i, ci, kh, kw;                                                                     \
        if (c3->in[0] != 1 || c3->out[0] != 1 || c3->k[0] != 1 || c3->s[1] != 1 || c3->s[2] != 1 ||      \
            c3->out[2] != c3->in[2] || c3->k[1] > 16 || c3->k[2] > 16 || g->fan > QL_VCOLF_FAN ||         \
            (size_t)g->cg * g->in_sp > (size_t)INT32_MAX / 2)                                            \
            return 0;                                                                                    \
        for (i = 0; i < c3->k[1]; i++) offh[i] = (ptrdiff_t)(i * c3->d[1] - c3->p[1]) * W;               \
        for (i = 0; i < c3->k[2]; i++) offw[i] = i * c3->d[2] - c3->p[2];                                \
        for (k0 = 0, ci = 0; ci < g->cg; ci++) /* fan-in index k: channel, kernel row, column */         \
            for (kh = 0; kh < c3->k[1]; kh++)                                                            \
                for (kw = 0; kw < c3->k[2]; kw++, k0++) {                                                \
                    off[k0] = (int32_t)((ptrdiff_t)ci * (ptrdiff_t)g->in_sp + offh[kh] + offw[kw]);      \
                    tap[k0] = (uint8_t)(kh * c3->k[2] + kw);                                             \
                }                                                                                        \
        for (; k0 < kq; k0++) off[k0] = 0, tap[k0] = (uint8_t)ksz; /* past fan_in: mask 0, a zero vector */ \
        tmask[ksz] = 0;                                                                                  \
        for (q = 0; q < np; q += 16) {                                                                   \
            int32_t len = np - q < 16 ? (int32_t)(np - q) : 16, oh[16] = {0}, ow[16] = {0};              \
            uint32_t mh[16], mw[16];                                                                     \
            const XT *xq = xg + p0 + q;                                                                  \
            oh[0] = (int32_t)((p0 + q) / (size_t)W), ow[0] = (int32_t)((p0 + q) % (size_t)W);             \
            for (l = 1; l < len; l++) /* (no division per lane) */                                       \
                ow[l] = ow[l - 1] + 1 == W ? 0 : ow[l - 1] + 1, oh[l] = oh[l - 1] + (ow[l] == 0);         \
            { /* lanes whose kernel row i / column i is inside: -t <= oh < H - t */                      \
                __m512i vh = _mm512_loadu_si512((const void *)oh), vw = _mm512_loadu_si512((const void *)ow); \
                __mmask16 live = (__mmask16)((1u << len) - 1u);                                          \
                for (i = 0; i < c3->k[1]; i++) {                                                         \
                    int32_t t = i * c3->d[1] - c3->p[1];                                                 \
                    mh[i] = _mm512_mask_cmplt_epi32_mask(_mm512_mask_cmpge_epi32_mask(live, vh, _mm512_set1_epi32(-t)), vh, \
                                                         _mm512_set1_epi32(c3->in[1] - t));               \
                }                                                                                        \
                for (i = 0; i < c3->k[2]; i++)                                                           \
                    mw[i] = _mm512_mask_cmplt_epi32_mask(_mm512_mask_cmpge_epi32_mask(live, vw, _mm512_set1_epi32((int32_t)-offw[i])), \
                                                         vw, _mm512_set1_epi32((int32_t)(W - offw[i]))); \
                for (kh = 0; kh < c3->k[1]; kh++)                                                        \
                    for (kw = 0; kw < c3->k[2]; kw++) tmask[kh * c3->k[2] + kw] = (uint16_t)(mh[kh] & mw[kw]); \
            }                                                                                            \
            for (k0 = 0; k0 < kq; k0 += G) {                                                             \
                VT v[G];                                                                                 \
                __m512i d;                                                                               \
                _Pragma("GCC unroll 4")                                                                  \
                for (j = 0; j < G; j++) v[j] = LOADV(tmask[tap[k0 + (size_t)j]], xq + off[k0 + (size_t)j]); \
                d = PACK(v);                                                                             \
                if (len == 16) _mm512_storeu_si512((void *)(col + k0 * ptv + q * G), d);                 \
                else _mm512_mask_storeu_epi32(col + k0 * ptv + q * G, (__mmask16)((1u << len) - 1u), d); \
            }                                                                                            \
        }                                                                                                \
        return 1;                                                                                        \
    }
/* masked loads; the address of a masked-off lane is never accessed (it may lie before the row) */
#define QL_LD8(M, P) _mm_maskz_loadu_epi8((__mmask16)(M), (const void *)(P))
#define QL_LD16(M, P) _mm256_maskz_loadu_epi16((__mmask16)(M), (const void *)(P))
QL_VCOL(ql_vcol_i16, int16_t, 2, QL_LD16, _mm512_cvtepu16_epi32)
/* 16 positions x 2 taps interleaved: dword l = (v0[l], v1[l]) */
static inline __m512i ql_pack_i16(const __m256i *v)
{
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5,
                                         20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(idx, _mm512_inserti64x4(_mm512_castsi256_si512(v[0]), v[1], 1));
}
QL_VCOLF(ql_vcolf_i16, int16_t, 2, __m256i, QL_LD16, ql_pack_i16)

#if defined(QL_VNNI)
#if defined(QL_AVX512_RT)
MQK_ISA_END
#endif
#if defined(QL_VNNI_RT)
MQK_ISA_BEGIN_VNNI
#endif
QL_UNPACK(int8)
QL_VCOL(ql_vcol_u8, uint8_t, 4, QL_LD8, _mm512_cvtepu8_epi32)
/* 16 positions x 4 taps interleaved: dword l = (v0[l], v1[l], v2[l], v3[l]); byte and word unpacks in
 * 128-bit registers (cheaper than widening each tap to 512 bits and or-ing the shifts) */
static inline __m512i ql_pack_u8(const __m128i *v)
{
    __m128i a = _mm_unpacklo_epi8(v[0], v[1]), b = _mm_unpackhi_epi8(v[0], v[1]);
    __m128i e = _mm_unpacklo_epi8(v[2], v[3]), f = _mm_unpackhi_epi8(v[2], v[3]);
    __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi16(a, e)), _mm_unpackhi_epi16(a, e), 1);
    __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi16(b, f)), _mm_unpackhi_epi16(b, f), 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
QL_VCOLF(ql_vcolf_u8, uint8_t, 4, __m128i, QL_LD8, ql_pack_u8)

/* Codes of up to 64 positions from their accumulators acc[16 v + l] (the lanes of mask[v], v < 4): the
 * number of thresholds t (n of them) <= acc, counted in bytes (one compare per vector and threshold,
 * the four vectors' masks joined) and stored to the valid bytes of y. */
static inline void ql_vput64(const int32_t *acc, const __mmask16 *mask, const int32_t *t, int32_t n, uint8_t *y)
{
    __m512i a0 = _mm512_maskz_loadu_epi32(mask[0], (const void *)acc), a1 = _mm512_maskz_loadu_epi32(mask[1], (const void *)(acc + 16));
    __m512i a2 = _mm512_maskz_loadu_epi32(mask[2], (const void *)(acc + 32)), a3 = _mm512_maskz_loadu_epi32(mask[3], (const void *)(acc + 48));
    __m512i cnt = _mm512_setzero_si512(), m1 = _mm512_set1_epi8(-1);
    __mmask64 valid = _mm512_kunpackd(_mm512_kunpackw(mask[3], mask[2]), _mm512_kunpackw(mask[1], mask[0]));
    int32_t i;
    for (i = 0; i < n; i++) {
        __m512i tv = _mm512_set1_epi32(t[i]);
        __mmask32 lo = _mm512_kunpackw(_mm512_cmpge_epi32_mask(a1, tv), _mm512_cmpge_epi32_mask(a0, tv));
        __mmask32 hi = _mm512_kunpackw(_mm512_cmpge_epi32_mask(a3, tv), _mm512_cmpge_epi32_mask(a2, tv));
        cnt = _mm512_mask_sub_epi8(cnt, _mm512_kunpackd(hi, lo), cnt, m1);
    }
    _mm512_mask_storeu_epi8((void *)y, valid, cnt);
}

/* Row m's codes decoded to int8 (the weights of the VNNI path): 1, 2 and 4 bits 16 code bytes at a time
 * (each byte spread over the lanes of its codes, masked, then decoded by a 16-entry byte shuffle), other
 * widths by ql_unpack_int8; zeros from fan_in to ks. */
static void ql_unpack8(const ql_geom *g, const uint8_t *row, const int8_t *lut, int8_t *w)
{
    int8_t tab[16];
    size_t i = 0, step;
    int32_t c;
    if (g->bits != 1 && g->bits != 2 && g->bits != 4) {
        ql_unpack_int8(g, row, lut, w);
        return;
    }
    for (c = 0; c < 16; c++) tab[c] = (int8_t)(g->wmul * (c & ((1 << g->bits) - 1)) - g->woff);
    step = 16 * (size_t)(8 / g->bits);
    for (; i < g->fan; i += step, row += 16) { /* the last block: only the row's bytes are read, fan_in codes written */
        size_t left = g->fan - i, nb = (left * (size_t)g->bits + 7) / 8;
        __m128i b = nb >= 16 ? _mm_loadu_si128((const __m128i *)(const void *)row) : _mm_maskz_loadu_epi8((__mmask16)((1u << nb) - 1u), (const void *)row);
        __mmask64 keep = left >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << left) - 1u;
        if (g->bits == 2) {
            __m512i d = _mm512_cvtepu8_epi32(b);
            d = _mm512_or_si512(_mm512_or_si512(d, _mm512_slli_epi32(d, 6)), _mm512_or_si512(_mm512_slli_epi32(d, 12), _mm512_slli_epi32(d, 18)));
            d = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)tab)), _mm512_and_si512(d, _mm512_set1_epi8(3)));
            if (left >= 64) _mm512_storeu_si512((void *)(w + i), d); /* (full blocks unmasked) */
            else _mm512_mask_storeu_epi8((void *)(w + i), keep, d);
        } else if (g->bits == 4) {
            __m256i d = _mm256_cvtepu8_epi16(b);
            d = _mm256_and_si256(_mm256_or_si256(d, _mm256_slli_epi16(d, 4)), _mm256_set1_epi8(15));
            d = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)tab)), d);
            if (left >= 32) _mm256_storeu_si256((__m256i *)(void *)(w + i), d);
            else _mm256_mask_storeu_epi8((void *)(w + i), (__mmask32)keep, d);
        } else {
            const __m512i sel = _mm512_set1_epi64((long long)0x8040201008040201ULL);
            int h;
            for (h = 0; h < 2 && 64 * (size_t)h < left; h++) {
                size_t lh = left - 64 * (size_t)h;
                __m512i d = _mm512_cvtepu8_epi64(h ? _mm_srli_si128(b, 8) : b);
                d = _mm512_or_si512(d, _mm512_slli_epi64(d, 8));
                d = _mm512_or_si512(d, _mm512_slli_epi64(d, 16));
                d = _mm512_or_si512(d, _mm512_slli_epi64(d, 32));
                d = _mm512_mask_blend_epi8(_mm512_test_epi8_mask(d, sel), _mm512_set1_epi8(tab[0]), _mm512_set1_epi8(tab[1]));
                if (lh >= 64) _mm512_storeu_si512((void *)(w + i + 64 * (size_t)h), d);
                else _mm512_mask_storeu_epi8((void *)(w + i + 64 * (size_t)h), ((__mmask64)1 << lh) - 1u, d);
            }
        }
    }
    for (i = g->fan; i < g->ks; i++) w[i] = 0;
}

/* uint8 codes x, weights -128 <= q <= 127 (int8): the VNNI path. */
static int ql_vnni_ok(const ql_geom *g)
{
    int64_t top = (int64_t)g->wmul * (((int64_t)1 << g->bits) - 1) - g->woff;
    return g->xdt == MQR_U8 && !g->wide && top <= 127 && g->woff <= 128;
}

/* Accumulators of 4 weight rows (int8, stride ks) by NV vectors of 16 positions and, with TY, one more of
 * at most 8 positions in a 256-bit register (half the work of a full one) (tile columns q0 .., the lanes
 * of mask[v]): acc[r * 64 + 16 v + l]. Not inlined: in a function of its own the accumulators stay in
 * registers. */
#define QL_VNNI_KERNEL(NAME, NV, TY)                                                                    \
    __attribute__((noinline)) static void NAME(const int8_t *w, size_t ks, size_t kq, const uint8_t *col, size_t ptv, \
                                               size_t q0, const __mmask16 *mask, int32_t *acc)          \
    {                                                                                                   \
        __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00; \
        __m512i a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00; \
        __m256i t0 = _mm256_setzero_si256(), t1 = t0, t2 = t0, t3 = t0;                                 \
        const uint8_t *cp = col + q0 * 4;                                                               \
        const int nv = NV, ty = TY;                                                                     \
        size_t k;                                                                                       \
        for (k = 0; k < kq; k += 4, cp += ptv * 4) { /* kq: fan_in rounded up to 4 */                   \
            __m512i x0 = _mm512_setzero_si512(), x1 = x0, x2 = x0, x3 = x0, b;                          \
            __m256i xt = _mm256_setzero_si256();                                                        \
            if (nv > 0) x0 = _mm512_maskz_loadu_epi32(mask[0], cp);                                     \
            if (nv > 1) x1 = _mm512_maskz_loadu_epi32(mask[1], cp + 64);                                \
            if (nv > 2) x2 = _mm512_maskz_loadu_epi32(mask[2], cp + 128);                               \
            if (nv > 3) x3 = _mm512_maskz_loadu_epi32(mask[3], cp + 192);                               \
            if (ty) xt = _mm256_maskz_loadu_epi32((__mmask8)mask[NV], cp + 64 * NV);                    \
            QL_VNNI_ROW(w + k, a00, a01, a02, a03, t0)                                                   \
            QL_VNNI_ROW(w + ks + k, a10, a11, a12, a13, t1)                                              \
            QL_VNNI_ROW(w + 2 * ks + k, a20, a21, a22, a23, t2)                                          \
            QL_VNNI_ROW(w + 3 * ks + k, a30, a31, a32, a33, t3)                                          \
        }                                                                                               \
        QL_VNNI_ST(0, a00, a01, a02, a03, t0) QL_VNNI_ST(1, a10, a11, a12, a13, t1)                     \
        QL_VNNI_ST(2, a20, a21, a22, a23, t2) QL_VNNI_ST(3, a30, a31, a32, a33, t3)                     \
    }
#define QL_VNNI_ROW(WP, A0, A1, A2, A3, T)                                                              \
    b = _mm512_set1_epi32(ql_ld32(WP));                                                                 \
    if (nv > 0) A0 = _mm512_dpbusd_epi32(A0, x0, b);                                                    \
    if (nv > 1) A1 = _mm512_dpbusd_epi32(A1, x1, b);                                                    \
    if (nv > 2) A2 = _mm512_dpbusd_epi32(A2, x2, b);                                                    \
    if (nv > 3) A3 = _mm512_dpbusd_epi32(A3, x3, b);                                                    \
    if (ty) T = _mm256_dpbusd_epi32(T, xt, _mm512_castsi512_si256(b));
#define QL_VNNI_ST(R, A0, A1, A2, A3, T)                                                                \
    if (nv > 0) _mm512_storeu_si512((void *)(acc + (R) * 64), A0);                                      \
    if (nv > 1) _mm512_storeu_si512((void *)(acc + (R) * 64 + 16), A1);                                 \
    if (nv > 2) _mm512_storeu_si512((void *)(acc + (R) * 64 + 32), A2);                                 \
    if (nv > 3) _mm512_storeu_si512((void *)(acc + (R) * 64 + 48), A3);                                 \
    if (ty) _mm256_storeu_si256((__m256i *)(void *)(acc + (R) * 64 + 16 * nv), T);
QL_VNNI_KERNEL(ql_vnni_4x1, 1, 0)
QL_VNNI_KERNEL(ql_vnni_4x2, 2, 0)
QL_VNNI_KERNEL(ql_vnni_4x3, 3, 0)
QL_VNNI_KERNEL(ql_vnni_4x4, 4, 0)
QL_VNNI_KERNEL(ql_vnni_4x0h, 0, 1)
QL_VNNI_KERNEL(ql_vnni_4x1h, 1, 1)
QL_VNNI_KERNEL(ql_vnni_4x2h, 2, 1)
QL_VNNI_KERNEL(ql_vnni_4x3h, 3, 1)
typedef void (*ql_vnni_fn)(const int8_t *, size_t, size_t, const uint8_t *, size_t, size_t, const __mmask16 *, int32_t *);
/* [vectors - 1][last vector within 8 lanes] */
static const ql_vnni_fn ql_vnni_kernels[4][2] = {{ql_vnni_4x1, ql_vnni_4x0h}, {ql_vnni_4x2, ql_vnni_4x1h},
                                                 {ql_vnni_4x3, ql_vnni_4x2h}, {ql_vnni_4x4, ql_vnni_4x3h}};

/* The tail of a tile (its last 1 or 2 positions past whole vectors) by dot products along the fan-in
 * instead of a mostly empty position vector: x[j] the window of tail position j as kq contiguous bytes,
 * acc[r * 64 + j] = sum_k w[r][k] x[j][k] (4 rows of int8 weights, stride ks; vpdpbusd 64 taps at a
 * time, the same sums modulo 2^32 in another order). */
#define QL_TAIL_KS 2304
static void ql_vnni_tail(const int8_t *w, size_t ks, size_t kq, const uint8_t (*x)[QL_TAIL_KS], int32_t nt, int32_t *acc)
{
    __m512i s00 = _mm512_setzero_si512(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    size_t k;
    for (k = 0; k < kq; k += 64) {
        __mmask64 m = kq - k >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (kq - k)) - 1u;
        __m512i x0 = _mm512_maskz_loadu_epi8(m, (const void *)(x[0] + k)), x1 = x0, v;
        if (nt > 1) x1 = _mm512_maskz_loadu_epi8(m, (const void *)(x[1] + k));
        v = _mm512_maskz_loadu_epi8(m, (const void *)(w + k)), s00 = _mm512_dpbusd_epi32(s00, x0, v), s01 = _mm512_dpbusd_epi32(s01, x1, v);
        v = _mm512_maskz_loadu_epi8(m, (const void *)(w + ks + k)), s10 = _mm512_dpbusd_epi32(s10, x0, v), s11 = _mm512_dpbusd_epi32(s11, x1, v);
        v = _mm512_maskz_loadu_epi8(m, (const void *)(w + 2 * ks + k)), s20 = _mm512_dpbusd_epi32(s20, x0, v), s21 = _mm512_dpbusd_epi32(s21, x1, v);
        v = _mm512_maskz_loadu_epi8(m, (const void *)(w + 3 * ks + k)), s30 = _mm512_dpbusd_epi32(s30, x0, v), s31 = _mm512_dpbusd_epi32(s31, x1, v);
    }
    acc[0] = _mm512_reduce_add_epi32(s00), acc[64] = _mm512_reduce_add_epi32(s10);
    acc[128] = _mm512_reduce_add_epi32(s20), acc[192] = _mm512_reduce_add_epi32(s30);
    if (nt > 1) {
        acc[1] = _mm512_reduce_add_epi32(s01), acc[65] = _mm512_reduce_add_epi32(s11);
        acc[129] = _mm512_reduce_add_epi32(s21), acc[193] = _mm512_reduce_add_epi32(s31);
    }
}

static void ql_run_vnni(const mqr_call *c, const ql_geom *g)
{
    uint8_t xt[2][QL_TAIL_KS];
    size_t kq = (g->fan + 3) / 4 * 4;
    int8_t *lut = NULL, *wb;
    uint8_t *col;
    size_t ptv = ql_vtile(g->out_sp, (g->pt + 1) / 2 * 4), p0, q0, q;
    int32_t n, grp, m0, r, v;
    char *s = (char *)c->scratch;
    if (g->bits == 8) { /* (1, 2 and 4 bits: ql_unpack8 decodes without a table) */
        size_t per = 1, b;
        lut = (int8_t *)s;
        for (b = 0; b < 256; b++)
            for (q = 0; q < per; q++)
                lut[b * per + q] = (int8_t)(g->wmul * (int32_t)((b >> (q * (size_t)g->bits)) & ((1u << g->bits) - 1u)) - g->woff);
        s += 256 * per;
    }
    wb = (int8_t *)s;
    col = (uint8_t *)(wb + MQK_QL_MR * g->ks);
    for (n = 0; n < g->batch; n++)
        for (grp = 0; grp < c->p[MQK_QL_GROUP]; grp++)
            for (p0 = 0; p0 < g->out_sp; p0 += ptv) {
                size_t np = g->out_sp - p0 < ptv ? g->out_sp - p0 : ptv;
                /* the tail: nt positions from tq on (np % 16 of 1 or 2 and a window that fits xt) */
                size_t tq = np / 16 * 16, k;
                int32_t nt = np % 16 <= 2 && kq <= QL_TAIL_KS ? (int32_t)(np % 16) : 0;
                if (!ql_vcolf_u8(c, g, n, grp, p0, np, np, col)) ql_vcol_u8(c, g, n, grp, p0, np, np, col);
                for (v = 0; v < nt; v++)
                    for (k = 0; k < kq; k += 4) memcpy(xt[v] + k, col + (k / 4 * np + tq + (size_t)v) * 4, 4);
                for (m0 = grp * g->mg; m0 < (grp + 1) * g->mg; m0 += MQK_QL_MR) {
                    int32_t mr = (grp + 1) * g->mg - m0 < MQK_QL_MR ? (grp + 1) * g->mg - m0 : MQK_QL_MR;
                    ql_sink sk[MQK_QL_MR];
                    for (r = 0; r < MQK_QL_MR; r++) {
                        if (r >= mr) {
                            memset(wb + (size_t)r * g->ks, 0, g->ks);
                            continue;
                        }
                        ql_unpack8(g, (const uint8_t *)c->in[1].data + (size_t)(m0 + r) * g->rowb, lut, wb + (size_t)r * g->ks);
                        ql_sink_init(c, g, n, m0 + r, p0, &sk[r]);
                    }
                    for (q0 = 0; q0 < np; q0 += 64) {
                        int32_t acc[MQK_QL_MR * 64];
                        __mmask16 mask[4];
                        for (v = 0; v < 4; v++) {
                            size_t at = q0 + 16 * (size_t)v, left = at < np ? np - at : 0;
                            mask[v] = (__mmask16)(left >= 16 ? 0xFFFFu : (1u << left) - 1u);
                        }
                        for (v = 1; v < 4 && mask[v]; v++) continue; /* v vectors */
                        if (nt && q0 + 64 >= np) { /* the last vector is the tail */
                            if (v > 1) ql_vnni_kernels[v - 2][0](wb, g->ks, kq, col, np, q0, mask, acc);
                            ql_vnni_tail(wb, g->ks, kq, (const uint8_t(*)[QL_TAIL_KS])xt, nt, acc + (tq - q0));
                        } else {
                            ql_vnni_kernels[v - 1][!(mask[v - 1] & 0xFF00u)](wb, g->ks, kq, col, np, q0, mask, acc);
                        }
                        for (r = 0; r < mr; r++) {
                            if (!sk[r].y8) {
                                for (q = q0; q < np && q < q0 + 64; q++) ql_put(&sk[r], q, acc[r * 64 + (int32_t)(q - q0)]);
                                continue;
                            }
                            ql_vput64(acc + r * 64, mask, sk[r].t32, sk[r].n_thr, sk[r].y8 + q0);
                        }
                    }
                }
            }
}
#if defined(QL_VNNI_RT)
MQK_ISA_END
#endif
#if defined(QL_AVX512_RT)
MQK_ISA_BEGIN_AVX512
#endif
#endif

/* Codes of one channel of the wide split layer over a tile (np positions, col [K2][np][2]): per 16
 * positions hi = sum(whi x), lo = sum(wlo x) (int32, exact), acc = 4096 hi + lo = 4096 A + L with
 * A = hi + (lo >> 12), L = lo & 4095; against T = 4096 Th + Tl (0 <= Tl < 4096): acc >= T iff A > Th, or
 * A = Th and L >= Tl, i.e. iff A - (L < Tl ? 1 : 0) >= Th, all in int32 lanes. lo starts at -d, d = Tl of
 * the first threshold, and the thresholds become T - d: the same comparisons, the first one A >= Th (|A| < 2^31 - 1; thresholds beyond int32 Th clamp to never /
 * always). K2C: the number of weight pairs when a compile-time constant (weights kept in registers), 0
 * for any k2 <= 12. */
#define QL_WIDE_FN(NAME, K2C)                                                                          \
    __attribute__((noinline)) static void NAME(const int16_t *col, size_t np, size_t k2, const int32_t *whi,   \
                                               const int32_t *wlo, const int64_t *t, int32_t n_thr, uint8_t *y) \
    {                                                                                                  \
        const size_t kk = K2C ? K2C : k2;                                                              \
        const __m512i one = _mm512_set1_epi32(1), low = _mm512_set1_epi32(4095);                       \
        __m512i wh[12], wl[12];                                                                        \
        int32_t th[255], tl[255], i;                                                                   \
        int64_t d;                                                                                     \
        size_t q0, k;                                                                                  \
        for (k = 0; k < kk; k++) wh[k] = _mm512_set1_epi32(whi[k]), wl[k] = _mm512_set1_epi32(wlo[k]);  \
        d = (int64_t)((uint64_t)t[0] & 4095u);                                                         \
        if ((t[0] - d) / 4096 > INT32_MAX || (t[0] - d) / 4096 < INT32_MIN) d = 0;                     \
        for (i = 0; i < n_thr; i++) { /* of T - d: the first threshold's Tl is 0 (or it is clamped) */ \
            int64_t ti = t[i] < INT64_MIN + 4096 ? INT64_MIN : t[i] - d;                               \
            int64_t r = (int64_t)((uint64_t)ti & 4095u), h = (ti - r) / 4096;                           \
            th[i] = h > INT32_MAX ? INT32_MAX : h < INT32_MIN ? INT32_MIN : (int32_t)h;                \
            tl[i] = h > INT32_MAX ? 4095 : h < INT32_MIN ? 0 : (int32_t)r;                             \
        }                                                                                              \
        for (q0 = 0; q0 < np; q0 += 16) {                                                              \
            size_t left = np - q0;                                                                     \
            __mmask16 valid = (__mmask16)(left >= 16 ? 0xFFFFu : (1u << left) - 1u);                   \
            __m512i hi = _mm512_setzero_si512(), lo = _mm512_set1_epi32((int32_t)-d), cnt, a, l;       \
            const int16_t *cp = col + q0 * 2;                                                          \
            for (k = 0; k < kk; k++, cp += np * 2) {                                                   \
                __m512i x = _mm512_maskz_loadu_epi32(valid, (const void *)cp);                         \
                hi = QL_DPWSSD(hi, x, wh[k]);                                                          \
                lo = QL_DPWSSD(lo, x, wl[k]);                                                          \
            }                                                                                          \
            a = _mm512_add_epi32(hi, _mm512_srai_epi32(lo, 12));                                       \
            l = _mm512_and_si512(lo, low);                                                             \
            cnt = _mm512_maskz_mov_epi32(_mm512_cmpge_epi32_mask(a, _mm512_set1_epi32(th[0])), one); /* Tl = 0 */ \
            for (i = 1; i < n_thr; i++) { /* A - (L < Tl) >= Th */                                     \
                __m512i am = _mm512_mask_sub_epi32(a, _mm512_cmplt_epi32_mask(l, _mm512_set1_epi32(tl[i])), a, one); \
                cnt = _mm512_mask_add_epi32(cnt, _mm512_cmpge_epi32_mask(am, _mm512_set1_epi32(th[i])), cnt, one); \
            }                                                                                          \
            _mm_mask_storeu_epi8(y + q0, valid, ql_bytes32(cnt));                                      \
        }                                                                                              \
    }
#if defined(QL_VNNI) && !defined(QL_VNNI_RT) /* (dispatched: this region runs without VNNI too) */
#define QL_DPWSSD(A, X, W) _mm512_dpwssd_epi32(A, X, W)
#else
#define QL_DPWSSD(A, X, W) _mm512_add_epi32(A, _mm512_madd_epi16(X, W))
#endif
QL_WIDE_FN(ql_wide_k5, 5)
QL_WIDE_FN(ql_wide_any, 0)

/* The wide first layer (ql_split_ok) on int16 x: q = 4096 hi + lo per weight, two int32 sums per
 * position (vpmaddwd of int16 pairs, exact for ks <= 24), acc = 4096 sum(hi x) + sum(lo x) in int64. */
static void ql_run_wide16(const mqr_call *c, const ql_geom *g)
{
    int32_t *wq = (int32_t *)c->scratch, whi[12], wlo[12];
    int16_t *col = (int16_t *)(void *)(wq + g->ks);
    size_t ptv = ql_vtile(g->out_sp, (g->pt + 1) / 2 * 4), p0, q0, q, k, k2 = (g->fan + 1) / 2;
    int32_t n, grp, m;
    for (n = 0; n < g->batch; n++)
        for (grp = 0; grp < c->p[MQK_QL_GROUP]; grp++)
            for (p0 = 0; p0 < g->out_sp; p0 += ptv) {
                size_t np = g->out_sp - p0 < ptv ? g->out_sp - p0 : ptv;
                if (!ql_vcolf_i16(c, g, n, grp, p0, np, np, col)) ql_vcol_i16(c, g, n, grp, p0, np, np, col);
                for (m = grp * g->mg; m < (grp + 1) * g->mg; m++) {
                    ql_sink sk;
                    ql_unpack_int32(g, (const uint8_t *)c->in[1].data + (size_t)m * g->rowb, NULL, wq);
                    for (k = 0; k < k2; k++) {
                        int32_t l0 = (int32_t)(((uint32_t)wq[2 * k] & 0xFFFu) ^ 0x800u) - 0x800;
                        int32_t l1 = (int32_t)(((uint32_t)wq[2 * k + 1] & 0xFFFu) ^ 0x800u) - 0x800;
                        int32_t h0 = (wq[2 * k] - l0) / 4096, h1 = (wq[2 * k + 1] - l1) / 4096;
                        whi[k] = (int32_t)(((uint32_t)h0 & 0xFFFFu) | (uint32_t)h1 << 16);
                        wlo[k] = (int32_t)(((uint32_t)l0 & 0xFFFFu) | (uint32_t)l1 << 16);
                    }
                    ql_sink_init(c, g, n, m, p0, &sk);
                    if (sk.y8) {
                        if (k2 == 5) ql_wide_k5(col, np, k2, whi, wlo, sk.t64, sk.n_thr, sk.y8);
                        else ql_wide_any(col, np, k2, whi, wlo, sk.t64, sk.n_thr, sk.y8);
                        continue;
                    }
                    for (q0 = 0; q0 < np; q0 += 16) { /* float out */
                        size_t left = np - q0;
                        __mmask16 valid = (__mmask16)(left >= 16 ? 0xFFFFu : (1u << left) - 1u);
                        __m512i hi = _mm512_setzero_si512(), lo = hi, a0, a1;
                        const int16_t *cp = col + q0 * 2;
                        for (k = 0; k < k2; k++, cp += np * 2) {
                            __m512i x = _mm512_maskz_loadu_epi32(valid, (const void *)cp);
                            hi = QL_DPWSSD(hi, x, _mm512_set1_epi32(whi[k]));
                            lo = QL_DPWSSD(lo, x, _mm512_set1_epi32(wlo[k]));
                        }
                        a0 = _mm512_add_epi64(_mm512_slli_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(hi)), 12),
                                              _mm512_cvtepi32_epi64(_mm512_castsi512_si256(lo)));
                        a1 = _mm512_add_epi64(_mm512_slli_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(hi, 1)), 12),
                                              _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(lo, 1)));
                        {
                            int64_t a[16];
                            _mm512_storeu_si512((void *)a, a0);
                            _mm512_storeu_si512((void *)(a + 8), a1);
                            for (q = 0; q < left && q < 16; q++) ql_put(&sk, q0 + q, a[q]);
                        }
                    }
                }
            }
}
#if defined(QL_AVX512_RT)
MQK_ISA_END
#endif
#endif

/* The vector path this CPU runs (qint.h's MQK_QL_ISA_*): the compiled-in regions it has (asked per call,
 * no state: qint_isa.h). */
static int ql_level(void)
{
#if defined(QL_AVX512)
#if defined(QL_AVX512_RT) || defined(QL_VNNI_RT)
    int cpu = mqk_isa_cpu();
#endif
#if defined(QL_AVX512_RT)
    if (!cpu) return MQK_QL_ISA_SSE2;
#endif
#if defined(QL_VNNI_RT)
    if (cpu == MQK_ISA_VNNI) return MQK_QL_ISA_VNNI;
#elif defined(QL_VNNI)
    return MQK_QL_ISA_VNNI;
#endif
    return MQK_QL_ISA_AVX512;
#elif defined(QL_SSE2)
    return MQK_QL_ISA_SSE2;
#else
    return MQK_QL_ISA_C;
#endif
}

int mqk_qint_layer_isa(void) { return ql_level(); }

int mqk_qint_layer_vnni(const mqr_call *c)
{
#if defined(QL_VNNI)
    ql_geom g;
    if (ql_level() != MQK_QL_ISA_VNNI) return 0;
    ql_setup(c, &g);
    if (!g.out_sp || !ql_vnni_ok(&g)) return 0; /* (an empty plane: the vector tiling divides by it) */
    ql_run_vnni(c, &g);
    return 1;
#else
    (void)c;
    return 0;
#endif
}

void mqk_k_qint_layer(const mqr_call *c)
{
    ql_geom g;
#if defined(QL_AVX512)
    int isa = ql_level();
#endif
    ql_setup(c, &g);
    if (!g.out_sp) return; /* nothing to write (and the vector paths' tiling divides by the plane) */
#if defined(QL_AVX512)
#if defined(QL_VNNI)
    if (isa == MQK_QL_ISA_VNNI && ql_vnni_ok(&g)) {
        ql_run_vnni(c, &g);
        return;
    }
#endif
    if (isa >= MQK_QL_ISA_AVX512 && ql_split_ok(&g, c->p[MQK_QL_ACC64]) && g.xdt == MQR_I16) {
        ql_run_wide16(c, &g);
        return;
    }
#endif
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
 * or none (two inputs) with int32 y and acc64 0; scratch of mqk_qint_layer_scratch (qint.h). */
int mqk_c_qint_layer(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *t, *y;
    int32_t nd, g, i, bits, wmul, woff, acc64;
    int64_t C, O, fan, out_sp = 1, top;
    if (!mqk_nc_counts(c, 2, 3, 1, 1, MQK_QL_NP)) return MQR_CHECK_BAD;
    x = &c->in[0], w = &c->in[1], t = &c->in[2], y = &c->out[0];
    nd = c->p[MQK_QL_ND];
    g = c->p[MQK_QL_GROUP];
    acc64 = c->p[MQK_QL_ACC64];
    if (nd < 0 || nd > MQK_MAX_SPATIAL || g < 1 || !mqk_nc_bool(acc64)) return MQR_CHECK_BAD;
    if (x->dtype != MQR_U8 && x->dtype != MQR_I16 && x->dtype != MQR_I32) return MQR_CHECK_BAD;
    if (mqk_nc_tensor(x, 0, nd + 2, nd + 2) < 0 || mqk_nc_tensor(y, 0, nd + 2, nd + 2) < 0) return MQR_CHECK_BAD;
    if (c->n_in == 2 ? y->dtype != MQR_I32 || acc64 : y->dtype != MQR_U8 && y->dtype != MQR_F32) return MQR_CHECK_BAD;
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
    } else if (y->dtype == MQR_F32 && (mqk_nc_tensor(t, MQR_F32, 2, 2) < 0 || t->dims[0] != 2 || t->dims[1] != O)) {
        return MQR_CHECK_BAD;
    }
    return mqk_qint_layer_scratch(fan, out_sp, acc64 || x->dtype == MQR_I32, bits) <= (int64_t)scratch_bytes
               ? MQR_CHECK_OK
               : MQR_CHECK_BAD;
}
