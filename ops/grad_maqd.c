/* grad_maqd.c: backward rules of the MaQD ops (../shared/MAQD.md): LayerBatchNorm (exact, through the
 * batch statistics in training mode), WeightQuant (straight-through, then exactly through WS), ActQuant. */
#include "ops/grad.h"
#include "ops/maqd.h"
#include "ops/util.h"

#include <math.h>
#include <string.h>

/* ---- numeric pieces ---------------------------------------------------------------------------------- */

void mq_grad_ws_f32(size_t outer, size_t channels, size_t inner, const float *w, const float *g, float eps, float *dw)
{
    /* w_hat = d r, d = w - mean, r = 1 / (s + eps), s = sqrt(mean(d^2)). With F the fan-in:
     * dL/dw_i = r (g_i - mean(g)) - r^2 d_i / (F s) * sum_j g_j d_j   (the mean of d is 0). */
    size_t fan = outer * inner, stride = channels * inner;
    if (fan == 0) return;
    for (size_t c = 0; c < channels; c++) {
        double sw = 0, sg = 0;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                sw += w[o * stride + c * inner + i];
                sg += g[o * stride + c * inner + i];
            }
        double mean = sw / (double)fan, gmean = sg / (double)fan, ss = 0, gd = 0;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                size_t k = o * stride + c * inner + i;
                double d = w[k] - mean;
                ss += d * d;
                gd += g[k] * d;
            }
        double s = sqrt(ss / (double)fan), r = 1.0 / (s + (double)eps);
        double coef = s > 0 ? r * r * gd / ((double)fan * s) : 0;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                size_t k = o * stride + c * inner + i;
                dw[k] = (float)(r * (g[k] - gmean) - coef * (w[k] - mean));
            }
    }
}

float mq_grad_actq_surrogate(float x, int m, float delta, int sigmoid)
{
    if (!sigmoid) return x >= 0 && x <= ((float)m - 0.5f) * delta ? 1.0f : 0.0f;
    double a = MQ_GRAD_SIGMOID_ALPHA, d = 0;
    for (int k = 1; k < m; k++) {
        double t = (k - 0.5) * delta, s = 1.0 / (1.0 + exp(-a * (x - t) / delta));
        d += a * s * (1 - s);
    }
    return (float)d;
}

int mq_grad_wq_pass(float w_hat, int n, float delta) { return fabsf(w_hat / delta) <= 0.5f * (float)(n - 1) + 0.5f; }

static size_t prod(const int64_t *dims, int from, int to)
{
    size_t p = 1;
    for (int d = from; d < to; d++) p *= (size_t)dims[d];
    return p;
}

static mq_status need_f32(const mq_node *n, const mq_tensor *t, mq_err *err)
{
    if (t && t->dtype != MQ_F32) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "backward supports float32 only");
    return MQ_OK;
}

static mq_status states_of(const mq_node *n, int *states, mq_err *err)
{
    int64_t s = mq_attr_int(n, "states", 0);
    if (s < MQ_MAQD_MIN_STATES || s > MQ_MAQD_MAX_STATES)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'states' must be in %d..%d", MQ_MAQD_MIN_STATES,
                            MQ_MAQD_MAX_STATES);
    *states = (int)s;
    return MQ_OK;
}

/* ---- LayerBatchNorm ---------------------------------------------------------------------------------- */

mq_status mq_grad_lbn(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                      const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    (void)out;
    const mq_tensor *x = in[0];
    size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], S = prod(x->dims, 2, x->rank), total = N * C * S;
    const float *xs = x->data, *gamma = in[1]->data, *gy = dout[0];
    int training = mq_attr_int(n, "training", 0) != 0;
    double eps = mq_attr_float(n, "epsilon", 1e-5f);
    double mu = ((const float *)in[3]->data)[0], var = ((const float *)in[4]->data)[0];
    if (training) { /* the forward's statistics, recomputed the same way */
        double s = 0, ss = 0;
        for (size_t i = 0; i < total; i++) s += xs[i];
        mu = total ? s / (double)total : 0;
        for (size_t i = 0; i < total; i++) ss += (xs[i] - mu) * (xs[i] - mu);
        var = total ? ss / (double)total : 0;
    }
    double inv = 1.0 / sqrt(var + eps);
    /* per channel: sum of gy and of gy * xhat */
    double sum_dxh = 0, sum_dxh_xh = 0, dmu_run = 0, dvar_run = 0;
    for (size_t c = 0; c < C; c++) {
        double sg = 0, sgx = 0;
        for (size_t i = 0; i < N; i++) {
            const float *xp = xs + (i * C + c) * S, *gp = gy + (i * C + c) * S;
            for (size_t k = 0; k < S; k++) {
                sg += gp[k];
                sgx += gp[k] * (xp[k] - mu);
            }
        }
        sgx *= inv;
        if (din[1]) din[1][c] = (float)sgx;
        if (din[2]) din[2][c] = (float)sg;
        sum_dxh += gamma[c] * sg;
        sum_dxh_xh += gamma[c] * sgx;
        dmu_run -= gamma[c] * sg * inv;
        dvar_run += gamma[c] * sgx * (-0.5) / (var + eps);
    }
    if (din[3]) din[3][0] = training ? 0.0f : (float)dmu_run;
    if (din[4]) din[4][0] = training ? 0.0f : (float)dvar_run;
    if (!din[0]) return MQ_OK;
    double mean_dxh = total ? sum_dxh / (double)total : 0, mean_dxh_xh = total ? sum_dxh_xh / (double)total : 0;
    for (size_t c = 0; c < C; c++)
        for (size_t i = 0; i < N; i++) {
            const float *xp = xs + (i * C + c) * S, *gp = gy + (i * C + c) * S;
            float *dp = din[0] + (i * C + c) * S;
            for (size_t k = 0; k < S; k++) {
                double dxh = (double)gp[k] * gamma[c];
                if (training) {
                    double xh = (xp[k] - mu) * inv;
                    dp[k] = (float)(inv * (dxh - mean_dxh - xh * mean_dxh_xh));
                } else
                    dp[k] = (float)(inv * dxh);
            }
        }
    return MQ_OK;
}

/* ---- WeightQuant ----------------------------------------------------------------------------------- */

mq_status mq_grad_weightquant(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    (void)out;
    if (!din[0]) return MQ_OK;
    int states = 2, axis = 0;
    MQ_TRY(states_of(n, &states, err));
    float delta = mq_attr_float(n, "delta", (float)mq_maqd_optimal_step(states));
    const mq_tensor *w = in[0];
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), w->rank, &axis, err));
    size_t total = prod(w->dims, 0, w->rank), outer = prod(w->dims, 0, axis), inner = prod(w->dims, axis + 1, w->rank);
    float eps = mq_attr_float(n, "eps_w", 1e-5f);
    int stdz = mq_attr_int(n, "standardize", 1) != 0;
    const float *ws = w->data;
    float *what = stdz ? mq_malloc(sizeof(float) * (total ? 2 * total : 1)) : NULL;
    if (stdz && !what) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    const float *wh = ws;
    if (stdz) {
        mq_maqd_ws_f32(outer, (size_t)w->dims[axis], inner, ws, eps, what);
        wh = what;
    }
    float *g = stdz ? what + total : din[0];
    for (size_t i = 0; i < total; i++) g[i] = mq_grad_wq_pass(wh[i], states, delta) ? dout[0][i] : 0.0f;
    if (stdz) mq_grad_ws_f32(outer, (size_t)w->dims[axis], inner, ws, g, eps, din[0]);
    mq_free(what);
    return MQ_OK;
}

/* ---- ActQuant ------------------------------------------------------------------------------------- */

mq_status mq_grad_actquant(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                           const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    (void)out;
    int states = 2;
    MQ_TRY(states_of(n, &states, err));
    float delta = mq_attr_float(n, "delta", 1.0f);
    const char *sur = mq_attr_str(n, "surrogate", "ste");
    int sigmoid = strcmp(sur, "sigmoid") == 0;
    if (!sigmoid && strcmp(sur, "ste") != 0)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "unknown surrogate '%s' (ste or sigmoid)", sur);
    const float *x = in[0]->data;
    size_t total = prod(in[0]->dims, 0, in[0]->rank);
    if (!sigmoid) {
        float hi = ((float)states - 0.5f) * delta;
        for (size_t i = 0; i < total; i++) din[0][i] = x[i] >= 0 && x[i] <= hi ? dout[0][i] : 0.0f;
    } else
        for (size_t i = 0; i < total; i++) din[0][i] = dout[0][i] * mq_grad_actq_surrogate(x[i], states, delta, 1);
    return MQ_OK;
}
