/* list_elementwise.h: the kernels of the 'elementwise' op family: X(name, "source under runtime/"), function mqk_k_<name>. */
#ifndef MQR_KERNEL_LIST_ELEMENTWISE_H
#define MQR_KERNEL_LIST_ELEMENTWISE_H

#define MQR_KERNELS_ELEMENTWISE(X)

#endif
