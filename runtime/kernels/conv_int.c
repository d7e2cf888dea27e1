/* conv_int.c: the ConvInteger kernel (see conv_int.h): zero points subtracted into int32 scratch,
 * then the direct convolution loops of conv_core.h on int32 values. */
#include "runtime/kernels/conv_int.h"

#define MQK_MAC_I32(acc, xv, wv) (acc) = (int32_t)((uint32_t)(acc) + (uint32_t)(xv) * (uint32_t)(wv))

void mqk_conv_i32(const mqk_conv_params *p, const int32_t *x, const int32_t *w, int32_t *y)
{
    MQK_CONV_DIRECT(int32_t, 0, MQK_MAC_I32);
}

/* element i of an int8 / uint8 tensor */
static int32_t load8(const mqr_tensor *t, size_t i)
{
    return t->dtype == MQR_U8 ? (int32_t)((const uint8_t *)t->data)[i] : (int32_t)((const int8_t *)t->data)[i];
}

void mqk_k_conv_integer(const mqr_call *c)
{
    mqk_conv_params p;
    const mqr_tensor *x = &c->in[0], *w = &c->in[1];
    const mqr_tensor *xz = c->n_in > 2 && c->in[2].rank >= 0 ? &c->in[2] : 0;
    const mqr_tensor *wz = c->n_in > 3 && c->in[3].rank >= 0 ? &c->in[3] : 0;
    size_t nx = (size_t)mqr_numel(x), nw = (size_t)mqr_numel(w), per_m, i;
    int32_t *xi = (int32_t *)c->scratch, *wi = xi + nx, x0 = xz ? load8(xz, 0) : 0;
    int per_channel = wz && mqr_numel(wz) > 1;
    mqk_conv_from_call(c, &p);
    per_m = p.out_ch > 0 ? nw / (size_t)p.out_ch : 1; /* no division by zero for an empty w */
    for (i = 0; i < nx; i++) xi[i] = load8(x, i) - x0;
    for (i = 0; i < nw; i++) wi[i] = load8(w, i) - (wz ? load8(wz, per_channel ? i / per_m : 0) : 0);
    mqk_conv_i32(&p, xi, wi, (int32_t *)c->out[0].data);
}

/* an optional zero point: omitted, or int8/uint8 with 1 or (per channel) n values */
static int zero_point_ok(const mqr_call *c, int32_t i, int64_t n)
{
    const mqr_tensor *t = &c->in[i];
    int64_t k;
    if (mqk_nc_absent(c->in, c->n_in, i)) return 1;
    if (t->dtype != MQR_I8 && t->dtype != MQR_U8) return 0;
    k = mqk_nc_tensor(t, 0, 0, MQR_MAX_RANK);
    return k == 1 || (n > 1 && k == n);
}

/* conv_integer: the shared geometry of conv_core.h on int8/uint8 x and w and int32 y, x_zero_point a
 * single value, w_zero_point 1 or out_ch values (read at index i / (numel(w) / out_ch) < out_ch), and
 * 4 bytes of scratch per element of x and w. */
int mqk_c_conv_integer(const mqr_call *c, uint32_t scratch_bytes)
{
    int64_t nx, nw;
    if (!mqk_nc_counts(c, 2, 4, 1, 1, 11) || (c->in[0].dtype != MQR_I8 && c->in[0].dtype != MQR_U8) ||
        !mqk_conv_check_geom(c, 0, c->in[0].dtype, 0, MQR_I32))
        return MQR_CHECK_BAD;
    if (!zero_point_ok(c, 2, 1) || !zero_point_ok(c, 3, c->out[0].dims[1])) return MQR_CHECK_BAD;
    nx = mqk_nc_tensor(&c->in[0], 0, 0, MQR_MAX_RANK);
    nw = mqk_nc_tensor(&c->in[1], 0, 0, MQR_MAX_RANK);
    return mqk_nc_mul(nx + nw, 4) <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
