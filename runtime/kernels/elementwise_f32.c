/* elementwise_f32.c: float32 kernels of the elementwise ops a float CNN uses most: Add/Sub/Mul/Div,
 * PRelu, Max/Min/Sum/Mean, Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish (elementwise.h). */
#include "runtime/kernels/elementwise_check.h"

#include <math.h>

MQK_EW_ROW2(ewf_add_row, float, float, x + y)
MQK_EW_ROW2(ewf_sub_row, float, float, x - y)
MQK_EW_ROW2(ewf_mul_row, float, float, x * y)
MQK_EW_ROW2(ewf_div_row, float, float, x / y)
MQK_EW_ROW2(ewf_prelu_row, float, float, x < 0 ? x * y : x)
/* Max / Min propagate NaN (from either side) */
MQK_EW_ROW2(ewf_max_row, float, float, (x > y || x != x) ? x : y)
MQK_EW_ROW2(ewf_min_row, float, float, (x < y || x != x) ? x : y)

void mqk_k_add_f32(const mqr_call *c) { mqk_ew_bcast(c, c->p, 2, ewf_add_row, 0); }
void mqk_k_sub_f32(const mqr_call *c) { mqk_ew_bcast(c, c->p, 2, ewf_sub_row, 0); }
void mqk_k_mul_f32(const mqr_call *c) { mqk_ew_bcast(c, c->p, 2, ewf_mul_row, 0); }
void mqk_k_div_f32(const mqr_call *c) { mqk_ew_bcast(c, c->p, 2, ewf_div_row, 0); }
void mqk_k_prelu_f32(const mqr_call *c) { mqk_ew_bcast(c, c->p, 2, ewf_prelu_row, 0); }

/* Max / Min / Sum / Mean: out = in0 (op) in1, then out = out (op) in_j for j >= 2. */
void mqk_k_variadic_f32(const mqr_call *c)
{
    const int32_t op = c->p[0], *bc = c->p + 1, r = bc[0], *dims = bc + 1;
    const int32_t k = c->n_in, n = mqr_numel(&c->out[0]);
    mqk_ew_row_fn row = op == MQK_V_MAX ? ewf_max_row : op == MQK_V_MIN ? ewf_min_row : ewf_add_row;
    float *y = (float *)c->out[0].data;
    int32_t so[MQR_MAX_RANK], i, d;
    const size_t es[2] = {4, 4};
    if (k == 1) {
        if (y != c->in[0].data) memcpy(y, c->in[0].data, (size_t)n * 4);
    } else {
        const void *in[2];
        const int32_t *st[2];
        in[0] = c->in[0].data, in[1] = c->in[1].data;
        st[0] = bc + 1 + r, st[1] = bc + 1 + 2 * r;
        mqk_ew_drive(r, dims, 2, in, st, es, y, 4, row, 0);
        so[r - 1] = 1; /* the output's own (contiguous) strides in the collapsed shape */
        for (d = r - 2; d >= 0; d--) so[d] = so[d + 1] * dims[d + 1];
        for (i = 2; i < k; i++) {
            in[0] = y, in[1] = c->in[i].data;
            st[0] = so, st[1] = bc + 1 + r * (1 + i);
            mqk_ew_drive(r, dims, 2, in, st, es, y, 4, row, 0);
        }
    }
    if (op == MQK_V_MEAN) {
        const float s = 1.0f / (float)k;
        for (i = 0; i < n; i++) y[i] *= s;
    }
}

/* Unary float32 kernel `name`: y = EXPR(v) over every element, with the float parameters
 * al = p[0], be = p[1] at hand. */
#define MQK_EW_UNARY_F32(name, EXPR)                                                               \
    void mqk_k_##name(const mqr_call *c)                                                           \
    {                                                                                              \
        const float *x = (const float *)c->in[0].data;                                             \
        float *y = (float *)c->out[0].data;                                                        \
        const float al = c->n_p > 0 ? mqr_p_f32(c->p[0]) : 0.0f;                                   \
        const float be = c->n_p > 1 ? mqr_p_f32(c->p[1]) : 0.0f;                                   \
        const int32_t n = mqr_numel(&c->out[0]);                                                   \
        int32_t i;                                                                                 \
        (void)al, (void)be;                                                                        \
        MQK_EW_MAP4(n, x, float, y, float, v, EXPR)                                                       \
    }

MQK_EW_UNARY_F32(relu_f32, v < 0.0f ? 0.0f : v)
MQK_EW_UNARY_F32(leakyrelu_f32, v < 0.0f ? al * v : v)
MQK_EW_UNARY_F32(sigmoid_f32, v >= 0.0f ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v)))
MQK_EW_UNARY_F32(tanh_f32, tanhf(v))
MQK_EW_UNARY_F32(hardsigmoid_f32, fmaxf(0.0f, fminf(1.0f, al * v + be)))
MQK_EW_UNARY_F32(hardswish_f32, v * fmaxf(0.0f, fminf(1.0f, (float)(1.0 / 6.0) * v + 0.5f)))

void mqk_k_clip_f32(const mqr_call *c)
{
    const float *x = (const float *)c->in[0].data;
    float *y = (float *)c->out[0].data, lo = mqr_p_f32(c->p[0]), hi = mqr_p_f32(c->p[1]);
    const int32_t n = mqr_numel(&c->out[0]);
    int32_t i;
    if (c->n_in > 1 && c->in[1].data) lo = *(const float *)c->in[1].data;
    if (c->n_in > 2 && c->in[2].data) hi = *(const float *)c->in[2].data;
    for (i = 0; i < n; i++) {
        float v = x[i];
        if (v < lo) v = lo;
        if (v > hi) v = hi; /* min > max gives max everywhere, as specified */
        y[i] = v;
    }
}

/* ---- load-time checks (MQR_CHECK_OK in runtime/mqr_kernel.h) ------------------------------------ */

/* float32 A, B and O, p = BC(2) */
static int ewf_check_bin(const mqr_call *c)
{
    const int32_t dt[2] = {MQR_F32, MQR_F32};
    return mqk_ewc_bcast_call(c, 0, 2, dt, MQR_F32) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
int mqk_c_add_f32(const mqr_call *c, uint32_t scratch_bytes) { (void)scratch_bytes; return ewf_check_bin(c); }
int mqk_c_sub_f32(const mqr_call *c, uint32_t scratch_bytes) { (void)scratch_bytes; return ewf_check_bin(c); }
int mqk_c_mul_f32(const mqr_call *c, uint32_t scratch_bytes) { (void)scratch_bytes; return ewf_check_bin(c); }
int mqk_c_div_f32(const mqr_call *c, uint32_t scratch_bytes) { (void)scratch_bytes; return ewf_check_bin(c); }
int mqk_c_prelu_f32(const mqr_call *c, uint32_t scratch_bytes) { (void)scratch_bytes; return ewf_check_bin(c); }

/* n_in >= 1 float32 inputs, p[0] = MQK_V_*, p[1..] = BC(n_in); one input is copied whole */
int mqk_c_variadic_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t j;
    int64_t n;
    (void)scratch_bytes;
    if (!mqk_ewc_counts(c, 1, MQR_MAX_PARAMS, 1) || c->n_p < 2 || c->p == NULL) return MQR_CHECK_BAD;
    if (c->p[0] < MQK_V_MAX || c->p[0] > MQK_V_MEAN) return MQR_CHECK_BAD;
    n = mqk_ewc_tensor(&c->out[0], MQR_F32);
    for (j = 0; j < c->n_in; j++)
        if (mqk_ewc_tensor(&c->in[j], MQR_F32) < 0) return MQR_CHECK_BAD;
    if (n < 0 || !mqk_ewc_bcast(c, c->p + 1, c->n_p - 1, c->n_in)) return MQR_CHECK_BAD;
    if (c->n_in == 1 && mqk_ewc_numel(&c->in[0]) != n) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* float32 in and out of one element count, p[0..4] = alpha, beta, gamma, lambd, bias */
#define MQK_EW_CHECK_UNARY_F32(name)                                                               \
    int mqk_c_##name(const mqr_call *c, uint32_t scratch_bytes)                                    \
    {                                                                                              \
        (void)scratch_bytes;                                                                       \
        return mqk_ewc_unary_call(c, MQR_F32, MQR_F32, 5, 1, 1) ? MQR_CHECK_OK : MQR_CHECK_BAD;    \
    }
MQK_EW_CHECK_UNARY_F32(relu_f32)
MQK_EW_CHECK_UNARY_F32(leakyrelu_f32)
MQK_EW_CHECK_UNARY_F32(sigmoid_f32)
MQK_EW_CHECK_UNARY_F32(tanh_f32)
MQK_EW_CHECK_UNARY_F32(hardsigmoid_f32)
MQK_EW_CHECK_UNARY_F32(hardswish_f32)

/* p[0] = min, p[1] = max; optional in[1] / in[2]: omitted, or a float32 scalar read when it has data */
int mqk_c_clip_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t j;
    (void)scratch_bytes;
    if (!mqk_ewc_unary_call(c, MQR_F32, MQR_F32, 2, 1, 3)) return MQR_CHECK_BAD;
    for (j = 1; j < c->n_in; j++)
        if (!mqk_ewc_absent(&c->in[j]) && mqk_ewc_tensor(&c->in[j], MQR_F32) != 1) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
