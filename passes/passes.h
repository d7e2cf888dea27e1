/* passes.h: graph-to-graph transformations (MaQD, ../shared/MAQD.md), listed in one table; each pass
 * rewrites an imported, inferred graph in place and leaves it inferred again (mq_graph_infer). */
#ifndef MQ_PASSES_H
#define MQ_PASSES_H

#include "core/graph.h"

#define MQ_PASS_DEFAULT_W_STATES 3
#define MQ_PASS_DEFAULT_A_STATES 4
#define MQ_PASS_DEFAULT_DELTA_A 1.0f /* placeholder until calibration (MAQD.md section 5, step 3) */

/* What a pass did; every pass adds to the counters it concerns. */
typedef struct mq_pass_stats {
    int bn_replaced;   /* bn_to_lbn: BatchNormalization nodes now LayerBatchNorm */
    int bn_folded;     /* fold_bn: BatchNormalization/LayerBatchNorm nodes folded into a Conv/Gemm */
    int weight_quant;  /* insert_quantizers: WeightQuant nodes added */
    int act_quant;     /* insert_quantizers: Relu/Clip nodes now ActQuant */
    int exempt;        /* insert_quantizers: quantizable layers left float (first/last, overrides) */
    int skipped;       /* candidates left alone: non-constant parameters, other consumers, training form */
} mq_pass_stats;

/* Options for every pass (a zeroed struct, or NULL, means all defaults). */
typedef struct mq_pass_opts {
    int64_t max_elems;         /* per-tensor cap for the inference after the pass; 0: 1 << 32 */
    int w_states, a_states;    /* insert_quantizers: states n_w, m_a (2..256); 0: the defaults above */
    int quant_first;           /* insert_quantizers: also quantize the first quantizable layer's weight */
    int quant_last;            /* ... and the last one's */
    float delta_a;             /* initial ActQuant step; 0: MQ_PASS_DEFAULT_DELTA_A */
    /* Per-layer overrides "PATTERN=W:A", later ones win. PATTERN is a node name or an fnmatch(3) glob,
     * matched against the Conv/Gemm/MatMul node's name for W and the Relu/Clip node's name for A.
     * W and A are each a number of states (2..256), "-" (keep the default) or "f" (leave float).
     * Overrides never lift the first/last exemption: quant_first/quant_last do. */
    int n_overrides;
    const char *const *overrides;
    mq_pass_stats *stats;      /* optional */
} mq_pass_opts;

typedef mq_status (*mq_pass_fn)(mq_graph *g, const mq_pass_opts *o, mq_err *err);

typedef struct mq_pass_def {
    const char *name;
    mq_pass_fn fn;
    const char *description;
} mq_pass_def;

/* The passes, in the order the MaQD recipe runs them; ended by an entry with name NULL. */
extern const mq_pass_def mq_passes[];
const mq_pass_def *mq_pass_find(const char *name); /* NULL if unknown */

/* Every BatchNormalization in inference form (one output, constant parameters) becomes a
 * LayerBatchNorm with the same eval-mode function (MAQD.md section 1). */
mq_status mq_pass_bn_to_lbn(mq_graph *g, const mq_pass_opts *o, mq_err *err);
/* WeightQuant on Conv/Gemm/MatMul constant weights (first and last quantizable layers exempt unless
 * asked), ActQuant in place of every Relu and every Clip with min 0 (MAQD.md sections 2, 3, 5). */
mq_status mq_pass_insert_quantizers(mq_graph *g, const mq_pass_opts *o, mq_err *err);
/* Give every ActQuant (act != 0) and WeightQuant (weight != 0) that has none a step input (input 1): a
 * float32 [1] constant "<output>.step" holding its step (attribute 'delta'; WeightQuant's default step if
 * absent), so that the trainer learns it (--learn-act-step, --learn-weight-step). Not in the table: the
 * trainer calls it. *added (optional): how many inputs were added. */
mq_status mq_pass_step_inputs(mq_graph *g, int act, int weight, int *added, mq_err *err);
/* Fold BatchNormalization / eval-mode LayerBatchNorm into the Conv/Gemm producing its input when that
 * output has no other consumer (float deployment). */
mq_status mq_pass_fold_bn(mq_graph *g, const mq_pass_opts *o, mq_err *err);

/* ---- helpers for pass writers (passes/passes.c) ------------------------------------------------------ */

/* Grow g's tensor and node arrays by at least the given counts (new arrays in g's arena, the hash of
 * names rebuilt). Pointers to g->tensors[i] / g->nodes[i] taken before the call are stale after it. */
mq_status mq_pass_reserve(mq_graph *g, int more_tensors, int more_nodes, mq_err *err);
/* Re-run inference after a rewrite: values folded at import (outputs of nodes) are forgotten first so
 * they are folded again from the new graph, then mq_graph_infer. */
mq_status mq_pass_reinfer(mq_graph *g, int64_t max_elems, mq_err *err);
/* A name not yet used in g: base + suffix, else base + suffix + "_1", "_2", ... (in g's arena). */
const char *mq_pass_unique_name(mq_graph *g, const char *base, const char *suffix);
/* Add a float32 constant (data copied into the arena) under a unique name; *id receives its id. */
mq_status mq_pass_add_f32_const(mq_graph *g, const char *base, const char *suffix, int rank, const int64_t *dims,
                                const float *data, int *id, mq_err *err);
/* The same for any dtype (data: the tensor's bytes). */
mq_status mq_pass_add_const(mq_graph *g, const char *base, const char *suffix, mq_dtype dt, int rank,
                            const int64_t *dims, const void *data, int *id, mq_err *err);
/* Make sure g imports the domain (opset_import entry added if absent). */
mq_status mq_pass_use_domain(mq_graph *g, const char *domain, int64_t version, mq_err *err);
/* consumers[t] = number of node inputs reading tensor t, plus one if t is a graph output; producer[t]
 * = the node producing t or -1. Arrays of g->n_tensors ints, mq_malloc'ed (caller frees). */
mq_status mq_pass_uses(const mq_graph *g, int **consumers, int **producer, mq_err *err);
/* Remove the nodes with drop[i] != 0 (keeping the others' order). */
void mq_pass_remove_nodes(mq_graph *g, const unsigned char *drop);
/* Tensor t is a float32 constant with known data and count elements (count < 0: any). */
int mq_pass_is_f32_const(const mq_graph *g, int t, int64_t count);
/* Set a node's attribute (replacing one of that name, else appending; storage in g's arena). */
mq_status mq_pass_set_attr_float(mq_graph *g, mq_node *n, const char *name, float v, mq_err *err);
mq_status mq_pass_set_attr_int(mq_graph *g, mq_node *n, const char *name, int64_t v, mq_err *err);

#endif
