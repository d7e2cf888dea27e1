/* list_shape.h: the kernels of the 'shape' op family: X(name, "source under runtime/"), function mqk_k_<name>.
 * Parameter layouts: runtime/kernels/shape.h. */
#ifndef MQR_KERNEL_LIST_SHAPE_H
#define MQR_KERNEL_LIST_SHAPE_H

#define MQR_KERNELS_SHAPE(X)                                                                       \
    X(sh_copy, "kernels/shape_copy.c")                                                             \
    X(sh_strided, "kernels/shape_copy.c")                                                          \
    X(sh_concat, "kernels/shape_copy.c")                                                           \
    X(sh_split, "kernels/shape_copy.c")                                                            \
    X(sh_pad, "kernels/shape_pad.c")                                                               \
    X(sh_gather, "kernels/shape_gather.c")                                                         \
    X(sh_gather_elems, "kernels/shape_gather.c")                                                   \
    X(sh_gather_nd, "kernels/shape_gather.c")                                                      \
    X(sh_scatter_elems, "kernels/shape_scatter.c")                                                 \
    X(sh_scatter_nd, "kernels/shape_scatter.c")                                                    \
    X(sh_fill, "kernels/shape_fill.c")                                                             \
    X(sh_values, "kernels/shape_fill.c")                                                           \
    X(sh_eyelike, "kernels/shape_fill.c")                                                          \
    X(sh_range, "kernels/shape_fill.c")                                                            \
    X(sh_onehot, "kernels/shape_misc.c")                                                           \
    X(sh_trilu, "kernels/shape_misc.c")                                                            \
    X(sh_revseq, "kernels/shape_misc.c")                                                           \
    X(sh_stack_get, "kernels/shape_stack.c")                                                       \
    X(sh_stack_put, "kernels/shape_stack.c")                                                       \
    X(sh_nonzero, "kernels/shape_dyn.c")                                                           \
    X(sh_compress, "kernels/shape_dyn.c")                                                          \
    X(sh_unique, "kernels/shape_dyn.c")                                                            \
    X(sh_nms, "kernels/shape_dyn.c")

#endif
