/* bench_mqd.c: benchmark harness for the bundled runtime: loads a .mqd with libmaqdrt.a and times
 * mqr_run in a loop (bench_common.h). Usage: bench_mqd MODEL.mqd IN.npy [-o OUT.npy] [--seconds S]... */
#include "bench/bench_common.h"
#include "runtime/maqdrt.h"

typedef struct run_ctx {
    const mqr_model *m;
    void *arena;
    const void *const *ins;
    void *const *outs;
} run_ctx;

static int run_once(void *p)
{
    run_ctx *c = p;
    mqr_status s = mqr_run(c->m, c->arena, c->ins, c->outs);
    if (s != MQR_OK) {
        fprintf(stderr, "bench_mqd: mqr_run: %s\n", mqr_status_str(s));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    if (argc < 3 || bench_parse(argc, argv, 2, &o)) {
        fprintf(stderr, "usage: bench_mqd MODEL.mqd IN.npy [-o OUT.npy] [--seconds S] [--warmup N] [--min-runs N] "
                        "[--max-runs N]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "bench_mqd: %s: cannot open\n", argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    void *buf = len > 0 ? aligned_alloc(16, ((size_t)len + 15) / 16 * 16) : NULL;
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "bench_mqd: %s: cannot read\n", argv[1]);
        fclose(f);
        return 1;
    }
    fclose(f);
    mqr_model m;
    double t_load = bench_now_ms();
    mqr_status s = mqr_load(&m, buf, (size_t)len); /* validates everything, CRC-32 of the whole file included */
    t_load = bench_now_ms() - t_load;
    if (s != MQR_OK) {
        fprintf(stderr, "bench_mqd: %s: %s\n", argv[1], mqr_status_str(s));
        return 1;
    }
    if (mqr_input_count(&m) != 1 || mqr_output_count(&m) < 1) {
        fprintf(stderr, "bench_mqd: %s: this harness takes models with one input\n", argv[1]);
        return 1;
    }
    mqr_io_info ii, oi;
    mqr_input_info(&m, 0, &ii);
    if (ii.dtype != 1 && ii.dtype != 2) {
        fprintf(stderr, "bench_mqd: %s: input 0 is not float32 (or uint8: maqdc --int)\n", argv[1]);
        return 1;
    }
    size_t n_in = ii.dtype == 1 ? ii.bytes / 4 : ii.bytes;
    float *in = malloc(n_in ? n_in * 4 : 4);
    if (!in || bench_npy_read_f32(o.in_path, in, n_in)) return 1;
    if (ii.dtype == 2) /* an integer program: the float32 .npy holds pixel values 0..255 */
        for (size_t i = 0; i < n_in; i++) ((uint8_t *)in)[i] = (uint8_t)in[i]; /* in place, front to back */
    uint32_t n_out = mqr_output_count(&m);
    void **outs = calloc(n_out, sizeof *outs);
    if (!outs) return 1;
    for (uint32_t k = 0; k < n_out; k++) {
        mqr_output_info(&m, k, &oi);
        if (!(outs[k] = malloc(oi.bytes ? oi.bytes : 4))) return 1;
    }
    size_t an = mqr_arena_size(&m);
    void *arena = aligned_alloc(16, (an + 15) / 16 * 16 + 16);
    if (!arena) return 1;
    const void *ins[1] = {in};
    run_ctx c = {&m, arena, ins, outs};
    char extra[128];
    snprintf(extra, sizeof extra, "arena_bytes=%zu file_bytes=%ld load_ms=%.1f", an, len, t_load);
    if (bench_loop(&o, run_once, &c, extra)) return 1;
    mqr_output_info(&m, 0, &oi);
    if (o.out_path && oi.dtype == 1) {
        long dims[MQR_MAX_RANK];
        for (int d = 0; d < oi.rank; d++) dims[d] = oi.dims[d];
        if (bench_npy_write_f32(o.out_path, outs[0], oi.rank, dims, oi.bytes / 4)) return 1;
    }
    return 0;
}
