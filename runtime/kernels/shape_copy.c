/* shape_copy.c: the 'shape' kernels most models use: plain copy (Reshape-likes), strided views
 * (Transpose, Slice, Expand, Tile, Depth/SpaceToDepth), Concat and Split; any dtype (shape.h). */
#include "runtime/kernels/shape.h"

void mqk_k_sh_copy(const mqr_call *c)
{
    const size_t bytes = (size_t)mqr_numel(&c->out[0]) * mqk_sh_esize(c->out[0].dtype);
    if (bytes && c->out[0].data != c->in[0].data) memcpy(c->out[0].data, c->in[0].data, bytes);
}

/* n elements of esz bytes from s (advancing step elements) to contiguous o. */
static void sh_row(uint8_t *o, const uint8_t *s, size_t esz, int32_t n, int32_t step)
{
    int32_t i;
    if (step == 1) {
        memcpy(o, s, (size_t)n * esz);
        return;
    }
    if (esz == 1) {
        for (i = 0; i < n; i++) o[i] = s[(ptrdiff_t)i * step];
    } else if (esz == 2) {
        const uint16_t *p = (const uint16_t *)(const void *)s;
        uint16_t *d = (uint16_t *)(void *)o;
        for (i = 0; i < n; i++) d[i] = p[(ptrdiff_t)i * step];
    } else if (esz == 4) {
        const uint32_t *p = (const uint32_t *)(const void *)s;
        uint32_t *d = (uint32_t *)(void *)o;
        for (i = 0; i < n; i++) d[i] = p[(ptrdiff_t)i * step];
    } else {
        const uint64_t *p = (const uint64_t *)(const void *)s;
        uint64_t *d = (uint64_t *)(void *)o;
        for (i = 0; i < n; i++) d[i] = p[(ptrdiff_t)i * step];
    }
}

void mqk_k_sh_strided(const mqr_call *c)
{
    const int32_t r = c->p[0];
    const int32_t *dims = c->p + 2, *st = c->p + 2 + r;
    const size_t esz = mqk_sh_esize(c->out[0].dtype);
    const uint8_t *src = (const uint8_t *)c->in[0].data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t idx[MQK_SH_MAX_VIEW], inner, step;
    int64_t base = c->p[1];
    int d;
    if (r == 0) {
        memcpy(o, src + (size_t)base * esz, esz);
        return;
    }
    for (d = 0; d < r; d++) {
        if (dims[d] <= 0) return;
        idx[d] = 0;
    }
    inner = dims[r - 1];
    step = st[r - 1];
    for (;;) {
        sh_row(o, src + (size_t)base * esz, esz, inner, step);
        o += (size_t)inner * esz;
        for (d = r - 2; d >= 0; d--) {
            base += st[d];
            if (++idx[d] < dims[d]) break;
            base -= (int64_t)st[d] * dims[d];
            idx[d] = 0;
        }
        if (d < 0) break;
    }
}

void mqk_k_sh_concat(const mqr_call *c)
{
    const mqr_tensor *o = &c->out[0];
    const int axis = (int)c->p[0];
    const size_t esz = mqk_sh_esize(o->dtype);
    const int32_t outer = mqk_sh_prod(o->dims, 0, axis), inner = mqk_sh_prod(o->dims, axis + 1, o->rank);
    const size_t orow = (size_t)o->dims[axis] * (size_t)inner * esz;
    size_t off = 0;
    int32_t i, k;
    for (i = 0; i < c->n_in; i++) {
        const size_t row = (size_t)c->in[i].dims[axis] * (size_t)inner * esz;
        const uint8_t *s = (const uint8_t *)c->in[i].data;
        uint8_t *p = (uint8_t *)o->data + off;
        if (!row) continue;
        for (k = 0; k < outer; k++) memcpy(p + (size_t)k * orow, s + (size_t)k * row, row);
        off += row;
    }
}

void mqk_k_sh_split(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    const int axis = (int)c->p[0];
    const int32_t k = c->p[1], *sizes = c->p + 2;
    const size_t esz = mqk_sh_esize(x->dtype);
    const int32_t outer = mqk_sh_prod(x->dims, 0, axis), inner = mqk_sh_prod(x->dims, axis + 1, x->rank);
    const size_t xrow = (size_t)x->dims[axis] * (size_t)inner * esz;
    size_t off = 0;
    int32_t i, j;
    for (i = 0; i < k; i++) {
        const size_t row = (size_t)sizes[i] * (size_t)inner * esz;
        if (i < c->n_out && c->out[i].data && row) {
            const uint8_t *s = (const uint8_t *)x->data + off;
            uint8_t *p = (uint8_t *)c->out[i].data;
            for (j = 0; j < outer; j++) memcpy(p + (size_t)j * row, s + (size_t)j * xrow, row);
        }
        off += row;
    }
}
