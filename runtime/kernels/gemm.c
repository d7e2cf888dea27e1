/* gemm.c: portable row-major matrix products (see gemm.h): sgemm on the blocked core of
 * gemm_core.h, and the Gemm / MatMul kernels. */
#include "runtime/kernels/gemm.h"
#include "runtime/kernels/gemm_core.h"

void mqk_sgemm(int trans_a, int trans_b, int32_t M, int32_t N, int32_t K, float alpha, const float *A,
               int32_t lda, const float *B, int32_t ldb, float beta, float *C, int32_t ldc)
{
    int32_t i, j, k;
    for (i = 0; i < M; i++) {
        float *c = C + (size_t)i * (size_t)ldc;
        if (beta == 0.0f) {
            for (j = 0; j < N; j++) c[j] = 0.0f;
        } else if (beta != 1.0f) {
            for (j = 0; j < N; j++) c[j] *= beta;
        }
    }
    if (!trans_a) {
        if (!trans_b) mqk_gemm_nn(M, N, K, alpha, A, lda, B, ldb, C, ldc);
        else mqk_gemm_nt(M, N, K, alpha, A, lda, B, ldb, C, ldc);
        return;
    }
    for (i = 0; i < M; i++) { /* A transposed: column i of the stored K x M matrix */
        float *c = C + (size_t)i * (size_t)ldc;
        if (!trans_b) {
            for (k = 0; k < K; k++) {
                const float *b = B + (size_t)k * (size_t)ldb;
                float a = alpha * A[(size_t)k * (size_t)lda + (size_t)i];
                for (j = 0; j < N; j++) c[j] += a * b[j];
            }
        } else {
            for (j = 0; j < N; j++) {
                const float *b = B + (size_t)j * (size_t)ldb;
                float acc = 0.0f;
                for (k = 0; k < K; k++) acc += A[(size_t)k * (size_t)lda + (size_t)i] * b[k];
                c[j] += alpha * acc;
            }
        }
    }
}

void mqk_gemm_i32(int32_t M, int32_t N, int32_t K, const int32_t *A, const int32_t *B, int32_t *C)
{
    int32_t i, j, k;
    for (i = 0; i < M; i++) {
        int32_t *c = C + (size_t)i * (size_t)N;
        for (j = 0; j < N; j++) c[j] = 0;
        for (k = 0; k < K; k++) {
            uint32_t a = (uint32_t)A[(size_t)i * (size_t)K + (size_t)k];
            const int32_t *b = B + (size_t)k * (size_t)N;
            for (j = 0; j < N; j++) c[j] = (int32_t)((uint32_t)c[j] + a * (uint32_t)b[j]);
        }
    }
}

void mqk_k_gemm_f32(const mqr_call *c)
{
    const mqr_tensor *a = &c->in[0], *b = &c->in[1];
    const mqr_tensor *ct = c->n_in > 2 && c->in[2].rank >= 0 ? &c->in[2] : 0;
    int ta = c->p[0] != 0, tb = c->p[1] != 0;
    float alpha = mqr_p_f32(c->p[2]), beta = mqr_p_f32(c->p[3]);
    int32_t M = c->out[0].dims[0], N = c->out[0].dims[1], K = a->dims[ta ? 0 : 1], i, j;
    float *y = (float *)c->out[0].data, b1 = 0.0f;
    if (ct && beta != 0.0f) {
        const float *cv = (const float *)ct->data;
        size_t s0 = 0, s1 = 0;
        if (ct->rank == 2) {
            s0 = ct->dims[0] == 1 ? 0 : (size_t)ct->dims[1];
            s1 = ct->dims[1] == 1 ? 0 : 1;
        } else if (ct->rank == 1) {
            s1 = ct->dims[0] == 1 ? 0 : 1;
        }
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) y[(size_t)i * (size_t)N + j] = beta * cv[(size_t)i * s0 + (size_t)j * s1];
        b1 = 1.0f;
    }
    mqk_sgemm(ta, tb, M, N, K, alpha, (const float *)a->data, a->dims[1], (const float *)b->data, b->dims[1], b1,
              y, N);
}

void mqk_k_matmul_f32(const mqr_call *c)
{
    const mqr_tensor *a = &c->in[0], *b = &c->in[1];
    int32_t brank = c->p[0], d;
    const int32_t *bd = c->p + 2, *as = bd + brank, *bs = as + brank;
    int32_t M = a->rank == 1 ? 1 : a->dims[a->rank - 2], K = a->dims[a->rank - 1];
    int32_t N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    size_t batches = 1, t, mk = (size_t)M * (size_t)K, kn = (size_t)K * (size_t)N, mn = (size_t)M * (size_t)N;
    const float *av = (const float *)a->data, *bv = (const float *)b->data;
    float *y = (float *)c->out[0].data;
    for (d = 0; d < brank; d++) batches *= (size_t)bd[d];
    for (t = 0; t < batches * mn; t++) y[t] = 0.0f;
    if (c->p[1]) {
        mqk_gemm_nn((int32_t)(batches * (size_t)M), N, K, 1.0f, av, K, bv, N, y, N);
        return;
    }
    for (t = 0; t < batches; t++) {
        size_t rest = t, ao = 0, bo = 0;
        for (d = brank - 1; d >= 0; d--) {
            size_t i = rest % (size_t)bd[d];
            rest /= (size_t)bd[d];
            ao += i * (size_t)as[d];
            bo += i * (size_t)bs[d];
        }
        mqk_gemm_nn(M, N, K, 1.0f, av + ao * mk, K, bv + bo * kn, N, y + t * mn, N);
    }
}

/* element i of an int8 / uint8 tensor */
static int32_t load8(const mqr_tensor *t, size_t i)
{
    return t->dtype == MQR_U8 ? (int32_t)((const uint8_t *)t->data)[i] : (int32_t)((const int8_t *)t->data)[i];
}

void mqk_k_matmul_integer(const mqr_call *c)
{
    const mqr_tensor *a = &c->in[0], *b = &c->in[1];
    const mqr_tensor *az = c->n_in > 2 && c->in[2].rank >= 0 ? &c->in[2] : 0;
    const mqr_tensor *bz = c->n_in > 3 && c->in[3].rank >= 0 ? &c->in[3] : 0;
    int32_t brank = c->p[0], d;
    const int32_t *bd = c->p + 2, *as = bd + brank, *bs = as + brank;
    int32_t M = a->rank == 1 ? 1 : a->dims[a->rank - 2], K = a->dims[a->rank - 1];
    int32_t N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    size_t na = (size_t)mqr_numel(a), nb = (size_t)mqr_numel(b), i, t, batches = 1;
    size_t mk = (size_t)M * (size_t)K, kn = (size_t)K * (size_t)N, mn = (size_t)M * (size_t)N;
    int32_t *ai = (int32_t *)c->scratch, *bi = ai + na, *y = (int32_t *)c->out[0].data;
    int a_row = az && mqr_numel(az) > 1, b_col = bz && mqr_numel(bz) > 1;
    for (i = 0; i < na; i++) ai[i] = load8(a, i) - (az ? load8(az, a_row ? (i / (size_t)K) % (size_t)M : 0) : 0);
    for (i = 0; i < nb; i++) bi[i] = load8(b, i) - (bz ? load8(bz, b_col ? i % (size_t)N : 0) : 0);
    for (d = 0; d < brank; d++) batches *= (size_t)bd[d];
    for (t = 0; t < batches; t++) {
        size_t rest = t, ao = 0, bo = 0;
        for (d = brank - 1; d >= 0; d--) {
            size_t k = rest % (size_t)bd[d];
            rest /= (size_t)bd[d];
            ao += k * (size_t)as[d];
            bo += k * (size_t)bs[d];
        }
        mqk_gemm_i32(M, N, K, ai + ao * mk, bi + bo * kn, y + t * mn);
    }
}
