/* lbn.c: the normalization passes: BatchNormalization -> LayerBatchNorm, exact in eval mode (MAQD.md
 * section 1), and folding BatchNormalization / eval LayerBatchNorm into the preceding Conv or Gemm. */
#include "passes/passes.h"
#include "core/op.h"
#include "ops/maqd.h"

#include <math.h>
#include <string.h>

static const mq_pass_opts no_opts;

static int64_t max_elems(const mq_pass_opts *o) { return o->max_elems; }

static int is_default_domain(const mq_node *n) { return n->domain[0] == 0 || strcmp(n->domain, "ai.onnx") == 0; }

/* A BatchNormalization in inference form: default domain, one output, not training_mode. */
static int is_bn_inference(const mq_node *n)
{
    if (strcmp(n->op_type, "BatchNormalization") != 0 || !is_default_domain(n)) return 0;
    for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0) return 0;
    if (n->opset >= 14 && mq_attr_int(n, "training_mode", 0) != 0) return 0;
    return n->n_in == 5;
}

static int is_lbn_eval(const mq_node *n)
{
    if (strcmp(n->op_type, "LayerBatchNorm") != 0 || strcmp(n->domain, MQ_MAQD_DOMAIN) != 0) return 0;
    for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0) return 0;
    return mq_attr_int(n, "training", 0) == 0 && n->n_in == 5;
}

/* Channel count C of a BN's input (from its scale when X's shape is not known), or -1. */
static int64_t bn_channels(const mq_graph *g, const mq_node *n)
{
    const mq_tensor *x = &g->tensors[n->in[0]];
    if (x->dtype != MQ_F32 && x->dtype != MQ_UNDEFINED) return -1;
    if (x->rank >= 2) return x->dims[1];
    if (x->rank >= 0) return -1;
    return n->in[1] >= 0 && g->tensors[n->in[1]].rank == 1 ? g->tensors[n->in[1]].dims[0] : -1;
}

static int bn_convertible(const mq_graph *g, const mq_node *n)
{
    if (!is_bn_inference(n) || n->in[0] < 0) return 0;
    int64_t C = bn_channels(g, n);
    if (C < 1) return 0;
    for (int k = 1; k < 5; k++)
        if (!mq_pass_is_f32_const(g, n->in[k], C)) return 0;
    return 1;
}

mq_status mq_pass_bn_to_lbn(mq_graph *g, const mq_pass_opts *o, mq_err *err)
{
    if (!o) o = &no_opts;
    const mq_op_def *def = mq_op_find(MQ_MAQD_DOMAIN, "LayerBatchNorm", 1, NULL);
    if (!def) return mq_fail(err, MQ_ERR_UNSUPPORTED, "op LayerBatchNorm is not registered");
    int count = 0, skipped = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (bn_convertible(g, &g->nodes[i])) count++;
        else if (strcmp(g->nodes[i].op_type, "BatchNormalization") == 0 && is_default_domain(&g->nodes[i])) skipped++;
    }
    if (o->stats) o->stats->skipped += skipped;
    if (count == 0) return MQ_OK;
    if (count > (INT32_MAX / 8)) return mq_fail(err, MQ_ERR_LIMIT, "too many BatchNormalization nodes");
    MQ_TRY(mq_pass_reserve(g, 4 * count, 0, err));
    MQ_TRY(mq_pass_use_domain(g, MQ_MAQD_DOMAIN, 1, err));

    for (int i = 0; i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        if (!bn_convertible(g, n)) continue;
        int64_t C = bn_channels(g, n);
        const float *scale = g->tensors[n->in[1]].data, *bias = g->tensors[n->in[2]].data;
        const float *mean = g->tensors[n->in[3]].data, *var = g->tensors[n->in[4]].data;
        double eps = mq_attr_float(n, "epsilon", 1e-5f);
        /* mu_run = mean_c(mean_c); var_run = mean_c(var_c + mean_c^2) - mu_run^2, evaluated as the equal
         * mean_c(var_c + (mean_c - mu_run)^2), which has no cancellation. All in double. */
        double mu = 0, v = 0;
        for (int64_t c = 0; c < C; c++) mu += mean[c];
        mu /= (double)C;
        for (int64_t c = 0; c < C; c++) v += var[c] + (mean[c] - mu) * (mean[c] - mu);
        v /= (double)C;
        float *gb = mq_malloc(sizeof(float) * 2 * (size_t)C);
        if (!gb) return mq_fail(err, MQ_ERR_NOMEM, "out of memory converting BatchNormalization");
        double sd_run = sqrt(v + eps);
        for (int64_t c = 0; c < C; c++) {
            double sd_c = sqrt((double)var[c] + eps);
            gb[c] = (float)(scale[c] * sd_run / sd_c);                    /* gamma */
            gb[C + c] = (float)(bias[c] + scale[c] * (mu - mean[c]) / sd_c); /* beta */
        }
        const char *base = n->name[0] ? n->name : g->tensors[n->out[0]].name;
        int ids[4];
        float stat[2] = {(float)mu, (float)v};
        int64_t one = 1;
        mq_status st = mq_pass_add_f32_const(g, base, ".lbn_gamma", 1, &C, gb, &ids[0], err);
        if (st == MQ_OK) st = mq_pass_add_f32_const(g, base, ".lbn_beta", 1, &C, gb + C, &ids[1], err);
        if (st == MQ_OK) st = mq_pass_add_f32_const(g, base, ".lbn_mu_run", 1, &one, &stat[0], &ids[2], err);
        if (st == MQ_OK) st = mq_pass_add_f32_const(g, base, ".lbn_var_run", 1, &one, &stat[1], &ids[3], err);
        mq_free(gb);
        if (st != MQ_OK) return st;
        /* Rewrite the node in place: same X and output, new parameters and attributes. ONNX's momentum
         * weighs the old running value (0.9); MAQD.md's weighs the batch (0.1). */
        float bn_mom = mq_attr_float(n, "momentum", 0.9f);
        n->op_type = "LayerBatchNorm";
        n->domain = MQ_MAQD_DOMAIN;
        n->opset = 1;
        n->def = def;
        for (int k = 0; k < 4; k++) n->in[1 + k] = ids[k];
        n->n_out = 1;
        n->n_attr = 0;
        n->attrs = NULL;
        MQ_TRY(mq_pass_set_attr_float(g, n, "epsilon", (float)eps, err));
        MQ_TRY(mq_pass_set_attr_float(g, n, "momentum", bn_mom >= 0 && bn_mom <= 1 ? 1.0f - bn_mom : 0.1f, err));
        if (o->stats) o->stats->bn_replaced++;
    }
    return mq_pass_reinfer(g, max_elems(o), err);
}

/* ---- fold_bn ------------------------------------------------------------------------------------- */

/* Per-channel affine y = a x + b of an eval BN / LBN node with constant parameters of C channels;
 * returns 0 if it has none. a, b: C doubles each. */
static int norm_affine(const mq_graph *g, const mq_node *n, int64_t C, double *a, double *b)
{
    double eps = mq_attr_float(n, "epsilon", 1e-5f);
    if (is_bn_inference(n)) {
        for (int k = 1; k < 5; k++)
            if (!mq_pass_is_f32_const(g, n->in[k], C)) return 0;
        const float *s = g->tensors[n->in[1]].data, *bi = g->tensors[n->in[2]].data;
        const float *m = g->tensors[n->in[3]].data, *v = g->tensors[n->in[4]].data;
        for (int64_t c = 0; c < C; c++) {
            a[c] = s[c] / sqrt((double)v[c] + eps);
            b[c] = bi[c] - a[c] * m[c];
        }
        return 1;
    }
    if (is_lbn_eval(n)) {
        if (!mq_pass_is_f32_const(g, n->in[1], C) || !mq_pass_is_f32_const(g, n->in[2], C) ||
            !mq_pass_is_f32_const(g, n->in[3], 1) || !mq_pass_is_f32_const(g, n->in[4], 1))
            return 0;
        const float *ga = g->tensors[n->in[1]].data, *be = g->tensors[n->in[2]].data;
        double mu = *(const float *)g->tensors[n->in[3]].data, var = *(const float *)g->tensors[n->in[4]].data;
        double inv = 1.0 / sqrt(var + eps);
        for (int64_t c = 0; c < C; c++) {
            a[c] = ga[c] * inv;
            b[c] = be[c] - a[c] * mu;
        }
        return 1;
    }
    return 0;
}

/* An initializer-like weight: constant, not computed by a node (a WeightQuant output is not folded into). */
static int plain_const(const mq_graph *g, const int *producer, int t, int64_t count)
{
    return t >= 0 && producer[t] < 0 && mq_pass_is_f32_const(g, t, count);
}

/* Try to fold node bn (index i) into the producer of its input. Returns 1 if folded (node i is to be
 * dropped), 0 if left alone, -1 on error (err set). */
static int fold_one(mq_graph *g, int i, const int *consumers, const int *producer, mq_err *err)
{
    mq_node *bn = &g->nodes[i];
    if (!is_bn_inference(bn) && !is_lbn_eval(bn)) return 0;
    int x = bn->in[0];
    if (x < 0 || producer[x] < 0 || consumers[x] != 1 || g->tensors[x].is_output) return 0;
    mq_node *p = &g->nodes[producer[x]];
    if (!is_default_domain(p) || p->n_out < 1 || p->out[0] != x) return 0;
    int is_conv = strcmp(p->op_type, "Conv") == 0, is_gemm = strcmp(p->op_type, "Gemm") == 0;
    if (!is_conv && !is_gemm) return 0;
    const mq_tensor *xt = &g->tensors[x];
    if (xt->rank < 2 || xt->dtype != MQ_F32) return 0;
    if (is_gemm && xt->rank != 2) return 0;
    int64_t C = xt->dims[1];
    int wt = mq_node_in(p, 1), bt = mq_node_in(p, 2);
    if (!plain_const(g, producer, wt, -1)) return 0;
    const mq_tensor *w = &g->tensors[wt];
    int trans_b = is_gemm && mq_attr_int(p, "transB", 0) != 0;
    int axis = is_conv ? 0 : (trans_b ? 0 : 1); /* the weight's output-channel axis */
    if (is_conv ? (w->rank < 1 || w->dims[0] != C) : (w->rank != 2 || w->dims[axis] != C)) return 0;
    double beta_g = is_gemm ? mq_attr_float(p, "beta", 1.0f) : 1.0;
    int64_t bcount = 0;
    if (bt >= 0) {
        if (!plain_const(g, producer, bt, -1)) return 0;
        const mq_tensor *bb = &g->tensors[bt];
        bcount = mq_numel(bb);
        int per_channel = bcount == C && (bb->rank == 1 || (bb->rank == 2 && bb->dims[0] == 1));
        if (!per_channel && !(is_gemm && bcount == 1)) return 0; /* e.g. a Gemm C of shape (M, N) */
    }
    double *ab = mq_malloc(sizeof(double) * 2 * (size_t)C);
    float *nb = mq_malloc(sizeof(float) * (size_t)C);
    float *nw = mq_malloc(mq_nbytes(w) ? mq_nbytes(w) : 1);
    int ret = -1;
    if (!ab || !nb || !nw) {
        mq_fail(err, MQ_ERR_NOMEM, "out of memory folding a normalization");
        goto out;
    }
    double *a = ab, *b = ab + C;
    if (!norm_affine(g, bn, C, a, b)) {
        ret = 0;
        goto out;
    }
    /* W' = a[o] W (along the output-channel axis); bias' = a[o] beta B[o] + b[o] (beta: Gemm's, then 1). */
    size_t total = (size_t)mq_numel(w), inner = 1;
    for (int d = axis + 1; d < w->rank; d++) inner *= (size_t)w->dims[d];
    const float *wd = w->data;
    for (size_t k = 0; k < total; k++) nw[k] = (float)(a[(k / inner) % (size_t)C] * wd[k]);
    const float *bd = bt >= 0 ? g->tensors[bt].data : NULL;
    for (int64_t c = 0; c < C; c++) {
        double b0 = bd ? bd[bcount == 1 ? 0 : c] : 0;
        nb[c] = (float)(a[c] * beta_g * b0 + b[c]);
    }
    int nwt, nbt;
    if (mq_pass_add_f32_const(g, w->name, ".folded", w->rank, w->dims, nw, &nwt, err) != MQ_OK) goto out;
    const char *bbase = bt >= 0 ? g->tensors[bt].name : g->tensors[wt].name;
    if (mq_pass_add_f32_const(g, bbase, bt >= 0 ? ".folded" : ".folded_bias", 1, &C, nb, &nbt, err) != MQ_OK) goto out;
    bn = &g->nodes[i];
    p->in[1] = nwt;
    if (p->n_in >= 3) p->in[2] = nbt;
    else {
        int *in = mq_arena_array(g->arena, 3, sizeof(int));
        if (!in) {
            mq_fail(err, MQ_ERR_NOMEM, "out of memory folding a normalization");
            goto out;
        }
        in[0] = p->in[0];
        in[1] = nwt;
        in[2] = nbt;
        p->in = in;
        p->n_in = 3;
    }
    if (is_gemm && mq_pass_set_attr_float(g, p, "beta", 1.0f, err) != MQ_OK) goto out;
    p->out[0] = bn->out[0]; /* the Conv/Gemm now produces the normalization's output */
    ret = 1;
out:
    mq_free(ab);
    mq_free(nb);
    mq_free(nw);
    return ret;
}

mq_status mq_pass_fold_bn(mq_graph *g, const mq_pass_opts *o, mq_err *err)
{
    if (!o) o = &no_opts;
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (is_bn_inference(&g->nodes[i]) || is_lbn_eval(&g->nodes[i])) count++;
    if (count == 0) return MQ_OK;
    MQ_TRY(mq_pass_reserve(g, 2 * count, 0, err));
    int *consumers = NULL, *producer = NULL;
    MQ_TRY(mq_pass_uses(g, &consumers, &producer, err));
    unsigned char *drop = mq_calloc((size_t)g->n_nodes + 1, 1);
    mq_status st = MQ_OK;
    if (!drop) st = mq_fail(err, MQ_ERR_NOMEM, "out of memory folding normalizations");
    int folded = 0, skipped = 0;
    for (int i = 0; st == MQ_OK && i < g->n_nodes; i++) {
        if (!is_bn_inference(&g->nodes[i]) && !is_lbn_eval(&g->nodes[i])) continue;
        int r = fold_one(g, i, consumers, producer, err);
        if (r < 0) st = err ? err->code : MQ_ERR_NOMEM;
        else if (r == 0) skipped++;
        else {
            drop[i] = 1;
            folded++;
        }
    }
    if (st == MQ_OK && folded) mq_pass_remove_nodes(g, drop);
    mq_free(consumers);
    mq_free(producer);
    mq_free(drop);
    if (st != MQ_OK) return st;
    if (o->stats) {
        o->stats->bn_folded += folded;
        o->stats->skipped += skipped;
    }
    return folded ? mq_pass_reinfer(g, max_elems(o), err) : MQ_OK;
}
