/* gemm.h: portable row-major matrix products (float32 GEMM, int32 GEMM for the integer ops).
 * Plain C99 on pointers: shared by the host executor, the emitted C and the target runtime. */
#ifndef MQK_GEMM_H
#define MQK_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* C[M x N] = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is M x K (A stored K x M with
 * lda >= M when trans_a), op(B) is K x N (B stored N x K with ldb >= K when trans_b).
 * beta == 0 overwrites C without reading it (so C may hold garbage, even NaN). */
void mqk_sgemm(int trans_a, int trans_b, int32_t M, int32_t N, int32_t K, float alpha, const float *A,
               int32_t lda, const float *B, int32_t ldb, float beta, float *C, int32_t ldc);

/* Integer product for MatMulInteger / ConvInteger: C[M x N] = A[M x K] * B[K x N] (row-major,
 * no transposes), int32 accumulation (wraps as two's complement would; inputs are 8-bit values). */
void mqk_gemm_i32(int32_t M, int32_t N, int32_t K, const int32_t *A, const int32_t *B, int32_t *C);

#endif
