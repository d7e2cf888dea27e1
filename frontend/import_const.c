/* import_const.c: `--const NAME=FILE` at import: a graph input frozen to a value becomes a constant of
 * the graph (and leaves its inputs), so folding and the backends see a static shape or parameter. */
#include "frontend/import_const.h"

#include <string.h>

int mq_import_const_find(const mq_import_opts *o, const char *name)
{
    for (int i = 0; o && i < o->n_consts; i++)
        if (o->consts[i].name && !strcmp(o->consts[i].name, name)) return i;
    return -1;
}

mq_status mq_import_const_apply(mq_graph *g, mq_tensor *t, const mq_tensor *v, mq_err *err)
{
    char a[256], b[256];
    if (v->dtype != t->dtype)
        return mq_fail(err, MQ_ERR_SHAPE, "--const %s: the value is %s, graph input '%s' is %s", t->name,
                       mq_dtype_name(v->dtype), t->name, mq_dtype_name(t->dtype));
    int same = t->rank < 0 || t->rank == v->rank;
    for (int d = 0; same && t->rank >= 0 && d < t->rank; d++)
        same = ((t->sym_mask >> d) & 1) || t->dims[d] == v->dims[d];
    if (!same)
        return mq_fail(err, MQ_ERR_SHAPE, "--const %s: the value has shape %s, graph input '%s' is declared %s",
                       t->name, mq_shape_str(v, a, sizeof a), t->name, mq_shape_str(t, b, sizeof b));
    if (v->rank < 0 || v->rank > MQ_MAX_RANK || (mq_numel(v) > 0 && !v->data))
        return mq_fail(err, MQ_ERR_INVALID, "--const %s: the value has no data", t->name);
    size_t n = mq_nbytes(v);
    void *data = mq_arena_alloc(g->arena, n ? n : 1);
    if (!data) return mq_fail(err, MQ_ERR_NOMEM, "--const %s: out of memory", t->name);
    if (n) memcpy(data, v->data, n);
    mq_tensor_set_shape(t, v->rank, v->dims);
    t->data = data;
    t->sym_mask = 0;
    t->is_input = 0;
    t->is_const = 1;
    return MQ_OK;
}

mq_status mq_import_const_check_used(const mq_graph *g, const mq_import_opts *o, const unsigned char *used,
                                     mq_err *err)
{
    for (int i = 0; o && i < o->n_consts; i++) {
        const char *nm = o->consts[i].name ? o->consts[i].name : "";
        if (mq_import_const_find(o, nm) != i) return mq_fail(err, MQ_ERR_INVALID, "--const %s is given twice", nm);
        if (used[i]) continue;
        int id = mq_graph_find(g, nm);
        return mq_fail(err, MQ_ERR_INVALID, "--const %s: the model has no graph input called '%s'%s", nm, nm,
                       id >= 0 ? " (it is an initializer: constant already)" : "");
    }
    return MQ_OK;
}
