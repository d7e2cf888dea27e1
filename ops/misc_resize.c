/* misc_resize.c: Resize (10, 11, 13), Upsample (7, 9) and GridSample (16), lowered to
 * runtime/kernels/misc_resize.c and misc_gridsample.c. Part of the 'misc' family (table in misc.c). */
#include "ops/util.h"
#include "runtime/kernels/misc_resize.h"

#include <math.h>
#include <string.h>

/* ---- parameters ---------------------------------------------------------------------------------- */

enum { RS_NEAREST = MQK_RS_NEAREST, RS_LINEAR = MQK_RS_LINEAR, RS_CUBIC = MQK_RS_CUBIC };
enum { CT_HALF_PIXEL = MQK_CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL = MQK_CT_PYTORCH_HALF_PIXEL,
       CT_ALIGN_CORNERS = MQK_CT_ALIGN_CORNERS, CT_ASYMMETRIC = MQK_CT_ASYMMETRIC,
       CT_TF_HALF_PIXEL_FOR_NN = MQK_CT_TF_HALF_PIXEL_FOR_NN, CT_TF_CROP_AND_RESIZE = MQK_CT_TF_CROP_AND_RESIZE };
enum { NM_ROUND_PREFER_FLOOR = MQK_NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL = MQK_NM_ROUND_PREFER_CEIL,
       NM_FLOOR = MQK_NM_FLOOR, NM_CEIL = MQK_NM_CEIL, NM_SIMPLE = MQK_NM_SIMPLE };

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

/* Lowering: kernel resize (runtime/kernels/misc_resize.h) with every scale, roi and mode as parameters;
 * the kernel builds the per-axis tap tables in its scratch. */
static mq_status rs_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    rs_params p;
    int known;
    MQ_TRY(rs_params_get(n, in, &p, &known, err));
    if (!known) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "scales/sizes/roi are not constants");
    if (mq_numel(in[0]) == 0 && mq_numel(out[0]) != 0)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot resize an empty tensor");
    if (p.rank > (MQR_MAX_PARAMS - 6) / 4) return mq_node_fail(err, n, MQ_ERR_LIMIT, "rank %d too large", p.rank);
    kc->kernel = "resize";
    kc->p[0] = p.mode;
    kc->p[1] = p.coord;
    kc->p[2] = p.nearest;
    kc->p[3] = p.exclude;
    kc->p[4] = mqr_f32_bits((float)p.cubic_a);
    kc->p[5] = mqr_f32_bits((float)p.extrap);
    size_t tot = 0;
    for (int d = 0; d < p.rank; d++) {
        uint64_t b;
        memcpy(&b, &p.scale[d], sizeof b);
        kc->p[6 + 4 * d] = (int32_t)(uint32_t)(b & 0xffffffffu);
        kc->p[7 + 4 * d] = (int32_t)(uint32_t)(b >> 32);
        kc->p[8 + 4 * d] = mqr_f32_bits((float)p.roi_start[d]);
        kc->p[9 + 4 * d] = mqr_f32_bits((float)p.roi_end[d]);
        tot += (size_t)p.out[d];
    }
    kc->n_p = 6 + 4 * p.rank;
    kc->scratch_bytes = tot * MQK_RESIZE_SCRATCH_PER_INDEX;
    return MQ_OK;
}

const mq_op_def mq_def_resize = {.op_type = "Resize", .domain = "", .since = 10, .until = 17, .min_in = 2,
                                 .max_in = 4, .min_out = 1, .max_out = 1, .static_in = 0xeu, .infer = rs_infer,
                                 .forward = mq_forward_lowered, .lower = rs_lower};
const mq_op_def mq_def_upsample = {.op_type = "Upsample", .domain = "", .since = 7, .until = 9, .min_in = 1,
                                   .max_in = 2, .min_out = 1, .max_out = 1, .static_in = 2u, .infer = rs_infer,
                                 .forward = mq_forward_lowered, .lower = rs_lower};

/* ---- GridSample (PyTorch grid_sample semantics) --------------------------------------------------- */


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

/* Lowering: kernel gridsample (runtime/kernels/misc_gridsample.h). */
static mq_status gs_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    (void)in;
    (void)out;
    (void)err;
    static const char *const modes[] = {"bilinear", "nearest", "bicubic"};
    static const char *const pads[] = {"zeros", "border", "reflection"};
    kc->kernel = "gridsample";
    kc->p[0] = rs_pick(mq_attr_str(n, "mode", "bilinear"), modes, 3);
    kc->p[1] = rs_pick(mq_attr_str(n, "padding_mode", "zeros"), pads, 3);
    kc->p[2] = mq_attr_int(n, "align_corners", 0) != 0;
    kc->n_p = 3;
    return MQ_OK;
}

const mq_op_def mq_def_gridsample = {.op_type = "GridSample", .domain = "", .since = 16, .until = 0, .min_in = 2,
                                     .max_in = 2, .min_out = 1, .max_out = 1, .infer = gs_infer,
                                     .forward = mq_forward_lowered, .lower = gs_lower};
