/* mqr_run.c: running a loaded .mqd model: each step's tensors are pointed at the caller's inputs and
 * outputs, the weights or the arena, then its kernel runs; IF and LOOP steps run the sub-programs that
 * follow them. The model was validated by mqr_load (nesting depth included). */
#include "runtime/maqdrt.h"
#include "runtime/mqr_format.h"

#include <string.h>

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Fill r from tensor descriptor t (or an omitted one for MQR_FMT_NONE). */
static void bind(const mqr_model *m, uint32_t t, uint8_t *arena, const void *const *inputs,
                 void *const *outputs, mqr_tensor *r)
{
    mqr_fmt_tensor d;
    uint32_t k;
    if (t == MQR_FMT_NONE) {
        memset(r, 0, sizeof *r);
        r->rank = -1;
        return;
    }
    memcpy(&d, m->tensors + (size_t)t * sizeof d, sizeof d);
    r->dtype = (int32_t)d.dtype;
    r->rank = (int32_t)d.rank;
    for (k = 0; k < MQR_MAX_RANK; k++) r->dims[k] = d.dims[k];
    switch (d.loc) {
    case MQR_LOC_INPUT: r->data = (void *)(uintptr_t)inputs[d.where]; break; /* kernels only read inputs */
    case MQR_LOC_OUTPUT: r->data = outputs[d.where]; break;
    case MQR_LOC_WEIGHT: r->data = (void *)(uintptr_t)(m->weights + d.where); break;
    default: r->data = arena + d.where; break;
    }
}

static size_t bytes_of(const mqr_tensor *r)
{
    return (size_t)mqr_numel(r) * mqr_dtype_size(r->dtype);
}

void mqr_actual_dims(const mqr_model *m, const uint8_t *arena, const mqr_fmt_tensor *d, int32_t dims[MQR_MAX_RANK])
{
    mqr_fmt_tensor s;
    uint32_t k;
    for (k = 0; k < MQR_MAX_RANK; k++) dims[k] = k < d->rank ? d->dims[k] : 0;
    if (!d->shape) return;
    memcpy(&s, m->tensors + (size_t)(d->shape - 1) * sizeof s, sizeof s); /* int32 [rank] in the arena (load) */
    for (k = 0; k < d->rank; k++) {
        int32_t v;
        memcpy(&v, arena + s.where + 4 * (size_t)k, 4);
        /* the slot's bytes are the kernel's, or stale if it did not run: keep them inside the bound */
        dims[k] = v < 0 ? 0 : v > d->dims[k] ? d->dims[k] : v;
    }
}

/* Steps [first, end): kernel calls, and control steps over the steps after them. Recursion is as deep
 * as the control steps nest (at most MQR_MAX_NEST, checked at load). */
static mqr_status run_range(const mqr_model *m, uint8_t *a, const void *const *inputs, void *const *outputs,
                            uint32_t first, uint32_t end)
{
    mqr_tensor *in = (mqr_tensor *)(void *)(a + m->work_offset), *out = in + m->max_in;
    uint32_t i = first, j;
    while (i < end) {
        mqr_fmt_step s;
        mqr_call c;
        const int32_t *p;
        mqr_status st = MQR_OK;
        memcpy(&s, m->steps + (size_t)i * sizeof s, sizeof s);
        for (j = 0; j < s.n_in; j++) bind(m, rd32(m->indices + 4 * ((size_t)s.in_first + j)), a, inputs, outputs, &in[j]);
        for (j = 0; j < s.n_out; j++)
            bind(m, rd32(m->indices + 4 * ((size_t)s.out_first + j)), a, inputs, outputs, &out[j]);
        p = m->params + s.param_first;
        if (s.kind == MQR_STEP_IF) { /* then: the next p[0] steps; else: the p[1] after them */
            uint32_t nt = (uint32_t)p[0], ne = (uint32_t)p[1];
            if (*(const uint8_t *)in[0].data) st = run_range(m, a, inputs, outputs, i + 1, i + 1 + nt);
            else st = run_range(m, a, inputs, outputs, i + 1 + nt, i + 1 + nt + ne);
            if (st != MQR_OK) return st;
            i += 1 + nt + ne;
            continue;
        }
        if (s.kind == MQR_STEP_LOOP) { /* the next p[0] steps, p[1] times while the condition holds */
            const uint8_t *cond = (const uint8_t *)in[0].data; /* NULL: no condition */
            uint8_t *counter = (uint8_t *)out[0].data;
            int64_t it;
            for (it = 0; it < p[1]; it++) {
                if (cond && !*cond) break;
                if (counter) memcpy(counter, &it, sizeof it);
                st = run_range(m, a, inputs, outputs, i + 1, i + 1 + (uint32_t)p[0]);
                if (st != MQR_OK) return st;
            }
            if (p[2] && it < p[1]) return MQR_E_LOOP;
            i += 1 + (uint32_t)p[0];
            continue;
        }
        c.p = p;
        c.n_p = (int32_t)s.n_params;
        c.in = in;
        c.n_in = (int32_t)s.n_in;
        c.out = out;
        c.n_out = (int32_t)s.n_out;
        c.scratch = s.scratch_bytes ? a + m->scratch_offset : 0;
        if (!mqr_call_writes_nothing(&c)) m->kernels[s.kernel]->fn(&c);
        i++;
    }
    return MQR_OK;
}

mqr_status mqr_run(const mqr_model *m, void *arena, const void *const *inputs, void *const *outputs)
{
    uint8_t *a = (uint8_t *)arena;
    mqr_tensor src;
    mqr_status st;
    uint32_t i;
    if (!m || !m->buf || !arena || ((uintptr_t)arena & 15u)) return MQR_E_ARG;
    if ((m->n_inputs && !inputs) || (m->n_outputs && !outputs)) return MQR_E_ARG;
    for (i = 0; i < m->n_inputs; i++)
        if (!inputs[i]) return MQR_E_ARG;
    for (i = 0; i < m->n_outputs; i++)
        if (!outputs[i]) return MQR_E_ARG;
    st = run_range(m, a, inputs, outputs, 0, m->n_steps);
    if (st != MQR_OK) return st;
    /* graph outputs that no step wrote in place: copy from where they live */
    for (i = 0; i < m->n_outputs; i++) {
        uint32_t t = rd32(m->io + 8 + 4 * ((size_t)m->n_inputs + i));
        mqr_fmt_tensor d;
        memcpy(&d, m->tensors + (size_t)t * sizeof d, sizeof d);
        if (d.loc == MQR_LOC_OUTPUT && d.where == i) continue;
        bind(m, t, a, inputs, outputs, &src);
        mqr_actual_dims(m, a, &d, src.dims); /* a data-dependent shape: only the actual elements */
        if (bytes_of(&src)) memmove(outputs[i], src.data, bytes_of(&src));
    }
    return MQR_OK;
}
