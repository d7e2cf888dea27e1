/* grad.h: pieces shared by the backward rules that live in the op definitions (mq_op_def.backward in
 * ops/<family>.c): the float32 check, broadcast reduction, the identity rule, WS and quantizer surrogates. */
#ifndef MQ_OPS_GRAD_H
#define MQ_OPS_GRAD_H

#include "core/op.h"

#include <stddef.h>

/* The backward rule of an op definition (its `backward` field), NULL if d is NULL or not differentiable. */
static inline mq_backward_fn mq_op_backward(const mq_op_def *d) { return d ? d->backward : NULL; }

/* Fail (naming the node) unless t is NULL or float32: the rules compute in float32. */
mq_status mq_grad_need_f32(const mq_node *n, const mq_tensor *t, mq_err *err);

/* Sum a gradient of shape (rank, dims) (a broadcast result) into the shape of t (which broadcasts to
 * it, numpy rules): out gets mq_numel(t) values (overwritten). scale multiplies every term. */
void mq_grad_unbroadcast(const float *g, int rank, const int64_t *dims, const mq_tensor *t, float scale,
                         float *out);

/* The rule of ops whose output 0 is input 0's values (Identity, inference Dropout, Flatten, Reshape,
 * Squeeze, Unsqueeze): dL/dx = dL/dy; other inputs (shapes, axes) get no gradient. */
mq_status mq_grad_copy0(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                        const float *const *dout, float *const *din, mq_err *err);

/* Backward of weight standardization (MAQD.md section 2, ops/maqd.h's mq_maqd_ws_f32 layout
 * [outer, channels, inner]): given w and g = dL/dw_hat, write dL/dw (exact: mean and std depend on w;
 * a channel with zero spread passes g minus its mean, scaled by 1/eps). Computed in double. dw may not
 * alias w or g. */
void mq_grad_ws_f32(size_t outer, size_t channels, size_t inner, const float *w, const float *g, float eps,
                    float *dw);
/* Surrogate derivative dy/dx of ActQuant A_m(x; delta) (MAQD.md section 4): "ste" (sigmoid == 0):
 * 1 if 0 <= x <= (m - 1/2) delta, else 0; sigmoid != 0: sum over k = 1..m-1 of
 * alpha s(alpha (x - t_k) / delta) (1 - s(...)), t_k = (k - 1/2) delta, s the logistic, alpha = 4. */
float mq_grad_actq_surrogate(float x, int m, float delta, int sigmoid);
/* One element's term of dL/d(step) of a quantizer y = delta * q(x / delta) (the LSQ form, Esser et al. 2020,
 * with our surrogates): g = dL/dy, q the clipped level of v = x / delta, s the surrogate dy/dx at x.
 * y is homogeneous of degree 1 in (x, delta), so x dy/dx + delta dy/d(delta) = y gives
 * dy/d(delta) = q - v s: round(v) - v inside the straight-through range, the clip level outside. */
double mq_grad_step_term(float g, float q, float v, float s);
/* WeightQuant's straight-through mask (MAQD.md section 4): 1 if |w_hat / delta| <= (n-1)/2 + 1/2. */
int mq_grad_wq_pass(float w_hat, int n, float delta);

#define MQ_GRAD_SIGMOID_ALPHA 4.0f

#endif
