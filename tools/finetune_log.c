/* finetune_log.c: the CSV log `maqdc finetune` writes (train/trainlog.h, docs/REPORTS.md): the float
 * model's validation row, then one row per epoch, the whole file rewritten atomically after each. */
#include "tools/finetune_log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void maqdc_ftlog_path(const char *opt, const char *out, char *buf, size_t n)
{
    if (opt) {
        snprintf(buf, n, "%s", opt);
        return;
    }
    size_t l = strlen(out);
    if (l > 5 && !strcmp(out + l - 5, ".onnx")) l -= 5;
    snprintf(buf, n, "%.*s.log.csv", (int)l, out);
}

mq_status maqdc_ftlog_begin(maqdc_ftlog *l, const char *path, int resume_epochs, mq_err *err)
{
    memset(l, 0, sizeof *l);
    snprintf(l->path, sizeof l->path, "%s", path);
    if (resume_epochs > 0) { /* keep what the interrupted run logged up to its checkpoint */
        mq_err e = {0};
        if (mq_trainlog_read(l->path, &l->log, &e) != MQ_OK) {
            fprintf(stderr, "maqdc finetune: note: starting a new log: %s\n", e.msg);
            memset(&l->log, 0, sizeof l->log);
        }
        mq_trainlog_truncate(&l->log, resume_epochs);
    }
    return mq_trainlog_write(&l->log, l->path, err); /* an unwritable log fails now, not after an epoch */
}

int maqdc_ftlog_has_float(const maqdc_ftlog *l)
{
    for (int i = 0; i < l->log.n; i++)
        if (l->log.rows[i].phase == MQ_LOG_FLOAT) return 1;
    return 0;
}

static mq_status add(maqdc_ftlog *l, const mq_trainlog_row *r, mq_err *err)
{
    MQ_TRY(mq_trainlog_add(&l->log, r, err));
    return mq_trainlog_write(&l->log, l->path, err);
}

mq_status maqdc_ftlog_float(maqdc_ftlog *l, const mq_eval_result *val, double seconds, mq_err *err)
{
    double n = val->count ? (double)val->count : NAN;
    mq_trainlog_row r = {MQ_LOG_FLOAT, 0, 0, NAN, NAN, NAN, val->loss_sum / n, (double)val->correct / n, NAN, seconds};
    return add(l, &r, err);
}

mq_status maqdc_ftlog_epoch(maqdc_ftlog *l, int epoch, const mq_train_progress *p, const mq_eval_result *val,
                            mq_err *err)
{
    double n = val && val->count ? (double)val->count : NAN;
    mq_trainlog_row r = {MQ_LOG_TRAIN, epoch, (long long)((size_t)epoch * p->steps), p->lr, p->loss, p->accuracy,
                         val ? val->loss_sum / n : NAN, val ? (double)val->correct / n : NAN, p->images_per_s,
                         p->elapsed_s};
    return add(l, &r, err);
}

void maqdc_ftlog_end(maqdc_ftlog *l) { mq_trainlog_free(&l->log); }
