/* gemm_core.h: the blocked float32 matrix-product core shared (as static functions) by the GEMM,
 * MatMul and convolution kernels, so each kernel source stays self-contained for the emitter. */
#ifndef MQK_GEMM_CORE_H
#define MQK_GEMM_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Register tile: MQK_MR rows of C by MQK_NR columns, accumulated over the whole K in locals. */
#define MQK_MR 4
#define MQK_NR 8

/* C[M x N] += alpha * A[M x K] * B[K x N], all row-major with leading dimensions. */
static inline void mqk_gemm_nn(int32_t M, int32_t N, int32_t K, float alpha, const float *A, int32_t lda,
                        const float *B, int32_t ldb, float *C, int32_t ldc)
{
    int32_t i, j, k, r, q;
    int32_t n_full = N - N % MQK_NR, m_full = M - M % MQK_MR;
    for (j = 0; j < n_full; j += MQK_NR) {
        for (i = 0; i < m_full; i += MQK_MR) {
            float acc[MQK_MR][MQK_NR];
            const float *a0 = A + (size_t)i * (size_t)lda;
            const float *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
            for (r = 0; r < MQK_MR; r++)
                for (q = 0; q < MQK_NR; q++) acc[r][q] = 0.0f;
            for (k = 0; k < K; k++) {
                const float *b = B + (size_t)k * (size_t)ldb + j;
                float v0 = a0[k], v1 = a1[k], v2 = a2[k], v3 = a3[k];
                for (q = 0; q < MQK_NR; q++) {
                    float bv = b[q];
                    acc[0][q] += v0 * bv;
                    acc[1][q] += v1 * bv;
                    acc[2][q] += v2 * bv;
                    acc[3][q] += v3 * bv;
                }
            }
            for (r = 0; r < MQK_MR; r++) {
                float *c = C + (size_t)(i + r) * (size_t)ldc + j;
                for (q = 0; q < MQK_NR; q++) c[q] += alpha * acc[r][q];
            }
        }
        for (; i < M; i++) { /* leftover rows */
            float acc[MQK_NR];
            const float *a = A + (size_t)i * (size_t)lda;
            float *c = C + (size_t)i * (size_t)ldc + j;
            for (q = 0; q < MQK_NR; q++) acc[q] = 0.0f;
            for (k = 0; k < K; k++) {
                const float *b = B + (size_t)k * (size_t)ldb + j;
                float v = a[k];
                for (q = 0; q < MQK_NR; q++) acc[q] += v * b[q];
            }
            for (q = 0; q < MQK_NR; q++) c[q] += alpha * acc[q];
        }
    }
    if (n_full < N) /* leftover columns: row-times-matrix with a contiguous inner loop */
        for (i = 0; i < M; i++) {
            const float *a = A + (size_t)i * (size_t)lda;
            float *c = C + (size_t)i * (size_t)ldc;
            for (k = 0; k < K; k++) {
                const float *b = B + (size_t)k * (size_t)ldb;
                float v = alpha * a[k];
                for (j = n_full; j < N; j++) c[j] += v * b[j];
            }
        }
}

/* C[M x N] += alpha * A[M x K] * B^T, B stored N x K (rows of A and B are both contiguous). */
static inline void mqk_gemm_nt(int32_t M, int32_t N, int32_t K, float alpha, const float *A, int32_t lda,
                        const float *B, int32_t ldb, float *C, int32_t ldc)
{
    int32_t i, j, k;
    for (i = 0; i + 4 <= M; i += 4) {
        const float *a0 = A + (size_t)i * (size_t)lda;
        const float *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (j = 0; j < N; j++) {
            const float *b = B + (size_t)j * (size_t)ldb;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
            for (k = 0; k < K; k++) {
                float bv = b[k];
                s0 += a0[k] * bv;
                s1 += a1[k] * bv;
                s2 += a2[k] * bv;
                s3 += a3[k] * bv;
            }
            C[(size_t)i * (size_t)ldc + j] += alpha * s0;
            C[(size_t)(i + 1) * (size_t)ldc + j] += alpha * s1;
            C[(size_t)(i + 2) * (size_t)ldc + j] += alpha * s2;
            C[(size_t)(i + 3) * (size_t)ldc + j] += alpha * s3;
        }
    }
    for (; i < M; i++) {
        const float *a = A + (size_t)i * (size_t)lda;
        for (j = 0; j < N; j++) {
            const float *b = B + (size_t)j * (size_t)ldb;
            float s = 0.0f;
            for (k = 0; k < K; k++) s += a[k] * b[k];
            C[(size_t)i * (size_t)ldc + j] += alpha * s;
        }
    }
}

#endif
