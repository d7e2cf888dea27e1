/* plan.h: the backends' memory plan: every intermediate tensor of a statically shaped graph gets an
 * offset in one arena from its lifetime, greedy by size, in place where the op allows (docs/MEMORY_PLAN.md). */
#ifndef MQ_PLAN_H
#define MQ_PLAN_H

#include "core/graph.h"

#include <stddef.h>

typedef struct mq_plan_opts {
    size_t align;         /* offset alignment in bytes, a power of two; 0: MQ_PLAN_DEFAULT_ALIGN */
    int outputs_in_arena; /* 1: graph outputs live in the arena until the end (the caller copies them
                           * out); 0: they go to the caller's buffers and are not planned */
    int no_inplace;       /* 1: never let an output take its input's slot (op table inplace_in) */
    /* Loops (control flow flattened by backend/flatten.h): node ranges [loop_first[i], loop_last[i]]
     * that run repeatedly. A tensor live in part of a range and outside it is kept over the whole
     * range (a value read by the body stays until the last iteration; one written inside and read
     * after the loop is kept from the first). */
    int n_loops;
    const int *loop_first, *loop_last;
    /* Data-dependent shapes: per tensor id, the largest shape a tensor of rank -1 can take (rank >= 0),
     * planned at that size; NULL or rank -1: none (such a tensor is an error). */
    const mq_tensor *bounds;
} mq_plan_opts;

#define MQ_PLAN_DEFAULT_ALIGN 16

/* The defaults (also what opts == NULL means): align 16, outputs in the arena, in-place on. */
void mq_plan_opts_init(mq_plan_opts *o);

typedef struct mq_plan_tensor {
    int tensor;    /* id in g->tensors */
    size_t offset; /* bytes from the start of the arena; a multiple of the alignment */
    size_t size;   /* bytes of the value (mq_nbytes; may be 0) */
    int first;     /* index of the producing node */
    int last;      /* index of the last node that reads it; g->n_nodes for a graph output (alive until
                    * the caller copies it out); == first if nobody reads it */
    int reuses;    /* tensor id whose slot (same offset) this one took in place at node `first`
                    * (that tensor's last use), -1 if none */
} mq_plan_tensor;

typedef struct mq_plan {
    int n;                /* planned tensors, in order of producing node */
    mq_plan_tensor *t;
    int n_graph_tensors;  /* g->n_tensors when planned */
    int *index;           /* per tensor id: index into t, or -1 if not planned (input, constant, ...) */
    size_t align;
    size_t arena_bytes;   /* the peak: max(offset + size), rounded up to align */
    size_t sum_bytes;     /* every planned tensor side by side: sum of sizes, each rounded up to align */
    size_t largest_bytes; /* the largest planned tensor */
    int n_inplace;        /* tensors that took their input's slot */
} mq_plan;

/* Plan g (inferred, topologically sorted). Planned: outputs of nodes that run (not folded), not
 * constants, not graph inputs, graph outputs only if opts->outputs_in_arena. Nodes whose outputs
 * are all folded constants do not run, so their inputs are not read by them.
 * Fails (MQ_ERR_SHAPE, naming the tensor and its node) if a planned tensor's shape is known only at
 * run time; MQ_ERR_UNSUPPORTED for a dtype without a size; MQ_ERR_INVALID for a bad alignment.
 * On failure *plan is left empty (mq_plan_free is still safe). */
mq_status mq_plan_memory(const mq_graph *g, const mq_plan_opts *opts, mq_plan *plan, mq_err *err);
void mq_plan_free(mq_plan *plan);

/* The entry of tensor id, or NULL if it is not planned. */
const mq_plan_tensor *mq_plan_find(const mq_plan *plan, int tensor);

#endif
