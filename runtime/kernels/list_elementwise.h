/* list_elementwise.h: the kernels of the 'elementwise' op family: X(name, "source under runtime/"), function mqk_k_<name>.
 * Parameter layouts: runtime/kernels/elementwise.h. */
#ifndef MQR_KERNEL_LIST_ELEMENTWISE_H
#define MQR_KERNEL_LIST_ELEMENTWISE_H

#define MQR_KERNELS_ELEMENTWISE(X)                                                                 \
    X(add_f32, "kernels/elementwise_f32.c")                                                        \
    X(sub_f32, "kernels/elementwise_f32.c")                                                        \
    X(mul_f32, "kernels/elementwise_f32.c")                                                        \
    X(div_f32, "kernels/elementwise_f32.c")                                                        \
    X(prelu_f32, "kernels/elementwise_f32.c")                                                      \
    X(variadic_f32, "kernels/elementwise_f32.c")                                                   \
    X(relu_f32, "kernels/elementwise_f32.c")                                                       \
    X(leakyrelu_f32, "kernels/elementwise_f32.c")                                                  \
    X(sigmoid_f32, "kernels/elementwise_f32.c")                                                    \
    X(tanh_f32, "kernels/elementwise_f32.c")                                                       \
    X(hardsigmoid_f32, "kernels/elementwise_f32.c")                                                \
    X(hardswish_f32, "kernels/elementwise_f32.c")                                                  \
    X(clip_f32, "kernels/elementwise_f32.c")                                                       \
    MQR_KERNELS_ELEMENTWISE_MATH(X)                                                                \
    X(pow_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(compare_f32, "kernels/elementwise_logic.c")                                                  \
    X(logic_bool, "kernels/elementwise_logic.c")                                                   \
    X(not_bool, "kernels/elementwise_logic.c")                                                     \
    X(ew_isnan, "kernels/elementwise_logic.c")                                                     \
    X(ew_isinf, "kernels/elementwise_logic.c")                                                     \
    X(ew_copy, "kernels/elementwise_move.c")                                                       \
    X(ew_dropout, "kernels/elementwise_move.c")                                                    \
    X(ew_where, "kernels/elementwise_move.c")                                                      \
    X(ew_cast, "kernels/elementwise_cast.c")                                                       \
    X(ew_binary_any, "kernels/elementwise_any.c")                                                  \
    X(ew_pow_mixed, "kernels/elementwise_any.c")                                                   \
    X(ew_variadic_any, "kernels/elementwise_any.c")                                                \
    X(ew_unary_any, "kernels/elementwise_any.c")                                                   \
    X(ew_clip_any, "kernels/elementwise_any.c")

/* float32 unary math kernels <op>_f32 of elementwise_f32_math.c */
#define MQR_KERNELS_ELEMENTWISE_MATH(X)                                                            \
    X(abs_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(neg_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(sign_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(reciprocal_f32, "kernels/elementwise_f32_math.c")                                            \
    X(floor_f32, "kernels/elementwise_f32_math.c")                                                 \
    X(ceil_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(round_f32, "kernels/elementwise_f32_math.c")                                                 \
    X(sqrt_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(exp_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(log_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(sin_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(cos_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(tan_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(asin_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(acos_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(atan_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(sinh_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(cosh_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(asinh_f32, "kernels/elementwise_f32_math.c")                                                 \
    X(acosh_f32, "kernels/elementwise_f32_math.c")                                                 \
    X(atanh_f32, "kernels/elementwise_f32_math.c")                                                 \
    X(erf_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(elu_f32, "kernels/elementwise_f32_math.c")                                                   \
    X(selu_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(celu_f32, "kernels/elementwise_f32_math.c")                                                  \
    X(thresholdedrelu_f32, "kernels/elementwise_f32_math.c")                                       \
    X(softplus_f32, "kernels/elementwise_f32_math.c")                                              \
    X(softsign_f32, "kernels/elementwise_f32_math.c")                                              \
    X(shrink_f32, "kernels/elementwise_f32_math.c")

#endif
