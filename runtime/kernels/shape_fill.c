/* shape_fill.c: 'shape' kernels that make values rather than move them: ConstantOfShape, Shape/Size
 * (static values), EyeLike, Range. Parameter layouts: shape.h. */
#include "runtime/kernels/shape.h"
#include "runtime/kernels/shape_check.h"

void mqk_k_sh_fill(const mqr_call *c)
{
    const size_t esz = mqk_sh_esize(c->out[0].dtype);
    uint8_t val[8];
    mqk_sh_put(val, esz, c->p[0], c->p[1]);
    mqk_sh_fill(c->out[0].data, val, esz, mqr_numel(&c->out[0]));
}

void mqk_k_sh_values(const mqr_call *c)
{
    int64_t *o = (int64_t *)c->out[0].data;
    int32_t i;
    for (i = 0; i < c->p[0]; i++) o[i] = c->p[1 + i];
}

void mqk_k_sh_eyelike(const mqr_call *c)
{
    const mqr_tensor *o = &c->out[0];
    const size_t esz = mqk_sh_esize(o->dtype);
    const int32_t rows = o->dims[0], cols = o->dims[1], k = c->p[0];
    uint8_t *d = (uint8_t *)o->data;
    int32_t i;
    if (!rows || !cols) return; /* an empty output may have no buffer at all */
    memset(d, 0, (size_t)rows * (size_t)cols * esz);
    for (i = 0; i < rows; i++) {
        const int64_t j = (int64_t)i + k;
        if (j >= 0 && j < cols) mqk_sh_put(d + ((size_t)i * (size_t)cols + (size_t)j) * esz, esz, c->p[1], c->p[2]);
    }
}

void mqk_k_sh_range(const mqr_call *c)
{
    const mqr_tensor *o = &c->out[0];
    const void *s = c->in[0].data, *dl = c->in[2].data;
    const int32_t n = o->dims[0];
    int32_t i;
    switch (o->dtype) {
    case MQR_F32: {
        const double a = *(const float *)s, d = *(const float *)dl;
        float *p = (float *)o->data;
        for (i = 0; i < n; i++) p[i] = (float)(a + (double)i * d);
        break;
    }
    case MQR_F64: {
        const double a = *(const double *)s, d = *(const double *)dl;
        double *p = (double *)o->data;
        for (i = 0; i < n; i++) p[i] = a + (double)i * d;
        break;
    }
    case MQR_I16: {
        const uint64_t a = (uint64_t)(int64_t) * (const int16_t *)s, d = (uint64_t)(int64_t) * (const int16_t *)dl;
        int16_t *p = (int16_t *)o->data;
        for (i = 0; i < n; i++) p[i] = (int16_t)(a + (uint64_t)i * d);
        break;
    }
    case MQR_I32: {
        const uint64_t a = (uint64_t)(int64_t) * (const int32_t *)s, d = (uint64_t)(int64_t) * (const int32_t *)dl;
        int32_t *p = (int32_t *)o->data;
        for (i = 0; i < n; i++) p[i] = (int32_t)(a + (uint64_t)i * d);
        break;
    }
    default: {
        const uint64_t a = (uint64_t) * (const int64_t *)s, d = (uint64_t) * (const int64_t *)dl;
        int64_t *p = (int64_t *)o->data;
        for (i = 0; i < n; i++) p[i] = (int64_t)(a + (uint64_t)i * d);
        break;
    }
    }
}

/* ---- load-time checks (mqr_kernel.h) ------------------------------------------------------------ */

/* ConstantOfShape: any out[0]; its one input (the shape) is not read. */
int mqk_c_sh_fill(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (c->n_in != 1 || c->n_out != 1 || c->n_p != 2 || !mqk_shc_tensor(&c->out[0], 0)) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* Shape, Size: k >= 0 values, out[0] int64 with exactly k elements; the input is not read. */
int mqk_c_sh_values(const mqr_call *c, uint32_t scratch_bytes)
{
    int64_t no;
    (void)scratch_bytes;
    if (c->n_in != 1 || c->n_out != 1 || c->n_p < 1 || c->p[0] < 0 || c->n_p - 1 != c->p[0]) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(&c->out[0], &no) || c->out[0].dtype != MQR_I64 || no != c->p[0]) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* EyeLike: out[0] 2-D, k within [-rows, cols] as the host clamps it; the input is not read. */
int mqk_c_sh_eyelike(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *o = &c->out[0];
    (void)scratch_bytes;
    if (c->n_in != 1 || c->n_out != 1 || c->n_p != 3 || !mqk_shc_tensor(o, 0) || o->rank != 2) return MQR_CHECK_BAD;
    if ((int64_t)c->p[0] < -(int64_t)o->dims[0] || c->p[0] > o->dims[1]) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* Range: out[0] 1-D of float32, float64, int16, int32 or int64; start in[0] and delta in[2] one element
 * each of that dtype (limit, in[1], is not read: the count is out's dim). */
int mqk_c_sh_range(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *o = &c->out[0];
    int64_t ns, nd;
    int32_t dt;
    (void)scratch_bytes;
    if (c->n_in != 3 || c->n_out != 1 || c->n_p != 0 || !mqk_shc_tensor(o, 0) || o->rank != 1) return MQR_CHECK_BAD;
    dt = o->dtype;
    if (dt != MQR_F32 && dt != MQR_F64 && dt != MQR_I16 && dt != MQR_I32 && dt != MQR_I64) return MQR_CHECK_BAD;
    if (!mqk_shc_tensor(&c->in[0], &ns) || !mqk_shc_tensor(&c->in[2], &nd)) return MQR_CHECK_BAD;
    if (c->in[0].dtype != dt || c->in[2].dtype != dt || ns != 1 || nd != 1) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
