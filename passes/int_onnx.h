/* int_onnx.h: the integer program of passes/int_lower.c rewritten into standard ONNX ops (ConvInteger /
 * MatMulInteger on uint8 weight digits, thresholds as GreaterOrEqual + Cast + ReduceSum) that compute
 * exactly its codes, for onnxruntime and any other ONNX runtime (docs/INTEGER.md, "ONNX export"). */
#ifndef MQ_INT_ONNX_H
#define MQ_INT_ONNX_H

#include "core/graph.h"

/* Rewrite g, the output of mq_int_lower (ops QInput, QLayer, QMaxPool, QSum of domain ai.maqd and
 * standard Flatten/Reshape/Squeeze/Unsqueeze on codes), in place into default-domain ops (opset >= 13)
 * with the same uint8 input and float logits: every code equals the integer program's. Fails naming the
 * node on anything else. */
mq_status mq_int_to_onnx(mq_graph *g, mq_err *err);

#endif
