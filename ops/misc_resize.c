/* misc_resize.c: Resize (10, 11, 13), Upsample (7, 9) and GridSample (16). Part of the 'misc' family
 * (table in misc.c). Interpolation is separable and computed in double, one axis at a time. */
#include "ops/util.h"

#include <math.h>
#include <string.h>

/* ---- parameters ---------------------------------------------------------------------------------- */

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC, CT_TF_HALF_PIXEL_FOR_NN,
       CT_TF_CROP_AND_RESIZE };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };

typedef struct rs_params {
    int mode, coord, nearest, exclude;
    double cubic_a, extrap;
    int rank;
    int64_t out[MQ_MAX_RANK];
    double scale[MQ_MAX_RANK];
    double roi_start[MQ_MAX_RANK], roi_end[MQ_MAX_RANK];
} rs_params;

/* An omitted input, or a given one with zero elements ("not specified" in Resize-11/13). */
static int rs_absent(const mq_tensor *t) { return !t || (t->rank >= 0 && mq_numel(t) == 0); }

static int rs_pick(const char *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* Fill p from attributes and inputs. *known = 0 when a needed input value is not known yet. */
static mq_status rs_params_get(const mq_node *n, const mq_tensor *const *in, rs_params *p, int *known, mq_err *err)
{
    const mq_tensor *x = in[0];
    int upsample = strcmp(n->op_type, "Upsample") == 0;
    int legacy = upsample || n->opset < 11; /* Upsample, Resize-10: asymmetric, simple nearest */
    memset(p, 0, sizeof *p);
    *known = 1;
    p->rank = x->rank;
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    const char *ms = mq_attr_str(n, "mode", "nearest");
    p->mode = rs_pick(ms, modes, legacy ? 2 : 3);
    if (p->mode < 0 && legacy && strcmp(ms, "bilinear") == 0) p->mode = RS_LINEAR;
    if (p->mode < 0) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "mode '%s' is not supported", ms);
    if (legacy) {
        p->coord = CT_ASYMMETRIC;
        p->nearest = NM_SIMPLE;
    } else {
        static const char *const cts[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                          "tf_half_pixel_for_nn", "tf_crop_and_resize"};
        const char *cs = mq_attr_str(n, "coordinate_transformation_mode", "half_pixel");
        p->coord = rs_pick(cs, cts, 6);
        if (p->coord < 0 || (p->coord == CT_TF_HALF_PIXEL_FOR_NN && n->opset >= 13))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s' is not supported",
                                cs);
        static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
        const char *ns = mq_attr_str(n, "nearest_mode", "round_prefer_floor");
        p->nearest = rs_pick(ns, nms, 4);
        if (p->nearest < 0) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "nearest_mode '%s' is not supported", ns);
        p->cubic_a = mq_attr_float(n, "cubic_coeff_a", -0.75f);
        p->exclude = mq_attr_int(n, "exclude_outside", 0) != 0;
        p->extrap = mq_attr_float(n, "extrapolation_value", 0.0f);
    }
    if (x->rank < 0) {
        *known = 0;
        return MQ_OK;
    }
    /* scales or sizes */
    const mq_tensor *scales = NULL, *sizes = NULL, *roi = NULL;
    const float *attr_scales = NULL;
    int n_attr_scales = -1;
    if (upsample && n->opset < 9) {
        n_attr_scales = mq_attr_floats(n, "scales", &attr_scales);
        if (n_attr_scales < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "missing attribute 'scales'");
    } else if (legacy) {
        MQ_TRY(mq_require_input(n, in, 1, err));
        scales = in[1];
    } else {
        roi = n->n_in > 1 ? in[1] : NULL;
        scales = n->n_in > 2 ? in[2] : NULL;
        sizes = n->n_in > 3 ? in[3] : NULL;
        if (rs_absent(scales)) scales = NULL;
        if (rs_absent(sizes)) sizes = NULL;
        if (rs_absent(roi)) roi = NULL;
        if (!scales == !sizes)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "exactly one of 'scales' and 'sizes' must be given");
    }
    int r = x->rank;
    if (sizes) {
        if (!sizes->data) {
            *known = 0;
            return MQ_OK;
        }
        int64_t v[MQ_MAX_RANK];
        int c;
        MQ_TRY(mq_read_ints(n, sizes, v, MQ_MAX_RANK, &c, err));
        if (c != r) return mq_node_fail(err, n, MQ_ERR_SHAPE, "'sizes' has %d values for rank %d", c, r);
        for (int d = 0; d < r; d++) {
            if (v[d] < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "negative size");
            p->out[d] = v[d];
            p->scale[d] = x->dims[d] > 0 ? (double)v[d] / (double)x->dims[d] : 1;
        }
    } else {
        double sv[MQ_MAX_RANK];
        int c;
        if (n_attr_scales >= 0) {
            c = n_attr_scales;
            if (c > MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_SHAPE, "too many scales");
            for (int d = 0; d < c; d++) sv[d] = attr_scales[d];
        } else {
            if (!scales->data) {
                *known = 0;
                return MQ_OK;
            }
            if (!mq_is_float_type(scales->dtype)) return mq_node_fail(err, n, MQ_ERR_INVALID, "'scales' must be float");
            int64_t ns = mq_numel(scales);
            if (ns > MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_SHAPE, "too many scales");
            c = (int)ns;
            for (int d = 0; d < c; d++) sv[d] = mq_load_f64(scales->data, scales->dtype, (size_t)d);
        }
        if (c != r) return mq_node_fail(err, n, MQ_ERR_SHAPE, "'scales' has %d values for rank %d", c, r);
        for (int d = 0; d < r; d++) {
            if (!(sv[d] > 0)) return mq_node_fail(err, n, MQ_ERR_INVALID, "scales must be positive");
            double o = floor(sv[d] * (double)x->dims[d]);
            if (o > 1e15) return mq_node_fail(err, n, MQ_ERR_LIMIT, "output too large");
            p->out[d] = (int64_t)o;
            p->scale[d] = sv[d];
        }
    }
    for (int d = 0; d < r; d++) {
        p->roi_start[d] = 0;
        p->roi_end[d] = 1;
    }
    if (p->coord == CT_TF_CROP_AND_RESIZE) {
        if (!roi) return mq_node_fail(err, n, MQ_ERR_INVALID, "tf_crop_and_resize needs 'roi'");
        if (!roi->data) {
            *known = 0;
            return MQ_OK;
        }
        if (!mq_is_float_type(roi->dtype)) return mq_node_fail(err, n, MQ_ERR_INVALID, "'roi' must be float");
        if (mq_numel(roi) != 2 * r) return mq_node_fail(err, n, MQ_ERR_SHAPE, "'roi' must have 2*rank values");
        for (int d = 0; d < r; d++) {
            p->roi_start[d] = mq_load_f64(roi->data, roi->dtype, (size_t)d);
            p->roi_end[d] = mq_load_f64(roi->data, roi->dtype, (size_t)(d + r));
        }
    }
    return MQ_OK;
}

static mq_status rs_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_numeric, err));
    rs_params p;
    int known;
    MQ_TRY(rs_params_get(n, in, &p, &known, err));
    if (!known) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    mq_set_out(out[0], in[0]->dtype, p.rank, p.out);
    return MQ_OK;
}

/* Source coordinate of output index i along axis d; *outside for tf_crop_and_resize extrapolation. */
static double rs_coord(const rs_params *p, int d, int64_t in_len, int64_t i, int *outside)
{
    double x = (double)i, s = p->scale[d], out_w = s * (double)in_len, xo = 0;
    *outside = 0;
    switch (p->coord) {
    case CT_ALIGN_CORNERS: xo = out_w == 1 ? 0 : x * (double)(in_len - 1) / (out_w - 1); break;
    case CT_ASYMMETRIC: xo = x / s; break;
    case CT_TF_CROP_AND_RESIZE: {
        double r0 = p->roi_start[d], r1 = p->roi_end[d];
        xo = out_w == 1 ? (r1 - r0) * (double)(in_len - 1) / 2 : x * (r1 - r0) * (double)(in_len - 1) / (out_w - 1);
        xo += r0 * (double)(in_len - 1);
        if (xo < 0 || xo > (double)(in_len - 1)) *outside = 1;
        break;
    }
    case CT_PYTORCH_HALF_PIXEL: xo = out_w == 1 ? -0.5 : (x + 0.5) / s - 0.5; break;
    case CT_TF_HALF_PIXEL_FOR_NN: xo = (x + 0.5) / s; break;
    default: xo = (x + 0.5) / s - 0.5; break;
    }
    return xo;
}

static int64_t rs_clamp(int64_t i, int64_t len) { return i < 0 ? 0 : i >= len ? len - 1 : i; }

static int64_t rs_nearest_index(const rs_params *p, double xo, int64_t in_len, double scale)
{
    int64_t i;
    if (p->nearest == NM_SIMPLE) {
        i = scale < 1 ? (int64_t)ceil(xo) : (int64_t)floor(xo);
    } else if (xo == floor(xo)) {
        i = (int64_t)xo;
    } else {
        double f = floor(xo), r = xo - f;
        int up = 0;
        switch (p->nearest) {
        case NM_ROUND_PREFER_FLOOR: up = r > 0.5; break;
        case NM_ROUND_PREFER_CEIL: up = r >= 0.5; break;
        case NM_FLOOR: up = 0; break;
        default: up = 1; break;
        }
        i = (int64_t)f + up;
    }
    return rs_clamp(i, in_len);
}

/* Taps (2 for linear, 4 for cubic) of one output position. Returns the tap count. */
static int rs_taps(const rs_params *p, double xo, int64_t in_len, int64_t *idx, double *w)
{
    int64_t f = (int64_t)floor(xo);
    double r;
    if (xo == floor(xo)) {
        f -= 1;
        r = 1;
    } else {
        r = xo - (double)f;
    }
    int k;
    if (p->mode == RS_LINEAR) {
        k = 2;
        idx[0] = f;
        idx[1] = f + 1;
        w[0] = 1 - r;
        w[1] = r;
    } else {
        double A = p->cubic_a;
        k = 4;
        for (int t = 0; t < 4; t++) idx[t] = f - 1 + t;
        w[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
        w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
        w[2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
        w[3] = ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A;
    }
    if (p->exclude) {
        double s = 0;
        for (int t = 0; t < k; t++) {
            if (idx[t] < 0 || idx[t] >= in_len) w[t] = 0;
            s += w[t];
        }
        if (s != 0)
            for (int t = 0; t < k; t++) w[t] /= s;
    }
    for (int t = 0; t < k; t++) idx[t] = rs_clamp(idx[t], in_len);
    return k;
}

static void rs_store(mq_tensor *y, size_t i, double v)
{
    if (mq_dtype_is_int(y->dtype)) {
        v = nearbyint(v);
        if (!mq_dtype_is_signed(y->dtype) && v < 0) v = 0;
    }
    mq_store_f64(y->data, y->dtype, i, v);
}

static mq_status rs_nearest(const mq_node *n, const rs_params *p, const mq_tensor *x, mq_tensor *y, mq_err *err)
{
    int r = x->rank;
    int64_t *map[MQ_MAX_RANK] = {0};
    uint8_t *outside[MQ_MAX_RANK] = {0};
    mq_status s = MQ_OK;
    for (int d = 0; d < r; d++) {
        map[d] = mq_malloc(sizeof(int64_t) * (size_t)(p->out[d] > 0 ? p->out[d] : 1));
        outside[d] = mq_malloc((size_t)(p->out[d] > 0 ? p->out[d] : 1));
        if (!map[d] || !outside[d]) {
            s = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (int64_t i = 0; i < p->out[d]; i++) {
            int o;
            double xo = rs_coord(p, d, x->dims[d], i, &o);
            outside[d][i] = (uint8_t)o;
            map[d][i] = rs_nearest_index(p, xo, x->dims[d], p->scale[d]);
        }
    }
    int64_t st[MQ_MAX_RANK], idx[MQ_MAX_RANK] = {0}, ny = mq_numel(y);
    mq_strides(r, x->dims, st);
    size_t es = mq_dtype_size(x->dtype);
    for (int64_t o = 0; o < ny; o++) {
        int64_t off = 0;
        int out_of = 0;
        for (int d = 0; d < r; d++) {
            off += map[d][idx[d]] * st[d];
            out_of |= outside[d][idx[d]];
        }
        if (out_of)
            rs_store(y, (size_t)o, p->extrap);
        else
            memcpy((char *)y->data + (size_t)o * es, (const char *)x->data + (size_t)off * es, es);
        mq_index_next(r, p->out, idx);
    }
done:
    for (int d = 0; d < r; d++) {
        mq_free(map[d]);
        mq_free(outside[d]);
    }
    return s;
}

static mq_status rs_interp(const mq_node *n, const rs_params *p, const mq_tensor *x, mq_tensor *y, mq_err *err)
{
    int r = x->rank;
    int64_t dims[MQ_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)r);
    int64_t nx = mq_numel(x);
    double *cur = mq_malloc(sizeof(double) * (size_t)(nx > 0 ? nx : 1)), *nxt = NULL;
    uint8_t *outside[MQ_MAX_RANK] = {0};
    int64_t *tidx = NULL;
    double *tw = NULL;
    mq_status s = MQ_OK;
    if (!cur) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < nx; i++) cur[i] = mq_load_f64(x->data, x->dtype, (size_t)i);
    for (int d = r - 1; d >= 0; d--) {
        int64_t in_len = dims[d], out_len = p->out[d];
        outside[d] = mq_calloc((size_t)(out_len > 0 ? out_len : 1), 1);
        tidx = mq_malloc(sizeof(int64_t) * 4 * (size_t)(out_len > 0 ? out_len : 1));
        tw = mq_malloc(sizeof(double) * 4 * (size_t)(out_len > 0 ? out_len : 1));
        if (!outside[d] || !tidx || !tw) {
            s = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
            goto done;
        }
        int identity = in_len == out_len;
        int k = 2;
        for (int64_t i = 0; i < out_len; i++) {
            int o;
            double xo = rs_coord(p, d, in_len, i, &o);
            outside[d][i] = (uint8_t)o;
            if (o || xo != (double)i) identity = 0;
            k = rs_taps(p, xo, in_len, tidx + 4 * i, tw + 4 * i);
        }
        if (!identity && in_len > 0) {
            int64_t outer = 1, inner = 1;
            for (int e = 0; e < d; e++) outer *= dims[e];
            for (int e = d + 1; e < r; e++) inner *= dims[e];
            size_t cnt;
            if (mq_mul_size((size_t)(outer * inner), (size_t)(out_len > 0 ? out_len : 1), &cnt) != 0) {
                s = mq_node_fail(err, n, MQ_ERR_LIMIT, "output too large");
                goto done;
            }
            nxt = mq_malloc(sizeof(double) * cnt);
            if (!nxt) {
                s = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
                goto done;
            }
            for (int64_t a = 0; a < outer; a++)
                for (int64_t j = 0; j < out_len; j++) {
                    double *dst = nxt + (a * out_len + j) * inner;
                    for (int64_t b = 0; b < inner; b++) dst[b] = 0;
                    for (int t = 0; t < k; t++) {
                        double w = tw[4 * j + t];
                        if (w == 0) continue;
                        const double *src = cur + (a * in_len + tidx[4 * j + t]) * inner;
                        for (int64_t b = 0; b < inner; b++) dst[b] += w * src[b];
                    }
                }
            mq_free(cur);
            cur = nxt;
            nxt = NULL;
            dims[d] = out_len;
        }
        mq_free(tidx);
        mq_free(tw);
        tidx = NULL;
        tw = NULL;
    }
    {
        int64_t idx[MQ_MAX_RANK] = {0}, ny = mq_numel(y);
        for (int64_t o = 0; o < ny; o++) {
            int out_of = 0;
            for (int d = 0; d < r; d++) out_of |= outside[d][idx[d]];
            rs_store(y, (size_t)o, out_of ? p->extrap : cur[o]);
            mq_index_next(r, p->out, idx);
        }
    }
done:
    mq_free(cur);
    mq_free(nxt);
    mq_free(tidx);
    mq_free(tw);
    for (int d = 0; d < r; d++) mq_free(outside[d]);
    return s;
}

static mq_status rs_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    rs_params p;
    int known;
    MQ_TRY(rs_params_get(n, in, &p, &known, err));
    if (!known) return mq_node_fail(err, n, MQ_ERR_INVALID, "scales/sizes unknown at run time");
    if (mq_numel(out[0]) == 0) return MQ_OK;
    if (mq_numel(in[0]) == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot resize an empty tensor");
    if (p.mode == RS_NEAREST) return rs_nearest(n, &p, in[0], out[0], err);
    return rs_interp(n, &p, in[0], out[0], err);
}

const mq_op_def mq_def_resize = {.op_type = "Resize", .domain = "", .since = 10, .until = 17, .min_in = 2,
                                 .max_in = 4, .min_out = 1, .max_out = 1, .infer = rs_infer, .forward = rs_forward};
const mq_op_def mq_def_upsample = {.op_type = "Upsample", .domain = "", .since = 7, .until = 9, .min_in = 1,
                                   .max_in = 2, .min_out = 1, .max_out = 1, .infer = rs_infer, .forward = rs_forward};

/* ---- GridSample (PyTorch grid_sample semantics) --------------------------------------------------- */

enum { GS_BILINEAR, GS_NEAREST, GS_BICUBIC };
enum { GP_ZEROS, GP_BORDER, GP_REFLECTION };

static mq_status gs_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    MQ_TRY(mq_require_dtype(n, in[1], mq_types_float, err));
    static const char *const modes[] = {"bilinear", "nearest", "bicubic"};
    static const char *const pads[] = {"zeros", "border", "reflection"};
    const char *m = mq_attr_str(n, "mode", "bilinear"), *pm = mq_attr_str(n, "padding_mode", "zeros");
    if (rs_pick(m, modes, 3) < 0) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "mode '%s' is not supported", m);
    if (rs_pick(pm, pads, 3) < 0)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "padding_mode '%s' is not supported", pm);
    const mq_tensor *x = in[0], *g = in[1];
    if (x->rank < 0 || g->rank < 0) {
        mq_set_out(out[0], x->dtype, -1, NULL);
        return MQ_OK;
    }
    if (x->rank != 4 || g->rank != 4 || g->dims[3] != 2 || g->dims[0] != x->dims[0])
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "expects X [N,C,H,W] and grid [N,H_out,W_out,2]");
    int64_t dims[4] = {x->dims[0], x->dims[1], g->dims[1], g->dims[2]};
    mq_set_out(out[0], x->dtype, 4, dims);
    return MQ_OK;
}

static double gs_unnormalize(double c, int64_t size, int align)
{
    return align ? (c + 1) / 2 * (double)(size - 1) : ((c + 1) * (double)size - 1) / 2;
}

static double gs_clip(double c, int64_t size) { return fmin((double)(size - 1), fmax(c, 0)); }

static double gs_reflect(double c, double twice_low, double twice_high)
{
    if (twice_low == twice_high) return 0;
    double mn = twice_low / 2, span = (twice_high - twice_low) / 2;
    c = fabs(c - mn);
    double extra = fmod(c, span);
    int64_t flips = (int64_t)floor(c / span);
    return (flips % 2 == 0) ? extra + mn : span - extra + mn;
}

static double gs_pad_coord(double c, int64_t size, int pad, int align)
{
    if (pad == GP_BORDER) {
        c = gs_clip(c, size);
    } else if (pad == GP_REFLECTION) {
        c = align ? gs_reflect(c, 0, 2.0 * (double)(size - 1)) : gs_reflect(c, -1, 2.0 * (double)size - 1);
        c = gs_clip(c, size);
    }
    return c;
}

static double gs_at(const mq_tensor *x, size_t base, int64_t H, int64_t W, int64_t iy, int64_t ix)
{
    if (ix < 0 || iy < 0 || ix >= W || iy >= H) return 0;
    return mq_load_f64(x->data, x->dtype, base + (size_t)(iy * W + ix));
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

static mq_status gs_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)err;
    static const char *const modes[] = {"bilinear", "nearest", "bicubic"};
    static const char *const pads[] = {"zeros", "border", "reflection"};
    int mode = rs_pick(mq_attr_str(n, "mode", "bilinear"), modes, 3);
    int pad = rs_pick(mq_attr_str(n, "padding_mode", "zeros"), pads, 3);
    int align = mq_attr_int(n, "align_corners", 0) != 0;
    const mq_tensor *x = in[0], *g = in[1];
    mq_tensor *y = out[0];
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], Ho = g->dims[1], Wo = g->dims[2];
    for (int64_t b = 0; b < N; b++)
        for (int64_t i = 0; i < Ho; i++)
            for (int64_t j = 0; j < Wo; j++) {
                size_t gi = (size_t)(((b * Ho + i) * Wo + j) * 2);
                double gx = mq_load_f64(g->data, g->dtype, gi), gy = mq_load_f64(g->data, g->dtype, gi + 1);
                double ix = gs_unnormalize(gx, W, align), iy = gs_unnormalize(gy, H, align);
                for (int64_t c = 0; c < C; c++) {
                    size_t base = (size_t)((b * C + c) * H * W);
                    double v = 0;
                    if (mode == GS_BICUBIC) {
                        double fx = floor(ix), fy = floor(iy), wx[4], wy[4];
                        gs_cubic(ix - fx, wx);
                        gs_cubic(iy - fy, wy);
                        for (int a = 0; a < 4; a++) {
                            double row = 0;
                            for (int e = 0; e < 4; e++) {
                                double px = gs_pad_coord(fx - 1 + e, W, pad, align);
                                double py = gs_pad_coord(fy - 1 + a, H, pad, align);
                                row += wx[e] * gs_at(x, base, H, W, (int64_t)py, (int64_t)px);
                            }
                            v += wy[a] * row;
                        }
                    } else {
                        double px = gs_pad_coord(ix, W, pad, align), py = gs_pad_coord(iy, H, pad, align);
                        if (mode == GS_NEAREST) {
                            v = gs_at(x, base, H, W, (int64_t)nearbyint(py), (int64_t)nearbyint(px));
                        } else {
                            double x0 = floor(px), y0 = floor(py), tx = px - x0, ty = py - y0;
                            int64_t xi = (int64_t)x0, yi = (int64_t)y0;
                            v = gs_at(x, base, H, W, yi, xi) * (1 - tx) * (1 - ty) +
                                gs_at(x, base, H, W, yi, xi + 1) * tx * (1 - ty) +
                                gs_at(x, base, H, W, yi + 1, xi) * (1 - tx) * ty +
                                gs_at(x, base, H, W, yi + 1, xi + 1) * tx * ty;
                        }
                    }
                    mq_store_f64(y->data, y->dtype, (size_t)(((b * C + c) * Ho + i) * Wo + j), v);
                }
            }
    return MQ_OK;
}

const mq_op_def mq_def_gridsample = {.op_type = "GridSample", .domain = "", .since = 16, .until = 0, .min_in = 2,
                                     .max_in = 2, .min_out = 1, .max_out = 1, .infer = gs_infer,
                                     .forward = gs_forward};
