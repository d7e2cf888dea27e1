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
    X(quantize_linear, "kernels/misc_quant.c")                                                     \
    X(dequantize_linear, "kernels/misc_quant.c")                                                   \
    X(dynamic_quantize_u8, "kernels/misc_quant.c")

#endif
