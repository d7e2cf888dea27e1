/* shape_stack.c: one row of a stacked tensor, chosen by an iteration counter at run time: what Scan
 * and Loop bodies read (a scan input's slice) and write (a scan output's slice) each iteration. */
#include "runtime/kernels/shape.h"
#include "runtime/kernels/shape_check.h"

/* Row i of stacked tensor s along p[0] (every dim before it is 1, so a row is contiguous); i counts
 * from the end when p[1] is 1. A counter outside [0, rows) touches nothing (the runtime never makes one). */
static uint8_t *sh_stack_row(const mqr_call *c, const mqr_tensor *s, const mqr_tensor *row)
{
    const int64_t rows = s->dims[c->p[0]];
    int64_t i;
    memcpy(&i, c->in[1].data, sizeof i);
    if (c->p[1]) i = rows - 1 - i;
    if (i < 0 || i >= rows) return 0;
    return (uint8_t *)s->data + (size_t)i * (size_t)mqr_numel(row) * mqk_sh_esize(row->dtype);
}

void mqk_k_sh_stack_get(const mqr_call *c)
{
    const uint8_t *src = sh_stack_row(c, &c->in[0], &c->out[0]);
    const size_t bytes = (size_t)mqr_numel(&c->out[0]) * mqk_sh_esize(c->out[0].dtype);
    if (src && bytes) memcpy(c->out[0].data, src, bytes);
}

void mqk_k_sh_stack_put(const mqr_call *c)
{
    uint8_t *dst = sh_stack_row(c, &c->out[0], &c->in[0]);
    const size_t bytes = (size_t)mqr_numel(&c->in[0]) * mqk_sh_esize(c->in[0].dtype);
    if (dst && bytes) memcpy(dst, c->in[0].data, bytes);
}

/* s (stacked) against row: same dtype, s's dims before axis are 1 and it holds dims[axis] rows of row's
 * element count (the host checked which dims the row keeps). The counter is an int64 scalar. */
static int sh_stack_ok(const mqr_call *c, const mqr_tensor *s, const mqr_tensor *row)
{
    int64_t ns, nr, nk;
    int32_t axis, d;
    if (c->n_in != 2 || c->n_out != 1 || c->n_p != 2 || (c->p[1] != 0 && c->p[1] != 1)) return 0;
    if (!mqk_shc_tensor(s, &ns) || !mqk_shc_tensor(row, &nr) || !mqk_shc_tensor(&c->in[1], &nk)) return 0;
    if (s->dtype != row->dtype || c->in[1].dtype != MQR_I64 || nk != 1) return 0;
    axis = c->p[0];
    if (axis < 0 || axis >= s->rank) return 0;
    for (d = 0; d < axis; d++)
        if (s->dims[d] != 1) return 0;
    return ns == (int64_t)s->dims[axis] * nr;
}

int mqk_c_sh_stack_get(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_out < 1) return MQR_CHECK_BAD;
    return sh_stack_ok(c, &c->in[0], &c->out[0]) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

int mqk_c_sh_stack_put(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_out < 1) return MQR_CHECK_BAD;
    return sh_stack_ok(c, &c->out[0], &c->in[0]) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
