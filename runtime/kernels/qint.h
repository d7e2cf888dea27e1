/* qint.h: the integer kernels of MaQD models lowered to integers (docs/INTEGER.md, passes/int_lower.c):
 * activation codes in, packed weight codes, int32 accumulation, per-channel integer thresholds out. */
#ifndef MQK_QINT_H
#define MQK_QINT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"
#include "runtime/kernels/conv_core.h"

/* Parameters of qint_layer (n_p = 17). */
enum {
    MQK_QL_ND = 0,       /* 0: dense (x [N, K], y [N, O]); 1..3: convolution with that many spatial dims */
    MQK_QL_GROUP = 1,    /* groups (convolution; 1 for dense) */
    MQK_QL_STRIDE = 2,   /* [3]: strides, entries past nd 1 */
    MQK_QL_PAD = 5,      /* [3]: pads at the start of each spatial dim (>= 0), past nd 0 */
    MQK_QL_DIL = 8,      /* [3]: dilations, past nd 1 */
    MQK_QL_KERNEL = 11,  /* [3]: kernel sizes, past nd 1 */
    MQK_QL_BITS = 14,    /* bits per stored weight code: 1..16 (int32 accumulator), 1..24 (int64) */
    MQK_QL_WMUL = 15,    /* a stored code c means the weight q = wmul * c - woff; wmul 1 or 2 */
    MQK_QL_WOFF = 16,
    MQK_QL_ACC64 = 17,   /* 0: int16 weights, int32 accumulator, int32 thresholds; 1: int32 weights,
                          * int64 accumulator and thresholds (the wide first/last layers) */
    MQK_QL_NP = 18
};

/* Kernel qint_layer: Conv / Gemm / MatMul with integer weights, fused with what follows it.
 * in[0] x: uint8 codes, int16 or int32 values, [N, C, spatial...] (rank nd + 2) or [N, K] (nd 0).
 * in[1] w: uint8 [O, row_bytes]: output channel o's fan-in codes (C/group x kernel, row-major as
 *   ONNX's weight [O, C/group, k...]) packed LSB first at `bits` each, every row starting on a byte.
 * in[2], out[0]: either thresholds int32 (int64 with acc64) [O, T] (1 <= T <= 255) and y uint8 codes:
 *   y = the number of t with acc >= thr[o][t]; or float32 [2, O] (k then b) and y float32:
 *   y = k[o] * acc + b[o]; or no in[2] (two inputs), acc64 0 and y int32: y = acc (the operand of a
 *   residual sum, qint_merge.h). acc[o] = sum_i q[o, i] * x[i] over the taps inside the input (padding
 *   contributes 0), in int32 or int64 (wrapping: the compiler proves it cannot overflow for the
 *   model's input range).
 * Thresholds are nondecreasing along t (the compiler's are): the count is found by binary search (for
 *   thresholds out of order y is still some count in 0..T).
 * Method: output positions in tiles of mqk_qint_layer_ptile() (about MQK_QL_COL_BUDGET bytes of
 *   im2col); per tile the window of every position is copied into the scratch as one row of
 *   mqk_qint_ks(fan_in) values (int16 for uint8/int16 x with int32 accumulators, else int32), weights
 *   are unpacked MQK_QL_MR output channels at a time, and each (channel, position) accumulator is the
 *   dot product of two contiguous rows: SSE2/AVX2 pmaddwd when the compiler targets them, a portable
 *   C loop otherwise, the same integers either way (the sums are exact, or wrap the same in both).
 *   On AVX-512 (F, BW, VL) CPUs (compiled for them, or chosen at run time on x86 with GCC >= 8 / clang,
 *   qint_layer.c) the tile is stored transposed instead, 16 positions
 *   per register: with VNNI the uint8-code layers whose weights fit int8 use vpdpbusd (uint8 x int8 ->
 *   int32, not saturating: the same sums), and the wide first layer (int16 x, fan_in <= 24) uses
 *   vpmaddwd / vpdpwssd on its split weights; thresholds are counted in bytes 64 positions at a time
 *   (the number of thresholds <= acc, which is the binary search's answer for nondecreasing
 *   thresholds). Tiles of up to twice the rows above, within the same scratch.
 * Scratch: mqk_qint_layer_scratch() bytes (the same for every path). */
void mqk_k_qint_layer(const mqr_call *c);
/* The AVX-512 VNNI form of qint_layer (uint8 x, decoded weights within int8, int32 accumulators) when the
 * CPU has it and the runtime is compiled for it or chooses it at run time (mqk_qint_layer_isa): 1 if it
 * ran c (scratch of mqk_qint_layer_scratch), else 0 and nothing written.
 * qint_layer_b1 hands its convolutions to it: on VNNI CPUs it is faster than the popcounts (bench/int_bits.sh). */
int mqk_qint_layer_vnni(const mqr_call *c);
/* The vector path qint_layer takes on this CPU (qint_layer.c: as compiled, or chosen at run time on x86
 * with GCC >= 8 / clang): one of MQK_QL_ISA_* (tests and benchmarks ask; the integers are the same). */
int mqk_qint_layer_isa(void);
#define MQK_QL_ISA_C 0      /* portable C */
#define MQK_QL_ISA_SSE2 1   /* SSE2 (AVX2 where compiled for it) pmaddwd */
#define MQK_QL_ISA_AVX512 2 /* AVX-512 F/BW/VL: the wide first layer on int16 x; the rest as SSE2 */
#define MQK_QL_ISA_VNNI 3   /* AVX-512 VNNI: also the uint8-code layers with int8 weights */
#define MQK_QL_COL_BUDGET 32768 /* im2col bytes aimed at per position tile (part of the scratch contract) */
#define MQK_QL_MR 4             /* output channels unpacked together */
/* The padded fan-in: rows of the im2col tile and of the unpacked weights (zeros past fan_in). */
static inline int64_t mqk_qint_ks(int64_t fan_in) { return fan_in > 0 ? (fan_in + 7) / 8 * 8 : 8; }
/* The positions of one tile: the plane cut into equal tiles of at most budget / row bytes (>= 1).
 * wide: int32 im2col values (int64 accumulators, or int32 x). */
static inline int64_t mqk_qint_layer_ptile(int64_t fan_in, int64_t out_plane, int wide)
{
    int64_t row = mqk_qint_ks(fan_in) * (wide ? 4 : 2), most = MQK_QL_COL_BUDGET / row, tiles;
    if (most < 1) most = 1;
    if (out_plane < 1) return 1;
    tiles = (out_plane + most - 1) / most;
    return (out_plane + tiles - 1) / tiles;
}
/* Scratch bytes: the byte-decoding table (int32 accumulators with 1, 2, 4 or 8 bits), the unpacked
 * weights (wide: one channel's int32 and MQK_QL_MR rows of int16), the im2col tile (an even number of rows). fan_in and out_plane <= INT32_MAX. */
static inline int64_t mqk_qint_layer_scratch(int64_t fan_in, int64_t out_plane, int wide, int bits)
{
    int64_t ks = mqk_qint_ks(fan_in), pt = mqk_qint_layer_ptile(fan_in, out_plane, wide);
    int64_t rows = (pt + 1) / 2 * 2;
    if (wide) return ks * 4 + MQK_QL_MR * ks * 2 + rows * ks * 4;
    return ((bits == 1 || bits == 2 || bits == 4 || bits == 8) ? 256 * (8 / bits) * 2 : 0) + MQK_QL_MR * ks * 2 +
           rows * ks * 2;
}
/* The window of a qint call: spatial sizes from x (in[0]) and y (out[0]) of rank nd + 2 (nd 0: one
 * position), kernel, stride, pad_begin, dilation from the parameter slices; padded to 3 dims. */
static inline void mqk_qint_window(const mqr_call *c, int32_t nd, const int32_t *kernel, const int32_t *stride,
                                   const int32_t *pad, const int32_t *dil, mqk_conv3 *g)
{
    mqk_conv_params cp;
    int32_t i;
    cp.nd = nd > 0 ? nd : 1;
    for (i = 0; i < MQK_MAX_SPATIAL; i++) {
        int sp = i < nd;
        cp.in_size[i] = sp ? c->in[0].dims[2 + i] : 1;
        cp.out_size[i] = sp ? c->out[0].dims[2 + i] : 1;
        cp.kernel[i] = kernel[i];
        cp.stride[i] = stride[i];
        cp.pad_begin[i] = pad[i];
        cp.dilation[i] = dil[i];
    }
    mqk_conv_expand(&cp, g);
}

/* The packed row length of n codes of `bits` bits. */
static inline size_t mqk_qint_row_bytes(size_t n, int bits) { return (n * (size_t)bits + 7) / 8; }

/* What a Conv / dense call of the qint_layer contract describes (its kernels share this setup): the
 * window, plane sizes, channels per group, fan-in, the code decoding. */
typedef struct mqk_qint_geom {
    mqk_conv3 c3;
    int32_t batch, in_ch, out_ch, groups, cg, mg, bits, wmul, woff;
    size_t in_sp, out_sp, ksz, fan, rowb;
} mqk_qint_geom;
static inline void mqk_qint_geom_setup(const mqr_call *c, mqk_qint_geom *q)
{
    const int32_t *p = c->p;
    int32_t i;
    mqk_qint_window(c, p[MQK_QL_ND], p + MQK_QL_KERNEL, p + MQK_QL_STRIDE, p + MQK_QL_PAD, p + MQK_QL_DIL, &q->c3);
    q->in_sp = q->out_sp = 1;
    for (i = 0; i < 3; i++) {
        q->in_sp *= (size_t)q->c3.in[i];
        q->out_sp *= (size_t)q->c3.out[i];
    }
    q->ksz = (size_t)q->c3.k[0] * (size_t)q->c3.k[1] * (size_t)q->c3.k[2];
    q->batch = c->in[0].dims[0];
    q->in_ch = c->in[0].dims[1];
    q->out_ch = c->out[0].dims[1];
    q->groups = p[MQK_QL_GROUP];
    q->cg = q->in_ch / q->groups;
    q->mg = q->out_ch / q->groups;
    q->fan = (size_t)q->cg * q->ksz;
    q->bits = p[MQK_QL_BITS];
    q->wmul = p[MQK_QL_WMUL];
    q->woff = p[MQK_QL_WOFF];
    q->rowb = mqk_qint_row_bytes(q->fan, q->bits);
}

/* Kernel qint_input_u8: x uint8 -> y int16 of the same shape, y = x * p[0] - p[1] (p[0] in 1..128,
 * the result within int16 for every x). The 8-bit input of the first layer: the model's normalization
 * becomes a fixed-point zero point (docs/INTEGER.md). */
void mqk_k_qint_input_u8(const mqr_call *c);

/* Kernel qint_maxpool_u8: MaxPool on uint8 codes (the quantizer is monotone, so max of codes = code of
 * the max). x, y [N, C, spatial...] rank nd + 2. p[0] nd (1..3), p[1..3] kernel, p[4..6] stride,
 * p[7..9] pad_begin (>= 0), p[10..12] dilation; entries past nd 1, 1, 0, 1. A window with no tap
 * inside the input gives 0. */
void mqk_k_qint_maxpool_u8(const mqr_call *c);

/* The taps k in [*lo, *hi) of [0, kernel) with 0 <= start + k * d < n (d >= 1): only those are visited,
 * so the work is bounded by the input, whatever the kernel size. */
static inline void mqk_qint_tap_span(int32_t start, int32_t d, int32_t kernel, int32_t n, int32_t *lo, int32_t *hi)
{
    int64_t l = start >= 0 ? 0 : ((int64_t)-start + d - 1) / d;
    int64_t h = n - (int64_t)start <= 0 ? 0 : ((int64_t)n - start + d - 1) / d;
    if (h > kernel) h = kernel;
    if (l > h) l = h;
    *lo = (int32_t)l;
    *hi = (int32_t)h;
}

/* The max (sum 0) or the sum (sum 1) of the taps inside the input of the window at output position
 * (od, oh, ow) over one plane xp of uint8 codes (0 for no tap). */
static inline uint32_t mqk_qint_window_fold(const uint8_t *xp, const mqk_conv3 *g, int32_t od, int32_t oh, int32_t ow,
                                            int sum)
{
    int32_t lo[3], hi[3], o[3], i, kd, kh, kw;
    uint32_t r = 0;
    o[0] = od, o[1] = oh, o[2] = ow;
    for (i = 0; i < 3; i++) mqk_qint_tap_span(o[i] * g->s[i] - g->p[i], g->d[i], g->k[i], g->in[i], &lo[i], &hi[i]);
    for (kd = lo[0]; kd < hi[0]; kd++) {
        int32_t id = od * g->s[0] - g->p[0] + kd * g->d[0];
        for (kh = lo[1]; kh < hi[1]; kh++) {
            int32_t ih = oh * g->s[1] - g->p[1] + kh * g->d[1];
            const uint8_t *xr = xp + ((size_t)id * (size_t)g->in[1] + (size_t)ih) * (size_t)g->in[2];
            for (kw = lo[2]; kw < hi[2]; kw++) {
                uint32_t v = xr[ow * g->s[2] - g->p[2] + kw * g->d[2]];
                if (sum) r += v;
                else if (v > r) r = v;
            }
        }
    }
    return r;
}

/* The load-time check of a pooling window on codes (qint_maxpool_u8, qint_winsum_u8): 13 parameters
 * p[0] nd (1..3), p[1..3] kernel, p[4..6] stride, p[7..9] pad_begin (>= 0), p[10..12] dilation (entries
 * past nd 1, 1, 0, 1), one input x uint8 and one output y of dtype ydt, both of rank nd + 2 with the same
 * N and C, and out * stride + pad + kernel * dilation <= INT32_MAX per spatial dim. */
static inline int mqk_qint_pool_ok(const mqr_call *c, int32_t ydt)
{
    const mqr_tensor *x, *y;
    int32_t nd, i;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 13)) return 0;
    x = &c->in[0], y = &c->out[0];
    nd = c->p[0];
    if (nd < 1 || nd > MQK_MAX_SPATIAL) return 0;
    if (mqk_nc_tensor(x, MQR_U8, nd + 2, nd + 2) < 0 || mqk_nc_tensor(y, ydt, nd + 2, nd + 2) < 0 ||
        x->dims[0] != y->dims[0] || x->dims[1] != y->dims[1])
        return 0;
    for (i = 0; i < MQK_MAX_SPATIAL; i++) {
        int64_t k = c->p[1 + i], s = c->p[4 + i], pb = c->p[7 + i], d = c->p[10 + i];
        if (i >= nd) {
            if (k != 1 || s != 1 || pb != 0 || d != 1) return 0;
            continue;
        }
        if (k < 1 || s < 1 || pb < 0 || d < 1) return 0;
        if (mqk_nc_add(mqk_nc_add(mqk_nc_mul(y->dims[2 + i], s), pb), mqk_nc_mul(k, d)) > INT32_MAX) return 0;
    }
    return 1;
}

/* Kernel qint_sum_u8: the sum of each [n, c] plane of uint8 codes (GlobalAveragePool without the
 * division, which goes into the next layer's scale). x [N, C, ...] rank >= 2; y int16 or int32 with
 * N * C elements ([N, C, 1, ...]); int16 only if 255 * plane <= 32767. No parameters. */
void mqk_k_qint_sum_u8(const mqr_call *c);

#endif
