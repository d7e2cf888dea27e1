/* reduce_einsum.c: Einsum as a loop nest planned on the host (sizes and per-input strides per loop),
 * and Det by Gaussian elimination with partial pivoting. Layouts: reduce_einsum.h. */
#include "runtime/kernels/reduce_einsum.h"
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
