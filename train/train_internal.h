/* train_internal.h: the trainer's state shared by train/train.c (engine), train/checkpoint.c and
 * train/export.c; not part of the public API (train/train.h). */
#ifndef MQ_TRAIN_INTERNAL_H
#define MQ_TRAIN_INTERNAL_H

#include "core/exec.h"
#include "train/train.h"

/* Free buffers for reuse (train/bufpool.c). */
typedef struct mq_bufpool {
    void **free;
    size_t n, cap;
} mq_bufpool;
/* nbytes (>= 1) bytes, zeroed if zero: a free buffer that fits, else a new one; NULL if out of memory. */
void *mq_pool_get(mq_bufpool *pl, size_t nbytes, int zero);
/* Give back a buffer mq_pool_get returned (NULL: nothing). */
void mq_pool_put(mq_bufpool *pl, void *p);
void mq_pool_clear(mq_bufpool *pl);
/* An mq_exec_node_with allocator over the pool for node n's outputs (zeroed unless n's op has a kernel). */
mq_exec_alloc mq_pool_exec_alloc(mq_bufpool *pl, const mq_node *n);

typedef struct mq_param {
    int t;             /* tensor id in the training graph */
    const char *name;  /* the tensor's name */
    float *w, *m, *v;  /* value and optimizer state (momentum / Adam moments), n floats each */
    size_t n;
    int decay;         /* weight decay applies (Conv/Gemm/MatMul weights) */
    int step;          /* a quantizer's learned step: kept >= MQ_TRAIN_STEP_MIN after every update */
    float gscale;      /* the gradient is multiplied by this (1; a step: LSQ's 1 / sqrt(count * Q_P)) */
} mq_param;

#define MQ_TRAIN_STEP_MIN 1e-6f

struct mq_trainer {
    mq_graph *g, *teacher;
    mq_train_opts o;
    int n_params;
    mq_param *params;
    int *param_of;        /* tensor id -> index in params, or -1 */
    int n_buffers;
    int *buffers;         /* LBN running statistics (tensor ids; values in the graph, updated in place) */
    int input, output;    /* tensor ids */
    size_t step;          /* optimizer steps taken */
    /* per forward/backward */
    mq_tensor *vals;      /* run-time values, per tensor id */
    float **grads;        /* dL/d tensor, per tensor id (from pool, or NULL) */
    unsigned char *needs; /* tensor needs a gradient */
    unsigned char *run;   /* node is evaluated per step (not folded) */
    unsigned char *owned; /* vals[t].data was allocated by the forward (from pool) */
    mq_bufpool pool;      /* values and gradients, reused from step to step */
    /* forward modes */
    int lbn_stats;        /* 1: add each LBN's batch mean and variance to lbn_acc (see mq_train_lbn_commit) */
    double *lbn_acc;      /* per node: sum of batch means, of unbiased batch variances, number of batches */
    double *lbn_saved;    /* per node: the last training forward's LBN batch statistics (mq_maqd_lbn_forward_saved) */
    unsigned char *lbn_saved_ok; /* per node: lbn_saved holds this forward's statistics */
    struct mq_parallel *par; /* data-parallel step buffers (train/parallel.c) */
    struct mq_fuse *fuse;    /* fused layer tails (train/fuse.c) */
    int aq_as_relu;       /* calibration: ActQuant acts as ReLU and its inputs are sampled */
    int aq_sample;        /* with aq_as_relu: collect the samples below */
    float **samples;      /* per node (aq_as_relu): collected post-ReLU values */
    size_t *n_samples, sample_cap, sample_quota;
    int wq_bypass;        /* calibration: WeightQuant passes the float weight through (the float model) */
    int probe;            /* calibration: per-channel statistics of LBN nodes: 1 outputs, 2 inputs */
    int probe_node;       /* probe == 2: that node only */
    double **psum, **psq; /* per node: per-channel sums of the probed tensor and of its squares */
    double *pmu, *pvar;   /* per node (probe == 2): sums of the batch mean and unbiased variance of X */
    size_t *pcount;       /* per node: values per channel accumulated */
    int *pbatches;
};

/* Forward pass on a batch of n samples (x in the input layout). training: LBN uses batch statistics.
 * Values stay in tr->vals until mq_train_release. */
mq_status mq_train_forward(mq_trainer *tr, const float *x, int n, int training, mq_err *err);
void mq_train_release(mq_trainer *tr);
/* Forward, loss and backward on n samples (training mode, LBN batch statistics added to lbn_acc): the loss
 * (mean over the n), correct predictions, and dL/dparam in tr->grads until mq_train_release. */
mq_status mq_train_grad(mq_trainer *tr, const float *x, const int32_t *labels, int n, double *loss, int *correct,
                        mq_err *err);
/* dL/dt += g (g from the pool; taken, or added and given back). */
void mq_train_add_grad(mq_trainer *tr, int t, float *g);
/* The optimizer step with grad[i] the gradient of parameter i (NULL: none, the parameter is left alone). */
void mq_train_apply(mq_trainer *tr, float lr, float *const *grad);

/* ---- train/parallel.c: data-parallel training over the ranks of train/dist.h -------------------------------
 * The global batch is split into LBN groups (o.lbn_group samples, or each rank's whole slice), one forward
 * and backward each with its own LBN batch statistics; the ranks own whole groups. */
typedef struct mq_parallel mq_parallel;
mq_status mq_train_parallel_init(mq_trainer *tr, mq_err *err); /* checks the options, allocates */
/* mq_trainer_step: this rank's n samples, gradients summed over every group of every rank (weighted by its
 * share of the global batch), then one optimizer step everywhere; loss and correct are global. */
mq_status mq_train_parallel_step(mq_trainer *tr, const float *x, const int32_t *labels, int n, float lr,
                                 double *loss, int *correct, mq_err *err);
int mq_train_global_batch(const mq_trainer *tr, int n); /* samples of a step over all ranks (n: this rank's) */
int mq_train_groups_per_batch(const mq_trainer *tr);    /* LBN groups in a global batch */
/* Forward only (calibration), group by group, values released. */
mq_status mq_train_forward_groups(mq_trainer *tr, const float *x, int n, int training, mq_err *err);
/* lbn_acc summed over the ranks (with n_extra more doubles in the same message), then each LBN's running
 * statistics moved by momentum towards the mean of its batch statistics (calib: set to it); lbn_acc zeroed. */
void mq_train_lbn_commit(mq_trainer *tr, int calib, double *extra, int n_extra);
void mq_train_sync_probes(mq_trainer *tr); /* calibration probes (psum, psq, ...) summed over the ranks */
void mq_train_parallel_free(mq_trainer *tr);

#endif
