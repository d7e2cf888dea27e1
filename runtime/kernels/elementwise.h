/* elementwise.h: the elementwise kernels' parameter layouts, op codes and the broadcasting driver
 * they share (static inline, so each kernel file stands alone when the emitter copies it). */
#ifndef MQK_ELEMENTWISE_H
#define MQK_ELEMENTWISE_H

#include "runtime/mqr_kernel.h"

/* ---- parameter layouts ---------------------------------------------------------------------------
 *
 * Broadcast block "BC(k)" (written by the host's lower; k inputs broadcast to the contiguous output):
 *   b[0] = r (1..MQR_MAX_RANK), b[1..r] = collapsed output dims (size-1 dims dropped, runs that are
 *   contiguous in every input merged; an empty output is r = 1, dims {0}), then for input j = 0..k-1
 *   its r element strides b[1 + r*(1+j) .. r*(2+j)] (0 along broadcast dims). Same shapes: r = 1.
 *
 * Binary kernels, inputs A, B, output O (same dtype unless said):
 *   add_f32 sub_f32 mul_f32 div_f32 prelu_f32 pow_f32 : p = BC(2)
 *   compare_f32  : p[0] = MQK_B_EQ..MQK_B_GE, p[1..] = BC(2); O is bool
 *   logic_bool   : p[0] = MQK_B_AND / MQK_B_OR / MQK_B_XOR, p[1..] = BC(2); bool inputs and output
 *   ew_binary_any: p[0] = MQK_B_* (any op, any dtype; comparisons give bool), p[1..] = BC(2)
 *   ew_pow_mixed : p = BC(2); A is float32/float64/int32/int64, B any numeric dtype
 *   ew_where     : p = BC(3); inputs condition (bool), X, Y; moves elements of X's size
 * Variadic (Max / Min / Sum / Mean over c->n_in inputs):
 *   variadic_f32, ew_variadic_any: p[0] = MQK_V_*, p[1..] = BC(n_in)
 * Unary kernels (no broadcasting; O has the input's element count):
 *   <op>_f32 (abs_f32 ... tanh_f32, see list_elementwise.h): p[0] = alpha, p[1] = beta, p[2] = gamma,
 *     p[3] = lambd, p[4] = bias (float bits; only the op's own attributes are read)
 *   ew_unary_any : p[0] = MQK_U_*, p[1..5] as above; float64 and integer inputs
 *   not_bool     : no parameters.   ew_isnan: no parameters (float32/float64 in, bool out)
 *   ew_isinf     : p[0] = detect_negative, p[1] = detect_positive (float32/float64 in, bool out)
 *   clip_f32     : p[0] = min, p[1] = max (float bits; -inf/+inf when absent); optional inputs
 *                  in[1] / in[2] (scalars, when present) replace them
 *   ew_clip_any  : p[0] = has min, p[1] = min, p[2] = has max, p[3] = max (float bits, from the old
 *                  attributes); optional inputs in[1] / in[2] replace them
 *   ew_cast      : p[0] = MQK_CAST_* rounding of a float32 result (to float16 / bfloat16 precision);
 *                  converts in[0]'s dtype to out[0]'s
 *   ew_copy      : no parameters (Identity: any dtype; out may be in)
 *   ew_dropout   : no parameters; out[0] = in[0], optional out[1] (mask, bool or the float dtype) = 1
 */

enum { /* binary op codes */
    MQK_B_ADD, MQK_B_SUB, MQK_B_MUL, MQK_B_DIV, MQK_B_FMOD, MQK_B_IMOD, MQK_B_MAX, MQK_B_MIN, MQK_B_PRELU,
    MQK_B_SHL, MQK_B_SHR, MQK_B_AND, MQK_B_OR, MQK_B_XOR, MQK_B_POW,
    MQK_B_EQ, MQK_B_LT, MQK_B_LE, MQK_B_GT, MQK_B_GE /* bool output */
};
enum { MQK_V_MAX, MQK_V_MIN, MQK_V_SUM, MQK_V_MEAN }; /* variadic op codes */
enum { /* unary op codes */
    MQK_U_ABS, MQK_U_NEG, MQK_U_SIGN, MQK_U_RECIP, MQK_U_FLOOR, MQK_U_CEIL, MQK_U_ROUND, MQK_U_SQRT,
    MQK_U_EXP, MQK_U_LOG, MQK_U_SIN, MQK_U_COS, MQK_U_TAN, MQK_U_ASIN, MQK_U_ACOS, MQK_U_ATAN, MQK_U_SINH,
    MQK_U_COSH, MQK_U_ASINH, MQK_U_ACOSH, MQK_U_ATANH, MQK_U_ERF, MQK_U_RELU, MQK_U_LEAKY, MQK_U_ELU,
    MQK_U_SELU, MQK_U_CELU, MQK_U_THRELU, MQK_U_SIGMOID, MQK_U_HSIGMOID, MQK_U_HSWISH, MQK_U_SOFTPLUS,
    MQK_U_SOFTSIGN, MQK_U_TANH, MQK_U_SHRINK
};
enum { MQK_CAST_PLAIN, MQK_CAST_F16, MQK_CAST_BF16 };

/* bytes per element of a runtime dtype */
static inline size_t mqk_ew_esize(int32_t dt)
{
    switch (dt) {
    case MQR_U8: case MQR_I8: case MQR_BOOL: return 1;
    case MQR_U16: case MQR_I16: return 2;
    case MQR_F32: case MQR_I32: case MQR_U32: return 4;
    default: return 8;
    }
}

/* A row of n output elements: input j starts at in[j] and advances by st[j] elements per element. */
typedef void (*mqk_ew_row_fn)(int32_t n, const void *const *in, const int32_t *st, void *out, const void *ctx);

/* Walks the collapsed output (rank r, dims) and calls row for each innermost row; input j has strides
 * st[j][0..r-1] and element size es[j]; the output (element size eo) is contiguous. */
static inline void mqk_ew_drive(int32_t r, const int32_t *dims, int k, const void *const *in,
                                const int32_t *const *st, const size_t *es, void *out, size_t eo,
                                mqk_ew_row_fn row, const void *ctx)
{
    int32_t idx[MQR_MAX_RANK], off[3] = {0, 0, 0}, inner[3] = {0, 0, 0}, n = dims[r - 1], oo = 0;
    const void *ptr[3];
    int d, j;
    for (d = 0; d < r; d++) idx[d] = 0;
    for (j = 0; j < k; j++) inner[j] = st[j][r - 1];
    for (;;) {
        for (j = 0; j < k; j++) ptr[j] = (const char *)in[j] + (size_t)off[j] * es[j];
        row(n, ptr, inner, (char *)out + (size_t)oo * eo, ctx);
        oo += n;
        for (d = r - 2; d >= 0; d--) {
            for (j = 0; j < k; j++) off[j] += st[j][d];
            if (++idx[d] < dims[d]) break;
            idx[d] = 0;
            for (j = 0; j < k; j++) off[j] -= st[j][d] * dims[d];
        }
        if (d < 0) break;
    }
}

/* Runs a kernel of k (2 or 3) broadcast inputs c->in[first..first+k-1] described by the BC(k) block bc. */
static inline void mqk_ew_bcast(const mqr_call *c, const int32_t *bc, int k, mqk_ew_row_fn row, const void *ctx)
{
    const int32_t r = bc[0];
    const void *in[3];
    const int32_t *st[3];
    size_t es[3];
    int j;
    for (j = 0; j < k; j++) {
        in[j] = c->in[j].data;
        st[j] = bc + 1 + r * (1 + j);
        es[j] = mqk_ew_esize(c->in[j].dtype);
    }
    mqk_ew_drive(r, bc + 1, k, in, st, es, c->out[0].data, mqk_ew_esize(c->out[0].dtype), row, ctx);
}

/* for (i < n) dst[i] = EXPR(V = src[i]), 4 loads before 4 stores (dst may be src: in place stays exact;
 * the compiler's basic-block vectorizer packs the four). Needs int32_t i in scope. Builds for size
 * (-Os, e.g. microcontrollers) get the plain loop. */
#ifndef __OPTIMIZE_SIZE__
#define MQK_EW_MAP4(n, src, TS, dst, TO, V, EXPR)                                                      \
    for (i = 0; i + 4 <= (n); i += 4) {                                                            \
        const TS s0_ = (src)[i], s1_ = (src)[i + 1], s2_ = (src)[i + 2], s3_ = (src)[i + 3];       \
        TO r0_, r1_, r2_, r3_;                                                                     \
        { const TS V = s0_; r0_ = (TO)(EXPR); }                                                    \
        { const TS V = s1_; r1_ = (TO)(EXPR); }                                                    \
        { const TS V = s2_; r2_ = (TO)(EXPR); }                                                    \
        { const TS V = s3_; r3_ = (TO)(EXPR); }                                                    \
        (dst)[i] = r0_, (dst)[i + 1] = r1_, (dst)[i + 2] = r2_, (dst)[i + 3] = r3_;                \
    }                                                                                              \
    for (; i < (n); i++) {                                                                         \
        const TS V = (src)[i];                                                                     \
        (dst)[i] = (TO)(EXPR);                                                                     \
    }
/* the two-input form: 4 pairs of loads then 4 stores, leaving i at the tail for the caller's loop */
#define MQK_EW_ZIP4(n, a, b, T, o, TO, EXPR)                                                       \
    for (i = 0; i + 4 <= (n); i += 4) {                                                            \
        const T a0_ = (a)[i], a1_ = (a)[i + 1], a2_ = (a)[i + 2], a3_ = (a)[i + 3];               \
        const T b0_ = (b)[i], b1_ = (b)[i + 1], b2_ = (b)[i + 2], b3_ = (b)[i + 3];               \
        TO r0_, r1_, r2_, r3_;                                                                     \
        { const T x = a0_, y = b0_; r0_ = (TO)(EXPR); }                                            \
        { const T x = a1_, y = b1_; r1_ = (TO)(EXPR); }                                            \
        { const T x = a2_, y = b2_; r2_ = (TO)(EXPR); }                                            \
        { const T x = a3_, y = b3_; r3_ = (TO)(EXPR); }                                            \
        (o)[i] = r0_, (o)[i + 1] = r1_, (o)[i + 2] = r2_, (o)[i + 3] = r3_;                        \
    }
#else
#define MQK_EW_ZIP4(n, a, b, T, o, TO, EXPR) i = 0;
#define MQK_EW_MAP4(n, src, TS, dst, TO, V, EXPR)                                                  \
    for (i = 0; i < (n); i++) {                                                                    \
        const TS V = (src)[i];                                                                     \
        (dst)[i] = (TO)(EXPR);                                                                     \
    }
#endif

/* A row function `name` computing O = EXPR(x, y) for element type T (TO for the output), with
 * contiguous and scalar-operand cases split out so the compiler can vectorize them. */
#define MQK_EW_ROW2(name, T, TO, EXPR)                                                             \
    static void name(int32_t n, const void *const *in, const int32_t *st, void *out, const void *ctx) \
    {                                                                                              \
        const T *a = (const T *)in[0], *b = (const T *)in[1];                                      \
        TO *o = (TO *)out;                                                                         \
        const int32_t sa = st[0], sb = st[1];                                                      \
        int32_t i;                                                                                 \
        (void)ctx;                                                                                 \
        if (sa == 1 && sb == 1) {                                                                  \
            MQK_EW_ZIP4(n, a, b, T, o, TO, EXPR)                                                   \
            for (; i < n; i++) {                                                                   \
                const T x = a[i], y = b[i];                                                        \
                o[i] = (TO)(EXPR);                                                                 \
            }                                                                                      \
        } else if (sa == 1 && sb == 0) {                                                           \
            const T y = b[0];                                                                      \
            MQK_EW_MAP4(n, a, T, o, TO, x, EXPR)                                                      \
        } else if (sa == 0 && sb == 1) {                                                           \
            const T x = a[0];                                                                      \
            MQK_EW_MAP4(n, b, T, o, TO, y, EXPR)                                                      \
        } else {                                                                                   \
            for (i = 0; i < n; i++) {                                                              \
                const T x = a[(size_t)i * sa], y = b[(size_t)i * sb];                              \
                o[i] = (TO)(EXPR);                                                                 \
            }                                                                                      \
        }                                                                                          \
    }

#endif
