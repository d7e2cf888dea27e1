/* dtype.c: element sizes, names, conversions between element types. */
#include "core/dtype.h"

#include <math.h>
#include <string.h>

size_t mq_dtype_size(mq_dtype t)
{
    switch (t) {
    case MQ_F32: case MQ_I32: case MQ_U32: return 4;
    case MQ_F64: case MQ_I64: case MQ_U64: return 8;
    case MQ_I16: case MQ_U16: case MQ_F16: case MQ_BF16: return 2;
    case MQ_I8: case MQ_U8: case MQ_BOOL: return 1;
    default: return 0;
    }
}

const char *mq_dtype_name(mq_dtype t)
{
    switch (t) {
    case MQ_F32: return "float32";
    case MQ_U8: return "uint8";
    case MQ_I8: return "int8";
    case MQ_U16: return "uint16";
    case MQ_I16: return "int16";
    case MQ_I32: return "int32";
    case MQ_I64: return "int64";
    case MQ_STRING: return "string";
    case MQ_BOOL: return "bool";
    case MQ_F16: return "float16";
    case MQ_F64: return "float64";
    case MQ_U32: return "uint32";
    case MQ_U64: return "uint64";
    case MQ_C64: return "complex64";
    case MQ_C128: return "complex128";
    case MQ_BF16: return "bfloat16";
    default: return "undefined";
    }
}

int mq_dtype_supported(mq_dtype t)
{
    switch (t) {
#define X(e, c) case e:
        MQ_FOR_ALL_TYPES(X)
#undef X
        return 1;
    default: return 0;
    }
}

int mq_dtype_is_float(mq_dtype t) { return t == MQ_F32 || t == MQ_F64; }
int mq_dtype_is_int(mq_dtype t)
{
    switch (t) {
    case MQ_I8: case MQ_I16: case MQ_I32: case MQ_I64:
    case MQ_U8: case MQ_U16: case MQ_U32: case MQ_U64: return 1;
    default: return 0;
    }
}
int mq_dtype_is_signed(mq_dtype t)
{
    return t == MQ_I8 || t == MQ_I16 || t == MQ_I32 || t == MQ_I64 || t == MQ_F32 || t == MQ_F64;
}

double mq_load_f64(const void *data, mq_dtype t, size_t i)
{
    switch (t) {
#define X(e, c) case e: return (double)((const c *)data)[i];
        MQ_FOR_ALL_TYPES(X)
#undef X
    default: return 0;
    }
}

int64_t mq_load_i64(const void *data, mq_dtype t, size_t i)
{
    switch (t) {
    case MQ_F32: return (int64_t)((const float *)data)[i];
    case MQ_F64: return (int64_t)((const double *)data)[i];
#define X(e, c) case e: return (int64_t)((const c *)data)[i];
        X(MQ_I8, int8_t) X(MQ_I16, int16_t) X(MQ_I32, int32_t) X(MQ_I64, int64_t)
        X(MQ_U8, uint8_t) X(MQ_U16, uint16_t) X(MQ_U32, uint32_t) X(MQ_U64, uint64_t)
        X(MQ_BOOL, uint8_t)
#undef X
    default: return 0;
    }
}

void mq_store_f64(void *data, mq_dtype t, size_t i, double v)
{
    switch (t) {
    case MQ_F32: ((float *)data)[i] = (float)v; break;
    case MQ_F64: ((double *)data)[i] = v; break;
    case MQ_BOOL: ((uint8_t *)data)[i] = v != 0; break;
#define X(e, c) case e: ((c *)data)[i] = (c)v; break;
        X(MQ_I8, int8_t) X(MQ_I16, int16_t) X(MQ_I32, int32_t) X(MQ_I64, int64_t)
        X(MQ_U8, uint8_t) X(MQ_U16, uint16_t) X(MQ_U32, uint32_t) X(MQ_U64, uint64_t)
#undef X
    default: break;
    }
}

void mq_store_i64(void *data, mq_dtype t, size_t i, int64_t v)
{
    switch (t) {
    case MQ_F32: ((float *)data)[i] = (float)v; break;
    case MQ_F64: ((double *)data)[i] = (double)v; break;
    case MQ_BOOL: ((uint8_t *)data)[i] = v != 0; break;
#define X(e, c) case e: ((c *)data)[i] = (c)v; break;
        X(MQ_I8, int8_t) X(MQ_I16, int16_t) X(MQ_I32, int32_t) X(MQ_I64, int64_t)
        X(MQ_U8, uint8_t) X(MQ_U16, uint16_t) X(MQ_U32, uint32_t) X(MQ_U64, uint64_t)
#undef X
    default: break;
    }
}

float mq_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: value = man * 2^-24 */
            float f = ldexpf((float)man, -24);
            return sign ? -f : f;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t mq_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t exp = (x >> 23) & 0xff, man = x & 0x7fffff;
    if (exp == 255) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

float mq_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
