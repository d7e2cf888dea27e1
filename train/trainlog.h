/* trainlog.h: the fine-tuning CSV log (`maqdc finetune --log`): one row per epoch plus the float model's
 * validation row, written atomically after every epoch; read back by `maqdc report` (docs/REPORTS.md). */
#ifndef MQ_TRAINLOG_H
#define MQ_TRAINLOG_H

#include "core/status.h"

#include <stddef.h>

/* The header line, exactly; a missing value is an empty field. */
#define MQ_TRAINLOG_HEADER "phase,epoch,step,lr,train_loss,train_acc,val_loss,val_acc,images_per_s,seconds"
#define MQ_TRAINLOG_MAX_ROWS 100000

typedef enum mq_trainlog_phase {
    MQ_LOG_FLOAT = 0, /* the float model before fine-tuning (epoch 0; validation columns only) */
    MQ_LOG_TRAIN = 1  /* the end of a fine-tuning epoch (1-based) */
} mq_trainlog_phase;

/* NaN marks a missing value (no validation set, the float row's training columns). */
typedef struct mq_trainlog_row {
    mq_trainlog_phase phase;
    int epoch;
    long long step; /* optimizer steps done so far (all epochs) */
    double lr, train_loss, train_acc, val_loss, val_acc, images_per_s, seconds;
} mq_trainlog_row;

typedef struct mq_trainlog {
    int n, cap;
    mq_trainlog_row *rows;
} mq_trainlog;

/* Append a row (a row of the same phase and epoch replaces the old one: a resumed run redoes epochs). */
mq_status mq_trainlog_add(mq_trainlog *log, const mq_trainlog_row *row, mq_err *err);
/* Drop the train rows after epoch `epochs` (resuming from a checkpoint taken then). */
void mq_trainlog_truncate(mq_trainlog *log, int epochs);
/* Write the whole log to path atomically (temporary + rename). */
mq_status mq_trainlog_write(const mq_trainlog *log, const char *path, mq_err *err);
/* Read and validate a log: the header, the field count, numbers, phases and epochs of every line. Errors
 * name the file and the line. */
mq_status mq_trainlog_read(const char *path, mq_trainlog *log, mq_err *err);
void mq_trainlog_free(mq_trainlog *log);

#endif
