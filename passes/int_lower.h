/* int_lower.h: lowering a fine-tuned MaQD model (standard ONNX export, or the IR with ai.maqd ops) to
 * the integer-only program of MAQD.md section 6 (docs/INTEGER.md): ops QInput, QLayer, QMaxPool, QSum,
 * QWinSum, QLut, QAdd, QRequant, QRescale (and standard Concat). */
#ifndef MQ_INT_LOWER_H
#define MQ_INT_LOWER_H

#include "core/graph.h"

/* The float input the model was trained on is x = (p / in_scale - in_mean) / in_std of an 8-bit p,
 * the integer program's input (zeros: 255, 0, 1). */
typedef struct mq_int_opts {
    float in_scale, in_mean, in_std;
    int64_t max_elems;         /* per-tensor cap for the inference after the pass; 0: 1 << 32 */
} mq_int_opts;

/* What the lowering made (for reports and tests). */
typedef struct mq_int_stats {
    int layers;                /* QLayer nodes */
    int exact_layers;          /* ... whose weights were already on a grid of <= 256 levels (quantized) */
    int wide_layers;           /* ... whose float weights were rounded to wide integers (first/last) */
    int pools, sums;
    int adds;                  /* QAdd nodes (residual Add + quantizer) */
    int acc_layers;            /* QLayer nodes returning their int32 accumulator to them (also in layers) */
    int requants;              /* QRequant / QRescale nodes (Concat inputs at another scale) */
    size_t weight_bytes;       /* packed weights */
    size_t threshold_bytes;    /* thresholds and float k, b */
} mq_int_stats;

/* Rewrite g (inferred, static shapes, one float input) in place into the integer program: the graph
 * input becomes uint8, every Conv/Gemm/MatMul with constant weights becomes a QLayer with packed
 * integer weights fused with what follows it (per-channel affine ops: Mul/Add/Sub/Div by constants,
 * BatchNormalization, LayerBatchNorm; then the activation quantizer, as ActQuant or as its export
 * Div/Add(0.5)/Floor/Clip(0, m-1)/Mul), which becomes per-channel integer thresholds; MaxPool,
 * AveragePool, GlobalAveragePool and Concat work on codes (a Concat's inputs at other scales
 * requantized: codes by a table, QRequant; window and plane sums by a fixed-point multiply, QRescale); a
 * residual Add of two integer operands ends in its quantizer (QLut, exact, or QAdd, int64 fixed point, on
 * the int32 accumulators of QLayers); a layer that ends the graph returns float logits. Anything else
 * fails naming the node. stats may be NULL. */
mq_status mq_int_lower(mq_graph *g, const mq_int_opts *o, mq_int_stats *stats, mq_err *err);

#endif
