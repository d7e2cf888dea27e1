/* softmax.c: Softmax / LogSoftmax / Hardmax kernels (see softmax.h); the maximum is subtracted
 * first so large inputs do not overflow. */
#include "runtime/kernels/softmax.h"

#include <math.h>

enum { SM_SOFT, SM_LOG, SM_HARD };

static void sm_run(size_t outer, size_t n, size_t inner, const float *x, float *y, int kind)
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
            if (kind == SM_HARD) {
                for (k = 0; k < n; k++) yp[k * inner] = k == arg ? 1.0f : 0.0f;
                continue;
            }
            for (k = 0; k < n; k++) s += exp((double)xp[k * inner] - (double)m);
            if (kind == SM_SOFT) {
                for (k = 0; k < n; k++) yp[k * inner] = (float)(exp((double)xp[k * inner] - (double)m) / s);
            } else {
                double ls = log(s);
                for (k = 0; k < n; k++) yp[k * inner] = (float)((double)xp[k * inner] - (double)m - ls);
            }
        }
}

void mqk_softmax_f32(size_t outer, size_t n, size_t inner, const float *x, float *y)
{
    sm_run(outer, n, inner, x, y, SM_SOFT);
}

void mqk_logsoftmax_f32(size_t outer, size_t n, size_t inner, const float *x, float *y)
{
    sm_run(outer, n, inner, x, y, SM_LOG);
}

void mqk_hardmax_f32(size_t outer, size_t n, size_t inner, const float *x, float *y)
{
    sm_run(outer, n, inner, x, y, SM_HARD);
}
