/* shape_pad.c: the Pad kernel (constant, reflect, edge, wrap; negative pads crop), any dtype by element
 * size. Parameter layout: shape.h. */
#include "runtime/kernels/shape.h"
#include "runtime/kernels/shape_check.h"

/* Source index along a dimension of size dim for padded position j (j may lie outside [0, dim)). */
static int32_t sh_pad_src(int64_t j, int32_t dim, int32_t mode)
{
    int64_t period, m;
    if (j >= 0 && j < dim) return (int32_t)j;
    if (mode == MQK_PAD_EDGE) return j < 0 ? 0 : dim - 1;
    if (mode == MQK_PAD_WRAP) return (int32_t)(((j % dim) + dim) % dim);
    if (dim == 1) return 0; /* reflect */
    period = 2 * (int64_t)(dim - 1);
    m = ((j % period) + period) % period;
    return (int32_t)(m < dim ? m : period - m);
}

void mqk_k_sh_pad(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *o = &c->out[0];
    const int32_t mode = c->p[0], r = c->p[1], *b = c->p + 2;
    const size_t esz = mqk_sh_esize(o->dtype);
    const int32_t ne = mqr_numel(o);
    const uint8_t *src = (const uint8_t *)x->data;
    uint8_t *dst = (uint8_t *)o->data;
    int32_t xs[MQR_MAX_RANK], os[MQR_MAX_RANK], idx[MQR_MAX_RANK], d;
    if (ne == 0) return;
    if (r == 0) {
        memcpy(dst, src, esz);
        return;
    }
    xs[r - 1] = os[r - 1] = 1;
    for (d = r - 2; d >= 0; d--) {
        xs[d] = xs[d + 1] * x->dims[d + 1];
        os[d] = os[d + 1] * o->dims[d + 1];
    }
    for (d = 0; d < r; d++) idx[d] = 0;
    if (mode == MQK_PAD_CONSTANT) {
        uint8_t val[8];
        int32_t cnt[MQR_MAX_RANK], soff = 0, doff = 0;
        if (c->p[4 + r]) memcpy(val, c->in[2].data, esz);
        else mqk_sh_put(val, esz, c->p[2 + r], c->p[3 + r]);
        mqk_sh_fill(dst, val, esz, ne);
        /* then copy the part of x that lands inside the output, row by row */
        for (d = 0; d < r; d++) {
            const int64_t s0 = b[d] < 0 ? -(int64_t)b[d] : 0, d0 = b[d] > 0 ? b[d] : 0;
            int64_t s1 = (int64_t)o->dims[d] - b[d];
            if (s1 > x->dims[d]) s1 = x->dims[d];
            if (s1 <= s0) return;
            cnt[d] = (int32_t)(s1 - s0);
            soff += (int32_t)s0 * xs[d];
            doff += (int32_t)d0 * os[d];
        }
        for (;;) {
            int32_t so = soff, dof = doff;
            for (d = 0; d < r - 1; d++) {
                so += idx[d] * xs[d];
                dof += idx[d] * os[d];
            }
            memcpy(dst + (size_t)dof * esz, src + (size_t)so * esz, (size_t)cnt[r - 1] * esz);
            for (d = r - 2; d >= 0; d--) {
                if (++idx[d] < cnt[d]) break;
                idx[d] = 0;
            }
            if (d < 0) return;
        }
    }
    {
        const int32_t od = o->dims[r - 1], xd = x->dims[r - 1], bl = b[r - 1];
        /* the run of output positions [lo, hi) that read x contiguously */
        const int64_t lo = bl > 0 ? bl : 0, hi0 = (int64_t)bl + xd;
        const int64_t hi = hi0 < od ? hi0 : od;
        for (;;) {
            int32_t so = 0, j;
            for (d = 0; d < r - 1; d++) so += sh_pad_src((int64_t)idx[d] - b[d], x->dims[d], mode) * xs[d];
            for (j = 0; j < od; j++) {
                if (j == lo && hi > lo) {
                    memcpy(dst, src + (size_t)(so + (int32_t)(lo - bl)) * esz, (size_t)(hi - lo) * esz);
                    dst += (size_t)(hi - lo) * esz;
                    j = (int32_t)hi - 1;
                    continue;
                }
                memcpy(dst, src + (size_t)(so + sh_pad_src((int64_t)j - bl, xd, mode)) * esz, esz);
                dst += esz;
            }
            for (d = r - 2; d >= 0; d--) {
                if (++idx[d] < o->dims[d]) break;
                idx[d] = 0;
            }
            if (d < 0) return;
        }
    }
}

/* Load-time check (mqr_kernel.h). in[0] and out[0] of one dtype and rank r <= MQR_MAX_RANK; the pads
 * may be anything (the kernel clips the copied block to both tensors; end pads follow from the shapes),
 * but the reflect / edge / wrap modes read x at every output position, so a non-empty output needs
 * every dim of x >= 1. A constant taken from in[2] needs in[2] of out's dtype with one element.
 * in[1] (pads) and in[3] (axes) are not read. */
int mqk_c_sh_pad(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x = &c->in[0], *o = &c->out[0];
    int64_t no, nv;
    int32_t mode, r;
    int d;
    (void)scratch_bytes;
    if (c->n_in < 1 || c->n_in > 4 || c->n_out != 1 || c->n_p < 2) return MQR_CHECK_BAD;
    mode = c->p[0];
    r = c->p[1];
    if (mode < MQK_PAD_CONSTANT || mode > MQK_PAD_WRAP || r < 0 || r > MQR_MAX_RANK || c->n_p != 5 + r)
        return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(x, 0) || !mqk_shc_tensor(o, &no) || x->dtype != o->dtype || x->rank != r || o->rank != r)
        return MQR_CHECK_BAD;
    if (c->p[4 + r] != 0 && c->p[4 + r] != 1) return MQR_CHECK_BAD;
    if (c->p[4 + r] == 1 && (c->n_in < 3 || !mqk_shc_tensor(&c->in[2], &nv) || c->in[2].dtype != o->dtype || nv != 1))
        return MQR_CHECK_BAD;
    if (mode != MQK_PAD_CONSTANT && no > 0)
        for (d = 0; d < r; d++)
            if (x->dims[d] < 1) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
