/* plan.c: the memory planner (plan.h): lifetimes from the node order, in-place chains from the op
 * table's inplace_in, then greedy by size at the lowest aligned offset free over each lifetime. */
#include "backend/plan.h"

#include "core/op.h"

#include <stdlib.h>
#include <string.h>

void mq_plan_opts_init(mq_plan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->align = MQ_PLAN_DEFAULT_ALIGN;
    o->outputs_in_arena = 1;
    o->no_inplace = 0;
}

void mq_plan_free(mq_plan *plan)
{
    if (!plan) return;
    mq_free(plan->t);
    mq_free(plan->index);
    memset(plan, 0, sizeof *plan);
}

const mq_plan_tensor *mq_plan_find(const mq_plan *plan, int tensor)
{
    if (!plan || !plan->index || tensor < 0 || tensor >= plan->n_graph_tensors) return NULL;
    int i = plan->index[tensor];
    return i >= 0 ? &plan->t[i] : NULL;
}

/* Does node n run at all? As in the executor: not if every present output was folded at import. */
static int node_runs(const mq_graph *g, const mq_node *n)
{
    if (n->n_out == 0) return 1;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0 && !g->tensors[n->out[k]].is_const) return 1;
    return 0;
}

/* A slot of the arena shared by an in-place chain of tensors (most slots hold one tensor). */
typedef struct slot {
    size_t asize;  /* bytes, rounded up to the alignment */
    int first, last;
    int id;        /* creation order, for a deterministic sort */
    size_t offset;
} slot;

static int slot_cmp(const void *pa, const void *pb)
{
    const slot *a = pa, *b = pb;
    if (a->asize != b->asize) return a->asize > b->asize ? -1 : 1; /* largest first */
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int align_up(size_t v, size_t align, size_t *out)
{
    size_t s;
    if (mq_add_size(v, align - 1, &s)) return -1;
    *out = s & ~(align - 1);
    return 0;
}

/* Place every slot, largest first, at the lowest aligned offset that does not overlap a placed slot
 * whose lifetime intersects. placed[] is kept sorted by offset, so one forward scan finds the lowest
 * gap: the candidate only moves up past conflicting slots. All offsets stay <= the sum of sizes. */
static mq_status place_slots(slot *s, int ns, size_t *arena, mq_err *err)
{
    qsort(s, (size_t)ns, sizeof *s, slot_cmp);
    int *placed = mq_malloc(sizeof(int) * ((size_t)ns + 1));
    if (!placed) return mq_fail(err, MQ_ERR_NOMEM, "out of memory planning the arena");
    int np = 0;
    size_t peak = 0;
    for (int i = 0; i < ns; i++) {
        size_t cand = 0;
        int at = np; /* insertion point in placed[] (by offset) */
        for (int j = 0; j < np; j++) {
            const slot *p = &s[placed[j]];
            if (p->last < s[i].first || s[i].last < p->first) continue; /* lifetimes disjoint */
            if (s[i].asize == 0 || cand + s[i].asize <= p->offset) break; /* fits below p */
            if (p->offset + p->asize > cand) cand = p->offset + p->asize; /* aligned: both are */
        }
        s[i].offset = cand;
        for (int j = 0; j < np; j++)
            if (s[placed[j]].offset > cand) {
                at = j;
                break;
            }
        memmove(&placed[at + 1], &placed[at], sizeof(int) * (size_t)(np - at));
        placed[at] = i;
        np++;
        if (cand + s[i].asize > peak) peak = cand + s[i].asize;
    }
    mq_free(placed);
    *arena = peak;
    return MQ_OK;
}

/* Loops: a lifetime [start, last] that crosses a loop range's boundary grows to cover the range, until
 * nothing changes (nested ranges). */
static void extend_over_loops(const mq_graph *g, const mq_plan_opts *o, const int *first, int *start, int *last)
{
    for (int t = 0; t < g->n_tensors; t++) {
        start[t] = first[t];
        if (first[t] >= 0 && last[t] < first[t]) last[t] = first[t];
    }
    for (int changed = o->n_loops > 0; changed;) {
        changed = 0;
        for (int l = 0; l < o->n_loops; l++) {
            const int ls = o->loop_first[l], le = o->loop_last[l];
            for (int t = 0; t < g->n_tensors; t++) {
                if (first[t] < 0) continue;
                if (start[t] < ls && last[t] >= ls && last[t] < le) last[t] = le, changed = 1;
                if (start[t] > ls && start[t] <= le && last[t] > le) start[t] = ls, changed = 1;
            }
        }
    }
}

static mq_status plan_run(const mq_graph *g, const mq_plan_opts *o, mq_plan *plan, int *first, int *last,
                          int *slot_of, int *start, mq_err *err)
{
    const int nt = g->n_tensors, nn = g->n_nodes;
    const size_t align = o->align;

    /* Lifetimes: first = producing node, last = last running node that reads it (hidden inputs of
     * If/Loop/Scan included: their bodies read them), the end for graph outputs. */
    for (int t = 0; t < nt; t++) first[t] = last[t] = -1;
    int count = 0;
    for (int i = 0; i < nn; i++) {
        const mq_node *n = &g->nodes[i];
        if (!node_runs(g, n)) continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && n->in[k] < nt) last[n->in[k]] = i;
        for (int k = 0; k < n->n_out; k++) {
            int t = n->out[k];
            if (t < 0 || t >= nt || first[t] >= 0) continue;
            const mq_tensor *x = &g->tensors[t];
            if (x->is_const || x->is_input || (x->is_output && !o->outputs_in_arena)) continue;
            first[t] = i;
            count++;
        }
    }
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] >= 0 && g->outputs[k] < nt) last[g->outputs[k]] = nn;
    extend_over_loops(g, o, first, start, last);

    plan->t = mq_calloc((size_t)count + 1, sizeof *plan->t);
    plan->index = mq_malloc(sizeof(int) * ((size_t)nt + 1));
    slot *slots = mq_calloc((size_t)count + 1, sizeof *slots);
    if (!plan->t || !plan->index || !slots) {
        mq_free(slots);
        return mq_fail(err, MQ_ERR_NOMEM, "out of memory planning the arena");
    }
    for (int t = 0; t < nt; t++) plan->index[t] = -1;
    plan->n_graph_tensors = nt;
    plan->align = align;

    /* Sizes and in-place chains, in node order (so an input's entry exists before its reader's). */
    int ns = 0;
    mq_status st = MQ_OK;
    for (int i = 0; i < nn && st == MQ_OK; i++) {
        const mq_node *n = &g->nodes[i];
        if (!node_runs(g, n)) continue;
        for (int k = 0; k < n->n_out; k++) {
            int t = n->out[k];
            if (t < 0 || t >= nt || first[t] != i || plan->index[t] >= 0) continue;
            const mq_tensor *x = &g->tensors[t];
            if (x->rank < 0 && o->bounds && o->bounds[t].rank >= 0) x = &o->bounds[t];
            if (x->rank < 0) {
                st = mq_node_fail(err, n, MQ_ERR_SHAPE,
                                  "output '%s' has a shape known only at run time (it depends on values, "
                                  "not only on the input shapes), so the graph has no static memory plan",
                                  x->name);
                break;
            }
            size_t es = mq_dtype_size(x->dtype);
            int64_t ne;
            size_t bytes, asize;
            if (es == 0) {
                st = mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "output '%s' has dtype %s, which has no size",
                                  x->name, mq_dtype_name(x->dtype));
                break;
            }
            mq_err e2 = {0};
            if (mq_shape_numel(x->dims, x->rank, 0, &ne, &e2) != MQ_OK) {
                st = mq_node_fail(err, n, e2.code, "output '%s': %s", x->name, e2.msg);
                break;
            }
            if (mq_mul_size((size_t)ne, es, &bytes) || align_up(bytes, align, &asize) ||
                mq_add_size(plan->sum_bytes, asize, &plan->sum_bytes)) {
                st = mq_node_fail(err, n, MQ_ERR_LIMIT, "output '%s': size overflows", x->name);
                break;
            }
            if (last[t] < i) last[t] = i; /* nobody reads it: alive while its node writes it */
            int e = plan->n++;
            plan->index[t] = e;
            mq_plan_tensor *pt = &plan->t[e];
            pt->tensor = t;
            pt->size = bytes;
            pt->first = i;
            pt->last = last[t];
            pt->reuses = -1;
            if (bytes > plan->largest_bytes) plan->largest_bytes = bytes;

            /* In place: output 0 takes the slot of an input the op allows, if this node is that
             * input's last use and both hold the same bytes (same dtype and element count: for an
             * elementwise op that also means the input is not broadcast). */
            uint32_t mask = n->def ? n->def->inplace_in : 0;
            int n_vis = n->n_in - n->n_hidden_in;
            for (int j = 0; k == 0 && mask && !o->no_inplace && j < n_vis && j < 32; j++) {
                int u = n->in[j];
                if (!((mask >> j) & 1u) || u < 0 || u >= nt || plan->index[u] < 0 || last[u] != i) continue;
                const mq_tensor *y = &g->tensors[u];
                if (y->dtype != x->dtype || mq_numel(y) != ne) continue;
                pt->reuses = u;
                int sl = slot_of[u];
                slot_of[t] = sl;
                if (asize > slots[sl].asize) slots[sl].asize = asize;
                if (last[t] > slots[sl].last) slots[sl].last = last[t];
                if (start[t] < slots[sl].first) slots[sl].first = start[t];
                plan->n_inplace++;
                break;
            }
            if (pt->reuses < 0) {
                slot_of[t] = ns;
                slots[ns] = (slot){.asize = asize, .first = start[t], .last = last[t], .id = ns};
                ns++;
            }
        }
    }
    if (st == MQ_OK) st = place_slots(slots, ns, &plan->arena_bytes, err);
    if (st == MQ_OK) {
        /* slots were sorted: map creation id -> offset, then give every tensor its slot's offset */
        size_t *off = mq_malloc(sizeof(size_t) * ((size_t)ns + 1));
        if (!off) {
            st = mq_fail(err, MQ_ERR_NOMEM, "out of memory planning the arena");
        } else {
            for (int s = 0; s < ns; s++) off[slots[s].id] = slots[s].offset;
            for (int e = 0; e < plan->n; e++) plan->t[e].offset = off[slot_of[plan->t[e].tensor]];
            mq_free(off);
        }
    }
    mq_free(slots);
    return st;
}

mq_status mq_plan_memory(const mq_graph *g, const mq_plan_opts *opts, mq_plan *plan, mq_err *err)
{
    if (!plan) return mq_fail(err, MQ_ERR_INVALID, "mq_plan_memory: no plan");
    memset(plan, 0, sizeof *plan);
    if (!g) return mq_fail(err, MQ_ERR_INVALID, "mq_plan_memory: no graph");
    mq_plan_opts o;
    if (opts) o = *opts;
    else mq_plan_opts_init(&o);
    if (o.align == 0) o.align = MQ_PLAN_DEFAULT_ALIGN;
    if (o.align & (o.align - 1))
        return mq_fail(err, MQ_ERR_INVALID, "memory plan: alignment %zu is not a power of two", o.align);

    size_t nt1 = (size_t)g->n_tensors + 1;
    int *first = mq_malloc(sizeof(int) * nt1), *last = mq_malloc(sizeof(int) * nt1);
    int *slot_of = mq_malloc(sizeof(int) * nt1), *start = mq_malloc(sizeof(int) * nt1);
    mq_status st;
    if (!first || !last || !slot_of || !start) st = mq_fail(err, MQ_ERR_NOMEM, "out of memory planning the arena");
    else st = plan_run(g, &o, plan, first, last, slot_of, start, err);
    mq_free(start);
    mq_free(first);
    mq_free(last);
    mq_free(slot_of);
    if (st != MQ_OK) mq_plan_free(plan);
    return st;
}
