/* list_qint.h: the integer-only kernels of lowered MaQD models (docs/INTEGER.md): X(name, "source under
 * runtime/"), function mqk_k_<name>. */
#ifndef MQR_KERNEL_LIST_QINT_H
#define MQR_KERNEL_LIST_QINT_H

#define MQR_KERNELS_QINT(X)                                                                        \
    X(qint_input_u8, "kernels/qint.c")                                                             \
    X(qint_layer, "kernels/qint_layer.c")                                                          \
    X(qint_layer_b1, "kernels/qint_bits.c")                                                        \
    X(qint_maxpool_u8, "kernels/qint.c")                                                           \
    X(qint_sum_u8, "kernels/qint.c")                                                               \
    X(qint_add, "kernels/qint_merge.c")                                                            \
    X(qint_lut, "kernels/qint_merge.c")                                                            \
    X(qint_requant_u8, "kernels/qint_merge.c")                                                     \
    X(qint_rescale, "kernels/qint_merge.c")                                                        \
    X(qint_winsum_u8, "kernels/qint_pool.c")

#endif
