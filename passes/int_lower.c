/* int_lower.c: the integer lowering of a fine-tuned MaQD model (int_lower.h, docs/INTEGER.md): every
 * float tensor gets a meaning in integers (codes times a scale, or a pending per-channel affine map of
 * an integer accumulator), node by node; the activation quantizer turns the map into thresholds. */
#include "passes/int_lower.h"

#include "core/op.h"
#include "ops/maqd.h"
#include "passes/passes.h"
#include "runtime/kernels/qint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { R_FLOAT = 0, R_Q, R_P, R_PF, R_S, R_SF };

/* The integer meaning of a float tensor of the original graph. R_Q: value = scale * code, code in
 * integer tensor t with |code| <= bound. R_P: value = k[o] * acc[o] + b[o] for layer `layer`'s
 * accumulator; R_PF: floor of that. R_S: value = ca[o] * A + cb[o] * B + b[o] of two integer tensors
 * (sum `layer`, a residual Add); R_SF: floor of that. */
typedef struct rep {
    int kind;
    int t;
    double scale;
    int64_t bound;
    int layer;
    mq_dtype dt;         /* R_Q: the integer tensor's dtype */
    int neg;             /* R_Q: the integers may be negative (the 8-bit input's fixed point) */
} rep;

typedef struct qlayer {
    int node;            /* the original Conv/Gemm/MatMul */
    int x;               /* integer input tensor */
    int64_t in_bound, fan;
    int O, nd, exact, acc64;
    int64_t kernel[3];
    int32_t *q;          /* [O][fan] weight codes */
    double *k, *b;       /* per output channel */
    mq_dtype xdt;        /* the integer input's dtype */
} qlayer;

/* A residual sum (R_S): value[o] = c[0][o] * t[0] + c[1][o] * t[1] + b[o], |t[i]| <= bound[i] (0 <=
 * t[i] when nonneg[i]); operand i is the accumulator of layer[i] when >= 0 (made when the sum is
 * quantized), else the integer tensor t[i]. */
typedef struct qsumrep {
    int t[2], layer[2], nonneg[2], O;
    int64_t bound[2];
    double *c[2], *b;
} qsumrep;

typedef struct lw {
    mq_graph *g;
    mq_int_stats *st;
    rep *rep;
    int *consumers;
    qlayer *layers;
    int n_layers;
    qsumrep *sums;
    int n_sums;
} lw;

static int is_default(const mq_node *n) { return !n->domain || !n->domain[0] || !strcmp(n->domain, "ai.onnx"); }
static int is_op(const mq_node *n, const char *op) { return is_default(n) && !strcmp(n->op_type, op); }
static int is_maqd(const mq_node *n, const char *op)
{
    return n->domain && !strcmp(n->domain, MQ_MAQD_DOMAIN) && !strcmp(n->op_type, op);
}

static const float *cdata(const mq_graph *g, int t) { return mq_pass_is_f32_const(g, t, -1) ? g->tensors[t].data : NULL; }

/* A float constant that broadcasts per channel (axis 1) against a tensor of rank `rank` with O channels:
 * v[o] for every o. 0 if it does not. */
static int per_channel(const mq_graph *g, int t, int rank, int O, double *v)
{
    const float *d = cdata(g, t);
    if (!d) return 0;
    const mq_tensor *c = &g->tensors[t];
    int64_t ne = mq_numel(c);
    if (ne == 1) {
        for (int o = 0; o < O; o++) v[o] = d[0];
        return 1;
    }
    if (ne != O || c->rank > rank) return 0;
    for (int k = 0; k < c->rank; k++) {
        int axis = rank - c->rank + k;
        if (c->dims[k] != 1 && axis != 1) return 0;
    }
    for (int o = 0; o < O; o++) v[o] = d[o];
    return 1;
}

static mq_status new_tensor(lw *L, const char *base, const char *suffix, int *id, mq_err *err)
{
    const char *name = mq_pass_unique_name(L->g, base, suffix);
    int t = name ? mq_graph_tensor(L->g, name) : -1;
    if (t < 0) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: no room for tensor '%s%s'", base, suffix);
    L->g->tensors[t].producer = -1;
    *id = t;
    return MQ_OK;
}

static mq_status new_const(lw *L, const char *base, const char *suffix, mq_dtype dt, int rank, const int64_t *dims,
                           const void *data, int *id, mq_err *err)
{
    MQ_TRY(new_tensor(L, base, suffix, id, err));
    mq_tensor *t = &L->g->tensors[*id];
    t->dtype = dt;
    mq_tensor_set_shape(t, rank, dims);
    size_t nb = mq_nbytes(t);
    t->data = mq_arena_alloc(L->g->arena, nb ? nb : 1);
    if (!t->data) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    if (nb) memcpy(t->data, data, nb);
    t->is_const = 1;
    return MQ_OK;
}

/* A node of op `op` (ai.maqd, or the default domain when `std` is set with that opset), its attributes
 * copied from attr_src (may be NULL). */
static mq_status new_node(lw *L, const char *op, int std, int opset, const char *name, int n_in, const int *ins,
                          int out, const mq_node *attr_src, mq_node **nn, mq_err *err)
{
    mq_graph *g = L->g;
    const char *dom = std ? "" : MQ_MAQD_DOMAIN;
    int ver = std ? opset : 1;
    const mq_op_def *def = mq_op_find(dom, op, ver, NULL);
    int *io = mq_arena_array(g->arena, (size_t)n_in + 1, sizeof(int));
    mq_node *n = mq_graph_add_node(g);
    const char *nm = mq_pass_unique_name(g, name, std ? "" : ".int");
    if (!def) return mq_fail(err, MQ_ERR_UNSUPPORTED, "int lowering: op %s is not registered", op);
    if (!io || !n || !nm) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: no room for a node");
    memcpy(io, ins, sizeof(int) * (size_t)n_in);
    io[n_in] = out;
    memset(n, 0, sizeof *n);
    n->name = nm;
    n->op_type = def->op_type;
    n->domain = dom;
    n->opset = ver;
    n->def = def;
    n->n_in = n_in;
    n->in = io;
    n->n_out = 1;
    n->out = io + n_in;
    if (attr_src && attr_src->n_attr) {
        mq_attr *a = mq_arena_array(g->arena, (size_t)attr_src->n_attr, sizeof(mq_attr));
        if (!a) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
        memcpy(a, attr_src->attrs, sizeof(mq_attr) * (size_t)attr_src->n_attr);
        n->attrs = a;
        n->n_attr = attr_src->n_attr;
    }
    *nn = n;
    return MQ_OK;
}

static mq_status set_ints(mq_graph *g, mq_node *n, const char *name, const int64_t *v, int count, mq_err *err)
{
    MQ_TRY(mq_pass_set_attr_int(g, n, name, 0, err)); /* find or append, then make it a list */
    for (int k = 0; k < n->n_attr; k++)
        if (!strcmp(n->attrs[k].name, name)) {
            int64_t *c = mq_arena_array(g->arena, (size_t)count + 1, sizeof(int64_t));
            if (!c) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
            memcpy(c, v, sizeof(int64_t) * (size_t)count);
            n->attrs[k].type = MQ_ATTR_INTS;
            n->attrs[k].ints = c;
            n->attrs[k].n = count;
        }
    return MQ_OK;
}

/* ---- weights ---------------------------------------------------------------------------------------- */

/* Channel weights already on a grid (a quantized layer): every w / s an integer of magnitude <= 255, s
 * the smallest non-zero magnitude. */
static int grid_codes(const float *w, int64_t fan, int32_t *q, double *s)
{
    double mn = INFINITY;
    for (int64_t i = 0; i < fan; i++) {
        double a = fabs(w[i]);
        if (a > 0 && a < mn) mn = a;
    }
    if (!isfinite(mn)) mn = 1;
    for (int64_t i = 0; i < fan; i++) {
        double r = w[i] / mn, rr = nearbyint(r);
        if (!(fabs(r - rr) <= 1e-3) || fabs(rr) > 255) return 0;
        q[i] = (int32_t)rr;
    }
    *s = mn;
    return 1;
}

#define ACC_LIMIT ((int64_t)INT32_MAX - 1) /* |acc| stays below INT32_MAX: a threshold of INT32_MAX is never reached */
#define WIDE_QMAX (((int64_t)1 << 23) - 1) /* float weights become 24-bit codes */
#define ACC_OUT (-1)                       /* finish_layer: the QLayer returns its int32 accumulator */

/* Layer weights w [O][fan] into codes and per-channel scales s (k = s * in_scale). */
static void layer_weights(qlayer *ly, const float *w, double *s)
{
    ly->exact = 1;
    for (int o = 0; o < ly->O && ly->exact; o++)
        ly->exact = grid_codes(w + (size_t)o * (size_t)ly->fan, ly->fan, ly->q + (size_t)o * (size_t)ly->fan, &s[o]);
    if (ly->exact) return;
    /* float weights (an exempt first/last layer): 24-bit integers (float32's precision) into int64 */
    int64_t qmax = WIDE_QMAX;
    ly->acc64 = 1;
    for (int o = 0; o < ly->O; o++) {
        const float *wo = w + (size_t)o * (size_t)ly->fan;
        double mx = 0;
        for (int64_t i = 0; i < ly->fan; i++)
            if (fabs(wo[i]) > mx) mx = fabs(wo[i]);
        s[o] = mx > 0 ? mx / (double)qmax : 1;
        for (int64_t i = 0; i < ly->fan; i++) ly->q[(size_t)o * (size_t)ly->fan + (size_t)i] = (int32_t)lrint(wo[i] / s[o]);
    }
}

/* Conv / Gemm / MatMul with constant weights on integer codes: a pending layer. */
static mq_status start_layer(lw *L, int i, mq_err *err)
{
    mq_graph *g = L->g;
    const mq_node *n = &g->nodes[i];
    const rep *rx = &L->rep[n->in[0]];
    int wid = n->in[1];
    const float *w = cdata(g, wid);
    if (rx->kind != R_Q) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "input is not integer codes (no quantizer before it)");
    if (!w) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "weights are not constant");
    const mq_tensor *wt = &g->tensors[wid], *xt = &g->tensors[n->in[0]];
    qlayer *ly = &L->layers[L->n_layers];
    memset(ly, 0, sizeof *ly);
    ly->node = i;
    ly->x = rx->t;
    ly->xdt = rx->dt;
    ly->in_bound = rx->bound;
    float *tw = NULL; /* [O][fan] when the weight is stored [K][O] */
    double alpha = 1, beta = 1;
    if (is_op(n, "Conv")) {
        ly->nd = wt->rank - 2;
        ly->O = (int)wt->dims[0];
        ly->fan = 1;
        for (int d = 1; d < wt->rank; d++) ly->fan *= wt->dims[d];
        for (int d = 0; d < ly->nd && d < 3; d++) ly->kernel[d] = wt->dims[2 + d];
        if (ly->nd < 1 || ly->nd > 3) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "Conv with %d spatial dims", ly->nd);
    } else {
        int trans = is_op(n, "Gemm") ? (int)mq_attr_int(n, "transB", 0) : 0;
        if (wt->rank != 2 || xt->rank != 2 || (is_op(n, "Gemm") && mq_attr_int(n, "transA", 0)))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "only [N, K] x [K, O] products (rank 2, no transA)");
        ly->nd = 0;
        ly->O = (int)wt->dims[trans ? 0 : 1];
        ly->fan = wt->dims[trans ? 1 : 0];
        if (!trans) {
            tw = mq_malloc(sizeof(float) * (size_t)ly->O * (size_t)ly->fan + 1);
            if (!tw) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
            for (int64_t kk = 0; kk < ly->fan; kk++)
                for (int o = 0; o < ly->O; o++) tw[(size_t)o * (size_t)ly->fan + (size_t)kk] = w[(size_t)kk * (size_t)ly->O + (size_t)o];
            w = tw;
        }
        if (is_op(n, "Gemm")) {
            alpha = mq_attr_float(n, "alpha", 1.0f);
            beta = mq_attr_float(n, "beta", 1.0f);
        }
    }
    ly->q = mq_malloc(sizeof(int32_t) * (size_t)ly->O * (size_t)ly->fan + 4);
    ly->k = mq_malloc(sizeof(double) * (size_t)ly->O + 8);
    ly->b = mq_malloc(sizeof(double) * (size_t)ly->O + 8);
    L->n_layers++; /* owned now: freed at the end whatever happens */
    if (!ly->q || !ly->k || !ly->b) {
        mq_free(tw);
        return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    }
    layer_weights(ly, w, ly->k);
    mq_free(tw);
    for (int o = 0; o < ly->O; o++) {
        ly->k[o] *= rx->scale * alpha;
        ly->b[o] = 0;
    }
    int bias = n->n_in > 2 ? n->in[2] : -1;
    if (bias >= 0) {
        const mq_tensor *bt = &g->tensors[bias];
        const float *bd = cdata(g, bias);
        if (!bd || (mq_numel(bt) != ly->O && mq_numel(bt) != 1))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "bias must be a constant per output channel");
        for (int o = 0; o < ly->O; o++) ly->b[o] = beta * bd[mq_numel(bt) == 1 ? 0 : o];
    }
    rep *ro = &L->rep[n->out[0]];
    ro->kind = R_P;
    ro->layer = L->n_layers - 1;
    return MQ_OK;
}

/* ---- materializing a layer --------------------------------------------------------------------------- */

/* The QLayer node of a pending layer: thresholds for m_out states (floor semantics: code >= j iff
 * k acc + b >= j; or the thresholds `given` [O][m_out - 1], nondecreasing, for the accumulator as it
 * is), float output (m_out 0) or the int32 accumulator itself (m_out -1, ACC_OUT) into tensor `out`. */
static mq_status finish_layer(lw *L, qlayer *ly, int m_out, const int64_t *given, int out, mq_err *err)
{
    mq_graph *g = L->g;
    const mq_node *src = &g->nodes[ly->node];
    size_t O = (size_t)ly->O, fan = (size_t)ly->fan;
    int64_t *thr = NULL;
    float *kb = NULL;
    uint8_t *packed = NULL;
    mq_status st = MQ_OK;
    /* the code encoding: all odd codes (even numbers of states) need one bit less */
    int64_t qmax = 0;
    int all_odd = 1;
    for (size_t i = 0; i < O * fan; i++) {
        int64_t a = ly->q[i] < 0 ? -(int64_t)ly->q[i] : ly->q[i];
        if (a > qmax) qmax = a;
        if (!(a & 1)) all_odd = 0;
    }
    if (O * fan == 0) all_odd = 0;
    int64_t wmul = all_odd ? 2 : 1, n_eff = all_odd ? qmax + 1 : 2 * qmax + 1, bits = 1;
    while (((int64_t)1 << bits) < n_eff) bits++;
    /* int32 accumulation when it cannot overflow, else int64 (wide weights, huge fan-in) */
    double bound = (double)ly->fan * (double)qmax * (double)(ly->in_bound > 0 ? ly->in_bound : 1);
    int acc64 = ly->acc64 || bound > (double)ACC_LIMIT || bits > 16;
    double lim = acc64 ? 9.2e18 : (double)INT32_MAX;
    if (bits > 24 || bound > 9.0e18)
        return mq_node_fail(err, src, MQ_ERR_UNSUPPORTED, "weight codes beyond 24 bits or an int64 accumulator overflow");
    if (m_out == ACC_OUT && acc64)
        return mq_node_fail(err, src, MQ_ERR_UNSUPPORTED, "a residual operand needs an int32 accumulator (codes of <= 16 bits)");
    if (m_out > 0) {
        thr = mq_malloc(sizeof(int64_t) * O * (size_t)(m_out - 1) + 8);
        if (!thr) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
        for (size_t o = 0; given && o < O; o++)
            for (int j = 1; j < m_out; j++) thr[o * (size_t)(m_out - 1) + (size_t)(j - 1)] = given[o * (size_t)(m_out - 1) + (size_t)(j - 1)];
        for (size_t o = 0; !given && o < O; o++) {
            double k = ly->k[o], b = ly->b[o];
            if (k < 0) { /* reversed: negate the channel's weights, so acc grows with the value */
                for (size_t i = 0; i < fan; i++) ly->q[o * fan + i] = -ly->q[o * fan + i];
                k = -k;
            }
            for (int j = 1; j < m_out; j++) {
                double t;
                if (k == 0) t = b >= j ? -INFINITY : INFINITY; /* a constant code */
                else t = ceil((j - b) / k);
                /* beyond the accumulator's range: always or never reached */
                thr[o * (size_t)(m_out - 1) + (size_t)(j - 1)] =
                    !(t > -lim) ? (acc64 ? INT64_MIN : INT32_MIN) : t >= lim ? (acc64 ? INT64_MAX : INT32_MAX) : (int64_t)t;
            }
        }
        if (!acc64) { /* narrowed in place to int32 */
            int32_t *t32 = (int32_t *)thr;
            for (size_t i = 0; i < O * (size_t)(m_out - 1); i++) t32[i] = (int32_t)thr[i];
        }
    } else if (m_out == 0) {
        kb = mq_malloc(sizeof(float) * 2 * O + 4);
        if (!kb) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
        for (size_t o = 0; o < O; o++) {
            kb[o] = (float)ly->k[o];
            kb[O + o] = (float)ly->b[o];
        }
    }
    size_t rowb = mqk_qint_row_bytes(fan, (int)bits);
    if (st == MQ_OK) {
        packed = mq_calloc(O * rowb + 1, 1);
        if (!packed) st = mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    }
    for (size_t o = 0; st == MQ_OK && o < O; o++)
        for (size_t i = 0; i < fan; i++) {
            uint32_t c = (uint32_t)((ly->q[o * fan + i] + qmax) / wmul);
            size_t bit = i * (size_t)bits;
            for (int b = 0; b < bits; b++, bit++)
                if ((c >> b) & 1) packed[o * rowb + bit / 8] |= (uint8_t)(1u << (bit % 8));
        }
    int wid = -1, tid = -1;
    const char *base = src->name[0] ? src->name : g->tensors[src->out[0]].name;
    if (st == MQ_OK) {
        int64_t wd[2] = {(int64_t)O, (int64_t)rowb};
        st = new_const(L, base, ".wpacked", MQ_U8, 2, wd, packed, &wid, err);
    }
    if (st == MQ_OK && m_out > 0) {
        int64_t td[2] = {(int64_t)O, m_out - 1};
        st = new_const(L, base, ".thresholds", acc64 ? MQ_I64 : MQ_I32, 2, td, thr, &tid, err);
    } else if (st == MQ_OK && m_out == 0) {
        int64_t td[2] = {2, (int64_t)O};
        st = new_const(L, base, ".kb", MQ_F32, 2, td, kb, &tid, err);
    }
    mq_free(thr);
    mq_free(kb);
    mq_free(packed);
    MQ_TRY(st);
    if (L->st) {
        L->st->layers++;
        L->st->exact_layers += ly->exact;
        L->st->wide_layers += !ly->exact;
        L->st->weight_bytes += O * rowb;
        L->st->threshold_bytes += m_out > 0 ? O * (size_t)(m_out - 1) * (acc64 ? 8 : 4) : m_out ? 0 : 2 * O * 4;
    }
    int ins[3] = {ly->x, wid, tid};
    mq_node *nn;
    MQ_TRY(new_node(L, "QLayer", 0, 1, base, m_out == ACC_OUT ? 2 : 3, ins, out, ly->nd ? &g->nodes[ly->node] : NULL,
                    &nn, err));
    if (ly->nd) {
        MQ_TRY(set_ints(g, nn, "kernel_shape", ly->kernel, ly->nd, err));
    } else {
        MQ_TRY(mq_pass_set_attr_int(g, nn, "group", 1, err));
    }
    MQ_TRY(mq_pass_set_attr_int(g, nn, "bits", bits, err));
    MQ_TRY(mq_pass_set_attr_int(g, nn, "wmul", wmul, err));
    MQ_TRY(mq_pass_set_attr_int(g, nn, "woff", qmax, err));
    MQ_TRY(mq_pass_set_attr_int(g, nn, "acc64", acc64, err));
    if (ly->xdt == MQ_U8 && ly->in_bound >= 1 && ly->in_bound <= 255) /* codes 0..bound: the op may choose */
        MQ_TRY(mq_pass_set_attr_int(g, nn, "xmax", ly->in_bound, err)); /* the popcount kernel (ops/maqd_int.c) */
    return MQ_OK;
}

/* ---- the walk --------------------------------------------------------------------------------------- */

static int other_input(const mq_node *n, int which) { return n->in[which ? 0 : 1]; }

/* Mul / Add / Sub / Div with one constant operand on a pending layer or on codes. */
static mq_status affine(lw *L, const mq_node *n, mq_err *err)
{
    mq_graph *g = L->g;
    int which = -1;
    for (int k = 0; k < 2; k++)
        if (L->rep[n->in[k]].kind != R_FLOAT) which = k;
    rep *r = &L->rep[n->in[which]], *ro = &L->rep[n->out[0]];
    int c = other_input(n, which);
    const char *op = n->op_type;
    if (r->kind == R_Q) { /* codes times a positive scalar: a new scale */
        const float *d = cdata(g, c);
        if (!d || mq_numel(&g->tensors[c]) != 1 || !(d[0] > 0) || which != 0 ||
            (strcmp(op, "Mul") && strcmp(op, "Div")))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "codes can only be scaled by a positive constant");
        *ro = *r;
        ro->scale = !strcmp(op, "Mul") ? r->scale * d[0] : r->scale / d[0];
        return MQ_OK;
    }
    if (r->kind != R_P && r->kind != R_S)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "not a per-channel affine map of a layer");
    /* the map's coefficients (one per integer operand) and its offset */
    int O = r->kind == R_P ? L->layers[r->layer].O : L->sums[r->layer].O;
    double *ks[2] = {NULL, NULL}, *bb;
    if (r->kind == R_P) {
        ks[0] = L->layers[r->layer].k;
        bb = L->layers[r->layer].b;
    } else {
        ks[0] = L->sums[r->layer].c[0];
        ks[1] = L->sums[r->layer].c[1];
        bb = L->sums[r->layer].b;
    }
    double *v = mq_malloc(sizeof(double) * (size_t)O + 8);
    if (!v) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    int rank = g->tensors[n->out[0]].rank;
    mq_status st = MQ_OK;
    if (!per_channel(g, c, rank, O, v) || (!strcmp(op, "Div") && which != 0)) {
        st = mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "operand is not a constant per output channel");
    } else {
        for (int o = 0; o < O; o++) {
            if (!strcmp(op, "Mul")) {
                for (int t = 0; t < 2 && ks[t]; t++) ks[t][o] *= v[o];
                bb[o] *= v[o];
            } else if (!strcmp(op, "Div")) {
                for (int t = 0; t < 2 && ks[t]; t++) ks[t][o] /= v[o];
                bb[o] /= v[o];
            } else if (!strcmp(op, "Add")) {
                bb[o] += v[o];
            } else if (which == 0) { /* x - c */
                bb[o] -= v[o];
            } else { /* c - x */
                for (int t = 0; t < 2 && ks[t]; t++) ks[t][o] = -ks[t][o];
                bb[o] = v[o] - bb[o];
            }
        }
        *ro = *r;
    }
    mq_free(v);
    return st;
}

/* y = a[c] x + shift[c] (BatchNormalization or eval-mode LayerBatchNorm) on a pending layer. */
static mq_status norm(lw *L, const mq_node *n, mq_err *err)
{
    mq_graph *g = L->g;
    rep *r = &L->rep[n->in[0]];
    if (r->kind != R_P) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "normalization not after a layer");
    qlayer *ly = &L->layers[r->layer];
    int lbn = is_maqd(n, "LayerBatchNorm");
    if (n->n_out > 1 || (lbn && mq_attr_int(n, "training", 0)))
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "training-mode normalization");
    const float *p[4];
    for (int k = 0; k < 4; k++) {
        p[k] = cdata(g, n->in[k + 1]);
        int64_t want = lbn && k >= 2 ? 1 : ly->O;
        if (!p[k] || mq_numel(&g->tensors[n->in[k + 1]]) != want)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "parameters must be constants");
    }
    double eps = mq_attr_float(n, "epsilon", 1e-5f);
    for (int o = 0; o < ly->O; o++) {
        double mean = lbn ? p[2][0] : p[2][o], var = lbn ? p[3][0] : p[3][o];
        double a = p[0][o] / sqrt(var + eps);
        ly->k[o] *= a;
        ly->b[o] = a * (ly->b[o] - mean) + p[1][o];
    }
    L->rep[n->out[0]] = *r;
    return MQ_OK;
}

/* n's output: uint8 codes of m states in tensor t with scale `scale`. */
static mq_status codes_rep(lw *L, const mq_node *n, int t, int m, double scale)
{
    rep *ro = &L->rep[n->out[0]];
    memset(ro, 0, sizeof *ro);
    ro->kind = R_Q;
    ro->t = t;
    ro->scale = scale;
    ro->bound = m - 1;
    ro->dt = MQ_U8;
    return MQ_OK;
}

/* Clip(0, m-1) of Floor(k acc + b), or ActQuant: the thresholds, and codes with scale `scale`. */
static mq_status quantize(lw *L, const mq_node *n, int layer, int m, double scale, mq_err *err)
{
    int t = -1; /* set by the add below (gcc -O3 cannot see it) */
    const char *base = L->g->tensors[n->out[0]].name;
    MQ_TRY(new_tensor(L, base, ".codes", &t, err));
    MQ_TRY(finish_layer(L, &L->layers[layer], m, NULL, t, err));
    return codes_rep(L, n, t, m, scale);
}

static mq_status clip_bounds(const mq_graph *g, const mq_node *n, double *lo, double *hi)
{
    if (n->opset < 11) {
        *lo = mq_attr_float(n, "min", -INFINITY);
        *hi = mq_attr_float(n, "max", INFINITY);
        return MQ_OK;
    }
    const float *a = n->n_in > 1 && n->in[1] >= 0 ? cdata(g, n->in[1]) : NULL;
    const float *b = n->n_in > 2 && n->in[2] >= 0 ? cdata(g, n->in[2]) : NULL;
    *lo = a ? a[0] : -INFINITY;
    *hi = b ? b[0] : INFINITY;
    return MQ_OK;
}

/* A node on codes that keeps them codes: a copy of it on the integer tensor. */
static mq_status on_codes(lw *L, const mq_node *n, const char *op, const mq_node *attrs, mq_err *err)
{
    rep r = L->rep[n->in[0]];
    int t = -1, ins[8];
    if (n->n_in > 8) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "too many inputs");
    MQ_TRY(new_tensor(L, L->g->tensors[n->out[0]].name, ".codes", &t, err));
    for (int k = 0; k < n->n_in; k++) ins[k] = n->in[k];
    ins[0] = r.t;
    mq_node *nn;
    int std = op == NULL;
    MQ_TRY(new_node(L, std ? n->op_type : op, std, n->opset, n->name[0] ? n->name : L->g->tensors[n->out[0]].name,
                    std ? n->n_in : 1, ins, t, attrs, &nn, err));
    r.t = t;
    L->rep[n->out[0]] = r;
    return MQ_OK;
}

/* ---- residual Add: a sum of two integer tensors ------------------------------------------------------ */

/* The largest |weight code| of a layer. */
static int64_t layer_qmax(const qlayer *ly)
{
    int64_t qmax = 0;
    for (size_t i = 0; i < (size_t)ly->O * (size_t)ly->fan; i++) {
        int64_t a = ly->q[i] < 0 ? -(int64_t)ly->q[i] : ly->q[i];
        if (a > qmax) qmax = a;
    }
    return qmax;
}

/* One operand of a residual Add: value = c t + b, |t| <= bound: codes as they are (c = scale), or a
 * pending layer's accumulator (c = k, made later: acc_tensor). */
static mq_status sum_operand(lw *L, const mq_node *n, int which, qsumrep *s, double *b, mq_err *err)
{
    const rep *r = &L->rep[n->in[which]];
    int O = s->O;
    s->layer[which] = -1;
    if (r->kind == R_Q) {
        s->t[which] = r->t;
        s->bound[which] = r->bound;
        s->nonneg[which] = r->dt == MQ_U8;
        for (int o = 0; o < O; o++) s->c[which][o] = r->scale, b[o] = 0;
        return MQ_OK;
    }
    if (r->kind != R_P) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "operand %d is neither codes nor a layer's output", which);
    qlayer *ly = &L->layers[r->layer];
    if (ly->O != O) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "operand %d has %d channels, not %d", which, ly->O, O);
    double bound = (double)ly->fan * (double)layer_qmax(ly) * (double)(ly->in_bound > 0 ? ly->in_bound : 1);
    if (bound > (double)ACC_LIMIT) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "operand %d: the accumulator may overflow int32", which);
    s->layer[which] = r->layer;
    s->t[which] = -1;
    s->bound[which] = (int64_t)bound;
    s->nonneg[which] = 0;
    for (int o = 0; o < O; o++) s->c[which][o] = ly->k[o], b[o] = ly->b[o];
    return MQ_OK;
}

/* A pending layer's int32 accumulator as a tensor: its QLayer (packed weight codes, the layer kernel)
 * with the accumulator as output. */
static mq_status acc_tensor(lw *L, qlayer *ly, int *t, mq_err *err)
{
    const mq_node *src = &L->g->nodes[ly->node];
    MQ_TRY(new_tensor(L, src->name[0] ? src->name : L->g->tensors[src->out[0]].name, ".acc", t, err));
    MQ_TRY(finish_layer(L, ly, ACC_OUT, NULL, *t, err));
    if (L->st) L->st->acc_layers++;
    return MQ_OK;
}

/* Add of two integer operands (a residual connection): a sum that a quantizer must end. */
static mq_status residual_add(lw *L, const mq_node *n, mq_err *err)
{
    mq_graph *g = L->g;
    const mq_tensor *y = &g->tensors[n->out[0]];
    if (y->rank < 2 || y->dims[1] < 1 || y->dims[1] > INT32_MAX)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "a residual Add needs a channel axis");
    for (int k = 0; k < 2; k++) {
        const mq_tensor *x = &g->tensors[n->in[k]];
        int same = x->rank == y->rank;
        for (int d = 0; same && d < y->rank; d++) same = x->dims[d] == y->dims[d];
        if (!same) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "residual operands must have the same shape (no broadcasting)");
    }
    int O = (int)y->dims[1];
    qsumrep *s = &L->sums[L->n_sums];
    memset(s, 0, sizeof *s);
    s->O = O;
    for (int k = 0; k < 2; k++) s->c[k] = mq_malloc(sizeof(double) * (size_t)O + 8);
    s->b = mq_malloc(sizeof(double) * (size_t)O * 2 + 8);
    L->n_sums++; /* owned now */
    if (!s->c[0] || !s->c[1] || !s->b) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    for (int k = 0; k < 2; k++) MQ_TRY(sum_operand(L, n, k, s, s->b + (size_t)k * (size_t)O, err));
    for (int o = 0; o < O; o++) s->b[o] += s->b[O + o];
    rep *ro = &L->rep[n->out[0]];
    memset(ro, 0, sizeof *ro);
    ro->kind = R_S;
    ro->layer = L->n_sums - 1;
    return MQ_OK;
}

#define LUT_MAX_Y 256 /* values of the small operand a table covers */


static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The exact form of a quantized sum c_x acc + c_y y + b with operand x a pending layer and y codes
 * (the identity skip): code >= j iff acc >= T[o, y, j] = ceil((j - b -
 * c_y y) / c_x) (c_x > 0; for c_x < 0 the channel's weights are negated). The layer counts its
 * accumulator against U[o] = the distinct T[o, ., .] inside its range (<= 255 of them), giving e; a
 * table gives code = lut[o][y - lo][e] (QLut). *done = 0 (nothing made) when it does not fit. */
static mq_status quantize_sum_lut(lw *L, const mq_node *n, qsumrep *s, int x, int m, int out, int *done, mq_err *err)
{
    mq_graph *g = L->g;
    int y = 1 - x, O = s->O;
    *done = 0;
    if (s->layer[x] < 0 || s->layer[y] >= 0) return MQ_OK; /* y codes: an accumulator's table grows too large */
    qlayer *ly = &L->layers[s->layer[x]];
    int64_t lo = s->nonneg[y] ? 0 : -s->bound[y], hi = s->bound[y], bx = s->bound[x];
    if (hi - lo + 1 > LUT_MAX_Y || m < 2) return MQ_OK;
    size_t ny = (size_t)(hi - lo + 1), nt = ny * (size_t)(m - 1), O_ = (size_t)O;
    /* per (o, y, j): the threshold class (-1 always, 1 never, 0 finite at tv) */
    int64_t *tv = mq_malloc(sizeof(int64_t) * O_ * nt + 8), *u = mq_malloc(sizeof(int64_t) * O_ * 256 + 8);
    signed char *cls = mq_malloc(O_ * nt + 1);
    int64_t *list = mq_malloc(sizeof(int64_t) * nt + 8);
    int *nu = mq_calloc(O_ + 1, sizeof(int)), T = 1, fits = 1;
    mq_status st = MQ_OK;
    if (!tv || !u || !cls || !nu || !list) st = mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    for (size_t o = 0; st == MQ_OK && fits && o < O_; o++) {
        double cx = fabs(s->c[x][o]), cy = s->c[y][o], b = s->b[o];
        int64_t cnt = 0;
        if (!(cx > 0)) fits = 0;
        for (size_t k = 0; fits && k < ny; k++)
            for (int j = 1; j < m; j++) {
                double t = ceil((j - b - cy * (double)(lo + (int64_t)k)) / cx);
                size_t at = o * nt + k * (size_t)(m - 1) + (size_t)(j - 1);
                cls[at] = t <= (double)-bx ? -1 : t > (double)bx ? 1 : 0;
                tv[at] = cls[at] ? 0 : (int64_t)t;
                if (!cls[at]) list[cnt++] = tv[at];
            }
        if (!fits) break;
        qsort(list, (size_t)cnt, sizeof *list, cmp_i64);
        int k = 0;
        for (int64_t i = 0; i < cnt; i++)
            if (!k || list[i] != u[o * 256 + (size_t)k - 1]) {
                if (k == 255) {
                    fits = 0;
                    break;
                }
                u[o * 256 + (size_t)k++] = list[i];
            }
        nu[o] = k;
        if (k > T) T = k;
    }
    int64_t *thr = NULL;
    uint8_t *lut = NULL;
    if (st == MQ_OK && fits) {
        thr = mq_malloc(sizeof(int64_t) * O_ * (size_t)T + 8);
        lut = mq_malloc(O_ * ny * (size_t)(T + 1) + 1);
        if (!thr || !lut) st = mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    }
    for (size_t o = 0; st == MQ_OK && fits && o < O_; o++) {
        for (int k = 0; k < T; k++) thr[o * (size_t)T + (size_t)k] = k < nu[o] ? u[o * 256 + (size_t)k] : bx + 1; /* never reached */
        for (size_t k = 0; k < ny; k++)
            for (int e = 0; e <= T; e++) { /* e thresholds reached: U[o][0..e) <= acc < U[o][e] */
                int code = 0;
                for (int j = 1; j < m; j++) {
                    size_t at = o * nt + k * (size_t)(m - 1) + (size_t)(j - 1);
                    if (cls[at] < 0) code++;
                    else if (!cls[at]) {
                        int r = 0;
                        while (u[o * 256 + (size_t)r] != tv[at]) r++;
                        code += r < e;
                    }
                }
                lut[(o * ny + k) * (size_t)(T + 1) + (size_t)e] = (uint8_t)code;
            }
        if (s->c[x][o] < 0) /* acc -> -acc */
            for (size_t i = 0; i < (size_t)ly->fan; i++) ly->q[o * (size_t)ly->fan + i] = -ly->q[o * (size_t)ly->fan + i];
    }
    mq_free(tv);
    mq_free(u);
    mq_free(cls);
    mq_free(nu);
    mq_free(list);
    if (st != MQ_OK || !fits) {
        mq_free(thr);
        mq_free(lut);
        return st;
    }
    const char *base = g->tensors[n->out[0]].name;
    int e = -1, lt = -1, yt = s->t[y];
    st = new_tensor(L, base, ".e", &e, err);
    if (st == MQ_OK) st = finish_layer(L, ly, T + 1, thr, e, err);
    mq_free(thr);
    int64_t ld[3] = {O, (int64_t)ny, T + 1};
    if (st == MQ_OK) st = new_const(L, base, ".lut", MQ_U8, 3, ld, lut, &lt, err);
    mq_free(lut);
    MQ_TRY(st);
    int ins[3] = {e, yt, lt};
    mq_node *nn;
    MQ_TRY(new_node(L, "QLut", 0, 1, n->name[0] ? n->name : base, 3, ins, out, NULL, &nn, err));
    MQ_TRY(mq_pass_set_attr_int(g, nn, "lo", lo, err));
    if (L->st) {
        L->st->adds++;
        L->st->threshold_bytes += O_ * ny * (size_t)(T + 1);
    }
    *done = 1;
    return MQ_OK;
}

/* The quantizer of a sum, code = clip(floor(ca A + cb B + b), 0, m-1): exactly by a table
 * (quantize_sum_lut) when one operand is a layer and the other has few values, else as a QAdd: per channel the
 * common fixed-point scale 2^-F with F the largest keeping |Ka A| + |Kb B| + |T| <= 2^61, Ka =
 * round(ca 2^F), Kb = round(cb 2^F), T[j] = ceil((j - b) 2^F): Ka A + Kb B >= T[j] differs from
 * ca A + cb B + b >= j only within (bound A + bound B) 2^-(F+1) of the threshold. */
static mq_status quantize_sum(lw *L, const mq_node *n, int sum, int m, double scale, mq_err *err)
{
    mq_graph *g = L->g;
    qsumrep *s = &L->sums[sum];
    size_t O = (size_t)s->O, row = (size_t)m + 1;
    const char *base = g->tensors[n->out[0]].name;
    int t = -1, done = 0;
    MQ_TRY(new_tensor(L, base, ".codes", &t, err));
    MQ_TRY(quantize_sum_lut(L, n, s, 0, m, t, &done, err)); /* the table form when it applies */
    if (!done) MQ_TRY(quantize_sum_lut(L, n, s, 1, m, t, &done, err));
    for (int k = 0; !done && k < 2; k++)
        if (s->layer[k] >= 0) MQ_TRY(acc_tensor(L, &L->layers[s->layer[k]], &s->t[k], err));
    if (done) return codes_rep(L, n, t, m, scale);
    int64_t *par = mq_malloc(sizeof(int64_t) * O * row + 8);
    if (!par) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    for (size_t o = 0; o < O; o++) {
        double ca = s->c[0][o], cb = s->c[1][o], b = s->b[o];
        double span = fabs(ca) * (double)(s->bound[0] > 0 ? s->bound[0] : 1) +
                      fabs(cb) * (double)(s->bound[1] > 0 ? s->bound[1] : 1) + fabs(b) + m + 1;
        int e;
        frexp(span, &e); /* span < 2^e */
        int F = 61 - e;
        int64_t *p = par + o * row;
        p[0] = (int64_t)llround(ldexp(ca, F));
        p[1] = (int64_t)llround(ldexp(cb, F));
        for (int j = 1; j < m; j++) p[1 + j] = (int64_t)ceil(ldexp(j - b, F));
    }
    int ptid = -1;
    int64_t pd[2] = {(int64_t)O, (int64_t)row};
    mq_status st = new_const(L, base, ".qadd", MQ_I64, 2, pd, par, &ptid, err);
    mq_free(par);
    MQ_TRY(st);
    int ins[3] = {s->t[0], s->t[1], ptid};
    mq_node *nn;
    MQ_TRY(new_node(L, "QAdd", 0, 1, n->name[0] ? n->name : base, 3, ins, t, NULL, &nn, err));
    if (L->st) {
        L->st->adds++;
        L->st->threshold_bytes += O * row * 8;
    }
    return codes_rep(L, n, t, m, scale);
}

#define CAT_MAX_L 64 /* concat_sums: the finest common scale tried is the finest input's / CAT_MAX_L */

/* Concat of non-negative integer tensors at different scales s_i when some input is not uint8 codes
 * (the int16 / int32 window and plane sums of AveragePool / GlobalAveragePool, and codes beside them):
 * every input to one scale s and one dtype by y = floor((x M + 2^(S-1)) / 2^S) (QRescale; S = 0: y = x M).
 * Exact where the scales allow: s = s_min / l for the least l in 1..CAT_MAX_L making every r_i = s_i / s an
 * integer (within 1e-9 relative: one quantizer step over different plane or window sizes, steps a power of
 * two apart), y = r_i x. Otherwise s = s_min (the finest), an input with r_i integer is multiplied
 * exactly, any other rounded half up at 2^-S: M = round(r_i 2^S) with S the largest keeping bound_i M <
 * 2^62 (y differs from round-half-up(x r_i) only for x r_i within bound_i 2^-(S+1) of a tie), an error of
 * at most s / 2 per value. The output is int16 when every bound fits, else int32. */
static mq_status concat_sums(lw *L, const mq_node *n, int *ins, mq_err *err)
{
    double smin = INFINITY, s, top = 0;
    int l = 0;
    for (int k = 0; k < n->n_in; k++) {
        const rep *r = &L->rep[n->in[k]];
        if (r->neg || !(r->scale > 0))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED,
                                "Concat at different scales needs non-negative integers (input %d may be negative)", k);
        if (r->scale < smin) smin = r->scale;
    }
    for (int t = 1; t <= CAT_MAX_L && !l; t++) { /* the least exact common scale whose values fit int32 */
        int exact = 1;
        top = 0;
        for (int k = 0; exact && k < n->n_in; k++) {
            const rep *r = &L->rep[n->in[k]];
            double ratio = r->scale / (smin / t), ri = nearbyint(ratio);
            exact = fabs(ratio - ri) <= 1e-9 * ratio;
            if ((double)r->bound * ri > top) top = (double)r->bound * ri;
        }
        if (exact && top > (double)INT32_MAX) break; /* finer scales only grow */
        if (exact) l = t;
    }
    s = l ? smin / l : smin;
    int64_t bound = 0, par[2 * 64], *pk;
    int64_t *pars = n->n_in <= 64 ? par : mq_malloc(sizeof(int64_t) * 2 * (size_t)n->n_in + 8);
    if (!pars) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    for (int k = 0; k < n->n_in; k++) { /* M, S per input and the output's bound */
        const rep *r = &L->rep[n->in[k]];
        double ratio = r->scale / s, ri = nearbyint(ratio);
        int64_t b = r->bound > 0 ? r->bound : 0;
        pk = pars + 2 * k;
        if (fabs(ratio - ri) <= 1e-9 * ratio) {
            pk[0] = (int64_t)ri, pk[1] = 0;
        } else {
            int sh = 62;
            while (sh > 0 && (double)b * ldexp(ratio, sh) >= ldexp(1.0, 62)) sh--;
            pk[0] = (int64_t)llround(ldexp(ratio, sh)), pk[1] = sh;
        }
        uint64_t y = 0;
        if ((double)b * (double)pk[0] < ldexp(1.0, 62)) /* else out of range below */
            y = ((uint64_t)b * (uint64_t)pk[0] + (pk[1] ? (uint64_t)1 << (pk[1] - 1) : 0)) >> pk[1];
        if ((double)b * (double)pk[0] >= ldexp(1.0, 62) || y > INT32_MAX) {
            if (pars != par) mq_free(pars);
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "Concat input %d at the common scale exceeds int32", k);
        }
        if ((int64_t)y > bound) bound = (int64_t)y;
    }
    mq_dtype dt = bound <= 32767 ? MQ_I16 : MQ_I32;
    const char *base = L->g->tensors[n->out[0]].name;
    mq_status st = MQ_OK;
    for (int k = 0; st == MQ_OK && k < n->n_in; k++) {
        const rep *r = &L->rep[n->in[k]];
        pk = pars + 2 * k;
        if (pk[0] == 1 && pk[1] == 0 && r->dt == dt) continue; /* already at the scale and dtype */
        int pt = -1, out = -1, in2[2];
        int64_t two = 2;
        mq_node *rn;
        st = new_const(L, base, ".rescale", MQ_I64, 1, &two, pk, &pt, err);
        if (st == MQ_OK) st = new_tensor(L, base, ".rescaled", &out, err);
        in2[0] = r->t, in2[1] = pt;
        if (st == MQ_OK) st = new_node(L, "QRescale", 0, 1, base, 2, in2, out, NULL, &rn, err);
        if (st == MQ_OK) st = mq_pass_set_attr_int(L->g, rn, "to", dt, err);
        ins[k] = out;
        if (L->st) L->st->requants++;
    }
    if (pars != par) mq_free(pars);
    MQ_TRY(st);
    int t = -1;
    mq_node *nn;
    MQ_TRY(new_tensor(L, base, ".sums", &t, err));
    MQ_TRY(new_node(L, "Concat", 1, n->opset, n->name[0] ? n->name : base, n->n_in, ins, t, n, &nn, err));
    rep *ro = &L->rep[n->out[0]];
    memset(ro, 0, sizeof *ro);
    ro->kind = R_Q;
    ro->t = t;
    ro->dt = dt;
    ro->scale = s;
    ro->bound = bound;
    return MQ_OK;
}

/* Concat of codes. With one scale and dtype the codes concatenate as they are (exact). Codes of uint8
 * tensors at different scales s_i are first requantized to a common scale s: the finest step (min s_i),
 * unless that takes a code above 255, then the coarsest that does not (the largest value over 255). An
 * input at another scale becomes QRequant(codes, lut) with lut[c] = round-half-away(c s_i / s) (c the
 * input's codes 0..bound_i, in double at compile time): the one rounding of the integer program, at
 * most s / 2 per value, none where s_i / s is an integer. */
static mq_status concat_codes(lw *L, const mq_node *n, mq_err *err)
{
    const rep *r0 = &L->rep[n->in[0]];
    int64_t bound = 0;
    double s = r0->scale, top = 0;
    int same = 1;
    int *ins = mq_arena_array(L->g->arena, (size_t)n->n_in + 1, sizeof(int)), t = -1;
    if (!ins) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    for (int k = 0; k < n->n_in; k++) {
        const rep *r = &L->rep[n->in[k]];
        if (r->kind != R_Q) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "Concat input %d is not integer codes", k);
        if (r->dt != r0->dt || fabs(r->scale - r0->scale) > 1e-9 * r0->scale) same = 0;
        if (r->scale < s) s = r->scale;
        if ((double)r->bound * r->scale > top) top = (double)r->bound * r->scale;
        ins[k] = r->t;
    }
    for (int k = 0; !same && k < n->n_in; k++) {
        const rep *r = &L->rep[n->in[k]];
        if (r->dt != MQ_U8 || r->bound > 255 || !(r->scale > 0)) return concat_sums(L, n, ins, err);
    }
    if (!same && floor(top / s + 0.5) > 255) s = top / 255;
    const char *base = L->g->tensors[n->out[0]].name;
    for (int k = 0; k < n->n_in; k++) {
        const rep *r = &L->rep[n->in[k]];
        int64_t b = r->bound;
        if (same || fabs(r->scale - s) <= 1e-9 * s) {
            if (b > bound) bound = b;
            continue;
        }
        uint8_t lut[256];
        for (int64_t c = 0; c <= b; c++) {
            double v = floor((double)c * r->scale / s + 0.5); /* c >= 0: half away from zero */
            lut[c] = (uint8_t)(v > 255 ? 255 : v);
        }
        if (lut[b] > bound) bound = lut[b];
        int lt = -1, out = -1, in2[2];
        int64_t m = b + 1;
        MQ_TRY(new_const(L, base, ".requant", MQ_U8, 1, &m, lut, &lt, err));
        MQ_TRY(new_tensor(L, base, ".requant.codes", &out, err));
        in2[0] = r->t;
        in2[1] = lt;
        mq_node *rn;
        MQ_TRY(new_node(L, "QRequant", 0, 1, base, 2, in2, out, NULL, &rn, err));
        ins[k] = out;
        if (L->st) L->st->requants++;
    }
    MQ_TRY(new_tensor(L, base, ".codes", &t, err));
    mq_node *nn;
    MQ_TRY(new_node(L, "Concat", 1, n->opset, n->name[0] ? n->name : base, n->n_in, ins, t, n, &nn, err));
    rep *ro = &L->rep[n->out[0]];
    *ro = *r0;
    ro->t = t;
    ro->bound = bound;
    ro->scale = s;
    for (int k = 0; k < n->n_in; k++) ro->neg |= L->rep[n->in[k]].neg;
    return MQ_OK;
}

/* AveragePool on codes: the window sums (QWinSum), 1 / taps into the scale, exact when every window
 * divides by the same count: no padding, or count_include_pad; no ceil_mode (partial windows). */
static mq_status avgpool_codes(lw *L, const mq_node *n, mq_err *err)
{
    mq_graph *g = L->g;
    rep r = L->rep[n->in[0]];
    int64_t taps = 1, padded = 0;
    const mq_attr *ks = NULL, *pads = NULL;
    for (int i = 0; i < n->n_attr; i++) {
        if (!strcmp(n->attrs[i].name, "kernel_shape")) ks = &n->attrs[i];
        if (!strcmp(n->attrs[i].name, "pads")) pads = &n->attrs[i];
    }
    for (int i = 0; ks && i < ks->n; i++) taps *= ks->ints[i];
    for (int i = 0; pads && i < pads->n; i++) padded |= pads->ints[i] != 0;
    const char *ap = mq_attr_str(n, "auto_pad", "NOTSET");
    if (!ks || taps < 1 || taps > INT32_MAX / 255 || mq_attr_int(n, "ceil_mode", 0) ||
        (strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) || (padded && !mq_attr_int(n, "count_include_pad", 0)))
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED,
                            "AveragePool on codes needs one divisor for every window (no ceil_mode; padding only with count_include_pad)");
    MQ_TRY(on_codes(L, n, "QWinSum", n, err));
    mq_node *nn = &g->nodes[g->n_nodes - 1];
    int wide = taps * 255 > 32767;
    MQ_TRY(mq_pass_set_attr_int(g, nn, "to", wide ? MQ_I32 : MQ_I16, err));
    rep *ro = &L->rep[n->out[0]];
    ro->dt = wide ? MQ_I32 : MQ_I16;
    ro->scale = r.scale / (double)taps;
    ro->bound = r.bound * taps;
    if (L->st) L->st->pools++;
    return MQ_OK;
}

static mq_status visit(lw *L, int i, mq_err *err)
{
    mq_graph *g = L->g;
    const mq_node *n = &g->nodes[i];
    if (n->n_in < 1 || n->in[0] < 0 || n->n_out < 1 || n->out[0] < 0)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no integer form");
    rep *r = &L->rep[n->in[0]];
    int out = n->out[0];
    if (is_op(n, "Conv") || is_op(n, "Gemm") || is_op(n, "MatMul")) MQ_TRY(start_layer(L, i, err));
    else if (is_op(n, "Add") && n->n_in == 2 && L->rep[n->in[0]].kind != R_FLOAT && L->rep[n->in[1]].kind != R_FLOAT)
        MQ_TRY(residual_add(L, n, err));
    else if ((is_op(n, "Mul") || is_op(n, "Add") || is_op(n, "Sub") || is_op(n, "Div")) && n->n_in == 2)
        MQ_TRY(affine(L, n, err));
    else if (is_op(n, "BatchNormalization") || is_maqd(n, "LayerBatchNorm")) MQ_TRY(norm(L, n, err));
    else if (is_op(n, "Floor") && (r->kind == R_P || r->kind == R_S)) {
        L->rep[out] = *r;
        L->rep[out].kind = r->kind == R_P ? R_PF : R_SF;
    } else if (is_op(n, "Clip") && (r->kind == R_PF || r->kind == R_SF)) {
        double lo, hi;
        MQ_TRY(clip_bounds(g, n, &lo, &hi));
        if (lo != 0 || !(hi >= 1 && hi <= 255) || hi != floor(hi))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "the quantizer's Clip must be (0, m-1) with m-1 in 1..255");
        if (r->kind == R_SF) MQ_TRY(quantize_sum(L, n, r->layer, (int)hi + 1, 1.0, err));
        else MQ_TRY(quantize(L, n, r->layer, (int)hi + 1, 1.0, err));
    } else if (is_maqd(n, "ActQuant") && r->kind == R_S) {
        int m = (int)mq_attr_int(n, "states", 2);
        double delta = mq_attr_float(n, "delta", 1.0f);
        qsumrep *s = &L->sums[r->layer];
        if (m < 2 || m > 256 || !(delta > 0)) return mq_node_fail(err, n, MQ_ERR_INVALID, "bad states or delta");
        for (int o = 0; o < s->O; o++) {
            s->c[0][o] /= delta;
            s->c[1][o] /= delta;
            s->b[o] = s->b[o] / delta + 0.5;
        }
        MQ_TRY(quantize_sum(L, n, r->layer, m, delta, err));
    } else if (is_op(n, "Concat") && r->kind == R_Q) {
        MQ_TRY(concat_codes(L, n, err));
    } else if (is_maqd(n, "ActQuant") && r->kind == R_P) {
        int m = (int)mq_attr_int(n, "states", 2);
        double delta = mq_attr_float(n, "delta", 1.0f);
        if (n->n_in > 1 && n->in[1] >= 0) { /* a learned step (input 1) */
            const float *d = mq_pass_is_f32_const(g, n->in[1], 1) ? g->tensors[n->in[1]].data : NULL;
            if (!d) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "the step (input 1) must be a constant");
            delta = d[0];
        }
        qlayer *ly = &L->layers[r->layer];
        if (m < 2 || m > 256 || !(delta > 0)) return mq_node_fail(err, n, MQ_ERR_INVALID, "bad states or delta");
        /* round(z / delta) >= j iff z / delta + 1/2 >= j (ties away from zero, z >= 0 where it matters) */
        for (int o = 0; o < ly->O; o++) {
            ly->k[o] /= delta;
            ly->b[o] = ly->b[o] / delta + 0.5;
        }
        MQ_TRY(quantize(L, n, r->layer, m, delta, err));
    } else if ((is_op(n, "Relu") || is_op(n, "Identity") || is_op(n, "Dropout")) && r->kind == R_Q) {
        L->rep[out] = *r; /* codes are >= 0 */
    } else if (is_op(n, "MaxPool") && r->kind == R_Q && r->dt == MQ_U8) {
        if (n->n_out > 1 && n->out[1] >= 0) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "Indices output");
        MQ_TRY(on_codes(L, n, "QMaxPool", n, err));
        if (L->st) L->st->pools++;
    } else if (is_op(n, "GlobalAveragePool") && r->kind == R_Q && r->dt == MQ_U8) {
        const mq_tensor *x = &g->tensors[n->in[0]];
        int64_t plane = 1;
        for (int d = 2; d < x->rank; d++) plane *= x->dims[d];
        if (plane < 1) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "empty planes");
        MQ_TRY(on_codes(L, n, "QSum", NULL, err));
        mq_node *nn = &g->nodes[g->n_nodes - 1];
        int wide = plane * 255 > 32767;
        MQ_TRY(mq_pass_set_attr_int(g, nn, "to", wide ? MQ_I32 : MQ_I16, err));
        L->rep[out].dt = wide ? MQ_I32 : MQ_I16;
        L->rep[out].scale = r->scale / (double)plane;
        L->rep[out].bound = r->bound * plane;
        if (L->st) L->st->sums++;
    } else if (is_op(n, "AveragePool") && r->kind == R_Q && r->dt == MQ_U8) {
        MQ_TRY(avgpool_codes(L, n, err));
    } else if ((is_op(n, "Flatten") || is_op(n, "Reshape") || is_op(n, "Squeeze") || is_op(n, "Unsqueeze")) &&
               r->kind == R_Q) {
        MQ_TRY(on_codes(L, n, NULL, n, err));
    } else {
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no integer form for this op on %s",
                            r->kind == R_Q ? "codes" : r->kind == R_FLOAT ? "float values" : "an unquantized layer output");
    }
    /* a pending map must flow into exactly one node (it has no tensor of its own) */
    int k = L->rep[out].kind;
    if ((k == R_P || k == R_PF || k == R_S || k == R_SF) && L->consumers[out] != 1 && !g->tensors[out].is_output)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "the layer's output before its quantizer feeds %d nodes",
                            L->consumers[out]);
    return MQ_OK;
}

static mq_status lower(lw *L, const mq_int_opts *o, mq_err *err)
{
    mq_graph *g = L->g;
    int n0 = g->n_nodes;
    if (g->n_inputs != 1 || g->tensors[g->inputs[0]].dtype != MQ_F32)
        return mq_fail(err, MQ_ERR_UNSUPPORTED, "int lowering needs exactly one float32 graph input");
    MQ_TRY(mq_pass_reserve(g, 6 * n0 + 8, 2 * n0 + 4, err));
    MQ_TRY(mq_pass_use_domain(g, MQ_MAQD_DOMAIN, 1, err));
    /* the 8-bit input: x = p / (S D) - M / D ~ (p mul - zero) / (S D mul) */
    double S = o && o->in_scale > 0 ? o->in_scale : 255, M = o ? o->in_mean : 0, D = o && o->in_std > 0 ? o->in_std : 1;
    int mul = 128;
    long zero = 0;
    for (; mul >= 1; mul--) {
        zero = lrint(M * S * mul);
        if (zero >= 0 && zero <= 32768 && 255L * mul - zero <= 32767) break;
    }
    if (mul < 1) return mq_fail(err, MQ_ERR_UNSUPPORTED, "input mean %g x scale %g outside 0..128 pixels", M, S);
    int in = g->inputs[0], qin = -1;
    MQ_TRY(new_tensor(L, g->tensors[in].name, ".q16", &qin, err));
    mq_node *qn;
    MQ_TRY(new_node(L, "QInput", 0, 1, g->tensors[in].name, 1, &in, qin, NULL, &qn, err));
    MQ_TRY(mq_pass_set_attr_int(g, qn, "mul", mul, err));
    MQ_TRY(mq_pass_set_attr_int(g, qn, "zero", zero, err));
    L->rep[in] = (rep){R_Q, qin, 1.0 / (S * D * mul), zero > 255L * mul - zero ? zero : 255L * mul - zero, -1, MQ_I16,
                       zero > 0};
    for (int i = 0; i < n0; i++) MQ_TRY(visit(L, i, err));
    for (int k = 0; k < g->n_outputs; k++) {
        int t = g->outputs[k];
        rep *r = &L->rep[t];
        if (r->kind != R_P)
            return mq_fail(err, MQ_ERR_UNSUPPORTED, "graph output '%s' is not a layer's output (float logits)",
                           g->tensors[t].name);
        MQ_TRY(finish_layer(L, &L->layers[r->layer], 0, NULL, t, err));
    }
    unsigned char *drop = mq_calloc((size_t)g->n_nodes + 1, 1);
    if (!drop) return mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    memset(drop, 1, (size_t)n0);
    mq_pass_remove_nodes(g, drop);
    mq_free(drop);
    g->tensors[in].dtype = MQ_U8;
    g->tensors[in].decl_dtype = 0;
    return mq_pass_reinfer(g, o ? o->max_elems : 0, err);
}

mq_status mq_int_lower(mq_graph *g, const mq_int_opts *o, mq_int_stats *stats, mq_err *err)
{
    if (!g) return mq_fail(err, MQ_ERR_INVALID, "mq_int_lower: no graph");
    if (stats) memset(stats, 0, sizeof *stats);
    lw L;
    memset(&L, 0, sizeof L);
    L.g = g;
    L.st = stats;
    int *producer = NULL;
    mq_status st = mq_pass_uses(g, &L.consumers, &producer, err);
    mq_free(producer);
    if (st != MQ_OK) return st;
    /* tensors grow during the pass: size the per-tensor table for what reserve may add */
    size_t nt = (size_t)g->n_tensors + 6 * (size_t)g->n_nodes + 16;
    L.rep = mq_calloc(nt, sizeof *L.rep);
    L.layers = mq_calloc((size_t)g->n_nodes + 1, sizeof *L.layers);
    L.sums = mq_calloc((size_t)g->n_nodes + 1, sizeof *L.sums);
    if (!L.rep || !L.layers || !L.sums) st = mq_fail(err, MQ_ERR_NOMEM, "int lowering: out of memory");
    if (st == MQ_OK) st = lower(&L, o, err);
    for (int i = 0; i < L.n_layers; i++) {
        mq_free(L.layers[i].q);
        mq_free(L.layers[i].k);
        mq_free(L.layers[i].b);
    }
    mq_free(L.layers);
    for (int i = 0; i < L.n_sums; i++) {
        mq_free(L.sums[i].c[0]);
        mq_free(L.sums[i].c[1]);
        mq_free(L.sums[i].b);
    }
    mq_free(L.sums);
    mq_free(L.rep);
    mq_free(L.consumers);
    return st;
}
