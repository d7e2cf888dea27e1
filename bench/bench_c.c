/* bench_c.c: benchmark harness for the emitted C: built together with a model emitted by
 * `maqdc MODEL -o bm.c --prefix bm`, times bm_run in a loop (bench_common.h). Usage as bench_mqd. */
#include "bench/bench_common.h"
#include "bm.h"

#if BM_N_INPUTS != 1 || (BM_IN0_DTYPE != 1 && BM_IN0_DTYPE != 2) || BM_OUT0_DTYPE != 1
#error "bench_c.c takes models with one float32 (or uint8: maqdc --int) input and float32 outputs"
#endif

#if BM_IN0_DTYPE == 2 /* an integer program: the float32 .npy holds pixel values 0..255 */
static float bm_in_f[BM_IN0_SIZE > 0 ? BM_IN0_SIZE : 1];
static uint8_t bm_in[BM_IN0_SIZE > 0 ? BM_IN0_SIZE : 1];
#else
static float bm_in[BM_IN0_SIZE > 0 ? BM_IN0_SIZE : 1];
#endif
static float bm_out0[BM_OUT0_SIZE > 0 ? BM_OUT0_SIZE : 1];
#if BM_N_OUTPUTS > 1
static float bm_out1[BM_OUT1_SIZE > 0 ? BM_OUT1_SIZE : 1];
#endif
#if BM_N_OUTPUTS > 2
#error "bench_c.c takes models with at most two outputs"
#endif

static int run_once(void *p)
{
    (void)p;
#if BM_N_OUTPUTS > 1
    return bm_run(bm_in, bm_out0, bm_out1) ? 1 : 0;
#else
    return bm_run(bm_in, bm_out0) ? 1 : 0;
#endif
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (bench_parse(argc, argv, 1, &o)) {
        fprintf(stderr, "usage: %s IN.npy [-o OUT.npy] [--seconds S] [--warmup N] [--min-runs N] [--max-runs N]\n",
                argv[0]);
        return 2;
    }
#if BM_IN0_DTYPE == 2
    if (bench_npy_read_f32(o.in_path, bm_in_f, BM_IN0_SIZE)) return 1;
    for (long i = 0; i < (long)BM_IN0_SIZE; i++) bm_in[i] = (uint8_t)bm_in_f[i];
#else
    if (bench_npy_read_f32(o.in_path, bm_in, BM_IN0_SIZE)) return 1;
#endif
    char extra[64];
    snprintf(extra, sizeof extra, "arena_bytes=%lu", (unsigned long)BM_ARENA_BYTES);
    if (bench_loop(&o, run_once, NULL, extra)) return 1;
    if (o.out_path) {
        const long dims[] = BM_OUT0_DIMS;
        if (bench_npy_write_f32(o.out_path, bm_out0, BM_OUT0_RANK, dims, BM_OUT0_SIZE)) return 1;
    }
    return 0;
}
