/* test_qint.c: the integer kernels of lowered MaQD models (runtime/kernels/qint*.c) on small cases
 * computed by hand (code packing, padding, both accumulator forms, thresholds, pooling, the input) and
 * on a sweep of geometries against a direct convolution written here. tests/CMakeLists.txt builds this
 * file twice: against the library as built, and with the kernels compiled -march=native (AVX-512 VNNI
 * paths on hosts that have it), so every compiled path meets the same expectations. On x86 hosts with
 * AVX-512 VNNI it builds it once per vector path of qint_layer.c: VNNI and AVX-512 chosen at run time
 * (the library's default build; -DMQK_QL_NO_VNNI) and compiled for (-march=native), SSE2 and portable
 * C (-DMQK_QL_NO_AVX512, -DMQK_QL_PORTABLE); MAQD_EXPECT_ISA names the path each build must take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "runtime/kernels/qint.h"
#include "runtime/kernels/qint_merge.h"
#include "runtime/kernels/qint_pool.h"

#if defined(MAQD_EXPECT_VNNI) && !(defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__))
#error "test_qint_native must be compiled with AVX-512 VNNI, BW and VL"
#endif
#if defined(MAQD_EXPECT_AVX512) && (defined(__AVX512VNNI__) || !defined(__AVX512BW__) || !defined(__AVX512VL__))
#error "test_qint_avx512 must be compiled with AVX-512 BW and VL, without VNNI"
#endif

#include "qint_tensor.h"

/* Check, then run kernel `name` (scratch of exactly the declared size). */
static void run(const char *name, const int32_t *p, int32_t n_p, mqr_tensor *in, int32_t n_in, mqr_tensor *out,
                uint32_t scratch)
{
    const mqr_kernel_info *k = mqr_kernel_find(name);
    static uint64_t buf[1 << 16];
    assert_non_null(k);
    assert_true(scratch <= sizeof buf);
    mqr_call c = {p, n_p, in, n_in, out, 1, scratch ? buf : NULL};
    memset(buf, 0xA5, scratch); /* no path may rely on zeroed scratch */
    assert_int_equal(k->check(&c, scratch), MQR_CHECK_OK);
    k->fn(&c);
}

/* layer params: nd, group, strides, pads, dilations, kernel, bits, wmul, woff, acc64 */
static void layer_p(int32_t *p, int nd, int kh, int kw, int s, int pad, int bits, int wmul, int woff, int acc64)
{
    int32_t v[MQK_QL_NP] = {nd, 1, s, s, 1, pad, pad, 0, 1, 1, 1, kh, kw, 1, bits, wmul, woff, acc64};
    if (nd == 0) v[2] = v[3] = 1, v[5] = v[6] = 0, v[11] = v[12] = 1;
    memcpy(p, v, sizeof v);
}

static void test_conv_thresholds(void **state)
{
    (void)state;
    /* x = [[0, 1], [2, 3]], one 2x2 filter q = [1, -1, 1, 1] stored as 2-bit codes c = q + 1 = [2, 0, 2, 2]
     * (LSB first: 2 | 0 << 2 | 2 << 4 | 2 << 6 = 0xA2): acc = 0 - 1 + 2 + 3 = 4 */
    uint8_t x[4] = {0, 1, 2, 3}, w[1] = {0xA2}, y[1] = {99};
    int32_t thr[3] = {3, 4, 5}, p[MQK_QL_NP];
    int32_t dx[4] = {1, 1, 2, 2}, dw[2] = {1, 1}, dt[2] = {1, 3}, dy[4] = {1, 1, 1, 1};
    layer_p(p, 2, 2, 2, 1, 0, 2, 1, 1, 0);
    mqr_tensor in[3] = {T(MQR_U8, 4, dx, x), T(MQR_U8, 2, dw, w), T(MQR_I32, 2, dt, thr)}, out = T(MQR_U8, 4, dy, y);
    run("qint_layer", p, MQK_QL_NP, in, 3, &out, (uint32_t)mqk_qint_layer_scratch(4, 1, 0, 2));
    assert_int_equal(y[0], 2); /* acc 4 reaches 3 and 4, not 5 */
    /* float out: 0.5 * 4 + 1 = 3 */
    float kb[2] = {0.5f, 1.0f}, yf[1];
    int32_t dkb[2] = {2, 1};
    in[2] = T(MQR_F32, 2, dkb, kb);
    out = T(MQR_F32, 4, dy, yf);
    run("qint_layer", p, MQK_QL_NP, in, 3, &out, (uint32_t)mqk_qint_layer_scratch(4, 1, 0, 2));
    assert_true(yf[0] == 3.0f);
    /* the accumulator itself (two inputs, int32 out): 4 */
    int32_t acc[1] = {99};
    out = T(MQR_I32, 4, dy, acc);
    run("qint_layer", p, MQK_QL_NP, in, 2, &out, (uint32_t)mqk_qint_layer_scratch(4, 1, 0, 2));
    assert_int_equal(acc[0], 4);
}

static void test_conv_padding(void **state)
{
    (void)state;
    /* the same filter, pad 1, stride 2: out 2x2, each window holds one input pixel:
     * (0,0): x00 * q[3] = 0; (0,1): x01 * q[2] = 1; (1,0): x10 * q[1] = -2; (1,1): x11 * q[0] = 3 */
    uint8_t x[4] = {0, 1, 2, 3}, w[1] = {0xA2};
    float kb[2] = {1.0f, 0.0f}, y[4];
    int32_t p[MQK_QL_NP], dx[4] = {1, 1, 2, 2}, dw[2] = {1, 1}, dkb[2] = {2, 1}, dy[4] = {1, 1, 2, 2};
    layer_p(p, 2, 2, 2, 2, 1, 2, 1, 1, 0);
    mqr_tensor in[3] = {T(MQR_U8, 4, dx, x), T(MQR_U8, 2, dw, w), T(MQR_F32, 2, dkb, kb)}, out = T(MQR_F32, 4, dy, y);
    run("qint_layer", p, MQK_QL_NP, in, 3, &out, (uint32_t)mqk_qint_layer_scratch(4, 4, 0, 2));
    assert_true(y[0] == 0.0f && y[1] == 1.0f && y[2] == -2.0f && y[3] == 3.0f);
}

static void test_dense_binary_and_wide(void **state)
{
    (void)state;
    /* 1-bit codes, q = 2c - 1: bits 1, 0, 1 (byte 5) = [1, -1, 1]; x = [5, -7, 100]: acc = 5 + 7 + 100 */
    int16_t x[3] = {5, -7, 100};
    uint8_t w[1] = {5};
    float kb[2] = {1.0f, 0.0f}, y[1];
    int32_t p[MQK_QL_NP], dx[2] = {1, 3}, dw[2] = {1, 1}, dkb[2] = {2, 1}, dy[2] = {1, 1};
    layer_p(p, 0, 1, 1, 1, 0, 1, 2, 1, 0);
    mqr_tensor in[3] = {T(MQR_I16, 2, dx, x), T(MQR_U8, 2, dw, w), T(MQR_F32, 2, dkb, kb)}, out = T(MQR_F32, 2, dy, y);
    run("qint_layer", p, MQK_QL_NP, in, 3, &out, (uint32_t)mqk_qint_layer_scratch(3, 1, 0, 1));
    assert_true(y[0] == 112.0f);
    /* 24-bit codes into int64: q = [8388607, -8388607] (c = 2^24 - 2 = FE FF FF, then 00 00 00),
     * x = [30000, 1]: acc = 8388607 * 29999 = 251649821393 (beyond int32) */
    int16_t x2[2] = {30000, 1};
    uint8_t w2[6] = {0xFE, 0xFF, 0xFF, 0, 0, 0}, code[1] = {9};
    int64_t thr[2] = {251649821393LL, 251649821394LL};
    int32_t dx2[2] = {1, 2}, dw2[2] = {1, 6}, dt[2] = {1, 2};
    layer_p(p, 0, 1, 1, 1, 0, 24, 1, 8388607, 1);
    mqr_tensor in2[3] = {T(MQR_I16, 2, dx2, x2), T(MQR_U8, 2, dw2, w2), T(MQR_I64, 2, dt, thr)};
    out = T(MQR_U8, 2, dy, code);
    run("qint_layer", p, MQK_QL_NP, in2, 3, &out, (uint32_t)mqk_qint_layer_scratch(2, 1, 1, 24));
    assert_int_equal(code[0], 1); /* exactly the first threshold, one below the second */
}

static void test_pool_sum_input(void **state)
{
    (void)state;
    /* max pool 2x2 stride 2 over 1..9 (3x3), ceil-mode output 2x2: {5, 6, 8, 9} */
    uint8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[4];
    int32_t pp[13] = {2, 2, 2, 1, 2, 2, 1, 0, 0, 0, 1, 1, 1}, dx[4] = {1, 1, 3, 3}, dy[4] = {1, 1, 2, 2};
    mqr_tensor in = T(MQR_U8, 4, dx, x), out = T(MQR_U8, 4, dy, y);
    run("qint_maxpool_u8", pp, 13, &in, 1, &out, 0);
    assert_true(y[0] == 5 && y[1] == 6 && y[2] == 8 && y[3] == 9);
    /* plane sums */
    uint8_t xs[8] = {1, 2, 3, 4, 10, 20, 30, 40};
    int16_t s[2];
    int32_t ds[4] = {1, 2, 2, 2}, dsy[4] = {1, 2, 1, 1};
    in = T(MQR_U8, 4, ds, xs);
    out = T(MQR_I16, 4, dsy, s);
    run("qint_sum_u8", NULL, 0, &in, 1, &out, 0);
    assert_true(s[0] == 10 && s[1] == 100);
    /* the input: p * 128 - 9335 */
    uint8_t xi[3] = {0, 255, 73};
    int16_t yi[3];
    int32_t pi[2] = {128, 9335}, di[1] = {3};
    in = T(MQR_U8, 1, di, xi);
    out = T(MQR_I16, 1, di, yi);
    run("qint_input_u8", pi, 2, &in, 1, &out, 0);
    assert_true(yi[0] == -9335 && yi[1] == 23305 && yi[2] == 9);
}

/* ---- sweep: every kernel path against a direct convolution -------------------------------------- */

static uint32_t rng_state = 12345u;
static uint32_t rnd(uint32_t n) /* 0 .. n - 1 */
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (uint32_t)(((uint64_t)(rng_state >> 8) * n) >> 24);
}

typedef struct lcase {
    int nd, batch, C, O, group, in[3], k[3], s[3], pad[3], dil[3]; /* spatial entries past nd: 1, 1, 1, 0, 1 */
    int bits, wmul, woff, acc64, xdt, n_thr;                          /* n_thr 0: float out (k, b), -1: int32 acc */
    int xlo, xhi;                                                     /* x drawn from [xlo, xhi] */
} lcase;

static int64_t out_size(int in, int k, int s, int pad, int dil) { return (in + 2 * pad - dil * (k - 1) - 1) / s + 1; }

/* Run case L with random x and codes; expected values from a direct loop over output, channel, tap. */
static void sweep_case(const lcase *L)
{
    int nd = L->nd, sp[3] = {1, 1, 1}, ksz = 1, i;
    int64_t xn, out_sp = 1, in_sp = 1;
    int32_t p[MQK_QL_NP], dx[5], dy[5], dw[2], dt[2];
    for (i = 0; i < nd; i++) {
        sp[i] = (int)out_size(L->in[i], L->k[i], L->s[i], L->pad[i], L->dil[i]);
        out_sp *= sp[i];
        in_sp *= L->in[i];
        ksz *= L->k[i];
    }
    int cg = L->C / L->group, mg = L->O / L->group, fan = cg * ksz;
    size_t rowb = mqk_qint_row_bytes((size_t)fan, L->bits);
    xn = (int64_t)L->batch * L->C * in_sp;
    uint8_t *x8 = test_malloc((size_t)xn + 1), *w = test_calloc((size_t)L->O * rowb + 1, 1);
    int16_t *x16 = test_malloc(sizeof(int16_t) * (size_t)xn + 2);
    int32_t *x32 = test_malloc(sizeof(int32_t) * (size_t)xn + 4);
    int32_t *q = test_malloc(sizeof(int32_t) * (size_t)L->O * (size_t)fan);
    int64_t ny = (int64_t)L->batch * L->O * out_sp, *acc = test_malloc(sizeof(int64_t) * (size_t)ny);
    uint8_t *y8 = test_malloc((size_t)ny + 1);
    int32_t *y32 = test_malloc(sizeof(int32_t) * (size_t)ny + 4);
    float *yf = test_malloc(sizeof(float) * (size_t)ny + 4), kb[2 * 64];
    int64_t *t64 = test_malloc(sizeof(int64_t) * (size_t)L->O * 255 + 8);
    int32_t *t32 = test_malloc(sizeof(int32_t) * (size_t)L->O * 255 + 4);
    for (int64_t e = 0; e < xn; e++) {
        int32_t v = L->xlo + (int32_t)rnd((uint32_t)(L->xhi - L->xlo + 1));
        x8[e] = (uint8_t)v;
        x16[e] = (int16_t)v;
        x32[e] = v;
    }
    for (int o = 0; o < L->O; o++)
        for (int f = 0; f < fan; f++) {
            uint32_t code = rnd(1u << (L->bits > 24 ? 24 : L->bits));
            q[o * fan + f] = (int32_t)((int64_t)L->wmul * code - L->woff);
            for (int b = 0; b < L->bits; b++)
                if ((code >> b) & 1u) w[(size_t)o * rowb + ((size_t)f * (size_t)L->bits + (size_t)b) / 8] |= (uint8_t)(1u << (((size_t)f * (size_t)L->bits + (size_t)b) % 8));
        }
    /* the direct convolution */
    for (int n = 0; n < L->batch; n++)
        for (int o = 0; o < L->O; o++)
            for (int64_t pos = 0; pos < out_sp; pos++) {
                int64_t a = 0, rem = pos;
                int gi = o / mg, idx[3] = {0, 0, 0};
                for (int d = nd - 1; d >= 0; d--) idx[d] = (int)(rem % sp[d]), rem /= sp[d];
                for (int ci = 0; ci < cg; ci++)
                    for (int t = 0; t < ksz; t++) {
                        int kk[3] = {0, 0, 0}, ok = 1, tr = t;
                        int64_t e = (int64_t)n * L->C + gi * cg + ci;
                        for (int d = nd - 1; d >= 0; d--) kk[d] = tr % L->k[d], tr /= L->k[d];
                        for (int d = 0; d < nd; d++) {
                            int v = idx[d] * L->s[d] - L->pad[d] + kk[d] * L->dil[d];
                            if (v < 0 || v >= L->in[d]) ok = 0;
                            e = e * L->in[d] + v;
                        }
                        if (ok) a += (int64_t)q[o * fan + ci * ksz + t] * (L->xdt == MQR_U8 ? x8[e] : L->xdt == MQR_I16 ? x16[e] : x32[e]);
                    }
                acc[((int64_t)n * L->O + o) * out_sp + pos] = a;
            }
    /* thresholds: sorted draws from the accumulators actually reached (plus neighbours), so every
     * count occurs */
    for (int o = 0; o < L->O; o++) {
        int64_t *t = t64 + (size_t)o * (size_t)L->n_thr;
        for (int j = 0; j < L->n_thr; j++) {
            int64_t n0 = (int64_t)rnd((uint32_t)L->batch), p0 = (int64_t)rnd((uint32_t)out_sp);
            t[j] = acc[(n0 * L->O + o) * out_sp + p0] + (int64_t)rnd(3) - 1;
        }
        for (int j = 1; j < L->n_thr; j++)
            for (int k = j; k > 0 && t[k - 1] > t[k]; k--) {
                int64_t tmp = t[k];
                t[k] = t[k - 1], t[k - 1] = tmp;
            }
        /* the compiler's "always" and "never" thresholds (beyond the accumulator's range) */
        if (o == 0 && L->n_thr) t[0] = L->acc64 ? INT64_MIN : INT32_MIN;
        if (o == 1 && L->n_thr) t[L->n_thr - 1] = L->acc64 ? INT64_MAX : INT32_MAX;
        for (int j = 0; j < L->n_thr; j++) t32[(size_t)o * (size_t)L->n_thr + (size_t)j] = (int32_t)t[j];
        kb[o] = (float)(1 + o % 3) * 0.25f; /* k, b exact in binary: no rounding differences */
        kb[L->O + o] = (float)(o % 5) - 2.0f;
    }
    layer_p(p, nd, 1, 1, 1, 0, L->bits, L->wmul, L->woff, L->acc64);
    p[MQK_QL_GROUP] = L->group;
    for (i = 0; i < 3; i++) {
        p[MQK_QL_STRIDE + i] = i < nd ? L->s[i] : 1;
        p[MQK_QL_PAD + i] = i < nd ? L->pad[i] : 0;
        p[MQK_QL_DIL + i] = i < nd ? L->dil[i] : 1;
        p[MQK_QL_KERNEL + i] = i < nd ? L->k[i] : 1;
    }
    dx[0] = dy[0] = L->batch, dx[1] = L->C, dy[1] = L->O;
    for (i = 0; i < nd; i++) dx[2 + i] = L->in[i], dy[2 + i] = sp[i];
    dw[0] = L->O, dw[1] = (int32_t)rowb;
    int rank = nd ? nd + 2 : 2;
    mqr_tensor in[3], out;
    in[0] = T(L->xdt, rank, dx, L->xdt == MQR_U8 ? (void *)x8 : L->xdt == MQR_I16 ? (void *)x16 : (void *)x32);
    in[1] = T(MQR_U8, 2, dw, w);
    if (L->n_thr > 0) {
        dt[0] = L->O, dt[1] = L->n_thr;
        in[2] = T(L->acc64 ? MQR_I64 : MQR_I32, 2, dt, L->acc64 ? (void *)t64 : (void *)t32);
        out = T(MQR_U8, rank, dy, y8);
    } else if (L->n_thr < 0) {
        out = T(MQR_I32, rank, dy, y32);
    } else {
        dt[0] = 2, dt[1] = L->O;
        in[2] = T(MQR_F32, 2, dt, kb);
        out = T(MQR_F32, rank, dy, yf);
    }
    int wide = L->acc64 || L->xdt == MQR_I32;
    run("qint_layer", p, MQK_QL_NP, in, L->n_thr < 0 ? 2 : 3, &out, (uint32_t)mqk_qint_layer_scratch(fan, out_sp, wide, L->bits));
    for (int64_t e = 0; e < ny; e++) {
        int o = (int)(e / out_sp % L->O);
        int64_t a = acc[e];
        if (L->n_thr < 0) {
            if (y32[e] != a) fail_msg("case bits %d fan %d: acc[%lld] = %d, expected %lld", L->bits, fan, (long long)e, y32[e], (long long)a);
        } else if (L->n_thr) {
            int cnt = 0;
            for (int j = 0; j < L->n_thr; j++) cnt += a >= t64[(size_t)o * (size_t)L->n_thr + (size_t)j];
            if (y8[e] != cnt) fail_msg("case bits %d fan %d: y[%lld] = %d, expected %d (acc %lld)", L->bits, fan, (long long)e, y8[e], cnt, (long long)a);
        } else {
            float want = kb[o] * (float)a + kb[L->O + o];
            if (yf[e] != want) fail_msg("case bits %d fan %d: y[%lld] = %g, expected %g", L->bits, fan, (long long)e, (double)yf[e], (double)want);
        }
    }
    test_free(x8), test_free(w), test_free(x16), test_free(x32), test_free(q), test_free(acc), test_free(y8), test_free(y32), test_free(yf);
    test_free(t64), test_free(t32);
}

static void test_layer_sweep(void **state)
{
    (void)state;
    static const lcase cases[] = {
        /* nd batch C O group in k s pad dil | bits wmul woff acc64 xdt n_thr xlo xhi */
        /* ternary, 4 states: fan 27 (not a multiple of 4), 5 channels, 81 positions (6 vectors) */
        {2, 1, 3, 5, 1, {9, 9, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        /* the example CNN's second layer on a larger plane: several tiles, 7 channels */
        {2, 2, 32, 7, 1, {20, 20, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        /* stride 2, dilation 2, no pad, 16 states: 4-bit codes, odd levels */
        {2, 1, 4, 6, 1, {11, 13, 1}, {3, 2, 1}, {2, 2, 1}, {0, 0, 0}, {2, 2, 1}, 4, 2, 15, 0, MQR_U8, 15, 0, 15},
        /* stride 2 with pad, x codes up to 255, 8-bit weights spanning all of int8 */
        {2, 1, 5, 3, 1, {8, 7, 1}, {3, 3, 1}, {2, 1, 1}, {1, 2, 0}, {1, 1, 1}, 8, 1, 128, 0, MQR_U8, 5, 0, 255},
        /* weights past int8 (|q| up to 300): not the VNNI path */
        {2, 1, 3, 4, 1, {6, 6, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 10, 1, 300, 0, MQR_U8, 4, 0, 7},
        /* groups, 3-bit codes (no byte table), binary weights, depthwise */
        {2, 1, 6, 9, 3, {7, 5, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 3, 1, 3, 0, MQR_U8, 2, 0, 3},
        {2, 2, 5, 5, 5, {10, 9, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 1, 2, 1, 0, MQR_U8, 1, 0, 1},
        /* binary weights over fan 180 and 16-state weights over fan 81: whole 16-byte code blocks and tails */
        {2, 1, 20, 5, 1, {6, 7, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 1, 2, 1, 0, MQR_U8, 1, 0, 1},
        {2, 1, 9, 6, 1, {5, 6, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 4, 2, 15, 0, MQR_U8, 15, 0, 15},
        /* rows wider than 16 positions, a partial last row per tile */
        {2, 1, 3, 4, 1, {5, 37, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        {2, 1, 2, 3, 1, {3, 70, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        {2, 1, 40, 3, 1, {9, 23, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        /* no padding (not the "same" form): rows of 23 and 88 positions split across tiles */
        {2, 1, 40, 3, 1, {9, 25, 1}, {3, 3, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        {2, 1, 40, 3, 1, {5, 90, 1}, {3, 3, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        /* 40 positions: two full vectors and one of 8 */
        {2, 1, 3, 5, 1, {5, 8, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        /* the example CNN's third and second layers: 49 positions (3 vectors and a tail of 1 position), 196 in
         * two tiles of 98 (tails of 2), 5 and 6 channels (a partial block of 4) */
        {2, 1, 64, 5, 1, {7, 7, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        {2, 1, 32, 6, 1, {14, 14, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        /* 2 positions only (all tail), binary weights; fan 2313 (past the im2col tables and the tail's window) */
        {2, 1, 8, 5, 1, {1, 2, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 1, 2, 1, 0, MQR_U8, 1, 0, 1},
        {2, 1, 257, 3, 1, {7, 7, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        /* float out (k, b) */
        {2, 1, 8, 6, 1, {7, 7, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 0, 0, 3},
        /* the int32 accumulator out (a residual operand): the resnet's 3x3 layer on 4-state codes over
         * tiles and 1x1 stride-2 projection, 8-bit weights with 255 codes, binary weights on 0/1 codes,
         * int16 and int32 x, dense */
        {2, 2, 16, 9, 1, {14, 14, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, -1, 0, 3},
        {2, 1, 8, 6, 1, {14, 14, 1}, {1, 1, 1}, {2, 2, 1}, {0, 0, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, -1, 0, 3},
        {2, 1, 5, 3, 1, {8, 7, 1}, {3, 3, 1}, {2, 1, 1}, {1, 2, 0}, {1, 1, 1}, 8, 1, 128, 0, MQR_U8, -1, 0, 255},
        {2, 1, 20, 5, 1, {6, 7, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 1, 2, 1, 0, MQR_U8, -1, 0, 1},
        {2, 1, 2, 3, 1, {6, 6, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_I16, -1, -300, 300},
        {2, 1, 3, 4, 1, {5, 5, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 3, 1, 3, 0, MQR_I32, -1, 0, 2000},
        {0, 3, 37, 6, 1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, -1, 0, 3},
        /* 1-D and 3-D convolutions, dense */
        {1, 2, 3, 5, 1, {37, 1, 1}, {5, 1, 1}, {1, 1, 1}, {2, 0, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        {3, 1, 2, 3, 1, {4, 5, 6}, {2, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        {0, 3, 37, 6, 1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_U8, 3, 0, 3},
        /* int16 x into int32 accumulators */
        {2, 1, 2, 3, 1, {6, 6, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 2, 1, 1, 0, MQR_I16, 3, -300, 300},
        /* the wide first layer: int16 x, 24-bit weights, int64 accumulators; 900 positions (tiles),
         * fan 9 and 18 (split path), fan 27 (int64 loop); float out */
        {2, 1, 1, 5, 1, {30, 30, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 24, 1, 8388607, 1, MQR_I16, 3, -32768, 32767},
        /* the example CNN's first layer of a 2-state model: one threshold */
        {2, 1, 1, 5, 1, {28, 28, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 24, 1, 8388607, 1, MQR_I16, 1, -32768, 32767},
        {2, 2, 2, 3, 1, {9, 8, 1}, {3, 3, 1}, {2, 1, 1}, {1, 0, 0}, {1, 1, 1}, 24, 1, 8388607, 1, MQR_I16, 5, -32768, 32767},
        {2, 1, 3, 3, 1, {6, 6, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 24, 1, 8388607, 1, MQR_I16, 3, -32768, 32767},
        {2, 1, 1, 4, 1, {9, 9, 1}, {3, 3, 1}, {1, 1, 1}, {1, 1, 0}, {1, 1, 1}, 20, 2, 1048575, 1, MQR_I16, 0, -32768, 32767},
        {0, 2, 11, 10, 1, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 24, 1, 8388607, 1, MQR_I16, 0, -32768, 32767},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) sweep_case(&cases[i]);
}

/* By hand, across the 16-position vectors: 1x1 convolution, 5 input channels, x[ci][w] = w (w < 17),
 * every weight of channel o is o - 2 (3-bit codes c = q + 3 = o + 1): acc[o][w] = 5 w (o - 2);
 * thresholds {0, 40}: y = (acc >= 0) + (acc >= 40). */
static void test_conv_1x1_hand(void **state)
{
    (void)state;
    uint8_t x[5 * 17], w[5 * 2], y[5 * 17];
    int32_t thr[10], p[MQK_QL_NP], dx[4] = {1, 5, 1, 17}, dw[2] = {5, 2}, dt[2] = {5, 2}, dy[4] = {1, 5, 1, 17};
    for (int ci = 0; ci < 5; ci++)
        for (int i = 0; i < 17; i++) x[ci * 17 + i] = (uint8_t)i;
    for (int o = 0; o < 5; o++) {
        uint32_t c = (uint32_t)o + 1, bits = 0; /* five 3-bit codes: 15 bits in 2 bytes */
        for (int f = 0; f < 5; f++) bits |= c << (3 * f);
        w[o * 2] = (uint8_t)bits, w[o * 2 + 1] = (uint8_t)(bits >> 8);
        thr[o * 2] = 0, thr[o * 2 + 1] = 40;
    }
    layer_p(p, 2, 1, 1, 1, 0, 3, 1, 3, 0);
    mqr_tensor in[3] = {T(MQR_U8, 4, dx, x), T(MQR_U8, 2, dw, w), T(MQR_I32, 2, dt, thr)}, out = T(MQR_U8, 4, dy, y);
    run("qint_layer", p, MQK_QL_NP, in, 3, &out, (uint32_t)mqk_qint_layer_scratch(5, 17, 0, 3));
    for (int o = 0; o < 5; o++)
        for (int i = 0; i < 17; i++) {
            int a = 5 * i * (o - 2);
            assert_int_equal(y[o * 17 + i], (a >= 0) + (a >= 40));
        }
}

/* 2 x 2 max pooling (stride 2 and 1, no pad) over planes of several widths (rows of 7, 14, 20, 4 outputs; an
 * odd width with its last column unused) against a direct loop. */
static void test_pool_sweep(void **state)
{
    (void)state;
    static const int32_t shape[][5] = {{2, 3, 28, 28, 2}, {1, 4, 14, 14, 2}, {1, 2, 6, 40, 2}, {1, 3, 9, 9, 2}, {1, 2, 5, 35, 1}};
    for (size_t s = 0; s < sizeof shape / sizeof shape[0]; s++) {
        int32_t N = shape[s][0], C = shape[s][1], H = shape[s][2], W = shape[s][3], st = shape[s][4];
        int32_t OH = (H - 2) / st + 1, OW = (W - 2) / st + 1;
        int32_t pp[13] = {2, 2, 2, 1, st, st, 1, 0, 0, 0, 1, 1, 1}, dx[4] = {N, C, H, W}, dy[4] = {N, C, OH, OW};
        size_t nx = (size_t)(N * C * H * W), ny = (size_t)(N * C * OH * OW);
        uint8_t *x = test_malloc(nx), *y = test_malloc(ny);
        for (size_t i = 0; i < nx; i++) x[i] = (uint8_t)rnd(256);
        mqr_tensor in = T(MQR_U8, 4, dx, x), out = T(MQR_U8, 4, dy, y);
        run("qint_maxpool_u8", pp, 13, &in, 1, &out, 0);
        for (int32_t pl = 0; pl < N * C; pl++)
            for (int32_t oh = 0; oh < OH; oh++)
                for (int32_t ow = 0; ow < OW; ow++) {
                    const uint8_t *a = x + ((size_t)pl * (size_t)H + (size_t)(oh * st)) * (size_t)W + (size_t)(ow * st);
                    uint8_t m = a[0];
                    if (a[1] > m) m = a[1];
                    if (a[W] > m) m = a[W];
                    if (a[W + 1] > m) m = a[W + 1];
                    assert_int_equal(y[((size_t)pl * (size_t)OH + (size_t)oh) * (size_t)OW + (size_t)ow], m);
                }
        test_free(x), test_free(y);
    }
    /* plane sums of 49 and 1000 codes (16-byte blocks and a tail) */
    for (int32_t sp = 49; sp <= 1000; sp += 951) {
        int32_t dx[3] = {2, 3, sp}, dy[4] = {2, 3, 1, 1};
        uint8_t *x = test_malloc((size_t)(6 * sp));
        int32_t y[6];
        for (int32_t i = 0; i < 6 * sp; i++) x[i] = (uint8_t)rnd(256);
        mqr_tensor in = T(MQR_U8, 3, dx, x), out = T(MQR_I32, 4, dy, y);
        run("qint_sum_u8", NULL, 0, &in, 1, &out, 0);
        for (int32_t pl = 0; pl < 6; pl++) {
            int32_t want = 0;
            for (int32_t i = 0; i < sp; i++) want += x[pl * sp + i];
            assert_int_equal(y[pl], want);
        }
        test_free(x);
    }
}

static void test_qadd(void **state)
{
    (void)state;
    /* a int32, b uint8, [1, 2, 1, 2] (channel o, position w at 2 o + w). Channel 0: Ka 3, Kb -2,
     * thresholds 10, 11, 20: 3 * 5 - 2 * 1 = 13 reaches 10 and 11 (2); 3 * -3 - 2 * 2 = -13 none (0).
     * Channel 1 at a scale of 2^40: (7 + 3) 2^40 reaches 7 2^40, 7 2^40 + 1 and 8 2^40 (3); 0 none. */
    int32_t a[4] = {5, -3, 7, 0}, d[4] = {1, 2, 1, 2}, dp[2] = {2, 5};
    uint8_t b[4] = {1, 2, 3, 0}, y[4] = {9, 9, 9, 9};
    int64_t e = (int64_t)1 << 40, par[10] = {3, -2, 10, 11, 20, e, e, 7 * e, 7 * e + 1, 8 * e};
    mqr_tensor in[3] = {T(MQR_I32, 4, d, a), T(MQR_U8, 4, d, b), T(MQR_I64, 2, dp, par)}, out = T(MQR_U8, 4, d, y);
    run("qint_add", NULL, 0, in, 3, &out, 0);
    assert_true(y[0] == 2 && y[1] == 0 && y[2] == 3 && y[3] == 0);
    /* the last threshold one unit above the sum: no longer reached */
    par[9] = 10 * e + 1;
    run("qint_add", NULL, 0, in, 3, &out, 0);
    assert_int_equal(y[2], 2);
    /* every pair of operand types (uint8, int16, int32) on the values a = {5, 0, 7, 0}, b = {1, 2, 3, 0}
     * (all of them in every type): channel 0 as above, 15 - 2 = 13 -> 2, 0 - 4 = -4 -> 0; channel 1 with
     * the thresholds 7 e, 7 e + 1, 8 e: 10 e -> 3, 0 -> 0 */
    static const int32_t types[3] = {MQR_U8, MQR_I16, MQR_I32};
    uint8_t a8[4] = {5, 0, 7, 0};
    int16_t a16[4] = {5, 0, 7, 0}, b16[4] = {1, 2, 3, 0};
    int32_t a32[4] = {5, 0, 7, 0}, b32[4] = {1, 2, 3, 0};
    void *av[3] = {a8, a16, a32}, *bv[3] = {b, b16, b32};
    par[9] = 8 * e;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            in[0] = T(types[i], 4, d, av[i]), in[1] = T(types[j], 4, d, bv[j]);
            memset(y, 9, sizeof y);
            run("qint_add", NULL, 0, in, 3, &out, 0);
            assert_true(y[0] == 2 && y[1] == 0 && y[2] == 3 && y[3] == 0);
        }
}

static void test_qlut(void **state)
{
    (void)state;
    /* e uint8, y int16 codes with lo = -1, [1, 2, 1, 2]; table [2 channels][3 y values][2 e values]:
     * channel 0 holds 10 + 2 (y - lo) + e, channel 1 holds 50 + 2 (y - lo) + e. Position 0 of channel 0:
     * y = 1 (row 2), e = 1: 15; position 1: y = -1 (row 0), e = 0: 10; channel 1: y = 0 (row 1), e = 1:
     * 53; y = 1, e = 0: 54. */
    uint8_t e[4] = {1, 0, 1, 0}, y[4] = {9, 9, 9, 9}, lut[12];
    int16_t yv[4] = {1, -1, 0, 1};
    int32_t d[4] = {1, 2, 1, 2}, dl[3] = {2, 3, 2}, lo = -1;
    for (int o = 0; o < 2; o++)
        for (int k = 0; k < 6; k++) lut[o * 6 + k] = (uint8_t)((o ? 50 : 10) + k);
    mqr_tensor in[3] = {T(MQR_U8, 4, d, e), T(MQR_I16, 4, d, yv), T(MQR_U8, 3, dl, lut)}, out = T(MQR_U8, 4, d, y);
    run("qint_lut", &lo, 1, in, 3, &out, 0);
    assert_true(y[0] == 15 && y[1] == 10 && y[2] == 53 && y[3] == 54);
}

static void test_winsum(void **state)
{
    (void)state;
    /* 1..9 (3x3), 2x2 windows, stride 2, one pixel of padding before: (0,0) holds only 1; (0,1) 2 + 3;
     * (1,0) 4 + 7; (1,1) 5 + 6 + 8 + 9 (padding adds nothing) */
    uint8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    int16_t y[4];
    int32_t p[13] = {2, 2, 2, 1, 2, 2, 1, 1, 1, 0, 1, 1, 1}, dx[4] = {1, 1, 3, 3}, dy[4] = {1, 1, 2, 2};
    mqr_tensor in = T(MQR_U8, 4, dx, x), out = T(MQR_I16, 4, dy, y);
    run("qint_winsum_u8", p, 13, &in, 1, &out, 0);
    assert_true(y[0] == 1 && y[1] == 5 && y[2] == 11 && y[3] == 28);
}

static void test_requant(void **state)
{
    (void)state;
    /* 4-state codes at step 0.3 to the common step 0.17 (a Concat's finer input): lut[c] =
     * round-half-away(0.3 c / 0.17) = round(0, 1.7647, 3.5294, 5.2941) = 0, 2, 4, 5. A code beyond the
     * table (never made by the compiler) takes the last entry. */
    uint8_t x[6] = {0, 1, 2, 3, 2, 7}, lut[4] = {0, 2, 4, 5}, y[6] = {9, 9, 9, 9, 9, 9};
    int32_t d[4] = {1, 2, 3, 1}, dl[1] = {4};
    mqr_tensor in[2] = {T(MQR_U8, 4, d, x), T(MQR_U8, 1, dl, lut)}, out = T(MQR_U8, 4, d, y);
    run("qint_requant_u8", NULL, 0, in, 2, &out, 0);
    assert_true(y[0] == 0 && y[1] == 2 && y[2] == 4 && y[3] == 5 && y[4] == 4 && y[5] == 5);
}

static void test_rescale(void **state)
{
    (void)state;
    /* exact: uint8 codes times 3 into int16 */
    uint8_t x8[4] = {0, 1, 2, 255};
    int16_t y16[5];
    int64_t par[2] = {3, 0};
    int32_t d4[1] = {4}, d5[1] = {5}, dp[1] = {2};
    mqr_tensor in[2] = {T(MQR_U8, 1, d4, x8), T(MQR_I64, 1, dp, par)}, out = T(MQR_I16, 1, d4, y16);
    run("qint_rescale", NULL, 0, in, 2, &out, 0);
    assert_true(y16[0] == 0 && y16[1] == 3 && y16[2] == 6 && y16[3] == 765);
    /* ratio 1.5 at S = 4 (M = 24), half up: 1.5 x for x = 0, 1, 2, 3, 5 -> 0, 1.5, 3, 4.5, 7.5 -> 0, 2, 3, 5, 8 */
    int16_t x16[5] = {0, 1, 2, 3, 5};
    par[0] = 24, par[1] = 4;
    in[0] = T(MQR_I16, 1, d5, x16);
    out = T(MQR_I16, 1, d5, y16);
    run("qint_rescale", NULL, 0, in, 2, &out, 0);
    assert_true(y16[0] == 0 && y16[1] == 2 && y16[2] == 3 && y16[3] == 5 && y16[4] == 8);
    /* int32 in and out, negative values floor: -1.5 -> -1, -4.5 -> -4; +-3e9 saturate to int32 */
    int32_t x32[4] = {-1, -3, 2000000000, -2000000000}, y32[4];
    in[0] = T(MQR_I32, 1, d4, x32);
    out = T(MQR_I32, 1, d4, y32);
    run("qint_rescale", NULL, 0, in, 2, &out, 0);
    assert_true(y32[0] == -1 && y32[1] == -4 && y32[2] == INT32_MAX && y32[3] == INT32_MIN);
    /* int16 out saturates; a shift beyond 62 is taken as 62: 2^62 x / 2^62 = x */
    int32_t big[4] = {40000, -40000, 7, -7};
    par[0] = 1, par[1] = 0;
    in[0] = T(MQR_I32, 1, d4, big);
    out = T(MQR_I16, 1, d4, y16);
    run("qint_rescale", NULL, 0, in, 2, &out, 0);
    assert_true(y16[0] == 32767 && y16[1] == -32768 && y16[2] == 7 && y16[3] == -7);
    par[0] = (int64_t)1 << 62, par[1] = 70;
    in[0] = T(MQR_I32, 1, d4, big + 0);
    big[0] = 1, big[1] = 0;
    run("qint_rescale", NULL, 0, in, 2, &out, 0);
    assert_true(y16[0] == 1 && y16[1] == 0);
}

/* The vector path qint_layer takes is the one this build is for (MAQD_EXPECT_ISA, tests/CMakeLists.txt),
 * so the sweeps above ran it. */
static void test_isa(void **state)
{
    static const char *const names[] = {"portable C", "SSE2", "AVX-512 (F, BW, VL)", "AVX-512 VNNI"};
    int isa = mqk_qint_layer_isa();
    (void)state;
    assert_in_range(isa, MQK_QL_ISA_C, MQK_QL_ISA_VNNI);
    print_message("qint_layer: %s\n", names[isa]);
#if defined(MAQD_EXPECT_ISA)
    assert_int_equal(isa, MAQD_EXPECT_ISA);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa),
        cmocka_unit_test(test_conv_thresholds),
        cmocka_unit_test(test_conv_padding),
        cmocka_unit_test(test_dense_binary_and_wide),
        cmocka_unit_test(test_pool_sum_input),
        cmocka_unit_test(test_layer_sweep),
        cmocka_unit_test(test_conv_1x1_hand),
        cmocka_unit_test(test_pool_sweep),
        cmocka_unit_test(test_qadd),
        cmocka_unit_test(test_qlut),
        cmocka_unit_test(test_winsum),
        cmocka_unit_test(test_requant),
        cmocka_unit_test(test_rescale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
