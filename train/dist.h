/* dist.h: the few collective operations data-parallel fine-tuning needs, over all processes of the job
 * (train/parallel.c, tools/cmd_finetune.c): train/dist_mpi.c with MPI (CMake MAQD_MPI), dist_serial.c without. */
#ifndef MQ_DIST_H
#define MQ_DIST_H

#include <stddef.h>

/* Joins the job when the process was started by an MPI launcher (mpirun/mpiexec set OMPI_COMM_WORLD_SIZE,
 * PMIX_RANK or PMI_SIZE): MPI_Init. Otherwise, and in a build without MPI, the process is a job of one.
 * Returns 0, or -1 if MPI could not start. Call once, from the program (not the library). */
int mq_dist_init(void);
void mq_dist_finalize(void);          /* after the last collective; no-op for a job of one */
void mq_dist_abort(int code);         /* ends every process of the job (a failed rank must not leave the
                                       * others waiting in a collective); returns only in a job of one */
int mq_dist_rank(void);               /* 0 .. size-1 */
int mq_dist_size(void);

/* Collectives: every rank calls them in the same order with the same counts. Communication errors end
 * the job (MPI's default error handler). The sums' order of addition is MPI's. */
void mq_dist_allreduce_sum_f(float *buf, size_t n);   /* in place */
void mq_dist_allreduce_sum_d(double *buf, size_t n);
void mq_dist_allreduce_max_d(double *buf, size_t n);
void mq_dist_bcast(void *buf, size_t bytes, int root);
void mq_dist_barrier(void);

/* The float allreduces (the gradients) so far: calls, bytes of the last one, seconds spent in them. With
 * the environment variable MAQD_DIST_TIMING set, a barrier precedes each: wait_seconds is the time spent
 * waiting for the slowest rank and seconds the communication alone. */
typedef struct mq_dist_stats {
    size_t calls, bytes;
    double seconds, wait_seconds;
} mq_dist_stats;
void mq_dist_get_stats(mq_dist_stats *s);

#endif
