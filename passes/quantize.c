/* quantize.c: the insert_quantizers pass: WeightQuant (WS + SRC) on Conv/Gemm/MatMul weights and ActQuant
 * in place of Relu and Clip(min 0) (MAQD.md sections 2, 3 and 5), with per-layer overrides. */
#include "passes/passes.h"
#include "core/op.h"
#include "ops/maqd.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FLOAT_LAYER (-1) /* an override's "f": leave the layer float */
#define INHERIT 0        /* an override's "-" */

typedef struct override {
    char *pattern;
    int w, a;
} override;

static const mq_pass_opts no_opts;

static mq_status parse_states(const char *s, size_t len, const char *whole, int *out, mq_err *err)
{
    if (len == 1 && s[0] == '-') *out = INHERIT;
    else if (len == 1 && s[0] == 'f') *out = FLOAT_LAYER;
    else {
        long v = 0;
        size_t i = 0;
        for (; i < len && i < 4 && s[i] >= '0' && s[i] <= '9'; i++) v = v * 10 + (s[i] - '0');
        if (len == 0 || i != len || v < MQ_MAQD_MIN_STATES || v > MQ_MAQD_MAX_STATES)
            return mq_fail(err, MQ_ERR_INVALID,
                           "override '%s': states must be %d..%d, '-' (default) or 'f' (float)", whole,
                           MQ_MAQD_MIN_STATES, MQ_MAQD_MAX_STATES);
        *out = (int)v;
    }
    return MQ_OK;
}

static void free_overrides(override *ov, int n)
{
    if (!ov) return;
    for (int i = 0; i < n; i++) mq_free(ov[i].pattern);
    mq_free(ov);
}

/* "PATTERN=W:A" for each override (the last '=' separates the pattern). */
static mq_status parse_overrides(const mq_pass_opts *o, override **out, mq_err *err)
{
    *out = NULL;
    if (o->n_overrides <= 0) return MQ_OK;
    override *ov = mq_calloc((size_t)o->n_overrides, sizeof *ov);
    if (!ov) return mq_fail(err, MQ_ERR_NOMEM, "out of memory parsing overrides");
    for (int i = 0; i < o->n_overrides; i++) {
        const char *s = o->overrides[i];
        const char *eq = s ? strrchr(s, '=') : NULL;
        const char *colon = eq ? strchr(eq + 1, ':') : NULL;
        mq_status st = MQ_OK;
        if (!eq || !colon || eq == s)
            st = mq_fail(err, MQ_ERR_INVALID, "override '%s' is not PATTERN=W:A", s ? s : "(null)");
        if (st == MQ_OK) st = parse_states(eq + 1, (size_t)(colon - eq - 1), s, &ov[i].w, err);
        if (st == MQ_OK) st = parse_states(colon + 1, strlen(colon + 1), s, &ov[i].a, err);
        if (st == MQ_OK) {
            size_t len = (size_t)(eq - s);
            ov[i].pattern = mq_malloc(len + 1);
            if (!ov[i].pattern) st = mq_fail(err, MQ_ERR_NOMEM, "out of memory parsing overrides");
            else {
                memcpy(ov[i].pattern, s, len);
                ov[i].pattern[len] = 0;
            }
        }
        if (st != MQ_OK) {
            free_overrides(ov, o->n_overrides);
            return st;
        }
    }
    *out = ov;
    return MQ_OK;
}

/* The states for a node: the default, then every matching override that sets them (the last wins). */
static int states_for(const mq_graph *g, const mq_node *n, const override *ov, int n_ov, int dflt, int weights)
{
    const char *name = n->name[0] ? n->name : (n->n_out > 0 && n->out[0] >= 0 ? g->tensors[n->out[0]].name : "");
    int s = dflt;
    for (int i = 0; i < n_ov; i++) {
        int v = weights ? ov[i].w : ov[i].a;
        if (v != INHERIT && fnmatch(ov[i].pattern, name, 0) == 0) s = v;
    }
    return s;
}

static int is_default_domain(const mq_node *n) { return n->domain[0] == 0 || strcmp(n->domain, "ai.onnx") == 0; }

/* Conv/Gemm/MatMul whose weight (input 1) is a float constant not computed by a node; sets its
 * output-channel axis (the axis WS standardizes per). */
static int quantizable(const mq_graph *g, const mq_node *n, const int *producer, int *axis)
{
    if (!is_default_domain(n) || n->n_in < 2) return 0;
    int w = n->in[1];
    if (w < 0 || producer[w] >= 0 || !mq_pass_is_f32_const(g, w, -1)) return 0;
    int rank = g->tensors[w].rank;
    if (strcmp(n->op_type, "Conv") == 0) {
        *axis = 0;
        return rank >= 3;
    }
    if (strcmp(n->op_type, "Gemm") == 0) {
        *axis = mq_attr_int(n, "transB", 0) ? 0 : 1;
        return rank == 2;
    }
    if (strcmp(n->op_type, "MatMul") == 0) { /* [..., K, N]: output channels along the last axis */
        *axis = rank - 1;
        return rank >= 2;
    }
    return 0;
}

/* Relu, or Clip whose min is the constant 0 (attribute before opset 11, input 1 from 11). */
static int relu_like(const mq_graph *g, const mq_node *n)
{
    if (!is_default_domain(n) || n->n_in < 1 || n->in[0] < 0 || n->n_out != 1) return 0;
    if (g->tensors[n->in[0]].dtype != MQ_F32) return 0;
    if (strcmp(n->op_type, "Relu") == 0) return 1;
    if (strcmp(n->op_type, "Clip") != 0) return 0;
    if (n->opset < 11) {
        const mq_attr *a = mq_attr_get(n, "min");
        return a && a->type == MQ_ATTR_FLOAT && a->f == 0;
    }
    int m = mq_node_in(n, 1);
    if (m < 0) return 0;
    const mq_tensor *t = &g->tensors[m];
    return t->is_const && t->data && t->dtype == MQ_F32 && mq_numel(t) == 1 && ((const float *)t->data)[0] == 0;
}

static mq_status make_wq(mq_graph *g, const mq_node *layer, int w, int states, int axis, const mq_op_def *def,
                         int *out_id, mq_err *err)
{
    const char *tname = mq_pass_unique_name(g, g->tensors[w].name, ".wq");
    int *io = mq_arena_array(g->arena, 2, sizeof(int));
    if (!tname || !io) return mq_fail(err, MQ_ERR_NOMEM, "out of memory adding a WeightQuant");
    int t = mq_graph_tensor(g, tname);
    mq_node *q = mq_graph_add_node(g);
    if (t < 0 || !q) return mq_fail(err, MQ_ERR_LIMIT, "no room for a WeightQuant node");
    g->tensors[t].dtype = MQ_F32;
    mq_tensor_set_shape(&g->tensors[t], g->tensors[w].rank, g->tensors[w].dims);
    const char *nm = mq_pass_unique_name(g, layer->name[0] ? layer->name : tname, ".wq");
    if (!nm) return mq_fail(err, MQ_ERR_NOMEM, "out of memory adding a WeightQuant");
    q->name = nm;
    q->op_type = "WeightQuant";
    q->domain = MQ_MAQD_DOMAIN;
    q->opset = 1;
    q->def = def;
    io[0] = w;
    io[1] = t;
    q->in = &io[0];
    q->out = &io[1];
    q->n_in = q->n_out = 1;
    MQ_TRY(mq_pass_set_attr_int(g, q, "states", states, err));
    MQ_TRY(mq_pass_set_attr_int(g, q, "axis", axis, err));
    MQ_TRY(mq_pass_set_attr_float(g, q, "delta", (float)mq_maqd_optimal_step(states), err));
    *out_id = t;
    return MQ_OK;
}

typedef struct wq_made {
    int w, states, axis, out;
} wq_made;

static mq_status insert(mq_graph *g, const mq_pass_opts *o, const override *ov, int *producer, wq_made *made,
                        mq_err *err)
{
    const mq_op_def *wq_def = mq_op_find(MQ_MAQD_DOMAIN, "WeightQuant", 1, NULL);
    const mq_op_def *aq_def = mq_op_find(MQ_MAQD_DOMAIN, "ActQuant", 1, NULL);
    if (!wq_def || !aq_def) return mq_fail(err, MQ_ERR_UNSUPPORTED, "MaQD quantizer ops are not registered");
    int w_dflt = o->w_states ? o->w_states : MQ_PASS_DEFAULT_W_STATES;
    int a_dflt = o->a_states ? o->a_states : MQ_PASS_DEFAULT_A_STATES;
    float delta_a = o->delta_a > 0 ? o->delta_a : MQ_PASS_DEFAULT_DELTA_A;
    int n0 = g->n_nodes, first = -1, last = -1, n_made = 0, axis = 0;
    for (int i = 0; i < n0; i++)
        if (quantizable(g, &g->nodes[i], producer, &axis)) {
            if (first < 0) first = i;
            last = i;
        }
    MQ_TRY(mq_pass_use_domain(g, MQ_MAQD_DOMAIN, 1, err));
    for (int i = 0; i < n0; i++) {
        mq_node *n = &g->nodes[i];
        if (quantizable(g, n, producer, &axis)) {
            int s = states_for(g, n, ov, o->n_overrides, w_dflt, 1);
            if (s == FLOAT_LAYER || (i == first && !o->quant_first) || (i == last && !o->quant_last)) {
                if (o->stats) o->stats->exempt++;
                continue;
            }
            int w = n->in[1], out = -1;
            for (int k = 0; k < n_made; k++)
                if (made[k].w == w && made[k].states == s && made[k].axis == axis) out = made[k].out;
            if (out < 0) {
                MQ_TRY(make_wq(g, n, w, s, axis, wq_def, &out, err));
                made[n_made++] = (wq_made){w, s, axis, out};
                if (o->stats) o->stats->weight_quant++;
            }
            n->in[1] = out;
            continue;
        }
        if (relu_like(g, n)) {
            int s = states_for(g, n, ov, o->n_overrides, a_dflt, 0);
            if (s == FLOAT_LAYER) continue;
            n->op_type = "ActQuant";
            n->domain = MQ_MAQD_DOMAIN;
            n->opset = 1;
            n->def = aq_def;
            n->n_in = 1; /* a Clip's min and max go: the quantizer clips at 0 and (m-1) delta */
            n->n_attr = 0;
            n->attrs = NULL;
            MQ_TRY(mq_pass_set_attr_int(g, n, "states", s, err));
            MQ_TRY(mq_pass_set_attr_float(g, n, "delta", delta_a, err));
            if (o->stats) o->stats->act_quant++;
        }
    }
    return MQ_OK;
}

mq_status mq_pass_insert_quantizers(mq_graph *g, const mq_pass_opts *o, mq_err *err)
{
    if (!o) o = &no_opts;
    if ((o->w_states && (o->w_states < MQ_MAQD_MIN_STATES || o->w_states > MQ_MAQD_MAX_STATES)) ||
        (o->a_states && (o->a_states < MQ_MAQD_MIN_STATES || o->a_states > MQ_MAQD_MAX_STATES)))
        return mq_fail(err, MQ_ERR_INVALID, "states must be in %d..%d", MQ_MAQD_MIN_STATES, MQ_MAQD_MAX_STATES);
    if (o->delta_a < 0) return mq_fail(err, MQ_ERR_INVALID, "delta_a must be > 0");
    override *ov = NULL;
    MQ_TRY(parse_overrides(o, &ov, err));
    int *consumers = NULL, *producer = NULL;
    wq_made *made = NULL;
    mq_status st = mq_pass_uses(g, &consumers, &producer, err);
    int n_layers = 0, axis;
    for (int i = 0; st == MQ_OK && i < g->n_nodes; i++)
        if (quantizable(g, &g->nodes[i], producer, &axis)) n_layers++;
    if (st == MQ_OK && n_layers > 0) {
        made = mq_calloc((size_t)n_layers, sizeof *made);
        if (!made) st = mq_fail(err, MQ_ERR_NOMEM, "out of memory inserting quantizers");
    }
    /* Room for one WeightQuant node and output per layer; the producer map stays valid because new
     * tensors get ids past the old ones and nothing reads their entries. */
    if (st == MQ_OK) st = mq_pass_reserve(g, n_layers, n_layers, err);
    if (st == MQ_OK) st = insert(g, o, ov, producer, made, err);
    free_overrides(ov, o->n_overrides);
    mq_free(consumers);
    mq_free(producer);
    mq_free(made);
    if (st != MQ_OK) return st;
    return mq_pass_reinfer(g, o->max_elems, err);
}

static int wants_step(const mq_node *n, int act, int weight)
{
    if (!n->domain || strcmp(n->domain, MQ_MAQD_DOMAIN) || n->n_in != 1 || n->n_out < 1 || n->out[0] < 0) return 0;
    return (act && strcmp(n->op_type, "ActQuant") == 0) || (weight && strcmp(n->op_type, "WeightQuant") == 0);
}

mq_status mq_pass_step_inputs(mq_graph *g, int act, int weight, int *added, mq_err *err)
{
    int count = 0;
    if (added) *added = 0;
    for (int i = 0; i < g->n_nodes; i++) count += wants_step(&g->nodes[i], act, weight);
    if (!count) return MQ_OK;
    MQ_TRY(mq_pass_reserve(g, count, 0, err));
    for (int i = 0; i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        if (!wants_step(n, act, weight)) continue;
        float d = 1.0f;
        if (strcmp(n->op_type, "ActQuant") == 0) d = mq_attr_float(n, "delta", MQ_PASS_DEFAULT_DELTA_A);
        else d = mq_attr_float(n, "delta", (float)mq_maqd_optimal_step((int)mq_attr_int(n, "states", 0)));
        if (!(d > 0) || isinf(d)) return mq_node_fail(err, n, MQ_ERR_INVALID, "the step must be finite and > 0");
        int64_t one = 1;
        int t = -1, *ins = mq_arena_array(g->arena, 2, sizeof(int));
        if (!ins) return mq_fail(err, MQ_ERR_NOMEM, "out of memory adding a step input");
        MQ_TRY(mq_pass_add_f32_const(g, g->tensors[n->out[0]].name, ".step", 1, &one, &d, &t, err));
        ins[0] = n->in[0];
        ins[1] = t;
        n->in = ins;
        n->n_in = 2;
        if (added) (*added)++;
    }
    return MQ_OK;
}
