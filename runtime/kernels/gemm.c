/* gemm.c: portable row-major matrix products (see gemm.h): sgemm on the blocked core of
 * gemm_core.h, and the Gemm / MatMul kernels. */
#include "runtime/kernels/gemm.h"
#include "runtime/kernels/gemm_check.h"
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

/* gemm_f32: A [M,K] ([K,M] if transA), B [K,N] ([N,K] if transB), Y [M,N], the leading dimensions the
 * kernel passes (A's and B's dims[1]) are then the stored row lengths; C omitted or of rank 0..2 with
 * each dim 1 or the matching one of [M,N] (its broadcast strides then stay inside it). */
int mqk_c_gemm_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *a, *b, *y;
    int32_t ta, tb, M, N;
    (void)scratch_bytes;
    if (!mqk_nc_counts(c, 2, 3, 1, 1, 4) || !mqk_nc_bool(c->p[0]) || !mqk_nc_bool(c->p[1])) return MQR_CHECK_BAD;
    a = &c->in[0];
    b = &c->in[1];
    y = &c->out[0];
    ta = c->p[0];
    tb = c->p[1];
    if (mqk_nc_tensor(a, MQR_F32, 2, 2) < 0 || mqk_nc_tensor(b, MQR_F32, 2, 2) < 0 ||
        mqk_nc_tensor(y, MQR_F32, 2, 2) < 0)
        return MQR_CHECK_BAD;
    M = y->dims[0];
    N = y->dims[1];
    if (a->dims[ta] != M || b->dims[!tb] != N || a->dims[!ta] != b->dims[tb]) return MQR_CHECK_BAD;
    if (!mqk_nc_absent(c->in, c->n_in, 2)) {
        const mqr_tensor *ct = &c->in[2];
        if (mqk_nc_tensor(ct, MQR_F32, 0, 2) < 0) return MQR_CHECK_BAD;
        if (ct->rank == 2 && ((ct->dims[0] != 1 && ct->dims[0] != M) || (ct->dims[1] != 1 && ct->dims[1] != N)))
            return MQR_CHECK_BAD;
        if (ct->rank == 1 && ct->dims[0] != 1 && ct->dims[0] != N) return MQR_CHECK_BAD;
    }
    return MQR_CHECK_OK;
}

/* matmul_f32: float32 operands and output, the batch geometry of mqk_mm_check. */
int mqk_c_matmul_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (c->n_p < 1 || !mqk_nc_counts(c, 2, 2, 1, 1, c->n_p) || !mqk_mm_check(c, MQR_F32, MQR_F32, MQR_F32, 1))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
