/* reduce_any.c: float64 and integer kernels of the reduce family (Reduce*, ArgMax/ArgMin); kept apart
 * from the float32 paths of reduce.c so an MCU build links them only when a model needs them. */
#include "runtime/kernels/reduce.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/kernels/reduce_dt.h"

#include <math.h>

void mqk_k_reduce_any(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    mqr_tensor *yt = &c->out[0];
    int32_t kind = c->p[0], nx = mqr_numel(xt), ny = mqr_numel(yt), i, o, pass, dt = xt->dtype;
    int32_t ost[MQR_MAX_RANK], idx[MQR_MAX_RANK];
    int is_int = mqk_dt_is_int(dt), uns = mqk_dt_is_unsigned(dt);
    int int_acc = is_int && (kind == MQK_RED_SUM || kind == MQK_RED_PROD || kind == MQK_RED_MAX ||
                             kind == MQK_RED_MIN || kind == MQK_RED_SUMSQ || kind == MQK_RED_L1);
    double *acc = (double *)c->scratch, *mx = acc ? acc + ny : acc, cnt;
    int64_t *iacc = (int64_t *)c->scratch;
    if (c->p[2]) {
        size_t es = dt == MQR_F64 || dt == MQR_I64 || dt == MQR_U64 ? 8 : dt == MQR_I32 || dt == MQR_U32 ? 4
                    : dt == MQR_I16 || dt == MQR_U16 ? 2 : 1;
        if (yt->data != xt->data && nx > 0) memcpy(yt->data, xt->data, (size_t)nx * es);
        return;
    }
    for (o = 0; o < ny; o++) {
        if (int_acc) {
            iacc[o] = 0;
            if (kind == MQK_RED_PROD) iacc[o] = 1;
            if (kind == MQK_RED_MAX) iacc[o] = uns ? 0 : INT64_MIN;
            if (kind == MQK_RED_MIN) iacc[o] = uns ? (int64_t)-1 : INT64_MAX; /* -1: UINT64_MAX bits */
        } else {
            acc[o] = 0.0;
            if (kind == MQK_RED_PROD) acc[o] = 1.0;
            if (kind == MQK_RED_MAX || kind == MQK_RED_LOGSUMEXP) acc[o] = -INFINITY;
            if (kind == MQK_RED_MIN) acc[o] = INFINITY;
        }
    }
    mqk_red_ostrides(xt, c->p[1], ost);
    for (pass = 0; pass < (kind == MQK_RED_LOGSUMEXP ? 2 : 1); pass++) {
        if (pass == 1)
            for (o = 0; o < ny; o++) {
                mx[o] = isfinite(acc[o]) ? acc[o] : 0.0;
                acc[o] = 0.0;
            }
        memset(idx, 0, sizeof idx);
        o = 0;
        for (i = 0; i < nx; i++) {
            if (int_acc) {
                int64_t v = mqk_ld_i64(xt->data, dt, i);
                uint64_t a = (uint64_t)iacc[o], u = (uint64_t)v;
                switch (kind) {
                case MQK_RED_SUM: iacc[o] = (int64_t)(a + u); break;
                case MQK_RED_SUMSQ: iacc[o] = (int64_t)(a + u * u); break;
                case MQK_RED_L1: iacc[o] = (int64_t)(a + (v < 0 && !uns ? (uint64_t)0 - u : u)); break;
                case MQK_RED_PROD: iacc[o] = (int64_t)(a * u); break;
                case MQK_RED_MAX:
                    if (uns ? u > a : v > iacc[o]) iacc[o] = v;
                    break;
                default: /* MIN */
                    if (uns ? u < a : v < iacc[o]) iacc[o] = v;
                    break;
                }
            } else {
                double v = mqk_ld_f64(xt->data, dt, i);
                switch (kind) {
                case MQK_RED_SUMSQ:
                case MQK_RED_L2: acc[o] += v * v; break;
                case MQK_RED_L1: acc[o] += fabs(v); break;
                case MQK_RED_PROD: acc[o] *= v; break;
                case MQK_RED_MAX:
                    if (v > acc[o] || v != v) acc[o] = v;
                    break;
                case MQK_RED_MIN:
                    if (v < acc[o] || v != v) acc[o] = v;
                    break;
                case MQK_RED_LOGSUMEXP:
                    if (pass == 0) {
                        if (v > acc[o]) acc[o] = v;
                    } else {
                        acc[o] += exp(v - mx[o]);
                    }
                    break;
                default: acc[o] += v; break;
                }
            }
            mqk_red_step(xt, ost, idx, &o);
        }
    }
    cnt = ny > 0 ? (double)(nx / ny) : 0.0;
    for (o = 0; o < ny; o++) {
        double v;
        if (int_acc) {
            mqk_st_i64(yt->data, dt, o, iacc[o]);
            continue;
        }
        v = acc[o];
        switch (kind) {
        case MQK_RED_L2: v = sqrt(v); break;
        case MQK_RED_MEAN: v = is_int ? (cnt > 0 ? trunc(v / cnt) : 0.0) : v / cnt; break;
        case MQK_RED_LOGSUM: v = log(v); break;
        case MQK_RED_LOGSUMEXP: v = mx[o] + log(v); break;
        default: break;
        }
        if (is_int && !isfinite(v)) v = 0.0;
        mqk_st_f64(yt->data, dt, o, v);
    }
}

void mqk_k_arg_any(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    int64_t *y = (int64_t *)c->out[0].data;
    int32_t outer, len, inner, o, i, j, is_max = c->p[1], last = c->p[2], dt = xt->dtype;
    int is_int = mqk_dt_is_int(dt), uns = mqk_dt_is_unsigned(dt);
    mqk_axis_view(xt, c->p[0], &outer, &len, &inner);
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            int32_t base = o * len * inner + i, best = 0;
            if (is_int) {
                int64_t bv = len > 0 ? mqk_ld_i64(xt->data, dt, base) : 0;
                for (j = 1; j < len; j++) {
                    int64_t v = mqk_ld_i64(xt->data, dt, base + j * inner);
                    int gt = uns ? (uint64_t)v > (uint64_t)bv : v > bv, lt = uns ? (uint64_t)v < (uint64_t)bv : v < bv;
                    if (is_max ? (gt || (last && v == bv)) : (lt || (last && v == bv))) {
                        bv = v;
                        best = j;
                    }
                }
            } else {
                double bv = len > 0 ? mqk_ld_f64(xt->data, dt, base) : 0.0;
                for (j = 1; j < len; j++) {
                    double v = mqk_ld_f64(xt->data, dt, base + j * inner);
                    int better = is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
                    if (bv != bv) better = 0;
                    else if (v != v) better = 1;
                    if (better) {
                        bv = v;
                        best = j;
                    }
                }
            }
            y[o * inner + i] = best;
        }
}

int mqk_c_reduce_any(const mqr_call *c, uint32_t scratch_bytes) { return mqk_ck_reduce(c, scratch_bytes, 0); }

int mqk_c_arg_any(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return mqk_ck_arg(c, 0);
}
