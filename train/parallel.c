/* parallel.c: data-parallel fine-tuning (docs/DISTRIBUTED.md): the global batch split into LBN groups owned
 * by the ranks, gradients and LBN statistics summed over all of them (train/dist.h) before every optimizer
 * step, calibration statistics agreed, checkpoints read by rank 0 and shared. */
#include "train/train_internal.h"

#include "frontend/tensor_io.h"
#include "ops/maqd.h"
#include "train/dist.h"

#include <string.h>
#include <sys/stat.h>

#define N_STEP_STATS 4 /* loss sum, correct, samples, failed ranks */

struct mq_parallel {
    float *grad;    /* every parameter's gradient, back to back */
    size_t *off;    /* per parameter: where its gradient starts in grad */
    size_t n_grad;
    float **of;     /* per parameter: its gradient this step, or NULL when it has none */
    int *lbn;       /* the LayerBatchNorm nodes */
    int n_lbn;
    double *sums;   /* N_STEP_STATS + 3 per LBN node: one message */
};

static int is_lbn(const mq_node *n)
{
    return strcmp(n->op_type, "LayerBatchNorm") == 0 && n->domain && strcmp(n->domain, MQ_MAQD_DOMAIN) == 0;
}

mq_status mq_train_parallel_init(mq_trainer *tr, mq_err *err)
{
    const mq_train_opts *o = &tr->o;
    int R = mq_dist_size();
    if (o->lbn_group < 0 || (o->lbn_group && o->batch % o->lbn_group))
        return mq_fail(err, MQ_ERR_INVALID, "the LBN group (%d samples) must divide the batch (%d)", o->lbn_group,
                       o->batch);
    if ((o->lbn_group ? o->batch / o->lbn_group : o->batch) < R)
        return mq_fail(err, MQ_ERR_INVALID, "a batch of %d in LBN groups of %d cannot be shared by %d ranks (each "
                       "needs a group)", o->batch, o->lbn_group ? o->lbn_group : 1, R);
    mq_parallel *p = mq_calloc(1, sizeof *p);
    if (!p) return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    tr->par = p;
    size_t np = (size_t)tr->n_params + 1;
    p->off = mq_calloc(np, sizeof(size_t));
    p->of = mq_calloc(np, sizeof(float *));
    p->lbn = mq_calloc((size_t)tr->g->n_nodes + 1, sizeof(int));
    if (!p->off || !p->of || !p->lbn) return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    for (int i = 0; i < tr->n_params; i++) {
        p->off[i] = p->n_grad;
        if (mq_add_size(p->n_grad, tr->params[i].n, &p->n_grad)) return mq_fail(err, MQ_ERR_LIMIT, "too many parameters");
    }
    for (int i = 0; i < tr->g->n_nodes; i++)
        if (is_lbn(&tr->g->nodes[i])) p->lbn[p->n_lbn++] = i;
    p->grad = mq_malloc(sizeof(float) * (p->n_grad ? p->n_grad : 1));
    p->sums = mq_malloc(sizeof(double) * (N_STEP_STATS + 3 * (size_t)p->n_lbn));
    if (!p->grad || !p->sums) return mq_fail(err, MQ_ERR_NOMEM, "out of memory for the gradients");
    return MQ_OK;
}

void mq_train_parallel_free(mq_trainer *tr)
{
    mq_parallel *p = tr->par;
    if (!p) return;
    mq_free(p->grad);
    mq_free(p->off);
    mq_free(p->of);
    mq_free(p->lbn);
    mq_free(p->sums);
    mq_free(p);
    tr->par = NULL;
}

int mq_train_global_batch(const mq_trainer *tr, int n) { return mq_dist_size() > 1 ? tr->o.batch : n; }

int mq_train_groups_per_batch(const mq_trainer *tr)
{
    return tr->o.lbn_group ? tr->o.batch / tr->o.lbn_group : mq_dist_size();
}

static size_t sample_floats(const mq_trainer *tr)
{
    const mq_tensor *in = &tr->g->tensors[tr->input];
    return in->rank >= 1 && in->dims[0] > 0 ? (size_t)(mq_numel(in) / in->dims[0]) : 0;
}

mq_status mq_train_forward_groups(mq_trainer *tr, const float *x, int n, int training, mq_err *err)
{
    int g = tr->o.lbn_group ? tr->o.lbn_group : n;
    size_t sf = sample_floats(tr);
    mq_status st = MQ_OK;
    for (int at = 0; st == MQ_OK && at < n; at += g) {
        st = mq_train_forward(tr, x + (size_t)at * sf, n - at < g ? n - at : g, training, err);
        mq_train_release(tr);
    }
    return st;
}

void mq_train_lbn_commit(mq_trainer *tr, int calib, double *extra, int n_extra)
{
    mq_parallel *p = tr->par;
    double *s = p->sums;
    if (n_extra) memcpy(s, extra, sizeof(double) * (size_t)n_extra);
    for (int j = 0; j < p->n_lbn; j++) memcpy(s + n_extra + 3 * j, tr->lbn_acc + 3 * (size_t)p->lbn[j], 3 * sizeof(double));
    mq_dist_allreduce_sum_d(s, (size_t)n_extra + 3 * (size_t)p->n_lbn);
    if (n_extra) memcpy(extra, s, sizeof(double) * (size_t)n_extra);
    for (int j = 0; j < p->n_lbn; j++) {
        const mq_node *n = &tr->g->nodes[p->lbn[j]];
        const double *a = s + n_extra + 3 * j;
        memset(tr->lbn_acc + 3 * (size_t)p->lbn[j], 0, 3 * sizeof(double));
        if (!(a[2] > 0)) continue;
        float *rm = tr->g->tensors[n->in[3]].data, *rv = tr->g->tensors[n->in[4]].data;
        double mu = a[0] / a[2], var = a[1] / a[2];
        if (calib) {
            rm[0] = (float)mu;
            rv[0] = (float)var;
        } else {
            double m = mq_attr_float(n, "momentum", 0.1f);
            rm[0] = (float)((1 - m) * rm[0] + m * mu);
            rv[0] = (float)((1 - m) * rv[0] + m * var);
        }
    }
}

mq_status mq_train_parallel_step(mq_trainer *tr, const float *x, const int32_t *labels, int n, float lr,
                                 double *loss, int *correct, mq_err *err)
{
    mq_parallel *p = tr->par;
    int g = tr->o.lbn_group ? tr->o.lbn_group : n, total = mq_train_global_batch(tr, n);
    size_t sf = sample_floats(tr);
    mq_status st = n >= 1 ? MQ_OK : mq_fail(err, MQ_ERR_INVALID, "a step needs samples");
    memset(p->grad, 0, sizeof(float) * p->n_grad);
    for (int i = 0; i < tr->n_params; i++) p->of[i] = NULL;
    double lsum = 0, csum = 0;
    for (int at = 0; st == MQ_OK && at < n; at += g) {
        int m = n - at < g ? n - at : g, c = 0;
        double l = 0;
        const float w = (float)m / (float)total; /* this group's share of the batch's mean loss */
        st = mq_train_grad(tr, x + (size_t)at * sf, labels ? labels + at : NULL, m, &l, &c, err);
        for (int i = 0; st == MQ_OK && i < tr->n_params; i++) {
            const float *gr = tr->grads[tr->params[i].t];
            if (!gr) continue;
            float *acc = p->grad + p->off[i];
            for (size_t k = 0; k < tr->params[i].n; k++) acc[k] += w * gr[k];
            p->of[i] = acc;
        }
        lsum += l * m;
        csum += c;
        mq_train_release(tr);
    }
    /* every rank takes part in both reductions, also after a failure, so that none waits forever */
    double stats[N_STEP_STATS] = {lsum, csum, st == MQ_OK ? n : 0, st != MQ_OK};
    mq_dist_allreduce_sum_f(p->grad, p->n_grad);
    mq_train_lbn_commit(tr, 0, stats, N_STEP_STATS);
    if (st != MQ_OK) return st;
    if (stats[3] > 0) return mq_fail(err, MQ_ERR_INVALID, "another rank failed in this step");
    if (stats[2] != total)
        return mq_fail(err, MQ_ERR_INVALID, "the ranks' batches hold %.0f samples, not the batch of %d: each rank "
                       "must read its slice of every batch (mq_data_opts.shard_per_batch)", stats[2], total);
    mq_train_apply(tr, lr, p->of);
    *loss = stats[0] / total;
    *correct = (int)stats[1];
    return MQ_OK;
}

void mq_train_sync_probes(mq_trainer *tr)
{
    if (!tr->probe || mq_dist_size() < 2) return;
    mq_parallel *p = tr->par;
    for (int j = 0; j < p->n_lbn; j++) {
        int i = p->lbn[j];
        if (!tr->psum[i]) continue;
        size_t C = (size_t)mq_numel(&tr->g->tensors[tr->g->nodes[i].in[1]]);
        mq_dist_allreduce_sum_d(tr->psum[i], C);
        mq_dist_allreduce_sum_d(tr->psq[i], C);
        double s[4] = {(double)tr->pcount[i], tr->pmu[i], tr->pvar[i], tr->pbatches[i]};
        mq_dist_allreduce_sum_d(s, 4);
        tr->pcount[i] = (size_t)s[0];
        tr->pmu[i] = s[1];
        tr->pvar[i] = s[2];
        tr->pbatches[i] = (int)s[3];
    }
}

mq_status mq_trainer_resume(mq_trainer *tr, const char *path, int *found, int *epochs_done, mq_err *err)
{
    double hdr[2] = {0, 0}; /* rank 0: 1 read, 0 no file, -1 unreadable; the length */
    void *buf = NULL;
    size_t len = 0;
    mq_status st = MQ_OK;
    struct stat sb;
    *found = 0;
    if (mq_dist_rank() == 0 && stat(path, &sb) == 0) {
        st = mq_read_file(path, (size_t)16 << 30, &buf, &len, err);
        hdr[0] = st == MQ_OK ? 1 : -1;
        hdr[1] = (double)len;
    }
    mq_dist_bcast(hdr, sizeof hdr, 0);
    if (hdr[0] < 0) return st != MQ_OK ? st : mq_fail(err, MQ_ERR_IO, "%s: rank 0 could not read the checkpoint", path);
    if (hdr[0] == 0) return MQ_OK;
    len = (size_t)hdr[1];
    if (!buf && !(buf = mq_malloc(len ? len : 1))) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory", path);
    mq_dist_bcast(buf, len, 0);
    *found = 1;
    st = mq_trainer_load_checkpoint_mem(tr, buf, len, path, epochs_done, err);
    mq_free(buf);
    return st;
}
