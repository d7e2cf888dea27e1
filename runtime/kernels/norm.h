/* norm.h: normalization kernels on float32 data: batch (inference and training statistics),
 * instance, layer, Lp, local response and mean-variance normalization. */
#ifndef MQK_NORM_H
#define MQK_NORM_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"

/* Kernel batchnorm_f32 (BatchNormalization): in[0] x [N, C, ...], in[1] scale, in[2] B, in[3] mean,
 * in[4] var (each [C]); out[0] y. p[0] epsilon (f32 bits), p[1] training (0: normalize with mean/var;
 * 1: with the batch statistics), p[2] momentum (f32 bits), p[3] legacy outputs (opset < 14).
 * Optional outputs (rank -1 when omitted): inference copies mean to out[1], var to out[2] (and, if
 * legacy, mean to out[3] and var to out[4]). Training writes running mean/var
 * (mean*momentum + batch*(1-momentum)) to out[1]/out[2] and the batch mean/variance to out[3]/out[4].
 * Scratch (training): 2*C floats. */
void mqk_k_batchnorm_f32(const mqr_call *c);
/* Kernel instancenorm_f32 (InstanceNormalization): in[0] x [N, C, ...], in[1] scale [C], in[2] B [C];
 * out[0] y. p[0] epsilon (f32 bits). */
void mqk_k_instancenorm_f32(const mqr_call *c);
/* Kernel layernorm_f32 (LayerNormalization): in[0] x, in[1] scale, in[2] B (optional); out[0] y,
 * out[1] mean, out[2] inv_std (optional; one value per row). Rows: dims before axis; cols: the rest.
 * p[0] axis (0..rank-1), p[1] epsilon (f32 bits), p[2] 1 if scale or B has fewer than cols values and
 * must be broadcast (numpy rules, against dims[axis..]) into scratch (2*cols floats), else 0. */
void mqk_k_layernorm_f32(const mqr_call *c);
/* Kernel lpnorm_f32 (LpNormalization): in[0] x, out[0] y; each vector along axis divided by its L1
 * or L2 norm (a zero vector stays 0). p[0] axis (0..rank-1), p[1] p (1 or 2). */
void mqk_k_lpnorm_f32(const mqr_call *c);
/* Kernel lrn_f32 (LRN): in[0] x [N, C, ...], out[0] y = x / (bias + alpha/size * sum of x^2 over
 * channels c - floor((size-1)/2) .. c + ceil((size-1)/2)) ^ beta. p[0] size, p[1] alpha, p[2] beta,
 * p[3] bias (f32 bits). */
void mqk_k_lrn_f32(const mqr_call *c);
/* Kernel mvn_f32 (MeanVarianceNormalization): in[0] x, out[0] y = (x - mean) / (std + 1e-9) over the
 * axes in the bit mask p[0]. Scratch: 2 doubles per group (product of the kept dims). */
void mqk_k_mvn_f32(const mqr_call *c);

/* The loops behind batchnorm_f32 (also used on the host): x, y: [batch, channels, spatial];
 * per channel c: y = scale*(x - mean)/sqrt(var + eps) + bias. */
void mqk_batchnorm_f32(size_t batch, size_t channels, size_t spatial, const float *x, const float *scale,
                       const float *bias, const float *mean, const float *var, float eps, float *y);
/* Per-channel batch statistics over batch and spatial: mean and population variance. */
void mqk_channel_stats_f32(size_t batch, size_t channels, size_t spatial, const float *x, float *mean,
                           float *var);

#endif
