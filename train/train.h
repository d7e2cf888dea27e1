/* train.h: the MaQD fine-tuning engine (../shared/MAQD.md section 5): training graph (LBN, quantizers,
 * trainable parameters), forward/backward over the IR, optimizers, calibration, checkpoints, export. */
#ifndef MQ_TRAIN_H
#define MQ_TRAIN_H

#include "core/graph.h"
#include "train/data.h"

#include <stdint.h>

typedef enum mq_optimizer { MQ_OPT_SGD = 0, MQ_OPT_ADAMW = 1 } mq_optimizer;
typedef enum mq_schedule { MQ_SCHED_CONST = 0, MQ_SCHED_COSINE = 1, MQ_SCHED_STEP = 2 } mq_schedule;

typedef struct mq_train_opts {
    /* graph preparation */
    int quantize;               /* 1: insert quantizers (default); 0: float weights/activations */
    int keep_bn;                /* 1: keep BatchNormalization (batch statistics per channel in training) instead
                                 * of replacing it by LBN (default 0) */
    int w_states, a_states;     /* 0: the pass defaults */
    int quant_first, quant_last;
    int n_overrides;            /* per-layer "PATTERN=W:A" (passes.h) */
    const char *const *overrides;
    const char *surrogate;      /* ActQuant surrogate: "ste" (default) or "sigmoid" */
    int learn_act_step;         /* learn each ActQuant's step (MAQD.md 3's option; LSQ gradient, docs/MAQD_CHOICES.md) */
    int learn_weight_step;      /* learn each WeightQuant's step (MAQD.md 2's option) */
    /* optimization */
    int epochs, batch;          /* defaults 1, 64; batch is global: over all ranks of a data-parallel job */
    int lbn_group;              /* samples per LBN batch-statistics group (one forward/backward each; must divide
                                 * batch); 0: each rank's whole share of the batch. With a group size, the result
                                 * does not depend on the number of ranks (docs/DISTRIBUTED.md) */
    float lr;                   /* default 0.01 (SGD) */
    float momentum;             /* SGD, default 0.9 */
    float weight_decay;         /* on Conv/Gemm/MatMul weights, default 5e-4 */
    mq_optimizer optimizer;
    float beta1, beta2, adam_eps;   /* AdamW: 0.9, 0.999, 1e-8 */
    mq_schedule schedule;       /* default cosine */
    int step_epochs;            /* step schedule: multiply by step_gamma every step_epochs (0: max(1, epochs/3)) */
    float step_gamma;           /* default 0.1 */
    int distill;                /* add KL to the float model's softened outputs */
    float temperature;          /* default 4 */
    float distill_weight;       /* loss = (1-w) CE + w T^2 KL; default 0.5 (1 when labels are absent) */
    uint64_t seed;
    int calib_batches;          /* default 8; 0: no calibration */
    int channel_correction;     /* calibration also restores each LBN channel's float mean/std (default 1) */
    int64_t max_elems;          /* per-tensor cap for inference; 0: 1 << 32 */
} mq_train_opts;

void mq_train_opts_init(mq_train_opts *o);

typedef struct mq_trainer mq_trainer;

/* Build the training graph from an imported float graph (taken over: freed by mq_trainer_free, also on
 * failure): bn_to_lbn (unless o->keep_bn), insert_quantizers (if o->quantize), trainable parameters marked
 * (Conv/Gemm/MatMul weights and biases, LBN or BatchNormalization scale and bias; their values move into the trainer so nothing depending on
 * them is folded; with learn_act_step / learn_weight_step also the quantizers' steps, as their input 1). teacher (optional, taken over too): the float model for distillation. */
mq_status mq_trainer_new(mq_graph *g, mq_graph *teacher, const mq_train_opts *o, mq_trainer **out, mq_err *err);
void mq_trainer_free(mq_trainer *tr);
const mq_graph *mq_trainer_graph(const mq_trainer *tr);

/* Calibration (MAQD.md section 5 step 3), calib_batches batches per pass: (our addition, if
 * channel_correction) layer by layer, LBN gamma/beta rescaled so that each output channel keeps the
 * float model's mean and std despite weight standardization; then, in training mode with every ActQuant
 * acting as ReLU, the post-ReLU values collected and each ActQuant's delta set to the one minimizing
 * their mean squared quantization error; then, with the quantizers on, each LBN's running statistics
 * set to the average of the batch statistics. */
mq_status mq_trainer_calibrate(mq_trainer *tr, mq_dataset *ds, mq_err *err);

typedef struct mq_train_progress {
    int epoch, epochs;
    size_t step, steps;        /* within the epoch */
    double loss, accuracy;     /* running means over the epoch so far */
    double images_per_s, elapsed_s;
    float lr;
} mq_train_progress;
typedef void (*mq_progress_fn)(void *ctx, const mq_train_progress *p);

/* One epoch (0-based index epoch) over ds, which must have been opened with batch = o->batch (the last
 * partial batch is skipped). */
mq_status mq_trainer_epoch(mq_trainer *tr, mq_dataset *ds, int epoch, mq_progress_fn cb, void *ctx,
                           mq_train_progress *result, mq_err *err);

/* One step on a given batch (x: n samples in the input's layout, labels may be NULL with distillation);
 * returns the loss. lr is the learning rate of this step. */
mq_status mq_trainer_step(mq_trainer *tr, const float *x, const int32_t *labels, int n, float lr, double *loss,
                          int *correct, mq_err *err);
/* Learning rate at global step (0-based) for the options' schedule. */
float mq_trainer_lr(const mq_trainer *tr, int epoch, size_t global_step, size_t total_steps);

typedef struct mq_eval_result {
    size_t count, correct, correct_top5;
    double loss_sum;                      /* softmax cross-entropy summed over the samples */
    int64_t classes;
    size_t *class_count, *class_correct;  /* mq_malloc'ed [classes]; mq_eval_result_free */
} mq_eval_result;
void mq_eval_result_free(mq_eval_result *r);

/* Evaluate the training graph in eval mode (LBN running statistics, quantizers on), every sample of ds in
 * file order (never augmented), batch at a time. */
mq_status mq_trainer_evaluate(mq_trainer *tr, mq_dataset *ds, int batch, mq_eval_result *r, mq_err *err);
/* Evaluate any inferred graph with the reference executor (maqdc eval) in batches of the size its input
 * was imported with (the last one padded); output 0 is [batch, classes]; batch is ignored. */
mq_status mq_eval_graph(const mq_graph *g, mq_dataset *ds, int batch, mq_eval_result *r, mq_err *err);

/* Parameters (for tests): count, and the i-th's name, value and element count. */
int mq_trainer_n_params(const mq_trainer *tr);
const float *mq_trainer_param(const mq_trainer *tr, int i, const char **name, size_t *count);

/* Checkpoint: parameters, optimizer state, LBN running statistics, ActQuant steps, epochs done and the
 * step count; written atomically. Loading checks that the model and options match. */
mq_status mq_trainer_save_checkpoint(const mq_trainer *tr, const char *path, int epochs_done, mq_err *err);
mq_status mq_trainer_load_checkpoint(mq_trainer *tr, const char *path, int *epochs_done, mq_err *err);
/* The same from the file's bytes (path only names it in messages). */
mq_status mq_trainer_load_checkpoint_mem(mq_trainer *tr, const void *buf, size_t len, const char *path,
                                         int *epochs_done, mq_err *err);
/* Data-parallel resume: rank 0 reads path if it exists, every rank loads the same bytes; *found is 0 (and
 * nothing changes) when there is no checkpoint. Every rank must call it. */
mq_status mq_trainer_resume(mq_trainer *tr, const char *path, int *found, int *epochs_done, mq_err *err);

/* The fine-tuned model as standard ONNX, written atomically: WeightQuant folded into stored w_q,
 * ActQuant as Div, Add 0.5, Floor, Clip, Mul, LayerBatchNorm as its eval per-channel Mul and Add. */
mq_status mq_trainer_export_onnx(const mq_trainer *tr, const char *path, mq_err *err);
/* A graph of standard ONNX ops with constant initializers (e.g. passes/int_onnx.c's) written the same way. */
mq_status mq_graph_export_onnx(const mq_graph *g, const char *path, mq_err *err);

#endif
