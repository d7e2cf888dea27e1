/* model.c: the report's view of a graph (report.h): op kinds, quantizer states (ai.maqd nodes, or the
 * values and Div/Add/Floor/Clip/Mul chains an exported fine-tuned model holds), per-layer costs. */
#include "report/report.h"

#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[MQ_KIND_COUNT] = {"compute", "normalization", "activation", "quantizer",
                                                       "pooling", "elementwise", "shape", "other"};
static const char *const kind_colors[MQ_KIND_COUNT] = {"#f4a261", "#a8dadc", "#90be6d", "#e76f51",
                                                        "#bdb2ff", "#ffd166", "#d9d9d9", "#ffffff"};

const char *mq_op_kind_name(mq_op_kind k) { return k >= 0 && k < MQ_KIND_COUNT ? kind_names[k] : "?"; }
const char *mq_op_kind_color(mq_op_kind k) { return k >= 0 && k < MQ_KIND_COUNT ? kind_colors[k] : "#ffffff"; }

static int in_list(const char *op, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(op, list[i])) return 1;
    return 0;
}

static mq_op_kind kind_of(const mq_node *n)
{
    static const char *const compute[] = {"Conv", "ConvTranspose", "Gemm", "MatMul", "ConvInteger", "MatMulInteger",
                                          "QLinearConv", "QLinearMatMul", "Einsum", NULL};
    static const char *const norm[] = {"BatchNormalization", "LayerBatchNorm", "LayerNormalization",
                                       "InstanceNormalization", "GroupNormalization", "LRN", NULL};
    static const char *const act[] = {"Relu", "Clip", "Sigmoid", "Tanh", "LeakyRelu", "Elu", "Selu", "HardSigmoid",
                                      "HardSwish", "Softmax", "LogSoftmax", "Gelu", "PRelu", "Softplus", "Mish",
                                      "ThresholdedRelu", "Celu", NULL};
    static const char *const quant[] = {"WeightQuant", "ActQuant", "QuantizeLinear", "DequantizeLinear",
                                        "DynamicQuantizeLinear", NULL};
    static const char *const pool[] = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool",
                                       "GlobalLpPool", "MaxRoiPool", "RoiAlign", NULL};
    static const char *const elem[] = {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Abs", "Neg",
                                       "Floor", "Ceil", "Round", "Max", "Min", "Sum", "Mean", "Reciprocal",
                                       "Where", "Cast", "CastLike", "Erf", "Sign", NULL};
    static const char *const shape[] = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat",
                                        "Split", "Slice", "Gather", "Shape", "Size", "Expand", "Pad", "Identity",
                                        "Tile", "Resize", "DepthToSpace", "SpaceToDepth", "Dropout", NULL};
    const char *op = n->op_type;
    if (in_list(op, compute)) return MQ_KIND_COMPUTE;
    if (in_list(op, norm)) return MQ_KIND_NORM;
    if (in_list(op, act)) return MQ_KIND_ACT;
    if (in_list(op, quant)) return MQ_KIND_QUANT;
    if (in_list(op, pool)) return MQ_KIND_POOL;
    if (in_list(op, elem)) return MQ_KIND_ELEMWISE;
    if (in_list(op, shape)) return MQ_KIND_SHAPE;
    return MQ_KIND_OTHER;
}

static int node_runs(const mq_graph *g, const mq_node *n)
{
    if (n->n_out == 0) return 1;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0 && !g->tensors[n->out[k]].is_const) return 1;
    return 0;
}

static int is_op(const mq_node *n, const char *op) { return !strcmp(n->op_type, op); }

/* Tensor t is a known float32 scalar (any shape with one element); *v its value. */
static int const_scalar(const mq_graph *g, int t, float *v)
{
    if (t < 0) return 0;
    const mq_tensor *x = &g->tensors[t];
    if (!x->is_const || !x->data || x->dtype != MQ_F32 || mq_numel(x) != 1) return 0;
    *v = ((const float *)x->data)[0];
    return 1;
}

int mq_report_bits(int states)
{
    if (states < 2) return 32;
    int b = 0;
    while ((1 << b) < states) b++;
    return b;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

int mq_report_grid_states(const float *v, int64_t n)
{
    enum { MAXV = 256 };
    float d[MAXV + 1];
    int nd = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) return 0;
        int seen = 0;
        for (int k = 0; k < nd && !seen; k++) seen = d[k] == v[i];
        if (seen) continue;
        if (nd == MAXV) return 0;
        d[nd++] = v[i];
    }
    if (nd < 2) return 0;
    qsort(d, (size_t)nd, sizeof *d, cmp_float);
    double gap = INFINITY, span = (double)d[nd - 1] - d[0];
    for (int k = 1; k < nd; k++) gap = fmin(gap, (double)d[k] - d[k - 1]);
    double levels = span / gap;
    if (!(levels < MAXV)) return 0;
    int states = (int)lround(levels) + 1;
    if (fabs(levels - (states - 1)) > 1e-3 * states) return 0;
    for (int k = 0; k < nd; k++) { /* every value on the grid d[0] + j * step */
        double step = span / (states - 1), j = ((double)d[k] - d[0]) / step;
        if (fabs(j - lround(j)) > 1e-3) return 0;
    }
    return n > states ? states : 0;
}

/* Node i starts an exported ActQuant: Div(x, c) -> Add(., 0.5) -> Floor -> Clip(., 0, M) -> Mul(., c), each
 * link read by its successor only; returns the Mul's index and sets *states = M + 1, or -1. */
static int exported_actquant(const mq_graph *g, int i, const int *n_cons, const int *cons, int *states)
{
    const mq_node *n = &g->nodes[i];
    float c, h, lo, hi, c2;
    if (!is_op(n, "Div") || n->n_in != 2 || !const_scalar(g, n->in[1], &c) || !(c > 0)) return -1;
    int chain[5] = {i, -1, -1, -1, -1};
    static const char *const ops[5] = {"Div", "Add", "Floor", "Clip", "Mul"};
    for (int k = 1; k < 5; k++) {
        int t = g->nodes[chain[k - 1]].out[0];
        if (g->nodes[chain[k - 1]].n_out != 1 || t < 0 || n_cons[t] != 1 || g->tensors[t].is_output) return -1;
        chain[k] = cons[t];
        const mq_node *m = &g->nodes[chain[k]];
        if (!is_op(m, ops[k]) || m->n_in < 1 || m->in[0] != t) return -1;
    }
    const mq_node *add = &g->nodes[chain[1]], *clip = &g->nodes[chain[3]], *mul = &g->nodes[chain[4]];
    if (add->n_in != 2 || !const_scalar(g, add->in[1], &h) || h != 0.5f) return -1;
    if (mul->n_in != 2 || !const_scalar(g, mul->in[1], &c2) || c2 != c) return -1;
    if (clip->n_in >= 3) {
        if (!const_scalar(g, clip->in[1], &lo) || !const_scalar(g, clip->in[2], &hi)) return -1;
    } else {
        const mq_attr *a = mq_attr_get(clip, "min"), *b = mq_attr_get(clip, "max");
        if (!a || !b || a->type != MQ_ATTR_FLOAT || b->type != MQ_ATTR_FLOAT) return -1;
        lo = a->f;
        hi = b->f;
    }
    if (lo != 0 || !(hi >= 1 && hi <= 255) || hi != floorf(hi)) return -1;
    *states = (int)hi + 1;
    return chain[4];
}

int mq_report_is_layer(const mq_report_model *m, int i)
{
    const mq_report_node *r = &m->nodes[i];
    return r->runs && (r->group < 0 || r->group == i) && (r->params > 0 || r->macs > 0);
}

void mq_report_model_free(mq_report_model *m)
{
    if (!m) return;
    mq_free(m->nodes);
    memset(m, 0, sizeof *m);
}

/* As mq_graph_stats counts them: initializers and Constant outputs. */
static int is_param(const mq_graph *g, int t)
{
    const mq_tensor *x = &g->tensors[t];
    return x->is_const && x->data && x->rank >= 0 && (x->producer < 0 || is_op(&g->nodes[x->producer], "Constant"));
}

/* Where the parameters of initializer t go: the first running node that reads it; a WeightQuant's go to
 * the first node reading its output (the layer). */
static void attribute_params(const mq_graph *g, mq_report_model *m, const int *first_reader)
{
    for (int t = 0; t < g->n_tensors; t++) {
        const mq_tensor *x = &g->tensors[t];
        int i = first_reader[t];
        if (!is_param(g, t) || i < 0) continue;
        const mq_node *n = &g->nodes[i];
        int w_states = 0;
        if (is_op(n, "WeightQuant") && n->n_out == 1 && n->out[0] >= 0 && first_reader[n->out[0]] >= 0) {
            w_states = (int)mq_attr_int(n, "states", 0);
            i = first_reader[n->out[0]];
            m->nodes[i].weight = t;
            m->nodes[i].w_states = w_states;
        }
        mq_report_node *r = &m->nodes[i];
        if (r->group >= 0) r = &m->nodes[r->group];
        int64_t ne = mq_numel(x);
        int64_t fb = (int64_t)mq_nbytes(x), pb = fb;
        if (t == r->weight && r->w_states > 0) pb = (ne * mq_report_bits(r->w_states) + 7) / 8;
        r->params += ne;
        r->float_bytes += fb;
        r->packed_bytes += pb;
    }
}

/* The activation quantizer reached from node i's output through single-consumer nodes that are not
 * layers (normalization, elementwise, pooling, shape). */
static int downstream_states(const mq_graph *g, const mq_report_model *m, int i, const int *n_cons, const int *cons)
{
    for (int hop = 0; hop < 8; hop++) {
        const mq_node *n = &g->nodes[i];
        if (m->nodes[i].group_end >= 0) n = &g->nodes[m->nodes[i].group_end];
        if (n->n_out < 1 || n->out[0] < 0 || n_cons[n->out[0]] != 1) return 0;
        int c = cons[n->out[0]];
        if (c < 0) return 0; /* read by the caller only: a graph output */
        const mq_report_node *r = &m->nodes[c];
        if (r->a_states) return r->a_states;
        if (r->kind == MQ_KIND_COMPUTE || r->kind == MQ_KIND_ACT || r->kind == MQ_KIND_OTHER) return 0;
        i = c;
    }
    return 0;
}

mq_status mq_report_analyze(const mq_graph *g, mq_report_model *m, mq_err *err)
{
    memset(m, 0, sizeof *m);
    int nn = g->n_nodes, nt = g->n_tensors;
    m->nodes = mq_calloc((size_t)nn + 1, sizeof *m->nodes);
    int *n_cons = mq_calloc((size_t)nt + 1, sizeof(int)), *cons = mq_malloc(sizeof(int) * ((size_t)nt + 1));
    int *first_reader = mq_malloc(sizeof(int) * ((size_t)nt + 1));
    if (!m->nodes || !n_cons || !cons || !first_reader) {
        mq_free(n_cons);
        mq_free(cons);
        mq_free(first_reader);
        mq_report_model_free(m);
        return mq_fail(err, MQ_ERR_NOMEM, "report: out of memory");
    }
    m->n_nodes = nn;
    for (int t = 0; t < nt; t++) cons[t] = first_reader[t] = -1;
    for (int i = 0; i < nn; i++) {
        const mq_node *n = &g->nodes[i];
        mq_report_node *r = &m->nodes[i];
        r->runs = node_runs(g, n);
        r->kind = kind_of(n);
        r->group = r->group_end = r->weight = -1;
        r->macs = r->runs ? mq_node_macs(g, n) : 0;
        if (!r->runs) {
            m->n_folded++;
            if (is_op(n, "WeightQuant") && n->n_in >= 1 && n->in[0] >= 0 && first_reader[n->in[0]] < 0)
                first_reader[n->in[0]] = i; /* folded at import: its weight still belongs to the layer */
            continue;
        }
        for (int k = 0; k < n->n_in; k++) {
            int t = n->in[k];
            if (t < 0 || t >= nt) continue;
            if (first_reader[t] < 0) first_reader[t] = i;
            if (n_cons[t]++ == 0) cons[t] = i;
        }
        if (is_op(n, "ActQuant")) r->a_states = (int)mq_attr_int(n, "states", 0);
        if (r->kind == MQ_KIND_COMPUTE && n->n_in >= 2 && n->in[1] >= 0) {
            const mq_tensor *w = &g->tensors[n->in[1]];
            const mq_node *q = w->producer >= 0 ? &g->nodes[w->producer] : NULL;
            if (q && is_op(q, "WeightQuant") && q->n_in >= 1) { /* the weight's values may live elsewhere */
                r->weight = q->in[0];
                r->w_states = (int)mq_attr_int(q, "states", 0);
            } else if (is_param(g, n->in[1])) {
                r->weight = n->in[1];
                if (w->dtype == MQ_F32) r->w_states = mq_report_grid_states(w->data, mq_numel(w));
            }
        }
    }
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] >= 0) n_cons[g->outputs[k]]++; /* an output is read by the caller too */
    for (int i = 0; i < nn; i++) {
        int states = 0, end = m->nodes[i].runs && m->nodes[i].group < 0 ? exported_actquant(g, i, n_cons, cons, &states) : -1;
        if (end < 0) continue;
        m->nodes[i].group_end = end;
        for (int j = i, hop = 0; hop < 5; hop++) {
            m->nodes[j].group = i;
            m->nodes[j].kind = MQ_KIND_QUANT;
            m->nodes[j].a_states = states;
            if (j != end) j = cons[g->nodes[j].out[0]];
        }
    }
    attribute_params(g, m, first_reader);
    mq_graph_stats_compute(g, &m->stats);
    for (int t = 0; t < nt; t++) {
        const mq_tensor *x = &g->tensors[t];
        if (is_param(g, t) && first_reader[t] < 0) { /* read by no running node: stored all the same */
            m->float_bytes += (int64_t)mq_nbytes(x);
            m->packed_bytes += (int64_t)mq_nbytes(x);
        }
    }
    for (int i = 0; i < nn; i++) {
        mq_report_node *r = &m->nodes[i];
        if (!r->runs) continue;
        m->float_bytes += r->float_bytes;
        m->packed_bytes += r->packed_bytes;
        if (r->group == i || (r->group < 0 && r->a_states)) m->n_aq++;
        if (!mq_report_is_layer(m, i)) continue;
        m->n_layers++;
        if (r->w_states) m->n_wq_layers++;
        r->out_a_states = downstream_states(g, m, i, n_cons, cons);
    }
    mq_free(n_cons);
    mq_free(cons);
    mq_free(first_reader);
    return MQ_OK;
}
