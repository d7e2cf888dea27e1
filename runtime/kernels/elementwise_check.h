/* elementwise_check.h: helpers of the elementwise kernels' load-time checks (mqk_c_*, see MQR_CHECK_OK
 * in runtime/mqr_kernel.h): tensor descriptors, dtypes, and the broadcast block BC(k) proved in bounds. */
#ifndef MQK_ELEMENTWISE_CHECK_H
#define MQK_ELEMENTWISE_CHECK_H

#include "runtime/kernels/elementwise.h"

/* The element count of a present tensor (rank 0..MQR_MAX_RANK, dims >= 0, at most INT32_MAX
 * elements), else -1. Products stay below 2^62: no overflow whatever the dims. */
static inline int64_t mqk_ewc_numel(const mqr_tensor *t)
{
    int64_t n = 1;
    int32_t d;
    if (t->rank < 0 || t->rank > MQR_MAX_RANK) return -1;
    for (d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return -1;
        n *= t->dims[d];
        if (n > INT32_MAX) return -1;
    }
    return n;
}

/* an omitted optional tensor: rank -1 and no data */
static inline int mqk_ewc_absent(const mqr_tensor *t) { return t->rank == -1 && t->data == NULL; }


/* the dtypes the dtype-generic kernels convert (MQK_EW_TYPES of elementwise_wide.h) */
static inline int mqk_ewc_known(int32_t dt)
{
    switch (dt) {
    case MQR_F32: case MQR_F64: case MQR_I8: case MQR_I16: case MQR_I32: case MQR_I64: case MQR_U8:
    case MQR_U16: case MQR_U32: case MQR_U64: case MQR_BOOL: return 1;
    default: return 0;
    }
}

/* an optional tensor the kernel never touches: omitted, or any well-formed descriptor */
static inline int mqk_ewc_ignored_ok(const mqr_tensor *t)
{
    return mqk_ewc_absent(t) || (mqk_ewc_known(t->dtype) && mqk_ewc_numel(t) >= 0);
}

/* The element count of a present tensor of dtype dt (dt 0: any dtype of mqk_ewc_known), else -1. */
static inline int64_t mqk_ewc_tensor(const mqr_tensor *t, int32_t dt)
{
    if (dt ? t->dtype != dt : !mqk_ewc_known(t->dtype)) return -1;
    return mqk_ewc_numel(t);
}

/* c has n_in in [in_min, in_max] inputs and exactly n_out outputs, and the arrays to hold them */
static inline int mqk_ewc_counts(const mqr_call *c, int32_t in_min, int32_t in_max, int32_t n_out)
{
    return c->n_in >= in_min && c->n_in <= in_max && c->n_out == n_out && c->in != NULL && c->out != NULL;
}

/* The broadcast block BC(k) (elementwise.h) of n_bc parameters at bc, over inputs c->in[0..k-1] and
 * the contiguous output c->out[0] (every descriptor already checked by mqk_ewc_tensor). It proves what
 * mqk_ew_drive relies on:
 *  - n_bc == 1 + r * (1 + k) with r in 1..MQR_MAX_RANK;
 *  - dims >= 0, a zero dim only as the empty output r = 1, dims {0} (the driver always runs one row
 *    per outer index, so an outer zero would still read a row); their product is the output's count;
 *  - for each input j: strides >= 0; for a non-empty output, the largest offset read,
 *    sum((dims[d] - 1) * st[d]), below numel_j, and the driver's int32 running offset, which peaks at
 *    sum over e < d of (dims[e] - 1) * st[e], plus dims[d] * st[d], when dim d < r - 1 wraps, at most
 *    INT32_MAX (a dim of 1 may have any stride: it only moves the running offset).
 * Terms are below 2^62 and the sums stop as soon as they pass numel_j < 2^31: no int64 overflow. */
static inline int mqk_ewc_bcast(const mqr_call *c, const int32_t *bc, int32_t n_bc, int32_t k)
{
    int64_t r, prod = 1, out_n;
    int32_t d, j;
    if (n_bc < 1 || bc == NULL || k < 1 || k > c->n_in) return 0;
    r = bc[0];
    if (r < 1 || r > MQR_MAX_RANK || (int64_t)n_bc != 1 + r * (1 + (int64_t)k)) return 0;
    out_n = mqk_ewc_numel(&c->out[0]);
    if (out_n < 0) return 0;
    for (d = 0; d < r; d++) {
        const int64_t n = bc[1 + d];
        if (n < 0 || (n == 0 && r != 1)) return 0;
        prod *= n;
        if (prod > out_n) return 0;
    }
    if (prod != out_n) return 0;
    for (j = 0; j < k; j++) {
        const int32_t *st = bc + 1 + r * (1 + j);
        const int64_t in_n = mqk_ewc_numel(&c->in[j]);
        int64_t off = 0; /* largest offset of the dims before d */
        if (in_n < 0) return 0;
        for (d = 0; d < r; d++)
            if (st[d] < 0) return 0;
        if (prod == 0) continue; /* one row of 0 elements: nothing is read */
        for (d = 0; d < r; d++) {
            const int64_t n = bc[1 + d];
            if (d < r - 1 && off + n * st[d] > INT32_MAX) return 0;
            off += (n - 1) * st[d]; /* off < in_n before: < 2^31 + 2^62 after */
            if (off >= in_n) return 0;
        }
    }
    return 1;
}

/* A kernel of k broadcast inputs c->in[0..k-1] of dtypes dt_in[j] (0: any known) whose output has
 * dtype dt_out, BC(k) at p[skip..]: counts, dtypes, n_p and the block. */
static inline int mqk_ewc_bcast_call(const mqr_call *c, int32_t skip, int32_t k, const int32_t *dt_in,
                                     int32_t dt_out)
{
    int32_t j;
    if (!mqk_ewc_counts(c, k, k, 1) || c->n_p < skip + 1 || c->p == NULL) return 0;
    for (j = 0; j < k; j++)
        if (mqk_ewc_tensor(&c->in[j], dt_in[j]) < 0) return 0;
    if (mqk_ewc_tensor(&c->out[0], dt_out) < 0) return 0;
    return mqk_ewc_bcast(c, c->p + skip, c->n_p - skip, k);
}

/* A one-input kernel reading in[0] (dtype dt_in) and writing out[0] (dtype dt_out) over the same
 * element count (dt 0: any known dtype), with n_p parameters, n_in in [in_min, in_max]. */
static inline int mqk_ewc_unary_call(const mqr_call *c, int32_t dt_in, int32_t dt_out, int32_t n_p,
                                     int32_t in_min, int32_t in_max)
{
    int64_t n;
    if (!mqk_ewc_counts(c, in_min, in_max, 1) || c->n_p != n_p || (n_p > 0 && c->p == NULL)) return 0;
    n = mqk_ewc_tensor(&c->in[0], dt_in);
    return n >= 0 && mqk_ewc_tensor(&c->out[0], dt_out) == n;
}

#endif
