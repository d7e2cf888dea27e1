/* passes.c: the pass table and the helpers passes share: growing a graph's arrays, re-running inference,
 * unique names, constants, attributes, use counts and node removal (passes/passes.h). */
#include "passes/passes.h"
#include "core/infer.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

const mq_pass_def mq_passes[] = {
    {"bn_to_lbn", mq_pass_bn_to_lbn,
     "replace each BatchNormalization by a LayerBatchNorm with the same eval-mode output (MAQD.md 1)"},
    {"insert_quantizers", mq_pass_insert_quantizers,
     "WeightQuant (WS + SRC) on Conv/Gemm/MatMul weights except the first and last layers, ActQuant in "
     "place of every Relu and Clip(min 0) (MAQD.md 2, 3)"},
    {"fold_bn", mq_pass_fold_bn,
     "fold BatchNormalization / eval LayerBatchNorm into the preceding Conv/Gemm (float deployment)"},
    {NULL, NULL, NULL},
};

const mq_pass_def *mq_pass_find(const char *name)
{
    for (const mq_pass_def *p = mq_passes; p->name; p++)
        if (strcmp(p->name, name) == 0) return p;
    return NULL;
}

mq_status mq_pass_reserve(mq_graph *g, int more_tensors, int more_nodes, mq_err *err)
{
    if (more_tensors < 0 || more_nodes < 0 || more_tensors > INT_MAX / 4 - g->cap_tensors ||
        more_nodes > INT_MAX / 4 - g->cap_nodes)
        return mq_fail(err, MQ_ERR_LIMIT, "graph too large to grow");
    if (g->n_tensors + more_tensors <= g->cap_tensors && g->n_nodes + more_nodes <= g->cap_nodes) return MQ_OK;
    int cap_t = g->n_tensors + more_tensors, cap_n = g->n_nodes + more_nodes;
    if (cap_t < g->cap_tensors) cap_t = g->cap_tensors;
    if (cap_n < g->cap_nodes) cap_n = g->cap_nodes;
    int hash_cap = 16;
    while (hash_cap < 2 * (cap_t + 1)) hash_cap *= 2;
    /* Same layout as mq_graph_new: one spare element at the end of each array. */
    mq_tensor *tensors = mq_arena_array(g->arena, (size_t)cap_t + 1, sizeof(mq_tensor));
    mq_node *nodes = mq_arena_array(g->arena, (size_t)cap_n + 1, sizeof(mq_node));
    int *hash = mq_arena_array(g->arena, (size_t)hash_cap, sizeof(int));
    if (!tensors || !nodes || !hash) return mq_fail(err, MQ_ERR_NOMEM, "out of memory growing the graph");
    memcpy(nodes, g->nodes, sizeof(mq_node) * (size_t)g->n_nodes);
    mq_tensor *old = g->tensors;
    mq_node *old_nodes = g->nodes;
    int *old_hash = g->name_hash;
    int nt = g->n_tensors, old_cap_t = g->cap_tensors, old_cap_n = g->cap_nodes, old_hash_cap = g->hash_cap;
    g->nodes = nodes;
    g->cap_nodes = cap_n;
    g->tensors = tensors;
    g->cap_tensors = cap_t;
    g->name_hash = hash;
    g->hash_cap = hash_cap;
    g->n_tensors = 0;
    /* Rebuild the name hash through the public API: names are unique, so tensor i gets id i again; the
     * struct is then restored whole (the copy of the name mq_graph_tensor made is left unused). */
    for (int i = 0; i < nt; i++) {
        int id = mq_graph_tensor(g, old[i].name);
        if (id != i) { /* put the old arrays back: the graph stays as it was */
            g->tensors = old;
            g->n_tensors = nt;
            g->cap_tensors = old_cap_t;
            g->nodes = old_nodes;
            g->cap_nodes = old_cap_n;
            g->name_hash = old_hash;
            g->hash_cap = old_hash_cap;
            return mq_fail(err, id < 0 ? MQ_ERR_NOMEM : MQ_ERR_INVALID, "cannot rebuild the tensor table at '%s'",
                           old[i].name);
        }
        tensors[i] = old[i];
    }
    return MQ_OK;
}

mq_status mq_pass_reinfer(mq_graph *g, int64_t max_elems, mq_err *err)
{
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++) {
            int t = g->nodes[i].out[k];
            if (t >= 0 && g->tensors[t].is_const) {
                g->tensors[t].is_const = 0;
                g->tensors[t].data = NULL;
            }
        }
    return mq_graph_infer(g, max_elems > 0 ? max_elems : (int64_t)1 << 32, err);
}

const char *mq_pass_unique_name(mq_graph *g, const char *base, const char *suffix)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", base, suffix);
    for (int k = 1; mq_graph_find(g, buf) >= 0; k++) snprintf(buf, sizeof buf, "%s%s_%d", base, suffix, k);
    return mq_arena_strdup(g->arena, buf);
}

mq_status mq_pass_add_const(mq_graph *g, const char *base, const char *suffix, mq_dtype dt, int rank,
                            const int64_t *dims, const void *data, int *id, mq_err *err)
{
    const char *name = mq_pass_unique_name(g, base, suffix);
    if (!name) return mq_fail(err, MQ_ERR_NOMEM, "out of memory adding a constant");
    int t = mq_graph_tensor(g, name);
    if (t < 0) return mq_fail(err, MQ_ERR_LIMIT, "no room for constant '%s' (reserve first)", name);
    mq_tensor *tt = &g->tensors[t];
    tt->dtype = dt;
    mq_tensor_set_shape(tt, rank, dims);
    size_t nb = mq_nbytes(tt);
    tt->data = mq_arena_alloc(g->arena, nb ? nb : 1);
    if (!tt->data) return mq_fail(err, MQ_ERR_NOMEM, "out of memory adding constant '%s'", name);
    if (nb) memcpy(tt->data, data, nb);
    tt->is_const = 1;
    tt->producer = -1;
    *id = t;
    return MQ_OK;
}

mq_status mq_pass_add_f32_const(mq_graph *g, const char *base, const char *suffix, int rank, const int64_t *dims,
                                const float *data, int *id, mq_err *err)
{
    return mq_pass_add_const(g, base, suffix, MQ_F32, rank, dims, data, id, err);
}

static int same_domain(const char *a, const char *b)
{
    if (!a || strcmp(a, "ai.onnx") == 0) a = "";
    if (!b || strcmp(b, "ai.onnx") == 0) b = "";
    return strcmp(a, b) == 0;
}

mq_status mq_pass_use_domain(mq_graph *g, const char *domain, int64_t version, mq_err *err)
{
    for (int i = 0; i < g->n_opsets; i++)
        if (same_domain(g->opsets[i].domain, domain)) return MQ_OK;
    mq_opset_import *ops = mq_arena_array(g->arena, (size_t)g->n_opsets + 1, sizeof *ops);
    char *d = mq_arena_strdup(g->arena, domain);
    if (!ops || !d) return mq_fail(err, MQ_ERR_NOMEM, "out of memory adding an opset import");
    if (g->n_opsets) memcpy(ops, g->opsets, sizeof *ops * (size_t)g->n_opsets);
    ops[g->n_opsets].domain = d;
    ops[g->n_opsets].version = version;
    g->opsets = ops;
    g->n_opsets++;
    return MQ_OK;
}

mq_status mq_pass_uses(const mq_graph *g, int **consumers, int **producer, mq_err *err)
{
    int nt = g->n_tensors;
    int *c = mq_calloc((size_t)nt + 1, sizeof(int)), *p = mq_malloc(sizeof(int) * ((size_t)nt + 1));
    if (!c || !p) {
        mq_free(c);
        mq_free(p);
        return mq_fail(err, MQ_ERR_NOMEM, "out of memory counting tensor uses");
    }
    for (int t = 0; t < nt; t++) p[t] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) c[n->in[k]]++;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) p[n->out[k]] = i;
    }
    for (int i = 0; i < g->n_outputs; i++) c[g->outputs[i]]++;
    *consumers = c;
    *producer = p;
    return MQ_OK;
}

void mq_pass_remove_nodes(mq_graph *g, const unsigned char *drop)
{
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!drop[i]) g->nodes[w++] = g->nodes[i];
    g->n_nodes = w;
}

int mq_pass_is_f32_const(const mq_graph *g, int t, int64_t count)
{
    if (t < 0 || t >= g->n_tensors) return 0;
    const mq_tensor *x = &g->tensors[t];
    return x->is_const && x->data && x->dtype == MQ_F32 && x->rank >= 0 && (count < 0 || mq_numel(x) == count);
}

static mq_status set_attr(mq_graph *g, mq_node *n, const char *name, mq_attr_type type, float f, int64_t i,
                          mq_err *err)
{
    mq_attr *a = NULL;
    for (int k = 0; k < n->n_attr; k++)
        if (strcmp(n->attrs[k].name, name) == 0) a = &n->attrs[k];
    if (!a) {
        mq_attr *arr = mq_arena_array(g->arena, (size_t)n->n_attr + 1, sizeof(mq_attr));
        char *nm = mq_arena_strdup(g->arena, name);
        if (!arr || !nm) return mq_fail(err, MQ_ERR_NOMEM, "out of memory setting an attribute");
        if (n->n_attr) memcpy(arr, n->attrs, sizeof(mq_attr) * (size_t)n->n_attr);
        a = &arr[n->n_attr];
        a->name = nm;
        n->attrs = arr;
        n->n_attr++;
    }
    const char *nm = a->name;
    memset(a, 0, sizeof *a);
    a->name = nm;
    a->type = type;
    a->f = f;
    a->i = i;
    return MQ_OK;
}

mq_status mq_pass_set_attr_float(mq_graph *g, mq_node *n, const char *name, float v, mq_err *err)
{
    return set_attr(g, n, name, MQ_ATTR_FLOAT, v, 0, err);
}

mq_status mq_pass_set_attr_int(mq_graph *g, mq_node *n, const char *name, int64_t v, mq_err *err)
{
    return set_attr(g, n, name, MQ_ATTR_INT, 0, v, err);
}
