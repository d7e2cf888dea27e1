/* conv.h: N-D (1..3 spatial dims) convolution and transposed convolution on NC[D][H]W float32 data,
 * with groups, strides, pads, dilations; plus im2col/col2im helpers for a GEMM-based host path. */
#ifndef MQK_CONV_H
#define MQK_CONV_H

#include <stddef.h>
#include <stdint.h>

#define MQK_MAX_SPATIAL 3

/* Shapes of one convolution. Conv: x is [batch, in_ch, in_size...], w is [out_ch, in_ch/group,
 * kernel...], y is [batch, out_ch, out_size...]; output position o reads input o*stride - pad_begin
 * + k*dilation. ConvTranspose: x is [batch, in_ch, in_size...], w is [in_ch, out_ch/group, kernel...],
 * y is [batch, out_ch, out_size...]; input position i writes output i*stride - pad_begin + k*dilation.
 * Entries past nd are ignored. */
typedef struct mqk_conv_params {
    int nd;
    int32_t batch, in_ch, out_ch, group;
    int32_t in_size[MQK_MAX_SPATIAL], out_size[MQK_MAX_SPATIAL], kernel[MQK_MAX_SPATIAL];
    int32_t stride[MQK_MAX_SPATIAL], pad_begin[MQK_MAX_SPATIAL], dilation[MQK_MAX_SPATIAL];
} mqk_conv_params;

/* Direct convolution. bias (out_ch values) may be NULL. */
void mqk_conv_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias, float *y);
/* Same loops on int32 values (ConvInteger after zero points are subtracted), int32 accumulation. */
void mqk_conv_i32(const mqk_conv_params *p, const int32_t *x, const int32_t *w, int32_t *y);
/* Direct transposed convolution. bias may be NULL. */
void mqk_conv_transpose_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias,
                            float *y);

/* Scratch for the GEMM path of mqk_conv_f32: bytes of one im2col matrix for one image and group,
 * (in_ch/group * prod(kernel)) rows by prod(out_size) columns. */
size_t mqk_im2col_bytes(const mqk_conv_params *p);
/* Fill col from x_img, the in_ch/group channels of one group of one image (channel stride
 * prod(in_size)); out-of-range taps are 0. Then y_group = w_group[out_ch/group x rows] * col. */
void mqk_im2col_f32(const mqk_conv_params *p, const float *x_img, float *col);

/* Scratch for the GEMM path of mqk_conv_transpose_f32: (out_ch/group * prod(kernel)) rows by
 * prod(in_size) columns. col = w_group^T * x_group, then mqk_col2im_add_f32 scatters col into the
 * out_ch/group channels of one group of y (which the caller initialized, e.g. with the bias). */
size_t mqk_col2im_bytes(const mqk_conv_params *p);
void mqk_col2im_add_f32(const mqk_conv_params *p, const float *col, float *y_img);

#endif
