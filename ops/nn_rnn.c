/* nn_rnn.c: RNN, GRU and LSTM (opset 7 and 14: forward / reverse / bidirectional, sequence_lens,
 * initial states, peepholes, clip, layout), lowered to the rnn_f32 kernel of runtime/kernels/rnn.c. */
#include "ops/nn_internal.h"
#include "runtime/kernels/rnn.h"

#include <string.h>
#include <strings.h>

typedef struct rnn_geom {
    int cell, dirs, layout, gates;
    int64_t seq, batch, input, hidden;
} rnn_geom;

static int cell_of(const mq_node *n)
{
    return !strcmp(n->op_type, "RNN") ? MQK_CELL_RNN : !strcmp(n->op_type, "GRU") ? MQK_CELL_GRU : MQK_CELL_LSTM;
}

static mq_status rnn_geometry(const mq_node *n, const mq_tensor *const *in, rnn_geom *g, mq_err *err)
{
    const mq_tensor *x = in[0], *w = in[1], *r = in[2];
    g->cell = cell_of(n);
    g->gates = g->cell == MQK_CELL_RNN ? 1 : g->cell == MQK_CELL_GRU ? 3 : 4;
    g->layout = (int)mq_attr_int(n, "layout", 0);
    if (g->layout != 0 && g->layout != 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "layout must be 0 or 1");
    const char *dir = mq_attr_str(n, "direction", "forward");
    if (!strcmp(dir, "forward") || !strcmp(dir, "reverse")) g->dirs = 1;
    else if (!strcmp(dir, "bidirectional")) g->dirs = 2;
    else return mq_node_fail(err, n, MQ_ERR_INVALID, "unknown direction '%s'", dir);
    if (x->rank != 3 || w->rank != 3 || r->rank != 3)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "X, W and R must have rank 3");
    g->seq = x->dims[g->layout ? 1 : 0];
    g->batch = x->dims[g->layout ? 0 : 1];
    g->input = x->dims[2];
    g->hidden = r->dims[2];
    int64_t hs = mq_attr_int(n, "hidden_size", g->hidden);
    if (hs != g->hidden || w->dims[0] != g->dirs || r->dims[0] != g->dirs || w->dims[1] != g->gates * g->hidden ||
        r->dims[1] != g->gates * g->hidden || w->dims[2] != g->input)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "W / R shapes do not match %d direction(s), hidden %lld, input %lld",
                            g->dirs, (long long)hs, (long long)g->input);
    int64_t sz[4] = {g->seq, g->batch, g->input, g->gates * g->hidden};
    MQ_TRY(nn_check_i32(n, sz, 4, err));
    const mq_tensor *b = nn_opt(n, in, 3), *sl = nn_opt(n, in, 4), *h0 = nn_opt(n, in, 5);
    const mq_tensor *c0 = g->cell == MQK_CELL_LSTM ? nn_opt(n, in, 6) : NULL;
    const mq_tensor *p = g->cell == MQK_CELL_LSTM ? nn_opt(n, in, 7) : NULL;
    if (b && b->rank >= 0 && (b->rank != 2 || b->dims[0] != g->dirs || b->dims[1] != 2 * g->gates * g->hidden))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "B must be [%d, %lld]", g->dirs, (long long)(2 * g->gates * g->hidden));
    if (sl && (sl->dtype != MQ_I32 || (sl->rank >= 0 && (sl->rank != 1 || sl->dims[0] != g->batch))))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "sequence_lens must be int32 [%lld]", (long long)g->batch);
    const mq_tensor *st[2] = {h0, c0};
    for (int i = 0; i < 2; i++) {
        const mq_tensor *s = st[i];
        if (!s || s->rank < 0) continue;
        int64_t a = g->layout ? g->batch : g->dirs, bb = g->layout ? g->dirs : g->batch;
        if (s->rank != 3 || s->dims[0] != a || s->dims[1] != bb || s->dims[2] != g->hidden)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "initial state has the wrong shape");
    }
    if (p && p->rank >= 0 && (p->rank != 2 || p->dims[0] != g->dirs || p->dims[1] != 3 * g->hidden))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "P must be [%d, %lld]", g->dirs, (long long)(3 * g->hidden));
    for (int i = 1; i < n->n_in; i++)
        if (in[i] && i != 4 && in[i]->dtype != x->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "input %d must have the dtype of X", i);
    return MQ_OK;
}

static mq_status rnn_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 3; i++) MQ_TRY(mq_require_input(n, in, i, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    if (n->opset < 7) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "opset %d (7 and newer supported)", n->opset);
    mq_dtype dt = in[0]->dtype;
    if (nn_unknown(in[0]) || nn_unknown(in[1]) || nn_unknown(in[2])) {
        for (int i = 0; i < n->n_out; i++)
            if (out[i]) mq_set_out(out[i], dt, -1, NULL);
        return MQ_OK;
    }
    rnn_geom g;
    MQ_TRY(rnn_geometry(n, in, &g, err));
    int64_t yd[4], hd[3];
    if (g.layout) {
        int64_t a[4] = {g.batch, g.seq, g.dirs, g.hidden}, b[3] = {g.batch, g.dirs, g.hidden};
        memcpy(yd, a, sizeof a);
        memcpy(hd, b, sizeof b);
    } else {
        int64_t a[4] = {g.seq, g.dirs, g.batch, g.hidden}, b[3] = {g.dirs, g.batch, g.hidden};
        memcpy(yd, a, sizeof a);
        memcpy(hd, b, sizeof b);
    }
    if (out[0]) mq_set_out(out[0], dt, 4, yd);
    for (int i = 1; i < n->n_out; i++)
        if (out[i]) mq_set_out(out[i], dt, 3, hd);
    return MQ_OK;
}

static mq_status parse_acts(const mq_node *n, int cell, int dirs, mqk_act acts[2][3], mq_err *err)
{
    static const struct {
        const char *name;
        mqk_act_kind kind;
        int n_alpha, n_beta;
        float alpha, beta;
    } table[] = {
        {"Sigmoid", MQK_ACT_SIGMOID, 0, 0, 0, 0},        {"Tanh", MQK_ACT_TANH, 0, 0, 0, 0},
        {"Relu", MQK_ACT_RELU, 0, 0, 0, 0},              {"Affine", MQK_ACT_AFFINE, 1, 1, 1.0f, 0.0f},
        {"LeakyRelu", MQK_ACT_LEAKYRELU, 1, 0, 0.01f, 0}, {"ThresholdedRelu", MQK_ACT_THRESHOLDEDRELU, 1, 0, 1.0f, 0},
        {"ScaledTanh", MQK_ACT_SCALEDTANH, 1, 1, 1.0f, 1.0f}, {"HardSigmoid", MQK_ACT_HARDSIGMOID, 1, 1, 0.2f, 0.5f},
        {"Elu", MQK_ACT_ELU, 1, 0, 1.0f, 0},             {"Softsign", MQK_ACT_SOFTSIGN, 0, 0, 0, 0},
        {"Softplus", MQK_ACT_SOFTPLUS, 0, 0, 0, 0},
    };
    int per = cell == MQK_CELL_RNN ? 1 : cell == MQK_CELL_GRU ? 2 : 3;
    static const char *const dflt[3][3] = {{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
    const mq_attr *a = mq_attr_get(n, "activations");
    const float *alpha = NULL, *beta = NULL;
    int na = mq_attr_floats(n, "activation_alpha", &alpha), nb = mq_attr_floats(n, "activation_beta", &beta);
    int ia = 0, ib = 0;
    if (a && a->type != MQ_ATTR_STRINGS) return mq_node_fail(err, n, MQ_ERR_INVALID, "activations must be strings");
    if (a && a->n != per * dirs && a->n != per)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "%d activations given, expected %d", a->n, per * dirs);
    for (int d = 0; d < dirs; d++)
        for (int k = 0; k < per; k++) {
            const char *name = a ? a->strings[(d * per + k) % a->n] : dflt[cell][k];
            size_t t;
            for (t = 0; t < sizeof table / sizeof table[0]; t++)
                if (!strcasecmp(name, table[t].name)) break;
            if (t == sizeof table / sizeof table[0])
                return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "activation '%s'", name);
            acts[d][k].kind = table[t].kind;
            acts[d][k].alpha = table[t].alpha;
            acts[d][k].beta = table[t].beta;
            if (table[t].n_alpha && a && ia < na) acts[d][k].alpha = alpha[ia++];
            if (table[t].n_beta && a && ib < nb) acts[d][k].beta = beta[ib++];
        }
    return MQ_OK;
}

static mq_status rnn_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    for (int i = 0; i < n->n_in + n->n_out; i++) {
        const mq_tensor *t = i < n->n_in ? in[i] : out[i - n->n_in];
        if (t && i != 4 && t->dtype != MQ_F32)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "dtype %s has no runtime kernel (float32 only)",
                                mq_dtype_name(t->dtype));
    }
    rnn_geom g;
    MQ_TRY(rnn_geometry(n, in, &g, err));
    mqk_act acts[2][3];
    memset(acts, 0, sizeof acts);
    MQ_TRY(parse_acts(n, g.cell, g.dirs, acts, err));
    kc->kernel = "rnn_f32";
    kc->p[0] = g.cell;
    kc->p[1] = g.dirs;
    kc->p[2] = g.layout;
    kc->p[3] = !strcmp(mq_attr_str(n, "direction", "forward"), "reverse");
    kc->p[4] = mq_attr_int(n, "linear_before_reset", 0) != 0;
    kc->p[5] = mq_attr_int(n, "input_forget", 0) != 0;
    kc->p[6] = nn_pf(mq_attr_float(n, "clip", 0.0f));
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 3; k++) {
            const mqk_act *a = &acts[d < g.dirs ? d : 0][k];
            kc->p[7 + 9 * d + 3 * k] = (int32_t)a->kind;
            kc->p[8 + 9 * d + 3 * k] = nn_pf(a->alpha);
            kc->p[9 + 9 * d + 3 * k] = nn_pf(a->beta);
        }
    kc->n_p = 25;
    kc->scratch_bytes = mqk_rnn_kernel_scratch_bytes(g.cell, (int32_t)g.batch, (int32_t)g.hidden);
    return MQ_OK;
}

/* sequence_lens are data: checked here (the kernel trusts them), then the runtime kernel runs. */
static mq_status rnn_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *sl = nn_opt(n, in, 4);
    int64_t seq = in[0]->dims[mq_attr_int(n, "layout", 0) ? 1 : 0];
    for (int64_t i = 0; sl && i < mq_numel(sl); i++) {
        int32_t v = ((const int32_t *)sl->data)[i];
        if (v < 0 || v > seq)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "sequence_lens[%lld] = %d out of range", (long long)i, v);
    }
    return nn_forward_kernel(n, in, out, err);
}

const mq_op_def nn_op_rnn = {.op_type = "RNN", .domain = "", .since = 7, .until = 0, .min_in = 3, .max_in = 6,
                             .min_out = 0, .max_out = 2, .infer = rnn_infer, .forward = rnn_forward,
                             .lower = rnn_lower};
const mq_op_def nn_op_gru = {.op_type = "GRU", .domain = "", .since = 7, .until = 0, .min_in = 3, .max_in = 6,
                             .min_out = 0, .max_out = 2, .infer = rnn_infer, .forward = rnn_forward,
                             .lower = rnn_lower};
const mq_op_def nn_op_lstm = {.op_type = "LSTM", .domain = "", .since = 7, .until = 0, .min_in = 3, .max_in = 8,
                              .min_out = 0, .max_out = 3, .infer = rnn_infer, .forward = rnn_forward,
                             .lower = rnn_lower};
