/* reduce.c: op family 'reduce': the Reduce* ops and ArgMax/ArgMin (kernels: runtime/kernels/reduce.c, reduce_any.c)
 * and the family table (TopK, CumSum in reduce_scan.c; Einsum, Det in reduce_einsum.c). */
#include "ops/util.h"
#include "runtime/kernels/reduce.h"

#include <string.h>

/* ---- axes -------------------------------------------------------------------------------------- */

/* Which axes a Reduce* node reduces. *known = 0 when the axes are an input whose value is unknown
 * yet; *noop = 1 when the node is the identity (noop_with_empty_axes with empty axes). */
static mq_status red_axes(const mq_node *n, const mq_tensor *const *in, int rank, uint32_t *mask, int *known,
                          int *noop, mq_err *err)
{
    int64_t ax[MQ_MAX_RANK];
    int k = 0;
    int from_input = (n->opset >= 18) || (n->opset >= 13 && strcmp(n->op_type, "ReduceSum") == 0);
    *known = 1;
    *noop = 0;
    *mask = 0;
    if (from_input) {
        const mq_tensor *a = n->n_in > 1 ? in[1] : NULL;
        if (a && !(a->rank >= 0 && mq_numel(a) == 0)) { /* an empty axes tensor may carry no data */
            if (!a->data) {
                *known = 0;
                return MQ_OK;
            }
            MQ_TRY(mq_read_ints(n, a, ax, MQ_MAX_RANK, &k, err));
        }
    } else {
        const int64_t *v;
        int c = mq_attr_ints(n, "axes", &v);
        if (c > MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_INVALID, "too many axes (%d)", c);
        for (int i = 0; i < c; i++) ax[k++] = v[i];
    }
    if (k == 0) {
        if (from_input && mq_attr_int(n, "noop_with_empty_axes", 0)) {
            *noop = 1;
            return MQ_OK;
        }
        *mask = rank > 0 ? (uint32_t)((1u << rank) - 1) : 0;
        return MQ_OK;
    }
    for (int i = 0; i < k; i++) {
        int a;
        MQ_TRY(mq_axis(n, ax[i], rank, &a, err));
        if (rank == 0) continue;
        *mask |= 1u << a;
    }
    return MQ_OK;
}

static void red_out_shape(const mq_tensor *x, uint32_t mask, int keep, int *rank, int64_t *dims)
{
    int r = 0;
    for (int d = 0; d < x->rank; d++) {
        if (mask & (1u << d)) {
            if (keep) dims[r++] = 1;
        } else {
            dims[r++] = x->dims[d];
        }
    }
    *rank = r;
}

static const mq_dtype red_types[] = {MQ_F32, MQ_F64, MQ_I8, MQ_I16, MQ_I32, MQ_I64, MQ_U8, MQ_U16, MQ_U32,
                                     MQ_U64, MQ_UNDEFINED};

static mq_status red_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    const mq_tensor *x = in[0];
    MQ_TRY(mq_require_dtype(n, x, red_types, err));
    if (x->rank < 0) {
        mq_set_out(out[0], x->dtype, -1, NULL);
        return MQ_OK;
    }
    uint32_t mask;
    int known, noop;
    MQ_TRY(red_axes(n, in, x->rank, &mask, &known, &noop, err));
    if (!known) {
        mq_set_out(out[0], x->dtype, -1, NULL);
        return MQ_OK;
    }
    if (noop) {
        mq_set_like(out[0], x);
        return MQ_OK;
    }
    int r;
    int64_t dims[MQ_MAX_RANK];
    red_out_shape(x, mask, (int)mq_attr_int(n, "keepdims", 1), &r, dims);
    mq_set_out(out[0], x->dtype, r, dims);
    return MQ_OK;
}

typedef enum red_kind {
    R_SUM = MQK_RED_SUM, R_SUMSQ = MQK_RED_SUMSQ, R_L1 = MQK_RED_L1, R_L2 = MQK_RED_L2, R_MEAN = MQK_RED_MEAN,
    R_PROD = MQK_RED_PROD, R_MAX = MQK_RED_MAX, R_MIN = MQK_RED_MIN, R_LOGSUM = MQK_RED_LOGSUM,
    R_LOGSUMEXP = MQK_RED_LOGSUMEXP
} red_kind;

static red_kind red_kind_of(const char *op)
{
    static const struct {
        const char *name;
        red_kind k;
    } map[] = {{"ReduceSum", R_SUM},   {"ReduceSumSquare", R_SUMSQ}, {"ReduceL1", R_L1},
               {"ReduceL2", R_L2},     {"ReduceMean", R_MEAN},       {"ReduceProd", R_PROD},
               {"ReduceMax", R_MAX},   {"ReduceMin", R_MIN},         {"ReduceLogSum", R_LOGSUM},
               {"ReduceLogSumExp", R_LOGSUMEXP}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(op, map[i].name) == 0) return map[i].k;
    return R_SUM;
}

/* Lowering: reduce_f32 for float32, reduce_any for float64 and the integer types (runtime/kernels/reduce.h). */
static mq_status red_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    const mq_tensor *x = in[0];
    uint32_t mask;
    int known, noop;
    MQ_TRY(red_axes(n, in, x->rank, &mask, &known, &noop, err));
    if (!known) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "axes are not a constant");
    red_kind k = red_kind_of(n->op_type);
    size_t ny = (size_t)mq_numel(out[0]);
    kc->kernel = x->dtype == MQ_F32 ? "reduce_f32" : "reduce_any";
    kc->p[0] = (int32_t)k;
    kc->p[1] = (int32_t)mask;
    kc->p[2] = noop;
    kc->n_p = 3;
    if (noop) kc->scratch_bytes = 0;
    else if (x->dtype == MQ_F32) kc->scratch_bytes = k == R_LOGSUMEXP ? ny * sizeof(float) : 0;
    else kc->scratch_bytes = ny * sizeof(double) * (k == R_LOGSUMEXP ? 2 : 1);
    return MQ_OK;
}

#define RED_DEF(sym, name)                                                                         \
    static const mq_op_def sym = {                                                                 \
        .op_type = name, .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 2,           \
        .min_out = 1, .max_out = 1, .static_in = 2u, .infer = red_infer, .forward = mq_forward_lowered,\
        .lower = red_lower};

RED_DEF(def_reduce_sum, "ReduceSum")
RED_DEF(def_reduce_sumsq, "ReduceSumSquare")
RED_DEF(def_reduce_l1, "ReduceL1")
RED_DEF(def_reduce_l2, "ReduceL2")
RED_DEF(def_reduce_mean, "ReduceMean")
RED_DEF(def_reduce_prod, "ReduceProd")
RED_DEF(def_reduce_max, "ReduceMax")
RED_DEF(def_reduce_min, "ReduceMin")
RED_DEF(def_reduce_logsum, "ReduceLogSum")
RED_DEF(def_reduce_logsumexp, "ReduceLogSumExp")

/* ---- ArgMax / ArgMin --------------------------------------------------------------------------- */

static mq_status arg_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    const mq_tensor *x = in[0];
    MQ_TRY(mq_require_dtype(n, x, red_types, err));
    if (x->rank < 0) {
        mq_set_out(out[0], MQ_I64, -1, NULL);
        return MQ_OK;
    }
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), x->rank, &axis, err));
    if (x->rank == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 1");
    int r;
    int64_t dims[MQ_MAX_RANK];
    red_out_shape(x, 1u << axis, (int)mq_attr_int(n, "keepdims", 1), &r, dims);
    mq_set_out(out[0], MQ_I64, r, dims);
    return MQ_OK;
}

/* Lowering: arg_f32 for float32, arg_any for float64 and the integer types (runtime/kernels/reduce.h). */
static mq_status arg_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    (void)out;
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), in[0]->rank, &axis, err));
    kc->kernel = in[0]->dtype == MQ_F32 ? "arg_f32" : "arg_any";
    kc->p[0] = axis;
    kc->p[1] = strcmp(n->op_type, "ArgMax") == 0;
    kc->p[2] = n->opset >= 12 && mq_attr_int(n, "select_last_index", 0) != 0;
    kc->n_p = 3;
    return MQ_OK;
}

static const mq_op_def def_argmax = {.op_type = "ArgMax", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                     .max_in = 1, .min_out = 1, .max_out = 1, .infer = arg_infer,
                                     .forward = mq_forward_lowered, .lower = arg_lower};
static const mq_op_def def_argmin = {.op_type = "ArgMin", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                     .max_in = 1, .min_out = 1, .max_out = 1, .infer = arg_infer,
                                     .forward = mq_forward_lowered, .lower = arg_lower};

/* Defined in reduce_scan.c and reduce_einsum.c. */
extern const mq_op_def mq_def_topk, mq_def_cumsum, mq_def_einsum, mq_def_det;

const mq_op_def *const mq_ops_reduce[] = {
    &def_reduce_sum, &def_reduce_sumsq, &def_reduce_l1,     &def_reduce_l2,        &def_reduce_mean,
    &def_reduce_prod, &def_reduce_max,  &def_reduce_min,    &def_reduce_logsum,    &def_reduce_logsumexp,
    &def_argmax,      &def_argmin,      &mq_def_topk,       &mq_def_cumsum,        &mq_def_einsum,
    &mq_def_det,      NULL};
