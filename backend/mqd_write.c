/* mqd_write.c: program -> .mqd bytes (docs/MQD_FORMAT.md): header, section table, strings, kernels,
 * tensors, indices, params, steps, plan, inputs/outputs, 16-aligned weights, and a CRC-32 at the end. */
#include "backend/mqd_write.h"

#include "frontend/tensor_io.h"
#include "runtime/maqdrt.h"
#include "runtime/mqr_format.h"

#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Running layout: one u64 cursor, checked against the 32-bit limit at the end. */
typedef struct layout {
    uint64_t off[MQR_SEC_LAST + 1], size[MQR_SEC_LAST + 1];
    uint64_t total;
} layout;

static void place(layout *l, int type, uint64_t size, uint64_t align)
{
    l->total = (l->total + align - 1) / align * align;
    l->off[type] = l->total;
    l->size[type] = size;
    l->total += size;
}

static uint64_t str_bytes(const char *s) { return (uint64_t)strlen(s ? s : "") + 1; }

/* Distinct kernel names of the program, in first-use order; kid[s] = index of step s's kernel. */
static int collect_kernels(const mq_program *p, const char **names, int *kid)
{
    int n = 0;
    for (int s = 0; s < p->n_steps; s++) {
        int k;
        if (!p->steps[s].kernel) { /* a control step */
            kid[s] = -1;
            continue;
        }
        for (k = 0; k < n && strcmp(names[k], p->steps[s].kernel) != 0; k++) {
        }
        if (k == n) names[n++] = p->steps[s].kernel;
        kid[s] = k;
    }
    return n;
}

static uint32_t add_str(uint8_t *strings, uint64_t *cur, const char *s)
{
    uint32_t at = (uint32_t)*cur;
    size_t l = strlen(s ? s : "");
    if (l) memcpy(strings + *cur, s, l);
    strings[*cur + l] = 0;
    *cur += l + 1;
    return at;
}

static mq_status check_program(const mq_program *p, mq_err *err)
{
    if (p->scratch_offset % 16 || p->align < 16)
        return mq_fail(err, MQ_ERR_INVALID, ".mqd: the arena alignment must be at least 16 (it is %zu)", p->align);
    if (p->arena_bytes > UINT32_MAX)
        return mq_fail(err, MQ_ERR_LIMIT, ".mqd: the arena (%zu bytes) exceeds 4 GiB", p->arena_bytes);
    for (int t = 0; t < p->n_tensors; t++) {
        const mq_prog_tensor *x = &p->tensors[t];
        if (x->loc == MQ_LOC_ARENA && x->offset % mqr_dtype_size(x->dtype))
            return mq_fail(err, MQ_ERR_INVALID, ".mqd: tensor '%s' is not aligned in the arena", x->name);
    }
    return MQ_OK;
}

mq_status mq_mqd_write(const mq_program *p, void **buf, size_t *len, mq_err *err)
{
    *buf = NULL;
    *len = 0;
    MQ_TRY(check_program(p, err));
    const char **knames = mq_malloc(sizeof(char *) * ((size_t)p->n_steps + 1));
    int *kid = mq_malloc(sizeof(int) * ((size_t)p->n_steps + 1));
    uint64_t *woff = mq_malloc(sizeof(uint64_t) * ((size_t)p->n_weights + 1));
    uint8_t *b = NULL;
    mq_status st = MQ_OK;
    if (!knames || !kid || !woff) {
        st = mq_fail(err, MQ_ERR_NOMEM, "out of memory writing the .mqd");
        goto done;
    }
    int nk = collect_kernels(p, knames, kid);

    /* sizes */
    uint64_t n_str = 1, n_idx = 0, n_par = 0, wsize = 0;
    for (int k = 0; k < nk; k++) n_str += str_bytes(knames[k]);
    for (int t = 0; t < p->n_tensors; t++) n_str += str_bytes(p->tensors[t].name);
    for (int s = 0; s < p->n_steps; s++) {
        n_str += str_bytes(p->steps[s].name);
        n_idx += (uint64_t)p->steps[s].n_in + (uint64_t)p->steps[s].n_out;
        n_par += (uint64_t)p->steps[s].n_p;
    }
    for (int w = 0; w < p->n_weights; w++) {
        wsize = (wsize + MQR_FMT_WEIGHT_ALIGN - 1) / MQR_FMT_WEIGHT_ALIGN * MQR_FMT_WEIGHT_ALIGN;
        woff[w] = wsize;
        wsize += p->weights[w].bytes;
    }
    layout l;
    memset(&l, 0, sizeof l);
    l.total = MQR_FMT_HEADER_BYTES + MQR_FMT_SECTION_BYTES * (uint64_t)(MQR_SEC_LAST - MQR_SEC_FIRST + 1);
    place(&l, MQR_SEC_STRINGS, n_str, 4);
    place(&l, MQR_SEC_KERNELS, 4 * (uint64_t)nk, 4);
    place(&l, MQR_SEC_TENSORS, sizeof(mqr_fmt_tensor) * (uint64_t)p->n_tensors, 4);
    place(&l, MQR_SEC_INDICES, 4 * n_idx, 4);
    place(&l, MQR_SEC_PARAMS, 4 * n_par, 4);
    place(&l, MQR_SEC_STEPS, sizeof(mqr_fmt_step) * (uint64_t)p->n_steps, 4);
    place(&l, MQR_SEC_PLAN, sizeof(mqr_fmt_plan), 4);
    place(&l, MQR_SEC_IO, 8 + 4 * ((uint64_t)p->n_inputs + (uint64_t)p->n_outputs), 4);
    place(&l, MQR_SEC_WEIGHTS, wsize, MQR_FMT_WEIGHT_ALIGN);
    place(&l, MQR_SEC_CHECKSUM, 4, 4);
    if (l.total > UINT32_MAX || n_idx > UINT32_MAX || n_par > UINT32_MAX) {
        st = mq_fail(err, MQ_ERR_LIMIT, ".mqd: the model needs %llu bytes; the format holds at most 4 GiB",
                     (unsigned long long)l.total);
        goto done;
    }
    b = mq_calloc(1, (size_t)l.total);
    if (!b) {
        st = mq_fail(err, MQ_ERR_NOMEM, "out of memory writing the .mqd (%llu bytes)", (unsigned long long)l.total);
        goto done;
    }

    /* header and section table */
    memcpy(b, MQR_FMT_MAGIC, 4);
    /* version 2 unless a tensor has a data-dependent shape, so such models still load on older runtimes */
    put32(b + 4, p->n_bounded ? MQR_FMT_VERSION : MQR_FMT_VERSION_STATIC);
    put32(b + 8, MQR_FMT_FLAG_LE);
    put32(b + 12, MQR_FMT_HEADER_BYTES);
    put32(b + 16, (uint32_t)l.total);
    put32(b + 20, MQR_SEC_LAST - MQR_SEC_FIRST + 1);
    put32(b + 24, MQR_FMT_HEADER_BYTES);
    put32(b + 28, 0);
    for (int t = MQR_SEC_FIRST; t <= MQR_SEC_LAST; t++) {
        uint8_t *e = b + MQR_FMT_HEADER_BYTES + MQR_FMT_SECTION_BYTES * (size_t)(t - MQR_SEC_FIRST);
        put32(e, (uint32_t)t);
        put32(e + 4, (uint32_t)l.off[t]);
        put32(e + 8, (uint32_t)l.size[t]);
        put32(e + 12, t == MQR_SEC_WEIGHTS ? MQR_FMT_WEIGHT_ALIGN : 4);
    }

    /* strings (byte 0 is ""), kernels */
    uint8_t *strings = b + l.off[MQR_SEC_STRINGS];
    uint64_t sc = 1;
    for (int k = 0; k < nk; k++) put32(b + l.off[MQR_SEC_KERNELS] + 4 * (size_t)k, add_str(strings, &sc, knames[k]));

    /* tensors */
    for (int t = 0; t < p->n_tensors; t++) {
        const mq_prog_tensor *x = &p->tensors[t];
        uint8_t *r = b + l.off[MQR_SEC_TENSORS] + sizeof(mqr_fmt_tensor) * (size_t)t;
        uint32_t where = 0;
        switch (x->loc) {
        case MQ_LOC_INPUT: case MQ_LOC_OUTPUT: where = (uint32_t)x->index; break;
        case MQ_LOC_WEIGHT: where = (uint32_t)woff[x->index]; break;
        case MQ_LOC_ARENA: where = (uint32_t)x->offset; break;
        }
        put32(r, add_str(strings, &sc, x->name));
        put32(r + 4, (uint32_t)x->dtype);
        put32(r + 8, (uint32_t)x->rank);
        put32(r + 12, (uint32_t)x->loc);
        put32(r + 16, where);
        put32(r + 20, x->shape >= 0 ? (uint32_t)x->shape + 1 : 0);
        for (int d = 0; d < x->rank; d++) put32(r + 24 + 4 * (size_t)d, (uint32_t)x->dims[d]);
    }

    /* steps with their index lists and parameters */
    uint64_t ic = 0, pc = 0;
    for (int s = 0; s < p->n_steps; s++) {
        const mq_prog_step *x = &p->steps[s];
        uint8_t *r = b + l.off[MQR_SEC_STEPS] + sizeof(mqr_fmt_step) * (size_t)s;
        put32(r, add_str(strings, &sc, x->name));
        put32(r + 4, kid[s] < 0 ? MQR_FMT_NONE : (uint32_t)kid[s]);
        put32(r + 8, (uint32_t)pc);
        put32(r + 12, (uint32_t)x->n_p);
        put32(r + 16, (uint32_t)ic);
        put32(r + 20, (uint32_t)x->n_in);
        put32(r + 24, (uint32_t)(ic + (uint64_t)x->n_in));
        put32(r + 28, (uint32_t)x->n_out);
        put32(r + 32, (uint32_t)x->scratch_bytes);
        put32(r + 36, (uint32_t)x->kind); /* MQ_STEP_* are the format's MQR_STEP_* */
        for (int k = 0; k < x->n_in + x->n_out; k++) {
            int t = k < x->n_in ? x->in[k] : x->out[k - x->n_in];
            put32(b + l.off[MQR_SEC_INDICES] + 4 * (size_t)ic++, t < 0 ? MQR_FMT_NONE : (uint32_t)t);
        }
        for (int k = 0; k < x->n_p; k++) put32(b + l.off[MQR_SEC_PARAMS] + 4 * (size_t)pc++, (uint32_t)x->p[k]);
    }

    /* plan, io, weights */
    uint8_t *pl = b + l.off[MQR_SEC_PLAN];
    put32(pl, (uint32_t)p->tensor_bytes);
    put32(pl + 4, (uint32_t)p->scratch_offset);
    put32(pl + 8, (uint32_t)p->scratch_bytes);
    put32(pl + 12, 0);
    uint8_t *io = b + l.off[MQR_SEC_IO];
    put32(io, (uint32_t)p->n_inputs);
    put32(io + 4, (uint32_t)p->n_outputs);
    for (int k = 0; k < p->n_inputs; k++) put32(io + 8 + 4 * (size_t)k, (uint32_t)p->inputs[k]);
    for (int k = 0; k < p->n_outputs; k++) put32(io + 8 + 4 * ((size_t)p->n_inputs + (size_t)k), (uint32_t)p->outputs[k]);
    for (int w = 0; w < p->n_weights; w++)
        if (p->weights[w].bytes) memcpy(b + l.off[MQR_SEC_WEIGHTS] + woff[w], p->weights[w].data, p->weights[w].bytes);

    put32(b + l.off[MQR_SEC_CHECKSUM], mqr_crc32(0, b, (size_t)l.off[MQR_SEC_CHECKSUM]));
    *buf = b;
    *len = (size_t)l.total;
    b = NULL;
done:
    mq_free(b);
    mq_free(knames);
    mq_free(kid);
    mq_free(woff);
    return st;
}

mq_status mq_mqd_write_file(const mq_program *p, const char *path, mq_err *err)
{
    void *buf;
    size_t len;
    MQ_TRY(mq_mqd_write(p, &buf, &len, err));
    mq_status st = mq_write_file_atomic(path, buf, len, err);
    mq_free(buf);
    return st;
}
