/* reduce.c: float32 kernels of the reduce family: Reduce* over any set of axes (one pass in input
 * order, accumulating into the output) and ArgMax/ArgMin. Layouts: reduce.h. */
#include "runtime/kernels/reduce.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/kernels/reduce_dt.h"

#include <math.h>

void mqk_k_reduce_f32(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    const float *x = (const float *)xt->data;
    float *y = (float *)c->out[0].data, *mx = (float *)c->scratch;
    int32_t kind = c->p[0], nx = mqr_numel(xt), ny = mqr_numel(&c->out[0]), i, o, pass;
    int32_t ost[MQR_MAX_RANK], idx[MQR_MAX_RANK];
    float init = 0.0f, cnt;
    if (c->p[2]) {
        if (y != x && nx > 0) memcpy(y, x, (size_t)nx * sizeof(float));
        return;
    }
    if (kind == MQK_RED_PROD) init = 1.0f;
    if (kind == MQK_RED_MAX || kind == MQK_RED_LOGSUMEXP) init = -INFINITY;
    if (kind == MQK_RED_MIN) init = INFINITY;
    for (o = 0; o < ny; o++) y[o] = init;
    mqk_red_ostrides(xt, c->p[1], ost);
    for (pass = 0; pass < (kind == MQK_RED_LOGSUMEXP ? 2 : 1); pass++) {
        if (pass == 1)
            for (o = 0; o < ny; o++) {
                mx[o] = isfinite(y[o]) ? y[o] : 0.0f;
                y[o] = 0.0f;
            }
        memset(idx, 0, sizeof idx);
        o = 0;
        for (i = 0; i < nx; i++) {
            float v = x[i];
            switch (kind) {
            case MQK_RED_SUMSQ:
            case MQK_RED_L2: y[o] += v * v; break;
            case MQK_RED_L1: y[o] += fabsf(v); break;
            case MQK_RED_PROD: y[o] *= v; break;
            case MQK_RED_MAX:
                if (v > y[o] || v != v) y[o] = v;
                break;
            case MQK_RED_MIN:
                if (v < y[o] || v != v) y[o] = v;
                break;
            case MQK_RED_LOGSUMEXP:
                if (pass == 0) {
                    if (v > y[o]) y[o] = v;
                } else {
                    y[o] += expf(v - mx[o]);
                }
                break;
            default: y[o] += v; break; /* SUM, MEAN, LOGSUM */
            }
            mqk_red_step(xt, ost, idx, &o);
        }
    }
    cnt = ny > 0 ? (float)(nx / ny) : 0.0f;
    for (o = 0; o < ny; o++) {
        switch (kind) {
        case MQK_RED_L2: y[o] = sqrtf(y[o]); break;
        case MQK_RED_MEAN: y[o] = y[o] / cnt; break;
        case MQK_RED_LOGSUM: y[o] = logf(y[o]); break;
        case MQK_RED_LOGSUMEXP: y[o] = mx[o] + logf(y[o]); break;
        default: break;
        }
    }
}

void mqk_k_arg_f32(const mqr_call *c)
{
    const float *x = (const float *)c->in[0].data;
    int64_t *y = (int64_t *)c->out[0].data;
    int32_t outer, len, inner, o, i, j, is_max = c->p[1], last = c->p[2];
    mqk_axis_view(&c->in[0], c->p[0], &outer, &len, &inner);
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            const float *xp = x + (size_t)o * (size_t)len * (size_t)inner + i;
            float bv = len > 0 ? xp[0] : 0.0f;
            int32_t best = 0;
            for (j = 1; j < len; j++) {
                float v = xp[(size_t)j * (size_t)inner];
                int better = is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
                if (bv != bv) better = 0;
                else if (v != v) better = 1;
                if (better) {
                    bv = v;
                    best = j;
                }
            }
            y[(size_t)o * (size_t)inner + i] = best;
        }
}

int mqk_c_reduce_f32(const mqr_call *c, uint32_t scratch_bytes) { return mqk_ck_reduce(c, scratch_bytes, 1); }

int mqk_c_arg_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return mqk_ck_arg(c, 1);
}
