/* reduce_scan.c: ops along one axis that keep an ordering: TopK and CumSum, lowered to
 * runtime/kernels/reduce_scan.c. Part of the 'reduce' family (table in reduce.c). */
#include "ops/util.h"

#include <string.h>

/* ---- TopK ---------------------------------------------------------------------------------------- */

static mq_status topk_k(const mq_node *n, const mq_tensor *const *in, int64_t *k, int *known, mq_err *err)
{
    *known = 1;
    if (n->opset < 10) {
        *k = mq_attr_int(n, "k", -1);
    } else {
        MQ_TRY(mq_require_input(n, in, 1, err));
        if (!in[1]->data) {
            *known = 0;
            return MQ_OK;
        }
        int64_t v[1];
        int c;
        MQ_TRY(mq_read_ints(n, in[1], v, 1, &c, err));
        if (c != 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "K must hold one value");
        *k = v[0];
    }
    if (*k < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "K must be >= 0, got %lld", (long long)*k);
    return MQ_OK;
}

static mq_status topk_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    const mq_tensor *x = in[0];
    MQ_TRY(mq_require_dtype(n, x, mq_types_numeric, err));
    int64_t k = 0;
    int known;
    MQ_TRY(topk_k(n, in, &k, &known, err));
    if (!known || x->rank < 0) {
        mq_set_out(out[0], x->dtype, -1, NULL);
        if (n->n_out > 1 && out[1]) mq_set_out(out[1], MQ_I64, -1, NULL);
        return MQ_OK;
    }
    if (x->rank == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 1");
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), x->rank, &axis, err));
    if (k > x->dims[axis])
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "K=%lld exceeds axis size %lld", (long long)k,
                            (long long)x->dims[axis]);
    int64_t dims[MQ_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[axis] = k;
    mq_set_out(out[0], x->dtype, x->rank, dims);
    if (n->n_out > 1 && out[1]) mq_set_out(out[1], MQ_I64, x->rank, dims);
    return MQ_OK;
}

/* Lowering: kernel topk (runtime/kernels/reduce_scan.h). */
static mq_status topk_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    (void)out;
    const mq_tensor *x = in[0];
    int64_t k;
    int known, axis;
    MQ_TRY(topk_k(n, in, &k, &known, err));
    if (!known) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "K is not a constant");
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), x->rank, &axis, err));
    kc->kernel = "topk";
    kc->p[0] = axis;
    kc->p[1] = n->opset < 11 || mq_attr_int(n, "largest", 1) != 0;
    kc->n_p = 2;
    kc->scratch_bytes = (size_t)x->dims[axis] * (sizeof(double) + 2 * sizeof(int32_t));
    return MQ_OK;
}

const mq_op_def mq_def_topk = {.op_type = "TopK", .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 2,
                               .min_out = 1, .max_out = 2, .static_in = 2u, .infer = topk_infer, .forward = mq_forward_lowered,
                               .lower = topk_lower};

/* ---- CumSum -------------------------------------------------------------------------------------- */

static mq_status cumsum_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_numeric, err));
    MQ_TRY(mq_require_dtype(n, in[1], mq_types_index, err));
    if (in[1]->rank > 1 || (in[1]->rank == 1 && in[1]->dims[0] != 1))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "axis must be a scalar");
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

/* Lowering: kernel cumsum (runtime/kernels/reduce_scan.h); the axis input must be a constant. */
static mq_status cumsum_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    (void)out;
    const mq_tensor *x = in[0];
    int64_t av[1];
    int c, axis = 0;
    if (!in[1]->data) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "axis is not a constant");
    MQ_TRY(mq_read_ints(n, in[1], av, 1, &c, err));
    if (c != 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "axis must hold one value");
    if (x->rank > 0) MQ_TRY(mq_axis(n, av[0], x->rank, &axis, err));
    kc->kernel = "cumsum";
    kc->p[0] = axis;
    kc->p[1] = mq_attr_int(n, "exclusive", 0) != 0;
    kc->p[2] = mq_attr_int(n, "reverse", 0) != 0;
    kc->n_p = 3;
    return MQ_OK;
}

const mq_op_def mq_def_cumsum = {.op_type = "CumSum", .domain = "", .since = 11, .until = 0, .min_in = 2,
                                 .max_in = 2, .min_out = 1, .max_out = 1, .static_in = 2u, .infer = cumsum_infer,
                                 .forward = mq_forward_lowered, .lower = cumsum_lower};
