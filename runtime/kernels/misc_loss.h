/* misc_loss.h: parameter layout of the loss kernel (misc_loss.c): NegativeLogLikelihoodLoss and
 * SoftmaxCrossEntropyLoss (opset 12+). */
#ifndef MQK_MISC_LOSS_H
#define MQK_MISC_LOSS_H

enum { MQK_LOSS_NONE = 0, MQK_LOSS_SUM = 1, MQK_LOSS_MEAN = 2 };

/* loss_nll: in[0] x [N, C, d1..dk] (float32 or float64: log-probabilities for NLL, logits for SCE),
 *   in[1] target [N, d1..dk] (int32 or int64), in[2] optional class weight [C] (x's dtype; rank -1:
 *   omitted). out[0] loss ([N, d1..dk] for reduction none, else a scalar); out[1] (SCE only, optional)
 *   log_prob like x. Computed in double.
 *   p[0] 1: softmax cross-entropy (log-softmax over C first), 0: NLL; p[1] reduction (MQK_LOSS_*);
 *   p[2] 1: an ignore_index is set; p[3], p[4] its low and high 32 bits.
 *   A target that is neither the ignore_index nor in [0, C) counts as ignored (the host checks targets
 *   before running the kernel and reports them). mean divides by the sum of the weights used (0/0: NaN). */

#endif
