/* reduce_scan.h: parameter layouts of the ordered ops along one axis (reduce_scan.c): TopK, CumSum.
 * Both take any numeric dtype (float32, float64, integers). */
#ifndef MQK_REDUCE_SCAN_H
#define MQK_REDUCE_SCAN_H

/* topk: p[0] axis (normalized), p[1] 1: largest, 0: smallest. in[0] x (in[1], K, is not read: K is
 * out[0]'s size along the axis). out[0] values (x's dtype), out[1] int64 indices (optional: rank -1).
 * Stable: ties go to the lower index; NaN counts as the largest value.
 * scratch: 16 * (x's size along the axis) bytes (double keys, two int32 index arrays).
 *
 * cumsum: p[0] axis (normalized), p[1] exclusive, p[2] reverse. in[0] x (in[1], the axis, is not read);
 * out[0] of x's dtype and shape. Floats accumulate in double, integers in int64 (wrapping). */

#endif
