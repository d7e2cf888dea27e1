/* int_bits.c: the popcount kernel qint_layer_b1 against the general qint_layer on the quantized layers of
 * the example CNN (conv 2 and conv 3) for input codes of 1..4 bits and weight codes of 1..4 bits (the
 * (2,2), (3,2), (3,4), (16,16) models and the combinations between), same inputs, same run; prints a
 * markdown table (bench/int_bits.sh builds and runs it). Usage: int_bits [SECONDS] */
#include "bench/bench_common.h"
#include "runtime/kernels/qint_bits.h"

typedef struct layer {
    const char *name;
    int32_t C, O, H, bits, wmul, woff, xbits;
} layer;

static double time_call(const mqr_call *c, void (*fn)(const mqr_call *), double seconds)
{
    static double cpu[BENCH_MAX_RUNS];
    int n = 0, k;
    double start;
    for (k = 0; k < 20; k++) fn(c);
    start = bench_now_ms();
    while (n < BENCH_MAX_RUNS && (n < 20 || bench_now_ms() - start < seconds * 1e3)) {
        double a = bench_clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        for (k = 0; k < 10; k++) fn(c);
        cpu[n++] = (bench_clock_ms(CLOCK_PROCESS_CPUTIME_ID) - a) / 10;
    }
    return bench_median(cpu, n);
}

int main(int argc, char **argv)
{
    static const layer L[] = {
        {"(2,2) conv 2: 1-bit x, 1-bit w", 32, 64, 14, 1, 2, 1, 1},
        {"(2,2) conv 3: 1-bit x, 1-bit w", 64, 128, 7, 1, 2, 1, 1},
        {"(3,2) conv 2: 1-bit x, 2-bit w (ternary)", 32, 64, 14, 2, 1, 1, 1},
        {"(3,2) conv 3: 1-bit x, 2-bit w (ternary)", 64, 128, 7, 2, 1, 1, 1},
        {"(2,4) conv 2: 2-bit x, 1-bit w", 32, 64, 14, 1, 2, 1, 2},
        {"(2,4) conv 3: 2-bit x, 1-bit w", 64, 128, 7, 1, 2, 1, 2},
        {"(3,4) conv 2: 2-bit x, 2-bit w (ternary)", 32, 64, 14, 2, 1, 1, 2},
        {"(3,4) conv 3: 2-bit x, 2-bit w (ternary)", 64, 128, 7, 2, 1, 1, 2},
        {"(3,8) conv 2: 3-bit x, 2-bit w (ternary)", 32, 64, 14, 2, 1, 1, 3},
        {"(3,8) conv 3: 3-bit x, 2-bit w (ternary)", 64, 128, 7, 2, 1, 1, 3},
        {"(8,4) conv 2: 2-bit x, 3-bit w", 32, 64, 14, 3, 2, 7, 2},
        {"(8,4) conv 3: 2-bit x, 3-bit w", 64, 128, 7, 3, 2, 7, 2},
        {"(8,2) conv 3: 1-bit x, 3-bit w", 64, 128, 7, 3, 2, 7, 1},
        {"(16,2) conv 3: 1-bit x, 4-bit w", 64, 128, 7, 4, 2, 15, 1},
        {"(16,16) conv 2: 4-bit x, 4-bit w", 32, 64, 14, 4, 2, 15, 4},
        {"(16,16) conv 3: 4-bit x, 4-bit w", 64, 128, 7, 4, 2, 15, 4},
    };
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    uint32_t rng = 1;
    size_t i, j;
    printf("| layer (3x3, pad 1, batch 1; conv 2: 32 -> 64, 14x14; conv 3: 64 -> 128, 7x7) | xbits x bits | qint_layer (ms) | "
           "qint_layer_b1 (ms) | speed-up |\n|---|---:|---:|---:|---:|\n");
    for (i = 0; i < sizeof L / sizeof L[0]; i++) {
        const layer *l = &L[i];
        int32_t p[MQK_QB_NP] = {2, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 3, 3, 1, l->bits, l->wmul, l->woff, 0, l->xbits};
        int32_t xd[4] = {1, l->C, l->H, l->H}, yd[4] = {1, l->O, l->H, l->H}, wd[2], td[2] = {l->O, 1};
        size_t fan = (size_t)l->C * 9, rowb = mqk_qint_row_bytes(fan, l->bits), nx = (size_t)l->C * l->H * l->H;
        uint8_t *x = malloc(nx), *w = malloc((size_t)l->O * rowb), *y = malloc((size_t)l->O * l->H * l->H);
        int32_t *thr = calloc((size_t)l->O, 4);
        int64_t sg = mqk_qint_layer_scratch((int64_t)fan, l->H * l->H, 0, l->bits);
        int64_t sb = mqk_qint_b1_scratch(l->C, l->H, l->H + 2, (int64_t)fan, l->H * l->H, l->bits, l->xbits, 0);
        void *scratch = malloc((size_t)(sg > sb ? sg : sb));
        mqr_tensor in[3], out;
        double tg, tb;
        wd[0] = l->O, wd[1] = (int32_t)rowb;
        for (j = 0; j < nx; j++) rng = rng * 1103515245u + 12345u, x[j] = (uint8_t)((rng >> 16) & ((1u << l->xbits) - 1));
        for (j = 0; j < (size_t)l->O * rowb; j++) {
            rng = rng * 1103515245u + 12345u;
            w[j] = (uint8_t)(rng >> 16);
            if (l->bits == 2) /* ternary codes 0..2 only */
                w[j] = (uint8_t)(((w[j] & 3) % 3) | (((w[j] >> 2) & 3) % 3) << 2 | (((w[j] >> 4) & 3) % 3) << 4 | (((w[j] >> 6) & 3) % 3) << 6);
        }
        memset(in, 0, sizeof in);
        memset(&out, 0, sizeof out);
        in[0].dtype = MQR_U8, in[0].rank = 4, memcpy(in[0].dims, xd, sizeof xd), in[0].data = x;
        in[1].dtype = MQR_U8, in[1].rank = 2, memcpy(in[1].dims, wd, sizeof wd), in[1].data = w;
        in[2].dtype = MQR_I32, in[2].rank = 2, memcpy(in[2].dims, td, sizeof td), in[2].data = thr;
        out.dtype = MQR_U8, out.rank = 4, memcpy(out.dims, yd, sizeof yd), out.data = y;
        {
            mqr_call c = {p, MQK_QB_NP, in, 3, &out, 1, scratch}, cg = c;
            cg.n_p = MQK_QL_NP; /* qint_layer: the first MQK_QL_NP parameters */
            if (mqk_c_qint_layer(&cg, (uint32_t)sg) != MQR_CHECK_OK || mqk_c_qint_layer_b1(&c, (uint32_t)sb) != MQR_CHECK_OK) {
                fprintf(stderr, "int_bits: a check refused layer %s\n", l->name);
                return 1;
            }
            tg = time_call(&cg, mqk_k_qint_layer, seconds);
            tb = time_call(&c, mqk_k_qint_layer_b1, seconds);
        }
        printf("| %s | %d | %.4f | %.4f | %.2fx |\n", l->name, (int)(l->xbits * l->bits), tg, tb, tg / tb);
        free(x), free(w), free(y), free(thr), free(scratch);
    }
    return 0;
}
