/* elementwise_f32_math.c: float32 kernels of the less common elementwise math ops (libm functions,
 * Elu/Selu/Celu, Softplus, Shrink, Pow, ...), one function each so a linker drops the unused ones. */
#include "runtime/kernels/elementwise_check.h"

#include <math.h>

/* Unary float32 kernel `name`: y = EXPR(v); al, be, ga, la, bi are p[0..4] (elementwise.h). */
#define MQK_EW_MATH_F32(name, EXPR)                                                                \
    void mqk_k_##name(const mqr_call *c)                                                           \
    {                                                                                              \
        const float *x = (const float *)c->in[0].data;                                             \
        float *y = (float *)c->out[0].data;                                                        \
        const float al = c->n_p > 0 ? mqr_p_f32(c->p[0]) : 0.0f;                                   \
        const float be = c->n_p > 1 ? mqr_p_f32(c->p[1]) : 0.0f;                                   \
        const float ga = c->n_p > 2 ? mqr_p_f32(c->p[2]) : 0.0f;                                   \
        const float la = c->n_p > 3 ? mqr_p_f32(c->p[3]) : 0.0f;                                   \
        const float bi = c->n_p > 4 ? mqr_p_f32(c->p[4]) : 0.0f;                                   \
        const int32_t n = mqr_numel(&c->out[0]);                                                   \
        int32_t i;                                                                                 \
        (void)al, (void)be, (void)ga, (void)la, (void)bi;                                          \
        MQK_EW_MAP4(n, x, float, y, float, v, EXPR)                                                       \
    }

MQK_EW_MATH_F32(abs_f32, fabsf(v))
MQK_EW_MATH_F32(neg_f32, -v)
MQK_EW_MATH_F32(sign_f32, v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v)
MQK_EW_MATH_F32(reciprocal_f32, 1.0f / v)
MQK_EW_MATH_F32(floor_f32, floorf(v))
MQK_EW_MATH_F32(ceil_f32, ceilf(v))
MQK_EW_MATH_F32(round_f32, nearbyintf(v)) /* default rounding mode: half to even */
MQK_EW_MATH_F32(sqrt_f32, sqrtf(v))
MQK_EW_MATH_F32(exp_f32, expf(v))
MQK_EW_MATH_F32(log_f32, logf(v))
MQK_EW_MATH_F32(sin_f32, sinf(v))
MQK_EW_MATH_F32(cos_f32, cosf(v))
MQK_EW_MATH_F32(tan_f32, tanf(v))
MQK_EW_MATH_F32(asin_f32, asinf(v))
MQK_EW_MATH_F32(acos_f32, acosf(v))
MQK_EW_MATH_F32(atan_f32, atanf(v))
MQK_EW_MATH_F32(sinh_f32, sinhf(v))
MQK_EW_MATH_F32(cosh_f32, coshf(v))
MQK_EW_MATH_F32(asinh_f32, asinhf(v))
MQK_EW_MATH_F32(acosh_f32, acoshf(v))
MQK_EW_MATH_F32(atanh_f32, atanhf(v))
MQK_EW_MATH_F32(erf_f32, erff(v))
MQK_EW_MATH_F32(elu_f32, v < 0.0f ? al * expm1f(v) : v)
MQK_EW_MATH_F32(selu_f32, v <= 0.0f ? ga * (al * expf(v) - al) : ga * v)
MQK_EW_MATH_F32(celu_f32, (v > 0.0f ? v : 0.0f) + (v < 0.0f ? al * expm1f(v / al) : 0.0f))
MQK_EW_MATH_F32(thresholdedrelu_f32, v > al ? v : 0.0f)
MQK_EW_MATH_F32(softplus_f32, v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v)))
MQK_EW_MATH_F32(softsign_f32, v / (1.0f + fabsf(v)))
MQK_EW_MATH_F32(shrink_f32, v < -la ? v + bi : v > la ? v - bi : 0.0f)

MQK_EW_ROW2(ewm_pow_row, float, float, powf(x, y))

/* Pow with a float32 base and exponent: p = BC(2) */
void mqk_k_pow_f32(const mqr_call *c) { mqk_ew_bcast(c, c->p, 2, ewm_pow_row, 0); }

/* ---- load-time checks (MQR_CHECK_OK in runtime/mqr_kernel.h) ------------------------------------ */

/* float32 in and out of one element count, p[0..4] = alpha, beta, gamma, lambd, bias */
#define MQK_EW_CHECK_MATH_F32(name)                                                                \
    int mqk_c_##name(const mqr_call *c, uint32_t scratch_bytes)                                    \
    {                                                                                              \
        (void)scratch_bytes;                                                                       \
        return mqk_ewc_unary_call(c, MQR_F32, MQR_F32, 5, 1, 1) ? MQR_CHECK_OK : MQR_CHECK_BAD;    \
    }
MQK_EW_CHECK_MATH_F32(abs_f32)
MQK_EW_CHECK_MATH_F32(neg_f32)
MQK_EW_CHECK_MATH_F32(sign_f32)
MQK_EW_CHECK_MATH_F32(reciprocal_f32)
MQK_EW_CHECK_MATH_F32(floor_f32)
MQK_EW_CHECK_MATH_F32(ceil_f32)
MQK_EW_CHECK_MATH_F32(round_f32)
MQK_EW_CHECK_MATH_F32(sqrt_f32)
MQK_EW_CHECK_MATH_F32(exp_f32)
MQK_EW_CHECK_MATH_F32(log_f32)
MQK_EW_CHECK_MATH_F32(sin_f32)
MQK_EW_CHECK_MATH_F32(cos_f32)
MQK_EW_CHECK_MATH_F32(tan_f32)
MQK_EW_CHECK_MATH_F32(asin_f32)
MQK_EW_CHECK_MATH_F32(acos_f32)
MQK_EW_CHECK_MATH_F32(atan_f32)
MQK_EW_CHECK_MATH_F32(sinh_f32)
MQK_EW_CHECK_MATH_F32(cosh_f32)
MQK_EW_CHECK_MATH_F32(asinh_f32)
MQK_EW_CHECK_MATH_F32(acosh_f32)
MQK_EW_CHECK_MATH_F32(atanh_f32)
MQK_EW_CHECK_MATH_F32(erf_f32)
MQK_EW_CHECK_MATH_F32(elu_f32)
MQK_EW_CHECK_MATH_F32(selu_f32)
MQK_EW_CHECK_MATH_F32(celu_f32)
MQK_EW_CHECK_MATH_F32(thresholdedrelu_f32)
MQK_EW_CHECK_MATH_F32(softplus_f32)
MQK_EW_CHECK_MATH_F32(softsign_f32)
MQK_EW_CHECK_MATH_F32(shrink_f32)

/* float32 base, exponent and result, p = BC(2) */
int mqk_c_pow_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const int32_t dt[2] = {MQR_F32, MQR_F32};
    (void)scratch_bytes;
    return mqk_ewc_bcast_call(c, 0, 2, dt, MQR_F32) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
