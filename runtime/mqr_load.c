/* mqr_load.c: the .mqd loader. The bytes are hostile: everything (header, checksum, sections, strings,
 * tensor descriptors, steps, kernels, plan, inputs/outputs, and each step's call through its kernel's
 * check) is checked here once, so mqr_run trusts it. */
#include "runtime/maqdrt.h"
#include "runtime/mqr_format.h"

#include <string.h>

/* The record structs must match the documented byte layout exactly. */
typedef char mqr_check_header[sizeof(mqr_fmt_header) == 32 ? 1 : -1];
typedef char mqr_check_section[sizeof(mqr_fmt_section) == 16 ? 1 : -1];
typedef char mqr_check_tensor[sizeof(mqr_fmt_tensor) == 56 ? 1 : -1];
typedef char mqr_check_step[sizeof(mqr_fmt_step) == 40 ? 1 : -1];
typedef char mqr_check_plan[sizeof(mqr_fmt_plan) == 16 ? 1 : -1];

#define MQR_ELEMS_MAX 0x7fffffffu /* kernels count elements in int32 */

const char *mqr_status_str(mqr_status s)
{
    switch (s) {
    case MQR_OK: return "ok";
    case MQR_E_ARG: return "bad argument (NULL or misaligned pointer, or index out of range)";
    case MQR_E_HOST: return "this host is big-endian; .mqd files are little-endian only";
    case MQR_E_TRUNCATED: return "the buffer is shorter than the .mqd header or the size it declares";
    case MQR_E_MAGIC: return "not a .mqd file (no MQD1 magic)";
    case MQR_E_VERSION: return "unknown .mqd format version or flags";
    case MQR_E_CHECKSUM: return "checksum mismatch: the file is corrupted";
    case MQR_E_SECTION: return "bad section table (missing, duplicate or unknown section, or bad offset, size or alignment)";
    case MQR_E_STRING: return "bad string reference";
    case MQR_E_TENSOR: return "bad tensor descriptor (dtype, rank, dims, location or bytes out of range)";
    case MQR_E_STEP: return "bad step (tensor index, parameter range, scratch, writes a read-only tensor, or an output partly overlapping an input)";
    case MQR_E_KERNEL: return "the model needs a kernel this runtime does not have";
    case MQR_E_PLAN: return "bad memory plan";
    case MQR_E_IO: return "bad graph inputs/outputs";
    case MQR_E_LIMIT: return "the model exceeds a fixed limit of this runtime";
    case MQR_E_CHECK: return "a step's kernel refuses its parameters or shapes";
    case MQR_E_UNCHECKED: return "a step's kernel has no load-time check in this runtime";
    case MQR_E_LOOP: return "a loop with scan outputs ended before its compiled trip count (data-dependent shape)";
    }
    return "unknown status";
}

size_t mqr_dtype_size(int32_t dtype)
{
    switch (dtype) {
    case MQR_F32: case MQR_I32: case MQR_U32: return 4;
    case MQR_U8: case MQR_I8: case MQR_BOOL: return 1;
    case MQR_U16: case MQR_I16: return 2;
    case MQR_I64: case MQR_F64: case MQR_U64: return 8;
    default: return 0;
    }
}

/* CRC-32 with a 16-entry table (64 bytes of flash). */
uint32_t mqr_crc32(uint32_t crc, const void *data, size_t n)
{
    static const uint32_t tab[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
        0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    const uint8_t *p = (const uint8_t *)data;
    size_t i;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ tab[crc & 15u];
        crc = (crc >> 4) ^ tab[crc & 15u];
    }
    return ~crc;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4); /* the host is little-endian (checked first) */
    return v;
}

static int host_is_le(void)
{
    uint32_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* The section table's result: where each section lies. */
typedef struct sections {
    uint32_t off[MQR_SEC_LAST + 1], size[MQR_SEC_LAST + 1];
    uint32_t version;
} sections;

static mqr_status check_header(const uint8_t *b, size_t len, sections *s)
{
    mqr_fmt_header h;
    uint32_t i, j;
    uint64_t table_end;
    if (len < MQR_FMT_HEADER_BYTES) return MQR_E_TRUNCATED;
    memcpy(&h, b, sizeof h);
    if (memcmp(h.magic, MQR_FMT_MAGIC, 4) != 0) return MQR_E_MAGIC;
    if ((h.version != MQR_FMT_VERSION && h.version != MQR_FMT_VERSION_STATIC) || h.flags != MQR_FMT_FLAG_LE || h.header_bytes != MQR_FMT_HEADER_BYTES ||
        h.reserved != 0)
        return MQR_E_VERSION;
    if (h.total_bytes > len) return MQR_E_TRUNCATED;
    s->version = h.version;
    /* the checksum: the last 4 bytes, over everything before them */
    if (h.total_bytes < MQR_FMT_HEADER_BYTES + 4) return MQR_E_SECTION;
    if (mqr_crc32(0, b, h.total_bytes - 4) != rd32(b + h.total_bytes - 4)) return MQR_E_CHECKSUM;
    if (h.n_sections != MQR_SEC_LAST - MQR_SEC_FIRST + 1) return MQR_E_SECTION;
    table_end = (uint64_t)h.section_table + (uint64_t)h.n_sections * MQR_FMT_SECTION_BYTES;
    if (h.section_table < MQR_FMT_HEADER_BYTES || h.section_table % 4 || table_end > h.total_bytes)
        return MQR_E_SECTION;
    for (i = 0; i <= MQR_SEC_LAST; i++) s->off[i] = s->size[i] = 0;
    for (i = 0; i < h.n_sections; i++) {
        mqr_fmt_section e;
        uint32_t want_align;
        memcpy(&e, b + h.section_table + i * MQR_FMT_SECTION_BYTES, sizeof e);
        if (e.type < MQR_SEC_FIRST || e.type > MQR_SEC_LAST || s->off[e.type]) return MQR_E_SECTION;
        want_align = e.type == MQR_SEC_WEIGHTS ? MQR_FMT_WEIGHT_ALIGN : 4u;
        if (e.align != want_align || e.offset % want_align) return MQR_E_SECTION;
        /* sections lie after the table, inside the file, and the checksum is exactly the last 4 bytes */
        if (e.offset < table_end || (uint64_t)e.offset + e.size > h.total_bytes) return MQR_E_SECTION;
        if (e.type == MQR_SEC_CHECKSUM ? (e.size != 4 || e.offset != h.total_bytes - 4)
                                       : ((uint64_t)e.offset + e.size > h.total_bytes - 4))
            return MQR_E_SECTION;
        s->off[e.type] = e.offset;
        s->size[e.type] = e.size;
    }
    /* every section present (n_sections equals the type count and none repeats), none overlapping */
    for (i = MQR_SEC_FIRST; i <= MQR_SEC_LAST; i++)
        for (j = i + 1; j <= MQR_SEC_LAST; j++)
            if ((uint64_t)s->off[i] < (uint64_t)s->off[j] + s->size[j] &&
                (uint64_t)s->off[j] < (uint64_t)s->off[i] + s->size[i])
                return MQR_E_SECTION;
    return MQR_OK;
}

static int string_ok(const mqr_model *m, uint32_t off)
{
    return off < m->strings_len && memchr(m->strings + off, 0, m->strings_len - off) != 0;
}

/* A tensor's bytes (element count checked against MQR_ELEMS_MAX), or MQR_E_TENSOR. */
static mqr_status tensor_bytes(const mqr_fmt_tensor *t, uint64_t *bytes)
{
    uint64_t ne = 1;
    uint32_t d;
    size_t es = mqr_dtype_size((int32_t)t->dtype);
    if (t->dtype > 0x7fffffffu || es == 0 || t->rank > MQR_MAX_RANK) return MQR_E_TENSOR;
    for (d = 0; d < 8; d++) {
        if (d >= t->rank) {
            if (t->dims[d] != 0) return MQR_E_TENSOR;
            continue;
        }
        if (t->dims[d] < 0) return MQR_E_TENSOR;
        ne *= (uint64_t)t->dims[d];
        if (ne > MQR_ELEMS_MAX) return MQR_E_TENSOR;
    }
    *bytes = ne * es;
    return MQR_OK;
}

static void read_tensor(const mqr_model *m, uint32_t i, mqr_fmt_tensor *t)
{
    memcpy(t, m->tensors + (size_t)i * sizeof *t, sizeof *t);
}

static uint32_t io_index(const mqr_model *m, uint32_t k) { return rd32(m->io + 8 + 4 * (size_t)k); }

/* A data-dependent shape (version 3, field shape = k + 1): the tensor has rank >= 1 and lives in the arena
 * or the caller's output; tensor k is static, int32, [rank], in the arena, and not itself that tensor. */
static mqr_status check_shape_link(const mqr_model *m, uint32_t i, const mqr_fmt_tensor *t, uint32_t version)
{
    mqr_fmt_tensor s;
    if (t->shape == 0) return MQR_OK;
    if (version < 3 || t->shape > m->n_tensors || t->shape - 1 == i || t->rank < 1 ||
        (t->loc != MQR_LOC_ARENA && t->loc != MQR_LOC_OUTPUT))
        return MQR_E_TENSOR;
    read_tensor(m, t->shape - 1, &s);
    if (s.shape != 0 || s.dtype != MQR_I32 || s.rank != 1 || s.dims[0] != (int32_t)t->rank || s.loc != MQR_LOC_ARENA)
        return MQR_E_TENSOR;
    return MQR_OK;
}

static mqr_status check_tensors(const mqr_model *m, uint32_t weights_len, uint32_t version)
{
    uint32_t i;
    for (i = 0; i < m->n_tensors; i++) {
        mqr_fmt_tensor t;
        uint64_t bytes;
        mqr_status st;
        read_tensor(m, i, &t);
        if (!string_ok(m, t.name)) return MQR_E_STRING;
        st = tensor_bytes(&t, &bytes);
        if (st == MQR_OK) st = check_shape_link(m, i, &t, version);
        if (st != MQR_OK) return st;
        switch (t.loc) {
        case MQR_LOC_INPUT:
            if (t.where >= m->n_inputs || io_index(m, t.where) != i) return MQR_E_TENSOR;
            break;
        case MQR_LOC_OUTPUT:
            if (t.where >= m->n_outputs || io_index(m, m->n_inputs + t.where) != i) return MQR_E_TENSOR;
            break;
        case MQR_LOC_WEIGHT:
            if (t.where % MQR_FMT_WEIGHT_ALIGN || (uint64_t)t.where + bytes > weights_len) return MQR_E_TENSOR;
            break;
        case MQR_LOC_ARENA:
            if (t.where % mqr_dtype_size((int32_t)t.dtype) || (uint64_t)t.where + bytes > m->arena_bytes)
                return MQR_E_TENSOR;
            break;
        default:
            return MQR_E_TENSOR;
        }
    }
    return MQR_OK;
}

static mqr_status check_io(mqr_model *m, uint32_t io_size)
{
    uint64_t need;
    uint32_t k;
    if (io_size < 8) return MQR_E_IO;
    m->n_inputs = rd32(m->io);
    m->n_outputs = rd32(m->io + 4);
    need = 8 + 4 * ((uint64_t)m->n_inputs + m->n_outputs);
    if (need != io_size) return MQR_E_IO;
    for (k = 0; k < m->n_inputs + m->n_outputs; k++) {
        uint32_t t = io_index(m, k);
        mqr_fmt_tensor d;
        if (t >= m->n_tensors) return MQR_E_IO;
        read_tensor(m, t, &d);
        /* input k is exactly the tensor at INPUT k (check_tensors checks OUTPUT slots the other way) */
        if (k < m->n_inputs && (d.loc != MQR_LOC_INPUT || d.where != k)) return MQR_E_IO;
    }
    return MQR_OK;
}

/* An arena output of step s either is exactly an input's slot (in place: same offset) or shares no
 * byte with any arena input: kernels copy with memcpy, which partly overlapping slots would break. */
static int arena_apart(const mqr_model *m, const mqr_fmt_step *s, const mqr_fmt_tensor *out)
{
    uint64_t ob = 0, ib;
    uint32_t j;
    (void)tensor_bytes(out, &ob); /* descriptors were checked */
    for (j = 0; j < s->n_in; j++) {
        uint32_t t = rd32(m->indices + 4 * ((size_t)s->in_first + j));
        mqr_fmt_tensor d;
        if (t == MQR_FMT_NONE || t >= m->n_tensors) continue; /* the caller's loop refuses a bad index */
        read_tensor(m, t, &d);
        if (d.loc != MQR_LOC_ARENA || d.where == out->where) continue;
        ib = 0;
        (void)tensor_bytes(&d, &ib);
        if (ob && ib && (uint64_t)d.where < (uint64_t)out->where + ob && (uint64_t)out->where < (uint64_t)d.where + ib)
            return 0;
    }
    return 1;
}

/* 1 if tensor t is one of step s's outputs. */
static int step_writes(const mqr_model *m, const mqr_fmt_step *s, uint32_t t)
{
    uint32_t j;
    for (j = 0; j < s->n_out; j++)
        if (rd32(m->indices + 4 * ((size_t)s->out_first + j)) == t) return 1;
    return 0;
}

/* A control step's own fields (its sub-program ranges are check_ranges'): IF reads one bool element
 * and has two step counts; LOOP reads a bool element or nothing, writes an int64 counter in the arena
 * or nothing, and has a body step count, a trip count <= MQR_MAX_TRIP and a 0/1 flag. */
static mqr_status check_control(const mqr_model *m, const mqr_fmt_step *s)
{
    const int32_t *p = m->params + s->param_first;
    int loop = s->kind == MQR_STEP_LOOP;
    uint32_t t;
    mqr_fmt_tensor d;
    uint64_t bytes;
    if (s->n_in != 1 || s->n_out != (loop ? 1u : 0u) || s->n_params != (loop ? 3u : 2u)) return MQR_E_STEP;
    if (p[0] < 0 || p[1] < 0 || (loop && p[2] != 0 && p[2] != 1)) return MQR_E_STEP;
    if (loop && p[1] > MQR_MAX_TRIP) return MQR_E_LIMIT;
    t = rd32(m->indices + 4 * (size_t)s->in_first);
    if (t == MQR_FMT_NONE) {
        if (!loop) return MQR_E_STEP;
    } else {
        if (t >= m->n_tensors) return MQR_E_STEP;
        read_tensor(m, t, &d);
        if (d.dtype != MQR_BOOL || tensor_bytes(&d, &bytes) != MQR_OK || bytes != 1) return MQR_E_STEP;
    }
    if (loop) {
        t = rd32(m->indices + 4 * (size_t)s->out_first);
        if (t != MQR_FMT_NONE) {
            if (t >= m->n_tensors) return MQR_E_STEP;
            read_tensor(m, t, &d);
            if (d.dtype != MQR_I64 || d.loc != MQR_LOC_ARENA || tensor_bytes(&d, &bytes) != MQR_OK || bytes != 8)
                return MQR_E_STEP;
        }
    }
    return MQR_OK;
}

/* Steps [first, end) as nested sub-programs: every control step's sub-programs (the steps right after
 * it) end inside the enclosing range, at most MQR_MAX_NEST deep. */
static mqr_status check_ranges(mqr_model *m, uint32_t first, uint32_t end, uint32_t depth)
{
    uint32_t i = first;
    while (i < end) {
        mqr_fmt_step s;
        const int32_t *p;
        uint64_t a, b;
        mqr_status st;
        memcpy(&s, m->steps + (size_t)i * sizeof s, sizeof s);
        if (s.kind == MQR_STEP_KERNEL) {
            i++;
            continue;
        }
        m->err_step = (int32_t)i;
        m->err_node = m->strings + s.name;
        if (depth >= MQR_MAX_NEST) return MQR_E_LIMIT;
        p = m->params + s.param_first;
        a = (uint64_t)p[0];
        b = s.kind == MQR_STEP_IF ? (uint64_t)p[1] : 0;
        if ((uint64_t)i + 1 + a + b > end) return MQR_E_STEP;
        st = check_ranges(m, i + 1, i + 1 + (uint32_t)a, depth + 1);
        if (st == MQR_OK && b) st = check_ranges(m, i + 1 + (uint32_t)a, i + 1 + (uint32_t)(a + b), depth + 1);
        if (st != MQR_OK) return st;
        i += 1 + (uint32_t)(a + b);
    }
    return MQR_OK;
}

static mqr_status check_steps(mqr_model *m, uint32_t n_params, uint32_t n_indices)
{
    uint32_t i, j;
    for (i = 0; i < m->n_steps; i++) {
        mqr_fmt_step s;
        memcpy(&s, m->steps + (size_t)i * sizeof s, sizeof s);
        m->err_step = (int32_t)i;
        if (!string_ok(m, s.name)) return MQR_E_STRING;
        m->err_node = m->strings + s.name;
        if (s.kind > MQR_STEP_LOOP) return MQR_E_STEP;
        if (s.kind == MQR_STEP_KERNEL && s.kernel >= m->n_kernels) return MQR_E_STEP;
        if (s.kind != MQR_STEP_KERNEL && (s.kernel != MQR_FMT_NONE || s.scratch_bytes)) return MQR_E_STEP;
        m->err_kernel = s.kind == MQR_STEP_KERNEL ? m->kernels[s.kernel]->name : 0;
        if (s.n_params > MQR_MAX_PARAMS || (uint64_t)s.param_first + s.n_params > n_params) return MQR_E_STEP;
        if ((uint64_t)s.in_first + s.n_in > n_indices || (uint64_t)s.out_first + s.n_out > n_indices)
            return MQR_E_STEP;
        if (s.kind != MQR_STEP_KERNEL) {
            mqr_status cs = check_control(m, &s);
            if (cs != MQR_OK) return cs;
        }
        if (s.n_in > 0x7fffffffu || s.n_out > 0x7fffffffu) return MQR_E_STEP;
        if (s.scratch_bytes > m->scratch_bytes) return MQR_E_STEP;
        for (j = 0; j < s.n_in + s.n_out; j++) {
            uint32_t t = rd32(m->indices + 4 * ((size_t)(j < s.n_in ? s.in_first + j : s.out_first + j - s.n_in)));
            mqr_fmt_tensor d;
            if (t == MQR_FMT_NONE) continue;
            if (t >= m->n_tensors) return MQR_E_STEP;
            read_tensor(m, t, &d);
            /* a data-dependent shape is only a graph output: no step reads it (kernels' checks prove
             * their accesses for the bound dims, which a smaller actual shape would not keep) */
            if (j < s.n_in && d.shape) return MQR_E_STEP;
            /* the step writing it writes its actual dims too */
            if (j >= s.n_in && d.shape && !step_writes(m, &s, d.shape - 1)) return MQR_E_STEP;
            /* steps write only the arena and the caller's outputs */
            if (j >= s.n_in && d.loc != MQR_LOC_ARENA && d.loc != MQR_LOC_OUTPUT) return MQR_E_STEP;
            if (j >= s.n_in && d.loc == MQR_LOC_ARENA && !arena_apart(m, &s, &d)) return MQR_E_STEP;
        }
        if (s.n_in > m->max_in) m->max_in = s.n_in;
        if (s.n_out > m->max_out) m->max_out = s.n_out;
    }
    {
        mqr_status st = check_ranges(m, 0, m->n_steps, 0);
        if (st != MQR_OK) return st;
    }
    m->err_step = -1;
    m->err_kernel = m->err_node = 0;
    return MQR_OK;
}

/* The descriptor of tensor index t as the kernel's check sees it: what mqr_run will bind, with data
 * only for weights (other bytes do not exist before the run). */
static void describe(const mqr_model *m, uint32_t t, mqr_tensor *r)
{
    mqr_fmt_tensor d;
    uint32_t k;
    memset(r, 0, sizeof *r);
    if (t == MQR_FMT_NONE) {
        r->rank = -1;
        return;
    }
    read_tensor(m, t, &d);
    r->dtype = (int32_t)d.dtype;
    r->rank = (int32_t)d.rank;
    for (k = 0; k < MQR_MAX_RANK; k++) r->dims[k] = d.dims[k];
    if (d.loc == MQR_LOC_WEIGHT) r->data = (void *)(uintptr_t)(m->weights + d.where);
}

/* Every step's call, as mqr_run will make it, through its kernel's check (after check_steps: every
 * index, slice and descriptor is valid). */
static mqr_status check_calls(mqr_model *m)
{
    mqr_tensor t[MQR_MAX_STEP_IO];
    uint32_t i, j;
    for (i = 0; i < m->n_steps; i++) {
        mqr_fmt_step s;
        const mqr_kernel_info *k;
        mqr_call c;
        int r;
        memcpy(&s, m->steps + (size_t)i * sizeof s, sizeof s);
        if (s.kind != MQR_STEP_KERNEL) continue; /* check_control and check_ranges covered it */
        k = m->kernels[s.kernel];
        m->err_step = (int32_t)i;
        m->err_kernel = k->name;
        m->err_node = m->strings + s.name;
        if ((uint64_t)s.n_in + s.n_out > MQR_MAX_STEP_IO) return MQR_E_LIMIT;
        for (j = 0; j < s.n_in + s.n_out; j++)
            describe(m, rd32(m->indices + 4 * ((size_t)(j < s.n_in ? s.in_first + j : s.out_first + j - s.n_in))),
                     &t[j]);
        c.p = m->params + s.param_first;
        c.n_p = (int32_t)s.n_params;
        c.in = t;
        c.n_in = (int32_t)s.n_in;
        c.out = t + s.n_in;
        c.n_out = (int32_t)s.n_out;
        c.scratch = 0;
        r = k->check ? k->check(&c, s.scratch_bytes) : MQR_CHECK_NONE;
        if (r == MQR_CHECK_NONE) return MQR_E_UNCHECKED;
        if (r != MQR_CHECK_OK) return MQR_E_CHECK;
    }
    m->err_step = -1;
    m->err_kernel = m->err_node = 0;
    return MQR_OK;
}

static mqr_status check_kernels(mqr_model *m, const uint8_t *sec, uint32_t size)
{
    uint32_t i;
    if (size % 4) return MQR_E_SECTION;
    if (size / 4 > MQR_MAX_MODEL_KERNELS) return MQR_E_LIMIT;
    m->n_kernels = size / 4;
    for (i = 0; i < m->n_kernels; i++) {
        uint32_t name = rd32(sec + 4 * (size_t)i);
        const mqr_kernel_info *k;
        if (!string_ok(m, name)) return MQR_E_STRING;
        k = mqr_kernel_find(m->strings + name);
        if (!k) return MQR_E_KERNEL;
        m->kernels[i] = k;
    }
    return MQR_OK;
}

static mqr_status check_plan(mqr_model *m, const uint8_t *sec, uint32_t size)
{
    mqr_fmt_plan p;
    if (size != sizeof p) return MQR_E_PLAN;
    memcpy(&p, sec, sizeof p);
    if (p.reserved || p.scratch_offset < p.arena_bytes || p.scratch_offset % 16) return MQR_E_PLAN;
    m->arena_bytes = p.arena_bytes;
    m->scratch_offset = p.scratch_offset;
    m->scratch_bytes = p.scratch_bytes;
    return MQR_OK;
}

/* The runtime's own region after the plan: one mqr_tensor per input and output of the widest step. */
static mqr_status place_work(mqr_model *m)
{
    uint64_t end = (uint64_t)m->scratch_offset + m->scratch_bytes;
    uint64_t work = (end + 15u) & ~(uint64_t)15u;
    end = work + ((uint64_t)m->max_in + m->max_out) * sizeof(mqr_tensor);
    if (end > (uint64_t)(size_t)-1) return MQR_E_LIMIT;
    m->work_offset = (size_t)work;
    m->total_arena = (size_t)end;
    return MQR_OK;
}

mqr_status mqr_load(mqr_model *m, const void *buf, size_t len)
{
    sections s;
    const uint8_t *b = (const uint8_t *)buf;
    mqr_status st;
    if (!m) return MQR_E_ARG;
    memset(m, 0, sizeof *m);
    m->err_step = -1;
    if (!buf || ((uintptr_t)buf & 15u)) return MQR_E_ARG;
    if (!host_is_le()) return MQR_E_HOST;
    if (len > 0xffffffffu) len = 0xffffffffu; /* total_bytes is 32-bit: the rest is not ours */
    st = check_header(b, len, &s);
    if (st != MQR_OK) return st;
    m->buf = b;
    m->len = (uint32_t)len;
    /* strings first: everything names into them */
    m->strings = (const char *)(b + s.off[MQR_SEC_STRINGS]);
    m->strings_len = s.size[MQR_SEC_STRINGS];
    if (m->strings_len == 0 || m->strings[0] != 0 || m->strings[m->strings_len - 1] != 0) st = MQR_E_STRING;
    if (st == MQR_OK && (s.size[MQR_SEC_TENSORS] % sizeof(mqr_fmt_tensor) || s.size[MQR_SEC_PARAMS] % 4 ||
                         s.size[MQR_SEC_INDICES] % 4 || s.size[MQR_SEC_STEPS] % sizeof(mqr_fmt_step)))
        st = MQR_E_SECTION;
    if (st == MQR_OK) {
        m->tensors = b + s.off[MQR_SEC_TENSORS];
        m->n_tensors = s.size[MQR_SEC_TENSORS] / (uint32_t)sizeof(mqr_fmt_tensor);
        m->weights = b + s.off[MQR_SEC_WEIGHTS];
        m->params = (const int32_t *)(const void *)(b + s.off[MQR_SEC_PARAMS]);
        m->indices = b + s.off[MQR_SEC_INDICES];
        m->steps = b + s.off[MQR_SEC_STEPS];
        m->n_steps = s.size[MQR_SEC_STEPS] / (uint32_t)sizeof(mqr_fmt_step);
        m->io = b + s.off[MQR_SEC_IO];
        st = check_kernels(m, b + s.off[MQR_SEC_KERNELS], s.size[MQR_SEC_KERNELS]);
    }
    if (st == MQR_OK) st = check_io(m, s.size[MQR_SEC_IO]);
    if (st == MQR_OK) st = check_plan(m, b + s.off[MQR_SEC_PLAN], s.size[MQR_SEC_PLAN]);
    if (st == MQR_OK) st = check_tensors(m, s.size[MQR_SEC_WEIGHTS], s.version);
    if (st == MQR_OK) st = check_steps(m, s.size[MQR_SEC_PARAMS] / 4, s.size[MQR_SEC_INDICES] / 4);
    if (st == MQR_OK) st = check_calls(m);
    if (st == MQR_OK) st = place_work(m);
    if (st != MQR_OK) {
        int32_t step = m->err_step;
        const char *kernel = m->err_kernel, *node = m->err_node;
        memset(m, 0, sizeof *m);
        m->err_step = step;
        m->err_kernel = kernel;
        m->err_node = node;
    }
    return st;
}

void mqr_load_error(const mqr_model *m, int32_t *step, const char **kernel, const char **node)
{
    if (step) *step = m ? m->err_step : -1;
    if (kernel) *kernel = m ? m->err_kernel : 0;
    if (node) *node = m ? m->err_node : 0;
}

size_t mqr_arena_size(const mqr_model *m) { return m ? m->total_arena : 0; }

uint32_t mqr_input_count(const mqr_model *m) { return m ? m->n_inputs : 0; }
uint32_t mqr_output_count(const mqr_model *m) { return m ? m->n_outputs : 0; }

static mqr_status io_info(const mqr_model *m, uint32_t k, mqr_io_info *info)
{
    mqr_fmt_tensor t;
    uint64_t bytes = 0;
    uint32_t d;
    read_tensor(m, io_index(m, k), &t);
    (void)tensor_bytes(&t, &bytes); /* validated at load */
    info->name = m->strings + t.name;
    info->dtype = (int32_t)t.dtype;
    info->rank = (int32_t)t.rank;
    for (d = 0; d < MQR_MAX_RANK; d++) info->dims[d] = d < t.rank ? t.dims[d] : 0;
    info->bytes = (size_t)bytes;
    info->bounded = t.shape != 0;
    return MQR_OK;
}

mqr_status mqr_input_info(const mqr_model *m, uint32_t k, mqr_io_info *info)
{
    if (!m || !info || !m->buf || k >= m->n_inputs) return MQR_E_ARG;
    return io_info(m, k, info);
}

mqr_status mqr_output_info(const mqr_model *m, uint32_t k, mqr_io_info *info)
{
    if (!m || !info || !m->buf || k >= m->n_outputs) return MQR_E_ARG;
    return io_info(m, m->n_inputs + k, info);
}

mqr_status mqr_output_dims(const mqr_model *m, const void *arena, uint32_t k, int32_t dims[MQR_MAX_RANK])
{
    mqr_fmt_tensor t;
    if (!m || !m->buf || !dims || k >= m->n_outputs || !arena || ((uintptr_t)arena & 15u)) return MQR_E_ARG;
    read_tensor(m, io_index(m, m->n_inputs + k), &t);
    mqr_actual_dims(m, (const uint8_t *)arena, &t, dims);
    return MQR_OK;
}
