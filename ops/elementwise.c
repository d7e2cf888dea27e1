/* elementwise.c: op family 'elementwise' (see core/op.h): binary and variadic ops (arithmetic, Pow,
 * Mod, BitShift, logic, comparisons, PRelu, Where, Max/Min/Sum/Mean), their lowering and the table. */
#include "ops/elementwise_impl.h"
#include "ops/grad.h"

#include <string.h>

/* ---- broadcasting parameters --------------------------------------------------------------------- */

mq_status ew_lower_bc(const mq_node *n, const mq_tensor *out, const mq_tensor *const *ins, int k, mq_kcall *kc,
                      mq_err *err)
{
    if (out->rank < 0 || out->rank > MQR_MAX_RANK)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "output rank %d has no runtime kernel", out->rank);
    if (k < 1 || kc->n_p + 1 + (int64_t)(1 + k) * (out->rank > 0 ? out->rank : 1) > MQR_MAX_PARAMS)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "%d inputs of rank %d exceed the kernel's %d parameters", k,
                            out->rank, MQR_MAX_PARAMS);
    if (mq_numel(out) > INT32_MAX)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "more than 2^31-1 output elements");
    int32_t *p = kc->p + kc->n_p;
    /* strides of each input in the output's shape (st), then collapsed (cst) */
    int64_t dims[MQR_MAX_RANK], st[MQR_MAX_PARAMS][MQR_MAX_RANK], cst[MQR_MAX_PARAMS][MQR_MAX_RANK];
    int r = 0;
    for (int i = 0; i < k; i++) {
        if (!ins[i] || ins[i]->rank < 0 || ins[i]->rank > out->rank || mq_numel(ins[i]) > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "input %d has no static shape of rank <= %d", i,
                                out->rank);
        mq_broadcast_strides(ins[i], out->rank, out->dims, st[i]);
    }
    if (mq_numel(out) > 0) {
        for (int d = 0; d < out->rank; d++) {
            if (out->dims[d] == 1) continue;
            int merge = r > 0; /* with the previous kept dim, when every input is contiguous across both */
            for (int i = 0; i < k && merge; i++)
                if (cst[i][r - 1] != st[i][d] * out->dims[d]) merge = 0;
            if (merge) {
                dims[r - 1] *= out->dims[d];
                for (int i = 0; i < k; i++) cst[i][r - 1] = st[i][d];
            } else {
                dims[r] = out->dims[d];
                for (int i = 0; i < k; i++) cst[i][r] = st[i][d];
                r++;
            }
        }
    }
    if (r == 0) { /* a scalar (one element) or an empty output (no element) */
        dims[0] = mq_numel(out) > 0 ? 1 : 0;
        for (int i = 0; i < k; i++) cst[i][0] = 0;
        r = 1;
    }
    p[0] = r;
    for (int d = 0; d < r; d++) p[1 + d] = (int32_t)dims[d];
    for (int i = 0; i < k; i++)
        for (int d = 0; d < r; d++) p[1 + r * (1 + i) + d] = (int32_t)cst[i][d];
    kc->n_p += 1 + r * (1 + k);
    return MQ_OK;
}

/* ---- binary op descriptions ---------------------------------------------------------------------- */

static const mq_dtype types_bool[] = {MQ_BOOL, MQ_UNDEFINED};
static const mq_dtype types_uint[] = {MQ_U8, MQ_U16, MQ_U32, MQ_U64, MQ_UNDEFINED};
static const mq_dtype types_pow_base[] = {MQ_F32, MQ_F64, MQ_I32, MQ_I64, MQ_UNDEFINED};

typedef enum { K_PLAIN, K_LEGACY, K_PRELU, K_POW } bin_kind;

typedef struct bin_desc {
    int op; /* MQK_B_* */
    const mq_dtype *types;
    int legacy_below; /* opsets below this one use the broadcast/axis attributes (0: none) */
    int out_bool;
    bin_kind kind;
} bin_desc;

static int bin_op_of(const mq_node *n, const bin_desc *d)
{
    if (d->op == MQK_B_FMOD) return mq_attr_int(n, "fmod", 0) ? MQK_B_FMOD : MQK_B_IMOD;
    if (d->op == MQK_B_SHL) {
        const char *dir = mq_attr_str(n, "direction", "");
        return strcmp(dir, "RIGHT") == 0 ? MQK_B_SHR : MQK_B_SHL;
    }
    return d->op;
}

/* The second operand as the op sees it: legacy broadcast (opset < 7: 'broadcast' and 'axis'
 * attributes) and old PRelu (slope per channel) become numpy broadcasting of a reshaped view. */
static mq_status bin_view(const mq_node *n, const bin_desc *d, const mq_tensor *a, const mq_tensor *b,
                          mq_tensor *bv, mq_err *err)
{
    *bv = *b;
    if (a->rank < 0 || b->rank < 0) return MQ_OK;
    if (d->legacy_below && n->opset < d->legacy_below) {
        if (d->kind == K_PRELU) { /* PRelu-1/6: one slope, or one per channel (axis 1) */
            int64_t k = mq_numel(b);
            if (k == 1) {
                bv->rank = 0;
            } else if (b->rank == 1 && a->rank >= 2 && b->dims[0] == a->dims[1]) {
                bv->rank = a->rank;
                for (int i = 0; i < a->rank; i++) bv->dims[i] = i == 1 ? b->dims[0] : 1;
            }
            return MQ_OK;
        }
        if (!mq_attr_int(n, "broadcast", 0)) {
            if (!mq_shape_equal(a, b)) {
                char sa[64], sb[64];
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "shapes %s and %s differ and broadcast=0",
                                    mq_shape_str(a, sa, sizeof sa), mq_shape_str(b, sb, sizeof sb));
            }
            return MQ_OK;
        }
        int64_t axis = a->rank - b->rank;
        if (mq_attr_get(n, "axis")) {
            axis = mq_attr_int(n, "axis", 0);
            if (axis < 0) axis += a->rank;
        }
        if (axis < 0 || axis + b->rank > a->rank)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot broadcast rank %d operand at axis %lld of rank %d",
                                b->rank, (long long)axis, a->rank);
        bv->rank = a->rank;
        for (int i = 0; i < a->rank; i++)
            bv->dims[i] = (i >= axis && i < axis + b->rank) ? b->dims[i - axis] : 1;
    }
    return MQ_OK;
}

static mq_status bin_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                           const bin_desc *d)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    const mq_tensor *a = in[0], *b = in[1];
    if (d->kind == K_POW) {
        MQ_TRY(mq_require_dtype(n, a, n->opset >= 12 ? types_pow_base : mq_types_float, err));
        MQ_TRY(mq_require_dtype(n, b, n->opset >= 12 ? mq_types_numeric : mq_types_float, err));
        if (n->opset < 12 && a->dtype != b->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "operand dtypes differ: %s and %s", mq_dtype_name(a->dtype),
                                mq_dtype_name(b->dtype));
    } else {
        MQ_TRY(mq_require_dtype(n, a, d->types, err));
        if (a->dtype != b->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "operand dtypes differ: %s and %s", mq_dtype_name(a->dtype),
                                mq_dtype_name(b->dtype));
    }
    if (d->op == MQK_B_FMOD && mq_is_float_type(a->dtype) && !mq_attr_int(n, "fmod", 0))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "fmod must be 1 for floating-point inputs");
    if (d->op == MQK_B_SHL) {
        const char *dir = mq_attr_str(n, "direction", "");
        if (strcmp(dir, "LEFT") != 0 && strcmp(dir, "RIGHT") != 0)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "direction must be LEFT or RIGHT, not '%s'", dir);
    }
    mq_tensor bv;
    MQ_TRY(bin_view(n, d, a, b, &bv, err));
    const mq_tensor *ts[2] = {a, &bv};
    mq_tensor shape;
    MQ_TRY(mq_broadcast_shape(n, ts, 2, &shape, err));
    if ((d->kind == K_PRELU || (d->kind != K_PLAIN && d->legacy_below && n->opset < d->legacy_below)) &&
        shape.rank >= 0 && a->rank >= 0 && !mq_shape_equal(&shape, a)) {
        char sa[64], sb[64];
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "second operand %s does not broadcast to the first %s",
                            mq_shape_str(b, sb, sizeof sb), mq_shape_str(a, sa, sizeof sa));
    }
    mq_set_out(out[0], d->out_bool ? MQ_BOOL : a->dtype, shape.rank, shape.dims);
    return MQ_OK;
}

static mq_status bin_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                           mq_kcall *kc, mq_err *err, const bin_desc *d)
{
    mq_tensor bv;
    MQ_TRY(bin_view(n, d, in[0], in[1], &bv, err));
    const mq_tensor *ts[2] = {in[0], &bv};
    const int op = bin_op_of(n, d);
    const mq_dtype dt = in[0]->dtype;
    kc->n_p = 0;
    if (d->kind == K_POW && in[1]->dtype != dt) {
        kc->kernel = "ew_pow_mixed";
    } else if (dt == MQ_F32 && op <= MQK_B_POW) {
        switch (op) {
        case MQK_B_ADD: kc->kernel = "add_f32"; break;
        case MQK_B_SUB: kc->kernel = "sub_f32"; break;
        case MQK_B_MUL: kc->kernel = "mul_f32"; break;
        case MQK_B_DIV: kc->kernel = "div_f32"; break;
        case MQK_B_PRELU: kc->kernel = "prelu_f32"; break;
        case MQK_B_POW: kc->kernel = "pow_f32"; break;
        default: kc->kernel = "ew_binary_any", kc->p[kc->n_p++] = op; break;
        }
    } else if (dt == MQ_F32) {
        kc->kernel = "compare_f32", kc->p[kc->n_p++] = op;
    } else if (dt == MQ_BOOL && (op == MQK_B_AND || op == MQK_B_OR || op == MQK_B_XOR)) {
        kc->kernel = "logic_bool", kc->p[kc->n_p++] = op;
    } else {
        kc->kernel = "ew_binary_any", kc->p[kc->n_p++] = op;
    }
    return ew_lower_bc(n, out[0], ts, 2, kc, err);
}

/* Runs the lowered kernel; integer Div and Mod first refuse a zero divisor (the kernel would give 0). */
static mq_status bin_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                             const bin_desc *d)
{
    const mq_tensor *b = in[1];
    if ((d->op == MQK_B_DIV || d->op == MQK_B_FMOD) && mq_dtype_is_int(b->dtype) && mq_numel(out[0]) > 0) {
        int64_t k = mq_numel(b);
        for (int64_t i = 0; i < k; i++)
            if (mq_load_i64(b->data, b->dtype, (size_t)i) == 0)
                return mq_node_fail(err, n, MQ_ERR_INVALID, "integer division by zero");
    }
    return mq_forward_lowered(n, in, out, err);
}

/* Element k of a broadcast binary op: offsets of a and b for each output element, walked in order. */
typedef struct bcast_walk {
    int rank;
    int64_t dims[MQ_MAX_RANK], sa[MQ_MAX_RANK], sb[MQ_MAX_RANK], idx[MQ_MAX_RANK];
    int64_t oa, ob;
} bcast_walk;

static void walk_init(bcast_walk *w, const mq_tensor *y, const mq_tensor *a, const mq_tensor *b)
{
    memset(w, 0, sizeof *w);
    w->rank = y->rank;
    memcpy(w->dims, y->dims, sizeof(int64_t) * (size_t)(y->rank > 0 ? y->rank : 0));
    mq_broadcast_strides(a, y->rank, y->dims, w->sa);
    mq_broadcast_strides(b, y->rank, y->dims, w->sb);
}

static void walk_next(bcast_walk *w)
{
    for (int d = w->rank - 1; d >= 0; d--) {
        w->oa += w->sa[d];
        w->ob += w->sb[d];
        if (++w->idx[d] < w->dims[d]) return;
        w->oa -= w->sa[d] * w->dims[d];
        w->ob -= w->sb[d] * w->dims[d];
        w->idx[d] = 0;
    }
}

/* ---- backward of Add, Sub, Mul ----------------------------------------------------------------- */

/* Float32, numpy broadcasting (opset >= 7, or the legacy 'broadcast' without 'axis': the same rule). */
static mq_status bin_grad_check(const mq_node *n, const mq_tensor *y, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, y, err));
    if (n->opset < 7 && mq_attr_get(n, "axis"))
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "backward of the legacy 'axis' broadcast is not supported");
    return MQ_OK;
}

static mq_status add_sub(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                         const float *const *dout, float *const *din, float sign_b, mq_err *err)
{
    MQ_TRY(bin_grad_check(n, out[0], err));
    if (din[0]) mq_grad_unbroadcast(dout[0], out[0]->rank, out[0]->dims, in[0], 1.0f, din[0]);
    if (din[1]) mq_grad_unbroadcast(dout[0], out[0]->rank, out[0]->dims, in[1], sign_b, din[1]);
    return MQ_OK;
}

static mq_status add_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              const float *const *dout, float *const *din, mq_err *err)
{
    return add_sub(n, in, out, dout, din, 1.0f, err);
}

static mq_status sub_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              const float *const *dout, float *const *din, mq_err *err)
{
    return add_sub(n, in, out, dout, din, -1.0f, err);
}

static mq_status mul_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(bin_grad_check(n, out[0], err));
    const float *a = in[0]->data, *b = in[1]->data, *g = dout[0];
    int64_t na = mq_numel(in[0]), nb = mq_numel(in[1]), ny = mq_numel(out[0]);
    if (din[0])
        for (int64_t i = 0; i < na; i++) din[0][i] = 0;
    if (din[1])
        for (int64_t i = 0; i < nb; i++) din[1][i] = 0;
    if (na == ny && nb == ny) {
        for (int64_t i = 0; i < ny; i++) {
            if (din[0]) din[0][i] = g[i] * b[i];
            if (din[1]) din[1][i] = g[i] * a[i];
        }
        return MQ_OK;
    }
    bcast_walk w;
    walk_init(&w, out[0], in[0], in[1]);
    for (int64_t i = 0; i < ny; i++) {
        if (din[0]) din[0][w.oa] += g[i] * b[w.ob];
        if (din[1]) din[1][w.ob] += g[i] * a[w.oa];
        walk_next(&w);
    }
    return MQ_OK;
}

#define EW_BIN(name, type, since_, opcode, types_, legacy, outb, kind_)                             \
    EW_BIN_BW(name, type, since_, opcode, types_, legacy, outb, kind_, NULL)
#define EW_BIN_BW(name, type, since_, opcode, types_, legacy, outb, kind_, bw)                      \
    static const bin_desc name##_desc = {opcode, types_, legacy, outb, kind_};                     \
    static mq_status name##_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, \
                                  mq_err *err)                                                     \
    {                                                                                              \
        return bin_infer(n, in, out, err, &name##_desc);                                           \
    }                                                                                              \
    static mq_status name##_fwd(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, \
                                mq_err *err)                                                       \
    {                                                                                              \
        return bin_forward(n, in, out, err, &name##_desc);                                         \
    }                                                                                              \
    static mq_status name##_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, \
                                  mq_kcall *kc, mq_err *err)                                       \
    {                                                                                              \
        return bin_lower(n, in, out, kc, err, &name##_desc);                                       \
    }                                                                                              \
    static const mq_op_def name##_def = {.op_type = type, .domain = "", .since = since_, .until = 0, \
                                         .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,      \
                                         .infer = name##_infer, .forward = name##_fwd, .inplace_in = 3u,  \
                                         .lower = name##_lower, .backward = bw};

/* Version notes: opset 1-6 Add/Sub/Mul/Div/Pow/And/Or/Xor/Equal/Less/Greater use the 'broadcast' /
 * 'axis' attributes ('consumed_inputs' of opset 1 is ignored); later versions broadcast like numpy and
 * only widen the type lists, which are accepted for every version. */
EW_BIN_BW(add, "Add", 1, MQK_B_ADD, mq_types_numeric, 7, 0, K_LEGACY, add_backward)
EW_BIN_BW(sub, "Sub", 1, MQK_B_SUB, mq_types_numeric, 7, 0, K_LEGACY, sub_backward)
EW_BIN_BW(mul, "Mul", 1, MQK_B_MUL, mq_types_numeric, 7, 0, K_LEGACY, mul_backward)
EW_BIN(div, "Div", 1, MQK_B_DIV, mq_types_numeric, 7, 0, K_LEGACY)
EW_BIN(pow, "Pow", 1, MQK_B_POW, mq_types_float, 7, 0, K_POW)
EW_BIN(mod, "Mod", 10, MQK_B_FMOD, mq_types_numeric, 0, 0, K_PLAIN)
EW_BIN(bitshift, "BitShift", 11, MQK_B_SHL, types_uint, 0, 0, K_PLAIN)
EW_BIN(and, "And", 1, MQK_B_AND, types_bool, 7, 0, K_LEGACY)
EW_BIN(or, "Or", 1, MQK_B_OR, types_bool, 7, 0, K_LEGACY)
EW_BIN(xor, "Xor", 1, MQK_B_XOR, types_bool, 7, 0, K_LEGACY)
EW_BIN(equal, "Equal", 1, MQK_B_EQ, mq_types_all, 7, 1, K_LEGACY)
EW_BIN(less, "Less", 1, MQK_B_LT, mq_types_numeric, 7, 1, K_LEGACY)
EW_BIN(lessorequal, "LessOrEqual", 12, MQK_B_LE, mq_types_numeric, 0, 1, K_PLAIN)
EW_BIN(greater, "Greater", 1, MQK_B_GT, mq_types_numeric, 7, 1, K_LEGACY)
EW_BIN(greaterorequal, "GreaterOrEqual", 12, MQK_B_GE, mq_types_numeric, 0, 1, K_PLAIN)
EW_BIN(prelu, "PRelu", 1, MQK_B_PRELU, mq_types_numeric, 7, 0, K_PRELU)

/* ---- variadic Max / Min / Sum / Mean ------------------------------------------------------------- */

typedef struct var_desc {
    int op; /* MQK_V_* */
} var_desc;

static mq_status var_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                           const var_desc *d)
{
    if (n->n_in < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "needs at least one input");
    for (int i = 0; i < n->n_in; i++) {
        MQ_TRY(mq_require_input(n, in, i, err));
        if (in[i]->dtype != in[0]->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "input dtypes differ: %s and %s", mq_dtype_name(in[0]->dtype),
                                mq_dtype_name(in[i]->dtype));
    }
    /* Max/Min take every numeric type from opset 12; Sum/Mean are float only */
    MQ_TRY(mq_require_dtype(n, in[0], d->op >= MQK_V_SUM ? mq_types_float : mq_types_numeric, err));
    mq_tensor shape;
    MQ_TRY(mq_broadcast_shape(n, in, n->n_in, &shape, err));
    mq_set_out(out[0], in[0]->dtype, shape.rank, shape.dims);
    return MQ_OK;
}

static mq_status var_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                           mq_kcall *kc, mq_err *err, const var_desc *d)
{
    kc->kernel = out[0]->dtype == MQ_F32 ? "variadic_f32" : "ew_variadic_any";
    kc->p[0] = d->op;
    kc->n_p = 1;
    return ew_lower_bc(n, out[0], in, n->n_in, kc, err);
}

#define EW_VAR(name, type, opcode)                                                          \
    static const var_desc name##_desc = {opcode};                                           \
    static mq_status name##_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, \
                                  mq_err *err)                                                     \
    {                                                                                              \
        return var_infer(n, in, out, err, &name##_desc);                                           \
    }                                                                                              \
    static mq_status name##_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, \
                                  mq_kcall *kc, mq_err *err)                                       \
    {                                                                                              \
        return var_lower(n, in, out, kc, err, &name##_desc);                                       \
    }                                                                                              \
    static const mq_op_def name##_def = {.op_type = type, .domain = "", .since = 1, .until = 0,    \
                                         .min_in = 1, .max_in = -1, .min_out = 1, .max_out = 1,     \
                                         .infer = name##_infer, .forward = mq_forward_lowered, .inplace_in = 3u, \
                                         .lower = name##_lower};

/* Opset 1-7 required equal shapes; broadcasting them anyway accepts a superset. */
EW_VAR(max, "Max", MQK_V_MAX)
EW_VAR(min, "Min", MQK_V_MIN)
EW_VAR(sum, "Sum", MQK_V_SUM)
EW_VAR(mean, "Mean", MQK_V_MEAN)

/* ---- Where --------------------------------------------------------------------------------------- */

static mq_status where_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 3; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_bool, err));
    MQ_TRY(mq_require_dtype(n, in[1], mq_types_all, err));
    if (in[1]->dtype != in[2]->dtype)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "X and Y dtypes differ: %s and %s", mq_dtype_name(in[1]->dtype),
                            mq_dtype_name(in[2]->dtype));
    mq_tensor shape;
    MQ_TRY(mq_broadcast_shape(n, in, 3, &shape, err));
    mq_set_out(out[0], in[1]->dtype, shape.rank, shape.dims);
    return MQ_OK;
}

static mq_status where_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    kc->kernel = "ew_where";
    kc->n_p = 0;
    return ew_lower_bc(n, out[0], in, 3, kc, err);
}

static const mq_op_def where_def = {.op_type = "Where", .domain = "", .since = 9, .until = 0, .min_in = 3,
                                    .max_in = 3, .min_out = 1, .max_out = 1, .infer = where_infer,
                                    .forward = mq_forward_lowered, .inplace_in = 6u, .lower = where_lower};

/* ---- the family table ---------------------------------------------------------------------------- */

const mq_op_def *const mq_ops_elementwise[] = {
    &add_def, &sub_def, &mul_def, &div_def, &pow_def, &mod_def, &bitshift_def, &and_def, &or_def, &xor_def,
    &equal_def, &less_def, &lessorequal_def, &greater_def, &greaterorequal_def, &prelu_def,
    &max_def, &min_def, &sum_def, &mean_def, &where_def,
#define X(name) &ew_def_##name,
    EW_UNARY_DEFS(X)
#undef X
    NULL};
