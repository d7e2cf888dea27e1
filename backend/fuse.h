/* fuse.h: fusions over a built program (backend/program.h): a Relu or Clip that only finishes a
 * float convolution runs inside it (conv_f32's clamp parameters), so its pass over the tensor is gone. */
#ifndef MQ_FUSE_H
#define MQ_FUSE_H

#include "backend/program.h"
#include "core/status.h"

/* For each relu_f32 / clip_f32 step whose input is written by a conv_f32 step (without an activation
 * yet), read by no other step and no graph output, and which the plan runs in place (its output is the
 * same arena bytes): the conv step gets p[13] = 1, p[14], p[15] = the bounds (f32 bits; Relu: 0 and
 * +inf; Clip: its min/max, from p[0..1] or constant inputs) and the activation's output, and the
 * activation step is dropped. Clip bounds computed at run time are left alone. */
mq_status mq_program_fuse(mq_program *p, mq_err *err);

#endif
