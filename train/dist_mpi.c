/* dist_mpi.c: train/dist.h over MPI_COMM_WORLD (Open MPI from Debian), built with CMake MAQD_MPI. Not
 * started by a launcher, the process stays a job of one and never calls MPI. */
#include "train/dist.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

static int active, rank, size = 1, timing;
static mq_dist_stats stats;

int mq_dist_init(void)
{
    if (active) return 0;
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_SIZE")) return 0;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    timing = getenv("MAQD_DIST_TIMING") != NULL;
    active = 1;
    return 0;
}

void mq_dist_finalize(void)
{
    if (!active) return;
    MPI_Finalize();
    active = 0;
    rank = 0;
    size = 1;
}

void mq_dist_abort(int code)
{
    if (active && size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

int mq_dist_rank(void) { return rank; }
int mq_dist_size(void) { return size; }

/* MPI counts are ints: large buffers go in pieces. */
#define PIECE ((size_t)1 << 30)

static void allreduce(void *buf, size_t n, size_t esize, MPI_Datatype type, MPI_Op op)
{
    for (size_t at = 0; at < n; at += PIECE) {
        size_t k = n - at < PIECE ? n - at : PIECE;
        MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * esize, (int)k, type, op, MPI_COMM_WORLD);
    }
}

void mq_dist_allreduce_sum_f(float *buf, size_t n)
{
    if (size < 2) return;
    double t0 = MPI_Wtime();
    if (timing) { /* the wait for the slowest rank apart, so that seconds is the communication alone */
        MPI_Barrier(MPI_COMM_WORLD);
        double t1 = MPI_Wtime();
        stats.wait_seconds += t1 - t0;
        t0 = t1;
    }
    allreduce(buf, n, sizeof(float), MPI_FLOAT, MPI_SUM);
    stats.seconds += MPI_Wtime() - t0;
    stats.calls++;
    stats.bytes = n * sizeof(float);
}

void mq_dist_allreduce_sum_d(double *buf, size_t n)
{
    if (size > 1) allreduce(buf, n, sizeof(double), MPI_DOUBLE, MPI_SUM);
}

void mq_dist_allreduce_max_d(double *buf, size_t n)
{
    if (size > 1) allreduce(buf, n, sizeof(double), MPI_DOUBLE, MPI_MAX);
}

void mq_dist_bcast(void *buf, size_t bytes, int root)
{
    if (size < 2) return;
    for (size_t at = 0; at < bytes; at += PIECE) {
        size_t k = bytes - at < PIECE ? bytes - at : PIECE;
        MPI_Bcast((char *)buf + at, (int)k, MPI_BYTE, root, MPI_COMM_WORLD);
    }
}

void mq_dist_barrier(void)
{
    if (size > 1) MPI_Barrier(MPI_COMM_WORLD);
}

void mq_dist_get_stats(mq_dist_stats *s) { *s = stats; }
