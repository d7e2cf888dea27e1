/* shape_misc.c: less common 'shape' kernels: OneHot, Trilu, ReverseSequence; any dtype by element
 * size. Parameter layouts: shape.h. */
#include "runtime/kernels/shape.h"
#include "runtime/kernels/shape_check.h"

/* Element i of a numeric tensor as an integer (floats truncate); 0 if it is not a finite value in
 * int64 range. */
static int sh_load_int(const mqr_tensor *t, int32_t i, int64_t *v)
{
    double f;
    switch (t->dtype) {
    case MQR_F32: f = ((const float *)t->data)[i]; break;
    case MQR_F64: f = ((const double *)t->data)[i]; break;
    case MQR_I8: *v = ((const int8_t *)t->data)[i]; return 1;
    case MQR_U8: case MQR_BOOL: *v = ((const uint8_t *)t->data)[i]; return 1;
    case MQR_I16: *v = ((const int16_t *)t->data)[i]; return 1;
    case MQR_U16: *v = ((const uint16_t *)t->data)[i]; return 1;
    case MQR_I32: *v = ((const int32_t *)t->data)[i]; return 1;
    case MQR_U32: *v = ((const uint32_t *)t->data)[i]; return 1;
    case MQR_U64: *v = (int64_t)((const uint64_t *)t->data)[i]; return 1;
    default: *v = ((const int64_t *)t->data)[i]; return 1;
    }
    if (!(f > -9.2e18 && f < 9.2e18)) return 0;
    *v = (int64_t)f;
    return 1;
}

void mqk_k_sh_onehot(const mqr_call *c)
{
    const mqr_tensor *ix = &c->in[0], *o = &c->out[0];
    const int axis = (int)c->p[0];
    const size_t esz = mqk_sh_esize(o->dtype);
    const int32_t depth = o->dims[axis], outer = mqk_sh_prod(ix->dims, 0, axis);
    const int32_t inner = mqk_sh_prod(ix->dims, axis, ix->rank);
    const uint8_t *off = (const uint8_t *)c->in[2].data, *on = off + esz;
    uint8_t *p = (uint8_t *)o->data;
    int32_t a, i;
    mqk_sh_fill(p, off, esz, mqr_numel(o));
    for (a = 0; a < outer; a++)
        for (i = 0; i < inner; i++) {
            int64_t v = 0;
            if (!sh_load_int(ix, a * inner + i, &v)) continue;
            if (v < 0) v += depth;
            if (v < 0 || v >= depth) continue;
            memcpy(p + (((size_t)a * (size_t)depth + (size_t)v) * (size_t)inner + (size_t)i) * esz, on, esz);
        }
}

void mqk_k_sh_trilu(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    const int r = (int)x->rank, upper = c->p[0] != 0;
    int64_t k = c->n_in > 1 && c->in[1].rank >= 0 ? *(const int64_t *)c->in[1].data : c->p[1];
    const size_t esz = mqk_sh_esize(x->dtype);
    const int32_t rows = x->dims[r - 2], cols = x->dims[r - 1], mats = mqk_sh_prod(x->dims, 0, r - 2);
    const uint8_t *s = (const uint8_t *)x->data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t m, i;
    /* k may be computed: bound it so i + k + 1 cannot overflow (beyond +-2^32 every k acts alike) */
    if (k > ((int64_t)1 << 32)) k = (int64_t)1 << 32;
    if (k < -((int64_t)1 << 32)) k = -((int64_t)1 << 32);
    for (m = 0; m < mats; m++)
        for (i = 0; i < rows; i++) {
            /* keep columns j with j - i >= k (upper) or j - i <= k (lower): [lo, hi) */
            const size_t at = ((size_t)m * (size_t)rows + (size_t)i) * (size_t)cols;
            int64_t lo = 0, hi = cols, t;
            if (upper) {
                t = (int64_t)i + k;
                lo = t < 0 ? 0 : (t > cols ? cols : t);
            } else {
                t = (int64_t)i + k + 1;
                hi = t < 0 ? 0 : (t > cols ? cols : t);
            }
            if (hi < lo) hi = lo;
            memset(o + at * esz, 0, (size_t)lo * esz);
            if (hi > lo) memcpy(o + (at + (size_t)lo) * esz, s + (at + (size_t)lo) * esz, (size_t)(hi - lo) * esz);
            memset(o + (at + (size_t)hi) * esz, 0, (size_t)(cols - hi) * esz);
        }
}

void mqk_k_sh_revseq(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *l = &c->in[1];
    const int b = (int)c->p[0], t = (int)c->p[1];
    const size_t esz = mqk_sh_esize(x->dtype);
    const int32_t B = x->dims[b], T = x->dims[t], inner = mqk_sh_prod(x->dims, 2, x->rank);
    const size_t sb = (size_t)(b == 0 ? T : 1) * (size_t)inner, st = (size_t)(t == 0 ? B : 1) * (size_t)inner;
    const size_t row = (size_t)inner * esz;
    const uint8_t *s = (const uint8_t *)x->data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t i, j;
    for (i = 0; i < B; i++) {
        int64_t len = mqk_sh_index(l, i);
        len = len < 0 ? 0 : (len > T ? T : len);
        for (j = 0; j < T; j++) {
            const int32_t sj = j < len ? (int32_t)len - 1 - j : j;
            memcpy(o + ((size_t)i * sb + (size_t)j * st) * esz, s + ((size_t)i * sb + (size_t)sj * st) * esz, row);
        }
    }
}

/* ---- load-time checks (mqr_kernel.h) ------------------------------------------------------------ */

/* OneHot: out[0] of rank ix.rank + 1, its dims without the axis equal the indices' (any runtime
 * dtype), in[2] = [off, on]: two elements of out's dtype. The depth input, in[1], is not read. */
int mqk_c_sh_onehot(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *ix = &c->in[0], *v = &c->in[2], *o = &c->out[0];
    int64_t nv;
    int32_t axis;
    int d, j = 0;
    (void)scratch_bytes;
    if (c->n_in != 3 || c->n_out != 1 || c->n_p != 1) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(ix, 0) || !mqk_shc_tensor(v, &nv) || !mqk_shc_tensor(o, 0)) return MQR_CHECK_BAD;
    axis = c->p[0];
    if (o->rank != ix->rank + 1 || axis < 0 || axis >= o->rank || v->dtype != o->dtype || nv != 2)
        return MQR_CHECK_BAD;
    for (d = 0; d < o->rank; d++)
        if (d != axis && o->dims[d] != ix->dims[j++]) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* Trilu: out like x of rank >= 2, upper 0 or 1; an in[1] that is present is a one-element int64 k. */
int mqk_c_sh_trilu(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0];
    int64_t nk;
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_in > 2 || c->n_out != 1 || c->n_p != 2 || (c->p[0] != 0 && c->p[0] != 1))
        return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(x, 0) || x->rank < 2 || !mqk_shc_like(&c->out[0], x)) return MQR_CHECK_BAD;
    if (c->n_in > 1 && !mqk_shc_omitted(&c->in[1]) &&
        (!mqk_shc_tensor(&c->in[1], &nk) || c->in[1].dtype != MQR_I64 || nk != 1))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* ReverseSequence: (batch, time) axes (0, 1) or (1, 0), out like x of rank >= 2, sequence lengths 1-D
 * int32/int64 with one value per batch entry; constant lengths lie in [0, T] (computed ones the kernel clamps). */
int mqk_c_sh_revseq(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0], *l = &c->in[1];
    int32_t b, t, i;
    (void)scratch_bytes;
    if (c->n_in != 2 || c->n_out != 1 || c->n_p != 2) return MQR_CHECK_BAD;
    b = c->p[0];
    t = c->p[1];
    if (!((b == 0 && t == 1) || (b == 1 && t == 0))) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(x, 0) || x->rank < 2 || !mqk_shc_like(&c->out[0], x)) return MQR_CHECK_BAD;
    if (!mqk_shc_index_tensor(l, 0) || l->rank != 1 || l->dims[0] != x->dims[b]) return MQR_CHECK_BAD;
    if (l->data)
        for (i = 0; i < l->dims[0]; i++) {
            const int64_t len = mqk_sh_index(l, i);
            if (len < 0 || len > x->dims[t]) return MQR_CHECK_BAD;
        }
    return MQR_CHECK_OK;
}
