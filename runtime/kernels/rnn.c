/* rnn.c: RNN / GRU / LSTM recurrences (see rnn.h). Each batch entry runs through its sequence
 * independently; the gate pre-activations of one step live in the caller's scratch buffer. */
#include "runtime/kernels/rnn.h"
#include "runtime/kernels/nn_check.h"

#include <math.h>

float mqk_act_apply(const mqk_act *a, float x)
{
    switch (a->kind) {
    case MQK_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case MQK_ACT_TANH: return tanhf(x);
    case MQK_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case MQK_ACT_AFFINE: return a->alpha * x + a->beta;
    case MQK_ACT_LEAKYRELU: return x >= 0.0f ? x : a->alpha * x;
    case MQK_ACT_THRESHOLDEDRELU: return x > a->alpha ? x : 0.0f;
    case MQK_ACT_SCALEDTANH: return a->alpha * tanhf(a->beta * x);
    case MQK_ACT_HARDSIGMOID: {
        float v = a->alpha * x + a->beta;
        return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    case MQK_ACT_ELU: return x >= 0.0f ? x : a->alpha * (expf(x) - 1.0f);
    case MQK_ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    case MQK_ACT_SOFTPLUS: return logf(1.0f + expf(x));
    }
    return x;
}

static int32_t cell_gates(int cell) { return cell == MQK_CELL_RNN ? 1 : cell == MQK_CELL_GRU ? 3 : 4; }

size_t mqk_rnn_scratch_bytes(const mqk_rnn_params *p)
{
    return ((size_t)cell_gates(p->cell) + 2) * (size_t)p->hidden * sizeof(float);
}

static float clipv(const mqk_rnn_params *p, float v)
{
    if (p->clip > 0.0f) {
        if (v > p->clip) return p->clip;
        if (v < -p->clip) return -p->clip;
    }
    return v;
}

/* out[j] = sum_k m[j][k] * v[k] for j < rows */
static void matvec_add(int32_t rows, int32_t cols, const float *m, const float *v, float *out)
{
    int32_t j, k;
    for (j = 0; j < rows; j++) {
        const float *mr = m + (size_t)j * (size_t)cols;
        float s = 0.0f;
        for (k = 0; k < cols; k++) s += mr[k] * v[k];
        out[j] += s;
    }
}

void mqk_rnn_f32(const mqk_rnn_params *p, const float *x, const float *w, const float *r, const float *b,
                 const float *peep, const int32_t *seq_lens, float *h, float *c, float *y, float *scratch)
{
    int32_t G = cell_gates(p->cell), H = p->hidden, bi, step, j;
    float *g = scratch, *hr = scratch + (size_t)G * (size_t)H, *rh = hr + H;
    for (bi = 0; bi < p->batch; bi++) {
        float *hb = h + (size_t)bi * (size_t)H;
        float *cb = c ? c + (size_t)bi * (size_t)H : 0;
        int32_t len = seq_lens ? seq_lens[bi] : p->seq;
        if (len > p->seq) len = p->seq;
        if (len < 0) len = 0;
        for (step = 0; step < p->seq; step++) {
            int32_t t = p->reverse ? p->seq - 1 - step : step;
            float *yt = y ? y + (size_t)t * p->y_step + (size_t)bi * p->y_batch : 0;
            const float *xt;
            if (p->reverse ? t >= len : step >= len) {
                if (yt)
                    for (j = 0; j < H; j++) yt[j] = 0.0f;
                continue;
            }
            xt = x + (size_t)t * p->x_step + (size_t)bi * p->x_batch;
            for (j = 0; j < G * H; j++) g[j] = b ? b[j] : 0.0f;
            matvec_add(G * H, p->input, w, xt, g);
            if (p->cell == MQK_CELL_GRU) {
                /* z and r gates see R*h + Rb; the h gate is handled below */
                for (j = 0; j < 2 * H; j++) g[j] += b ? b[G * H + j] : 0.0f;
                matvec_add(2 * H, H, r, hb, g);
                for (j = 0; j < 2 * H; j++) g[j] = mqk_act_apply(&p->act[0], clipv(p, g[j]));
                for (j = 0; j < H; j++) rh[j] = b ? b[G * H + 2 * H + j] : 0.0f;
                if (p->linear_before_reset) {
                    matvec_add(H, H, r + (size_t)2 * (size_t)H * (size_t)H, hb, rh);
                    for (j = 0; j < H; j++) g[2 * H + j] += g[H + j] * rh[j];
                } else {
                    for (j = 0; j < H; j++) hr[j] = g[H + j] * hb[j];
                    matvec_add(H, H, r + (size_t)2 * (size_t)H * (size_t)H, hr, rh);
                    for (j = 0; j < H; j++) g[2 * H + j] += rh[j];
                }
                for (j = 0; j < H; j++) {
                    float ht = mqk_act_apply(&p->act[1], clipv(p, g[2 * H + j]));
                    float z = g[j];
                    hb[j] = (1.0f - z) * ht + z * hb[j];
                }
            } else {
                if (b)
                    for (j = 0; j < G * H; j++) g[j] += b[G * H + j];
                matvec_add(G * H, H, r, hb, g);
                if (p->cell == MQK_CELL_RNN) {
                    for (j = 0; j < H; j++) hb[j] = mqk_act_apply(&p->act[0], clipv(p, g[j]));
                } else {
                    /* LSTM gates i, o, f, c */
                    for (j = 0; j < H; j++) {
                        float gi = g[j], go = g[H + j], gf = g[2 * H + j], gc = g[3 * H + j], ct;
                        if (peep) {
                            gi += peep[j] * cb[j];
                            gf += peep[2 * H + j] * cb[j];
                        }
                        gi = mqk_act_apply(&p->act[0], clipv(p, gi));
                        gf = p->input_forget ? 1.0f - gi : mqk_act_apply(&p->act[0], clipv(p, gf));
                        gc = mqk_act_apply(&p->act[1], clipv(p, gc));
                        ct = gf * cb[j] + gi * gc;
                        if (peep) go += peep[H + j] * ct;
                        go = mqk_act_apply(&p->act[0], clipv(p, go));
                        cb[j] = ct;
                        hb[j] = go * mqk_act_apply(&p->act[2], ct);
                    }
                }
            }
            if (yt)
                for (j = 0; j < H; j++) yt[j] = hb[j];
        }
    }
}

size_t mqk_rnn_kernel_scratch_bytes(int cell, int32_t batch, int32_t hidden)
{
    return ((size_t)cell_gates(cell) + 2 + 2 * (size_t)batch) * (size_t)hidden * sizeof(float);
}

static const float *opt_in(const mqr_call *c, int32_t i)
{
    return i < c->n_in && c->in[i].rank >= 0 ? (const float *)c->in[i].data : 0;
}

static float *opt_out(const mqr_call *c, int32_t i)
{
    return i < c->n_out && c->out[i].rank >= 0 ? (float *)c->out[i].data : 0;
}

void mqk_k_rnn_f32(const mqr_call *c)
{
    const mqr_tensor *xt = &c->in[0];
    mqk_rnn_params prm;
    int layout = c->p[2], k;
    size_t S = (size_t)xt->dims[layout ? 1 : 0], B = (size_t)xt->dims[layout ? 0 : 1], I = (size_t)xt->dims[2];
    size_t H = (size_t)c->in[2].dims[2], D = (size_t)c->p[1], G = (size_t)cell_gates(c->p[0]), d, bi, j;
    const float *b = opt_in(c, 3), *h0 = opt_in(c, 5), *c0 = c->p[0] == MQK_CELL_LSTM ? opt_in(c, 6) : 0;
    const float *peep = c->p[0] == MQK_CELL_LSTM ? opt_in(c, 7) : 0;
    const int32_t *lens = c->n_in > 4 && c->in[4].rank >= 0 ? (const int32_t *)c->in[4].data : 0;
    float *y = opt_out(c, 0), *yh = opt_out(c, 1), *yc = opt_out(c, 2);
    float *scratch = (float *)c->scratch, *h = scratch + (G + 2) * H, *cs = h + B * H;
    prm.cell = c->p[0];
    prm.seq = (int32_t)S;
    prm.batch = (int32_t)B;
    prm.input = (int32_t)I;
    prm.hidden = (int32_t)H;
    prm.linear_before_reset = c->p[4];
    prm.input_forget = c->p[5];
    prm.clip = mqr_p_f32(c->p[6]);
    prm.x_step = layout ? I : B * I;
    prm.x_batch = layout ? S * I : I;
    prm.y_step = layout ? D * H : D * B * H;
    prm.y_batch = layout ? S * D * H : H;
    for (d = 0; d < D; d++) {
        /* state offsets: layout 0 [dirs, batch, H], layout 1 [batch, dirs, H] */
        for (bi = 0; bi < B; bi++) {
            size_t off = layout ? (bi * D + d) * H : (d * B + bi) * H;
            for (j = 0; j < H; j++) {
                h[bi * H + j] = h0 ? h0[off + j] : 0.0f;
                cs[bi * H + j] = c0 ? c0[off + j] : 0.0f;
            }
        }
        prm.reverse = d == 1 || c->p[3];
        for (k = 0; k < 3; k++) {
            const int32_t *a = c->p + 7 + 9 * d + 3 * (size_t)k;
            prm.act[k].kind = (mqk_act_kind)a[0];
            prm.act[k].alpha = mqr_p_f32(a[1]);
            prm.act[k].beta = mqr_p_f32(a[2]);
        }
        mqk_rnn_f32(&prm, (const float *)xt->data, (const float *)c->in[1].data + d * G * H * I,
                    (const float *)c->in[2].data + d * G * H * H, b ? b + d * 2 * G * H : 0, peep ? peep + d * 3 * H : 0,
                    lens, h, cs, y ? y + (layout ? d * H : d * B * H) : 0, scratch);
        for (bi = 0; bi < B; bi++) {
            size_t off = layout ? (bi * D + d) * H : (d * B + bi) * H;
            for (j = 0; j < H; j++) {
                if (yh) yh[off + j] = h[bi * H + j];
                if (yc) yc[off + j] = cs[bi * H + j];
            }
        }
    }
}

/* optional in/out slot i: omitted, or float32 (int32 for sequence_lens) of rank 1..3 and dims d[] */
static int rnn_opt_ok(const mqr_tensor *ts, int32_t n, int32_t i, int32_t dt, int32_t rank, const int64_t *d)
{
    const mqr_tensor *t = &ts[i];
    int32_t k;
    if (mqk_nc_absent(ts, n, i)) return 1;
    if (mqk_nc_tensor(t, dt, rank, rank) < 0) return 0;
    for (k = 0; k < rank; k++)
        if (t->dims[k] != d[k]) return 0;
    return 1;
}

/* rnn_f32: p[0] cell, p[1] directions D (1, 2), p[2] layout, p[3..5] 0/1, activation kinds in range;
 * X float32 [S, B, I] ([B, S, I] for layout 1), W [D, G*H, I], R [D, G*H, H] (G gates of the cell, H
 * from R); optional B [D, 2*G*H], sequence_lens int32 [B] (the kernel clamps each to [0, S]),
 * initial_h / initial_c [D, B, H] ([B, D, H]), P [D, 3*H]; optional outputs Y [S, D, B, H]
 * ([B, S, D, H]), Y_h / Y_c like initial_h; scratch (G + 2 + 2*B) * H floats. */
int mqk_c_rnn_f32(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *w, *r;
    int64_t S, B, I, H, D, G, st[3], y[4], b[2], p[2], sl[1];
    int32_t layout, k;
    if (!mqk_nc_counts(c, 3, 8, 0, 3, 25)) return MQR_CHECK_BAD;
    if (c->p[0] < MQK_CELL_RNN || c->p[0] > MQK_CELL_LSTM || c->p[1] < 1 || c->p[1] > 2) return MQR_CHECK_BAD;
    for (k = 2; k < 6; k++)
        if (!mqk_nc_bool(c->p[k])) return MQR_CHECK_BAD;
    for (k = 0; k < 6; k++)
        if (c->p[7 + 3 * k] < MQK_ACT_SIGMOID || c->p[7 + 3 * k] > MQK_ACT_SOFTPLUS) return MQR_CHECK_BAD;
    layout = c->p[2];
    D = c->p[1];
    G = c->p[0] == MQK_CELL_RNN ? 1 : c->p[0] == MQK_CELL_GRU ? 3 : 4;
    x = &c->in[0];
    w = &c->in[1];
    r = &c->in[2];
    if (mqk_nc_tensor(x, MQR_F32, 3, 3) < 0 || mqk_nc_tensor(w, MQR_F32, 3, 3) < 0 ||
        mqk_nc_tensor(r, MQR_F32, 3, 3) < 0)
        return MQR_CHECK_BAD;
    S = x->dims[layout ? 1 : 0];
    B = x->dims[layout ? 0 : 1];
    I = x->dims[2];
    H = r->dims[2];
    if (w->dims[0] != D || w->dims[1] != G * H || w->dims[2] != I || r->dims[0] != D || r->dims[1] != G * H)
        return MQR_CHECK_BAD;
    st[0] = layout ? B : D;
    st[1] = layout ? D : B;
    st[2] = H;
    b[0] = p[0] = D;
    b[1] = 2 * G * H;
    p[1] = 3 * H;
    sl[0] = B;
    if (layout) {
        y[0] = B;
        y[1] = S;
    } else {
        y[0] = S;
        y[1] = D;
    }
    y[2] = layout ? D : B;
    y[3] = H;
    if (!rnn_opt_ok(c->in, c->n_in, 3, MQR_F32, 2, b) || !rnn_opt_ok(c->in, c->n_in, 4, MQR_I32, 1, sl) ||
        !rnn_opt_ok(c->in, c->n_in, 5, MQR_F32, 3, st) || !rnn_opt_ok(c->in, c->n_in, 6, MQR_F32, 3, st) ||
        !rnn_opt_ok(c->in, c->n_in, 7, MQR_F32, 2, p) || !rnn_opt_ok(c->out, c->n_out, 0, MQR_F32, 4, y) ||
        !rnn_opt_ok(c->out, c->n_out, 1, MQR_F32, 3, st) || !rnn_opt_ok(c->out, c->n_out, 2, MQR_F32, 3, st))
        return MQR_CHECK_BAD;
    return mqk_nc_mul(mqk_nc_mul(mqk_nc_add(G + 2, 2 * B), H), (int64_t)sizeof(float)) <= (int64_t)scratch_bytes
               ? MQR_CHECK_OK
               : MQR_CHECK_BAD;
}
