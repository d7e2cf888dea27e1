/* reduce_einsum.c: Einsum as a loop nest planned on the host (sizes and per-input strides per loop),
 * and Det by Gaussian elimination with partial pivoting. Layouts: reduce_einsum.h. */
#include "runtime/kernels/reduce_einsum.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/kernels/reduce_dt.h"

#include <math.h>

void mqk_k_einsum(const mqr_call *c)
{
    int32_t n_in = c->p[0], nl = c->p[1], n_outer = c->p[2], i, k, o, ci, outer_total = 1, inner_total = 1;
    const int32_t *size = c->p + 3, *st = c->p + 3 + nl;
    int32_t idx[MQK_EIN_MAX_LOOPS], off[MQK_EIN_MAX_IN], dt = c->out[0].dtype;
    int is_int = mqk_dt_is_int(dt);
    for (k = 0; k < nl; k++) {
        idx[k] = 0;
        if (k < n_outer) outer_total *= size[k];
        else inner_total *= size[k];
    }
    for (i = 0; i < n_in; i++) off[i] = 0;
    for (o = 0; o < outer_total; o++) {
        double acc = 0.0;
        uint64_t iacc = 0;
        for (ci = 0; ci < inner_total; ci++) {
            if (is_int) {
                uint64_t prod = 1;
                for (i = 0; i < n_in; i++) prod *= (uint64_t)mqk_ld_i64(c->in[i].data, dt, off[i]);
                iacc += prod;
            } else {
                double prod = 1.0;
                for (i = 0; i < n_in; i++) prod *= mqk_ld_f64(c->in[i].data, dt, off[i]);
                acc += prod;
            }
            for (k = nl - 1; k >= n_outer; k--) { /* advance the summed loops (innermost last) */
                for (i = 0; i < n_in; i++) off[i] += st[i * nl + k];
                if (++idx[k] < size[k]) break;
                for (i = 0; i < n_in; i++) off[i] -= st[i * nl + k] * size[k];
                idx[k] = 0;
            }
        }
        if (is_int) mqk_st_i64(c->out[0].data, dt, o, (int64_t)iacc);
        else mqk_st_f64(c->out[0].data, dt, o, acc);
        for (k = n_outer - 1; k >= 0; k--) {
            for (i = 0; i < n_in; i++) off[i] += st[i * nl + k];
            if (++idx[k] < size[k]) break;
            for (i = 0; i < n_in; i++) off[i] -= st[i * nl + k] * size[k];
            idx[k] = 0;
        }
    }
}

void mqk_k_det(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    int32_t m = x->dims[x->rank - 1], batch = mqr_numel(&c->out[0]), b, i, r, col, k, mm = m * m;
    double *a = (double *)c->scratch;
    for (b = 0; b < batch; b++) {
        double det = 1.0;
        for (i = 0; i < mm; i++) a[i] = mqk_ld_f64(x->data, x->dtype, b * mm + i);
        for (col = 0; col < m; col++) {
            int32_t piv = col;
            double d;
            for (r = col + 1; r < m; r++)
                if (fabs(a[r * m + col]) > fabs(a[piv * m + col])) piv = r;
            if (a[piv * m + col] == 0) {
                det = 0.0;
                break;
            }
            if (piv != col) {
                for (k = 0; k < m; k++) {
                    double t = a[col * m + k];
                    a[col * m + k] = a[piv * m + k];
                    a[piv * m + k] = t;
                }
                det = -det;
            }
            d = a[col * m + col];
            det *= d;
            for (r = col + 1; r < m; r++) {
                double f = a[r * m + col] / d;
                for (k = col; k < m; k++) a[r * m + k] -= f * a[col * m + k];
            }
        }
        mqk_st_f64(c->out[0].data, c->out[0].dtype, b, det);
    }
}

/* The loop nest against the tensors: y's dims are the outer loop sizes; sizes and strides >= 0; per input,
 * sum(size * stride) fits int32 (so no running offset overflows) and, when every loop runs at least once,
 * the largest offset reached, sum((size - 1) * stride), is inside the input; the summed loops' trip
 * count fits int32. */
int mqk_c_einsum(const mqr_call *c, uint32_t scratch_bytes)
{
    int32_t n_in, nl, n_outer, i, k;
    const int32_t *size, *st;
    int64_t inner = 1, any_empty = 0;
    (void)scratch_bytes;
    if (c->n_p < 3 || c->n_out != 1) return MQR_CHECK_BAD;
    n_in = c->p[0];
    nl = c->p[1];
    n_outer = c->p[2];
    if (n_in < 1 || n_in > MQK_EIN_MAX_IN || n_in != c->n_in || nl < 0 || nl > MQK_EIN_MAX_LOOPS || n_outer < 0 ||
        n_outer > nl || n_outer > MQR_MAX_RANK || c->n_p != 3 + nl * (1 + n_in))
        return MQR_CHECK_BAD;
    size = c->p + 3;
    st = c->p + 3 + nl;
    if (!mqk_ck_t(&c->out[0], 0) || c->out[0].rank != n_outer) return MQR_CHECK_BAD;
    for (k = 0; k < nl; k++) {
        if (size[k] < 0) return MQR_CHECK_BAD;
        if (size[k] == 0) any_empty = 1;
        if (k < n_outer) {
            if (c->out[0].dims[k] != size[k]) return MQR_CHECK_BAD;
        } else if ((inner *= size[k]) > MQK_CK_I32MAX) {
            return MQR_CHECK_BAD;
        }
    }
    for (i = 0; i < n_in; i++) {
        const mqr_tensor *t = &c->in[i];
        int64_t reach = 0, span = 0;
        if (!mqk_ck_t(t, c->out[0].dtype)) return MQR_CHECK_BAD;
        for (k = 0; k < nl; k++) {
            int32_t s = st[i * nl + k];
            if (s < 0) return MQR_CHECK_BAD;
            span += (int64_t)size[k] * s;
            if (span > MQK_CK_I32MAX) return MQR_CHECK_BAD;
            if (size[k] > 0) reach += (int64_t)(size[k] - 1) * s;
        }
        if (!any_empty && reach >= mqk_ck_numel(t)) return MQR_CHECK_BAD;
    }
    return MQR_CHECK_OK;
}

/* x float [..., M, M] (rank >= 2), y of x's dtype and leading dims, 8 * M * M bytes of scratch. */
int mqk_c_det(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *y;
    int32_t d;
    int64_t m;
    if (c->n_in != 1 || c->n_out != 1 || c->n_p != 0) return MQR_CHECK_BAD;
    x = &c->in[0];
    y = &c->out[0];
    if (!mqk_ck_tensor(x) || !mqk_ck_float(x->dtype) || !mqk_ck_t(y, x->dtype) || x->rank < 2 ||
        y->rank != x->rank - 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2])
        return MQR_CHECK_BAD;
    for (d = 0; d < y->rank; d++)
        if (y->dims[d] != x->dims[d]) return MQR_CHECK_BAD;
    m = x->dims[x->rank - 1];
    return 8 * m * m <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
