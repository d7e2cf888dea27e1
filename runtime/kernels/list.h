/* list.h: every kernel of the runtime, gathered from the per-family lists. A family adds kernels in
 * its own list_<family>.h only. */
#ifndef MQR_KERNEL_LIST_H
#define MQR_KERNEL_LIST_H

#include "runtime/kernels/list_nn.h"
#include "runtime/kernels/list_elementwise.h"
#include "runtime/kernels/list_shape.h"
#include "runtime/kernels/list_reduce.h"
#include "runtime/kernels/list_qint.h"

#define MQR_KERNELS(X)                                                                             \
    MQR_KERNELS_NN(X)                                                                              \
    MQR_KERNELS_ELEMENTWISE(X)                                                                     \
    MQR_KERNELS_SHAPE(X)                                                                           \
    MQR_KERNELS_REDUCE(X)                                                                          \
    MQR_KERNELS_QINT(X)

#endif
