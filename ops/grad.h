/* grad.h: backward rules (dL/d inputs from dL/d outputs) of the ops the trainer differentiates, looked
 * up per op definition, plus the numeric pieces shared with tests (WS backward, quantizer surrogates). */
#ifndef MQ_OPS_GRAD_H
#define MQ_OPS_GRAD_H

#include "core/op.h"

#include <stddef.h>

/* The backward rule of an op: d->backward if set, else the entry of the trainer's table keyed by
 * (domain, op_type) (ops/grad.c), else NULL (not differentiable). d may be NULL (returns NULL). */
mq_backward_fn mq_op_backward(const mq_op_def *d);
/* Walk the table: the i-th (domain, op_type) that has a rule; returns 0 past the end. */
int mq_grad_table_at(int i, const char **domain, const char **op_type);

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
/* WeightQuant's straight-through mask (MAQD.md section 4): 1 if |w_hat / delta| <= (n-1)/2 + 1/2. */
int mq_grad_wq_pass(float w_hat, int n, float delta);

/* Sum a gradient of shape (rank, dims) (a broadcast result) into the shape of t (which broadcasts to
 * it, numpy rules): out gets mq_numel(t) values (overwritten). scale multiplies every term. */
void mq_grad_unbroadcast(const float *g, int rank, const int64_t *dims, const mq_tensor *t, float scale,
                         float *out);

#define MQ_GRAD_SIGMOID_ALPHA 4.0f

/* The rules (mq_backward_fn) in ops/grad*.c, listed in ops/grad.c's table. copy0: the gradient of input
 * 0 is the output's (Identity, Flatten, Reshape, Squeeze, Unsqueeze, inference Dropout). */
mq_status mq_grad_add(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_sub(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_mul(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_relu(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_clip(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_sigmoid(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_hardsigmoid(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_hardswish(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_copy0(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_concat(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_softmax(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_conv(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_gemm(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_matmul(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_maxpool(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_avgpool(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_global_avgpool(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_lbn(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_weightquant(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);
mq_status mq_grad_actquant(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
    const float *const *dout, float *const *din, mq_err *err);

#endif
