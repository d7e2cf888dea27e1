/* qint_pool.c: average pooling on codes (qint_pool.h): integer window sums, the division left to the
 * next layer's scale. */
#include "runtime/kernels/qint_pool.h"

void mqk_k_qint_winsum_u8(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *y = &c->out[0];
    mqk_conv3 g;
    int32_t od, oh, ow, wide = y->dtype == MQR_I32;
    size_t in_sp, plane, planes, at = 0;
    mqk_qint_window(c, c->p[0], c->p + 1, c->p + 4, c->p + 7, c->p + 10, &g);
    in_sp = (size_t)g.in[0] * (size_t)g.in[1] * (size_t)g.in[2];
    planes = (size_t)x->dims[0] * (size_t)x->dims[1];
    for (plane = 0; plane < planes; plane++) {
        const uint8_t *xp = (const uint8_t *)x->data + plane * in_sp;
        for (od = 0; od < g.out[0]; od++)
            for (oh = 0; oh < g.out[1]; oh++)
                for (ow = 0; ow < g.out[2]; ow++, at++) {
                    uint32_t s = mqk_qint_window_fold(xp, &g, od, oh, ow, 1);
                    if (wide) ((int32_t *)y->data)[at] = (int32_t)s;
                    else ((int16_t *)y->data)[at] = (int16_t)s;
                }
    }
}

/* The pooling window of mqk_qint_pool_ok with y int16 or int32 holding 255 x the kernel's taps. */
int mqk_c_qint_winsum_u8(const mqr_call *c, uint32_t scratch_bytes)
{
    int64_t taps = 255;
    int32_t i, dt;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 13)) return MQR_CHECK_BAD;
    dt = c->out[0].dtype;
    if ((dt != MQR_I16 && dt != MQR_I32) || !mqk_qint_pool_ok(c, dt)) return MQR_CHECK_BAD;
    for (i = 0; i < MQK_MAX_SPATIAL; i++) taps = mqk_nc_mul(taps, c->p[1 + i]);
    return taps <= (dt == MQR_I16 ? 32767 : INT32_MAX) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
