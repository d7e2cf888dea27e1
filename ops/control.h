/* control.h: settings of the control-flow ops (ops/control.c: If, Loop, Scan), whose bodies are
 * subgraphs run by the reference executor. */
#ifndef MQ_OPS_CONTROL_H
#define MQ_OPS_CONTROL_H

#include <stdint.h>

#define MQ_DEFAULT_MAX_LOOP_ITERATIONS 10000000

/* A Loop that has run this many iterations and would run another fails with MQ_ERR_LIMIT (ONNX allows
 * endless loops; the executor does not). n <= 0 restores the default. Process-wide setting. */
void mq_control_set_max_iterations(int64_t n);
int64_t mq_control_max_iterations(void);

#endif
