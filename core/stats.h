/* stats.h: model statistics for `maqdc info` and reports: parameters, bytes, multiply-accumulates. */
#ifndef MQ_STATS_H
#define MQ_STATS_H

#include "core/graph.h"

/* Multiply-accumulates of one node from its inferred shapes (Conv, ConvTranspose, Gemm, MatMul,
 * MatMulInteger, ConvInteger, QLinearConv, QLinearMatMul, pools and normalizations count their
 * per-element work as zero here: MACs mean products of the heavy ops). -1 if shapes are unknown. */
int64_t mq_node_macs(const mq_graph *g, const mq_node *n);

typedef struct mq_graph_stats {
    int64_t params;       /* elements of initializers (constants not produced by a node) */
    int64_t param_bytes;
    int64_t macs;         /* sum over nodes; -1 if any heavy node's shape is unknown */
} mq_graph_stats;

void mq_graph_stats_compute(const mq_graph *g, mq_graph_stats *s);

#endif
