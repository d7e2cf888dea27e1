/* norm.h: normalization kernels on float32 data: batch (inference and training statistics),
 * instance, layer, Lp, local response normalization. */
#ifndef MQK_NORM_H
#define MQK_NORM_H

#include <stddef.h>
#include <stdint.h>

/* x, y: [batch, channels, spatial]; per channel c: y = scale*(x - mean)/sqrt(var + eps) + bias. */
void mqk_batchnorm_f32(size_t batch, size_t channels, size_t spatial, const float *x, const float *scale,
                       const float *bias, const float *mean, const float *var, float eps, float *y);
/* Per-channel batch statistics over batch and spatial: mean and population variance. */
void mqk_channel_stats_f32(size_t batch, size_t channels, size_t spatial, const float *x, float *mean,
                           float *var);

/* x, y: [batch*channels planes of `spatial` values]; per plane normalized by its own mean and
 * variance, then y = scale[c]*xn + bias[c]. */
void mqk_instancenorm_f32(size_t batch, size_t channels, size_t spatial, const float *x, const float *scale,
                          const float *bias, float eps, float *y);

/* x, y: [rows, cols]; each row normalized over its cols, y = xn*scale[j] + bias[j] (bias may be NULL).
 * mean / inv_std (rows values each) may be NULL. */
void mqk_layernorm_f32(size_t rows, size_t cols, const float *x, const float *scale, const float *bias,
                       float eps, float *y, float *mean, float *inv_std);

/* x, y: [outer, n, inner]; each vector along n divided by its L1 (p = 1) or L2 (p = 2) norm
 * (a zero vector stays 0). */
void mqk_lpnorm_f32(size_t outer, size_t n, size_t inner, int p, const float *x, float *y);

/* x, y: [batch, channels, spatial]; y = x / (bias + alpha/size * sum of x^2 over channels
 * c - floor((size-1)/2) .. c + ceil((size-1)/2)) ^ beta. */
void mqk_lrn_f32(size_t batch, size_t channels, size_t spatial, int32_t size, float alpha, float beta,
                 float bias, const float *x, float *y);

#endif
