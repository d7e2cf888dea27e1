/* util.h: helpers shared by the op families: axis normalization, broadcasting, reading index inputs,
 * output shape setting. Keep op files free of copies of these. */
#ifndef MQ_OPS_UTIL_H
#define MQ_OPS_UTIL_H

#include "core/op.h"

/* Normalize a possibly negative axis against rank; fails (naming the node) if out of range. */
mq_status mq_axis(const mq_node *n, int64_t axis, int rank, int *out, mq_err *err);

/* Numpy-style multidirectional broadcast of k shapes into out (rank = max rank). */
mq_status mq_broadcast_shape(const mq_node *n, const mq_tensor *const *ts, int k, mq_tensor *out,
                             mq_err *err);
/* Strides (in elements) of t when broadcast to the shape (rank, dims): 0 along broadcast dims. */
void mq_broadcast_strides(const mq_tensor *t, int rank, const int64_t *dims, int64_t *strides);
/* Contiguous row-major strides of a shape. */
void mq_strides(int rank, const int64_t *dims, int64_t *strides);

/* Iterate a multi-index over dims (row-major). Returns 0 when wrapped around to all zeros. */
static inline int mq_index_next(int rank, const int64_t *dims, int64_t *idx)
{
    for (int d = rank - 1; d >= 0; d--) {
        if (++idx[d] < dims[d]) return 1;
        idx[d] = 0;
    }
    return 0;
}

/* Read an integer-typed tensor (any int dtype) with known data into int64 values. Fails if data is
 * unknown (caller checks t->data first when a run-time shape is acceptable) or count > max. */
mq_status mq_read_ints(const mq_node *n, const mq_tensor *t, int64_t *vals, int max, int *count,
                       mq_err *err);

/* Set an output's dtype and shape. */
void mq_set_out(mq_tensor *out, mq_dtype dt, int rank, const int64_t *dims);
/* Output gets the input's dtype and shape. */
void mq_set_like(mq_tensor *out, const mq_tensor *in);

/* Checks for inference: input present, known dtype in the allowed set. */
mq_status mq_require_input(const mq_node *n, const mq_tensor *const *in, int i, mq_err *err);
/* dtype of in[i] is one of a MQ_UNDEFINED-terminated list */
mq_status mq_require_dtype(const mq_node *n, const mq_tensor *t, const mq_dtype *allowed, mq_err *err);
int mq_is_float_type(mq_dtype t);  /* F32 or F64 */

/* Convenience lists of dtypes (MQ_UNDEFINED-terminated). */
extern const mq_dtype mq_types_float[];   /* F32, F64 */
extern const mq_dtype mq_types_numeric[]; /* float and int types */
extern const mq_dtype mq_types_all[];     /* numeric + bool */
extern const mq_dtype mq_types_int[];     /* int types */
extern const mq_dtype mq_types_index[];   /* I32, I64 */

#endif
