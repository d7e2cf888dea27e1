/* trainlog.c: the fine-tuning CSV log (trainlog.h): rows kept in memory, the whole file rewritten
 * atomically after each epoch, and a strict reader for reports. */
#include "train/trainlog.h"

#include "core/alloc.h"
#include "core/strbuf.h"
#include "frontend/tensor_io.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_FIELDS 10
#define MAX_LOG_BYTES ((size_t)64 << 20)

static const char *const phase_names[] = {"float", "train"};

void mq_trainlog_free(mq_trainlog *log)
{
    if (!log) return;
    mq_free(log->rows);
    memset(log, 0, sizeof *log);
}

mq_status mq_trainlog_add(mq_trainlog *log, const mq_trainlog_row *row, mq_err *err)
{
    for (int i = 0; i < log->n; i++)
        if (log->rows[i].phase == row->phase && log->rows[i].epoch == row->epoch) {
            log->rows[i] = *row;
            return MQ_OK;
        }
    if (log->n >= MQ_TRAINLOG_MAX_ROWS)
        return mq_fail(err, MQ_ERR_LIMIT, "training log: more than %d rows", MQ_TRAINLOG_MAX_ROWS);
    if (log->n == log->cap) {
        int cap = log->cap ? 2 * log->cap : 16;
        mq_trainlog_row *r = mq_realloc(log->rows, sizeof *r * (size_t)cap);
        if (!r) return mq_fail(err, MQ_ERR_NOMEM, "training log: out of memory");
        log->rows = r;
        log->cap = cap;
    }
    log->rows[log->n++] = *row;
    return MQ_OK;
}

void mq_trainlog_truncate(mq_trainlog *log, int epochs)
{
    int k = 0;
    for (int i = 0; i < log->n; i++)
        if (log->rows[i].phase != MQ_LOG_TRAIN || log->rows[i].epoch <= epochs) log->rows[k++] = log->rows[i];
    log->n = k;
}

static int put_num(mq_strbuf *b, double v, const char *sep)
{
    return isfinite(v) ? mq_sb_printf(b, "%.9g%s", v, sep) : mq_sb_printf(b, "%s", sep);
}

mq_status mq_trainlog_write(const mq_trainlog *log, const char *path, mq_err *err)
{
    mq_strbuf b = {0};
    int bad = mq_sb_printf(&b, "%s\n", MQ_TRAINLOG_HEADER);
    for (int i = 0; !bad && i < log->n; i++) {
        const mq_trainlog_row *r = &log->rows[i];
        bad |= mq_sb_printf(&b, "%s,%d,%lld,", phase_names[r->phase], r->epoch, r->step);
        bad |= put_num(&b, r->lr, ",") | put_num(&b, r->train_loss, ",") | put_num(&b, r->train_acc, ",");
        bad |= put_num(&b, r->val_loss, ",") | put_num(&b, r->val_acc, ",") | put_num(&b, r->images_per_s, ",");
        bad |= put_num(&b, r->seconds, "\n");
    }
    mq_status st = bad ? mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory writing the training log", path)
                       : mq_write_file_atomic(path, b.p, b.len, err);
    mq_sb_free(&b);
    return st;
}

/* A number field: empty is NaN (missing); otherwise finite and whole. */
static int field_num(const char *s, double *v)
{
    if (!*s) {
        *v = NAN;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    *v = strtod(s, &end);
    return errno || end == s || *end || !isfinite(*v) ? -1 : 0;
}

static mq_status parse_line(char *line, int lineno, const char *path, mq_trainlog_row *r, mq_err *err)
{
    char *f[N_FIELDS];
    int n = 0;
    for (char *p = line;;) {
        char *c = strchr(p, ',');
        if (n < N_FIELDS) f[n] = p;
        n++;
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    if (n != N_FIELDS)
        return mq_fail(err, MQ_ERR_PARSE, "%s: line %d: %d fields, expected %d", path, lineno, n, N_FIELDS);
    memset(r, 0, sizeof *r);
    if (!strcmp(f[0], "float")) r->phase = MQ_LOG_FLOAT;
    else if (!strcmp(f[0], "train")) r->phase = MQ_LOG_TRAIN;
    else return mq_fail(err, MQ_ERR_PARSE, "%s: line %d: phase '%.32s' is not 'float' or 'train'", path, lineno, f[0]);
    double ep, st, *num[7] = {&r->lr, &r->train_loss, &r->train_acc, &r->val_loss, &r->val_acc, &r->images_per_s,
                              &r->seconds};
    if (field_num(f[1], &ep) || !(ep >= 0 && ep <= 1e6) || ep != floor(ep) || field_num(f[2], &st) ||
        !(st >= 0 && st <= 1e15) || st != floor(st))
        return mq_fail(err, MQ_ERR_PARSE, "%s: line %d: epoch and step must be whole numbers >= 0", path, lineno);
    r->epoch = (int)ep;
    r->step = (long long)st;
    if (r->phase == MQ_LOG_TRAIN && r->epoch < 1)
        return mq_fail(err, MQ_ERR_PARSE, "%s: line %d: a train row's epoch starts at 1", path, lineno);
    for (int k = 0; k < 7; k++)
        if (field_num(f[3 + k], num[k]))
            return mq_fail(err, MQ_ERR_PARSE, "%s: line %d: field %d ('%.32s') is not a number", path, lineno, 4 + k,
                           f[3 + k]);
    const double acc[2] = {r->train_acc, r->val_acc};
    for (int k = 0; k < 2; k++)
        if (!isnan(acc[k]) && !(acc[k] >= 0 && acc[k] <= 1))
            return mq_fail(err, MQ_ERR_PARSE, "%s: line %d: an accuracy outside [0, 1]", path, lineno);
    return MQ_OK;
}

mq_status mq_trainlog_read(const char *path, mq_trainlog *log, mq_err *err)
{
    memset(log, 0, sizeof *log);
    void *buf = NULL;
    size_t len = 0;
    MQ_TRY(mq_read_file(path, MAX_LOG_BYTES, &buf, &len, err));
    char *text = mq_malloc(len + 1);
    mq_status st = text ? MQ_OK : mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory", path);
    if (text) {
        memcpy(text, buf, len);
        text[len] = 0;
        if (strlen(text) != len) st = mq_fail(err, MQ_ERR_PARSE, "%s: not a text file", path);
    }
    mq_free(buf);
    int lineno = 0;
    for (char *line = text; st == MQ_OK && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r') line[l - 1] = 0;
        lineno++;
        if (lineno == 1) {
            if (strcmp(line, MQ_TRAINLOG_HEADER))
                st = mq_fail(err, MQ_ERR_PARSE, "%s: line 1 is not the header '%s'", path, MQ_TRAINLOG_HEADER);
        } else if (*line) {
            mq_trainlog_row r;
            st = parse_line(line, lineno, path, &r, err);
            if (st == MQ_OK) st = mq_trainlog_add(log, &r, err);
        }
        line = nl ? nl + 1 : NULL;
    }
    if (st == MQ_OK && lineno == 0) st = mq_fail(err, MQ_ERR_PARSE, "%s: empty file", path);
    mq_free(text);
    if (st != MQ_OK) mq_trainlog_free(log);
    return st;
}
