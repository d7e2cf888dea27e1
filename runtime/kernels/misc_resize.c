/* misc_resize.c: the Resize / Upsample kernel: per axis, a table of source taps and weights (1 for
 * nearest or an identity axis, 2 linear, 4 cubic); each output element sums its taps' product. */
#include "runtime/kernels/misc_resize.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/kernels/reduce_dt.h"

#include <math.h>

typedef struct rs_cfg {
    int32_t mode, coord, nearest, exclude;
    double cubic_a;
} rs_cfg;

/* Source coordinate of output index i along an axis; *outside for tf_crop_and_resize extrapolation. */
static double rs_coord(const rs_cfg *p, double s, double r0, double r1, int32_t in_len, int32_t i, int *outside)
{
    double x = (double)i, out_w = s * (double)in_len, xo;
    *outside = 0;
    switch (p->coord) {
    case MQK_CT_ALIGN_CORNERS: xo = out_w == 1 ? 0 : x * (double)(in_len - 1) / (out_w - 1); break;
    case MQK_CT_ASYMMETRIC: xo = x / s; break;
    case MQK_CT_TF_CROP_AND_RESIZE:
        xo = out_w == 1 ? (r1 - r0) * (double)(in_len - 1) / 2 : x * (r1 - r0) * (double)(in_len - 1) / (out_w - 1);
        xo += r0 * (double)(in_len - 1);
        if (xo < 0 || xo > (double)(in_len - 1)) *outside = 1;
        break;
    case MQK_CT_PYTORCH_HALF_PIXEL: xo = out_w == 1 ? -0.5 : (x + 0.5) / s - 0.5; break;
    case MQK_CT_TF_HALF_PIXEL_FOR_NN: xo = (x + 0.5) / s; break;
    default: xo = (x + 0.5) / s - 0.5; break;
    }
    return xo;
}

/* A source index clamped to [0, len) (len >= 1: the check ensures it); NaN (from a NaN roi) gives 0. */
static int32_t rs_clamp(double i, int32_t len) { return !(i >= 0) ? 0 : i >= (double)len ? len - 1 : (int32_t)i; }

static int32_t rs_nearest_index(const rs_cfg *p, double xo, int32_t in_len, double scale)
{
    double i;
    if (p->nearest == MQK_NM_SIMPLE) {
        i = scale < 1 ? ceil(xo) : floor(xo);
    } else if (xo == floor(xo)) {
        i = xo;
    } else {
        double f = floor(xo), r = xo - f;
        int up;
        switch (p->nearest) {
        case MQK_NM_ROUND_PREFER_FLOOR: up = r > 0.5; break;
        case MQK_NM_ROUND_PREFER_CEIL: up = r >= 0.5; break;
        case MQK_NM_FLOOR: up = 0; break;
        default: up = 1; break;
        }
        i = f + up;
    }
    return rs_clamp(i, in_len);
}

/* Taps (2 for linear, 4 for cubic) of one output position into idx[0..3], w[0..3]. */
static void rs_taps(const rs_cfg *p, double xo, int32_t in_len, int32_t *idx, double *w)
{
    double f = floor(xo), r, ti[4];
    int k, t;
    if (xo == f) {
        f -= 1;
        r = 1;
    } else {
        r = xo - f;
    }
    if (p->mode == MQK_RS_LINEAR) {
        k = 2;
        ti[0] = f;
        ti[1] = f + 1;
        w[0] = 1 - r;
        w[1] = r;
        w[2] = w[3] = 0;
        ti[2] = ti[3] = f;
    } else {
        double A = p->cubic_a;
        k = 4;
        for (t = 0; t < 4; t++) ti[t] = f - 1 + t;
        w[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
        w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
        w[2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
        w[3] = ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A;
    }
    if (p->exclude) {
        double s = 0;
        for (t = 0; t < k; t++) {
            if (ti[t] < 0 || ti[t] >= (double)in_len) w[t] = 0;
            s += w[t];
        }
        if (s != 0)
            for (t = 0; t < k; t++) w[t] /= s;
    }
    for (t = 0; t < 4; t++) idx[t] = rs_clamp(ti[t], in_len);
}

static double rs_scale(const int32_t *p)
{
    uint32_t lo = (uint32_t)p[0], hi = (uint32_t)p[1];
    uint64_t b = (uint64_t)lo | ((uint64_t)hi << 32);
    double s;
    memcpy(&s, &b, sizeof s);
    return s;
}

void mqk_k_resize(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    mqr_tensor *yt = &c->out[0];
    rs_cfg cfg;
    int32_t r = xt->rank, d, o, ny = mqr_numel(yt), tot = 0, dt = xt->dtype;
    int32_t ntap[MQR_MAX_RANK], st[MQR_MAX_RANK], idx[MQR_MAX_RANK], t[MQR_MAX_RANK];
    double *wt[MQR_MAX_RANK], extrap = (double)mqr_p_f32(c->p[5]);
    int32_t *it[MQR_MAX_RANK];
    uint8_t *outside[MQR_MAX_RANK];
    size_t es = dt == MQR_F64 || dt == MQR_I64 || dt == MQR_U64 ? 8 : dt == MQR_F32 || dt == MQR_I32 || dt == MQR_U32 ? 4
                : dt == MQR_I16 || dt == MQR_U16 ? 2 : 1;
    int is_int = mqk_dt_is_int(dt), uns = mqk_dt_is_unsigned(dt);
    if (ny == 0) return;
    cfg.mode = c->p[0];
    cfg.coord = c->p[1];
    cfg.nearest = c->p[2];
    cfg.exclude = c->p[3];
    cfg.cubic_a = (double)mqr_p_f32(c->p[4]);
    for (d = 0; d < r; d++) tot += yt->dims[d];
    {
        double *wp = (double *)c->scratch;
        int32_t *ip = (int32_t *)(wp + 4 * (size_t)tot);
        uint8_t *bp = (uint8_t *)(ip + 4 * (size_t)tot);
        for (d = 0; d < r; d++) {
            wt[d] = wp;
            it[d] = ip;
            outside[d] = bp;
            wp += 4 * (size_t)yt->dims[d];
            ip += 4 * (size_t)yt->dims[d];
            bp += yt->dims[d];
        }
    }
    /* per-axis tap tables */
    for (d = 0; d < r; d++) {
        const int32_t *pd = c->p + 6 + 4 * d;
        double s = rs_scale(pd), r0 = (double)mqr_p_f32(pd[2]), r1 = (double)mqr_p_f32(pd[3]);
        int32_t in_len = xt->dims[d], i;
        int identity = in_len == yt->dims[d];
        for (i = 0; i < yt->dims[d]; i++) {
            int out_of;
            double xo = rs_coord(&cfg, s, r0, r1, in_len, i, &out_of);
            outside[d][i] = (uint8_t)out_of;
            if (out_of || xo != (double)i) identity = 0;
            if (cfg.mode == MQK_RS_NEAREST) {
                it[d][4 * i] = rs_nearest_index(&cfg, xo, in_len, s);
                wt[d][4 * i] = 1;
            } else {
                rs_taps(&cfg, xo, in_len, it[d] + 4 * i, wt[d] + 4 * i);
            }
        }
        ntap[d] = cfg.mode == MQK_RS_NEAREST ? 1 : cfg.mode == MQK_RS_LINEAR ? 2 : 4;
        if (identity && cfg.mode != MQK_RS_NEAREST) {
            ntap[d] = 1;
            for (i = 0; i < yt->dims[d]; i++) {
                it[d][4 * i] = i;
                wt[d][4 * i] = 1;
            }
        }
    }
    {
        int32_t s = 1;
        for (d = r - 1; d >= 0; d--) {
            st[d] = s;
            s *= xt->dims[d];
            idx[d] = 0;
        }
    }
    for (o = 0; o < ny; o++) {
        int out_of = 0;
        for (d = 0; d < r; d++) out_of |= outside[d][idx[d]];
        if (cfg.mode == MQK_RS_NEAREST && !out_of) {
            int32_t off = 0;
            for (d = 0; d < r; d++) off += it[d][4 * idx[d]] * st[d];
            memcpy((char *)yt->data + (size_t)o * es, (const char *)xt->data + (size_t)off * es, es);
        } else {
            double acc = extrap;
            if (!out_of) {
                acc = 0;
                for (d = 0; d < r; d++) t[d] = 0;
                for (;;) {
                    double w = 1;
                    int32_t off = 0;
                    for (d = 0; d < r; d++) {
                        w *= wt[d][4 * idx[d] + t[d]];
                        off += it[d][4 * idx[d] + t[d]] * st[d];
                    }
                    if (w != 0) acc += w * mqk_ld_f64(xt->data, dt, off);
                    for (d = r - 1; d >= 0; d--) {
                        if (++t[d] < ntap[d]) break;
                        t[d] = 0;
                    }
                    if (d < 0) break;
                }
            }
            if (is_int) {
                acc = nearbyint(acc);
                if (uns && acc < 0) acc = 0;
            }
            mqk_st_f64(yt->data, dt, o, acc);
        }
        for (d = r - 1; d >= 0; d--) {
            if (++idx[d] < yt->dims[d]) break;
            idx[d] = 0;
        }
    }
}

/* x numeric, y of x's dtype and rank; n_p = 6 + 4 rank; enums in range; scratch for every output index of
 * every axis. A non-empty y needs a non-empty x (the taps are clamped into x) and finite scales > 0. The roi,
 * cubic_coeff_a and extrapolation_value may be anything: they only weight or replace values (rs_clamp maps
 * a NaN coordinate to 0). */
int mqk_c_resize(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *y;
    int32_t d, r;
    int64_t tot = 0;
    if (c->n_in < 1 || c->n_in > 4 || c->n_out != 1) return MQR_CHECK_BAD;
    x = &c->in[0];
    y = &c->out[0];
    r = x->rank;
    if (!mqk_ck_t(x, 0) || !mqk_ck_t(y, x->dtype) || y->rank != r || c->n_p != 6 + 4 * r) return MQR_CHECK_BAD;
    if (c->p[0] < MQK_RS_NEAREST || c->p[0] > MQK_RS_CUBIC || c->p[1] < MQK_CT_HALF_PIXEL ||
        c->p[1] > MQK_CT_TF_CROP_AND_RESIZE || c->p[2] < MQK_NM_ROUND_PREFER_FLOOR || c->p[2] > MQK_NM_SIMPLE ||
        !mqk_ck_bool(c->p[3]))
        return MQR_CHECK_BAD;
    for (d = 0; d < r; d++) {
        const int32_t *pd = c->p + 6 + 4 * d;
        tot += y->dims[d];
        if (mqk_ck_numel(y) > 0 && (x->dims[d] < 1 || !mqk_ck_finite_f64(pd) || !(mqk_ck_f64(pd) > 0)))
            return MQR_CHECK_BAD;
    }
    return tot * MQK_RESIZE_SCRATCH_PER_INDEX <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
