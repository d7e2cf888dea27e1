/* pool.h: N-D (1..3 spatial dims) max / average / Lp pooling and their global forms on NC[D][H]W
 * float32 data, with strides, pads, dilations, and MaxPool's flat argmax indices. */
#ifndef MQK_POOL_H
#define MQK_POOL_H

#include <stddef.h>
#include <stdint.h>

#define MQK_POOL_MAX_SPATIAL 3

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

/* indices may be NULL; otherwise it receives, per output, the flat index of the max in x (over the
 * whole [batch, channels, spatial] tensor); column_major (storage_order 1) numbers the spatial part
 * with the first spatial dim fastest. A window with no valid tap gives the lowest float and index -1. */
void mqk_maxpool_f32(const mqk_pool_params *p, const float *x, float *y, int64_t *indices, int column_major);
void mqk_avgpool_f32(const mqk_pool_params *p, const float *x, float *y);
/* (sum |x|^p)^(1/p) over the window (pads count as 0). */
void mqk_lppool_f32(const mqk_pool_params *p, const float *x, float *y);

/* Global pools over `spatial` contiguous values per (image, channel); planes = batch * channels. */
void mqk_global_avgpool_f32(size_t planes, size_t spatial, const float *x, float *y);
void mqk_global_maxpool_f32(size_t planes, size_t spatial, const float *x, float *y);
void mqk_global_lppool_f32(size_t planes, size_t spatial, float p, const float *x, float *y);

#endif
