/* grad.c: helpers shared by the backward rules of the op definitions (ops/grad.h): the float32 check,
 * broadcast reduction and the identity rule. The rules themselves live in each op's family file. */
#include "ops/grad.h"
#include "ops/util.h"

#include <string.h>

mq_status mq_grad_need_f32(const mq_node *n, const mq_tensor *t, mq_err *err)
{
    if (t && t->dtype != MQ_F32) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "backward supports float32 only");
    return MQ_OK;
}

/* ---- broadcasting ---------------------------------------------------------------------------------- */

void mq_grad_unbroadcast(const float *g, int rank, const int64_t *dims, const mq_tensor *t, float scale, float *out)
{
    int64_t tn = mq_numel(t), gn = 1;
    for (int d = 0; d < rank; d++) gn *= dims[d];
    if (tn == gn) { /* same element count: same layout (broadcasting never reorders) */
        for (int64_t i = 0; i < gn; i++) out[i] = scale * g[i];
        return;
    }
    for (int64_t i = 0; i < tn; i++) out[i] = 0;
    if (tn == 1) {
        double s = 0;
        for (int64_t i = 0; i < gn; i++) s += g[i];
        out[0] = (float)(scale * s);
        return;
    }
    int64_t st[MQ_MAX_RANK], idx[MQ_MAX_RANK] = {0};
    mq_broadcast_strides(t, rank, dims, st);
    if (gn == 0) return;
    int64_t off = 0;
    for (int64_t i = 0; i < gn; i++) {
        out[off] += scale * g[i];
        /* advance the multi-index and the offset together */
        for (int d = rank - 1; d >= 0; d--) {
            off += st[d];
            if (++idx[d] < dims[d]) break;
            off -= st[d] * dims[d];
            idx[d] = 0;
        }
    }
}

mq_status mq_grad_copy0(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                        const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    int64_t k = mq_numel(in[0]);
    (void)out;
    if (din[0] && k > 0) memcpy(din[0], dout[0], sizeof(float) * (size_t)k);
    for (int i = 1; i < n->n_in; i++)
        if (din[i] && in[i]) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no gradient for input %d", i);
    return MQ_OK;
}
