/* list_shape.h: the kernels of the 'shape' op family: X(name, "source under runtime/"), function mqk_k_<name>. */
#ifndef MQR_KERNEL_LIST_SHAPE_H
#define MQR_KERNEL_LIST_SHAPE_H

#define MQR_KERNELS_SHAPE(X)

#endif
