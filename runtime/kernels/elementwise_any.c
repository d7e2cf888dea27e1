/* elementwise_any.c: dtype-generic elementwise kernels (float64, integers, bool, and float32 ops
 * without a float32 kernel): values are widened a chunk at a time (elementwise_wide.h). */
#include "runtime/kernels/elementwise_check.h"
#include "runtime/kernels/elementwise_wide.h"

#include <math.h>

typedef struct ewa_ctx {
    int32_t op, dta, dtb, dto;
} ewa_ctx;

/* ---- binary -------------------------------------------------------------------------------------- */

static int64_t ewa_pow_i(int64_t a, int64_t b)
{
    uint64_t r = 1, x = (uint64_t)a, e;
    if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
    for (e = (uint64_t)b; e; e >>= 1, x *= x)
        if (e & 1) r *= x;
    return (int64_t)r;
}
static uint64_t ewa_pow_u(uint64_t a, uint64_t b)
{
    uint64_t r = 1, x = a, e;
    for (e = b; e; e >>= 1, x *= x)
        if (e & 1) r *= x;
    return r;
}

#define EWA_LOOP(EXPR)                                                                             \
    for (i = 0; i < m; i++) {                                                                      \
        const T x = A[i], y = B[i];                                                                \
        (void)y;                                                                                   \
        R[i] = (EXPR);                                                                             \
    }                                                                                              \
    break;
#define EWA_CMP(R)                                                                                 \
    case MQK_B_EQ: EWA_LOOP(x == y) case MQK_B_LT: EWA_LOOP(x < y) case MQK_B_LE: EWA_LOOP(x <= y)     \
    case MQK_B_GT: EWA_LOOP(x > y) case MQK_B_GE: EWA_LOOP(x >= y)
#define EWA_LOGIC                                                                                  \
    case MQK_B_AND: EWA_LOOP(x != 0 && y != 0) case MQK_B_OR: EWA_LOOP(x != 0 || y != 0)             \
    case MQK_B_XOR: EWA_LOOP((x != 0) != (y != 0))

/* r = a (op) b over m values of class cls; comparisons write 0/1 into r->i. Integer division by zero
 * gives 0 (the host refuses it before running). */
static void ewa_binop(int op, int cls, const mqk_ew_wide *a, const mqk_ew_wide *b, mqk_ew_wide *r, int32_t m)
{
    int32_t i;
    if (op >= MQK_B_EQ) {
        int64_t *R = r->i;
        if (cls == MQK_W_F) {
            typedef double T;
            const T *A = a->d, *B = b->d;
            switch (op) { EWA_CMP(R) default: break; }
        } else if (cls == MQK_W_U) {
            typedef uint64_t T;
            const T *A = a->u, *B = b->u;
            switch (op) { EWA_CMP(R) default: break; }
        } else {
            typedef int64_t T;
            const T *A = a->i, *B = b->i;
            switch (op) { EWA_CMP(R) default: break; }
        }
    } else if (cls == MQK_W_F) {
        typedef double T;
        const T *A = a->d, *B = b->d;
        T *R = r->d;
        switch (op) {
        case MQK_B_ADD: EWA_LOOP(x + y)
        case MQK_B_SUB: EWA_LOOP(x - y)
        case MQK_B_MUL: EWA_LOOP(x * y)
        case MQK_B_DIV: EWA_LOOP(x / y)
        case MQK_B_FMOD: case MQK_B_IMOD: EWA_LOOP(fmod(x, y))
        case MQK_B_MAX: EWA_LOOP((x > y || x != x) ? x : y)
        case MQK_B_MIN: EWA_LOOP((x < y || x != x) ? x : y)
        case MQK_B_PRELU: EWA_LOOP(x < 0 ? x * y : x)
        case MQK_B_POW: EWA_LOOP(pow(x, y))
        EWA_LOGIC
        default: EWA_LOOP(x) /* BitShift is unsigned only */
        }
    } else if (cls == MQK_W_U) {
        typedef uint64_t T;
        const T *A = a->u, *B = b->u;
        T *R = r->u;
        switch (op) {
        case MQK_B_ADD: EWA_LOOP(x + y)
        case MQK_B_SUB: EWA_LOOP(x - y)
        case MQK_B_MUL: EWA_LOOP(x * y)
        case MQK_B_DIV: EWA_LOOP(y == 0 ? 0 : x / y)
        case MQK_B_FMOD: case MQK_B_IMOD: EWA_LOOP(y == 0 ? 0 : x % y)
        case MQK_B_MAX: EWA_LOOP(x > y ? x : y)
        case MQK_B_MIN: EWA_LOOP(x < y ? x : y)
        case MQK_B_SHL: EWA_LOOP(y >= 64 ? 0 : x << y)
        case MQK_B_SHR: EWA_LOOP(y >= 64 ? 0 : x >> y)
        case MQK_B_POW: EWA_LOOP(ewa_pow_u(x, y))
        EWA_LOGIC
        default: EWA_LOOP(x) /* PRelu of unsigned values: x is never negative */
        }
    } else {
        typedef int64_t T;
        const T *A = a->i, *B = b->i;
        T *R = r->i;
        switch (op) { /* wrapping (two's complement) arithmetic, no overflow */
        case MQK_B_ADD: EWA_LOOP((T)((uint64_t)x + (uint64_t)y))
        case MQK_B_SUB: EWA_LOOP((T)((uint64_t)x - (uint64_t)y))
        case MQK_B_MUL: EWA_LOOP((T)((uint64_t)x * (uint64_t)y))
        case MQK_B_DIV: EWA_LOOP(y == 0 ? 0 : y == -1 ? (T)(0 - (uint64_t)x) : x / y) /* truncates toward 0 */
        case MQK_B_FMOD: EWA_LOOP(y == 0 || y == -1 ? 0 : x % y) /* sign of the dividend */
        case MQK_B_IMOD: /* sign of the divisor */
            EWA_LOOP(y == 0 || y == -1 ? 0 : (x % y != 0 && ((x % y < 0) != (y < 0))) ? x % y + y : x % y)
        case MQK_B_MAX: EWA_LOOP(x > y ? x : y)
        case MQK_B_MIN: EWA_LOOP(x < y ? x : y)
        case MQK_B_PRELU: EWA_LOOP(x < 0 ? (T)((uint64_t)x * (uint64_t)y) : x)
        case MQK_B_POW: EWA_LOOP(ewa_pow_i(x, y))
        EWA_LOGIC
        default: EWA_LOOP(x)
        }
    }
}

static void ewa_binary_row(int32_t n, const void *const *in, const int32_t *st, void *out, const void *ctx)
{
    const ewa_ctx *x = (const ewa_ctx *)ctx;
    const int cls = mqk_ew_class(x->dta);
    const size_t ea = mqk_ew_esize(x->dta), eb = mqk_ew_esize(x->dtb), eo = mqk_ew_esize(x->dto);
    mqk_ew_wide a, b, r;
    int32_t base, m;
    for (base = 0; base < n; base += m) {
        m = n - base < MQK_EW_CHUNK ? n - base : MQK_EW_CHUNK;
        mqk_ew_load(x->dta, (const char *)in[0] + (size_t)base * (size_t)st[0] * ea, st[0], m, &a);
        mqk_ew_load(x->dtb, (const char *)in[1] + (size_t)base * (size_t)st[1] * eb, st[1], m, &b);
        ewa_binop(x->op, cls, &a, &b, &r, m);
        mqk_ew_store(x->dto, x->op >= MQK_B_EQ ? MQK_W_I : cls, &r, m, (char *)out + (size_t)base * eo);
    }
}

void mqk_k_ew_binary_any(const mqr_call *c)
{
    ewa_ctx x;
    x.op = c->p[0], x.dta = c->in[0].dtype, x.dtb = c->in[1].dtype, x.dto = c->out[0].dtype;
    mqk_ew_bcast(c, c->p + 1, 2, ewa_binary_row, &x);
}

/* Pow with an exponent dtype other than the base's: integer base and exponent in int64, else double. */
static void ewa_pow_row(int32_t n, const void *const *in, const int32_t *st, void *out, const void *ctx)
{
    const ewa_ctx *x = (const ewa_ctx *)ctx;
    const int ca = mqk_ew_class(x->dta), cb = mqk_ew_class(x->dtb);
    const int int_exp = ca != MQK_W_F && cb != MQK_W_F;
    const size_t ea = mqk_ew_esize(x->dta), eb = mqk_ew_esize(x->dtb);
    mqk_ew_wide a, b;
    int32_t base, m, i;
    for (base = 0; base < n; base += m) {
        m = n - base < MQK_EW_CHUNK ? n - base : MQK_EW_CHUNK;
        mqk_ew_load(x->dta, (const char *)in[0] + (size_t)base * (size_t)st[0] * ea, st[0], m, &a);
        mqk_ew_load(x->dtb, (const char *)in[1] + (size_t)base * (size_t)st[1] * eb, st[1], m, &b);
        if (int_exp) { /* the base is int32/int64; an unsigned exponent is read as int64 */
            if (cb == MQK_W_U)
                for (i = 0; i < m; i++) b.i[i] = (int64_t)b.u[i];
            for (i = 0; i < m; i++) a.i[i] = ewa_pow_i(a.i[i], b.i[i]);
            mqk_ew_store(x->dta, MQK_W_I, &a, m, (char *)out + (size_t)base * ea);
        } else {
            mqk_ew_to_double(ca, m, &a);
            mqk_ew_to_double(cb, m, &b);
            for (i = 0; i < m; i++) a.d[i] = pow(a.d[i], b.d[i]);
            mqk_ew_store(x->dta, MQK_W_F, &a, m, (char *)out + (size_t)base * ea);
        }
    }
}

void mqk_k_ew_pow_mixed(const mqr_call *c)
{
    ewa_ctx x;
    x.op = MQK_B_POW, x.dta = c->in[0].dtype, x.dtb = c->in[1].dtype, x.dto = c->out[0].dtype;
    mqk_ew_bcast(c, c->p, 2, ewa_pow_row, &x);
}

/* ---- variadic Max / Min / Sum / Mean ------------------------------------------------------------- */

void mqk_k_ew_variadic_any(const mqr_call *c)
{
    const int32_t op = c->p[0], *bc = c->p + 1, r = bc[0], *dims = bc + 1;
    const int32_t k = c->n_in, n = mqr_numel(&c->out[0]), dt = c->out[0].dtype;
    const size_t e = mqk_ew_esize(dt), es[2] = {e, e};
    void *y = c->out[0].data;
    int32_t so[MQR_MAX_RANK], i, d;
    ewa_ctx x;
    x.op = op == MQK_V_MAX ? MQK_B_MAX : op == MQK_V_MIN ? MQK_B_MIN : MQK_B_ADD;
    x.dta = x.dtb = x.dto = dt;
    if (k == 1) {
        if (y != c->in[0].data) memcpy(y, c->in[0].data, (size_t)n * e);
    } else {
        const void *in[2];
        const int32_t *st[2];
        in[0] = c->in[0].data, in[1] = c->in[1].data;
        st[0] = bc + 1 + r, st[1] = bc + 1 + 2 * r;
        mqk_ew_drive(r, dims, 2, in, st, es, y, e, ewa_binary_row, &x);
        so[r - 1] = 1;
        for (d = r - 2; d >= 0; d--) so[d] = so[d + 1] * dims[d + 1];
        for (i = 2; i < k; i++) {
            in[0] = y, in[1] = c->in[i].data;
            st[0] = so, st[1] = bc + 1 + r * (1 + i);
            mqk_ew_drive(r, dims, 2, in, st, es, y, e, ewa_binary_row, &x);
        }
    }
    if (op == MQK_V_MEAN) { /* float types only */
        if (dt == MQR_F64)
            for (i = 0; i < n; i++) ((double *)y)[i] /= (double)k;
        else
            for (i = 0; i < n; i++) ((float *)y)[i] *= 1.0f / (float)k;
    }
}

/* ---- unary --------------------------------------------------------------------------------------- */

static double ewa_unary_d(int op, double v, const double *q)
{
    const double al = q[0], be = q[1], ga = q[2], la = q[3], bi = q[4];
    switch (op) {
    case MQK_U_ABS: return fabs(v);
    case MQK_U_NEG: return -v;
    case MQK_U_SIGN: return v > 0 ? 1 : v < 0 ? -1 : v;
    case MQK_U_RECIP: return 1 / v;
    case MQK_U_FLOOR: return floor(v);
    case MQK_U_CEIL: return ceil(v);
    case MQK_U_ROUND: return nearbyint(v);
    case MQK_U_SQRT: return sqrt(v);
    case MQK_U_EXP: return exp(v);
    case MQK_U_LOG: return log(v);
    case MQK_U_SIN: return sin(v);
    case MQK_U_COS: return cos(v);
    case MQK_U_TAN: return tan(v);
    case MQK_U_ASIN: return asin(v);
    case MQK_U_ACOS: return acos(v);
    case MQK_U_ATAN: return atan(v);
    case MQK_U_SINH: return sinh(v);
    case MQK_U_COSH: return cosh(v);
    case MQK_U_ASINH: return asinh(v);
    case MQK_U_ACOSH: return acosh(v);
    case MQK_U_ATANH: return atanh(v);
    case MQK_U_ERF: return erf(v);
    case MQK_U_TANH: return tanh(v);
    case MQK_U_RELU: return v < 0 ? 0 : v;
    case MQK_U_LEAKY: return v < 0 ? al * v : v;
    case MQK_U_ELU: return v < 0 ? al * expm1(v) : v;
    case MQK_U_SELU: return v <= 0 ? ga * (al * exp(v) - al) : ga * v;
    case MQK_U_CELU: return (v > 0 ? v : 0) + (v < 0 ? al * expm1(v / al) : 0);
    case MQK_U_THRELU: return v > al ? v : 0;
    case MQK_U_SIGMOID: return v >= 0 ? 1 / (1 + exp(-v)) : exp(v) / (1 + exp(v));
    case MQK_U_HSIGMOID: return fmax(0, fmin(1, al * v + be));
    case MQK_U_HSWISH: return v * fmax(0, fmin(1, (1.0 / 6.0) * v + 0.5));
    case MQK_U_SOFTPLUS: return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v));
    case MQK_U_SOFTSIGN: return v / (1 + fabs(v));
    case MQK_U_SHRINK: return v < -la ? v + bi : v > la ? v - bi : 0;
    default: return v;
    }
}

/* float64 math; on integers Abs, Neg, Sign and Relu exactly (wrapping), Erf and Shrink through double */
void mqk_k_ew_unary_any(const mqr_call *c)
{
    const int32_t op = c->p[0], n = mqr_numel(&c->out[0]), dt = c->in[0].dtype;
    const int cls = mqk_ew_class(dt);
    const size_t e = mqk_ew_esize(dt);
    double q[5];
    mqk_ew_wide w;
    int32_t base, m, i;
    for (i = 0; i < 5; i++) q[i] = (double)mqr_p_f32(c->p[1 + i]);
    for (base = 0; base < n; base += m) {
        m = n - base < MQK_EW_CHUNK ? n - base : MQK_EW_CHUNK;
        mqk_ew_load(dt, (const char *)c->in[0].data + (size_t)base * e, 1, m, &w);
        if (cls == MQK_W_F || op == MQK_U_ERF || op == MQK_U_SHRINK) {
            mqk_ew_to_double(cls, m, &w);
            for (i = 0; i < m; i++) w.d[i] = ewa_unary_d(op, w.d[i], q);
            mqk_ew_store(dt, MQK_W_F, &w, m, (char *)c->out[0].data + (size_t)base * e);
            continue;
        }
        if (cls == MQK_W_I) {
            int64_t *v = w.i;
            for (i = 0; i < m; i++) {
                const int64_t s = v[i];
                v[i] = op == MQK_U_ABS    ? (s < 0 ? (int64_t)(0 - (uint64_t)s) : s)
                       : op == MQK_U_NEG  ? (int64_t)(0 - (uint64_t)s)
                       : op == MQK_U_SIGN ? (s < 0 ? -1 : s > 0)
                       : op == MQK_U_RELU ? (s < 0 ? 0 : s)
                                          : s;
            }
        } else {
            uint64_t *v = w.u;
            for (i = 0; i < m; i++)
                v[i] = op == MQK_U_NEG ? 0 - v[i] : op == MQK_U_SIGN ? (uint64_t)(v[i] > 0) : v[i];
        }
        mqk_ew_store(dt, cls, &w, m, (char *)c->out[0].data + (size_t)base * e);
    }
}

/* Clip of float64 or integer values (min > max gives max everywhere, as specified) */
void mqk_k_ew_clip_any(const mqr_call *c)
{
    const int32_t n = mqr_numel(&c->out[0]), dt = c->in[0].dtype;
    const int cls = mqk_ew_class(dt);
    const size_t e = mqk_ew_esize(dt);
    int hl = c->p[0] != 0, hh = c->p[2] != 0;
    mqk_ew_wide w, lo, hi;
    int32_t base, m, i;
    lo.d[0] = (double)mqr_p_f32(c->p[1]), hi.d[0] = (double)mqr_p_f32(c->p[3]);
    if (cls == MQK_W_I) lo.i[0] = mqk_ew_d2i64(lo.d[0]), hi.i[0] = mqk_ew_d2i64(hi.d[0]);
    if (cls == MQK_W_U) lo.u[0] = mqk_ew_d2u64(lo.d[0]), hi.u[0] = mqk_ew_d2u64(hi.d[0]);
    if (c->n_in > 1 && c->in[1].data) hl = 1, mqk_ew_load(dt, c->in[1].data, 1, 1, &lo);
    if (c->n_in > 2 && c->in[2].data) hh = 1, mqk_ew_load(dt, c->in[2].data, 1, 1, &hi);
    for (base = 0; base < n; base += m) {
        m = n - base < MQK_EW_CHUNK ? n - base : MQK_EW_CHUNK;
        mqk_ew_load(dt, (const char *)c->in[0].data + (size_t)base * e, 1, m, &w);
        for (i = 0; i < m; i++) {
            if (cls == MQK_W_F) {
                if (hl && w.d[i] < lo.d[0]) w.d[i] = lo.d[0];
                if (hh && w.d[i] > hi.d[0]) w.d[i] = hi.d[0];
            } else if (cls == MQK_W_U) {
                if (hl && w.u[i] < lo.u[0]) w.u[i] = lo.u[0];
                if (hh && w.u[i] > hi.u[0]) w.u[i] = hi.u[0];
            } else {
                if (hl && w.i[i] < lo.i[0]) w.i[i] = lo.i[0];
                if (hh && w.i[i] > hi.i[0]) w.i[i] = hi.i[0];
            }
        }
        mqk_ew_store(dt, cls, &w, m, (char *)c->out[0].data + (size_t)base * e);
    }
}

/* ---- load-time checks (MQR_CHECK_OK in runtime/mqr_kernel.h) ------------------------------------ */

/* p[0] = MQK_B_*, p[1..] = BC(2); A and B of one known dtype; O bool for comparisons, else A's dtype
 * (the row stores O's dtype, the driver advances by O's element size: either way within O) */
int mqk_c_ew_binary_any(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t dt[2];
    (void)scratch_bytes;
    if (c->n_in != 2 || c->in == NULL || c->n_p < 1 || c->p == NULL) return MQR_CHECK_BAD;
    if (c->p[0] < MQK_B_ADD || c->p[0] > MQK_B_GE || !mqk_ewc_known(c->in[0].dtype)) return MQR_CHECK_BAD;
    dt[0] = dt[1] = c->in[0].dtype;
    return mqk_ewc_bcast_call(c, 1, 2, dt, c->p[0] >= MQK_B_EQ ? MQR_BOOL : dt[0]) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* p = BC(2); A float32 / float64 / int32 / int64, B any known dtype, O of A's dtype (the row stores
 * A's dtype while the driver advances by O's element size: they must agree) */
int mqk_c_ew_pow_mixed(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t dt[2];
    (void)scratch_bytes;
    if (c->n_in != 2 || c->in == NULL) return MQR_CHECK_BAD;
    dt[0] = c->in[0].dtype, dt[1] = c->in[1].dtype;
    if ((dt[0] != MQR_F32 && dt[0] != MQR_F64 && dt[0] != MQR_I32 && dt[0] != MQR_I64) || !mqk_ewc_known(dt[1]))
        return MQR_CHECK_BAD;
    return mqk_ewc_bcast_call(c, 0, 2, dt, dt[0]) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* n_in >= 1 inputs of the output's known dtype, p[0] = MQK_V_* (Mean: float32 / float64 only, it
 * scales the output as floats), p[1..] = BC(n_in); one input is copied whole */
int mqk_c_ew_variadic_any(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t j, dt;
    int64_t n;
    (void)scratch_bytes;
    if (!mqk_ewc_counts(c, 1, MQR_MAX_PARAMS, 1) || c->n_p < 2 || c->p == NULL) return MQR_CHECK_BAD;
    dt = c->out[0].dtype;
    if (c->p[0] < MQK_V_MAX || c->p[0] > MQK_V_MEAN || !mqk_ewc_known(dt)) return MQR_CHECK_BAD;
    if (c->p[0] == MQK_V_MEAN && dt != MQR_F32 && dt != MQR_F64) return MQR_CHECK_BAD;
    n = mqk_ewc_tensor(&c->out[0], dt);
    for (j = 0; j < c->n_in; j++)
        if (mqk_ewc_tensor(&c->in[j], dt) < 0) return MQR_CHECK_BAD;
    if (n < 0 || !mqk_ewc_bcast(c, c->p + 1, c->n_p - 1, c->n_in)) return MQR_CHECK_BAD;
    if (c->n_in == 1 && mqk_ewc_numel(&c->in[0]) != n) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* p[0] = MQK_U_*, p[1..5] = alpha, beta, gamma, lambd, bias; in and out of one known dtype and count */
int mqk_c_ew_unary_any(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (c->n_in < 1 || c->in == NULL || !mqk_ewc_unary_call(c, c->in[0].dtype, c->in[0].dtype, 6, 1, 1) ||
        !mqk_ewc_known(c->in[0].dtype))
        return MQR_CHECK_BAD;
    return c->p[0] >= MQK_U_ABS && c->p[0] <= MQK_U_SHRINK ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* p[0] = has min (0/1), p[1] = min, p[2] = has max (0/1), p[3] = max; in and out of one known dtype and
 * count; optional in[1] / in[2]: omitted, or one element of that dtype (read when it has data) */
int mqk_c_ew_clip_any(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t j, dt;
    (void)scratch_bytes;
    if (c->n_in < 1 || c->in == NULL) return MQR_CHECK_BAD;
    dt = c->in[0].dtype;
    if (!mqk_ewc_known(dt) || !mqk_ewc_unary_call(c, dt, dt, 4, 1, 3)) return MQR_CHECK_BAD;
    if ((c->p[0] != 0 && c->p[0] != 1) || (c->p[2] != 0 && c->p[2] != 1)) return MQR_CHECK_BAD;
    for (j = 1; j < c->n_in; j++)
        if (!mqk_ewc_absent(&c->in[j]) && mqk_ewc_tensor(&c->in[j], dt) != 1) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
