/* norm.c: normalization kernels (see norm.h). Statistics accumulate in double so long rows do not
 * lose precision. */
#include "runtime/kernels/norm.h"

#include <math.h>

void mqk_batchnorm_f32(size_t batch, size_t channels, size_t spatial, const float *x, const float *scale,
                       const float *bias, const float *mean, const float *var, float eps, float *y)
{
    size_t n, c, i;
    for (c = 0; c < channels; c++) {
        float a = scale[c] / sqrtf(var[c] + eps);
        float b = bias[c] - mean[c] * a;
        for (n = 0; n < batch; n++) {
            const float *xp = x + (n * channels + c) * spatial;
            float *yp = y + (n * channels + c) * spatial;
            for (i = 0; i < spatial; i++) yp[i] = xp[i] * a + b;
        }
    }
}

void mqk_channel_stats_f32(size_t batch, size_t channels, size_t spatial, const float *x, float *mean,
                           float *var)
{
    size_t n, c, i;
    for (c = 0; c < channels; c++) {
        double s = 0.0, s2 = 0.0, m, cnt = (double)(batch * spatial);
        for (n = 0; n < batch; n++) {
            const float *xp = x + (n * channels + c) * spatial;
            for (i = 0; i < spatial; i++) s += xp[i];
        }
        m = cnt > 0 ? s / cnt : 0.0;
        for (n = 0; n < batch; n++) {
            const float *xp = x + (n * channels + c) * spatial;
            for (i = 0; i < spatial; i++) s2 += (xp[i] - m) * (xp[i] - m);
        }
        mean[c] = (float)m;
        var[c] = cnt > 0 ? (float)(s2 / cnt) : 0.0f;
    }
}

/* mean and variance of n values */
static void row_stats(const float *x, size_t n, double *mean, double *var)
{
    size_t i;
    double s = 0.0, s2 = 0.0, m;
    for (i = 0; i < n; i++) s += x[i];
    m = n ? s / (double)n : 0.0;
    for (i = 0; i < n; i++) s2 += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = n ? s2 / (double)n : 0.0;
}

void mqk_instancenorm_f32(size_t batch, size_t channels, size_t spatial, const float *x, const float *scale,
                          const float *bias, float eps, float *y)
{
    size_t n, c, i;
    for (n = 0; n < batch; n++)
        for (c = 0; c < channels; c++) {
            const float *xp = x + (n * channels + c) * spatial;
            float *yp = y + (n * channels + c) * spatial;
            double m, v, inv;
            row_stats(xp, spatial, &m, &v);
            inv = 1.0 / sqrt(v + (double)eps);
            for (i = 0; i < spatial; i++) yp[i] = (float)((xp[i] - m) * inv * scale[c] + bias[c]);
        }
}

void mqk_layernorm_f32(size_t rows, size_t cols, const float *x, const float *scale, const float *bias,
                       float eps, float *y, float *mean, float *inv_std)
{
    size_t r, j;
    for (r = 0; r < rows; r++) {
        const float *xp = x + r * cols;
        float *yp = y + r * cols;
        double m, v, inv;
        row_stats(xp, cols, &m, &v);
        inv = 1.0 / sqrt(v + (double)eps);
        for (j = 0; j < cols; j++) {
            double t = (xp[j] - m) * inv * scale[j];
            if (bias) t += bias[j];
            yp[j] = (float)t;
        }
        if (mean) mean[r] = (float)m;
        if (inv_std) inv_std[r] = (float)inv;
    }
}

void mqk_lpnorm_f32(size_t outer, size_t n, size_t inner, int p, const float *x, float *y)
{
    size_t o, i, k;
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            const float *xp = x + o * n * inner + i;
            float *yp = y + o * n * inner + i;
            double s = 0.0;
            for (k = 0; k < n; k++) {
                double v = xp[k * inner];
                s += p == 1 ? fabs(v) : v * v;
            }
            if (p != 1) s = sqrt(s);
            for (k = 0; k < n; k++) yp[k * inner] = s > 0.0 ? (float)(xp[k * inner] / s) : 0.0f;
        }
}

void mqk_lrn_f32(size_t batch, size_t channels, size_t spatial, int32_t size, float alpha, float beta,
                 float bias, const float *x, float *y)
{
    size_t n, i;
    int32_t c, j, lo = (size - 1) / 2, hi = size / 2; /* floor((size-1)/2), ceil((size-1)/2) */
    for (n = 0; n < batch; n++)
        for (c = 0; c < (int32_t)channels; c++)
            for (i = 0; i < spatial; i++) {
                double s = 0.0;
                for (j = c - lo; j <= c + hi; j++) {
                    double v;
                    if (j < 0 || j >= (int32_t)channels) continue;
                    v = x[(n * channels + (size_t)j) * spatial + i];
                    s += v * v;
                }
                y[(n * channels + (size_t)c) * spatial + i] =
                    (float)(x[(n * channels + (size_t)c) * spatial + i] /
                            pow((double)bias + (double)alpha / (double)size * s, (double)beta));
            }
}
