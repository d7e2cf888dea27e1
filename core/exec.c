/* exec.c: the host reference executor: runs nodes in topological order, re-inferring shapes on the
 * actual values, and frees each intermediate after its last use. */
#include "core/exec.h"
#include "core/op.h"

#include <string.h>

#define MAX_IO 64

/* Nodes with subgraphs (If, Loop, Scan) learn their output shapes only by running them: their forward
 * sets the shape and mq_malloc's the data of every present output itself. */
static int has_subgraph(const mq_node *n)
{
    for (int a = 0; a < n->n_attr; a++)
        if (n->attrs[a].type == MQ_ATTR_GRAPH || n->attrs[a].type == MQ_ATTR_GRAPHS) return 1;
    return 0;
}

static mq_status exec_subgraph_node(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                    mq_err *err)
{
    MQ_TRY(n->def->infer(n, in, out, err));
    for (int k = 0; k < n->n_out; k++)
        if (out[k]) out[k]->data = NULL;
    mq_status st = n->def->forward(n, in, out, err);
    for (int k = 0; st == MQ_OK && k < n->n_out; k++)
        if (out[k] && (!out[k]->data || out[k]->rank < 0))
            st = mq_node_fail(err, n, MQ_ERR_INVALID, "output %d was not computed", k);
    if (st != MQ_OK)
        for (int k = 0; k < n->n_out; k++)
            if (out[k]) {
                mq_free(out[k]->data);
                out[k]->data = NULL;
            }
    return st;
}

static void *heap_alloc(void *ctx, size_t nbytes)
{
    (void)ctx;
    return mq_calloc(nbytes, 1);
}

static void heap_release(void *ctx, void *p)
{
    (void)ctx;
    mq_free(p);
}

static const mq_exec_alloc heap = {heap_alloc, heap_release, NULL};

mq_status mq_exec_node(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return mq_exec_node_with(n, in, out, NULL, err);
}

mq_status mq_exec_node_with(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                            const mq_exec_alloc *a, mq_err *err)
{
    if (!a) a = &heap;
    if (has_subgraph(n)) {
        MQ_TRY(exec_subgraph_node(n, in, out, err));
        if (a == &heap) return MQ_OK;
        mq_status st = MQ_OK; /* move the outputs into a's buffers */
        for (int k = 0; k < n->n_out; k++) {
            if (!out[k]) continue;
            size_t nb = mq_nbytes(out[k]);
            void *d = st == MQ_OK ? a->alloc(a->ctx, nb ? nb : 1) : NULL;
            if (d) memcpy(d, out[k]->data, nb);
            else if (st == MQ_OK) st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for output %d", k);
            mq_free(out[k]->data);
            out[k]->data = d;
        }
        for (int k = 0; st != MQ_OK && k < n->n_out; k++)
            if (out[k] && out[k]->data) {
                a->release(a->ctx, out[k]->data);
                out[k]->data = NULL;
            }
        return st;
    }
    MQ_TRY(n->def->infer(n, in, out, err));
    for (int k = 0; k < n->n_out; k++) {
        if (!out[k]) continue;
        out[k]->data = NULL;
    }
    for (int k = 0; k < n->n_out; k++) {
        if (!out[k]) continue;
        int64_t ne;
        mq_status st = MQ_OK;
        if (out[k]->rank < 0)
            st = mq_node_fail(err, n, MQ_ERR_SHAPE, "output %d shape unknown after inference with all inputs known", k);
        else if (!mq_dtype_supported(out[k]->dtype))
            st = mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "output %d has unsupported dtype %s", k,
                              mq_dtype_name(out[k]->dtype));
        else if (mq_shape_numel(out[k]->dims, out[k]->rank, 0, &ne, err) != MQ_OK)
            st = err ? err->code : MQ_ERR_LIMIT;
        size_t nb = 0;
        if (st == MQ_OK && mq_mul_size((size_t)ne, mq_dtype_size(out[k]->dtype), &nb))
            st = mq_node_fail(err, n, MQ_ERR_LIMIT, "output %d too large", k);
        if (st == MQ_OK) {
            out[k]->data = a->alloc(a->ctx, nb ? nb : 1);
            if (!out[k]->data) st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for output %d (%zu bytes)", k, nb);
        }
        if (st != MQ_OK) {
            for (int j = 0; j < k; j++)
                if (out[j]) {
                    a->release(a->ctx, out[j]->data);
                    out[j]->data = NULL;
                }
            return st;
        }
    }
    mq_status st = n->def->forward(n, in, out, err);
    if (st != MQ_OK)
        for (int k = 0; k < n->n_out; k++)
            if (out[k]) {
                a->release(a->ctx, out[k]->data);
                out[k]->data = NULL;
            }
    return st;
}

static mq_status copy_value(const mq_tensor *src, mq_tensor *dst, mq_err *err)
{
    *dst = *src;
    size_t nb = mq_nbytes(src);
    dst->data = mq_malloc(nb ? nb : 1);
    if (!dst->data) return mq_fail(err, MQ_ERR_NOMEM, "out of memory copying '%s'", src->name);
    if (nb) memcpy(dst->data, src->data, nb);
    dst->is_const = 0;
    return MQ_OK;
}

mq_status mq_exec_run(const mq_graph *g, const mq_tensor *inputs, mq_tensor *outputs, mq_err *err)
{
    int nt = g->n_tensors;
    mq_status st = MQ_OK;
    mq_tensor *val = mq_calloc((size_t)nt + 1, sizeof(mq_tensor));
    int *last_use = mq_malloc(sizeof(int) * ((size_t)nt + 1));
    unsigned char *owned = mq_calloc((size_t)nt + 1, 1);
    for (int i = 0; i < g->n_outputs; i++) memset(&outputs[i], 0, sizeof outputs[i]);
    if (!val || !last_use || !owned) {
        st = mq_fail(err, MQ_ERR_NOMEM, "out of memory starting the executor");
        goto out;
    }
    for (int t = 0; t < nt; t++) {
        val[t] = g->tensors[t];
        if (!g->tensors[t].is_const) val[t].data = NULL;
        last_use[t] = -1;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) last_use[g->nodes[i].in[k]] = i;
    for (int i = 0; i < g->n_outputs; i++) last_use[g->outputs[i]] = g->n_nodes; /* never freed in the loop */

    for (int i = 0; i < g->n_inputs; i++) {
        const mq_tensor *decl = &g->tensors[g->inputs[i]];
        const mq_tensor *v = &inputs[i];
        if (decl->dtype != MQ_UNDEFINED && v->dtype != decl->dtype) { /* undefined: subgraph input typed by its node */
            st = mq_fail(err, MQ_ERR_SHAPE, "input %d '%s': dtype %s, the model expects %s", i, decl->name,
                         mq_dtype_name(v->dtype), mq_dtype_name(decl->dtype));
            goto out;
        }
        /* The graph is specialized to the shapes it was imported with (symbolic dims pinned or
         * defaulted; folding may have used them), so every dim must match. */
        int ok = decl->rank < 0 || v->rank == decl->rank, sym = 0;
        for (int d = 0; ok && decl->rank >= 0 && d < decl->rank; d++)
            if (v->dims[d] != decl->dims[d]) {
                ok = 0;
                sym = (decl->sym_mask >> d) & 1;
            }
        if (!ok || v->rank < 0 || v->rank > MQ_MAX_RANK) {
            char a[128], b[128];
            st = mq_fail(err, MQ_ERR_SHAPE, "input %d '%s': shape %s, the model expects %s%s", i, decl->name,
                         mq_shape_str(v, a, sizeof a), mq_shape_str(decl, b, sizeof b),
                         sym ? " (a symbolic dimension was fixed at import: pin it with --shape)" : "");
            goto out;
        }
        mq_tensor *dst = &val[g->inputs[i]];
        dst->dtype = v->dtype; /* the declared one, or the value's for an untyped subgraph input (folding at
                                * import runs bodies before their formal inputs are typed) */
        dst->rank = v->rank;
        memcpy(dst->dims, v->dims, sizeof dst->dims);
        dst->data = v->data; /* borrowed */
        if (!dst->data && mq_nbytes(v)) {
            st = mq_fail(err, MQ_ERR_INVALID, "input %d '%s' has no data", i, decl->name);
            goto out;
        }
        if (!dst->data) dst->data = (void *)"";
    }

    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        const mq_tensor *in[MAX_IO];
        mq_tensor *out[MAX_IO];
        int folded = 1;
        for (int k = 0; k < n->n_out; k++) {
            out[k] = n->out[k] >= 0 ? &val[n->out[k]] : NULL;
            if (out[k] && !g->tensors[n->out[k]].is_const) folded = 0;
        }
        if (folded && n->n_out > 0) continue; /* value computed at import */
        for (int k = 0; k < n->n_in; k++) in[k] = n->in[k] >= 0 ? &val[n->in[k]] : NULL;
        st = mq_exec_node(n, in, out, err);
        if (st != MQ_OK) goto out;
        for (int k = 0; k < n->n_out; k++)
            if (out[k]) owned[n->out[k]] = 1;
        for (int k = 0; k < n->n_in; k++) {
            int t = n->in[k];
            if (t >= 0 && last_use[t] == i && owned[t]) {
                mq_free(val[t].data);
                val[t].data = NULL;
                owned[t] = 0;
            }
        }
        for (int k = 0; k < n->n_out; k++) { /* outputs nobody reads */
            int t = n->out[k];
            if (t >= 0 && last_use[t] < 0 && owned[t]) {
                mq_free(val[t].data);
                val[t].data = NULL;
                owned[t] = 0;
            }
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        if (!val[t].data) {
            st = mq_fail(err, MQ_ERR_INVALID, "output '%s' was not computed", g->tensors[t].name);
            goto out;
        }
        st = copy_value(&val[t], &outputs[i], err);
        if (st != MQ_OK) goto out;
    }
out:
    if (st != MQ_OK && outputs)
        for (int i = 0; i < g->n_outputs; i++) {
            mq_free(outputs[i].data);
            outputs[i].data = NULL;
        }
    if (val)
        for (int t = 0; t < nt; t++)
            if (owned && owned[t]) mq_free(val[t].data);
    mq_free(val);
    mq_free(last_use);
    mq_free(owned);
    return st;
}
