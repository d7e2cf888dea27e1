/* maqd.h: the numeric functions of the MaQD ops (../shared/MAQD.md): scaled round-clip, the activation
 * quantizer, weight standardization (wrappers of runtime/kernels/maqd.h) and the MSE-optimal step. */
#ifndef MQ_OPS_MAQD_H
#define MQ_OPS_MAQD_H

#include "core/op.h"

#include <stddef.h>

#define MQ_MAQD_DOMAIN "ai.maqd"
#define MQ_MAQD_MIN_STATES 2
#define MQ_MAQD_MAX_STATES 256

/* round_to_level (MAQD.md section 2) of v for n states, without the clip: the nearest integer for odd
 * n, the nearest half-integer for even n; ties away from zero. The one tie with no "away from zero"
 * (even n, v == 0, equally far from -1/2 and +1/2) goes to +1/2 (our choice, also for -0.0). */
float mq_maqd_round_level(float v, int n);
/* SRC_n(x; delta) = delta * clip(round_to_level(x / delta), -(n-1)/2, (n-1)/2). */
float mq_maqd_src(float x, int n, float delta);
/* A_m(x; delta) = delta * clip(round(x / delta), 0, m-1), round as C's roundf (ties away from zero). */
float mq_maqd_actq(float x, int m, float delta);

/* Weight standardization over a weight viewed as [outer, channels, inner], output channel axis in the
 * middle (axis 0 of a Conv weight: outer = 1; axis 1 of a MatMul [K, N] weight: inner = 1). Each
 * channel's fan-in (outer * inner values) becomes (w - mean) / (std + eps), std the population
 * (biased) standard deviation, computed in double. out may equal w. */
void mq_maqd_ws_f32(size_t outer, size_t channels, size_t inner, const float *w, float eps, float *out);

/* The step delta minimizing E[(X - Q(X))^2] for X ~ N(0, 1) and Q the nearest of n uniform levels
 * delta * {-(n-1)/2, ..., (n-1)/2} (the SRC_n quantizer). The error is evaluated exactly (closed form
 * in the normal density and distribution), minimized by a log-grid scan then golden-section search,
 * and cached per n. Returns 0 for n outside 2..256. */
double mq_maqd_optimal_step(int n);
/* Mean and sum of squared deviations of n values, in double (two passes, eight partial sums each: the
 * order is fixed, so results are reproducible). LayerBatchNorm's batch statistics (forward, backward and
 * the trainer's running statistics all use this). */
void mq_maqd_stats(const float *x, size_t n, double *mean, double *ssd);
/* LayerBatchNorm's forward and backward rule with the batch statistics kept in between (what PyTorch's
 * batch norm saves for its backward): in training mode the forward writes saved[0..2] = mean, biased and
 * unbiased variance of X over all its elements (mq_maqd_stats), and the backward takes them instead of
 * recomputing them from X (saved NULL: recompute, as the op's own backward). Eval mode ignores saved. The
 * trainer uses them to read X once per step instead of three times; results are the same bit for bit. */
mq_status mq_maqd_lbn_forward_saved(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                    double saved[3], mq_err *err);
mq_status mq_maqd_lbn_backward_saved(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                     const float *const *dout, float *const *din, const double saved[3], mq_err *err);
/* E[(X - SRC_n(X; delta))^2] for X ~ N(0, 1) (the objective of mq_maqd_optimal_step). */
double mq_maqd_src_mse_normal(int n, double delta);

#endif
