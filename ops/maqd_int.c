/* maqd_int.c: op family 'maqd_int' (domain "ai.maqd"): the integer ops a MaQD model is lowered to
 * (passes/int_lower.c, docs/INTEGER.md), each run by its kernel in runtime/kernels/qint*.c. */
#include "ops/maqd.h"
#include "ops/nn_internal.h"
#include "runtime/kernels/qint.h"
#include "runtime/kernels/qint_bits.h"
#include "runtime/kernels/qint_merge.h"
#include "runtime/kernels/qint_pool.h"

#include <string.h>

static const mq_dtype types_u8[] = {MQ_U8, MQ_UNDEFINED};
static const mq_dtype types_layer_in[] = {MQ_U8, MQ_I16, MQ_I32, MQ_UNDEFINED};

/* The lowering of an op that maps to one kernel without parameters (the kernel reads everything from its
 * tensors). */
#define PLAIN_LOWER(FN, KERNEL)                                                                                   \
    static mq_status FN(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,  \
                        mq_err *err)                                                                              \
    {                                                                                                             \
        (void)n, (void)in, (void)out, (void)err;                                                                  \
        kc->kernel = KERNEL;                                                                                      \
        kc->n_p = 0;                                                                                              \
        return MQ_OK;                                                                                             \
    }

/* ---- QInput: uint8 -> int16 fixed point --------------------------------------------------------- */

static mq_status qinput_attrs(const mq_node *n, int32_t *mul, int32_t *zero, mq_err *err)
{
    int64_t m = mq_attr_int(n, "mul", 1), z = mq_attr_int(n, "zero", 0);
    if (m < 1 || m > 128 || z < 0 || z > 32768 || 255 * m - z > 32767)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "mul must be 1..128 and 255 * mul - zero within int16");
    *mul = (int32_t)m;
    *zero = (int32_t)z;
    return MQ_OK;
}

static mq_status qinput_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    int32_t m, z;
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_u8, err));
    MQ_TRY(qinput_attrs(n, &m, &z, err));
    mq_set_out(out[0], MQ_I16, in[0]->rank, in[0]->dims);
    return MQ_OK;
}

static mq_status qinput_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    (void)in;
    (void)out;
    kc->kernel = "qint_input_u8";
    kc->n_p = 2;
    return qinput_attrs(n, &kc->p[0], &kc->p[1], err);
}

static const mq_op_def op_qinput = {.op_type = "QInput", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .infer = qinput_infer,
                                    .forward = mq_forward_lowered, .lower = qinput_lower};

/* ---- QLayer: Conv / dense on integer codes --------------------------------------------------------- */

typedef struct qlayer_geom {
    int nd;             /* 0: dense */
    nn_window w;
    int64_t group, fan, out_dims[MQ_MAX_RANK];
    int64_t bits, wmul, woff, acc64, xmax;
} qlayer_geom;

/* Inputs: x codes (uint8 / int16 / int32) [N, C, spatial...] or [N, K]; w packed uint8 [O, row_bytes];
 * thresholds int32 (int64 with acc64) [O, T] (y uint8 codes) or k, b float32 [2, O] (y float32), or no
 * third input: y int32, the accumulator itself (acc64 0; a residual sum's operand, qint.h).
 * Attributes: bits, wmul, woff (the code decoding, qint.h), acc64 (0: int32 accumulator, 1: int64),
 * group, and for convolution kernel_shape, strides, pads, dilations (ONNX Conv's meaning; auto_pad too);
 * xmax (optional): every input code is in 0..xmax; for uint8 x of xbits = bits of xmax with weight codes
 * where the popcount kernel is expected to pay (mqk_qb_pays, qint_bits.h), qint_layer_b1 runs the layer
 * and reads the low xbits bits of each code. */
static mq_status qlayer_geometry(const mq_node *n, const mq_tensor *const *in, qlayer_geom *g, mq_err *err)
{
    const mq_tensor *x = in[0], *w = in[1], *t = n->n_in > 2 ? in[2] : NULL;
    memset(g, 0, sizeof *g);
    if (x->rank < 2 || x->rank > 2 + NN_MAX_SPATIAL)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "x must have rank 2 (dense) to %d", 2 + NN_MAX_SPATIAL);
    if (w->rank != 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "packed weights must have rank 2 [O, row_bytes]");
    g->nd = x->rank - 2;
    g->group = mq_attr_int(n, "group", 1);
    g->bits = mq_attr_int(n, "bits", 8);
    g->wmul = mq_attr_int(n, "wmul", 1);
    g->woff = mq_attr_int(n, "woff", 0);
    g->acc64 = mq_attr_int(n, "acc64", 0);
    g->xmax = mq_attr_int(n, "xmax", -1);
    if (g->acc64 != 0 && g->acc64 != 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "acc64 must be 0 or 1");
    if (g->bits < 1 || g->bits > (g->acc64 ? 24 : 16) || (g->wmul != 1 && g->wmul != 2) || g->woff < 0 ||
        g->woff > (g->acc64 ? (1 << 24) : 32767) || (!g->acc64 && g->wmul * ((1 << g->bits) - 1) - g->woff > 32767))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "bits (1..16, 24 with acc64), wmul (1, 2), woff must decode within int16 (int32)");
    int64_t C = x->dims[1], O = w->dims[0];
    if (g->group < 1 || C % g->group || O % g->group || (g->nd == 0 && g->group != 1))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "group %lld must divide %lld input and %lld output channels",
                            (long long)g->group, (long long)C, (long long)O);
    g->fan = C / g->group;
    g->out_dims[0] = x->dims[0];
    g->out_dims[1] = O;
    if (g->nd > 0) {
        int64_t kernel[NN_MAX_SPATIAL];
        MQ_TRY(nn_kernel_attr(n, g->nd, kernel, err));
        MQ_TRY(nn_window_forward(n, g->nd, x->dims + 2, kernel, 0, 1, &g->w, err));
        for (int i = 0; i < g->nd; i++) {
            g->fan *= kernel[i];
            g->out_dims[2 + i] = g->w.out[i];
        }
    }
    if (g->fan > INT32_MAX || w->dims[1] != (int64_t)mqk_qint_row_bytes((size_t)g->fan, (int)g->bits))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "packed weights [%lld, %lld] do not hold %lld codes of %lld bits per row",
                            (long long)w->dims[0], (long long)w->dims[1], (long long)g->fan, (long long)g->bits);
    if (!t) {
        if (g->acc64) return mq_node_fail(err, n, MQ_ERR_INVALID, "the int32 accumulator output needs acc64 0");
    } else if (t->dtype == (g->acc64 ? MQ_I64 : MQ_I32)) {
        if (t->rank != 2 || t->dims[0] != O || t->dims[1] < 1 || t->dims[1] > 255)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "thresholds must be [O, 1..255]");
    } else if (t->dtype == MQ_F32) {
        if (t->rank != 2 || t->dims[0] != 2 || t->dims[1] != O)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "the float output's k, b must be float32 [2, O]");
    } else {
        return mq_node_fail(err, n, MQ_ERR_INVALID, "input 2 must be int32 (acc64: int64) thresholds or float32 k, b");
    }
    return MQ_OK;
}

static mq_status qlayer_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < n->n_in; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_layer_in, err));
    MQ_TRY(mq_require_dtype(n, in[1], types_u8, err));
    qlayer_geom g;
    MQ_TRY(qlayer_geometry(n, in, &g, err));
    mq_set_out(out[0], n->n_in < 3 ? MQ_I32 : in[2]->dtype == MQ_F32 ? MQ_F32 : MQ_U8, in[0]->rank, g.out_dims);
    return MQ_OK;
}

static mq_status qlayer_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    (void)out;
    qlayer_geom g;
    MQ_TRY(qlayer_geometry(n, in, &g, err));
    int64_t plane = 1;
    kc->kernel = "qint_layer";
    kc->p[MQK_QL_ND] = g.nd;
    kc->p[MQK_QL_GROUP] = (int32_t)g.group;
    for (int i = 0; i < NN_MAX_SPATIAL; i++) {
        int sp = i < g.nd;
        if (sp && (g.w.pb[i] < 0 || g.w.k[i] > INT32_MAX || g.w.s[i] > INT32_MAX || g.w.d[i] > INT32_MAX ||
                   g.w.pb[i] > INT32_MAX))
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "window parameters exceed int32");
        kc->p[MQK_QL_STRIDE + i] = sp ? (int32_t)g.w.s[i] : 1;
        kc->p[MQK_QL_PAD + i] = sp ? (int32_t)g.w.pb[i] : 0;
        kc->p[MQK_QL_DIL + i] = sp ? (int32_t)g.w.d[i] : 1;
        kc->p[MQK_QL_KERNEL + i] = sp ? (int32_t)g.w.k[i] : 1;
        if (sp) plane *= g.w.out[i];
    }
    kc->p[MQK_QL_BITS] = (int32_t)g.bits;
    kc->p[MQK_QL_WMUL] = (int32_t)g.wmul;
    kc->p[MQK_QL_WOFF] = (int32_t)g.woff;
    kc->p[MQK_QL_ACC64] = (int32_t)g.acc64;
    kc->n_p = MQK_QL_NP;
    int64_t scratch = mqk_qint_layer_scratch(g.fan, plane, g.acc64 || in[0]->dtype == MQ_I32, (int)g.bits);
    int xbits = 0;
    while (xbits < 9 && g.xmax >> xbits) xbits++; /* codes 0..xmax in xbits bits */
    if (g.xmax >= 1 && in[0]->dtype == MQ_U8 && !g.acc64 && mqk_qb_pays(xbits, (int)g.bits)) { /* codes of few bits */
        int64_t rows = 1, row_bits = 1;
        for (int i = 0; i + 1 < g.nd; i++) rows *= in[0]->dims[2 + i];
        if (g.nd) row_bits = mqk_qb_row_bits(in[0]->dims[1 + g.nd], g.w.out[g.nd - 1], g.w.k[g.nd - 1], g.w.s[g.nd - 1],
                                             g.w.pb[g.nd - 1], g.w.d[g.nd - 1]);
        kc->kernel = "qint_layer_b1";
        kc->p[MQK_QB_XBITS] = xbits;
        kc->n_p = MQK_QB_NP;
        scratch = mqk_qint_b1_scratch(in[0]->dims[1] / g.group, rows, row_bits, g.fan, g.nd ? plane : in[0]->dims[0],
                                      (int)g.bits, xbits, g.nd == 0);
    }
    if (scratch > UINT32_MAX) return mq_node_fail(err, n, MQ_ERR_LIMIT, "scratch of %lld bytes exceeds uint32", (long long)scratch);
    kc->scratch_bytes = (uint32_t)scratch;
    return MQ_OK;
}

static const mq_op_def op_qlayer = {.op_type = "QLayer", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1, .infer = qlayer_infer,
                                    .forward = mq_forward_lowered, .lower = qlayer_lower};

/* ---- QMaxPool: MaxPool on uint8 codes (MaxPool's attributes) --------------------------------------- */

static mq_status qmaxpool_geometry(const mq_node *n, const mq_tensor *x, nn_window *w, int64_t *dims, mq_err *err)
{
    if (x->rank < 3 || x->rank > 2 + NN_MAX_SPATIAL)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "x must have rank 3 to %d", 2 + NN_MAX_SPATIAL);
    int nd = x->rank - 2;
    int64_t kernel[NN_MAX_SPATIAL];
    MQ_TRY(nn_kernel_attr(n, nd, kernel, err));
    MQ_TRY(nn_window_forward(n, nd, x->dims + 2, kernel, 1, 1, w, err));
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < nd; i++) {
        if (w->pb[i] < 0 || w->pb[i] > INT32_MAX || w->s[i] > INT32_MAX || w->d[i] > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "window parameters exceed int32");
        dims[2 + i] = w->out[i];
    }
    return MQ_OK;
}

static mq_status qmaxpool_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_u8, err));
    nn_window w;
    int64_t dims[MQ_MAX_RANK];
    MQ_TRY(qmaxpool_geometry(n, in[0], &w, dims, err));
    mq_set_out(out[0], MQ_U8, in[0]->rank, dims);
    return MQ_OK;
}

/* The 13 window parameters of the pooling kernels on codes (qint.h: nd, kernel, stride, pad, dilation). */
static void pool_params(const nn_window *w, mq_kcall *kc)
{
    kc->p[0] = w->nd;
    for (int i = 0; i < NN_MAX_SPATIAL; i++) {
        int sp = i < w->nd;
        kc->p[1 + i] = sp ? (int32_t)w->k[i] : 1;
        kc->p[4 + i] = sp ? (int32_t)w->s[i] : 1;
        kc->p[7 + i] = sp ? (int32_t)w->pb[i] : 0;
        kc->p[10 + i] = sp ? (int32_t)w->d[i] : 1;
    }
    kc->n_p = 13;
}

static mq_status qmaxpool_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                mq_kcall *kc, mq_err *err)
{
    (void)out;
    nn_window w;
    int64_t dims[MQ_MAX_RANK];
    MQ_TRY(qmaxpool_geometry(n, in[0], &w, dims, err));
    kc->kernel = "qint_maxpool_u8";
    pool_params(&w, kc);
    return MQ_OK;
}

static const mq_op_def op_qmaxpool = {.op_type = "QMaxPool", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                      .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
                                      .infer = qmaxpool_infer, .forward = mq_forward_lowered,
                                      .lower = qmaxpool_lower};

/* ---- QSum: plane sums of uint8 codes (GlobalAveragePool without the division) ---------------------- */

static mq_status qsum_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_u8, err));
    const mq_tensor *x = in[0];
    int64_t dt = mq_attr_int(n, "to", MQ_I32), plane = 1, dims[MQ_MAX_RANK];
    if (x->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "x must have rank >= 2");
    for (int d = 0; d < x->rank; d++) {
        dims[d] = d < 2 ? x->dims[d] : 1;
        if (d >= 2) plane *= x->dims[d];
    }
    if ((dt != MQ_I16 && dt != MQ_I32) || plane * 255 > (dt == MQ_I16 ? 32767 : INT32_MAX))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "'to' must be int16 or int32 and hold 255 x %lld", (long long)plane);
    mq_set_out(out[0], (mq_dtype)dt, x->rank, dims);
    return MQ_OK;
}

PLAIN_LOWER(qsum_lower, "qint_sum_u8")

static const mq_op_def op_qsum = {.op_type = "QSum", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0, .min_in = 1,
                                  .max_in = 1, .min_out = 1, .max_out = 1, .infer = qsum_infer,
                                  .forward = mq_forward_lowered, .lower = qsum_lower};

/* a and b of one shape, rank >= 2. */
static mq_status same_shape(const mq_node *n, const mq_tensor *a, const mq_tensor *b, mq_err *err)
{
    int same = a->rank == b->rank && a->rank >= 2;
    for (int d = 0; same && d < a->rank; d++) same = a->dims[d] == b->dims[d];
    return same ? MQ_OK : mq_node_fail(err, n, MQ_ERR_SHAPE, "operands must have the same shape of rank >= 2");
}

/* ---- QAdd: the quantized sum of two integer tensors (residual Add), int64 fixed point --------------- */

/* Inputs a, b: uint8 / int16 / int32 of the same shape [N, O, ...]; p int64 [O, 2 + T] (Ka, Kb, T
 * thresholds, 1 <= T <= 255). Output uint8 codes (qint_merge.h). */
static mq_status qadd_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    static const mq_dtype types_i64[] = {MQ_I64, MQ_UNDEFINED};
    for (int i = 0; i < 3; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_layer_in, err));
    MQ_TRY(mq_require_dtype(n, in[1], types_layer_in, err));
    MQ_TRY(mq_require_dtype(n, in[2], types_i64, err));
    const mq_tensor *a = in[0], *p = in[2];
    MQ_TRY(same_shape(n, a, in[1], err));
    if (p->rank != 2 || p->dims[0] != a->dims[1] || p->dims[1] < 3 || p->dims[1] > 257)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "parameters must be int64 [channels, 2 + 1..255]");
    mq_set_out(out[0], MQ_U8, a->rank, a->dims);
    return MQ_OK;
}

PLAIN_LOWER(qadd_lower, "qint_add")

static const mq_op_def op_qadd = {.op_type = "QAdd", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0, .min_in = 3,
                                  .max_in = 3, .min_out = 1, .max_out = 1, .infer = qadd_infer,
                                  .forward = mq_forward_lowered, .lower = qadd_lower};

/* ---- QWinSum: AveragePool on uint8 codes without the division (AveragePool's window attributes) ----- */

static mq_status qwinsum_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_u8, err));
    nn_window w;
    int64_t dims[MQ_MAX_RANK], dt = mq_attr_int(n, "to", MQ_I32), taps = 255;
    MQ_TRY(qmaxpool_geometry(n, in[0], &w, dims, err));
    for (int i = 0; i < w.nd; i++) taps *= w.k[i];
    if ((dt != MQ_I16 && dt != MQ_I32) || taps > (dt == MQ_I16 ? 32767 : INT32_MAX))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "'to' must be int16 or int32 and hold 255 x the window's taps");
    mq_set_out(out[0], (mq_dtype)dt, in[0]->rank, dims);
    return MQ_OK;
}

static mq_status qwinsum_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               mq_kcall *kc, mq_err *err)
{
    (void)out;
    nn_window w;
    int64_t dims[MQ_MAX_RANK];
    MQ_TRY(qmaxpool_geometry(n, in[0], &w, dims, err));
    kc->kernel = "qint_winsum_u8";
    pool_params(&w, kc);
    return MQ_OK;
}

static const mq_op_def op_qwinsum = {.op_type = "QWinSum", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                     .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
                                     .infer = qwinsum_infer, .forward = mq_forward_lowered,
                                     .lower = qwinsum_lower};

/* ---- QLut: the quantized residual sum by a table (exact) ------------------------------------------- */

/* Inputs e uint8 (a QLayer's count), y uint8 / int16 / int32 (the other operand), the same shape [N, O,
 * ...]; lut uint8 [O, NY, NE]; attribute lo. Output uint8 lut[o][y - lo][e] (qint_merge.h). */
static mq_status qlut_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 3; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_u8, err));
    MQ_TRY(mq_require_dtype(n, in[1], types_layer_in, err));
    MQ_TRY(mq_require_dtype(n, in[2], types_u8, err));
    const mq_tensor *e = in[0], *t = in[2];
    int64_t lo = mq_attr_int(n, "lo", 0);
    MQ_TRY(same_shape(n, e, in[1], err));
    if (t->rank != 3 || t->dims[0] != e->dims[1] || t->dims[1] < 1 || t->dims[2] < 1 || lo < INT32_MIN || lo > INT32_MAX)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "the table must be uint8 [channels, >= 1, >= 1], lo within int32");
    mq_set_out(out[0], MQ_U8, e->rank, e->dims);
    return MQ_OK;
}

static mq_status qlut_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                            mq_kcall *kc, mq_err *err)
{
    (void)in;
    (void)out;
    (void)err;
    kc->kernel = "qint_lut";
    kc->p[0] = (int32_t)mq_attr_int(n, "lo", 0);
    kc->n_p = 1;
    return MQ_OK;
}

static const mq_op_def op_qlut = {.op_type = "QLut", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0, .min_in = 3,
                                  .max_in = 3, .min_out = 1, .max_out = 1, .infer = qlut_infer,
                                  .forward = mq_forward_lowered, .lower = qlut_lower};

/* ---- QRequant: codes to another scale by a table (a Concat's inputs at different steps) -------------- */

/* Inputs x uint8 codes, lut uint8 [1..256]. Output uint8 lut[x] of x's shape (qint_merge.h). */
static mq_status qrequant_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 2; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_u8, err));
    MQ_TRY(mq_require_dtype(n, in[1], types_u8, err));
    if (in[1]->rank != 1 || in[1]->dims[0] < 1 || in[1]->dims[0] > 256)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "the table must be uint8 [1..256]");
    mq_set_out(out[0], MQ_U8, in[0]->rank, in[0]->dims);
    return MQ_OK;
}

PLAIN_LOWER(qrequant_lower, "qint_requant_u8")

static const mq_op_def op_qrequant = {.op_type = "QRequant", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                      .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
                                      .infer = qrequant_infer, .forward = mq_forward_lowered,
                                      .lower = qrequant_lower};

/* ---- QRescale: integers to a Concat's common scale by a fixed-point multiply (sums at different scales) -- */

/* Inputs x uint8 / int16 / int32, p int64 [2] (M, S); attribute to (int16 or int32). Output of x's shape:
 * floor((x M + 2^(S-1)) / 2^S) (qint_merge.h). */
static mq_status qrescale_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    static const mq_dtype types_i64[] = {MQ_I64, MQ_UNDEFINED};
    int64_t to = mq_attr_int(n, "to", MQ_I32);
    for (int i = 0; i < 2; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_layer_in, err));
    MQ_TRY(mq_require_dtype(n, in[1], types_i64, err));
    if (in[1]->rank != 1 || in[1]->dims[0] != 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "the parameters must be int64 [2]");
    if (to != MQ_I16 && to != MQ_I32) return mq_node_fail(err, n, MQ_ERR_INVALID, "'to' must be int16 or int32");
    mq_set_out(out[0], (mq_dtype)to, in[0]->rank, in[0]->dims);
    return MQ_OK;
}

PLAIN_LOWER(qrescale_lower, "qint_rescale")

static const mq_op_def op_qrescale = {.op_type = "QRescale", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                      .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
                                      .infer = qrescale_infer, .forward = mq_forward_lowered,
                                      .lower = qrescale_lower};

const mq_op_def *const mq_ops_maqd_int[] = {&op_qinput, &op_qlayer,   &op_qmaxpool, &op_qsum,    &op_qadd,
                                            &op_qwinsum, &op_qlut,    &op_qrequant, &op_qrescale, NULL};
