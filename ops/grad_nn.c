/* grad_nn.c: backward rules of Conv (im2col + OpenBLAS sgemm, col2im), Gemm, MatMul (sgemm, broadcast
 * batches reduced) and Max/Average/GlobalAverage pooling. Geometry comes from each op's lowering. */
#include "ops/grad.h"
#include "ops/util.h"
#include "runtime/kernels/conv.h"

#include <cblas.h>
#include <string.h>

static mq_status need_f32(const mq_node *n, const mq_tensor *t, mq_err *err)
{
    if (t && t->dtype != MQ_F32) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "backward supports float32 only");
    return MQ_OK;
}

static mq_status lower_node(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    if (!n->def || !n->def->lower) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no lowering to read the geometry from");
    memset(kc, 0, sizeof *kc);
    return n->def->lower(n, in, out, kc, err);
}

/* Shapes padded to 3 spatial dims (leading 1s), as the runtime kernels do. */
typedef struct geo3 {
    int64_t in[3], out[3], k[3], s[3], pb[3], pe[3], d[3];
} geo3;

static void geo_fill(geo3 *g, int nd, const int64_t *in, const int64_t *out, const int64_t *k, const int32_t *s,
                     const int32_t *pb, const int32_t *pe, const int32_t *d)
{
    for (int i = 0; i < 3; i++) {
        g->in[i] = g->out[i] = g->k[i] = g->s[i] = g->d[i] = 1;
        g->pb[i] = g->pe[i] = 0;
    }
    for (int i = 0; i < nd; i++) {
        int j = 3 - nd + i;
        g->in[j] = in[i];
        g->out[j] = out[i];
        g->k[j] = k[i];
        g->s[j] = s[i];
        g->pb[j] = pb[i];
        g->pe[j] = pe ? pe[i] : 0;
        g->d[j] = d[i];
    }
}

/* ---- Conv ------------------------------------------------------------------------------------------- */

/* The adjoint of mqk_im2col_f32 for all output rows: dx_img[c, i] += dcol[(c, kd, kh, kw), o] for every
 * tap reading input i from output position o. */
static void col2im_add(const geo3 *g, int64_t cg, const float *dcol, float *dx_img)
{
    int64_t in_sp = g->in[0] * g->in[1] * g->in[2], out_sp = g->out[0] * g->out[1] * g->out[2];
    for (int64_t c = 0; c < cg; c++) {
        float *xi = dx_img + c * in_sp;
        for (int64_t kd = 0; kd < g->k[0]; kd++)
            for (int64_t kh = 0; kh < g->k[1]; kh++)
                for (int64_t kw = 0; kw < g->k[2]; kw++, dcol += out_sp) {
                    const float *row = dcol;
                    for (int64_t od = 0; od < g->out[0]; od++) {
                        int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
                        if (id < 0 || id >= g->in[0]) {
                            row += g->out[1] * g->out[2];
                            continue;
                        }
                        for (int64_t oh = 0; oh < g->out[1]; oh++, row += g->out[2]) {
                            int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
                            if (ih < 0 || ih >= g->in[1]) continue;
                            float *xr = xi + (id * g->in[1] + ih) * g->in[2];
                            for (int64_t ow = 0; ow < g->out[2]; ow++) {
                                int64_t iw = ow * g->s[2] - g->pb[2] + kw * g->d[2];
                                if (iw >= 0 && iw < g->in[2]) xr[iw] += row[ow];
                            }
                        }
                    }
                }
    }
}

mq_status mq_grad_conv(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                       const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    mq_kcall kc;
    MQ_TRY(lower_node(n, in, out, &kc, err));
    const mq_tensor *x = in[0], *w = in[1], *y = out[0];
    int nd = kc.p[0], group = kc.p[1];
    if (nd < 1 || nd > 3 || x->rank != nd + 2 || group < 1)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "backward needs 1 to 3 spatial dims");
    int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0], cg = C / group, mg = M / group;
    mqk_conv_params p;
    memset(&p, 0, sizeof p);
    p.nd = nd;
    p.batch = (int32_t)N;
    p.in_ch = (int32_t)C;
    p.out_ch = (int32_t)M;
    p.group = group;
    for (int i = 0; i < nd; i++) {
        p.in_size[i] = (int32_t)x->dims[2 + i];
        p.out_size[i] = (int32_t)y->dims[2 + i];
        p.kernel[i] = (int32_t)w->dims[2 + i];
        p.stride[i] = kc.p[2 + i];
        p.pad_begin[i] = kc.p[5 + i];
        p.dilation[i] = kc.p[8 + i];
    }
    geo3 g;
    geo_fill(&g, nd, x->dims + 2, y->dims + 2, w->dims + 2, kc.p + 2, kc.p + 5, NULL, kc.p + 8);
    int64_t in_sp = g.in[0] * g.in[1] * g.in[2], out_sp = g.out[0] * g.out[1] * g.out[2];
    int64_t K = g.k[0] * g.k[1] * g.k[2], R = cg * K;
    const float *xs = x->data, *ws = w->data, *gy = dout[0];
    float *dx = din[0], *dw = din[1], *db = n->n_in > 2 ? din[2] : NULL;
    if (db) {
        for (int64_t m = 0; m < M; m++) {
            double s = 0;
            for (int64_t b = 0; b < N; b++)
                for (int64_t k = 0; k < out_sp; k++) s += gy[(b * M + m) * out_sp + k];
            db[m] = (float)s;
        }
    }
    if (!dx && !dw) return MQ_OK;
    size_t col_n = (size_t)(R * out_sp);
    float *col = dw ? mq_malloc(sizeof(float) * (col_n ? col_n : 1)) : NULL;
    float *dcol = dx ? mq_malloc(sizeof(float) * (col_n ? col_n : 1)) : NULL;
    if ((dw && !col) || (dx && !dcol)) {
        mq_free(col);
        mq_free(dcol);
        return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for the im2col buffer (%zu floats)", col_n);
    }
    if (dw) memset(dw, 0, sizeof(float) * (size_t)(M * R));
    if (dx) memset(dx, 0, sizeof(float) * (size_t)(N * C * in_sp));
    int32_t rows = mqk_conv_out_rows(&p);
    for (int64_t b = 0; b < N; b++)
        for (int64_t gi = 0; gi < group; gi++) {
            const float *gyg = gy + (b * M + gi * mg) * out_sp;
            if (dw) {
                mqk_im2col_f32(&p, xs + (b * C + gi * cg) * in_sp, 0, rows, col);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mg, (int)R, (int)out_sp, 1.0f, gyg,
                            (int)out_sp, col, (int)out_sp, 1.0f, dw + gi * mg * R, (int)R);
            }
            if (dx) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)R, (int)out_sp, (int)mg, 1.0f,
                            ws + gi * mg * R, (int)R, gyg, (int)out_sp, 0.0f, dcol, (int)out_sp);
                col2im_add(&g, cg, dcol, dx + (b * C + gi * cg) * in_sp);
            }
        }
    mq_free(col);
    mq_free(dcol);
    return MQ_OK;
}

/* ---- Gemm ------------------------------------------------------------------------------------------- */

mq_status mq_grad_gemm(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                       const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
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

/* ---- MatMul ----------------------------------------------------------------------------------------- */

mq_status mq_grad_matmul(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                         const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    const mq_tensor *a = in[0], *b = in[1];
    (void)out;
    if (a->rank < 1 || b->rank < 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "MatMul needs rank >= 1");
    int64_t M = a->rank == 1 ? 1 : a->dims[a->rank - 2], K = a->dims[a->rank - 1];
    int64_t N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    /* Batch shapes (all but the last two dims; none for 1-D), broadcast against each other. */
    mq_tensor ba, bb;
    memset(&ba, 0, sizeof ba);
    memset(&bb, 0, sizeof bb);
    ba.rank = a->rank > 2 ? a->rank - 2 : 0;
    bb.rank = b->rank > 2 ? b->rank - 2 : 0;
    memcpy(ba.dims, a->dims, sizeof(int64_t) * (size_t)ba.rank);
    memcpy(bb.dims, b->dims, sizeof(int64_t) * (size_t)bb.rank);
    int rank = ba.rank > bb.rank ? ba.rank : bb.rank;
    int64_t dims[MQ_MAX_RANK], sa[MQ_MAX_RANK], sb[MQ_MAX_RANK], idx[MQ_MAX_RANK] = {0}, batches = 1;
    for (int d = 0; d < rank; d++) {
        int64_t da = d - (rank - ba.rank) >= 0 ? ba.dims[d - (rank - ba.rank)] : 1;
        int64_t db = d - (rank - bb.rank) >= 0 ? bb.dims[d - (rank - bb.rank)] : 1;
        dims[d] = da > db ? da : db;
        batches *= dims[d];
    }
    mq_broadcast_strides(&ba, rank, dims, sa);
    mq_broadcast_strides(&bb, rank, dims, sb);
    if (din[0]) memset(din[0], 0, sizeof(float) * (size_t)mq_numel(a));
    if (din[1]) memset(din[1], 0, sizeof(float) * (size_t)mq_numel(b));
    if (M * N * K == 0) return MQ_OK;
    const float *A = a->data, *B = b->data, *G = dout[0];
    for (int64_t i = 0; i < batches; i++) {
        int64_t oa = 0, ob = 0;
        for (int d = 0; d < rank; d++) {
            oa += idx[d] * sa[d];
            ob += idx[d] * sb[d];
        }
        const float *Ai = A + oa * M * K, *Bi = B + ob * K * N, *Gi = G + i * M * N;
        if (din[0]) /* dA_i [M,K] += G_i B_i^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)K, (int)N, 1.0f, Gi, (int)N, Bi, (int)N,
                        1.0f, din[0] + oa * M * K, (int)K);
        if (din[1]) /* dB_i [K,N] += A_i^T G_i */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)N, (int)M, 1.0f, Ai, (int)K, Gi, (int)N,
                        1.0f, din[1] + ob * K * N, (int)N);
        mq_index_next(rank, dims, idx);
    }
    return MQ_OK;
}

/* ---- pooling ---------------------------------------------------------------------------------------- */

/* kind 0: max (the gradient goes to the first tap equal to the output), 1: average. */
static mq_status pool_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               const float *const *dout, float *const *din, int kind, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    if (!din[0]) return MQ_OK;
    mq_kcall kc;
    MQ_TRY(lower_node(n, in, out, &kc, err));
    const mq_tensor *x = in[0], *y = out[0];
    int nd = kc.p[1];
    if (nd < 1 || nd > 3 || x->rank != nd + 2) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "backward needs 1 to 3 spatial dims");
    int64_t ks[3];
    for (int i = 0; i < nd; i++) ks[i] = kc.p[2 + i];
    geo3 g;
    geo_fill(&g, nd, x->dims + 2, y->dims + 2, ks, kc.p + 5, kc.p + 8, kc.p + 11, kc.p + 14);
    int include_pad = kc.p[17];
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t in_sp = g.in[0] * g.in[1] * g.in[2], out_sp = g.out[0] * g.out[1] * g.out[2];
    const float *xs = x->data, *ys = y->data, *gy = dout[0];
    float *dx = din[0];
    memset(dx, 0, sizeof(float) * (size_t)(planes * in_sp));
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = xs + pl * in_sp;
        float *dxp = dx + pl * in_sp;
        for (int64_t od = 0; od < g.out[0]; od++)
            for (int64_t oh = 0; oh < g.out[1]; oh++)
                for (int64_t ow = 0; ow < g.out[2]; ow++) {
                    int64_t o = (od * g.out[1] + oh) * g.out[2] + ow;
                    float gv = gy[pl * out_sp + o], yv = ys[pl * out_sp + o];
                    int64_t b0 = od * g.s[0] - g.pb[0], b1 = oh * g.s[1] - g.pb[1], b2 = ow * g.s[2] - g.pb[2];
                    int64_t count = 0;
                    if (kind == 1) { /* the divisor, as the kernel computes it */
                        for (int64_t kd = 0; kd < g.k[0]; kd++)
                            for (int64_t kh = 0; kh < g.k[1]; kh++)
                                for (int64_t kw = 0; kw < g.k[2]; kw++) {
                                    int64_t i0 = b0 + kd * g.d[0], i1 = b1 + kh * g.d[1], i2 = b2 + kw * g.d[2];
                                    int64_t lo0 = include_pad ? -g.pb[0] : 0, lo1 = include_pad ? -g.pb[1] : 0,
                                            lo2 = include_pad ? -g.pb[2] : 0;
                                    int64_t hi0 = g.in[0] + (include_pad ? g.pe[0] : 0),
                                            hi1 = g.in[1] + (include_pad ? g.pe[1] : 0),
                                            hi2 = g.in[2] + (include_pad ? g.pe[2] : 0);
                                    if (i0 >= lo0 && i0 < hi0 && i1 >= lo1 && i1 < hi1 && i2 >= lo2 && i2 < hi2) count++;
                                }
                        if (count == 0) continue;
                    }
                    int done = 0;
                    for (int64_t kd = 0; kd < g.k[0] && !done; kd++)
                        for (int64_t kh = 0; kh < g.k[1] && !done; kh++)
                            for (int64_t kw = 0; kw < g.k[2] && !done; kw++) {
                                int64_t i0 = b0 + kd * g.d[0], i1 = b1 + kh * g.d[1], i2 = b2 + kw * g.d[2];
                                if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
                                int64_t e = (i0 * g.in[1] + i1) * g.in[2] + i2;
                                if (kind == 0) {
                                    if (xp[e] == yv) {
                                        dxp[e] += gv;
                                        done = 1;
                                    }
                                } else
                                    dxp[e] += gv / (float)count;
                            }
                }
    }
    return MQ_OK;
}

mq_status mq_grad_maxpool(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                          const float *const *dout, float *const *din, mq_err *err)
{
    return pool_backward(n, in, out, dout, din, 0, err);
}

mq_status mq_grad_avgpool(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                          const float *const *dout, float *const *din, mq_err *err)
{
    return pool_backward(n, in, out, dout, din, 1, err);
}

mq_status mq_grad_global_avgpool(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                 const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(need_f32(n, in[0], err));
    const mq_tensor *x = in[0];
    (void)out;
    if (x->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "X must have rank >= 2");
    int64_t planes = x->dims[0] * x->dims[1], sp = 1;
    for (int d = 2; d < x->rank; d++) sp *= x->dims[d];
    for (int64_t p = 0; p < planes; p++) {
        float v = dout[0][p] / (float)sp;
        for (int64_t k = 0; k < sp; k++) din[0][p * sp + k] = v;
    }
    return MQ_OK;
}
