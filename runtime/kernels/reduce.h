/* reduce.h: parameter layouts of the reduction kernels (Reduce*, ArgMax/ArgMin): reduce.c holds the
 * float32 paths, reduce_any.c the float64 / integer ones. */
#ifndef MQK_REDUCE_H
#define MQK_REDUCE_H

/* Reduction kinds (p[0] of reduce_*). */
enum {
    MQK_RED_SUM = 0, MQK_RED_SUMSQ = 1, MQK_RED_L1 = 2, MQK_RED_L2 = 3, MQK_RED_MEAN = 4, MQK_RED_PROD = 5,
    MQK_RED_MAX = 6, MQK_RED_MIN = 7, MQK_RED_LOGSUM = 8, MQK_RED_LOGSUMEXP = 9
};

/* reduce_f32 (float32 in and out), reduce_any (float64 and integer types, output of the input's dtype):
 *   p[0] kind (MQK_RED_*), p[1] bitmask of the reduced axes of in[0] (bit d: dim d), p[2] 1: identity
 *   (noop_with_empty_axes with no axes: out = in).
 *   in[0] x; out[0] y with the kept dims of x (keepdims only changes y's rank, not its layout).
 *   scratch: reduce_f32: 4 * numel(y) bytes for LOGSUMEXP, else none; reduce_any: 8 * numel(y) bytes,
 *   16 * numel(y) for LOGSUMEXP.
 *   float32 accumulates in float; max/min propagate NaN; integer sums wrap; integer MEAN truncates.
 *
 * arg_f32 (float32 in), arg_any (float64 and integer types): ArgMax / ArgMin along one axis.
 *   p[0] axis (normalized), p[1] 1: max, 0: min, p[2] 1: select_last_index.
 *   in[0] x; out[0] int64 indices (the axis removed or kept as 1). NaN counts as the extreme value. */

#endif
