/* elementwise_impl.h: internals shared by the ops/elementwise*.c files: the broadcasting iterator
 * (collapsed strides, no per-element division), type-generic scalar helpers and the op definitions. */
#ifndef MQ_OPS_ELEMENTWISE_IMPL_H
#define MQ_OPS_ELEMENTWISE_IMPL_H

#include "ops/util.h"

#include <stdint.h>

/* Up to three inputs broadcast to one output. same: every input has the output's element count, so
 * one flat loop serves. Otherwise dims/strides are collapsed (size-1 dims dropped, contiguous runs
 * merged) and the innermost dim is a strided loop. */
typedef struct ew_iter {
    int64_t n;
    int same;
    int rank;
    int64_t dims[MQ_MAX_RANK];
    int64_t st[3][MQ_MAX_RANK];
} ew_iter;

/* ins[i] may be NULL (stride 0); shapes must broadcast to out's shape (checked by inference). */
void ew_iter_init(ew_iter *it, const mq_tensor *out, const mq_tensor *const *ins, int k);

/* Run the statement (__VA_ARGS__) for every output element; it sees io (output offset) and i0, i1, i2
 * (input offsets). */
#define EW_FOR(itp, ...)                                                                           \
    do {                                                                                           \
        const ew_iter *it_ = (itp);                                                                \
        if (it_->same) {                                                                           \
            for (int64_t io = 0; io < it_->n; io++) {                                              \
                const int64_t i0 = io, i1 = io, i2 = io;                                           \
                (void)i0, (void)i1, (void)i2;                                                      \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
        } else if (it_->n > 0) {                                                                   \
            const int r_ = it_->rank - 1;                                                          \
            const int64_t in_ = it_->dims[r_], s0_ = it_->st[0][r_], s1_ = it_->st[1][r_],         \
                          s2_ = it_->st[2][r_];                                                    \
            int64_t idx_[MQ_MAX_RANK] = {0}, o0_ = 0, o1_ = 0, o2_ = 0, ob_ = 0;                   \
            for (;;) {                                                                             \
                for (int64_t j_ = 0; j_ < in_; j_++) {                                             \
                    const int64_t io = ob_ + j_, i0 = o0_ + j_ * s0_, i1 = o1_ + j_ * s1_,         \
                                  i2 = o2_ + j_ * s2_;                                             \
                    (void)i0, (void)i1, (void)i2;                                                  \
                    __VA_ARGS__;                                                                   \
                }                                                                                  \
                ob_ += in_;                                                                        \
                int d_ = r_ - 1;                                                                   \
                for (; d_ >= 0; d_--) {                                                            \
                    o0_ += it_->st[0][d_];                                                         \
                    o1_ += it_->st[1][d_];                                                         \
                    o2_ += it_->st[2][d_];                                                         \
                    if (++idx_[d_] < it_->dims[d_]) break;                                         \
                    idx_[d_] = 0;                                                                  \
                    o0_ -= it_->st[0][d_] * it_->dims[d_];                                         \
                    o1_ -= it_->st[1][d_] * it_->dims[d_];                                         \
                    o2_ -= it_->st[2][d_] * it_->dims[d_];                                         \
                }                                                                                  \
                if (d_ < 0) break;                                                                 \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Compile-time kind of an mq_dtype constant (folded inside X-macro bodies). */
#define EW_ISF(e) ((e) == MQ_F32 || (e) == MQ_F64)
#define EW_SIGNED(e) ((e) == MQ_I8 || (e) == MQ_I16 || (e) == MQ_I32 || (e) == MQ_I64)

/* Pick the float / double / signed (int64) / unsigned (uint64) variant of a helper family by the C
 * type of x: EW_KIND(x, ew_add)(a, b). Integer helpers wrap (two's complement) instead of overflowing. */
#define EW_KIND(x, fn)                                                                             \
    _Generic((x), float: fn##_f, double: fn##_d, uint8_t: fn##_u, uint16_t: fn##_u,                \
             uint32_t: fn##_u, uint64_t: fn##_u, default: fn##_i)

/* double -> int64 without undefined behaviour: NaN gives 0, out of range saturates. */
static inline int64_t ew_d2i64(double v)
{
    if (!(v == v)) return 0;
    if (v >= 9223372036854775807.0) return INT64_MAX;
    if (v <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}
static inline uint64_t ew_d2u64(double v)
{
    if (!(v == v)) return 0;
    if (v >= 18446744073709551615.0) return UINT64_MAX;
    if (v >= 9223372036854775808.0) return (uint64_t)v;
    return (uint64_t)ew_d2i64(v); /* negative values wrap as through int64 */
}
/* double -> element type c of dtype e (float types: plain cast; bool: != 0; ints: via the above). */
#define EW_FROM_D(e, c, v)                                                                         \
    ((e) == MQ_BOOL ? (c)((v) != 0)                                                                \
     : EW_ISF(e)    ? (c)(v)                                                                       \
     : (e) == MQ_U64 ? (c)ew_d2u64(v)                                                              \
                     : (c)ew_d2i64(v))

/* is x < 0, without "always false" warnings for unsigned types */
static inline int ew_lt0_f(float x) { return x < 0; }
static inline int ew_lt0_d(double x) { return x < 0; }
static inline int ew_lt0_i(int64_t x) { return x < 0; }
static inline int ew_lt0_u(uint64_t x) { (void)x; return 0; }
#define EW_LT0(x) EW_KIND(x, ew_lt0)(x)

/* Op definitions living in elementwise_unary.c, listed in mq_ops_elementwise (elementwise.c). */
#define EW_UNARY_DEFS(X)                                                                           \
    X(abs) X(neg) X(sign) X(reciprocal) X(floor) X(ceil) X(round) X(sqrt) X(exp) X(log) X(sin)       \
    X(cos) X(tan) X(asin) X(acos) X(atan) X(sinh) X(cosh) X(asinh) X(acosh) X(atanh) X(erf) X(not)  \
    X(isnan) X(isinf) X(relu) X(leakyrelu) X(elu) X(selu) X(celu) X(thresholdedrelu) X(sigmoid)     \
    X(hardsigmoid) X(hardswish) X(softplus) X(softsign) X(tanh) X(identity) X(clip) X(cast)         \
    X(castlike) X(shrink) X(dropout)
#define X(name) extern const mq_op_def ew_def_##name;
EW_UNARY_DEFS(X)
#undef X

#endif
