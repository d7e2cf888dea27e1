/* reduce_scan.c: ops along one axis that keep an ordering: TopK (stable: ties go to the lower index)
 * and CumSum (exclusive, reverse). Part of the 'reduce' family (table in reduce.c). */
#include "ops/util.h"

#include <math.h>
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
    int64_t k;
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

/* Does (va, ia) come before (vb, ib)? NaN counts as the largest value; ties go to the lower index. */
static int topk_before(double va, int64_t ia, double vb, int64_t ib, int largest)
{
    int na = isnan(va), nb = isnan(vb);
    if (na || nb) {
        if (na && nb) return ia < ib;
        return largest ? na : nb;
    }
    if (va != vb) return largest ? va > vb : va < vb;
    return ia < ib;
}

/* Merge sort of idx[0..len) by key[idx], using tmp of the same size. */
static void topk_sort(int64_t *idx, int64_t *tmp, const double *key, int64_t len, int largest)
{
    for (int64_t w = 1; w < len; w *= 2) {
        for (int64_t lo = 0; lo < len; lo += 2 * w) {
            int64_t mid = lo + w < len ? lo + w : len, hi = lo + 2 * w < len ? lo + 2 * w : len;
            int64_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = topk_before(key[idx[b]], idx[b], key[idx[a]], idx[a], largest) ? idx[b++] : idx[a++];
            while (a < mid) tmp[o++] = idx[a++];
            while (b < hi) tmp[o++] = idx[b++];
        }
        memcpy(idx, tmp, sizeof(int64_t) * (size_t)len);
    }
}

static mq_status topk_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    int64_t k;
    int known, axis;
    MQ_TRY(topk_k(n, in, &k, &known, err));
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), x->rank, &axis, err));
    int largest = n->opset < 11 || mq_attr_int(n, "largest", 1) != 0;
    int64_t outer = 1, inner = 1, len = x->dims[axis];
    for (int d = 0; d < axis; d++) outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++) inner *= x->dims[d];
    size_t m = (size_t)(len > 0 ? len : 1);
    double *key = mq_malloc(sizeof(double) * m);
    int64_t *idx = mq_malloc(sizeof(int64_t) * m), *tmp = mq_malloc(sizeof(int64_t) * m);
    if (!key || !idx || !tmp) {
        mq_free(key);
        mq_free(idx);
        mq_free(tmp);
        return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    }
    mq_tensor *vals = out[0], *inds = n->n_out > 1 ? out[1] : NULL;
    int is_int = mq_dtype_is_int(x->dtype);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            size_t base = (size_t)(o * len * inner + i);
            for (int64_t j = 0; j < len; j++) {
                key[j] = mq_load_f64(x->data, x->dtype, base + (size_t)(j * inner));
                idx[j] = j;
            }
            topk_sort(idx, tmp, key, len, largest);
            size_t obase = (size_t)(o * k * inner + i);
            for (int64_t j = 0; j < k; j++) {
                size_t at = obase + (size_t)(j * inner);
                size_t src = base + (size_t)(idx[j] * inner);
                if (is_int)
                    mq_store_i64(vals->data, vals->dtype, at, mq_load_i64(x->data, x->dtype, src));
                else
                    mq_store_f64(vals->data, vals->dtype, at, key[idx[j]]);
                if (inds) ((int64_t *)inds->data)[at] = idx[j];
            }
        }
    }
    mq_free(key);
    mq_free(idx);
    mq_free(tmp);
    return MQ_OK;
}

const mq_op_def mq_def_topk = {.op_type = "TopK", .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 2,
                               .min_out = 1, .max_out = 2, .infer = topk_infer, .forward = topk_forward};

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

static mq_status cumsum_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    mq_tensor *y = out[0];
    int64_t av[1];
    int c, axis;
    MQ_TRY(mq_read_ints(n, in[1], av, 1, &c, err));
    if (c != 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "axis must hold one value");
    MQ_TRY(mq_axis(n, av[0], x->rank, &axis, err));
    int excl = mq_attr_int(n, "exclusive", 0) != 0, rev = mq_attr_int(n, "reverse", 0) != 0;
    int64_t outer = 1, inner = 1, len = x->rank > 0 ? x->dims[axis] : 1;
    for (int d = 0; d < axis; d++) outer *= x->dims[d];
    for (int d = axis + 1; d < x->rank; d++) inner *= x->dims[d];
    int is_int = mq_dtype_is_int(x->dtype);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            size_t base = (size_t)(o * len * inner + i);
            double s = 0;
            int64_t si = 0;
            for (int64_t jj = 0; jj < len; jj++) {
                int64_t j = rev ? len - 1 - jj : jj;
                size_t at = base + (size_t)(j * inner);
                if (is_int) {
                    int64_t v = mq_load_i64(x->data, x->dtype, at);
                    if (!excl) si = (int64_t)((uint64_t)si + (uint64_t)v);
                    mq_store_i64(y->data, y->dtype, at, si);
                    if (excl) si = (int64_t)((uint64_t)si + (uint64_t)v);
                } else {
                    double v = mq_load_f64(x->data, x->dtype, at);
                    if (!excl) s += v;
                    mq_store_f64(y->data, y->dtype, at, s);
                    if (excl) s += v;
                }
            }
        }
    }
    return MQ_OK;
}

const mq_op_def mq_def_cumsum = {.op_type = "CumSum", .domain = "", .since = 11, .until = 0, .min_in = 2,
                                 .max_in = 2, .min_out = 1, .max_out = 1, .infer = cumsum_infer,
                                 .forward = cumsum_forward};
