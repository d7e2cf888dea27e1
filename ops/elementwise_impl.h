/* elementwise_impl.h: internals shared by the ops/elementwise*.c files: the broadcast parameters of
 * the runtime kernels (runtime/kernels/elementwise.h) and the op definitions. */
#ifndef MQ_OPS_ELEMENTWISE_IMPL_H
#define MQ_OPS_ELEMENTWISE_IMPL_H

#include "ops/util.h"
#include "runtime/kernels/elementwise.h"

#include <stdint.h>

/* Appends the broadcast block BC(k) (runtime/kernels/elementwise.h) of inputs ins[0..k-1] to the
 * output's (static) shape at kc->p[kc->n_p]. Fails (naming the node) when a shape is not static or the
 * parameters would not fit. */
mq_status ew_lower_bc(const mq_node *n, const mq_tensor *out, const mq_tensor *const *ins, int k, mq_kcall *kc,
                      mq_err *err);

/* Op definitions living in elementwise_unary.c, listed in mq_ops_elementwise (elementwise.c). */
#define EW_UNARY_DEFS(X)                                                                           \
    X(abs) X(neg) X(sign) X(reciprocal) X(floor) X(ceil) X(round) X(sqrt) X(exp) X(log) X(sin)       \
    X(cos) X(tan) X(asin) X(acos) X(atan) X(sinh) X(cosh) X(asinh) X(acosh) X(atanh) X(erf) X(not)  \
    X(isnan) X(isinf) X(relu) X(leakyrelu) X(elu) X(selu) X(celu) X(thresholdedrelu) X(sigmoid)     \
    X(hardsigmoid) X(hardswish) X(softplus) X(softsign) X(tanh) X(identity) X(clip) X(cast)         \
    X(castlike) X(shrink) X(dropout)
#define X(name) extern const mq_op_def ew_def_##name;
EW_UNARY_DEFS(X)
#undef X

#endif
