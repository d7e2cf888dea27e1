/* gemm_int.h: the MatMulInteger kernel and its int32 product, kept apart from the float products of
 * gemm.h so a float model's emitted C does not carry them. */
#ifndef MQK_GEMM_INT_H
#define MQK_GEMM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"

/* Integer product: C[M x N] = A[M x K] * B[K x N] (row-major, no transposes), int32 accumulation
 * (wraps as two's complement would; inputs are 8-bit values). */
void mqk_gemm_i32(int32_t M, int32_t N, int32_t K, const int32_t *A, const int32_t *B, int32_t *C);

/* Kernel matmul_integer (MatMulInteger): in[0] A, in[1] B (int8/uint8, numpy matmul shapes), in[2]
 * a_zero_point (optional, scalar or [M]), in[3] b_zero_point (optional, scalar or [N]); out[0] Y int32.
 * p as matmul_f32 (runtime/kernels/gemm.h) with p[1] 0. Scratch: 4 bytes per element of A and of B. */
void mqk_k_matmul_integer(const mqr_call *c);

#endif
