/* qint_merge.h: the integer kernels that merge two tensors of a lowered MaQD model (docs/INTEGER.md,
 * passes/int_lower.c): the residual Add of two integer operands, quantized: by a table (exact) or
 * by int64 fixed-point thresholds; a Concat's inputs requantized to its common scale, by a table (codes)
 * or by a fixed-point multiply (sums). */
#ifndef MQK_QINT_MERGE_H
#define MQK_QINT_MERGE_H

#include <stdint.h>

#include "runtime/mqr_kernel.h"

/* Kernel qint_add: the quantizer of a sum of two integer tensors with per-channel coefficients,
 * compared in int64 fixed point (the common scale 2^-F of passes/int_lower.c).
 * in[0] a, in[1] b: uint8, int16 or int32, the same shape [N, O, ...] (rank >= 2);
 * in[2] int64 [O, 2 + T] (T 1..255): per channel Ka, Kb, then T thresholds thr[0..T);
 * out[0] uint8 of a's shape: y = the number of t with Ka * a + Kb * b >= thr[t], the products and the
 * sum in int64 arithmetic modulo 2^64 (the compiler proves they do not wrap). No parameters. */
void mqk_k_qint_add(const mqr_call *c);

/* Kernel qint_lut: the quantized residual sum by a table. in[0] e uint8 (a layer's threshold count),
 * in[1] y uint8 / int16 / int32 (the other operand), the same shape [N, O, ...] (rank >= 2); in[2]
 * uint8 [O, NY, NE]; p[0] lo. out[0] uint8 of e's shape: lut[o][y - lo][e], the indices clamped to
 * [0, NY) and [0, NE) (the compiler's never need it). */
void mqk_k_qint_lut(const mqr_call *c);

/* Kernel qint_requant_u8: codes to another scale by a table (a Concat's inputs at different steps).
 * in[0] x uint8 of any shape, in[1] uint8 [M] (M 1..256); out[0] uint8 of x's shape: y = lut[x], x
 * clamped to M - 1 (the compiler's codes never need it). No parameters. */
void mqk_k_qint_requant_u8(const mqr_call *c);

/* Kernel qint_rescale: integers to another scale and dtype (a Concat's inputs at different scales).
 * in[0] x uint8, int16 or int32 of any shape; in[1] int64 [2]: M, S (S clamped to 0..62); out[0] int16
 * or int32 of x's shape: y = floor((x * M + (S > 0 ? 2^(S-1) : 0)) / 2^S), the product and sum in int64
 * arithmetic modulo 2^64 (the compiler proves they do not wrap), y saturated to the output's range (the
 * compiler's never need it). For x >= 0, M = round(r 2^S): x r rounded half up at 2^-S; S = 0: y = x M.
 * No parameters. */
void mqk_k_qint_rescale(const mqr_call *c);

#endif
