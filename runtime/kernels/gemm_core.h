/* gemm_core.h: the blocked float32 matrix-product core shared (as static functions) by the GEMM,
 * MatMul and convolution kernels, so each kernel source stays self-contained for the emitter. */
#ifndef MQK_GEMM_CORE_H
#define MQK_GEMM_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Register tile: MQK_MR rows of C by MQK_NR columns, accumulated over the whole K in locals. Every
 * element of C gets the same arithmetic on every path (acc = 0; acc += a[k] * b[k] for k = 0..K-1 in
 * order; c += alpha * acc), so the blocked path, the edge tiles and the small (-Os) path agree bit for
 * bit. */
#define MQK_MR 4
#define MQK_NR 8

/* Keeps gcc from fully unrolling the MQK_NR loop before its vectorizer sees it: unrolled early (-O3),
 * the accumulators become 32 scalars and the k loop is vectorized across k instead (shuffles, spills,
 * 2-4x slower); left as a loop, it becomes two 4-wide vector operations per row at -O2 and -O3. On the
 * k loop it stops -O3 from unrolling k by 2, which ran out of registers and spilled the accumulators
 * (ResNet-18 in the -O3 runtime: 250 -> 170 ms). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define MQK_VEC_LOOP _Pragma("GCC unroll 1")
#else
#define MQK_VEC_LOOP
#endif

/* One row of C, columns [0, w) with w <= MQK_NR: the edge and small-size path. */
static inline void mqk_gemm_1xw(int32_t w, int32_t K, float alpha, const float *a, const float *B, int32_t ldb,
                                float *c)
{
    float acc[MQK_NR];
    int32_t k, q;
    for (q = 0; q < w; q++) acc[q] = 0.0f;
    for (k = 0; k < K; k++) {
        const float *b = B + (size_t)k * (size_t)ldb;
        float v = a[k];
        for (q = 0; q < w; q++) acc[q] += v * b[q];
    }
    for (q = 0; q < w; q++) c[q] += alpha * acc[q];
}

#if !defined(__OPTIMIZE_SIZE__)
/* The MQK_MR x MQK_NR tile of C at c (rows of A from a, columns of B from B); only rows >= r0 and
 * columns >= q0 of it are added to C (the edge tiles overlap the previous tile instead of running a
 * scalar loop). */
static inline void mqk_gemm_4x8(int32_t K, float alpha, const float *a0, int32_t lda, const float *B, int32_t ldb,
                                float *c, int32_t ldc, int32_t r0, int32_t q0)
{
    float acc[MQK_MR][MQK_NR];
    const float *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
    int32_t k, r, q;
    for (r = 0; r < MQK_MR; r++)
        for (q = 0; q < MQK_NR; q++) acc[r][q] = 0.0f;
    MQK_VEC_LOOP
    for (k = 0; k < K; k++) {
        const float *b = B + (size_t)k * (size_t)ldb;
        float v0 = a0[k], v1 = a1[k], v2 = a2[k], v3 = a3[k];
        MQK_VEC_LOOP
        for (q = 0; q < MQK_NR; q++) {
            float bv = b[q];
            acc[0][q] += v0 * bv;
            acc[1][q] += v1 * bv;
            acc[2][q] += v2 * bv;
            acc[3][q] += v3 * bv;
        }
    }
    for (r = r0; r < MQK_MR; r++) {
        float *cr = c + (size_t)r * (size_t)ldc;
        for (q = q0; q < MQK_NR; q++) cr[q] += alpha * acc[r][q];
    }
}
#endif

/* C[M x N] += alpha * A[M x K] * B[K x N], all row-major with leading dimensions. */
static inline void mqk_gemm_nn(int32_t M, int32_t N, int32_t K, float alpha, const float *A, int32_t lda,
                        const float *B, int32_t ldb, float *C, int32_t ldc)
{
    int32_t i, j;
#if !defined(__OPTIMIZE_SIZE__)
    if (M >= MQK_MR && N >= MQK_NR) {
        for (i = 0; i < M; i += MQK_MR) {
            int32_t ii = i + MQK_MR <= M ? i : M - MQK_MR; /* last block: overlap, add the new rows */
            for (j = 0; j < N; j += MQK_NR) {
                int32_t jj = j + MQK_NR <= N ? j : N - MQK_NR; /* likewise the last panel's columns */
                mqk_gemm_4x8(K, alpha, A + (size_t)ii * (size_t)lda, lda, B + jj, ldb,
                             C + (size_t)ii * (size_t)ldc + jj, ldc, i - ii, j - jj);
            }
        }
        return;
    }
#endif
    for (i = 0; i < M; i++)
        for (j = 0; j < N; j += MQK_NR)
            mqk_gemm_1xw(N - j < MQK_NR ? N - j : MQK_NR, K, alpha, A + (size_t)i * (size_t)lda, B + j, ldb,
                         C + (size_t)i * (size_t)ldc + j);
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
