/* dtype.h: element types, numbered as ONNX's TensorProto.DataType so no table maps between them. */
#ifndef MQ_DTYPE_H
#define MQ_DTYPE_H

#include <stddef.h>
#include <stdint.h>

typedef enum mq_dtype {
    MQ_UNDEFINED = 0,
    MQ_F32 = 1,
    MQ_U8 = 2,
    MQ_I8 = 3,
    MQ_U16 = 4,
    MQ_I16 = 5,
    MQ_I32 = 6,
    MQ_I64 = 7,
    MQ_STRING = 8, /* not supported: reported */
    MQ_BOOL = 9,   /* stored as one byte, 0 or 1 */
    MQ_F16 = 10,   /* converted to F32 at import; tensors never carry it at run time */
    MQ_F64 = 11,
    MQ_U32 = 12,
    MQ_U64 = 13,
    MQ_C64 = 14,
    MQ_C128 = 15,
    MQ_BF16 = 16   /* converted to F32 at import */
} mq_dtype;

size_t mq_dtype_size(mq_dtype t);   /* bytes per element; 0 for unsupported types */
const char *mq_dtype_name(mq_dtype t);
int mq_dtype_supported(mq_dtype t); /* can the executor hold values of this type */
int mq_dtype_is_float(mq_dtype t);  /* F32, F64 */
int mq_dtype_is_int(mq_dtype t);    /* signed or unsigned integer (not bool) */
int mq_dtype_is_signed(mq_dtype t);

/* Element access across types, for ops that are not on a hot path (index inputs, casts, tests). */
double mq_load_f64(const void *data, mq_dtype t, size_t i);
int64_t mq_load_i64(const void *data, mq_dtype t, size_t i);
void mq_store_f64(void *data, mq_dtype t, size_t i, double v); /* converts as C casts do (float->int truncates; caller checks range) */
void mq_store_i64(void *data, mq_dtype t, size_t i, int64_t v);

float mq_f16_to_f32(uint16_t h);
uint16_t mq_f32_to_f16(float f);
float mq_bf16_to_f32(uint16_t h);

/* X-macro over the types an op can hold at run time: X(enum, ctype). */
#define MQ_FOR_NUMERIC_TYPES(X)                                                                    \
    X(MQ_F32, float)                                                                               \
    X(MQ_F64, double)                                                                              \
    X(MQ_I8, int8_t)                                                                               \
    X(MQ_I16, int16_t)                                                                             \
    X(MQ_I32, int32_t)                                                                             \
    X(MQ_I64, int64_t)                                                                             \
    X(MQ_U8, uint8_t)                                                                              \
    X(MQ_U16, uint16_t)                                                                            \
    X(MQ_U32, uint32_t)                                                                            \
    X(MQ_U64, uint64_t)
#define MQ_FOR_ALL_TYPES(X) MQ_FOR_NUMERIC_TYPES(X) X(MQ_BOOL, uint8_t)

#endif
