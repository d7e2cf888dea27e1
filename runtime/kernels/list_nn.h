/* list_nn.h: the kernels of the 'nn' op family: X(name, "source under runtime/"), function mqk_k_<name>. */
#ifndef MQR_KERNEL_LIST_NN_H
#define MQR_KERNEL_LIST_NN_H

#define MQR_KERNELS_NN(X)

#endif
