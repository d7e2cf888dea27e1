/* misc_gridsample.c: the GridSample kernel (bilinear, nearest, bicubic; zeros, border, reflection
 * padding; align_corners), as PyTorch's grid_sample. Layout: misc_gridsample.h. */
#include "runtime/kernels/misc_gridsample.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/kernels/reduce_dt.h"

#include <math.h>

static double gs_unnormalize(double c, int32_t size, int32_t align)
{
    return align ? (c + 1) / 2 * (double)(size - 1) : ((c + 1) * (double)size - 1) / 2;
}

static double gs_clip(double c, int32_t size) { return fmin((double)(size - 1), fmax(c, 0)); }

static double gs_reflect(double c, double twice_low, double twice_high)
{
    double mn, span, extra, flips;
    if (twice_low == twice_high) return 0;
    mn = twice_low / 2;
    span = (twice_high - twice_low) / 2;
    c = fabs(c - mn);
    extra = fmod(c, span);
    flips = floor(c / span);
    return fmod(flips, 2.0) == 0 ? extra + mn : span - extra + mn;
}

static double gs_pad_coord(double c, int32_t size, int32_t pad, int32_t align)
{
    if (pad == MQK_GP_BORDER) {
        c = gs_clip(c, size);
    } else if (pad == MQK_GP_REFLECTION) {
        c = align ? gs_reflect(c, 0, 2.0 * (double)(size - 1)) : gs_reflect(c, -1, 2.0 * (double)size - 1);
        c = gs_clip(c, size);
    }
    return c;
}

/* x[base + iy * W + ix], 0 outside the image (coordinates as doubles: no overflow on far-off points). */
static double gs_at(const mqr_tensor *x, int32_t base, int32_t H, int32_t W, double iy, double ix)
{
    if (!(ix >= 0 && iy >= 0 && ix < (double)W && iy < (double)H)) return 0;
    return mqk_ld_f64(x->data, x->dtype, base + (int32_t)iy * W + (int32_t)ix);
}

static void gs_cubic(double t, double *w)
{
    const double A = -0.75;
    double x1 = t + 1, x2 = 1 - t, x3 = 2 - t;
    w[0] = ((A * x1 - 5 * A) * x1 + 8 * A) * x1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * x2 - (A + 3)) * x2 * x2 + 1;
    w[3] = ((A * x3 - 5 * A) * x3 + 8 * A) * x3 - 4 * A;
}

void mqk_k_gridsample(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *g = &c->in[1];
    mqr_tensor *y = &c->out[0];
    int32_t mode = c->p[0], pad = c->p[1], align = c->p[2];
    int32_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], Ho = g->dims[1], Wo = g->dims[2];
    int32_t b, i, j, ch, a, e;
    for (b = 0; b < N; b++)
        for (i = 0; i < Ho; i++)
            for (j = 0; j < Wo; j++) {
                int32_t gi = ((b * Ho + i) * Wo + j) * 2;
                double gx = mqk_ld_f64(g->data, g->dtype, gi), gy = mqk_ld_f64(g->data, g->dtype, gi + 1);
                double ix = gs_unnormalize(gx, W, align), iy = gs_unnormalize(gy, H, align);
                for (ch = 0; ch < C; ch++) {
                    int32_t base = (b * C + ch) * H * W;
                    double v = 0;
                    if (mode == MQK_GS_BICUBIC) {
                        double fx = floor(ix), fy = floor(iy), wx[4], wy[4];
                        gs_cubic(ix - fx, wx);
                        gs_cubic(iy - fy, wy);
                        for (a = 0; a < 4; a++) {
                            double row = 0;
                            for (e = 0; e < 4; e++) {
                                double px = gs_pad_coord(fx - 1 + e, W, pad, align);
                                double py = gs_pad_coord(fy - 1 + a, H, pad, align);
                                row += wx[e] * gs_at(x, base, H, W, trunc(py), trunc(px));
                            }
                            v += wy[a] * row;
                        }
                    } else {
                        double px = gs_pad_coord(ix, W, pad, align), py = gs_pad_coord(iy, H, pad, align);
                        if (mode == MQK_GS_NEAREST) {
                            v = gs_at(x, base, H, W, nearbyint(py), nearbyint(px));
                        } else {
                            double x0 = floor(px), y0 = floor(py), tx = px - x0, ty = py - y0;
                            v = gs_at(x, base, H, W, y0, x0) * (1 - tx) * (1 - ty) +
                                gs_at(x, base, H, W, y0, x0 + 1) * tx * (1 - ty) +
                                gs_at(x, base, H, W, y0 + 1, x0) * (1 - tx) * ty +
                                gs_at(x, base, H, W, y0 + 1, x0 + 1) * tx * ty;
                        }
                    }
                    mqk_st_f64(y->data, y->dtype, ((b * C + ch) * Ho + i) * Wo + j, v);
                }
            }
}

/* x float [N, C, H, W], grid float [N, Ho, Wo, 2], y of x's dtype [N, C, Ho, Wo]; enums in range. Sample
 * points are tested against the image in double before any index is formed (gs_at). */
int mqk_c_gridsample(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *g, *y;
    (void)scratch_bytes;
    if (c->n_in != 2 || c->n_out != 1 || c->n_p != 3) return MQR_CHECK_BAD;
    x = &c->in[0];
    g = &c->in[1];
    y = &c->out[0];
    if (!mqk_ck_tensor(x) || !mqk_ck_float(x->dtype) || !mqk_ck_tensor(g) || !mqk_ck_float(g->dtype) ||
        !mqk_ck_t(y, x->dtype))
        return MQR_CHECK_BAD;
    if (x->rank != 4 || g->rank != 4 || y->rank != 4 || g->dims[0] != x->dims[0] || g->dims[3] != 2 ||
        y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1] || y->dims[2] != g->dims[1] || y->dims[3] != g->dims[2])
        return MQR_CHECK_BAD;
    if (c->p[0] < MQK_GS_BILINEAR || c->p[0] > MQK_GS_BICUBIC || c->p[1] < MQK_GP_ZEROS ||
        c->p[1] > MQK_GP_REFLECTION || !mqk_ck_bool(c->p[2]))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
