/* reduce.c: op family 'reduce': the Reduce* ops and ArgMax/ArgMin, plus the family table (TopK and
 * CumSum live in reduce_scan.c, Einsum and Det in reduce_einsum.c). */
#include "ops/util.h"

#include <math.h>
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

typedef enum red_kind { R_SUM, R_SUMSQ, R_L1, R_L2, R_MEAN, R_PROD, R_MAX, R_MIN, R_LOGSUM, R_LOGSUMEXP } red_kind;

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

static inline double red_ld(const void *p, mq_dtype t, size_t i)
{
    if (t == MQ_F32) return ((const float *)p)[i];
    return mq_load_f64(p, t, i);
}

/* Output offset of every input element: strides of the output with 0 along reduced axes. */
static void red_strides(const mq_tensor *x, uint32_t mask, int64_t *ost)
{
    int64_t s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        if (mask & (1u << d)) {
            ost[d] = 0;
        } else {
            ost[d] = s;
            s *= x->dims[d];
        }
    }
}

static mq_status red_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    mq_tensor *y = out[0];
    uint32_t mask;
    int known, noop;
    MQ_TRY(red_axes(n, in, x->rank, &mask, &known, &noop, err));
    int64_t nx = mq_numel(x), ny = mq_numel(y);
    if (noop) {
        memcpy(y->data, x->data, mq_nbytes(x));
        return MQ_OK;
    }
    red_kind k = red_kind_of(n->op_type);
    int is_int = mq_dtype_is_int(x->dtype);
    int is_unsigned = is_int && !mq_dtype_is_signed(x->dtype);
    double *acc = mq_calloc((size_t)(ny > 0 ? ny : 1), sizeof(double));
    double *mx = NULL;
    int64_t *iacc = NULL;
    if (!acc) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    if (is_int && (k == R_SUM || k == R_PROD || k == R_MAX || k == R_MIN || k == R_SUMSQ || k == R_L1)) {
        iacc = mq_calloc((size_t)(ny > 0 ? ny : 1), sizeof(int64_t));
        if (!iacc) {
            mq_free(acc);
            return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        }
    }
    int64_t ost[MQ_MAX_RANK], idx[MQ_MAX_RANK] = {0};
    red_strides(x, mask, ost);
    int64_t count = ny > 0 ? nx / ny : 0;

    /* initial values */
    for (int64_t o = 0; o < ny; o++) {
        if (k == R_PROD) acc[o] = 1;
        if (k == R_MAX || k == R_LOGSUMEXP) acc[o] = -INFINITY;
        if (k == R_MIN) acc[o] = INFINITY;
        if (iacc) {
            iacc[o] = 0;
            if (k == R_PROD) iacc[o] = 1;
            if (k == R_MAX) iacc[o] = is_unsigned ? 0 : INT64_MIN;
            if (k == R_MIN) iacc[o] = is_unsigned ? (int64_t)-1 : INT64_MAX; /* -1: UINT64_MAX bits */
        }
    }
    if (k == R_LOGSUMEXP) {
        mx = mq_malloc(sizeof(double) * (size_t)(ny > 0 ? ny : 1));
        if (!mx) {
            mq_free(acc);
            return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        }
    }
    int pass_count = k == R_LOGSUMEXP ? 2 : 1;
    for (int pass = 0; pass < pass_count; pass++) {
        if (pass == 1) {
            for (int64_t o = 0; o < ny; o++) {
                mx[o] = isfinite(acc[o]) ? acc[o] : 0;
                acc[o] = 0;
            }
        }
        memset(idx, 0, sizeof idx);
        int64_t o = 0;
        for (int64_t i = 0; i < nx; i++) {
            if (iacc) {
                int64_t v = mq_load_i64(x->data, x->dtype, (size_t)i);
                switch (k) {
                case R_SUM: iacc[o] = (int64_t)((uint64_t)iacc[o] + (uint64_t)v); break;
                case R_SUMSQ: iacc[o] = (int64_t)((uint64_t)iacc[o] + (uint64_t)v * (uint64_t)v); break;
                case R_L1: iacc[o] = (int64_t)((uint64_t)iacc[o] + (uint64_t)(v < 0 && !is_unsigned ? -v : v)); break;
                case R_PROD: iacc[o] = (int64_t)((uint64_t)iacc[o] * (uint64_t)v); break;
                case R_MAX:
                    if (is_unsigned ? (uint64_t)v > (uint64_t)iacc[o] : v > iacc[o]) iacc[o] = v;
                    break;
                case R_MIN:
                    if (is_unsigned ? (uint64_t)v < (uint64_t)iacc[o] : v < iacc[o]) iacc[o] = v;
                    break;
                default: break;
                }
            } else {
                double v = red_ld(x->data, x->dtype, (size_t)i);
                switch (k) {
                case R_SUM:
                case R_MEAN:
                case R_LOGSUM: acc[o] += v; break;
                case R_SUMSQ:
                case R_L2: acc[o] += v * v; break;
                case R_L1: acc[o] += fabs(v); break;
                case R_PROD: acc[o] *= v; break;
                case R_MAX:
                    if (v > acc[o] || isnan(v)) acc[o] = v;
                    break;
                case R_MIN:
                    if (v < acc[o] || isnan(v)) acc[o] = v;
                    break;
                case R_LOGSUMEXP:
                    if (pass == 0) {
                        if (v > acc[o]) acc[o] = v;
                    } else {
                        acc[o] += exp(v - mx[o]);
                    }
                    break;
                }
            }
            /* advance the multi-index and the output offset */
            for (int d = x->rank - 1; d >= 0; d--) {
                o += ost[d];
                if (++idx[d] < x->dims[d]) break;
                o -= ost[d] * x->dims[d];
                idx[d] = 0;
            }
        }
    }
    for (int64_t o = 0; o < ny; o++) {
        if (iacc) {
            mq_store_i64(y->data, y->dtype, (size_t)o, iacc[o]);
            continue;
        }
        double v = acc[o];
        switch (k) {
        case R_L2: v = sqrt(v); break;
        case R_MEAN: v = is_int ? (count ? (double)(int64_t)(v / (double)count) : 0) : v / (double)count; break;
        case R_LOGSUM: v = log(v); break;
        case R_LOGSUMEXP: v = mx[o] + log(v); break;
        default: break;
        }
        if (is_int && !isfinite(v)) v = 0;
        mq_store_f64(y->data, y->dtype, (size_t)o, v);
    }
    mq_free(acc);
    mq_free(iacc);
    mq_free(mx);
    return MQ_OK;
}

#define RED_DEF(sym, name)                                                                         \
    static const mq_op_def sym = {                                                                 \
        .op_type = name, .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 2,           \
        .min_out = 1, .max_out = 1, .infer = red_infer, .forward = red_forward};

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

static mq_status arg_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    int axis;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), x->rank, &axis, err));
    int is_max = strcmp(n->op_type, "ArgMax") == 0;
    int last = n->opset >= 12 && mq_attr_int(n, "select_last_index", 0) != 0;
    int64_t outer = 1, inner = 1, len = x->dims[axis];
    for (int d = 0; d < axis; d++) outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++) inner *= x->dims[d];
    int64_t *y = out[0]->data;
    int is_int = mq_dtype_is_int(x->dtype);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            size_t base = (size_t)(o * len * inner + i);
            int64_t best = 0;
            if (is_int && x->dtype != MQ_U64) {
                int64_t bv = len > 0 ? mq_load_i64(x->data, x->dtype, base) : 0;
                for (int64_t j = 1; j < len; j++) {
                    int64_t v = mq_load_i64(x->data, x->dtype, base + (size_t)(j * inner));
                    int better = is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
                    if (better) {
                        bv = v;
                        best = j;
                    }
                }
            } else {
                double bv = len > 0 ? red_ld(x->data, x->dtype, base) : 0;
                for (int64_t j = 1; j < len; j++) {
                    double v = red_ld(x->data, x->dtype, base + (size_t)(j * inner));
                    int better = is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
                    if (isnan(bv)) better = 0;
                    else if (isnan(v)) better = 1;
                    if (better) {
                        bv = v;
                        best = j;
                    }
                }
            }
            y[o * inner + i] = best;
        }
    }
    return MQ_OK;
}

static const mq_op_def def_argmax = {.op_type = "ArgMax", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                     .max_in = 1, .min_out = 1, .max_out = 1, .infer = arg_infer,
                                     .forward = arg_forward};
static const mq_op_def def_argmin = {.op_type = "ArgMin", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                     .max_in = 1, .min_out = 1, .max_out = 1, .infer = arg_infer,
                                     .forward = arg_forward};

/* Defined in reduce_scan.c and reduce_einsum.c. */
extern const mq_op_def mq_def_topk, mq_def_cumsum, mq_def_einsum, mq_def_det;

const mq_op_def *const mq_ops_reduce[] = {
    &def_reduce_sum, &def_reduce_sumsq, &def_reduce_l1,     &def_reduce_l2,        &def_reduce_mean,
    &def_reduce_prod, &def_reduce_max,  &def_reduce_min,    &def_reduce_logsum,    &def_reduce_logsumexp,
    &def_argmax,      &def_argmin,      &mq_def_topk,       &mq_def_cumsum,        &mq_def_einsum,
    &mq_def_det,      NULL};
