/* nn_internal.h: declarations shared by the files of the 'nn' op family (ops/nn*.c): the op
 * definitions the table lists, window geometry for conv/pool attributes, the float64 adapter. */
#ifndef MQ_OPS_NN_INTERNAL_H
#define MQ_OPS_NN_INTERNAL_H

#include "ops/util.h"

#define NN_MAX_SPATIAL 3
/* GEMMs with at least this many multiply-adds go to OpenBLAS on the host. */
#define NN_BLAS_MIN_MACS 32768

/* Geometry of a sliding window over nd spatial dims (Conv, ConvTranspose, pools). */
typedef struct nn_window {
    int nd;
    int64_t in[NN_MAX_SPATIAL], out[NN_MAX_SPATIAL], k[NN_MAX_SPATIAL], s[NN_MAX_SPATIAL];
    int64_t d[NN_MAX_SPATIAL], pb[NN_MAX_SPATIAL], pe[NN_MAX_SPATIAL];
} nn_window;

/* w with its spatial dims padded to NN_MAX_SPATIAL by leading 1s (the runtime kernels' layout), so the
 * backward loops of Conv and the pools are always three deep. */
static inline void nn_window_pad3(const nn_window *w, nn_window *o)
{
    int sh = NN_MAX_SPATIAL - w->nd;
    o->nd = NN_MAX_SPATIAL;
    for (int i = 0; i < NN_MAX_SPATIAL; i++) {
        int j = i - sh;
        o->in[i] = j >= 0 ? w->in[j] : 1;
        o->out[i] = j >= 0 ? w->out[j] : 1;
        o->k[i] = j >= 0 ? w->k[j] : 1;
        o->s[i] = j >= 0 ? w->s[j] : 1;
        o->d[i] = j >= 0 ? w->d[j] : 1;
        o->pb[i] = j >= 0 ? w->pb[j] : 0;
        o->pe[i] = j >= 0 ? w->pe[j] : 0;
    }
}

/* Read strides, dilations, pads, auto_pad (and ceil_mode when allow_ceil) for a forward window over
 * in_sp (nd values) with the given kernel; compute the output sizes. use_dilations: read the
 * 'dilations' attribute (pools before MaxPool-10 have none). */
mq_status nn_window_forward(const mq_node *n, int nd, const int64_t *in_sp, const int64_t *kernel,
                            int allow_ceil, int use_dilations, nn_window *w, mq_err *err);
/* Spatial kernel for a pool: the 'kernel_shape' attribute (required, nd values). */
mq_status nn_kernel_attr(const mq_node *n, int nd, int64_t *kernel, mq_err *err);
/* Fail unless every value fits the kernels' int32 shape fields. */
mq_status nn_check_i32(const mq_node *n, const int64_t *v, int count, mq_err *err);

/* Run a float32-only forward on float64 tensors by converting inputs and outputs (F64 in any input
 * or output); otherwise call fn directly. */
typedef mq_status (*nn_forward_fn)(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                   mq_err *err);
mq_status nn_forward_f32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                         nn_forward_fn fn);

/* OpenBLAS on the host for large products (Conv, Gemm, MatMul)? 0 if the environment variable
 * MAQD_NO_BLAS is set to a non-empty value other than "0" (read once), so the conformance suite can
 * run the portable kernels alone. */
int nn_use_blas(void);
/* Forward through the op's runtime kernel (mq_forward_lowered); float64 tensors are converted to and
 * from float32 around it (nn_forward_f32), since the kernels are float32. */
mq_status nn_forward_kernel(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err);
/* For lower: fail (MQ_ERR_UNSUPPORTED) unless every present input and output has dtype dt. */
mq_status nn_lower_dtype(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_dtype dt,
                         mq_err *err);
/* For lower: store a float parameter. */
static inline int32_t nn_pf(float f) { return mqr_f32_bits(f); }

/* Product of dims[from..to), as size_t (shapes are validated by inference). */
size_t nn_prod(const int64_t *dims, int from, int to);
/* A present input with known rank, or rank unknown: returns 1 if in[i] has rank < 0. */
static inline int nn_unknown(const mq_tensor *t) { return t && t->rank < 0; }

/* in[i] / out[i] if the node has that slot and it is not omitted, else NULL. */
static inline const mq_tensor *nn_opt(const mq_node *n, const mq_tensor *const *in, int i)
{
    return i < n->n_in ? in[i] : NULL;
}
static inline mq_tensor *nn_opt_out(const mq_node *n, mq_tensor *const *out, int i)
{
    return i < n->n_out ? out[i] : NULL;
}

extern const mq_op_def nn_op_conv, nn_op_conv_transpose, nn_op_conv_integer;
extern const mq_op_def nn_op_gemm, nn_op_matmul, nn_op_matmul_integer;
extern const mq_op_def nn_op_maxpool, nn_op_avgpool, nn_op_lppool, nn_op_global_avgpool, nn_op_global_maxpool,
    nn_op_global_lppool, nn_op_maxunpool;
extern const mq_op_def nn_op_batchnorm, nn_op_instancenorm, nn_op_layernorm, nn_op_lpnorm, nn_op_lrn, nn_op_mvn;
extern const mq_op_def nn_op_softmax_old, nn_op_softmax, nn_op_logsoftmax_old, nn_op_logsoftmax,
    nn_op_hardmax_old, nn_op_hardmax;
extern const mq_op_def nn_op_rnn, nn_op_gru, nn_op_lstm;
extern const mq_op_def nn_op_roialign, nn_op_maxroipool;

#endif
