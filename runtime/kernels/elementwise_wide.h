/* elementwise_wide.h: element conversion for the dtype-generic kernels: chunks of any dtype are
 * widened to double (float types), int64 (signed, bool) or uint64 (unsigned), computed, stored back. */
#ifndef MQK_ELEMENTWISE_WIDE_H
#define MQK_ELEMENTWISE_WIDE_H

#include "runtime/kernels/elementwise.h"

#define MQK_EW_CHUNK 64

enum { MQK_W_F, MQK_W_I, MQK_W_U }; /* the wide class: double, int64, uint64 */

typedef union mqk_ew_wide {
    double d[MQK_EW_CHUNK];
    int64_t i[MQK_EW_CHUNK];
    uint64_t u[MQK_EW_CHUNK];
} mqk_ew_wide;

static inline int mqk_ew_class(int32_t dt)
{
    switch (dt) {
    case MQR_F32: case MQR_F64: return MQK_W_F;
    case MQR_U8: case MQR_U16: case MQR_U32: case MQR_U64: return MQK_W_U;
    default: return MQK_W_I;
    }
}

/* double -> int64 / uint64 without undefined behaviour: NaN gives 0, out of range saturates,
 * negative values reach uint64 wrapped as through int64. */
static inline int64_t mqk_ew_d2i64(double v)
{
    if (!(v == v)) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}
static inline uint64_t mqk_ew_d2u64(double v)
{
    if (!(v == v)) return 0;
    if (v >= 18446744073709551615.0) return UINT64_MAX;
    if (v >= 9223372036854775808.0) return (uint64_t)v;
    return (uint64_t)mqk_ew_d2i64(v);
}

/* The wide value list of every dtype: X(dtype, C type). */
#define MQK_EW_TYPES(X)                                                                            \
    X(MQR_F32, float) X(MQR_F64, double) X(MQR_I8, int8_t) X(MQR_I16, int16_t) X(MQR_I32, int32_t)   \
    X(MQR_I64, int64_t) X(MQR_U8, uint8_t) X(MQR_U16, uint16_t) X(MQR_U32, uint32_t)               \
    X(MQR_U64, uint64_t) X(MQR_BOOL, uint8_t)

/* Loads n elements of dtype dt (stride s elements) into w, in dt's own class. */
static inline void mqk_ew_load(int32_t dt, const void *src, int32_t s, int32_t n, mqk_ew_wide *w)
{
    int32_t i;
    switch (dt) {
#define MQK_X(e, T)                                                                                \
    case e: {                                                                                      \
        const T *x = (const T *)src;                                                               \
        if (mqk_ew_class(e) == MQK_W_F) for (i = 0; i < n; i++) w->d[i] = (double)x[(size_t)i * s];  \
        else if (mqk_ew_class(e) == MQK_W_U) for (i = 0; i < n; i++) w->u[i] = (uint64_t)x[(size_t)i * s]; \
        else for (i = 0; i < n; i++) w->i[i] = (int64_t)x[(size_t)i * s];                          \
        break;                                                                                     \
    }
        MQK_EW_TYPES(MQK_X)
#undef MQK_X
    default: break;
    }
}

/* Widen values of class cls in place to double (cls MQK_W_F: nothing to do). */
static inline void mqk_ew_to_double(int cls, int32_t n, mqk_ew_wide *w)
{
    int32_t i;
    if (cls == MQK_W_I) for (i = 0; i < n; i++) w->d[i] = (double)w->i[i];
    else if (cls == MQK_W_U) for (i = 0; i < n; i++) w->d[i] = (double)w->u[i];
}

/* Stores n wide values of class cls into contiguous elements of dtype dt, converting as a C cast
 * would, except: to bool is != 0, and double to an integer saturates (NaN gives 0). */
static inline void mqk_ew_store(int32_t dt, int cls, const mqk_ew_wide *w, int32_t n, void *dst)
{
    int32_t i;
    switch (dt) {
#define MQK_X(e, T)                                                                                \
    case e: {                                                                                      \
        T *y = (T *)dst;                                                                           \
        if (cls == MQK_W_F) {                                                                      \
            if (e == MQR_BOOL) for (i = 0; i < n; i++) y[i] = (T)(w->d[i] != 0);                   \
            else if (mqk_ew_class(e) == MQK_W_F) for (i = 0; i < n; i++) y[i] = (T)w->d[i];         \
            else if (e == MQR_U64) for (i = 0; i < n; i++) y[i] = (T)mqk_ew_d2u64(w->d[i]);         \
            else for (i = 0; i < n; i++) y[i] = (T)mqk_ew_d2i64(w->d[i]);                          \
        } else if (cls == MQK_W_U) {                                                               \
            if (e == MQR_BOOL) for (i = 0; i < n; i++) y[i] = (T)(w->u[i] != 0);                   \
            else for (i = 0; i < n; i++) y[i] = (T)w->u[i];                                        \
        } else {                                                                                   \
            if (e == MQR_BOOL) for (i = 0; i < n; i++) y[i] = (T)(w->i[i] != 0);                   \
            else for (i = 0; i < n; i++) y[i] = (T)w->i[i];                                        \
        }                                                                                          \
        break;                                                                                     \
    }
        MQK_EW_TYPES(MQK_X)
#undef MQK_X
    default: break;
    }
}

#endif
