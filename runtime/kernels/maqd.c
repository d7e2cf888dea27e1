/* maqd.c: the MaQD kernels (LayerBatchNorm eval, WeightQuant, ActQuant) and the numeric cores shared with
 * the compiler (ops/maqd.c, passes). Layouts: maqd.h. */
#include "runtime/kernels/maqd.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/mqr_kernel.h"

#include <math.h>

float mqk_maqd_round_level(float v, int n)
{
    float r;
    if (n % 2) return roundf(v); /* integer levels; roundf rounds ties away from zero */
    /* Half-integer levels: the nearest to v is floor(|v|) + 1/2 with v's sign; v exactly an integer k is
     * a tie between k - 1/2 and k + 1/2, and floor(|k|) + 1/2 is the one away from zero. */
    r = floorf(fabsf(v)) + 0.5f;
    return v < 0 ? -r : r;
}

float mqk_maqd_src(float x, int n, float delta)
{
    float h = 0.5f * (float)(n - 1);
    float r = mqk_maqd_round_level(x / delta, n);
    if (r > h) r = h;
    if (r < -h) r = -h;
    return delta * r;
}

float mqk_maqd_actq(float x, int m, float delta)
{
    /* round: roundf, i.e. ties away from zero (x / delta = 0.5 gives 1; the clip makes negatives 0). */
    float r = roundf(x / delta);
    if (r > (float)(m - 1)) r = (float)(m - 1);
    if (r < 0) r = 0;
    return delta * r;
}

void mqk_maqd_ws_f32(size_t outer, size_t channels, size_t inner, const float *w, float eps, float *out)
{
    size_t fan = outer * inner, stride = channels * inner, c, o, i;
    for (c = 0; c < channels; c++) {
        double s = 0, mean, ss = 0, scale;
        for (o = 0; o < outer; o++)
            for (i = 0; i < inner; i++) s += w[o * stride + c * inner + i];
        mean = fan ? s / (double)fan : 0;
        for (o = 0; o < outer; o++)
            for (i = 0; i < inner; i++) {
                double d = w[o * stride + c * inner + i] - mean;
                ss += d * d;
            }
        scale = 1.0 / (sqrt(fan ? ss / (double)fan : 0) + (double)eps);
        for (o = 0; o < outer; o++)
            for (i = 0; i < inner; i++) {
                size_t k = o * stride + c * inner + i;
                out[k] = (float)((w[k] - mean) * scale);
            }
    }
}

void mqk_maqd_lbn_f32(size_t N, size_t C, size_t S, const float *x, const float *gamma, const float *beta,
                      double mu, double var, double eps, float *y)
{
    double inv = 1.0 / sqrt(var + eps);
    size_t c, i, k;
    for (c = 0; c < C; c++) {
        double ad = gamma[c] * inv;
        float a = (float)ad, b = (float)(beta[c] - ad * mu);
        for (i = 0; i < N; i++) {
            const float *xp = x + (i * C + c) * S;
            float *yp = y + (i * C + c) * S;
            for (k = 0; k < S; k++) yp[k] = a * xp[k] + b;
        }
    }
}

static size_t span(const mqr_tensor *t, int32_t from, int32_t to)
{
    size_t p = 1;
    int32_t d;
    for (d = from; d < to; d++) p *= (size_t)t->dims[d];
    return p;
}

void mqk_k_maqd_lbn_f32(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    mqk_maqd_lbn_f32((size_t)x->dims[0], (size_t)x->dims[1], span(x, 2, x->rank), (const float *)x->data,
                     (const float *)c->in[1].data, (const float *)c->in[2].data, ((const float *)c->in[3].data)[0],
                     ((const float *)c->in[4].data)[0], (double)mqr_p_f32(c->p[0]), (float *)c->out[0].data);
}

void mqk_k_maqd_weight_quant_f32(const mqr_call *c)
{
    const mqr_tensor *w = &c->in[0];
    float *y = (float *)c->out[0].data, delta = mqr_p_f32(c->p[1]);
    int32_t states = c->p[0], axis = c->p[3];
    size_t total = span(w, 0, w->rank), i;
    if (c->p[4])
        mqk_maqd_ws_f32(span(w, 0, axis), (size_t)w->dims[axis], span(w, axis + 1, w->rank), (const float *)w->data,
                        mqr_p_f32(c->p[2]), y);
    else if (total && y != (float *)w->data)
        memcpy(y, w->data, total * sizeof(float));
    for (i = 0; i < total; i++) y[i] = mqk_maqd_src(y[i], states, delta);
}

void mqk_maqd_actq_f32(size_t n, const float *x, int m, float delta, float *y)
{
    float top = (float)(m - 1);
    size_t i;
    /* mqk_maqd_actq(x[i], m, delta) without a libm call per value (so the loop vectorizes), bit for bit:
     * clipping v = x / delta to [0, m-1] before rounding gives the same level (m-1 is an integer); roundf
     * of a non-negative value is its truncation plus (fraction >= 1/2), the fraction being exact; for
     * |v| < 1/2 roundf gives a zero with v's sign; NaN stays NaN. */
    for (i = 0; i < n; i++) {
        float v = x[i] / delta, cv = v > top ? top : v, t, r;
        cv = cv > 0.0f ? cv : 0.0f;
        t = (float)(int32_t)cv;
        r = cv - t >= 0.5f ? t + 1.0f : t;
        r = fabsf(v) < 0.5f ? copysignf(0.0f, v) : r;
        y[i] = v == v ? delta * r : delta * v;
    }
}

void mqk_k_maqd_act_quant_f32(const mqr_call *c)
{
    mqk_maqd_actq_f32((size_t)mqr_numel(&c->in[0]), (const float *)c->in[0].data, c->p[0], mqr_p_f32(c->p[1]),
                      (float *)c->out[0].data);
}

/* x float32 of rank >= 2 [N, C, ...], gamma and beta float32 [C], mu_run and var_run one float32 each, y
 * like x (the extra outputs of training mode absent or unused); epsilon >= 0. */
int mqk_c_maqd_lbn_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x;
    int32_t i;
    (void)scratch_bytes;
    if (c->n_in != 5 || c->n_out < 1 || c->n_out > 3 || c->n_p != 1) return MQR_CHECK_BAD;
    x = &c->in[0];
    if (!mqk_ck_t(x, MQR_F32) || x->rank < 2 || !mqk_ck_t(&c->out[0], MQR_F32) || !mqk_ck_same_shape(x, &c->out[0]))
        return MQR_CHECK_BAD;
    for (i = 1; i < 5; i++) {
        const mqr_tensor *t = &c->in[i];
        if (!mqk_ck_t(t, MQR_F32)) return MQR_CHECK_BAD;
        if (i < 3 ? (t->rank != 1 || t->dims[0] != x->dims[1]) : mqk_ck_numel(t) != 1) return MQR_CHECK_BAD;
    }
    return mqr_p_f32(c->p[0]) >= 0 ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* The states of WeightQuant / ActQuant (ops/maqd.h: MQ_MAQD_MIN_STATES..MQ_MAQD_MAX_STATES) and a finite
 * delta > 0. */
static int maqd_ck_states_delta(int32_t states, int32_t delta)
{
    return states >= 2 && states <= 256 && mqk_ck_finite_f32(delta) && mqr_p_f32(delta) > 0;
}

/* A quantizer's inputs: x, and optionally its step as a float32 value of one element (a learned step; the
 * kernel uses p[1], which the lowering read from it). */
static int maqd_ck_quant_inputs(const mqr_call *c)
{
    if (c->n_in == 1) return 1;
    return c->n_in == 2 && mqk_ck_t(&c->in[1], MQR_F32) && mqk_ck_numel(&c->in[1]) == 1;
}

/* W float32 of rank >= 1, y like W (an optional step input: maqd_ck_quant_inputs); states, delta; eps_w finite
 * >= 0; axis < rank; standardize 0/1. */
int mqk_c_maqd_weight_quant_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *w;
    (void)scratch_bytes;
    if (!maqd_ck_quant_inputs(c) || c->n_out != 1 || c->n_p != 5) return MQR_CHECK_BAD;
    w = &c->in[0];
    if (!mqk_ck_t(w, MQR_F32) || w->rank < 1 || !mqk_ck_t(&c->out[0], MQR_F32) || !mqk_ck_same_shape(w, &c->out[0]))
        return MQR_CHECK_BAD;
    if (!maqd_ck_states_delta(c->p[0], c->p[1]) || !mqk_ck_finite_f32(c->p[2]) || !(mqr_p_f32(c->p[2]) >= 0) ||
        c->p[3] < 0 || c->p[3] >= w->rank || !mqk_ck_bool(c->p[4]))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* x float32, y like x (an optional step input: maqd_ck_quant_inputs); states, delta. */
int mqk_c_maqd_act_quant_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!maqd_ck_quant_inputs(c) || c->n_out != 1 || c->n_p != 2) return MQR_CHECK_BAD;
    if (!mqk_ck_t(&c->in[0], MQR_F32) || !mqk_ck_t(&c->out[0], MQR_F32) || !mqk_ck_same_shape(&c->in[0], &c->out[0]))
        return MQR_CHECK_BAD;
    return maqd_ck_states_delta(c->p[0], c->p[1]) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
