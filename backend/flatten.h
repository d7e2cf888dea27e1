/* flatten.h: control flow (If, Loop, Scan) for the backends. A graph whose control nodes run becomes
 * one flat node list: each control node turns into the copies that carry values in, a marker node
 * (the program's IF or LOOP step), its subgraphs' nodes with the copies that carry values out of each
 * iteration or branch, and the copies to the node's outputs. The planner then sees one timeline. */
#ifndef MQ_FLATTEN_H
#define MQ_FLATTEN_H

#include "core/graph.h"

#include <stdint.h>

enum { MQ_FLAT_NODE = 0, MQ_FLAT_IF = 1, MQ_FLAT_LOOP = 2 };

typedef struct mq_flat {
    mq_graph *g;      /* NULL: the graph has no running control node (use it as it is). Tensors and nodes
                       * copy the source graph's (names and data point into it: keep it alive); the
                       * first source->n_tensors tensors are the source's, same ids */
    int *kind;        /* per node of g: MQ_FLAT_NODE, or a marker: MQ_FLAT_IF (in: cond; then-branch
                       * nodes up to end1, else-branch nodes up to end2), MQ_FLAT_LOOP (in: the
                       * condition tensor or -1, out: the iteration counter or -1; body up to end1) */
    int *end1, *end2; /* exclusive node indices */
    int64_t *trip;    /* LOOP: iterations (static) */
    int *must_complete; /* LOOP: 1 if it has scan outputs: ending before `trip` is a run-time error */
    int n_loops;
    int *loop_first, *loop_last; /* node ranges a value may be live across (marker .. last body node) */
} mq_flat;

/* Flatten g (inferred; nodes in order). Control nodes whose shapes are not all static, or forms not
 * covered (a Loop without a constant trip count, Scan with sequence_lens or a non-contiguous scan
 * axis, carried values that change shape), fail with MQ_ERR_UNSUPPORTED naming the node. */
mq_status mq_flatten(const mq_graph *g, mq_flat *f, mq_err *err);
void mq_flat_free(mq_flat *f);

#endif
