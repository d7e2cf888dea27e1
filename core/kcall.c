/* kcall.c: running lowered kernel calls on the host: the executor's path to the same runtime kernels
 * the backends emit (see mq_forward_lowered in core/op.h). */
#include "core/op.h"

#include <string.h>

#define MAX_IO 64

mq_status mq_to_mqr(const mq_node *n, const mq_tensor *t, mqr_tensor *r, mq_err *err)
{
    memset(r, 0, sizeof *r);
    if (!t) {
        r->rank = -1;
        return MQ_OK;
    }
    if (t->rank < 0 || t->rank > MQR_MAX_RANK)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "tensor '%s' has no static shape", t->name ? t->name : "");
    int64_t ne = 1;
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] > INT32_MAX || (ne *= t->dims[d]) > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "tensor '%s' has more than 2^31-1 elements",
                                t->name ? t->name : "");
        r->dims[d] = (int32_t)t->dims[d];
    }
    r->dtype = (int32_t)t->dtype;
    r->rank = t->rank;
    r->data = t->data;
    return MQ_OK;
}

mq_status mq_run_kcall(const mq_node *n, const mq_kcall *kc, const mq_tensor *const *in, mq_tensor *const *out,
                       mq_err *err)
{
    const mqr_kernel_info *k = mqr_kernel_find(kc->kernel ? kc->kernel : "");
    if (!k) return mq_node_fail(err, n, MQ_ERR_INVALID, "no runtime kernel '%s'", kc->kernel ? kc->kernel : "");
    if (n->n_in > MAX_IO || n->n_out > MAX_IO) return mq_node_fail(err, n, MQ_ERR_LIMIT, "too many inputs/outputs");
    mqr_tensor ri[MAX_IO], ro[MAX_IO];
    for (int i = 0; i < n->n_in; i++) MQ_TRY(mq_to_mqr(n, in[i], &ri[i], err));
    for (int i = 0; i < n->n_out; i++) MQ_TRY(mq_to_mqr(n, out[i], &ro[i], err));
    void *scratch = NULL;
    if (kc->scratch_bytes) {
        scratch = mq_malloc(kc->scratch_bytes);
        if (!scratch)
            return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for %zu bytes of scratch", kc->scratch_bytes);
    }
    mqr_call c = {kc->p, kc->n_p, ri, n->n_in, ro, n->n_out, scratch};
    /* The load-time check must accept every call the host lowers (else packed models would be
     * refused): check it here too, so every executor run tests the checks. */
    if (kc->scratch_bytes > UINT32_MAX || k->check(&c, (uint32_t)kc->scratch_bytes) == MQR_CHECK_BAD) {
        mq_free(scratch);
        return mq_node_fail(err, n, MQ_ERR_INVALID, "kernel '%s' refuses the call its lowering made (check and lower disagree)",
                            kc->kernel);
    }
    if (!mqr_call_writes_nothing(&c)) k->fn(&c);
    mq_free(scratch);
    return MQ_OK;
}

mq_status mq_forward_lowered(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    mq_kcall kc;
    memset(&kc, 0, sizeof kc);
    MQ_TRY(n->def->lower(n, in, (const mq_tensor *const *)out, &kc, err));
    return mq_run_kcall(n, &kc, in, out, err);
}
