/* nn_check.h: helpers of the 'nn' kernels' load-time checks (mqk_c_*, see MQR_CHECK_OK in
 * runtime/mqr_kernel.h): tensor descriptors, optional tensors, and int64 products that cannot overflow. */
#ifndef MQK_NN_CHECK_H
#define MQK_NN_CHECK_H

#include "runtime/mqr_kernel.h"

/* Products in the checks saturate here: every operand is at most 2^62, so nothing overflows. */
#define MQK_NC_BIG ((int64_t)1 << 62)

/* a * b for a, b in [0, MQK_NC_BIG], saturated at MQK_NC_BIG. */
static inline int64_t mqk_nc_mul(int64_t a, int64_t b)
{
    if (a <= 0 || b <= 0) return 0;
    if (a > MQK_NC_BIG / b) return MQK_NC_BIG;
    return a * b;
}

/* a + b for a, b in [0, MQK_NC_BIG], saturated at MQK_NC_BIG. */
static inline int64_t mqk_nc_add(int64_t a, int64_t b)
{
    int64_t s = a + b; /* both <= 2^62: no overflow */
    return s > MQK_NC_BIG ? MQK_NC_BIG : s;
}

/* 1 for the dtypes of the runtime (mqr_kernel.h). */
static inline int mqk_nc_known(int32_t dt)
{
    switch (dt) {
    case MQR_F32: case MQR_U8: case MQR_I8: case MQR_U16: case MQR_I16: case MQR_I32: case MQR_I64:
    case MQR_BOOL: case MQR_F64: case MQR_U32: case MQR_U64: return 1;
    default: return 0;
    }
}

/* The element count of a present tensor of dtype dt (0: any known dtype) with rank in [rlo, rhi] (and in
 * 0..MQR_MAX_RANK), dims >= 0, whose non-zero dims multiply to at most INT32_MAX (so every product
 * of some of its dims fits int32, and loops over the dims of an empty tensor stay short), else -1. */
static inline int64_t mqk_nc_tensor(const mqr_tensor *t, int32_t dt, int32_t rlo, int32_t rhi)
{
    int64_t n = 1, nz = 1;
    int32_t d;
    if (dt ? t->dtype != dt : !mqk_nc_known(t->dtype)) return -1;
    if (t->rank < 0 || t->rank > MQR_MAX_RANK || t->rank < rlo || t->rank > rhi) return -1;
    for (d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return -1;
        if (t->dims[d] > 0) nz *= t->dims[d];
        if (nz > INT32_MAX) return -1;
        n *= t->dims[d]; /* n <= nz */
    }
    return n;
}

/* 1 if slot i of ts[0..n) is omitted: past n, or rank -1 with no data (the kernels treat rank < 0
 * as absent; any other negative rank, or data behind an omitted slot, is refused by mqk_nc_opt_ok). */
static inline int mqk_nc_absent(const mqr_tensor *ts, int32_t n, int32_t i)
{
    return i >= n || ts[i].rank < 0;
}
static inline int mqk_nc_opt_ok(const mqr_tensor *ts, int32_t n, int32_t i)
{
    return i >= n || ts[i].rank >= 0 || (ts[i].rank == -1 && ts[i].data == NULL);
}

/* 1 if a and b have the same rank and dims. */
static inline int mqk_nc_same(const mqr_tensor *a, const mqr_tensor *b)
{
    int32_t d;
    if (a->rank != b->rank) return 0;
    for (d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* 1 if t is a present vector (rank 1) of dtype dt and exactly n values. */
static inline int mqk_nc_vec(const mqr_tensor *t, int32_t dt, int64_t n)
{
    return mqk_nc_tensor(t, dt, 1, 1) >= 0 && t->dims[0] == n;
}

/* The counts of a call: n_in in [in_lo, in_hi], n_out in [out_lo, out_hi], n_p exactly, the arrays
 * present, and every omitted slot well-formed. */
static inline int mqk_nc_counts(const mqr_call *c, int32_t in_lo, int32_t in_hi, int32_t out_lo, int32_t out_hi,
                                int32_t n_p)
{
    int32_t i;
    if (c->n_in < in_lo || c->n_in > in_hi || c->n_out < out_lo || c->n_out > out_hi || c->n_p != n_p) return 0;
    if ((c->n_in && !c->in) || (c->n_out && !c->out) || (n_p && !c->p)) return 0;
    for (i = 0; i < c->n_in; i++)
        if (!mqk_nc_opt_ok(c->in, c->n_in, i)) return 0;
    for (i = 0; i < c->n_out; i++)
        if (!mqk_nc_opt_ok(c->out, c->n_out, i)) return 0;
    return 1;
}

/* 1 if v is 0 or 1. */
static inline int mqk_nc_bool(int32_t v) { return v == 0 || v == 1; }

/* A float parameter that is a number (not NaN, not infinite). */
static inline int mqk_nc_finite(int32_t bits)
{
    float f = mqr_p_f32(bits);
    return f == f && f - f == 0.0f;
}

#endif
