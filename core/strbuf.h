/* strbuf.h: growable text built with printf-style appends (import notes, reports, Graphviz dot), every
 * byte through mq_malloc; a failed append leaves the text as it was and returns -1. */
#ifndef MQ_STRBUF_H
#define MQ_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct mq_strbuf {
    char *p; /* NUL-terminated once anything was appended; NULL before */
    size_t len, cap;
} mq_strbuf;

int mq_sb_vprintf(mq_strbuf *b, const char *fmt, va_list ap);
int mq_sb_printf(mq_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mq_sb_append(mq_strbuf *b, const char *s, size_t n);
void mq_sb_free(mq_strbuf *b);

#endif
