/* shape_gather.c: the gather kernels: Gather, GatherElements, GatherND, any data dtype by element size,
 * int32/int64 indices (constant or computed at run time). Parameter layouts: shape.h. */
#include "runtime/kernels/shape.h"

/* dst = element(s) at src, or zeros when the index was out of range (src NULL). */
static void sh_take(uint8_t *dst, const uint8_t *src, size_t bytes)
{
    if (src) memcpy(dst, src, bytes);
    else memset(dst, 0, bytes);
}

void mqk_k_sh_gather(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1];
    const int axis = (int)c->p[0];
    const size_t esz = mqk_sh_esize(x->dtype);
    const int32_t outer = mqk_sh_prod(x->dims, 0, axis), A = x->dims[axis];
    const int32_t inner = mqk_sh_prod(x->dims, axis + 1, x->rank), m = mqr_numel(ix);
    const size_t row = (size_t)inner * esz;
    const uint8_t *s = (const uint8_t *)x->data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t p, j;
    if (!row) return;
    for (p = 0; p < outer; p++)
        for (j = 0; j < m; j++) {
            const int32_t v = mqk_sh_norm(mqk_sh_index(ix, j), A);
            sh_take(o, v < 0 ? 0 : s + ((size_t)p * (size_t)A + (size_t)v) * row, row);
            o += row;
        }
}

void mqk_k_sh_gather_elems(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1];
    const int axis = (int)c->p[0], r = (int)x->rank;
    const size_t esz = mqk_sh_esize(x->dtype);
    const int32_t m = mqr_numel(ix);
    const uint8_t *s = (const uint8_t *)x->data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t xs[MQR_MAX_RANK], idx[MQR_MAX_RANK], j, base = 0;
    int d;
    xs[r - 1] = 1;
    for (d = r - 2; d >= 0; d--) xs[d] = xs[d + 1] * x->dims[d + 1];
    for (d = 0; d < r; d++) idx[d] = 0;
    for (j = 0; j < m; j++) { /* base: offset of idx with the axis coordinate 0 */
        const int32_t v = mqk_sh_norm(mqk_sh_index(ix, j), x->dims[axis]);
        sh_take(o + (size_t)j * esz, v < 0 ? 0 : s + (size_t)(base + v * xs[axis]) * esz, esz);
        for (d = r - 1; d >= 0; d--) {
            if (d != axis) base += xs[d];
            if (++idx[d] < ix->dims[d]) break;
            if (d != axis) base -= xs[d] * ix->dims[d];
            idx[d] = 0;
        }
    }
}

void mqk_k_sh_gather_nd(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1];
    const int b = (int)c->p[0], k = (int)ix->dims[ix->rank - 1];
    const size_t esz = mqk_sh_esize(x->dtype);
    const int32_t B = mqk_sh_prod(x->dims, 0, b), M = mqk_sh_prod(ix->dims, b, ix->rank - 1);
    const int32_t S = mqk_sh_prod(x->dims, b + k, x->rank), bstride = mqk_sh_prod(x->dims, b, x->rank);
    const size_t row = (size_t)S * esz;
    const uint8_t *s = (const uint8_t *)x->data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t bi, m, xs[MQR_MAX_RANK];
    int j;
    if (!row) return;
    for (j = 0; j < k; j++) xs[j] = mqk_sh_prod(x->dims, b + j + 1, x->rank);
    for (bi = 0; bi < B; bi++)
        for (m = 0; m < M; m++) {
            const int32_t base = (bi * M + m) * k;
            int32_t off = bi * bstride;
            int ok = 1;
            for (j = 0; j < k; j++) {
                const int32_t v = mqk_sh_norm(mqk_sh_index(ix, base + j), x->dims[b + j]);
                if (v < 0) ok = 0;
                else off += v * xs[j];
            }
            sh_take(o, ok ? s + (size_t)off * esz : 0, row);
            o += row;
        }
}
