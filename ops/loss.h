/* loss.h: the softmax cross-entropy kernel (loss and its gradient with respect to the logits) shared by
 * the SoftmaxCrossEntropyLoss op in ops/loss.c and the trainer. Plain C on pointers, no IR types. */
#ifndef MQ_OPS_LOSS_H
#define MQ_OPS_LOSS_H

#include <stddef.h>
#include <stdint.h>

/* Softmax cross-entropy of a 2-D batch of logits [n, c] (row-major) against class labels [n], averaged
 * over the n samples (reduction "mean", no class weights):
 *     loss = -(1/n) * sum_i log(softmax(logits[i, :])[labels[i]])
 * If grad is not NULL it receives dL/dlogits [n, c]:
 *     grad[i, j] = (softmax(logits[i, :])[j] - (j == labels[i])) / n
 * Computed in double with the max subtracted before exponentiating (stable for large logits).
 * *loss is 0 (and grad all zero) when n == 0. Returns 0, or -1 (outputs untouched) if c == 0 or a
 * label is outside [0, c). Does not allocate. */
int mq_softmax_xent_mean_f32(size_t n, size_t c, const float *logits, const int64_t *labels, float *loss,
                             float *grad);

#endif
