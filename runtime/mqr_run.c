/* mqr_run.c: running a loaded .mqd model: each step's tensors are pointed at the caller's inputs and
 * outputs, the weights or the arena, then its kernel runs. The model was validated by mqr_load. */
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

mqr_status mqr_run(const mqr_model *m, void *arena, const void *const *inputs, void *const *outputs)
{
    uint8_t *a = (uint8_t *)arena;
    mqr_tensor *in, *out, src;
    uint32_t i, j;
    if (!m || !m->buf || !arena || ((uintptr_t)arena & 15u)) return MQR_E_ARG;
    if ((m->n_inputs && !inputs) || (m->n_outputs && !outputs)) return MQR_E_ARG;
    for (i = 0; i < m->n_inputs; i++)
        if (!inputs[i]) return MQR_E_ARG;
    for (i = 0; i < m->n_outputs; i++)
        if (!outputs[i]) return MQR_E_ARG;
    in = (mqr_tensor *)(void *)(a + m->work_offset);
    out = in + m->max_in;
    for (i = 0; i < m->n_steps; i++) {
        mqr_fmt_step s;
        mqr_call c;
        memcpy(&s, m->steps + (size_t)i * sizeof s, sizeof s);
        for (j = 0; j < s.n_in; j++) bind(m, rd32(m->indices + 4 * ((size_t)s.in_first + j)), a, inputs, outputs, &in[j]);
        for (j = 0; j < s.n_out; j++)
            bind(m, rd32(m->indices + 4 * ((size_t)s.out_first + j)), a, inputs, outputs, &out[j]);
        c.p = m->params + s.param_first;
        c.n_p = (int32_t)s.n_params;
        c.in = in;
        c.n_in = (int32_t)s.n_in;
        c.out = out;
        c.n_out = (int32_t)s.n_out;
        c.scratch = s.scratch_bytes ? a + m->scratch_offset : 0;
        m->kernels[s.kernel]->fn(&c);
    }
    /* graph outputs that no step wrote in place: copy from where they live */
    for (i = 0; i < m->n_outputs; i++) {
        uint32_t t = rd32(m->io + 8 + 4 * ((size_t)m->n_inputs + i));
        mqr_fmt_tensor d;
        memcpy(&d, m->tensors + (size_t)t * sizeof d, sizeof d);
        if (d.loc == MQR_LOC_OUTPUT && d.where == i) continue;
        bind(m, t, a, inputs, outputs, &src);
        if (bytes_of(&src)) memmove(outputs[i], src.data, bytes_of(&src));
    }
    return MQR_OK;
}
