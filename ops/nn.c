/* nn.c: op family 'nn' (see core/op.h): the table of convolution, GEMM, pooling, normalization and
 * softmax ops (defined in ops/nn_*.c) and the helpers they share (window geometry, float64 adapter). */
#include "ops/nn_internal.h"

#include <stdlib.h>
#include <string.h>

const mq_op_def *const mq_ops_nn[] = {
    &nn_op_conv, &nn_op_conv_transpose, &nn_op_conv_integer,
    &nn_op_gemm, &nn_op_matmul, &nn_op_matmul_integer,
    &nn_op_maxpool, &nn_op_avgpool, &nn_op_lppool, &nn_op_global_avgpool, &nn_op_global_maxpool,
    &nn_op_global_lppool, &nn_op_maxunpool,
    &nn_op_batchnorm, &nn_op_instancenorm, &nn_op_layernorm, &nn_op_lpnorm, &nn_op_lrn, &nn_op_mvn,
    &nn_op_softmax_old, &nn_op_softmax, &nn_op_logsoftmax_old, &nn_op_logsoftmax, &nn_op_hardmax_old,
    &nn_op_hardmax,
    &nn_op_rnn, &nn_op_gru, &nn_op_lstm,
    &nn_op_roialign, &nn_op_maxroipool,
    NULL};

size_t nn_prod(const int64_t *dims, int from, int to)
{
    size_t p = 1;
    for (int i = from; i < to; i++) p *= (size_t)dims[i];
    return p;
}

mq_status nn_check_i32(const mq_node *n, const int64_t *v, int count, mq_err *err)
{
    for (int i = 0; i < count; i++)
        if (v[i] > INT32_MAX || v[i] < INT32_MIN)
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "size %lld is too large", (long long)v[i]);
    return MQ_OK;
}

mq_status nn_kernel_attr(const mq_node *n, int nd, int64_t *kernel, mq_err *err)
{
    const int64_t *v;
    int c = mq_attr_ints(n, "kernel_shape", &v);
    if (c < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'kernel_shape' is required");
    if (c != nd)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "kernel_shape has %d values for %d spatial dims", c, nd);
    for (int i = 0; i < nd; i++) {
        if (v[i] < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "kernel_shape values must be positive");
        kernel[i] = v[i];
    }
    return MQ_OK;
}

/* Read an optional ints attribute of exactly count values into out (default dflt). */
static mq_status ints_attr(const mq_node *n, const char *name, int count, int64_t dflt, int64_t min,
                           int64_t *out, mq_err *err)
{
    const int64_t *v;
    int c = mq_attr_ints(n, name, &v);
    for (int i = 0; i < count; i++) out[i] = dflt;
    if (c < 0) return MQ_OK;
    if (c != count)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute '%s' has %d values, expected %d", name, c, count);
    for (int i = 0; i < count; i++) {
        if (v[i] < min || v[i] > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute '%s' value %lld out of range", name,
                                (long long)v[i]);
        out[i] = v[i];
    }
    return MQ_OK;
}

mq_status nn_window_forward(const mq_node *n, int nd, const int64_t *in_sp, const int64_t *kernel,
                            int allow_ceil, int use_dilations, nn_window *w, mq_err *err)
{
    if (nd < 1 || nd > NN_MAX_SPATIAL)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "%d spatial dimensions (1 to %d supported)", nd,
                            NN_MAX_SPATIAL);
    memset(w, 0, sizeof *w);
    w->nd = nd;
    int64_t pads[2 * NN_MAX_SPATIAL];
    MQ_TRY(ints_attr(n, "strides", nd, 1, 1, w->s, err));
    if (use_dilations) MQ_TRY(ints_attr(n, "dilations", nd, 1, 1, w->d, err));
    else for (int i = 0; i < nd; i++) w->d[i] = 1;
    MQ_TRY(ints_attr(n, "pads", 2 * nd, 0, 0, pads, err));
    const char *ap = mq_attr_str(n, "auto_pad", "NOTSET");
    int ceil_mode = allow_ceil ? (int)mq_attr_int(n, "ceil_mode", 0) : 0;
    for (int i = 0; i < nd; i++) {
        int64_t in = in_sp[i], k = kernel[i], s = w->s[i], d = w->d[i];
        if (k < 1 || k > INT32_MAX) return mq_node_fail(err, n, MQ_ERR_INVALID, "bad kernel size %lld", (long long)k);
        int64_t ek = (k - 1) * d + 1, out, pb = 0, pe = 0;
        if (!strcmp(ap, "NOTSET")) {
            pb = pads[i];
            pe = pads[nd + i];
            int64_t span = in + pb + pe - ek;
            if (span < 0)
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "kernel %lld (dilated %lld) larger than padded input %lld",
                                    (long long)k, (long long)ek, (long long)(in + pb + pe));
            out = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
            if (ceil_mode && (out - 1) * s >= in + pb) out--;
        } else if (!strcmp(ap, "VALID")) {
            if (in < ek)
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "kernel %lld larger than input %lld", (long long)ek,
                                    (long long)in);
            out = (in - ek) / s + 1;
        } else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            out = (in + s - 1) / s;
            int64_t total = (out - 1) * s + ek - in;
            if (total < 0) total = 0;
            if (ap[5] == 'U') {
                pb = total / 2;
                pe = total - pb;
            } else {
                pe = total / 2;
                pb = total - pe;
            }
        } else {
            return mq_node_fail(err, n, MQ_ERR_INVALID, "unknown auto_pad '%s'", ap);
        }
        if (in + pb + pe > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "padded size %lld is too large", (long long)(in + pb + pe));
        w->in[i] = in;
        w->k[i] = k;
        w->out[i] = out;
        w->pb[i] = pb;
        w->pe[i] = pe;
    }
    MQ_TRY(nn_check_i32(n, w->in, nd, err));
    MQ_TRY(nn_check_i32(n, w->out, nd, err));
    return MQ_OK;
}

mq_status nn_forward_f32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                         nn_forward_fn fn)
{
    enum { MAXT = 16 };
    int any = 0;
    for (int i = 0; i < n->n_in && i < MAXT; i++)
        if (in[i] && in[i]->dtype == MQ_F64) any = 1;
    for (int i = 0; i < n->n_out && i < MAXT; i++)
        if (out[i] && out[i]->dtype == MQ_F64) any = 1;
    if (!any) return fn(n, in, out, err);
    if (n->n_in > MAXT || n->n_out > MAXT)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "too many inputs/outputs for the float64 path");
    mq_tensor ti[MAXT], to[MAXT];
    const mq_tensor *pi[MAXT];
    mq_tensor *po[MAXT];
    mq_status st = MQ_OK;
    for (int i = 0; i < n->n_in; i++) {
        pi[i] = in[i];
        if (!in[i] || in[i]->dtype != MQ_F64) continue;
        ti[i] = *in[i];
        ti[i].dtype = MQ_F32;
        ti[i].data = NULL;
        pi[i] = &ti[i];
    }
    for (int i = 0; i < n->n_out; i++) {
        po[i] = out[i];
        if (!out[i] || out[i]->dtype != MQ_F64) continue;
        to[i] = *out[i];
        to[i].dtype = MQ_F32;
        to[i].data = NULL;
        po[i] = &to[i];
    }
    for (int i = 0; i < n->n_in && st == MQ_OK; i++) {
        if (pi[i] != &ti[i] || !in[i]->data) continue;
        size_t k = (size_t)mq_numel(in[i]);
        ti[i].data = mq_malloc(mq_nbytes(&ti[i]));
        if (!ti[i].data) {
            st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < k; j++) ((float *)ti[i].data)[j] = (float)((const double *)in[i]->data)[j];
    }
    for (int i = 0; i < n->n_out && st == MQ_OK; i++) {
        if (po[i] != &to[i]) continue;
        to[i].data = mq_malloc(mq_nbytes(&to[i]));
        if (!to[i].data) st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    }
    if (st == MQ_OK) st = fn(n, pi, po, err);
    for (int i = 0; i < n->n_out; i++) {
        if (po[i] != &to[i]) continue;
        if (st == MQ_OK) {
            size_t k = (size_t)mq_numel(out[i]);
            for (size_t j = 0; j < k; j++) ((double *)out[i]->data)[j] = ((const float *)to[i].data)[j];
        }
        mq_free(to[i].data);
    }
    for (int i = 0; i < n->n_in; i++)
        if (pi[i] == &ti[i]) mq_free(ti[i].data);
    return st;
}

int nn_use_blas(void)
{
    static int use = -1;
    if (use < 0) {
        const char *v = getenv("MAQD_NO_BLAS");
        use = !(v && v[0] && strcmp(v, "0") != 0);
    }
    return use;
}

mq_status nn_forward_kernel(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, mq_forward_lowered);
}

mq_status nn_lower_dtype(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_dtype dt,
                         mq_err *err)
{
    for (int i = 0; i < n->n_in + n->n_out; i++) {
        const mq_tensor *t = i < n->n_in ? in[i] : out[i - n->n_in];
        if (t && t->dtype != dt)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "dtype %s has no runtime kernel (%s only)",
                                mq_dtype_name(t->dtype), mq_dtype_name(dt));
    }
    return MQ_OK;
}
