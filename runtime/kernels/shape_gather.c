/* shape_gather.c: the gather kernels: Gather, GatherElements, GatherND, any data dtype by element size,
 * int32/int64 indices (constant or computed at run time). Parameter layouts: shape.h. */
#include "runtime/kernels/shape.h"
#include "runtime/kernels/shape_check.h"

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
            if (++idx[d] < ix->dims[d]) {
                if (d != axis) base += xs[d];
                break;
            }
            if (d != axis) base -= xs[d] * (ix->dims[d] - 1);
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

/* ---- load-time checks (mqr_kernel.h) ------------------------------------------------------------ */

/* Gather: x of rank >= 1, axis < rank, int32/int64 indices; out = x.dims[:axis] + ix.dims +
 * x.dims[axis+1:] of x's dtype. Constant indices lie in [-dim, dim); computed ones the kernel bounds. */
int mqk_c_sh_gather(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1], *o = &c->out[0];
    int64_t m;
    int32_t axis;
    int d, k = 0;
    (void)scratch_bytes;
    if (c->n_in != 2 || c->n_out != 1 || c->n_p != 1) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(x, 0) || !mqk_shc_index_tensor(ix, &m) || !mqk_shc_tensor(o, 0)) return MQR_CHECK_BAD;
    axis = c->p[0];
    if (axis < 0 || axis >= x->rank || o->dtype != x->dtype || o->rank != x->rank - 1 + ix->rank)
        return MQR_CHECK_BAD;
    for (d = 0; d < axis; d++)
        if (o->dims[k++] != x->dims[d]) return MQR_CHECK_BAD;
    for (d = 0; d < ix->rank; d++)
        if (o->dims[k++] != ix->dims[d]) return MQR_CHECK_BAD;
    for (d = axis + 1; d < x->rank; d++)
        if (o->dims[k++] != x->dims[d]) return MQR_CHECK_BAD;
    return mqk_shc_const_indices(ix, m, &x->dims[axis], 1) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* GatherElements: x of rank r >= 1, indices of rank r no larger than x off the axis, out shaped as
 * the indices with x's dtype. */
int mqk_c_sh_gather_elems(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1], *o = &c->out[0];
    int64_t m;
    int32_t axis;
    int d;
    (void)scratch_bytes;
    if (c->n_in != 2 || c->n_out != 1 || c->n_p != 1) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(x, 0) || !mqk_shc_index_tensor(ix, &m) || !mqk_shc_tensor(o, 0)) return MQR_CHECK_BAD;
    axis = c->p[0];
    if (axis < 0 || axis >= x->rank || ix->rank != x->rank || o->dtype != x->dtype || !mqk_shc_same_shape(o, ix))
        return MQR_CHECK_BAD;
    for (d = 0; d < x->rank; d++)
        if (d != axis && ix->dims[d] > x->dims[d]) return MQR_CHECK_BAD;
    return mqk_shc_const_indices(ix, m, &x->dims[axis], 1) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* GatherND: 0 <= b < min(rank x, rank ix), index depth k = ix.dims[-1] in [1, rank x - b], the first b
 * dims of x and ix equal; out = ix.dims[:-1] + x.dims[b+k:] of x's dtype. */
int mqk_c_sh_gather_nd(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1], *o = &c->out[0];
    int64_t m;
    int32_t b, k;
    int d, j = 0;
    (void)scratch_bytes;
    if (c->n_in != 2 || c->n_out != 1 || c->n_p != 1) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(x, 0) || !mqk_shc_index_tensor(ix, &m) || !mqk_shc_tensor(o, 0)) return MQR_CHECK_BAD;
    b = c->p[0];
    if (x->rank < 1 || ix->rank < 1 || b < 0 || b >= ix->rank || b >= x->rank) return MQR_CHECK_BAD;
    k = ix->dims[ix->rank - 1];
    if (k < 1 || k > x->rank - b || o->dtype != x->dtype || o->rank != ix->rank - 1 + x->rank - b - k)
        return MQR_CHECK_BAD;
    for (d = 0; d < b; d++)
        if (ix->dims[d] != x->dims[d]) return MQR_CHECK_BAD;
    for (d = 0; d < ix->rank - 1; d++)
        if (o->dims[j++] != ix->dims[d]) return MQR_CHECK_BAD;
    for (d = b + k; d < x->rank; d++)
        if (o->dims[j++] != x->dims[d]) return MQR_CHECK_BAD;
    return mqk_shc_const_indices(ix, m, &x->dims[b], k) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
