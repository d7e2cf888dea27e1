/* misc_resize.h: parameter layout of the Resize / Upsample kernel (misc_resize.c). */
#ifndef MQK_MISC_RESIZE_H
#define MQK_MISC_RESIZE_H

enum { MQK_RS_NEAREST = 0, MQK_RS_LINEAR = 1, MQK_RS_CUBIC = 2 };
enum {
    MQK_CT_HALF_PIXEL = 0, MQK_CT_PYTORCH_HALF_PIXEL = 1, MQK_CT_ALIGN_CORNERS = 2, MQK_CT_ASYMMETRIC = 3,
    MQK_CT_TF_HALF_PIXEL_FOR_NN = 4, MQK_CT_TF_CROP_AND_RESIZE = 5
};
enum { MQK_NM_ROUND_PREFER_FLOOR = 0, MQK_NM_ROUND_PREFER_CEIL = 1, MQK_NM_FLOOR = 2, MQK_NM_CEIL = 3, MQK_NM_SIMPLE = 4 };

/* resize: any numeric dtype (nearest copies elements; linear/cubic interpolate in double, integer
 * outputs rounded half to even). in[0] x (the other inputs are not read); out[0] y of the same rank.
 *   p[0] mode (MQK_RS_*), p[1] coordinate transformation (MQK_CT_*), p[2] nearest mode (MQK_NM_*;
 *   SIMPLE: Upsample / Resize-10), p[3] exclude_outside, p[4] cubic_coeff_a (float bits),
 *   p[5] extrapolation_value (float bits); per axis d: p[6+4d], p[7+4d] the scale as the low and high
 *   32 bits of a float64, p[8+4d], p[9+4d] roi start and end (float bits; tf_crop_and_resize).
 *   n_p = 6 + 4 * rank. scratch: MQK_RESIZE_SCRATCH_PER_INDEX bytes per output index of every axis
 *   (sum of y's dims times that). */
#define MQK_RESIZE_SCRATCH_PER_INDEX (4 * 8 + 4 * 4 + 1)

#endif
