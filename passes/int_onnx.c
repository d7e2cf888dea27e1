/* int_onnx.c: the lowered integer program (int_lower.c) as standard ONNX ops computing the same codes
 * exactly: weights as balanced base-256 digits for ConvInteger / MatMulInteger, thresholds counted. */
#include "passes/int_onnx.h"

#include "core/op.h"
#include "ops/maqd.h"
#include "passes/passes.h"
#include "runtime/kernels/qint.h"

#include <string.h>

#define OPSET 13
#define MAX_TERMS 16

enum { X_U8 = 1, X_PIX, X_SUM, X_ACC };

/* An integer tensor of the lowered program in the ONNX graph. X_U8: uint8 codes u (0..bound). X_PIX:
 * the program's int16 input mul * u - zero, which is 0 in a convolution's padding (mask: 1 where u is
 * the input, so padding gives 0 too). X_SUM: int32 u in 0..bound. X_ACC: int32 u in -bound..bound (a
 * QLayer's accumulator output, read by a QAdd). */
typedef struct xval {
    int kind, u, mask;
    int64_t mul, zero, bound;
} xval;

typedef struct cv {
    mq_graph *g;
    xval *x;            /* per tensor of the lowered graph */
    int zp0, zp128;     /* uint8 zero points 0 and 128 */
} cv;

static mq_status constant(cv *S, const char *base, const char *suffix, mq_dtype dt, int rank, const int64_t *dims,
                          const void *data, int *id, mq_err *err)
{
    return mq_pass_add_const(S->g, base, suffix, dt, rank, dims, data, id, err);
}

static mq_status scalar64(cv *S, const char *base, int64_t v, int *id, mq_err *err)
{
    return constant(S, base, ".c", MQ_I64, 0, NULL, &v, id, err);
}

/* A default-domain node op(ins) -> *out (a fresh tensor named base + suffix when *out < 0). */
static mq_status emit(cv *S, const char *op, const char *base, const char *suffix, int n_in, const int *ins, int *out,
                      mq_node **nn, mq_err *err)
{
    mq_graph *g = S->g;
    const mq_op_def *def = mq_op_find("", op, OPSET, NULL);
    if (!def) return mq_fail(err, MQ_ERR_UNSUPPORTED, "onnx export: op %s is not registered", op);
    const char *nm = mq_pass_unique_name(g, base, suffix); /* the node's name, and its output's when new */
    if (nm && *out < 0 && (*out = mq_graph_tensor(g, nm)) >= 0) g->tensors[*out].producer = -1;
    int *io = mq_arena_array(g->arena, (size_t)n_in + 1, sizeof(int));
    mq_node *n = mq_graph_add_node(g);
    if (!io || !nm || *out < 0 || !n)
        return mq_fail(err, MQ_ERR_NOMEM, "onnx export: no room for node '%s%s'", base, suffix);
    memcpy(io, ins, sizeof(int) * (size_t)n_in);
    io[n_in] = *out;
    *n = (mq_node){.name = nm, .op_type = def->op_type, .domain = "", .opset = OPSET, .def = def,
                   .n_in = n_in, .in = io, .n_out = 1, .out = io + n_in};
    if (nn) *nn = n;
    return MQ_OK;
}

static mq_status cast(cv *S, int x, mq_dtype to, const char *base, const char *suffix, int *out, mq_err *err)
{
    mq_node *n = NULL;
    MQ_TRY(emit(S, "Cast", base, suffix, 1, &x, out, &n, err));
    return mq_pass_set_attr_int(S->g, n, "to", to, err);
}

/* The attributes of src named in keep, copied onto n. */
static mq_status copy_attrs(cv *S, mq_node *n, const mq_node *src, const char *const *keep, mq_err *err)
{
    mq_attr *a = mq_arena_array(S->g->arena, (size_t)src->n_attr + 1, sizeof(mq_attr));
    if (!a) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    int k = 0;
    for (int i = 0; i < src->n_attr; i++)
        for (int j = 0; keep[j]; j++)
            if (!strcmp(src->attrs[i].name, keep[j])) a[k++] = src->attrs[i];
    n->attrs = a;
    n->n_attr = k;
    return MQ_OK;
}

static const char *const conv_attrs[] = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", NULL};
static const char *const pool_attrs[] = {"kernel_shape", "strides", "pads", "dilations", "auto_pad", "ceil_mode",
                                         "storage_order", NULL};

/* ---- QLayer ------------------------------------------------------------------------------------------ */

/* The layer's uint8 operands: x = sum of coef[k] * u[k]. */
static mq_status operands(cv *S, const mq_node *n, const xval *x, const char *base, int *u, int64_t *coef, int *nu,
                          mq_err *err)
{
    *nu = 0;
    if (x->kind == X_U8) {
        u[0] = x->u;
        coef[(*nu)++] = 1;
    } else if (x->kind == X_PIX) {
        u[0] = x->u;
        coef[(*nu)++] = x->mul;
        if (x->zero) {
            u[1] = x->mask;
            coef[(*nu)++] = -x->zero;
        }
    } else if (x->kind == X_SUM) { /* base-256 digits of a non-negative int32 */
        int64_t place = 1;
        for (int j = 0; j < 4 && (j == 0 || place <= x->bound); j++, place *= 256) {
            int v = x->u;
            if (place > 1) {
                int32_t p = (int32_t)place, ins[2] = {v, -1};
                MQ_TRY(constant(S, base, ".place", MQ_I32, 0, NULL, &p, &ins[1], err));
                v = -1;
                MQ_TRY(emit(S, "Div", base, ".shift", 2, ins, &v, NULL, err));
            }
            if (place * 256 <= x->bound) {
                int32_t m = 256;
                int ins[2] = {v, -1};
                MQ_TRY(constant(S, base, ".radix", MQ_I32, 0, NULL, &m, &ins[1], err));
                v = -1;
                MQ_TRY(emit(S, "Mod", base, ".digit", 2, ins, &v, NULL, err));
            }
            u[*nu] = -1;
            MQ_TRY(cast(S, v, MQ_U8, base, ".u8", &u[*nu], err));
            coef[(*nu)++] = place;
        }
    } else {
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "input is not an integer tensor of the program");
    }
    return MQ_OK;
}

/* The packed codes of a QLayer as q[O][fan] (qint.h: q = wmul * c - woff, LSB first, rows on bytes). */
static mq_status unpack(const mq_node *n, const mq_tensor *w, int64_t fan, int32_t *q, int64_t *qmax, mq_err *err)
{
    int64_t bits = mq_attr_int(n, "bits", 8), wmul = mq_attr_int(n, "wmul", 1), woff = mq_attr_int(n, "woff", 0);
    int64_t O = w->dims[0];
    size_t rowb = mqk_qint_row_bytes((size_t)fan, (int)bits);
    if (!w->data || bits < 1 || bits > 24 || (int64_t)rowb != w->dims[1])
        return mq_node_fail(err, n, MQ_ERR_INVALID, "packed weights do not match bits %lld", (long long)bits);
    const uint8_t *p = w->data;
    *qmax = 0;
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < fan; i++) {
            uint32_t c = 0;
            size_t bit = (size_t)i * (size_t)bits;
            for (int b = 0; b < bits; b++, bit++) c |= (uint32_t)((p[(size_t)o * rowb + bit / 8] >> (bit % 8)) & 1) << b;
            int64_t v = wmul * (int64_t)c - woff, a = v < 0 ? -v : v;
            q[o * fan + i] = (int32_t)v;
            if (a > *qmax) *qmax = a;
        }
    return MQ_OK;
}

/* acc = sum over operands k and weight digits b of coef[k] * 256^b * ConvInteger(u[k], digit b): int64,
 * or int32 when it is one ConvInteger on 8-bit weights (*is32). */
static mq_status accumulate(cv *S, const mq_node *n, const char *base, int32_t *q, int64_t O, int64_t fan,
                            int64_t qmax, const int *u, const int64_t *coef, int nu, int *acc, int *is32, mq_err *err)
{
    mq_graph *g = S->g;
    const mq_tensor *xt = &g->tensors[n->in[0]];
    int dense = xt->rank == 2;
    int64_t wd[2 + 3], wrank = 2;
    if (fan * 255 * 128 > INT32_MAX)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "fan-in %lld too large for int32 ConvInteger", (long long)fan);
    if (dense) {
        wd[0] = fan;
        wd[1] = O;
    } else {
        const mq_attr *ks = NULL;
        for (int i = 0; i < n->n_attr; i++)
            if (!strcmp(n->attrs[i].name, "kernel_shape")) ks = &n->attrs[i];
        int64_t kprod = 1;
        if (!ks || ks->n != xt->rank - 2 || ks->n > 3) return mq_node_fail(err, n, MQ_ERR_INVALID, "kernel_shape missing");
        for (int d = 0; d < ks->n; d++) kprod *= ks->ints[d];
        if (kprod < 1 || fan % kprod) return mq_node_fail(err, n, MQ_ERR_INVALID, "kernel_shape does not divide the fan-in");
        wd[0] = O;
        wd[1] = fan / kprod;
        for (int d = 0; d < ks->n; d++) wd[2 + d] = ks->ints[d];
        wrank = 2 + ks->n;
    }
    *is32 = nu == 1 && coef[0] == 1 && qmax <= 127;
    uint8_t *dig = mq_malloc((size_t)(O * fan) + 1);
    if (!dig) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    int terms = 0, more = 1;
    mq_status st = MQ_OK;
    /* balanced digits in -128..127 stored + 128 (w_zero_point 128): q = sum_b 256^b d_b */
    for (int64_t place = 1; st == MQ_OK && more; place *= 256) {
        more = 0;
        for (int64_t o = 0; o < O; o++)
            for (int64_t i = 0; i < fan; i++) {
                int32_t v = q[o * fan + i];
                int32_t d = (int32_t)(((v % 256) + 256 + 128) % 256) - 128;
                q[o * fan + i] = (v - d) / 256;
                more |= q[o * fan + i] != 0;
                dig[dense ? i * O + o : o * fan + i] = (uint8_t)(d + 128);
            }
        int wid;
        st = constant(S, base, ".wdigit", MQ_U8, (int)wrank, wd, dig, &wid, err);
        for (int k = 0; st == MQ_OK && k < nu; k++) {
            int ins[4] = {u[k], wid, S->zp0, S->zp128}, y = -1;
            mq_node *nn = NULL;
            st = emit(S, dense ? "MatMulInteger" : "ConvInteger", base, ".acc32", 4, ins, &y, &nn, err);
            if (st == MQ_OK && !dense) st = copy_attrs(S, nn, n, conv_attrs, err);
            if (st == MQ_OK && *is32) {
                *acc = y;
                break;
            }
            int64_t c = coef[k] * place;
            int y64 = -1, cid, term = -1;
            if (st == MQ_OK) st = cast(S, y, MQ_I64, base, ".acc64", &y64, err);
            if (st == MQ_OK && c != 1) {
                st = scalar64(S, base, c, &cid, err);
                int mi[2] = {y64, cid};
                if (st == MQ_OK) st = emit(S, "Mul", base, ".term", 2, mi, &term, NULL, err);
            } else {
                term = y64;
            }
            if (st == MQ_OK && terms++) {
                int ai[2] = {*acc, term}, sum = -1;
                st = emit(S, "Add", base, ".sum", 2, ai, &sum, NULL, err);
                *acc = sum;
            } else if (st == MQ_OK) {
                *acc = term;
            }
        }
    }
    mq_free(dig);
    return st;
}

/* The codes of node n: the count of thresholds reached, acc[..., None] >= T[o, 1 x spatial, j] summed
 * over j (acc int64 [N, O, ...] of rank `rank`, thr [O][T]). */
static mq_status count_reached(cv *S, const mq_node *n, const char *base, int acc64, const int64_t *thr, int64_t T,
                               int rank, mq_err *err)
{
    mq_graph *g = S->g;
    int64_t cd[MQ_MAX_RANK], O = g->tensors[n->out[0]].dims[1];
    cd[0] = O;
    for (int d = 1; d < rank - 1; d++) cd[d] = 1;
    cd[rank - 1] = T;
    int tid, au = -1, ge = -1, codes = -1;
    MQ_TRY(constant(S, base, ".thresholds", MQ_I64, rank, cd, thr, &tid, err));
    int64_t axis = rank;
    int axid;
    MQ_TRY(constant(S, base, ".axis", MQ_I64, 1, (int64_t[]){1}, &axis, &axid, err));
    int ui[2] = {acc64, axid};
    MQ_TRY(emit(S, "Unsqueeze", base, ".accx", 2, ui, &au, NULL, err));
    int gi[2] = {au, tid};
    MQ_TRY(emit(S, "GreaterOrEqual", base, ".reached", 2, gi, &ge, NULL, err));
    int c32 = -1, cnt = -1;
    MQ_TRY(cast(S, ge, MQ_I32, base, ".reached32", &c32, err));
    int ri[2] = {c32, axid};
    mq_node *rn;
    MQ_TRY(emit(S, "ReduceSum", base, ".count", 2, ri, &cnt, &rn, err));
    MQ_TRY(mq_pass_set_attr_int(g, rn, "keepdims", 0, err));
    MQ_TRY(cast(S, cnt, MQ_U8, base, ".codes", &codes, err));
    S->x[n->out[0]] = (xval){X_U8, codes, -1, 1, 0, T};
    return MQ_OK;
}

static mq_status qlayer(cv *S, const mq_node *n, mq_err *err)
{
    mq_graph *g = S->g;
    const char *base = n->name;
    const mq_tensor *xt = &g->tensors[n->in[0]], *w = &g->tensors[n->in[1]];
    const mq_tensor *t = n->n_in > 2 ? &g->tensors[n->in[2]] : NULL, *yt = &g->tensors[n->out[0]];
    int64_t O = w->dims[0], group = mq_attr_int(n, "group", 1);
    int rank = yt->rank;
    if (xt->rank < 2 || w->rank != 2 || (t && (t->rank != 2 || !t->data)) || group < 1 || xt->dims[1] % group)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "not a lowered layer");
    int64_t fan = xt->dims[1] / group;
    for (int d = 2; d < xt->rank; d++) {
        int64_t k = 1;
        for (int i = 0; i < n->n_attr; i++)
            if (!strcmp(n->attrs[i].name, "kernel_shape") && n->attrs[i].n == xt->rank - 2) k = n->attrs[i].ints[d - 2];
        fan *= k;
    }
    int u[MAX_TERMS];
    int64_t coef[MAX_TERMS], qmax = 0;
    int nu;
    MQ_TRY(operands(S, n, &S->x[n->in[0]], base, u, coef, &nu, err));
    int32_t *q = mq_malloc(sizeof(int32_t) * (size_t)(O * fan) + 4);
    if (!q) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    int acc = -1, is32 = 0, logits = t && t->dtype == MQ_F32;
    mq_status st = unpack(n, w, fan, q, &qmax, err);
    if (st == MQ_OK) st = accumulate(S, n, base, q, O, fan, qmax, u, coef, nu, &acc, &is32, err);
    mq_free(q);
    MQ_TRY(st);
    if (!t) { /* the accumulator itself (int32, a residual sum's operand) */
        int a32 = acc;
        if (!is32) {
            a32 = -1;
            MQ_TRY(cast(S, acc, MQ_I32, base, ".acc", &a32, err));
        }
        S->x[n->out[0]] = (xval){X_ACC, a32, -1, 1, 0, fan * qmax * S->x[n->in[0]].bound};
        return MQ_OK;
    }
    int64_t cd[MQ_MAX_RANK];
    cd[0] = O;
    for (int d = 1; d < rank - 1; d++) cd[d] = 1;
    if (logits) { /* k * (float)acc + b, as the kernel */
        const float *kb = t->data;
        int kid, bid, af = -1, m = -1, out = n->out[0];
        cd[rank - 1] = 1;
        MQ_TRY(constant(S, base, ".k", MQ_F32, rank - 1, cd, kb, &kid, err));
        MQ_TRY(constant(S, base, ".b", MQ_F32, rank - 1, cd, kb + O, &bid, err));
        MQ_TRY(cast(S, acc, MQ_F32, base, ".accf", &af, err));
        int mi[2] = {af, kid};
        MQ_TRY(emit(S, "Mul", base, ".kacc", 2, mi, &m, NULL, err));
        int ai[2] = {m, bid};
        MQ_TRY(emit(S, "Add", base, ".logits", 2, ai, &out, NULL, err));
        return MQ_OK;
    }
    /* codes: count of thresholds reached */
    int64_t T = t->dims[1];
    int64_t *thr = mq_malloc(sizeof(int64_t) * (size_t)(O * T) + 8);
    if (!thr) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    for (int64_t i = 0; i < O * T; i++) thr[i] = t->dtype == MQ_I64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
    int acc64 = is32 ? -1 : acc;
    st = is32 ? cast(S, acc, MQ_I64, base, ".acc64", &acc64, err) : MQ_OK;
    if (st == MQ_OK) st = count_reached(S, n, base, acc64, thr, T, rank, err);
    mq_free(thr);
    return st;
}

/* ---- the residual Add and the accumulators it reads ------------------------------------------------- */

/* QAdd: Ka * int64(a) + Kb * int64(b), then the thresholds counted (int64 arithmetic, as the kernel). */
static mq_status qadd(cv *S, const mq_node *n, mq_err *err)
{
    mq_graph *g = S->g;
    const mq_tensor *p = &g->tensors[n->in[2]], *yt = &g->tensors[n->out[0]];
    int rank = yt->rank;
    int64_t O = p->dims[0], row = p->dims[1], cd[MQ_MAX_RANK];
    if (!p->data || p->rank != 2 || row < 3 || rank < 2) return mq_node_fail(err, n, MQ_ERR_INVALID, "not a lowered QAdd");
    const int64_t *par = p->data;
    int64_t *k = mq_malloc(sizeof(int64_t) * (size_t)(O * row) + 8);
    if (!k) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    cd[0] = O;
    for (int d = 1; d < rank; d++) cd[d] = 1;
    int terms[2] = {-1, -1};
    mq_status st = MQ_OK;
    for (int i = 0; st == MQ_OK && i < 2; i++) {
        const xval *x = &S->x[n->in[i]];
        int v64 = -1, kid;
        if (x->kind != X_U8 && x->kind != X_ACC && x->kind != X_SUM) {
            st = mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "operand %d is not codes or an accumulator", i);
            break;
        }
        for (int64_t o = 0; o < O; o++) k[o] = par[o * row + i];
        st = constant(S, n->name, i ? ".kb" : ".ka", MQ_I64, rank - 1, cd, k, &kid, err); /* [O, 1, ...] */
        if (st == MQ_OK) st = cast(S, x->u, MQ_I64, n->name, ".i64", &v64, err);
        int mi[2] = {v64, kid};
        if (st == MQ_OK) st = emit(S, "Mul", n->name, ".term", 2, mi, &terms[i], NULL, err);
    }
    int sum = -1;
    if (st == MQ_OK) st = emit(S, "Add", n->name, ".sum", 2, terms, &sum, NULL, err);
    for (int64_t o = 0; o < O; o++)
        for (int64_t j = 0; j < row - 2; j++) k[o * (row - 2) + j] = par[o * row + 2 + j];
    if (st == MQ_OK) st = count_reached(S, n, n->name, sum, k, row - 2, rank, err);
    mq_free(k);
    return st;
}

/* Concat of uint8 codes, or of int32 sums (X_SUM: the lowering gives every input one dtype). */
static mq_status concat(cv *S, const mq_node *n, mq_err *err)
{
    int *ins = mq_arena_array(S->g->arena, (size_t)n->n_in + 1, sizeof(int)), out = -1, kind = S->x[n->in[0]].kind;
    int64_t bound = 0;
    if (!ins) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    for (int k = 0; k < n->n_in; k++) {
        const xval *x = &S->x[n->in[k]];
        if (x->kind != kind || (kind != X_U8 && kind != X_SUM))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "Concat input %d is not uint8 codes or a sum like input 0", k);
        ins[k] = x->u;
        if (x->bound > bound) bound = x->bound;
    }
    mq_node *nn;
    MQ_TRY(emit(S, "Concat", n->name, ".cat", n->n_in, ins, &out, &nn, err));
    nn->attrs = n->attrs;
    nn->n_attr = n->n_attr;
    S->x[n->out[0]] = (xval){kind, out, -1, 1, 0, bound};
    return MQ_OK;
}

/* QRescale: Cast int64, Mul M, then with S > 0 Add 2^(S-1) and Div 2^S (the values are >= 0: truncation is
 * the floor), Cast int32: the kernel's integers (int64 arithmetic, no wrap: the lowering proves it). */
static mq_status rescale(cv *S, const mq_node *n, mq_err *err)
{
    const mq_tensor *pt = &S->g->tensors[n->in[1]];
    const xval *x = &S->x[n->in[0]];
    if ((x->kind != X_U8 && x->kind != X_SUM) || !pt->data || pt->dtype != MQ_I64 || mq_numel(pt) != 2)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "not a lowered QRescale on codes or sums");
    const int64_t *par = pt->data;
    int64_t m = par[0], sh = par[1];
    if (m < 0 || sh < 0 || sh > 62) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "multiplier or shift out of range");
    int v = -1, out = -1;
    MQ_TRY(cast(S, x->u, MQ_I64, n->name, ".i64", &v, err));
    int64_t ops[3] = {m, sh ? (int64_t)1 << (sh - 1) : 0, (int64_t)1 << sh};
    static const char *const names[3] = {"Mul", "Add", "Div"};
    for (int k = 0; k < 3; k++) {
        if ((k == 0 && m == 1) || (k > 0 && !sh)) continue;
        int ins[2] = {v, -1};
        MQ_TRY(scalar64(S, n->name, ops[k], &ins[1], err));
        v = -1;
        MQ_TRY(emit(S, names[k], n->name, ".rescale", 2, ins, &v, NULL, err));
    }
    MQ_TRY(cast(S, v, MQ_I32, n->name, ".sum", &out, err));
    uint64_t b = (uint64_t)x->bound * (uint64_t)m + (uint64_t)ops[1];
    S->x[n->out[0]] = (xval){X_SUM, out, -1, 1, 0, (int64_t)(b >> sh)};
    return MQ_OK;
}

/* QWinSum (AveragePool's window sums): ConvInteger of the codes with a depthwise all-ones kernel
 * (group = channels, zero points 0), exact in int32. */
static mq_status winsum(cv *S, const mq_node *n, mq_err *err)
{
    mq_graph *g = S->g;
    const xval *x = &S->x[n->in[0]];
    const mq_tensor *xt = &g->tensors[n->in[0]];
    const mq_attr *ks = NULL;
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attrs[i].name, "kernel_shape")) ks = &n->attrs[i];
    if (x->kind != X_U8 || !ks || ks->n != xt->rank - 2 || ks->n > 3)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "window sums not on uint8 codes");
    int64_t wd[5] = {xt->dims[1], 1, 1, 1, 1}, taps = 1;
    for (int d = 0; d < ks->n; d++) taps *= wd[2 + d] = ks->ints[d];
    uint8_t *ones = mq_malloc((size_t)(wd[0] * taps) + 1);
    if (!ones) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    memset(ones, 1, (size_t)(wd[0] * taps));
    int wid, out = -1;
    mq_status st = constant(S, n->name, ".ones", MQ_U8, 2 + ks->n, wd, ones, &wid, err);
    mq_free(ones);
    MQ_TRY(st);
    int ins[4] = {x->u, wid, S->zp0, S->zp0};
    mq_node *nn;
    static const char *const keep[] = {"kernel_shape", "strides", "pads", "dilations", "auto_pad", NULL};
    MQ_TRY(emit(S, "ConvInteger", n->name, ".winsum", 4, ins, &out, &nn, err));
    MQ_TRY(copy_attrs(S, nn, n, keep, err));
    MQ_TRY(mq_pass_set_attr_int(g, nn, "group", wd[0], err));
    S->x[n->out[0]] = (xval){X_SUM, out, -1, 1, 0, x->bound * taps};
    return MQ_OK;
}

/* QLut: Gather from the flattened table at o NY NE + (y - lo) NE + e (int64 index arithmetic). */
static mq_status qlut(cv *S, const mq_node *n, mq_err *err)
{
    mq_graph *g = S->g;
    const mq_tensor *lt = &g->tensors[n->in[2]], *yt = &g->tensors[n->out[0]];
    const xval *e = &S->x[n->in[0]], *y = &S->x[n->in[1]];
    int rank = yt->rank;
    if (!lt->data || lt->rank != 3 || rank < 2 || e->kind != X_U8 || (y->kind != X_U8 && y->kind != X_ACC && y->kind != X_SUM))
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "not a lowered QLut on codes");
    int64_t O = lt->dims[0], ny = lt->dims[1], ne = lt->dims[2], lo = mq_attr_int(n, "lo", 0), cd[MQ_MAX_RANK];
    int64_t *off = mq_malloc(sizeof(int64_t) * (size_t)O + 8);
    if (!off) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    for (int64_t o = 0; o < O; o++) off[o] = o * ny * ne - lo * ne;
    cd[0] = O;
    for (int d = 1; d < rank - 1; d++) cd[d] = 1;
    int oid, neid, y64 = -1, e64 = -1, ym = -1, s1 = -1, idx = -1, flat = -1;
    mq_status st = constant(S, n->name, ".offset", MQ_I64, rank - 1, cd, off, &oid, err);
    mq_free(off);
    MQ_TRY(st);
    int64_t total = O * ny * ne;
    MQ_TRY(constant(S, n->name, ".table", MQ_U8, 1, &total, lt->data, &flat, err));
    MQ_TRY(scalar64(S, n->name, ne, &neid, err));
    MQ_TRY(cast(S, y->u, MQ_I64, n->name, ".y64", &y64, err));
    MQ_TRY(cast(S, e->u, MQ_I64, n->name, ".e64", &e64, err));
    int mi[2] = {y64, neid};
    MQ_TRY(emit(S, "Mul", n->name, ".row", 2, mi, &ym, NULL, err));
    int ai[2] = {ym, e64};
    MQ_TRY(emit(S, "Add", n->name, ".cell", 2, ai, &s1, NULL, err));
    int bi[2] = {s1, oid};
    MQ_TRY(emit(S, "Add", n->name, ".index", 2, bi, &idx, NULL, err));
    int gi[2] = {flat, idx}, out = -1;
    MQ_TRY(emit(S, "Gather", n->name, ".codes", 2, gi, &out, NULL, err));
    S->x[n->out[0]] = (xval){X_U8, out, -1, 1, 0, 255};
    return MQ_OK;
}

/* QRequant: Gather from the table at the codes (Cast int32; clamped to the table by Min, as the kernel
 * does, only when the codes' bound is not within it). */
static mq_status requant(cv *S, const mq_node *n, mq_err *err)
{
    const mq_tensor *lt = &S->g->tensors[n->in[1]];
    const xval *x = &S->x[n->in[0]];
    if (x->kind != X_U8 || !lt->data || lt->dtype != MQ_U8 || lt->rank != 1 || lt->dims[0] < 1)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "not a lowered QRequant on codes");
    int64_t m = lt->dims[0], bound = 0;
    int x32 = -1, out = -1;
    MQ_TRY(cast(S, x->u, MQ_I32, n->name, ".i32", &x32, err));
    if (x->bound >= m) {
        int32_t last = (int32_t)(m - 1);
        int mi[2] = {x32, -1};
        MQ_TRY(constant(S, n->name, ".last", MQ_I32, 0, NULL, &last, &mi[1], err));
        x32 = -1;
        MQ_TRY(emit(S, "Min", n->name, ".clamp", 2, mi, &x32, NULL, err));
    }
    int gi[2] = {n->in[1], x32};
    MQ_TRY(emit(S, "Gather", n->name, ".codes", 2, gi, &out, NULL, err));
    for (int64_t c = 0; c < m && c <= x->bound; c++)
        if (((const uint8_t *)lt->data)[c] > bound) bound = ((const uint8_t *)lt->data)[c];
    S->x[n->out[0]] = (xval){X_U8, out, -1, 1, 0, bound};
    return MQ_OK;
}

/* ---- the other nodes ----------------------------------------------------------------------------------- */

/* A standard node on codes (Flatten, Reshape, ...) applied to xv's tensors. */
static mq_status reshape_like(cv *S, const mq_node *n, mq_err *err)
{
    xval x = S->x[n->in[0]];
    int *tens[2] = {&x.u, x.kind == X_PIX ? &x.mask : NULL};
    for (int k = 0; k < 2; k++) {
        if (!tens[k]) continue;
        int ins[8], out = -1;
        if (n->n_in > 8) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "too many inputs");
        memcpy(ins, n->in, sizeof(int) * (size_t)n->n_in);
        ins[0] = *tens[k];
        mq_node *nn = NULL;
        const mq_op_def *def = mq_op_find("", n->op_type, OPSET, NULL);
        if (!def || (n->opset < 13 && strstr(n->op_type, "queeze")))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "needs the model at opset >= 13");
        MQ_TRY(emit(S, n->op_type, n->name, k ? ".mask" : ".x", n->n_in, ins, &out, &nn, err));
        if (n->n_attr) {
            nn->attrs = n->attrs;
            nn->n_attr = n->n_attr;
        }
        *tens[k] = out;
    }
    S->x[n->out[0]] = x;
    return MQ_OK;
}

static mq_status visit(cv *S, int i, mq_err *err)
{
    mq_graph *g = S->g;
    const mq_node *n = &g->nodes[i];
    const char *op = n->op_type;
    int maqd = n->domain && !strcmp(n->domain, MQ_MAQD_DOMAIN);
    xval *x = &S->x[n->in[0]];
    if (maqd && !strcmp(op, "QInput")) {
        xval v = {X_PIX, n->in[0], -1, mq_attr_int(n, "mul", 1), mq_attr_int(n, "zero", 0), 255};
        if (v.zero) { /* mask = 1 at every input element: Cast(Cast(p, int32) >= 0, uint8) */
            int32_t z = 0;
            int p32 = -1, zid, ge = -1;
            MQ_TRY(cast(S, n->in[0], MQ_I32, n->name, ".i32", &p32, err));
            MQ_TRY(constant(S, n->name, ".zero", MQ_I32, 0, NULL, &z, &zid, err));
            int gi[2] = {p32, zid};
            MQ_TRY(emit(S, "GreaterOrEqual", n->name, ".inside", 2, gi, &ge, NULL, err));
            MQ_TRY(cast(S, ge, MQ_U8, n->name, ".mask", &v.mask, err));
        }
        S->x[n->out[0]] = v;
    } else if (maqd && !strcmp(op, "QLayer")) {
        MQ_TRY(qlayer(S, n, err));
    } else if (maqd && !strcmp(op, "QWinSum")) {
        MQ_TRY(winsum(S, n, err));
    } else if (maqd && !strcmp(op, "QLut")) {
        MQ_TRY(qlut(S, n, err));
    } else if (maqd && !strcmp(op, "QRequant")) {
        MQ_TRY(requant(S, n, err));
    } else if (maqd && !strcmp(op, "QRescale")) {
        MQ_TRY(rescale(S, n, err));
    } else if (maqd && !strcmp(op, "QAdd")) {
        MQ_TRY(qadd(S, n, err));
    } else if (!maqd && !strcmp(op, "Concat")) {
        MQ_TRY(concat(S, n, err));
    } else if (maqd && !strcmp(op, "QMaxPool") && x->kind == X_U8) {
        int out = -1;
        mq_node *nn = NULL;
        MQ_TRY(emit(S, "MaxPool", n->name, ".pool", 1, &x->u, &out, &nn, err));
        MQ_TRY(copy_attrs(S, nn, n, pool_attrs, err));
        S->x[n->out[0]] = (xval){X_U8, out, -1, 1, 0, x->bound};
    } else if (maqd && !strcmp(op, "QSum") && x->kind == X_U8) {
        const mq_tensor *xt = &g->tensors[n->in[0]];
        int64_t axes[MQ_MAX_RANK], plane = 1;
        for (int d = 2; d < xt->rank; d++) {
            axes[d - 2] = d;
            plane *= xt->dims[d];
        }
        int x32 = -1, aid, s = -1;
        int64_t na = xt->rank - 2;
        MQ_TRY(cast(S, x->u, MQ_I32, n->name, ".i32", &x32, err));
        MQ_TRY(constant(S, n->name, ".axes", MQ_I64, 1, &na, axes, &aid, err));
        int ri[2] = {x32, aid};
        MQ_TRY(emit(S, "ReduceSum", n->name, ".sum", 2, ri, &s, NULL, err));
        S->x[n->out[0]] = (xval){X_SUM, s, -1, 1, 0, x->bound * plane};
    } else if (!maqd && x->kind && (!strcmp(op, "Flatten") || !strcmp(op, "Reshape") || !strcmp(op, "Squeeze") ||
                                    !strcmp(op, "Unsqueeze"))) {
        MQ_TRY(reshape_like(S, n, err));
    } else {
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "not an op of the integer program");
    }
    return MQ_OK;
}

mq_status mq_int_to_onnx(mq_graph *g, mq_err *err)
{
    if (!g || g->n_inputs != 1) return mq_fail(err, MQ_ERR_INVALID, "onnx export: needs the lowered integer program");
    int n0 = g->n_nodes;
    MQ_TRY(mq_pass_reserve(g, 64 * n0 + 16, 64 * n0 + 16, err));
    cv S = {g, NULL, -1, -1};
    S.x = mq_calloc((size_t)g->n_tensors + 1, sizeof *S.x);
    if (!S.x) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    uint8_t z0 = 0, z128 = 128;
    mq_status st = constant(&S, "int", ".zp0", MQ_U8, 0, NULL, &z0, &S.zp0, err);
    if (st == MQ_OK) st = constant(&S, "int", ".zp128", MQ_U8, 0, NULL, &z128, &S.zp128, err);
    for (int i = 0; st == MQ_OK && i < n0; i++) st = visit(&S, i, err);
    mq_free(S.x);
    MQ_TRY(st);
    unsigned char *drop = mq_calloc((size_t)g->n_nodes + 1, 1);
    if (!drop) return mq_fail(err, MQ_ERR_NOMEM, "onnx export: out of memory");
    memset(drop, 1, (size_t)n0);
    mq_pass_remove_nodes(g, drop);
    mq_free(drop);
    /* the default domain at OPSET at least; the ai.maqd import is dropped by the writer */
    int have = 0;
    for (int i = 0; i < g->n_opsets; i++) {
        const char *d = g->opsets[i].domain ? g->opsets[i].domain : "";
        if (!d[0] || !strcmp(d, "ai.onnx")) {
            have = 1;
            if (g->opsets[i].version < OPSET) g->opsets[i].version = OPSET;
        }
    }
    if (!have) MQ_TRY(mq_pass_use_domain(g, "", OPSET, err));
    if (g->opset < OPSET) g->opset = OPSET;
    return mq_pass_reinfer(g, 0, err);
}
