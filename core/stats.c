/* stats.c: parameter counts and multiply-accumulate counts from the inferred graph. */
#include "core/stats.h"

#include <string.h>

static const mq_tensor *tin(const mq_graph *g, const mq_node *n, int i)
{
    int id = mq_node_in(n, i);
    return id >= 0 ? &g->tensors[id] : NULL;
}

static const mq_tensor *tout(const mq_graph *g, const mq_node *n, int i)
{
    int id = mq_node_out(n, i);
    return id >= 0 ? &g->tensors[id] : NULL;
}

int64_t mq_node_macs(const mq_graph *g, const mq_node *n)
{
    const char *op = n->op_type;
    const mq_tensor *y = tout(g, n, 0);
    if (!y) return 0;
    if (!strcmp(op, "Conv") || !strcmp(op, "ConvInteger") || !strcmp(op, "QLinearConv")) {
        const mq_tensor *w = tin(g, n, !strcmp(op, "QLinearConv") ? 3 : 1);
        if (!w || w->rank < 2 || y->rank < 0) return -1;
        int64_t per = 1; /* C_in/groups * kernel */
        for (int d = 1; d < w->rank; d++) per *= w->dims[d];
        return mq_numel(y) * per;
    }
    if (!strcmp(op, "ConvTranspose")) {
        const mq_tensor *x = tin(g, n, 0), *w = tin(g, n, 1);
        if (!x || !w || x->rank < 0 || w->rank < 2) return -1;
        int64_t per = 1; /* each input element meets C_out/groups * kernel weights */
        for (int d = 1; d < w->rank; d++) per *= w->dims[d];
        return mq_numel(x) * per;
    }
    if (!strcmp(op, "Gemm") || !strcmp(op, "MatMul") || !strcmp(op, "MatMulInteger") || !strcmp(op, "QLinearMatMul")) {
        const mq_tensor *a = tin(g, n, 0);
        if (!a || a->rank < 1 || y->rank < 0) return -1;
        int64_t k = a->dims[a->rank - 1];
        if (!strcmp(op, "Gemm") && mq_attr_int(n, "transA", 0) && a->rank == 2) k = a->dims[0];
        return mq_numel(y) * k;
    }
    return 0;
}

void mq_graph_stats_compute(const mq_graph *g, mq_graph_stats *s)
{
    memset(s, 0, sizeof *s);
    for (int t = 0; t < g->n_tensors; t++) {
        const mq_tensor *x = &g->tensors[t];
        if (x->is_const && x->data && x->rank >= 0 &&
            (x->producer < 0 || !strcmp(g->nodes[x->producer].op_type, "Constant"))) {
            s->params += mq_numel(x);
            s->param_bytes += (int64_t)mq_nbytes(x);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        int64_t m = mq_node_macs(g, &g->nodes[i]);
        if (m < 0) {
            s->macs = -1;
            break;
        }
        s->macs += m;
    }
}
