/* misc_loss.c: the NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss kernel: per (sample, position)
 * an optional log-softmax over the classes, then the weighted negative log-likelihood of the target. */
#include "runtime/kernels/misc_loss.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/kernels/reduce_dt.h"

#include <math.h>

void mqk_k_loss_nll(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *t = &c->in[1];
    const mqr_tensor *w = c->n_in > 2 && c->in[2].rank >= 0 ? &c->in[2] : 0;
    mqr_tensor *y = &c->out[0], *lp = c->n_out > 1 && c->out[1].rank >= 0 ? &c->out[1] : 0;
    int32_t sce = c->p[0], red = c->p[1], has_ii = c->p[2], N = x->dims[0], C = x->dims[1], D = 1, b, d, k, dt = x->dtype;
    int64_t ii = (int64_t)(((uint64_t)(uint32_t)c->p[4] << 32) | (uint32_t)c->p[3]);
    double sum = 0.0, wsum = 0.0;
    for (d = 2; d < x->rank; d++) D *= x->dims[d];
    for (b = 0; b < N; b++)
        for (d = 0; d < D; d++) {
            int32_t base = b * C * D + d, at = b * D + d;
            int64_t cls = t->dtype == MQR_I32 ? (int64_t)((const int32_t *)t->data)[at] : ((const int64_t *)t->data)[at];
            double lse = 0.0, l = 0.0, wt = 0.0;
            if (sce && C > 0) {
                double mx = mqk_ld_f64(x->data, dt, base), s = 0.0;
                for (k = 1; k < C; k++) {
                    double v = mqk_ld_f64(x->data, dt, base + k * D);
                    if (v > mx) mx = v;
                }
                for (k = 0; k < C; k++) s += exp(mqk_ld_f64(x->data, dt, base + k * D) - mx);
                lse = mx + log(s);
                if (lp)
                    for (k = 0; k < C; k++)
                        mqk_st_f64(lp->data, dt, base + k * D, mqk_ld_f64(x->data, dt, base + k * D) - lse);
            }
            if (!(has_ii && cls == ii) && cls >= 0 && cls < C) {
                wt = w ? mqk_ld_f64(w->data, dt, (int32_t)cls) : 1.0;
                l = -(mqk_ld_f64(x->data, dt, base + (int32_t)cls * D) - lse) * wt;
            }
            sum += l;
            wsum += wt;
            if (red == MQK_LOSS_NONE) mqk_st_f64(y->data, dt, at, l);
        }
    if (red == MQK_LOSS_SUM) mqk_st_f64(y->data, dt, 0, sum);
    if (red == MQK_LOSS_MEAN) mqk_st_f64(y->data, dt, 0, sum / wsum);
}

/* x float [N, C, d...] (rank >= 2), target int32/int64 [N, d...], optional weight of x's dtype [C]; loss of
 * x's dtype: the target's dims (reduction none) or one value; optional log_prob like x. Flags and the
 * reduction in range. Target values are bounded by the kernel (outside [0, C): ignored). */
int mqk_c_loss_nll(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *t, *y;
    int32_t d;
    (void)scratch_bytes;
    if (c->n_in < 2 || c->n_in > 3 || c->n_out < 1 || c->n_out > 2 || c->n_p != 5) return MQR_CHECK_BAD;
    x = &c->in[0];
    t = &c->in[1];
    y = &c->out[0];
    if (!mqk_ck_tensor(x) || !mqk_ck_float(x->dtype) || x->rank < 2 || !mqk_ck_tensor(t) ||
        (t->dtype != MQR_I32 && t->dtype != MQR_I64) || t->rank != x->rank - 1 || !mqk_ck_t(y, x->dtype))
        return MQR_CHECK_BAD;
    for (d = 0; d < t->rank; d++)
        if (t->dims[d] != x->dims[d == 0 ? 0 : d + 1]) return MQR_CHECK_BAD;
    if (!mqk_ck_bool(c->p[0]) || c->p[1] < MQK_LOSS_NONE || c->p[1] > MQK_LOSS_MEAN || !mqk_ck_bool(c->p[2]))
        return MQR_CHECK_BAD;
    if (c->p[1] == MQK_LOSS_NONE ? !mqk_ck_same_shape(y, t) : mqk_ck_numel(y) != 1) return MQR_CHECK_BAD;
    if (c->n_in > 2 && !mqk_ck_absent(&c->in[2]) &&
        (!mqk_ck_t(&c->in[2], x->dtype) || c->in[2].rank != 1 || c->in[2].dims[0] != x->dims[1]))
        return MQR_CHECK_BAD;
    if (c->n_out > 1 && !mqk_ck_absent(&c->out[1]) && (!mqk_ck_t(&c->out[1], x->dtype) || !mqk_ck_same_shape(&c->out[1], x)))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
