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
} mq_param;

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
    int lbn_stats;        /* update LBN running statistics: 0 no, 1 momentum, 2 running average (calibration) */
    int stats_batches;    /* batches averaged so far (lbn_stats == 2) */
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

#endif
