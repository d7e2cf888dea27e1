/* test_qint_bits.c: the popcount kernel qint_layer_b1 (runtime/kernels/qint_bits.c) on cases computed by
 * hand, and against the general kernel qint_layer on random layers with input codes of 1..4 bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/qint_bits.h"
#include "qint_tensor.h"


/* Check with exactly `scratch` bytes (one byte less must be refused), then run (two inputs for the
 * int32 accumulator out, else three). */
static void run_b1(const int32_t *p, mqr_tensor *in, mqr_tensor *out, uint32_t scratch)
{
    void *buf = scratch ? malloc(scratch) : NULL;
    mqr_call c = {p, MQK_QB_NP, in, out->dtype == MQR_I32 ? 2 : 3, out, 1, buf};
    assert_int_equal(mqk_c_qint_layer_b1(&c, scratch), MQR_CHECK_OK);
    if (scratch) assert_int_equal(mqk_c_qint_layer_b1(&c, scratch - 1), MQR_CHECK_BAD);
    mqk_k_qint_layer_b1(&c);
    free(buf);
}

/* layer params: nd, group, strides, pads, dilations, kernel (2-D: kh, kw), bits, wmul, woff, acc64 0, xbits */
static void layer_p(int32_t *p, int nd, int kh, int kw, int s, int pad, int bits, int wmul, int woff, int xbits)
{
    int32_t v[MQK_QB_NP] = {nd, 1, s, s, 1, pad, pad, 0, 1, 1, 1, kh, kw, 1, bits, wmul, woff, 0, xbits};
    if (nd == 0) v[2] = v[3] = 1, v[5] = v[6] = 0, v[11] = v[12] = 1;
    memcpy(p, v, sizeof v);
}

static void test_binary_weights(void **state)
{
    (void)state;
    /* x 3x3 = [[1,0,1],[1,1,0],[0,1,1]], one 2x2 filter of binary weights q = 2c - 1, c = [1,0,0,1]
     * (LSB first: 0x09), q = [1,-1,-1,1]: windows [1,0;1,1] -> 1 - 0 - 1 + 1 = 1, [0,1;1,0] -> -2,
     * [1,1;0,1] -> 1, [1,0;1,1] -> 1 */
    uint8_t x[9] = {1, 0, 1, 1, 1, 0, 0, 1, 1}, w[1] = {0x09}, y[4];
    int32_t p[MQK_QB_NP], thr[1] = {1}, xd[4] = {1, 1, 3, 3}, wd[2] = {1, 1}, td[2] = {1, 1}, yd[4] = {1, 1, 2, 2};
    int32_t kd[2] = {2, 1};
    float kb[2] = {0.5f, 1.0f}, yf[4];
    layer_p(p, 2, 2, 2, 1, 0, 1, 2, 1, 1);
    mqr_tensor in[3] = {T(MQR_U8, 4, xd, x), T(MQR_U8, 2, wd, w), T(MQR_I32, 2, td, thr)};
    mqr_tensor out = T(MQR_U8, 4, yd, y);
    run_b1(p, in, &out, (uint32_t)mqk_qint_b1_scratch(1, 3, 3, 4, 4, 1, 1, 0));
    uint8_t want[4] = {1, 0, 1, 1};
    assert_memory_equal(y, want, 4);
    /* float out: 0.5 acc + 1 */
    in[2] = T(MQR_F32, 2, kd, kb);
    out = T(MQR_F32, 4, yd, yf);
    run_b1(p, in, &out, (uint32_t)mqk_qint_b1_scratch(1, 3, 3, 4, 4, 1, 1, 0));
    assert_true(yf[0] == 1.5f && yf[1] == 0.0f && yf[2] == 1.5f && yf[3] == 1.5f);
    /* the accumulator itself (two inputs): 1, -2, 1, 1 */
    int32_t acc[4];
    out = T(MQR_I32, 4, yd, acc);
    run_b1(p, in, &out, (uint32_t)mqk_qint_b1_scratch(1, 3, 3, 4, 4, 1, 1, 0));
    assert_true(acc[0] == 1 && acc[1] == -2 && acc[2] == 1 && acc[3] == 1);
}

static void test_ternary_padding(void **state)
{
    (void)state;
    /* x 2x2 = [[1,1],[0,1]], a 3x3 ternary filter q = [[1,0,-1],[0,1,1],[-1,1,0]] stored as 2-bit
     * c = q + 1 = [2,1,0, 1,2,2, 0,2,1] (bytes 2|1<<2|0<<4|1<<6 = 0x46, 2|2<<2|0<<4|2<<6 = 0x8A, 0x01);
     * pad 1, stride 2: one output, its window rows -1..1, cols -1..1: row 0 gives q 1, 1 on x 1, 1 = 2,
     * row 1 gives q 1 on x 0 and 0 on x 1: acc = 2. Thresholds [0, 2, 3]: code 2. */
    uint8_t x[4] = {1, 1, 0, 1}, w[3] = {0x46, 0x8A, 0x01}, y[1] = {99};
    int32_t p[MQK_QB_NP], thr[3] = {0, 2, 3}, xd[4] = {1, 1, 2, 2}, wd[2] = {1, 3}, td[2] = {1, 3}, yd[4] = {1, 1, 1, 1};
    layer_p(p, 2, 3, 3, 2, 1, 2, 1, 1, 1);
    mqr_tensor in[3] = {T(MQR_U8, 4, xd, x), T(MQR_U8, 2, wd, w), T(MQR_I32, 2, td, thr)};
    mqr_tensor out = T(MQR_U8, 4, yd, y);
    /* row bits: max(pad 1 + 2, the window's last tap 2 + 1) = 3 */
    run_b1(p, in, &out, (uint32_t)mqk_qint_b1_scratch(1, 2, 3, 9, 1, 2, 1, 0));
    assert_int_equal(y[0], 2);
}

static void test_dense_multiword(void **state)
{
    (void)state;
    /* K = 130 (three words), binary q = 2c - 1 with c_i = 1 iff i % 3 == 0. Image 0: x_i = 1 for i < 100:
     * 34 multiples of 3 -> 34 - 66 = -32; image 1: x_i = 1 for i >= 65: 66, 69, .., 129 are 22 of 65 ->
     * 22 - 43 = -21. float out k 1, b 0. */
    uint8_t x[260], w[17] = {0};
    float kb[2] = {1.0f, 0.0f}, y[2];
    int32_t p[MQK_QB_NP], xd[2] = {2, 130}, wd[2] = {1, 17}, kd[2] = {2, 1}, yd[2] = {2, 1};
    for (int i = 0; i < 130; i++) {
        x[i] = i < 100;
        x[130 + i] = i >= 65;
        if (i % 3 == 0) w[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    layer_p(p, 0, 1, 1, 1, 0, 1, 2, 1, 1);
    mqr_tensor in[3] = {T(MQR_U8, 2, xd, x), T(MQR_U8, 2, wd, w), T(MQR_F32, 2, kd, kb)};
    mqr_tensor out = T(MQR_F32, 2, yd, y);
    run_b1(p, in, &out, (uint32_t)mqk_qint_b1_scratch(130, 1, 1, 130, 2, 1, 1, 1));
    assert_true(y[0] == -32.0f && y[1] == -21.0f);
}

static void test_two_bit_input(void **state)
{
    (void)state;
    /* 2-bit input codes (4 states) x ternary weights: x 3x3 = [[3,0,2],[1,3,1],[0,2,3]], one 3x3 filter
     * q = c - 1 with c = [2,1,0, 0,2,1, 1,0,2] (bytes 2|1<<2|0<<4|0<<6 = 0x06, 2|1<<2|1<<4|0<<6 = 0x16,
     * 0x02), i.e. q = [1,0,-1, -1,1,0, 0,-1,1]; pad 1, stride 1: 9 outputs, the window of output (i, j)
     * x[i-1..i+1][j-1..j+1] (0 outside), q row r on the window's row r:
     *  (0,0): row 1 (-1,1,0) on (0,3,0) = 3, row 2 (0,-1,1) on (0,1,3) = 2: 5
     *  (0,1): row 1 on (3,0,2) = -3, row 2 on (1,3,1) = -2: -5
     *  (0,2): row 1 on (0,2,0) = 2, row 2 on (3,1,0) = -1: 1
     *  (1,0): row 0 (1,0,-1) on (0,3,0) = 0, row 1 on (0,1,3) = 1, row 2 on (0,0,2) = 2: 3
     *  (1,1): row 0 on (3,0,2) = 1, row 1 on (1,3,1) = 2, row 2 on (0,2,3) = 1: 4
     *  (1,2): row 0 on (0,2,0) = 0, row 1 on (3,1,0) = -2, row 2 on (2,3,0) = -3: -5
     *  (2,0): row 0 on (0,1,3) = -3, row 1 on (0,0,2) = 0: -3
     *  (2,1): row 0 on (1,3,1) = 0, row 1 on (0,2,3) = 2: 2
     *  (2,2): row 0 on (3,1,0) = 3, row 1 on (2,3,0) = 1: 4
     * float out k 1, b 0.5; with xbits 3 (codes up to 7: the same x) the same sums. */
    uint8_t x[9] = {3, 0, 2, 1, 3, 1, 0, 2, 3}, w[3] = {0x06, 0x16, 0x02};
    int32_t p[MQK_QB_NP], xd[4] = {1, 1, 3, 3}, wd[2] = {1, 3}, kd[2] = {2, 1}, yd[4] = {1, 1, 3, 3};
    float kb[2] = {1.0f, 0.5f}, y[9], want[9] = {5.5f, -4.5f, 1.5f, 3.5f, 4.5f, -4.5f, -2.5f, 2.5f, 4.5f};
    for (int xbits = 2; xbits <= 3; xbits++) {
        layer_p(p, 2, 3, 3, 1, 1, 2, 1, 1, xbits);
        mqr_tensor in[3] = {T(MQR_U8, 4, xd, x), T(MQR_U8, 2, wd, w), T(MQR_F32, 2, kd, kb)};
        mqr_tensor out = T(MQR_F32, 4, yd, y);
        memset(y, 0, sizeof y);
        /* row bits: pad 1 + 3 = 4, the last window's last tap 2 + 2 + 1 = 5 */
        run_b1(p, in, &out, (uint32_t)mqk_qint_b1_scratch(1, 3, 5, 9, 9, 2, xbits, 0));
        assert_memory_equal(y, want, sizeof want);
    }
}

static void test_dense_multibit(void **state)
{
    (void)state;
    /* dense, K = 70 (two words), 16-state input (4 bits) x binary weights q = 2c - 1, c_i = 1 iff i even.
     * Image 0, x_i = i % 16: acc = sum of x_i over even i - over odd i; i = 0..63: 4 periods of
     * (0+2+..+14) - (1+3+..+15) = 56 - 64 = -8: -32; i = 64..69 (x = 0..5): (0+2+4) - (1+3+5) = -3; -35.
     * Image 1, x_i = 15: 35 x 15 - 35 x 15 = 0. Thresholds [-35, -34, 0]: codes 1 and 3. */
    uint8_t x[140], w[9] = {0}, y[2];
    int32_t p[MQK_QB_NP], thr[3] = {-35, -34, 0}, xd[2] = {2, 70}, wd[2] = {1, 9}, td[2] = {1, 3}, yd[2] = {2, 1};
    for (int i = 0; i < 70; i++) {
        x[i] = (uint8_t)(i % 16);
        x[70 + i] = 15;
        if (i % 2 == 0) w[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    layer_p(p, 0, 1, 1, 1, 0, 1, 2, 1, 4);
    mqr_tensor in[3] = {T(MQR_U8, 2, xd, x), T(MQR_U8, 2, wd, w), T(MQR_I32, 2, td, thr)};
    mqr_tensor out = T(MQR_U8, 2, yd, y);
    run_b1(p, in, &out, (uint32_t)mqk_qint_b1_scratch(70, 1, 1, 70, 2, 1, 4, 1));
    assert_int_equal(y[0], 1);
    assert_int_equal(y[1], 3);
}

/* ---- against qint_layer on random layers ------------------------------------------------------------ */

static uint32_t rng = 12345;
static int32_t rnd(int32_t n) /* 0 .. n-1 */
{
    rng = rng * 1103515245u + 12345u;
    return (int32_t)((rng >> 8) % (uint32_t)n);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* One random layer (nd spatial dims, 0 = dense; input codes of xbits bits) run by both kernels; outputs
 * (uint8 codes, float_out 1: float k acc + b, 2: the int32 accumulator) must be equal. */
static void compare_one(int nd, int float_out, int xbits)
{
    int32_t p[MQK_QB_NP] = {0}, xd[5], yd[5], wd[2], td[2];
    int32_t groups = nd ? 1 + rnd(3) : 1, cg = 1 + rnd(nd ? 12 : 150), mg = 1 + rnd(5), bits = 1 + rnd(MQK_QB_MAX_BITS);
    int32_t N = 1 + rnd(nd ? 2 : 11), C = groups * cg, O = groups * mg, wmul = 1 + rnd(2), woff, n_thr = 1 + rnd(3);
    int64_t fan = cg, out_sp = 1, rows = 1, row_bits = 1;
    int i;
    if (wmul == 2 && bits == 1 && rnd(2)) woff = 1; /* binary */
    else woff = rnd(wmul * ((1 << bits) - 1) + 1);
    p[MQK_QL_ND] = nd, p[MQK_QL_GROUP] = groups, p[MQK_QL_BITS] = bits, p[MQK_QL_WMUL] = wmul, p[MQK_QL_WOFF] = woff;
    p[MQK_QB_XBITS] = xbits;
    xd[0] = yd[0] = N, xd[1] = C, yd[1] = O;
    for (i = 0; i < MQK_MAX_SPATIAL; i++) {
        int32_t k = 1, s = 1, pd = 0, d = 1;
        if (i < nd) {
            int32_t in = 1 + rnd(nd == 3 ? 5 : nd == 1 || (i == 1 && rnd(4) == 0) ? 150 : 17), span; /* rows of 1-3 words */
            k = 1 + rnd(nd == 3 ? 3 : nd == 2 && rnd(4) == 0 ? 7 : 5), s = 1 + rnd(3), d = 1 + rnd(2), pd = rnd(3); /* 7x7: > 32 taps */
            span = (k - 1) * d + 1;
            if (in + 2 * pd < span) in = span; /* at least one output */
            xd[2 + i] = in;
            yd[2 + i] = (in + 2 * pd - span) / s + 1;
            fan *= k;
            out_sp *= yd[2 + i];
            if (i + 1 < nd) rows *= in;
            else row_bits = mqk_qb_row_bits(in, yd[2 + i], k, s, pd, d);
        }
        p[MQK_QL_KERNEL + i] = k, p[MQK_QL_STRIDE + i] = s, p[MQK_QL_PAD + i] = pd, p[MQK_QL_DIL + i] = d;
    }
    size_t nx = (size_t)N * (size_t)C, ny = (size_t)N * (size_t)O, rowb = mqk_qint_row_bytes((size_t)fan, bits);
    for (i = 0; i < nd; i++) nx *= (size_t)xd[2 + i], ny *= (size_t)yd[2 + i];
    uint8_t *x = malloc(nx), *w = malloc((size_t)O * rowb), *y1 = malloc(ny * 4), *y2 = malloc(ny * 4);
    int32_t *thr = malloc((size_t)O * (size_t)n_thr * 4);
    float *kb = malloc((size_t)O * 2 * 4);
    int density = 1 + rnd(9); /* non-zero codes among 10 */
    for (size_t j = 0; j < nx; j++) x[j] = rnd(10) < density ? (uint8_t)(1 + rnd((1 << xbits) - 1)) : 0;
    if (rnd(4) == 0) /* some inputs at the largest code */
        for (size_t j = 0; j < nx; j += 1 + (size_t)rnd(4)) x[j] = (uint8_t)((1 << xbits) - 1);
    for (size_t j = 0; j < (size_t)O * rowb; j++) w[j] = (uint8_t)rnd(256);
    int64_t qmax = wmul * ((1 << bits) - 1), bound = fan * (qmax > woff ? qmax : woff) * ((1 << xbits) - 1);
    for (int32_t o = 0; o < O; o++) {
        for (int32_t t = 0; t < n_thr; t++) thr[o * n_thr + t] = (int32_t)(rnd((int32_t)(2 * bound + 3)) - bound - 1);
        qsort(thr + o * n_thr, (size_t)n_thr, 4, cmp_i32);
        kb[o] = (float)(rnd(7) - 3) * 0.25f, kb[O + o] = (float)rnd(5);
    }
    wd[0] = O, wd[1] = (int32_t)rowb;
    td[0] = float_out ? 2 : O, td[1] = float_out ? O : n_thr;
    mqr_tensor in[3] = {T(MQR_U8, nd + 2, xd, x), T(MQR_U8, 2, wd, w),
                        float_out ? T(MQR_F32, 2, td, kb) : T(MQR_I32, 2, td, thr)};
    mqr_tensor out = T(float_out == 2 ? MQR_I32 : float_out ? MQR_F32 : MQR_U8, nd + 2, yd, y1);
    memset(y1, 0xAB, ny * 4);
    memset(y2, 0xCD, ny * 4);
    run_b1(p, in, &out, (uint32_t)mqk_qint_b1_scratch(cg, rows, row_bits, fan, nd ? out_sp : N, bits, xbits, nd == 0));
    uint32_t sg = (uint32_t)mqk_qint_layer_scratch(fan, out_sp, 0, bits);
    void *sbuf = malloc(sg);
    out.data = y2;
    mqr_call c = {p, MQK_QL_NP, in, float_out == 2 ? 2 : 3, &out, 1, sbuf}; /* qint_layer: the first MQK_QL_NP parameters */
    assert_int_equal(mqk_c_qint_layer(&c, sg), MQR_CHECK_OK);
    mqk_k_qint_layer(&c);
    assert_memory_equal(y1, y2, ny * (float_out ? 4 : 1));
    free(sbuf), free(x), free(w), free(y1), free(y2), free(thr), free(kb);
}

static void test_random_vs_general(void **state)
{
    (void)state;
    for (int r = 0; r < 600; r++) /* out: float every 4th, the int32 accumulator on r % 7 == 5 otherwise; input
                                   * codes of 1 bit (half the layers), 2, 3 or 4 bits */
        compare_one(r % 10 == 0 ? 0 : r % 10 == 1 ? 1 : r % 10 == 2 ? 3 : 2, r % 4 == 3 ? 1 : r % 7 == 5 ? 2 : 0,
                    r % 8 < 4 ? 1 : 2 + r / 8 % 3);
    /* convolutions go to qint_layer's VNNI form where it runs (MAQD_EXPECT_ISA: the path this build takes) */
    print_message("qint_layer: vector path %d (3: AVX-512 VNNI takes the convolutions)\n", mqk_qint_layer_isa());
#if defined(MAQD_EXPECT_ISA)
    assert_int_equal(mqk_qint_layer_isa(), MAQD_EXPECT_ISA);
#endif
#if defined(MQK_QB_PORTABLE)
    print_message("qint_layer_b1: portable SWAR popcount\n");
#elif defined(MQK_QB_NO_AVX512)
    print_message("qint_layer_b1: POPCNT if the CPU has it, never VPOPCNTDQ\n");
#else
    print_message("qint_layer_b1: VPOPCNTDQ or POPCNT if the CPU has them\n");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_weights),
        cmocka_unit_test(test_ternary_padding),
        cmocka_unit_test(test_dense_multiword),
        cmocka_unit_test(test_two_bit_input),
        cmocka_unit_test(test_dense_multibit),
        cmocka_unit_test(test_random_vs_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
