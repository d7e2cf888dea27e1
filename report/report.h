/* report.h: what `maqdc report` and `maqdc info --dot` show of a model: per-node kinds, quantizer states
 * (from ai.maqd nodes or detected in an exported fine-tuned model), per-layer costs, Graphviz dot, HTML. */
#ifndef MQ_REPORT_H
#define MQ_REPORT_H

#include "backend/plan.h"
#include "core/graph.h"
#include "core/stats.h"
#include "core/strbuf.h"
#include "train/trainlog.h"

typedef enum mq_op_kind {
    MQ_KIND_COMPUTE = 0, /* Conv, Gemm, MatMul, ...: the MACs */
    MQ_KIND_NORM,
    MQ_KIND_ACT,
    MQ_KIND_QUANT,       /* WeightQuant, ActQuant, an exported ActQuant chain, (De)QuantizeLinear */
    MQ_KIND_POOL,
    MQ_KIND_ELEMWISE,
    MQ_KIND_SHAPE,
    MQ_KIND_OTHER,
    MQ_KIND_COUNT
} mq_op_kind;

const char *mq_op_kind_name(mq_op_kind k);
const char *mq_op_kind_color(mq_op_kind k); /* "#rrggbb" fill colour of the drawings */

/* Per graph node. A node that does not run (every output folded at import) has runs = 0 and is left out
 * of the drawing, the table and the timeline. */
typedef struct mq_report_node {
    int runs;
    mq_op_kind kind;
    int group;          /* first node of the exported ActQuant chain (Div, Add, Floor, Clip, Mul) this node
                         * belongs to, drawn as one box; -1 if none */
    int group_end;      /* for a chain's first node: its last node (the Mul); else -1 */
    int a_states;       /* this node quantizes activations to a_states levels (ActQuant, a chain); 0 no */
    int w_states;       /* its weight (input 1) holds w_states levels: a WeightQuant's attribute or
                         * detected on the stored values; 0: float or no weight */
    int weight;         /* tensor id of that weight (the quantizer's input for WeightQuant), -1 none */
    int out_a_states;   /* states of the activation quantizer that reads this node's output (through
                         * single-consumer nodes that are not layers), 0 none */
    int64_t params;     /* elements of the initializers this node reads first (a WeightQuant's go to
                         * the layer reading its output) */
    int64_t macs;       /* mq_node_macs; -1 unknown */
    int64_t float_bytes, packed_bytes; /* of those parameters: as stored, and with the quantized weight at
                                        * ceil(log2(w_states)) bits per value */
} mq_report_node;

typedef struct mq_report_model {
    int n_nodes;
    mq_report_node *nodes;
    mq_graph_stats stats;
    int64_t float_bytes, packed_bytes; /* every parameter */
    int n_layers;                      /* nodes with parameters or MACs (the table's rows) */
    int n_wq_layers, n_aq;             /* layers with quantized weights; activation quantizers */
    int n_folded;                      /* nodes that do not run */
} mq_report_model;

mq_status mq_report_analyze(const mq_graph *g, mq_report_model *m, mq_err *err);
void mq_report_model_free(mq_report_model *m);
/* Is node i one of the table's layers (runs, and has parameters or MACs)? */
int mq_report_is_layer(const mq_report_model *m, int i);

/* The states of a weight whose n values lie on a grid of equally spaced levels (as SRC leaves them):
 * the number of grid points from the smallest to the largest value; 0 if the values are not on such a
 * grid, use more than 256 levels, or are fewer than 2 distinct values or not more than the levels. */
int mq_report_grid_states(const float *v, int64_t n);
/* Bits per value for `states` levels: ceil(log2(states)); 32 for 0 (float). */
int mq_report_bits(int states);

/* The graph in Graphviz dot: a box per running node (an exported ActQuant chain as one), coloured by
 * kind, labelled with op, name, output shape, weight shape and states; graph inputs and outputs. */
mq_status mq_report_dot(const mq_graph *g, const mq_report_model *m, mq_strbuf *out, mq_err *err);

typedef struct mq_report_inputs {
    const char *model_path;
    const char *graph_svg;      /* Graphviz's SVG of mq_report_dot (NULL: graph_note says why not) */
    const char *graph_note;
    const mq_trainlog *log;     /* NULL: no fine-tuning section; log_note says why (NULL: none given) */
    const char *log_path;
    const char *log_note;
    const char *program_note;   /* the lowered program's arena with scratch, or why there is none */
} mq_report_inputs;

/* The whole self-contained page (inline CSS and SVG, no script). plan: mq_plan_memory's, or NULL with
 * plan_note saying why there is none. */
mq_status mq_report_html(const mq_graph *g, const mq_report_model *m, const mq_plan *plan, const char *plan_note,
                         const mq_report_inputs *in, mq_strbuf *out, mq_err *err);

#endif
