/* test_qint.c: the integer kernels of lowered MaQD models (runtime/kernels/qint*.c) on small cases
 * computed by hand: code packing, padding, both accumulator forms, thresholds, pooling, the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "runtime/kernels/qint.h"
#include "runtime/kernels/qint_merge.h"
#include "runtime/kernels/qint_pool.h"

static mqr_tensor T(int32_t dt, int32_t rank, const int32_t *dims, void *data)
{
    mqr_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.rank = rank;
    for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
    t.data = data;
    return t;
}

/* Check, then run kernel `name` (scratch of exactly the declared size). */
static void run(const char *name, const int32_t *p, int32_t n_p, mqr_tensor *in, int32_t n_in, mqr_tensor *out,
                uint32_t scratch)
{
    const mqr_kernel_info *k = mqr_kernel_find(name);
    static uint64_t buf[1024];
    assert_non_null(k);
    assert_true(scratch <= sizeof buf);
    mqr_call c = {p, n_p, in, n_in, out, 1, scratch ? buf : NULL};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_thresholds),
        cmocka_unit_test(test_conv_padding),
        cmocka_unit_test(test_dense_binary_and_wide),
        cmocka_unit_test(test_pool_sum_input),
        cmocka_unit_test(test_qadd),
        cmocka_unit_test(test_qlut),
        cmocka_unit_test(test_winsum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
