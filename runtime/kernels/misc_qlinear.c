/* misc_qlinear.c: QLinearMatMul and QLinearConv kernels: integer products of zero-point-shifted 8-bit
 * values in int64, requantized with one float multiplier per output row/column/channel. Layouts:
 * misc_qlinear.h. */
#include "runtime/kernels/misc_qlinear.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/mqr_kernel.h"

#include <math.h>

static int32_t ql_ld8(const mqr_tensor *t, int32_t i)
{
    return t->dtype == MQR_I8 ? (int32_t)((const int8_t *)t->data)[i] : (int32_t)((const uint8_t *)t->data)[i];
}

/* Element i of a one-or-per-index parameter tensor. */
static int32_t ql_zp(const mqr_tensor *t, int32_t i) { return ql_ld8(t, mqr_numel(t) == 1 ? 0 : i); }
static float ql_sc(const mqr_tensor *t, int32_t i) { return ((const float *)t->data)[mqr_numel(t) == 1 ? 0 : i]; }

static void ql_store(mqr_tensor *y, int32_t i, int64_t acc, float mult, int32_t yz)
{
    float v = nearbyintf((float)acc * mult) + (float)yz;
    int is_i8 = y->dtype == MQR_I8;
    float lo = is_i8 ? -128.0f : 0.0f, hi = is_i8 ? 127.0f : 255.0f;
    if (v != v) v = 0.0f;
    v = v < lo ? lo : v > hi ? hi : v;
    if (is_i8) ((int8_t *)y->data)[i] = (int8_t)v;
    else ((uint8_t *)y->data)[i] = (uint8_t)v;
}

void mqk_k_qlinear_matmul(const mqr_call *c)
{
    const mqr_tensor *a = &c->in[0], *b = &c->in[3];
    mqr_tensor *y = &c->out[0];
    int32_t M = c->p[0], K = c->p[1], N = c->p[2], br = c->p[3], nb = 1, d, bi, i, j, k;
    const int32_t *bdims = c->p + 4, *sa = bdims + br, *sb = sa + br;
    int32_t idx[MQR_MAX_RANK] = {0}, yz = ql_ld8(&c->in[7], 0);
    float ys = ((const float *)c->in[6].data)[0];
    for (d = 0; d < br; d++) nb *= bdims[d];
    for (bi = 0; bi < nb; bi++) {
        int32_t oa = 0, ob = 0, abase, bbase, ybase = bi * M * N;
        for (d = 0; d < br; d++) {
            oa += idx[d] * sa[d];
            ob += idx[d] * sb[d];
        }
        abase = oa * M * K;
        bbase = ob * K * N;
        for (i = 0; i < M; i++) {
            int32_t az = ql_zp(&c->in[2], i);
            float as = ql_sc(&c->in[1], i);
            for (j = 0; j < N; j++) {
                int32_t bz = ql_zp(&c->in[5], j);
                int64_t acc = 0;
                for (k = 0; k < K; k++)
                    acc += (int64_t)(ql_ld8(a, abase + i * K + k) - az) * (ql_ld8(b, bbase + k * N + j) - bz);
                ql_store(y, ybase + i * N + j, acc, as * ql_sc(&c->in[4], j) / ys, yz);
            }
        }
        for (d = br - 1; d >= 0; d--) {
            if (++idx[d] < bdims[d]) break;
            idx[d] = 0;
        }
    }
}

void mqk_k_qlinear_conv(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *w = &c->in[3];
    const int32_t *bias = c->n_in > 8 && c->in[8].rank >= 0 ? (const int32_t *)c->in[8].data : 0;
    mqr_tensor *y = &c->out[0];
    const int32_t *st = c->p + 1, *dl = c->p + 4, *p0 = c->p + 7;
    int32_t sp = x->rank - 2, id[3] = {1, 1, 1}, od[3] = {1, 1, 1}, kd[3] = {1, 1, 1}, d;
    int32_t N = x->dims[0], C = x->dims[1], M = w->dims[0], G = c->p[0], Cg = C / G, Mg = M / G;
    int32_t isz, osz, ksz, b, m, o0, o1, o2, ch, k0, k1, k2, xz = ql_ld8(&c->in[2], 0), yz = ql_ld8(&c->in[7], 0);
    float xs = ((const float *)c->in[1].data)[0], ys = ((const float *)c->in[6].data)[0];
    for (d = 0; d < sp; d++) {
        id[3 - sp + d] = x->dims[2 + d];
        od[3 - sp + d] = y->dims[2 + d];
        kd[3 - sp + d] = w->dims[2 + d];
    }
    isz = id[0] * id[1] * id[2];
    osz = od[0] * od[1] * od[2];
    ksz = kd[0] * kd[1] * kd[2];
    for (b = 0; b < N; b++)
        for (m = 0; m < M; m++) {
            int32_t grp = m / Mg, wz = ql_zp(&c->in[5], m);
            float mult = xs * ql_sc(&c->in[4], m) / ys;
            for (o0 = 0; o0 < od[0]; o0++)
                for (o1 = 0; o1 < od[1]; o1++)
                    for (o2 = 0; o2 < od[2]; o2++) {
                        int64_t acc = bias ? bias[m] : 0;
                        for (ch = 0; ch < Cg; ch++) {
                            int32_t xb = (b * C + grp * Cg + ch) * isz, wb = (m * Cg + ch) * ksz;
                            for (k0 = 0; k0 < kd[0]; k0++) {
                                int32_t i0 = o0 * st[0] - p0[0] + k0 * dl[0];
                                if (i0 < 0 || i0 >= id[0]) continue;
                                for (k1 = 0; k1 < kd[1]; k1++) {
                                    int32_t i1 = o1 * st[1] - p0[1] + k1 * dl[1];
                                    if (i1 < 0 || i1 >= id[1]) continue;
                                    for (k2 = 0; k2 < kd[2]; k2++) {
                                        int32_t i2 = o2 * st[2] - p0[2] + k2 * dl[2];
                                        if (i2 < 0 || i2 >= id[2]) continue;
                                        acc += (int64_t)(ql_ld8(x, xb + (i0 * id[1] + i1) * id[2] + i2) - xz) *
                                               (ql_ld8(w, wb + (k0 * kd[1] + k1) * kd[2] + k2) - wz);
                                    }
                                }
                            }
                        }
                        ql_store(y, (b * M + m) * osz + (o0 * od[1] + o1) * od[2] + o2, acc, mult, yz);
                    }
        }
}

/* A scale (float32) or zero point (uint8/int8) tensor of one value or count values. */
static int ql_ck_param(const mqr_tensor *t, int is_zp, int64_t count)
{
    int64_t n;
    if (!mqk_ck_tensor(t) || (is_zp ? !mqk_ck_byte(t->dtype) : t->dtype != MQR_F32)) return 0;
    n = mqk_ck_numel(t);
    return n == 1 || n == count;
}

/* a [..., M, K] (or [K]: M = 1), b [..., K, N] (or [K]: N = 1), 8-bit; y 8-bit with br batch dims equal to
 * the parameters', then M (if a has rank > 1) and N (if b has rank > 1). Strides >= 0; the largest batch
 * offset of a (of b) plus one whole matrix stays inside a (b); per-row/column scales and zero points. */
int mqk_c_qlinear_matmul(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *a, *b, *y;
    int32_t M, K, N, br, d, r;
    const int32_t *bdims, *sa, *sb;
    int64_t ra = 0, rb = 0, nb = 1;
    (void)scratch_bytes;
    if (c->n_in != 8 || c->n_out != 1 || c->n_p < 4) return MQR_CHECK_BAD;
    a = &c->in[0];
    b = &c->in[3];
    y = &c->out[0];
    M = c->p[0];
    K = c->p[1];
    N = c->p[2];
    br = c->p[3];
    if (br < 0 || br > MQR_MAX_RANK || c->n_p != 4 + 3 * br || M < 0 || K < 0 || N < 0) return MQR_CHECK_BAD;
    bdims = c->p + 4;
    sa = bdims + br;
    sb = sa + br;
    if (!mqk_ck_tensor(a) || !mqk_ck_byte(a->dtype) || !mqk_ck_tensor(b) || !mqk_ck_byte(b->dtype) ||
        !mqk_ck_tensor(y) || !mqk_ck_byte(y->dtype) || a->rank < 1 || b->rank < 1)
        return MQR_CHECK_BAD;
    if (a->dims[a->rank - 1] != K || (a->rank > 1 ? a->dims[a->rank - 2] : 1) != M) return MQR_CHECK_BAD;
    if ((b->rank > 1 ? b->dims[b->rank - 2] : b->dims[0]) != K || (b->rank > 1 ? b->dims[b->rank - 1] : 1) != N)
        return MQR_CHECK_BAD;
    r = br;
    if (a->rank > 1 && (r >= y->rank || y->dims[r++] != M)) return MQR_CHECK_BAD;
    if (b->rank > 1 && (r >= y->rank || y->dims[r++] != N)) return MQR_CHECK_BAD;
    if (r != y->rank) return MQR_CHECK_BAD;
    for (d = 0; d < br; d++) {
        if (y->dims[d] != bdims[d] || sa[d] < 0 || sb[d] < 0) return MQR_CHECK_BAD;
        nb *= bdims[d];
        if (bdims[d] > 0) {
            ra += (int64_t)(bdims[d] - 1) * sa[d];
            rb += (int64_t)(bdims[d] - 1) * sb[d];
        }
        if (ra > MQK_CK_I32MAX || rb > MQK_CK_I32MAX) return MQR_CHECK_BAD;
    }
    /* (the kernel forms oa * M * K and ob * K * N left to right in int32) */
    if (nb > 0 && ((ra + 1) * M > MQK_CK_I32MAX || (ra + 1) * M * K > mqk_ck_numel(a) || (rb + 1) * K > MQK_CK_I32MAX ||
                   (rb + 1) * K * N > mqk_ck_numel(b)))
        return MQR_CHECK_BAD;
    if (!ql_ck_param(&c->in[1], 0, M) || !ql_ck_param(&c->in[2], 1, M) || !ql_ck_param(&c->in[4], 0, N) ||
        !ql_ck_param(&c->in[5], 1, N) || !ql_ck_param(&c->in[6], 0, 1) || !ql_ck_param(&c->in[7], 1, 1))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

/* x [N, C, spatial 1..3] and w [M, C / group, k...] 8-bit of one rank, y 8-bit [N, M, out...]; group
 * divides C and M; strides and dilations >= 1, pads >= 0; the axes missing before the spatial ones have
 * stride 1, dilation 1, pads 0; each out = (in + pad0 + pad1 - dilation (k - 1) - 1) / stride + 1 with a
 * non-negative numerator; scales and zero points of one value (w's: or M); the optional int32 bias [M]. */
int mqk_c_qlinear_conv(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *y;
    int32_t sp, G, e;
    (void)scratch_bytes;
    if (c->n_in < 8 || c->n_in > 9 || c->n_out != 1 || c->n_p != 13) return MQR_CHECK_BAD;
    x = &c->in[0];
    w = &c->in[3];
    y = &c->out[0];
    if (!mqk_ck_tensor(x) || !mqk_ck_byte(x->dtype) || !mqk_ck_tensor(w) || !mqk_ck_byte(w->dtype) ||
        !mqk_ck_tensor(y) || !mqk_ck_byte(y->dtype))
        return MQR_CHECK_BAD;
    if (x->rank < 3 || x->rank > 5 || w->rank != x->rank || y->rank != x->rank) return MQR_CHECK_BAD;
    sp = x->rank - 2;
    G = c->p[0];
    if (G < 1 || x->dims[1] % G || w->dims[0] % G || (int64_t)w->dims[1] * G != x->dims[1]) return MQR_CHECK_BAD;
    if (y->dims[0] != x->dims[0] || y->dims[1] != w->dims[0]) return MQR_CHECK_BAD;
    for (e = 0; e < 3; e++) {
        int32_t d = e - (3 - sp), st = c->p[1 + e], dl = c->p[4 + e], p0 = c->p[7 + e], p1 = c->p[10 + e];
        int64_t span;
        if (st < 1 || dl < 1 || p0 < 0 || p1 < 0) return MQR_CHECK_BAD;
        if (d < 0) {
            if (st != 1 || dl != 1 || p0 != 0 || p1 != 0) return MQR_CHECK_BAD;
            continue;
        }
        span = (int64_t)x->dims[2 + d] + p0 + p1 - (int64_t)dl * (w->dims[2 + d] - 1) - 1;
        if (w->dims[2 + d] < 1 || span < 0 || y->dims[2 + d] != span / st + 1) return MQR_CHECK_BAD;
        /* the largest input position formed, (out - 1) stride + (k - 1) dilation, fits int32 */
        if ((int64_t)(y->dims[2 + d] - 1) * st + (int64_t)(w->dims[2 + d] - 1) * dl > MQK_CK_I32MAX) return MQR_CHECK_BAD;
    }
    if (!ql_ck_param(&c->in[1], 0, 1) || !ql_ck_param(&c->in[2], 1, 1) || !ql_ck_param(&c->in[4], 0, w->dims[0]) ||
        !ql_ck_param(&c->in[5], 1, w->dims[0]) || !ql_ck_param(&c->in[6], 0, 1) || !ql_ck_param(&c->in[7], 1, 1))
        return MQR_CHECK_BAD;
    if (c->n_in > 8 && !mqk_ck_absent(&c->in[8]) &&
        (!mqk_ck_t(&c->in[8], MQR_I32) || c->in[8].rank != 1 || c->in[8].dims[0] != w->dims[0]))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
