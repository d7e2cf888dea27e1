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
/* LayerBatchNorm's batch statistics of X (total values): st[0..2] = mean, biased and unbiased variance. */
void mq_maqd_lbn_batch_stats(const float *x, size_t total, double st[3]);
/* LayerBatchNorm's backward rule with plane (i, c) of X and dL/dY (S values each) handled by a reader, so a
 * fused caller can make dL/dY on the fly (train/fuse.c). sums(ctx, i, c, a, b) adds the plane's terms to the
 * four partial sums of g and of g x as mq_maqd_lbn_row_sums does (same terms, same order: bit for bit);
 * dx(ctx, i, c, p, q, r, dx) writes the plane's dX = p g + q x + r as mq_maqd_lbn_dx_row does. dX goes image
 * by image; the sums channel by channel, or with acc (8 C doubles of workspace) image by image (the same sums:
 * each channel's images in order either way). din as the op's rule (dX, dgamma, dbeta, dmu_run, dvar_run; each may
 * be NULL). */
typedef struct mq_lbn_planes {
    void (*sums)(void *ctx, size_t i, size_t c, double a[4], double b[4]);
    void (*dx)(void *ctx, size_t i, size_t c, float p, float q, float r, float *dx);
    void *ctx;
} mq_lbn_planes;
void mq_maqd_lbn_backward_planes(size_t N, size_t C, size_t S, const float *gamma, int training, double eps,
                                 double mu, double var, const mq_lbn_planes *src, double *acc, float *const *din);
/* The sums of g and of g x over a row of S values, in four partial sums (lane j takes the elements k = j mod 4,
 * the remainder lane 0), added into a[4] and b[4]. */
void mq_maqd_lbn_row_sums(size_t S, const float *restrict xp, const float *restrict gp, double *restrict a,
                          double *restrict b);
/* dp[k] = p gp[k] + q xp[k] + r for k < S. */
void mq_maqd_lbn_dx_row(size_t S, float p, float q, float r, const float *restrict gp, const float *restrict xp,
                        float *restrict dp);
/* E[(X - SRC_n(X; delta))^2] for X ~ N(0, 1) (the objective of mq_maqd_optimal_step). */
double mq_maqd_src_mse_normal(int n, double delta);

#endif
