/* misc_qlinear.h: parameter layouts of the quantized-product kernels (misc_qlinear.c): QLinearMatMul,
 * QLinearConv (opset 10). 8-bit operands are uint8 or int8 (each tensor its own); scales float32; a zero
 * point or scale tensor holds one value or one per row / column / output channel; products accumulate in
 * int64; the result rint(acc * a_scale * b_scale / y_scale) + y_zero_point saturates to y's dtype. */
#ifndef MQK_MISC_QLINEAR_H
#define MQK_MISC_QLINEAR_H

/* qlinear_matmul: in[0] a, in[1] a_scale, in[2] a_zero_point (1 or M values), in[3] b, in[4] b_scale,
 *   in[5] b_zero_point (1 or N values), in[6] y_scale, in[7] y_zero_point; out[0] y.
 *   p[0] M, p[1] K, p[2] N, p[3] br (batch rank of y); p[4..4+br) y's batch dims, then br strides of a
 *   and br strides of b (in whole matrices; 0 along broadcast dims). n_p = 4 + 3 br.
 *
 * qlinear_conv: in[0] x [N, C, spatial 1-3], in[1] x_scale, in[2] x_zero_point, in[3] w [M, C/group,
 *   k...], in[4] w_scale (1 or M), in[5] w_zero_point (1 or M), in[6] y_scale, in[7] y_zero_point,
 *   in[8] optional int32 bias [M]; out[0] y [N, M, out...].
 *   p[0] group; p[1..3] strides, p[4..6] dilations, p[7..9] leading pads, p[10..12] trailing pads, each
 *   over 3 spatial axes with the real ones last (missing leading axes: stride 1, dilation 1, pads 0). The
 *   trailing pads are not read by the kernel: they let the load-time check prove y's spatial dims
 *   (out = (in + pad0 + pad1 - dilation * (k - 1) - 1) / stride + 1). */

#endif
