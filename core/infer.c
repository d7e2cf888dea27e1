/* infer.c: whole-graph shape/dtype inference with constant folding (nodes whose inputs are all known
 * values are evaluated once at import, so shape-computing subgraphs become constants). */
#include "core/infer.h"
#include "core/exec.h"
#include "core/op.h"

#include <string.h>

#define MAX_IO 64

mq_status mq_graph_infer(mq_graph *g, int64_t max_elems, mq_err *err)
{
    MQ_TRY(mq_graph_toposort(g, err));
    g->dynamic = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        if (!n->def) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "op is not supported");
        if (n->n_in > MAX_IO || n->n_out > MAX_IO)
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "more than %d inputs or outputs", MAX_IO);
        const mq_tensor *in[MAX_IO];
        mq_tensor *out[MAX_IO];
        int all_known = !n->def->nondeterministic, any_unknown_shape = 0;
        for (int k = 0; k < n->n_in; k++) {
            in[k] = n->in[k] >= 0 ? &g->tensors[n->in[k]] : NULL;
            if (!in[k]) continue;
            if (in[k]->rank < 0) any_unknown_shape = 1;
            if (!in[k]->data && !((n->def->shape_only_in >> k) & 1)) all_known = 0;
            if (!in[k]->data && in[k]->rank < 0) all_known = 0;
        }
        for (int k = 0; k < n->n_out; k++) out[k] = n->out[k] >= 0 ? &g->tensors[n->out[k]] : NULL;
        if (any_unknown_shape) { /* downstream of a run-time shape: dtype only where it is obvious */
            for (int k = 0; k < n->n_out; k++)
                if (out[k]) out[k]->rank = -1;
            g->dynamic = 1;
            /* Still run inference on what is known: many ops set dtype without shapes. */
        }
        mq_tensor tmp[MAX_IO];
        mq_tensor *tout[MAX_IO];
        for (int k = 0; k < n->n_out; k++) {
            tout[k] = NULL;
            if (!out[k]) continue;
            tmp[k] = *out[k];
            tmp[k].data = NULL;
            tout[k] = &tmp[k];
        }
        if (all_known) {
            /* Fold: evaluate now; the value lands in the arena. The output shapes are inferred and held to
             * max_elems first, so a folded constant cannot allocate past the limit (fuzz_onnx: a Conv of
             * constants inferred to 75 M elements). */
            mq_tensor chk[MAX_IO];
            mq_tensor *tchk[MAX_IO];
            for (int k = 0; k < n->n_out; k++) {
                tchk[k] = NULL;
                if (!out[k]) continue;
                chk[k] = tmp[k];
                tchk[k] = &chk[k];
            }
            MQ_TRY(n->def->infer(n, in, tchk, err));
            for (int k = 0; k < n->n_out; k++) {
                int64_t ne;
                if (!out[k] || chk[k].rank < 0) continue;
                if (mq_shape_numel(chk[k].dims, chk[k].rank, max_elems, &ne, err) != MQ_OK) {
                    mq_err_prefix(err, "node '%s' (%s): output '%s': ", n->name, n->op_type, out[k]->name);
                    return err ? err->code : MQ_ERR_LIMIT;
                }
            }
            MQ_TRY(mq_exec_node(n, in, tout, err));
            for (int k = 0; k < n->n_out; k++) {
                if (!out[k]) continue;
                size_t nb = mq_nbytes(&tmp[k]);
                void *d = mq_arena_alloc(g->arena, nb ? nb : 1);
                if (!d) {
                    for (int j = k; j < n->n_out; j++)
                        if (out[j]) mq_free(tmp[j].data);
                    return mq_fail(err, MQ_ERR_NOMEM, "out of memory folding constants");
                }
                memcpy(d, tmp[k].data, nb);
                mq_free(tmp[k].data);
                out[k]->dtype = tmp[k].dtype;
                out[k]->decl_dtype = tmp[k].decl_dtype;
                mq_tensor_set_shape(out[k], tmp[k].rank, tmp[k].dims);
                out[k]->data = d;
                out[k]->is_const = 1;
            }
            continue;
        }
        if (any_unknown_shape) {
            /* Cannot infer without shapes; the executor resolves them at run time. */
            continue;
        }
        MQ_TRY(n->def->infer(n, in, tout, err));
        for (int k = 0; k < n->n_out; k++) {
            if (!out[k]) continue;
            out[k]->dtype = tmp[k].dtype;
            out[k]->decl_dtype = tmp[k].decl_dtype;
            out[k]->rank = tmp[k].rank;
            memcpy(out[k]->dims, tmp[k].dims, sizeof out[k]->dims);
            if (tmp[k].rank < 0) {
                g->dynamic = 1;
                continue;
            }
            int64_t ne;
            if (mq_shape_numel(tmp[k].dims, tmp[k].rank, max_elems, &ne, err) != MQ_OK) {
                mq_err_prefix(err, "node '%s' (%s): output '%s': ", n->name, n->op_type, out[k]->name);
                return err ? err->code : MQ_ERR_LIMIT;
            }
        }
    }
    return MQ_OK;
}
