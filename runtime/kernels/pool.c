/* pool.c: max / average / Lp pooling kernels (see pool.h). Shapes are padded to 3 spatial dims
 * internally (size 1, kernel 1, stride 1, pad 0). */
#include "runtime/kernels/pool.h"

#include <math.h>

#define MQK_FLT_LOWEST (-3.40282347e+38f)

typedef struct pool3 {
    int32_t in[3], out[3], k[3], s[3], pb[3], pe[3], d[3];
} pool3;

static void pool_expand(const mqk_pool_params *p, pool3 *c)
{
    int i, off = 3 - p->nd;
    for (i = 0; i < 3; i++) {
        c->in[i] = c->out[i] = c->k[i] = c->s[i] = c->d[i] = 1;
        c->pb[i] = c->pe[i] = 0;
    }
    for (i = 0; i < p->nd; i++) {
        c->in[off + i] = p->in_size[i];
        c->out[off + i] = p->out_size[i];
        c->k[off + i] = p->kernel[i];
        c->s[off + i] = p->stride[i];
        c->pb[off + i] = p->pad_begin[i];
        c->pe[off + i] = p->pad_end[i];
        c->d[off + i] = p->dilation[i];
    }
}

enum { POOL_MAX, POOL_AVG, POOL_LP };

static void pool_run(const mqk_pool_params *p, const float *x, float *y, int64_t *indices, int column_major,
                     int kind)
{
    pool3 c;
    int32_t od, oh, ow, kd, kh, kw;
    size_t plane, planes, in_sp;
    pool_expand(p, &c);
    planes = (size_t)p->batch * (size_t)p->channels;
    in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];
    for (plane = 0; plane < planes; plane++) {
        const float *xi = x + plane * in_sp;
        for (od = 0; od < c.out[0]; od++)
            for (oh = 0; oh < c.out[1]; oh++)
                for (ow = 0; ow < c.out[2]; ow++) {
                    float best = MQK_FLT_LOWEST;
                    int64_t best_i = -1;
                    double sum = 0.0;
                    int32_t count = 0, count_pad = 0;
                    for (kd = 0; kd < c.k[0]; kd++) {
                        int32_t id = od * c.s[0] - c.pb[0] + kd * c.d[0];
                        int in_d = id >= 0 && id < c.in[0];
                        int pad_d = id >= -c.pb[0] && id < c.in[0] + c.pe[0];
                        for (kh = 0; kh < c.k[1]; kh++) {
                            int32_t ih = oh * c.s[1] - c.pb[1] + kh * c.d[1];
                            int in_h = in_d && ih >= 0 && ih < c.in[1];
                            int pad_h = pad_d && ih >= -c.pb[1] && ih < c.in[1] + c.pe[1];
                            for (kw = 0; kw < c.k[2]; kw++) {
                                int32_t iw = ow * c.s[2] - c.pb[2] + kw * c.d[2];
                                size_t off;
                                float v;
                                if (pad_h && iw >= -c.pb[2] && iw < c.in[2] + c.pe[2]) count_pad++;
                                if (!in_h || iw < 0 || iw >= c.in[2]) continue;
                                off = ((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2] + (size_t)iw;
                                v = xi[off];
                                count++;
                                if (kind == POOL_MAX) {
                                    if (best_i < 0 || v > best) {
                                        best = v;
                                        if (column_major)
                                            off = ((size_t)iw * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[0] + (size_t)id;
                                        best_i = (int64_t)(plane * in_sp + off);
                                    }
                                } else if (kind == POOL_AVG) {
                                    sum += v;
                                } else {
                                    sum += pow(fabs((double)v), (double)p->p);
                                }
                            }
                        }
                    }
                    {
                        size_t o = ((plane * (size_t)c.out[0] + (size_t)od) * (size_t)c.out[1] + (size_t)oh) *
                                       (size_t)c.out[2] + (size_t)ow;
                        if (kind == POOL_MAX) {
                            y[o] = best;
                            if (indices) indices[o] = best_i;
                        } else if (kind == POOL_AVG) {
                            int32_t div = p->count_include_pad ? count_pad : count;
                            y[o] = div > 0 ? (float)(sum / div) : 0.0f;
                        } else {
                            y[o] = (float)pow(sum, 1.0 / (double)p->p);
                        }
                    }
                }
    }
}

void mqk_maxpool_f32(const mqk_pool_params *p, const float *x, float *y, int64_t *indices, int column_major)
{
    pool_run(p, x, y, indices, column_major, POOL_MAX);
}

void mqk_avgpool_f32(const mqk_pool_params *p, const float *x, float *y) { pool_run(p, x, y, 0, 0, POOL_AVG); }

void mqk_lppool_f32(const mqk_pool_params *p, const float *x, float *y) { pool_run(p, x, y, 0, 0, POOL_LP); }

void mqk_global_avgpool_f32(size_t planes, size_t spatial, const float *x, float *y)
{
    size_t i, j;
    for (i = 0; i < planes; i++) {
        double s = 0.0;
        for (j = 0; j < spatial; j++) s += x[i * spatial + j];
        y[i] = spatial ? (float)(s / (double)spatial) : 0.0f;
    }
}

void mqk_global_maxpool_f32(size_t planes, size_t spatial, const float *x, float *y)
{
    size_t i, j;
    for (i = 0; i < planes; i++) {
        float m = spatial ? x[i * spatial] : MQK_FLT_LOWEST;
        for (j = 1; j < spatial; j++)
            if (x[i * spatial + j] > m) m = x[i * spatial + j];
        y[i] = m;
    }
}

void mqk_global_lppool_f32(size_t planes, size_t spatial, float p, const float *x, float *y)
{
    size_t i, j;
    for (i = 0; i < planes; i++) {
        double s = 0.0;
        for (j = 0; j < spatial; j++) s += pow(fabs((double)x[i * spatial + j]), (double)p);
        y[i] = (float)pow(s, 1.0 / (double)p);
    }
}
