/* gemm.c: portable row-major matrix products (see gemm.h). A simple i-k-j loop order keeps the
 * inner loop contiguous over N for the common non-transposed case. */
#include "runtime/kernels/gemm.h"

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
        if (!trans_b) {
            for (k = 0; k < K; k++) {
                float a = trans_a ? A[(size_t)k * (size_t)lda + (size_t)i] : A[(size_t)i * (size_t)lda + (size_t)k];
                const float *b = B + (size_t)k * (size_t)ldb;
                a *= alpha;
                for (j = 0; j < N; j++) c[j] += a * b[j];
            }
        } else {
            for (j = 0; j < N; j++) {
                const float *b = B + (size_t)j * (size_t)ldb;
                float acc = 0.0f;
                for (k = 0; k < K; k++) {
                    float a = trans_a ? A[(size_t)k * (size_t)lda + (size_t)i] : A[(size_t)i * (size_t)lda + (size_t)k];
                    acc += a * b[k];
                }
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
