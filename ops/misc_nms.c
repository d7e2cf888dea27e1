/* misc_nms.c: NonMaxSuppression (10, 11): greedy per batch and class, by descending score (ties to the
 * lower box index), suppressing boxes whose IoU exceeds the threshold. Part of the 'misc' family. */
#include "ops/util.h"

/* The output's first dimension (the number of selected boxes) depends on the data: lowered with the
 * bound batch x classes x min(max_output_boxes_per_class, boxes) (runtime/kernels/shape_dyn.h). */

#include <math.h>
#include <string.h>

typedef struct nms_args {
    int64_t max_out;
    double iou_th, score_th;
    int has_score_th, center;
} nms_args;

static mq_status nms_args_get(const mq_node *n, const mq_tensor *const *in, nms_args *a, int *known, mq_err *err)
{
    memset(a, 0, sizeof *a);
    *known = 1;
    a->center = mq_attr_int(n, "center_point_box", 0) != 0;
    for (int i = 0; i < 5; i++) {
        const mq_tensor *t = i < n->n_in ? in[i] : NULL;
        if (!t) continue;
        if (i >= 2 && t->rank >= 0 && mq_numel(t) == 0) continue;
        if (!t->data || t->rank < 0) {
            *known = 0;
            continue;
        }
        if (i >= 2 && mq_numel(t) != 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input %d must hold one value", i);
        if (i == 2) a->max_out = mq_load_i64(t->data, t->dtype, 0);
        if (i == 3) a->iou_th = mq_load_f64(t->data, t->dtype, 0);
        if (i == 4) {
            a->score_th = mq_load_f64(t->data, t->dtype, 0);
            a->has_score_th = 1;
        }
    }
    if (a->max_out < 0) a->max_out = 0;
    return MQ_OK;
}

static void nms_box(const mq_tensor *b, size_t i, int center, double *y0, double *x0, double *y1, double *x1)
{
    double v[4];
    for (int k = 0; k < 4; k++) v[k] = mq_load_f64(b->data, b->dtype, i * 4 + (size_t)k);
    if (center) {
        *x0 = v[0] - v[2] / 2;
        *x1 = v[0] + v[2] / 2;
        *y0 = v[1] - v[3] / 2;
        *y1 = v[1] + v[3] / 2;
    } else {
        *y0 = fmin(v[0], v[2]);
        *y1 = fmax(v[0], v[2]);
        *x0 = fmin(v[1], v[3]);
        *x1 = fmax(v[1], v[3]);
    }
}

static int nms_suppress(const mq_tensor *boxes, size_t a, size_t b, int center, double th)
{
    double ay0, ax0, ay1, ax1, by0, bx0, by1, bx1;
    nms_box(boxes, a, center, &ay0, &ax0, &ay1, &ax1);
    nms_box(boxes, b, center, &by0, &bx0, &by1, &bx1);
    double aa = (ay1 - ay0) * (ax1 - ax0), ab = (by1 - by0) * (bx1 - bx0);
    if (aa <= 0 || ab <= 0) return 0;
    double iy = fmin(ay1, by1) - fmax(ay0, by0), ix = fmin(ax1, bx1) - fmax(ax0, bx0);
    if (iy <= 0 || ix <= 0) return 0;
    double inter = iy * ix, uni = aa + ab - inter;
    if (uni <= 0) return 0;
    return inter / uni > th;
}

/* Run NMS; writes triples to sel (if not NULL) and the count to *count. */
static mq_status nms_run(const mq_node *n, const mq_tensor *boxes, const mq_tensor *scores, const nms_args *a,
                         int64_t *sel, int64_t *count, mq_err *err)
{
    int64_t B = boxes->dims[0], NB = boxes->dims[1], C = scores->dims[1];
    size_t m = (size_t)(NB > 0 ? NB : 1);
    int64_t *cand = mq_malloc(sizeof(int64_t) * m), *tmp = mq_malloc(sizeof(int64_t) * m),
            *kept = mq_malloc(sizeof(int64_t) * m);
    double *sc = mq_malloc(sizeof(double) * m);
    if (!cand || !tmp || !kept || !sc) {
        mq_free(cand);
        mq_free(tmp);
        mq_free(kept);
        mq_free(sc);
        return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    }
    int64_t total = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++) {
            int64_t nc = 0;
            for (int64_t i = 0; i < NB; i++) {
                sc[i] = mq_load_f64(scores->data, scores->dtype, (size_t)((b * C + c) * NB + i));
                if (!a->has_score_th || sc[i] > a->score_th) cand[nc++] = i;
            }
            /* stable merge sort by descending score */
            for (int64_t w = 1; w < nc; w *= 2) {
                for (int64_t lo = 0; lo < nc; lo += 2 * w) {
                    int64_t mid = lo + w < nc ? lo + w : nc, hi = lo + 2 * w < nc ? lo + 2 * w : nc;
                    int64_t p = lo, q = mid, o = lo;
                    while (p < mid && q < hi) tmp[o++] = sc[cand[q]] > sc[cand[p]] ? cand[q++] : cand[p++];
                    while (p < mid) tmp[o++] = cand[p++];
                    while (q < hi) tmp[o++] = cand[q++];
                }
                memcpy(cand, tmp, sizeof(int64_t) * (size_t)nc);
            }
            int64_t nk = 0;
            for (int64_t i = 0; i < nc && nk < a->max_out; i++) {
                int ok = 1;
                for (int64_t j = 0; j < nk && ok; j++)
                    if (nms_suppress(boxes, (size_t)(b * NB + cand[i]), (size_t)(b * NB + kept[j]), a->center,
                                     a->iou_th))
                        ok = 0;
                if (!ok) continue;
                kept[nk++] = cand[i];
                if (sel) {
                    sel[total * 3] = b;
                    sel[total * 3 + 1] = c;
                    sel[total * 3 + 2] = cand[i];
                }
                total++;
            }
        }
    mq_free(cand);
    mq_free(tmp);
    mq_free(kept);
    mq_free(sc);
    *count = total;
    return MQ_OK;
}

static mq_status nms_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    const mq_tensor *boxes = in[0], *scores = in[1];
    MQ_TRY(mq_require_dtype(n, boxes, mq_types_float, err));
    MQ_TRY(mq_require_dtype(n, scores, mq_types_float, err));
    if (boxes->rank >= 0 && scores->rank >= 0) {
        if (boxes->rank != 3 || boxes->dims[2] != 4 || scores->rank != 3 || scores->dims[0] != boxes->dims[0] ||
            scores->dims[2] != boxes->dims[1])
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "expects boxes [B,N,4] and scores [B,C,N]");
    }
    nms_args a;
    int known;
    MQ_TRY(nms_args_get(n, in, &a, &known, err));
    if (!known) {
        mq_set_out(out[0], MQ_I64, -1, NULL);
        return MQ_OK;
    }
    int64_t cnt;
    MQ_TRY(nms_run(n, boxes, scores, &a, NULL, &cnt, err));
    int64_t dims[2] = {cnt, 3};
    mq_set_out(out[0], MQ_I64, 2, dims);
    return MQ_OK;
}

static mq_status nms_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    nms_args a;
    int known;
    MQ_TRY(nms_args_get(n, in, &a, &known, err));
    int64_t cnt;
    MQ_TRY(nms_run(n, in[0], in[1], &a, out[0]->data, &cnt, err));
    if (cnt != out[0]->dims[0]) return mq_node_fail(err, n, MQ_ERR_SHAPE, "selection count changed");
    return MQ_OK;
}

static mq_status nms_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    const mq_tensor *boxes = in[0], *scores = in[1], *mx = n->n_in > 2 ? in[2] : NULL;
    if (boxes->dtype != MQ_F32 || scores->dtype != MQ_F32)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "boxes and scores of dtype %s (the kernel takes float32)",
                            mq_dtype_name(boxes->dtype != MQ_F32 ? boxes->dtype : scores->dtype));
    for (int i = 3; i < n->n_in; i++)
        if (in[i] && (in[i]->dtype != MQ_F32 || mq_numel(in[i]) > 1))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "input %d must be a float32 with one value", i);
    int64_t max_out = 0;
    if (mx && mq_numel(mx) > 0) {
        if (!mx->data)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED,
                                "max_output_boxes_per_class '%s' is known only at run time: the output's bound needs it",
                                mx->name);
        if (mq_numel(mx) != 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input 2 must hold one value");
        max_out = mq_load_i64(mx->data, mx->dtype, 0);
    }
    int64_t per = max_out < 0 ? 0 : max_out < boxes->dims[1] ? max_out : boxes->dims[1];
    int64_t rows = boxes->dims[0] * scores->dims[1] * per;
    if (rows > INT32_MAX / 3 || (uint64_t)boxes->dims[1] * 12 > UINT32_MAX)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "%lld selected boxes at most: too many for the kernel", (long long)rows);
    if (out[0]->rank >= 0) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "output with a static shape");
    kc->kernel = "sh_nms";
    kc->p[0] = mq_attr_int(n, "center_point_box", 0) != 0;
    kc->p[1] = (int32_t)per;
    kc->n_p = 2;
    kc->scratch_bytes = 12 * (size_t)boxes->dims[1];
    kc->bounded = 1;
    kc->bound_rank[0] = 2;
    kc->bound[0][0] = rows;
    kc->bound[0][1] = 3;
    return MQ_OK;
}

const mq_op_def mq_def_nms = {.op_type = "NonMaxSuppression", .domain = "", .since = 10, .until = 0, .min_in = 2,
                              .max_in = 5, .min_out = 1, .max_out = 1, .static_in = 1u << 2, .infer = nms_infer,
                              .forward = nms_forward, .lower = nms_lower, .bounded_out = 1};
