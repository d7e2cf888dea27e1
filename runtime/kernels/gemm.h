/* gemm.h: portable row-major matrix products: the Gemm and MatMul float32 kernels, the plain sgemm
 * they share (the integer product lives in gemm_int.h). C99 on pointers, no allocation. */
#ifndef MQK_GEMM_H
#define MQK_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"

/* C[M x N] = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is M x K (A stored K x M with
 * lda >= M when trans_a), op(B) is K x N (B stored N x K with ldb >= K when trans_b).
 * beta == 0 overwrites C without reading it (so C may hold garbage, even NaN). */
void mqk_sgemm(int trans_a, int trans_b, int32_t M, int32_t N, int32_t K, float alpha, const float *A,
               int32_t lda, const float *B, int32_t ldb, float beta, float *C, int32_t ldc);

/* Integer product for MatMulInteger: C[M x N] = A[M x K] * B[K x N] (row-major, no transposes), int32
 * accumulation (wraps as two's complement would; inputs are 8-bit values). Defined in gemm_int.c with
 * the matmul_integer kernel (runtime/kernels/gemm_int.h), so float models do not carry it. */
void mqk_gemm_i32(int32_t M, int32_t N, int32_t K, const int32_t *A, const int32_t *B, int32_t *C);

/* Kernel gemm_f32 (ONNX Gemm): in[0] A [M,K] (or [K,M] if transA), in[1] B [K,N] (or [N,K] if
 * transB), in[2] C (optional, rank 0..2, broadcasts to [M,N]); out[0] Y [M,N] = alpha*A*B + beta*C.
 * p[0] transA (0/1), p[1] transB (0/1), p[2] alpha (f32 bits), p[3] beta (f32 bits). */
void mqk_k_gemm_f32(const mqr_call *c);

/* Kernel matmul_f32 (numpy matmul): in[0] A [..., M, K] or [K], in[1] B [..., K, N] or [K]; out[0] Y.
 * The batch dims broadcast: p[0] brank (rank of the broadcast batch shape, 0..MQR_MAX_RANK-2),
 * p[1] 1 if B is shared by every batch and A is not broadcast (then one (batches*M) x K product),
 * p[2 .. 2+brank) batch dims, then brank strides of A in matrices (0 where broadcast), then brank
 * strides of B. */
void mqk_k_matmul_f32(const mqr_call *c);

#endif
