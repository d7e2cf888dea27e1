/* maqd.h: kernels of the MaQD ops (domain ai.maqd) in eval mode and their numeric cores, which the
 * compiler's ops/maqd.c and passes share: LayerBatchNorm's per-channel affine map, WeightQuant (weight
 * standardization + SRC_n), ActQuant (A_m). */
#ifndef MQK_MAQD_H
#define MQK_MAQD_H

#include <stddef.h>

/* round_to_level of v for n states: nearest integer for odd n, nearest half-integer for even n; ties
 * away from zero (even n, v an integer k: k + 1/2 away from zero; v == 0 goes to +1/2). */
float mqk_maqd_round_level(float v, int n);
/* SRC_n(x; delta) = delta * clip(round_to_level(x / delta), -(n-1)/2, (n-1)/2). */
float mqk_maqd_src(float x, int n, float delta);
/* A_m(x; delta) = delta * clip(roundf(x / delta), 0, m-1). */
float mqk_maqd_actq(float x, int m, float delta);
/* y[i] = mqk_maqd_actq(x[i], m, delta) for n values, bit for bit (vectorized). y may equal x. */
void mqk_maqd_actq_f32(size_t n, const float *x, int m, float delta, float *y);
/* Weight standardization over w viewed as [outer, channels, inner]: each channel's outer * inner values
 * become (w - mean) / (std + eps), population std, computed in double. out may equal w. */
void mqk_maqd_ws_f32(size_t outer, size_t channels, size_t inner, const float *w, float eps, float *out);
/* LayerBatchNorm with given statistics: x [N, C, S] -> y[c] = a x + b, a = gamma[c] / sqrt(var + eps),
 * b = beta[c] - a mu (a, b computed in double, applied in float). y may equal x. */
void mqk_maqd_lbn_f32(size_t N, size_t C, size_t S, const float *x, const float *gamma, const float *beta,
                      double mu, double var, double eps, float *y);

/* Kernels (all float32):
 * maqd_lbn_f32 (LayerBatchNorm, training = 0): p[0] epsilon (float bits). in[0] X (N, C, ...), in[1] gamma
 *   [C], in[2] beta [C], in[3] mu_run, in[4] var_run (one value each). out[0] like X.
 * maqd_weight_quant_f32: p[0] states n, p[1] delta (float bits), p[2] eps_w (float bits), p[3] axis
 *   (normalized), p[4] standardize (0/1). in[0] W; out[0] SRC_n(WS(W)) like W.
 * maqd_act_quant_f32: p[0] states m, p[1] delta (float bits). in[0] X; out[0] A_m(X) like X.
 * Both may take in[1], a float32 value of one element: the op's learned step, already in p[1] (unread). */

#endif
