/* misc_qlinear.c: QLinearMatMul and QLinearConv kernels: integer products of zero-point-shifted 8-bit
 * values in int64, requantized with one float multiplier per output row/column/channel. Layouts:
 * misc_qlinear.h. */
#include "runtime/kernels/misc_qlinear.h"
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
