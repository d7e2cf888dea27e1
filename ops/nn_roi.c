/* nn_roi.c: RoiAlign (opset 10 and 16) and MaxRoiPool on NCHW input, lowered to the roialign_f32 /
 * maxroipool_f32 kernels of runtime/kernels/roi.c. */
#include "ops/nn_internal.h"
#include "runtime/kernels/roi.h"

#include <string.h>

static int is_roialign(const mq_node *n) { return !strcmp(n->op_type, "RoiAlign"); }

static mq_status roi_params(const mq_node *n, const mq_tensor *x, mqk_roi_params *p, mq_err *err)
{
    memset(p, 0, sizeof *p);
    if (x->rank != 4) return mq_node_fail(err, n, MQ_ERR_SHAPE, "X must be NCHW (rank 4)");
    MQ_TRY(nn_check_i32(n, x->dims, 4, err));
    p->channels = (int32_t)x->dims[1];
    p->height = (int32_t)x->dims[2];
    p->width = (int32_t)x->dims[3];
    p->spatial_scale = mq_attr_float(n, "spatial_scale", 1.0f);
    if (is_roialign(n)) {
        int64_t oh = mq_attr_int(n, "output_height", 1), ow = mq_attr_int(n, "output_width", 1);
        int64_t sr = mq_attr_int(n, "sampling_ratio", 0);
        if (oh < 1 || ow < 1 || oh > INT32_MAX || ow > INT32_MAX || sr < 0 || sr > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "bad output_height / output_width / sampling_ratio");
        p->out_h = (int32_t)oh;
        p->out_w = (int32_t)ow;
        p->sampling_ratio = (int32_t)sr;
        const char *mode = mq_attr_str(n, "mode", "avg");
        if (strcmp(mode, "avg") && strcmp(mode, "max"))
            return mq_node_fail(err, n, MQ_ERR_INVALID, "unknown mode '%s'", mode);
        p->max_mode = !strcmp(mode, "max");
        const char *ct = mq_attr_str(n, "coordinate_transformation_mode", n->opset >= 16 ? "half_pixel" : "output_half_pixel");
        if (strcmp(ct, "half_pixel") && strcmp(ct, "output_half_pixel"))
            return mq_node_fail(err, n, MQ_ERR_INVALID, "unknown coordinate_transformation_mode '%s'", ct);
        p->half_pixel = !strcmp(ct, "half_pixel");
    } else {
        const int64_t *ps;
        if (mq_attr_ints(n, "pooled_shape", &ps) != 2 || ps[0] < 1 || ps[1] < 1 || ps[0] > INT32_MAX ||
            ps[1] > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "pooled_shape must be two positive values");
        p->out_h = (int32_t)ps[0];
        p->out_w = (int32_t)ps[1];
    }
    return MQ_OK;
}

static mq_status roi_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    int ra = is_roialign(n);
    for (int i = 0; i < (ra ? 3 : 2); i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (in[1]->dtype != in[0]->dtype) return mq_node_fail(err, n, MQ_ERR_SHAPE, "rois must have the dtype of X");
    if (ra && in[2]->dtype != MQ_I64) return mq_node_fail(err, n, MQ_ERR_SHAPE, "batch_indices must be int64");
    if (nn_unknown(in[0]) || nn_unknown(in[1]) || (ra && nn_unknown(in[2]))) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    mqk_roi_params p;
    MQ_TRY(roi_params(n, in[0], &p, err));
    const mq_tensor *r = in[1];
    if (r->rank != 2 || r->dims[1] != (ra ? 4 : 5))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "rois must be [num_rois, %d]", ra ? 4 : 5);
    if (ra && (in[2]->rank != 1 || in[2]->dims[0] != r->dims[0]))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "batch_indices must be [num_rois]");
    int64_t dims[4] = {r->dims[0], p.channels, p.out_h, p.out_w};
    mq_set_out(out[0], in[0]->dtype, 4, dims);
    return MQ_OK;
}

static mq_status roi_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    int ra = is_roialign(n);
    if (in[0]->dtype != MQ_F32 || in[1]->dtype != MQ_F32 || out[0]->dtype != MQ_F32)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "dtype %s has no runtime kernel (float32 only)",
                            mq_dtype_name(in[0]->dtype));
    mqk_roi_params p;
    MQ_TRY(roi_params(n, in[0], &p, err));
    kc->kernel = ra ? "roialign_f32" : "maxroipool_f32";
    kc->p[0] = nn_pf(p.spatial_scale);
    kc->p[1] = p.sampling_ratio;
    kc->p[2] = p.half_pixel;
    kc->p[3] = p.max_mode;
    kc->n_p = 4;
    return MQ_OK;
}

/* Batch indices are data: checked here (the kernel writes zeros for bad ones), then the kernel runs. */
static mq_status roi_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    int ra = is_roialign(n);
    int64_t R = in[1]->dims[0];
    for (int64_t i = 0; i < R; i++) {
        int64_t b = ra ? ((const int64_t *)in[2]->data)[i]
                       : (int64_t)mq_load_f64(in[1]->data, in[1]->dtype, (size_t)i * 5);
        if (b < 0 || b >= in[0]->dims[0])
            return mq_node_fail(err, n, MQ_ERR_INVALID, "batch index %lld of roi %lld out of range", (long long)b,
                                (long long)i);
    }
    return nn_forward_kernel(n, in, out, err);
}

const mq_op_def nn_op_roialign = {.op_type = "RoiAlign", .domain = "", .since = 10, .until = 0, .min_in = 3,
                                  .max_in = 3, .min_out = 1, .max_out = 1, .infer = roi_infer, .forward = roi_forward,
                                  .lower = roi_lower};
const mq_op_def nn_op_maxroipool = {.op_type = "MaxRoiPool", .domain = "", .since = 1, .until = 0, .min_in = 2,
                                    .max_in = 2, .min_out = 1, .max_out = 1, .infer = roi_infer,
                                    .forward = roi_forward, .lower = roi_lower};
