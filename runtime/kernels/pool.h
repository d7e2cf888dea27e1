/* pool.h: N-D (1..3 spatial dims) max / average / Lp pooling and their global forms on NC[D][H]W
 * float32 data, with strides, pads, dilations, and MaxPool's flat argmax indices. */
#ifndef MQK_POOL_H
#define MQK_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"

#define MQK_POOL_MAX_SPATIAL 3

enum { MQK_POOL_MAX = 0, MQK_POOL_AVG = 1, MQK_POOL_LP = 2 };

/* Output position o of spatial dim i covers inputs o*stride - pad_begin + k*dilation, k < kernel.
 * Windows are clipped to the input. Average pooling divides by the number of taps inside the input
 * (count_include_pad = 0) or inside [-pad_begin, in_size + pad_end) (count_include_pad = 1). */
typedef struct mqk_pool_params {
    int nd;
    int32_t batch, channels;
    int32_t in_size[MQK_POOL_MAX_SPATIAL], out_size[MQK_POOL_MAX_SPATIAL], kernel[MQK_POOL_MAX_SPATIAL];
    int32_t stride[MQK_POOL_MAX_SPATIAL], pad_begin[MQK_POOL_MAX_SPATIAL], pad_end[MQK_POOL_MAX_SPATIAL];
    int32_t dilation[MQK_POOL_MAX_SPATIAL];
    int count_include_pad;
    float p; /* Lp pooling exponent */
} mqk_pool_params;

/* Kernel pool_f32 (MaxPool, AveragePool, LpPool): in[0] x [batch, channels, spatial...]; out[0] y;
 * out[1] (MaxPool only, optional) int64 indices: per output, the flat index of the max in x (over the
 * whole tensor), with the spatial part numbered first-dim-fastest when storage_order is 1; a window
 * with no valid tap gives the lowest float and index -1. Sizes come from the tensors.
 * p[0] kind (MQK_POOL_*), p[1] nd (1..3), p[2..4] kernel, p[5..7] stride, p[8..10] pad_begin,
 * p[11..13] pad_end, p[14..16] dilation (entries past nd unused), p[17] count_include_pad,
 * p[18] storage_order, p[19] Lp exponent (f32 bits). */
void mqk_k_pool_f32(const mqr_call *c);
/* Kernel maxpool_8 (MaxPool on int8 / uint8, no indices): pool_f32's parameters (p[0] MQK_POOL_MAX;
 * p[17..19] unused but in range), x and y of the same 8-bit dtype. A window with no valid tap gives 0. */
void mqk_k_maxpool_8(const mqr_call *c);
/* Kernel global_pool_f32 (GlobalMax/Average/LpPool): in[0] x [batch, channels, spatial...] (rank >= 2),
 * out[0] y [batch, channels, 1...]. p[0] kind (MQK_POOL_*), p[1] Lp exponent (f32 bits). */
void mqk_k_global_pool_f32(const mqr_call *c);

/* Kernel maxunpool_f32 (MaxUnpool): in[0] x, in[1] int64 indices (shape of x); out[0] y, zeroed then
 * y[index] = x for each element. p[0] rank, p[1] 1 if y's shape differs from the shape the indices
 * refer to, then (p[1] = 1) p[2 .. 2+rank) that shape: an index is mapped by its coordinates. Indices
 * outside it (or outside y) are skipped. */
void mqk_k_maxunpool_f32(const mqr_call *c);

/* The loops behind pool_f32; indices may be NULL; column_major: storage_order 1. */
void mqk_pool_f32(const mqk_pool_params *p, int kind, const float *x, float *y, int64_t *indices, int column_major);

#endif
