/* misc_quant.h: parameter layouts of the linear quantization kernels (misc_quant.c): QuantizeLinear,
 * DequantizeLinear, DynamicQuantizeLinear. */
#ifndef MQK_MISC_QUANT_H
#define MQK_MISC_QUANT_H

/* quantize_linear: p[0] axis of the per-axis layout (-1: per tensor). in[0] x (float32 or int32),
 * in[1] float32 scale (one value, or one per index of the axis), in[2] zero point (uint8/int8, same count
 * as the scale; rank -1: omitted, 0). out[0] uint8 or int8: clamp(rint(x / scale) + zp).
 *
 * dequantize_linear: p[0] as above. in[0] x (uint8, int8 or int32), in[1] float32 scale, in[2] zero
 * point of x's dtype (optional). out[0] float32: (x - zp) * scale.
 *
 * dynamic_quantize_u8: no parameters. in[0] float32 x; out[0] uint8 y, out[1] float32 scale (scalar),
 * out[2] uint8 zero point (scalar): the range [min(x, 0), max(x, 0)] mapped onto 0..255. */

#endif
