/* reduce_dt.h: element access across dtypes for the dtype-generic kernels of the reduce and misc
 * families (reduce_any.c, reduce_scan.c, misc_*.c), and the output-offset walk of the reductions. */
#ifndef MQK_REDUCE_DT_H
#define MQK_REDUCE_DT_H

#include "runtime/mqr_kernel.h"

static inline int mqk_dt_is_int(int32_t dt)
{
    return dt == MQR_U8 || dt == MQR_I8 || dt == MQR_U16 || dt == MQR_I16 || dt == MQR_I32 || dt == MQR_I64 ||
           dt == MQR_U32 || dt == MQR_U64;
}

static inline int mqk_dt_is_unsigned(int32_t dt)
{
    return dt == MQR_U8 || dt == MQR_U16 || dt == MQR_U32 || dt == MQR_U64 || dt == MQR_BOOL;
}

static inline double mqk_ld_f64(const void *p, int32_t dt, int32_t i)
{
    switch (dt) {
    case MQR_F32: return (double)((const float *)p)[i];
    case MQR_F64: return ((const double *)p)[i];
    case MQR_U8: case MQR_BOOL: return (double)((const uint8_t *)p)[i];
    case MQR_I8: return (double)((const int8_t *)p)[i];
    case MQR_U16: return (double)((const uint16_t *)p)[i];
    case MQR_I16: return (double)((const int16_t *)p)[i];
    case MQR_I32: return (double)((const int32_t *)p)[i];
    case MQR_I64: return (double)((const int64_t *)p)[i];
    case MQR_U32: return (double)((const uint32_t *)p)[i];
    case MQR_U64: return (double)((const uint64_t *)p)[i];
    default: return 0.0;
    }
}

/* double to int64 as a C cast, saturating where the cast would be undefined (NaN gives 0). */
static inline int64_t mqk_f64_to_i64(double v)
{
    if (v != v) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}

/* For integer dtypes; uint64 values come back as their bit pattern. */
static inline int64_t mqk_ld_i64(const void *p, int32_t dt, int32_t i)
{
    switch (dt) {
    case MQR_U8: case MQR_BOOL: return (int64_t)((const uint8_t *)p)[i];
    case MQR_I8: return (int64_t)((const int8_t *)p)[i];
    case MQR_U16: return (int64_t)((const uint16_t *)p)[i];
    case MQR_I16: return (int64_t)((const int16_t *)p)[i];
    case MQR_I32: return (int64_t)((const int32_t *)p)[i];
    case MQR_I64: return ((const int64_t *)p)[i];
    case MQR_U32: return (int64_t)((const uint32_t *)p)[i];
    case MQR_U64: return (int64_t)((const uint64_t *)p)[i];
    default: return mqk_f64_to_i64(mqk_ld_f64(p, dt, i));
    }
}

/* Store an int64 (integer dtypes wrap modulo 2^bits, as C conversions to unsigned do). */
static inline void mqk_st_i64(void *p, int32_t dt, int32_t i, int64_t v)
{
    uint64_t u = (uint64_t)v;
    switch (dt) {
    case MQR_F32: ((float *)p)[i] = (float)v; break;
    case MQR_F64: ((double *)p)[i] = (double)v; break;
    case MQR_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case MQR_U8: ((uint8_t *)p)[i] = (uint8_t)u; break;
    case MQR_I8: { uint8_t b = (uint8_t)u; memcpy((int8_t *)p + i, &b, 1); } break;
    case MQR_U16: ((uint16_t *)p)[i] = (uint16_t)u; break;
    case MQR_I16: { uint16_t b = (uint16_t)u; memcpy((int16_t *)p + i, &b, 2); } break;
    case MQR_I32: { uint32_t b = (uint32_t)u; memcpy((int32_t *)p + i, &b, 4); } break;
    case MQR_I64: ((int64_t *)p)[i] = v; break;
    case MQR_U32: ((uint32_t *)p)[i] = (uint32_t)u; break;
    case MQR_U64: ((uint64_t *)p)[i] = u; break;
    default: break;
    }
}

static inline void mqk_st_f64(void *p, int32_t dt, int32_t i, double v)
{
    switch (dt) {
    case MQR_F32: ((float *)p)[i] = (float)v; break;
    case MQR_F64: ((double *)p)[i] = v; break;
    case MQR_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case MQR_U64:
        ((uint64_t *)p)[i] = v >= 18446744073709551615.0 ? UINT64_MAX : v > 0 ? (uint64_t)v : 0;
        break;
    default: mqk_st_i64(p, dt, i, mqk_f64_to_i64(v)); break;
    }
}

/* Output offset of each input element of a reduction over the axes in mask: ost[d] is the output
 * stride along input dim d, 0 along reduced axes. */
static inline void mqk_red_ostrides(const mqr_tensor *x, int32_t mask, int32_t *ost)
{
    int32_t s = 1, d;
    for (d = x->rank - 1; d >= 0; d--) {
        if (mask & (1 << d)) {
            ost[d] = 0;
        } else {
            ost[d] = s;
            s *= x->dims[d];
        }
    }
}

/* Advance the multi-index idx over x's dims and the output offset *o (row-major order). */
static inline void mqk_red_step(const mqr_tensor *x, const int32_t *ost, int32_t *idx, int32_t *o)
{
    int32_t d;
    for (d = x->rank - 1; d >= 0; d--) {
        *o += ost[d];
        if (++idx[d] < x->dims[d]) return;
        *o -= ost[d] * x->dims[d];
        idx[d] = 0;
    }
}

/* [outer, len, inner] view of x around axis. */
static inline void mqk_axis_view(const mqr_tensor *x, int32_t axis, int32_t *outer, int32_t *len, int32_t *inner)
{
    int32_t d;
    *outer = 1;
    *inner = 1;
    *len = x->rank > 0 ? x->dims[axis] : 1;
    for (d = 0; d < axis; d++) *outer *= x->dims[d];
    for (d = axis + 1; d < x->rank; d++) *inner *= x->dims[d];
}

#endif
