/* softmax.h: Softmax, LogSoftmax and Hardmax on float32 data viewed as [outer, n, inner] (n values
 * at stride inner). */
#ifndef MQK_SOFTMAX_H
#define MQK_SOFTMAX_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"

enum { MQK_SOFTMAX = 0, MQK_LOGSOFTMAX = 1, MQK_HARDMAX = 2 };

/* Kernel softmax_f32: in[0] x, out[0] y. p[0] kind (MQK_SOFTMAX, MQK_LOGSOFTMAX, MQK_HARDMAX: 1 at
 * the first maximum, 0 elsewhere), p[1] axis (0..rank-1; rank 0 is one value), p[2] 1 for the
 * opset < 13 form (x flattened to 2-D at axis: n is the product of dims[axis..]), 0 for one axis. */
void mqk_k_softmax_f32(const mqr_call *c);

void mqk_softmax_f32(size_t outer, size_t n, size_t inner, int kind, const float *x, float *y);

#endif
