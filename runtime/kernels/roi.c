/* roi.c: RoiAlign and MaxRoiPool kernels (see roi.h); RoiAlign follows the ONNX operator
 * description (bilinear interpolation, samples outside [-1, size] count as 0). */
#include "runtime/kernels/roi.h"
#include "runtime/kernels/nn_check.h"

#include <math.h>

/* Bilinear tap weights and offsets for sample (y, x); returns 0 if the sample is outside. */
static int bilinear(const mqk_roi_params *p, float y, float x, int32_t off[4], float w[4])
{
    int32_t yl, xl, yh, xh;
    float ly, lx;
    /* written so that NaN is outside too; an empty image has no taps */
    if (p->height < 1 || p->width < 1 || !(y >= -1.0f && y <= (float)p->height && x >= -1.0f && x <= (float)p->width))
        return 0;
    if (y < 0.0f) y = 0.0f;
    if (x < 0.0f) x = 0.0f;
    yl = (int32_t)y;
    xl = (int32_t)x;
    if (yl >= p->height - 1) {
        yl = yh = p->height - 1;
        y = (float)yl;
    } else {
        yh = yl + 1;
    }
    if (xl >= p->width - 1) {
        xl = xh = p->width - 1;
        x = (float)xl;
    } else {
        xh = xl + 1;
    }
    ly = y - (float)yl;
    lx = x - (float)xl;
    off[0] = yl * p->width + xl;
    off[1] = yl * p->width + xh;
    off[2] = yh * p->width + xl;
    off[3] = yh * p->width + xh;
    w[0] = (1.0f - ly) * (1.0f - lx);
    w[1] = (1.0f - ly) * lx;
    w[2] = ly * (1.0f - lx);
    w[3] = ly * lx;
    return 1;
}

/* Adaptive samples per bin, ceil(v), for v from the RoI data: 0 for v <= 0 or NaN (no samples, as a
 * non-positive count gave before), at most MQK_ROI_MAX_SAMPLES (so gh*gw fits int32 whatever the data). */
static int32_t grid_size(float v)
{
    v = ceilf(v);
    if (!(v > 0.0f)) return 0;
    return v > (float)MQK_ROI_MAX_SAMPLES ? MQK_ROI_MAX_SAMPLES : (int32_t)v;
}

/* A coordinate from the RoI data as int32: NaN gives 0, values beyond +-2^29 are clamped (so the
 * bin arithmetic below stays inside int32). */
static int32_t coord(float v)
{
    const float lim = 536870912.0f;
    if (v != v) return 0;
    return v < -lim ? -(int32_t)536870912 : v > lim ? (int32_t)536870912 : (int32_t)v;
}

void mqk_roialign_f32(const mqk_roi_params *p, const float *img, const float *roi, float *y)
{
    float off = p->half_pixel ? 0.5f : 0.0f;
    float sw = roi[0] * p->spatial_scale - off, sh = roi[1] * p->spatial_scale - off;
    float rw = roi[2] * p->spatial_scale - off - sw, rh = roi[3] * p->spatial_scale - off - sh;
    float bw, bh;
    int32_t gh, gw, c, ph, pw, iy, ix, k;
    size_t plane = (size_t)p->height * (size_t)p->width;
    if (!p->half_pixel) {
        if (rw < 1.0f) rw = 1.0f;
        if (rh < 1.0f) rh = 1.0f;
    }
    bh = rh / (float)p->out_h;
    bw = rw / (float)p->out_w;
    gh = p->sampling_ratio > 0 ? p->sampling_ratio : grid_size(rh / (float)p->out_h);
    gw = p->sampling_ratio > 0 ? p->sampling_ratio : grid_size(rw / (float)p->out_w);
    for (c = 0; c < p->channels; c++) {
        const float *x = img + (size_t)c * plane;
        for (ph = 0; ph < p->out_h; ph++)
            for (pw = 0; pw < p->out_w; pw++) {
                double sum = 0.0;
                float best = 0.0f;
                int have = 0;
                int32_t count = gh * gw > 0 ? gh * gw : 1;
                for (iy = 0; iy < gh; iy++) {
                    float yy = sh + (float)ph * bh + ((float)iy + 0.5f) * bh / (float)gh;
                    if (!(yy >= -1.0f && yy <= (float)p->height)) {
                        /* a row of samples outside: each would count as 0 (skipped at once, so a huge
                         * RoI costs one pass over its rows, not rows * columns) */
                        if (p->max_mode && gw > 0 && (!have || best < 0.0f)) best = 0.0f, have = 1;
                        continue;
                    }
                    for (ix = 0; ix < gw; ix++) {
                        float xx = sw + (float)pw * bw + ((float)ix + 0.5f) * bw / (float)gw;
                        int32_t o[4];
                        float w[4];
                        if (!bilinear(p, yy, xx, o, w)) {
                            if (p->max_mode && (!have || best < 0.0f)) best = 0.0f, have = 1;
                            continue;
                        }
                        if (p->max_mode) {
                            for (k = 0; k < 4; k++) {
                                float v = w[k] * x[o[k]];
                                if (!have || v > best) best = v, have = 1;
                            }
                        } else {
                            for (k = 0; k < 4; k++) sum += (double)w[k] * x[o[k]];
                        }
                    }
                }
                y[((size_t)c * (size_t)p->out_h + (size_t)ph) * (size_t)p->out_w + (size_t)pw] =
                    p->max_mode ? best : (float)(sum / count);
            }
    }
}

static int32_t clampi(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

void mqk_maxroipool_f32(const mqk_roi_params *p, const float *img, const float *roi, float *y)
{
    int32_t x1 = coord(roundf(roi[0] * p->spatial_scale)), y1 = coord(roundf(roi[1] * p->spatial_scale));
    int32_t x2 = coord(roundf(roi[2] * p->spatial_scale)), y2 = coord(roundf(roi[3] * p->spatial_scale));
    int32_t rh = y2 - y1 + 1 > 1 ? y2 - y1 + 1 : 1, rw = x2 - x1 + 1 > 1 ? x2 - x1 + 1 : 1;
    float bh = (float)rh / (float)p->out_h, bw = (float)rw / (float)p->out_w;
    int32_t c, ph, pw, h, w;
    size_t plane = (size_t)p->height * (size_t)p->width;
    for (c = 0; c < p->channels; c++) {
        const float *x = img + (size_t)c * plane;
        for (ph = 0; ph < p->out_h; ph++)
            for (pw = 0; pw < p->out_w; pw++) {
                int32_t hs = clampi((int32_t)floorf((float)ph * bh) + y1, 0, p->height);
                int32_t he = clampi((int32_t)ceilf((float)(ph + 1) * bh) + y1, 0, p->height);
                int32_t ws = clampi((int32_t)floorf((float)pw * bw) + x1, 0, p->width);
                int32_t we = clampi((int32_t)ceilf((float)(pw + 1) * bw) + x1, 0, p->width);
                float m = 0.0f;
                int have = 0;
                for (h = hs; h < he; h++)
                    for (w = ws; w < we; w++) {
                        float v = x[(size_t)h * (size_t)p->width + (size_t)w];
                        if (!have || v > m) m = v, have = 1;
                    }
                y[((size_t)c * (size_t)p->out_h + (size_t)ph) * (size_t)p->out_w + (size_t)pw] = m;
            }
    }
}

static void roi_run(const mqr_call *c, int align)
{
    const mqr_tensor *x = &c->in[0], *y = &c->out[0];
    mqk_roi_params p;
    int32_t R = c->in[1].dims[0], i, N = x->dims[0];
    size_t img = (size_t)x->dims[1] * (size_t)x->dims[2] * (size_t)x->dims[3], per, j;
    const float *rois = (const float *)c->in[1].data;
    p.channels = x->dims[1];
    p.height = x->dims[2];
    p.width = x->dims[3];
    p.out_h = y->dims[2];
    p.out_w = y->dims[3];
    p.spatial_scale = mqr_p_f32(c->p[0]);
    p.sampling_ratio = align ? c->p[1] : 0;
    p.half_pixel = align ? c->p[2] : 0;
    p.max_mode = align ? c->p[3] : 0;
    per = (size_t)p.channels * (size_t)p.out_h * (size_t)p.out_w;
    for (i = 0; i < R; i++) {
        int64_t b = -1;
        float *yo = (float *)y->data + (size_t)i * per;
        if (align) {
            b = ((const int64_t *)c->in[2].data)[i];
        } else {
            float bf = rois[(size_t)i * 5]; /* truncated toward 0, as a cast would; NaN and huge are out */
            if (bf > -1.0f && bf < (float)N) b = (int64_t)bf;
        }
        if (b < 0 || b >= N) {
            for (j = 0; j < per; j++) yo[j] = 0.0f;
            continue;
        }
        if (align) mqk_roialign_f32(&p, (const float *)x->data + (size_t)b * img, rois + (size_t)i * 4, yo);
        else mqk_maxroipool_f32(&p, (const float *)x->data + (size_t)b * img, rois + (size_t)i * 5 + 1, yo);
    }
}

void mqk_k_roialign_f32(const mqr_call *c) { roi_run(c, 1); }

void mqk_k_maxroipool_f32(const mqr_call *c) { roi_run(c, 0); }

/* x float32 [N, C, H, W] with H, W <= MQK_ROI_MAX_SIZE (exact as floats), rois float32 [R, roi_cols],
 * y float32 [R, C, out_h, out_w]. RoI coordinates and batch indices are data: the kernels bound them
 * (bilinear taps clipped, bins clamped to the image, bad batch indices give zeros). */
static int roi_shapes_ok(const mqr_call *c, int32_t roi_cols)
{
    const mqr_tensor *x = &c->in[0], *r = &c->in[1], *y = &c->out[0];
    if (mqk_nc_tensor(x, MQR_F32, 4, 4) < 0 || mqk_nc_tensor(r, MQR_F32, 2, 2) < 0 ||
        mqk_nc_tensor(y, MQR_F32, 4, 4) < 0)
        return 0;
    return x->dims[2] <= MQK_ROI_MAX_SIZE && x->dims[3] <= MQK_ROI_MAX_SIZE && r->dims[1] == roi_cols &&
           y->dims[0] == r->dims[0] && y->dims[1] == x->dims[1];
}

/* roialign_f32: roi_shapes_ok with [R, 4] rois, batch_indices int64 [R], p[1] sampling_ratio in
 * [0, MQK_ROI_MAX_SAMPLES] (gh*gw fits int32), p[2] half_pixel and p[3] max_mode 0/1. */
int mqk_c_roialign_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 3, 3, 1, 1, 4) || !roi_shapes_ok(c, 4) || !mqk_nc_vec(&c->in[2], MQR_I64, c->in[1].dims[0]))
        return MQR_CHECK_BAD;
    if (c->p[1] < 0 || c->p[1] > MQK_ROI_MAX_SAMPLES || !mqk_nc_bool(c->p[2]) || !mqk_nc_bool(c->p[3]))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* maxroipool_f32: roi_shapes_ok with [R, 5] rois; p[1..3] unused and 0. */
int mqk_c_maxroipool_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 2, 2, 1, 1, 4) || !roi_shapes_ok(c, 5) || c->p[1] != 0 || c->p[2] != 0 || c->p[3] != 0)
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
