/* bench_common.h: shared pieces of the benchmark harnesses (bench_mqd.c, bench_c.c): float32 .npy
 * input/output, the timing loop (warm-up, then runs until a time budget, median), peak RSS. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BENCH_MAX_RUNS 100000

typedef struct bench_opts {
    const char *in_path;   /* input .npy (float32, C order) */
    const char *out_path;  /* optional: output 0 written as .npy after the timed runs */
    double seconds;        /* time budget of the timed runs */
    int warmup;            /* untimed runs first */
    int min_runs, max_runs;
} bench_opts;

static double bench_clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double bench_now_ms(void) { return bench_clock_ms(CLOCK_MONOTONIC); }

/* Parses: IN.npy [-o OUT.npy] [--seconds S] [--warmup N] [--min-runs N] [--max-runs N]. 0 ok. */
static int bench_parse(int argc, char **argv, int first, bench_opts *o)
{
    o->in_path = NULL;
    o->out_path = NULL;
    o->seconds = 2.0;
    o->warmup = 2;
    o->min_runs = 5;
    o->max_runs = 1000;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-o") && more) o->out_path = argv[++i];
        else if (!strcmp(a, "--seconds") && more) o->seconds = atof(argv[++i]);
        else if (!strcmp(a, "--warmup") && more) o->warmup = atoi(argv[++i]);
        else if (!strcmp(a, "--min-runs") && more) o->min_runs = atoi(argv[++i]);
        else if (!strcmp(a, "--max-runs") && more) o->max_runs = atoi(argv[++i]);
        else if (a[0] != '-' && !o->in_path) o->in_path = a;
        else return -1;
    }
    if (!o->in_path || o->seconds < 0 || o->warmup < 0 || o->min_runs < 1 || o->max_runs < o->min_runs ||
        o->max_runs > BENCH_MAX_RUNS)
        return -1;
    return 0;
}

/* Reads a little-endian float32 C-order .npy holding exactly n elements into dst. 0 ok. */
static int bench_npy_read_f32(const char *path, float *dst, size_t n)
{
    unsigned char pre[12];
    char hdr[4096];
    size_t hl;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) goto bad;
    hl = pre[8] | (size_t)pre[9] << 8;
    if (pre[6] > 1) {
        if (fread(pre + 10, 1, 2, f) != 2) goto bad;
        hl |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (hl >= sizeof hdr || fread(hdr, 1, hl, f) != hl) goto bad;
    hdr[hl] = 0;
    if (!strstr(hdr, "'<f4'") || !strstr(hdr, "'fortran_order': False")) {
        fprintf(stderr, "%s: not a little-endian float32 C-order .npy\n", path);
        fclose(f);
        return -1;
    }
    const char *s = strstr(hdr, "'shape'");
    if (!s || !(s = strchr(s, '('))) goto bad;
    size_t count = 1;
    for (s++; *s && *s != ')'; s++)
        if (*s >= '0' && *s <= '9') {
            count *= strtoul(s, (char **)&s, 10);
            s--;
        }
    if (count != n) {
        fprintf(stderr, "%s: %zu elements, the model wants %zu\n", path, count, n);
        fclose(f);
        return -1;
    }
    if (fread(dst, sizeof *dst, n, f) != n) goto bad;
    fclose(f);
    return 0;
bad:
    fprintf(stderr, "%s: not a .npy file this harness can read\n", path);
    fclose(f);
    return -1;
}

/* Writes n float32 values with the given dims as a .npy file. 0 ok. */
static int bench_npy_write_f32(const char *path, const float *src, int rank, const long *dims, size_t n)
{
    char hdr[512];
    int l = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int d = 0; d < rank; d++) l += snprintf(hdr + l, sizeof hdr - (size_t)l, "%ld,%s", dims[d], d + 1 < rank ? " " : "");
    l += snprintf(hdr + l, sizeof hdr - (size_t)l, "), }");
    while ((10 + l + 1) % 64) hdr[l++] = ' ';
    hdr[l++] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(l & 255), (unsigned char)(l >> 8)};
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "%s: cannot write\n", path);
        return -1;
    }
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)l, f) == (size_t)l && fwrite(src, 4, n, f) == n;
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "%s: write error\n", path);
        return -1;
    }
    return 0;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Warm-up, then timed runs of fn(ctx) until the budget is spent (at least min_runs, at most
 * max_runs), each timed by the wall clock and by the process's CPU time (which leaves out the time
 * other jobs on a shared core take). Prints one line of key=value pairs (extra appended). Returns 0,
 * or fn's nonzero. */
static int bench_loop(const bench_opts *o, int (*fn)(void *), void *ctx, const char *extra)
{
    static double t[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
    int r, n = 0;
    for (int i = 0; i < o->warmup; i++)
        if ((r = fn(ctx)) != 0) return r;
    double start = bench_now_ms();
    while (n < o->max_runs && (n < o->min_runs || bench_now_ms() - start < o->seconds * 1e3)) {
        double a = bench_now_ms(), ac = bench_clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        if ((r = fn(ctx)) != 0) return r;
        cpu[n] = bench_clock_ms(CLOCK_PROCESS_CPUTIME_ID) - ac;
        t[n++] = bench_now_ms() - a;
    }
    double med = bench_median(t, n), cmed = bench_median(cpu, n);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("runs=%d median_ms=%.4f min_ms=%.4f max_ms=%.4f cpu_median_ms=%.4f cpu_min_ms=%.4f maxrss_kb=%ld%s%s\n", n,
           med, t[0], t[n - 1], cmed, cpu[0], ru.ru_maxrss, extra && *extra ? " " : "", extra ? extra : "");
    return 0;
}

#endif
