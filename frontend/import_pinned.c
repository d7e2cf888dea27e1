/* import_pinned.c: import a model specialized to the shapes of given input values: symbolic dimensions
 * of the graph inputs are pinned from the values (what `maqdc run` and the conformance runner do). */
#include "frontend/onnx_import.h"

#include <stdio.h>
#include <string.h>

#define MAX_PINNED 256

mq_status mq_import_onnx_for_inputs(const char *path, const mq_import_opts *opts, const mq_tensor *inputs,
                                    int n_inputs, mq_import_result *res, mq_err *err)
{
    MQ_TRY(mq_import_onnx_file(path, opts, res, err));
    mq_graph *g = res->graph;
    if (!g || n_inputs != g->n_inputs || n_inputs > MAX_PINNED) return MQ_OK; /* the caller reports counts */
    int need = 0;
    for (int i = 0; i < n_inputs && !need; i++) {
        const mq_tensor *decl = &g->tensors[g->inputs[i]];
        if (!decl->sym_mask || decl->rank != inputs[i].rank) continue;
        for (int d = 0; d < decl->rank; d++)
            if (((decl->sym_mask >> d) & 1) && inputs[i].dims[d] != decl->dims[d]) need = 1;
    }
    if (!need) return MQ_OK;

    /* Re-import with every symbolic input pinned whole to its value's shape. */
    int n_user = opts ? opts->n_shapes : 0, n = 0;
    const char *pins[MAX_PINNED + 64];
    char bufs[MAX_PINNED][256];
    for (int i = 0; i < n_user && i < 64; i++) pins[n++] = opts->shapes[i];
    for (int i = 0; i < n_inputs; i++) {
        const mq_tensor *decl = &g->tensors[g->inputs[i]];
        if (!decl->sym_mask || decl->rank != inputs[i].rank) continue;
        size_t used = (size_t)snprintf(bufs[i], sizeof bufs[i], "%s=", decl->name);
        for (int d = 0; d < inputs[i].rank && used < sizeof bufs[i]; d++)
            used += (size_t)snprintf(bufs[i] + used, sizeof bufs[i] - used, "%s%lld", d ? "x" : "",
                                     (long long)inputs[i].dims[d]);
        if (used >= sizeof bufs[i]) return MQ_OK; /* name too long to pin: the executor reports the mismatch */
        pins[n++] = bufs[i];
    }
    mq_import_opts o2 = opts ? *opts : (mq_import_opts){0};
    o2.shapes = pins;
    o2.n_shapes = n;
    mq_import_result_free(res);
    return mq_import_onnx_file(path, &o2, res, err);
}
