/* shape_scatter.c: the scatter kernels: ScatterElements (and the old Scatter), ScatterND, with the
 * reductions none / add / mul / max / min; any dtype. Parameter layouts: shape.h. */
#include "runtime/kernels/shape.h"
#include "runtime/kernels/shape_check.h"

#define SH_RED_FLOAT(T)                                                                            \
    {                                                                                              \
        T a, b;                                                                                    \
        memcpy(&a, dst, sizeof a);                                                                 \
        memcpy(&b, src, sizeof b);                                                                 \
        a = red == MQK_SCAT_ADD ? a + b : red == MQK_SCAT_MUL ? a * b : red == MQK_SCAT_MAX ? (a > b ? a : b) \
                                                                                     : (a < b ? a : b); \
        memcpy(dst, &a, sizeof a);                                                                 \
        return;                                                                                    \
    }
/* integers wrap as two's complement: the arithmetic runs on uint64_t */
#define SH_RED_INT(T)                                                                              \
    {                                                                                              \
        T a, b;                                                                                    \
        memcpy(&a, dst, sizeof a);                                                                 \
        memcpy(&b, src, sizeof b);                                                                 \
        if (red == MQK_SCAT_ADD) a = (T)((uint64_t)a + (uint64_t)b);                               \
        else if (red == MQK_SCAT_MUL) a = (T)((uint64_t)a * (uint64_t)b);                          \
        else if (red == MQK_SCAT_MAX) a = a > b ? a : b;                                           \
        else a = a < b ? a : b;                                                                    \
        memcpy(dst, &a, sizeof a);                                                                 \
        return;                                                                                    \
    }

/* *dst = *dst (red) *src for one element of dtype dt (red != MQK_SCAT_NONE). */
static void sh_reduce(uint8_t *dst, const uint8_t *src, int32_t dt, int32_t red)
{
    switch (dt) {
    case MQR_F32: SH_RED_FLOAT(float)
    case MQR_F64: SH_RED_FLOAT(double)
    case MQR_I8: SH_RED_INT(int8_t)
    case MQR_U8: SH_RED_INT(uint8_t)
    case MQR_I16: SH_RED_INT(int16_t)
    case MQR_U16: SH_RED_INT(uint16_t)
    case MQR_I32: SH_RED_INT(int32_t)
    case MQR_U32: SH_RED_INT(uint32_t)
    case MQR_I64: SH_RED_INT(int64_t)
    case MQR_U64: SH_RED_INT(uint64_t)
    default: SH_RED_INT(uint8_t) /* bool */
    }
}

/* n consecutive elements: dst (red)= src. */
static void sh_apply(uint8_t *dst, const uint8_t *src, int32_t n, size_t esz, int32_t dt, int32_t red)
{
    int32_t e;
    if (red == MQK_SCAT_NONE) {
        memcpy(dst, src, (size_t)n * esz);
        return;
    }
    for (e = 0; e < n; e++) sh_reduce(dst + (size_t)e * esz, src + (size_t)e * esz, dt, red);
}

static void sh_copy_data(const mqr_call *c, size_t esz)
{
    const size_t bytes = (size_t)mqr_numel(&c->in[0]) * esz;
    if (bytes && c->out[0].data != c->in[0].data) memcpy(c->out[0].data, c->in[0].data, bytes);
}

void mqk_k_sh_scatter_elems(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1];
    const int axis = (int)c->p[0], r = (int)x->rank;
    const int32_t red = c->p[1], m = mqr_numel(ix);
    const size_t esz = mqk_sh_esize(x->dtype);
    const uint8_t *u = (const uint8_t *)c->in[2].data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t xs[MQR_MAX_RANK], idx[MQR_MAX_RANK], j, base = 0;
    int d;
    sh_copy_data(c, esz);
    xs[r - 1] = 1;
    for (d = r - 2; d >= 0; d--) xs[d] = xs[d + 1] * x->dims[d + 1];
    for (d = 0; d < r; d++) idx[d] = 0;
    for (j = 0; j < m; j++) { /* base: offset of idx with the axis coordinate 0 */
        const int32_t v = mqk_sh_norm(mqk_sh_index(ix, j), x->dims[axis]);
        if (v >= 0) sh_apply(o + (size_t)(base + v * xs[axis]) * esz, u + (size_t)j * esz, 1, esz, x->dtype, red);
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

void mqk_k_sh_scatter_nd(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1];
    const int32_t red = c->p[0];
    const int k = (int)ix->dims[ix->rank - 1];
    const int32_t M = mqk_sh_prod(ix->dims, 0, ix->rank - 1), S = mqk_sh_prod(x->dims, k, x->rank);
    const size_t esz = mqk_sh_esize(x->dtype);
    const uint8_t *u = (const uint8_t *)c->in[2].data;
    uint8_t *o = (uint8_t *)c->out[0].data;
    int32_t m, xs[MQR_MAX_RANK];
    int j;
    sh_copy_data(c, esz);
    for (j = 0; j < k; j++) xs[j] = mqk_sh_prod(x->dims, j + 1, x->rank);
    for (m = 0; m < M; m++) {
        int32_t off = 0;
        int ok = 1;
        for (j = 0; j < k; j++) {
            const int32_t v = mqk_sh_norm(mqk_sh_index(ix, m * k + j), x->dims[j]);
            if (v < 0) ok = 0;
            else off += v * xs[j];
        }
        if (ok) sh_apply(o + (size_t)off * esz, u + (size_t)m * (size_t)S * esz, S, esz, x->dtype, red);
    }
}

/* ---- load-time checks (mqr_kernel.h) ------------------------------------------------------------ */

/* ScatterElements: out like x (rank r >= 1), indices of rank r no larger than x off the axis, updates
 * shaped as the indices with x's dtype, a known reduction. */
int mqk_c_sh_scatter_elems(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1], *u = &c->in[2];
    int64_t m;
    int32_t axis, red;
    int d;
    (void)scratch_bytes;
    if (c->n_in != 3 || c->n_out != 1 || c->n_p != 2) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(x, 0) || !mqk_shc_index_tensor(ix, &m) || !mqk_shc_tensor(u, 0) || !mqk_shc_like(&c->out[0], x))
        return MQR_CHECK_BAD;
    axis = c->p[0];
    red = c->p[1];
    if (axis < 0 || axis >= x->rank || red < MQK_SCAT_NONE || red > MQK_SCAT_MIN) return MQR_CHECK_BAD;
    if (ix->rank != x->rank || u->dtype != x->dtype || !mqk_shc_same_shape(u, ix)) return MQR_CHECK_BAD;
    for (d = 0; d < x->rank; d++)
        if (d != axis && ix->dims[d] > x->dims[d]) return MQR_CHECK_BAD;
    return mqk_shc_const_indices(ix, m, &x->dims[axis], 1) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* ScatterND: out like x (rank >= 1), index depth k = ix.dims[-1] in [1, rank x], updates =
 * ix.dims[:-1] + x.dims[k:] of x's dtype, a known reduction. */
int mqk_c_sh_scatter_nd(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0], *ix = &c->in[1], *u = &c->in[2];
    int64_t m;
    int32_t k, red;
    int d, j = 0;
    (void)scratch_bytes;
    if (c->n_in != 3 || c->n_out != 1 || c->n_p != 1) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(x, 0) || !mqk_shc_index_tensor(ix, &m) || !mqk_shc_tensor(u, 0) || !mqk_shc_like(&c->out[0], x))
        return MQR_CHECK_BAD;
    red = c->p[0];
    if (red < MQK_SCAT_NONE || red > MQK_SCAT_MIN || x->rank < 1 || ix->rank < 1) return MQR_CHECK_BAD;
    k = ix->dims[ix->rank - 1];
    if (k < 1 || k > x->rank || u->dtype != x->dtype || u->rank != ix->rank - 1 + x->rank - k) return MQR_CHECK_BAD;
    for (d = 0; d < ix->rank - 1; d++)
        if (u->dims[j++] != ix->dims[d]) return MQR_CHECK_BAD;
    for (d = k; d < x->rank; d++)
        if (u->dims[j++] != x->dims[d]) return MQR_CHECK_BAD;
    return mqk_shc_const_indices(ix, m, x->dims, k) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
