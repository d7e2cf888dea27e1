/* exec.h: the host reference executor. It runs an inferred graph node by node, re-running each op's
 * inference on the actual inputs, and is the oracle every later pass and backend is checked against. */
#ifndef MQ_EXEC_H
#define MQ_EXEC_H

#include "core/graph.h"

/* Run g. inputs[i] are the values of g->inputs[i] (dtype must match; static dims must match, symbolic
 * ones may differ). On success outputs[i] receives the value of g->outputs[i] with mq_malloc'ed data
 * (free each with mq_tensor_free_data from frontend/tensor_io.h, or mq_free(t->data)).
 * Errors name the node and op. */
mq_status mq_exec_run(const mq_graph *g, const mq_tensor *inputs, mq_tensor *outputs, mq_err *err);

/* Run one node on given values (used by constant folding and tests): out[] shapes/dtypes are inferred,
 * data is mq_malloc'ed. */
mq_status mq_exec_node(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err);

/* Where mq_exec_node_with puts outputs: alloc returns nbytes (>= 1) zeroed bytes or NULL; release takes
 * back a buffer alloc gave (the trainer reuses its buffers from step to step). */
typedef struct mq_exec_alloc {
    void *(*alloc)(void *ctx, size_t nbytes);
    void (*release)(void *ctx, void *p);
    void *ctx;
} mq_exec_alloc;
/* mq_exec_node with the outputs' data from a (NULL: mq_calloc / mq_free, as mq_exec_node). */
mq_status mq_exec_node_with(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                            const mq_exec_alloc *a, mq_err *err);

#endif
