/* program.h: the lowered program both backends consume (the .mqd writer and the C emitter): every node
 * that runs becomes one runtime-kernel step over tensors placed by the memory plan. */
#ifndef MQ_PROGRAM_H
#define MQ_PROGRAM_H

#include "backend/plan.h"
#include "core/graph.h"
#include "runtime/mqr_kernel.h"

#include <stddef.h>
#include <stdint.h>

/* Where a program tensor's bytes live at run time (the numbers are the .mqd format's). */
typedef enum mq_loc {
    MQ_LOC_INPUT = 1,  /* the caller's buffer of graph input `index` (read only) */
    MQ_LOC_OUTPUT = 2, /* the caller's buffer of graph output `index` (only with outputs_in_arena 0) */
    MQ_LOC_WEIGHT = 3, /* constant data: weights[index] */
    MQ_LOC_ARENA = 4   /* arena + offset (planned by backend/plan.h) */
} mq_loc;

/* One tensor a step reads or writes, or a graph input/output. Shapes are static, element counts fit
 * int32 (the kernels' mqr_tensor), dtypes have a runtime size (mqr_dtype_size). */
typedef struct mq_prog_tensor {
    const char *name;          /* the graph's tensor name (graph-owned) */
    int graph_id;              /* id in g->tensors */
    int32_t dtype;             /* ONNX numbering */
    int32_t rank;
    int32_t dims[MQR_MAX_RANK];
    size_t bytes;              /* element count * element size */
    mq_loc loc;
    int index;                 /* INPUT/OUTPUT: graph input/output number; WEIGHT: index in weights[] */
    size_t offset;             /* ARENA: byte offset (a multiple of the plan's alignment); else 0 */
    /* A data-dependent shape (NonZero, Compress, Unique, NonMaxSuppression output): dims are the upper
     * bound the bytes are planned for, and `shape` is the program tensor (int32 [rank], arena) where
     * the producing kernel writes the actual dims; -1 for a static tensor. Only graph outputs have one
     * (mq_program_build refuses any node reading such a tensor). */
    int shape;
} mq_prog_tensor;

/* A constant a step reads (or a constant graph output), stored once. */
typedef struct mq_prog_weight {
    int tensor;                /* program tensor index */
    const void *data;          /* the graph's bytes: valid while the graph lives */
    size_t bytes;
} mq_prog_weight;

/* Step kinds (the .mqd format's numbers). A control step's sub-programs are the steps right after it:
 * IF: in[0] the condition (bool, one element); p[0] = then steps, p[1] = else steps (following the
 * then steps); runs one of the two. LOOP: in[0] the condition tensor (bool, one element; -1: none),
 * out[0] the iteration counter (int64 scalar, written before each iteration; -1: none); p[0] = body
 * steps, p[1] = trip count, p[2] = 1 if ending early is a run-time error (scan outputs have trip rows).
 * Runs the body while counter < trip and the condition holds. */
enum { MQ_STEP_KERNEL = 0, MQ_STEP_IF = 1, MQ_STEP_LOOP = 2 };

/* One kernel call (or control step), in execution order: as mq_run_kcall would run it on the host,
 * with in[]/out[] being program tensor indices in the node's input/output order (-1: omitted
 * optional). The scratch of every step is the one region at scratch_offset (the step uses its first
 * scratch_bytes). */
typedef struct mq_prog_step {
    int kind;                  /* MQ_STEP_*: a kernel call, or control flow (kernel NULL) */
    int node;                  /* index in the lowered graph's nodes (the flattened one with control flow) */
    const char *name;          /* node name ("" if none) and op type, graph-owned, for diagnostics */
    const char *op_type;
    const char *kernel;        /* runtime kernel name (runtime/kernels/list_*.h), mqk_k_<kernel> */
    int n_p;
    int32_t *p;                /* the kernel's parameters (layout documented beside the kernel) */
    int n_in, n_out;
    int *in, *out;
    size_t scratch_bytes;
    unsigned bounded;          /* bit k: node output k has a data-dependent shape; out[] then holds, after
                                * the node's outputs, its actual-dims tensor (mq_prog_tensor.shape) */
} mq_prog_step;

typedef struct mq_program_opts {
    /* 1 (default): graph outputs are planned in the arena and copied to the caller's buffers after the
     * last step; 0: steps write graph outputs straight into the caller's buffers (MQ_LOC_OUTPUT). */
    int outputs_in_arena;
    int no_inplace;            /* forwarded to the planner */
    size_t align;              /* arena alignment (0: MQ_PLAN_DEFAULT_ALIGN; the .mqd needs 16) */
} mq_program_opts;

void mq_program_opts_init(mq_program_opts *o);

/* Arena layout: [0, tensor_bytes) planned tensors | [scratch_offset, +scratch_bytes) scratch.
 * arena_bytes = scratch_offset + scratch_bytes (what the caller provides). */
typedef struct mq_program {
    mq_arena *mem;             /* owns every array below (not the names or weight data: the graph's) */
    mq_graph *flat;            /* with control flow: the flattened graph (backend/flatten.h), owned */
    int n_tensors;
    mq_prog_tensor *tensors;
    int n_weights;
    mq_prog_weight *weights;
    size_t weight_bytes;       /* sum of weight sizes (no padding) */
    int n_steps;
    mq_prog_step *steps;
    int n_inputs, n_outputs;
    int *inputs;               /* program tensor of graph input k (always MQ_LOC_INPUT, index k) */
    int *outputs;              /* program tensor holding graph output k after the last step: the
                                * caller's buffer itself (MQ_LOC_OUTPUT, index k), or an arena
                                * tensor, an input or a weight that is copied out */
    size_t align;
    size_t tensor_bytes;       /* the plan's peak, then the actual-dims slots of bounded tensors */
    int n_bounded;             /* tensors with a data-dependent shape (mq_prog_tensor.shape >= 0) */
    size_t scratch_offset;     /* tensor_bytes rounded up to align */
    size_t scratch_bytes;      /* max scratch_bytes of all steps */
    size_t arena_bytes;
    /* the planner's report, for `maqdc info` */
    size_t plan_sum_bytes, plan_largest_bytes;
    int plan_inplace;
} mq_program;

/* Lower every node of g (inferred, static shapes) that runs (not folded) with its op's `lower`, and
 * plan the memory. Nodes without a lower, or whose lower says MQ_ERR_UNSUPPORTED, are collected and
 * reported together in one MQ_ERR_UNSUPPORTED message, one "node 'x' (Op): reason" line each. Other
 * failures (dynamic shapes, limits, no memory) return their own code. On failure *p is empty
 * (mq_program_free is safe). opts NULL: defaults. */
mq_status mq_program_build(const mq_graph *g, const mq_program_opts *opts, mq_program *p, mq_err *err);
void mq_program_free(mq_program *p);

/* The graph inputs whose values a static program needs: those a node's `static_in` inputs (a shape,
 * axes, sizes, pads...) are computed from. Sets is_static[k] (g->n_inputs entries) and returns their
 * count, or -1 with *err on failure. mq_program_build names them in its report; freezing them at
 * import (mq_import_opts.consts, `maqdc --const`) makes those shapes static. */
int mq_program_static_inputs(const mq_graph *g, unsigned char *is_static, mq_err *err);

#endif
