/* list_reduce.h: the kernels of the 'reduce' op family: X(name, "source under runtime/"), function mqk_k_<name>. */
#ifndef MQR_KERNEL_LIST_REDUCE_H
#define MQR_KERNEL_LIST_REDUCE_H

#define MQR_KERNELS_REDUCE(X)

#endif
