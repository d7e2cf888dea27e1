/* test_kernels.c: the portable float kernels of runtime/kernels/ on small cases worked out by hand,
 * and the host OpenBLAS paths (sgemm, im2col/col2im + sgemm) against the portable kernels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "core/op.h"
#include "runtime/kernels/conv.h"
#include "runtime/kernels/gemm.h"
#include "runtime/kernels/norm.h"
#include "runtime/kernels/pool.h"
#include "runtime/kernels/rnn.h"
#include "runtime/kernels/roi.h"
#include "runtime/kernels/softmax.h"

static void near(const float *got, const float *want, size_t n, float tol)
{
    for (size_t i = 0; i < n; i++) {
        if (fabsf(got[i] - want[i]) > tol * (1.0f + fabsf(want[i])))
            fail_msg("element %zu: got %.7g, want %.7g", i, (double)got[i], (double)want[i]);
    }
}

/* deterministic pseudo-random values in [-1, 1) */
static uint32_t rng = 12345u;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}

/* Run kernel fn on float tensors: ins[i] / outs[i] with the given ranks and dims (up to 4). */
typedef struct ktens {
    const void *data;
    int rank;
    int32_t dims[4];
} ktens;

static void run_k(mqr_kernel_fn fn, const int32_t *prm, int n_p, const ktens *ins, int n_in, const ktens *outs, int n_out,
                  void *scratch)
{
    mqr_tensor ti[8], to[8];
    for (int i = 0; i < n_in + n_out; i++) {
        const ktens *k = i < n_in ? &ins[i] : &outs[i - n_in];
        mqr_tensor *t = i < n_in ? &ti[i] : &to[i - n_in];
        memset(t, 0, sizeof *t);
        t->dtype = MQR_F32;
        t->rank = k->data ? k->rank : -1;
        for (int d = 0; d < k->rank; d++) t->dims[d] = k->dims[d];
        t->data = (void *)k->data;
    }
    mqr_call c = {prm, n_p, ti, n_in, to, n_out, scratch};
    fn(&c);
}

static void test_sgemm_hand(void **state)
{
    (void)state;
    /* A = [[1,2],[3,4]], B = [[5,6],[7,8]]: A*B = [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]] = [[19,22],[43,50]] */
    const float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8};
    float C[4] = {NAN, NAN, NAN, NAN};
    mqk_sgemm(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2); /* beta 0 ignores the NaNs */
    const float w1[4] = {19, 22, 43, 50};
    near(C, w1, 4, 0);
    /* A^T*B = [[1,3],[2,4]]*B = [[1*5+3*7, 1*6+3*8], [2*5+4*7, 2*6+4*8]] = [[26,30],[38,44]] */
    mqk_sgemm(1, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    const float w2[4] = {26, 30, 38, 44};
    near(C, w2, 4, 0);
    /* A*B^T = [[1*5+2*6, 1*7+2*8], [3*5+4*6, 3*7+4*8]] = [[17,23],[39,53]] */
    mqk_sgemm(0, 1, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    const float w3[4] = {17, 23, 39, 53};
    near(C, w3, 4, 0);
    /* 2*A*B + 1*ones = [[39,45],[87,101]] */
    for (int i = 0; i < 4; i++) C[i] = 1.0f;
    mqk_sgemm(0, 0, 2, 2, 2, 2.0f, A, 2, B, 2, 1.0f, C, 2);
    const float w4[4] = {39, 45, 87, 101};
    near(C, w4, 4, 0);
    /* int: [1,-2] * [3;4] = 3 - 8 = -5 */
    const int32_t ia[2] = {1, -2}, ib[2] = {3, 4};
    int32_t ic = 0;
    mqk_gemm_i32(1, 1, 2, ia, ib, &ic);
    assert_int_equal(ic, -5);
}

static void test_sgemm_vs_blas(void **state)
{
    (void)state;
    enum { M = 37, N = 29, K = 41 };
    static float A[M * K], B[K * N], C0[M * N], C1[M * N];
    for (int i = 0; i < M * K; i++) A[i] = frand();
    for (int i = 0; i < K * N; i++) B[i] = frand();
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            for (int i = 0; i < M * N; i++) C0[i] = C1[i] = frand();
            int lda = ta ? M : K, ldb = tb ? K : N;
            mqk_sgemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 0.25f, C0, N);
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
                        0.5f, A, lda, B, ldb, 0.25f, C1, N);
            near(C0, C1, M * N, 1e-5f);
        }
}

static mqk_conv_params conv1d(int32_t c, int32_t m, int32_t g, int32_t in, int32_t k, int32_t s, int32_t pad,
                              int32_t out)
{
    mqk_conv_params p;
    memset(&p, 0, sizeof p);
    p.nd = 1;
    p.batch = 1;
    p.in_ch = c;
    p.out_ch = m;
    p.group = g;
    p.in_size[0] = in;
    p.out_size[0] = out;
    p.kernel[0] = k;
    p.stride[0] = s;
    p.pad_begin[0] = pad;
    p.dilation[0] = 1;
    return p;
}

static void test_conv_hand(void **state)
{
    (void)state;
    /* 1-D, x = [1,2,3,4], w = [1,0,-1], pad 1, bias 0.5: y[o] = x[o-1] - x[o+1] + 0.5
     * = [0-2, 1-3, 2-4, 3-0] + 0.5 = [-1.5, -1.5, -1.5, 3.5] */
    mqk_conv_params p = conv1d(1, 1, 1, 4, 3, 1, 1, 4);
    const float x[4] = {1, 2, 3, 4}, w[3] = {1, 0, -1}, b = 0.5f;
    float y[5];
    mqk_conv_f32(&p, x, w, &b, y);
    const float want[4] = {-1.5f, -1.5f, -1.5f, 3.5f};
    near(y, want, 4, 0);
    /* 2-D, x = 3x3 of 1..9, w = 2x2 of ones: sums of 2x2 blocks = [1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9] */
    mqk_conv_params q;
    memset(&q, 0, sizeof q);
    q.nd = 2;
    q.batch = q.in_ch = q.out_ch = q.group = 1;
    q.in_size[0] = q.in_size[1] = 3;
    q.out_size[0] = q.out_size[1] = 2;
    q.kernel[0] = q.kernel[1] = 2;
    q.stride[0] = q.stride[1] = q.dilation[0] = q.dilation[1] = 1;
    const float x2[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w2[4] = {1, 1, 1, 1};
    mqk_conv_f32(&q, x2, w2, NULL, y);
    const float want2[4] = {12, 16, 24, 28};
    near(y, want2, 4, 0);
    /* depthwise, 2 channels, group 2, k 1: w = [2, -1]: y0 = 2*[1,2], y1 = -[3,4] */
    mqk_conv_params r = conv1d(2, 2, 2, 2, 1, 1, 0, 2);
    const float x3[4] = {1, 2, 3, 4}, w3[2] = {2, -1};
    mqk_conv_f32(&r, x3, w3, NULL, y);
    const float want3[4] = {2, 4, -3, -4};
    near(y, want3, 4, 0);
    /* integer: same as the 1-D case without bias: [-2, -2, -2, 3] */
    const int32_t xi[4] = {1, 2, 3, 4}, wi[3] = {1, 0, -1};
    int32_t yi[4];
    mqk_conv_i32(&p, xi, wi, yi);
    assert_int_equal(yi[0], -2);
    assert_int_equal(yi[3], 3);
    /* transposed, x = [1,2], w = [1,1,1], stride 2: y[2i+k] += x[i] -> [1,1,1+2,2,2] */
    mqk_conv_params t = conv1d(1, 1, 1, 2, 3, 2, 0, 5);
    const float xt[2] = {1, 2}, wt[3] = {1, 1, 1};
    mqk_conv_transpose_f32(&t, xt, wt, NULL, y);
    const float want4[5] = {1, 1, 3, 2, 2};
    near(y, want4, 5, 0);
}

static void test_conv_vs_blas(void **state)
{
    (void)state;
    /* 2-D, 4 -> 6 channels in 2 groups, 7x6 input, 3x2 kernel, stride (2,1), pad (1,0), dilation (1,2) */
    mqk_conv_params p;
    memset(&p, 0, sizeof p);
    p.nd = 2;
    p.batch = 2;
    p.in_ch = 4;
    p.out_ch = 6;
    p.group = 2;
    p.in_size[0] = 7;
    p.in_size[1] = 6;
    p.kernel[0] = 3;
    p.kernel[1] = 2;
    p.stride[0] = 2;
    p.stride[1] = 1;
    p.pad_begin[0] = 1;
    p.dilation[0] = 1;
    p.dilation[1] = 2;
    p.out_size[0] = (7 + 2 - 3) / 2 + 1;   /* pads 1+1: 4 */
    p.out_size[1] = (6 - (2 - 1) * 2 - 1) + 1; /* 4 */
    enum { XN = 2 * 4 * 7 * 6, WN = 6 * 2 * 3 * 2, YN = 2 * 6 * 4 * 4 };
    static float x[XN], w[WN], b[6], y0[YN], y1[YN], col[2 * 3 * 2 * 4 * 4];
    for (int i = 0; i < XN; i++) x[i] = frand();
    for (int i = 0; i < WN; i++) w[i] = frand();
    for (int i = 0; i < 6; i++) b[i] = frand();
    assert_int_equal(mqk_conv_scratch_bytes(&p, MQK_CONV_IM2COL, mqk_conv_out_rows(&p)), sizeof col);
    mqk_conv_f32(&p, x, w, b, y0);
    for (int n = 0; n < 2; n++)
        for (int g = 0; g < 2; g++) {
            mqk_im2col_f32(&p, x + (n * 4 + g * 2) * 42, 0, mqk_conv_out_rows(&p), col);
            float *yg = y1 + (n * 6 + g * 3) * 16;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 3, 16, 12, 1.0f, w + g * 3 * 12, 12, col, 16, 0.0f,
                        yg, 16);
            for (int m = 0; m < 3; m++)
                for (int j = 0; j < 16; j++) yg[m * 16 + j] += b[g * 3 + m];
        }
    near(y0, y1, YN, 1e-5f);

    /* transposed: 4 -> 6 channels in 2 groups, 3x4 input, 3x2 kernel, stride (2,1), pad 1, dilation (1,2) */
    mqk_conv_params t = p;
    t.in_size[0] = 3;
    t.in_size[1] = 4;
    t.pad_begin[1] = 1;
    t.out_size[0] = 2 * (3 - 1) + 3 - 2;       /* 5 */
    t.out_size[1] = 1 * (4 - 1) + 3 - 2;       /* dilated kernel 3: 4 */
    enum { TXN = 2 * 4 * 12, TWN = 4 * 3 * 6, TYN = 2 * 6 * 20 };
    static float tx[TXN], tw[TWN], ty0[TYN], ty1[TYN];
    for (int i = 0; i < TXN; i++) tx[i] = frand();
    for (int i = 0; i < TWN; i++) tw[i] = frand();
    mqk_conv_transpose_f32(&t, tx, tw, b, ty0);
    /* reference: scatter every input value through every tap, bounds checked per element */
    for (int i = 0; i < TYN; i++) ty1[i] = b[(i / 20) % 6];
    for (int n = 0; n < 2; n++)
        for (int ci = 0; ci < 4; ci++)
            for (int m = 0; m < 3; m++)
                for (int ih = 0; ih < 3; ih++)
                    for (int iw = 0; iw < 4; iw++)
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 2; kw++) {
                                int oh = ih * 2 - 1 + kh, ow = iw - 1 + kw * 2;
                                if (oh < 0 || oh >= 5 || ow < 0 || ow >= 4) continue;
                                ty1[((n * 6 + (ci / 2) * 3 + m) * 5 + oh) * 4 + ow] +=
                                    tx[((n * 4 + ci) * 3 + ih) * 4 + iw] * tw[((ci * 3 + m) * 3 + kh) * 2 + kw];
                            }
    near(ty0, ty1, TYN, 1e-5f);
}

static void test_pool_hand(void **state)
{
    (void)state;
    /* 4x4 input 0..15, kernel 2, stride 2: maxima are the bottom-right corners 5, 7, 13, 15; their
     * column-major indices (w*4 + h) are (1,1)->5, (1,3)->13, (3,1)->7, (3,3)->15 */
    mqk_pool_params p;
    memset(&p, 0, sizeof p);
    p.nd = 2;
    p.batch = p.channels = 1;
    p.in_size[0] = p.in_size[1] = 4;
    p.out_size[0] = p.out_size[1] = 2;
    p.kernel[0] = p.kernel[1] = p.stride[0] = p.stride[1] = 2;
    p.dilation[0] = p.dilation[1] = 1;
    float x[16], y[4];
    int64_t ind[4];
    for (int i = 0; i < 16; i++) x[i] = (float)i;
    mqk_pool_f32(&p, MQK_POOL_MAX, x, y, ind, 0);
    const float want[4] = {5, 7, 13, 15};
    near(y, want, 4, 0);
    assert_int_equal(ind[1], 7);
    mqk_pool_f32(&p, MQK_POOL_MAX, x, y, ind, 1);
    assert_int_equal(ind[1], 13);
    assert_int_equal(ind[2], 7);
    /* 1-D average, x = [1,2,3], kernel 2, pads 1+1: windows {pad,1} {1,2} {2,3} {3,pad}:
     * excluding pads [1, 1.5, 2.5, 3]; including pads [0.5, 1.5, 2.5, 1.5] */
    mqk_pool_params a;
    memset(&a, 0, sizeof a);
    a.nd = 1;
    a.batch = a.channels = 1;
    a.in_size[0] = 3;
    a.out_size[0] = 4;
    a.kernel[0] = 2;
    a.stride[0] = a.dilation[0] = 1;
    a.pad_begin[0] = a.pad_end[0] = 1;
    const float xa[3] = {1, 2, 3};
    mqk_pool_f32(&a, MQK_POOL_AVG, xa, y, NULL, 0);
    const float want2[4] = {1, 1.5f, 2.5f, 3};
    near(y, want2, 4, 0);
    a.count_include_pad = 1;
    mqk_pool_f32(&a, MQK_POOL_AVG, xa, y, NULL, 0);
    const float want3[4] = {0.5f, 1.5f, 2.5f, 1.5f};
    near(y, want3, 4, 0);
    /* Lp (p = 2), kernel 2, no pads on [3,4,0]: [sqrt(9+16), sqrt(16+0)] = [5, 4] */
    a.pad_begin[0] = a.pad_end[0] = 0;
    a.out_size[0] = 2;
    a.p = 2.0f;
    const float xl[3] = {3, 4, 0};
    mqk_pool_f32(&a, MQK_POOL_LP, xl, y, NULL, 0);
    const float want4[2] = {5, 4};
    near(y, want4, 2, 1e-6f);
    /* global: [1,2,3,4] -> mean 2.5, max 4, L2 sqrt(30) */
    const float xg[4] = {1, 2, 3, 4};
    for (int kind = 0; kind < 3; kind++) {
        mqr_tensor ti = {MQR_F32, 3, {1, 1, 4}, (void *)xg}, to = {MQR_F32, 3, {1, 1, 1}, y + (kind + 2) % 3};
        int32_t prm[2] = {kind, mqr_f32_bits(2.0f)};
        mqr_call call = {prm, 2, &ti, 1, &to, 1, NULL};
        mqk_k_global_pool_f32(&call); /* max, avg, lp -> y[2], y[0], y[1] */
    }
    const float want5[3] = {2.5f, 5.4772256f, 4};
    near(y, want5, 3, 1e-6f);
}

static void test_norm_hand(void **state)
{
    (void)state;
    float y[4], m[2], v[2];
    /* batchnorm: scale 2, bias 1, mean 1.5, var 3, eps 1: a = 2/sqrt(4) = 1, b = 1 - 1.5 = -0.5:
     * [1,2] -> [0.5, 1.5] */
    const float x[2] = {1, 2}, s = 2, bi = 1, me = 1.5f, va = 3;
    mqk_batchnorm_f32(1, 1, 2, x, &s, &bi, &me, &va, 1.0f, y);
    const float w1[2] = {0.5f, 1.5f};
    near(y, w1, 2, 1e-6f);
    /* channel statistics of [1,2,3,4]: mean 2.5, variance (2.25+0.25+0.25+2.25)/4 = 1.25 */
    const float x4[4] = {1, 2, 3, 4};
    mqk_channel_stats_f32(1, 1, 4, x4, m, v);
    assert_float_equal(m[0], 2.5f, 1e-6f);
    assert_float_equal(v[0], 1.25f, 1e-6f);
    /* layernorm, row [1,3]: mean 2, var 1, eps 0 -> [-1, 1]; scale [2,3], bias [0,1] -> [-2, 4] */
    const float xr[2] = {1, 3}, sc[2] = {2, 3}, bb[2] = {0, 1};
    {
        const int32_t prm[3] = {1, mqr_f32_bits(0.0f), 0};
        const ktens in[3] = {{xr, 2, {1, 2}}, {sc, 1, {2}}, {bb, 1, {2}}};
        const ktens out[3] = {{y, 2, {1, 2}}, {m, 2, {1, 1}}, {v, 2, {1, 1}}};
        run_k(mqk_k_layernorm_f32, prm, 3, in, 3, out, 3, NULL);
    }
    const float w2[2] = {-2, 4};
    near(y, w2, 2, 1e-6f);
    assert_float_equal(m[0], 2.0f, 1e-6f);
    assert_float_equal(v[0], 1.0f, 1e-6f);
    /* instancenorm: same row as one plane, scale 2, bias 0 -> [-2, 2] */
    const float s2 = 2, b0 = 0;
    {
        const int32_t prm[1] = {mqr_f32_bits(0.0f)};
        const ktens in[3] = {{xr, 3, {1, 1, 2}}, {&s2, 1, {1}}, {&b0, 1, {1}}}, out[1] = {{y, 3, {1, 1, 2}}};
        run_k(mqk_k_instancenorm_f32, prm, 1, in, 3, out, 1, NULL);
    }
    const float w3[2] = {-2, 2};
    near(y, w3, 2, 1e-6f);
    /* Lp normalization of [3,4]: L2 -> [0.6, 0.8]; L1 -> [3/7, 4/7] */
    const float xl[2] = {3, 4};
    const ktens lin[1] = {{xl, 1, {2}}}, lout[1] = {{y, 1, {2}}};
    const int32_t l2[2] = {0, 2}, l1[2] = {0, 1};
    run_k(mqk_k_lpnorm_f32, l2, 2, lin, 1, lout, 1, NULL);
    const float w4[2] = {0.6f, 0.8f};
    near(y, w4, 2, 1e-6f);
    run_k(mqk_k_lpnorm_f32, l1, 2, lin, 1, lout, 1, NULL);
    const float w5[2] = {3.0f / 7, 4.0f / 7};
    near(y, w5, 2, 1e-6f);
    /* LRN, channels [1,2], size 3, alpha 3, beta 1, bias 1: both windows cover both channels,
     * sum of squares 5: y = x / (1 + 3/3*5) = [1/6, 2/6] */
    const float xc[2] = {1, 2};
    {
        const int32_t prm[4] = {3, mqr_f32_bits(3.0f), mqr_f32_bits(1.0f), mqr_f32_bits(1.0f)};
        const ktens in[1] = {{xc, 3, {1, 2, 1}}}, out[1] = {{y, 3, {1, 2, 1}}};
        run_k(mqk_k_lrn_f32, prm, 4, in, 1, out, 1, NULL);
    }
    const float w6[2] = {1.0f / 6, 2.0f / 6};
    near(y, w6, 2, 1e-6f);
}

static void test_softmax_hand(void **state)
{
    (void)state;
    /* [0, ln 3]: exp = [1, 3], softmax [0.25, 0.75], log-softmax [ln 0.25, ln 0.75] */
    const float x[2] = {0.0f, 1.0986123f};
    float y[3];
    mqk_softmax_f32(1, 2, 1, MQK_SOFTMAX, x, y);
    const float w1[2] = {0.25f, 0.75f};
    near(y, w1, 2, 1e-6f);
    mqk_softmax_f32(1, 2, 1, MQK_LOGSOFTMAX, x, y);
    const float w2[2] = {-1.3862944f, -0.2876821f};
    near(y, w2, 2, 1e-6f);
    /* hardmax of [1,3,3]: the first maximum -> [0,1,0] */
    const float xh[3] = {1, 3, 3};
    mqk_softmax_f32(1, 3, 1, MQK_HARDMAX, xh, y);
    const float w3[3] = {0, 1, 0};
    near(y, w3, 3, 0);
    /* strided: [outer 1, n 2, inner 2] = [[0, 0], [ln 3, 0]]: columns [0.25, 0.75] and [0.5, 0.5] */
    const float xs[4] = {0.0f, 0.0f, 1.0986123f, 0.0f};
    float ys[4];
    {
        const int32_t prm[3] = {MQK_SOFTMAX, 0, 0};
        const ktens in[1] = {{xs, 2, {2, 2}}}, out[1] = {{ys, 2, {2, 2}}};
        run_k(mqk_k_softmax_f32, prm, 3, in, 1, out, 1, NULL);
    }
    const float w4[4] = {0.25f, 0.5f, 0.75f, 0.5f};
    near(ys, w4, 4, 1e-6f);
}

static mqk_rnn_params rnn1(int cell, int32_t seq)
{
    /* one batch entry, input 1, hidden 1, contiguous x and y */
    mqk_rnn_params p;
    memset(&p, 0, sizeof p);
    p.cell = cell;
    p.seq = seq;
    p.batch = p.input = p.hidden = 1;
    p.x_step = p.y_step = p.x_batch = p.y_batch = 1;
    p.act[0].kind = cell == MQK_CELL_RNN ? MQK_ACT_RELU : MQK_ACT_SIGMOID;
    p.act[1].kind = p.act[2].kind = MQK_ACT_TANH;
    return p;
}

static void test_rnn_hand(void **state)
{
    (void)state;
    float scratch[16], h, c, y[2];
    /* RNN, relu, w 1, r 0.5, x = [1, 2], h0 0: h1 = 1, h2 = 2 + 0.5*1 = 2.5 */
    mqk_rnn_params p = rnn1(MQK_CELL_RNN, 2);
    assert_true(mqk_rnn_scratch_bytes(&p) <= sizeof scratch);
    const float x[2] = {1, 2}, w = 1, r = 0.5f;
    h = 0;
    mqk_rnn_f32(&p, x, &w, &r, NULL, NULL, NULL, &h, NULL, y, scratch);
    const float w1[2] = {1, 2.5f};
    near(y, w1, 2, 1e-6f);
    assert_float_equal(h, 2.5f, 1e-6f);
    /* reverse: t=1 first: h = 2, then t=0: h = 1 + 0.5*2 = 2 */
    p.reverse = 1;
    h = 0;
    mqk_rnn_f32(&p, x, &w, &r, NULL, NULL, NULL, &h, NULL, y, scratch);
    const float w2[2] = {2, 2};
    near(y, w2, 2, 1e-6f);
    /* forward with sequence length 1: y = [1, 0], final h = 1 */
    p.reverse = 0;
    h = 0;
    const int32_t len = 1;
    mqk_rnn_f32(&p, x, &w, &r, NULL, NULL, &len, &h, NULL, y, scratch);
    const float w3[2] = {1, 0};
    near(y, w3, 2, 0);
    assert_float_equal(h, 1.0f, 0);

    /* GRU with zero weights: z = r = sigmoid(0) = 0.5, candidate tanh(0) = 0, h' = 0.5*h:
     * h0 = 1 -> [0.5, 0.25] (both linear_before_reset settings) */
    const float zw[4] = {0, 0, 0, 0};
    p = rnn1(MQK_CELL_GRU, 2);
    for (int lbr = 0; lbr < 2; lbr++) {
        p.linear_before_reset = lbr;
        h = 1;
        mqk_rnn_f32(&p, x, zw, zw, NULL, NULL, NULL, &h, NULL, y, scratch);
        const float w4[2] = {0.5f, 0.25f};
        near(y, w4, 2, 1e-6f);
    }
    /* LSTM with zero weights: i = o = f = 0.5, candidate 0: c' = 0.5*c, h' = 0.5*tanh(c'):
     * c0 = 2 -> c = 1, h = 0.5*tanh(1) = 0.3807971. With the forget peephole ln(3)/2:
     * f = sigmoid(ln 3) = 0.75 -> c = 1.5, h = 0.5*tanh(1.5) = 0.4525741 */
    p = rnn1(MQK_CELL_LSTM, 1);
    h = 0;
    c = 2;
    mqk_rnn_f32(&p, x, zw, zw, NULL, NULL, NULL, &h, &c, y, scratch);
    assert_float_equal(c, 1.0f, 1e-6f);
    assert_float_equal(h, 0.3807971f, 1e-6f);
    const float peep[3] = {0, 0, 0.5493061f};
    h = 0;
    c = 2;
    mqk_rnn_f32(&p, x, zw, zw, NULL, peep, NULL, &h, &c, y, scratch);
    assert_float_equal(c, 1.5f, 1e-6f);
    assert_float_equal(h, 0.4525741f, 1e-6f);
}

static void test_roi_hand(void **state)
{
    (void)state;
    /* image [[0,1],[2,3]] (value 2*row + col), roi [0,0,1,1], one 1x1 bin, legacy coordinates:
     * one sample at (0.5, 0.5) -> 1.5; 2x2 samples at 0.25 / 0.75 average the linear function to
     * 1.5 as well; max mode (one sample) takes the largest weighted tap 0.25*3 = 0.75 */
    const float img[4] = {0, 1, 2, 3}, roi[4] = {0, 0, 1, 1};
    mqk_roi_params p;
    memset(&p, 0, sizeof p);
    p.channels = 1;
    p.height = p.width = 2;
    p.out_h = p.out_w = 1;
    p.spatial_scale = 1.0f;
    p.sampling_ratio = 1;
    float y[4];
    mqk_roialign_f32(&p, img, roi, y);
    assert_float_equal(y[0], 1.5f, 1e-6f);
    p.sampling_ratio = 2;
    mqk_roialign_f32(&p, img, roi, y);
    assert_float_equal(y[0], 1.5f, 1e-6f);
    p.sampling_ratio = 1;
    p.max_mode = 1;
    mqk_roialign_f32(&p, img, roi, y);
    assert_float_equal(y[0], 0.75f, 1e-6f);
    /* MaxRoiPool over the whole image: 1x1 bin -> 3; 2x2 bins -> the pixels themselves */
    mqk_maxroipool_f32(&p, img, roi, y);
    assert_float_equal(y[0], 3.0f, 0);
    p.out_h = p.out_w = 2;
    mqk_maxroipool_f32(&p, img, roi, y);
    near(y, img, 4, 0);
}

/* ---- the ops' host forward (OpenBLAS for large products) against their runtime kernel ---------- */

static mq_attr ints_attr(const char *name, int n, const int64_t *v)
{
    mq_attr a;
    memset(&a, 0, sizeof a);
    a.name = name;
    a.type = MQ_ATTR_INTS;
    a.n = n;
    a.ints = v;
    return a;
}

static mq_attr int_attr(const char *name, int64_t v)
{
    mq_attr a;
    memset(&a, 0, sizeof a);
    a.name = name;
    a.type = MQ_ATTR_INT;
    a.i = v;
    return a;
}

static mq_attr float_attr(const char *name, float v)
{
    mq_attr a;
    memset(&a, 0, sizeof a);
    a.name = name;
    a.type = MQ_ATTR_FLOAT;
    a.f = v;
    return a;
}

static void rand_tensor(mq_tensor *t, int rank, const int64_t *dims)
{
    memset(t, 0, sizeof *t);
    t->name = "t";
    t->dtype = MQ_F32;
    mq_tensor_set_shape(t, rank, dims);
    size_t n = (size_t)mq_numel(t);
    t->data = mq_malloc(n * sizeof(float) + 1);
    assert_non_null(t->data);
    for (size_t i = 0; i < n; i++) ((float *)t->data)[i] = frand();
}

/* Infer the node, run its forward (OpenBLAS when large) and its lowered kernel through mq_run_kcall,
 * and compare. For Conv, every valid method of the kernel is run too (direct, im2col in small tiles,
 * pointwise). */
static void forward_vs_kernel(const char *op, int opset, const mq_attr *attrs, int n_attr, mq_tensor *ins, int n_in)
{
    const mq_op_def *def = mq_op_find("", op, opset, NULL);
    assert_non_null(def);
    assert_non_null(def->lower);
    mq_node n;
    memset(&n, 0, sizeof n);
    n.name = "t";
    n.op_type = op;
    n.domain = "";
    n.opset = opset;
    n.n_in = n_in;
    n.n_out = 1;
    n.n_attr = n_attr;
    n.attrs = (mq_attr *)attrs;
    n.def = def;
    const mq_tensor *in[4];
    for (int i = 0; i < n_in; i++) in[i] = &ins[i];
    mq_tensor y0, y1;
    memset(&y0, 0, sizeof y0);
    mq_tensor *o0[1] = {&y0}, *o1[1] = {&y1};
    mq_err err = {0};
    assert_int_equal(def->infer(&n, in, o0, &err), MQ_OK);
    y1 = y0;
    size_t cnt = (size_t)mq_numel(&y0);
    y0.data = mq_malloc(cnt * sizeof(float) + 1);
    y1.data = mq_malloc(cnt * sizeof(float) + 1);
    assert_true(y0.data && y1.data);
    assert_int_equal(def->forward(&n, in, o0, &err), MQ_OK);
    mq_kcall kc;
    memset(&kc, 0, sizeof kc);
    assert_int_equal(def->lower(&n, in, (const mq_tensor *const *)o1, &kc, &err), MQ_OK);
    memset(y1.data, 0xff, cnt * sizeof(float)); /* NaN: every output must be written */
    assert_int_equal(mq_run_kcall(&n, &kc, in, o1, &err), MQ_OK);
    near(y1.data, y0.data, cnt, 1e-4f);
    if (!strcmp(op, "Conv")) {
        mqk_conv_params p;
        memset(&p, 0, sizeof p);
        p.nd = ins[0].rank - 2;
        p.group = kc.p[1];
        p.in_ch = (int32_t)ins[0].dims[1];
        for (int i = 0; i < p.nd; i++) {
            p.kernel[i] = (int32_t)ins[1].dims[2 + i];
            p.out_size[i] = (int32_t)y0.dims[2 + i];
        }
        int pointwise = 1;
        for (int i = 0; i < p.nd; i++)
            if (p.kernel[i] != 1 || kc.p[2 + i] != 1 || ins[0].dims[2 + i] != y0.dims[2 + i]) pointwise = 0;
        for (int m = 0; m < 3 + pointwise; m++) {
            mq_kcall k2 = kc;
            k2.p[11] = m == 3 ? MQK_CONV_POINTWISE : m == 0 ? MQK_CONV_DIRECT : MQK_CONV_IM2COL;
            k2.p[12] = m == 1 ? 1 : m == 2 ? 3 : mqk_conv_out_rows(&p); /* tiles of 1 and 3 rows */
            k2.scratch_bytes = mqk_conv_scratch_bytes(&p, k2.p[11], k2.p[12]);
            memset(y1.data, 0xff, cnt * sizeof(float));
            assert_int_equal(mq_run_kcall(&n, &k2, in, o1, &err), MQ_OK);
            near(y1.data, y0.data, cnt, 1e-4f);
        }
    }
    mq_free(y0.data);
    mq_free(y1.data);
    for (int i = 0; i < n_in; i++) mq_free(ins[i].data);
}

static void test_conv_forward_vs_kernel(void **state)
{
    (void)state;
    mq_tensor t[3];
    /* 2-D, 16 -> 32 channels in 2 groups, 20x18, 3x3, stride (2,1), pads (1,0,2,1), dilation (1,2) */
    {
        const int64_t xd[4] = {2, 16, 20, 18}, wd[4] = {32, 8, 3, 3}, bd[1] = {32};
        const int64_t st[2] = {2, 1}, pads[4] = {1, 0, 2, 1}, dil[2] = {1, 2};
        mq_attr a[4] = {ints_attr("strides", 2, st), ints_attr("pads", 4, pads), ints_attr("dilations", 2, dil),
                        int_attr("group", 2)};
        rand_tensor(&t[0], 4, xd);
        rand_tensor(&t[1], 4, wd);
        rand_tensor(&t[2], 1, bd);
        forward_vs_kernel("Conv", 11, a, 4, t, 3);
    }
    /* 5x5 kernel over 24 channels, no bias, SAME_UPPER */
    {
        const int64_t xd[4] = {1, 24, 15, 17}, wd[4] = {20, 24, 5, 5};
        mq_attr a[1];
        memset(a, 0, sizeof a);
        a[0].name = "auto_pad";
        a[0].type = MQ_ATTR_STRING;
        a[0].s = "SAME_UPPER";
        a[0].s_len = 10;
        rand_tensor(&t[0], 4, xd);
        rand_tensor(&t[1], 4, wd);
        forward_vs_kernel("Conv", 11, a, 1, t, 2);
    }
    /* pointwise 1x1 */
    {
        const int64_t xd[4] = {2, 32, 10, 12}, wd[4] = {24, 32, 1, 1}, bd[1] = {24};
        rand_tensor(&t[0], 4, xd);
        rand_tensor(&t[1], 4, wd);
        rand_tensor(&t[2], 1, bd);
        forward_vs_kernel("Conv", 11, NULL, 0, t, 3);
    }
    /* 1-D, stride 3, pads (4, 2), dilation 2 */
    {
        const int64_t xd[3] = {3, 12, 100}, wd[3] = {16, 12, 7}, bd[1] = {16};
        const int64_t st[1] = {3}, pads[2] = {4, 2}, dil[1] = {2};
        mq_attr a[3] = {ints_attr("strides", 1, st), ints_attr("pads", 2, pads), ints_attr("dilations", 1, dil)};
        rand_tensor(&t[0], 3, xd);
        rand_tensor(&t[1], 3, wd);
        rand_tensor(&t[2], 1, bd);
        forward_vs_kernel("Conv", 11, a, 3, t, 3);
    }
    /* 3-D, groups 3, pads everywhere */
    {
        const int64_t xd[5] = {1, 6, 7, 8, 9}, wd[5] = {12, 2, 3, 2, 3}, bd[1] = {12};
        const int64_t pads[6] = {1, 0, 1, 1, 1, 0}, st[3] = {1, 2, 1};
        mq_attr a[3] = {ints_attr("pads", 6, pads), ints_attr("strides", 3, st), int_attr("group", 3)};
        rand_tensor(&t[0], 5, xd);
        rand_tensor(&t[1], 5, wd);
        rand_tensor(&t[2], 1, bd);
        forward_vs_kernel("Conv", 11, a, 3, t, 3);
    }
    /* depthwise 3x3, stride 2, pads 1 (runs the kernel on both sides; the methods cross-check) */
    {
        const int64_t xd[4] = {1, 16, 21, 20}, wd[4] = {16, 1, 3, 3}, bd[1] = {16};
        const int64_t st[2] = {2, 2}, pads[4] = {1, 1, 1, 1};
        mq_attr a[3] = {ints_attr("strides", 2, st), ints_attr("pads", 4, pads), int_attr("group", 16)};
        rand_tensor(&t[0], 4, xd);
        rand_tensor(&t[1], 4, wd);
        rand_tensor(&t[2], 1, bd);
        forward_vs_kernel("Conv", 11, a, 3, t, 3);
    }
}

static void test_gemm_forward_vs_kernel(void **state)
{
    (void)state;
    mq_tensor t[3];
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int crank = 0; crank < 3; crank++) {
                const int64_t M = 37, N = 45, K = 50;
                const int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
                const int64_t cd2[2] = {M, 1}, cd1[1] = {N};
                mq_attr a[4] = {int_attr("transA", ta), int_attr("transB", tb), float_attr("alpha", 0.5f),
                                float_attr("beta", 1.5f)};
                rand_tensor(&t[0], 2, ad);
                rand_tensor(&t[1], 2, bd);
                if (crank == 2) rand_tensor(&t[2], 2, cd2);
                else if (crank == 1) rand_tensor(&t[2], 1, cd1);
                forward_vs_kernel("Gemm", 13, a, 4, t, crank ? 3 : 2);
            }
}

static void test_matmul_forward_vs_kernel(void **state)
{
    (void)state;
    mq_tensor t[2];
    /* batch broadcast [2,1,30,40] x [3,40,35] -> [2,3,30,35] */
    const int64_t a1[4] = {2, 1, 30, 40}, b1[3] = {3, 40, 35};
    rand_tensor(&t[0], 4, a1);
    rand_tensor(&t[1], 3, b1);
    forward_vs_kernel("MatMul", 13, NULL, 0, t, 2);
    /* shared B: [4,30,40] x [40,35] */
    const int64_t a2[3] = {4, 30, 40}, b2[2] = {40, 35};
    rand_tensor(&t[0], 3, a2);
    rand_tensor(&t[1], 2, b2);
    forward_vs_kernel("MatMul", 13, NULL, 0, t, 2);
    /* matrix x vector, vector x batched matrix */
    const int64_t a3[2] = {300, 200}, b3[1] = {200};
    rand_tensor(&t[0], 2, a3);
    rand_tensor(&t[1], 1, b3);
    forward_vs_kernel("MatMul", 13, NULL, 0, t, 2);
    const int64_t a4[1] = {64}, b4[3] = {5, 64, 130};
    rand_tensor(&t[0], 1, a4);
    rand_tensor(&t[1], 3, b4);
    forward_vs_kernel("MatMul", 13, NULL, 0, t, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgemm_hand),  cmocka_unit_test(test_sgemm_vs_blas), cmocka_unit_test(test_conv_hand),
        cmocka_unit_test(test_conv_vs_blas), cmocka_unit_test(test_pool_hand),     cmocka_unit_test(test_norm_hand),
        cmocka_unit_test(test_softmax_hand), cmocka_unit_test(test_rnn_hand),      cmocka_unit_test(test_roi_hand),
        cmocka_unit_test(test_conv_forward_vs_kernel), cmocka_unit_test(test_gemm_forward_vs_kernel),
        cmocka_unit_test(test_matmul_forward_vs_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
