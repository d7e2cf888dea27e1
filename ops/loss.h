/* loss.h: the softmax cross-entropy and distillation kernels (loss and gradient with respect to the logits)
 * shared by the loss ops in ops/loss.c and the trainer. Plain C on pointers, no IR types. */
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

/* Distillation loss (MAQD.md section 5): T^2 times the batch mean of KL(p_t || p_s), p_t = softmax(teacher / T)
 * and p_s = softmax(student / T) per row of [n, c] logits, in double (log p_s clamped at 1e-300):
 *     loss = T^2 / n * sum_i sum_j p_t[i,j] (log p_t[i,j] - log p_s[i,j])
 * If grad_s is not NULL, scale * dL/dstudent = scale * T (p_s - p_t) / n is ADDED to it; if grad_t is not
 * NULL, scale * dL/dteacher = scale * T p_t (log p_t - log p_s - KL_i) / n is added to it. work holds 2c
 * doubles. Returns 0, or -1 if c == 0 or T <= 0. */
int mq_distill_kl_mean_f32(size_t n, size_t c, const float *student, const float *teacher, double T, double scale,
                           double *loss, float *grad_s, float *grad_t, double *work);

#endif
