/* control.c: op family 'control' (see core/op.h). */
#include "ops/util.h"

const mq_op_def *const mq_ops_control[] = {NULL};
