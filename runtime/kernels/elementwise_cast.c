/* elementwise_cast.c: Cast / CastLike between any two runtime dtypes (through double, int64 or
 * uint64), with float16 / bfloat16 targets held as float32 rounded to that precision (elementwise.h). */
#include "runtime/kernels/elementwise_check.h"
#include "runtime/kernels/elementwise_wide.h"

/* f rounded to the nearest float16 value (ties to even), as float32: overflow gives inf, values
 * below half the smallest subnormal give 0, NaN stays NaN. */
static float ewc_round_f16(float f)
{
    uint32_t x, sign, ax, mant, keep, rem, half, shift;
    int32_t e;
    memcpy(&x, &f, 4);
    sign = x & 0x80000000u, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return f; /* inf, NaN */
    e = (int32_t)(ax >> 23) - 127;
    if (e >= 16) {
        x = sign | 0x7f800000u;
    } else {
        shift = 13u + (uint32_t)(e < -14 ? -14 - e : 0);
        if (shift > 24u) {
            x = sign;
        } else {
            mant = (ax & 0x7fffffu) | 0x800000u;
            keep = mant >> shift, rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
            if (rem > half || (rem == half && (keep & 1u))) keep++;
            if (keep == 0) {
                x = sign;
            } else {
                x = ((uint32_t)(e + 127) << 23) + ((keep << shift) - 0x800000u);
                if (x >= 0x47800000u) x = 0x7f800000u; /* 65520 and up round past the largest, 65504 */
                x |= sign;
            }
        }
    }
    memcpy(&f, &x, 4);
    return f;
}

/* bfloat16: truncation, as the ONNX 1.12 reference (and its conformance data) does; NaN stays NaN */
static float ewc_round_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    u = (u & 0x7fffffffu) > 0x7f800000u ? (u | 0x00400000u) & 0xffff0000u : u & 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

void mqk_k_ew_cast(const mqr_call *c)
{
    const int32_t src = c->in[0].dtype, dst = c->out[0].dtype, mode = c->p[0];
    const int32_t n = mqr_numel(&c->out[0]);
    const int cls = mqk_ew_class(src);
    const size_t es = mqk_ew_esize(src), ed = mqk_ew_esize(dst);
    mqk_ew_wide w;
    int32_t base, m, i;
    for (base = 0; base < n; base += m) { /* a chunk is read whole before it is written: in place is fine */
        m = n - base < MQK_EW_CHUNK ? n - base : MQK_EW_CHUNK;
        mqk_ew_load(src, (const char *)c->in[0].data + (size_t)base * es, 1, m, &w);
        mqk_ew_store(dst, cls, &w, m, (char *)c->out[0].data + (size_t)base * ed);
        if (dst == MQR_F32 && mode != MQK_CAST_PLAIN) {
            float *y = (float *)c->out[0].data + base;
            for (i = 0; i < m; i++) y[i] = mode == MQK_CAST_F16 ? ewc_round_f16(y[i]) : ewc_round_bf16(y[i]);
        }
    }
}

/* ---- load-time checks (MQR_CHECK_OK in runtime/mqr_kernel.h) ------------------------------------ */

/* p[0] = MQK_CAST_*; in[0] and out[0] of known dtypes and one count; CastLike's in[1] is never read */
int mqk_c_ew_cast(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!mqk_ewc_unary_call(c, 0, 0, 1, 1, 2)) return MQR_CHECK_BAD;
    if (c->n_in == 2 && !mqk_ewc_ignored_ok(&c->in[1])) return MQR_CHECK_BAD;
    return c->p[0] >= MQK_CAST_PLAIN && c->p[0] <= MQK_CAST_BF16 ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
