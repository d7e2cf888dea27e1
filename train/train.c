/* train.c: the fine-tuning engine: training graph preparation, forward in training mode keeping every
 * intermediate, losses, backward in reverse topological order, SGD/AdamW, schedules, calibration, eval. */
#include "train/train_internal.h"

#include "core/exec.h"
#include "core/op.h"
#include "ops/grad.h"
#include "ops/loss.h"
#include "ops/maqd.h"
#include "passes/passes.h"
#include "train/dist.h"
#include "train/fuse.h"

#include <cblas.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define MAX_IO 64
#define SAMPLE_CAP 65536

void mq_train_opts_init(mq_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->quantize = 1;
    o->surrogate = "ste";
    o->epochs = 1;
    o->batch = 64;
    o->lr = 0.01f;
    o->momentum = 0.9f;
    o->weight_decay = 5e-4f;
    o->optimizer = MQ_OPT_SGD;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->adam_eps = 1e-8f;
    o->schedule = MQ_SCHED_COSINE;
    o->step_gamma = 0.1f;
    o->temperature = 4.0f;
    o->distill_weight = 0.5f;
    o->calib_batches = 8;
    o->channel_correction = 1;
}

static int is_op(const mq_node *n, const char *domain, const char *op)
{
    const char *d = n->domain && strcmp(n->domain, "ai.onnx") ? n->domain : "";
    return strcmp(d, domain) == 0 && strcmp(n->op_type, op) == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- setup ------------------------------------------------------------------------------------------ */

static mq_status set_attr_str(mq_graph *g, mq_node *n, const char *name, const char *v, mq_err *err)
{
    for (int k = 0; k < n->n_attr; k++)
        if (strcmp(n->attrs[k].name, name) == 0) {
            char *s = mq_arena_strdup(g->arena, v);
            if (!s) return mq_fail(err, MQ_ERR_NOMEM, "out of memory setting an attribute");
            n->attrs[k].type = MQ_ATTR_STRING;
            n->attrs[k].s = s;
            n->attrs[k].s_len = strlen(v);
            return MQ_OK;
        }
    mq_attr *arr = mq_arena_array(g->arena, (size_t)n->n_attr + 1, sizeof(mq_attr));
    char *nm = mq_arena_strdup(g->arena, name), *s = mq_arena_strdup(g->arena, v);
    if (!arr || !nm || !s) return mq_fail(err, MQ_ERR_NOMEM, "out of memory setting an attribute");
    if (n->n_attr) memcpy(arr, n->attrs, sizeof(mq_attr) * (size_t)n->n_attr);
    memset(&arr[n->n_attr], 0, sizeof(mq_attr));
    arr[n->n_attr].name = nm;
    arr[n->n_attr].type = MQ_ATTR_STRING;
    arr[n->n_attr].s = s;
    arr[n->n_attr].s_len = strlen(v);
    n->attrs = arr;
    n->n_attr++;
    return MQ_OK;
}

void mq_trainer_free(mq_trainer *tr)
{
    if (!tr) return;
    mq_train_release(tr);
    for (int i = 0; i < tr->n_params; i++) {
        mq_free(tr->params[i].w);
        mq_free(tr->params[i].m);
        mq_free(tr->params[i].v);
    }
    if (tr->samples && tr->g)
        for (int i = 0; i < tr->g->n_nodes; i++) mq_free(tr->samples[i]);
    mq_free(tr->samples);
    mq_free(tr->n_samples);
    if (tr->psum && tr->g)
        for (int i = 0; i < tr->g->n_nodes; i++) {
            mq_free(tr->psum[i]);
            mq_free(tr->psq[i]);
        }
    mq_free(tr->psum);
    mq_free(tr->psq);
    mq_free(tr->pmu);
    mq_free(tr->pvar);
    mq_free(tr->pcount);
    mq_free(tr->pbatches);
    mq_free(tr->lbn_acc);
    mq_free(tr->lbn_saved);
    mq_free(tr->lbn_saved_ok);
    mq_train_parallel_free(tr);
    mq_fuse_free(tr);
    mq_free(tr->params);
    mq_free(tr->param_of);
    mq_free(tr->buffers);
    mq_free(tr->vals);
    mq_free(tr->grads);
    mq_free(tr->needs);
    mq_free(tr->run);
    mq_free(tr->owned);
    mq_pool_clear(&tr->pool);
    mq_graph_free(tr->g);
    mq_graph_free(tr->teacher);
    mq_free(tr);
}

const mq_graph *mq_trainer_graph(const mq_trainer *tr) { return tr->g; }
int mq_trainer_n_params(const mq_trainer *tr) { return tr->n_params; }

const float *mq_trainer_param(const mq_trainer *tr, int i, const char **name, size_t *count)
{
    if (i < 0 || i >= tr->n_params) return NULL;
    if (name) *name = tr->params[i].name;
    if (count) *count = tr->params[i].n;
    return tr->params[i].w;
}

/* A float initializer (no producer, known value) not yet a parameter: make it one. */
static mq_status add_param(mq_trainer *tr, const int *producer, int t, int decay, mq_err *err)
{
    mq_graph *g = tr->g;
    if (t < 0 || producer[t] >= 0 || tr->param_of[t] >= 0 || !mq_pass_is_f32_const(g, t, -1)) return MQ_OK;
    mq_param *p = &tr->params[tr->n_params];
    memset(p, 0, sizeof *p);
    p->t = t;
    p->name = g->tensors[t].name;
    p->n = (size_t)mq_numel(&g->tensors[t]);
    p->decay = decay;
    p->gscale = 1.0f;
    size_t nb = sizeof(float) * (p->n ? p->n : 1);
    p->w = mq_malloc(nb);
    p->m = mq_calloc(p->n ? p->n : 1, sizeof(float));
    p->v = mq_calloc(p->n ? p->n : 1, sizeof(float));
    if (!p->w || !p->m || !p->v) {
        mq_free(p->w);
        mq_free(p->m);
        mq_free(p->v);
        return mq_fail(err, MQ_ERR_NOMEM, "out of memory for parameter '%s'", p->name);
    }
    memcpy(p->w, g->tensors[t].data, sizeof(float) * p->n);
    tr->param_of[t] = tr->n_params++;
    /* The value now lives in the trainer: the graph keeps the tensor as a constant of unknown value,
     * so inference does not fold anything that depends on it. */
    g->tensors[t].data = NULL;
    return MQ_OK;
}

/* A quantizer's step (input 1) as a parameter: kept > 0, its gradient scaled as LSQ does (Esser et al. 2020),
 * by 1 / sqrt(N Q_P): N the elements one sample quantizes (ActQuant: X's count over its batch dimension;
 * WeightQuant: the weight's count), Q_P the top level (m - 1; (n - 1) / 2). docs/MAQD_CHOICES.md. */
static mq_status step_param(mq_trainer *tr, const mq_node *n, mq_param *p, mq_err *err)
{
    const mq_tensor *x = &tr->g->tensors[n->in[0]];
    int aq = is_op(n, MQ_MAQD_DOMAIN, "ActQuant"), states = (int)mq_attr_int(n, "states", 0);
    if (x->rank < 1 || x->dims[0] < 1 || p->n != 1)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "a learned step needs one value and a quantized input of known shape");
    double count = (double)mq_numel(x) / (double)(aq ? x->dims[0] : 1), top = aq ? states - 1 : 0.5 * (states - 1);
    if (!(count * top > 0)) return mq_node_fail(err, n, MQ_ERR_INVALID, "bad states for a learned step");
    p->step = 1;
    p->gscale = (float)(1.0 / sqrt(count * top));
    return MQ_OK;
}

/* The tensor a layer reads as its weight: through a WeightQuant to the float weight. */
static int weight_source(const mq_graph *g, const int *producer, int t)
{
    if (t < 0 || producer[t] < 0) return t;
    const mq_node *q = &g->nodes[producer[t]];
    return is_op(q, MQ_MAQD_DOMAIN, "WeightQuant") ? q->in[0] : t;
}

static mq_status find_params(mq_trainer *tr, mq_err *err)
{
    mq_graph *g = tr->g;
    int *consumers = NULL, *producer = NULL;
    MQ_TRY(mq_pass_uses(g, &consumers, &producer, err));
    mq_free(consumers);
    mq_status st = MQ_OK;
    int cap = 0;
    for (int i = 0; i < g->n_nodes; i++) cap += g->nodes[i].n_in;
    tr->params = mq_calloc((size_t)cap + 1, sizeof(mq_param));
    tr->buffers = mq_calloc((size_t)cap + 1, sizeof(int));
    tr->param_of = mq_malloc(sizeof(int) * ((size_t)g->n_tensors + 1));
    if (!tr->params || !tr->buffers || !tr->param_of) st = mq_fail(err, MQ_ERR_NOMEM, "out of memory for parameters");
    for (int t = 0; st == MQ_OK && t < g->n_tensors; t++) tr->param_of[t] = -1;
    for (int i = 0; st == MQ_OK && i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if (is_op(n, "", "Conv") || is_op(n, "", "Gemm") || is_op(n, "", "MatMul")) {
            st = add_param(tr, producer, weight_source(g, producer, mq_node_in(n, 1)), 1, err);
            if (st == MQ_OK && !is_op(n, "", "MatMul")) st = add_param(tr, producer, mq_node_in(n, 2), 0, err);
        } else if ((is_op(n, MQ_MAQD_DOMAIN, "ActQuant") || is_op(n, MQ_MAQD_DOMAIN, "WeightQuant")) && n->n_in > 1) {
            st = add_param(tr, producer, n->in[1], 0, err); /* a learned step: no weight decay */
            if (st == MQ_OK && tr->param_of[n->in[1]] >= 0) st = step_param(tr, n, &tr->params[tr->param_of[n->in[1]]], err);
        } else if (is_op(n, MQ_MAQD_DOMAIN, "LayerBatchNorm") || is_op(n, "", "BatchNormalization")) {
            st = add_param(tr, producer, mq_node_in(n, 1), 0, err);
            if (st == MQ_OK) st = add_param(tr, producer, mq_node_in(n, 2), 0, err);
            for (int k = 3; st == MQ_OK && k < 5; k++) {
                int t = mq_node_in(n, k);
                if (t < 0 || !mq_pass_is_f32_const(g, t, is_op(n, "", "BatchNormalization") ? -1 : 1))
                    st = mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "running statistics must be constants");
                else
                    tr->buffers[tr->n_buffers++] = t;
            }
        }
    }
    mq_free(producer);
    return st;
}

mq_status mq_trainer_new(mq_graph *g, mq_graph *teacher, const mq_train_opts *o, mq_trainer **out, mq_err *err)
{
    *out = NULL;
    mq_trainer *tr = mq_calloc(1, sizeof *tr);
    if (!tr) {
        mq_graph_free(g);
        mq_graph_free(teacher);
        return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    }
    tr->g = g;
    tr->teacher = teacher;
    if (o) tr->o = *o;
    else mq_train_opts_init(&tr->o);
    mq_train_opts *op = &tr->o;
    mq_status st = MQ_OK;
    openblas_set_num_threads(1); /* one thread: runs are reproducible bit for bit */
    if (op->batch < 1 || op->epochs < 0 || !(op->lr >= 0) || op->calib_batches < 0)
        st = mq_fail(err, MQ_ERR_INVALID, "batch must be >= 1, epochs and calibration batches >= 0, lr >= 0");
    if (st == MQ_OK && (g->n_inputs != 1 || g->n_outputs < 1))
        st = mq_fail(err, MQ_ERR_UNSUPPORTED, "fine-tuning needs a model with one input (has %d) and an output",
                     g->n_inputs);
    if (st == MQ_OK && op->distill && !teacher) st = mq_fail(err, MQ_ERR_INVALID, "distillation needs the float model");
    const char *sur = op->surrogate ? op->surrogate : "ste";
    if (st == MQ_OK && strcmp(sur, "ste") && strcmp(sur, "sigmoid"))
        st = mq_fail(err, MQ_ERR_INVALID, "surrogate must be 'ste' or 'sigmoid', not '%s'", sur);
    mq_pass_opts po;
    memset(&po, 0, sizeof po);
    po.max_elems = op->max_elems;
    po.w_states = op->w_states;
    po.a_states = op->a_states;
    po.quant_first = op->quant_first;
    po.quant_last = op->quant_last;
    po.n_overrides = op->n_overrides;
    po.overrides = op->overrides;
    if (st == MQ_OK && !op->keep_bn) st = mq_pass_bn_to_lbn(g, &po, err);
    for (int i = 0; st == MQ_OK && op->keep_bn && i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        if (!is_op(n, "", "BatchNormalization")) continue;
        if (n->n_out != 1 || (n->opset < 9 && mq_attr_int(n, "spatial", 1) != 1))
            st = mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "only BatchNormalization with one output and spatial=1 trains");
        /* The trainer runs it as BatchNormalization-15 (training_mode); versions 9 to 15 compute the same
         * eval output, and the export leaves the attribute out. */
        else if (n->opset < 15)
            n->opset = 15;
    }
    if (st == MQ_OK && op->quantize) st = mq_pass_insert_quantizers(g, &po, err);
    if (st == MQ_OK && (op->learn_act_step || op->learn_weight_step) && !op->quantize)
        st = mq_fail(err, MQ_ERR_INVALID, "a learned step needs the quantizers (not with --no-quant)");
    if (st == MQ_OK && (op->learn_act_step || op->learn_weight_step))
        st = mq_pass_step_inputs(g, op->learn_act_step, op->learn_weight_step, NULL, err);
    for (int i = 0; st == MQ_OK && i < g->n_nodes; i++)
        if (is_op(&g->nodes[i], MQ_MAQD_DOMAIN, "ActQuant") && strcmp(sur, "ste"))
            st = set_attr_str(g, &g->nodes[i], "surrogate", sur, err);
    if (st == MQ_OK) st = find_params(tr, err);
    if (st == MQ_OK) st = mq_pass_reinfer(g, op->max_elems, err);
    if (st == MQ_OK) {
        tr->input = g->inputs[0];
        tr->output = g->outputs[0];
        size_t nt = (size_t)g->n_tensors + 1, nn = (size_t)g->n_nodes + 1;
        tr->vals = mq_calloc(nt, sizeof(mq_tensor));
        tr->grads = mq_calloc(nt, sizeof(float *));
        tr->needs = mq_calloc(nt, 1);
        tr->owned = mq_calloc(nt, 1);
        tr->run = mq_calloc(nn, 1);
        tr->samples = mq_calloc(nn, sizeof(float *));
        tr->n_samples = mq_calloc(nn, sizeof(size_t));
        tr->psum = mq_calloc(nn, sizeof(double *));
        tr->psq = mq_calloc(nn, sizeof(double *));
        tr->pmu = mq_calloc(nn, sizeof(double));
        tr->pvar = mq_calloc(nn, sizeof(double));
        tr->pcount = mq_calloc(nn, sizeof(size_t));
        tr->pbatches = mq_calloc(nn, sizeof(int));
        tr->lbn_acc = mq_calloc(3 * nn, sizeof(double));
        tr->lbn_saved = mq_calloc(3 * nn, sizeof(double));
        tr->lbn_saved_ok = mq_calloc(nn, 1);
        if (!tr->vals || !tr->grads || !tr->needs || !tr->owned || !tr->run || !tr->samples || !tr->n_samples ||
            !tr->psum || !tr->psq || !tr->pmu || !tr->pvar || !tr->pcount || !tr->pbatches || !tr->lbn_acc ||
            !tr->lbn_saved || !tr->lbn_saved_ok)
            st = mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    }
    if (st == MQ_OK) {
        if (g->tensors[tr->input].dtype != MQ_F32) st = mq_fail(err, MQ_ERR_UNSUPPORTED, "the model input must be float32");
        /* Which nodes run per step (not folded), which tensors need gradients. */
        for (int i = 0; i < tr->n_params; i++) tr->needs[tr->params[i].t] = 1;
        for (int i = 0; st == MQ_OK && i < g->n_nodes; i++) {
            const mq_node *n = &g->nodes[i];
            int folded = 1, need = 0;
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] >= 0 && !g->tensors[n->out[k]].data) folded = 0;
            tr->run[i] = !folded;
            for (int k = 0; k < n->n_in; k++)
                if (n->in[k] >= 0 && tr->needs[n->in[k]]) need = 1;
            if (need && tr->run[i])
                for (int k = 0; k < n->n_out; k++)
                    if (n->out[k] >= 0 && g->tensors[n->out[k]].dtype == MQ_F32) tr->needs[n->out[k]] = 1;
            if (need && tr->run[i] && !mq_op_backward(n->def))
                st = mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no backward rule for this op (cannot fine-tune through it)");
        }
    }
    if (st == MQ_OK) st = mq_train_parallel_init(tr, err);
    if (st == MQ_OK) st = mq_fuse_init(tr, err);
    if (st != MQ_OK) {
        mq_trainer_free(tr);
        return st;
    }
    *out = tr;
    return MQ_OK;
}

/* ---- forward ------------------------------------------------------------------------------------------ */

void mq_train_release(mq_trainer *tr)
{
    if (!tr->g || !tr->vals) return;
    mq_fuse_release(tr);
    for (int t = 0; t < tr->g->n_tensors; t++) {
        if (tr->owned[t]) mq_pool_put(&tr->pool, tr->vals[t].data);
        tr->owned[t] = 0;
        tr->vals[t].data = NULL;
        mq_pool_put(&tr->pool, tr->grads[t]);
        tr->grads[t] = NULL;
    }
}

static mq_status set_lbn_mode(mq_trainer *tr, int training, mq_err *err)
{
    for (int i = 0; i < tr->g->n_nodes; i++) {
        mq_node *n = &tr->g->nodes[i];
        if (is_op(n, MQ_MAQD_DOMAIN, "LayerBatchNorm") && mq_attr_int(n, "training", 0) != training)
            MQ_TRY(mq_pass_set_attr_int(tr->g, n, "training", training, err));
        if (is_op(n, "", "BatchNormalization") && mq_attr_int(n, "training_mode", 0) != training)
            MQ_TRY(mq_pass_set_attr_int(tr->g, n, "training_mode", training, err));
    }
    return MQ_OK;
}

/* Running statistics after a training forward. LBN: this batch's mean and unbiased variance of its input,
 * added to the node's sums; mq_train_lbn_commit (train/parallel.c) turns them into running statistics once
 * per step (agreed across ranks). BatchNormalization (--norm bn, one process only): per channel, updated at
 * once as PyTorch does (m = 1 - the ONNX momentum, the unbiased variance). */
static void update_running_stats(mq_trainer *tr, int node)
{
    const mq_node *n = &tr->g->nodes[node];
    const mq_tensor *x = &tr->vals[n->in[0]];
    int bn = is_op(n, "", "BatchNormalization");
    size_t total = (size_t)mq_numel(x), N = (size_t)x->dims[0], C = bn ? (size_t)x->dims[1] : 1;
    size_t S = N * C > 0 ? total / (N * C) : 0;
    const float *xs = x->data;
    if (bn) {
        double m = 1.0 - mq_attr_float(n, "momentum", 0.9f);
        float *rm = tr->g->tensors[n->in[3]].data, *rv = tr->g->tensors[n->in[4]].data;
        for (size_t c = 0; c < C; c++) {
            double s = 0, ss = 0, cnt = (double)(N * S);
            for (size_t b = 0; b < N; b++)
                for (size_t k = 0; k < S; k++) s += xs[(b * C + c) * S + k];
            double mu = cnt > 0 ? s / cnt : 0;
            for (size_t b = 0; b < N; b++)
                for (size_t k = 0; k < S; k++) {
                    double d = xs[(b * C + c) * S + k] - mu;
                    ss += d * d;
                }
            double uvar = cnt > 1 ? ss / (cnt - 1) : 0;
            rm[c] = (float)((1 - m) * rm[c] + m * mu);
            rv[c] = (float)((1 - m) * rv[c] + m * uvar);
        }
        return;
    }
    double mu, uvar;
    if (tr->lbn_saved_ok[node]) { /* the forward's batch statistics */
        mu = tr->lbn_saved[3 * (size_t)node];
        uvar = tr->lbn_saved[3 * (size_t)node + 2];
    } else {
        double ss;
        mq_maqd_stats(xs, total, &mu, &ss);
        uvar = total > 1 ? ss / (double)(total - 1) : 0;
    }
    double *acc = tr->lbn_acc + 3 * (size_t)node;
    acc[0] += mu;
    acc[1] += uvar;
    acc[2] += 1;
}

/* Calibration: y = max(x, 0), and a strided sample of y kept for the delta search. */
static mq_status relu_and_sample(mq_trainer *tr, int node, const mq_tensor *x, mq_tensor *y, mq_err *err)
{
    size_t total = (size_t)mq_numel(x);
    *y = *x;
    y->name = tr->g->tensors[tr->g->nodes[node].out[0]].name;
    y->data = mq_pool_get(&tr->pool, sizeof(float) * total, 0);
    if (!y->data) return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    const float *xs = x->data;
    float *ys = y->data;
    for (size_t i = 0; i < total; i++) ys[i] = xs[i] > 0 ? xs[i] : 0.0f;
    if (!tr->aq_sample) return MQ_OK;
    if (!tr->samples[node]) {
        tr->samples[node] = mq_malloc(sizeof(float) * tr->sample_cap);
        if (!tr->samples[node]) return mq_fail(err, MQ_ERR_NOMEM, "out of memory for calibration samples");
    }
    size_t stride = total / (tr->sample_quota ? tr->sample_quota : 1);
    if (stride < 1) stride = 1;
    for (size_t i = 0, k = 0; i < total && k < tr->sample_quota && tr->n_samples[node] < tr->sample_cap; i += stride, k++)
        tr->samples[node][tr->n_samples[node]++] = ys[i];
    return MQ_OK;
}

/* Calibration probes: per-channel sums of an LBN node's output (probe 1) or input (probe 2, with the
 * batch mean and unbiased variance over all of X). */
static mq_status probe_lbn(mq_trainer *tr, int node, mq_err *err)
{
    const mq_node *n = &tr->g->nodes[node];
    const mq_tensor *t = &tr->vals[tr->probe == 1 ? n->out[0] : n->in[0]];
    size_t N = (size_t)t->dims[0], C = (size_t)t->dims[1], S = (size_t)(mq_numel(t) / (t->dims[0] * t->dims[1]));
    if (!tr->psum[node]) {
        tr->psum[node] = mq_calloc(C, sizeof(double));
        tr->psq[node] = mq_calloc(C, sizeof(double));
        if (!tr->psum[node] || !tr->psq[node]) return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    }
    const float *v = t->data;
    double all = 0, allsq = 0;
    for (size_t c = 0; c < C; c++) {
        double s1 = 0, s2 = 0;
        for (size_t i = 0; i < N; i++)
            for (size_t k = 0; k < S; k++) {
                double x = v[(i * C + c) * S + k];
                s1 += x;
                s2 += x * x;
            }
        tr->psum[node][c] += s1;
        tr->psq[node][c] += s2;
        all += s1;
        allsq += s2;
    }
    tr->pcount[node] += N * S;
    double tot = (double)(N * C * S), mu = all / tot;
    tr->pmu[node] += mu;
    tr->pvar[node] += tot > 1 ? (allsq - tot * mu * mu) / (tot - 1) : 0;
    tr->pbatches[node]++;
    return MQ_OK;
}

/* A LayerBatchNorm node in training mode, as mq_exec_node_with runs a node (inference, outputs from the pool),
 * through mq_maqd_lbn_forward_saved: its batch statistics stay for the running statistics and the backward. */
static mq_status lbn_exec_saved(mq_trainer *tr, int node, const mq_tensor *const *in, mq_tensor *const *out,
                                mq_err *err)
{
    const mq_node *n = &tr->g->nodes[node];
    MQ_TRY(n->def->infer(n, in, out, err));
    mq_status st = MQ_OK;
    for (int k = 0; k < n->n_out; k++)
        if (out[k]) {
            out[k]->data = st == MQ_OK ? mq_pool_get(&tr->pool, mq_nbytes(out[k]), 0) : NULL;
            if (!out[k]->data && st == MQ_OK) st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for output %d", k);
        }
    if (st == MQ_OK) st = mq_maqd_lbn_forward_saved(n, in, out, tr->lbn_saved + 3 * (size_t)node, err);
    tr->lbn_saved_ok[node] = st == MQ_OK;
    for (int k = 0; st != MQ_OK && k < n->n_out; k++)
        if (out[k]) {
            mq_pool_put(&tr->pool, out[k]->data);
            out[k]->data = NULL;
        }
    return st;
}

mq_status mq_train_forward(mq_trainer *tr, const float *x, int n, int training, mq_err *err)
{
    mq_graph *g = tr->g;
    mq_train_release(tr);
    MQ_TRY(set_lbn_mode(tr, training, err));
    for (int t = 0; t < g->n_tensors; t++) {
        tr->vals[t] = g->tensors[t];
        if (tr->param_of[t] >= 0) tr->vals[t].data = tr->params[tr->param_of[t]].w;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (tr->run[i])
            for (int k = 0; k < g->nodes[i].n_out; k++)
                if (g->nodes[i].out[k] >= 0) tr->vals[g->nodes[i].out[k]].data = NULL;
    mq_tensor *xin = &tr->vals[tr->input];
    if (xin->rank < 1) return mq_fail(err, MQ_ERR_SHAPE, "the model input has no known shape");
    xin->dims[0] = n;
    xin->data = (void *)(uintptr_t)x;
    memset(tr->lbn_saved_ok, 0, (size_t)g->n_nodes);
    for (int i = 0; i < g->n_nodes; i++) {
        if (!tr->run[i] || mq_fuse_inside(tr, i)) continue;
        const mq_node *nd = &g->nodes[i];
        if (nd->n_in > MAX_IO || nd->n_out > MAX_IO) return mq_node_fail(err, nd, MQ_ERR_LIMIT, "too many inputs");
        const mq_tensor *in[MAX_IO];
        mq_tensor *out[MAX_IO];
        for (int k = 0; k < nd->n_in; k++) {
            in[k] = nd->in[k] >= 0 ? &tr->vals[nd->in[k]] : NULL;
            if (in[k] && !in[k]->data)
                return mq_node_fail(err, nd, MQ_ERR_INVALID, "input '%s' has no value", in[k]->name);
        }
        for (int k = 0; k < nd->n_out; k++) out[k] = nd->out[k] >= 0 ? &tr->vals[nd->out[k]] : NULL;
        if (tr->aq_as_relu && is_op(nd, MQ_MAQD_DOMAIN, "ActQuant")) {
            MQ_TRY(relu_and_sample(tr, i, in[0], out[0], err));
        } else if (tr->wq_bypass && is_op(nd, MQ_MAQD_DOMAIN, "WeightQuant")) {
            *out[0] = *in[0];
            out[0]->name = g->tensors[nd->out[0]].name;
            size_t nb = mq_nbytes(in[0]);
            out[0]->data = mq_pool_get(&tr->pool, nb, 0);
            if (!out[0]->data) return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
            memcpy(out[0]->data, in[0]->data, nb);
        } else if (training && mq_fuse_starts(tr, i)) { /* LayerBatchNorm -> ActQuant -> pooling at once */
            MQ_TRY(mq_fuse_forward(tr, i, err));
        } else if (training && is_op(nd, MQ_MAQD_DOMAIN, "LayerBatchNorm")) {
            MQ_TRY(lbn_exec_saved(tr, i, in, out, err));
        } else {
            mq_exec_alloc pa = mq_pool_exec_alloc(&tr->pool, nd);
            MQ_TRY(mq_exec_node_with(nd, in, out, &pa, err));
        }
        for (int k = 0; k < nd->n_out; k++)
            if (nd->out[k] >= 0) tr->owned[nd->out[k]] = 1;
        if (training && tr->lbn_stats &&
            (is_op(nd, MQ_MAQD_DOMAIN, "LayerBatchNorm") || is_op(nd, "", "BatchNormalization")))
            update_running_stats(tr, i);
        if (tr->probe && is_op(nd, MQ_MAQD_DOMAIN, "LayerBatchNorm") && (tr->probe == 1 || tr->probe_node == i)) {
            MQ_TRY(probe_lbn(tr, i, err));
            if (tr->probe == 2) return MQ_OK; /* nothing downstream is needed */
        }
    }
    const mq_tensor *y = &tr->vals[tr->output];
    if (!y->data || y->dtype != MQ_F32 || y->rank != 2 || y->dims[0] != n)
        return mq_fail(err, MQ_ERR_SHAPE, "the model output '%s' must be float32 [batch, classes]", y->name);
    return MQ_OK;
}

/* ---- backward ----------------------------------------------------------------------------------------- */

void mq_train_add_grad(mq_trainer *tr, int t, float *g)
{
    if (!tr->grads[t]) {
        tr->grads[t] = g;
        return;
    }
    size_t k = (size_t)mq_numel(&tr->vals[t]);
    for (size_t i = 0; i < k; i++) tr->grads[t][i] += g[i];
    mq_pool_put(&tr->pool, g);
}

static float *alloc_floats(mq_trainer *tr, const mq_tensor *t, int zero)
{
    return mq_pool_get(&tr->pool, sizeof(float) * (size_t)mq_numel(t), zero);
}

/* dL/dlogits is in tr->grads[tr->output]; leaves dL/dparam in tr->grads[param tensor]. */
static mq_status backward(mq_trainer *tr, mq_err *err)
{
    mq_graph *g = tr->g;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        if (!tr->run[i]) continue;
        const mq_node *n = &g->nodes[i];
        int any_out = 0, any_in = 0;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0 && tr->grads[n->out[k]]) any_out = 1;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && tr->needs[n->in[k]]) any_in = 1;
        if (!any_out || !any_in) continue;
        if (mq_fuse_ends(tr, i)) { /* the whole fused tail, to dL/d its LayerBatchNorm's inputs */
            MQ_TRY(mq_fuse_backward(tr, i, err));
            continue;
        }
        mq_backward_fn fn = mq_op_backward(n->def);
        if (!fn) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no backward rule for this op");
        const mq_tensor *in[MAX_IO], *out[MAX_IO];
        const float *dout[MAX_IO];
        float *din[MAX_IO];
        mq_status st = MQ_OK;
        for (int k = 0; k < n->n_out; k++) {
            int t = n->out[k];
            out[k] = t >= 0 ? &tr->vals[t] : NULL;
            if (t >= 0 && !tr->grads[t] && tr->vals[t].dtype == MQ_F32) {
                tr->grads[t] = alloc_floats(tr, &tr->vals[t], 1);
                if (!tr->grads[t]) return mq_fail(err, MQ_ERR_NOMEM, "out of memory for gradients");
            }
            dout[k] = t >= 0 ? tr->grads[t] : NULL;
        }
        for (int k = 0; k < n->n_in; k++) {
            int t = n->in[k];
            in[k] = t >= 0 ? &tr->vals[t] : NULL;
            din[k] = NULL;
            if (t >= 0 && tr->needs[t] && st == MQ_OK) {
                din[k] = alloc_floats(tr, &tr->vals[t], 0);
                if (!din[k]) st = mq_fail(err, MQ_ERR_NOMEM, "out of memory for gradients");
            }
        }
        if (st == MQ_OK && tr->lbn_saved_ok[i]) /* LayerBatchNorm: with the forward's batch statistics */
            st = mq_maqd_lbn_backward_saved(n, in, out, dout, din, tr->lbn_saved + 3 * (size_t)i, err);
        else if (st == MQ_OK)
            st = fn(n, in, out, dout, din, err);
        for (int k = 0; k < n->n_in; k++) {
            if (!din[k]) continue;
            if (st == MQ_OK) mq_train_add_grad(tr, n->in[k], din[k]);
            else mq_pool_put(&tr->pool, din[k]);
        }
        if (st != MQ_OK) return st;
        for (int k = 0; k < n->n_out; k++) /* no longer needed */
            if (n->out[k] >= 0 && n->out[k] != tr->output) {
                mq_pool_put(&tr->pool, tr->grads[n->out[k]]);
                tr->grads[n->out[k]] = NULL;
            }
    }
    return MQ_OK;
}

/* ---- loss ----------------------------------------------------------------------------------------------- */

static mq_status loss_and_grad(mq_trainer *tr, const float *x, const int32_t *labels, int n, double *loss, int *correct,
                               mq_err *err)
{
    const mq_tensor *y = &tr->vals[tr->output];
    size_t c = (size_t)y->dims[1], nn = (size_t)n;
    const float *z = y->data;
    float *grad = mq_pool_get(&tr->pool, sizeof(float) * (nn * c + 1), 1);
    int64_t *lab = labels ? mq_malloc(sizeof(int64_t) * (nn ? nn : 1)) : NULL;
    double *ps = mq_malloc(sizeof(double) * 2 * (c ? c : 1));
    mq_status st = MQ_OK;
    if (!grad || (labels && !lab) || !ps) st = mq_fail(err, MQ_ERR_NOMEM, "out of memory for the loss");
    double w_kd = tr->o.distill ? (labels ? tr->o.distill_weight : 1.0) : 0.0, total = 0;
    if (st == MQ_OK && !labels && !tr->o.distill) st = mq_fail(err, MQ_ERR_INVALID, "no labels and no distillation");
    int cor = 0;
    for (size_t i = 0; st == MQ_OK && i < nn; i++) {
        size_t best = 0;
        for (size_t j = 1; j < c; j++)
            if (z[i * c + j] > z[i * c + best]) best = j;
        if (labels) {
            if (labels[i] < 0 || (size_t)labels[i] >= c)
                st = mq_fail(err, MQ_ERR_INVALID, "label %d outside the model's %zu classes", labels[i], c);
            else {
                lab[i] = labels[i];
                cor += (size_t)labels[i] == best;
            }
        }
    }
    if (st == MQ_OK && labels && w_kd < 1) {
        float ce = 0;
        if (mq_softmax_xent_mean_f32(nn, c, z, lab, &ce, grad) != 0) st = mq_fail(err, MQ_ERR_INVALID, "bad labels");
        total += (1 - w_kd) * ce;
        for (size_t i = 0; i < nn * c; i++) grad[i] = (float)((1 - w_kd) * grad[i]);
    }
    if (st == MQ_OK && w_kd > 0) { /* T^2 KL(p_teacher || p_student) at temperature T, mean over the batch */
        mq_tensor xin = tr->teacher->tensors[tr->teacher->inputs[0]], tout;
        memset(&tout, 0, sizeof tout);
        xin.dims[0] = n;
        xin.data = (void *)(uintptr_t)x;
        st = mq_exec_run(tr->teacher, &xin, &tout, err);
        if (st == MQ_OK && (tout.rank != 2 || tout.dims[0] != n || (size_t)tout.dims[1] != c || tout.dtype != MQ_F32))
            st = mq_fail(err, MQ_ERR_SHAPE, "the float model's output does not match the fine-tuned model's");
        double kl = 0;
        if (st == MQ_OK && mq_distill_kl_mean_f32(nn, c, z, tout.data, tr->o.temperature, w_kd, &kl, grad, NULL, ps) != 0)
            st = mq_fail(err, MQ_ERR_INVALID, "the temperature must be > 0");
        if (st == MQ_OK) total += w_kd * kl;
        mq_free(tout.data);
    }
    mq_free(lab);
    mq_free(ps);
    if (st != MQ_OK) {
        mq_pool_put(&tr->pool, grad);
        return st;
    }
    tr->grads[tr->output] = grad;
    *loss = total;
    *correct = cor;
    return MQ_OK;
}

/* ---- optimizer ------------------------------------------------------------------------------------------- */

float mq_trainer_lr(const mq_trainer *tr, int epoch, size_t global_step, size_t total_steps)
{
    const mq_train_opts *o = &tr->o;
    switch (o->schedule) {
    case MQ_SCHED_COSINE:
        if (total_steps == 0) return o->lr;
        return (float)(0.5 * o->lr * (1.0 + cos(3.14159265358979323846 * (double)global_step / (double)total_steps)));
    case MQ_SCHED_STEP: {
        int every = o->step_epochs > 0 ? o->step_epochs : (o->epochs / 3 > 1 ? o->epochs / 3 : 1);
        return (float)(o->lr * pow(o->step_gamma, epoch / every));
    }
    default:
        return o->lr;
    }
}

void mq_train_apply(mq_trainer *tr, float lr, float *const *grad)
{
    const mq_train_opts *o = &tr->o;
    tr->step++;
    double bc1 = 1 - pow(o->beta1, (double)tr->step), bc2 = 1 - pow(o->beta2, (double)tr->step);
    for (int i = 0; i < tr->n_params; i++) {
        mq_param *p = &tr->params[i];
        const float *gr = grad[i];
        if (!gr) continue;
        float wd = p->decay ? o->weight_decay : 0.0f, gs = p->gscale;
        if (o->optimizer == MQ_OPT_SGD) {
            for (size_t k = 0; k < p->n; k++) {
                float gk = gs * gr[k] + wd * p->w[k];
                p->m[k] = o->momentum * p->m[k] + gk;
                p->w[k] -= lr * p->m[k];
            }
        } else {
            float b1 = o->beta1, b2 = o->beta2;
            for (size_t k = 0; k < p->n; k++) {
                float gk = gs * gr[k];
                p->w[k] *= 1.0f - lr * wd;
                p->m[k] = b1 * p->m[k] + (1 - b1) * gk;
                p->v[k] = b2 * p->v[k] + (1 - b2) * gk * gk;
                double mh = p->m[k] / bc1, vh = p->v[k] / bc2;
                p->w[k] -= (float)(lr * mh / (sqrt(vh) + o->adam_eps));
            }
        }
        if (p->step && !(p->w[0] >= MQ_TRAIN_STEP_MIN)) p->w[0] = MQ_TRAIN_STEP_MIN; /* a step stays > 0 */
    }
}

mq_status mq_train_grad(mq_trainer *tr, const float *x, const int32_t *labels, int n, double *loss, int *correct,
                        mq_err *err)
{
    tr->lbn_stats = 1;
    mq_status st = mq_train_forward(tr, x, n, 1, err);
    tr->lbn_stats = 0;
    if (st == MQ_OK) st = loss_and_grad(tr, x, labels, n, loss, correct, err);
    if (st == MQ_OK) st = backward(tr, err);
    return st;
}

mq_status mq_trainer_step(mq_trainer *tr, const float *x, const int32_t *labels, int n, float lr, double *loss,
                          int *correct, mq_err *err)
{
    return mq_train_parallel_step(tr, x, labels, n, lr, loss, correct, err); /* train/parallel.c */
}

/* ---- epochs ----------------------------------------------------------------------------------------------- */

static mq_status batch_buffers(mq_trainer *tr, mq_dataset *ds, int batch, float **x, int32_t **y, mq_err *err)
{
    mq_data_info info;
    mq_data_get_info(ds, &info);
    const mq_tensor *in = &tr->g->tensors[tr->input];
    int64_t per = in->rank >= 1 && in->dims[0] > 0 ? mq_numel(in) / in->dims[0] : -1;
    if (per != (int64_t)info.sample_floats)
        return mq_fail(err, MQ_ERR_SHAPE, "the data's samples (%dx%dx%d) do not fit the model input '%s'", info.channels,
                       info.height, info.width, in->name);
    size_t nx;
    if (mq_mul_size((size_t)batch, info.sample_floats, &nx)) return mq_fail(err, MQ_ERR_LIMIT, "batch too large");
    *x = mq_malloc(sizeof(float) * (nx ? nx : 1));
    *y = mq_malloc(sizeof(int32_t) * (size_t)batch);
    if (!*x || !*y) {
        mq_free(*x);
        mq_free(*y);
        return mq_fail(err, MQ_ERR_NOMEM, "out of memory for a batch");
    }
    return MQ_OK;
}

mq_status mq_trainer_epoch(mq_trainer *tr, mq_dataset *ds, int epoch, mq_progress_fn cb, void *ctx,
                           mq_train_progress *result, mq_err *err)
{
    float *x = NULL;
    int32_t *y = NULL;
    int B = tr->o.batch;
    MQ_TRY(batch_buffers(tr, ds, B, &x, &y, err));
    mq_data_info info;
    mq_data_get_info(ds, &info);
    size_t steps = info.shard_count / info.slice, total = steps * (size_t)(tr->o.epochs > 0 ? tr->o.epochs : 1);
    mq_train_progress p;
    memset(&p, 0, sizeof p);
    p.epoch = epoch;
    p.epochs = tr->o.epochs;
    p.steps = steps;
    mq_status st = steps ? MQ_OK : mq_fail(err, MQ_ERR_INVALID, "fewer samples (%zu) than one batch (%d)", info.shard_count, B);
    if (st == MQ_OK && info.batch != B)
        st = mq_fail(err, MQ_ERR_INVALID, "the dataset was opened with another batch size than the trainer's %d", B);
    mq_data_epoch_begin(ds, (uint64_t)epoch, tr->o.seed);
    double t0 = now_s(), loss_sum = 0;
    size_t seen = 0, cor_sum = 0;
    while (st == MQ_OK && p.step < steps) {
        int n = 0;
        st = mq_data_next_batch(ds, x, y, &n, err);
        if (st != MQ_OK || n < (int)info.slice) break;
        float lr = mq_trainer_lr(tr, epoch, (size_t)epoch * steps + p.step, total);
        double loss = 0;
        int cor = 0;
        st = mq_trainer_step(tr, x, info.has_labels ? y : NULL, n, lr, &loss, &cor, err);
        if (st != MQ_OK) break;
        if (!isfinite(loss)) {
            st = mq_fail(err, MQ_ERR_INVALID, "the loss diverged (%g) at epoch %d step %zu (learning rate %g): lower "
                         "the learning rate", loss, epoch + 1, p.step + 1, (double)lr);
            break;
        }
        n = mq_train_global_batch(tr, n); /* loss and cor are over the ranks' batches together */
        loss_sum += loss * n;
        cor_sum += (size_t)cor;
        seen += (size_t)n;
        p.step++;
        p.lr = lr;
        p.loss = loss_sum / (double)seen;
        p.accuracy = (double)cor_sum / (double)seen;
        p.elapsed_s = now_s() - t0;
        p.images_per_s = p.elapsed_s > 0 ? (double)seen / p.elapsed_s : 0;
        if (cb) cb(ctx, &p);
    }
    mq_free(x);
    mq_free(y);
    if (result) *result = p;
    return st;
}

/* ---- calibration -------------------------------------------------------------------------------------------- */

static double aq_mse(const float *v, size_t n, int m, float delta)
{
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)v[i] - mq_maqd_actq(v[i], m, delta);
        e += d * d;
    }
    mq_dist_allreduce_sum_d(&e, 1); /* over every rank's samples */
    return e;
}

/* The delta minimizing the quantization error of the samples: a log grid, then golden-section search. */
static float best_delta(const float *v, size_t n, int m, float dflt)
{
    float vmax = 0;
    for (size_t i = 0; i < n; i++) vmax = v[i] > vmax ? v[i] : vmax;
    enum { GRID = 120 };
    double vmax_all = vmax; /* the samples are spread over the ranks: their mse is a sum over all of them */
    mq_dist_allreduce_max_d(&vmax_all, 1);
    vmax = (float)vmax_all;
    if (!(vmax > 0) || !isfinite(vmax)) return dflt;
    double hi = 1.5 * vmax / (m - 1), lo = hi / 1000, best_e = INFINITY;
    int best = 0;
    for (int i = 0; i <= GRID; i++) {
        double d = lo * pow(hi / lo, (double)i / GRID), e = aq_mse(v, n, m, (float)d);
        if (e < best_e) {
            best_e = e;
            best = i;
        }
    }
    double a = lo * pow(hi / lo, (double)(best > 0 ? best - 1 : 0) / GRID);
    double b = lo * pow(hi / lo, (double)(best < GRID ? best + 1 : GRID) / GRID);
    const double r = (sqrt(5.0) - 1) / 2;
    double c = b - r * (b - a), d = a + r * (b - a);
    double fc = aq_mse(v, n, m, (float)c), fd = aq_mse(v, n, m, (float)d);
    for (int it = 0; it < 40; it++) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = aq_mse(v, n, m, (float)c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = aq_mse(v, n, m, (float)d);
        }
    }
    double mid = 0.5 * (a + b);
    /* the golden search works on a bumpy function: keep the grid's best if it is better */
    double grid_best = lo * pow(hi / lo, (double)best / GRID);
    return aq_mse(v, n, m, (float)mid) <= best_e ? (float)mid : (float)grid_best;
}

static void probe_reset(mq_trainer *tr)
{
    for (int i = 0; i < tr->g->n_nodes; i++) {
        mq_free(tr->psum[i]);
        mq_free(tr->psq[i]);
        tr->psum[i] = tr->psq[i] = NULL;
        tr->pmu[i] = tr->pvar[i] = 0;
        tr->pcount[i] = 0;
        tr->pbatches[i] = 0;
    }
}

/* The calibration batches (an order of their own, independent of the epochs'), one forward per LBN group. */
static mq_status calib_batches(mq_trainer *tr, mq_dataset *ds, float *x, int32_t *y, int training, mq_err *err)
{
    mq_status st = MQ_OK;
    mq_data_epoch_begin(ds, 0xCA11B4A7ull, tr->o.seed);
    for (int b = 0; st == MQ_OK && b < tr->o.calib_batches; b++) {
        int n = 0;
        st = mq_data_next_batch(ds, x, y, &n, err);
        if (st != MQ_OK || n == 0) break;
        st = mq_train_forward_groups(tr, x, n, training, err); /* train/parallel.c */
    }
    mq_train_sync_probes(tr); /* sums over every rank's batches */
    return st;
}

/* Our addition to MAQD.md section 5 step 3: weight standardization changes each output channel's scale
 * and offset, which LBN's one per-layer statistic cannot undo, so the imported function is lost before
 * fine-tuning starts. Layer by layer (in order), with ActQuant as ReLU: set the LBN's running statistics
 * from the quantized network's batch statistics, then rescale gamma[c] and shift beta[c] so that each
 * channel of its output has the mean and standard deviation it has in the float model. */
static mq_status channel_correction(mq_trainer *tr, mq_dataset *ds, float *x, int32_t *y, mq_err *err)
{
    mq_graph *g = tr->g;
    int nn = g->n_nodes;
    double **fm = mq_calloc((size_t)nn + 1, sizeof(double *)), **fs = mq_calloc((size_t)nn + 1, sizeof(double *));
    mq_status st = fm && fs ? MQ_OK : mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    /* the float model's per-channel output statistics (eval mode: the imported function) */
    tr->aq_as_relu = 1;
    tr->wq_bypass = 1;
    tr->probe = 1;
    probe_reset(tr);
    if (st == MQ_OK) st = calib_batches(tr, ds, x, y, 0, err);
    tr->wq_bypass = 0;
    for (int i = 0; st == MQ_OK && i < nn; i++) {
        if (!tr->psum[i]) continue;
        size_t C = (size_t)tr->vals[g->nodes[i].in[1]].dims[0];
        fm[i] = mq_calloc(C, sizeof(double));
        fs[i] = mq_calloc(C, sizeof(double));
        if (!fm[i] || !fs[i]) {
            st = mq_fail(err, MQ_ERR_NOMEM, "out of memory");
            break;
        }
        for (size_t c = 0; c < C; c++) {
            double cnt = (double)tr->pcount[i], m = tr->psum[i][c] / cnt;
            fm[i][c] = m;
            fs[i][c] = sqrt(fmax(tr->psq[i][c] / cnt - m * m, 0));
        }
    }
    for (int i = 0; st == MQ_OK && i < nn; i++) {
        mq_node *n = &g->nodes[i];
        if (!fm[i] || !tr->run[i]) continue;
        probe_reset(tr);
        tr->probe = 2;
        tr->probe_node = i;
        st = calib_batches(tr, ds, x, y, 0, err);
        if (st != MQ_OK || !tr->pbatches[i]) break;
        float *rm = g->tensors[n->in[3]].data, *rv = g->tensors[n->in[4]].data;
        rm[0] = (float)(tr->pmu[i] / tr->pbatches[i]);
        rv[0] = (float)(tr->pvar[i] / tr->pbatches[i]);
        int pg = tr->param_of[n->in[1]], pb = tr->param_of[n->in[2]];
        if (pg < 0 || pb < 0) continue;
        float *gamma = tr->params[pg].w, *beta = tr->params[pb].w;
        double eps = mq_attr_float(n, "epsilon", 1e-5f), inv = 1.0 / sqrt((double)rv[0] + eps);
        size_t C = tr->params[pg].n;
        for (size_t c = 0; c < C; c++) {
            double cnt = (double)tr->pcount[i], mx = tr->psum[i][c] / cnt;
            double sx = sqrt(fmax(tr->psq[i][c] / cnt - mx * mx, 0));
            double a = gamma[c] * inv, b = beta[c] - a * rm[0];
            double mq = a * mx + b, sq = fabs(a) * sx;
            if (!(sq > 1e-12) || !(fs[i][c] > 1e-12)) continue;
            double k = fs[i][c] / sq;
            gamma[c] = (float)(k * gamma[c]);
            beta[c] = (float)(k * (beta[c] - mq) + fm[i][c]);
        }
    }
    tr->probe = 0;
    tr->aq_as_relu = 0;
    probe_reset(tr);
    for (int i = 0; fm && fs && i < nn; i++) {
        mq_free(fm[i]);
        mq_free(fs[i]);
    }
    mq_free(fm);
    mq_free(fs);
    return st;
}

mq_status mq_trainer_calibrate(mq_trainer *tr, mq_dataset *ds, mq_err *err)
{
    int K = tr->o.calib_batches, B = tr->o.batch;
    if (K <= 0) return MQ_OK;
    float *x = NULL;
    int32_t *y = NULL;
    MQ_TRY(batch_buffers(tr, ds, B, &x, &y, err));
    mq_graph *g = tr->g;
    mq_status st = MQ_OK;
    if (tr->o.quantize && tr->o.channel_correction) st = channel_correction(tr, ds, x, y, err);
    /* 1: deltas, with every ActQuant acting as ReLU */
    tr->aq_sample = 1;
    tr->sample_cap = SAMPLE_CAP;
    /* per forward (one LBN group): a share of the cap, the same whatever the number of ranks */
    tr->sample_quota = SAMPLE_CAP / ((size_t)K * (size_t)mq_train_groups_per_batch(tr));
    if (tr->sample_quota < 1) tr->sample_quota = 1;
    tr->aq_as_relu = 1;
    if (st == MQ_OK) st = calib_batches(tr, ds, x, y, 1, err);
    tr->aq_as_relu = tr->aq_sample = 0;
    for (int i = 0; st == MQ_OK && i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        if (!is_op(n, MQ_MAQD_DOMAIN, "ActQuant") || !tr->samples[i]) continue;
        int m = (int)mq_attr_int(n, "states", 2);
        float d = best_delta(tr->samples[i], tr->n_samples[i], m, mq_attr_float(n, "delta", 1.0f));
        st = mq_pass_set_attr_float(g, n, "delta", d, err);
        int ps = n->n_in > 1 && n->in[1] >= 0 ? tr->param_of[n->in[1]] : -1;
        if (ps >= 0) tr->params[ps].w[0] = d; /* a learned step starts from the calibrated one */
    }
    for (int i = 0; i < g->n_nodes; i++) {
        mq_free(tr->samples[i]);
        tr->samples[i] = NULL;
        tr->n_samples[i] = 0;
    }
    /* 2: LBN running statistics: the average of the batch statistics with the quantizers on */
    tr->lbn_stats = 1;
    if (st == MQ_OK) st = calib_batches(tr, ds, x, y, 1, err);
    tr->lbn_stats = 0;
    if (st == MQ_OK) mq_train_lbn_commit(tr, 1, NULL, 0);
    mq_free(x);
    mq_free(y);
    return st;
}

/* ---- evaluation ---------------------------------------------------------------------------------------------- */

void mq_eval_result_free(mq_eval_result *r)
{
    if (!r) return;
    mq_free(r->class_count);
    mq_free(r->class_correct);
    r->class_count = r->class_correct = NULL;
}

static mq_status score(mq_eval_result *r, const float *z, int64_t classes, const int32_t *y, int n, mq_err *err)
{
    if (!r->class_count) {
        r->classes = classes;
        r->class_count = mq_calloc((size_t)classes, sizeof(size_t));
        r->class_correct = mq_calloc((size_t)classes, sizeof(size_t));
        if (!r->class_count || !r->class_correct) return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    }
    if (classes != r->classes) return mq_fail(err, MQ_ERR_SHAPE, "the number of classes changed between batches");
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)classes;
        if (y[i] < 0 || y[i] >= classes)
            return mq_fail(err, MQ_ERR_INVALID, "label %d outside the model's %lld classes", y[i], (long long)classes);
        int64_t above = 0, best = 0;
        for (int64_t j = 0; j < classes; j++) {
            if (zi[j] > zi[y[i]] || (zi[j] == zi[y[i]] && j < y[i])) above++;
            if (zi[j] > zi[best]) best = j;
        }
        int64_t lab = y[i];
        float ce = 0;
        mq_softmax_xent_mean_f32(1, (size_t)classes, zi, &lab, &ce, NULL);
        r->loss_sum += ce;
        r->count++;
        r->class_count[y[i]]++;
        if (best == y[i]) {
            r->correct++;
            r->class_correct[y[i]]++;
        }
        if (above < 5) r->correct_top5++;
    }
    return MQ_OK;
}

mq_status mq_trainer_evaluate(mq_trainer *tr, mq_dataset *ds, int batch, mq_eval_result *r, mq_err *err)
{
    memset(r, 0, sizeof *r);
    float *x = NULL;
    int32_t *y = NULL;
    MQ_TRY(batch_buffers(tr, ds, batch, &x, &y, err));
    mq_data_info info;
    mq_data_get_info(ds, &info);
    mq_status st = MQ_OK;
    for (size_t at = 0; st == MQ_OK && at < info.count;) {
        int n = 0;
        for (; n < batch && at < info.count && st == MQ_OK; n++, at++)
            st = mq_data_get(ds, at, x + (size_t)n * info.sample_floats, y + n, err);
        if (st == MQ_OK) st = mq_train_forward(tr, x, n, 0, err);
        if (st == MQ_OK) {
            const mq_tensor *z = &tr->vals[tr->output];
            st = score(r, z->data, z->dims[1], y, n, err);
        }
        mq_train_release(tr);
    }
    mq_free(x);
    mq_free(y);
    if (st != MQ_OK) mq_eval_result_free(r);
    return st;
}

mq_status mq_eval_graph(const mq_graph *g, mq_dataset *ds, int batch, mq_eval_result *r, mq_err *err)
{
    memset(r, 0, sizeof *r);
    if (g->n_inputs != 1 || g->n_outputs < 1) return mq_fail(err, MQ_ERR_UNSUPPORTED, "the model must have one input");
    mq_tensor xin = g->tensors[g->inputs[0]];
    if (xin.dtype != MQ_F32 || xin.rank < 1) return mq_fail(err, MQ_ERR_UNSUPPORTED, "the model input must be float32");
    batch = (int)xin.dims[0]; /* the graph's batch size (pinned at import): the last batch is padded */
    mq_data_info info;
    mq_data_get_info(ds, &info);
    if (xin.dims[0] < 1 || mq_numel(&xin) / xin.dims[0] != (int64_t)info.sample_floats)
        return mq_fail(err, MQ_ERR_SHAPE, "the data's samples (%dx%dx%d) do not fit the model input '%s'", info.channels,
                       info.height, info.width, xin.name);
    float *x = mq_malloc(sizeof(float) * info.sample_floats * (size_t)batch);
    int32_t *y = mq_malloc(sizeof(int32_t) * (size_t)batch);
    mq_status st = x && y ? MQ_OK : mq_fail(err, MQ_ERR_NOMEM, "out of memory for a batch");
    for (size_t at = 0; st == MQ_OK && at < info.count;) {
        int n = 0;
        for (; n < batch && at < info.count && st == MQ_OK; n++, at++)
            st = mq_data_get(ds, at, x + (size_t)n * info.sample_floats, y + n, err);
        if (st != MQ_OK) break;
        if (n < batch)
            memset(x + (size_t)n * info.sample_floats, 0, sizeof(float) * info.sample_floats * (size_t)(batch - n));
        mq_tensor in = xin, out;
        memset(&out, 0, sizeof out);
        in.data = x;
        st = mq_exec_run(g, &in, &out, err);
        if (st == MQ_OK && (out.dtype != MQ_F32 || out.rank != 2 || out.dims[0] != in.dims[0]))
            st = mq_fail(err, MQ_ERR_SHAPE, "output 0 must be float32 [batch, classes]");
        if (st == MQ_OK) st = score(r, out.data, out.dims[1], y, n, err);
        mq_free(out.data);
    }
    mq_free(x);
    mq_free(y);
    if (st != MQ_OK) mq_eval_result_free(r);
    return st;
}
