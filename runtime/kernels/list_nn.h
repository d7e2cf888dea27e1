/* list_nn.h: the kernels of the 'nn' op family: X(name, "source under runtime/"), function mqk_k_<name>. */
#ifndef MQR_KERNEL_LIST_NN_H
#define MQR_KERNEL_LIST_NN_H

#define MQR_KERNELS_NN(X)                                                                          \
    X(conv_f32, "kernels/conv.c")                                                                  \
    X(conv_transpose_f32, "kernels/conv.c")                                                        \
    X(conv_integer, "kernels/conv_int.c")                                                          \
    X(gemm_f32, "kernels/gemm.c")                                                                  \
    X(matmul_f32, "kernels/gemm.c")                                                                \
    X(matmul_integer, "kernels/gemm_int.c")                                                        \
    X(pool_f32, "kernels/pool.c")                                                                  \
    X(maxpool_8, "kernels/pool.c")                                                                 \
    X(global_pool_f32, "kernels/pool.c")                                                           \
    X(maxunpool_f32, "kernels/pool.c")                                                             \
    X(batchnorm_f32, "kernels/norm.c")                                                             \
    X(instancenorm_f32, "kernels/norm.c")                                                          \
    X(layernorm_f32, "kernels/norm.c")                                                             \
    X(lpnorm_f32, "kernels/norm.c")                                                                \
    X(lrn_f32, "kernels/norm.c")                                                                   \
    X(mvn_f32, "kernels/norm.c")                                                                   \
    X(softmax_f32, "kernels/softmax.c")                                                            \
    X(rnn_f32, "kernels/rnn.c")                                                                    \
    X(roialign_f32, "kernels/roi.c")                                                               \
    X(maxroipool_f32, "kernels/roi.c")

#endif
