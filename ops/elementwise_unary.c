/* elementwise_unary.c: one-input elementwise ops of the 'elementwise' family: math and activations,
 * Not/IsNaN/IsInf, Identity, Clip, Cast/CastLike and Dropout (inference), and their lowering to the
 * runtime kernels (runtime/kernels/elementwise*.c). Listed in elementwise.c. */
#include "ops/elementwise_impl.h"
#include "ops/grad.h"

#include <math.h>
#include <string.h>

enum { U_NOT = 100, U_ISNAN, U_ISINF }; /* beside MQK_U_*: ops with their own kernels */

typedef struct un_desc {
    int op;
    const mq_dtype *types;
    const char *f32_kernel; /* the float32 kernel (NULL: none) */
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

/* p[0..4] = alpha, beta, gamma, lambd, bias of the op (float bits; 0 where the op has none) */
static void un_params(const mq_node *n, int op, int32_t *p)
{
    float al = 0, be = 0, ga = 0, la = 0, bi = 0;
    switch (op) {
    case MQK_U_LEAKY: al = mq_attr_float(n, "alpha", 0.01f); break;
    case MQK_U_ELU: case MQK_U_CELU: case MQK_U_THRELU: al = mq_attr_float(n, "alpha", 1.0f); break;
    case MQK_U_SELU:
        al = mq_attr_float(n, "alpha", 1.67326319217681884765625f);
        ga = mq_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    case MQK_U_HSIGMOID:
        al = mq_attr_float(n, "alpha", 0.2f);
        be = mq_attr_float(n, "beta", 0.5f);
        break;
    case MQK_U_SHRINK:
        la = mq_attr_float(n, "lambd", 0.5f);
        bi = mq_attr_float(n, "bias", 0.0f);
        break;
    default: break;
    }
    p[0] = mqr_f32_bits(al), p[1] = mqr_f32_bits(be), p[2] = mqr_f32_bits(ga), p[3] = mqr_f32_bits(la);
    p[4] = mqr_f32_bits(bi);
}

static mq_status un_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                          mq_kcall *kc, mq_err *err, const un_desc *d)
{
    (void)out, (void)err;
    mq_dtype dt = in[0]->dtype;
    kc->n_p = 0;
    if (d->op == U_NOT) {
        kc->kernel = "not_bool";
    } else if (d->op == U_ISNAN) {
        kc->kernel = "ew_isnan";
    } else if (d->op == U_ISINF) {
        kc->kernel = "ew_isinf";
        kc->p[0] = mq_attr_int(n, "detect_negative", 1) != 0;
        kc->p[1] = mq_attr_int(n, "detect_positive", 1) != 0;
        kc->n_p = 2;
    } else if (dt == MQ_F32 && d->f32_kernel) {
        kc->kernel = d->f32_kernel;
        un_params(n, d->op, kc->p);
        kc->n_p = 5;
    } else {
        kc->kernel = "ew_unary_any";
        kc->p[0] = d->op;
        un_params(n, d->op, kc->p + 1);
        kc->n_p = 6;
    }
    return MQ_OK;
}

/* ---- backward of the activations and Clip (float32) --------------------------------------------- */

static mq_status relu_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    const float *x = in[0]->data;
    int64_t k = mq_numel(in[0]);
    (void)out;
    for (int64_t i = 0; i < k; i++) din[0][i] = x[i] > 0 ? dout[0][i] : 0.0f;
    return MQ_OK;
}

static mq_status sigmoid_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                  const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    const float *y = out[0]->data;
    int64_t k = mq_numel(in[0]);
    for (int64_t i = 0; i < k; i++) din[0][i] = dout[0][i] * y[i] * (1.0f - y[i]);
    return MQ_OK;
}

static mq_status hardsigmoid_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                      const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    float alpha = mq_attr_float(n, "alpha", 0.2f), beta = mq_attr_float(n, "beta", 0.5f);
    const float *x = in[0]->data;
    int64_t k = mq_numel(in[0]);
    (void)out;
    for (int64_t i = 0; i < k; i++) {
        float v = alpha * x[i] + beta;
        din[0][i] = v > 0 && v < 1 ? alpha * dout[0][i] : 0.0f;
    }
    return MQ_OK;
}

static mq_status hardswish_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                    const float *const *dout, float *const *din, mq_err *err)
{
    /* y = x * max(0, min(1, x/6 + 1/2)): 0 below -3, 1 above 3, x/3 + 1/2 between. */
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    const float *x = in[0]->data;
    int64_t k = mq_numel(in[0]);
    (void)out;
    for (int64_t i = 0; i < k; i++) {
        float d = x[i] < -3.0f ? 0.0f : x[i] > 3.0f ? 1.0f : x[i] / 3.0f + 0.5f;
        din[0][i] = d * dout[0][i];
    }
    return MQ_OK;
}

static mq_status clip_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    float lo = -INFINITY, hi = INFINITY;
    if (n->opset < 11) {
        lo = mq_attr_float(n, "min", -INFINITY);
        hi = mq_attr_float(n, "max", INFINITY);
    } else {
        if (n->n_in > 1 && in[1] && in[1]->data) lo = ((const float *)in[1]->data)[0];
        if (n->n_in > 2 && in[2] && in[2]->data) hi = ((const float *)in[2]->data)[0];
    }
    const float *x = in[0]->data, *g = dout[0];
    int64_t k = mq_numel(in[0]);
    double below = 0, above = 0;
    (void)out;
    for (int64_t i = 0; i < k; i++) {
        /* Where min > max every output is max (ONNX: min(max(x, lo), hi)). */
        int pass = x[i] >= lo && x[i] <= hi && lo <= hi;
        if (din[0]) din[0][i] = pass ? g[i] : 0.0f;
        if (!pass) {
            if (lo > hi || x[i] > hi) above += g[i];
            else below += g[i];
        }
    }
    if (n->n_in > 1 && din[1]) din[1][0] = (float)below;
    if (n->n_in > 2 && din[2]) din[2][0] = (float)above;
    return MQ_OK;
}

#define EW_UN(name, type, since_, opcode, types_, f32k) EW_UN_BW(name, type, since_, opcode, types_, f32k, NULL)
#define EW_UN_BW(name, type, since_, opcode, types_, f32k, bw)                                     \
    static const un_desc name##_desc = {opcode, types_, f32k};                                     \
    static mq_status name##_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, \
                                  mq_err *err)                                                     \
    {                                                                                              \
        return un_infer(n, in, out, err, &name##_desc);                                            \
    }                                                                                              \
    static mq_status name##_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, \
                                  mq_kcall *kc, mq_err *err)                                       \
    {                                                                                              \
        return un_lower(n, in, out, kc, err, &name##_desc);                                        \
    }                                                                                              \
    const mq_op_def ew_def_##name = {.op_type = type, .domain = "", .since = since_, .until = 0,   \
                                     .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,          \
                                     .infer = name##_infer, .forward = mq_forward_lowered,          \
                                     .inplace_in = 1u, .lower = name##_lower, .backward = bw};

/* Opset 1 versions differ only by the ignored 'consumed_inputs' attribute; type lists are the
 * newest version's (a superset of the older ones). */
EW_UN(abs, "Abs", 1, MQK_U_ABS, mq_types_numeric, "abs_f32")
EW_UN(neg, "Neg", 1, MQK_U_NEG, types_float_signed, "neg_f32")
EW_UN(sign, "Sign", 9, MQK_U_SIGN, mq_types_numeric, "sign_f32")
EW_UN(reciprocal, "Reciprocal", 1, MQK_U_RECIP, mq_types_float, "reciprocal_f32")
EW_UN(floor, "Floor", 1, MQK_U_FLOOR, mq_types_float, "floor_f32")
EW_UN(ceil, "Ceil", 1, MQK_U_CEIL, mq_types_float, "ceil_f32")
EW_UN(round, "Round", 11, MQK_U_ROUND, mq_types_float, "round_f32")
EW_UN(sqrt, "Sqrt", 1, MQK_U_SQRT, mq_types_float, "sqrt_f32")
EW_UN(exp, "Exp", 1, MQK_U_EXP, mq_types_float, "exp_f32")
EW_UN(log, "Log", 1, MQK_U_LOG, mq_types_float, "log_f32")
EW_UN(sin, "Sin", 7, MQK_U_SIN, mq_types_float, "sin_f32")
EW_UN(cos, "Cos", 7, MQK_U_COS, mq_types_float, "cos_f32")
EW_UN(tan, "Tan", 7, MQK_U_TAN, mq_types_float, "tan_f32")
EW_UN(asin, "Asin", 7, MQK_U_ASIN, mq_types_float, "asin_f32")
EW_UN(acos, "Acos", 7, MQK_U_ACOS, mq_types_float, "acos_f32")
EW_UN(atan, "Atan", 7, MQK_U_ATAN, mq_types_float, "atan_f32")
EW_UN(sinh, "Sinh", 9, MQK_U_SINH, mq_types_float, "sinh_f32")
EW_UN(cosh, "Cosh", 9, MQK_U_COSH, mq_types_float, "cosh_f32")
EW_UN(asinh, "Asinh", 9, MQK_U_ASINH, mq_types_float, "asinh_f32")
EW_UN(acosh, "Acosh", 9, MQK_U_ACOSH, mq_types_float, "acosh_f32")
EW_UN(atanh, "Atanh", 9, MQK_U_ATANH, mq_types_float, "atanh_f32")
EW_UN(erf, "Erf", 9, MQK_U_ERF, mq_types_numeric, "erf_f32")
EW_UN(not, "Not", 1, U_NOT, types_bool, NULL)
EW_UN(isnan, "IsNaN", 9, U_ISNAN, mq_types_float, NULL)
EW_UN(isinf, "IsInf", 10, U_ISINF, mq_types_float, NULL)
EW_UN_BW(relu, "Relu", 1, MQK_U_RELU, types_float_signed, "relu_f32", relu_backward)
EW_UN(leakyrelu, "LeakyRelu", 1, MQK_U_LEAKY, mq_types_float, "leakyrelu_f32")
EW_UN(elu, "Elu", 1, MQK_U_ELU, mq_types_float, "elu_f32")
EW_UN(selu, "Selu", 1, MQK_U_SELU, mq_types_float, "selu_f32")
EW_UN(celu, "Celu", 12, MQK_U_CELU, mq_types_float, "celu_f32")
EW_UN(thresholdedrelu, "ThresholdedRelu", 10, MQK_U_THRELU, mq_types_float, "thresholdedrelu_f32")
EW_UN_BW(sigmoid, "Sigmoid", 1, MQK_U_SIGMOID, mq_types_float, "sigmoid_f32", sigmoid_backward)
EW_UN_BW(hardsigmoid, "HardSigmoid", 1, MQK_U_HSIGMOID, mq_types_float, "hardsigmoid_f32", hardsigmoid_backward)
EW_UN_BW(hardswish, "HardSwish", 14, MQK_U_HSWISH, mq_types_float, "hardswish_f32", hardswish_backward)
EW_UN(softplus, "Softplus", 1, MQK_U_SOFTPLUS, mq_types_float, "softplus_f32")
EW_UN(softsign, "Softsign", 1, MQK_U_SOFTSIGN, mq_types_float, "softsign_f32")
EW_UN(tanh, "Tanh", 1, MQK_U_TANH, mq_types_float, "tanh_f32")
EW_UN(shrink, "Shrink", 9, MQK_U_SHRINK, mq_types_numeric, "shrink_f32")

/* ---- Identity ------------------------------------------------------------------------------------ */

static mq_status identity_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_all, err));
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status copy_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                            mq_kcall *kc, mq_err *err)
{
    (void)n, (void)in, (void)out, (void)err;
    kc->kernel = "ew_copy";
    kc->n_p = 0;
    return MQ_OK;
}

const mq_op_def ew_def_identity = {.op_type = "Identity", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                   .max_in = 1, .min_out = 1, .max_out = 1, .infer = identity_infer,
                                   .forward = mq_forward_lowered, .inplace_in = 1u, .lower = copy_lower,
                                   .backward = mq_grad_copy0};

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

/* The bounds of the old attributes go into the parameters; the kernel reads the inputs of opset 11+
 * (constant or not) itself. */
static mq_status clip_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                            mq_kcall *kc, mq_err *err)
{
    (void)out, (void)err;
    const mq_attr *alo = n->opset < 11 ? mq_attr_get(n, "min") : NULL;
    const mq_attr *ahi = n->opset < 11 ? mq_attr_get(n, "max") : NULL;
    float lo = alo ? mq_attr_float(n, "min", 0) : -INFINITY, hi = ahi ? mq_attr_float(n, "max", 0) : INFINITY;
    if (in[0]->dtype == MQ_F32) {
        kc->kernel = "clip_f32";
        kc->p[0] = mqr_f32_bits(lo), kc->p[1] = mqr_f32_bits(hi);
        kc->n_p = 2;
    } else {
        kc->kernel = "ew_clip_any";
        kc->p[0] = alo != NULL, kc->p[1] = mqr_f32_bits(alo ? lo : 0);
        kc->p[2] = ahi != NULL, kc->p[3] = mqr_f32_bits(ahi ? hi : 0);
        kc->n_p = 4;
    }
    return MQ_OK;
}

const mq_op_def ew_def_clip = {.op_type = "Clip", .domain = "", .since = 1, .until = 0, .min_in = 1,
                               .max_in = 3, .min_out = 1, .max_out = 1, .infer = clip_infer,
                               .forward = mq_forward_lowered, .inplace_in = 1u, .lower = clip_lower,
                               .backward = clip_backward};

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
    int to = 0;
    MQ_TRY(cast_target(n, in, &to, err));
    mq_set_out(out[0], (to == MQ_F16 || to == MQ_BF16) ? MQ_F32 : (mq_dtype)to, in[0]->rank, in[0]->dims);
    out[0]->decl_dtype = (to == MQ_F16 || to == MQ_BF16) ? (mq_dtype)to : MQ_UNDEFINED;
    return MQ_OK;
}

/* Converts in the kernel as C casts do, except: to bool is != 0, float to integer saturates (NaN: 0);
 * float16 / bfloat16 targets are float32 rounded to that precision. */
static mq_status cast_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                            mq_kcall *kc, mq_err *err)
{
    (void)out;
    int to = 0;
    MQ_TRY(cast_target(n, in, &to, err));
    kc->kernel = "ew_cast";
    kc->p[0] = to == MQ_F16 ? MQK_CAST_F16 : to == MQ_BF16 ? MQK_CAST_BF16 : MQK_CAST_PLAIN;
    kc->n_p = 1;
    return MQ_OK;
}

const mq_op_def ew_def_cast = {.op_type = "Cast", .domain = "", .since = 1, .until = 0, .min_in = 1,
                               .max_in = 1, .min_out = 1, .max_out = 1, .infer = cast_infer,
                               .forward = mq_forward_lowered, .inplace_in = 1u, .lower = cast_lower};
const mq_op_def ew_def_castlike = {.op_type = "CastLike", .domain = "", .since = 15, .until = 0, .min_in = 2,
                                   .max_in = 2, .min_out = 1, .max_out = 1, .shape_only_in = 2u,
                                   .infer = cast_infer, .forward = mq_forward_lowered, .inplace_in = 1u,
                                   .lower = cast_lower};

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

static mq_status dropout_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               mq_kcall *kc, mq_err *err)
{
    (void)n, (void)in, (void)out, (void)err;
    kc->kernel = "ew_dropout";
    kc->n_p = 0;
    return MQ_OK;
}

const mq_op_def ew_def_dropout = {.op_type = "Dropout", .domain = "", .since = 1, .until = 0, .min_in = 1,
                                  .max_in = 3, .min_out = 1, .max_out = 2, .infer = dropout_infer,
                                  .forward = mq_forward_lowered, .inplace_in = 1u, .lower = dropout_lower,
                                  .backward = mq_grad_copy0};
