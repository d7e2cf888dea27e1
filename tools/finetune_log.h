/* finetune_log.h: `maqdc finetune --log FILE` (tools/finetune_log.c): the CSV of train/trainlog.h written
 * as fine-tuning goes, for `maqdc report --log`. */
#ifndef MAQDC_FINETUNE_LOG_H
#define MAQDC_FINETUNE_LOG_H

#include "train/train.h"
#include "train/trainlog.h"

typedef struct maqdc_ftlog {
    char path[4096];
    mq_trainlog log;
} maqdc_ftlog;

/* The log's path: opt if given, else OUT without ".onnx" plus ".log.csv". */
void maqdc_ftlog_path(const char *opt, const char *out, char *buf, size_t n);
/* Start a log and write it (header, or the rows kept): resuming after resume_epochs epochs keeps the
 * old file's rows up to then. */
mq_status maqdc_ftlog_begin(maqdc_ftlog *l, const char *path, int resume_epochs, mq_err *err);
int maqdc_ftlog_has_float(const maqdc_ftlog *l);
/* Add a row (the float model's validation; the end of 1-based epoch) and rewrite the file. */
mq_status maqdc_ftlog_float(maqdc_ftlog *l, const mq_eval_result *val, double seconds, mq_err *err);
mq_status maqdc_ftlog_epoch(maqdc_ftlog *l, int epoch, const mq_train_progress *p, const mq_eval_result *val,
                            mq_err *err);
void maqdc_ftlog_end(maqdc_ftlog *l);

#endif
