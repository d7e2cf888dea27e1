/* reduce_check.h: helpers of the load-time checks (mqk_c_*) of the reduce, misc, loss, signal and maqd
 * kernels: tensor descriptor sanity, dtype sets, float bits and 64-bit extents (see MQR_CHECK_OK). */
#ifndef MQK_REDUCE_CHECK_H
#define MQK_REDUCE_CHECK_H

#include "runtime/kernels/reduce.h"
#include "runtime/mqr_kernel.h"

#define MQK_CK_I32MAX 2147483647LL

/* The numeric dtypes the dtype-generic kernels load and store (reduce_dt.h): floats and integers. */
static inline int mqk_ck_numeric(int32_t dt)
{
    return dt == MQR_F32 || dt == MQR_F64 || dt == MQR_U8 || dt == MQR_I8 || dt == MQR_U16 || dt == MQR_I16 ||
           dt == MQR_I32 || dt == MQR_I64 || dt == MQR_U32 || dt == MQR_U64;
}

static inline int mqk_ck_float(int32_t dt) { return dt == MQR_F32 || dt == MQR_F64; }
static inline int mqk_ck_byte(int32_t dt) { return dt == MQR_U8 || dt == MQR_I8; }

/* A present tensor: rank 0..MQR_MAX_RANK, dims >= 0, and the product of its dims with zeros counted as 1
 * fits int32, so no partial product a kernel forms (mqr_numel, strides, outer/inner) overflows. */
static inline int mqk_ck_tensor(const mqr_tensor *t)
{
    int64_t n = 1;
    int32_t d;
    if (t->rank < 0 || t->rank > MQR_MAX_RANK) return 0;
    for (d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return 0;
        if (t->dims[d] > 0) n *= t->dims[d];
        if (n > MQK_CK_I32MAX) return 0;
    }
    return 1;
}

/* A present tensor of dtype dt (dt 0: any dtype the numeric kernels know). */
static inline int mqk_ck_t(const mqr_tensor *t, int32_t dt)
{
    return mqk_ck_tensor(t) && (dt ? t->dtype == dt : mqk_ck_numeric(t->dtype));
}

/* Element count of a checked tensor (int64: a product of int32 dims fits). */
static inline int64_t mqk_ck_numel(const mqr_tensor *t)
{
    int64_t n = 1;
    int32_t d;
    for (d = 0; d < t->rank; d++) n *= t->dims[d];
    return n;
}

/* Same rank and dims. */
static inline int mqk_ck_same_shape(const mqr_tensor *a, const mqr_tensor *b)
{
    int32_t d;
    if (a->rank != b->rank) return 0;
    for (d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* An omitted optional tensor: rank -1. */
static inline int mqk_ck_absent(const mqr_tensor *t) { return t->rank == -1; }

/* A float parameter is finite (its exponent bits are not all ones). */
static inline int mqk_ck_finite_f32(int32_t bits) { return (((uint32_t)bits >> 23) & 0xffu) != 0xffu; }

/* A float64 parameter split in two int32 (low, high) is finite. */
static inline int mqk_ck_finite_f64(const int32_t *p) { return (((uint32_t)p[1] >> 20) & 0x7ffu) != 0x7ffu; }

static inline double mqk_ck_f64(const int32_t *p)
{
    uint64_t b = (uint64_t)(uint32_t)p[0] | ((uint64_t)(uint32_t)p[1] << 32);
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* v is 0 or 1. */
static inline int mqk_ck_bool(int32_t v) { return v == 0 || v == 1; }

/* ---- shared by the kernels of reduce.c and reduce_any.c ------------------------------------------ */

/* reduce_f32 (f32 = 1) / reduce_any: layout in reduce.h. y is x with the reduced axes dropped or kept
 * as 1, or x itself for the identity; scratch as reduce.h says. */
static inline int mqk_ck_reduce(const mqr_call *c, uint32_t scratch_bytes, int f32)
{
    const mqr_tensor *x, *y;
    int32_t kind, mask, d, r = 0, keep;
    int64_t ny, need;
    if (c->n_in < 1 || c->n_in > 2 || c->n_out != 1 || c->n_p != 3) return MQR_CHECK_BAD;
    x = &c->in[0];
    y = &c->out[0];
    kind = c->p[0];
    mask = c->p[1];
    if (!mqk_ck_tensor(x) || !mqk_ck_tensor(y) || y->dtype != x->dtype) return MQR_CHECK_BAD;
    if (f32 ? x->dtype != MQR_F32 : (x->dtype == MQR_F32 || !mqk_ck_numeric(x->dtype))) return MQR_CHECK_BAD;
    if (kind < MQK_RED_SUM || kind > MQK_RED_LOGSUMEXP || !mqk_ck_bool(c->p[2])) return MQR_CHECK_BAD;
    if (c->p[2]) return mqk_ck_same_shape(x, y) ? MQR_CHECK_OK : MQR_CHECK_BAD;
    if (mask < 0 || mask >= (1 << x->rank)) return MQR_CHECK_BAD;
    /* y: the kept dims of x, with each reduced axis either dropped or kept as 1 (keepdims) */
    keep = y->rank == x->rank;
    for (d = 0; d < x->rank; d++) {
        if (mask & (1 << d)) {
            if (keep && y->dims[d] != 1) return MQR_CHECK_BAD;
            continue;
        }
        if (keep ? y->dims[d] != x->dims[d] : (r >= y->rank || y->dims[r] != x->dims[d])) return MQR_CHECK_BAD;
        r++;
    }
    if (!keep && r != y->rank) return MQR_CHECK_BAD;
    ny = mqk_ck_numel(y);
    need = f32 ? (kind == MQK_RED_LOGSUMEXP ? 4 * ny : 0) : (kind == MQK_RED_LOGSUMEXP ? 16 * ny : 8 * ny);
    return need <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* arg_f32 (f32 = 1) / arg_any: x of rank >= 1, axis < rank, y int64 of x's dims with the axis dropped or
 * kept as 1. */
static inline int mqk_ck_arg(const mqr_call *c, int f32)
{
    const mqr_tensor *x, *y;
    int32_t axis, d, r = 0, keep;
    if (c->n_in != 1 || c->n_out != 1 || c->n_p != 3) return MQR_CHECK_BAD;
    x = &c->in[0];
    y = &c->out[0];
    axis = c->p[0];
    if (!mqk_ck_tensor(x) || !mqk_ck_t(y, MQR_I64) || x->rank < 1) return MQR_CHECK_BAD;
    if (f32 ? x->dtype != MQR_F32 : (x->dtype == MQR_F32 || !mqk_ck_numeric(x->dtype))) return MQR_CHECK_BAD;
    if (axis < 0 || axis >= x->rank || !mqk_ck_bool(c->p[1]) || !mqk_ck_bool(c->p[2])) return MQR_CHECK_BAD;
    keep = y->rank == x->rank;
    for (d = 0; d < x->rank; d++) {
        if (d == axis) {
            if (keep && y->dims[d] != 1) return MQR_CHECK_BAD;
            continue;
        }
        if (keep ? y->dims[d] != x->dims[d] : (r >= y->rank || y->dims[r] != x->dims[d])) return MQR_CHECK_BAD;
        r++;
    }
    return keep || r == y->rank ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

#endif
