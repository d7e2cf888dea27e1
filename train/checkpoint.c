/* checkpoint.c: the trainer's checkpoint file (parameters, optimizer state, running statistics,
 * ActQuant steps, progress), written atomically and validated field by field when read back. */
#include "train/train_internal.h"

#include "frontend/tensor_io.h"
#include "ops/maqd.h"

#include <math.h>
#include <string.h>

/* Layout (host byte order; a checkpoint resumes on the machine that wrote it):
 *   "MQCKPT01", u32 n_params, u32 n_buffers, u32 n_actquant, i32 epochs_done, u64 step, u64 seed,
 *   u32 batch, u32 optimizer; then per parameter: u32 name length, name, u64 count, count floats each
 *   of value, first moment, second moment; per running statistic: name, its values (one float for LBN,
 *   one per channel for BatchNormalization); per ActQuant: the name of its output, its delta (float). */
static const char magic[8] = {'M', 'Q', 'C', 'K', 'P', 'T', '0', '1'};

typedef struct wbuf {
    unsigned char *p;
    size_t len, cap;
    int oom;
} wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *q = mq_realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(wbuf *b, const char *s)
{
    put_u32(b, (uint32_t)strlen(s));
    put(b, s, strlen(s));
}

static int is_aq(const mq_node *n) { return strcmp(n->op_type, "ActQuant") == 0 && strcmp(n->domain, MQ_MAQD_DOMAIN) == 0; }

mq_status mq_trainer_save_checkpoint(const mq_trainer *tr, const char *path, int epochs_done, mq_err *err)
{
    const mq_graph *g = tr->g;
    uint32_t n_aq = 0;
    for (int i = 0; i < g->n_nodes; i++) n_aq += is_aq(&g->nodes[i]);
    /* a diverged state is never saved over the last good checkpoint */
    for (int i = 0; i < tr->n_params; i++)
        for (size_t k = 0; k < tr->params[i].n; k++)
            if (!isfinite(tr->params[i].w[k]) || !isfinite(tr->params[i].m[k]) || !isfinite(tr->params[i].v[k]))
                return mq_fail(err, MQ_ERR_INVALID, "%s: not saved: parameter '%s' is not finite after step %llu (the "
                               "training diverged: lower the learning rate)", path, tr->params[i].name,
                               (unsigned long long)tr->step);
    wbuf b = {0};
    put(&b, magic, 8);
    put_u32(&b, (uint32_t)tr->n_params);
    put_u32(&b, (uint32_t)tr->n_buffers);
    put_u32(&b, n_aq);
    int32_t ed = epochs_done;
    put(&b, &ed, 4);
    put_u64(&b, tr->step);
    put_u64(&b, tr->o.seed);
    put_u32(&b, (uint32_t)tr->o.batch);
    put_u32(&b, (uint32_t)tr->o.optimizer);
    for (int i = 0; i < tr->n_params; i++) {
        const mq_param *p = &tr->params[i];
        put_str(&b, p->name);
        put_u64(&b, p->n);
        put(&b, p->w, sizeof(float) * p->n);
        put(&b, p->m, sizeof(float) * p->n);
        put(&b, p->v, sizeof(float) * p->n);
    }
    for (int i = 0; i < tr->n_buffers; i++) {
        put_str(&b, g->tensors[tr->buffers[i]].name);
        put(&b, g->tensors[tr->buffers[i]].data, mq_nbytes(&g->tensors[tr->buffers[i]]));
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (is_aq(&g->nodes[i])) {
            float d = mq_attr_float(&g->nodes[i], "delta", 1.0f);
            put_str(&b, g->tensors[g->nodes[i].out[0]].name);
            put(&b, &d, sizeof d);
        }
    if (b.oom) {
        mq_free(b.p);
        return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory writing the checkpoint", path);
    }
    mq_status st = mq_write_file_atomic(path, b.p, b.len, err);
    mq_free(b.p);
    return st;
}

typedef struct rbuf {
    const unsigned char *p;
    size_t len, pos;
} rbuf;

static int get(rbuf *r, void *dst, size_t n)
{
    if (n > r->len - r->pos) return -1;
    memcpy(dst, r->p + r->pos, n);
    r->pos += n;
    return 0;
}

/* The next string must equal want. */
static int get_name(rbuf *r, const char *want)
{
    uint32_t len;
    if (get(r, &len, 4) || len != strlen(want) || len > r->len - r->pos) return -1;
    if (memcmp(r->p + r->pos, want, len)) return -1;
    r->pos += len;
    return 0;
}

mq_status mq_trainer_load_checkpoint(mq_trainer *tr, const char *path, int *epochs_done, mq_err *err)
{
    void *buf = NULL;
    size_t len = 0;
    MQ_TRY(mq_read_file(path, (size_t)16 << 30, &buf, &len, err));
    mq_status st = mq_trainer_load_checkpoint_mem(tr, buf, len, path, epochs_done, err);
    mq_free(buf);
    return st;
}

mq_status mq_trainer_load_checkpoint_mem(mq_trainer *tr, const void *buf, size_t len, const char *path,
                                         int *epochs_done, mq_err *err)
{
    rbuf r = {buf, len, 0};
    mq_graph *g = tr->g;
    char m[8];
    uint32_t np = 0, nb = 0, naq = 0, batch = 0, optim = 0;
    int32_t ed = 0;
    uint64_t step = 0, seed = 0;
    uint32_t n_aq = 0;
    for (int i = 0; i < g->n_nodes; i++) n_aq += is_aq(&g->nodes[i]);
    mq_status st = MQ_OK;
    if (get(&r, m, 8) || memcmp(m, magic, 8) || get(&r, &np, 4) || get(&r, &nb, 4) || get(&r, &naq, 4) ||
        get(&r, &ed, 4) || get(&r, &step, 8) || get(&r, &seed, 8) || get(&r, &batch, 4) || get(&r, &optim, 4))
        st = mq_fail(err, MQ_ERR_PARSE, "%s: not a maqd checkpoint", path);
    else if (np != (uint32_t)tr->n_params || nb != (uint32_t)tr->n_buffers || naq != n_aq || ed < 0)
        st = mq_fail(err, MQ_ERR_INVALID, "%s: the checkpoint is for another model or quantization (%u parameters, "
                     "%u statistics, %u quantizers; this run has %d, %d, %u)", path, np, nb, naq, tr->n_params,
                     tr->n_buffers, n_aq);
    else if (seed != tr->o.seed || batch != (uint32_t)tr->o.batch || optim != (uint32_t)tr->o.optimizer)
        st = mq_fail(err, MQ_ERR_INVALID, "%s: the checkpoint was written with another seed, batch size or optimizer "
                     "(seed %llu, batch %u)", path, (unsigned long long)seed, batch);
    /* Read everything into scratch first: a bad file leaves the trainer unchanged. */
    size_t total = 0;
    for (int i = 0; i < tr->n_params; i++) total += 3 * tr->params[i].n;
    for (int i = 0; i < tr->n_buffers; i++) total += (size_t)mq_numel(&g->tensors[tr->buffers[i]]);
    float *tmp = st == MQ_OK ? mq_malloc(sizeof(float) * (total + n_aq + 1)) : NULL;
    if (st == MQ_OK && !tmp) st = mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory", path);
    size_t at = 0;
    for (int i = 0; st == MQ_OK && i < tr->n_params; i++) {
        const mq_param *p = &tr->params[i];
        uint64_t cnt;
        if (get_name(&r, p->name) || get(&r, &cnt, 8) || cnt != p->n || get(&r, tmp + at, sizeof(float) * 3 * p->n))
            st = mq_fail(err, MQ_ERR_PARSE, "%s: parameter '%s' is missing or has another size", path, p->name);
        at += 3 * p->n;
    }
    for (int i = 0; st == MQ_OK && i < tr->n_buffers; i++) {
        const mq_tensor *t = &g->tensors[tr->buffers[i]];
        if (get_name(&r, t->name) || get(&r, tmp + at, mq_nbytes(t)))
            st = mq_fail(err, MQ_ERR_PARSE, "%s: statistic '%s' is missing", path, t->name);
        at += (size_t)mq_numel(t);
    }
    for (int i = 0; st == MQ_OK && i < g->n_nodes; i++)
        if (is_aq(&g->nodes[i])) {
            const char *nm = g->tensors[g->nodes[i].out[0]].name;
            if (get_name(&r, nm) || get(&r, tmp + at, sizeof(float)) || !(tmp[at] > 0))
                st = mq_fail(err, MQ_ERR_PARSE, "%s: quantizer '%s' is missing or invalid", path, nm);
            at++;
        }
    if (st == MQ_OK && r.pos != r.len) st = mq_fail(err, MQ_ERR_PARSE, "%s: trailing bytes", path);
    if (st == MQ_OK) {
        at = 0;
        for (int i = 0; i < tr->n_params; i++) {
            mq_param *p = &tr->params[i];
            memcpy(p->w, tmp + at, sizeof(float) * p->n);
            memcpy(p->m, tmp + at + p->n, sizeof(float) * p->n);
            memcpy(p->v, tmp + at + 2 * p->n, sizeof(float) * p->n);
            at += 3 * p->n;
        }
        for (int i = 0; i < tr->n_buffers; i++) {
            mq_tensor *t = &g->tensors[tr->buffers[i]];
            memcpy(t->data, tmp + at, mq_nbytes(t));
            at += (size_t)mq_numel(t);
        }
        for (int i = 0; st == MQ_OK && i < g->n_nodes; i++)
            if (is_aq(&g->nodes[i])) {
                mq_attr *a = NULL;
                for (int k = 0; k < g->nodes[i].n_attr; k++)
                    if (!strcmp(g->nodes[i].attrs[k].name, "delta")) a = &g->nodes[i].attrs[k];
                if (!a) st = mq_fail(err, MQ_ERR_INVALID, "quantizer without a delta");
                else {
                    a->type = MQ_ATTR_FLOAT;
                    a->f = tmp[at];
                }
                at++;
            }
        tr->step = step;
        *epochs_done = ed;
    }
    mq_free(tmp);
    return st;
}
