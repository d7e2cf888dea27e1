/* fuse.c: the trainer's fused layer tail (train/fuse.h): LayerBatchNorm -> ActQuant -> MaxPool 2x2/2 or
 * GlobalAveragePool, one channel plane at a time, so each large activation is read once per direction. */
#include "train/fuse.h"

#include "core/op.h"
#include "ops/maqd.h"
#include "passes/passes.h"
#include "runtime/kernels/maqd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- numeric core ----------------------------------------------------------------------------------- */

static size_t windows(const mq_fuse_tail *f) { return f->pool == MQ_FUSE_MAXPOOL2 ? (f->H / 2) * (f->W / 2) : 0; }

size_t mq_fuse_saved_bytes(const mq_fuse_tail *f)
{
    return f->N * f->C * windows(f) * (sizeof(float) + sizeof(int32_t));
}

/* two planes, then at an even offset (8-byte aligned) 8 C doubles for the backward's per-channel sums */
static size_t acc_offset(const mq_fuse_tail *f) { return 2 * f->H * f->W + 2; }
size_t mq_fuse_scratch_floats(const mq_fuse_tail *f) { return acc_offset(f) + 16 * f->C; }

/* ActQuant's straight-through mask (aq_backward in ops/maqd.c). */
static inline int ste_pass(float z, float hi) { return (z >= 0) & (z <= hi); }

/* One row of 2x2 windows over rows q0, q1 of A (z0, z1 of Z, x0, x1 of X): the max in the 2x2 pooling
 * kernel's order of taps; the gradient's tap is the first equal to it (MaxPool's rule), and passes if
 * ActQuant's mask lets it through there: code 0..3, else 4. All loads up front and selects only, so
 * that the loop vectorizes. */
static void pool_row(size_t OW, const float *restrict q0, const float *restrict q1, const float *restrict z0,
                     const float *restrict z1, const float *restrict x0, const float *restrict x1, float hi,
                     float *restrict pp, float *restrict ys, int32_t *restrict cd)
{
    for (size_t ow = 0; ow < OW; ow++) {
        size_t w = 2 * ow;
        float a0 = q0[w], a1 = q0[w + 1], a2 = q1[w], a3 = q1[w + 1], b = a0;
        float c0 = z0[w], c1 = z0[w + 1], c2 = z1[w], c3 = z1[w + 1];
        float d0 = x0[w], d1 = x0[w + 1], d2 = x1[w], d3 = x1[w + 1];
        b = a1 > b ? a1 : b;
        b = a2 > b ? a2 : b;
        b = a3 > b ? a3 : b;
        int32_t e0 = a0 == b, e1 = a1 == b, e2 = a2 == b, e3 = a3 == b, t = e3 ? 3 : 4;
        float zt = c3, xt = d3;
        t = e2 ? 2 : t;
        zt = e2 ? c2 : zt;
        xt = e2 ? d2 : xt;
        t = e1 ? 1 : t;
        zt = e1 ? c1 : zt;
        xt = e1 ? d1 : xt;
        t = e0 ? 0 : t;
        zt = e0 ? c0 : zt;
        xt = e0 ? d0 : xt;
        pp[ow] = b;
        ys[ow] = xt;
        cd[ow] = ste_pass(zt, hi) ? t : 4;
    }
}

void mq_fuse_forward_tail(const mq_fuse_tail *f, const float *x, float *p, void *saved, float *scratch)
{
    size_t S = f->H * f->W, W = f->W, OH = f->H / 2, OW = f->W / 2, nw = windows(f), planes = f->N * f->C;
    float *zb = scratch, *qb = scratch + S, hi = ((float)f->states - 0.5f) * f->delta;
    float *ysel = saved;
    int32_t *code = (int32_t *)(ysel + planes * nw);
    for (size_t pl = 0; pl < planes; pl++) {
        size_t c = pl % f->C;
        const float *xp = x + pl * S;
        /* LBN (the op's affine map), then the quantizer, both into the plane buffers */
        mqk_maqd_lbn_f32(1, 1, S, xp, f->gamma + c, f->beta + c, f->mu, f->var, f->eps, zb);
        mqk_maqd_actq_f32(S, zb, f->states, f->delta, qb);
        if (f->pool == MQ_FUSE_GAP) { /* mqk_k_global_pool_f32's average */
            double s = 0.0;
            for (size_t k = 0; k < S; k++) s += qb[k];
            p[pl] = S ? (float)(s / (double)S) : 0.0f;
            continue;
        }
        for (size_t oh = 0; oh < OH; oh++) {
            size_t r = 2 * oh * W, o = pl * nw + oh * OW;
            pool_row(OW, qb + r, qb + r + W, zb + r, zb + r + W, xp + r, xp + r + W, hi, p + o, ysel + o, code + o);
        }
    }
}

/* What mq_maqd_lbn_backward_planes reads: dL/dZ made from dL/dP on the fly. */
typedef struct tail_bwd {
    const mq_fuse_tail *f;
    const float *x, *gp, *ysel;
    const int32_t *code;
    float *xb, *gb; /* plane buffers (S floats each) */
} tail_bwd;

/* Plane (i, c) of dL/dZ of a GlobalAveragePool tail into gb: the pooling's rule gives g / S everywhere, and the
 * mask comes from Z, recomputed as the forward made it (into xb). */
static void gap_grad_plane(const tail_bwd *t, size_t pl, size_t c)
{
    const mq_fuse_tail *f = t->f;
    size_t S = f->H * f->W;
    float v = t->gp[pl] / (float)S, hi = ((float)f->states - 0.5f) * f->delta, *zb = t->xb, *gb = t->gb;
    mqk_maqd_lbn_f32(1, 1, S, t->x + pl * S, f->gamma + c, f->beta + c, f->mu, f->var, f->eps, zb);
    for (size_t k = 0; k < S; k++) gb[k] = ste_pass(zb[k], hi) ? v : 0.0f;
}

/* The sums of g and of g x over a plane's windows: each window's one term (at the gradient's tap; none for code
 * 4), window o into lane o mod 4, in order. The op's rule sums all S inputs with lane k mod 4 instead: the same
 * terms (the others are zeros) in another order, so the sums may differ in the last bits (tests/unit/test_fuse.c
 * bounds it; the accuracy of a run does not move: docs/BENCHMARKS.md). */
static void window_sums(size_t nw, const int32_t *restrict cd, const float *restrict gp, const float *restrict ys,
                        double *restrict a, double *restrict b)
{
    double va[4] = {a[0], a[1], a[2], a[3]}, vb[4] = {b[0], b[1], b[2], b[3]};
    size_t o = 0;
    for (; o + 4 <= nw; o += 4)
        for (int j = 0; j < 4; j++) {
            float gv = gp[o + j] + 0.0f, g = cd[o + j] < 4 ? gv : 0.0f; /* loads up front: the select vectorizes */
            va[j] += g;
            vb[j] += (double)g * ys[o + j];
        }
    for (; o < nw; o++) {
        float gv = gp[o] + 0.0f, g = cd[o] < 4 ? gv : 0.0f;
        va[0] += g;
        vb[0] += (double)g * ys[o];
    }
    for (int j = 0; j < 4; j++) {
        a[j] = va[j];
        b[j] = vb[j];
    }
}

static void tail_sums(void *ctx, size_t i, size_t c, double a[4], double b[4])
{
    const tail_bwd *t = ctx;
    const mq_fuse_tail *f = t->f;
    size_t S = f->H * f->W, nw = windows(f), pl = i * f->C + c;
    if (f->pool == MQ_FUSE_GAP) {
        gap_grad_plane(t, pl, c);
        mq_maqd_lbn_row_sums(S, t->x + pl * S, t->gb, a, b);
        return;
    }
    window_sums(nw, t->code + pl * nw, t->gp + pl * nw, t->ysel + pl * nw, a, b);
}

/* dX = p g + q x + r of a MaxPool tail's plane, as mq_maqd_lbn_dx_row computes it from the plane of g: first
 * every input as if g were 0 (p 0.0f + q x + r, in that order), then the gradient's tap of each window. */
static void window_dx(const mq_fuse_tail *f, const int32_t *restrict cd, const float *restrict gp, float p, float q,
                      float r, const float *restrict x, float *restrict d)
{
    size_t S = f->H * f->W, W = f->W, OH = f->H / 2, OW = f->W / 2;
    float p0 = p * 0.0f;
    for (size_t k = 0; k < S; k++) d[k] = p0 + q * x[k] + r;
    for (size_t oh = 0; oh < OH; oh++)
        for (size_t ow = 0; ow < OW; ow++) {
            int32_t e = cd[oh * OW + ow];
            if (e > 3) continue;
            size_t k = (2 * oh + (size_t)(e >> 1)) * W + 2 * ow + (size_t)(e & 1);
            d[k] = p * (gp[oh * OW + ow] + 0.0f) + q * x[k] + r;
        }
}

static void tail_dx(void *ctx, size_t i, size_t c, float p, float q, float r, float *dx)
{
    const tail_bwd *t = ctx;
    const mq_fuse_tail *f = t->f;
    size_t S = f->H * f->W, nw = windows(f), pl = i * f->C + c;
    if (f->pool == MQ_FUSE_GAP) {
        gap_grad_plane(t, pl, c);
        mq_maqd_lbn_dx_row(S, p, q, r, t->gb, t->x + pl * S, dx);
        return;
    }
    window_dx(f, t->code + pl * nw, t->gp + pl * nw, p, q, r, t->x + pl * S, dx);
}

void mq_fuse_backward_tail(const mq_fuse_tail *f, const float *x, const void *saved, const float *gp, float *scratch,
                           float *dx, float *dgamma, float *dbeta)
{
    size_t S = f->H * f->W, nw = windows(f);
    tail_bwd t = {f, x, gp, saved, (const int32_t *)((const float *)saved + f->N * f->C * nw), scratch, scratch + S};
    mq_lbn_planes src = {tail_sums, tail_dx, &t};
    float *din[5] = {dx, dgamma, dbeta, NULL, NULL};
    double *acc = (double *)(void *)(scratch + acc_offset(f));
    mq_maqd_lbn_backward_planes(f->N, f->C, S, f->gamma, 1, f->eps, f->mu, f->var, &src, acc, din);
}

/* ---- the trainer's tails ---------------------------------------------------------------------------- */

typedef struct tail_nodes {
    int lbn, aq, pool, kind;
    int ran;       /* this forward ran it fused */
    void *saved;   /* from the trainer's pool while ran */
    float *scratch;
} tail_nodes;

struct mq_fuse {
    int n;
    tail_nodes *t;
    int *of; /* node -> tail index, or -1 */
    int off; /* MAQD_NO_FUSE */
};

static int is_op(const mq_node *n, const char *domain, const char *op)
{
    const char *d = n->domain && strcmp(n->domain, "ai.onnx") ? n->domain : "";
    return strcmp(d, domain) == 0 && strcmp(n->op_type, op) == 0;
}

/* Only the outputs beyond the first absent. */
static int one_output(const mq_node *n)
{
    for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0) return 0;
    return n->n_out >= 1 && n->out[0] >= 0;
}

/* ActQuant as the fused code computes it: one input, the straight-through surrogate, and no attribute
 * beyond states, delta, training, surrogate (any other option, e.g. a learned step, runs unfused). */
static int plain_actquant(const mq_node *n)
{
    if (!is_op(n, MQ_MAQD_DOMAIN, "ActQuant") || n->n_in != 1 || !one_output(n)) return 0;
    for (int k = 0; k < n->n_attr; k++) {
        const char *a = n->attrs[k].name;
        if (strcmp(a, "states") && strcmp(a, "delta") && strcmp(a, "training") && strcmp(a, "surrogate")) return 0;
    }
    return strcmp(mq_attr_str(n, "surrogate", "ste"), "ste") == 0;
}

static int ints_are(const mq_node *n, const char *name, int count, int64_t v, int absent_ok)
{
    const int64_t *vals;
    int c = mq_attr_ints(n, name, &vals);
    if (c < 0) return absent_ok;
    if (c != count) return 0;
    for (int k = 0; k < c; k++)
        if (vals[k] != v) return 0;
    return 1;
}

/* MaxPool 2x2, stride 2, no pads, dilations 1, floor, no Indices: MQ_FUSE_MAXPOOL2; GlobalAveragePool: MQ_FUSE_GAP. */
static int pool_kind(const mq_node *n)
{
    if (!one_output(n)) return 0;
    if (is_op(n, "", "GlobalAveragePool")) return MQ_FUSE_GAP;
    if (!is_op(n, "", "MaxPool")) return 0;
    const char *ap = mq_attr_str(n, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) return 0;
    if (!ints_are(n, "kernel_shape", 2, 2, 0) || !ints_are(n, "strides", 2, 2, 0) || !ints_are(n, "pads", 4, 0, 1) ||
        !ints_are(n, "dilations", 2, 1, 1) || mq_attr_int(n, "ceil_mode", 0) != 0)
        return 0;
    return MQ_FUSE_MAXPOOL2;
}

mq_status mq_fuse_init(mq_trainer *tr, mq_err *err)
{
    const mq_graph *g = tr->g;
    mq_fuse *fz = mq_calloc(1, sizeof *fz);
    if (!fz) return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    tr->fuse = fz;
    const char *off = getenv("MAQD_NO_FUSE");
    fz->off = off && *off && strcmp(off, "0");
    int *consumers = NULL, *producer = NULL;
    MQ_TRY(mq_pass_uses(g, &consumers, &producer, err));
    int *user = mq_malloc(sizeof(int) * ((size_t)g->n_tensors + 1));
    fz->of = mq_malloc(sizeof(int) * ((size_t)g->n_nodes + 1));
    fz->t = mq_calloc((size_t)g->n_nodes + 1, sizeof(tail_nodes));
    mq_status st = MQ_OK;
    if (!user || !fz->of || !fz->t) st = mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    for (int t = 0; st == MQ_OK && t < g->n_tensors; t++) user[t] = -1;
    for (int i = 0; st == MQ_OK && i < g->n_nodes; i++) {
        fz->of[i] = -1;
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) user[g->nodes[i].in[k]] = i;
    }
    for (int i = 0; st == MQ_OK && i < g->n_nodes; i++) {
        const mq_node *l = &g->nodes[i];
        if (!tr->run[i] || !is_op(l, MQ_MAQD_DOMAIN, "LayerBatchNorm") || !one_output(l) || l->n_in != 5) continue;
        int z = l->out[0];
        if (consumers[z] != 1 || user[z] < 0) continue; /* one reader, not a graph output */
        const mq_node *a = &g->nodes[user[z]];
        if (!plain_actquant(a) || a->in[0] != z || !tr->run[user[z]]) continue;
        int q = a->out[0];
        if (consumers[q] != 1 || user[q] < 0 || !tr->run[user[q]]) continue;
        const mq_node *p = &g->nodes[user[q]];
        int kind = pool_kind(p);
        if (!kind || p->in[0] != q) continue;
        tail_nodes *t = &fz->t[fz->n];
        t->lbn = i;
        t->aq = user[z];
        t->pool = user[q];
        t->kind = kind;
        fz->of[i] = fz->of[t->aq] = fz->of[t->pool] = fz->n++;
    }
    mq_free(user);
    mq_free(consumers);
    mq_free(producer);
    return st;
}

void mq_fuse_release(mq_trainer *tr)
{
    mq_fuse *fz = tr->fuse;
    if (!fz) return;
    for (int k = 0; k < fz->n; k++) {
        tail_nodes *t = &fz->t[k];
        mq_pool_put(&tr->pool, t->saved);
        mq_pool_put(&tr->pool, t->scratch);
        t->saved = NULL;
        t->scratch = NULL;
        t->ran = 0;
    }
}

void mq_fuse_free(mq_trainer *tr)
{
    mq_fuse *fz = tr->fuse;
    if (!fz) return;
    mq_fuse_release(tr);
    mq_free(fz->t);
    mq_free(fz->of);
    mq_free(fz);
    tr->fuse = NULL;
}

static tail_nodes *tail_of(const mq_trainer *tr, int node)
{
    const mq_fuse *fz = tr->fuse;
    return fz && fz->of[node] >= 0 ? &fz->t[fz->of[node]] : NULL;
}

int mq_fuse_starts(const mq_trainer *tr, int node)
{
    const tail_nodes *t = tail_of(tr, node);
    if (!t || t->lbn != node || tr->fuse->off || tr->aq_as_relu || tr->probe) return 0;
    const mq_node *l = &tr->g->nodes[node];
    const mq_tensor *x = &tr->vals[l->in[0]];
    if (!x->data || x->dtype != MQ_F32 || mq_attr_int(l, "training", 0) != 1) return 0;
    if (t->kind == MQ_FUSE_MAXPOOL2 ? x->rank != 4 : x->rank < 3) return 0;
    for (int d = 0; d < x->rank; d++)
        if (x->dims[d] < 1) return 0;
    return 1;
}

int mq_fuse_inside(const mq_trainer *tr, int node)
{
    const tail_nodes *t = tail_of(tr, node);
    return t && t->ran && t->lbn != node;
}

int mq_fuse_ends(const mq_trainer *tr, int node)
{
    const tail_nodes *t = tail_of(tr, node);
    return t && t->ran && t->pool == node;
}

/* The tail's numbers from the nodes and the values of this forward. */
static void tail_params(const mq_trainer *tr, const tail_nodes *t, mq_fuse_tail *f)
{
    const mq_graph *g = tr->g;
    const mq_node *l = &g->nodes[t->lbn], *a = &g->nodes[t->aq];
    const mq_tensor *x = &tr->vals[l->in[0]];
    memset(f, 0, sizeof *f);
    f->N = (size_t)x->dims[0];
    f->C = (size_t)x->dims[1];
    f->H = (size_t)x->dims[2];
    f->W = 1;
    for (int d = 3; d < x->rank; d++) f->W *= (size_t)x->dims[d];
    f->pool = t->kind;
    f->gamma = tr->vals[l->in[1]].data;
    f->beta = tr->vals[l->in[2]].data;
    f->eps = mq_attr_float(l, "epsilon", 1e-5f);
    f->mu = tr->lbn_saved[3 * (size_t)t->lbn];
    f->var = tr->lbn_saved[3 * (size_t)t->lbn + 1];
    f->states = (int)mq_attr_int(a, "states", 2);
    f->delta = mq_attr_float(a, "delta", 1.0f);
}

/* Inference of one node of the tail on this forward's values (shapes and attribute checks; no data). */
static mq_status infer_node(mq_trainer *tr, int node, mq_err *err)
{
    const mq_node *n = &tr->g->nodes[node];
    const mq_tensor *in[5] = {NULL};
    mq_tensor *out[3] = {NULL};
    if (n->n_in > 5 || n->n_out > 3) return mq_node_fail(err, n, MQ_ERR_LIMIT, "too many inputs");
    for (int k = 0; k < n->n_in; k++) in[k] = n->in[k] >= 0 ? &tr->vals[n->in[k]] : NULL;
    for (int k = 0; k < n->n_out; k++) out[k] = n->out[k] >= 0 ? &tr->vals[n->out[k]] : NULL;
    return n->def->infer(n, in, out, err);
}

mq_status mq_fuse_forward(mq_trainer *tr, int node, mq_err *err)
{
    tail_nodes *t = tail_of(tr, node);
    const mq_graph *g = tr->g;
    MQ_TRY(infer_node(tr, t->lbn, err));
    MQ_TRY(infer_node(tr, t->aq, err));
    MQ_TRY(infer_node(tr, t->pool, err));
    const mq_node *l = &g->nodes[t->lbn];
    const mq_tensor *x = &tr->vals[l->in[0]];
    mq_tensor *y = &tr->vals[g->nodes[t->pool].out[0]];
    mq_maqd_lbn_batch_stats(x->data, (size_t)mq_numel(x), tr->lbn_saved + 3 * (size_t)t->lbn);
    tr->lbn_saved_ok[t->lbn] = 1;
    mq_fuse_tail f;
    tail_params(tr, t, &f);
    y->data = mq_pool_get(&tr->pool, mq_nbytes(y) ? mq_nbytes(y) : 1, 0);
    tr->owned[g->nodes[t->pool].out[0]] = 1;
    t->saved = mq_pool_get(&tr->pool, mq_fuse_saved_bytes(&f) + 1, 0);
    t->scratch = mq_pool_get(&tr->pool, sizeof(float) * mq_fuse_scratch_floats(&f), 0);
    if (!y->data || !t->saved || !t->scratch) return mq_node_fail(err, l, MQ_ERR_NOMEM, "out of memory");
    mq_fuse_forward_tail(&f, x->data, y->data, t->saved, t->scratch);
    t->ran = 1;
    return MQ_OK;
}

mq_status mq_fuse_backward(mq_trainer *tr, int node, mq_err *err)
{
    tail_nodes *t = tail_of(tr, node);
    const mq_graph *g = tr->g;
    const mq_node *l = &g->nodes[t->lbn];
    int yid = g->nodes[t->pool].out[0];
    mq_fuse_tail f;
    tail_params(tr, t, &f);
    float *din[3] = {NULL, NULL, NULL};
    mq_status st = MQ_OK;
    for (int k = 0; k < 3; k++) {
        int id = l->in[k];
        if (!tr->needs[id]) continue;
        din[k] = mq_pool_get(&tr->pool, sizeof(float) * (size_t)mq_numel(&tr->vals[id]) + 1, 0);
        if (!din[k]) st = mq_node_fail(err, l, MQ_ERR_NOMEM, "out of memory for gradients");
    }
    if (st == MQ_OK)
        mq_fuse_backward_tail(&f, tr->vals[l->in[0]].data, t->saved, tr->grads[yid], t->scratch, din[0], din[1],
                              din[2]);
    for (int k = 0; k < 3; k++) {
        if (!din[k]) continue;
        if (st == MQ_OK) mq_train_add_grad(tr, l->in[k], din[k]);
        else mq_pool_put(&tr->pool, din[k]);
    }
    if (st == MQ_OK && yid != tr->output) { /* no longer needed */
        mq_pool_put(&tr->pool, tr->grads[yid]);
        tr->grads[yid] = NULL;
    }
    return st;
}
