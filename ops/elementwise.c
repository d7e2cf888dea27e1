/* elementwise.c: op family 'elementwise' (see core/op.h): the broadcasting iterator, binary and variadic
 * ops (arithmetic, Pow, Mod, BitShift, logic, comparisons, PRelu, Where, Max/Min/Sum/Mean) and the table. */
#include "ops/elementwise_impl.h"

#include <math.h>
#include <string.h>

/* ---- broadcasting iterator ------------------------------------------------------------------ */

void ew_iter_init(ew_iter *it, const mq_tensor *out, const mq_tensor *const *ins, int k)
{
    memset(it, 0, sizeof *it);
    it->n = mq_numel(out);
    it->same = 1;
    for (int i = 0; i < k; i++)
        if (ins[i] && mq_numel(ins[i]) != it->n) it->same = 0;
    if (it->same) return;
    int64_t st[3][MQ_MAX_RANK];
    for (int i = 0; i < 3; i++) {
        if (i < k && ins[i]) mq_broadcast_strides(ins[i], out->rank, out->dims, st[i]);
        else memset(st[i], 0, sizeof st[i]);
    }
    int r = 0;
    for (int d = 0; d < out->rank; d++) {
        if (out->dims[d] == 1) continue;
        if (r > 0) { /* merge with the previous kept dim when every input is contiguous across both */
            int merge = 1;
            for (int i = 0; i < 3; i++)
                if (it->st[i][r - 1] != st[i][d] * out->dims[d]) merge = 0;
            if (merge) {
                it->dims[r - 1] *= out->dims[d];
                for (int i = 0; i < 3; i++) it->st[i][r - 1] = st[i][d];
                continue;
            }
        }
        it->dims[r] = out->dims[d];
        for (int i = 0; i < 3; i++) it->st[i][r] = st[i][d];
        r++;
    }
    if (r == 0) {
        it->dims[0] = 1;
        r = 1;
    }
    it->rank = r;
}

/* ---- binary scalar helpers: _f float, _d double, _i signed (int64), _u unsigned (uint64) ------- */

#define EW_ARITH4(name, OP)                                                                        \
    static inline float name##_f(float a, float b, int *bad) { (void)bad; return a OP b; }          \
    static inline double name##_d(double a, double b, int *bad) { (void)bad; return a OP b; }       \
    static inline int64_t name##_i(int64_t a, int64_t b, int *bad)                                  \
    {                                                                                              \
        (void)bad;                                                                                 \
        return (int64_t)((uint64_t)a OP(uint64_t) b);                                              \
    }                                                                                              \
    static inline uint64_t name##_u(uint64_t a, uint64_t b, int *bad) { (void)bad; return a OP b; }
EW_ARITH4(ew_add, +)
EW_ARITH4(ew_sub, -)
EW_ARITH4(ew_mul, *)

static inline float ew_div_f(float a, float b, int *bad) { (void)bad; return a / b; }
static inline double ew_div_d(double a, double b, int *bad) { (void)bad; return a / b; }
static inline int64_t ew_div_i(int64_t a, int64_t b, int *bad)
{
    if (b == 0) return *bad = 1, 0;
    if (b == -1) return (int64_t)(0 - (uint64_t)a);
    return a / b; /* C truncates toward zero, as ONNX integer Div does */
}
static inline uint64_t ew_div_u(uint64_t a, uint64_t b, int *bad)
{
    if (b == 0) return *bad = 1, 0;
    return a / b;
}

/* Mod with fmod=1: remainder with the sign of the dividend */
static inline float ew_fmod_f(float a, float b, int *bad) { (void)bad; return fmodf(a, b); }
static inline double ew_fmod_d(double a, double b, int *bad) { (void)bad; return fmod(a, b); }
static inline int64_t ew_fmod_i(int64_t a, int64_t b, int *bad)
{
    if (b == 0) return *bad = 1, 0;
    if (b == -1) return 0;
    return a % b;
}
static inline uint64_t ew_fmod_u(uint64_t a, uint64_t b, int *bad)
{
    if (b == 0) return *bad = 1, 0;
    return a % b;
}
/* Mod with fmod=0 (integers only): remainder with the sign of the divisor */
static inline float ew_imod_f(float a, float b, int *bad) { return ew_fmod_f(a, b, bad); }
static inline double ew_imod_d(double a, double b, int *bad) { return ew_fmod_d(a, b, bad); }
static inline int64_t ew_imod_i(int64_t a, int64_t b, int *bad)
{
    int64_t r = ew_fmod_i(a, b, bad);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline uint64_t ew_imod_u(uint64_t a, uint64_t b, int *bad) { return ew_fmod_u(a, b, bad); }

/* Max/Min propagate NaN */
static inline float ew_max_f(float a, float b, int *bad) { (void)bad; return (a > b || isnan(a)) ? a : b; }
static inline double ew_max_d(double a, double b, int *bad) { (void)bad; return (a > b || isnan(a)) ? a : b; }
static inline int64_t ew_max_i(int64_t a, int64_t b, int *bad) { (void)bad; return a > b ? a : b; }
static inline uint64_t ew_max_u(uint64_t a, uint64_t b, int *bad) { (void)bad; return a > b ? a : b; }
static inline float ew_min_f(float a, float b, int *bad) { (void)bad; return (a < b || isnan(a)) ? a : b; }
static inline double ew_min_d(double a, double b, int *bad) { (void)bad; return (a < b || isnan(a)) ? a : b; }
static inline int64_t ew_min_i(int64_t a, int64_t b, int *bad) { (void)bad; return a < b ? a : b; }
static inline uint64_t ew_min_u(uint64_t a, uint64_t b, int *bad) { (void)bad; return a < b ? a : b; }

/* PRelu: x < 0 ? x * slope : x */
static inline float ew_prelu_f(float a, float b, int *bad) { (void)bad; return a < 0 ? a * b : a; }
static inline double ew_prelu_d(double a, double b, int *bad) { (void)bad; return a < 0 ? a * b : a; }
static inline int64_t ew_prelu_i(int64_t a, int64_t b, int *bad) { return a < 0 ? ew_mul_i(a, b, bad) : a; }
static inline uint64_t ew_prelu_u(uint64_t a, uint64_t b, int *bad) { (void)b, (void)bad; return a; }

/* BitShift (unsigned only; a shift by the width or more gives 0) */
static inline float ew_shl_f(float a, float b, int *bad) { (void)b, (void)bad; return a; }
static inline double ew_shl_d(double a, double b, int *bad) { (void)b, (void)bad; return a; }
static inline int64_t ew_shl_i(int64_t a, int64_t b, int *bad) { (void)b, (void)bad; return a; }
static inline uint64_t ew_shl_u(uint64_t a, uint64_t b, int *bad) { (void)bad; return b >= 64 ? 0 : a << b; }
static inline float ew_shr_f(float a, float b, int *bad) { (void)b, (void)bad; return a; }
static inline double ew_shr_d(double a, double b, int *bad) { (void)b, (void)bad; return a; }
static inline int64_t ew_shr_i(int64_t a, int64_t b, int *bad) { (void)b, (void)bad; return a; }
static inline uint64_t ew_shr_u(uint64_t a, uint64_t b, int *bad) { (void)bad; return b >= 64 ? 0 : a >> b; }

/* And / Or / Xor on bool (stored as 0/1 bytes) */
static inline float ew_and_f(float a, float b, int *bad) { (void)bad; return (float)(a != 0 && b != 0); }
static inline double ew_and_d(double a, double b, int *bad) { (void)bad; return a != 0 && b != 0; }
static inline int64_t ew_and_i(int64_t a, int64_t b, int *bad) { (void)bad; return a != 0 && b != 0; }
static inline uint64_t ew_and_u(uint64_t a, uint64_t b, int *bad) { (void)bad; return a != 0 && b != 0; }
static inline float ew_or_f(float a, float b, int *bad) { (void)bad; return (float)(a != 0 || b != 0); }
static inline double ew_or_d(double a, double b, int *bad) { (void)bad; return a != 0 || b != 0; }
static inline int64_t ew_or_i(int64_t a, int64_t b, int *bad) { (void)bad; return a != 0 || b != 0; }
static inline uint64_t ew_or_u(uint64_t a, uint64_t b, int *bad) { (void)bad; return a != 0 || b != 0; }
static inline float ew_xor_f(float a, float b, int *bad) { (void)bad; return (float)((a != 0) != (b != 0)); }
static inline double ew_xor_d(double a, double b, int *bad) { (void)bad; return (a != 0) != (b != 0); }
static inline int64_t ew_xor_i(int64_t a, int64_t b, int *bad) { (void)bad; return (a != 0) != (b != 0); }
static inline uint64_t ew_xor_u(uint64_t a, uint64_t b, int *bad) { (void)bad; return (a != 0) != (b != 0); }

/* Pow with both operands of the base type (integers: exact, wrapping; negative exponents as C's pow
 * followed by truncation would give: 0 unless the base is 1 or -1) */
static inline float ew_pow_f(float a, float b, int *bad) { (void)bad; return powf(a, b); }
static inline double ew_pow_d(double a, double b, int *bad) { (void)bad; return pow(a, b); }
static inline int64_t ew_pow_i(int64_t a, int64_t b, int *bad)
{
    (void)bad;
    if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    uint64_t r = 1, x = (uint64_t)a;
    for (uint64_t e = (uint64_t)b; e; e >>= 1, x *= x)
        if (e & 1) r *= x;
    return (int64_t)r;
}
static inline uint64_t ew_pow_u(uint64_t a, uint64_t b, int *bad)
{
    (void)bad;
    uint64_t r = 1, x = a;
    for (uint64_t e = b; e; e >>= 1, x *= x)
        if (e & 1) r *= x;
    return r;
}

/* ---- binary kernels ------------------------------------------------------------------------------ */

enum {
    B_ADD, B_SUB, B_MUL, B_DIV, B_FMOD, B_IMOD, B_MAX, B_MIN, B_PRELU, B_SHL, B_SHR, B_AND, B_OR, B_XOR,
    B_POW, /* same-type operands */
    B_EQ, B_LT, B_LE, B_GT, B_GE /* bool output */
};

#define EW_BCASE(code, fn)                                                                         \
    case code: EW_FOR(it, O[io] = (c_)EW_KIND(A[0], fn)(A[i0], B[i1], &bad)); break;
#define EW_CCASE(code, OP)                                                                         \
    case code: EW_FOR(it, Ob[io] = (uint8_t)(A[i0] OP B[i1])); break;

/* One kernel per dtype, switching on the op outside the element loop. Returns nonzero when an integer
 * division by zero was met. */
#define X(e, c)                                                                                    \
    static int bin_##e(int op, const ew_iter *it, const void *pa, const void *pb, void *po)         \
    {                                                                                              \
        typedef c c_;                                                                              \
        const c_ *A = pa, *B = pb;                                                                 \
        c_ *O = po;                                                                                \
        uint8_t *Ob = po;                                                                          \
        int bad = 0;                                                                               \
        switch (op) {                                                                              \
            EW_BCASE(B_ADD, ew_add)                                                                \
            EW_BCASE(B_SUB, ew_sub)                                                                \
            EW_BCASE(B_MUL, ew_mul)                                                                \
            EW_BCASE(B_DIV, ew_div)                                                                \
            EW_BCASE(B_FMOD, ew_fmod)                                                              \
            EW_BCASE(B_IMOD, ew_imod)                                                              \
            EW_BCASE(B_MAX, ew_max)                                                                \
            EW_BCASE(B_MIN, ew_min)                                                                \
            EW_BCASE(B_PRELU, ew_prelu)                                                            \
            EW_BCASE(B_SHL, ew_shl)                                                                \
            EW_BCASE(B_SHR, ew_shr)                                                                \
            EW_BCASE(B_AND, ew_and)                                                                \
            EW_BCASE(B_OR, ew_or)                                                                  \
            EW_BCASE(B_XOR, ew_xor)                                                                \
            EW_BCASE(B_POW, ew_pow)                                                                \
            EW_CCASE(B_EQ, ==)                                                                     \
            EW_CCASE(B_LT, <)                                                                      \
            EW_CCASE(B_LE, <=)                                                                     \
            EW_CCASE(B_GT, >)                                                                      \
            EW_CCASE(B_GE, >=)                                                                     \
        default: break;                                                                            \
        }                                                                                          \
        return bad;                                                                                \
    }
MQ_FOR_ALL_TYPES(X)
#undef X

static int bin_run(mq_dtype dt, int op, const ew_iter *it, const void *a, const void *b, void *o)
{
    switch (dt) {
#define X(e, c) case e: return bin_##e(op, it, a, b, o);
        MQ_FOR_ALL_TYPES(X)
#undef X
    default: return 0;
    }
}

/* ---- binary op descriptions ---------------------------------------------------------------------- */

static const mq_dtype types_bool[] = {MQ_BOOL, MQ_UNDEFINED};
static const mq_dtype types_uint[] = {MQ_U8, MQ_U16, MQ_U32, MQ_U64, MQ_UNDEFINED};
static const mq_dtype types_pow_base[] = {MQ_F32, MQ_F64, MQ_I32, MQ_I64, MQ_UNDEFINED};

typedef enum { K_PLAIN, K_LEGACY, K_PRELU, K_POW } bin_kind;

typedef struct bin_desc {
    int op;
    const mq_dtype *types;
    int legacy_below; /* opsets below this one use the broadcast/axis attributes (0: none) */
    int out_bool;
    bin_kind kind;
} bin_desc;

static int bin_op_of(const mq_node *n, const bin_desc *d)
{
    if (d->op == B_FMOD) return mq_attr_int(n, "fmod", 0) ? B_FMOD : B_IMOD;
    if (d->op == B_SHL) {
        const char *dir = mq_attr_str(n, "direction", "");
        return strcmp(dir, "RIGHT") == 0 ? B_SHR : B_SHL;
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
    if (d->op == B_FMOD && mq_is_float_type(a->dtype) && !mq_attr_int(n, "fmod", 0))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "fmod must be 1 for floating-point inputs");
    if (d->op == B_SHL) {
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

/* Pow with an exponent type other than the base type: the exponent is widened to double (or int64
 * for an integer base and exponent) in a temporary buffer. */
static mq_status pow_mixed(const mq_node *n, const ew_iter *it, const mq_tensor *a, const mq_tensor *b,
                           mq_tensor *o, mq_err *err)
{
    size_t k = (size_t)mq_numel(b), bytes;
    if (mq_mul_size(k, 8, &bytes)) return mq_node_fail(err, n, MQ_ERR_LIMIT, "exponent too large");
    void *buf = mq_malloc(bytes);
    if (!buf) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    int int_exp = mq_dtype_is_int(a->dtype) && mq_dtype_is_int(b->dtype);
    for (size_t i = 0; i < k; i++) {
        if (int_exp) ((int64_t *)buf)[i] = mq_load_i64(b->data, b->dtype, i);
        else ((double *)buf)[i] = mq_load_f64(b->data, b->dtype, i);
    }
    const int64_t *E = buf;
    const double *D = buf;
    int bad = 0;
    switch (a->dtype) {
#define X(e, c)                                                                                    \
    case e: {                                                                                      \
        const c *A = a->data;                                                                      \
        c *O = o->data;                                                                            \
        if (int_exp) EW_FOR(it, O[io] = (c)ew_pow_i((int64_t)A[i0], E[i1], &bad));                  \
        else EW_FOR(it, O[io] = EW_FROM_D(e, c, pow((double)A[i0], D[i1])));                        \
        break;                                                                                     \
    }
        X(MQ_F32, float) X(MQ_F64, double) X(MQ_I32, int32_t) X(MQ_I64, int64_t)
#undef X
    default: break;
    }
    mq_free(buf);
    return MQ_OK;
}

static mq_status bin_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                             const bin_desc *d)
{
    mq_tensor bv;
    MQ_TRY(bin_view(n, d, in[0], in[1], &bv, err));
    const mq_tensor *ts[2] = {in[0], &bv};
    ew_iter it;
    ew_iter_init(&it, out[0], ts, 2);
    if (d->kind == K_POW && in[0]->dtype != in[1]->dtype) return pow_mixed(n, &it, in[0], in[1], out[0], err);
    if (bin_run(in[0]->dtype, bin_op_of(n, d), &it, in[0]->data, bv.data, out[0]->data))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "integer division by zero");
    return MQ_OK;
}

#define EW_BIN(name, type, since_, opcode, types_, legacy, outb, kind_)                             \
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
    static const mq_op_def name##_def = {.op_type = type, .domain = "", .since = since_, .until = 0, \
                                         .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,      \
                                         .infer = name##_infer, .forward = name##_fwd, .inplace_in = 3u};

/* Version notes: opset 1-6 Add/Sub/Mul/Div/Pow/And/Or/Xor/Equal/Less/Greater use the 'broadcast' /
 * 'axis' attributes ('consumed_inputs' of opset 1 is ignored); later versions broadcast like numpy and
 * only widen the type lists, which are accepted for every version. */
EW_BIN(add, "Add", 1, B_ADD, mq_types_numeric, 7, 0, K_LEGACY)
EW_BIN(sub, "Sub", 1, B_SUB, mq_types_numeric, 7, 0, K_LEGACY)
EW_BIN(mul, "Mul", 1, B_MUL, mq_types_numeric, 7, 0, K_LEGACY)
EW_BIN(div, "Div", 1, B_DIV, mq_types_numeric, 7, 0, K_LEGACY)
EW_BIN(pow, "Pow", 1, B_POW, mq_types_float, 7, 0, K_POW)
EW_BIN(mod, "Mod", 10, B_FMOD, mq_types_numeric, 0, 0, K_PLAIN)
EW_BIN(bitshift, "BitShift", 11, B_SHL, types_uint, 0, 0, K_PLAIN)
EW_BIN(and, "And", 1, B_AND, types_bool, 7, 0, K_LEGACY)
EW_BIN(or, "Or", 1, B_OR, types_bool, 7, 0, K_LEGACY)
EW_BIN(xor, "Xor", 1, B_XOR, types_bool, 7, 0, K_LEGACY)
EW_BIN(equal, "Equal", 1, B_EQ, mq_types_all, 7, 1, K_LEGACY)
EW_BIN(less, "Less", 1, B_LT, mq_types_numeric, 7, 1, K_LEGACY)
EW_BIN(lessorequal, "LessOrEqual", 12, B_LE, mq_types_numeric, 0, 1, K_PLAIN)
EW_BIN(greater, "Greater", 1, B_GT, mq_types_numeric, 7, 1, K_LEGACY)
EW_BIN(greaterorequal, "GreaterOrEqual", 12, B_GE, mq_types_numeric, 0, 1, K_PLAIN)
EW_BIN(prelu, "PRelu", 1, B_PRELU, mq_types_numeric, 7, 0, K_PRELU)

/* ---- variadic Max / Min / Sum / Mean ------------------------------------------------------------- */

typedef struct var_desc {
    int op; /* B_MAX, B_MIN, B_ADD (Sum, Mean) */
    int mean;
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
    MQ_TRY(mq_require_dtype(n, in[0], d->op == B_ADD ? mq_types_float : mq_types_numeric, err));
    mq_tensor shape;
    MQ_TRY(mq_broadcast_shape(n, in, n->n_in, &shape, err));
    mq_set_out(out[0], in[0]->dtype, shape.rank, shape.dims);
    return MQ_OK;
}

static mq_status var_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err,
                             const var_desc *d)
{
    mq_tensor *o = out[0];
    ew_iter it;
    if (n->n_in == 1) {
        memcpy(o->data, in[0]->data, mq_nbytes(o));
    } else {
        const mq_tensor *ts[2] = {in[0], in[1]};
        ew_iter_init(&it, o, ts, 2);
        bin_run(o->dtype, d->op, &it, in[0]->data, in[1]->data, o->data);
        for (int i = 2; i < n->n_in; i++) {
            const mq_tensor *ts2[2] = {o, in[i]};
            ew_iter_init(&it, o, ts2, 2);
            bin_run(o->dtype, d->op, &it, o->data, in[i]->data, o->data); /* in place: same offset */
        }
    }
    if (d->mean) {
        int64_t k = mq_numel(o);
        if (o->dtype == MQ_F32) {
            float *y = o->data, s = 1.0f / (float)n->n_in;
            for (int64_t i = 0; i < k; i++) y[i] *= s;
        } else {
            double *y = o->data, s = (double)n->n_in;
            for (int64_t i = 0; i < k; i++) y[i] /= s;
        }
    }
    (void)err;
    return MQ_OK;
}

#define EW_VAR(name, type, opcode, mean_)                                                          \
    static const var_desc name##_desc = {opcode, mean_};                                           \
    static mq_status name##_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, \
                                  mq_err *err)                                                     \
    {                                                                                              \
        return var_infer(n, in, out, err, &name##_desc);                                           \
    }                                                                                              \
    static mq_status name##_fwd(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, \
                                mq_err *err)                                                       \
    {                                                                                              \
        return var_forward(n, in, out, err, &name##_desc);                                         \
    }                                                                                              \
    static const mq_op_def name##_def = {.op_type = type, .domain = "", .since = 1, .until = 0,    \
                                         .min_in = 1, .max_in = -1, .min_out = 1, .max_out = 1,     \
                                         .infer = name##_infer, .forward = name##_fwd, .inplace_in = 3u};

/* Opset 1-7 required equal shapes; broadcasting them anyway accepts a superset. */
EW_VAR(max, "Max", B_MAX, 0)
EW_VAR(min, "Min", B_MIN, 0)
EW_VAR(sum, "Sum", B_ADD, 0)
EW_VAR(mean, "Mean", B_ADD, 1)

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

static mq_status where_fwd(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)n, (void)err;
    ew_iter it;
    ew_iter_init(&it, out[0], in, 3);
    const uint8_t *C = in[0]->data;
    switch (mq_dtype_size(out[0]->dtype)) { /* selection only moves bits: one loop per element size */
#define WHERE(T)                                                                                   \
    {                                                                                              \
        const T *Xv = in[1]->data, *Yv = in[2]->data;                                              \
        T *O = out[0]->data;                                                                       \
        EW_FOR(&it, O[io] = C[i0] ? Xv[i1] : Yv[i2]);                                              \
        break;                                                                                     \
    }
    case 1: WHERE(uint8_t)
    case 2: WHERE(uint16_t)
    case 4: WHERE(uint32_t)
    case 8: WHERE(uint64_t)
#undef WHERE
    default: break;
    }
    return MQ_OK;
}

static const mq_op_def where_def = {.op_type = "Where", .domain = "", .since = 9, .until = 0, .min_in = 3,
                                    .max_in = 3, .min_out = 1, .max_out = 1, .infer = where_infer,
                                    .forward = where_fwd, .inplace_in = 6u};

/* ---- the family table ---------------------------------------------------------------------------- */

const mq_op_def *const mq_ops_elementwise[] = {
    &add_def, &sub_def, &mul_def, &div_def, &pow_def, &mod_def, &bitshift_def, &and_def, &or_def, &xor_def,
    &equal_def, &less_def, &lessorequal_def, &greater_def, &greaterorequal_def, &prelu_def,
    &max_def, &min_def, &sum_def, &mean_def, &where_def,
#define X(name) &ew_def_##name,
    EW_UNARY_DEFS(X)
#undef X
    NULL};
