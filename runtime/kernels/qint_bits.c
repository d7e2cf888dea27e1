/* qint_bits.c: the integer Conv / Gemm kernel for input codes of a few bits (qint_bits.h): windows and
 * weights as bit-planes, popcount dot products (POPCNT, AVX-512 VPOPCNTDQ or portable SWAR). */
#include "runtime/kernels/qint_bits.h"

#include <string.h>

/* x86 with GCC >= 8 or clang: the popcount instructions chosen at run time by what the CPU has (each
 * function compiled for its target), unless built for size or with MQK_QB_PORTABLE (tests). */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(__OPTIMIZE_SIZE__) &&               \
    !defined(MQK_QB_PORTABLE) && (defined(__clang__) || __GNUC__ >= 8)
#include <immintrin.h>
#define QB_DISPATCH 1
#endif

/* The geometry of one call: qint.h's, then the bit rows: xbits input planes, W words per window and
 * plane, pt positions per tile, input rows (rows per channel, rw words each; a plane of them: plane).
 * ilv: every input row in one word with all its planes, plane a from bit a * ps (rows of at most ps bits,
 * windows of at most ps taps per channel, at most 32, unit dilation along the row). */
typedef struct qb_geom {
    mqk_qint_geom q;
    int32_t dense, xbits, ilv, ps;
    size_t W, pt, rw, rows, plane;
} qb_geom;

static void qb_setup(const mqr_call *c, qb_geom *g)
{
    const mqk_conv3 *c3 = &g->q.c3;
    int64_t row_bits;
    mqk_qint_geom_setup(c, &g->q);
    g->W = (size_t)mqk_qb_words((int64_t)g->q.fan);
    g->dense = c->p[MQK_QL_ND] == 0;
    g->xbits = c->p[MQK_QB_XBITS];
    g->pt = (size_t)mqk_qb_ptile((int64_t)g->q.fan, g->dense ? (int64_t)g->q.batch : (int64_t)g->q.out_sp, g->xbits);
    g->rows = (size_t)c3->in[0] * (size_t)c3->in[1];
    row_bits = mqk_qb_row_bits(c3->in[2], c3->out[2], c3->k[2], c3->s[2], c3->p[2], c3->d[2]);
    g->rw = (size_t)mqk_qb_words(row_bits);
    g->plane = (size_t)g->q.cg * g->rows * g->rw;
    g->ps = 64 / g->xbits;
    g->ilv = !g->dense && c3->d[2] == 1 && g->q.ksz <= 32 && (int64_t)g->q.ksz <= g->ps && row_bits <= g->ps;
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

/* Input rows of image n, group grp: row r (channel, depth, height) of plane a at xb + a * plane + r * rw,
 * its bit pad + i = bit a of code i; ilv: all planes of row r in the word xb[r], bit a * ps + pad + i. */
static void qb_pack_rows(const mqr_call *c, const qb_geom *g, int32_t n, int32_t grp, uint64_t *xb)
{
    const uint8_t *x = (const uint8_t *)c->in[0].data + ((size_t)n * (size_t)g->q.in_ch + (size_t)grp * (size_t)g->q.cg) * g->q.in_sp;
    size_t r, i, pad = (size_t)g->q.c3.p[2], in_w = (size_t)g->q.c3.in[2];
    int32_t a;
    memset(xb, 0, (size_t)g->xbits * g->plane * sizeof *xb);
    if (g->ilv) {
        for (r = 0; r < (size_t)g->q.cg * g->rows; r++, x += in_w)
            for (a = 0; a < g->xbits; a++)
                for (i = 0; i < in_w; i++) xb[r] |= (uint64_t)((x[i] >> a) & 1u) << ((size_t)a * (size_t)g->ps + pad + i);
        return;
    }
    for (r = 0; r < (size_t)g->q.cg * g->rows; r++, x += in_w)
        for (a = 0; a < g->xbits; a++) {
            uint64_t *row = xb + (size_t)a * g->plane + r * g->rw;
            for (i = 0; i < in_w; i++) row[(pad + i) >> 6] |= (uint64_t)((x[i] >> a) & 1u) << ((pad + i) & 63);
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

/* The bit rows of the window at bit s, plane a of xb (at xb + a * plane) into the lane at dst + a * blk
 * (words MQK_QB_LANES apart, blk words per plane): the window's channels in weight order. A window of at
 * most 32 taps per channel (kernel rows at offsets off[r] in a channel, none: outside) is gathered into
 * one field first, a larger one (its first row bd, bh) row by row in fields of up to 32 taps. */
static void qb_window(const qb_geom *g, const uint64_t *xb, const size_t *off, int32_t bd, int32_t bh, size_t s,
                      uint64_t *dst, size_t blk)
{
    const mqk_conv3 *c3 = &g->q.c3;
    size_t chan = g->rows * g->rw, none = (size_t)-1;
    int32_t ci, r, t, a, kw = c3->k[2], dw = c3->d[2], nr = c3->k[0] * c3->k[1], na = g->xbits;
    qb_writer wr[MQK_QB_MAX_XBITS];
    for (a = 0; a < na; a++) wr[a].dst = dst + (size_t)a * blk, wr[a].cur = 0, wr[a].nb = 0;
    if (g->ilv) { /* rows of one word holding every plane: a window row of all planes is one shift */
        uint64_t keep[32], one = 0, field = (((uint64_t)1) << g->q.ksz) - 1;
        size_t o[32];
        for (a = 0; a < na; a++) one |= ((((uint64_t)1) << kw) - 1) << (a * g->ps);
        for (r = 0; r < nr; r++) {
            keep[r] = off[r] == none ? 0 : one;
            o[r] = off[r] == none ? 0 : off[r];
        }
        if (na == 1) { /* 0/1 codes: the writer in registers */
            qb_writer w1 = wr[0];
            for (ci = 0; ci < g->q.cg; ci++) {
                const uint64_t *base = xb + (size_t)ci * chan;
                uint64_t code = 0;
                for (r = 0; r < nr; r++) code |= ((base[o[r]] >> s) & keep[r]) << (r * kw);
                qb_put(&w1, code, (int32_t)g->q.ksz);
            }
            wr[0] = w1;
        }
        for (ci = 0; ci < g->q.cg && na > 1; ci++) {
            const uint64_t *base = xb + (size_t)ci * chan;
            uint64_t code = 0;
            for (r = 0; r < nr; r++) code |= ((base[o[r]] >> s) & keep[r]) << (r * kw);
            for (a = 0; a < na; a++) qb_put(&wr[a], (code >> (a * g->ps)) & field, (int32_t)g->q.ksz);
        }
    } else if (g->q.ksz <= 32) {
        for (ci = 0; ci < g->q.cg; ci++)
            for (a = 0; a < na; a++) {
                const uint64_t *base = xb + (size_t)a * g->plane + (size_t)ci * chan;
                uint64_t code = 0;
                for (r = 0; r < nr; r++)
                    if (off[r] != none) code |= qb_taps(base + off[r], s, 0, kw, dw) << (r * kw);
                qb_put(&wr[a], code, (int32_t)g->q.ksz);
            }
    } else {
        for (ci = 0; ci < g->q.cg; ci++)
            for (r = 0; r < nr; r++) {
                int32_t id = bd + r / c3->k[1] * c3->d[0], ih = bh + r % c3->k[1] * c3->d[1];
                int in = id >= 0 && id < c3->in[0] && ih >= 0 && ih < c3->in[1];
                size_t at = (size_t)ci * chan + ((size_t)id * (size_t)c3->in[1] + (size_t)ih) * g->rw;
                for (a = 0; a < na; a++)
                    for (t = 0; t < kw; t += 32) {
                        int32_t len = kw - t < 32 ? kw - t : 32;
                        qb_put(&wr[a], in ? qb_taps(xb + (size_t)a * g->plane + at, s, t, len, dw) : 0, len);
                    }
            }
    }
    for (a = 0; a < na; a++) qb_finish(&wr[a], dst + (size_t)(a + 1) * blk);
}

/* The bit rows of positions [p0, p0 + np) into col (plane a of lane q of the tile: words at
 * col + q % LANES + (q / LANES * xbits + a) * W * LANES), lanes [np, pt) zero. pc[q]: the sum of the
 * window's codes, sum_a 2^a popcount(X_a). */
static void qb_im2col(const qb_geom *g, const uint64_t *xb, size_t p0, size_t np, uint64_t *col, int32_t *pc)
{
    const mqk_conv3 *c3 = &g->q.c3;
    size_t q, w, blk = g->W * MQK_QB_LANES, none = (size_t)-1, off[32];
    int32_t a, r, nr = g->q.ksz <= 32 ? c3->k[0] * c3->k[1] : 0; /* larger windows: qb_window finds its rows */
    for (q = 0; q < g->pt; q++) {
        uint64_t *lane = col + q / MQK_QB_LANES * blk * (size_t)g->xbits + q % MQK_QB_LANES;
        size_t p = p0 + q, s;
        int32_t ow, oh, od, bd, bh;
        uint32_t cnt = 0;
        if (q >= np) {
            for (w = 0; w < (size_t)g->xbits * g->W; w++) lane[w * MQK_QB_LANES] = 0;
            pc[q] = 0;
            continue;
        }
        ow = (int32_t)(p % (size_t)c3->out[2]);
        oh = (int32_t)(p / (size_t)c3->out[2] % (size_t)c3->out[1]);
        od = (int32_t)(p / ((size_t)c3->out[2] * (size_t)c3->out[1]));
        bd = od * c3->s[0] - c3->p[0], bh = oh * c3->s[1] - c3->p[1];
        s = (size_t)ow * (size_t)c3->s[2]; /* bit of the window's first tap (the row starts at -pad) */
        for (r = 0; r < nr; r++) { /* kernel row r = (kd, kh): its input row's offset in a channel */
            int32_t id = bd + r / c3->k[1] * c3->d[0], ih = bh + r % c3->k[1] * c3->d[1];
            off[r] = id < 0 || id >= c3->in[0] || ih < 0 || ih >= c3->in[1] ? none : ((size_t)id * (size_t)c3->in[1] + (size_t)ih) * g->rw;
        }
        qb_window(g, xb, off, bd, bh, s, lane, blk);
        for (a = 0; a < g->xbits; a++) {
            uint32_t pa = 0;
            for (w = 0; w < g->W; w++) pa += QB_POPCOUNT(lane[((size_t)a * g->W + w) * MQK_QB_LANES]);
            cnt += pa << a;
        }
        pc[q] = (int32_t)cnt;
    }
}

/* Dense: image n's K codes as the bit rows (xbits planes) of lane n % LANES (tile of images [n0, n0 + nn)). */
static void qb_dense_rows(const mqr_call *c, const qb_geom *g, int32_t n0, int32_t nn, uint64_t *col, int32_t *pc)
{
    size_t q, w, blk = g->W * MQK_QB_LANES;
    int32_t a;
    for (q = 0; q < g->pt; q++) {
        uint64_t *lane = col + q / MQK_QB_LANES * blk * (size_t)g->xbits + q % MQK_QB_LANES;
        const uint8_t *x = (const uint8_t *)c->in[0].data + ((size_t)n0 + q) * g->q.fan;
        uint32_t cnt = 0;
        for (a = 0; a < g->xbits; a++) {
            uint64_t *pl = lane + (size_t)a * blk;
            uint32_t pa = 0;
            qb_writer wr;
            wr.dst = pl, wr.cur = 0, wr.nb = 0;
            if (q < (size_t)nn)
                for (w = 0; w < g->q.fan; w++) qb_put(&wr, (x[w] >> a) & 1u, 1);
            qb_finish(&wr, pl + blk);
            for (w = 0; w < g->W; w++) pa += QB_POPCOUNT(pl[w * MQK_QB_LANES]);
            cnt += pa << a;
        }
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

/* Bit 0 of every nibble of v packed into the low 16 bits (bit 4i -> bit i). */
static inline uint64_t qb_nib0(uint64_t v)
{
    v &= 0x1111111111111111u;
    v = (v | (v >> 3)) & 0x0303030303030303u;
    v = (v | (v >> 6)) & 0x000F000F000F000Fu;
    v = (v | (v >> 12)) & 0x000000FF000000FFu;
    return (v | (v >> 24)) & 0xFFFFu;
}

/* 16 codes of 3 bits (the low 48 bits of v) spread to one per nibble (code i at bit 4i). */
static inline uint64_t qb_spread3(uint64_t v)
{
    v = (v & 0xFFFFFFu) | (v & 0xFFFFFF000000u) << 8;                               /* 8 codes per 32 bits */
    v = (v & 0x00000FFF00000FFFu) | (v & 0x00FFF00000FFF000u) << 4;                 /* 4 per 16 */
    v = (v & 0x003F003F003F003Fu) | (v & 0x0FC00FC00FC00FC0u) << 2;                 /* 2 per 8 */
    return (v & 0x0707070707070707u) | (v & 0x3838383838383838u) << 1;              /* 1 per 4 */
}

/* Channel m's stored codes as bit-planes: plane b (W words at wp + b * W) holds bit b of every code (bits
 * past fan_in: whatever the row's last byte holds; the window's bits there are 0). */
static void qb_planes(const qb_geom *g, const uint8_t *row, uint64_t *wp)
{
    size_t i, b, w, nw = g->W * (size_t)g->q.bits, bb = (size_t)g->q.bits * 2; /* bytes per 16 codes */
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
    /* 3 or 4 bits (MQK_QB_MAX_BITS): 16 codes at a time as one code per nibble, every fourth bit per plane */
    memset(wp, 0, nw * sizeof *wp);
    for (i = 0; i * bb < g->q.rowb; i++) {
        uint64_t v = qb_load(row + i * bb, g->q.rowb - i * bb < bb ? g->q.rowb - i * bb : bb);
        if (g->q.bits == 3) v = qb_spread3(v & 0xFFFFFFFFFFFFu);
        for (b = 0; b < (size_t)g->q.bits; b++) wp[b * g->W + i / 4] |= qb_nib0(v >> b) << (i % 4 * 16);
    }
}

/* Sums of one channel (planes wp) for the nblk blocks of MQK_QB_LANES bit rows (xbits planes each) at
 * col: s[q] = sum_a sum_b 2^(a+b) popcount(X_q,a & W_b) modulo 2^32, with popcount POP. */
typedef void (*qb_sums_fn)(const qb_geom *g, const uint64_t *col, size_t nblk, const uint64_t *wp, uint32_t *s);
#define QB_SUMS(NAME, ATTR, POP)                                                                   \
    static ATTR void NAME(const qb_geom *g, const uint64_t *col, size_t nblk, const uint64_t *wp, uint32_t *s) \
    {                                                                                              \
        size_t w, b, k, a;                                                                         \
        int32_t j;                                                                                 \
        for (k = 0; k < nblk; k++, s += MQK_QB_LANES) {                                            \
            for (j = 0; j < MQK_QB_LANES; j++) s[j] = 0;                                           \
            for (a = 0; a < (size_t)g->xbits; a++, col += g->W * MQK_QB_LANES)                     \
                for (b = 0; b < (size_t)g->q.bits; b++) {                                          \
                    uint32_t t[MQK_QB_LANES] = {0};                                                \
                    for (w = 0; w < g->W; w++) {                                                   \
                        const uint64_t *x = col + w * MQK_QB_LANES, v = wp[b * g->W + w];          \
                        for (j = 0; j < MQK_QB_LANES; j++) t[j] += (uint32_t)POP(x[j] & v);        \
                    }                                                                              \
                    for (j = 0; j < MQK_QB_LANES; j++) s[j] += t[j] << (a + b);                    \
                }                                                                                  \
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
    size_t w, b, k, a;
    for (k = 0; k < nblk; k++, s += MQK_QB_LANES) {
        __m512i acc = _mm512_setzero_si512();
        for (a = 0; a < (size_t)g->xbits; a++, col += g->W * MQK_QB_LANES)
            for (b = 0; b < (size_t)g->q.bits; b++) {
                __m512i t = _mm512_setzero_si512();
                for (w = 0; w < g->W; w++) {
                    __m512i x = _mm512_loadu_si512((const void *)(col + w * MQK_QB_LANES));
                    t = _mm512_add_epi64(t, _mm512_popcnt_epi64(_mm512_and_si512(x, _mm512_set1_epi64((long long)wp[b * g->W + w]))));
                }
                acc = _mm512_add_epi64(acc, _mm512_sll_epi64(t, _mm_cvtsi32_si128((int)(a + b))));
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
    col = g.dense ? xb : xb + (size_t)g.xbits * g.plane;
    wp = col + g.pt * (size_t)g.xbits * g.W;
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
 * MQK_QB_MAX_BITS, int32 thresholds (or the int32 accumulator out, two inputs), plus xbits 1..
 * MQK_QB_MAX_XBITS; scratch of mqk_qint_b1_scratch. */
int mqk_c_qint_layer_b1(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *t, *y;
    int32_t nd, grp, i, bits, wmul, woff, xbits;
    int64_t fan, out_sp = 1, rows = 1, row_bits = 1, top;
    if (!mqk_nc_counts(c, 2, 3, 1, 1, MQK_QB_NP)) return MQR_CHECK_BAD;
    x = &c->in[0], w = &c->in[1], t = &c->in[2], y = &c->out[0];
    nd = c->p[MQK_QL_ND];
    grp = c->p[MQK_QL_GROUP];
    xbits = c->p[MQK_QB_XBITS];
    if ((c->n_in == 2) != (y->dtype == MQR_I32)) return MQR_CHECK_BAD;
    if (nd < 0 || nd > MQK_MAX_SPATIAL || grp < 1 || c->p[MQK_QL_ACC64] != 0 || xbits < 1 || xbits > MQK_QB_MAX_XBITS)
        return MQR_CHECK_BAD;
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
    return mqk_qint_b1_scratch(x->dims[1] / grp, rows, row_bits, fan, nd == 0 ? x->dims[0] : out_sp, bits, xbits, nd == 0) <=
                   (int64_t)scratch_bytes
               ? MQR_CHECK_OK
               : MQR_CHECK_BAD;
}
