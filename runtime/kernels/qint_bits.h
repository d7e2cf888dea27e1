/* qint_bits.h: the popcount (bit-serial) form of qint_layer for layers on input codes of a few bits:
 * windows split into bit-planes X_a, weight codes into bit-planes W_b,
 * acc = sum_a sum_b 2^(a+b) popcount(X_a & W_b) (docs/INTEGER.md). */
#ifndef MQK_QINT_BITS_H
#define MQK_QINT_BITS_H

#include "runtime/kernels/qint.h"

/* Kernel qint_layer_b1: qint_layer (qint.h: the same parameters, inputs, weight packing and output) for
 * x uint8 codes of xbits bits (0 .. 2^xbits - 1; the parameter MQK_QB_XBITS after qint_layer's, n_p
 * MQK_QB_NP), int32 accumulators (acc64 0), weight codes of bits 1..MQK_QB_MAX_BITS. The result equals
 * qint_layer's on such x, integer for integer:
 *   acc[o] = wmul * sum_a sum_b 2^(a+b) popcount(X_a & W_b[o]) - woff * sum_a 2^a popcount(X_a)
 * with X_a bit a of the window's input codes (0 for padding) and W_b[o] bit b of the channel's stored
 * codes. Codes of more than xbits bits are outside the contract (the popcounts read their low xbits
 * bits; the VNNI form below reads all of them: some output either way, no access out of bounds).
 * Method: per image and group every input row is packed into xbits bit-planes of 64-bit words (the left
 * padding as zero bits, so a window row is kw bits from bit ow * stride), positions in tiles of
 * MQK_QB_LANES are packed into im2col bit rows of mqk_qb_words(fan_in) words per plane in weight order
 * (word w of plane a of the tile's lane j at [(a * W + w) * MQK_QB_LANES + j]), each output channel's
 * packed codes are split into planes once per tile, and each accumulator is a sum of popcounts (the
 * POPCNT instruction or AVX-512 VPOPCNTDQ chosen at run time, a portable SWAR count otherwise: the same
 * integers). Thresholds, k acc + b or the int32 accumulator out as qint_layer.
 * Where qint_layer runs AVX-512 VNNI (compiled for it, or chosen at run time: qint.h) a convolution runs
 * as mqk_qint_layer_vnni instead (faster there; not with -DMQK_QB_POPCOUNT_ONLY).
 * Scratch: mqk_qint_b1_scratch() bytes. */
void mqk_k_qint_layer_b1(const mqr_call *c);
enum { MQK_QB_XBITS = MQK_QL_NP, MQK_QB_NP = MQK_QL_NP + 1 };
#define MQK_QB_MAX_BITS 4  /* wider codes: the general kernel is faster (bits popcounts per word) */
#define MQK_QB_MAX_XBITS 4 /* input bit-planes: xbits x bits popcounts per 64 taps */
#define MQK_QB_PAYS 4      /* the largest xbits x bits the compiler chooses this kernel for (mqk_qb_pays) */

/* Whether a layer on uint8 codes of xbits bits with weight codes of `bits` bits is lowered to this kernel
 * rather than qint_layer (ops/maqd_int.c): xbits x bits popcounts per 64 taps against qint_layer's 64
 * multiply-adds; at most MQK_QB_PAYS of them, the measured break-even (docs/INTEGER.md, bench/int_bits.sh). */
static inline int mqk_qb_pays(int xbits, int bits)
{
    return xbits >= 1 && xbits <= MQK_QB_MAX_XBITS && bits >= 1 && bits <= MQK_QB_MAX_BITS && xbits * bits <= MQK_QB_PAYS;
}
#define MQK_QB_LANES 8     /* positions packed side by side (one AVX-512 register of words) */
#define MQK_QB_COL_BUDGET 16384 /* bit-row bytes aimed at per position tile (part of the scratch contract) */

/* 64-bit words of a bit row of n bits (at least one). */
static inline int64_t mqk_qb_words(int64_t n) { return n > 0 ? (n + 63) / 64 : 1; }
/* Bits of one packed input row: the left padding, the row, and every bit a window reads (the right
 * padding). in, out, k, s, pad, d of the last spatial dim (all 1 / 0 for dense). */
static inline int64_t mqk_qb_row_bits(int64_t in, int64_t out, int64_t k, int64_t s, int64_t pad, int64_t d)
{
    int64_t need = (out - 1) * s + (k - 1) * d + 1;
    return pad + in > need ? pad + in : need;
}
/* Positions per tile: a multiple of MQK_QB_LANES, about MQK_QB_COL_BUDGET bytes of bit rows (xbits planes). */
static inline int64_t mqk_qb_ptile(int64_t fan_in, int64_t out_plane, int xbits)
{
    int64_t most = MQK_QB_COL_BUDGET / (mqk_qb_words(fan_in) * xbits * 8 * MQK_QB_LANES), tiles;
    if (most < 1) most = 1;
    if (out_plane < 1) out_plane = 1;
    tiles = (out_plane + most * MQK_QB_LANES - 1) / (most * MQK_QB_LANES);
    return ((out_plane + tiles - 1) / tiles + MQK_QB_LANES - 1) / MQK_QB_LANES * MQK_QB_LANES;
}
/* Scratch bytes: the packed input rows of one image and group (xbits planes of cg x rows of row_bits;
 * dense: none), the tile's bit rows (xbits planes), one channel's bit-planes, the tile's sums of x and
 * sums (int32 each); for a convolution at least qint_layer's (where qint_layer runs AVX-512 VNNI the kernel
 * runs it as mqk_qint_layer_vnni, qint.h). rows = the product of the input's spatial sizes but the last. Every
 * argument within int32, xbits 1..MQK_QB_MAX_XBITS: no overflow. */
static inline int64_t mqk_qint_b1_scratch(int64_t cg, int64_t rows, int64_t row_bits, int64_t fan_in, int64_t out_plane,
                                          int bits, int xbits, int dense)
{
    int64_t W = mqk_qb_words(fan_in), pt = mqk_qb_ptile(fan_in, out_plane, xbits), ql;
    int64_t b1 = (dense ? 0 : xbits * cg * rows * mqk_qb_words(row_bits) * 8) + pt * xbits * W * 8 + (int64_t)bits * W * 8 +
                 pt * 8;
    if (dense) return b1;
    ql = mqk_qint_layer_scratch(fan_in, out_plane, 0, bits); /* a convolution may run as qint_layer_vnni */
    return b1 > ql ? b1 : ql;
}

/* The number of thresholds t[0 .. n) (nondecreasing, n >= 1) that a reaches: a branch-free binary search
 * (for thresholds out of order the result is still some count in 0..n). */
static inline int32_t mqk_qint_count(const int32_t *t, int32_t n, int32_t a)
{
    const int32_t *b = t;
    for (; n > 1; n -= n / 2)
        if (b[n / 2] <= a) b += n / 2;
    return (int32_t)(b - t) + (*b <= a);
}

#endif
