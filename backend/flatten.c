/* flatten.c: If, Loop and Scan for the backends (flatten.h): each running control node becomes copies
 * in, a marker node (the IF or LOOP step), its subgraphs' nodes, the copies out of each branch or
 * iteration, and copies to its outputs, all in one flat graph that the planner and lowering walk. */
#include "backend/flatten.h"

#include "core/exec.h"
#include "core/op.h"

#include <string.h>

#define MAX_DEPTH 16 /* nesting of control nodes (the runtime's MQR_MAX_NEST) */
/* A Loop whose body has shapes that depend on the iteration number (a Slice by the counter) is
 * unrolled when its constant trip count is at most this: each copy of the body sees its counter as a
 * constant, so those shapes fold. */
#define MAX_UNROLL 64

static const unsigned char true_byte = 1; /* a Loop without `cond` starts true */

/* ---- the synthetic nodes: a copy, and a row of a stacked tensor ---------------------------------- */

static mq_status copy_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    (void)n, (void)in, (void)out, (void)err;
    kc->kernel = "sh_copy";
    kc->n_p = 0;
    return MQ_OK;
}

static mq_status stack_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    (void)in, (void)out, (void)err;
    kc->kernel = mq_attr_int(n, "put", 0) ? "sh_stack_put" : "sh_stack_get";
    kc->p[0] = (int32_t)mq_attr_int(n, "axis", 0);
    kc->p[1] = (int32_t)mq_attr_int(n, "reverse", 0);
    kc->n_p = 2;
    return MQ_OK;
}

static const mq_op_def copy_def = {.op_type = "Copy", .domain = "", .min_in = 1, .max_in = 1, .min_out = 1,
                                   .max_out = 1, .lower = copy_lower};
static const mq_op_def stack_def = {.op_type = "StackRow", .domain = "", .min_in = 2, .max_in = 2,
                                    .min_out = 1, .max_out = 1, .lower = stack_lower};

/* ---- building ----------------------------------------------------------------------------------- */

typedef struct fb {
    mq_flat *f;
    mq_graph *g;   /* the flat graph */
    mq_err *err;
    int cap_loops;
} fb;

static int is_control(const mq_node *n)
{
    return !n->domain[0] && (!strcmp(n->op_type, "If") || !strcmp(n->op_type, "Loop") || !strcmp(n->op_type, "Scan"));
}

/* As the executor: a node runs unless every present output was folded at import. */
static int node_runs(const mq_graph *g, const mq_node *n)
{
    if (n->n_out == 0) return 1;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0 && !g->tensors[n->out[k]].is_const) return 1;
    return 0;
}

/* The trip count of Loop n of g if it could be unrolled (a constant in 1..MAX_UNROLL), else 0. */
static int64_t unroll_trip(const mq_graph *g, const mq_node *n)
{
    const mq_tensor *m;
    if (strcmp(n->op_type, "Loop") || n->n_in < 1 || n->in[0] < 0) return 0;
    m = &g->tensors[n->in[0]];
    if (!m->data || mq_numel(m) != 1) return 0;
    int64_t trip = mq_load_i64(m->data, m->dtype, 0);
    return trip >= 1 && trip <= MAX_UNROLL ? trip : 0;
}

/* Upper bounds of tensors, nodes and loops the flat graph needs; *any: a control node runs. */
static void count(const mq_graph *g, int64_t *nt, int64_t *nn, int64_t *nl, int *any)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if (!is_control(n) || !node_runs(g, n)) continue;
        *any = 1;
        (*nl)++;
        *nn += 4 + 2 * ((int64_t)n->n_in + n->n_out);
        *nt += 2;
        int64_t copies = 1, trip = unroll_trip(g, n);
        if (trip > 0) copies += trip; /* the loop tried as it is, then unrolled */
        for (int a = 0; a < n->n_attr; a++)
            if (n->attrs[a].type == MQ_ATTR_GRAPH && n->attrs[a].g) {
                const mq_graph *s = n->attrs[a].g;
                int64_t st = s->n_tensors + 2, sn = s->n_nodes + 2 * ((int64_t)s->n_inputs + s->n_outputs) + 2, sl = 0;
                count(s, &st, &sn, &sl, any);
                *nt += copies * st;
                *nn += copies * sn;
                *nl += copies * (sl + 1);
            }
    }
}

static int new_tensor(fb *b, const mq_tensor *proto)
{
    mq_graph *g = b->g;
    if (g->n_tensors >= g->cap_tensors) return -1;
    g->tensors[g->n_tensors] = *proto;
    mq_tensor *t = &g->tensors[g->n_tensors];
    t->is_input = t->is_output = 0;
    t->producer = -1;
    return g->n_tensors++;
}

static mq_status add_node(fb *b, const mq_node *like, const mq_op_def *def, int n_in, const int *in, int n_out,
                          const int *out, int *idx)
{
    mq_graph *g = b->g;
    mq_node *n = mq_graph_add_node(g);
    if (!n) return mq_fail(b->err, MQ_ERR_LIMIT, "flattening control flow: too many nodes");
    n->name = like->name;
    n->op_type = like->op_type;
    n->domain = like->domain;
    n->opset = like->opset;
    n->def = def;
    n->n_in = n_in;
    n->n_out = n_out;
    n->in = mq_arena_array(g->arena, (size_t)n_in + 1, sizeof(int));
    n->out = mq_arena_array(g->arena, (size_t)n_out + 1, sizeof(int));
    if (!n->in || !n->out) return mq_fail(b->err, MQ_ERR_NOMEM, "out of memory flattening control flow");
    if (n_in) memcpy(n->in, in, sizeof(int) * (size_t)n_in);
    if (n_out) memcpy(n->out, out, sizeof(int) * (size_t)n_out);
    *idx = g->n_nodes - 1;
    for (int k = 0; k < n_out; k++)
        if (out[k] >= 0 && g->tensors[out[k]].producer < 0) g->tensors[out[k]].producer = *idx;
    return MQ_OK;
}

static int static_shape(const mq_tensor *t) { return t->rank >= 0 && t->dtype != MQ_UNDEFINED; }

/* Copy value `from` into `to` (flat ids) for control node n. A `to` of unknown shape takes from's.
 * exact: the shapes must be equal (a branch output, a carried value); else the element counts (a
 * condition [1] into a scalar, Scan-8's state with its batch of one). */
static mq_status copy(fb *b, const mq_node *n, int from, int to, const char *what, int exact)
{
    mq_tensor *s = &b->g->tensors[from], *d = &b->g->tensors[to];
    if (!static_shape(s))
        return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "%s '%s' has a shape known only at run time (no static "
                            "program)", what, s->name);
    if (d->rank < 0 && (d->dtype == s->dtype || d->dtype == MQ_UNDEFINED)) {
        d->dtype = s->dtype;
        mq_tensor_set_shape(d, s->rank, s->dims);
    }
    if (d->dtype != s->dtype || d->rank < 0 || mq_numel(d) != mq_numel(s) || (exact && !mq_shape_equal(d, s))) {
        char a[128], c[128];
        return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "%s '%s' is %s %s where '%s' is %s %s (no static "
                            "program)", what, s->name, mq_dtype_name(s->dtype), mq_shape_str(s, a, sizeof a),
                            d->name, mq_dtype_name(d->dtype), mq_shape_str(d, c, sizeof c));
    }
    int idx;
    return add_node(b, n, &copy_def, 1, &from, 1, &to, &idx);
}

/* Row `counter` of stacked tensor st (put: written from row, else read into row) along axis; the row
 * has st's dims but the axis and the first `lead` (Scan-8's batch of one). */
static mq_status stack(fb *b, const mq_node *n, int put, int st, int row, int counter, int64_t axis, int64_t rev,
                       int lead)
{
    mq_graph *g = b->g;
    mq_tensor *s = &g->tensors[st], *r = &g->tensors[row];
    if (!static_shape(s) || !static_shape(r) || s->dtype != r->dtype || s->rank != r->rank + 1 + lead ||
        axis < lead || axis >= s->rank)
        return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "scan value '%s' and its row '%s' have no static shapes "
                            "that match", s->name, r->name);
    for (int d = 0; d < s->rank; d++) {
        if (d < axis && s->dims[d] != 1)
            return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "scan axis %lld of '%s' is not its outermost "
                                "dimension of size > 1 (no contiguous rows)", (long long)axis, s->name);
        if (d >= lead && d != axis && s->dims[d] != r->dims[d < axis ? d - lead : d - lead - 1])
            return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "scan value '%s' does not stack rows '%s'", s->name,
                                r->name);
    }
    mq_attr *at = mq_arena_array(g->arena, 3, sizeof *at);
    if (!at) return mq_fail(b->err, MQ_ERR_NOMEM, "out of memory flattening control flow");
    at[0] = (mq_attr){.name = "put", .type = MQ_ATTR_INT, .i = put};
    at[1] = (mq_attr){.name = "axis", .type = MQ_ATTR_INT, .i = axis};
    at[2] = (mq_attr){.name = "reverse", .type = MQ_ATTR_INT, .i = rev};
    int in[2] = {put ? row : st, counter}, out = put ? st : row, idx;
    MQ_TRY(add_node(b, n, &stack_def, 2, in, 1, &out, &idx));
    g->nodes[idx].attrs = at;
    g->nodes[idx].n_attr = 3;
    return MQ_OK;
}

/* The flat ids of subgraph s of node n (whose graph's ids map through pm): captures are the outer
 * values the node passes as hidden inputs; every other tensor is new. */
static mq_status sub_map(fb *b, const mq_node *n, const int *pm, const mq_graph *s, int **out)
{
    int *m = mq_arena_array(b->g->arena, (size_t)s->n_tensors + 1, sizeof(int));
    if (!m) return mq_fail(b->err, MQ_ERR_NOMEM, "out of memory flattening control flow");
    for (int t = 0; t < s->n_tensors; t++) m[t] = -1;
    int nf = s->n_inputs - s->n_captures;
    if (s->n_captures != n->n_hidden_in)
        return mq_node_fail(b->err, n, MQ_ERR_INVALID, "a subgraph reads %d outer values, the node passes %d",
                            s->n_captures, n->n_hidden_in);
    for (int c = 0; c < s->n_captures; c++) m[s->inputs[nf + c]] = pm[n->in[n->n_in - n->n_hidden_in + c]];
    for (int t = 0; t < s->n_tensors; t++)
        if (m[t] < 0 && (m[t] = new_tensor(b, &s->tensors[t])) < 0)
            return mq_fail(b->err, MQ_ERR_LIMIT, "flattening control flow: too many tensors");
    *out = m;
    return MQ_OK;
}

static const mq_graph *graph_attr(const mq_node *n, const char *name)
{
    const mq_attr *a = mq_attr_get(n, name);
    return a && a->type == MQ_ATTR_GRAPH ? a->g : NULL;
}

static mq_status emit_nodes(fb *b, const mq_graph *s, const int *map, int depth);

static mq_status emit_if(fb *b, const mq_node *n, const int *pm, int depth)
{
    const mq_graph *br[2] = {graph_attr(n, "then_branch"), graph_attr(n, "else_branch")};
    if (!br[0] || !br[1]) return mq_node_fail(b->err, n, MQ_ERR_INVALID, "missing a branch");
    int cond = pm[n->in[0]], marker = -1; /* set by the first add_node (gcc -O3 cannot see it) */
    const mq_tensor *c = &b->g->tensors[cond];
    if (c->dtype != MQ_BOOL || mq_numel(c) != 1)
        return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "cond must be one static bool");
    MQ_TRY(add_node(b, n, NULL, 1, &cond, 0, NULL, &marker));
    b->f->kind[marker] = MQ_FLAT_IF;
    for (int k = 0; k < 2; k++) {
        int *m;
        MQ_TRY(sub_map(b, n, pm, br[k], &m));
        MQ_TRY(emit_nodes(b, br[k], m, depth + 1));
        if (br[k]->n_outputs != n->n_out) return mq_node_fail(b->err, n, MQ_ERR_INVALID, "branch outputs");
        for (int o = 0; o < n->n_out; o++)
            if (n->out[o] >= 0) MQ_TRY(copy(b, n, m[br[k]->outputs[o]], pm[n->out[o]], k ? "else output" : "then output", 1));
        if (k == 0) b->f->end1[marker] = b->g->n_nodes;
        else b->f->end2[marker] = b->g->n_nodes;
    }
    return MQ_OK;
}

/* The end of an iteration: copies from[k] -> to[k] (skipping a value copied onto itself). A source
 * that an earlier copy overwrites would be read too late: such permutations are not supported. */
static mq_status carry(fb *b, const mq_node *n, int cnt, const int *from, const int *to)
{
    for (int k = 0; k < cnt; k++)
        for (int j = 0; j < cnt; j++)
            if (j != k && from[k] == to[j] && from[j] != to[j])
                return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "the body passes carried values on in another "
                                    "order (not supported)");
    for (int k = 0; k < cnt; k++)
        if (from[k] != to[k]) MQ_TRY(copy(b, n, from[k], to[k], "carried value", 1));
    return MQ_OK;
}

static mq_status begin_loop(fb *b, const mq_node *n, int cond, int counter, int64_t trip, int must, int *marker)
{
    MQ_TRY(add_node(b, n, NULL, 1, &cond, 1, &counter, marker));
    b->f->kind[*marker] = MQ_FLAT_LOOP;
    b->f->trip[*marker] = trip;
    b->f->must_complete[*marker] = must;
    return MQ_OK;
}

static mq_status end_loop(fb *b, int marker)
{
    if (b->f->n_loops >= b->cap_loops) return mq_fail(b->err, MQ_ERR_LIMIT, "flattening control flow: loops");
    b->f->end1[marker] = b->g->n_nodes;
    b->f->loop_first[b->f->n_loops] = marker;
    b->f->loop_last[b->f->n_loops++] = b->g->n_nodes - 1;
    return MQ_OK;
}

/* The body's iteration number and condition inputs of map m: int64 and bool scalars. */
static mq_status loop_scalars(fb *b, const mq_node *n, const mq_graph *body, const int *m)
{
    mq_tensor *it = &b->g->tensors[m[body->inputs[0]]], *ct = &b->g->tensors[m[body->inputs[1]]];
    if (it->rank < 0) mq_tensor_set_shape(it, 0, NULL);
    if (ct->rank < 0) mq_tensor_set_shape(ct, 0, NULL);
    if (it->dtype != MQ_I64 || mq_numel(it) != 1 || ct->dtype != MQ_BOOL || mq_numel(ct) != 1)
        return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "the body's iteration number or condition is not a scalar");
    return MQ_OK;
}

/* Loop n as one LOOP step over its body (unroll 0), or unrolled: iteration i is a LOOP step of one trip
 * (so a false condition skips the rest, an error with scan outputs as in the loop) over a fresh copy of
 * the body whose iteration number is the constant i, so shapes that depend on it fold. Either way the
 * state (condition, carried values) lives in the first map's tensors, and each iteration writes row i
 * of every scan output. */
static mq_status emit_loop_as(fb *b, const mq_node *n, const int *pm, int depth, int unroll)
{
    const mq_graph *body = graph_attr(n, "body");
    mq_graph *g = b->g;
    int nd = n->n_in - n->n_hidden_in, nc = nd - 2, ns = n->n_out - nc;
    if (!body || nc < 0 || ns < 0 || body->n_inputs - body->n_captures != 2 + nc || body->n_outputs != 1 + n->n_out)
        return mq_node_fail(b->err, n, MQ_ERR_INVALID, "inputs and outputs do not match the body");
    const mq_tensor *mt = n->in[0] >= 0 ? &g->tensors[pm[n->in[0]]] : NULL;
    if (!mt || !mt->data || mq_numel(mt) != 1)
        return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "the trip count M is not a constant (a static program "
                            "needs a bound; freeze it with --const)");
    int64_t trip = mq_load_i64(mt->data, mt->dtype, 0);
    if (trip < 0) trip = 0;
    if (trip > INT32_MAX) return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "trip count %lld", (long long)trip);
    int *m0;
    MQ_TRY(sub_map(b, n, pm, body, &m0)); /* the state tensors (and the body itself when not unrolled) */
    MQ_TRY(loop_scalars(b, n, body, m0));
    int cin = m0[body->inputs[1]], cond0 = n->in[1] >= 0 ? pm[n->in[1]] : -1;
    if (cond0 < 0) {
        mq_tensor one = {.name = "true", .dtype = MQ_BOOL, .rank = 0, .data = (void *)&true_byte, .is_const = 1};
        if ((cond0 = new_tensor(b, &one)) < 0) return mq_fail(b->err, MQ_ERR_LIMIT, "too many tensors");
        g->tensors[cond0].is_const = 1;
    }
    MQ_TRY(copy(b, n, cond0, cin, "cond", 0));
    int *from = mq_arena_array(g->arena, (size_t)nc + 2, sizeof(int));
    int *to = mq_arena_array(g->arena, (size_t)nc + 2, sizeof(int));
    int64_t *iters = unroll ? mq_arena_array(g->arena, (size_t)trip + 1, sizeof(int64_t)) : NULL;
    if (!from || !to || (unroll && !iters)) return mq_fail(b->err, MQ_ERR_NOMEM, "out of memory flattening control flow");
    for (int k = 0; k < nc; k++) MQ_TRY(copy(b, n, pm[n->in[2 + k]], m0[body->inputs[2 + k]], "initial value", 1));
    for (int64_t i = 0; i < (unroll ? trip : 1); i++) {
        int *m = m0, marker;
        if (unroll) {
            MQ_TRY(sub_map(b, n, pm, body, &m));
            for (int k = 1; k < 2 + nc; k++) m[body->inputs[k]] = m0[body->inputs[k]];
            MQ_TRY(loop_scalars(b, n, body, m));
            mq_tensor *it = &g->tensors[m[body->inputs[0]]];
            iters[i] = i;
            it->data = &iters[i];
            it->is_const = 1;
        }
        MQ_TRY(begin_loop(b, n, cin, unroll ? -1 : m[body->inputs[0]], unroll ? 1 : trip, ns > 0, &marker));
        MQ_TRY(emit_nodes(b, body, m, depth + 1));
        for (int j = 0; j < ns; j++) { /* scan outputs first: they read this iteration's values */
            int o = n->out[nc + j];
            if (o < 0) continue;
            mq_tensor *row = &g->tensors[m[body->outputs[1 + nc + j]]], *st = &g->tensors[pm[o]];
            if (!static_shape(row))
                return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "scan output '%s' has a shape known only at run time",
                                    row->name);
            int64_t dims[MQ_MAX_RANK];
            if (row->rank + 1 > MQ_MAX_RANK) return mq_node_fail(b->err, n, MQ_ERR_LIMIT, "scan output rank");
            dims[0] = trip;
            for (int d = 0; d < row->rank; d++) dims[d + 1] = row->dims[d];
            if (i == 0) {
                st->dtype = row->dtype;
                mq_tensor_set_shape(st, row->rank + 1, dims);
            }
            MQ_TRY(stack(b, n, 1, pm[o], m[body->outputs[1 + nc + j]], m[body->inputs[0]], 0, 0, 0));
        }
        from[0] = m[body->outputs[0]];
        to[0] = cin;
        for (int k = 0; k < nc; k++) {
            from[1 + k] = m[body->outputs[1 + k]];
            to[1 + k] = m0[body->inputs[2 + k]];
        }
        MQ_TRY(carry(b, n, 1 + nc, from, to));
        MQ_TRY(end_loop(b, marker));
    }
    for (int k = 0; k < nc; k++)
        if (n->out[k] >= 0) MQ_TRY(copy(b, n, m0[body->inputs[2 + k]], pm[n->out[k]], "final value", 1));
    return MQ_OK;
}

/* Loop n of graph s: as a LOOP step over its body; if a shape inside depends on the iteration number
 * and the trip count is a small constant, unrolled instead (what the first attempt added is dropped). */
static mq_status emit_loop(fb *b, const mq_graph *s, const mq_node *n, const int *pm, int depth)
{
    int64_t trip = unroll_trip(s, n);
    if (!trip) return emit_loop_as(b, n, pm, depth, 0);
    mq_graph *g = b->g;
    int nn0 = g->n_nodes, nt0 = g->n_tensors, nl0 = b->f->n_loops;
    int *prod = mq_malloc(sizeof(int) * ((size_t)nt0 + 1));
    mq_tensor *outs = mq_malloc(sizeof(mq_tensor) * ((size_t)n->n_out + 1));
    if (!prod || !outs) {
        mq_free(prod);
        mq_free(outs);
        return mq_fail(b->err, MQ_ERR_NOMEM, "out of memory flattening control flow");
    }
    for (int t = 0; t < nt0; t++) prod[t] = g->tensors[t].producer;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0) outs[k] = g->tensors[pm[n->out[k]]];
    mq_err e = {0};
    fb b2 = *b;
    b2.err = &e;
    mq_status st = emit_loop_as(&b2, n, pm, depth, 0);
    if (st == MQ_ERR_UNSUPPORTED) { /* drop the attempt: nodes, tensors, loops, producers, output shapes */
        for (int j = nn0; j < g->n_nodes; j++)
            b->f->kind[j] = b->f->end1[j] = b->f->end2[j] = b->f->must_complete[j] = 0, b->f->trip[j] = 0;
        g->n_nodes = nn0;
        g->n_tensors = nt0;
        b->f->n_loops = nl0;
        for (int t = 0; t < nt0; t++) g->tensors[t].producer = prod[t];
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) g->tensors[pm[n->out[k]]] = outs[k];
    }
    mq_free(prod);
    mq_free(outs);
    if (st == MQ_ERR_UNSUPPORTED) return emit_loop_as(b, n, pm, depth, 1);
    if (st != MQ_OK) *b->err = e;
    return st;
}

static mq_status emit_scan(fb *b, const mq_node *n, const int *pm, int depth)
{
    const mq_graph *body = graph_attr(n, "body");
    int v8 = n->opset < 9, off = v8 ? 1 : 0, nd = n->n_in - n->n_hidden_in;
    int64_t nsc = mq_attr_int(n, "num_scan_inputs", -1);
    if (!body || nsc < 1 || nsc > nd - off) return mq_node_fail(b->err, n, MQ_ERR_INVALID, "num_scan_inputs");
    int nst = nd - off - (int)nsc, nso = n->n_out - nst;
    if (nso < 0 || body->n_inputs - body->n_captures != nst + nsc || body->n_outputs != n->n_out)
        return mq_node_fail(b->err, n, MQ_ERR_INVALID, "inputs and outputs do not match the body");
    if (v8 && n->in[0] >= 0)
        return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "sequence_lens (per-batch lengths) has no static program");
    const int64_t *iax = NULL, *idir = NULL, *oax = NULL, *odir = NULL;
    int nia = v8 ? -1 : mq_attr_ints(n, "scan_input_axes", &iax);
    int nid = mq_attr_ints(n, v8 ? "directions" : "scan_input_directions", &idir);
    int noa = v8 ? -1 : mq_attr_ints(n, "scan_output_axes", &oax);
    int nod = v8 ? -1 : mq_attr_ints(n, "scan_output_directions", &odir);
    int *m;
    MQ_TRY(sub_map(b, n, pm, body, &m));
    mq_tensor proto = {.name = n->name[0] ? n->name : "scan", .dtype = MQ_I64, .rank = 0};
    int counter = new_tensor(b, &proto);
    if (counter < 0) return mq_fail(b->err, MQ_ERR_LIMIT, "too many tensors");
    /* the iteration count and each scan input's axis */
    int64_t len = -1, axis[64];
    if (nsc > 64) return mq_node_fail(b->err, n, MQ_ERR_LIMIT, "more than 64 scan inputs");
    for (int j = 0; j < nsc; j++) {
        const mq_tensor *x = &b->g->tensors[pm[n->in[off + nst + j]]];
        if (!static_shape(x))
            return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "scan input '%s' has a shape known only at run time",
                                x->name);
        axis[j] = v8 ? 1 : nia > j ? iax[j] : 0;
        if (axis[j] < 0) axis[j] += x->rank;
        if (axis[j] < 0 || axis[j] >= x->rank) return mq_node_fail(b->err, n, MQ_ERR_INVALID, "scan input axis");
        if (len >= 0 && x->dims[axis[j]] != len)
            return mq_node_fail(b->err, n, MQ_ERR_INVALID, "scan inputs of different lengths");
        len = x->dims[axis[j]];
        mq_tensor *row = &b->g->tensors[m[body->inputs[nst + j]]];
        if (!static_shape(row)) {
            int64_t dims[MQ_MAX_RANK];
            int e = 0;
            for (int d = v8; d < x->rank; d++)
                if (d != axis[j]) dims[e++] = x->dims[d];
            row->dtype = x->dtype;
            mq_tensor_set_shape(row, e, dims);
        }
    }
    for (int k = 0; k < nst; k++) MQ_TRY(copy(b, n, pm[n->in[off + k]], m[body->inputs[k]], "initial state", !v8));
    int marker;
    MQ_TRY(begin_loop(b, n, -1, counter, len, 0, &marker));
    for (int j = 0; j < nsc; j++)
        MQ_TRY(stack(b, n, 0, pm[n->in[off + nst + j]], m[body->inputs[nst + j]], counter, axis[j],
                     nid > j ? idir[j] : 0, v8));
    MQ_TRY(emit_nodes(b, body, m, depth + 1));
    for (int j = 0; j < nso; j++) {
        int o = n->out[nst + j];
        if (o < 0) continue;
        mq_tensor *row = &b->g->tensors[m[body->outputs[nst + j]]], *st = &b->g->tensors[pm[o]];
        if (!static_shape(row) || row->rank + 1 + v8 > MQ_MAX_RANK)
            return mq_node_fail(b->err, n, MQ_ERR_UNSUPPORTED, "scan output '%s' has a shape known only at run time",
                                row->name);
        int64_t ax = v8 ? 1 : noa > j ? oax[j] : 0, dims[MQ_MAX_RANK];
        if (ax < 0) ax += row->rank + 1;
        if (ax < 0 || ax > row->rank) return mq_node_fail(b->err, n, MQ_ERR_INVALID, "scan output axis");
        int r = 0;
        if (v8) dims[r++] = 1; /* the batch (one) */
        for (int d = 0; d <= row->rank; d++) {
            if (d == ax - v8) dims[r++] = len;
            if (d < row->rank) dims[r++] = row->dims[d];
        }
        st->dtype = row->dtype;
        mq_tensor_set_shape(st, r, dims);
        MQ_TRY(stack(b, n, 1, pm[o], m[body->outputs[nst + j]], counter, ax, nod > j ? odir[j] : 0, v8));
    }
    int *from = mq_arena_array(b->g->arena, (size_t)nst + 1, sizeof(int));
    int *to = mq_arena_array(b->g->arena, (size_t)nst + 1, sizeof(int));
    if (!from || !to) return mq_fail(b->err, MQ_ERR_NOMEM, "out of memory flattening control flow");
    for (int k = 0; k < nst; k++) {
        from[k] = m[body->outputs[k]];
        to[k] = m[body->inputs[k]];
    }
    MQ_TRY(carry(b, n, nst, from, to));
    MQ_TRY(end_loop(b, marker));
    for (int k = 0; k < nst; k++)
        if (n->out[k] >= 0) {
            mq_tensor *o = &b->g->tensors[pm[n->out[k]]];
            const mq_tensor *init = &b->g->tensors[pm[n->in[off + k]]];
            if (!static_shape(o) && static_shape(init)) {
                o->dtype = init->dtype;
                mq_tensor_set_shape(o, init->rank, init->dims);
            }
            MQ_TRY(copy(b, n, m[body->inputs[k]], pm[n->out[k]], "final state", !v8));
        }
    return MQ_OK;
}

/* A node whose output shape was run-time at import may be static now: its inputs come from a control
 * node's outputs (shaped here) or from a body's formal inputs (shaped from the node's values). Infer it
 * again on the flat tensors; if it still cannot, lowering reports the node. */
static void reinfer(fb *b, mq_node *f)
{
    const mq_tensor *in[64];
    mq_tensor *out[64];
    int stale = 0;
    if (!f->def || !f->def->infer || f->n_in > 64 || f->n_out > 64) return;
    for (int k = 0; k < f->n_out; k++) stale |= f->out[k] >= 0 && b->g->tensors[f->out[k]].rank < 0;
    for (int k = 0; k < f->n_in; k++) {
        in[k] = f->in[k] >= 0 ? &b->g->tensors[f->in[k]] : NULL;
        if (in[k] && in[k]->rank < 0) stale = 0; /* an input still run-time: nothing to gain */
    }
    if (!stale) return;
    mq_tensor saved[64];
    for (int k = 0; k < f->n_out; k++) {
        out[k] = f->out[k] >= 0 ? &b->g->tensors[f->out[k]] : NULL;
        if (out[k]) saved[k] = *out[k];
    }
    mq_err e = {0};
    if (f->def->infer(f, in, out, &e) != MQ_OK) /* leave them as they were: lowering says why */
        for (int k = 0; k < f->n_out; k++)
            if (out[k]) *out[k] = saved[k];
}

/* A node whose inputs are all constants in the flat graph (an unrolled body's, reading the iteration
 * number) is evaluated now, as import folds: its outputs become constants and it does not run. */
static mq_status fold(fb *b, const mq_node *n, const int *ip, const int *op, int *folded)
{
    const mq_tensor *in[64];
    mq_tensor *out[64], tmp[64];
    *folded = 0;
    if (!n->def || !n->def->forward || n->def->nondeterministic || n->n_hidden_in || n->n_in > 64 || n->n_out > 64)
        return MQ_OK;
    for (int k = 0; k < n->n_in; k++) {
        in[k] = ip[k] >= 0 ? &b->g->tensors[ip[k]] : NULL;
        if (in[k] && (!in[k]->data || in[k]->rank < 0)) return MQ_OK;
    }
    for (int k = 0; k < n->n_out; k++) {
        out[k] = NULL;
        if (op[k] < 0) continue;
        tmp[k] = b->g->tensors[op[k]];
        tmp[k].data = NULL;
        out[k] = &tmp[k];
    }
    mq_status st = mq_exec_node(n, in, out, b->err);
    for (int k = 0; st == MQ_OK && k < n->n_out; k++) {
        if (!out[k]) continue;
        size_t nb = mq_nbytes(&tmp[k]);
        void *d = mq_arena_alloc(b->g->arena, nb ? nb : 1);
        if (!d) st = mq_fail(b->err, MQ_ERR_NOMEM, "out of memory folding constants");
        else if (nb) memcpy(d, tmp[k].data, nb);
        mq_tensor *t = &b->g->tensors[op[k]];
        t->dtype = tmp[k].dtype;
        mq_tensor_set_shape(t, tmp[k].rank, tmp[k].dims);
        t->data = d;
        t->is_const = 1;
    }
    for (int k = 0; k < n->n_out; k++)
        if (out[k]) mq_free(tmp[k].data);
    *folded = st == MQ_OK;
    return st;
}

static mq_status emit_nodes(fb *b, const mq_graph *s, const int *map, int depth)
{
    if (depth > MAX_DEPTH) return mq_fail(b->err, MQ_ERR_LIMIT, "control flow nested deeper than %d", MAX_DEPTH);
    for (int i = 0; i < s->n_nodes; i++) {
        const mq_node *n = &s->nodes[i];
        if (!node_runs(s, n)) continue;
        if (is_control(n)) {
            if (!strcmp(n->op_type, "If")) MQ_TRY(emit_if(b, n, map, depth));
            else if (!strcmp(n->op_type, "Loop")) MQ_TRY(emit_loop(b, s, n, map, depth));
            else MQ_TRY(emit_scan(b, n, map, depth));
            continue;
        }
        int in[64], out[64], *ip = in, *op = out, idx = -1; /* -1: set by add_node (gcc -O3 cannot see it) */
        if (n->n_in > 64 || n->n_out > 64) {
            ip = mq_arena_array(b->g->arena, (size_t)n->n_in + 1, sizeof(int));
            op = mq_arena_array(b->g->arena, (size_t)n->n_out + 1, sizeof(int));
            if (!ip || !op) return mq_fail(b->err, MQ_ERR_NOMEM, "out of memory flattening control flow");
        }
        for (int k = 0; k < n->n_in; k++) ip[k] = n->in[k] >= 0 ? map[n->in[k]] : -1;
        for (int k = 0; k < n->n_out; k++) op[k] = n->out[k] >= 0 ? map[n->out[k]] : -1;
        int folded;
        MQ_TRY(fold(b, n, ip, op, &folded));
        if (folded) continue;
        MQ_TRY(add_node(b, n, n->def, n->n_in, ip, n->n_out, op, &idx));
        mq_node *f = &b->g->nodes[idx];
        f->attrs = n->attrs;
        f->n_attr = n->n_attr;
        f->n_hidden_in = n->n_hidden_in;
        reinfer(b, f);
    }
    return MQ_OK;
}

void mq_flat_free(mq_flat *f)
{
    if (!f) return;
    mq_graph_free(f->g);
    memset(f, 0, sizeof *f);
}

mq_status mq_flatten(const mq_graph *g, mq_flat *f, mq_err *err)
{
    memset(f, 0, sizeof *f);
    int64_t nt = g->n_tensors, nn = g->n_nodes, nl = 0;
    int any = 0;
    count(g, &nt, &nn, &nl, &any);
    if (!any) return MQ_OK;
    if (nt > INT32_MAX / 4 || nn > INT32_MAX / 4) return mq_fail(err, MQ_ERR_LIMIT, "control flow: graph too large");
    MQ_TRY(mq_graph_new((int)nt, (int)nn, &f->g, err));
    mq_graph *F = f->g;
    mq_arena *a = F->arena;
    fb b = {.f = f, .g = F, .err = err, .cap_loops = (int)nl};
    f->kind = mq_arena_array(a, (size_t)nn + 1, sizeof(int));
    f->end1 = mq_arena_array(a, (size_t)nn + 1, sizeof(int));
    f->end2 = mq_arena_array(a, (size_t)nn + 1, sizeof(int));
    f->must_complete = mq_arena_array(a, (size_t)nn + 1, sizeof(int));
    f->trip = mq_arena_array(a, (size_t)nn + 1, sizeof(int64_t));
    f->loop_first = mq_arena_array(a, (size_t)nl + 1, sizeof(int));
    f->loop_last = mq_arena_array(a, (size_t)nl + 1, sizeof(int));
    int *map = mq_arena_array(a, (size_t)g->n_tensors + 1, sizeof(int));
    F->inputs = mq_arena_array(a, (size_t)g->n_inputs + 1, sizeof(int));
    F->outputs = mq_arena_array(a, (size_t)g->n_outputs + 1, sizeof(int));
    mq_status st = MQ_OK;
    if (!f->kind || !f->end1 || !f->end2 || !f->must_complete || !f->trip || !f->loop_first || !f->loop_last ||
        !map || !F->inputs || !F->outputs) {
        st = mq_fail(err, MQ_ERR_NOMEM, "out of memory flattening control flow");
    } else {
        /* the source's tensors keep their ids; its inputs and outputs stay the flat graph's */
        for (int t = 0; t < g->n_tensors; t++) {
            F->tensors[t] = g->tensors[t];
            F->tensors[t].producer = -1;
            map[t] = t;
        }
        F->n_tensors = g->n_tensors;
        F->n_inputs = g->n_inputs;
        F->n_outputs = g->n_outputs;
        memcpy(F->inputs, g->inputs, sizeof(int) * (size_t)g->n_inputs);
        memcpy(F->outputs, g->outputs, sizeof(int) * (size_t)g->n_outputs);
        F->opset = g->opset;
        F->path = g->path;
        F->name = g->name;
        st = emit_nodes(&b, g, map, 0);
    }
    if (st != MQ_OK) mq_flat_free(f);
    return st;
}
