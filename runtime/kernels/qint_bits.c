/* qint_bits.c: the integer Conv / Gemm kernel for 2-state (0/1) input codes (qint_bits.h): bit-packed
 * windows, weight bit-planes, popcount dot products (POPCNT, AVX-512 VPOPCNTDQ or portable SWAR). */
#include "runtime/kernels/qint_bits.h"

#include <string.h>

/* x86 with GCC >= 8 or clang: the popcount instructions chosen at run time by what the CPU has (each
 * function compiled for its target), unless built for size or with MQK_QB_PORTABLE (tests). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(__OPTIMIZE_SIZE__) &&               \
    !defined(MQK_QB_PORTABLE) && (defined(__clang__) || __GNUC__ >= 8)
#include <immintrin.h>
#define QB_DISPATCH 1
#endif

/* The geometry of one call: qint.h's, then the bit rows: W words per window, pt positions per tile, input
 * rows (rows per channel, rw words each). */
typedef struct qb_geom {
    mqk_qint_geom q;
    int32_t dense;
    size_t W, pt, rw, rows;
} qb_geom;

static void qb_setup(const mqr_call *c, qb_geom *g)
{
    const mqk_conv3 *c3 = &g->q.c3;
    mqk_qint_geom_setup(c, &g->q);
    g->W = (size_t)mqk_qb_words((int64_t)g->q.fan);
    g->dense = c->p[MQK_QL_ND] == 0;
    g->pt = (size_t)mqk_qb_ptile((int64_t)g->q.fan, g->dense ? (int64_t)g->q.batch : (int64_t)g->q.out_sp);
    g->rows = (size_t)c3->in[0] * (size_t)c3->in[1];
    g->rw = (size_t)mqk_qb_words(mqk_qb_row_bits(c3->in[2], c3->out[2], c3->k[2], c3->s[2], c3->p[2], c3->d[2]));
}

/* ---- popcount: the same integer on every path ------------------------------------------------------ */

/* SWAR: bit pairs, nibbles, bytes, then the byte sum by a multiply. */
static inline uint32_t qb_popcount_swar(uint64_t v)
{
    v -= (v >> 1) & 0x5555555555555555u;
    v = (v & 0x3333333333333333u) + ((v >> 2) & 0x3333333333333333u);
    v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
    return (uint32_t)((v * 0x0101010101010101u) >> 56);
}
#if defined(__GNUC__) && (defined(__POPCNT__) || defined(__aarch64__)) && !defined(MQK_QB_PORTABLE)
#define QB_POPCOUNT(V) ((uint32_t)__builtin_popcountll(V))
#else
#define QB_POPCOUNT(V) qb_popcount_swar(V)
#endif

/* ---- packing ----------------------------------------------------------------------------------------- */

/* Appends fields of up to 32 bits to a bit row whose words are MQK_QB_LANES apart. */
typedef struct qb_writer {
    uint64_t *dst, cur;
    int32_t nb;
} qb_writer;

static inline void qb_put(qb_writer *w, uint64_t v, int32_t len)
{
    w->cur |= v << w->nb;
    w->nb += len;
    if (w->nb >= 64) {
        *w->dst = w->cur;
        w->dst += MQK_QB_LANES;
        w->nb -= 64;
        w->cur = w->nb ? v >> (len - w->nb) : 0;
    }
}

/* The last word (when partial) and zero words up to `end`. */
static inline void qb_finish(qb_writer *w, const uint64_t *end)
{
    if (w->nb) {
        *w->dst = w->cur;
        w->dst += MQK_QB_LANES;
    }
    while (w->dst < end) {
        *w->dst = 0;
        w->dst += MQK_QB_LANES;
    }
}

/* len (<= 32) bits of a packed row from bit s on, the row holding every bit asked for. */
static inline uint64_t qb_bits(const uint64_t *row, size_t s, int32_t len)
{
    size_t o = s & 63;
    uint64_t v = row[s >> 6] >> o;
    if (o + (size_t)len > 64) v |= row[(s >> 6) + 1] << (64 - o);
    return v & ((((uint64_t)1) << len) - 1);
}

/* Input rows of image n, group grp: row r (channel, depth, height) at xb + r * rw, bit pad + i = code i. */
static void qb_pack_rows(const mqr_call *c, const qb_geom *g, int32_t n, int32_t grp, uint64_t *xb)
{
    const uint8_t *x = (const uint8_t *)c->in[0].data + ((size_t)n * (size_t)g->q.in_ch + (size_t)grp * (size_t)g->q.cg) * g->q.in_sp;
    size_t r, i, pad = (size_t)g->q.c3.p[2], in_w = (size_t)g->q.c3.in[2];
    memset(xb, 0, (size_t)g->q.cg * g->rows * g->rw * sizeof *xb);
    for (r = 0; r < (size_t)g->q.cg * g->rows; r++, x += in_w) {
        uint64_t *row = xb + r * g->rw;
        for (i = 0; i < in_w; i++) row[(pad + i) >> 6] |= (uint64_t)(x[i] & 1u) << ((pad + i) & 63);
    }
}

/* len (<= 32) taps of a row from tap t on, the window's first tap at bit s, taps dw bits apart. */
static inline uint64_t qb_taps(const uint64_t *row, size_t s, int32_t t, int32_t len, int32_t dw)
{
    uint64_t v = 0;
    int32_t j;
    if (dw == 1) return qb_bits(row, s + (size_t)t, len);
    for (j = 0; j < len; j++) v |= qb_bits(row, s + (size_t)(t + j) * (size_t)dw, 1) << j;
    return v;
}

/* The bit rows of positions [p0, p0 + np) into col (lane q of the tile: words at col + q % LANES +
 * q / LANES * W * LANES), windows in weight order; lanes [np, pt) are zero. pc[q]: the bits set. A
 * window of at most 32 taps per channel is gathered into one field first (the kernel rows' offsets
 * found once per position), a larger one row by row in fields of up to 32 taps. */
static void qb_im2col(const qb_geom *g, const uint64_t *xb, size_t p0, size_t np, uint64_t *col, int32_t *pc)
{
    const mqk_conv3 *c3 = &g->q.c3;
    size_t q, w, blk = g->W * MQK_QB_LANES, chan = g->rows * g->rw, none = (size_t)-1, off[32];
    int32_t ci, r, t, kw = c3->k[2], dw = c3->d[2], nr = c3->k[0] * c3->k[1], small = g->q.ksz <= 32;
    for (q = 0; q < g->pt; q++) {
        uint64_t *lane = col + q / MQK_QB_LANES * blk + q % MQK_QB_LANES;
        qb_writer wr;
        size_t p = p0 + q, s;
        int32_t ow, oh, od, bd, bh;
        uint32_t cnt = 0;
        wr.dst = lane, wr.cur = 0, wr.nb = 0;
        if (q >= np) {
            qb_finish(&wr, lane + blk);
            pc[q] = 0;
            continue;
        }
        ow = (int32_t)(p % (size_t)c3->out[2]);
        oh = (int32_t)(p / (size_t)c3->out[2] % (size_t)c3->out[1]);
        od = (int32_t)(p / ((size_t)c3->out[2] * (size_t)c3->out[1]));
        bd = od * c3->s[0] - c3->p[0], bh = oh * c3->s[1] - c3->p[1];
        s = (size_t)ow * (size_t)c3->s[2]; /* bit of the window's first tap (the row starts at -pad) */
        for (r = 0; small && r < nr; r++) { /* kernel row r = (kd, kh): its input row's offset in a channel */
            int32_t id = bd + r / c3->k[1] * c3->d[0], ih = bh + r % c3->k[1] * c3->d[1];
            off[r] = id < 0 || id >= c3->in[0] || ih < 0 || ih >= c3->in[1] ? none : ((size_t)id * (size_t)c3->in[1] + (size_t)ih) * g->rw;
        }
        if (small && g->rw == 1 && dw == 1) { /* rows of one word: a window row is one shift */
            uint64_t keep[32];
            for (r = 0; r < nr; r++) {
                keep[r] = off[r] == none ? 0 : (((uint64_t)1) << kw) - 1;
                off[r] = off[r] == none ? 0 : off[r];
            }
            for (ci = 0; ci < g->q.cg; ci++) {
                const uint64_t *base = xb + (size_t)ci * chan;
                uint64_t code = 0;
                for (r = 0; r < nr; r++) code |= ((base[off[r]] >> s) & keep[r]) << (r * kw);
                qb_put(&wr, code, (int32_t)g->q.ksz);
            }
        }
        for (ci = 0; ci < g->q.cg && !(small && g->rw == 1 && dw == 1); ci++) {
            const uint64_t *base = xb + (size_t)ci * chan;
            if (small) {
                uint64_t code = 0;
                for (r = 0; r < nr; r++)
                    if (off[r] != none) code |= qb_taps(base + off[r], s, 0, kw, dw) << (r * kw);
                qb_put(&wr, code, (int32_t)g->q.ksz);
                continue;
            }
            for (r = 0; r < nr; r++) {
                int32_t id = bd + r / c3->k[1] * c3->d[0], ih = bh + r % c3->k[1] * c3->d[1];
                int in = id >= 0 && id < c3->in[0] && ih >= 0 && ih < c3->in[1];
                const uint64_t *row = in ? base + ((size_t)id * (size_t)c3->in[1] + (size_t)ih) * g->rw : NULL;
                for (t = 0; t < kw; t += 32) {
                    int32_t len = kw - t < 32 ? kw - t : 32;
                    qb_put(&wr, row ? qb_taps(row, s, t, len, dw) : 0, len);
                }
            }
        }
        qb_finish(&wr, lane + blk);
        for (w = 0; w < g->W; w++) cnt += QB_POPCOUNT(lane[w * MQK_QB_LANES]);
        pc[q] = (int32_t)cnt;
    }
}

/* Dense: image n's K codes as the bit row of lane n % LANES (tile of images [n0, n0 + nn)). */
static void qb_dense_rows(const mqr_call *c, const qb_geom *g, int32_t n0, int32_t nn, uint64_t *col, int32_t *pc)
{
    size_t q, w, blk = g->W * MQK_QB_LANES;
    for (q = 0; q < g->pt; q++) {
        uint64_t *lane = col + q / MQK_QB_LANES * blk + q % MQK_QB_LANES;
        const uint8_t *x = (const uint8_t *)c->in[0].data + ((size_t)n0 + q) * g->q.fan;
        qb_writer wr;
        uint32_t cnt = 0;
        wr.dst = lane, wr.cur = 0, wr.nb = 0;
        if (q < (size_t)nn)
            for (w = 0; w < g->q.fan; w++) qb_put(&wr, x[w] & 1u, 1);
        qb_finish(&wr, lane + blk);
        for (w = 0; w < g->W; w++) cnt += QB_POPCOUNT(lane[w * MQK_QB_LANES]);
        pc[q] = (int32_t)cnt;
    }
}

/* Up to 8 bytes from p (n of them, LSB first) as one word: a plain load on little-endian hosts. */
static inline uint64_t qb_load(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    size_t i;
    if (n >= 8)
        return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
               (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
    for (i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The even bits of v packed into the low 32 bits (bit 2i -> bit i). */
static inline uint64_t qb_even(uint64_t v)
{
    v &= 0x5555555555555555u;
    v = (v | (v >> 1)) & 0x3333333333333333u;
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0Fu;
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FFu;
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFFu;
    return (v | (v >> 16)) & 0xFFFFFFFFu;
}

/* Channel m's stored codes as bit-planes: plane b (W words at wp + b * W) holds bit b of every code. */
static void qb_planes(const qb_geom *g, const uint8_t *row, uint64_t *wp)
{
    size_t i, b, w, nw = g->W * (size_t)g->q.bits;
    if (g->q.bits == 1) { /* the packed row is the plane */
        for (w = 0; w < g->W; w++) wp[w] = qb_load(row + w * 8, g->q.rowb - w * 8);
        return;
    }
    if (g->q.bits == 2) { /* 32 codes per 8 bytes: even bits to plane 0, odd bits to plane 1 */
        for (w = 0; w < g->W; w++) {
            size_t at = w * 16;
            uint64_t lo = qb_load(row + at, g->q.rowb - at), hi = at + 8 < g->q.rowb ? qb_load(row + at + 8, g->q.rowb - at - 8) : 0;
            wp[w] = qb_even(lo) | qb_even(hi) << 32;
            wp[g->W + w] = qb_even(lo >> 1) | qb_even(hi >> 1) << 32;
        }
        return;
    }
    memset(wp, 0, nw * sizeof *wp);
    for (i = 0; i < g->q.fan; i++) {
        size_t bit = i * (size_t)g->q.bits;
        for (b = 0; b < (size_t)g->q.bits; b++, bit++)
            if ((row[bit >> 3] >> (bit & 7)) & 1u) wp[b * g->W + (i >> 6)] |= (uint64_t)1 << (i & 63);
    }
}

/* Sums of one channel (planes wp) for the nblk blocks of MQK_QB_LANES bit rows at col: s[q] =
 * sum_b 2^b popcount(X_q & W_b) modulo 2^32, with popcount POP. */
typedef void (*qb_sums_fn)(const qb_geom *g, const uint64_t *col, size_t nblk, const uint64_t *wp, uint32_t *s);
#define QB_SUMS(NAME, ATTR, POP)                                                                   \
    static ATTR void NAME(const qb_geom *g, const uint64_t *col, size_t nblk, const uint64_t *wp, uint32_t *s) \
    {                                                                                              \
        size_t w, b, k;                                                                            \
        int32_t j;                                                                                 \
        for (k = 0; k < nblk; k++, col += g->W * MQK_QB_LANES, s += MQK_QB_LANES) {                \
            for (j = 0; j < MQK_QB_LANES; j++) s[j] = 0;                                           \
            for (b = 0; b < (size_t)g->q.bits; b++) {                                                \
                uint32_t t[MQK_QB_LANES] = {0};                                                    \
                for (w = 0; w < g->W; w++) {                                                       \
                    const uint64_t *x = col + w * MQK_QB_LANES, v = wp[b * g->W + w];               \
                    for (j = 0; j < MQK_QB_LANES; j++) t[j] += (uint32_t)POP(x[j] & v);            \
                }                                                                                  \
                for (j = 0; j < MQK_QB_LANES; j++) s[j] += t[j] << b;                              \
            }                                                                                      \
        }                                                                                          \
    }
QB_SUMS(qb_sums_c, , QB_POPCOUNT)

#if defined(QB_DISPATCH)
QB_SUMS(qb_sums_popcnt, __attribute__((target("popcnt"))), __builtin_popcountll)

#if !defined(MQK_QB_NO_AVX512)
/* AVX-512 VPOPCNTDQ: the 8 lanes of a block in one register. */
__attribute__((target("avx512f,avx512vpopcntdq")))
static void qb_sums_vpopcnt(const qb_geom *g, const uint64_t *col, size_t nblk, const uint64_t *wp, uint32_t *s)
{
    size_t w, b, k;
    for (k = 0; k < nblk; k++, col += g->W * MQK_QB_LANES, s += MQK_QB_LANES) {
        __m512i acc = _mm512_setzero_si512();
        for (b = 0; b < (size_t)g->q.bits; b++) {
            __m512i t = _mm512_setzero_si512();
            for (w = 0; w < g->W; w++) {
                __m512i x = _mm512_loadu_si512((const void *)(col + w * MQK_QB_LANES));
                t = _mm512_add_epi64(t, _mm512_popcnt_epi64(_mm512_and_si512(x, _mm512_set1_epi64((long long)wp[b * g->W + w]))));
            }
            acc = _mm512_add_epi64(acc, _mm512_sll_epi64(t, _mm_cvtsi32_si128((int)b)));
        }
        _mm256_storeu_si256((__m256i *)(void *)s, _mm512_cvtepi64_epi32(acc)); /* the low 32 bits of each */
    }
}
#endif
#endif

/* The sums function for this CPU: VPOPCNTDQ, POPCNT, else the portable one (MQK_QB_NO_AVX512: never
 * VPOPCNTDQ; tests). */
static qb_sums_fn qb_pick(void)
{
#if defined(QB_DISPATCH)
    __builtin_cpu_init();
#if !defined(MQK_QB_NO_AVX512)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) return qb_sums_vpopcnt;
#endif
    if (__builtin_cpu_supports("popcnt")) return qb_sums_popcnt;
#endif
    return qb_sums_c;
}

/* Outputs of channel m for positions [p0, p0 + np) of image n (dense: images [n, n + np), p0 0); sums:
 * the tile's sums, scratch. */
static void qb_channel(const mqr_call *c, const qb_geom *g, int32_t n, int32_t m, size_t p0, size_t np,
                       const uint64_t *col, const int32_t *pc, const uint64_t *wp, qb_sums_fn sums_fn, uint32_t *sums)
{
    size_t q, ystride = g->dense ? (size_t)g->q.out_ch : 1, at = ((size_t)n * (size_t)g->q.out_ch + (size_t)m) * g->q.out_sp + p0;
    uint32_t wmul = (uint32_t)g->q.wmul, woff = (uint32_t)g->q.woff;
    sums_fn(g, col, (np + MQK_QB_LANES - 1) / MQK_QB_LANES, wp, sums);
    if (c->out[0].dtype == MQR_U8) {
        uint8_t *y = (uint8_t *)c->out[0].data + at;
        int32_t n_thr = c->in[2].dims[1];
        const int32_t *thr = (const int32_t *)c->in[2].data + (size_t)m * (size_t)n_thr;
        for (q = 0; q < np; q++) y[q * ystride] = (uint8_t)mqk_qint_count(thr, n_thr, (int32_t)(wmul * sums[q] - woff * (uint32_t)pc[q]));
    } else if (c->out[0].dtype == MQR_I32) { /* the accumulator itself */
        int32_t *y = (int32_t *)c->out[0].data + at;
        for (q = 0; q < np; q++) y[q * ystride] = (int32_t)(wmul * sums[q] - woff * (uint32_t)pc[q]);
    } else {
        float *y = (float *)c->out[0].data + at, k = ((const float *)c->in[2].data)[m];
        float b = ((const float *)c->in[2].data)[g->q.out_ch + m];
        for (q = 0; q < np; q++) y[q * ystride] = k * (float)(int32_t)(wmul * sums[q] - woff * (uint32_t)pc[q]) + b;
    }
}

void mqk_k_qint_layer_b1(const mqr_call *c)
{
    qb_geom g;
    uint64_t *xb, *col, *wp;
    int32_t *pc, n, grp, m;
    size_t p0;
    qb_sums_fn sums_fn;
    uint32_t *sums;
#if !defined(MQK_QB_POPCOUNT_ONLY) /* (tests: the popcounts of a VNNI build) */
    if (c->p[MQK_QL_ND] != 0 && mqk_qint_layer_vnni(c)) return; /* the same integers, faster where the CPU has VNNI */
#endif
    sums_fn = qb_pick();
    qb_setup(c, &g);
    xb = (uint64_t *)c->scratch;
    col = g.dense ? xb : xb + (size_t)g.q.cg * g.rows * g.rw;
    wp = col + g.pt * g.W;
    pc = (int32_t *)(void *)(wp + (size_t)g.q.bits * g.W);
    sums = (uint32_t *)(pc + g.pt);
    if (g.dense) {
        for (n = 0; n < g.q.batch; n += (int32_t)g.pt) {
            int32_t nn = g.q.batch - n < (int32_t)g.pt ? g.q.batch - n : (int32_t)g.pt;
            qb_dense_rows(c, &g, n, nn, col, pc);
            for (m = 0; m < g.q.out_ch; m++) {
                qb_planes(&g, (const uint8_t *)c->in[1].data + (size_t)m * g.q.rowb, wp);
                qb_channel(c, &g, n, m, 0, (size_t)nn, col, pc, wp, sums_fn, sums);
            }
        }
        return;
    }
    for (n = 0; n < g.q.batch; n++)
        for (grp = 0; grp < g.q.groups; grp++) {
            qb_pack_rows(c, &g, n, grp, xb);
            for (p0 = 0; p0 < g.q.out_sp; p0 += g.pt) {
                size_t np = g.q.out_sp - p0 < g.pt ? g.q.out_sp - p0 : g.pt;
                qb_im2col(&g, xb, p0, np, col, pc);
                for (m = grp * g.q.mg; m < (grp + 1) * g.q.mg; m++) {
                    qb_planes(&g, (const uint8_t *)c->in[1].data + (size_t)m * g.q.rowb, wp);
                    qb_channel(c, &g, n, m, p0, np, col, pc, wp, sums_fn, sums);
                }
            }
        }
}

/* qint_layer_b1 (qint_bits.h): qint_layer's contract (qint.h) narrowed to uint8 x, acc64 0, bits 1..
 * MQK_QB_MAX_BITS, int32 thresholds (or the int32 accumulator out, two inputs); scratch of
 * mqk_qint_b1_scratch. */
int mqk_c_qint_layer_b1(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *t, *y;
    int32_t nd, grp, i, bits, wmul, woff;
    int64_t fan, out_sp = 1, rows = 1, row_bits = 1, top;
    if (!mqk_nc_counts(c, 2, 3, 1, 1, MQK_QL_NP)) return MQR_CHECK_BAD;
    x = &c->in[0], w = &c->in[1], t = &c->in[2], y = &c->out[0];
    nd = c->p[MQK_QL_ND];
    grp = c->p[MQK_QL_GROUP];
    if ((c->n_in == 2) != (y->dtype == MQR_I32)) return MQR_CHECK_BAD;
    if (nd < 0 || nd > MQK_MAX_SPATIAL || grp < 1 || c->p[MQK_QL_ACC64] != 0) return MQR_CHECK_BAD;
    if (mqk_nc_tensor(x, MQR_U8, nd + 2, nd + 2) < 0 || mqk_nc_tensor(y, 0, nd + 2, nd + 2) < 0) return MQR_CHECK_BAD;
    if (y->dims[0] != x->dims[0] || x->dims[1] % grp || y->dims[1] % grp || (nd == 0 && grp != 1)) return MQR_CHECK_BAD;
    fan = x->dims[1] / grp;
    for (i = 0; i < MQK_MAX_SPATIAL; i++) {
        int64_t k = c->p[MQK_QL_KERNEL + i], s = c->p[MQK_QL_STRIDE + i], pb = c->p[MQK_QL_PAD + i];
        int64_t d = c->p[MQK_QL_DIL + i], in = i < nd ? x->dims[2 + i] : 1, out = i < nd ? y->dims[2 + i] : 1;
        if (i >= nd ? (k != 1 || s != 1 || pb != 0 || d != 1) : (k < 1 || s < 1 || d < 1 || pb < 0))
            return MQR_CHECK_BAD;
        /* every tap of every window inside [-pad, row_bits - pad), all in int32 */
        if (mqk_nc_add(mqk_nc_add(in, mqk_nc_mul(out, s)), mqk_nc_add(pb, mqk_nc_mul(k + 1, d))) > INT32_MAX)
            return MQR_CHECK_BAD;
        fan = mqk_nc_mul(fan, k);
        out_sp = mqk_nc_mul(out_sp, out);
        if (i + 1 < nd) rows = mqk_nc_mul(rows, in);
        else if (i + 1 == nd) row_bits = mqk_qb_row_bits(in, out, k, s, pb, d);
    }
    if (fan > INT32_MAX || out_sp > INT32_MAX) return MQR_CHECK_BAD;
    bits = c->p[MQK_QL_BITS];
    wmul = c->p[MQK_QL_WMUL];
    woff = c->p[MQK_QL_WOFF];
    top = (int64_t)wmul * (((int64_t)1 << (bits > 0 && bits <= MQK_QB_MAX_BITS ? bits : 1)) - 1) - woff;
    if (bits < 1 || bits > MQK_QB_MAX_BITS || (wmul != 1 && wmul != 2) || woff < 0 || woff > 32767 || top > 32767)
        return MQR_CHECK_BAD;
    if (mqk_nc_tensor(w, MQR_U8, 2, 2) < 0 || w->dims[0] != y->dims[1] ||
        w->dims[1] != (int64_t)mqk_qint_row_bytes((size_t)fan, bits))
        return MQR_CHECK_BAD;
    if (y->dtype == MQR_U8) {
        if (mqk_nc_tensor(t, MQR_I32, 2, 2) < 0 || t->dims[0] != y->dims[1] || t->dims[1] < 1 || t->dims[1] > 255)
            return MQR_CHECK_BAD;
    } else if (y->dtype != MQR_I32 &&
               (y->dtype != MQR_F32 || mqk_nc_tensor(t, MQR_F32, 2, 2) < 0 || t->dims[0] != 2 || t->dims[1] != y->dims[1])) {
        return MQR_CHECK_BAD;
    }
    return mqk_qint_b1_scratch(x->dims[1] / grp, rows, row_bits, fan, nd == 0 ? x->dims[0] : out_sp, bits, nd == 0) <=
                   (int64_t)scratch_bytes
               ? MQR_CHECK_OK
               : MQR_CHECK_BAD;
}
