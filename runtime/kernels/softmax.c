/* softmax.c: Softmax / LogSoftmax / Hardmax kernel (see softmax.h); the maximum is subtracted first
 * so large inputs do not overflow; exponentials are computed once and stored. */
#include "runtime/kernels/softmax.h"
#include "runtime/kernels/nn_check.h"

#include <math.h>

void mqk_softmax_f32(size_t outer, size_t n, size_t inner, int kind, const float *x, float *y)
{
    size_t o, i, k;
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            const float *xp = x + o * n * inner + i;
            float *yp = y + o * n * inner + i;
            float m;
            size_t arg = 0;
            double s = 0.0;
            if (n == 0) continue;
            m = xp[0];
            for (k = 1; k < n; k++)
                if (xp[k * inner] > m) {
                    m = xp[k * inner];
                    arg = k;
                }
            if (kind == MQK_HARDMAX) {
                for (k = 0; k < n; k++) yp[k * inner] = k == arg ? 1.0f : 0.0f;
                continue;
            }
            if (kind == MQK_SOFTMAX) {
                float inv;
                for (k = 0; k < n; k++) {
                    float e = expf(xp[k * inner] - m);
                    yp[k * inner] = e;
                    s += e;
                }
                inv = (float)(1.0 / s);
                for (k = 0; k < n; k++) yp[k * inner] *= inv;
            } else {
                float ls;
                for (k = 0; k < n; k++) s += expf(xp[k * inner] - m);
                ls = (float)log(s);
                for (k = 0; k < n; k++) yp[k * inner] = xp[k * inner] - m - ls;
            }
        }
}

void mqk_k_softmax_f32(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    int32_t axis = c->p[1], d;
    size_t outer = 1, n = 1, inner = 1;
    for (d = 0; d < x->rank; d++) {
        if (d < axis) outer *= (size_t)x->dims[d];
        else if (d == axis || c->p[2]) n *= (size_t)x->dims[d];
        else inner *= (size_t)x->dims[d];
    }
    mqk_softmax_f32(outer, n, inner, c->p[0], (const float *)x->data, (float *)c->out[0].data);
}

/* softmax_f32: x float32, y of x's shape, p[0] kind in range, p[1] axis in [0, rank) (0 for a
 * scalar), p[2] 0/1. outer*n*inner is then the element count. */
int mqk_c_softmax_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x;
    int32_t axis;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 3)) return MQR_CHECK_BAD;
    x = &c->in[0];
    axis = c->p[1];
    if (mqk_nc_tensor(x, MQR_F32, 0, MQR_MAX_RANK) < 0 || mqk_nc_tensor(&c->out[0], MQR_F32, 0, MQR_MAX_RANK) < 0 ||
        !mqk_nc_same(x, &c->out[0]))
        return MQR_CHECK_BAD;
    if (c->p[0] < MQK_SOFTMAX || c->p[0] > MQK_HARDMAX || !mqk_nc_bool(c->p[2]) || axis < 0 ||
        (x->rank > 0 ? axis >= x->rank : axis != 0))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
