/* nn_gemm.c: Gemm, MatMul (numpy batch broadcast, 1-D operands) and MatMulInteger, lowered to
 * runtime/kernels/gemm.c. On the host, large products go to OpenBLAS cblas_sgemm (unless MAQD_NO_BLAS). */
#include "ops/grad.h"
#include "ops/nn_internal.h"
#include "runtime/kernels/gemm.h"

#include <cblas.h>
#include <string.h>

static int blas_worth(size_t M, size_t N, size_t K)
{
    return nn_use_blas() && (double)M * (double)N * (double)K >= NN_BLAS_MIN_MACS;
}

/* ---- Gemm ----------------------------------------------------------------------------------------- */

static mq_status gemm_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    const mq_tensor *A = in[0], *B = in[1], *C = nn_opt(n, in, 2);
    MQ_TRY(mq_require_dtype(n, A, mq_types_float, err));
    if (B->dtype != A->dtype || (C && C->dtype != A->dtype))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "A, B and C must have the same dtype");
    if (n->opset < 11 && !C) return mq_node_fail(err, n, MQ_ERR_INVALID, "input C is required before opset 11");
    if (nn_unknown(A) || nn_unknown(B)) {
        mq_set_out(out[0], A->dtype, -1, NULL);
        return MQ_OK;
    }
    if (A->rank != 2 || B->rank != 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "A and B must be matrices");
    int ta = mq_attr_int(n, "transA", 0) != 0, tb = mq_attr_int(n, "transB", 0) != 0;
    int64_t M = A->dims[ta], K = A->dims[!ta], K2 = B->dims[tb], N = B->dims[!tb];
    if (K != K2)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "inner dimensions differ: %lld vs %lld", (long long)K, (long long)K2);
    int64_t mnk[3] = {M, N, K};
    MQ_TRY(nn_check_i32(n, mnk, 3, err));
    if (C && C->rank >= 0) {
        if (C->rank > 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "C must have rank at most 2");
        int64_t want[2] = {M, N};
        for (int d = 0; d < C->rank; d++) {
            int64_t cd = C->dims[d], wd = want[2 - C->rank + d];
            if (cd != 1 && cd != wd)
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "C does not broadcast to %lldx%lld", (long long)M,
                                    (long long)N);
        }
    }
    int64_t dims[2] = {M, N};
    mq_set_out(out[0], A->dtype, 2, dims);
    return MQ_OK;
}

static mq_status gemm_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    kc->kernel = "gemm_f32";
    kc->p[0] = mq_attr_int(n, "transA", 0) != 0;
    kc->p[1] = mq_attr_int(n, "transB", 0) != 0;
    kc->p[2] = nn_pf(mq_attr_float(n, "alpha", 1.0f));
    kc->p[3] = nn_pf(mq_attr_float(n, "beta", 1.0f));
    kc->n_p = 4;
    return MQ_OK;
}

/* Host path: large products to OpenBLAS, the rest through the runtime kernel. */
static mq_status gemm_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *A = in[0], *B = in[1], *C = nn_opt(n, in, 2);
    int ta = mq_attr_int(n, "transA", 0) != 0, tb = mq_attr_int(n, "transB", 0) != 0;
    float alpha = mq_attr_float(n, "alpha", 1.0f), beta = mq_attr_float(n, "beta", 1.0f);
    size_t M = (size_t)A->dims[ta], K = (size_t)A->dims[!ta], N = (size_t)B->dims[!tb];
    if (!blas_worth(M, N, K)) return mq_forward_lowered(n, in, out, err);
    float *Y = out[0]->data;
    float b = 0.0f;
    if (C && beta != 0.0f) {
        int64_t st[2];
        int64_t od[2] = {(int64_t)M, (int64_t)N};
        mq_broadcast_strides(C, 2, od, st);
        const float *c = C->data;
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) Y[i * N + j] = beta * c[(int64_t)i * st[0] + (int64_t)j * st[1]];
        b = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
                alpha, A->data, (int)A->dims[1], B->data, (int)B->dims[1], b, Y, (int)N);
    return MQ_OK;
}

static mq_status gemm_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, gemm_forward32);
}

/* Backward: dA and dB by sgemm with the transposes swapped, dC the broadcast-reduced beta dY. */
static mq_status gemm_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    int ta = (int)mq_attr_int(n, "transA", 0), tb = (int)mq_attr_int(n, "transB", 0);
    float alpha = mq_attr_float(n, "alpha", 1.0f), beta = mq_attr_float(n, "beta", 1.0f);
    const mq_tensor *a = in[0], *b = in[1], *y = out[0];
    if (a->rank != 2 || b->rank != 2 || y->rank != 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "Gemm needs 2-D A and B");
    int M = (int)y->dims[0], N = (int)y->dims[1], K = (int)(ta ? a->dims[0] : a->dims[1]);
    int lda = (int)a->dims[1], ldb = (int)b->dims[1];
    const float *A = a->data, *B = b->data, *G = dout[0];
    if (din[0]) {
        if (M * K == 0) {
        } else if (!ta) /* dA [M,K] = alpha G op(B)^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasNoTrans : CblasTrans, M, K, N, alpha, G, N, B, ldb, 0.0f,
                        din[0], K);
        else /* dA [K,M] = alpha op(B) G^T */
            cblas_sgemm(CblasRowMajor, tb ? CblasTrans : CblasNoTrans, CblasTrans, K, M, N, alpha, B, ldb, G, N, 0.0f,
                        din[0], M);
    }
    if (din[1]) {
        if (K * N == 0) {
        } else if (!tb) /* dB [K,N] = alpha op(A)^T G */
            cblas_sgemm(CblasRowMajor, ta ? CblasNoTrans : CblasTrans, CblasNoTrans, K, N, M, alpha, A, lda, G, N, 0.0f,
                        din[1], N);
        else /* dB [N,K] = alpha G^T op(A) */
            cblas_sgemm(CblasRowMajor, CblasTrans, ta ? CblasTrans : CblasNoTrans, N, K, M, alpha, G, N, A, lda, 0.0f,
                        din[1], K);
    }
    if (n->n_in > 2 && in[2] && din[2]) mq_grad_unbroadcast(G, 2, y->dims, in[2], beta, din[2]);
    return MQ_OK;
}

const mq_op_def nn_op_gemm = {.op_type = "Gemm", .domain = "", .since = 6, .until = 0, .min_in = 2, .max_in = 3,
                              .min_out = 1, .max_out = 1, .infer = gemm_infer, .forward = gemm_forward,
                              .lower = gemm_lower, .backward = gemm_backward};

/* ---- MatMul --------------------------------------------------------------------------------------- */

/* Shapes of a numpy matmul: batch dims broadcast, M x K times K x N. */
typedef struct mm_geom {
    int brank;
    int64_t bdims[MQ_MAX_RANK], astr[MQ_MAX_RANK], bstr[MQ_MAX_RANK]; /* batch strides in matrices */
    int64_t M, N, K;
    int64_t out_dims[MQ_MAX_RANK];
    int out_rank;
    size_t batches;
} mm_geom;

static mq_status mm_geometry(const mq_node *n, const mq_tensor *A, const mq_tensor *B, mm_geom *g, mq_err *err)
{
    if (A->rank < 1 || B->rank < 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "MatMul operands must have rank >= 1");
    g->M = A->rank == 1 ? 1 : A->dims[A->rank - 2];
    g->K = A->dims[A->rank - 1];
    int64_t K2 = B->rank == 1 ? B->dims[0] : B->dims[B->rank - 2];
    g->N = B->rank == 1 ? 1 : B->dims[B->rank - 1];
    if (g->K != K2)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "inner dimensions differ: %lld vs %lld", (long long)g->K,
                            (long long)K2);
    int64_t mnk[3] = {g->M, g->N, g->K};
    MQ_TRY(nn_check_i32(n, mnk, 3, err));
    /* batch parts as tensors, to reuse the broadcast helpers */
    mq_tensor ta, tb, to;
    memset(&ta, 0, sizeof ta);
    memset(&tb, 0, sizeof tb);
    memset(&to, 0, sizeof to);
    ta.rank = A->rank > 2 ? A->rank - 2 : 0;
    tb.rank = B->rank > 2 ? B->rank - 2 : 0;
    memcpy(ta.dims, A->dims, sizeof(int64_t) * (size_t)ta.rank);
    memcpy(tb.dims, B->dims, sizeof(int64_t) * (size_t)tb.rank);
    const mq_tensor *ts[2] = {&ta, &tb};
    MQ_TRY(mq_broadcast_shape(n, ts, 2, &to, err));
    g->brank = to.rank;
    memcpy(g->bdims, to.dims, sizeof(int64_t) * (size_t)to.rank);
    mq_broadcast_strides(&ta, g->brank, g->bdims, g->astr);
    mq_broadcast_strides(&tb, g->brank, g->bdims, g->bstr);
    g->batches = nn_prod(g->bdims, 0, g->brank);
    g->out_rank = 0;
    for (int d = 0; d < g->brank; d++) g->out_dims[g->out_rank++] = g->bdims[d];
    if (A->rank > 1) g->out_dims[g->out_rank++] = g->M;
    if (B->rank > 1) g->out_dims[g->out_rank++] = g->N;
    return MQ_OK;
}

/* Offsets (in matrices) of A and B for batch index b. */
static void mm_offsets(const mm_geom *g, size_t b, size_t *ao, size_t *bo)
{
    int64_t a = 0, o = 0;
    for (int d = g->brank - 1; d >= 0; d--) {
        int64_t i = (int64_t)(b % (size_t)g->bdims[d]);
        b /= (size_t)g->bdims[d];
        a += i * g->astr[d];
        o += i * g->bstr[d];
    }
    *ao = (size_t)a;
    *bo = (size_t)o;
}

static mq_status matmul_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (in[1]->dtype != in[0]->dtype) return mq_node_fail(err, n, MQ_ERR_SHAPE, "A and B must have the same dtype");
    if (nn_unknown(in[0]) || nn_unknown(in[1])) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    mm_geom g;
    MQ_TRY(mm_geometry(n, in[0], in[1], &g, err));
    mq_set_out(out[0], in[0]->dtype, g.out_rank, g.out_dims);
    return MQ_OK;
}

/* MatMul with B shared by every batch and A not broadcast: one (batches*M) x K product. */
static int mm_flat(const mm_geom *g)
{
    for (int d = 0; d < g->brank; d++)
        if (g->bstr[d] != 0 || (g->astr[d] == 0 && g->bdims[d] != 1)) return 0;
    return g->batches * (size_t)g->M <= INT32_MAX;
}

static mq_status matmul_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    mm_geom g;
    MQ_TRY(mm_geometry(n, in[0], in[1], &g, err));
    if (g.brank > MQR_MAX_RANK - 2)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "%d batch dimensions (at most %d)", g.brank, MQR_MAX_RANK - 2);
    MQ_TRY(nn_check_i32(n, g.bdims, g.brank, err));
    MQ_TRY(nn_check_i32(n, g.astr, g.brank, err));
    MQ_TRY(nn_check_i32(n, g.bstr, g.brank, err));
    kc->kernel = "matmul_f32";
    kc->p[0] = g.brank;
    kc->p[1] = mm_flat(&g);
    for (int d = 0; d < g.brank; d++) {
        kc->p[2 + d] = (int32_t)g.bdims[d];
        kc->p[2 + g.brank + d] = (int32_t)g.astr[d];
        kc->p[2 + 2 * g.brank + d] = (int32_t)g.bstr[d];
    }
    kc->n_p = 2 + 3 * g.brank;
    return MQ_OK;
}

/* Host path: large products to OpenBLAS, the rest through the runtime kernel. */
static mq_status matmul_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    mm_geom g;
    MQ_TRY(mm_geometry(n, in[0], in[1], &g, err));
    size_t M = (size_t)g.M, N = (size_t)g.N, K = (size_t)g.K;
    if (!blas_worth(M, N, K)) return mq_forward_lowered(n, in, out, err);
    const float *A = in[0]->data, *B = in[1]->data;
    float *Y = out[0]->data;
    if (mm_flat(&g)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(g.batches * M), (int)N, (int)K, 1.0f, A, (int)K,
                    B, (int)N, 0.0f, Y, (int)N);
        return MQ_OK;
    }
    for (size_t b = 0; b < g.batches; b++) {
        size_t ao, bo;
        mm_offsets(&g, b, &ao, &bo);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, A + ao * M * K, (int)K,
                    B + bo * K * N, (int)N, 0.0f, Y + b * M * N, (int)N);
    }
    return MQ_OK;
}

static mq_status matmul_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, matmul_forward32);
}

/* Backward: per batch dA += dY B^T, dB += A^T dY (sgemm), so broadcast batches are summed. */
static mq_status matmul_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                 const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    const mq_tensor *a = in[0], *b = in[1];
    (void)out;
    mm_geom g;
    MQ_TRY(mm_geometry(n, a, b, &g, err));
    int M = (int)g.M, N = (int)g.N, K = (int)g.K;
    if (din[0]) memset(din[0], 0, sizeof(float) * (size_t)mq_numel(a));
    if (din[1]) memset(din[1], 0, sizeof(float) * (size_t)mq_numel(b));
    if ((int64_t)M * N * K == 0) return MQ_OK;
    const float *A = a->data, *B = b->data, *G = dout[0];
    for (size_t i = 0; i < g.batches; i++) {
        size_t oa, ob;
        mm_offsets(&g, i, &oa, &ob);
        const float *Ai = A + oa * (size_t)M * (size_t)K, *Bi = B + ob * (size_t)K * (size_t)N;
        const float *Gi = G + i * (size_t)M * (size_t)N;
        if (din[0]) /* dA_i [M,K] += G_i B_i^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, Gi, N, Bi, N, 1.0f,
                        din[0] + oa * (size_t)M * (size_t)K, K);
        if (din[1]) /* dB_i [K,N] += A_i^T G_i */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f, Ai, K, Gi, N, 1.0f,
                        din[1] + ob * (size_t)K * (size_t)N, N);
    }
    return MQ_OK;
}

const mq_op_def nn_op_matmul = {.op_type = "MatMul", .domain = "", .since = 1, .until = 0, .min_in = 2, .max_in = 2,
                                .min_out = 1, .max_out = 1, .infer = matmul_infer, .forward = matmul_forward,
                                .lower = matmul_lower, .backward = matmul_backward};

/* ---- MatMulInteger -------------------------------------------------------------------------------- */

static const mq_dtype types_8bit[] = {MQ_I8, MQ_U8, MQ_UNDEFINED};

static mq_status mmint_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_8bit, err));
    MQ_TRY(mq_require_dtype(n, in[1], types_8bit, err));
    const mq_tensor *az = nn_opt(n, in, 2), *bz = nn_opt(n, in, 3);
    if ((az && az->dtype != in[0]->dtype) || (bz && bz->dtype != in[1]->dtype))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "zero points must have the dtype of their operand");
    if (nn_unknown(in[0]) || nn_unknown(in[1])) {
        mq_set_out(out[0], MQ_I32, -1, NULL);
        return MQ_OK;
    }
    mm_geom g;
    MQ_TRY(mm_geometry(n, in[0], in[1], &g, err));
    if (az && az->rank >= 0 && mq_numel(az) != 1 && !(az->rank == 1 && az->dims[0] == g.M))
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "a_zero_point must be a scalar or have M values");
    if (bz && bz->rank >= 0 && mq_numel(bz) != 1 && !(bz->rank == 1 && bz->dims[0] == g.N))
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "b_zero_point must be a scalar or have N values");
    mq_set_out(out[0], MQ_I32, g.out_rank, g.out_dims);
    return MQ_OK;
}

static mq_status mmint_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    (void)out;
    mm_geom g;
    MQ_TRY(mm_geometry(n, in[0], in[1], &g, err));
    if (g.brank > MQR_MAX_RANK - 2)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "%d batch dimensions (at most %d)", g.brank, MQR_MAX_RANK - 2);
    MQ_TRY(nn_check_i32(n, g.bdims, g.brank, err));
    MQ_TRY(nn_check_i32(n, g.astr, g.brank, err));
    MQ_TRY(nn_check_i32(n, g.bstr, g.brank, err));
    kc->kernel = "matmul_integer";
    kc->p[0] = g.brank;
    kc->p[1] = 0;
    for (int d = 0; d < g.brank; d++) {
        kc->p[2 + d] = (int32_t)g.bdims[d];
        kc->p[2 + g.brank + d] = (int32_t)g.astr[d];
        kc->p[2 + 2 * g.brank + d] = (int32_t)g.bstr[d];
    }
    kc->n_p = 2 + 3 * g.brank;
    size_t na = (size_t)mq_numel(in[0]), nb = (size_t)mq_numel(in[1]);
    if (na + nb > SIZE_MAX / sizeof(int32_t)) return mq_node_fail(err, n, MQ_ERR_LIMIT, "tensors too large");
    kc->scratch_bytes = (na + nb) * sizeof(int32_t);
    return MQ_OK;
}

const mq_op_def nn_op_matmul_integer = {.op_type = "MatMulInteger", .domain = "", .since = 10, .until = 0,
                                        .min_in = 2, .max_in = 4, .min_out = 1, .max_out = 1, .infer = mmint_infer,
                                        .forward = mq_forward_lowered, .lower = mmint_lower};
