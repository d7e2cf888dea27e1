/* bufpool.c: the trainer's reusable buffers (train_internal.h): a step's values and gradients go back to
 * the pool and the next step takes them again, so training in steady state allocates nothing. */
#include "train/train_internal.h"

#include "core/op.h"

#include <string.h>

/* Each buffer starts with a header holding its capacity; the caller sees the bytes after it. */
#define HDR 16
#define POOL_MAX 512 /* free buffers kept at most (more are freed) */

static size_t cap_of(const void *p) { return *(const size_t *)((const unsigned char *)p - HDR); }

void *mq_pool_get(mq_bufpool *pl, size_t nbytes, int zero)
{
    if (nbytes == 0) nbytes = 1;
    size_t best = pl->n;
    for (size_t i = 0; i < pl->n; i++) /* the smallest free buffer that fits */
        if (cap_of(pl->free[i]) >= nbytes && (best == pl->n || cap_of(pl->free[i]) < cap_of(pl->free[best]))) best = i;
    void *p;
    if (best < pl->n) {
        p = pl->free[best];
        pl->free[best] = pl->free[--pl->n];
    } else {
        size_t total;
        if (mq_add_size(nbytes, HDR, &total)) return NULL;
        unsigned char *b = mq_malloc(total);
        if (!b) return NULL;
        *(size_t *)b = nbytes;
        p = b + HDR;
    }
    if (zero) memset(p, 0, nbytes);
    return p;
}

void mq_pool_put(mq_bufpool *pl, void *p)
{
    if (!p) return;
    if (pl->n == pl->cap && pl->cap < POOL_MAX) {
        size_t cap = pl->cap ? 2 * pl->cap : 64;
        void **f = mq_realloc(pl->free, sizeof(void *) * cap);
        if (f) {
            pl->free = f;
            pl->cap = cap;
        }
    }
    if (pl->n < pl->cap) pl->free[pl->n++] = p;
    else mq_free((unsigned char *)p - HDR);
}

void mq_pool_clear(mq_bufpool *pl)
{
    for (size_t i = 0; i < pl->n; i++) mq_free((unsigned char *)pl->free[i] - HDR);
    mq_free(pl->free);
    memset(pl, 0, sizeof *pl);
}

static void *exec_alloc_zero(void *ctx, size_t nbytes) { return mq_pool_get(ctx, nbytes, 1); }
static void *exec_alloc(void *ctx, size_t nbytes) { return mq_pool_get(ctx, nbytes, 0); }
static void exec_release(void *ctx, void *p) { mq_pool_put(ctx, p); }

mq_exec_alloc mq_pool_exec_alloc(mq_bufpool *pl, const mq_node *n)
{
    /* An op with a runtime kernel writes every output element (the runtime never clears its arena, and
     * the host forwards are checked against the kernels), so its outputs need not be zeroed first; other
     * ops get zeroed buffers, as from mq_exec_node. */
    mq_exec_alloc a = {n->def && n->def->lower ? exec_alloc : exec_alloc_zero, exec_release, pl};
    return a;
}
