/* fuzz_mqd.c: fuzz target: bytes as a packed .mqd model through the runtime's loader (runtime/), then,
 * if it loads and its work is bounded (work_bound), one run with an arena and input/output buffers of
 * exactly the sizes the model states, so any read or write outside them is caught by AddressSanitizer.
 * The CRC-32 is recomputed first (else almost every mutant stops at the checksum); bytes after the
 * declared total_bytes fill the inputs. */
#include "runtime/maqdrt.h"
#include "runtime/mqr_format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RUN_CAP ((size_t)1 << 22) /* larger models (arena + inputs + outputs) only load: runs take too long */
#define WORK_CAP 3.0e7            /* and so do models whose work bound (below) is larger */

static double numel_of(const mqr_model *m, uint32_t t)
{
    mqr_fmt_tensor d;
    double n = 1.0;
    if (t == MQR_FMT_NONE) return 0.0;
    memcpy(&d, m->tensors + (size_t)t * sizeof d, sizeof d);
    for (uint32_t k = 0; k < d.rank && k < 8; k++) n *= d.dims[k] > 1 ? (double)d.dims[k] : 1.0; /* loops, not bytes */
    return n;
}

/* A bound on the work of one run, from shapes alone: per kernel step the product of its two largest
 * tensors (a convolution, transposed or not, does at most |x| * |w| or |y| * |w| multiply-adds; a
 * GEMM |A| * |B|) plus the sum of all, times the trip counts of the loops around it. Small inputs can
 * describe legitimately huge computations (a 1 MB activation times a 1 MB kernel); running those only
 * measures the machine, so they are loaded and checked but not run. */
static double work_bound(const mqr_model *m)
{
    double total = 0.0, mult[MQR_MAX_NEST + 2];
    uint32_t end[MQR_MAX_NEST + 2], depth = 0;
    mult[0] = 1.0;
    end[0] = m->n_steps;
    for (uint32_t i = 0; i < m->n_steps; i++) {
        mqr_fmt_step s;
        uint32_t idx;
        while (depth > 0 && i >= end[depth]) depth--;
        memcpy(&s, m->steps + (size_t)i * sizeof s, sizeof s);
        if (s.kind == MQR_STEP_LOOP && depth + 1 < MQR_MAX_NEST + 2) {
            const int32_t *p = m->params + s.param_first;
            depth++;
            end[depth] = i + 1 + (uint32_t)p[0];
            mult[depth] = mult[depth - 1] * (double)(p[1] > 0 ? p[1] : 0);
            continue;
        }
        if (s.kind != MQR_STEP_KERNEL) continue; /* IF: both branches are counted, a bound */
        double a = 0.0, b = 0.0, sum = 0.0;
        for (uint32_t j = 0; j < s.n_in + s.n_out; j++) {
            uint32_t at = j < s.n_in ? s.in_first + j : s.out_first + (j - s.n_in);
            memcpy(&idx, m->indices + 4 * (size_t)at, 4);
            double n = numel_of(m, idx);
            sum += n;
            if (n > a) { b = a; a = n; }
            else if (n > b) b = n;
        }
        total += mult[depth] * (a * (b > 1.0 ? b : 1.0) + sum);
    }
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t total = 0;
    if (size >= 32) memcpy(&total, data + 16, 4);
    size_t len = total >= 36 && total <= size ? total : size;
    /* a 16-byte aligned copy of exactly len bytes (the weights are read in place) */
    void *buf = NULL;
    if (posix_memalign(&buf, 16, len ? len : 1)) return 0;
    if (len) memcpy(buf, data, len);
    if (len >= 36 && total == len) {
        uint32_t c = mqr_crc32(0, buf, len - 4);
        memcpy((uint8_t *)buf + len - 4, &c, 4);
    }
    const uint8_t *fill = data + len;
    size_t fill_len = size - len;
    mqr_model m;
    if (mqr_load(&m, buf, len) != MQR_OK) {
        free(buf);
        return 0;
    }
    uint32_t ni = mqr_input_count(&m), no = mqr_output_count(&m);
    size_t need = mqr_arena_size(&m);
    void **ins = calloc(ni + 1u, sizeof *ins), **outs = calloc(no + 1u, sizeof *outs);
    void *arena = NULL;
    int ok = ins && outs;
    for (uint32_t k = 0; ok && k < ni; k++) {
        mqr_io_info info;
        ok = mqr_input_info(&m, k, &info) == MQR_OK && (need += info.bytes) <= RUN_CAP;
        if (ok) ok = (ins[k] = malloc(info.bytes ? info.bytes : 1)) != NULL;
        for (size_t i = 0; ok && i < info.bytes; i++) /* the trailing bytes, else a fixed pattern */
            ((uint8_t *)ins[k])[i] = fill_len ? fill[(i + k) % fill_len] : (uint8_t)(i * 37u + k);
    }
    for (uint32_t k = 0; ok && k < no; k++) {
        mqr_io_info info;
        ok = mqr_output_info(&m, k, &info) == MQR_OK && (need += info.bytes) <= RUN_CAP;
        if (ok) ok = (outs[k] = malloc(info.bytes ? info.bytes : 1)) != NULL;
    }
    /* exactly mqr_arena_size bytes (posix_memalign: ASan knows the requested size) */
    if (ok && mqr_arena_size(&m) <= RUN_CAP && work_bound(&m) <= WORK_CAP &&
        !posix_memalign(&arena, 16, mqr_arena_size(&m) ? mqr_arena_size(&m) : 1)) {
        (void)mqr_run(&m, arena, (const void *const *)ins, outs);
        for (uint32_t k = 0; k < no; k++) { /* data-dependent shapes: the actual dims stay inside the bound */
            mqr_io_info info;
            int32_t dims[MQR_MAX_RANK];
            if (mqr_output_info(&m, k, &info) != MQR_OK || mqr_output_dims(&m, arena, k, dims) != MQR_OK) abort();
            for (int32_t d = 0; d < info.rank; d++)
                if (dims[d] < 0 || dims[d] > info.dims[d]) abort();
        }
    }
    free(arena);
    for (uint32_t k = 0; ins && k < ni; k++) free(ins[k]);
    for (uint32_t k = 0; outs && k < no; k++) free(outs[k]);
    free(ins);
    free(outs);
    free(buf);
    return 0;
}
