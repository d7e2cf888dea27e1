/* qint.c: the small integer kernels of lowered MaQD models (qint.h): the 8-bit input, max pooling on
 * codes, and the plane sums of global average pooling. */
#include "runtime/kernels/qint.h"
#include "runtime/kernels/qint_isa.h"

#include <string.h>

/* SSE2 / AVX-512 max pooling rows: AVX-512 compiled for, or chosen at run time (QP_AVX512_RT,
 * qint_isa.h); qint_layer.c's test macros MQK_QL_PORTABLE and MQK_QL_NO_AVX512 hold them back too. */
#if defined(__GNUC__) && defined(__SSE2__) && !defined(__OPTIMIZE_SIZE__) && !defined(MQK_QL_PORTABLE)
#include <immintrin.h>
#define QP_SSE2 1
#if defined(MQK_QL_NO_AVX512)
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define QP_AVX512 1
#elif defined(MQK_ISA_DISPATCH)
#define QP_AVX512 1
#define QP_AVX512_RT 1
#endif
#endif

void mqk_k_qint_input_u8(const mqr_call *c)
{
    const uint8_t *x = (const uint8_t *)c->in[0].data;
    int16_t *y = (int16_t *)c->out[0].data;
    int32_t n = mqr_numel(&c->in[0]), i, mul = c->p[0], zero = c->p[1];
    for (i = 0; i < n; i++) y[i] = (int16_t)((int32_t)x[i] * mul - zero);
}

/* x uint8, y int16 of the same shape; 1 <= p[0] <= 128 and 255 * p[0] - p[1] <= 32767, -p[1] >= -32768. */
int mqk_c_qint_input_u8(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 2)) return MQR_CHECK_BAD;
    if (mqk_nc_tensor(&c->in[0], MQR_U8, 0, MQR_MAX_RANK) < 0 || mqk_nc_tensor(&c->out[0], MQR_I16, 0, MQR_MAX_RANK) < 0 ||
        !mqk_nc_same(&c->in[0], &c->out[0]))
        return MQR_CHECK_BAD;
    if (c->p[0] < 1 || c->p[0] > 128 || c->p[1] < 0 || c->p[1] > 32768 || 255 * c->p[0] - c->p[1] > 32767)
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

#if defined(QP_SSE2)
/* One output row of the 2 x 2, stride (., 2) window: y[o] = max(r0[2o], r0[2o + 1], r1[2o], r1[2o + 1])
 * for o < n; the maximum of the two rows, then of each even/odd byte pair as 16-bit lanes. Reads only
 * the row's 2n bytes. */
#if defined(QP_AVX512_RT)
MQK_ISA_BEGIN_AVX512
#endif
#if defined(QP_AVX512)
static void pool22_row_avx512(const uint8_t *r0, const uint8_t *r1, uint8_t *y, size_t n)
{
    size_t o = 0;
    for (; o < n; o += 16) {
        size_t len = n - o < 16 ? n - o : 16;
        __mmask32 in = (__mmask32)(len == 16 ? 0xFFFFFFFFu : (1u << (2 * len)) - 1u);
        __m256i m = _mm256_max_epu8(_mm256_maskz_loadu_epi8(in, r0 + 2 * o), _mm256_maskz_loadu_epi8(in, r1 + 2 * o));
        m = _mm256_max_epi16(_mm256_and_si256(m, _mm256_set1_epi16(0xFF)), _mm256_srli_epi16(m, 8));
        /* words (<= 255) to bytes by packus and a lane permute: a masked store of vpmovwb's result is folded
         * into vpmovwb to memory, slow on some CPUs (AMD Zen 4) */
        m = _mm256_permute4x64_epi64(_mm256_packus_epi16(m, m), 0xD8);
        _mm_mask_storeu_epi8(y + o, (__mmask16)((1u << len) - 1u), _mm256_castsi256_si128(m));
    }
}
#endif
#if defined(QP_AVX512_RT)
MQK_ISA_END
#endif
#if !defined(QP_AVX512) || defined(QP_AVX512_RT)
static void pool22_row(const uint8_t *r0, const uint8_t *r1, uint8_t *y, size_t n)
{
    size_t o = 0;
    for (; o < n; o += 8) {
        size_t len = n - o < 8 ? n - o : 8;
        __m128i a, b, m;
        if (len == 8) {
            a = _mm_loadu_si128((const __m128i *)(const void *)(r0 + 2 * o));
            b = _mm_loadu_si128((const __m128i *)(const void *)(r1 + 2 * o));
        } else { /* the row's last bytes through a buffer: nothing past the row is read */
            uint8_t t0[16] = {0}, t1[16] = {0};
            memcpy(t0, r0 + 2 * o, 2 * len);
            memcpy(t1, r1 + 2 * o, 2 * len);
            a = _mm_loadu_si128((const __m128i *)(const void *)t0);
            b = _mm_loadu_si128((const __m128i *)(const void *)t1);
        }
        m = _mm_max_epu8(a, b);
        m = _mm_max_epi16(_mm_and_si128(m, _mm_set1_epi16(0xFF)), _mm_srli_epi16(m, 8));
        m = _mm_packus_epi16(m, m);
        if (len == 8) {
            _mm_storel_epi64((__m128i *)(void *)(y + o), m);
        } else {
            uint8_t t[16];
            _mm_storeu_si128((__m128i *)(void *)t, m);
            memcpy(y + o, t, len);
        }
    }
}
#endif
#if defined(QP_AVX512_RT) /* the row function for this CPU */
#define QP_POOL22_ROW (mqk_isa_cpu() ? pool22_row_avx512 : pool22_row)
#elif defined(QP_AVX512)
#define QP_POOL22_ROW pool22_row_avx512
#else
#define QP_POOL22_ROW pool22_row
#endif
#endif

void mqk_k_qint_maxpool_u8(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *y = &c->out[0];
    mqk_conv3 g;
    int32_t od, oh, ow, fast22;
    size_t in_sp, out_sp, plane, planes;
    mqk_qint_window(c, c->p[0], c->p + 1, c->p + 4, c->p + 7, c->p + 10, &g);
    in_sp = (size_t)g.in[0] * (size_t)g.in[1] * (size_t)g.in[2];
    out_sp = (size_t)g.out[0] * (size_t)g.out[1] * (size_t)g.out[2];
    planes = (size_t)x->dims[0] * (size_t)x->dims[1];
    /* the usual 2 x 2 window with every window inside the input: no tap tests */
    fast22 = g.k[0] == 1 && g.k[1] == 2 && g.k[2] == 2 && g.p[1] == 0 && g.p[2] == 0 && g.d[1] == 1 && g.d[2] == 1 &&
             (int64_t)(g.out[1] - 1) * g.s[1] + 2 <= g.in[1] && (int64_t)(g.out[2] - 1) * g.s[2] + 2 <= g.in[2] &&
             g.p[0] == 0 && (int64_t)(g.out[0] - 1) * g.s[0] + 1 <= g.in[0];
#if defined(QP_SSE2)
    if (fast22 && g.s[2] == 2) { /* whole output rows at once */
        size_t rows = planes * (size_t)g.out[0] * (size_t)g.out[1], r, ow = (size_t)g.out[2];
        const uint8_t *x0 = (const uint8_t *)x->data;
        uint8_t *y0 = (uint8_t *)y->data;
        void (*row)(const uint8_t *, const uint8_t *, uint8_t *, size_t) = QP_POOL22_ROW;
        od = oh = 0;
        plane = 0;
        for (r = 0; r < rows; r++) {
            const uint8_t *r0 = x0 + plane * in_sp + ((size_t)(od * g.s[0]) * (size_t)g.in[1] + (size_t)(oh * g.s[1])) * (size_t)g.in[2];
            row(r0, r0 + g.in[2], y0 + r * ow, ow);
            if (++oh == g.out[1] && (oh = 0, ++od == g.out[0])) od = 0, plane++;
        }
        return;
    }
#endif
    for (plane = 0; plane < planes; plane++) {
        const uint8_t *xp = (const uint8_t *)x->data + plane * in_sp;
        uint8_t *yp = (uint8_t *)y->data + plane * out_sp;
        for (od = 0; od < g.out[0]; od++)
            for (oh = 0; oh < g.out[1]; oh++)
                for (ow = 0; ow < g.out[2]; ow++) {
                    if (fast22) {
                        const uint8_t *r0 = xp + ((size_t)(od * g.s[0]) * (size_t)g.in[1] + (size_t)(oh * g.s[1])) * (size_t)g.in[2] +
                                            (size_t)ow * (size_t)g.s[2];
                        const uint8_t *r1 = r0 + g.in[2];
                        uint8_t a = r0[0] > r0[1] ? r0[0] : r0[1], b = r1[0] > r1[1] ? r1[0] : r1[1];
                        yp[((size_t)od * (size_t)g.out[1] + (size_t)oh) * (size_t)g.out[2] + (size_t)ow] = a > b ? a : b;
                        continue;
                    }
                    yp[((size_t)od * (size_t)g.out[1] + (size_t)oh) * (size_t)g.out[2] + (size_t)ow] =
                        (uint8_t)mqk_qint_window_fold(xp, &g, od, oh, ow, 0);
                }
    }
}

/* x, y uint8 of rank nd + 2 (nd 1..3), same N and C; kernel, stride, dilation >= 1, pad >= 0 and the
 * position bound out * stride + pad + kernel * dilation <= INT32_MAX per spatial dim (every tap is
 * tested against the input before it is read); past nd exactly 1, 1, 0, 1. */
int mqk_c_qint_maxpool_u8(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    return mqk_qint_pool_ok(c, MQR_U8) ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

void mqk_k_qint_sum_u8(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *y = &c->out[0];
    size_t planes = (size_t)x->dims[0] * (size_t)x->dims[1], sp = 1, p, i;
    int32_t d;
    for (d = 2; d < x->rank; d++) sp *= (size_t)x->dims[d];
    for (p = 0; p < planes; p++) {
        const uint8_t *xp = (const uint8_t *)x->data + p * sp;
        uint32_t s = 0;
        i = 0;
#if defined(QP_SSE2)
        { /* sums of 16 bytes at a time (psadbw against zero) */
            __m128i a = _mm_setzero_si128();
            for (; i + 16 <= sp; i += 16) a = _mm_add_epi64(a, _mm_sad_epu8(_mm_loadu_si128((const __m128i *)(const void *)(xp + i)), _mm_setzero_si128()));
            s = (uint32_t)_mm_cvtsi128_si32(a) + (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(a, 8));
        }
#endif
        for (; i < sp; i++) s += xp[i];
        if (y->dtype == MQR_I16) ((int16_t *)y->data)[p] = (int16_t)s;
        else ((int32_t *)y->data)[p] = (int32_t)s;
    }
}

/* x uint8 of rank >= 2; y int16 (only if 255 * plane <= 32767) or int32 (255 * plane <= INT32_MAX)
 * with N * C elements. */
int mqk_c_qint_sum_u8(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *y;
    int64_t nx, ny, plane;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 1, 1, 1, 1, 0)) return MQR_CHECK_BAD;
    x = &c->in[0], y = &c->out[0];
    nx = mqk_nc_tensor(x, MQR_U8, 2, MQR_MAX_RANK);
    ny = mqk_nc_tensor(y, 0, 0, MQR_MAX_RANK);
    if (nx < 0 || ny < 0 || (y->dtype != MQR_I16 && y->dtype != MQR_I32)) return MQR_CHECK_BAD;
    if (ny != (int64_t)x->dims[0] * x->dims[1]) return MQR_CHECK_BAD;
    plane = 1;
    for (ny = 2; ny < x->rank; ny++) plane = mqk_nc_mul(plane, x->dims[ny]);
    if (mqk_nc_mul(plane, 255) > (y->dtype == MQR_I16 ? 32767 : INT32_MAX)) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
