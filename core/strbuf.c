/* strbuf.c: growable text (strbuf.h). */
#include "core/strbuf.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

static int reserve(mq_strbuf *b, size_t n)
{
    size_t need;
    if (mq_add_size(b->len, n, &need) || mq_add_size(need, 1, &need)) return -1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        if (mq_mul_size(cap, 2, &cap)) return -1;
    char *p = mq_realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int mq_sb_vprintf(mq_strbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || reserve(b, (size_t)n)) return -1;
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int mq_sb_printf(mq_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = mq_sb_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

int mq_sb_append(mq_strbuf *b, const char *s, size_t n)
{
    if (reserve(b, n)) return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

void mq_sb_free(mq_strbuf *b)
{
    mq_free(b->p);
    memset(b, 0, sizeof *b);
}
