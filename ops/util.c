/* util.c: helpers shared by the op families (see util.h). */
#include "ops/util.h"

#include <string.h>

const mq_dtype mq_types_float[] = {MQ_F32, MQ_F64, MQ_UNDEFINED};
const mq_dtype mq_types_numeric[] = {MQ_F32, MQ_F64, MQ_I8, MQ_I16, MQ_I32, MQ_I64, MQ_U8,
                                     MQ_U16, MQ_U32, MQ_U64, MQ_UNDEFINED};
const mq_dtype mq_types_all[] = {MQ_F32, MQ_F64, MQ_I8, MQ_I16, MQ_I32, MQ_I64, MQ_U8,
                                 MQ_U16, MQ_U32, MQ_U64, MQ_BOOL, MQ_UNDEFINED};
const mq_dtype mq_types_int[] = {MQ_I8, MQ_I16, MQ_I32, MQ_I64, MQ_U8, MQ_U16, MQ_U32, MQ_U64, MQ_UNDEFINED};
const mq_dtype mq_types_index[] = {MQ_I32, MQ_I64, MQ_UNDEFINED};

int mq_is_float_type(mq_dtype t) { return t == MQ_F32 || t == MQ_F64; }

mq_status mq_axis(const mq_node *n, int64_t axis, int rank, int *out, mq_err *err)
{
    int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= (rank > 0 ? rank : 1))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "axis %lld out of range for rank %d", (long long)axis, rank);
    *out = (int)a;
    return MQ_OK;
}

mq_status mq_broadcast_shape(const mq_node *n, const mq_tensor *const *ts, int k, mq_tensor *out, mq_err *err)
{
    int rank = 0;
    for (int i = 0; i < k; i++) {
        if (!ts[i]) continue;
        if (ts[i]->rank < 0) {
            out->rank = -1;
            return MQ_OK;
        }
        if (ts[i]->rank > rank) rank = ts[i]->rank;
    }
    int64_t dims[MQ_MAX_RANK];
    for (int d = 0; d < rank; d++) dims[d] = 1;
    for (int i = 0; i < k; i++) {
        if (!ts[i]) continue;
        int off = rank - ts[i]->rank;
        for (int d = 0; d < ts[i]->rank; d++) {
            int64_t a = dims[off + d], b = ts[i]->dims[d];
            if (a == b || b == 1) continue;
            if (a == 1) {
                dims[off + d] = b;
                continue;
            }
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot broadcast dimension %d: %lld vs %lld", off + d,
                                (long long)a, (long long)b);
        }
    }
    out->rank = rank;
    memcpy(out->dims, dims, sizeof(int64_t) * (size_t)rank);
    return MQ_OK;
}

void mq_strides(int rank, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        strides[d] = s;
        s *= dims[d];
    }
}

void mq_broadcast_strides(const mq_tensor *t, int rank, const int64_t *dims, int64_t *strides)
{
    int off = rank - t->rank;
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        if (d < off) {
            strides[d] = 0;
            continue;
        }
        int64_t td = t->dims[d - off];
        strides[d] = (td == 1 && dims[d] != 1) ? 0 : s;
        s *= td;
    }
}

mq_status mq_read_ints(const mq_node *n, const mq_tensor *t, int64_t *vals, int max, int *count, mq_err *err)
{
    if (!t->data) return mq_node_fail(err, n, MQ_ERR_INVALID, "input '%s' must be known", t->name ? t->name : "");
    if (!mq_dtype_is_int(t->dtype) && t->dtype != MQ_BOOL)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "input '%s' must be an integer tensor, not %s",
                            t->name ? t->name : "", mq_dtype_name(t->dtype));
    int64_t k = mq_numel(t);
    if (k < 0 || k > max)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "input '%s' has %lld values (at most %d)", t->name ? t->name : "",
                            (long long)k, max);
    for (int64_t i = 0; i < k; i++) vals[i] = mq_load_i64(t->data, t->dtype, (size_t)i);
    *count = (int)k;
    return MQ_OK;
}

void mq_set_out(mq_tensor *out, mq_dtype dt, int rank, const int64_t *dims)
{
    out->dtype = dt;
    out->rank = rank;
    if (rank > 0) memcpy(out->dims, dims, sizeof(int64_t) * (size_t)rank);
}

void mq_set_like(mq_tensor *out, const mq_tensor *in) { mq_set_out(out, in->dtype, in->rank, in->dims); }

mq_status mq_require_input(const mq_node *n, const mq_tensor *const *in, int i, mq_err *err)
{
    if (i >= n->n_in || !in[i]) return mq_node_fail(err, n, MQ_ERR_INVALID, "input %d is required", i);
    return MQ_OK;
}

mq_status mq_require_dtype(const mq_node *n, const mq_tensor *t, const mq_dtype *allowed, mq_err *err)
{
    for (const mq_dtype *a = allowed; *a != MQ_UNDEFINED; a++)
        if (t->dtype == *a) return MQ_OK;
    return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "dtype %s of input '%s' is not supported",
                        mq_dtype_name(t->dtype), t->name ? t->name : "");
}
