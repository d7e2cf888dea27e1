/* program.c: lowering a graph to the backends' program (program.h): each running node's `lower`
 * picks a runtime kernel and its parameters; the planner places the tensors; constants become weights. */
#include "backend/program.h"

#include "backend/fuse.h"
#include "backend/flatten.h"

#include "core/op.h"
#include "runtime/maqdrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODE_IO 1024

void mq_program_opts_init(mq_program_opts *o)
{
    memset(o, 0, sizeof *o);
    o->outputs_in_arena = 1;
    o->align = MQ_PLAN_DEFAULT_ALIGN;
}

void mq_program_free(mq_program *p)
{
    if (!p) return;
    mq_arena_free(p->mem);
    mq_graph_free(p->flat);
    memset(p, 0, sizeof *p);
}

/* As the executor and the planner: a node runs unless every present output was folded at import. */
static int node_runs(const mq_graph *g, const mq_node *n)
{
    if (n->n_out == 0) return 1;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0 && !g->tensors[n->out[k]].is_const) return 1;
    return 0;
}

/* The list of nodes that cannot be lowered, one line each, kept within the error message size. */
typedef struct report {
    char buf[MQ_ERR_MSG_MAX - 128];
    size_t len;
    int n, n_dropped;
} report;

static void report_add(report *r, const char *line)
{
    size_t l = strlen(line);
    while (l && line[l - 1] == '\n') l--;
    r->n++;
    if (r->len + l + 2 > sizeof r->buf) {
        r->n_dropped++;
        return;
    }
    memcpy(r->buf + r->len, line, l);
    r->len += l;
    r->buf[r->len++] = '\n';
    r->buf[r->len] = 0;
}

typedef struct builder {
    const mq_graph *g;
    mq_program *p;
    mq_plan plan;
    const mq_program_opts *o;
    const mq_flat *flat;       /* control flow: g is flat->g; NULL without */
    int *prog_of;              /* graph tensor id -> program tensor index, -1 */
    int cap_tensors, cap_weights;
    mq_tensor *bounds;         /* per graph tensor id: the upper bound of a data-dependent shape, or rank -1 */
    int n_extra;               /* actual-dims outputs of all steps (one per bounded output) */
} builder;

static mq_status describe(builder *b, int gid, mq_prog_tensor *pt, mq_err *err)
{
    const mq_tensor *t = &b->g->tensors[gid];
    const char *nm = t->name ? t->name : "";
    memset(pt, 0, sizeof *pt);
    pt->name = nm;
    pt->graph_id = gid;
    pt->shape = -1;
    if (t->rank < 0 && b->bounds[gid].rank >= 0) t = &b->bounds[gid]; /* planned at its upper bound */
    if (t->rank < 0)
        return mq_fail(err, MQ_ERR_SHAPE, "tensor '%s' has a shape known only at run time: no static program", nm);
    if (t->rank > MQR_MAX_RANK) return mq_fail(err, MQ_ERR_LIMIT, "tensor '%s' has rank %d > %d", nm, t->rank, MQR_MAX_RANK);
    size_t es = mqr_dtype_size((int32_t)t->dtype);
    if (es == 0)
        return mq_fail(err, MQ_ERR_UNSUPPORTED, "tensor '%s' has dtype %s, which the runtime does not hold", nm,
                       mq_dtype_name(t->dtype));
    int64_t ne = 1;
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0 || t->dims[d] > INT32_MAX || (ne *= t->dims[d]) > INT32_MAX)
            return mq_fail(err, MQ_ERR_LIMIT, "tensor '%s' has more than 2^31-1 elements", nm);
        pt->dims[d] = (int32_t)t->dims[d];
    }
    pt->dtype = (int32_t)t->dtype;
    pt->rank = t->rank;
    pt->bytes = (size_t)ne * es;
    return MQ_OK;
}

/* The program tensor of graph tensor gid, added on first use. */
static mq_status tensor_of(builder *b, int gid, int *out, mq_err *err)
{
    const mq_graph *g = b->g;
    mq_program *p = b->p;
    if (gid < 0) {
        *out = -1;
        return MQ_OK;
    }
    if (b->prog_of[gid] >= 0) {
        *out = b->prog_of[gid];
        return MQ_OK;
    }
    if (p->n_tensors >= b->cap_tensors) return mq_fail(err, MQ_ERR_LIMIT, "program: too many tensors");
    mq_prog_tensor *pt = &p->tensors[p->n_tensors];
    MQ_TRY(describe(b, gid, pt, err));
    const mq_tensor *t = &g->tensors[gid];
    const mq_plan_tensor *pl = mq_plan_find(&b->plan, gid);
    int k;
    if (t->is_input) {
        for (k = 0; k < g->n_inputs && g->inputs[k] != gid; k++) {
        }
        if (k == g->n_inputs) return mq_fail(err, MQ_ERR_INVALID, "tensor '%s' is marked input but is not one", pt->name);
        pt->loc = MQ_LOC_INPUT;
        pt->index = k;
    } else if (pl) {
        pt->loc = MQ_LOC_ARENA;
        pt->offset = pl->offset;
    } else if (t->is_output && !t->is_const && t->producer >= 0) {
        for (k = 0; k < g->n_outputs && g->outputs[k] != gid; k++) {
        }
        if (k == g->n_outputs) return mq_fail(err, MQ_ERR_INVALID, "tensor '%s' is marked output but is not one", pt->name);
        pt->loc = MQ_LOC_OUTPUT;
        pt->index = k;
    } else if (t->data) {
        if (p->n_weights >= b->cap_weights) return mq_fail(err, MQ_ERR_LIMIT, "program: too many weights");
        pt->loc = MQ_LOC_WEIGHT;
        pt->index = p->n_weights;
        p->weights[p->n_weights++] = (mq_prog_weight){p->n_tensors, t->data, pt->bytes};
        if (mq_add_size(p->weight_bytes, pt->bytes, &p->weight_bytes))
            return mq_fail(err, MQ_ERR_LIMIT, "program: weights overflow");
    } else {
        return mq_fail(err, MQ_ERR_INVALID, "tensor '%s' has no value: not an input, a constant or computed", pt->name);
    }
    b->prog_of[gid] = *out = p->n_tensors++;
    return MQ_OK;
}

/* A new step for node i with its index lists allocated (filled in build step 3); n_extra: actual-dims
 * outputs after the node's outputs (bounded outputs, mq_kcall.bounded). */
static mq_status new_step(builder *b, int i, const char *kernel, int n_p, int n_extra, mq_prog_step **out, mq_err *err)
{
    const mq_node *n = &b->g->nodes[i];
    mq_program *p = b->p;
    mq_prog_step *s = &p->steps[p->n_steps++];
    s->node = i;
    s->name = n->name;
    s->op_type = n->op_type;
    s->kernel = kernel;
    s->n_p = n_p;
    s->n_in = n->n_in;
    s->n_out = n->n_out + n_extra;
    s->p = mq_arena_array(p->mem, (size_t)n_p + 1, sizeof(int32_t));
    s->in = mq_arena_array(p->mem, (size_t)n->n_in + 1, sizeof(int));
    s->out = mq_arena_array(p->mem, (size_t)s->n_out + 1, sizeof(int));
    if (!s->p || !s->in || !s->out) return mq_fail(err, MQ_ERR_NOMEM, "out of memory building the program");
    *out = s;
    return MQ_OK;
}

/* A control marker of the flattened graph: an IF or LOOP step (parameters set by control_params). */
static mq_status control_step(builder *b, int i, mq_err *err)
{
    mq_prog_step *s;
    int kind = b->flat->kind[i] == MQ_FLAT_IF ? MQ_STEP_IF : MQ_STEP_LOOP;
    MQ_TRY(new_step(b, i, NULL, kind == MQ_STEP_IF ? 2 : 3, 0, &s, err));
    s->kind = kind;
    return MQ_OK;
}

/* Sub-program lengths in steps, from the flat graph's node ranges. */
static mq_status control_params(builder *b, mq_err *err)
{
    const mq_graph *g = b->g;
    mq_program *p = b->p;
    int *before = mq_calloc((size_t)g->n_nodes + 2, sizeof(int)); /* steps of nodes < j */
    if (!before) return mq_fail(err, MQ_ERR_NOMEM, "out of memory building the program");
    for (int s = 0, j = 0; j <= g->n_nodes; j++) {
        while (s < p->n_steps && p->steps[s].node < j) s++;
        before[j] = s;
    }
    for (int s = 0; s < p->n_steps; s++) {
        mq_prog_step *x = &p->steps[s];
        int i = x->node;
        if (x->kind == MQ_STEP_IF) {
            x->p[0] = before[b->flat->end1[i]] - (s + 1);
            x->p[1] = before[b->flat->end2[i]] - before[b->flat->end1[i]];
        } else if (x->kind == MQ_STEP_LOOP) {
            x->p[0] = before[b->flat->end1[i]] - (s + 1);
            x->p[1] = (int32_t)b->flat->trip[i];
            x->p[2] = b->flat->must_complete[i];
        }
    }
    mq_free(before);
    return MQ_OK;
}

/* The actual-dims outputs of step s (after node n's outputs, one per bounded output): int32 [rank]
 * tensors in their own region after the planned tensors (p->tensor_bytes grows), so they never share
 * bytes with anything. */
static mq_status shape_slots(builder *b, mq_prog_step *s, const mq_node *n, mq_err *err)
{
    mq_program *p = b->p;
    for (int k = 0, j = n->n_out; j < s->n_out; k++) {
        if (k >= n->n_out || k >= MQ_KCALL_MAX_BOUND)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "program: more actual-dims outputs than bounded outputs");
        int gid = n->out[k];
        if (!((s->bounded >> k) & 1u)) continue; /* a static output: no slot */
        if (gid < 0) { /* an absent bounded output: its slot is omitted too */
            s->out[j++] = -1;
            continue;
        }
        mq_prog_tensor *yt = &p->tensors[s->out[k]];
        if (p->n_tensors >= b->cap_tensors) return mq_fail(err, MQ_ERR_LIMIT, "program: too many tensors");
        mq_prog_tensor *pt = &p->tensors[p->n_tensors];
        memset(pt, 0, sizeof *pt);
        size_t l = strlen(yt->name) + 8;
        char *nm = mq_arena_alloc(p->mem, l);
        if (!nm) return mq_fail(err, MQ_ERR_NOMEM, "out of memory building the program");
        snprintf(nm, l, "%s:dims", yt->name);
        pt->name = nm;
        pt->graph_id = -1;
        pt->dtype = MQR_I32;
        pt->rank = 1;
        pt->dims[0] = yt->rank;
        pt->bytes = 4 * (size_t)yt->rank;
        pt->loc = MQ_LOC_ARENA;
        pt->shape = -1;
        p->tensor_bytes = (p->tensor_bytes + 3) & ~(size_t)3;
        pt->offset = p->tensor_bytes;
        if (mq_add_size(p->tensor_bytes, pt->bytes, &p->tensor_bytes))
            return mq_fail(err, MQ_ERR_LIMIT, "program: arena size overflows");
        yt->shape = p->n_tensors;
        s->out[j++] = p->n_tensors++;
        p->n_bounded++;
    }
    return MQ_OK;
}

/* Lower one node into a step; MQ_ERR_UNSUPPORTED goes to the report, other failures stop. */
static mq_status lower_node(builder *b, int i, report *rep, mq_err *err)
{
    const mq_graph *g = b->g;
    const mq_node *n = &g->nodes[i];
    mq_err e = {0};
    if (b->flat && b->flat->kind[i] != MQ_FLAT_NODE) return control_step(b, i, err);
    if (n->n_hidden_in > 0 || !n->def || !n->def->lower) {
        mq_node_fail(&e, n, MQ_ERR_UNSUPPORTED, "no runtime kernel for this op yet");
        report_add(rep, e.msg);
        return MQ_OK;
    }
    if (n->n_in > MAX_NODE_IO || n->n_out > MAX_NODE_IO)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "more than %d inputs or outputs", MAX_NODE_IO);
    const mq_tensor *in[MAX_NODE_IO + 1], *out[MAX_NODE_IO + 1];
    /* a shape known only at run time (it depends on values) has no static program: reported with the
     * rest; but an output may have a data-dependent shape with a static upper bound (mq_kcall.bounded),
     * which only graph outputs may carry: no node reads such a tensor */
    unsigned dyn_out = 0;
    for (int k = 0; k < n->n_in + n->n_out; k++) {
        int id = k < n->n_in ? n->in[k] : n->out[k - n->n_in];
        const mq_tensor *t = id >= 0 ? &g->tensors[id] : NULL;
        if (k < n->n_in) in[k] = t;
        else out[k - n->n_in] = t;
        if (t && t->rank < 0 && k < n->n_in && b->bounds[id].rank >= 0) {
            mq_node_fail(&e, n, MQ_ERR_UNSUPPORTED,
                         "input '%s' has a data-dependent shape (only an upper bound is known when compiling); "
                         "only a graph output may have one, no node may read it",
                         t->name);
            report_add(rep, e.msg);
            return MQ_OK;
        }
        if (t && t->rank < 0 && k >= n->n_in && k - n->n_in < MQ_KCALL_MAX_BOUND && n->def->bounded_out) {
            dyn_out |= 1u << (k - n->n_in);
            continue;
        }
        if (t && t->rank < 0) {
            mq_node_fail(&e, n, MQ_ERR_UNSUPPORTED, "%s '%s' has a shape known only at run time (no static program)",
                         k < n->n_in ? "input" : "output", t->name);
            report_add(rep, e.msg);
            return MQ_OK;
        }
        if (t && k >= n->n_in && t->is_const)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "output '%s' was folded but the node still runs", t->name);
    }
    mq_kcall kc;
    memset(&kc, 0, sizeof kc);
    mq_status st = n->def->lower(n, in, out, &kc, &e);
    if (st == MQ_ERR_UNSUPPORTED) {
        report_add(rep, e.msg);
        return MQ_OK;
    }
    if (st != MQ_OK) {
        *err = e;
        return st;
    }
    if (!kc.kernel || !mqr_kernel_find(kc.kernel)) {
        mq_node_fail(&e, n, MQ_ERR_UNSUPPORTED, "lowered to kernel '%s', which the runtime does not have",
                     kc.kernel ? kc.kernel : "(none)");
        report_add(rep, e.msg);
        return MQ_OK;
    }
    if (kc.n_p < 0 || kc.n_p > MQR_MAX_PARAMS)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "lower gave %d parameters", kc.n_p);
    int n_extra = 0;
    for (int k = 0; k < n->n_out && k < MQ_KCALL_MAX_BOUND; k++) {
        const mq_tensor *t = out[k];
        int bnd = (kc.bounded >> k) & 1u;
        if ((dyn_out >> k) & 1u && !bnd) {
            mq_node_fail(&e, n, MQ_ERR_UNSUPPORTED, "output '%s' has a shape known only at run time (no static program)",
                         t->name);
            report_add(rep, e.msg);
            return MQ_OK;
        }
        if (!bnd) continue;
        if (t && t->rank >= 0)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "lower bounds output '%s', whose shape is static", t->name);
        n_extra++;
        if (!t) continue;
        mq_tensor *bt = &b->bounds[n->out[k]];
        if (kc.bound_rank[k] < 1 || kc.bound_rank[k] > MQR_MAX_RANK)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "lower gave output '%s' a bound of rank %d", t->name,
                                kc.bound_rank[k]);
        bt->dtype = t->dtype;
        bt->rank = kc.bound_rank[k];
        for (int d = 0; d < bt->rank; d++) bt->dims[d] = kc.bound[k][d];
    }
    if (kc.bounded >> (n->n_out < MQ_KCALL_MAX_BOUND ? n->n_out : MQ_KCALL_MAX_BOUND))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "lower bounds an output the node does not have");
    b->n_extra += n_extra;
    if (kc.scratch_bytes > UINT32_MAX)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "scratch of %zu bytes", kc.scratch_bytes);
    mq_program *p = b->p;
    mq_prog_step *s;
    MQ_TRY(new_step(b, i, kc.kernel, kc.n_p, n_extra, &s, err));
    s->bounded = kc.bounded;
    s->scratch_bytes = kc.scratch_bytes;
    if (kc.n_p) memcpy(s->p, kc.p, sizeof(int32_t) * (size_t)kc.n_p);
    if (kc.scratch_bytes > p->scratch_bytes) p->scratch_bytes = kc.scratch_bytes;
    return MQ_OK;
}

int mq_program_static_inputs(const mq_graph *g, unsigned char *is_static, mq_err *err)
{
    unsigned char *need = mq_calloc((size_t)g->n_tensors + 1, 1);
    if (!need) {
        mq_fail(err, MQ_ERR_NOMEM, "out of memory");
        return -1;
    }
    /* the values the nodes that run need at compile time, then back through their producers */
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        if (!n->def || !n->def->static_in || !node_runs(g, n)) continue;
        for (int k = 0; k < n->n_in - n->n_hidden_in && k < 32; k++)
            if (((n->def->static_in >> k) & 1) && n->in[k] >= 0 && !g->tensors[n->in[k]].is_const) need[n->in[k]] = 1;
    }
    for (int i = g->n_nodes - 1; i >= 0; i--) { /* nodes are in topological order */
        const mq_node *n = &g->nodes[i];
        int any = 0;
        for (int k = 0; k < n->n_out && !any; k++) any = n->out[k] >= 0 && need[n->out[k]];
        for (int k = 0; any && k < n->n_in; k++)
            if (n->in[k] >= 0 && !g->tensors[n->in[k]].is_const) need[n->in[k]] = 1;
    }
    int cnt = 0;
    for (int k = 0; k < g->n_inputs; k++) cnt += (is_static[k] = need[g->inputs[k]]);
    mq_free(need);
    return cnt;
}

/* The report's last line when some graph inputs fix shapes: "shape-defining graph input(s): 'a', 'b'
 * ...", or "" (names cut at the buffer's end). */
static mq_status static_inputs_line(const mq_graph *g, char *buf, size_t cap, mq_err *err)
{
    buf[0] = 0;
    unsigned char *is_static = mq_calloc((size_t)g->n_inputs + 1, 1);
    if (!is_static) return mq_fail(err, MQ_ERR_NOMEM, "out of memory");
    int cnt = mq_program_static_inputs(g, is_static, err);
    if (cnt > 0) {
        size_t l = (size_t)snprintf(buf, cap, "shape-defining graph input(s), known only at run time:");
        for (int k = 0, j = 0; k < g->n_inputs && l < cap; k++)
            if (is_static[k])
                l += (size_t)snprintf(buf + l, cap - l, "%s '%s'", j++ ? "," : "", g->tensors[g->inputs[k]].name);
        if (l < cap) snprintf(buf + l, cap - l, " (freeze them with --const NAME=FILE)\n");
    }
    mq_free(is_static);
    return cnt < 0 ? MQ_ERR_NOMEM : MQ_OK;
}

static mq_status build(builder *b, mq_err *err)
{
    const mq_graph *g = b->g;
    mq_program *p = b->p;
    p->steps = mq_arena_array(p->mem, (size_t)g->n_nodes + 1, sizeof *p->steps);
    if (!p->steps) return mq_fail(err, MQ_ERR_NOMEM, "out of memory building the program");

    /* 1. lower every running node, collecting what cannot be lowered */
    report *rep = mq_calloc(1, sizeof *rep);
    if (!rep) return mq_fail(err, MQ_ERR_NOMEM, "out of memory building the program");
    mq_status st = MQ_OK;
    for (int i = 0; i < g->n_nodes && st == MQ_OK; i++)
        if (node_runs(g, &g->nodes[i])) st = lower_node(b, i, rep, err);
    if (st == MQ_OK && rep->n) {
        if (rep->n_dropped) snprintf(rep->buf + rep->len, sizeof rep->buf - rep->len, "... and %d more\n", rep->n_dropped);
        char frz[512];
        st = static_inputs_line(g, frz, sizeof frz, err);
        if (st == MQ_OK)
            st = mq_fail(err, MQ_ERR_UNSUPPORTED, "%d node(s) cannot be compiled:\n%s%s", rep->n, rep->buf, frz);
    }
    mq_free(rep);
    if (st == MQ_OK && b->flat) st = control_params(b, err);
    if (st != MQ_OK) return st;

    /* 2. the memory plan */
    mq_plan_opts po;
    mq_plan_opts_init(&po);
    po.align = b->o->align;
    po.outputs_in_arena = b->o->outputs_in_arena;
    po.no_inplace = b->o->no_inplace;
    if (b->flat) {
        po.n_loops = b->flat->n_loops;
        po.loop_first = b->flat->loop_first;
        po.loop_last = b->flat->loop_last;
    }
    po.bounds = b->bounds;
    MQ_TRY(mq_plan_memory(g, &po, &b->plan, err));
    p->align = b->plan.align;
    p->tensor_bytes = b->plan.arena_bytes;
    p->plan_sum_bytes = b->plan.sum_bytes;
    p->plan_largest_bytes = b->plan.largest_bytes;
    p->plan_inplace = b->plan.n_inplace;

    /* 3. tensors: graph inputs first (program tensor k is input k), then steps' in order, then outputs */
    b->cap_tensors = g->n_tensors + b->n_extra;
    b->cap_weights = g->n_tensors;
    p->tensors = mq_arena_array(p->mem, (size_t)b->cap_tensors + 1, sizeof *p->tensors);
    p->weights = mq_arena_array(p->mem, (size_t)g->n_tensors + 1, sizeof *p->weights);
    p->inputs = mq_arena_array(p->mem, (size_t)g->n_inputs + 1, sizeof(int));
    p->outputs = mq_arena_array(p->mem, (size_t)g->n_outputs + 1, sizeof(int));
    if (!p->tensors || !p->weights || !p->inputs || !p->outputs)
        return mq_fail(err, MQ_ERR_NOMEM, "out of memory building the program");
    p->n_inputs = g->n_inputs;
    p->n_outputs = g->n_outputs;
    for (int k = 0; k < g->n_inputs; k++) MQ_TRY(tensor_of(b, g->inputs[k], &p->inputs[k], err));
    for (int s = 0; s < p->n_steps; s++) {
        mq_prog_step *st_ = &p->steps[s];
        const mq_node *n = &g->nodes[st_->node];
        for (int k = 0; k < n->n_in; k++) MQ_TRY(tensor_of(b, n->in[k], &st_->in[k], err));
        for (int k = 0; k < n->n_out; k++) MQ_TRY(tensor_of(b, n->out[k], &st_->out[k], err));
        MQ_TRY(shape_slots(b, st_, n, err));
    }
    for (int k = 0; k < g->n_outputs; k++) MQ_TRY(tensor_of(b, g->outputs[k], &p->outputs[k], err));
    MQ_TRY(mq_program_fuse(p, err)); /* activations into the step before them (backend/fuse.h) */

    /* 4. the arena: planned tensors, then one scratch region (16-aligned at least) */
    size_t sa = p->align > 16 ? p->align : 16;
    if (mq_add_size(p->tensor_bytes, sa - 1, &p->scratch_offset) ||
        (p->scratch_offset &= ~(sa - 1), mq_add_size(p->scratch_offset, p->scratch_bytes, &p->arena_bytes)))
        return mq_fail(err, MQ_ERR_LIMIT, "program: arena size overflows");
    return MQ_OK;
}

mq_status mq_program_build(const mq_graph *g, const mq_program_opts *opts, mq_program *p, mq_err *err)
{
    if (!p) return mq_fail(err, MQ_ERR_INVALID, "mq_program_build: no program");
    memset(p, 0, sizeof *p);
    if (!g) return mq_fail(err, MQ_ERR_INVALID, "mq_program_build: no graph");
    mq_program_opts o;
    if (opts) o = *opts;
    else mq_program_opts_init(&o);
    builder b = {.g = g, .p = p, .o = &o};
    mq_flat flat;
    mq_status st = mq_flatten(g, &flat, err);
    if (st == MQ_ERR_UNSUPPORTED) { /* e.g. a Loop's trip count: say which inputs fix it */
        char frz[512];
        mq_err e2 = {0};
        size_t l = strnlen(err->msg, sizeof err->msg);
        if (static_inputs_line(g, frz, sizeof frz, &e2) == MQ_OK && frz[0] && l + 2 < sizeof err->msg)
            snprintf(err->msg + l, sizeof err->msg - l, "\n%s", frz);
    }
    if (st != MQ_OK) return st;
    if (flat.g) { /* control flow: lower the flattened graph (the program owns it) */
        b.g = flat.g;
        b.flat = &flat;
        p->flat = flat.g;
    }
    p->mem = mq_arena_new();
    b.prog_of = mq_malloc(sizeof(int) * ((size_t)b.g->n_tensors + 1));
    b.bounds = mq_calloc((size_t)b.g->n_tensors + 1, sizeof *b.bounds);
    if (!p->mem || !b.prog_of || !b.bounds) {
        st = mq_fail(err, MQ_ERR_NOMEM, "out of memory building the program");
    } else {
        for (int t = 0; t < b.g->n_tensors; t++) {
            b.prog_of[t] = -1;
            b.bounds[t].rank = -1;
        }
        st = build(&b, err);
    }
    mq_free(b.prog_of);
    mq_free(b.bounds);
    mq_plan_free(&b.plan);
    if (st != MQ_OK) mq_program_free(p);
    return st;
}
