/* reduce_einsum.h: parameter layouts of the Einsum and Det kernels (reduce_einsum.c). */
#ifndef MQK_REDUCE_EINSUM_H
#define MQK_REDUCE_EINSUM_H

#define MQK_EIN_MAX_IN 16
#define MQK_EIN_MAX_LOOPS 24

/* einsum: inputs of one numeric dtype (float32/float64 multiply and sum in double, integers in
 * wrapping int64); out[0] of that dtype. The host precomputes the loop nest: one loop per label, the
 * output labels first (in output order, so the output is written contiguously), then the summed ones.
 *   p[0] n_in, p[1] nl loops (<= MQK_EIN_MAX_LOOPS), p[2] n_outer (loops that index the output);
 *   p[3..3+nl) loop sizes; then for each input i, nl element strides (0 where the label is absent or
 *   broadcast): p[3 + nl + i*nl + k]. n_p = 3 + nl * (1 + n_in).
 *
 * det: in[0] float32 or float64 [..., M, M]; out[0] [...] of the same dtype. Gaussian elimination with
 *   partial pivoting in double. No parameters; scratch 8 * M * M bytes. */

#endif
