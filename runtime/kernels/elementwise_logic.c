/* elementwise_logic.c: kernels with bool results or operands: float32 comparisons, And/Or/Xor/Not on
 * bool, IsNaN and IsInf (elementwise.h). */
#include "runtime/kernels/elementwise_check.h"

#include <math.h>

MQK_EW_ROW2(ewl_eq_row, float, uint8_t, x == y)
MQK_EW_ROW2(ewl_lt_row, float, uint8_t, x < y)
MQK_EW_ROW2(ewl_le_row, float, uint8_t, x <= y)
MQK_EW_ROW2(ewl_gt_row, float, uint8_t, x > y)
MQK_EW_ROW2(ewl_ge_row, float, uint8_t, x >= y)
MQK_EW_ROW2(ewl_and_row, uint8_t, uint8_t, x != 0 && y != 0)
MQK_EW_ROW2(ewl_or_row, uint8_t, uint8_t, x != 0 || y != 0)
MQK_EW_ROW2(ewl_xor_row, uint8_t, uint8_t, (x != 0) != (y != 0))

void mqk_k_compare_f32(const mqr_call *c)
{
    const int32_t op = c->p[0];
    mqk_ew_row_fn row = op == MQK_B_EQ   ? ewl_eq_row
                        : op == MQK_B_LT ? ewl_lt_row
                        : op == MQK_B_LE ? ewl_le_row
                        : op == MQK_B_GT ? ewl_gt_row
                                         : ewl_ge_row;
    mqk_ew_bcast(c, c->p + 1, 2, row, 0);
}

void mqk_k_logic_bool(const mqr_call *c)
{
    const int32_t op = c->p[0];
    mqk_ew_bcast(c, c->p + 1, 2, op == MQK_B_AND ? ewl_and_row : op == MQK_B_OR ? ewl_or_row : ewl_xor_row, 0);
}

void mqk_k_not_bool(const mqr_call *c)
{
    const uint8_t *x = (const uint8_t *)c->in[0].data;
    uint8_t *y = (uint8_t *)c->out[0].data;
    const int32_t n = mqr_numel(&c->out[0]);
    int32_t i;
    for (i = 0; i < n; i++) y[i] = (uint8_t)!x[i];
}

/* IsNaN / IsInf of float32 or float64 values; inf_neg / inf_pos < 0: IsNaN. */
static void ewl_classify(const mqr_call *c, int inf_neg, int inf_pos)
{
    uint8_t *y = (uint8_t *)c->out[0].data;
    const int32_t n = mqr_numel(&c->out[0]);
    int32_t i;
#define MQK_CLASSIFY(T)                                                                            \
    {                                                                                              \
        const T *x = (const T *)c->in[0].data;                                                     \
        for (i = 0; i < n; i++) {                                                                  \
            const T v = x[i];                                                                      \
            if (inf_neg < 0) y[i] = (uint8_t)(isnan(v) != 0);                                      \
            else y[i] = (uint8_t)(isinf(v) && (v > 0 ? inf_pos : inf_neg));                        \
        }                                                                                          \
    }
    if (c->in[0].dtype == MQR_F64) MQK_CLASSIFY(double)
    else MQK_CLASSIFY(float)
#undef MQK_CLASSIFY
}

void mqk_k_ew_isnan(const mqr_call *c) { ewl_classify(c, -1, -1); }
void mqk_k_ew_isinf(const mqr_call *c) { ewl_classify(c, c->p[0] != 0, c->p[1] != 0); }

/* ---- load-time checks (MQR_CHECK_OK in runtime/mqr_kernel.h) ------------------------------------ */

/* p[0] = MQK_B_EQ..MQK_B_GE, p[1..] = BC(2); float32 inputs, bool output */
int mqk_c_compare_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const int32_t dt[2] = {MQR_F32, MQR_F32};
    (void)scratch_bytes;
    if (!mqk_ewc_bcast_call(c, 1, 2, dt, MQR_BOOL)) return MQR_CHECK_BAD;
    return c->p[0] >= MQK_B_EQ && c->p[0] <= MQK_B_GE ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* p[0] = MQK_B_AND / OR / XOR, p[1..] = BC(2); bool inputs and output */
int mqk_c_logic_bool(const mqr_call *c, uint32_t scratch_bytes)
{
    const int32_t dt[2] = {MQR_BOOL, MQR_BOOL};
    (void)scratch_bytes;
    if (!mqk_ewc_bcast_call(c, 1, 2, dt, MQR_BOOL)) return MQR_CHECK_BAD;
    return c->p[0] == MQK_B_AND || c->p[0] == MQK_B_OR || c->p[0] == MQK_B_XOR ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

int mqk_c_not_bool(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return mqk_ewc_unary_call(c, MQR_BOOL, MQR_BOOL, 0, 1, 1) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* float32 or float64 in, bool out of the same count */
static int ewl_check_classify(const mqr_call *c, int32_t n_p)
{
    if (c->n_in < 1 || c->in == NULL || (c->in[0].dtype != MQR_F32 && c->in[0].dtype != MQR_F64)) return 0;
    return mqk_ewc_unary_call(c, c->in[0].dtype, MQR_BOOL, n_p, 1, 1);
}

int mqk_c_ew_isnan(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return ewl_check_classify(c, 0) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* p[0] = detect_negative, p[1] = detect_positive (0 or 1) */
int mqk_c_ew_isinf(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!ewl_check_classify(c, 2)) return MQR_CHECK_BAD;
    return (c->p[0] == 0 || c->p[0] == 1) && (c->p[1] == 0 || c->p[1] == 1) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
