/* shape_check.h: helpers shared by the load-time checks (mqk_c_*) of the 'shape' family kernels:
 * tensor descriptors, dtypes, shape comparisons and constant indices, in 64-bit so hostile values cannot overflow. */
#ifndef MQK_SHAPE_CHECK_H
#define MQK_SHAPE_CHECK_H

#include "runtime/kernels/shape.h"

#define MQK_SHC_MAX_ELEMS ((int64_t)2147483647)

/* 1 when dt is a runtime dtype (mqk_sh_esize is then its true size). */
static inline int mqk_shc_dtype(int32_t dt)
{
    switch (dt) {
    case MQR_F32: case MQR_U8: case MQR_I8: case MQR_U16: case MQR_I16: case MQR_I32: case MQR_I64:
    case MQR_BOOL: case MQR_F64: case MQR_U32: case MQR_U64: return 1;
    default: return 0;
    }
}

/* A present tensor: rank 0..MQR_MAX_RANK, a runtime dtype, dims >= 0, and the product of its non-zero
 * dims within int32, so every partial product a kernel takes in int32 fits (even for an empty tensor).
 * Stores the element count in *ne when ne is not NULL. */
static inline int mqk_shc_tensor(const mqr_tensor *t, int64_t *ne)
{
    int64_t nz = 1;
    int empty = 0, d;
    if (t->rank < 0 || t->rank > MQR_MAX_RANK || !mqk_shc_dtype(t->dtype)) return 0;
    for (d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return 0;
        if (t->dims[d] == 0) empty = 1;
        else if ((nz *= t->dims[d]) > MQK_SHC_MAX_ELEMS) return 0;
    }
    if (ne) *ne = empty ? 0 : nz;
    return 1;
}

/* An omitted optional tensor, as the runtime binds it: rank -1 and no data. */
static inline int mqk_shc_omitted(const mqr_tensor *t)
{
    return t->rank == -1 && !t->data;
}

/* Same rank and dims. */
static inline int mqk_shc_same_shape(const mqr_tensor *a, const mqr_tensor *b)
{
    int d;
    if (a->rank != b->rank) return 0;
    for (d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* A present tensor of the same dtype and shape as ref (which passed mqk_shc_tensor). */
static inline int mqk_shc_like(const mqr_tensor *t, const mqr_tensor *ref)
{
    return mqk_shc_tensor(t, 0) && t->dtype == ref->dtype && mqk_shc_same_shape(t, ref);
}

/* A present int32 / int64 index tensor (what mqk_sh_index reads). */
static inline int mqk_shc_index_tensor(const mqr_tensor *t, int64_t *ne)
{
    return mqk_shc_tensor(t, ne) && (t->dtype == MQR_I32 || t->dtype == MQR_I64);
}

/* When the index values are known (a weight: data set), index j must lie in [-dim, dim) for the dim
 * dims[j % k] (k >= 1): a constant out-of-range index is an invalid model (the host refuses it too). */
static inline int mqk_shc_const_indices(const mqr_tensor *ix, int64_t n, const int32_t *dims, int k)
{
    int64_t j;
    if (!ix->data) return 1;
    for (j = 0; j < n; j++)
        if (mqk_sh_norm(mqk_sh_index(ix, (int32_t)j), dims[j % k]) < 0) return 0;
    return 1;
}

#endif
