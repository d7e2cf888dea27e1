/* alloc.h: every heap allocation of the compiler goes through mq_malloc (so tests can make the Nth
 * fail), and the graph lives in one mq_arena freed at once. */
#ifndef MQ_ALLOC_H
#define MQ_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *mq_malloc(size_t n);            /* NULL on failure (or injected failure); n == 0 gives 1 byte */
void *mq_calloc(size_t count, size_t size); /* overflow-checked */
void *mq_realloc(void *p, size_t n);
void mq_free(void *p);

/* Failure injection for tests: the Nth allocation from now (1-based) and all after it fail; 0 turns
 * it off. mq_alloc_count() is the number of allocations attempted since the last reset. */
void mq_alloc_fail_after(long n);
long mq_alloc_count(void);

/* Overflow-checked size arithmetic: return 0 on success, -1 on overflow. */
int mq_mul_size(size_t a, size_t b, size_t *out);
int mq_add_size(size_t a, size_t b, size_t *out);
int mq_mul_i64(int64_t a, int64_t b, int64_t *out); /* a, b >= 0 */

typedef struct mq_arena mq_arena;
mq_arena *mq_arena_new(void);
void mq_arena_free(mq_arena *a);
void *mq_arena_alloc(mq_arena *a, size_t n);   /* zeroed, 16-byte aligned; NULL on failure */
void *mq_arena_array(mq_arena *a, size_t count, size_t size); /* overflow-checked */
char *mq_arena_strdup(mq_arena *a, const char *s);
char *mq_arena_strndup(mq_arena *a, const char *s, size_t n);
size_t mq_arena_bytes(const mq_arena *a);

#endif
