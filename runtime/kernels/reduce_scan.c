/* reduce_scan.c: kernels that keep an ordering along one axis: TopK (stable merge sort of indices)
 * and CumSum. Layouts: reduce_scan.h. */
#include "runtime/kernels/reduce_scan.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/kernels/reduce_dt.h"

/* Does (va, ia) come before (vb, ib)? NaN counts as the largest value; ties go to the lower index. */
static int topk_before(double va, int32_t ia, double vb, int32_t ib, int32_t largest)
{
    int na = va != va, nb = vb != vb;
    if (na || nb) {
        if (na && nb) return ia < ib;
        return largest ? na : nb;
    }
    if (va != vb) return largest ? va > vb : va < vb;
    return ia < ib;
}

/* Bottom-up merge sort of idx[0..len) by key[idx], using tmp of the same size. */
static void topk_sort(int32_t *idx, int32_t *tmp, const double *key, int32_t len, int32_t largest)
{
    int32_t w;
    for (w = 1; w < len; w *= 2) {
        int32_t lo;
        for (lo = 0; lo < len; lo += 2 * w) {
            int32_t mid = lo + w < len ? lo + w : len, hi = len - lo > 2 * w ? lo + 2 * w : len;
            int32_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = topk_before(key[idx[b]], idx[b], key[idx[a]], idx[a], largest) ? idx[b++] : idx[a++];
            while (a < mid) tmp[o++] = idx[a++];
            while (b < hi) tmp[o++] = idx[b++];
        }
        memcpy(idx, tmp, sizeof(int32_t) * (size_t)len);
    }
}

void mqk_k_topk(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    mqr_tensor *vt = &c->out[0];
    int64_t *inds = c->n_out > 1 && c->out[1].rank >= 0 ? (int64_t *)c->out[1].data : 0;
    int32_t outer, len, inner, o, i, j, axis = c->p[0], k = vt->dims[axis], dt = xt->dtype;
    double *key = (double *)c->scratch;
    int32_t *idx, *tmp;
    int is_int = mqk_dt_is_int(dt);
    mqk_axis_view(xt, axis, &outer, &len, &inner);
    if (len == 0 || k == 0) return;
    idx = (int32_t *)(key + len);
    tmp = idx + len;
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            int32_t base = o * len * inner + i, obase = o * k * inner + i;
            for (j = 0; j < len; j++) {
                key[j] = mqk_ld_f64(xt->data, dt, base + j * inner);
                idx[j] = j;
            }
            topk_sort(idx, tmp, key, len, c->p[1]);
            for (j = 0; j < k; j++) {
                int32_t at = obase + j * inner, src = base + idx[j] * inner;
                if (is_int) mqk_st_i64(vt->data, dt, at, mqk_ld_i64(xt->data, dt, src));
                else mqk_st_f64(vt->data, dt, at, key[idx[j]]);
                if (inds) inds[at] = idx[j];
            }
        }
}

void mqk_k_cumsum(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    mqr_tensor *yt = &c->out[0];
    int32_t outer, len, inner, o, i, jj, dt = xt->dtype, excl = c->p[1], rev = c->p[2];
    int is_int = mqk_dt_is_int(dt);
    mqk_axis_view(xt, c->p[0], &outer, &len, &inner);
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            int32_t base = o * len * inner + i;
            double s = 0.0;
            uint64_t si = 0;
            for (jj = 0; jj < len; jj++) {
                int32_t at = base + (rev ? len - 1 - jj : jj) * inner;
                if (is_int) {
                    uint64_t v = (uint64_t)mqk_ld_i64(xt->data, dt, at);
                    if (!excl) si += v;
                    mqk_st_i64(yt->data, dt, at, (int64_t)si);
                    if (excl) si += v;
                } else {
                    double v = mqk_ld_f64(xt->data, dt, at);
                    if (!excl) s += v;
                    mqk_st_f64(yt->data, dt, at, s);
                    if (excl) s += v;
                }
            }
        }
}

/* x numeric of rank >= 1, axis < rank; values of x's dtype and dims but k <= len along the axis; the
 * optional int64 indices of the values' dims; 16 bytes of scratch per element of the axis. */
int mqk_c_topk(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *v;
    int32_t axis, d;
    if (c->n_in < 1 || c->n_in > 2 || c->n_out < 1 || c->n_out > 2 || c->n_p != 2) return MQR_CHECK_BAD;
    x = &c->in[0];
    v = &c->out[0];
    axis = c->p[0];
    if (!mqk_ck_t(x, 0) || !mqk_ck_t(v, x->dtype) || x->rank < 1 || v->rank != x->rank) return MQR_CHECK_BAD;
    if (axis < 0 || axis >= x->rank || !mqk_ck_bool(c->p[1])) return MQR_CHECK_BAD;
    for (d = 0; d < x->rank; d++)
        if (d == axis ? v->dims[d] > x->dims[d] : v->dims[d] != x->dims[d]) return MQR_CHECK_BAD;
    if (c->n_out > 1 && !mqk_ck_absent(&c->out[1]) &&
        (!mqk_ck_t(&c->out[1], MQR_I64) || !mqk_ck_same_shape(&c->out[1], v)))
        return MQR_CHECK_BAD;
    return 16 * (int64_t)x->dims[axis] <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* x numeric, axis < rank (0 for a scalar), y of x's dtype and dims. */
int mqk_c_cumsum(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x;
    int32_t axis;
    (void)scratch_bytes;
    if (c->n_in != 2 || c->n_out != 1 || c->n_p != 3) return MQR_CHECK_BAD;
    x = &c->in[0];
    axis = c->p[0];
    if (!mqk_ck_t(x, 0) || !mqk_ck_t(&c->out[0], x->dtype) || !mqk_ck_same_shape(x, &c->out[0]))
        return MQR_CHECK_BAD;
    if (axis < 0 || axis >= (x->rank > 0 ? x->rank : 1) || !mqk_ck_bool(c->p[1]) || !mqk_ck_bool(c->p[2]))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
