/* test_check_elementwise.c: the load-time checks (mqk_c_*) of the elementwise kernels: every valid call
 * the host lowers is accepted; every mutated one is refused, or the kernel runs inside exact buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/op.h"
#include "runtime/maqdrt.h"
#include "runtime/kernels/elementwise.h"

/* ---- a kernel call, probed: checked, and when accepted run on buffers of exactly the described size -- */

#define MAXT 8
#define RUN_LIMIT ((int64_t)64 << 20) /* bytes of tensors beyond which an accepted call is not run */

typedef struct kcall_t {
    const mqr_kernel_info *k;
    int32_t p[MQR_MAX_PARAMS + 4];
    int32_t n_p;
    mqr_tensor in[MAXT], out[MAXT];
    int32_t n_in, n_out;
    uint32_t scratch;
} kcall_t;

static struct {
    long probes, accepted, run, too_big;
} stats;

static uint32_t rng = 2463534242u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}

/* element count of a descriptor, -1 when it is not one (the loader never hands those over) */
static int64_t desc_numel(const mqr_tensor *t)
{
    int64_t n = 1;
    if (t->rank < 0 || t->rank > MQR_MAX_RANK) return -1;
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return -1;
        n *= t->dims[d];
        if (n > INT32_MAX) return -1;
    }
    return n;
}

/* tame values: small numbers of the dtype (0/1 for bool) */
static void fill(void *data, int32_t dt, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        int v = (int)(next_rand() % 7) - 3;
        switch (dt) {
        case MQR_F32: ((float *)data)[i] = (float)v * 0.75f; break;
        case MQR_F64: ((double *)data)[i] = v * 0.75; break;
        case MQR_BOOL: ((uint8_t *)data)[i] = (uint8_t)(v > 0); break;
        case MQR_I8: ((int8_t *)data)[i] = (int8_t)v; break;
        case MQR_U8: ((uint8_t *)data)[i] = (uint8_t)(v + 3); break;
        case MQR_I16: ((int16_t *)data)[i] = (int16_t)v; break;
        case MQR_U16: ((uint16_t *)data)[i] = (uint16_t)(v + 3); break;
        case MQR_I32: ((int32_t *)data)[i] = v; break;
        case MQR_U32: ((uint32_t *)data)[i] = (uint32_t)(v + 3); break;
        case MQR_I64: ((int64_t *)data)[i] = v; break;
        case MQR_U64: ((uint64_t *)data)[i] = (uint64_t)(v + 3); break;
        default: memset((char *)data + i * (int64_t)mqr_dtype_size(dt), 0, mqr_dtype_size(dt)); break;
        }
    }
}

/* The check's verdict on c (descriptors as at load: no data). When it accepts, the kernel runs on
 * freshly malloc'ed buffers of exactly numel * element size bytes each (ASan catches any byte past
 * them), unless they add up to more than RUN_LIMIT (counted in stats.too_big: an input grown past
 * what the parameters reach, or a scalar broadcast to a huge output). */
static int probe(const kcall_t *c0)
{
    kcall_t c = *c0;
    stats.probes++;
    for (int i = 0; i < c.n_in; i++) c.in[i].data = NULL;
    for (int i = 0; i < c.n_out; i++) c.out[i].data = NULL;
    mqr_call call = {c.p, c.n_p, c.in, c.n_in, c.out, c.n_out, NULL};
    int v = c.k->check(&call, c.scratch);
    assert_true(v == MQR_CHECK_OK || v == MQR_CHECK_BAD);
    if (v != MQR_CHECK_OK) return v;
    stats.accepted++;
    /* every tensor the kernel may touch is a real descriptor of a known dtype */
    int64_t bytes = 0;
    for (int i = 0; i < c.n_in + c.n_out; i++) {
        mqr_tensor *t = i < c.n_in ? &c.in[i] : &c.out[i - c.n_in];
        if (t->rank == -1) continue;
        int64_t n = desc_numel(t);
        if (n < 0 || !mqr_dtype_size(t->dtype))
            fail_msg("%s accepts %s %d of rank %d, dtype %d", c.k->name, i < c.n_in ? "input" : "output",
                     i < c.n_in ? i : i - c.n_in, t->rank, t->dtype);
        bytes += n * (int64_t)mqr_dtype_size(t->dtype);
    }
    if (bytes > RUN_LIMIT) {
        stats.too_big++;
        return v;
    }
    void *bufs[2 * MAXT] = {0};
    for (int i = 0; i < c.n_in + c.n_out; i++) {
        mqr_tensor *t = i < c.n_in ? &c.in[i] : &c.out[i - c.n_in];
        if (t->rank == -1) continue;
        int64_t n = desc_numel(t);
        bufs[i] = malloc((size_t)(n * (int64_t)mqr_dtype_size(t->dtype)));
        assert_non_null(bufs[i]);
        if (i < c.n_in) fill(bufs[i], t->dtype, n);
        t->data = bufs[i];
    }
    void *scratch = c.scratch ? malloc(c.scratch) : NULL;
    call.scratch = scratch;
    /* the host runs the same check with the data present: same verdict */
    assert_int_equal(c.k->check(&call, c.scratch), MQR_CHECK_OK);
    c.k->fn(&call);
    stats.run++;
    free(scratch);
    for (int i = 0; i < 2 * MAXT; i++) free(bufs[i]);
    return v;
}

/* ---- valid calls, lowered by the host from op nodes ------------------------------------------ */

typedef struct tspec {
    int dt; /* 0: omitted */
    int rank;
    int64_t d[4];
} tspec;

typedef struct ecase {
    const char *op;
    int opset;
    const char *kernel; /* what the lowering must pick */
    int n_in, n_out;
    tspec in[4];
    const char *attr; /* one attribute: "name=int", "name:float" or "name/string" (NULL: none) */
} ecase;

#define T(dt, r, ...) {dt, r, {__VA_ARGS__}}
#define NONE {0, 0, {0}}

static const ecase cases[] = {
    {"Add", 14, "add_f32", 2, 1, {T(MQR_F32, 3, 2, 3, 4), T(MQR_F32, 2, 3, 1)}, NULL},
    {"Sub", 14, "sub_f32", 2, 1, {T(MQR_F32, 2, 2, 1), T(MQR_F32, 3, 3, 1, 4)}, NULL},
    {"Mul", 14, "mul_f32", 2, 1, {T(MQR_F32, 1, 5), T(MQR_F32, 0, 0)}, NULL},
    {"Div", 14, "div_f32", 2, 1, {T(MQR_F32, 2, 3, 4), T(MQR_F32, 2, 3, 4)}, NULL},
    {"PRelu", 16, "prelu_f32", 2, 1, {T(MQR_F32, 4, 2, 3, 2, 2), T(MQR_F32, 3, 3, 1, 1)}, NULL},
    {"Pow", 15, "pow_f32", 2, 1, {T(MQR_F32, 2, 2, 3), T(MQR_F32, 1, 3)}, NULL},
    {"Sum", 13, "variadic_f32", 3, 1, {T(MQR_F32, 2, 2, 3), T(MQR_F32, 1, 3), T(MQR_F32, 2, 2, 1)}, NULL},
    {"Mean", 13, "variadic_f32", 1, 1, {T(MQR_F32, 2, 2, 3)}, NULL},
    {"Max", 13, "variadic_f32", 2, 1, {T(MQR_F32, 3, 2, 1, 3), T(MQR_F32, 2, 4, 1)}, NULL},
    {"Relu", 14, "relu_f32", 1, 1, {T(MQR_F32, 2, 2, 5)}, NULL},
    {"LeakyRelu", 16, "leakyrelu_f32", 1, 1, {T(MQR_F32, 2, 2, 5)}, "alpha:0.1"},
    {"Sigmoid", 13, "sigmoid_f32", 1, 1, {T(MQR_F32, 1, 7)}, NULL},
    {"Tanh", 13, "tanh_f32", 1, 1, {T(MQR_F32, 1, 7)}, NULL},
    {"HardSigmoid", 6, "hardsigmoid_f32", 1, 1, {T(MQR_F32, 1, 7)}, NULL},
    {"HardSwish", 14, "hardswish_f32", 1, 1, {T(MQR_F32, 1, 7)}, NULL},
    {"Clip", 13, "clip_f32", 3, 1, {T(MQR_F32, 2, 2, 3), T(MQR_F32, 0, 0), T(MQR_F32, 0, 0)}, NULL},
    {"Clip", 13, "clip_f32", 3, 1, {T(MQR_F32, 2, 2, 3), NONE, T(MQR_F32, 0, 0)}, NULL},
    {"Clip", 6, "clip_f32", 1, 1, {T(MQR_F32, 2, 2, 3)}, "min:-0.5"},
    {"Abs", 13, "abs_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Neg", 13, "neg_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Sign", 13, "sign_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Reciprocal", 13, "reciprocal_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Floor", 13, "floor_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Ceil", 13, "ceil_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Round", 11, "round_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Sqrt", 13, "sqrt_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Exp", 13, "exp_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Log", 13, "log_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Sin", 7, "sin_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Cos", 7, "cos_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Tan", 7, "tan_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Asin", 7, "asin_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Acos", 7, "acos_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Atan", 7, "atan_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Sinh", 9, "sinh_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Cosh", 9, "cosh_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Asinh", 9, "asinh_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Acosh", 9, "acosh_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Atanh", 9, "atanh_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Erf", 13, "erf_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Elu", 6, "elu_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Selu", 6, "selu_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Celu", 12, "celu_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"ThresholdedRelu", 10, "thresholdedrelu_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Softplus", 1, "softplus_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Softsign", 1, "softsign_f32", 1, 1, {T(MQR_F32, 1, 6)}, NULL},
    {"Shrink", 9, "shrink_f32", 1, 1, {T(MQR_F32, 1, 6)}, "lambd:0.25"},
    {"Less", 13, "compare_f32", 2, 1, {T(MQR_F32, 2, 2, 3), T(MQR_F32, 1, 3)}, NULL},
    {"And", 7, "logic_bool", 2, 1, {T(MQR_BOOL, 2, 3, 1), T(MQR_BOOL, 2, 1, 4)}, NULL},
    {"Not", 1, "not_bool", 1, 1, {T(MQR_BOOL, 2, 3, 2)}, NULL},
    {"IsNaN", 13, "ew_isnan", 1, 1, {T(MQR_F64, 1, 5)}, NULL},
    {"IsInf", 10, "ew_isinf", 1, 1, {T(MQR_F32, 1, 5)}, "detect_negative=0"},
    {"Identity", 16, "ew_copy", 1, 1, {T(MQR_I64, 2, 2, 3)}, NULL},
    {"Dropout", 7, "ew_dropout", 1, 2, {T(MQR_F32, 2, 2, 3)}, NULL},
    {"Dropout", 13, "ew_dropout", 2, 2, {T(MQR_F64, 1, 4), T(MQR_F32, 0, 0)}, NULL},
    {"Dropout", 13, "ew_dropout", 1, 1, {T(MQR_F32, 1, 4)}, NULL},
    {"Where", 16, "ew_where", 3, 1, {T(MQR_BOOL, 2, 2, 1), T(MQR_I16, 1, 3), T(MQR_I16, 2, 2, 3)}, NULL},
    {"Where", 16, "ew_where", 3, 1, {T(MQR_BOOL, 1, 4), T(MQR_F64, 0, 0), T(MQR_F64, 2, 3, 1)}, NULL},
    {"Cast", 13, "ew_cast", 1, 1, {T(MQR_F32, 2, 2, 3)}, "to=3"},
    {"Cast", 13, "ew_cast", 1, 1, {T(MQR_U16, 1, 5)}, "to=10"},
    {"CastLike", 15, "ew_cast", 2, 1, {T(MQR_I64, 1, 5), T(MQR_F64, 0, 0)}, NULL},
    {"Add", 14, "ew_binary_any", 2, 1, {T(MQR_I32, 2, 2, 3), T(MQR_I32, 1, 3)}, NULL},
    {"Equal", 13, "ew_binary_any", 2, 1, {T(MQR_BOOL, 2, 2, 1), T(MQR_BOOL, 2, 1, 3)}, NULL},
    {"Mod", 13, "ew_binary_any", 2, 1, {T(MQR_I64, 2, 2, 3), T(MQR_I64, 0, 0)}, "fmod=0"},
    {"BitShift", 11, "ew_binary_any", 2, 1, {T(MQR_U8, 1, 4), T(MQR_U8, 1, 4)}, "direction/RIGHT"},
    {"Pow", 15, "ew_pow_mixed", 2, 1, {T(MQR_F32, 2, 2, 3), T(MQR_I64, 1, 3)}, NULL},
    {"Pow", 15, "ew_pow_mixed", 2, 1, {T(MQR_I32, 1, 4), T(MQR_U8, 0, 0)}, NULL},
    {"Max", 13, "ew_variadic_any", 3, 1, {T(MQR_I32, 2, 2, 3), T(MQR_I32, 1, 3), T(MQR_I32, 2, 2, 1)}, NULL},
    {"Mean", 13, "ew_variadic_any", 2, 1, {T(MQR_F64, 1, 3), T(MQR_F64, 2, 2, 1)}, NULL},
    {"Min", 13, "ew_variadic_any", 1, 1, {T(MQR_U16, 1, 3)}, NULL},
    {"Abs", 13, "ew_unary_any", 1, 1, {T(MQR_I8, 1, 6)}, NULL},
    {"Sqrt", 13, "ew_unary_any", 1, 1, {T(MQR_F64, 2, 2, 3)}, NULL},
    {"Shrink", 9, "ew_unary_any", 1, 1, {T(MQR_I32, 1, 5)}, NULL},
    {"Clip", 13, "ew_clip_any", 3, 1, {T(MQR_I32, 2, 2, 3), T(MQR_I32, 0, 0), NONE}, NULL},
    {"Clip", 13, "ew_clip_any", 2, 1, {T(MQR_U8, 1, 5), T(MQR_U8, 0, 0)}, NULL},
    {"Clip", 6, "ew_clip_any", 1, 1, {T(MQR_F64, 1, 5)}, "max:0.5"},
};

/* Lowers case e with the host's op definition into c (descriptors through mq_to_mqr, as the
 * executor does), and returns the node's kernel. */
static void lower_case(const ecase *e, kcall_t *c)
{
    const char *why = NULL;
    const mq_op_def *def = mq_op_find("", e->op, e->opset, &why);
    if (!def) fail_msg("%s-%d: %s", e->op, e->opset, why ? why : "no op");
    mq_attr attr;
    memset(&attr, 0, sizeof attr);
    char name[32];
    int n_attr = 0;
    if (e->attr) {
        const char *sep = strpbrk(e->attr, "=:/");
        snprintf(name, sizeof name, "%.*s", (int)(sep - e->attr), e->attr);
        attr.name = name;
        if (*sep == '=') attr.type = MQ_ATTR_INT, attr.i = atoll(sep + 1);
        else if (*sep == ':') attr.type = MQ_ATTR_FLOAT, attr.f = strtof(sep + 1, NULL);
        else attr.type = MQ_ATTR_STRING, attr.s = sep + 1, attr.s_len = strlen(sep + 1);
        n_attr = 1;
    }
    int ids[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    mq_node n = {.name = "t", .op_type = e->op, .domain = "", .opset = e->opset, .n_in = e->n_in,
                 .n_out = e->n_out, .in = ids, .out = ids + 4, .n_attr = n_attr, .attrs = &attr, .def = def};
    mq_tensor tin[4], tout[2];
    const mq_tensor *pin[4];
    mq_tensor *pout[2];
    memset(tin, 0, sizeof tin);
    memset(tout, 0, sizeof tout);
    for (int i = 0; i < e->n_in; i++) {
        pin[i] = NULL;
        if (!e->in[i].dt) continue;
        tin[i].name = "x";
        tin[i].dtype = (mq_dtype)e->in[i].dt;
        tin[i].rank = e->in[i].rank;
        for (int d = 0; d < e->in[i].rank; d++) tin[i].dims[d] = e->in[i].d[d];
        pin[i] = &tin[i];
    }
    for (int i = 0; i < e->n_out; i++) tout[i].name = "y", tout[i].rank = -1, pout[i] = &tout[i];
    mq_err err;
    memset(&err, 0, sizeof err);
    if (def->infer(&n, pin, pout, &err) != MQ_OK) fail_msg("%s infer: %s", e->op, err.msg);
    mq_kcall kc;
    memset(&kc, 0, sizeof kc);
    if (def->lower(&n, pin, (const mq_tensor *const *)pout, &kc, &err) != MQ_OK)
        fail_msg("%s lower: %s", e->op, err.msg);
    if (strcmp(kc.kernel, e->kernel)) fail_msg("%s-%d lowers to %s, not %s", e->op, e->opset, kc.kernel, e->kernel);
    memset(c, 0, sizeof *c);
    c->k = mqr_kernel_find(kc.kernel);
    assert_non_null(c->k);
    memcpy(c->p, kc.p, sizeof kc.p);
    c->n_p = kc.n_p;
    c->n_in = e->n_in, c->n_out = e->n_out;
    c->scratch = (uint32_t)kc.scratch_bytes;
    for (int i = 0; i < e->n_in; i++) assert_int_equal(mq_to_mqr(&n, pin[i], &c->in[i], &err), MQ_OK);
    for (int i = 0; i < e->n_out; i++) assert_int_equal(mq_to_mqr(&n, pout[i], &c->out[i], &err), MQ_OK);
}

/* ---- mutations ------------------------------------------------------------------------------------ */

static const int64_t dim_vals[] = {0, 1, 2, 3, 7, 100, 1 << 16, INT32_MAX, -1, -2, INT32_MIN};
static const int32_t dtypes[] = {0, MQR_F32, MQR_U8, MQR_I8, MQR_U16, MQR_I16, MQR_I32, MQR_I64, 8, MQR_BOOL, 10, MQR_F64,
                                 MQR_U32, MQR_U64, 14, 16, -1};

/* new values for an int32 v: v +- 1, 0, 1, 2, huge, negative */
static int mutants(int32_t v, int32_t *out)
{
    int n = 0;
    out[n++] = (int32_t)((uint32_t)v + 1u);
    out[n++] = (int32_t)((uint32_t)v - 1u);
    out[n++] = 0, out[n++] = 1, out[n++] = 2, out[n++] = 3, out[n++] = 7;
    out[n++] = INT32_MAX, out[n++] = INT32_MIN, out[n++] = -1, out[n++] = 1 << 20;
    out[n++] = (int32_t)((uint32_t)v * 2u);
    return n;
}

/* Tensor t of call c in every mutated form: each dim, rank up/down, omitted, each dtype. */
static void mutate_tensor(const kcall_t *base, int is_out, int i)
{
    kcall_t c = *base;
    mqr_tensor *t = is_out ? &c.out[i] : &c.in[i];
    const mqr_tensor orig = *t;
    for (int d = 0; d < orig.rank; d++)
        for (size_t v = 0; v < sizeof dim_vals / sizeof dim_vals[0]; v++) {
            *t = orig;
            t->dims[d] = (int32_t)dim_vals[v];
            probe(&c);
        }
    for (int r = 0; r <= MQR_MAX_RANK + 1; r++) { /* rank r: the old dims, then 1s (or 2s) */
        for (int fillv = 1; fillv <= 2; fillv++) {
            *t = orig;
            t->rank = r;
            for (int d = orig.rank > 0 ? orig.rank : 0; d < MQR_MAX_RANK; d++) t->dims[d] = fillv;
            probe(&c);
        }
    }
    *t = orig;
    t->rank = -1, t->data = NULL;
    memset(t->dims, 0, sizeof t->dims);
    probe(&c);
    t->rank = 100;
    probe(&c);
    for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++) {
        *t = orig;
        t->dtype = dtypes[k];
        probe(&c);
    }
}

/* Mutates every parameter, the parameter count, the tensor counts and every tensor of base. */
static void mutate_all(const kcall_t *base)
{
    kcall_t c = *base;
    int32_t vals[16];
    for (int i = 0; i < base->n_p; i++) {
        int nv = mutants(base->p[i], vals);
        for (int v = 0; v < nv; v++) {
            c = *base;
            c.p[i] = vals[v];
            probe(&c);
        }
    }
    for (int dn = -2; dn <= 2; dn++) { /* parameter count; appended parameters 0 or 1 */
        if (!dn || base->n_p + dn < 0) continue;
        for (int extra = 0; extra <= 1; extra++) {
            c = *base;
            c.n_p = base->n_p + dn;
            for (int i = base->n_p; i < c.n_p; i++) c.p[i] = extra;
            probe(&c);
        }
    }
    /* tensor counts: one fewer, or one more (a copy of tensor 0, or an omitted one) */
    for (int is_out = 0; is_out <= 1; is_out++)
        for (int dn = -1; dn <= 1; dn += 2)
            for (int omit = 0; omit <= 1; omit++) {
                c = *base;
                int32_t *n = is_out ? &c.n_out : &c.n_in;
                mqr_tensor *ts = is_out ? c.out : c.in;
                *n += dn;
                if (*n < 0 || *n > MAXT) continue;
                if (dn > 0) {
                    ts[*n - 1] = ts[0];
                    if (omit) memset(&ts[*n - 1], 0, sizeof ts[0]), ts[*n - 1].rank = -1;
                }
                probe(&c);
            }
    c = *base;
    c.scratch = 0;
    assert_int_equal(probe(&c), MQR_CHECK_OK); /* no elementwise kernel uses scratch */
    c.scratch = 1u << 20;
    assert_int_equal(probe(&c), MQR_CHECK_OK);
    for (int i = 0; i < base->n_in; i++) mutate_tensor(base, 0, i);
    for (int i = 0; i < base->n_out; i++) mutate_tensor(base, 1, i);
}

/* The first parameter of the broadcast block of a kernel (-1: none) */
static int bc_start(const char *kernel)
{
    static const char *const at0[] = {"add_f32", "sub_f32", "mul_f32", "div_f32", "prelu_f32", "pow_f32",
                                      "ew_pow_mixed", "ew_where", NULL};
    static const char *const at1[] = {"compare_f32", "logic_bool", "ew_binary_any", "variadic_f32",
                                      "ew_variadic_any", NULL};
    for (int i = 0; at0[i]; i++)
        if (!strcmp(kernel, at0[i])) return 0;
    for (int i = 0; at1[i]; i++)
        if (!strcmp(kernel, at1[i])) return 1;
    return -1;
}

/* Broadcast kernels: a block dim set to v with the output reshaped to the new product (so the count
 * check alone cannot refuse it), alone or with each stride of that dim set to s: the strides bounds
 * must then refuse whatever would read past an input. */
static void mutate_bcast(const kcall_t *base, int s0)
{
    const int32_t r = base->p[s0];
    static const int32_t dvals[] = {0, 1, 2, 3, 5, 64, 1 << 20, INT32_MAX};
    static const int32_t svals[] = {0, 1, 2, 3, 4, 6, 12, 1 << 20, INT32_MAX, -1, INT32_MIN};
    for (int d = 0; d < r; d++)
        for (size_t v = 0; v < sizeof dvals / sizeof dvals[0]; v++)
            for (int j = -1; j < base->n_in; j++)
                for (size_t s = 0; s < (j < 0 ? 1 : sizeof svals / sizeof svals[0]); s++) {
                    kcall_t c = *base;
                    int64_t prod = 1;
                    c.p[s0 + 1 + d] = dvals[v];
                    if (j >= 0) c.p[s0 + 1 + r * (1 + j) + d] = svals[s];
                    for (int e = 0; e < r; e++) prod *= c.p[s0 + 1 + e];
                    if (prod > INT32_MAX) continue;
                    c.out[0].rank = 1;
                    c.out[0].dims[0] = (int32_t)prod;
                    probe(&c);
                }
}

static void test_valid_calls_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kcall_t c;
        lower_case(&cases[i], &c);
        if (probe(&c) != MQR_CHECK_OK) fail_msg("%s-%d (%s): the check refuses the lowered call", cases[i].op,
                                                cases[i].opset, cases[i].kernel);
    }
}

/* every kernel of the family has a case */
static void test_every_kernel_covered(void **state)
{
    (void)state;
#define X(name, src)                                                                               \
    {                                                                                              \
        int found = 0;                                                                             \
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) found |= !strcmp(cases[i].kernel, #name); \
        if (!found) fail_msg("kernel %s has no case", #name);                                      \
    }
    MQR_KERNELS_ELEMENTWISE(X)
#undef X
}

static void test_mutations(void **state)
{
    (void)state;
    memset(&stats, 0, sizeof stats);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kcall_t c;
        lower_case(&cases[i], &c);
        mutate_all(&c);
        int s0 = bc_start(c.k->name);
        if (s0 >= 0) mutate_bcast(&c, s0);
    }
    print_message("mutations: %ld probes, %ld accepted, %ld run in exact buffers, %ld too big to run\n",
                  stats.probes, stats.accepted, stats.run, stats.too_big);
    assert_true(stats.run > 1000);
}

/* Random broadcast blocks over random input sizes: the check accepts exactly when every offset the
 * driver reads, enumerated here index by index, lies inside each input (and the dims form the output);
 * accepted ones also run in exact buffers. */
static void test_bcast_random(void **state)
{
    (void)state;
    const mqr_kernel_info *ks[3] = {mqr_kernel_find("add_f32"), mqr_kernel_find("ew_where"),
                                    mqr_kernel_find("ew_variadic_any")};
    long agree_ok = 0, agree_bad = 0;
    for (int trial = 0; trial < 20000; trial++) {
        kcall_t c;
        memset(&c, 0, sizeof c);
        const int which = (int)(next_rand() % 3);
        const int k = which == 0 ? 2 : which == 1 ? 3 : 2 + (int)(next_rand() % 3);
        const int32_t r = 1 + (int32_t)(next_rand() % 4);
        int s0 = which == 2 ? 1 : 0;
        c.k = ks[which];
        c.p[0] = MQK_V_SUM;
        c.p[s0] = r;
        int64_t prod = 1;
        for (int d = 0; d < r; d++) {
            c.p[s0 + 1 + d] = (int32_t)(next_rand() % 4); /* 0..3: zeros mostly refused */
            if (next_rand() % 3) c.p[s0 + 1 + d] += 1;
            prod *= c.p[s0 + 1 + d];
        }
        c.n_p = s0 + 1 + r * (1 + k);
        c.n_in = k, c.n_out = 1;
        const int32_t dt = which == 2 ? MQR_I32 : MQR_F32;
        int oracle = 1;
        for (int j = 0; j < k; j++) {
            int32_t *st = c.p + s0 + 1 + r * (1 + j);
            int64_t need = 0;
            for (int d = 0; d < r; d++) {
                st[d] = (int32_t)(next_rand() % 7);
                if (next_rand() % 5 == 0) st[d] = 0;
                if (next_rand() % 40 == 0) st[d] = -1 - (int32_t)(next_rand() % 3), oracle = 0; /* refused as such */
            }
            c.in[j].dtype = which == 1 && j == 0 ? MQR_BOOL : dt;
            c.in[j].rank = 1;
            c.in[j].dims[0] = (int32_t)(next_rand() % 40);
            /* the largest offset read, by enumeration of every output index */
            int32_t idx[8] = {0};
            for (int64_t e = 0; e < prod; e++) {
                int64_t off = 0;
                for (int d = 0; d < r; d++) off += (int64_t)idx[d] * st[d];
                if (off + 1 > need) need = off + 1;
                for (int d = r - 1; d >= 0; d--) {
                    if (++idx[d] < c.p[s0 + 1 + d]) break;
                    idx[d] = 0;
                }
            }
            if (need > c.in[j].dims[0]) oracle = 0;
        }
        for (int d = 0; d < r; d++)
            if (c.p[s0 + 1 + d] == 0 && r != 1) oracle = 0; /* the driver reads a row under an outer 0 */
        c.out[0].dtype = dt;
        c.out[0].rank = 1;
        c.out[0].dims[0] = (int32_t)prod;
        if (next_rand() % 10 == 0) c.out[0].dims[0] += 1, oracle = 0; /* wrong output count */
        const int v = probe(&c);
        if ((v == MQR_CHECK_OK) != oracle)
            fail_msg("trial %d: check says %d, enumeration says %s", trial, v, oracle ? "in bounds" : "out of bounds");
        if (oracle) agree_ok++;
        else agree_bad++;
    }
    print_message("random blocks: %ld accepted, %ld refused, all as enumerated\n", agree_ok, agree_bad);
    assert_true(agree_ok > 1000 && agree_bad > 1000);
}

/* The driver's int32 running offset: a dim of 1 with a huge stride reads nothing more, but when
 * that dim wraps the offset is (outer offset) + stride, which must not pass INT32_MAX (the sanitized
 * build runs the accepted limit case, so UBSan would see an overflow). */
static void test_bcast_offset_overflow(void **state)
{
    (void)state;
    kcall_t c;
    memset(&c, 0, sizeof c);
    c.k = mqr_kernel_find("add_f32");
    /* r = 3, dims {2, 1, 4}; A (8 elements) strides {4, s, 1}; B (8 elements) strides {4, 0, 1} */
    const int32_t p[] = {3, 2, 1, 4, 4, INT32_MAX - 3, 1, 4, 0, 1};
    memcpy(c.p, p, sizeof p);
    c.n_p = 10;
    c.n_in = 2, c.n_out = 1;
    for (int i = 0; i < 2; i++) c.in[i].dtype = MQR_F32, c.in[i].rank = 1, c.in[i].dims[0] = 8;
    c.out[0].dtype = MQR_F32, c.out[0].rank = 2, c.out[0].dims[0] = 2, c.out[0].dims[1] = 4;
    assert_int_equal(probe(&c), MQR_CHECK_BAD); /* 4 + INT32_MAX - 3 */
    c.p[5] = INT32_MAX - 4;                     /* 4 + INT32_MAX - 4: the limit, accepted and run */
    assert_int_equal(probe(&c), MQR_CHECK_OK);
    c.p[5] = 9; /* any stride on a dim of 1 */
    assert_int_equal(probe(&c), MQR_CHECK_OK);
    c.p[4] = 5; /* offset 5 + 3 = 8: past A */
    assert_int_equal(probe(&c), MQR_CHECK_BAD);
    c.p[4] = 4, c.p[2] = 0; /* an outer zero dim: the driver would still read one row */
    c.out[0].dims[0] = 0;
    assert_int_equal(probe(&c), MQR_CHECK_BAD);
    /* the empty output as the host writes it: r = 1, dims {0}, strides 0 */
    const int32_t e[] = {1, 0, 0, 0};
    memcpy(c.p, e, sizeof e);
    c.n_p = 4;
    c.in[0].dims[0] = 0;
    assert_int_equal(probe(&c), MQR_CHECK_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kernel_covered),
        cmocka_unit_test(test_valid_calls_accepted),
        cmocka_unit_test(test_bcast_offset_overflow),
        cmocka_unit_test(test_bcast_random),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
