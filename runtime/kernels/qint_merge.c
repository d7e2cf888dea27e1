/* qint_merge.c: the integer kernels that merge tensors of a lowered MaQD model (qint_merge.h): the
 * residual Add of two integer operands quantized by a table or by int64 fixed-point thresholds, and the
 * requantization of codes to a Concat's common scale by a table. */
#include "runtime/kernels/qint_merge.h"
#include "runtime/kernels/nn_check.h"

/* Element i of an integer tensor (uint8, int16 or int32) as int64. */
static int64_t qm_load(const mqr_tensor *t, size_t i)
{
    if (t->dtype == MQR_U8) return ((const uint8_t *)t->data)[i];
    if (t->dtype == MQR_I16) return ((const int16_t *)t->data)[i];
    return ((const int32_t *)t->data)[i];
}

/* One plane of qint_add for operand types TA, TB: y[i] = #{t : ka a[i] + kb b[i] >= thr[t]} (unsigned
 * products and sum: a wrap, excluded by the compiler, is defined, not undefined behaviour). One function
 * per type pair, so the loads are not dispatched per element. */
#define QM_ADD_PLANE(NAME, TA, TB)                                                                  \
    static void NAME(const void *av, const void *bv, size_t i0, size_t i1, const int64_t *pc, size_t nthr, \
                     uint8_t *y)                                                                    \
    {                                                                                               \
        const TA *a = (const TA *)av;                                                               \
        const TB *b = (const TB *)bv;                                                               \
        uint64_t ka = (uint64_t)pc[0], kb = (uint64_t)pc[1];                                        \
        size_t i, t;                                                                                \
        for (i = i0; i < i1; i++) {                                                                 \
            int64_t v = (int64_t)(ka * (uint64_t)(int64_t)a[i] + kb * (uint64_t)(int64_t)b[i]);     \
            uint32_t cnt = 0;                                                                       \
            for (t = 0; t < nthr; t++) cnt += v >= pc[2 + t];                                       \
            y[i] = (uint8_t)cnt;                                                                    \
        }                                                                                           \
    }
QM_ADD_PLANE(qm_add_u8_u8, uint8_t, uint8_t)
QM_ADD_PLANE(qm_add_u8_i16, uint8_t, int16_t)
QM_ADD_PLANE(qm_add_u8_i32, uint8_t, int32_t)
QM_ADD_PLANE(qm_add_i16_u8, int16_t, uint8_t)
QM_ADD_PLANE(qm_add_i16_i16, int16_t, int16_t)
QM_ADD_PLANE(qm_add_i16_i32, int16_t, int32_t)
QM_ADD_PLANE(qm_add_i32_u8, int32_t, uint8_t)
QM_ADD_PLANE(qm_add_i32_i16, int32_t, int16_t)
QM_ADD_PLANE(qm_add_i32_i32, int32_t, int32_t)
typedef void (*qm_add_fn)(const void *, const void *, size_t, size_t, const int64_t *, size_t, uint8_t *);
static const qm_add_fn qm_add_planes[3][3] = {{qm_add_u8_u8, qm_add_u8_i16, qm_add_u8_i32},
                                             {qm_add_i16_u8, qm_add_i16_i16, qm_add_i16_i32},
                                             {qm_add_i32_u8, qm_add_i32_i16, qm_add_i32_i32}};
/* 0, 1, 2 for uint8, int16, int32 */
static int qm_type_index(int32_t dt) { return dt == MQR_U8 ? 0 : dt == MQR_I16 ? 1 : 2; }

void mqk_k_qint_add(const mqr_call *c)
{
    const mqr_tensor *a = &c->in[0], *b = &c->in[1], *pt = &c->in[2];
    const int64_t *par = (const int64_t *)pt->data;
    size_t planes = (size_t)a->dims[0] * (size_t)a->dims[1], sp = 1, p, row = (size_t)pt->dims[1];
    qm_add_fn fn = qm_add_planes[qm_type_index(a->dtype)][qm_type_index(b->dtype)];
    int32_t d;
    for (d = 2; d < a->rank; d++) sp *= (size_t)a->dims[d];
    for (p = 0; p < planes; p++)
        fn(a->data, b->data, p * sp, (p + 1) * sp, par + (p % (size_t)a->dims[1]) * row, row - 2, (uint8_t *)c->out[0].data);
}

/* a, b uint8 / int16 / int32 of the same shape, rank 2..MQR_MAX_RANK; parameters int64 [O, 3..257]
 * with O = a's dims[1]; y uint8 of a's shape. */
int mqk_c_qint_add(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *a, *b, *pt, *y;
    int i;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 3, 3, 1, 1, 0)) return MQR_CHECK_BAD;
    a = &c->in[0], b = &c->in[1], pt = &c->in[2], y = &c->out[0];
    if (mqk_nc_tensor(a, 0, 2, MQR_MAX_RANK) < 0 || mqk_nc_tensor(b, 0, 2, MQR_MAX_RANK) < 0 ||
        mqk_nc_tensor(y, MQR_U8, 2, MQR_MAX_RANK) < 0 || mqk_nc_tensor(pt, MQR_I64, 2, 2) < 0)
        return MQR_CHECK_BAD;
    for (i = 0; i < 2; i++) {
        int32_t dt = c->in[i].dtype;
        if (dt != MQR_U8 && dt != MQR_I16 && dt != MQR_I32) return MQR_CHECK_BAD;
    }
    if (!mqk_nc_same(a, b) || !mqk_nc_same(a, y)) return MQR_CHECK_BAD;
    if (pt->dims[0] != a->dims[1] || pt->dims[1] < 3 || pt->dims[1] > 257) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

void mqk_k_qint_lut(const mqr_call *c)
{
    const mqr_tensor *e = &c->in[0], *yv = &c->in[1], *lt = &c->in[2];
    const uint8_t *ev = (const uint8_t *)e->data, *lut = (const uint8_t *)lt->data;
    uint8_t *out = (uint8_t *)c->out[0].data;
    size_t planes = (size_t)e->dims[0] * (size_t)e->dims[1], sp = 1, p, i;
    int64_t ny = lt->dims[1], ne = lt->dims[2], lo = c->p[0];
    int32_t d;
    for (d = 2; d < e->rank; d++) sp *= (size_t)e->dims[d];
    for (p = 0; p < planes; p++) {
        const uint8_t *tab = lut + (p % (size_t)e->dims[1]) * (size_t)(ny * ne);
        for (i = p * sp; i < (p + 1) * sp; i++) {
            int64_t k = qm_load(yv, i) - lo, x = ev[i];
            k = k < 0 ? 0 : k >= ny ? ny - 1 : k;
            x = x >= ne ? ne - 1 : x;
            out[i] = tab[k * ne + x];
        }
    }
}

/* e uint8, y uint8 / int16 / int32, out uint8 of one shape of rank 2..MQR_MAX_RANK; the table uint8
 * [O, NY >= 1, NE >= 1] with O = e's dims[1]; one parameter. */
int mqk_c_qint_lut(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *e, *y, *lt;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 3, 3, 1, 1, 1)) return MQR_CHECK_BAD;
    e = &c->in[0], y = &c->in[1], lt = &c->in[2];
    if (mqk_nc_tensor(e, MQR_U8, 2, MQR_MAX_RANK) < 0 || mqk_nc_tensor(y, 0, 2, MQR_MAX_RANK) < 0 ||
        mqk_nc_tensor(&c->out[0], MQR_U8, 2, MQR_MAX_RANK) < 0 || mqk_nc_tensor(lt, MQR_U8, 3, 3) < 0)
        return MQR_CHECK_BAD;
    if (y->dtype != MQR_U8 && y->dtype != MQR_I16 && y->dtype != MQR_I32) return MQR_CHECK_BAD;
    if (!mqk_nc_same(e, y) || !mqk_nc_same(e, &c->out[0])) return MQR_CHECK_BAD;
    if (lt->dims[0] != e->dims[1] || lt->dims[1] < 1 || lt->dims[2] < 1) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

void mqk_k_qint_requant_u8(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    const uint8_t *xv = (const uint8_t *)x->data, *lut = (const uint8_t *)c->in[1].data;
    uint8_t *y = (uint8_t *)c->out[0].data;
    size_t n = 1, i, last = (size_t)c->in[1].dims[0] - 1;
    int32_t d;
    for (d = 0; d < x->rank; d++) n *= (size_t)x->dims[d];
    for (i = 0; i < n; i++) y[i] = lut[xv[i] < last ? xv[i] : last];
}

/* x, y uint8 of one shape (rank 0..MQR_MAX_RANK), the table uint8 [1..256]; no parameters. */
int mqk_c_qint_requant_u8(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *lt;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 2, 2, 1, 1, 0)) return MQR_CHECK_BAD;
    x = &c->in[0], lt = &c->in[1];
    if (mqk_nc_tensor(x, MQR_U8, 0, MQR_MAX_RANK) < 0 || mqk_nc_tensor(&c->out[0], MQR_U8, 0, MQR_MAX_RANK) < 0 ||
        mqk_nc_tensor(lt, MQR_U8, 1, 1) < 0)
        return MQR_CHECK_BAD;
    if (!mqk_nc_same(x, &c->out[0]) || lt->dims[0] < 1 || lt->dims[0] > 256) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* floor(v / 2^sh) for sh in 0..62, saturated to [lo, hi], without undefined behaviour for any v. */
static int64_t qm_shift_sat(int64_t v, int32_t sh, int64_t lo, int64_t hi)
{
    uint64_t u = (uint64_t)v, mag;
    if (v >= 0) {
        mag = u >> sh;
        return mag > (uint64_t)hi ? hi : (int64_t)mag;
    }
    mag = (~u + 1u + (((uint64_t)1 << sh) - 1u)) >> sh; /* ceil(|v| / 2^sh) */
    return mag > (uint64_t)-lo ? lo : -(int64_t)mag;
}

void mqk_k_qint_rescale(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    const int64_t *par = (const int64_t *)c->in[1].data;
    uint64_t m = (uint64_t)par[0];
    int32_t sh = par[1] < 0 ? 0 : par[1] > 62 ? 62 : (int32_t)par[1], d;
    uint64_t half = sh ? (uint64_t)1 << (sh - 1) : 0;
    size_t n = 1, i;
    int wide = c->out[0].dtype == MQR_I32;
    int64_t lo = wide ? INT32_MIN : INT16_MIN, hi = wide ? INT32_MAX : INT16_MAX;
    for (d = 0; d < x->rank; d++) n *= (size_t)x->dims[d];
    for (i = 0; i < n; i++) {
        int64_t v = qm_shift_sat((int64_t)((uint64_t)qm_load(x, i) * m + half), sh, lo, hi);
        if (wide) ((int32_t *)c->out[0].data)[i] = (int32_t)v;
        else ((int16_t *)c->out[0].data)[i] = (int16_t)v;
    }
}

/* x uint8 / int16 / int32 and y int16 / int32 of one shape (rank 0..MQR_MAX_RANK); the parameters int64
 * [2]; no kernel parameters. */
int mqk_c_qint_rescale(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *y;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 2, 2, 1, 1, 0)) return MQR_CHECK_BAD;
    x = &c->in[0], y = &c->out[0];
    if (mqk_nc_tensor(x, 0, 0, MQR_MAX_RANK) < 0 || mqk_nc_tensor(y, 0, 0, MQR_MAX_RANK) < 0 ||
        mqk_nc_tensor(&c->in[1], MQR_I64, 1, 1) < 0)
        return MQR_CHECK_BAD;
    if ((x->dtype != MQR_U8 && x->dtype != MQR_I16 && x->dtype != MQR_I32) || (y->dtype != MQR_I16 && y->dtype != MQR_I32))
        return MQR_CHECK_BAD;
    if (!mqk_nc_same(x, y) || c->in[1].dims[0] != 2) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
