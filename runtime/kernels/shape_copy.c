/* shape_copy.c: the 'shape' kernels most models use: plain copy (Reshape-likes), strided views
 * (Transpose, Slice, Expand, Tile, Depth/SpaceToDepth), Concat and Split; any dtype (shape.h). */
#include "runtime/kernels/shape.h"
#include "runtime/kernels/shape_check.h"

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

/* ---- load-time checks (mqr_kernel.h) ------------------------------------------------------------ */

/* in[0] (a second input, Reshape's shape or (Un)Squeeze's axes, is not read) -> out[0]: same dtype
 * and element count. */
int mqk_c_sh_copy(const mqr_call *c, uint32_t scratch_bytes)
{
    int64_t ni, no;
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_in > 2 || c->n_out != 1 || c->n_p != 0) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(&c->in[0], &ni) || !mqk_shc_tensor(&c->out[0], &no)) return MQR_CHECK_BAD;
    return c->in[0].dtype == c->out[0].dtype && ni == no ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* The view's element count is out[0]'s; every offset it reaches, off + sum i_d * stride_d, lies in
 * [0, numel(in[0])). Inputs after the first (Slice's starts..steps, Expand's shape, Tile's repeats)
 * are not read. */
int mqk_c_sh_strided(const mqr_call *c, uint32_t scratch_bytes)
{
    int64_t ni, no, n = 1, lo, hi;
    int32_t r;
    int d, empty = 0;
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_in > 5 || c->n_out != 1 || c->n_p < 2) return MQR_CHECK_BAD;
    r = c->p[0];
    if (r < 0 || r > MQK_SH_MAX_VIEW || c->n_p != 2 + 2 * r) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(&c->in[0], &ni) || !mqk_shc_tensor(&c->out[0], &no)) return MQR_CHECK_BAD;
    if (c->in[0].dtype != c->out[0].dtype) return MQR_CHECK_BAD;
    for (d = 0; d < r; d++) {
        const int32_t dim = c->p[2 + d];
        if (dim < 0) return MQR_CHECK_BAD;
        if (dim == 0) empty = 1;
        else if ((n *= dim) > MQK_SHC_MAX_ELEMS) return MQR_CHECK_BAD;
    }
    if (empty) return no == 0 ? MQR_CHECK_OK : MQR_CHECK_BAD; /* the kernel reads nothing */
    if (n != no) return MQR_CHECK_BAD;
    /* lo only falls and hi only rises, each checked at every step: no overflow (|term| < 2^62) */
    lo = hi = c->p[1];
    if (lo < 0 || hi >= ni) return MQR_CHECK_BAD;
    for (d = 0; d < r; d++) {
        const int64_t span = (int64_t)(c->p[2 + d] - 1) * c->p[2 + r + d];
        if (span < 0) lo += span;
        else hi += span;
        if (lo < 0 || hi >= ni) return MQR_CHECK_BAD;
    }
    return MQR_CHECK_OK;
}

/* Every input has out's dtype, rank and dims but on the axis, where they add up to out's. */
int mqk_c_sh_concat(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *o = &c->out[0];
    int64_t sum = 0;
    int32_t i, axis;
    int d;
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_out != 1 || c->n_p != 1 || !mqk_shc_tensor(o, 0)) return MQR_CHECK_BAD;
    axis = c->p[0];
    if (axis < 0 || axis >= o->rank) return MQR_CHECK_BAD;
    for (i = 0; i < c->n_in; i++) {
        const mqr_tensor *x = &c->in[i];
        if (!mqk_shc_tensor(x, 0) || x->dtype != o->dtype || x->rank != o->rank) return MQR_CHECK_BAD;
        for (d = 0; d < o->rank; d++)
            if (d != axis && x->dims[d] != o->dims[d]) return MQR_CHECK_BAD;
        if ((sum += x->dims[axis]) > o->dims[axis]) return MQR_CHECK_BAD;
    }
    return sum == o->dims[axis] ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* k == n_out part sizes >= 0 adding up to in[0]'s axis; each present output has in[0]'s dtype, rank
 * and dims but on the axis, where it has its part size; omitted ones (rank -1, no data) are skipped. */
int mqk_c_sh_split(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0];
    int64_t sum = 0;
    int32_t i, axis, k;
    int d;
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_in > 2 || c->n_out < 1 || c->n_p < 2 || !mqk_shc_tensor(x, 0)) return MQR_CHECK_BAD;
    axis = c->p[0];
    k = c->p[1];
    if (axis < 0 || axis >= x->rank || k != c->n_out || c->n_p - 2 != k) return MQR_CHECK_BAD;
    for (i = 0; i < k; i++) {
        const mqr_tensor *o = &c->out[i];
        const int32_t size = c->p[2 + i];
        if (size < 0) return MQR_CHECK_BAD;
        sum += size;
        if (mqk_shc_omitted(o)) continue;
        if (!mqk_shc_tensor(o, 0) || o->dtype != x->dtype || o->rank != x->rank) return MQR_CHECK_BAD;
        for (d = 0; d < x->rank; d++)
            if (o->dims[d] != (d == axis ? size : x->dims[d])) return MQR_CHECK_BAD;
    }
    return sum == x->dims[axis] ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
