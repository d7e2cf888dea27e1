/* elementwise_unary.c: one-input elementwise ops of the 'elementwise' family: math and activations,
 * Not/IsNaN/IsInf, Identity, Clip, Cast/CastLike and Dropout (inference). Listed in elementwise.c. */
#include "ops/elementwise_impl.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* float or double variant of a libm function, by the C type of the first argument */
#define EW_M(fn, x) _Generic((x), float: fn##f, default: fn)(x)
#define EW_M2(fn, x, y) _Generic((x), float: fn##f, default: fn)(x, y)

enum {
    U_ABS, U_NEG, U_SIGN, U_RECIP, U_FLOOR, U_CEIL, U_ROUND, U_SQRT, U_EXP, U_LOG, U_SIN, U_COS, U_TAN,
    U_ASIN, U_ACOS, U_ATAN, U_SINH, U_COSH, U_ASINH, U_ACOSH, U_ATANH, U_ERF, U_RELU, U_LEAKY, U_ELU,
    U_SELU, U_CELU, U_THRELU, U_SIGMOID, U_HSIGMOID, U_HSWISH, U_SOFTPLUS, U_SOFTSIGN, U_TANH, U_SHRINK,
    U_NOT, U_ISNAN, U_ISINF
};

typedef struct un_par {
    double alpha, beta, gamma, lambd, bias;
    int neg, pos; /* IsInf */
} un_par;

static void un_params(const mq_node *n, int op, un_par *p)
{
    memset(p, 0, sizeof *p);
    switch (op) {
    case U_LEAKY: p->alpha = mq_attr_float(n, "alpha", 0.01f); break;
    case U_ELU: case U_CELU: case U_THRELU: p->alpha = mq_attr_float(n, "alpha", 1.0f); break;
    case U_SELU:
        p->alpha = mq_attr_float(n, "alpha", 1.67326319217681884765625f);
        p->gamma = mq_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    case U_HSIGMOID:
        p->alpha = mq_attr_float(n, "alpha", 0.2f);
        p->beta = mq_attr_float(n, "beta", 0.5f);
        break;
    case U_HSWISH: p->alpha = 1.0 / 6.0, p->beta = 0.5; break;
    case U_SHRINK:
        p->lambd = mq_attr_float(n, "lambd", 0.5f);
        p->bias = mq_attr_float(n, "bias", 0.0f);
        break;
    case U_ISINF:
        p->neg = mq_attr_int(n, "detect_negative", 1) != 0;
        p->pos = mq_attr_int(n, "detect_positive", 1) != 0;
        break;
    default: break;
    }
}

static double ew_shrink(double v, const un_par *p)
{
    return v < -p->lambd ? v + p->bias : v > p->lambd ? v - p->bias : 0;
}

#define UCASE(code, EXPR)                                                                          \
    case code:                                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const c_ v = x[i];                                                                     \
            y[i] = (c_)(EXPR);                                                                     \
        }                                                                                          \
        break;

/* Float kernels (float math for float32, double math for float64). */
#define X(e, c)                                                                                    \
    static void unf_##e(int op, const un_par *p, const c *x, c *y, int64_t n)                      \
    {                                                                                              \
        typedef c c_;                                                                              \
        const c_ al = (c_)p->alpha, be = (c_)p->beta, ga = (c_)p->gamma, la = (c_)p->lambd,        \
                 bi = (c_)p->bias, zero = 0, one = 1;                                              \
        switch (op) {                                                                              \
            UCASE(U_ABS, EW_M(fabs, v))                                                            \
            UCASE(U_NEG, -v)                                                                       \
            UCASE(U_SIGN, v > zero ? one : v < zero ? -one : v)                                    \
            UCASE(U_RECIP, one / v)                                                                \
            UCASE(U_FLOOR, EW_M(floor, v))                                                         \
            UCASE(U_CEIL, EW_M(ceil, v))                                                           \
            UCASE(U_ROUND, EW_M(nearbyint, v)) /* default rounding mode: half to even */           \
            UCASE(U_SQRT, EW_M(sqrt, v))                                                           \
            UCASE(U_EXP, EW_M(exp, v))                                                             \
            UCASE(U_LOG, EW_M(log, v))                                                             \
            UCASE(U_SIN, EW_M(sin, v))                                                             \
            UCASE(U_COS, EW_M(cos, v))                                                             \
            UCASE(U_TAN, EW_M(tan, v))                                                             \
            UCASE(U_ASIN, EW_M(asin, v))                                                           \
            UCASE(U_ACOS, EW_M(acos, v))                                                           \
            UCASE(U_ATAN, EW_M(atan, v))                                                           \
            UCASE(U_SINH, EW_M(sinh, v))                                                           \
            UCASE(U_COSH, EW_M(cosh, v))                                                           \
            UCASE(U_ASINH, EW_M(asinh, v))                                                         \
            UCASE(U_ACOSH, EW_M(acosh, v))                                                         \
            UCASE(U_ATANH, EW_M(atanh, v))                                                         \
            UCASE(U_ERF, EW_M(erf, v))                                                             \
            UCASE(U_TANH, EW_M(tanh, v))                                                           \
            UCASE(U_RELU, v < zero ? zero : v)                                                     \
            UCASE(U_LEAKY, v < zero ? al * v : v)                                                  \
            UCASE(U_ELU, v < zero ? al * EW_M(expm1, v) : v)                                       \
            UCASE(U_SELU, v <= zero ? ga * (al * EW_M(exp, v) - al) : ga * v)                      \
            UCASE(U_CELU, (v > zero ? v : zero) + (v < zero ? al * EW_M(expm1, v / al) : zero))    \
            UCASE(U_THRELU, v > al ? v : zero)                                                     \
            UCASE(U_SIGMOID, v >= zero ? one / (one + EW_M(exp, -v))                               \
                                       : EW_M(exp, v) / (one + EW_M(exp, v)))                      \
            UCASE(U_HSIGMOID, EW_M2(fmax, zero, EW_M2(fmin, one, al * v + be)))                    \
            UCASE(U_HSWISH, v * EW_M2(fmax, zero, EW_M2(fmin, one, al * v + be)))                  \
            UCASE(U_SOFTPLUS, v > zero ? v + EW_M(log1p, EW_M(exp, -v)) : EW_M(log1p, EW_M(exp, v))) \
            UCASE(U_SOFTSIGN, v / (one + EW_M(fabs, v)))                                           \
            UCASE(U_SHRINK, v < -la ? v + bi : v > la ? v - bi : zero)                             \
        default: break;                                                                            \
        }                                                                                          \
    }
X(MQ_F32, float)
X(MQ_F64, double)
#undef X

/* Integer kernels for the few ops the spec allows on integers (wrapping, no overflow UB). */
#define X(e, c)                                                                                    \
    static void uni_##e(int op, const un_par *p, const c *x, c *y, int64_t n)                      \
    {                                                                                              \
        typedef c c_;                                                                              \
        switch (op) {                                                                              \
            UCASE(U_ABS, EW_LT0(v) ? (c_)(0 - (uint64_t)v) : v)                                    \
            UCASE(U_NEG, (c_)(0 - (uint64_t)v))                                                    \
            UCASE(U_SIGN, EW_LT0(v) ? (c_)-1 : (c_)(v > 0))                                        \
            UCASE(U_RELU, EW_LT0(v) ? (c_)0 : v)                                                   \
            UCASE(U_ERF, EW_FROM_D(e, c_, erf((double)v)))                                         \
            UCASE(U_SHRINK, EW_FROM_D(e, c_, ew_shrink((double)v, p)))                             \
        default: break;                                                                            \
        }                                                                                          \
    }
MQ_FOR_NUMERIC_TYPES(X)
#undef X

typedef struct un_desc {
    int op;
    const mq_dtype *types;
} un_desc;

static const mq_dtype types_bool[] = {MQ_BOOL, MQ_UNDEFINED};
static const mq_dtype types_float_signed[] = {MQ_F32, MQ_F64, MQ_I8, MQ_I16, MQ_I32, MQ_I64, MQ_UNDEFINED};

static mq_status un_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                          const un_desc *d)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], d->types, err));
    int to_bool = d->op == U_ISNAN || d->op == U_ISINF;
    mq_set_out(out[0], to_bool ? MQ_BOOL : in[0]->dtype, in[0]->rank, in[0]->dims);
    return MQ_OK;
}

static mq_status un_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                            const un_desc *d)
{
    (void)err;
    const mq_tensor *t = in[0];
    int64_t k = mq_numel(t);
    un_par p;
    un_params(n, d->op, &p);
    if (d->op == U_NOT) {
        const uint8_t *x = t->data;
        uint8_t *y = out[0]->data;
        for (int64_t i = 0; i < k; i++) y[i] = !x[i];
        return MQ_OK;
    }
    if (d->op == U_ISNAN || d->op == U_ISINF) {
        uint8_t *y = out[0]->data;
#define X(e, c)                                                                                    \
    if (t->dtype == e) {                                                                           \
        const c *x = t->data;                                                                      \
        if (d->op == U_ISNAN)                                                                      \
            for (int64_t i = 0; i < k; i++) y[i] = isnan(x[i]) != 0;                               \
        else                                                                                       \
            for (int64_t i = 0; i < k; i++)                                                        \
                y[i] = isinf(x[i]) && (x[i] > 0 ? p.pos : p.neg);                                   \
    }
        X(MQ_F32, float) X(MQ_F64, double)
#undef X
        return MQ_OK;
    }
    if (t->dtype == MQ_F32) {
        unf_MQ_F32(d->op, &p, t->data, out[0]->data, k);
        return MQ_OK;
    }
    if (t->dtype == MQ_F64) {
        unf_MQ_F64(d->op, &p, t->data, out[0]->data, k);
        return MQ_OK;
    }
    switch (t->dtype) {
#define X(e, c) case e: uni_##e(d->op, &p, t->data, out[0]->data, k); break;
        MQ_FOR_NUMERIC_TYPES(X)
#undef X
    default: break;
    }
    return MQ_OK;
}

#define EW_UN(name, type, since_, opcode, types_)                                                  \
    static const un_desc name##_desc = {opcode, types_};                                           \
    static mq_status name##_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, \
                                  mq_err *err)                                                     \
    {                                                                                              \
        return un_infer(n, in, out, err, &name##_desc);                                            \
    }                                                                                              \
    static mq_status name##_fwd(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, \
                                mq_err *err)                                                       \
    {                                                                                              \
        return un_forward(n, in, out, err, &name##_desc);                                          \
    }                                                                                              \
    const mq_op_def ew_def_##name = {.op_type = type, .domain = "", .since = since_, .until = 0,   \
                                     .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,          \
                                     .infer = name##_infer, .forward = name##_fwd, .inplace_in = 1u};

/* Opset 1 versions differ only by the ignored 'consumed_inputs' attribute; type lists are the
 * newest version's (a superset of the older ones). */
EW_UN(abs, "Abs", 1, U_ABS, mq_types_numeric)
EW_UN(neg, "Neg", 1, U_NEG, types_float_signed)
EW_UN(sign, "Sign", 9, U_SIGN, mq_types_numeric)
EW_UN(reciprocal, "Reciprocal", 1, U_RECIP, mq_types_float)
EW_UN(floor, "Floor", 1, U_FLOOR, mq_types_float)
EW_UN(ceil, "Ceil", 1, U_CEIL, mq_types_float)
EW_UN(round, "Round", 11, U_ROUND, mq_types_float)
EW_UN(sqrt, "Sqrt", 1, U_SQRT, mq_types_float)
EW_UN(exp, "Exp", 1, U_EXP, mq_types_float)
EW_UN(log, "Log", 1, U_LOG, mq_types_float)
EW_UN(sin, "Sin", 7, U_SIN, mq_types_float)
EW_UN(cos, "Cos", 7, U_COS, mq_types_float)
EW_UN(tan, "Tan", 7, U_TAN, mq_types_float)
EW_UN(asin, "Asin", 7, U_ASIN, mq_types_float)
EW_UN(acos, "Acos", 7, U_ACOS, mq_types_float)
EW_UN(atan, "Atan", 7, U_ATAN, mq_types_float)
EW_UN(sinh, "Sinh", 9, U_SINH, mq_types_float)
EW_UN(cosh, "Cosh", 9, U_COSH, mq_types_float)
EW_UN(asinh, "Asinh", 9, U_ASINH, mq_types_float)
EW_UN(acosh, "Acosh", 9, U_ACOSH, mq_types_float)
EW_UN(atanh, "Atanh", 9, U_ATANH, mq_types_float)
EW_UN(erf, "Erf", 9, U_ERF, mq_types_numeric)
EW_UN(not, "Not", 1, U_NOT, types_bool)
EW_UN(isnan, "IsNaN", 9, U_ISNAN, mq_types_float)
EW_UN(isinf, "IsInf", 10, U_ISINF, mq_types_float)
EW_UN(relu, "Relu", 1, U_RELU, types_float_signed)
EW_UN(leakyrelu, "LeakyRelu", 1, U_LEAKY, mq_types_float)
EW_UN(elu, "Elu", 1, U_ELU, mq_types_float)
EW_UN(selu, "Selu", 1, U_SELU, mq_types_float)
EW_UN(celu, "Celu", 12, U_CELU, mq_types_float)
EW_UN(thresholdedrelu, "ThresholdedRelu", 10, U_THRELU, mq_types_float)
EW_UN(sigmoid, "Sigmoid", 1, U_SIGMOID, mq_types_float)
EW_UN(hardsigmoid, "HardSigmoid", 1, U_HSIGMOID, mq_types_float)
EW_UN(hardswish, "HardSwish", 14, U_HSWISH, mq_types_float)
EW_UN(softplus, "Softplus", 1, U_SOFTPLUS, mq_types_float)
EW_UN(softsign, "Softsign", 1, U_SOFTSIGN, mq_types_float)
EW_UN(tanh, "Tanh", 1, U_TANH, mq_types_float)
EW_UN(shrink, "Shrink", 9, U_SHRINK, mq_types_numeric)

/* ---- Identity ------------------------------------------------------------------------------------ */

static mq_status identity_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_all, err));
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status identity_fwd(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)n, (void)err;
    memcpy(out[0]->data, in[0]->data, mq_nbytes(in[0]));
    return MQ_OK;
}

const mq_op_def ew_def_identity = {.op_type = "Identity", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                   .max_in = 1, .min_out = 1, .max_out = 1, .infer = identity_infer,
                                   .forward = identity_fwd, .inplace_in = 1u};

/* ---- Clip: opset 1-10 'min'/'max' float attributes, 11+ optional scalar inputs ---------------- */

static mq_status clip_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], n->opset >= 12 ? mq_types_numeric : mq_types_float, err));
    if (n->opset < 11 && n->n_in > 1)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "takes one input before opset 11");
    for (int i = 1; i < 3; i++) {
        const mq_tensor *b = i < n->n_in ? in[i] : NULL;
        if (!b) continue;
        if (b->dtype != in[0]->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s has dtype %s, input has %s", i == 1 ? "min" : "max",
                                mq_dtype_name(b->dtype), mq_dtype_name(in[0]->dtype));
        if (b->rank >= 0 && mq_numel(b) != 1)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s must be a scalar", i == 1 ? "min" : "max");
    }
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status clip_fwd(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)err;
    const mq_tensor *t = in[0];
    const mq_tensor *tlo = n->n_in > 1 ? in[1] : NULL, *thi = n->n_in > 2 ? in[2] : NULL;
    const mq_attr *alo = n->opset < 11 ? mq_attr_get(n, "min") : NULL;
    const mq_attr *ahi = n->opset < 11 ? mq_attr_get(n, "max") : NULL;
    int64_t k = mq_numel(t);
    switch (t->dtype) {
#define X(e, c)                                                                                    \
    case e: {                                                                                      \
        const c *x = t->data;                                                                      \
        c *y = out[0]->data, lo = 0, hi = 0;                                                       \
        int hl = 0, hh = 0;                                                                        \
        if (tlo) hl = 1, lo = ((const c *)tlo->data)[0];                                           \
        if (thi) hh = 1, hi = ((const c *)thi->data)[0];                                           \
        if (alo) hl = 1, lo = EW_FROM_D(e, c, (double)mq_attr_float(n, "min", 0));                  \
        if (ahi) hh = 1, hi = EW_FROM_D(e, c, (double)mq_attr_float(n, "max", 0));                  \
        for (int64_t i = 0; i < k; i++) {                                                          \
            c v = x[i];                                                                            \
            if (hl && v < lo) v = lo;                                                              \
            if (hh && v > hi) v = hi; /* min > max gives max everywhere, as specified */           \
            y[i] = v;                                                                              \
        }                                                                                          \
        break;                                                                                     \
    }
        MQ_FOR_NUMERIC_TYPES(X)
#undef X
    default: break;
    }
    return MQ_OK;
}

const mq_op_def ew_def_clip = {.op_type = "Clip", .domain = "", .since = 1, .until = 0, .min_in = 1,
                               .max_in = 3, .min_out = 1, .max_out = 1, .infer = clip_infer,
                               .forward = clip_fwd, .inplace_in = 1u};

/* ---- Cast / CastLike ----------------------------------------------------------------------------- */

/* Cast-1 names the target type with a string. */
static int cast_type_by_name(const char *s)
{
    static const struct { const char *name; int t; } names[] = {
        {"FLOAT", MQ_F32}, {"UINT8", MQ_U8}, {"INT8", MQ_I8}, {"UINT16", MQ_U16}, {"INT16", MQ_I16},
        {"INT32", MQ_I32}, {"INT64", MQ_I64}, {"STRING", MQ_STRING}, {"BOOL", MQ_BOOL}, {"FLOAT16", MQ_F16},
        {"DOUBLE", MQ_F64}, {"UINT32", MQ_U32}, {"UINT64", MQ_U64}, {"BFLOAT16", MQ_BF16}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) return names[i].t;
    return -1;
}

/* Target dtype of a Cast / CastLike; F16 and BF16 targets are held as F32 rounded to that precision. */
static mq_status cast_target(const mq_node *n, const mq_tensor *const *in, int *to, mq_err *err)
{
    if (strcmp(n->op_type, "CastLike") == 0) {
        MQ_TRY(mq_require_input(n, in, 1, err));
        *to = in[1]->decl_dtype ? in[1]->decl_dtype : in[1]->dtype; /* f16/bf16 are held as f32 */
    } else {
        const mq_attr *a = mq_attr_get(n, "to");
        if (!a) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'to' is required");
        if (a->type == MQ_ATTR_STRING) {
            *to = cast_type_by_name(a->s ? a->s : "");
            if (*to < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "unknown type name '%s'", a->s ? a->s : "");
        } else {
            *to = (int)a->i;
        }
    }
    if (!mq_dtype_supported((mq_dtype)*to) && *to != MQ_F16 && *to != MQ_BF16)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "cast to %s is not supported", mq_dtype_name((mq_dtype)*to));
    return MQ_OK;
}

static mq_status cast_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_all, err));
    int to;
    MQ_TRY(cast_target(n, in, &to, err));
    mq_set_out(out[0], (to == MQ_F16 || to == MQ_BF16) ? MQ_F32 : (mq_dtype)to, in[0]->rank, in[0]->dims);
    out[0]->decl_dtype = (to == MQ_F16 || to == MQ_BF16) ? (mq_dtype)to : MQ_UNDEFINED;
    return MQ_OK;
}

static float to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    /* truncation, as the ONNX 1.12 reference (and its conformance data) does; NaN stays NaN */
    u = isnan(f) ? (u | 0x00400000u) & 0xffff0000u : u & 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

/* Converts through a chunk of double (float sources), int64 (signed, bool) or uint64 (unsigned). */
static mq_status cast_fwd(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    int to;
    MQ_TRY(cast_target(n, in, &to, err));
    const mq_tensor *t = in[0];
    mq_dtype src = t->dtype, dst = out[0]->dtype;
    int64_t k = mq_numel(t);
    enum { CHUNK = 512 };
    union {
        double d[CHUNK];
        int64_t i[CHUNK];
        uint64_t u[CHUNK];
    } buf;
    int kind = mq_dtype_is_float(src) ? 0 : (mq_dtype_is_int(src) && !mq_dtype_is_signed(src)) ? 2 : 1;
    for (int64_t base = 0; base < k; base += CHUNK) {
        int m = (int)(k - base < CHUNK ? k - base : CHUNK);
        switch (src) {
#define X(e, c)                                                                                    \
    case e: {                                                                                      \
        const c *x = (const c *)t->data + base;                                                    \
        if (kind == 0) for (int i = 0; i < m; i++) buf.d[i] = (double)x[i];                        \
        else if (kind == 1) for (int i = 0; i < m; i++) buf.i[i] = (int64_t)x[i];                  \
        else for (int i = 0; i < m; i++) buf.u[i] = (uint64_t)x[i];                                \
        break;                                                                                     \
    }
            MQ_FOR_ALL_TYPES(X)
#undef X
        default: break;
        }
        switch (dst) {
#define X(e, c)                                                                                    \
    case e: {                                                                                      \
        c *y = (c *)out[0]->data + base;                                                           \
        if (kind == 0) for (int i = 0; i < m; i++) y[i] = EW_FROM_D(e, c, buf.d[i]);               \
        else if (kind == 1) for (int i = 0; i < m; i++) y[i] = (e) == MQ_BOOL ? (c)(buf.i[i] != 0) : (c)buf.i[i]; \
        else for (int i = 0; i < m; i++) y[i] = (e) == MQ_BOOL ? (c)(buf.u[i] != 0) : (c)buf.u[i]; \
        break;                                                                                     \
    }
            MQ_FOR_ALL_TYPES(X)
#undef X
        default: break;
        }
    }
    if (to == MQ_F16 || to == MQ_BF16) {
        float *y = out[0]->data;
        for (int64_t i = 0; i < k; i++)
            y[i] = to == MQ_F16 ? mq_f16_to_f32(mq_f32_to_f16(y[i])) : to_bf16(y[i]);
    }
    return MQ_OK;
}

const mq_op_def ew_def_cast = {.op_type = "Cast", .domain = "", .since = 1, .until = 0, .min_in = 1,
                               .max_in = 1, .min_out = 1, .max_out = 1, .infer = cast_infer,
                               .forward = cast_fwd, .inplace_in = 1u};
const mq_op_def ew_def_castlike = {.op_type = "CastLike", .domain = "", .since = 15, .until = 0, .min_in = 2,
                                   .max_in = 2, .min_out = 1, .max_out = 1, .shape_only_in = 2u,
                                   .infer = cast_infer, .forward = cast_fwd, .inplace_in = 1u};

/* ---- Dropout (inference) ------------------------------------------------------------------------- */

static mq_status dropout_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (n->opset < 7 && mq_attr_int(n, "is_test", 0) == 0 && mq_attr_float(n, "ratio", 0.5f) != 0)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED,
                            "is_test=0 asks for random training-mode dropout, which is not supported");
    const mq_tensor *ratio = n->n_in > 1 ? in[1] : NULL, *train = n->n_in > 2 ? in[2] : NULL;
    if (ratio && !mq_is_float_type(ratio->dtype))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "ratio must be float, not %s", mq_dtype_name(ratio->dtype));
    if (train) {
        MQ_TRY(mq_require_dtype(n, train, types_bool, err));
        if (train->data && mq_numel(train) >= 1 && ((const uint8_t *)train->data)[0]) {
            double r = 0.5;
            if (ratio && !ratio->data) /* decided when the value is known (at run time at the latest) */
                r = 0;
            else if (ratio && mq_numel(ratio) >= 1)
                r = mq_load_f64(ratio->data, ratio->dtype, 0);
            if (r != 0)
                return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED,
                                    "training_mode=true with ratio %g drops at random; only inference (or ratio 0) "
                                    "is supported",
                                    r);
        }
    }
    mq_set_like(out[0], in[0]);
    if (n->n_out > 1 && out[1]) /* mask: T before opset 10, bool after */
        mq_set_out(out[1], n->opset < 10 ? in[0]->dtype : MQ_BOOL, in[0]->rank, in[0]->dims);
    return MQ_OK;
}

static mq_status dropout_fwd(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)err;
    memcpy(out[0]->data, in[0]->data, mq_nbytes(in[0]));
    if (n->n_out > 1 && out[1]) {
        int64_t k = mq_numel(out[1]);
        for (int64_t i = 0; i < k; i++) mq_store_f64(out[1]->data, out[1]->dtype, (size_t)i, 1.0);
    }
    return MQ_OK;
}

const mq_op_def ew_def_dropout = {.op_type = "Dropout", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                  .max_in = 3, .min_out = 1, .max_out = 2, .infer = dropout_infer,
                                  .forward = dropout_fwd, .inplace_in = 1u};
