/* list_nn.h: the kernels of the 'nn' op family: X(name, "source under runtime/"), function mqk_k_<name>. */
#ifndef MQR_KERNEL_LIST_NN_H
#define MQR_KERNEL_LIST_NN_H

#define MQR_KERNELS_NN(X)                                                                          \
    X(conv_f32, "kernels/conv.c")                                                                  \
    X(conv_transpose_f32, "kernels/conv.c")                                                        \
    X(gemm_f32, "kernels/gemm.c")                                                                  \
    X(matmul_f32, "kernels/gemm.c")

#endif
