/* export.c: the fine-tuned training graph as a standard ONNX model: WeightQuant folded into the stored
 * weights, ActQuant as Div/Add/Floor/Clip/Mul, LayerBatchNorm as its eval-mode per-channel Mul and Add. */
#include "train/train_internal.h"

#include "core/exec.h"
#include "core/op.h"
#include "frontend/tensor_io.h"
#include "ops/maqd.h"
#include "passes/passes.h"

#include "onnx/onnx.pb-c.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct ex {
    const mq_trainer *tr;
    const mq_graph *g;
    mq_arena *a;
    void **value;            /* per tensor: its value for initializers (param, folded constant, w_q) */
    unsigned char *inited;   /* per tensor: initializer emitted */
    unsigned char *made;     /* per tensor: produced by an emitted node or a graph input */
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    int oom;
} ex;

static int is_op(const mq_node *n, const char *domain, const char *op)
{
    const char *d = n->domain && strcmp(n->domain, "ai.onnx") ? n->domain : "";
    return strcmp(d, domain) == 0 && strcmp(n->op_type, op) == 0;
}

static void *grow(ex *e, void *arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap) return arr;
    size_t nc = *cap ? 2 * *cap : 64;
    void *p = mq_arena_array(e->a, nc, elem);
    if (!p) {
        e->oom = 1;
        return NULL;
    }
    if (n) memcpy(p, arr, n * elem);
    *cap = nc;
    return p;
}

static char *str(ex *e, const char *s)
{
    char *r = mq_arena_strdup(e->a, s);
    if (!r) e->oom = 1;
    return r;
}

static char *name2(ex *e, const char *base, const char *suffix)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", base, suffix);
    return str(e, buf);
}

/* An initializer of dtype with raw bytes (copied by reference: data must outlive the pack). */
static void add_init(ex *e, const char *name, mq_dtype dt, int rank, const int64_t *dims, const void *data)
{
    Onnx__TensorProto *tp = mq_arena_alloc(e->a, sizeof *tp);
    int64_t *d = mq_arena_array(e->a, (size_t)(rank > 0 ? rank : 1), sizeof(int64_t));
    Onnx__TensorProto **arr = grow(e, e->inits, e->n_inits, &e->cap_inits, sizeof *arr);
    if (!tp || !d || !arr) {
        e->oom = 1;
        return;
    }
    e->inits = arr;
    Onnx__TensorProto init = ONNX__TENSOR_PROTO__INIT;
    *tp = init;
    size_t numel = 1;
    for (int i = 0; i < rank; i++) {
        d[i] = dims[i];
        numel *= (size_t)dims[i];
    }
    tp->n_dims = (size_t)rank;
    tp->dims = d;
    tp->has_data_type = 1;
    tp->data_type = (int32_t)dt;
    tp->name = (char *)(uintptr_t)name;
    tp->has_raw_data = 1;
    tp->raw_data.len = numel * mq_dtype_size(dt);
    tp->raw_data.data = (uint8_t *)(uintptr_t)data;
    e->inits[e->n_inits++] = tp;
}

static const char *scalar(ex *e, const char *base, const char *suffix, float v)
{
    char *nm = name2(e, base, suffix);
    float *p = mq_arena_alloc(e->a, sizeof(float));
    if (!nm || !p) {
        e->oom = 1;
        return "";
    }
    *p = v;
    add_init(e, nm, MQ_F32, 0, NULL, p);
    return nm;
}

static Onnx__NodeProto *node(ex *e, const char *op, const char *name, int n_in, const char *const *ins,
                             const char *out)
{
    Onnx__NodeProto *np = mq_arena_alloc(e->a, sizeof *np);
    char **in = mq_arena_array(e->a, (size_t)n_in + 1, sizeof(char *));
    char **o = mq_arena_array(e->a, 1, sizeof(char *));
    Onnx__NodeProto **arr = grow(e, e->nodes, e->n_nodes, &e->cap_nodes, sizeof *arr);
    if (!np || !in || !o || !arr) {
        e->oom = 1;
        return NULL;
    }
    e->nodes = arr;
    Onnx__NodeProto init = ONNX__NODE_PROTO__INIT;
    *np = init;
    for (int i = 0; i < n_in; i++) in[i] = (char *)(uintptr_t)ins[i];
    o[0] = (char *)(uintptr_t)out;
    np->n_input = (size_t)n_in;
    np->input = in;
    np->n_output = 1;
    np->output = o;
    np->op_type = (char *)(uintptr_t)op;
    np->name = (char *)(uintptr_t)name;
    np->domain = (char *)"";
    e->nodes[e->n_nodes++] = np;
    return np;
}

/* The value of tensor t as an initializer, once. */
static mq_status need_init(ex *e, int t, mq_err *err)
{
    if (t < 0 || e->made[t] || e->inited[t]) return MQ_OK;
    const mq_tensor *x = &e->g->tensors[t];
    if (!e->value[t]) return mq_fail(err, MQ_ERR_INVALID, "export: tensor '%s' has no value", x->name);
    if (x->dtype == MQ_STRING || !mq_dtype_supported(x->dtype) || x->rank < 0)
        return mq_fail(err, MQ_ERR_UNSUPPORTED, "export: cannot store tensor '%s'", x->name);
    add_init(e, x->name, x->dtype, x->rank, x->dims, e->value[t]);
    e->inited[t] = 1;
    return MQ_OK;
}

static Onnx__AttributeProto *attr_of(ex *e, const mq_attr *at, mq_err *err)
{
    Onnx__AttributeProto *ap = mq_arena_alloc(e->a, sizeof *ap);
    if (!ap) {
        e->oom = 1;
        return NULL;
    }
    Onnx__AttributeProto init = ONNX__ATTRIBUTE_PROTO__INIT;
    *ap = init;
    ap->name = (char *)(uintptr_t)at->name;
    ap->has_type = 1;
    ap->type = (Onnx__AttributeProto__AttributeType)at->type;
    switch (at->type) {
    case MQ_ATTR_FLOAT:
        ap->has_f = 1;
        ap->f = at->f;
        break;
    case MQ_ATTR_INT:
        ap->has_i = 1;
        ap->i = at->i;
        break;
    case MQ_ATTR_STRING:
        ap->has_s = 1;
        ap->s.len = at->s_len;
        ap->s.data = (uint8_t *)(uintptr_t)at->s;
        break;
    case MQ_ATTR_FLOATS:
        ap->n_floats = (size_t)at->n;
        ap->floats = (float *)(uintptr_t)at->floats;
        break;
    case MQ_ATTR_INTS:
        ap->n_ints = (size_t)at->n;
        ap->ints = (int64_t *)(uintptr_t)at->ints;
        break;
    case MQ_ATTR_STRINGS: {
        ProtobufCBinaryData *s = mq_arena_array(e->a, (size_t)at->n + 1, sizeof *s);
        if (!s) {
            e->oom = 1;
            return NULL;
        }
        for (int i = 0; i < at->n; i++) {
            s[i].data = (uint8_t *)(uintptr_t)at->strings[i];
            s[i].len = strlen(at->strings[i]);
        }
        ap->n_strings = (size_t)at->n;
        ap->strings = s;
        break;
    }
    default:
        mq_fail(err, MQ_ERR_UNSUPPORTED, "export: attribute '%s' of this kind is not supported", at->name);
        return NULL;
    }
    return ap;
}

/* A node of the training graph as it is. */
static mq_status copy_node(ex *e, const mq_node *n, mq_err *err)
{
    const mq_graph *g = e->g;
    Onnx__NodeProto *np = mq_arena_alloc(e->a, sizeof *np);
    char **in = mq_arena_array(e->a, (size_t)n->n_in + 1, sizeof(char *));
    char **out = mq_arena_array(e->a, (size_t)n->n_out + 1, sizeof(char *));
    Onnx__AttributeProto **at = mq_arena_array(e->a, (size_t)n->n_attr + 1, sizeof *at);
    Onnx__NodeProto **arr = grow(e, e->nodes, e->n_nodes, &e->cap_nodes, sizeof *arr);
    if (!np || !in || !out || !at || !arr) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
    e->nodes = arr;
    if (n->n_hidden_in) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "export of subgraphs is not supported");
    Onnx__NodeProto init = ONNX__NODE_PROTO__INIT;
    *np = init;
    for (int k = 0; k < n->n_in; k++) {
        in[k] = (char *)(n->in[k] >= 0 ? g->tensors[n->in[k]].name : "");
        MQ_TRY(need_init(e, n->in[k], err));
    }
    for (int k = 0; k < n->n_out; k++) out[k] = (char *)(n->out[k] >= 0 ? g->tensors[n->out[k]].name : "");
    int n_at = 0;
    for (int k = 0; k < n->n_attr; k++) {
        /* BatchNormalization trains as version 15 (train.c); the model's own version has no such attribute */
        if (!strcmp(n->op_type, "BatchNormalization") && !strcmp(n->attrs[k].name, "training_mode")) continue;
        at[n_at] = attr_of(e, &n->attrs[k], err);
        if (!at[n_at++]) return err && err->code ? err->code : MQ_ERR_NOMEM;
    }
    np->n_input = (size_t)n->n_in;
    np->input = in;
    np->n_output = (size_t)n->n_out;
    np->output = out;
    np->name = (char *)(uintptr_t)n->name;
    np->op_type = (char *)(uintptr_t)n->op_type;
    np->domain = (char *)(uintptr_t)(n->domain ? n->domain : "");
    np->n_attribute = (size_t)n_at;
    np->attribute = at;
    e->nodes[e->n_nodes++] = np;
    return MQ_OK;
}

/* ActQuant: y = delta * Clip(Floor(x / delta + 0.5), 0, m - 1) (round half away from zero equals
 * Floor(v + 0.5) for v >= 0, and both clip to 0 below). */
static mq_status emit_actquant(ex *e, const mq_node *n, mq_err *err)
{
    const mq_graph *g = e->g;
    const char *x = g->tensors[n->in[0]].name, *y = g->tensors[n->out[0]].name;
    MQ_TRY(need_init(e, n->in[0], err));
    int m = (int)mq_attr_int(n, "states", 2);
    float delta = mq_attr_float(n, "delta", 1.0f);
    if (n->n_in > 1 && n->in[1] >= 0) { /* a learned step (input 1) */
        const float *d = e->value[n->in[1]];
        if (!d || !(d[0] > 0)) return mq_node_fail(err, n, MQ_ERR_INVALID, "export: the step has no valid value");
        delta = d[0];
    }
    const char *cd = scalar(e, y, "/aq/delta", delta), *ch = scalar(e, y, "/aq/half", 0.5f);
    const char *t1 = name2(e, y, "/aq/div"), *t2 = name2(e, y, "/aq/add"), *t3 = name2(e, y, "/aq/floor"),
               *t4 = name2(e, y, "/aq/clip");
    if (e->oom) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
    const char *a1[2] = {x, cd}, *a2[2] = {t1, ch}, *a3[1] = {t2}, *a5[2] = {t4, cd};
    node(e, "Div", t1, 2, a1, t1);
    node(e, "Add", t2, 2, a2, t2);
    node(e, "Floor", t3, 1, a3, t3);
    if (g->opset >= 11) {
        const char *a4[3] = {t3, scalar(e, y, "/aq/min", 0.0f), scalar(e, y, "/aq/max", (float)(m - 1))};
        node(e, "Clip", t4, 3, a4, t4);
    } else {
        const char *a4[1] = {t3};
        Onnx__NodeProto *np = node(e, "Clip", t4, 1, a4, t4);
        Onnx__AttributeProto **at = mq_arena_array(e->a, 2, sizeof *at);
        mq_attr lo = {.name = "min", .type = MQ_ATTR_FLOAT, .f = 0.0f}, hi = {.name = "max", .type = MQ_ATTR_FLOAT,
                                                                              .f = (float)(m - 1)};
        if (!np || !at) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
        at[0] = attr_of(e, &lo, err);
        at[1] = attr_of(e, &hi, err);
        if (!at[0] || !at[1]) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
        at[0]->name = str(e, "min");
        at[1]->name = str(e, "max");
        np->n_attribute = 2;
        np->attribute = at;
    }
    node(e, "Mul", y, 2, a5, y);
    return e->oom ? mq_fail(err, MQ_ERR_NOMEM, "export: out of memory") : MQ_OK;
}

/* Eval-mode LayerBatchNorm: y = a[c] x + b[c] with a, b computed exactly as the op's forward does. */
static mq_status emit_lbn(ex *e, const mq_node *n, mq_err *err)
{
    const mq_graph *g = e->g;
    const mq_tensor *xt = &g->tensors[n->in[0]];
    const char *x = xt->name, *y = g->tensors[n->out[0]].name;
    MQ_TRY(need_init(e, n->in[0], err));
    if (xt->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "export needs the input's rank");
    int64_t C = xt->dims[1], dims[MQ_MAX_RANK];
    const float *gamma = e->value[n->in[1]], *beta = e->value[n->in[2]], *rm = e->value[n->in[3]], *rv = e->value[n->in[4]];
    if (!gamma || !beta || !rm || !rv) return mq_node_fail(err, n, MQ_ERR_INVALID, "export: parameters without values");
    float *a = mq_arena_array(e->a, (size_t)C + 1, sizeof(float)), *b = mq_arena_array(e->a, (size_t)C + 1, sizeof(float));
    if (!a || !b) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
    double eps = mq_attr_float(n, "epsilon", 1e-5f), mu = rm[0], var = rv[0], inv = 1.0 / sqrt(var + eps);
    for (int64_t c = 0; c < C; c++) {
        double ad = gamma[c] * inv;
        a[c] = (float)ad;
        b[c] = (float)(beta[c] - ad * mu);
    }
    int r = xt->rank - 1;
    dims[0] = C;
    for (int i = 1; i < r; i++) dims[i] = 1;
    const char *an = name2(e, y, "/lbn/scale"), *bn = name2(e, y, "/lbn/shift"), *t1 = name2(e, y, "/lbn/mul");
    if (e->oom) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
    add_init(e, an, MQ_F32, r, dims, a);
    add_init(e, bn, MQ_F32, r, dims, b);
    const char *a1[2] = {x, an}, *a2[2] = {t1, bn};
    node(e, "Mul", t1, 2, a1, t1);
    node(e, "Add", y, 2, a2, y);
    return e->oom ? mq_fail(err, MQ_ERR_NOMEM, "export: out of memory") : MQ_OK;
}

/* sym: bitmask of dims written as symbolic (dim_param) */
static Onnx__ValueInfoProto *value_info(ex *e, const mq_tensor *t, int with_shape, uint32_t sym)
{
    Onnx__ValueInfoProto *vi = mq_arena_alloc(e->a, sizeof *vi);
    Onnx__TypeProto *tp = mq_arena_alloc(e->a, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = mq_arena_alloc(e->a, sizeof *tt);
    if (!vi || !tp || !tt) {
        e->oom = 1;
        return NULL;
    }
    Onnx__ValueInfoProto i1 = ONNX__VALUE_INFO_PROTO__INIT;
    Onnx__TypeProto i2 = ONNX__TYPE_PROTO__INIT;
    Onnx__TypeProto__Tensor i3 = ONNX__TYPE_PROTO__TENSOR__INIT;
    *vi = i1;
    *tp = i2;
    *tt = i3;
    vi->name = (char *)(uintptr_t)t->name;
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = (int32_t)(t->decl_dtype ? t->decl_dtype : t->dtype);
    if (with_shape && t->rank >= 0) {
        Onnx__TensorShapeProto *sp = mq_arena_alloc(e->a, sizeof *sp);
        Onnx__TensorShapeProto__Dimension **dd = mq_arena_array(e->a, (size_t)t->rank + 1, sizeof *dd);
        if (!sp || !dd) {
            e->oom = 1;
            return NULL;
        }
        Onnx__TensorShapeProto i4 = ONNX__TENSOR_SHAPE_PROTO__INIT;
        *sp = i4;
        for (int k = 0; k < t->rank; k++) {
            Onnx__TensorShapeProto__Dimension i5 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
            dd[k] = mq_arena_alloc(e->a, sizeof *dd[k]);
            if (!dd[k]) {
                e->oom = 1;
                return NULL;
            }
            *dd[k] = i5;
            if ((sym >> k) & 1) {
                char buf[32];
                snprintf(buf, sizeof buf, k == 0 ? "batch" : "dim%d", k);
                dd[k]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                dd[k]->dim_param = str(e, buf);
            } else {
                dd[k]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                dd[k]->dim_value = t->dims[k];
            }
        }
        sp->n_dim = (size_t)t->rank;
        sp->dim = dd;
        tt->shape = sp;
    }
    return vi;
}

static mq_status build(ex *e, Onnx__ModelProto *model, mq_err *err)
{
    const mq_trainer *tr = e->tr;
    const mq_graph *g = e->g;
    int nt = g->n_tensors;
    e->value = mq_arena_array(e->a, (size_t)nt + 1, sizeof(void *));
    e->inited = mq_arena_alloc(e->a, (size_t)nt + 1);
    e->made = mq_arena_alloc(e->a, (size_t)nt + 1);
    if (!e->value || !e->inited || !e->made) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
    for (int t = 0; t < nt; t++)
        e->value[t] = tr && tr->param_of[t] >= 0 ? tr->params[tr->param_of[t]].w : g->tensors[t].data;
    for (int i = 0; i < g->n_inputs; i++) e->made[g->inputs[i]] = 1;
    /* WeightQuant: w_q computed now and stored under the quantizer's output name. */
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if (!tr || !tr->run[i] || !is_op(n, MQ_MAQD_DOMAIN, "WeightQuant")) continue;
        mq_tensor w = g->tensors[n->in[0]], step, y;
        memset(&y, 0, sizeof y);
        memset(&step, 0, sizeof step);
        y.name = g->tensors[n->out[0]].name;
        w.data = e->value[n->in[0]];
        if (n->n_in > 1 && n->in[1] >= 0) { /* a learned step */
            step = g->tensors[n->in[1]];
            step.data = e->value[n->in[1]];
        }
        const mq_tensor *in[2] = {&w, n->n_in > 1 && n->in[1] >= 0 ? &step : NULL};
        mq_tensor *out[1] = {&y};
        MQ_TRY(mq_exec_node(n, in, out, err));
        size_t nb = mq_nbytes(&y);
        void *d = mq_arena_alloc(e->a, nb ? nb : 1);
        if (!d) {
            mq_free(y.data);
            return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
        }
        memcpy(d, y.data, nb);
        mq_free(y.data);
        e->value[n->out[0]] = d;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if ((tr && !tr->run[i]) || is_op(n, MQ_MAQD_DOMAIN, "WeightQuant")) continue;
        if (is_op(n, MQ_MAQD_DOMAIN, "ActQuant")) MQ_TRY(emit_actquant(e, n, err));
        else if (is_op(n, MQ_MAQD_DOMAIN, "LayerBatchNorm")) {
            if (n->n_out > 1) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "export of training outputs");
            MQ_TRY(emit_lbn(e, n, err));
        } else
            MQ_TRY(copy_node(e, n, err));
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) e->made[n->out[k]] = 1;
    }
    for (int i = 0; i < g->n_outputs; i++) MQ_TRY(need_init(e, g->outputs[i], err));
    if (e->oom) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");

    Onnx__GraphProto *gp = mq_arena_alloc(e->a, sizeof *gp);
    Onnx__ValueInfoProto **ins = mq_arena_array(e->a, (size_t)g->n_inputs + 1, sizeof *ins);
    Onnx__ValueInfoProto **outs = mq_arena_array(e->a, (size_t)g->n_outputs + 1, sizeof *outs);
    Onnx__OperatorSetIdProto **ops = mq_arena_array(e->a, (size_t)g->n_opsets + 2, sizeof *ops);
    if (!gp || !ins || !outs || !ops) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
    Onnx__GraphProto gi = ONNX__GRAPH_PROTO__INIT;
    *gp = gi;
    for (int i = 0; i < g->n_inputs; i++)
        ins[i] = value_info(e, &g->tensors[g->inputs[i]], 1, g->tensors[g->inputs[i]].sym_mask);
    /* outputs: dim 0 follows the first input's batch dimension when that one is symbolic */
    uint32_t out_sym = g->n_inputs > 0 ? g->tensors[g->inputs[0]].sym_mask & 1 : 0;
    for (int i = 0; i < g->n_outputs; i++) outs[i] = value_info(e, &g->tensors[g->outputs[i]], 1, out_sym);
    if (e->oom) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
    gp->name = (char *)(g->name && g->name[0] ? g->name : "maqd");
    gp->n_node = e->n_nodes;
    gp->node = e->nodes;
    gp->n_initializer = e->n_inits;
    gp->initializer = e->inits;
    gp->n_input = (size_t)g->n_inputs;
    gp->input = ins;
    gp->n_output = (size_t)g->n_outputs;
    gp->output = outs;
    size_t n_ops = 0;
    int have_default = 0;
    for (int i = 0; i < g->n_opsets; i++) {
        const char *d = g->opsets[i].domain ? g->opsets[i].domain : "";
        if (strcmp(d, MQ_MAQD_DOMAIN) == 0) continue;
        Onnx__OperatorSetIdProto *o = mq_arena_alloc(e->a, sizeof *o);
        if (!o) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
        Onnx__OperatorSetIdProto oi = ONNX__OPERATOR_SET_ID_PROTO__INIT;
        *o = oi;
        o->domain = (char *)(uintptr_t)d;
        o->has_version = 1;
        o->version = g->opsets[i].version;
        if (d[0] == 0 || strcmp(d, "ai.onnx") == 0) have_default = 1;
        ops[n_ops++] = o;
    }
    if (!have_default) {
        Onnx__OperatorSetIdProto *o = mq_arena_alloc(e->a, sizeof *o);
        if (!o) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
        Onnx__OperatorSetIdProto oi = ONNX__OPERATOR_SET_ID_PROTO__INIT;
        *o = oi;
        o->domain = (char *)"";
        o->has_version = 1;
        o->version = g->opset > 0 ? g->opset : 13;
        ops[n_ops++] = o;
    }
    model->has_ir_version = 1;
    model->ir_version = g->ir_version > 0 ? g->ir_version : 8;
    model->n_opset_import = n_ops;
    model->opset_import = ops;
    model->producer_name = (char *)"maqd";
    model->producer_version = (char *)"finetune";
    model->graph = gp;
    return MQ_OK;
}

static mq_status export_graph(const mq_trainer *tr, const mq_graph *g, const char *path, mq_err *err)
{
    ex e;
    memset(&e, 0, sizeof e);
    e.tr = tr;
    e.g = g;
    e.a = mq_arena_new();
    if (!e.a) return mq_fail(err, MQ_ERR_NOMEM, "export: out of memory");
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    mq_status st = build(&e, &model, err);
    if (st != MQ_OK) mq_err_prefix(err, "%s: ", path);
    else {
        size_t size = onnx__model_proto__get_packed_size(&model);
        uint8_t *buf = mq_malloc(size ? size : 1);
        if (!buf) st = mq_fail(err, MQ_ERR_NOMEM, "export: out of memory (%zu bytes)", size);
        else {
            onnx__model_proto__pack(&model, buf);
            st = mq_write_file_atomic(path, buf, size, err);
            mq_free(buf);
        }
    }
    mq_arena_free(e.a);
    return st;
}

mq_status mq_trainer_export_onnx(const mq_trainer *tr, const char *path, mq_err *err)
{
    return export_graph(tr, tr->g, path, err);
}

mq_status mq_graph_export_onnx(const mq_graph *g, const char *path, mq_err *err)
{
    return export_graph(NULL, g, path, err);
}
