/* dist_serial.c: train/dist.h for a build without MPI: a job of one process, every collective is the
 * identity. */
#include "train/dist.h"

#include <string.h>

int mq_dist_init(void) { return 0; }

void mq_dist_finalize(void) {}
void mq_dist_abort(int code) { (void)code; }
int mq_dist_rank(void) { return 0; }
int mq_dist_size(void) { return 1; }

void mq_dist_allreduce_sum_f(float *buf, size_t n)
{
    (void)buf;
    (void)n;
}

void mq_dist_allreduce_sum_d(double *buf, size_t n)
{
    (void)buf;
    (void)n;
}

void mq_dist_allreduce_max_d(double *buf, size_t n)
{
    (void)buf;
    (void)n;
}

void mq_dist_bcast(void *buf, size_t bytes, int root)
{
    (void)buf;
    (void)bytes;
    (void)root;
}

void mq_dist_barrier(void) {}

void mq_dist_get_stats(mq_dist_stats *s) { memset(s, 0, sizeof *s); }
