/* gemm_check.h: the load-time check of the numpy-matmul geometry shared by matmul_f32 (gemm.c) and
 * matmul_integer (gemm_int.c): operand shapes, the batch block of parameters, every offset in bounds. */
#ifndef MQK_GEMM_CHECK_H
#define MQK_GEMM_CHECK_H

#include "runtime/kernels/nn_check.h"

/* A = in[0], B = in[1] (dtype da / db; 0: int8 or uint8) of rank >= 1, Y = out[0] (dtype dy); M, K
 * from A ([K] is 1 x K), K and N from B ([K] is K x 1), the inner dims equal. p[0] brank in
 * 0..MQR_MAX_RANK-2, n_p == 2 + 3*brank, batch dims and strides >= 0, at most INT32_MAX batches,
 * numel(Y) == batches*M*N, and for a non-empty batch the largest batch offset of A,
 * sum((dim-1)*stride), plus one matrix fits in A (likewise B). p[1] (0/1) selects the flat product
 * (flat_ok: allowed), which reads batches*M rows of A and one matrix of B. */
static inline int mqk_mm_check(const mqr_call *c, int32_t da, int32_t db, int32_t dy, int flat_ok)
{
    const mqr_tensor *a = &c->in[0], *b = &c->in[1];
    int64_t na, nb, ny, M, K, K2, N, batches = 1, amax = 0, bmax = 0, mk, kn;
    int32_t brank, d;
    if (c->n_p < 2 || !mqk_nc_bool(c->p[1]) || (c->p[1] && !flat_ok)) return 0;
    if ((!da && a->dtype != MQR_I8 && a->dtype != MQR_U8) || (!db && b->dtype != MQR_I8 && b->dtype != MQR_U8))
        return 0;
    na = mqk_nc_tensor(a, da, 1, MQR_MAX_RANK);
    nb = mqk_nc_tensor(b, db, 1, MQR_MAX_RANK);
    ny = mqk_nc_tensor(&c->out[0], dy, 0, MQR_MAX_RANK);
    brank = c->p[0];
    if (na < 0 || nb < 0 || ny < 0 || brank < 0 || brank > MQR_MAX_RANK - 2 || c->n_p != 2 + 3 * brank) return 0;
    M = a->rank == 1 ? 1 : a->dims[a->rank - 2];
    K = a->dims[a->rank - 1];
    K2 = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    if (K != K2) return 0;
    for (d = 0; d < brank; d++) {
        int64_t bd = c->p[2 + d], as = c->p[2 + brank + d], bs = c->p[2 + 2 * brank + d];
        if (bd < 0 || as < 0 || bs < 0) return 0;
        batches = mqk_nc_mul(batches, bd);
        if (bd > 0) {
            amax = mqk_nc_add(amax, mqk_nc_mul(bd - 1, as));
            bmax = mqk_nc_add(bmax, mqk_nc_mul(bd - 1, bs));
        }
    }
    if (batches > INT32_MAX) return 0;
    mk = M * K; /* each < 2^31: no overflow */
    kn = K * N;
    if (ny != mqk_nc_mul(batches, M * N)) return 0;
    if (batches == 0) return 1;
    if (c->p[1]) return mqk_nc_mul(batches, M) <= INT32_MAX && mqk_nc_mul(mqk_nc_mul(batches, M), K) <= na && kn <= nb;
    return (mk == 0 || mqk_nc_mul(amax + 1, mk) <= na) && (kn == 0 || mqk_nc_mul(bmax + 1, kn) <= nb);
}

#endif
