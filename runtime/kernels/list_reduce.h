/* list_reduce.h: the kernels of the 'reduce', 'misc', 'loss', 'signal' and 'maqd' op families:
 * X(name, "source under runtime/"), function mqk_k_<name>. Parameter layouts: the header beside each source. */
#ifndef MQR_KERNEL_LIST_REDUCE_H
#define MQR_KERNEL_LIST_REDUCE_H

#define MQR_KERNELS_REDUCE(X)                                                                      \
    X(reduce_f32, "kernels/reduce.c")                                                              \
    X(arg_f32, "kernels/reduce.c")                                                                 \
    X(reduce_any, "kernels/reduce_any.c")                                                          \
    X(arg_any, "kernels/reduce_any.c")                                                             \
    X(topk, "kernels/reduce_scan.c")                                                               \
    X(cumsum, "kernels/reduce_scan.c")                                                             \
    X(einsum, "kernels/reduce_einsum.c")                                                           \
    X(det, "kernels/reduce_einsum.c")                                                              \
    X(quantize_linear, "kernels/misc_quant.c")                                                     \
    X(dequantize_linear, "kernels/misc_quant.c")                                                   \
    X(dynamic_quantize_u8, "kernels/misc_quant.c")                                                 \
    X(resize, "kernels/misc_resize.c")                                                             \
    X(gridsample, "kernels/misc_gridsample.c")                                                     \
    X(qlinear_matmul, "kernels/misc_qlinear.c")                                                    \
    X(qlinear_conv, "kernels/misc_qlinear.c")                                                      \
    X(loss_nll, "kernels/misc_loss.c")                                                             \
    X(dft, "kernels/misc_signal.c")                                                                \
    X(stft, "kernels/misc_signal.c")                                                               \
    X(window, "kernels/misc_signal.c")                                                             \
    X(mel_weight_matrix, "kernels/misc_signal.c")                                                  \
    X(maqd_lbn_f32, "kernels/maqd.c")                                                              \
    X(maqd_weight_quant_f32, "kernels/maqd.c")                                                     \
    X(maqd_act_quant_f32, "kernels/maqd.c")

#endif
