/* fuse.c: activations folded into the convolution that produces their input (see fuse.h). */
#include "backend/fuse.h"

#include "core/alloc.h"
#include "runtime/mqr_kernel.h"

#include <math.h>
#include <string.h>

/* The float32 scalar of program tensor t if it is a constant (a weight), in *v. */
static int const_f32(const mq_program *p, int t, float *v)
{
    const mq_prog_tensor *pt = &p->tensors[t];
    if (pt->loc != MQ_LOC_WEIGHT || pt->dtype != MQR_F32 || pt->bytes != sizeof(float)) return 0;
    if (pt->index < 0 || pt->index >= p->n_weights || !p->weights[pt->index].data) return 0;
    memcpy(v, p->weights[pt->index].data, sizeof(float));
    return 1;
}

/* The bounds of an activation step, or 0 if it is not a fusable one. */
static int act_bounds(const mq_program *p, const mq_prog_step *a, float *lo, float *hi)
{
    if (!strcmp(a->kernel, "relu_f32")) {
        *lo = 0.0f;
        *hi = INFINITY;
        return a->n_in == 1 && a->n_out == 1;
    }
    if (strcmp(a->kernel, "clip_f32") || a->n_p < 2 || a->n_out != 1) return 0;
    *lo = mqr_p_f32(a->p[0]);
    *hi = mqr_p_f32(a->p[1]);
    if (a->n_in > 1 && a->in[1] >= 0 && !const_f32(p, a->in[1], lo)) return 0;
    if (a->n_in > 2 && a->in[2] >= 0 && !const_f32(p, a->in[2], hi)) return 0;
    return 1;
}

/* Does any step other than `skip`, or a graph output, read program tensor t? */
static int read_elsewhere(const mq_program *p, int t, int skip)
{
    for (int s = 0; s < p->n_steps; s++) {
        if (s == skip) continue;
        for (int k = 0; k < p->steps[s].n_in; k++)
            if (p->steps[s].in[k] == t) return 1;
    }
    for (int k = 0; k < p->n_outputs; k++)
        if (p->outputs[k] == t) return 1;
    return 0;
}

mq_status mq_program_fuse(mq_program *p, mq_err *err)
{
    if (p->flat) return MQ_OK; /* control steps (IF/LOOP) address the steps by index: leave them be */
    for (int s = 0; s < p->n_steps; s++) {
        mq_prog_step *c = &p->steps[s];
        if (strcmp(c->kernel, "conv_f32") || c->n_p != 13 || c->n_out != 1) continue;
        int t = c->out[0];
        for (int u = s + 1; u < p->n_steps; u++) {
            mq_prog_step *a = &p->steps[u];
            float lo, hi;
            if (a->n_in < 1 || a->in[0] != t) continue;
            /* the first reader of t: fused only if it is an in-place activation and t's only reader */
            const mq_prog_tensor *ti = &p->tensors[t], *to = &p->tensors[a->out[0]];
            if (act_bounds(p, a, &lo, &hi) && ti->loc == MQ_LOC_ARENA && to->loc == MQ_LOC_ARENA &&
                ti->offset == to->offset && ti->bytes == to->bytes && to->dtype == ti->dtype &&
                !read_elsewhere(p, t, u)) {
                int32_t *np = mq_arena_array(p->mem, 16, sizeof(int32_t));
                if (!np) return mq_fail(err, MQ_ERR_NOMEM, "out of memory fusing the program");
                memcpy(np, c->p, 13 * sizeof(int32_t));
                np[13] = 1;
                np[14] = mqr_f32_bits(lo);
                np[15] = mqr_f32_bits(hi);
                c->p = np;
                c->n_p = 16;
                c->out[0] = a->out[0];
                memmove(a, a + 1, sizeof *a * (size_t)(p->n_steps - u - 1));
                p->n_steps--;
            }
            break;
        }
    }
    return MQ_OK;
}
