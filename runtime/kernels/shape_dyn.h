/* shape_dyn.h: kernels whose output shapes depend on the data (NonZero, Compress, Unique,
 * NonMaxSuppression). Each output with such a shape is a tensor planned at a static upper bound; the
 * kernel writes its values compactly for the actual shape (row-major for the actual dims, from the
 * start of the buffer) and the actual dims into an int32 [rank] tensor that follows the node's outputs
 * (docs/C_BACKEND.md, "Data-dependent output shapes"). Values from the data (counts, indices) are
 * bounded by the kernels: nothing is written past the bound. */
#ifndef MQK_SHAPE_DYN_H
#define MQK_SHAPE_DYN_H

#include "runtime/mqr_kernel.h"

/* Kernel sh_nonzero (NonZero): in[0] x (any dtype, rank r); out[0] y int64 [max(r, 1), >= numel(x)];
 * out[1] int32 [2]: the actual dims {max(r, 1), n}, n the non-zero count (NaN counts, -0.0 does not).
 * y holds the coordinates of the non-zero elements in row-major order, row d = coordinate d (a scalar
 * x has the one coordinate 0). No parameters. */
void mqk_k_sh_nonzero(const mqr_call *c);

/* Kernel sh_compress (Compress): in[0] x (any dtype), in[1] condition bool [L]; p[0] axis (normalized)
 * or -1 for the flattened x. out[0] y, x's dtype: [>= numel(x)] for -1, else x's dims with dims[axis] >=
 * x.dims[axis]; out[1] int32 [rank(y)]: the actual dims (the count of the first min(L, extent) true
 * conditions in place of the extent). */
void mqk_k_sh_compress(const mqr_call *c);

/* Kernel sh_unique (Unique): in[0] x (any dtype); p[0] sorted (0/1), p[1] axis (normalized) or -1 for
 * the flattened x, p[2] n = the node's outputs (1..4). Slices along the axis (or elements) are compared
 * by value, lexicographically. out[0..n): y (x's dtype, bounded like sh_compress's y), indices, inverse
 * indices, counts (int64 [>= A], A the slices), each optional; out[n..2n): int32 [rank] actual dims
 * of output k, present exactly when output k is. Unique slices in ascending order (sorted 1) or in order
 * of first occurrence; indices: the first occurrence of each; inverse: the unique slice of each of the
 * A slices; counts: how often each occurs. Scratch: 16 * A bytes. */
void mqk_k_sh_unique(const mqr_call *c);

/* Kernel sh_nms (NonMaxSuppression): in[0] boxes float32 [B, N, 4], in[1] scores float32 [B, C, N], in[2]
 * max_output_boxes_per_class (not read: its value is p[1]), in[3] iou_threshold, in[4] score_threshold
 * (float32 with one element, or empty or omitted: 0 / no threshold); p[0] center_point_box (0/1), p[1]
 * max boxes per class (>= 0). Per batch and class, boxes with score above the threshold by descending
 * score (ties: lower index first) are kept unless their IoU with a kept one exceeds the IoU threshold,
 * at most p[1]. out[0] int64 [>= B * C * min(p[1], N), 3]: (batch, class, box) rows; out[1] int32 [2]
 * {rows, 3}. Scratch: 12 * N bytes. */
void mqk_k_sh_nms(const mqr_call *c);

#endif
