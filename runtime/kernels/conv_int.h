/* conv_int.h: the ConvInteger kernel (int8/uint8 convolution with zero points, int32 output), kept
 * apart from the float convolutions of conv.h so a float model's emitted C does not carry it. */
#ifndef MQK_CONV_INT_H
#define MQK_CONV_INT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/kernels/conv_core.h"

/* Kernel conv_integer (ConvInteger): in[0] x (int8/uint8), in[1] w (int8/uint8), in[2] x_zero_point
 * (optional scalar), in[3] w_zero_point (optional, scalar or [out_ch]); out[0] y int32. p[0..10] as
 * conv_f32 (runtime/kernels/conv.h). Scratch: 4 bytes per element of x and of w (the values minus
 * their zero points). */
void mqk_k_conv_integer(const mqr_call *c);

/* Direct convolution on int32 values (ConvInteger after zero points are subtracted), wrapping as
 * two's complement would. */
void mqk_conv_i32(const mqk_conv_params *p, const int32_t *x, const int32_t *w, int32_t *y);

#endif
