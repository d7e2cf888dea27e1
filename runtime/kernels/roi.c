/* roi.c: RoiAlign and MaxRoiPool kernels (see roi.h); RoiAlign follows the ONNX operator
 * description (bilinear interpolation, samples outside [-1, size] count as 0). */
#include "runtime/kernels/roi.h"

#include <math.h>

/* Bilinear tap weights and offsets for sample (y, x); returns 0 if the sample is outside. */
static int bilinear(const mqk_roi_params *p, float y, float x, int32_t off[4], float w[4])
{
    int32_t yl, xl, yh, xh;
    float ly, lx;
    if (y < -1.0f || y > (float)p->height || x < -1.0f || x > (float)p->width) return 0;
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
    gh = p->sampling_ratio > 0 ? p->sampling_ratio : (int32_t)ceilf(rh / (float)p->out_h);
    gw = p->sampling_ratio > 0 ? p->sampling_ratio : (int32_t)ceilf(rw / (float)p->out_w);
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
    int32_t x1 = (int32_t)roundf(roi[0] * p->spatial_scale), y1 = (int32_t)roundf(roi[1] * p->spatial_scale);
    int32_t x2 = (int32_t)roundf(roi[2] * p->spatial_scale), y2 = (int32_t)roundf(roi[3] * p->spatial_scale);
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
        int64_t b = align ? ((const int64_t *)c->in[2].data)[i] : (int64_t)rois[(size_t)i * 5];
        float *yo = (float *)y->data + (size_t)i * per;
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
