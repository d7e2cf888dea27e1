/* elementwise_move.c: elementwise kernels that only move elements (any dtype, by element size):
 * Identity, Dropout at inference, Where (elementwise.h). */
#include "runtime/kernels/elementwise.h"

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
