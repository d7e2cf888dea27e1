/* softmax.h: Softmax, LogSoftmax and Hardmax along one axis of float32 data viewed as
 * [outer, n, inner] (n values at stride inner). */
#ifndef MQK_SOFTMAX_H
#define MQK_SOFTMAX_H

#include <stddef.h>

void mqk_softmax_f32(size_t outer, size_t n, size_t inner, const float *x, float *y);
void mqk_logsoftmax_f32(size_t outer, size_t n, size_t inner, const float *x, float *y);
/* 1 at the first maximum, 0 elsewhere. */
void mqk_hardmax_f32(size_t outer, size_t n, size_t inner, const float *x, float *y);

#endif
