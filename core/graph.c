/* graph.c: building the IR, topological sort, tensor and attribute helpers. */
#include "core/graph.h"

#include <stdio.h>
#include <string.h>

mq_status mq_graph_new(int cap_tensors, int cap_nodes, mq_graph **out, mq_err *err)
{
    *out = NULL;
    if (cap_tensors < 0 || cap_nodes < 0) return mq_fail(err, MQ_ERR_INVALID, "negative graph size");
    mq_arena *a = mq_arena_new();
    if (!a) return mq_fail(err, MQ_ERR_NOMEM, "out of memory creating graph");
    mq_graph *g = mq_arena_alloc(a, sizeof *g);
    if (!g) goto oom;
    g->arena = a;
    g->cap_tensors = cap_tensors;
    g->cap_nodes = cap_nodes;
    g->tensors = mq_arena_array(a, (size_t)cap_tensors + 1, sizeof(mq_tensor));
    g->nodes = mq_arena_array(a, (size_t)cap_nodes + 1, sizeof(mq_node));
    g->hash_cap = 16;
    while (g->hash_cap < 2 * (cap_tensors + 1)) g->hash_cap *= 2;
    g->name_hash = mq_arena_array(a, (size_t)g->hash_cap, sizeof(int));
    if (!g->tensors || !g->nodes || !g->name_hash) goto oom;
    g->path = "";
    g->name = "";
    g->producer = "";
    *out = g;
    return MQ_OK;
oom:
    mq_arena_free(a);
    return mq_fail(err, MQ_ERR_NOMEM, "out of memory creating graph");
}

void mq_graph_free(mq_graph *g)
{
    if (g) mq_arena_free(g->arena);
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Slot of name in the hash: holding its id + 1, or 0 where it would go. */
static int *hash_slot(const mq_graph *g, const char *name)
{
    uint32_t mask = (uint32_t)g->hash_cap - 1, i = name_hash(name) & mask;
    for (;;) {
        int *slot = &g->name_hash[i];
        if (*slot == 0 || strcmp(g->tensors[*slot - 1].name, name) == 0) return slot;
        i = (i + 1) & mask;
    }
}

int mq_graph_find(const mq_graph *g, const char *name) { return *hash_slot(g, name) - 1; }

int mq_graph_tensor(mq_graph *g, const char *name)
{
    int *slot = hash_slot(g, name);
    if (*slot) return *slot - 1;
    if (g->n_tensors >= g->cap_tensors) return -1;
    char *nm = mq_arena_strdup(g->arena, name);
    if (!nm) return -1;
    mq_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = nm;
    t->rank = -1;
    t->producer = -1;
    *slot = g->n_tensors + 1;
    return g->n_tensors++;
}

mq_node *mq_graph_add_node(mq_graph *g)
{
    if (g->n_nodes >= g->cap_nodes) return NULL;
    mq_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->name = "";
    n->domain = "";
    n->op_type = "";
    return n;
}

/* Kahn's algorithm, stable: among ready nodes the earliest in model order goes first. */
mq_status mq_graph_toposort(mq_graph *g, mq_err *err)
{
    int nn = g->n_nodes, nt = g->n_tensors;
    mq_status st = MQ_OK;
    int *producer = mq_malloc(sizeof(int) * (size_t)(nt + 1));
    int *pending = mq_malloc(sizeof(int) * (size_t)(nn + 1));
    int *order = mq_malloc(sizeof(int) * (size_t)(nn + 1));
    unsigned char *done = mq_calloc((size_t)nn + 1, 1);
    mq_node *sorted = mq_malloc(sizeof(mq_node) * (size_t)(nn + 1));
    int *cons_start = NULL, *cons = NULL, *pending_fill = NULL;
    if (!producer || !pending || !order || !done || !sorted) {
        st = mq_fail(err, MQ_ERR_NOMEM, "out of memory sorting graph");
        goto out;
    }
    for (int t = 0; t < nt; t++) producer[t] = -1;
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++) {
            int t = g->nodes[i].out[k];
            if (t < 0) continue;
            if (producer[t] >= 0 || g->tensors[t].is_input || g->tensors[t].is_const) {
                st = mq_node_fail(err, &g->nodes[i], MQ_ERR_INVALID, "output '%s' is already produced elsewhere",
                                  g->tensors[t].name);
                goto out;
            }
            producer[t] = i;
        }
    for (int i = 0; i < nn; i++) {
        int cnt = 0;
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int t = g->nodes[i].in[k];
            if (t < 0) continue;
            if (producer[t] >= 0) cnt++;
            else if (!g->tensors[t].is_input && !g->tensors[t].is_const) {
                st = mq_node_fail(err, &g->nodes[i], MQ_ERR_INVALID,
                                  "input '%s' is not a graph input, an initializer or any node's output",
                                  g->tensors[t].name);
                goto out;
            }
        }
        pending[i] = cnt;
    }
    /* Consumers of each tensor as a CSR list, then Kahn's algorithm with a FIFO of ready nodes
     * (seeded in model order, so a sorted model keeps its order). */
    {
        size_t n_edges = 0;
        for (int i = 0; i < nn; i++) n_edges += (size_t)g->nodes[i].n_in;
        cons_start = mq_calloc((size_t)nt + 2, sizeof(int));
        cons = mq_malloc(sizeof(int) * (n_edges + 1));
        if (!cons_start || !cons) {
            st = mq_fail(err, MQ_ERR_NOMEM, "out of memory sorting graph");
            goto out;
        }
        for (int i = 0; i < nn; i++)
            for (int j = 0; j < g->nodes[i].n_in; j++)
                if (g->nodes[i].in[j] >= 0) cons_start[g->nodes[i].in[j] + 1]++;
        for (int t = 0; t < nt; t++) cons_start[t + 1] += cons_start[t];
        int *fill = pending_fill = mq_malloc(sizeof(int) * ((size_t)nt + 1));
        if (!fill) {
            st = mq_fail(err, MQ_ERR_NOMEM, "out of memory sorting graph");
            goto out;
        }
        for (int t = 0; t < nt; t++) fill[t] = cons_start[t];
        for (int i = 0; i < nn; i++)
            for (int j = 0; j < g->nodes[i].n_in; j++)
                if (g->nodes[i].in[j] >= 0) cons[fill[g->nodes[i].in[j]]++] = i;
    }
    int head = 0, tail = 0;
    for (int i = 0; i < nn; i++)
        if (pending[i] == 0) order[tail++] = i;
    while (head < tail) {
        int pick = order[head++];
        done[pick] = 1;
        const mq_node *p = &g->nodes[pick];
        for (int k = 0; k < p->n_out; k++) {
            int t = p->out[k];
            if (t < 0) continue;
            for (int c = cons_start[t]; c < cons_start[t + 1]; c++)
                if (--pending[cons[c]] == 0) order[tail++] = cons[c];
        }
    }
    if (tail < nn) {
        for (int i = 0; i < nn; i++)
            if (!done[i]) {
                st = mq_node_fail(err, &g->nodes[i], MQ_ERR_INVALID, "is part of a cycle (or depends on one)");
                goto out;
            }
    }
    for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
    memcpy(g->nodes, sorted, sizeof(mq_node) * (size_t)nn);
    for (int t = 0; t < nt; t++) g->tensors[t].producer = -1;
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0) g->tensors[g->nodes[i].out[k]].producer = i;
out:
    mq_free(producer);
    mq_free(pending);
    mq_free(order);
    mq_free(done);
    mq_free(sorted);
    mq_free(cons_start);
    mq_free(cons);
    mq_free(pending_fill);
    return st;
}

int64_t mq_numel(const mq_tensor *t)
{
    if (t->rank < 0) return -1;
    int64_t n = 1;
    for (int d = 0; d < t->rank; d++) n *= t->dims[d];
    return n;
}

size_t mq_nbytes(const mq_tensor *t)
{
    int64_t n = mq_numel(t);
    return n < 0 ? 0 : (size_t)n * mq_dtype_size(t->dtype);
}

mq_status mq_shape_numel(const int64_t *dims, int rank, int64_t max_elems, int64_t *out, mq_err *err)
{
    int64_t n = 1;
    if (rank < 0 || rank > MQ_MAX_RANK) return mq_fail(err, MQ_ERR_LIMIT, "rank %d exceeds the limit %d", rank, MQ_MAX_RANK);
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0) return mq_fail(err, MQ_ERR_INVALID, "negative dimension %lld", (long long)dims[d]);
        if (mq_mul_i64(n, dims[d], &n) || (max_elems > 0 && n > max_elems))
            return mq_fail(err, MQ_ERR_LIMIT, "element count exceeds the limit %lld", (long long)max_elems);
    }
    *out = n;
    return MQ_OK;
}

void mq_tensor_set_shape(mq_tensor *t, int rank, const int64_t *dims)
{
    t->rank = rank;
    for (int d = 0; d < rank; d++) t->dims[d] = dims[d];
}

int mq_shape_equal(const mq_tensor *a, const mq_tensor *b)
{
    if (a->rank != b->rank) return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return 0;
    return 1;
}

const char *mq_shape_str(const mq_tensor *t, char *buf, size_t n)
{
    if (t->rank < 0) {
        snprintf(buf, n, "?");
        return buf;
    }
    if (t->rank == 0) {
        snprintf(buf, n, "scalar");
        return buf;
    }
    size_t used = 0;
    buf[0] = 0;
    for (int d = 0; d < t->rank && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", d ? "x" : "", (long long)t->dims[d]);
    return buf;
}

const mq_attr *mq_attr_get(const mq_node *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t mq_attr_int(const mq_node *n, const char *name, int64_t dflt)
{
    const mq_attr *a = mq_attr_get(n, name);
    return a && a->type == MQ_ATTR_INT ? a->i : dflt;
}

float mq_attr_float(const mq_node *n, const char *name, float dflt)
{
    const mq_attr *a = mq_attr_get(n, name);
    if (!a) return dflt;
    if (a->type == MQ_ATTR_FLOAT) return a->f;
    if (a->type == MQ_ATTR_INT) return (float)a->i;
    return dflt;
}

const char *mq_attr_str(const mq_node *n, const char *name, const char *dflt)
{
    const mq_attr *a = mq_attr_get(n, name);
    return a && a->type == MQ_ATTR_STRING ? a->s : dflt;
}

int mq_attr_ints(const mq_node *n, const char *name, const int64_t **vals)
{
    const mq_attr *a = mq_attr_get(n, name);
    if (!a || a->type != MQ_ATTR_INTS) return -1;
    *vals = a->ints;
    return a->n;
}

int mq_attr_floats(const mq_node *n, const char *name, const float **vals)
{
    const mq_attr *a = mq_attr_get(n, name);
    if (!a || a->type != MQ_ATTR_FLOATS) return -1;
    *vals = a->floats;
    return a->n;
}
