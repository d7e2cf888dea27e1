/* misc_gridsample.h: parameter layout of the GridSample kernel (misc_gridsample.c; PyTorch grid_sample
 * semantics, opset 16). */
#ifndef MQK_MISC_GRIDSAMPLE_H
#define MQK_MISC_GRIDSAMPLE_H

enum { MQK_GS_BILINEAR = 0, MQK_GS_NEAREST = 1, MQK_GS_BICUBIC = 2 };
enum { MQK_GP_ZEROS = 0, MQK_GP_BORDER = 1, MQK_GP_REFLECTION = 2 };

/* gridsample: in[0] x [N, C, H, W], in[1] grid [N, Ho, Wo, 2] (x, y in [-1, 1]); both float32 or float64
 *   (each its own). out[0] [N, C, Ho, Wo] of x's dtype. Computed in double.
 *   p[0] mode (MQK_GS_*), p[1] padding mode (MQK_GP_*), p[2] align_corners. */

#endif
