/* gemm_int.c: the MatMulInteger kernel (see gemm_int.h): zero points subtracted into int32 scratch,
 * then one int32 product per broadcast batch. */
#include "runtime/kernels/gemm_int.h"
#include "runtime/kernels/gemm_check.h"

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

/* an optional zero point: omitted, or int8/uint8 with 1 or n values */
static int zero_point_ok(const mqr_call *c, int32_t i, int64_t n)
{
    const mqr_tensor *t = &c->in[i];
    int64_t k;
    if (mqk_nc_absent(c->in, c->n_in, i)) return 1;
    if (t->dtype != MQR_I8 && t->dtype != MQR_U8) return 0;
    k = mqk_nc_tensor(t, 0, 0, MQR_MAX_RANK);
    return k == 1 || (k > 1 && k == n);
}

/* matmul_integer: int8/uint8 operands, int32 output, the batch geometry of mqk_mm_check (p[1] 0),
 * a_zero_point 1 or M values (read at (i / K) % M), b_zero_point 1 or N values (read at i % N), and 4
 * bytes of scratch per element of A and B. */
int mqk_c_matmul_integer(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *a, *b;
    int64_t na, nb;
    if (c->n_p < 1 || !mqk_nc_counts(c, 2, 4, 1, 1, c->n_p) || !mqk_mm_check(c, 0, 0, MQR_I32, 0))
        return MQR_CHECK_BAD;
    a = &c->in[0];
    b = &c->in[1];
    if (!zero_point_ok(c, 2, a->rank == 1 ? 1 : a->dims[a->rank - 2]) ||
        !zero_point_ok(c, 3, b->rank == 1 ? 1 : b->dims[b->rank - 1]))
        return MQR_CHECK_BAD;
    na = mqk_nc_tensor(a, 0, 1, MQR_MAX_RANK);
    nb = mqk_nc_tensor(b, 0, 1, MQR_MAX_RANK);
    return mqk_nc_mul(na + nb, 4) <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}
