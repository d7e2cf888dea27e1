/* test_check_nn.c: the load-time checks (mqk_c_*) of the 'nn' kernels: valid calls are accepted; every
 * call mutated one field at a time is refused, or its kernel runs inside buffers of exactly its size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/conv.h"
#include "runtime/kernels/gemm.h"
#include "runtime/kernels/norm.h"
#include "runtime/kernels/pool.h"
#include "runtime/kernels/qint.h"
#include "runtime/kernels/qint_bits.h"
#include "runtime/kernels/rnn.h"
#include "runtime/kernels/roi.h"
#include "runtime/kernels/softmax.h"

/* ---- a call under test ------------------------------------------------------------------------- */

#define MAXT 8
/* Accepted calls whose tensors need more bytes than this are counted, not run. */
#define RUN_LIMIT ((int64_t)64 << 20)

typedef struct kcase {
    const char *kernel;
    int32_t p[MQR_MAX_PARAMS];
    int32_t n_p;
    mqr_tensor in[MAXT], out[MAXT];
    int32_t n_in, n_out;
    uint32_t scratch;
} kcase;

static struct {
    long probes, accepted, run, too_big;
} stats;

static uint32_t rng = 88172645u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static mqr_tensor T(int32_t dt, int32_t rank, int32_t d0, int32_t d1, int32_t d2, int32_t d3, int32_t d4)
{
    mqr_tensor t;
    int32_t d[5] = {d0, d1, d2, d3, d4};
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.rank = rank;
    for (int i = 0; i < rank && i < 5; i++) t.dims[i] = d[i];
    return t;
}
#define F(...) T(MQR_F32, __VA_ARGS__)
static mqr_tensor ABSENT(void)
{
    mqr_tensor t;
    memset(&t, 0, sizeof t);
    t.rank = -1;
    return t;
}

static size_t dsize(int32_t dt)
{
    switch (dt) {
    case MQR_F32: case MQR_I32: case MQR_U32: return 4;
    case MQR_U8: case MQR_I8: case MQR_BOOL: return 1;
    case MQR_U16: case MQR_I16: return 2;
    case MQR_I64: case MQR_F64: case MQR_U64: return 8;
    default: return 0;
    }
}

/* element count of a well-formed descriptor (what the loader hands over), else -1 */
static int64_t numel(const mqr_tensor *t)
{
    int64_t n = 1;
    if (t->rank < 0 || t->rank > MQR_MAX_RANK || !dsize(t->dtype)) return -1;
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return -1;
        n *= t->dims[d];
        if (n > INT32_MAX) return -1;
    }
    return n;
}

/* Values with hostile ones among them: NaN, infinities and huge floats, negative and huge indices. */
static void fill(void *data, int32_t dt, int64_t n)
{
    static const float fs[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 3e9f, -0.7f, 0.5f, 5.5f, 1e9f};
    for (int64_t i = 0; i < n; i++) {
        uint32_t r = rnd();
        int v = (int)(r % 9) - 2;
        int special = (r >> 8) % 8 == 0;
        switch (dt) {
        case MQR_F32: ((float *)data)[i] = special ? fs[(r >> 12) % 10] : (float)v * 0.75f; break;
        case MQR_I64: ((int64_t *)data)[i] = special ? ((r >> 12) % 2 ? INT64_MIN : INT64_MAX) : (int64_t)(r % 40) - 4; break;
        case MQR_I32: ((int32_t *)data)[i] = special ? ((r >> 12) % 2 ? INT32_MIN : INT32_MAX) : v; break;
        case MQR_I8: case MQR_U8: case MQR_BOOL: ((uint8_t *)data)[i] = (uint8_t)r; break;
        default: memset((char *)data + (size_t)i * dsize(dt), (int)(r & 0xff), dsize(dt)); break;
        }
    }
}

/* Check the call (tensor data NULL, as the loader sees activations); if accepted, run the kernel on
 * freshly allocated buffers of exactly the described bytes (ASan reports any access outside) and a
 * scratch of exactly the declared size. Returns the check's answer. */
static int probe(const kcase *k)
{
    const mqr_kernel_info *ki = mqr_kernel_find(k->kernel);
    mqr_tensor ti[MAXT], to[MAXT];
    assert_non_null(ki);
    memcpy(ti, k->in, sizeof ti);
    memcpy(to, k->out, sizeof to);
    for (int i = 0; i < MAXT; i++) ti[i].data = to[i].data = NULL;
    mqr_call c = {k->p, k->n_p, ti, k->n_in, to, k->n_out, NULL};
    stats.probes++;
    int r = ki->check(&c, k->scratch);
    assert_true(r == MQR_CHECK_OK || r == MQR_CHECK_BAD);
    if (r != MQR_CHECK_OK) return r;
    stats.accepted++;
    int64_t total = k->scratch;
    for (int i = 0; i < k->n_in + k->n_out; i++) {
        const mqr_tensor *t = i < k->n_in ? &ti[i] : &to[i - k->n_in];
        if (t->rank < 0) continue;
        int64_t n = numel(t);
        assert_true(n >= 0); /* an accepted call describes real tensors */
        total += n * (int64_t)dsize(t->dtype);
    }
    if (total > RUN_LIMIT) {
        stats.too_big++;
        return r;
    }
    for (int i = 0; i < k->n_in + k->n_out; i++) {
        mqr_tensor *t = i < k->n_in ? &ti[i] : &to[i - k->n_in];
        if (t->rank < 0) continue;
        int64_t n = numel(t);
        t->data = malloc((size_t)n * dsize(t->dtype));
        assert_true(t->data != NULL || n == 0);
        if (i < k->n_in) fill(t->data, t->dtype, n);
    }
    c.scratch = k->scratch ? malloc(k->scratch) : NULL;
    ki->fn(&c);
    stats.run++;
    free(c.scratch);
    for (int i = 0; i < k->n_in + k->n_out; i++) free(i < k->n_in ? ti[i].data : to[i - k->n_in].data);
    return r;
}

/* ---- mutations ---------------------------------------------------------------------------------- */

static const int32_t param_values[] = {0, 1, -1, 2, 3, 7, INT32_MAX, INT32_MIN, 1 << 20, -(1 << 20), 1 << 30};
static const int32_t dim_values[] = {0, 1, 1 << 16, -1, INT32_MAX, INT32_MIN};
static const int32_t dtypes[] = {MQR_F32, MQR_I64, MQR_I32, MQR_U8, MQR_I8, MQR_BOOL, MQR_F64, 0, 99};

/* The base call is accepted; each field changed alone (every parameter, every dim, dtype and rank of
 * every slot, the counts, the scratch) is refused or runs in bounds; the changes no valid call can
 * have (n_p off by one, a negative dim, rank 9, an unknown dtype) are refused. */
static void sweep(const kcase *base)
{
    kcase k;
    assert_int_equal(probe(base), MQR_CHECK_OK);

    for (int j = 0; j < base->n_p; j++) {
        int32_t v0 = base->p[j];
        int32_t extra[] = {(int32_t)((int64_t)v0 + 1), (int32_t)((int64_t)v0 - 1), mqr_f32_bits(NAN), mqr_f32_bits(INFINITY),
                           mqr_f32_bits(-2.0f)};
        for (size_t m = 0; m < sizeof param_values / sizeof param_values[0] + 5; m++) {
            k = *base;
            k.p[j] = m < 5 ? extra[m] : param_values[m - 5];
            probe(&k);
        }
    }
    k = *base;
    k.n_p = base->n_p + 1;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    k.n_p = base->n_p - 1;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);

    for (int s = 0; s < base->n_in + base->n_out; s++) {
        int is_in = s < base->n_in, i = is_in ? s : s - base->n_in;
        const mqr_tensor *t0 = is_in ? &base->in[i] : &base->out[i];
        if (t0->rank < 0) { /* an omitted slot, filled in */
            k = *base;
            mqr_tensor *t = is_in ? &k.in[i] : &k.out[i];
            *t = F(1, 1, 0, 0, 0, 0);
            probe(&k);
            t->rank = -2;
            assert_int_equal(probe(&k), MQR_CHECK_BAD);
            continue;
        }
        for (int d = 0; d < t0->rank; d++) {
            int32_t v0 = t0->dims[d], extra[] = {v0 + 1, v0 - 1, v0 * 2}; /* small dims: no overflow */
            for (size_t m = 0; m < sizeof dim_values / sizeof dim_values[0] + 3; m++) {
                k = *base;
                mqr_tensor *t = is_in ? &k.in[i] : &k.out[i];
                t->dims[d] = m < 3 ? extra[m] : dim_values[m - 3];
                int r = probe(&k);
                if (t->dims[d] < 0) assert_int_equal(r, MQR_CHECK_BAD);
            }
        }
        for (size_t m = 0; m < sizeof dtypes / sizeof dtypes[0]; m++) {
            k = *base;
            mqr_tensor *t = is_in ? &k.in[i] : &k.out[i];
            t->dtype = dtypes[m];
            int r = probe(&k);
            if (dtypes[m] == 0 || dtypes[m] == 99) assert_int_equal(r, MQR_CHECK_BAD);
        }
        for (int m = 0; m < 5; m++) {
            k = *base;
            mqr_tensor *t = is_in ? &k.in[i] : &k.out[i];
            if (m == 0 && t->rank < MQR_MAX_RANK) t->dims[t->rank++] = 1;
            if (m == 1 && t->rank > 0) t->rank--;
            if (m == 2) t->rank = MQR_MAX_RANK + 1;
            if (m == 3) *t = ABSENT();
            if (m == 4) t->rank = 0;
            int r = probe(&k);
            if (m == 2) assert_int_equal(r, MQR_CHECK_BAD);
        }
    }
    for (int m = 0; m < 4; m++) {
        k = *base;
        if (m == 0 && k.n_in > 0) k.n_in--;
        if (m == 1 && k.n_out > 0) k.n_out--;
        if (m == 2 && k.n_in < MAXT) k.in[k.n_in++] = F(1, 1, 0, 0, 0, 0);
        if (m == 3 && k.n_out < MAXT) k.out[k.n_out++] = ABSENT();
        probe(&k);
    }
    uint32_t sv[] = {base->scratch ? base->scratch - 1 : 0, 0, base->scratch + 4, base->scratch / 2};
    for (size_t m = 0; m < 4; m++) {
        k = *base;
        k.scratch = sv[m];
        int r = probe(&k);
        if (sv[m] < base->scratch && m == 0) assert_int_equal(r, MQR_CHECK_BAD);
    }
}

static void set_p(kcase *k, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) k->p[i] = va_arg(ap, int32_t);
    va_end(ap);
    k->n_p = n;
}

/* ---- the valid calls, family by family ---------------------------------------------------------- */

static void test_conv(void **state)
{
    (void)state;
    kcase k;
    /* direct, 2-D, groups 2, stride 2, pad 1: out = (5 + 2 - 3) / 2 + 1 = 3 */
    memset(&k, 0, sizeof k);
    k.kernel = "conv_f32";
    set_p(&k, 13, 2, 2, 2, 2, 1, 1, 1, 0, 1, 1, 1, MQK_CONV_DIRECT, 0);
    k.in[0] = F(4, 1, 2, 5, 5, 0), k.in[1] = F(4, 4, 1, 3, 3, 0), k.in[2] = F(1, 4, 0, 0, 0, 0);
    k.out[0] = F(4, 1, 4, 3, 3, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    /* im2col, 2-D, pads (1, 0), dilation (1, 2): out = (6 + 1 + 1 - 3) + 1 = 6 and (5 - 3) + 1 = 3;
     * rows 3*3*2 = 18, tile 4: 18*4*3 floats */
    memset(&k, 0, sizeof k);
    k.kernel = "conv_f32";
    set_p(&k, 13, 2, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, MQK_CONV_IM2COL, 4);
    k.in[0] = F(4, 2, 3, 6, 5, 0), k.in[1] = F(4, 4, 3, 3, 2, 0);
    k.out[0] = F(4, 2, 4, 6, 3, 0);
    k.n_in = 2, k.n_out = 1, k.scratch = 18 * 4 * 3 * 4;
    sweep(&k);
    /* pointwise 1-D */
    memset(&k, 0, sizeof k);
    k.kernel = "conv_f32";
    set_p(&k, 13, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, MQK_CONV_POINTWISE, 0);
    k.in[0] = F(3, 1, 4, 7, 0, 0), k.in[1] = F(3, 2, 4, 1, 0, 0), k.in[2] = ABSENT();
    k.out[0] = F(3, 1, 2, 7, 0, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    /* 3-D direct */
    memset(&k, 0, sizeof k);
    k.kernel = "conv_f32";
    set_p(&k, 13, 3, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, MQK_CONV_DIRECT, 0);
    k.in[0] = F(5, 1, 1, 4, 4, 4), k.in[1] = F(5, 2, 1, 2, 2, 2), k.in[2] = F(1, 2, 0, 0, 0, 0);
    k.out[0] = F(5, 1, 2, 3, 3, 3);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    /* with a fused Clip (p[13..15], backend/fuse.h): im2col, pointwise, depthwise 3x3 (direct) */
    memset(&k, 0, sizeof k);
    k.kernel = "conv_f32";
    set_p(&k, 16, 2, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, MQK_CONV_IM2COL, 4, 1, mqr_f32_bits(0.0f),
          mqr_f32_bits(6.0f));
    k.in[0] = F(4, 2, 3, 6, 5, 0), k.in[1] = F(4, 4, 3, 3, 2, 0);
    k.out[0] = F(4, 2, 4, 6, 3, 0);
    k.n_in = 2, k.n_out = 1, k.scratch = 18 * 4 * 3 * 4;
    sweep(&k);
    memset(&k, 0, sizeof k);
    k.kernel = "conv_f32";
    set_p(&k, 16, 2, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, MQK_CONV_POINTWISE, 0, 1, mqr_f32_bits(0.0f),
          mqr_f32_bits(INFINITY));
    k.in[0] = F(4, 1, 3, 4, 9, 0), k.in[1] = F(4, 10, 3, 1, 1, 0), k.in[2] = F(1, 10, 0, 0, 0, 0);
    k.out[0] = F(4, 1, 10, 4, 9, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    memset(&k, 0, sizeof k);
    k.kernel = "conv_f32";
    set_p(&k, 16, 2, 3, 2, 2, 1, 1, 1, 0, 1, 1, 1, MQK_CONV_DIRECT, 0, 1, mqr_f32_bits(-1.0f),
          mqr_f32_bits(1.0f));
    k.in[0] = F(4, 2, 3, 7, 6, 0), k.in[1] = F(4, 3, 1, 3, 3, 0), k.in[2] = F(1, 3, 0, 0, 0, 0);
    k.out[0] = F(4, 2, 3, 4, 3, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
}

static void test_conv_transpose(void **state)
{
    (void)state;
    kcase k;
    /* stride 2, pads 1/1: out = 2*(3-1) + 3 - 2 = 5 */
    memset(&k, 0, sizeof k);
    k.kernel = "conv_transpose_f32";
    set_p(&k, 11, 2, 1, 2, 2, 1, 1, 1, 0, 1, 1, 1);
    k.in[0] = F(4, 1, 2, 3, 3, 0), k.in[1] = F(4, 2, 3, 3, 3, 0), k.in[2] = F(1, 3, 0, 0, 0, 0);
    k.out[0] = F(4, 1, 3, 5, 5, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    /* groups 2 and a negative pad_begin (output_shape 8 > the full 7, 1-D): out = 8 */
    memset(&k, 0, sizeof k);
    k.kernel = "conv_transpose_f32";
    set_p(&k, 11, 1, 2, 2, 1, 1, -1, 0, 0, 1, 1, 1);
    k.in[0] = F(3, 1, 2, 3, 0, 0), k.in[1] = F(3, 2, 2, 3, 0, 0);
    k.out[0] = F(3, 1, 4, 8, 0, 0);
    k.n_in = 2, k.n_out = 1;
    sweep(&k);
}

static void test_conv_integer(void **state)
{
    (void)state;
    kcase k;
    memset(&k, 0, sizeof k);
    k.kernel = "conv_integer";
    set_p(&k, 11, 2, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1);
    k.in[0] = T(MQR_U8, 4, 1, 2, 4, 4, 0), k.in[1] = T(MQR_I8, 4, 2, 2, 2, 2, 0);
    k.in[2] = T(MQR_U8, 0, 0, 0, 0, 0, 0), k.in[3] = T(MQR_I8, 1, 2, 0, 0, 0, 0);
    k.out[0] = T(MQR_I32, 4, 1, 2, 3, 3, 0);
    k.n_in = 4, k.n_out = 1, k.scratch = (32 + 16) * 4;
    sweep(&k);
}

static void test_gemm(void **state)
{
    (void)state;
    kcase k;
    memset(&k, 0, sizeof k);
    k.kernel = "gemm_f32";
    set_p(&k, 4, 0, 1, mqr_f32_bits(1.0f), mqr_f32_bits(1.0f));
    k.in[0] = F(2, 3, 4, 0, 0, 0), k.in[1] = F(2, 5, 4, 0, 0, 0), k.in[2] = F(1, 5, 0, 0, 0, 0);
    k.out[0] = F(2, 3, 5, 0, 0, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    memset(&k, 0, sizeof k);
    k.kernel = "gemm_f32";
    set_p(&k, 4, 1, 0, mqr_f32_bits(0.5f), mqr_f32_bits(2.0f));
    k.in[0] = F(2, 4, 3, 0, 0, 0), k.in[1] = F(2, 4, 5, 0, 0, 0), k.in[2] = F(2, 3, 1, 0, 0, 0);
    k.out[0] = F(2, 3, 5, 0, 0, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
}

static void test_matmul(void **state)
{
    (void)state;
    kcase k;
    /* [2,3,4] x [4,5]: B shared, the flat product */
    memset(&k, 0, sizeof k);
    k.kernel = "matmul_f32";
    set_p(&k, 5, 1, 1, 2, 1, 0);
    k.in[0] = F(3, 2, 3, 4, 0, 0), k.in[1] = F(2, 4, 5, 0, 0, 0);
    k.out[0] = F(3, 2, 3, 5, 0, 0);
    k.n_in = 2, k.n_out = 1;
    sweep(&k);
    /* [2,1,3,4] x [3,4,2]: batch [2,3], A strides (1, 0), B strides (0, 1) */
    memset(&k, 0, sizeof k);
    k.kernel = "matmul_f32";
    set_p(&k, 8, 2, 0, 2, 3, 1, 0, 0, 1);
    k.in[0] = F(4, 2, 1, 3, 4, 0), k.in[1] = F(3, 3, 4, 2, 0, 0);
    k.out[0] = F(4, 2, 3, 3, 2, 0);
    k.n_in = 2, k.n_out = 1;
    sweep(&k);
    /* [4] x [2,4,3] */
    memset(&k, 0, sizeof k);
    k.kernel = "matmul_f32";
    set_p(&k, 5, 1, 0, 2, 0, 1);
    k.in[0] = F(1, 4, 0, 0, 0, 0), k.in[1] = F(3, 2, 4, 3, 0, 0);
    k.out[0] = F(2, 2, 3, 0, 0, 0);
    k.n_in = 2, k.n_out = 1;
    sweep(&k);
    /* integer: [2,3,4] int8 x [4,5] uint8, zero points [3] and [5] */
    memset(&k, 0, sizeof k);
    k.kernel = "matmul_integer";
    set_p(&k, 5, 1, 0, 2, 1, 0);
    k.in[0] = T(MQR_I8, 3, 2, 3, 4, 0, 0), k.in[1] = T(MQR_U8, 2, 4, 5, 0, 0, 0);
    k.in[2] = T(MQR_I8, 1, 3, 0, 0, 0, 0), k.in[3] = T(MQR_U8, 1, 5, 0, 0, 0, 0);
    k.out[0] = T(MQR_I32, 3, 2, 3, 5, 0, 0);
    k.n_in = 4, k.n_out = 1, k.scratch = (24 + 20) * 4;
    sweep(&k);
}

static void test_pool(void **state)
{
    (void)state;
    kcase k;
    /* max 2-D with indices (storage order 1): k 3, s 2, pads 1/1: out 3 */
    memset(&k, 0, sizeof k);
    k.kernel = "pool_f32";
    set_p(&k, 20, MQK_POOL_MAX, 2, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, mqr_f32_bits(2.0f));
    k.in[0] = F(4, 1, 2, 5, 5, 0);
    k.out[0] = F(4, 1, 2, 3, 3, 0), k.out[1] = T(MQR_I64, 4, 1, 2, 3, 3, 0);
    k.n_in = 1, k.n_out = 2;
    sweep(&k);
    /* average 1-D, dilation 2, pads 1/1, count_include_pad: out = 7 + 2 - 5 + 1 = 5 */
    memset(&k, 0, sizeof k);
    k.kernel = "pool_f32";
    set_p(&k, 20, MQK_POOL_AVG, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 2, 1, 1, 1, 0, mqr_f32_bits(2.0f));
    k.in[0] = F(3, 2, 3, 7, 0, 0);
    k.out[0] = F(3, 2, 3, 5, 0, 0);
    k.n_in = 1, k.n_out = 1;
    sweep(&k);
    /* Lp 3-D, p = 3 */
    memset(&k, 0, sizeof k);
    k.kernel = "pool_f32";
    set_p(&k, 20, MQK_POOL_LP, 3, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, mqr_f32_bits(3.0f));
    k.in[0] = F(5, 1, 1, 4, 4, 4);
    k.out[0] = F(5, 1, 1, 2, 2, 2);
    k.n_in = 1, k.n_out = 1;
    sweep(&k);
    /* max 2-D on uint8 and on int8 (maxpool_8): k 2, s 1, pads 0/1: out 5 */
    for (int dt = 0; dt < 2; dt++) {
        memset(&k, 0, sizeof k);
        k.kernel = "maxpool_8";
        set_p(&k, 20, MQK_POOL_MAX, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, mqr_f32_bits(2.0f));
        k.in[0] = T(dt ? MQR_I8 : MQR_U8, 4, 1, 3, 5, 5, 0);
        k.out[0] = T(dt ? MQR_I8 : MQR_U8, 4, 1, 3, 5, 5, 0);
        k.n_in = 1, k.n_out = 1;
        sweep(&k);
    }
    for (int kind = MQK_POOL_MAX; kind <= MQK_POOL_LP; kind++) {
        memset(&k, 0, sizeof k);
        k.kernel = "global_pool_f32";
        set_p(&k, 2, kind, mqr_f32_bits(2.0f));
        k.in[0] = F(4, 2, 3, 4, 5, 0);
        k.out[0] = F(4, 2, 3, 1, 1, 0);
        k.n_in = 1, k.n_out = 1;
        sweep(&k);
    }
    /* MaxUnpool: y of the reference shape, then a larger y (output_shape given) */
    memset(&k, 0, sizeof k);
    k.kernel = "maxunpool_f32";
    set_p(&k, 6, 4, 0, 1, 1, 4, 4);
    k.in[0] = F(4, 1, 1, 2, 2, 0), k.in[1] = T(MQR_I64, 4, 1, 1, 2, 2, 0);
    k.out[0] = F(4, 1, 1, 4, 4, 0);
    k.n_in = 2, k.n_out = 1;
    sweep(&k);
    memset(&k, 0, sizeof k);
    k.kernel = "maxunpool_f32";
    set_p(&k, 6, 4, 1, 1, 1, 4, 4);
    k.in[0] = F(4, 1, 1, 2, 2, 0), k.in[1] = T(MQR_I64, 4, 1, 1, 2, 2, 0), k.in[2] = T(MQR_I64, 1, 4, 0, 0, 0, 0);
    k.out[0] = F(4, 1, 1, 5, 3, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
}

static void test_norm(void **state)
{
    (void)state;
    kcase k;
    /* BatchNormalization: inference (one output), training (running stats), legacy (5 outputs) */
    for (int mode = 0; mode < 3; mode++) {
        memset(&k, 0, sizeof k);
        k.kernel = "batchnorm_f32";
        set_p(&k, 4, mqr_f32_bits(1e-5f), mode > 0, mqr_f32_bits(0.9f), mode == 2);
        k.in[0] = F(3, 2, 3, 4, 0, 0);
        for (int i = 1; i < 5; i++) k.in[i] = F(1, 3, 0, 0, 0, 0);
        k.out[0] = F(3, 2, 3, 4, 0, 0);
        k.n_in = 5, k.n_out = mode == 0 ? 1 : mode == 1 ? 3 : 5;
        for (int i = 1; i < k.n_out; i++) k.out[i] = F(1, 3, 0, 0, 0, 0);
        if (mode == 2) k.out[3] = ABSENT();
        k.scratch = mode > 0 ? 2 * 3 * 4 : 0;
        sweep(&k);
    }
    memset(&k, 0, sizeof k);
    k.kernel = "instancenorm_f32";
    set_p(&k, 1, mqr_f32_bits(1e-5f));
    k.in[0] = F(3, 2, 3, 5, 0, 0), k.in[1] = F(1, 3, 0, 0, 0, 0), k.in[2] = F(1, 3, 0, 0, 0, 0);
    k.out[0] = F(3, 2, 3, 5, 0, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    /* LayerNormalization: flat scale/B with both statistics, then broadcast ones (scratch) */
    memset(&k, 0, sizeof k);
    k.kernel = "layernorm_f32";
    set_p(&k, 3, 1, mqr_f32_bits(1e-5f), 0);
    k.in[0] = F(3, 2, 3, 4, 0, 0), k.in[1] = F(2, 3, 4, 0, 0, 0), k.in[2] = F(2, 3, 4, 0, 0, 0);
    k.out[0] = F(3, 2, 3, 4, 0, 0), k.out[1] = F(3, 2, 1, 1, 0, 0), k.out[2] = F(3, 2, 1, 1, 0, 0);
    k.n_in = 3, k.n_out = 3;
    sweep(&k);
    memset(&k, 0, sizeof k);
    k.kernel = "layernorm_f32";
    set_p(&k, 3, 1, mqr_f32_bits(1e-5f), 1);
    k.in[0] = F(3, 2, 3, 4, 0, 0), k.in[1] = F(1, 4, 0, 0, 0, 0), k.in[2] = F(2, 3, 1, 0, 0, 0);
    k.out[0] = F(3, 2, 3, 4, 0, 0);
    k.n_in = 3, k.n_out = 1, k.scratch = 2 * 12 * 4;
    sweep(&k);
    for (int p = 1; p <= 2; p++) {
        memset(&k, 0, sizeof k);
        k.kernel = "lpnorm_f32";
        set_p(&k, 2, p - 1, p);
        k.in[0] = F(2, 3, 4, 0, 0, 0);
        k.out[0] = F(2, 3, 4, 0, 0, 0);
        k.n_in = 1, k.n_out = 1;
        sweep(&k);
    }
    memset(&k, 0, sizeof k);
    k.kernel = "lrn_f32";
    set_p(&k, 4, 3, mqr_f32_bits(1e-4f), mqr_f32_bits(0.75f), mqr_f32_bits(1.0f));
    k.in[0] = F(4, 1, 5, 3, 3, 0);
    k.out[0] = F(4, 1, 5, 3, 3, 0);
    k.n_in = 1, k.n_out = 1;
    sweep(&k);
    /* MVN over axes 0, 2, 3: 3 groups of 2 doubles */
    memset(&k, 0, sizeof k);
    k.kernel = "mvn_f32";
    set_p(&k, 1, 0xd);
    k.in[0] = F(4, 2, 3, 4, 5, 0);
    k.out[0] = F(4, 2, 3, 4, 5, 0);
    k.n_in = 1, k.n_out = 1, k.scratch = 3 * 2 * 8;
    sweep(&k);
    for (int kind = MQK_SOFTMAX; kind <= MQK_HARDMAX; kind++) {
        memset(&k, 0, sizeof k);
        k.kernel = "softmax_f32";
        set_p(&k, 3, kind, 1, kind == MQK_LOGSOFTMAX);
        k.in[0] = F(3, 2, 3, 4, 0, 0);
        k.out[0] = F(3, 2, 3, 4, 0, 0);
        k.n_in = 1, k.n_out = 1;
        sweep(&k);
    }
}

/* rnn_f32 parameters: cell, directions, layout, reverse, linear_before_reset, input_forget, clip and
 * the activations of both directions (f, g, h: kinds a0..a2, alpha 1, beta 0) */
static void rnn_p(kcase *k, int cell, int dirs, int layout, int reverse, int lbr, float clip, int a0, int a1, int a2)
{
    set_p(k, 7, cell, dirs, layout, reverse, lbr, 0, mqr_f32_bits(clip));
    for (int d = 0; d < 2; d++) {
        int a[3] = {a0, a1, a2};
        for (int j = 0; j < 3; j++) {
            k->p[7 + 9 * d + 3 * j] = a[j];
            k->p[8 + 9 * d + 3 * j] = mqr_f32_bits(1.0f);
            k->p[9 + 9 * d + 3 * j] = mqr_f32_bits(0.0f);
        }
    }
    k->n_p = 25;
}

static void test_rnn(void **state)
{
    (void)state;
    kcase k;
    /* RNN forward, layout 0: S 3, B 2, I 4, H 5 */
    memset(&k, 0, sizeof k);
    k.kernel = "rnn_f32";
    rnn_p(&k, MQK_CELL_RNN, 1, 0, 0, 0, 0.0f, MQK_ACT_TANH, MQK_ACT_TANH, MQK_ACT_TANH);
    k.in[0] = F(3, 3, 2, 4, 0, 0), k.in[1] = F(3, 1, 5, 4, 0, 0), k.in[2] = F(3, 1, 5, 5, 0, 0);
    k.in[3] = F(2, 1, 10, 0, 0, 0), k.in[4] = T(MQR_I32, 1, 2, 0, 0, 0, 0), k.in[5] = F(3, 1, 2, 5, 0, 0);
    k.out[0] = F(4, 3, 1, 2, 5, 0), k.out[1] = F(3, 1, 2, 5, 0, 0);
    k.n_in = 6, k.n_out = 2, k.scratch = (1 + 2 + 4) * 5 * 4;
    sweep(&k);
    /* GRU bidirectional, layout 1 (X [B 2, S 3, I 4]), linear_before_reset, no Y */
    memset(&k, 0, sizeof k);
    k.kernel = "rnn_f32";
    rnn_p(&k, MQK_CELL_GRU, 2, 1, 0, 1, 0.0f, MQK_ACT_SIGMOID, MQK_ACT_TANH, MQK_ACT_TANH);
    k.in[0] = F(3, 2, 3, 4, 0, 0), k.in[1] = F(3, 2, 15, 4, 0, 0), k.in[2] = F(3, 2, 15, 5, 0, 0);
    k.in[3] = F(2, 2, 30, 0, 0, 0), k.in[4] = ABSENT(), k.in[5] = F(3, 2, 2, 5, 0, 0);
    k.out[0] = ABSENT(), k.out[1] = F(3, 2, 2, 5, 0, 0);
    k.n_in = 6, k.n_out = 2, k.scratch = (3 + 2 + 4) * 5 * 4;
    sweep(&k);
    /* LSTM reverse with peepholes and clip, every optional input and output */
    memset(&k, 0, sizeof k);
    k.kernel = "rnn_f32";
    rnn_p(&k, MQK_CELL_LSTM, 1, 0, 1, 0, 3.0f, MQK_ACT_SIGMOID, MQK_ACT_TANH, MQK_ACT_SOFTSIGN);
    k.in[0] = F(3, 3, 2, 4, 0, 0), k.in[1] = F(3, 1, 20, 4, 0, 0), k.in[2] = F(3, 1, 20, 5, 0, 0);
    k.in[3] = F(2, 1, 40, 0, 0, 0), k.in[4] = T(MQR_I32, 1, 2, 0, 0, 0, 0), k.in[5] = F(3, 1, 2, 5, 0, 0);
    k.in[6] = F(3, 1, 2, 5, 0, 0), k.in[7] = F(2, 1, 15, 0, 0, 0);
    k.out[0] = F(4, 3, 1, 2, 5, 0), k.out[1] = F(3, 1, 2, 5, 0, 0), k.out[2] = F(3, 1, 2, 5, 0, 0);
    k.n_in = 8, k.n_out = 3, k.scratch = (4 + 2 + 4) * 5 * 4;
    sweep(&k);
}

static void test_roi(void **state)
{
    (void)state;
    kcase k;
    /* RoiAlign: adaptive avg (output_half_pixel), 2 samples max (half_pixel) */
    for (int v = 0; v < 2; v++) {
        memset(&k, 0, sizeof k);
        k.kernel = "roialign_f32";
        set_p(&k, 4, mqr_f32_bits(0.5f), v ? 2 : 0, v, v);
        k.in[0] = F(4, 2, 2, 6, 6, 0), k.in[1] = F(2, 3, 4, 0, 0, 0), k.in[2] = T(MQR_I64, 1, 3, 0, 0, 0, 0);
        k.out[0] = F(4, 3, 2, 2, 2, 0);
        k.n_in = 3, k.n_out = 1;
        sweep(&k);
    }
    memset(&k, 0, sizeof k);
    k.kernel = "maxroipool_f32";
    set_p(&k, 4, mqr_f32_bits(1.0f), 0, 0, 0);
    k.in[0] = F(4, 2, 2, 6, 6, 0), k.in[1] = F(2, 3, 5, 0, 0, 0);
    k.out[0] = F(4, 3, 2, 2, 2, 0);
    k.n_in = 2, k.n_out = 1;
    sweep(&k);
}

/* RoI data from the worst corners (NaN, infinities, huge and negative coordinates and batch indices)
 * on an image of one pixel and on an empty one: the kernels stay inside x. */
static void test_roi_hostile_data(void **state)
{
    (void)state;
    static const float vals[] = {NAN, INFINITY, -INFINITY, 3e38f, -3e38f, 2147483648.0f, -2147483904.0f, 0.0f,
                                 0.99f, 1.0f, -0.5f, -1.0f, 1e7f, 0.2f};
    const int nv = (int)(sizeof vals / sizeof vals[0]);
    for (int h = 0; h <= 1; h++)
        for (int align = 0; align < 2; align++)
            for (int sr = 0; sr < 2; sr++) {
                enum { R = 64 };
                int cols = align ? 4 : 5;
                float *x = malloc((size_t)h * h * sizeof(float) + 1), *rois = malloc(R * (size_t)cols * sizeof(float));
                int64_t *bi = malloc(R * sizeof(int64_t));
                float *y = malloc(R * 2 * 2 * sizeof(float));
                for (int i = 0; i < h * h; i++) x[i] = 1.0f;
                for (int i = 0; i < R * cols; i++) rois[i] = vals[(int)(rnd() % (uint32_t)nv)];
                for (int i = 0; i < R; i++) bi[i] = (int64_t)(rnd() % 3) - 1;
                mqr_tensor in[3] = {F(4, 1, 1, h, h, 0), F(2, R, cols, 0, 0, 0), T(MQR_I64, 1, R, 0, 0, 0, 0)};
                mqr_tensor out[1] = {F(4, R, 1, 2, 2, 0)};
                in[0].data = x, in[1].data = rois, in[2].data = bi, out[0].data = y;
                int32_t p[4] = {mqr_f32_bits(sr ? 1e30f : 1.0f), 0, align, align};
                mqr_call c = {p, 4, in, align ? 3 : 2, out, 1, NULL};
                assert_int_equal(align ? mqk_c_roialign_f32(&c, 0) : mqk_c_maxroipool_f32(&c, 0), MQR_CHECK_OK);
                if (align) mqk_k_roialign_f32(&c);
                else mqk_k_maxroipool_f32(&c);
                free(x), free(rois), free(bi), free(y);
            }
}

/* sequence_lens from activations: negative and huge ones are clamped by the kernel. */
static void test_rnn_hostile_lens(void **state)
{
    (void)state;
    int32_t lens[4] = {-7, INT32_MAX, 2, INT32_MIN};
    float x[3 * 4 * 2], w[1 * 5 * 2], r[1 * 5 * 5], y[3 * 1 * 4 * 5], yh[4 * 5];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = 0.1f * (float)i;
    memset(w, 0, sizeof w), memset(r, 0, sizeof r);
    kcase k;
    memset(&k, 0, sizeof k);
    rnn_p(&k, MQK_CELL_RNN, 1, 0, 0, 0, 0.0f, MQK_ACT_TANH, MQK_ACT_TANH, MQK_ACT_TANH);
    mqr_tensor in[5] = {F(3, 3, 4, 2, 0, 0), F(3, 1, 5, 2, 0, 0), F(3, 1, 5, 5, 0, 0), ABSENT(), T(MQR_I32, 1, 4, 0, 0, 0, 0)};
    mqr_tensor out[2] = {F(4, 3, 1, 4, 5, 0), F(3, 1, 4, 5, 0, 0)};
    in[0].data = x, in[1].data = w, in[2].data = r, in[4].data = lens, out[0].data = y, out[1].data = yh;
    float *scratch = malloc((1 + 2 + 8) * 5 * sizeof(float));
    mqr_call c = {k.p, 25, in, 5, out, 2, scratch};
    assert_int_equal(mqk_c_rnn_f32(&c, (1 + 2 + 8) * 5 * 4), MQR_CHECK_OK);
    mqk_k_rnn_f32(&c);
    /* entry 0 (length clamped to 0) and entry 3 write zeros at every step */
    for (int t = 0; t < 3; t++)
        for (int j = 0; j < 5; j++) {
            assert_true(y[(t * 4 + 0) * 5 + j] == 0.0f);
            assert_true(y[(t * 4 + 3) * 5 + j] == 0.0f);
        }
    free(scratch);
}

/* BatchNormalization in place (the memory planner's inplace_in): y == x gives what y != x gives. */
static void test_batchnorm_in_place(void **state)
{
    (void)state;
    enum { N = 2, C = 3, S = 5 };
    float x[N * C * S], y[N * C * S], sc[C] = {1.5f, -2.0f, 0.5f}, b[C] = {0.1f, 0.2f, -0.3f};
    float mean[C] = {0.5f, -1.0f, 2.0f}, var[C] = {1.0f, 4.0f, 0.25f};
    for (int train = 0; train < 2; train++) {
        for (int i = 0; i < N * C * S; i++) x[i] = (float)((i * 7) % 11) - 5.0f;
        mqr_tensor in[5] = {F(3, N, C, S, 0, 0), F(1, C, 0, 0, 0, 0), F(1, C, 0, 0, 0, 0), F(1, C, 0, 0, 0, 0),
                            F(1, C, 0, 0, 0, 0)};
        mqr_tensor out[1] = {F(3, N, C, S, 0, 0)};
        in[0].data = x, in[1].data = sc, in[2].data = b, in[3].data = mean, in[4].data = var, out[0].data = y;
        int32_t p[4] = {mqr_f32_bits(1e-5f), train, mqr_f32_bits(0.9f), 0};
        float scratch[2 * C];
        mqr_call c = {p, 4, in, 5, out, 1, scratch};
        assert_int_equal(mqk_c_batchnorm_f32(&c, sizeof scratch), MQR_CHECK_OK);
        mqk_k_batchnorm_f32(&c);
        out[0].data = x;
        mqk_k_batchnorm_f32(&c);
        assert_memory_equal(x, y, sizeof x);
    }
}

/* Calls the checks must refuse although each descriptor alone is fine. */
static void test_refusals(void **state)
{
    (void)state;
    kcase k;
    /* im2col scratch one tile row short */
    memset(&k, 0, sizeof k);
    k.kernel = "conv_f32";
    set_p(&k, 13, 2, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, MQK_CONV_IM2COL, 4);
    k.in[0] = F(4, 2, 3, 6, 5, 0), k.in[1] = F(4, 4, 3, 3, 2, 0);
    k.out[0] = F(4, 2, 4, 6, 3, 0);
    k.n_in = 2, k.n_out = 1, k.scratch = 18 * 3 * 3 * 4;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    /* a dilation whose tap offsets leave int32 */
    k.scratch = 18 * 4 * 3 * 4;
    k.p[9] = 1 << 30;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    /* the fused activation: a flag other than 0/1, or 14 parameters */
    k.p[9] = 1;
    set_p(&k, 16, 2, 1, 1, 1, 1, 1, 0, 0, 1, 2, 1, MQK_CONV_IM2COL, 4, 1, 0, 0);
    assert_int_equal(probe(&k), MQR_CHECK_OK);
    k.p[13] = 2;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    k.p[13] = 1;
    k.n_p = 14;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    /* matmul: an A batch stride past the end of A */
    memset(&k, 0, sizeof k);
    k.kernel = "matmul_f32";
    set_p(&k, 5, 1, 0, 2, 2, 0);
    k.in[0] = F(3, 2, 3, 4, 0, 0), k.in[1] = F(2, 4, 5, 0, 0, 0);
    k.out[0] = F(3, 2, 3, 5, 0, 0);
    k.n_in = 2, k.n_out = 1;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    k.p[3] = 1;
    assert_int_equal(probe(&k), MQR_CHECK_OK);
    /* maxunpool: a reference rank other than x's */
    memset(&k, 0, sizeof k);
    k.kernel = "maxunpool_f32";
    set_p(&k, 5, 3, 1, 1, 4, 4);
    k.in[0] = F(4, 1, 1, 2, 2, 0), k.in[1] = T(MQR_I64, 4, 1, 1, 2, 2, 0);
    k.out[0] = F(4, 1, 1, 4, 4, 0);
    k.n_in = 2, k.n_out = 1;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    /* RNN scratch without the two state buffers */
    memset(&k, 0, sizeof k);
    k.kernel = "rnn_f32";
    rnn_p(&k, MQK_CELL_RNN, 1, 0, 0, 0, 0.0f, MQK_ACT_TANH, MQK_ACT_TANH, MQK_ACT_TANH);
    k.in[0] = F(3, 3, 2, 4, 0, 0), k.in[1] = F(3, 1, 5, 4, 0, 0), k.in[2] = F(3, 1, 5, 5, 0, 0);
    k.n_in = 3, k.n_out = 0, k.scratch = (1 + 2) * 5 * 4;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
}

static void test_summary(void **state)
{
    (void)state;
    print_message("nn checks: %ld probes, %ld accepted, %ld run on exact buffers, %ld too large to run\n",
                  stats.probes, stats.accepted, stats.run, stats.too_big);
    assert_true(stats.run > 1000);
}


/* The integer kernels of lowered MaQD models (runtime/kernels/qint*.c, docs/INTEGER.md). */
static void test_qint(void **state)
{
    (void)state;
    kcase k;
    /* conv 2-D on uint8 codes, groups 2, stride 2, pad 1: out (5 + 1 + 1 - 3) / 2 + 1 = 3; fan-in
     * 2 x 3 x 3 = 18 codes of 2 bits = 5 bytes per row; 3 thresholds (4 states) */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_layer";
    set_p(&k, MQK_QL_NP, 2, 2, 2, 2, 1, 1, 1, 0, 1, 1, 1, 3, 3, 1, 2, 1, 1, 0);
    k.in[0] = T(MQR_U8, 4, 1, 4, 5, 5, 0), k.in[1] = T(MQR_U8, 2, 4, 5, 0, 0, 0), k.in[2] = T(MQR_I32, 2, 4, 3, 0, 0, 0);
    k.out[0] = T(MQR_U8, 4, 1, 4, 3, 3, 0);
    k.n_in = 3, k.n_out = 1, k.scratch = (uint32_t)mqk_qint_layer_scratch(18, 9, 0, 2);
    sweep(&k);
    /* dense on int16 values, 15-bit codes (6 x 15 bits = 12 bytes), float out k, b [2, O] */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_layer";
    set_p(&k, MQK_QL_NP, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 15, 1, 16383, 0);
    k.in[0] = T(MQR_I16, 2, 2, 6, 0, 0, 0), k.in[1] = T(MQR_U8, 2, 3, 12, 0, 0, 0), k.in[2] = F(2, 2, 3, 0, 0, 0);
    k.out[0] = F(2, 2, 3, 0, 0, 0);
    k.n_in = 3, k.n_out = 1, k.scratch = (uint32_t)mqk_qint_layer_scratch(6, 1, 0, 15);
    sweep(&k);
    /* the wide form: 24-bit codes, int64 accumulators and thresholds (conv 2-D on int16, 2 x 2 kernel,
     * fan-in 4 x 24 bits = 12 bytes), stride 1, no pad: out 3 x 3 */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_layer";
    set_p(&k, MQK_QL_NP, 2, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 2, 2, 1, 24, 1, 8388607, 1);
    k.in[0] = T(MQR_I16, 4, 1, 1, 4, 4, 0), k.in[1] = T(MQR_U8, 2, 2, 12, 0, 0, 0), k.in[2] = T(MQR_I64, 2, 2, 3, 0, 0, 0);
    k.out[0] = T(MQR_U8, 4, 1, 2, 3, 3, 0);
    k.n_in = 3, k.n_out = 1, k.scratch = (uint32_t)mqk_qint_layer_scratch(4, 9, 1, 24);
    sweep(&k);
    /* conv 1-D on int32 sums, 1-bit codes (q = 2c - 1), pad 1, dilation 2 */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_layer";
    set_p(&k, MQK_QL_NP, 1, 1, 1, 1, 1, 2, 0, 0, 2, 1, 1, 3, 1, 1, 1, 2, 1, 0);
    k.in[0] = T(MQR_I32, 3, 1, 2, 7, 0, 0), k.in[1] = T(MQR_U8, 2, 2, 1, 0, 0, 0), k.in[2] = T(MQR_I32, 2, 2, 1, 0, 0, 0);
    k.out[0] = T(MQR_U8, 3, 1, 2, 7, 0, 0);
    k.n_in = 3, k.n_out = 1, k.scratch = (uint32_t)mqk_qint_layer_scratch(6, 7, 1, 1); /* int32 x: wide im2col */
    sweep(&k);
    /* the int32 accumulator out (two inputs, acc64 0): the first case's conv; refused with three inputs,
     * with uint8 out on two, and with acc64 */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_layer";
    set_p(&k, MQK_QL_NP, 2, 2, 2, 2, 1, 1, 1, 0, 1, 1, 1, 3, 3, 1, 2, 1, 1, 0);
    k.in[0] = T(MQR_U8, 4, 1, 4, 5, 5, 0), k.in[1] = T(MQR_U8, 2, 4, 5, 0, 0, 0);
    k.out[0] = T(MQR_I32, 4, 1, 4, 3, 3, 0);
    k.n_in = 2, k.n_out = 1, k.scratch = (uint32_t)mqk_qint_layer_scratch(18, 9, 0, 2);
    sweep(&k);
    k.in[2] = T(MQR_I32, 2, 4, 3, 0, 0, 0), k.n_in = 3;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    k.n_in = 2, k.out[0].dtype = MQR_U8;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    k.out[0].dtype = MQR_I32, k.p[MQK_QL_ACC64] = 1, k.scratch = (uint32_t)mqk_qint_layer_scratch(18, 9, 1, 2);
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    /* the same on the popcount form (rows 5, row bits 7, below) */
    k.kernel = "qint_layer_b1";
    k.n_p = MQK_QB_NP, k.p[MQK_QB_XBITS] = 1;
    k.p[MQK_QL_ACC64] = 0, k.scratch = (uint32_t)mqk_qint_b1_scratch(2, 5, 7, 18, 9, 2, 1, 0);
    sweep(&k);
    k.in[2] = T(MQR_I32, 2, 4, 3, 0, 0, 0), k.n_in = 3;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    k.n_in = 2, k.out[0].dtype = MQR_U8;
    assert_int_equal(probe(&k), MQR_CHECK_BAD);
    /* the popcount form on 0/1 codes (xbits 1): the first case's conv (rows: 5, row bits: pad 1 + 5 + the
     * last window's right pad 1 = 7), 2-bit codes */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_layer_b1";
    set_p(&k, MQK_QB_NP, 2, 2, 2, 2, 1, 1, 1, 0, 1, 1, 1, 3, 3, 1, 2, 1, 1, 0, 1);
    k.in[0] = T(MQR_U8, 4, 1, 4, 5, 5, 0), k.in[1] = T(MQR_U8, 2, 4, 5, 0, 0, 0), k.in[2] = T(MQR_I32, 2, 4, 3, 0, 0, 0);
    k.out[0] = T(MQR_U8, 4, 1, 4, 3, 3, 0);
    k.n_in = 3, k.n_out = 1, k.scratch = (uint32_t)mqk_qint_b1_scratch(2, 5, 7, 18, 9, 2, 1, 0);
    sweep(&k);
    /* the same on 2-bit codes (4 states) */
    k.p[MQK_QB_XBITS] = 2;
    k.scratch = (uint32_t)mqk_qint_b1_scratch(2, 5, 7, 18, 9, 2, 2, 0);
    sweep(&k);
    /* dense, 3 images, 70 codes of 1 bit (9 bytes per row), float out */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_layer_b1";
    set_p(&k, MQK_QB_NP, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 1, 0, 4); /* 4-bit codes in */
    k.in[0] = T(MQR_U8, 2, 3, 70, 0, 0, 0), k.in[1] = T(MQR_U8, 2, 2, 9, 0, 0, 0), k.in[2] = F(2, 2, 2, 0, 0, 0);
    k.out[0] = F(2, 3, 2, 0, 0, 0);
    k.n_in = 3, k.n_out = 1, k.scratch = (uint32_t)mqk_qint_b1_scratch(70, 1, 1, 70, 3, 1, 4, 1);
    sweep(&k);
    /* conv 1-D, pad 1, dilation 2, kernel 3 on 7: out 7 - 4 + 2 = 5, row bits 1 + 7 + 1 = 9; 3-bit codes */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_layer_b1";
    set_p(&k, MQK_QB_NP, 1, 1, 1, 1, 1, 1, 0, 0, 2, 1, 1, 3, 1, 1, 3, 1, 3, 0, 3); /* 3-bit codes in */
    k.in[0] = T(MQR_U8, 3, 1, 2, 7, 0, 0), k.in[1] = T(MQR_U8, 2, 2, 3, 0, 0, 0), k.in[2] = T(MQR_I32, 2, 2, 1, 0, 0, 0);
    k.out[0] = T(MQR_U8, 3, 1, 2, 5, 0, 0);
    k.n_in = 3, k.n_out = 1, k.scratch = (uint32_t)mqk_qint_b1_scratch(2, 1, 9, 6, 5, 3, 3, 0);
    sweep(&k);
    /* max pooling on codes, 2x2 stride 2 with ceil-mode size (3 from 5) */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_maxpool_u8";
    set_p(&k, 13, 2, 2, 2, 1, 2, 2, 1, 0, 0, 0, 1, 1, 1);
    k.in[0] = T(MQR_U8, 4, 1, 2, 5, 5, 0), k.out[0] = T(MQR_U8, 4, 1, 2, 3, 3, 0);
    k.n_in = 1, k.n_out = 1;
    sweep(&k);
    /* plane sums into int16 */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_sum_u8";
    k.n_p = 0;
    k.in[0] = T(MQR_U8, 4, 2, 3, 4, 4, 0), k.out[0] = T(MQR_I16, 4, 2, 3, 1, 1, 0);
    k.n_in = 1, k.n_out = 1;
    sweep(&k);
    /* the 8-bit input as fixed point */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_input_u8";
    set_p(&k, 2, 128, 9335);
    k.in[0] = T(MQR_U8, 4, 1, 1, 4, 4, 0), k.out[0] = T(MQR_I16, 4, 1, 1, 4, 4, 0);
    k.n_in = 1, k.n_out = 1;
    sweep(&k);
    /* the quantized residual sum of an int32 accumulator and uint8 codes, 3 thresholds */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_add";
    k.n_p = 0;
    k.in[0] = T(MQR_I32, 4, 2, 3, 4, 4, 0), k.in[1] = T(MQR_U8, 4, 2, 3, 4, 4, 0), k.in[2] = T(MQR_I64, 2, 3, 5, 0, 0, 0);
    k.out[0] = T(MQR_U8, 4, 2, 3, 4, 4, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    /* the residual sum by a table: e uint8, y uint8 codes, table [3, 4, 7] */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_lut";
    set_p(&k, 1, 0);
    k.in[0] = T(MQR_U8, 4, 2, 3, 4, 4, 0), k.in[1] = T(MQR_U8, 4, 2, 3, 4, 4, 0), k.in[2] = T(MQR_U8, 3, 3, 4, 7, 0, 0);
    k.out[0] = T(MQR_U8, 4, 2, 3, 4, 4, 0);
    k.n_in = 3, k.n_out = 1;
    sweep(&k);
    /* codes to another scale by a table of 4 entries (a Concat input) */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_requant_u8";
    k.n_p = 0;
    k.in[0] = T(MQR_U8, 4, 2, 3, 4, 4, 0), k.in[1] = T(MQR_U8, 1, 4, 0, 0, 0, 0);
    k.out[0] = T(MQR_U8, 4, 2, 3, 4, 4, 0);
    k.n_in = 2, k.n_out = 1;
    sweep(&k);
    /* int16 sums to another scale and int32 (a Concat input): M, S int64 [2] */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_rescale";
    k.n_p = 0;
    k.in[0] = T(MQR_I16, 4, 2, 3, 1, 1, 0), k.in[1] = T(MQR_I64, 1, 2, 0, 0, 0, 0);
    k.out[0] = T(MQR_I32, 4, 2, 3, 1, 1, 0);
    k.n_in = 2, k.n_out = 1;
    sweep(&k);
    /* AveragePool window sums, 3x3 stride 2 pad 1, into int16 */
    memset(&k, 0, sizeof k);
    k.kernel = "qint_winsum_u8";
    set_p(&k, 13, 2, 3, 3, 1, 2, 2, 1, 1, 1, 0, 1, 1, 1);
    k.in[0] = T(MQR_U8, 4, 1, 2, 5, 5, 0), k.out[0] = T(MQR_I16, 4, 1, 2, 3, 3, 0);
    k.n_in = 1, k.n_out = 1;
    sweep(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),           cmocka_unit_test(test_conv_transpose),
        cmocka_unit_test(test_conv_integer),   cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_matmul),         cmocka_unit_test(test_pool),
        cmocka_unit_test(test_norm),           cmocka_unit_test(test_rnn),
        cmocka_unit_test(test_roi),            cmocka_unit_test(test_roi_hostile_data),
        cmocka_unit_test(test_rnn_hostile_lens), cmocka_unit_test(test_batchnorm_in_place),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_qint),
        cmocka_unit_test(test_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
