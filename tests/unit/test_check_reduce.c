/* test_check_reduce.c: the load-time checks (mqk_c_*) of the kernels of list_reduce.h (reduce, misc, loss,
 * signal, maqd): each accepts a valid call; every one-at-a-time mutation is refused or runs in bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/maqd.h"
#include "runtime/kernels/misc_gridsample.h"
#include "runtime/kernels/misc_loss.h"
#include "runtime/kernels/misc_qlinear.h"
#include "runtime/kernels/misc_quant.h"
#include "runtime/kernels/misc_resize.h"
#include "runtime/kernels/misc_signal.h"
#include "runtime/kernels/reduce.h"
#include "runtime/kernels/reduce_einsum.h"
#include "runtime/kernels/reduce_scan.h"
#include "runtime/mqr_kernel.h"

/* How the proof works: every tensor of an accepted call is malloc'ed with exactly the bytes its descriptor
 * describes (and the scratch with exactly scratch_bytes), then the kernel runs; under the sanitized build
 * (ASan + UBSan) any read or write outside them, or an int overflow, aborts the test. Calls whose buffers
 * would exceed CAP bytes are checked but not run (counted as skipped). */
#define MAX_IN 10
#define MAX_OUT 4
#define CAP ((size_t)64 << 20)

typedef struct kc {
    const char *name;
    int32_t p[MQR_MAX_PARAMS + 2];
    int32_t n_p;
    mqr_tensor in[MAX_IN + 1];
    int32_t n_in;
    mqr_tensor out[MAX_OUT + 1];
    int32_t n_out;
    uint32_t scratch;
} kc;

typedef struct stats {
    long tried, refused, ran, skipped;
} stats;

static mqr_tensor T(int32_t dt, int32_t rank, ...)
{
    mqr_tensor t;
    va_list ap;
    int32_t d;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.rank = rank;
    va_start(ap, rank);
    for (d = 0; d < rank; d++) t.dims[d] = va_arg(ap, int);
    va_end(ap);
    return t;
}

static mqr_tensor absent(void) { return T(0, -1); }

static kc *new_call(const char *name)
{
    static kc k;
    memset(&k, 0, sizeof k);
    k.name = name;
    return &k;
}

static void params(kc *k, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) k->p[i] = va_arg(ap, int32_t);
    va_end(ap);
    k->n_p = n;
}

static int32_t fbits(float f) { return mqr_f32_bits(f); }

static void dbits(int32_t *p, double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    p[0] = (int32_t)(uint32_t)(b & 0xffffffffu);
    p[1] = (int32_t)(uint32_t)(b >> 32);
}

static size_t elem_size(int32_t dt)
{
    switch (dt) {
    case MQR_F64: case MQR_I64: case MQR_U64: return 8;
    case MQR_F32: case MQR_I32: case MQR_U32: return 4;
    case MQR_I16: case MQR_U16: return 2;
    default: return 1;
    }
}

/* Bytes a descriptor describes; -1 for a rank the harness does not allocate (absent or out of range). */
static int64_t tensor_bytes(const mqr_tensor *t)
{
    int64_t n = 1;
    if (t->rank < 0 || t->rank > MQR_MAX_RANK) return -1;
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return -1;
        n *= t->dims[d];
        if (n > (int64_t)CAP) return (int64_t)CAP + 1;
    }
    return n * (int64_t)elem_size(t->dtype);
}

static uint32_t rng = 2024u;
static uint32_t next(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

/* Values that exercise the kernels: small floats (sample points outside [-1, 1] included), small
 * integers around 0 (class targets outside [0, C) included), bytes over their whole range; zeros past
 * the first 4096 elements. */
static void fill(mqr_tensor *t, int64_t bytes)
{
    size_t es = elem_size(t->dtype), n = (size_t)bytes / es;
    memset(t->data, 0, (size_t)bytes); /* large tensors: random values only at the start (speed) */
    if (n > 4096) n = 4096;
    for (size_t i = 0; i < n; i++) {
        int32_t v = (int32_t)(next() % 9) - 2;
        switch (t->dtype) {
        case MQR_F32: ((float *)t->data)[i] = (float)((int32_t)(next() % 49) - 24) / 8.0f; break;
        case MQR_F64: ((double *)t->data)[i] = (double)((int32_t)(next() % 49) - 24) / 8.0; break;
        case MQR_I64: ((int64_t *)t->data)[i] = v; break;
        case MQR_U64: ((uint64_t *)t->data)[i] = (uint64_t)(v + 2); break;
        case MQR_I32: ((int32_t *)t->data)[i] = v; break;
        case MQR_U32: ((uint32_t *)t->data)[i] = (uint32_t)(v + 2); break;
        case MQR_I16: ((int16_t *)t->data)[i] = (int16_t)v; break;
        case MQR_U16: ((uint16_t *)t->data)[i] = (uint16_t)(v + 2); break;
        default: ((uint8_t *)t->data)[i] = (uint8_t)next(); break;
        }
    }
}

/* Check one call; run the kernel if the check accepts it. */
static int try_call(kc *k, stats *st)
{
    const mqr_kernel_info *ki = mqr_kernel_find(k->name);
    mqr_tensor *all[MAX_IN + MAX_OUT + 2];
    int64_t bytes[MAX_IN + MAX_OUT + 2];
    int n = 0, big = 0, r;
    size_t total = k->scratch;
    void *scratch = NULL;
    assert_non_null(ki);
    for (int i = 0; i < k->n_in && i <= MAX_IN; i++) all[n++] = &k->in[i];
    for (int i = 0; i < k->n_out && i <= MAX_OUT; i++) all[n++] = &k->out[i];
    for (int i = 0; i < n; i++) {
        bytes[i] = tensor_bytes(all[i]);
        if (bytes[i] > 0) total += (size_t)bytes[i];
        if (bytes[i] > (int64_t)CAP || total > CAP) big = 1;
    }
    for (int i = 0; i < n; i++) {
        all[i]->data = NULL;
        if (!big && bytes[i] >= 0) {
            all[i]->data = malloc((size_t)bytes[i]);
            if (bytes[i] > 0) {
                assert_non_null(all[i]->data);
                fill(all[i], bytes[i]);
            }
        }
    }
    if (!big && k->scratch) {
        scratch = malloc(k->scratch);
        assert_non_null(scratch);
    }
    {
        mqr_call c = {k->p, k->n_p, k->in, k->n_in, k->out, k->n_out, scratch};
        r = ki->check(&c, k->scratch);
        assert_true(r == MQR_CHECK_OK || r == MQR_CHECK_BAD);
        st->tried++;
        if (r == MQR_CHECK_BAD) st->refused++;
        else if (big) st->skipped++;
        else {
            ki->fn(&c);
            st->ran++;
        }
    }
    for (int i = 0; i < n; i++) {
        free(all[i]->data);
        all[i]->data = NULL;
    }
    free(scratch);
    return r;
}

static const int32_t p_vals_extra[] = {INT32_MAX, INT32_MIN, -5, 0, 0x7fc00000 /* NaN */, 0x7f800000 /* inf */,
                                       (int32_t)0xbf800000 /* -1.0f */, 0x7149f2ca /* 1e30f */,
                                       0x7ff00000 /* f64 inf (high word) */, 0x7ff80000 /* f64 NaN */,
                                       (int32_t)0xfff00000 /* f64 -inf */, 0x00100000};
static const int32_t dtypes[] = {MQR_F32, MQR_F64, MQR_U8, MQR_I8, MQR_U16, MQR_I16, MQR_I32, MQR_I64,
                                 MQR_U32, MQR_U64, MQR_BOOL, 0, 99};

/* A valid call, and every mutation of one parameter, count, dtype, rank, dim or the scratch size. */
static void sweep(const kc *base)
{
    static kc m;
    stats st = {0, 0, 0, 0};
    int nt;
    m = *base;
    assert_int_equal(try_call(&m, &st), MQR_CHECK_OK);
#define MUT(stmt)                                                                                  \
    do {                                                                                           \
        m = *base;                                                                                 \
        stmt;                                                                                      \
        try_call(&m, &st);                                                                         \
    } while (0)
    /* counts */
    MUT(m.n_p = base->n_p - 1);
    MUT(m.n_p = base->n_p + 1);
    MUT(m.n_p = 0);
    MUT(m.n_in = base->n_in - 1);
    MUT((m.n_in = base->n_in + 1, m.in[base->n_in] = absent()));
    MUT((m.n_in = base->n_in + 1, m.in[base->n_in] = base->in[0]));
    MUT(m.n_out = base->n_out - 1);
    MUT((m.n_out = base->n_out + 1, m.out[base->n_out] = absent()));
    MUT((m.n_out = base->n_out + 1, m.out[base->n_out] = base->out[0]));
    /* parameters */
    for (int i = 0; i < base->n_p; i++) {
        int32_t v = base->p[i];
        MUT(m.p[i] = v + (v < INT32_MAX));
        MUT(m.p[i] = v - (v > INT32_MIN));
        MUT(m.p[i] = (int32_t)((uint32_t)v * 2u + 3u));
        for (size_t j = 0; j < sizeof p_vals_extra / sizeof p_vals_extra[0]; j++) MUT(m.p[i] = p_vals_extra[j]);
    }
    /* scratch */
    if (base->scratch) {
        MUT(m.scratch = base->scratch - 1);
        MUT(m.scratch = base->scratch / 2);
        MUT(m.scratch = 0);
    }
    /* tensors */
    nt = base->n_in + base->n_out;
    for (int t = 0; t < nt; t++) {
#define TT (t < base->n_in ? &m.in[t] : &m.out[t - base->n_in])
        const mqr_tensor *bt = t < base->n_in ? &base->in[t] : &base->out[t - base->n_in];
        MUT(TT->rank = -1);
        MUT(TT->rank = 9);
        if (bt->rank >= 0 && bt->rank < MQR_MAX_RANK) {
            MUT((TT->dims[bt->rank] = 1, TT->rank = bt->rank + 1));
            MUT((TT->dims[bt->rank] = 3, TT->rank = bt->rank + 1));
        }
        if (bt->rank > 0) MUT((TT->dims[bt->rank - 1] = 0, TT->rank = bt->rank - 1));
        for (size_t j = 0; j < sizeof dtypes / sizeof dtypes[0]; j++)
            if (dtypes[j] != bt->dtype) MUT(TT->dtype = dtypes[j]);
        for (int d = 0; d < bt->rank; d++) {
            int32_t v = bt->dims[d];
            MUT(TT->dims[d] = v + 1);
            MUT(TT->dims[d] = v - 1);
            MUT(TT->dims[d] = 0);
            MUT(TT->dims[d] = 2 * v + 1);
            MUT(TT->dims[d] = 1 << 20);
            MUT(TT->dims[d] = INT32_MAX);
            MUT(TT->dims[d] = -1);
            MUT(TT->dims[d] = INT32_MIN);
        }
#undef TT
    }
#undef MUT
    print_message("%-22s %5ld calls: %5ld refused, %4ld ran, %ld too large to run\n", base->name, st.tried,
                  st.refused, st.ran, st.skipped);
    assert_true(st.refused > 0);
}

/* ---- reduce ------------------------------------------------------------------------------------- */

static void test_reduce(void **state)
{
    (void)state;
    kc *k = new_call("reduce_f32"); /* ReduceLogSumExp over axes 0 and 2, keepdims */
    params(k, 3, MQK_RED_LOGSUMEXP, 5, 0);
    k->n_in = 1, k->in[0] = T(MQR_F32, 3, 2, 3, 4);
    k->n_out = 1, k->out[0] = T(MQR_F32, 3, 1, 3, 1);
    k->scratch = 12;
    sweep(k);
    k = new_call("reduce_f32"); /* ReduceSum-13 over axis 1 without keepdims (axes input given) */
    params(k, 3, MQK_RED_SUM, 2, 0);
    k->n_in = 2, k->in[0] = T(MQR_F32, 3, 2, 3, 4), k->in[1] = T(MQR_I64, 1, 1);
    k->n_out = 1, k->out[0] = T(MQR_F32, 2, 2, 4);
    sweep(k);
    k = new_call("reduce_f32"); /* noop_with_empty_axes */
    params(k, 3, MQK_RED_SUM, 0, 1);
    k->n_in = 1, k->in[0] = T(MQR_F32, 2, 3, 2);
    k->n_out = 1, k->out[0] = T(MQR_F32, 2, 3, 2);
    sweep(k);
    k = new_call("reduce_any"); /* int32 ReduceProd over axis 1 */
    params(k, 3, MQK_RED_PROD, 2, 0);
    k->n_in = 1, k->in[0] = T(MQR_I32, 3, 2, 3, 4);
    k->n_out = 1, k->out[0] = T(MQR_I32, 3, 2, 1, 4);
    k->scratch = 64;
    sweep(k);
    k = new_call("reduce_any"); /* float64 ReduceLogSumExp over everything, no keepdims */
    params(k, 3, MQK_RED_LOGSUMEXP, 3, 0);
    k->n_in = 1, k->in[0] = T(MQR_F64, 2, 3, 5);
    k->n_out = 1, k->out[0] = T(MQR_F64, 0);
    k->scratch = 16;
    sweep(k);
    k = new_call("arg_f32");
    params(k, 3, 1, 1, 1);
    k->n_in = 1, k->in[0] = T(MQR_F32, 3, 3, 4, 2);
    k->n_out = 1, k->out[0] = T(MQR_I64, 2, 3, 2);
    sweep(k);
    k = new_call("arg_any");
    params(k, 3, 1, 0, 0);
    k->n_in = 1, k->in[0] = T(MQR_I16, 2, 2, 5);
    k->n_out = 1, k->out[0] = T(MQR_I64, 2, 2, 1);
    sweep(k);
}

static void test_scan(void **state)
{
    (void)state;
    kc *k = new_call("topk");
    params(k, 2, 1, 1);
    k->n_in = 2, k->in[0] = T(MQR_F32, 2, 3, 6), k->in[1] = T(MQR_I64, 1, 1);
    k->n_out = 2, k->out[0] = T(MQR_F32, 2, 3, 3), k->out[1] = T(MQR_I64, 2, 3, 3);
    k->scratch = 96;
    sweep(k);
    k = new_call("topk"); /* smallest, int8, indices omitted */
    params(k, 2, 0, 0);
    k->n_in = 2, k->in[0] = T(MQR_I8, 2, 5, 2), k->in[1] = T(MQR_I64, 0);
    k->n_out = 2, k->out[0] = T(MQR_I8, 2, 2, 2), k->out[1] = absent();
    k->scratch = 80;
    sweep(k);
    k = new_call("cumsum");
    params(k, 3, 1, 1, 1);
    k->n_in = 2, k->in[0] = T(MQR_F64, 2, 2, 3), k->in[1] = T(MQR_I32, 0);
    k->n_out = 1, k->out[0] = T(MQR_F64, 2, 2, 3);
    sweep(k);
    k = new_call("cumsum");
    params(k, 3, 0, 0, 0);
    k->n_in = 2, k->in[0] = T(MQR_U16, 1, 7), k->in[1] = T(MQR_I64, 1, 1);
    k->n_out = 1, k->out[0] = T(MQR_U16, 1, 7);
    sweep(k);
}

static void test_einsum_det(void **state)
{
    (void)state;
    kc *k = new_call("einsum"); /* ij,jk->ik: loops i, k (output), j (summed) */
    params(k, 12, 2, 3, 2, /* sizes */ 2, 4, 3, /* A [2,3] */ 3, 0, 1, /* B [3,4] */ 0, 1, 4);
    k->n_in = 2, k->in[0] = T(MQR_F32, 2, 2, 3), k->in[1] = T(MQR_F32, 2, 3, 4);
    k->n_out = 1, k->out[0] = T(MQR_F32, 2, 2, 4);
    sweep(k);
    k = new_call("einsum"); /* ii-> (trace): one summed loop with the diagonal stride */
    params(k, 5, 1, 1, 0, 3, 4);
    k->n_in = 1, k->in[0] = T(MQR_I32, 2, 3, 3);
    k->n_out = 1, k->out[0] = T(MQR_I32, 0);
    sweep(k);
    k = new_call("einsum"); /* bij,j->bi with a broadcast b (A [1,2,3] against out [2,...]): loops b, i, j */
    params(k, 12, 2, 3, 2, 2, 2, 3, /* A */ 0, 3, 1, /* v [3] */ 0, 0, 1);
    k->n_in = 2, k->in[0] = T(MQR_F64, 3, 1, 2, 3), k->in[1] = T(MQR_F64, 1, 3);
    k->n_out = 1, k->out[0] = T(MQR_F64, 2, 2, 2);
    sweep(k);
    k = new_call("det");
    params(k, 0);
    k->n_in = 1, k->in[0] = T(MQR_F64, 3, 2, 3, 3);
    k->n_out = 1, k->out[0] = T(MQR_F64, 1, 2);
    k->scratch = 72;
    sweep(k);
}

/* ---- misc --------------------------------------------------------------------------------------- */

static void test_quant(void **state)
{
    (void)state;
    kc *k = new_call("quantize_linear"); /* per axis 1 */
    params(k, 1, 1);
    k->n_in = 3, k->in[0] = T(MQR_F32, 3, 2, 3, 2), k->in[1] = T(MQR_F32, 1, 3), k->in[2] = T(MQR_I8, 1, 3);
    k->n_out = 1, k->out[0] = T(MQR_I8, 3, 2, 3, 2);
    sweep(k);
    k = new_call("quantize_linear"); /* per tensor, int32 input, zero point omitted */
    params(k, 1, -1);
    k->n_in = 3, k->in[0] = T(MQR_I32, 2, 4, 2), k->in[1] = T(MQR_F32, 0), k->in[2] = absent();
    k->n_out = 1, k->out[0] = T(MQR_U8, 2, 4, 2);
    sweep(k);
    k = new_call("dequantize_linear");
    params(k, 1, -1);
    k->n_in = 3, k->in[0] = T(MQR_U8, 2, 4, 3), k->in[1] = T(MQR_F32, 0), k->in[2] = T(MQR_U8, 0);
    k->n_out = 1, k->out[0] = T(MQR_F32, 2, 4, 3);
    sweep(k);
    k = new_call("dequantize_linear");
    params(k, 1, 0);
    k->n_in = 2, k->in[0] = T(MQR_I32, 2, 3, 2), k->in[1] = T(MQR_F32, 1, 3);
    k->n_out = 1, k->out[0] = T(MQR_F32, 2, 3, 2);
    sweep(k);
    k = new_call("dynamic_quantize_u8");
    params(k, 0);
    k->n_in = 1, k->in[0] = T(MQR_F32, 2, 3, 4);
    k->n_out = 3, k->out[0] = T(MQR_U8, 2, 3, 4), k->out[1] = T(MQR_F32, 0), k->out[2] = T(MQR_U8, 0);
    sweep(k);
}

static void resize_call(kc *k, int mode, int coord, int nearest, int32_t dt, const int32_t *xd, const int32_t *yd,
                        const double *roi0, const double *roi1)
{
    int r = 4;
    params(k, 6, mode, coord, nearest, 1, fbits(-0.5f), fbits(7.0f));
    k->n_p = 6 + 4 * r;
    k->n_in = 3, k->in[0] = T(dt, 4, xd[0], xd[1], xd[2], xd[3]), k->in[1] = T(MQR_F32, 1, 8),
    k->in[2] = T(MQR_F32, 1, 4);
    k->n_out = 1, k->out[0] = T(dt, 4, yd[0], yd[1], yd[2], yd[3]);
    for (int d = 0; d < r; d++) {
        dbits(k->p + 6 + 4 * d, (double)yd[d] / (double)xd[d]);
        k->p[8 + 4 * d] = fbits((float)roi0[d]);
        k->p[9 + 4 * d] = fbits((float)roi1[d]);
        k->scratch += (uint32_t)yd[d] * MQK_RESIZE_SCRATCH_PER_INDEX;
    }
}

static void test_resize(void **state)
{
    (void)state;
    static const int32_t x1[] = {1, 1, 2, 3}, y1[] = {1, 1, 4, 5}, x2[] = {1, 2, 4, 4}, y2[] = {1, 2, 3, 3};
    static const double r0[] = {0, 0, 0, 0}, r1[] = {1, 1, 1, 1}, c0[] = {0, 0, 0.2, 0.1}, c1[] = {1, 1, 0.8, 1.3};
    kc *k = new_call("resize");
    resize_call(k, MQK_RS_LINEAR, MQK_CT_HALF_PIXEL, MQK_NM_ROUND_PREFER_FLOOR, MQR_F32, x1, y1, r0, r1);
    sweep(k);
    k = new_call("resize");
    resize_call(k, MQK_RS_CUBIC, MQK_CT_TF_CROP_AND_RESIZE, MQK_NM_ROUND_PREFER_CEIL, MQR_F64, x2, y2, c0, c1);
    sweep(k);
    k = new_call("resize");
    resize_call(k, MQK_RS_NEAREST, MQK_CT_ASYMMETRIC, MQK_NM_SIMPLE, MQR_U8, x1, y1, r0, r1);
    sweep(k);
    k = new_call("resize");
    resize_call(k, MQK_RS_NEAREST, MQK_CT_ALIGN_CORNERS, MQK_NM_CEIL, MQR_I16, x2, y2, r0, r1);
    sweep(k);
}

static void test_gridsample(void **state)
{
    (void)state;
    kc *k = new_call("gridsample");
    params(k, 3, MQK_GS_BICUBIC, MQK_GP_REFLECTION, 0);
    k->n_in = 2, k->in[0] = T(MQR_F32, 4, 1, 2, 3, 4), k->in[1] = T(MQR_F32, 4, 1, 2, 3, 2);
    k->n_out = 1, k->out[0] = T(MQR_F32, 4, 1, 2, 2, 3);
    sweep(k);
    k = new_call("gridsample");
    params(k, 3, MQK_GS_NEAREST, MQK_GP_BORDER, 1);
    k->n_in = 2, k->in[0] = T(MQR_F64, 4, 2, 1, 2, 3), k->in[1] = T(MQR_F32, 4, 2, 3, 1, 2);
    k->n_out = 1, k->out[0] = T(MQR_F64, 4, 2, 1, 3, 1);
    sweep(k);
    k = new_call("gridsample");
    params(k, 3, MQK_GS_BILINEAR, MQK_GP_ZEROS, 0);
    k->n_in = 2, k->in[0] = T(MQR_F32, 4, 1, 1, 3, 3), k->in[1] = T(MQR_F64, 4, 1, 2, 2, 2);
    k->n_out = 1, k->out[0] = T(MQR_F32, 4, 1, 1, 2, 2);
    sweep(k);
}

static void test_qlinear(void **state)
{
    (void)state;
    kc *k = new_call("qlinear_matmul"); /* a [2,3,4] x b [4,5]: batch broadcast of b */
    params(k, 7, 3, 4, 5, 1, 2, 1, 0);
    k->n_in = 8, k->in[0] = T(MQR_U8, 3, 2, 3, 4), k->in[1] = T(MQR_F32, 0), k->in[2] = T(MQR_U8, 0),
    k->in[3] = T(MQR_I8, 2, 4, 5), k->in[4] = T(MQR_F32, 1, 5), k->in[5] = T(MQR_I8, 1, 5),
    k->in[6] = T(MQR_F32, 0), k->in[7] = T(MQR_U8, 0);
    k->n_out = 1, k->out[0] = T(MQR_U8, 3, 2, 3, 5);
    sweep(k);
    k = new_call("qlinear_matmul"); /* a [2] (vector) x b [3,2,4]: y [3,4] */
    params(k, 7, 1, 2, 4, 1, 3, 0, 1);
    k->n_in = 8, k->in[0] = T(MQR_I8, 1, 2), k->in[1] = T(MQR_F32, 1, 1), k->in[2] = T(MQR_I8, 1, 1),
    k->in[3] = T(MQR_U8, 3, 3, 2, 4), k->in[4] = T(MQR_F32, 0), k->in[5] = T(MQR_U8, 0),
    k->in[6] = T(MQR_F32, 0), k->in[7] = T(MQR_I8, 0);
    k->n_out = 1, k->out[0] = T(MQR_I8, 2, 3, 4);
    sweep(k);
    k = new_call("qlinear_conv"); /* 2-D, group 2, stride 2, pads 1 */
    params(k, 13, 2, 1, 2, 2, 1, 1, 1, 0, 1, 1, 0, 1, 1);
    k->n_in = 9, k->in[0] = T(MQR_U8, 4, 1, 4, 5, 5), k->in[1] = T(MQR_F32, 0), k->in[2] = T(MQR_U8, 0),
    k->in[3] = T(MQR_I8, 4, 6, 2, 3, 3), k->in[4] = T(MQR_F32, 1, 6), k->in[5] = T(MQR_I8, 1, 6),
    k->in[6] = T(MQR_F32, 0), k->in[7] = T(MQR_U8, 0), k->in[8] = T(MQR_I32, 1, 6);
    k->n_out = 1, k->out[0] = T(MQR_U8, 4, 1, 6, 3, 3);
    sweep(k);
    k = new_call("qlinear_conv"); /* 1-D, dilation 2, no bias */
    params(k, 13, 1, 1, 1, 1, 1, 1, 2, 0, 0, 2, 0, 0, 0);
    k->n_in = 8, k->in[0] = T(MQR_I8, 3, 2, 3, 7), k->in[1] = T(MQR_F32, 0), k->in[2] = T(MQR_I8, 0),
    k->in[3] = T(MQR_U8, 3, 2, 3, 3), k->in[4] = T(MQR_F32, 0), k->in[5] = T(MQR_U8, 0),
    k->in[6] = T(MQR_F32, 0), k->in[7] = T(MQR_I8, 0);
    k->n_out = 1, k->out[0] = T(MQR_I8, 3, 2, 2, 5);
    sweep(k);
}

static void test_loss(void **state)
{
    (void)state;
    kc *k = new_call("loss_nll"); /* SoftmaxCrossEntropyLoss, none, weights, ignore_index -1, log_prob */
    params(k, 5, 1, MQK_LOSS_NONE, 1, -1, -1);
    k->n_in = 3, k->in[0] = T(MQR_F32, 3, 2, 3, 2), k->in[1] = T(MQR_I64, 2, 2, 2), k->in[2] = T(MQR_F32, 1, 3);
    k->n_out = 2, k->out[0] = T(MQR_F32, 2, 2, 2), k->out[1] = T(MQR_F32, 3, 2, 3, 2);
    sweep(k);
    k = new_call("loss_nll"); /* NegativeLogLikelihoodLoss, mean, no weights */
    params(k, 5, 0, MQK_LOSS_MEAN, 0, 0, 0);
    k->n_in = 2, k->in[0] = T(MQR_F64, 2, 4, 3), k->in[1] = T(MQR_I32, 1, 4);
    k->n_out = 1, k->out[0] = T(MQR_F64, 0);
    sweep(k);
}

/* ---- signal ------------------------------------------------------------------------------------- */

static void test_signal(void **state)
{
    (void)state;
    kc *k = new_call("dft"); /* real [2,5,1] along 1, dft_length 6, onesided */
    params(k, 5, 1, 0, 0, 6, 4);
    k->n_in = 2, k->in[0] = T(MQR_F32, 3, 2, 5, 1), k->in[1] = T(MQR_I64, 0);
    k->n_out = 1, k->out[0] = T(MQR_F32, 3, 2, 4, 2);
    k->scratch = 48 * 6;
    sweep(k);
    k = new_call("dft"); /* complex [3,2,2] along 0, length 4 (power of two), inverse */
    params(k, 5, 0, 1, 1, 4, 4);
    k->n_in = 1, k->in[0] = T(MQR_F64, 3, 3, 2, 2);
    k->n_out = 1, k->out[0] = T(MQR_F64, 3, 4, 2, 2);
    k->scratch = 48 * 4;
    sweep(k);
    k = new_call("stft"); /* [1,10,1], step 2, window of 4, onesided */
    params(k, 2, 2, 4);
    k->n_in = 3, k->in[0] = T(MQR_F32, 3, 1, 10, 1), k->in[1] = T(MQR_I64, 0), k->in[2] = T(MQR_F32, 1, 4);
    k->n_out = 1, k->out[0] = T(MQR_F32, 4, 1, 4, 3, 2);
    k->scratch = 48 * 4;
    sweep(k);
    k = new_call("stft"); /* complex [2,7,2], step 3, frame_length 3, no window */
    params(k, 2, 3, 3);
    k->n_in = 4, k->in[0] = T(MQR_F64, 3, 2, 7, 2), k->in[1] = T(MQR_I32, 0), k->in[2] = absent(),
    k->in[3] = T(MQR_I64, 0);
    k->n_out = 1, k->out[0] = T(MQR_F64, 4, 2, 2, 3, 2);
    k->scratch = 48 * 3;
    sweep(k);
    k = new_call("window");
    params(k, 2, MQK_WIN_BLACKMAN, 0);
    k->n_in = 1, k->in[0] = T(MQR_I64, 0);
    k->n_out = 1, k->out[0] = T(MQR_F32, 1, 7);
    sweep(k);
    k = new_call("window");
    params(k, 2, MQK_WIN_HAMMING, 1);
    k->n_in = 1, k->in[0] = T(MQR_I32, 1, 1);
    k->n_out = 1, k->out[0] = T(MQR_I32, 1, 5);
    sweep(k);
    k = new_call("mel_weight_matrix");
    params(k, 7, 4, 16, 8000, 0, 0, 0, 0);
    dbits(k->p + 3, 20.0);
    dbits(k->p + 5, 3000.0);
    k->n_in = 5, k->in[0] = T(MQR_I64, 0), k->in[1] = T(MQR_I64, 0), k->in[2] = T(MQR_I64, 0),
    k->in[3] = T(MQR_F32, 0), k->in[4] = T(MQR_F32, 0);
    k->n_out = 1, k->out[0] = T(MQR_F32, 2, 9, 4);
    k->scratch = 24;
    sweep(k);
}

/* ---- maqd --------------------------------------------------------------------------------------- */

static void test_maqd(void **state)
{
    (void)state;
    kc *k = new_call("maqd_lbn_f32");
    params(k, 1, fbits(1e-5f));
    k->n_in = 5, k->in[0] = T(MQR_F32, 3, 2, 3, 4), k->in[1] = T(MQR_F32, 1, 3), k->in[2] = T(MQR_F32, 1, 3),
    k->in[3] = T(MQR_F32, 1, 1), k->in[4] = T(MQR_F32, 0);
    k->n_out = 1, k->out[0] = T(MQR_F32, 3, 2, 3, 4);
    sweep(k);
    k = new_call("maqd_weight_quant_f32");
    params(k, 5, 5, fbits(0.5f), fbits(1e-5f), 1, 1);
    k->n_in = 1, k->in[0] = T(MQR_F32, 3, 4, 3, 2);
    k->n_out = 1, k->out[0] = T(MQR_F32, 3, 4, 3, 2);
    sweep(k);
    k = new_call("maqd_act_quant_f32");
    params(k, 2, 4, fbits(0.25f));
    k->n_in = 1, k->in[0] = T(MQR_F32, 2, 2, 5);
    k->n_out = 1, k->out[0] = T(MQR_F32, 2, 2, 5);
    sweep(k);
}

/* Every kernel of the family has a real check (no MQR_CHECK_NONE left). */
static void test_all_checked(void **state)
{
    (void)state;
    static const char *const names[] = {
#define NAME(name, src) #name,
        MQR_KERNELS_REDUCE(NAME)
#undef NAME
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const mqr_kernel_info *ki = mqr_kernel_find(names[i]);
        mqr_call c;
        mqr_tensor t[2];
        int32_t p[1] = {0};
        assert_non_null(ki);
        memset(t, 0, sizeof t);
        c.p = p, c.n_p = 0, c.in = t, c.n_in = 0, c.out = t + 1, c.n_out = 0, c.scratch = NULL;
        if (ki->check(&c, 0) != MQR_CHECK_BAD) fail_msg("kernel %s: an empty call is not refused", names[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_checked), cmocka_unit_test(test_reduce),    cmocka_unit_test(test_scan),
        cmocka_unit_test(test_einsum_det),  cmocka_unit_test(test_quant),     cmocka_unit_test(test_resize),
        cmocka_unit_test(test_gridsample),  cmocka_unit_test(test_qlinear),   cmocka_unit_test(test_loss),
        cmocka_unit_test(test_signal),      cmocka_unit_test(test_maqd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
