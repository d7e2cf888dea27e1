/* fuse.h: the trainer's fused layer tail: LayerBatchNorm (training) -> ActQuant (ste) -> MaxPool 2x2/2 or
 * GlobalAveragePool, run one channel plane at a time while it is in cache, forward and backward, with the
 * arithmetic of the unfused ops (bit for bit; tests/unit/test_fuse.c). A trainer-only fast path: the op
 * definitions (ops/maqd.c, ops/nn_pool.c) stay the reference, and MAQD_NO_FUSE=1 turns it off. */
#ifndef MQ_TRAIN_FUSE_H
#define MQ_TRAIN_FUSE_H

#include "train/train_internal.h"

#include <stddef.h>

enum { MQ_FUSE_MAXPOOL2 = 1, MQ_FUSE_GAP = 2 };

/* One fused tail: X [N, C, H, W] (GAP: S = H * W spatial values of any shape) -> P. */
typedef struct mq_fuse_tail {
    size_t N, C, H, W;
    int pool;                  /* MQ_FUSE_* */
    const float *gamma, *beta; /* LayerBatchNorm's [C] */
    double eps, mu, var;       /* its epsilon and this batch's mean and biased variance (mq_maqd_lbn_batch_stats) */
    int states;                /* ActQuant's */
    float delta;
} mq_fuse_tail;

/* Bytes the forward leaves for the backward (MaxPool: per window the input under the gradient's tap and
 * the tap; GAP: nothing), and scratch floats both need. */
size_t mq_fuse_saved_bytes(const mq_fuse_tail *f);
size_t mq_fuse_scratch_floats(const mq_fuse_tail *f);
/* P = pool(A_m(LBN(X))), and the saved bytes. */
void mq_fuse_forward_tail(const mq_fuse_tail *f, const float *x, float *p, void *saved, float *scratch);
/* From dL/dP: dL/dX, dL/dgamma, dL/dbeta (each may be NULL) as the ops' rules give them (MaxPool: the
 * first tap equal to the maximum; ActQuant: straight-through where 0 <= z <= (m - 1/2) delta). */
void mq_fuse_backward_tail(const mq_fuse_tail *f, const float *x, const void *saved, const float *gp, float *scratch,
                           float *dx, float *dgamma, float *dbeta);

/* ---- the trainer's hooks (train/train.c) ---- */
typedef struct mq_fuse mq_fuse;
mq_status mq_fuse_init(mq_trainer *tr, mq_err *err); /* finds the tails in the training graph */
void mq_fuse_free(mq_trainer *tr);
void mq_fuse_release(mq_trainer *tr);                /* the saved buffers back to the pool */
/* node starts a tail that this (training) forward runs fused; then mq_fuse_forward runs the whole tail */
int mq_fuse_starts(const mq_trainer *tr, int node);
mq_status mq_fuse_forward(mq_trainer *tr, int node, mq_err *err);
int mq_fuse_inside(const mq_trainer *tr, int node); /* a later node of a tail that ran fused: skip it */
/* node ends a tail that ran fused: mq_fuse_backward turns dL/dP into dL/dX, dL/dgamma, dL/dbeta */
int mq_fuse_ends(const mq_trainer *tr, int node);
mq_status mq_fuse_backward(mq_trainer *tr, int node, mq_err *err);

#endif
