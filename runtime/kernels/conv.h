/* conv.h: N-D (1..3 spatial dims) convolution and transposed convolution kernels on NC[D][H]W float32
 * data, with groups, strides, pads, dilations (direct, and im2col + blocked GEMM); geometry in conv_core.h. */
#ifndef MQK_CONV_H
#define MQK_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/kernels/conv_core.h"

/* Methods of the conv_f32 kernel (p[11]). */
enum {
    MQK_CONV_DIRECT = 0,    /* per output channel, per input channel and tap: strided row updates */
    MQK_CONV_IM2COL = 1,    /* im2col of p[12] output rows at a time (scratch), then blocked GEMM */
    MQK_CONV_POINTWISE = 2  /* 1x1 kernel, stride 1, no pads: the input itself is the GEMM operand */
};

/* Kernel conv_f32 (ONNX Conv): in[0] x, in[1] w, in[2] bias [out_ch] (optional); out[0] y. Sizes come
 * from the tensors. p[0] nd (1..3), p[1] group, p[2..4] stride, p[5..7] pad_begin, p[8..10] dilation
 * (entries past nd unused), p[11] method (MQK_CONV_*), p[12] output rows (prod of out_size but the
 * last) per im2col tile (method MQK_CONV_IM2COL); optional p[13] 1: a fused Clip with p[14] min and
 * p[15] max (f32 bits; Relu is 0, +inf), applied as the clip_f32 kernel does (backend/fuse.h sets it).
 * Scratch: mqk_conv_scratch_bytes.
 * The tile is chosen when the model is lowered (ops/nn_conv.c): about MAQD_CONV_TILE_BYTES (default
 * 512 KiB) of scratch per tile, but at least MAQD_CONV_TILE_MIN_COLS (default 128) output positions
 * (so the GEMM is wide enough for the register tile) and at least one output row. For microcontrollers
 * with little RAM, build maqdc with e.g. -DMAQD_CONV_TILE_BYTES=16384 -DMAQD_CONV_TILE_MIN_COLS=1 to
 * shrink the arena (the result does not depend on the tile). */
void mqk_k_conv_f32(const mqr_call *c);
/* Kernel conv_transpose_f32 (ONNX ConvTranspose): in[0] x, in[1] w, in[2] bias (optional); out[0] y.
 * p[0] nd, p[1] group, p[2..4] stride, p[5..7] pad_begin, p[8..10] dilation. No scratch. */
void mqk_k_conv_transpose_f32(const mqr_call *c);

/* Output rows: prod(out_size[0..nd-1)) (each of out_size[nd-1] values). */
int32_t mqk_conv_out_rows(const mqk_conv_params *p);
/* Scratch of conv_f32 for a method and tile (rows per im2col tile). */
size_t mqk_conv_scratch_bytes(const mqk_conv_params *p, int method, int32_t tile_rows);

/* Direct convolution (method MQK_CONV_DIRECT), no scratch. bias (out_ch values) may be NULL. */
void mqk_conv_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias, float *y);
/* Fill col [(in_ch/group * prod(kernel)) rows x (n_rows * out_size[nd-1]) columns] from x_img (the
 * in_ch/group channels of one group of one image) for output rows row0 .. row0+n_rows-1; taps
 * outside the input are 0. Then y_group[:, cols] = w_group[out_ch/group x rows] * col. */
void mqk_im2col_f32(const mqk_conv_params *p, const float *x_img, int32_t row0, int32_t n_rows, float *col);
/* Same loops as mqk_conv_f32 on int32 values (ConvInteger after zero points are subtracted); defined in
 * conv_int.c with the conv_integer kernel (runtime/kernels/conv_int.h), so float models do not carry it. */
void mqk_conv_i32(const mqk_conv_params *p, const int32_t *x, const int32_t *w, int32_t *y);
/* Direct transposed convolution. bias may be NULL. */
void mqk_conv_transpose_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias,
                            float *y);

#endif
