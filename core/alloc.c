/* alloc.c: the allocator with failure injection, checked size arithmetic, and the graph arena. */
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static long g_fail_after = 0; /* 0: never fail */
static long g_count = 0;

void mq_alloc_fail_after(long n)
{
    g_fail_after = n;
    g_count = 0;
}

long mq_alloc_count(void) { return g_count; }

static int should_fail(void)
{
    g_count++;
    return g_fail_after > 0 && g_count >= g_fail_after;
}

void *mq_malloc(size_t n)
{
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *mq_calloc(size_t count, size_t size)
{
    size_t n;
    if (mq_mul_size(count, size, &n)) return NULL;
    if (should_fail()) return NULL;
    return calloc(n ? n : 1, 1);
}

void *mq_realloc(void *p, size_t n)
{
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void mq_free(void *p) { free(p); }

int mq_mul_size(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int mq_add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

int mq_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0) return -1;
    if (a && b > INT64_MAX / a) return -1;
    *out = a * b;
    return 0;
}

/* Arena: a list of chunks; big requests get a chunk of their own. */
typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} chunk;

struct mq_arena {
    chunk *head;
    size_t total;
};

#define ARENA_CHUNK (64u * 1024u)

mq_arena *mq_arena_new(void)
{
    mq_arena *a = mq_malloc(sizeof *a);
    if (!a) return NULL;
    a->head = NULL;
    a->total = 0;
    return a;
}

void mq_arena_free(mq_arena *a)
{
    if (!a) return;
    chunk *c = a->head;
    while (c) {
        chunk *n = c->next;
        mq_free(c);
        c = n;
    }
    mq_free(a);
}

void *mq_arena_alloc(mq_arena *a, size_t n)
{
    size_t need;
    if (mq_add_size(n, 15, &need)) return NULL;
    need &= ~(size_t)15;
    if (!need) need = 16;
    chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t sz = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        size_t bytes;
        if (mq_add_size(sizeof(chunk), sz, &bytes)) return NULL;
        chunk *nc = mq_malloc(bytes);
        if (!nc) return NULL;
        nc->size = sz;
        nc->used = 0;
        if (need > ARENA_CHUNK && c) { /* keep filling the current small chunk */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        a->total += sz;
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, need);
    return p;
}

void *mq_arena_array(mq_arena *a, size_t count, size_t size)
{
    size_t n;
    if (mq_mul_size(count, size, &n)) return NULL;
    return mq_arena_alloc(a, n);
}

char *mq_arena_strndup(mq_arena *a, const char *s, size_t n)
{
    char *d = mq_arena_alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *mq_arena_strdup(mq_arena *a, const char *s) { return mq_arena_strndup(a, s, strlen(s)); }

size_t mq_arena_bytes(const mq_arena *a) { return a->total; }
