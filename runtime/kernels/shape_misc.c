/* shape_misc.c: less common 'shape' kernels: OneHot, Trilu, ReverseSequence; any dtype by element
 * size. Parameter layouts: shape.h. */
#include "runtime/kernels/shape.h"

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
    const int64_t k = c->n_in > 1 && c->in[1].rank >= 0 ? *(const int64_t *)c->in[1].data : c->p[1];
    const size_t esz = mqk_sh_esize(x->dtype);
    const int32_t rows = x->dims[r - 2], cols = x->dims[r - 1], mats = mqk_sh_prod(x->dims, 0, r - 2);
    const uint8_t *s = (const uint8_t *)x->data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t m, i;
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
