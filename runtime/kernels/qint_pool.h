/* qint_pool.h: average pooling on the codes of a lowered MaQD model (docs/INTEGER.md): the window sums,
 * whose 1 / count goes into the next layer's scale. */
#ifndef MQK_QINT_POOL_H
#define MQK_QINT_POOL_H

#include "runtime/kernels/qint.h"

/* Kernel qint_winsum_u8: AveragePool without the division: y = the sum of the window's taps inside the
 * input (padding contributes 0). x uint8, y int16 (only if 255 x kernel taps <= 32767) or int32,
 * [N, C, spatial...] of rank nd + 2; p as qint_maxpool_u8 (qint.h, mqk_qint_pool_ok). */
void mqk_k_qint_winsum_u8(const mqr_call *c);

#endif
