/* elementwise_move.c: elementwise kernels that only move elements (any dtype, by element size):
 * Identity, Dropout at inference, Where (elementwise.h). */
#include "runtime/kernels/elementwise_check.h"

void mqk_k_ew_copy(const mqr_call *c)
{
    const size_t bytes = (size_t)mqr_numel(&c->out[0]) * mqk_ew_esize(c->out[0].dtype);
    if (c->out[0].data != c->in[0].data && bytes) memcpy(c->out[0].data, c->in[0].data, bytes);
}

void mqk_k_ew_dropout(const mqr_call *c)
{
    mqk_k_ew_copy(c);
    if (c->n_out > 1 && c->out[1].data) { /* the mask: all ones (bool, or the float type before opset 10) */
        const int32_t n = mqr_numel(&c->out[1]);
        int32_t i;
        if (c->out[1].dtype == MQR_F32) for (i = 0; i < n; i++) ((float *)c->out[1].data)[i] = 1.0f;
        else if (c->out[1].dtype == MQR_F64) for (i = 0; i < n; i++) ((double *)c->out[1].data)[i] = 1.0;
        else memset(c->out[1].data, 1, (size_t)n);
    }
}

#define MQK_WHERE_ROW(name, T)                                                                     \
    static void name(int32_t n, const void *const *in, const int32_t *st, void *out, const void *ctx) \
    {                                                                                              \
        const uint8_t *cd = (const uint8_t *)in[0];                                                \
        const T *x = (const T *)in[1], *y = (const T *)in[2];                                      \
        T *o = (T *)out;                                                                           \
        const size_t sc = (size_t)st[0], sx = (size_t)st[1], sy = (size_t)st[2];                   \
        int32_t i;                                                                                 \
        (void)ctx;                                                                                 \
        for (i = 0; i < n; i++) o[i] = cd[i * sc] ? x[i * sx] : y[i * sy];                         \
    }
MQK_WHERE_ROW(ewv_where1, uint8_t)
MQK_WHERE_ROW(ewv_where2, uint16_t)
MQK_WHERE_ROW(ewv_where4, uint32_t)
MQK_WHERE_ROW(ewv_where8, uint64_t)

void mqk_k_ew_where(const mqr_call *c)
{
    const size_t es = mqk_ew_esize(c->out[0].dtype);
    mqk_ew_bcast(c, c->p, 3, es == 1 ? ewv_where1 : es == 2 ? ewv_where2 : es == 4 ? ewv_where4 : ewv_where8, 0);
}

/* ---- load-time checks (MQR_CHECK_OK in runtime/mqr_kernel.h) ------------------------------------ */

/* in[0] and out[0] of one dtype and element count: the bytes copied are out[0]'s */
int mqk_c_ew_copy(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (c->n_in < 1 || c->in == NULL) return MQR_CHECK_BAD;
    return mqk_ewc_unary_call(c, c->in[0].dtype, c->in[0].dtype, 0, 1, 1) && mqk_ewc_known(c->in[0].dtype)
               ? MQR_CHECK_OK
               : MQR_CHECK_BAD;
}

/* As ew_copy, with the optional ratio and training_mode inputs (never read) and the optional mask
 * out[1]: omitted, or bool / float32 / float64 with out[0]'s count (written whole, by its own dtype). */
int mqk_c_ew_dropout(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t j, dt;
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_in > 3 || c->n_out < 1 || c->n_out > 2 || c->in == NULL || c->out == NULL || c->n_p != 0)
        return MQR_CHECK_BAD;
    dt = c->in[0].dtype;
    if (!mqk_ewc_known(dt) || mqk_ewc_tensor(&c->in[0], dt) < 0 ||
        mqk_ewc_tensor(&c->out[0], dt) != mqk_ewc_numel(&c->in[0]))
        return MQR_CHECK_BAD;
    for (j = 1; j < c->n_in; j++)
        if (!mqk_ewc_ignored_ok(&c->in[j])) return MQR_CHECK_BAD;
    if (c->n_out == 2 && !mqk_ewc_absent(&c->out[1])) {
        dt = c->out[1].dtype;
        if ((dt != MQR_BOOL && dt != MQR_F32 && dt != MQR_F64) ||
            mqk_ewc_tensor(&c->out[1], dt) != mqk_ewc_numel(&c->out[0]))
            return MQR_CHECK_BAD;
    }
    return MQR_CHECK_OK;
}

/* p = BC(3): bool condition, X, Y and the output all of one dtype (the row moves that many bytes) */
int mqk_c_ew_where(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t dt[3];
    (void)scratch_bytes;
    if (c->n_in != 3 || c->in == NULL || !mqk_ewc_known(c->in[1].dtype)) return MQR_CHECK_BAD;
    dt[0] = MQR_BOOL, dt[1] = dt[2] = c->in[1].dtype;
    return mqk_ewc_bcast_call(c, 0, 3, dt, dt[1]) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
