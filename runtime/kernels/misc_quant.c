/* misc_quant.c: linear (de)quantization kernels: per-tensor or per-axis scale and zero point, round half
 * to even, saturation; and DynamicQuantizeLinear's uint8 range fit. Layouts: misc_quant.h. */
#include "runtime/kernels/misc_quant.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/mqr_kernel.h"

#include <math.h>

/* Channel of element i for a per-axis layout, and the axis geometry. */
static void q_geom(const mqr_tensor *x, int32_t axis, int32_t *len, int32_t *inner)
{
    int32_t d;
    *len = 1;
    *inner = 1;
    if (axis < 0) return;
    *len = x->dims[axis];
    for (d = axis + 1; d < x->rank; d++) *inner *= x->dims[d];
}

static int32_t q_zp(const mqr_tensor *zp, int32_t ch)
{
    if (zp->rank < 0 || !zp->data) return 0;
    if (zp->dtype == MQR_I8) return ((const int8_t *)zp->data)[ch];
    if (zp->dtype == MQR_I32) return ((const int32_t *)zp->data)[ch];
    return ((const uint8_t *)zp->data)[ch];
}

void mqk_k_quantize_linear(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    const float *sc = (const float *)c->in[1].data;
    const mqr_tensor *zp = &c->in[2];
    int32_t n = mqr_numel(x), len, inner, i, axis = c->p[0];
    int is_i8 = c->out[0].dtype == MQR_I8;
    float lo = is_i8 ? -128.0f : 0.0f, hi = is_i8 ? 127.0f : 255.0f;
    q_geom(x, axis, &len, &inner);
    for (i = 0; i < n; i++) {
        int32_t ch = axis < 0 ? 0 : (i / inner) % len, z = c->n_in > 2 ? q_zp(zp, ch) : 0;
        float v = x->dtype == MQR_I32 ? (float)((const int32_t *)x->data)[i] : ((const float *)x->data)[i];
        float r = nearbyintf(v / sc[ch]) + (float)z;
        if (r != r) r = (float)z;
        r = r < lo ? lo : r > hi ? hi : r;
        if (is_i8) ((int8_t *)c->out[0].data)[i] = (int8_t)r;
        else ((uint8_t *)c->out[0].data)[i] = (uint8_t)r;
    }
}

void mqk_k_dequantize_linear(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    const float *sc = (const float *)c->in[1].data;
    float *y = (float *)c->out[0].data;
    int32_t n = mqr_numel(x), len, inner, i, axis = c->p[0];
    q_geom(x, axis, &len, &inner);
    for (i = 0; i < n; i++) {
        int32_t ch = axis < 0 ? 0 : (i / inner) % len;
        int64_t z = c->n_in > 2 ? q_zp(&c->in[2], ch) : 0, v;
        if (x->dtype == MQR_I8) v = ((const int8_t *)x->data)[i];
        else if (x->dtype == MQR_I32) v = ((const int32_t *)x->data)[i];
        else v = ((const uint8_t *)x->data)[i];
        y[i] = (float)(v - z) * sc[ch];
    }
}

void mqk_k_dynamic_quantize_u8(const mqr_call *c)
{
    const float *x = (const float *)c->in[0].data;
    uint8_t *y = (uint8_t *)c->out[0].data;
    int32_t n = mqr_numel(&c->in[0]), i;
    float mn = 0.0f, mx = 0.0f, scale, zpf;
    uint8_t zp;
    for (i = 0; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    scale = (mx - mn) / 255.0f;
    zpf = scale != 0.0f ? nearbyintf(0.0f - mn / scale) : 0.0f;
    zp = zpf < 0.0f ? 0 : zpf > 255.0f ? 255 : (uint8_t)zpf;
    for (i = 0; i < n; i++) {
        float r = scale != 0.0f ? nearbyintf(x[i] / scale) + (float)zp : (float)zp;
        if (r != r) r = (float)zp;
        y[i] = r < 0.0f ? 0 : r > 255.0f ? 255 : (uint8_t)r;
    }
    if (c->n_out > 1 && c->out[1].rank >= 0) *(float *)c->out[1].data = scale;
    if (c->n_out > 2 && c->out[2].rank >= 0) *(uint8_t *)c->out[2].data = zp;
}

/* Common part of (de)quantize_linear: x float32/int32 (quantize) or uint8/int8/int32 (dequantize); y of
 * x's dims, uint8/int8 (quantize) or float32; the float32 scale holds one value (axis -1) or x's size along
 * the axis; the optional zero point (rank -1: omitted) as many values as the scale, of y's dtype
 * (quantize) or x's (dequantize). */
static int q_check(const mqr_call *c, int quant)
{
    const mqr_tensor *x, *s, *y;
    int32_t axis, xd, yd;
    int64_t ns;
    if (c->n_in < 2 || c->n_in > 3 || c->n_out != 1 || c->n_p != 1) return MQR_CHECK_BAD;
    x = &c->in[0];
    s = &c->in[1];
    y = &c->out[0];
    axis = c->p[0];
    xd = x->dtype;
    yd = y->dtype;
    if (!mqk_ck_tensor(x) || !mqk_ck_tensor(y) || !mqk_ck_same_shape(x, y)) return MQR_CHECK_BAD;
    if (quant ? !((xd == MQR_F32 || xd == MQR_I32) && mqk_ck_byte(yd))
              : !((mqk_ck_byte(xd) || xd == MQR_I32) && yd == MQR_F32))
        return MQR_CHECK_BAD;
    if (!mqk_ck_t(s, MQR_F32) || axis < -1 || axis >= x->rank) return MQR_CHECK_BAD;
    ns = mqk_ck_numel(s);
    if (axis < 0 ? ns != 1 : ns != x->dims[axis]) return MQR_CHECK_BAD;
    if (c->n_in > 2 && !mqk_ck_absent(&c->in[2])) {
        const mqr_tensor *z = &c->in[2];
        if (!mqk_ck_t(z, quant ? yd : xd) || mqk_ck_numel(z) != ns) return MQR_CHECK_BAD;
    }
    return MQR_CHECK_OK;
}

int mqk_c_quantize_linear(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return q_check(c, 1);
}

int mqk_c_dequantize_linear(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return q_check(c, 0);
}

/* x float32; y uint8 of x's dims; the optional scale (float32) and zero point (uint8) outputs one value. */
int mqk_c_dynamic_quantize_u8(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (c->n_in != 1 || c->n_out < 1 || c->n_out > 3 || c->n_p != 0) return MQR_CHECK_BAD;
    if (!mqk_ck_t(&c->in[0], MQR_F32) || !mqk_ck_t(&c->out[0], MQR_U8) || !mqk_ck_same_shape(&c->in[0], &c->out[0]))
        return MQR_CHECK_BAD;
    if (c->n_out > 1 && !mqk_ck_absent(&c->out[1]) && (!mqk_ck_t(&c->out[1], MQR_F32) || mqk_ck_numel(&c->out[1]) != 1))
        return MQR_CHECK_BAD;
    if (c->n_out > 2 && !mqk_ck_absent(&c->out[2]) && (!mqk_ck_t(&c->out[2], MQR_U8) || mqk_ck_numel(&c->out[2]) != 1))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
