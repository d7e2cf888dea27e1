/* control.c: op family 'control': If, Loop and Scan. Their bodies are subgraphs (mq_attr.g) run with the
 * reference executor; the outer-scope values a body reads arrive as the node's hidden inputs. */
#include "ops/control.h"

#include "core/exec.h"
#include "ops/util.h"

#include <string.h>

static int64_t max_iterations = MQ_DEFAULT_MAX_LOOP_ITERATIONS;

void mq_control_set_max_iterations(int64_t n) { max_iterations = n > 0 ? n : MQ_DEFAULT_MAX_LOOP_ITERATIONS; }
int64_t mq_control_max_iterations(void) { return max_iterations; }

/* ---- shared ----------------------------------------------------------------------------------- */

static int n_declared(const mq_node *n) { return n->n_in - n->n_hidden_in; }
static int n_formal(const mq_graph *g) { return g->n_inputs - g->n_captures; }

static mq_status need_graph(const mq_node *n, const char *name, const mq_graph **g, mq_err *err)
{
    const mq_attr *a = mq_attr_get(n, name);
    *g = a && a->type == MQ_ATTR_GRAPH ? a->g : NULL;
    if (!*g) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute '%s' (a graph) is missing", name);
    if ((*g)->n_captures != n->n_hidden_in)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "subgraph '%s' captures %d outer values, the node passes %d",
                            name, (*g)->n_captures, n->n_hidden_in);
    return MQ_OK;
}

/* Declared (or import-inferred) type of a subgraph's output k. */
static const mq_tensor *body_out(const mq_graph *g, int k) { return &g->tensors[g->outputs[k]]; }

static void free_values(mq_tensor *v, int k)
{
    for (int i = 0; i < k; i++) {
        mq_free(v[i].data);
        v[i].data = NULL;
    }
}

/* Run a subgraph on its formal values followed by the node's hidden inputs. outs: g->n_outputs values,
 * filled with mq_malloc'ed data on success. */
static mq_status run_body(const mq_node *n, const mq_graph *g, const char *what, const mq_tensor *formal,
                          const mq_tensor *const *in, mq_tensor *outs, int64_t iter, mq_err *err)
{
    int nf = n_formal(g), nh = n->n_hidden_in, nd = n_declared(n);
    mq_tensor *vals = mq_calloc((size_t)(nf + nh) + 1, sizeof *vals);
    if (!vals) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory running '%s'", what);
    if (nf) memcpy(vals, formal, sizeof *vals * (size_t)nf);
    for (int c = 0; c < nh; c++) vals[nf + c] = *in[nd + c];
    mq_status st = mq_exec_run(g, vals, outs, err);
    mq_free(vals);
    if (st != MQ_OK) {
        if (iter >= 0)
            mq_err_prefix(err, "node '%s' (%s) %s, iteration %lld: ", n->name, n->op_type, what, (long long)iter);
        else
            mq_err_prefix(err, "node '%s' (%s) %s: ", n->name, n->op_type, what);
    }
    return st;
}

/* Move a computed value into a node output (dtype, shape, data). */
static void move_to(mq_tensor *out, mq_tensor *v)
{
    out->dtype = v->dtype;
    mq_tensor_set_shape(out, v->rank, v->dims);
    out->data = v->data;
    v->data = NULL;
}

static mq_status copy_to(const mq_node *n, mq_tensor *out, const mq_tensor *v, mq_err *err)
{
    size_t nb = mq_nbytes(v);
    out->data = mq_malloc(nb ? nb : 1);
    if (!out->data) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory (%zu bytes)", nb);
    if (nb) memcpy(out->data, v->data, nb);
    out->dtype = v->dtype;
    mq_tensor_set_shape(out, v->rank, v->dims);
    return MQ_OK;
}

static mq_status read_scalar(const mq_node *n, const mq_tensor *t, const char *what, int64_t *v, mq_err *err)
{
    if (mq_numel(t) < 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s is empty", what);
    if (!mq_dtype_is_int(t->dtype) && t->dtype != MQ_BOOL && !mq_dtype_is_float(t->dtype))
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "%s has dtype %s", what, mq_dtype_name(t->dtype));
    *v = mq_dtype_is_float(t->dtype) ? (mq_load_f64(t->data, t->dtype, 0) != 0.0) : mq_load_i64(t->data, t->dtype, 0);
    return MQ_OK;
}

static mq_status check_one_element(const mq_node *n, const mq_tensor *t, const char *what, mq_err *err)
{
    if (t->rank >= 0 && mq_numel(t) != 1)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s must hold one element", what);
    return MQ_OK;
}

/* Element count and byte size of one slice of t along axis (t without that axis). */
static void slice_geometry(const mq_tensor *t, int axis, int64_t *outer, int64_t *inner_bytes)
{
    int64_t o = 1, in = 1;
    for (int d = 0; d < axis; d++) o *= t->dims[d];
    for (int d = axis + 1; d < t->rank; d++) in *= t->dims[d];
    *outer = o;
    *inner_bytes = in * (int64_t)mq_dtype_size(t->dtype);
}

/* dst = t[..., pos, ...] along axis (dst holds numel / dims[axis] elements). */
static void take_slice(const mq_tensor *t, int axis, int64_t pos, void *dst)
{
    int64_t outer, inner;
    slice_geometry(t, axis, &outer, &inner);
    int64_t len = t->dims[axis];
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)dst + o * inner, (const char *)t->data + (o * len + pos) * inner, (size_t)inner);
}

/* t[..., pos, ...] = src along axis. */
static void put_slice(mq_tensor *t, int axis, int64_t pos, const void *src)
{
    int64_t outer, inner;
    slice_geometry(t, axis, &outer, &inner);
    int64_t len = t->dims[axis];
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)t->data + (o * len + pos) * inner, (const char *)src + o * inner, (size_t)inner);
}

/* ---- If --------------------------------------------------------------------------------------- */

static mq_status if_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    static const mq_dtype cond_types[] = {MQ_BOOL, MQ_UNDEFINED};
    const mq_graph *tb, *eb;
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], cond_types, err));
    MQ_TRY(check_one_element(n, in[0], "cond", err));
    MQ_TRY(need_graph(n, "then_branch", &tb, err));
    MQ_TRY(need_graph(n, "else_branch", &eb, err));
    if (n_formal(tb) || n_formal(eb))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "the branches of If take no inputs");
    if (tb->n_outputs != n->n_out || eb->n_outputs != n->n_out)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "then_branch has %d outputs and else_branch %d, the node %d",
                            tb->n_outputs, eb->n_outputs, n->n_out);
    for (int k = 0; k < n->n_out; k++) {
        if (!out[k]) continue;
        const mq_tensor *a = body_out(tb, k), *b = body_out(eb, k);
        if (a->dtype != MQ_UNDEFINED && b->dtype != MQ_UNDEFINED && a->dtype != b->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "output %d is %s in then_branch and %s in else_branch", k,
                                mq_dtype_name(a->dtype), mq_dtype_name(b->dtype));
        mq_dtype dt = a->dtype != MQ_UNDEFINED ? a->dtype : b->dtype;
        if (dt != MQ_UNDEFINED) out[k]->dtype = dt;
        if (dt != MQ_UNDEFINED && a->rank >= 0 && mq_shape_equal(a, b)) mq_tensor_set_shape(out[k], a->rank, a->dims);
        else out[k]->rank = -1; /* known when the branch has run */
    }
    return MQ_OK;
}

static mq_status if_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_graph *tb, *eb;
    MQ_TRY(need_graph(n, "then_branch", &tb, err));
    MQ_TRY(need_graph(n, "else_branch", &eb, err));
    int64_t c;
    MQ_TRY(read_scalar(n, in[0], "cond", &c, err));
    const mq_graph *g = c ? tb : eb;
    mq_tensor *res = mq_calloc((size_t)g->n_outputs + 1, sizeof *res);
    if (!res) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    mq_status st = run_body(n, g, c ? "then_branch" : "else_branch", NULL, in, res, -1, err);
    if (st == MQ_OK)
        for (int k = 0; k < n->n_out; k++)
            if (out[k]) move_to(out[k], &res[k]);
    if (st == MQ_OK) free_values(res, g->n_outputs);
    mq_free(res);
    return st;
}

/* ---- Loop ------------------------------------------------------------------------------------- */

static mq_status loop_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    static const mq_dtype cond_types[] = {MQ_BOOL, MQ_UNDEFINED};
    const mq_graph *body;
    MQ_TRY(need_graph(n, "body", &body, err));
    int nc = n_declared(n) - 2; /* carried values */
    int ns = n->n_out - nc;     /* scan outputs */
    if (nc < 0 || ns < 0)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "%d inputs and %d outputs: expected M, cond, N carried values "
                            "in and N carried values plus scan outputs out", n_declared(n), n->n_out);
    if (n_formal(body) != 2 + nc)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "the body takes %d inputs, expected %d (iteration number, "
                            "condition and %d carried values)", n_formal(body), 2 + nc, nc);
    if (body->n_outputs != 1 + n->n_out)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "the body has %d outputs, expected %d (condition and the node's "
                            "%d outputs)", body->n_outputs, 1 + n->n_out, n->n_out);
    if (in[0]) {
        if (!mq_dtype_is_int(in[0]->dtype))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "M has dtype %s", mq_dtype_name(in[0]->dtype));
        MQ_TRY(check_one_element(n, in[0], "M", err));
    }
    if (in[1]) {
        MQ_TRY(mq_require_dtype(n, in[1], cond_types, err));
        MQ_TRY(check_one_element(n, in[1], "cond", err));
    }
    for (int k = 0; k < nc; k++) {
        MQ_TRY(mq_require_input(n, in, 2 + k, err));
        if (!out[k]) continue;
        const mq_tensor *bi = &body->tensors[body->inputs[2 + k]], *bo = body_out(body, 1 + k);
        out[k]->dtype = in[2 + k]->dtype;
        /* Carried values may change shape; the body can declare them fixed. */
        if (in[2 + k]->rank >= 0 && mq_shape_equal(bi, in[2 + k]) && mq_shape_equal(bo, in[2 + k]))
            mq_tensor_set_shape(out[k], in[2 + k]->rank, in[2 + k]->dims);
        else out[k]->rank = -1;
    }
    for (int k = nc; k < n->n_out; k++) {
        if (!out[k]) continue;
        const mq_tensor *bo = body_out(body, 1 + k);
        if (bo->dtype != MQ_UNDEFINED) out[k]->dtype = bo->dtype;
        out[k]->rank = -1; /* the iteration count is known when the loop has run */
    }
    return MQ_OK;
}

typedef struct scan_acc {
    mq_dtype dtype;
    int rank;
    int64_t dims[MQ_MAX_RANK];
    size_t item_bytes, cap;
    int64_t count;
    char *data;
} scan_acc;

static mq_status acc_append(const mq_node *n, scan_acc *a, int k, const mq_tensor *v, int64_t iter, mq_err *err)
{
    if (a->count == 0) {
        if (v->rank + 1 > MQ_MAX_RANK)
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "scan output %d would exceed rank %d", k, MQ_MAX_RANK);
        a->dtype = v->dtype;
        a->rank = v->rank;
        memcpy(a->dims, v->dims, sizeof a->dims);
        a->item_bytes = mq_nbytes(v);
    } else if (v->dtype != a->dtype || v->rank != a->rank || memcmp(v->dims, a->dims, sizeof(int64_t) * (size_t)v->rank)) {
        char s1[128], s2[128];
        mq_tensor t = *v;
        t.rank = a->rank;
        memcpy(t.dims, a->dims, sizeof t.dims);
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "scan output %d changes from %s %s to %s %s at iteration %lld", k,
                            mq_dtype_name(a->dtype), mq_shape_str(&t, s1, sizeof s1), mq_dtype_name(v->dtype),
                            mq_shape_str(v, s2, sizeof s2), (long long)iter);
    }
    size_t need;
    if (mq_mul_size(a->item_bytes, (size_t)a->count + 1, &need))
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "scan output %d too large", k);
    if (need > a->cap) {
        size_t cap = a->cap ? a->cap : a->item_bytes * 4 + 16;
        while (cap < need)
            if (mq_mul_size(cap, 2, &cap)) return mq_node_fail(err, n, MQ_ERR_LIMIT, "scan output %d too large", k);
        char *p = mq_realloc(a->data, cap);
        if (!p) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for scan output %d (%zu bytes)", k, cap);
        a->data = p;
        a->cap = cap;
    }
    if (a->item_bytes) memcpy(a->data + a->item_bytes * (size_t)a->count, v->data, a->item_bytes);
    a->count++;
    return MQ_OK;
}

/* Shape of a scan output when the loop ran no iteration: [0] + the body's declared item shape. */
static mq_status empty_scan_output(const mq_node *n, const mq_tensor *decl, mq_tensor *out, int k, mq_err *err)
{
    mq_dtype dt = decl->dtype != MQ_UNDEFINED ? decl->dtype : out->dtype;
    if (dt == MQ_UNDEFINED || !mq_dtype_supported(dt))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "scan output %d: no iteration ran and its type is unknown", k);
    int64_t dims[MQ_MAX_RANK] = {0};
    int rank = 1;
    if (decl->rank >= 0 && decl->rank < MQ_MAX_RANK) {
        for (int d = 0; d < decl->rank; d++) dims[d + 1] = decl->dims[d];
        rank = decl->rank + 1;
    }
    out->dtype = dt;
    mq_tensor_set_shape(out, rank, dims);
    out->data = mq_malloc(1);
    if (!out->data) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    return MQ_OK;
}

static mq_status loop_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_graph *body;
    MQ_TRY(need_graph(n, "body", &body, err));
    int nc = n_declared(n) - 2, ns = n->n_out - nc;
    int64_t trip = -1, keep = 1;
    if (in[0]) {
        MQ_TRY(read_scalar(n, in[0], "M", &trip, err));
        if (trip < 0) trip = 0;
    }
    if (in[1]) MQ_TRY(read_scalar(n, in[1], "cond", &keep, err));

    mq_status st = MQ_OK;
    int nf = 2 + nc;
    mq_tensor *formal = mq_calloc((size_t)nf, sizeof *formal);
    mq_tensor *v = mq_calloc((size_t)nc + 1, sizeof *v);         /* carried values */
    unsigned char *owned = mq_calloc((size_t)nc + 1, 1);
    mq_tensor *res = mq_calloc((size_t)body->n_outputs + 1, sizeof *res);
    scan_acc *acc = mq_calloc((size_t)ns + 1, sizeof *acc);
    if (!formal || !v || !owned || !res || !acc) {
        st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < nc; k++) v[k] = *in[2 + k]; /* borrowed until the first iteration replaces it */
    int64_t it_val = 0;
    uint8_t cond_val = 0;
    int64_t i = 0;
    for (; (trip < 0 || i < trip) && keep; i++) {
        if (i >= max_iterations) {
            st = mq_node_fail(err, n, MQ_ERR_LIMIT, "stopped after %lld iterations (the limit; "
                              "mq_control_set_max_iterations raises it)", (long long)i);
            goto out;
        }
        it_val = i;
        cond_val = keep != 0;
        formal[0].dtype = MQ_I64;
        formal[0].rank = 0;
        formal[0].data = &it_val;
        formal[1].dtype = MQ_BOOL;
        formal[1].rank = 0;
        formal[1].data = &cond_val;
        for (int k = 0; k < nc; k++) formal[2 + k] = v[k];
        st = run_body(n, body, "body", formal, in, res, i, err);
        if (st != MQ_OK) goto out;
        st = read_scalar(n, &res[0], "the body's condition output", &keep, err);
        for (int k = 0; st == MQ_OK && k < nc; k++)
            if (res[1 + k].dtype != in[2 + k]->dtype)
                st = mq_node_fail(err, n, MQ_ERR_SHAPE, "carried value %d changes dtype from %s to %s at iteration %lld",
                                  k, mq_dtype_name(in[2 + k]->dtype), mq_dtype_name(res[1 + k].dtype), (long long)i);
        for (int k = 0; st == MQ_OK && k < ns; k++) st = acc_append(n, &acc[k], k, &res[1 + nc + k], i, err);
        if (st != MQ_OK) {
            free_values(res, body->n_outputs);
            goto out;
        }
        for (int k = 0; k < nc; k++) {
            if (owned[k]) mq_free(v[k].data);
            v[k] = res[1 + k];
            res[1 + k].data = NULL;
            owned[k] = 1;
        }
        free_values(res, body->n_outputs);
    }
    for (int k = 0; k < nc && st == MQ_OK; k++) {
        if (!out[k]) continue;
        if (owned[k]) {
            move_to(out[k], &v[k]);
            owned[k] = 0;
        } else {
            st = copy_to(n, out[k], &v[k], err);
        }
    }
    for (int k = 0; k < ns && st == MQ_OK; k++) {
        mq_tensor *o = out[nc + k];
        if (!o) continue;
        scan_acc *a = &acc[k];
        if (a->count == 0) {
            st = empty_scan_output(n, body_out(body, 1 + nc + k), o, nc + k, err);
            continue;
        }
        int64_t dims[MQ_MAX_RANK];
        dims[0] = a->count;
        for (int d = 0; d < a->rank; d++) dims[d + 1] = a->dims[d];
        o->dtype = a->dtype;
        mq_tensor_set_shape(o, a->rank + 1, dims);
        o->data = a->data ? a->data : mq_malloc(1);
        a->data = NULL;
        if (!o->data) st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    }
out:
    if (v && owned)
        for (int k = 0; k < nc; k++)
            if (owned[k]) mq_free(v[k].data);
    if (acc)
        for (int k = 0; k < ns; k++) mq_free(acc[k].data);
    mq_free(formal);
    mq_free(v);
    mq_free(owned);
    mq_free(res);
    mq_free(acc);
    return st;
}

/* ---- Scan ------------------------------------------------------------------------------------- */

/* Scan's layout: [sequence_lens (opset 8)], N states, M scan inputs; K = outputs - N scan outputs. */
#define SCAN_MAX_IO 64

typedef struct scan_plan {
    const mq_graph *body;
    int off, nst, nsc, nso; /* first state input, N, M, K */
    int64_t in_axis[SCAN_MAX_IO], in_rev[SCAN_MAX_IO];
} scan_plan;

static mq_status scan_plan_make(const mq_node *n, const mq_tensor *const *in, scan_plan *p, mq_err *err)
{
    MQ_TRY(need_graph(n, "body", &p->body, err));
    int v8 = n->opset < 9;
    p->off = v8 ? 1 : 0;
    int64_t m = mq_attr_int(n, "num_scan_inputs", -1);
    int avail = n_declared(n) - p->off;
    if (m < 1 || m > avail)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "num_scan_inputs is %lld, the node has %d state and scan inputs",
                            (long long)m, avail);
    p->nsc = (int)m;
    p->nst = avail - p->nsc;
    p->nso = n->n_out - p->nst;
    if (p->nso < 0)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "%d outputs for %d state variables", n->n_out, p->nst);
    if (p->nsc > SCAN_MAX_IO || p->nso > SCAN_MAX_IO)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "more than %d scan inputs or outputs", SCAN_MAX_IO);
    if (n_formal(p->body) != p->nst + p->nsc)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "the body takes %d inputs, expected %d (states and scan slices)",
                            n_formal(p->body), p->nst + p->nsc);
    if (p->body->n_outputs != n->n_out)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "the body has %d outputs, the node %d", p->body->n_outputs,
                            n->n_out);
    const int64_t *axes = NULL, *dirs = NULL;
    int na = v8 ? -1 : mq_attr_ints(n, "scan_input_axes", &axes);
    int nd = mq_attr_ints(n, v8 ? "directions" : "scan_input_directions", &dirs);
    if ((na >= 0 && na != p->nsc) || (nd >= 0 && nd != p->nsc))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "scan input axes/directions need %d values", p->nsc);
    for (int j = 0; j < p->nsc; j++) {
        const mq_tensor *t = in[p->off + p->nst + j];
        if (!t) return mq_node_fail(err, n, MQ_ERR_INVALID, "scan input %d is missing", j);
        p->in_rev[j] = nd >= 0 ? dirs[j] : 0;
        if (p->in_rev[j] != 0 && p->in_rev[j] != 1)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "scan direction %lld (0 or 1)", (long long)p->in_rev[j]);
        int ax = v8 ? 1 : 0;
        if (t->rank >= 0) {
            if (v8 && t->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "scan input %d needs [batch, sequence, ...]", j);
            if (!v8) MQ_TRY(mq_axis(n, na >= 0 ? axes[j] : 0, t->rank, &ax, err));
        }
        p->in_axis[j] = ax;
    }
    for (int k = 0; k < p->nst; k++)
        if (!in[p->off + k]) return mq_node_fail(err, n, MQ_ERR_INVALID, "state input %d is missing", k);
    return MQ_OK;
}

static mq_status scan_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    scan_plan p;
    MQ_TRY(scan_plan_make(n, in, &p, err));
    if (p.off && in[0]) {
        static const mq_dtype lens_types[] = {MQ_I32, MQ_I64, MQ_UNDEFINED};
        MQ_TRY(mq_require_dtype(n, in[0], lens_types, err));
    }
    for (int k = 0; k < n->n_out; k++) {
        if (!out[k]) continue;
        mq_dtype dt = k < p.nst ? in[p.off + k]->dtype : body_out(p.body, k)->dtype;
        if (dt != MQ_UNDEFINED) out[k]->dtype = dt;
        out[k]->rank = -1; /* known when the body has run */
    }
    return MQ_OK;
}

/* One scan over `len` steps (a batch entry in opset 8). states: N values (borrowed), replaced by owned
 * final values on success (*owned set). scans: M tensors sliced along in_axis. so: K scan outputs; each
 * is allocated at the first step with its slot for `len` steps inserted at out_axis[k] (normalized
 * against the item rank + 1), unless preset (opset 8 fills per batch). */
static mq_status scan_run(const mq_node *n, const scan_plan *p, const mq_tensor *const *in, int64_t len,
                          mq_tensor *states, unsigned char *owned, const mq_tensor *const *scans,
                          const int64_t *out_axis, const int64_t *out_rev, mq_tensor *so, mq_err *err)
{
    int nf = p->nst + p->nsc;
    mq_status st = MQ_OK;
    mq_tensor *formal = mq_calloc((size_t)nf + 1, sizeof *formal);
    mq_tensor *res = mq_calloc((size_t)p->body->n_outputs + 1, sizeof *res);
    void **slices = mq_calloc((size_t)p->nsc + 1, sizeof *slices);
    int so_axis[SCAN_MAX_IO];
    if (!formal || !res || !slices) {
        st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < p->nsc; j++) {
        const mq_tensor *t = scans[j];
        int ax = (int)p->in_axis[j];
        if (t->dims[ax] < len) {
            st = mq_node_fail(err, n, MQ_ERR_SHAPE, "scan input %d has %lld steps along axis %d, expected %lld", j,
                              (long long)t->dims[ax], ax, (long long)len);
            goto out;
        }
        mq_tensor *f = &formal[p->nst + j];
        f->dtype = t->dtype;
        f->rank = t->rank - 1;
        for (int d = 0, e = 0; d < t->rank; d++)
            if (d != ax) f->dims[e++] = t->dims[d];
        size_t nb = mq_nbytes(f);
        slices[j] = mq_malloc(nb ? nb : 1);
        if (!slices[j]) {
            st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
            goto out;
        }
        f->data = slices[j];
    }
    for (int64_t t = 0; t < len; t++) {
        for (int k = 0; k < p->nst; k++) formal[k] = states[k];
        for (int j = 0; j < p->nsc; j++)
            take_slice(scans[j], (int)p->in_axis[j], p->in_rev[j] ? len - 1 - t : t, slices[j]);
        st = run_body(n, p->body, "body", formal, in, res, t, err);
        if (st != MQ_OK) goto out;
        for (int k = 0; st == MQ_OK && k < p->nst; k++)
            if (res[k].dtype != states[k].dtype)
                st = mq_node_fail(err, n, MQ_ERR_SHAPE, "state %d changes dtype from %s to %s", k,
                                  mq_dtype_name(states[k].dtype), mq_dtype_name(res[k].dtype));
        for (int k = 0; st == MQ_OK && k < p->nso; k++) {
            const mq_tensor *r = &res[p->nst + k];
            mq_tensor *o = &so[k];
            if (!o->data) { /* first step: the output's shape */
                if (r->rank + 1 > MQ_MAX_RANK) {
                    st = mq_node_fail(err, n, MQ_ERR_LIMIT, "scan output %d would exceed rank %d", k, MQ_MAX_RANK);
                    break;
                }
                int ax;
                st = mq_axis(n, out_axis ? out_axis[k] : 0, r->rank + 1, &ax, err);
                if (st != MQ_OK) break;
                so_axis[k] = ax;
                o->dtype = r->dtype;
                o->rank = r->rank + 1;
                for (int d = 0, e = 0; d < o->rank; d++) o->dims[d] = d == ax ? len : r->dims[e++];
                size_t nb = mq_nbytes(o);
                o->data = mq_calloc(nb ? nb : 1, 1);
                if (!o->data) {
                    st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for scan output %d", k);
                    break;
                }
            } else if (t == 0) {
                so_axis[k] = 0; /* preset by the caller (opset 8): [len, ...] */
            }
            int ax = so_axis[k];
            int ok = r->dtype == o->dtype && r->rank + 1 == o->rank;
            for (int d = 0, e = 0; ok && d < o->rank; d++)
                if (d != ax && o->dims[d] != r->dims[e++]) ok = 0;
            if (!ok) {
                char s1[128], s2[128];
                st = mq_node_fail(err, n, MQ_ERR_SHAPE, "scan output %d: step %lld gives %s %s, the output is %s %s",
                                  k, (long long)t, mq_dtype_name(r->dtype), mq_shape_str(r, s1, sizeof s1),
                                  mq_dtype_name(o->dtype), mq_shape_str(o, s2, sizeof s2));
                break;
            }
            put_slice(o, ax, out_rev && out_rev[k] ? len - 1 - t : t, r->data);
        }
        if (st != MQ_OK) {
            free_values(res, p->body->n_outputs);
            goto out;
        }
        for (int k = 0; k < p->nst; k++) {
            if (owned[k]) mq_free(states[k].data);
            states[k] = res[k];
            res[k].data = NULL;
            owned[k] = 1;
        }
        free_values(res, p->body->n_outputs);
    }
out:
    if (slices)
        for (int j = 0; j < p->nsc; j++) mq_free(slices[j]);
    mq_free(slices);
    mq_free(formal);
    mq_free(res);
    return st;
}

static mq_status scan9_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    scan_plan p;
    MQ_TRY(scan_plan_make(n, in, &p, err));
    const int64_t *oaxes = NULL, *odirs = NULL;
    int noa = mq_attr_ints(n, "scan_output_axes", &oaxes), nod = mq_attr_ints(n, "scan_output_directions", &odirs);
    if ((noa >= 0 && noa != p.nso) || (nod >= 0 && nod != p.nso))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "scan output axes/directions need %d values", p.nso);
    int64_t len = in[p.nst]->dims[p.in_axis[0]];
    for (int j = 1; j < p.nsc; j++)
        if (in[p.nst + j]->dims[p.in_axis[j]] != len)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "scan inputs 0 and %d have different lengths (%lld, %lld)", j,
                                (long long)len, (long long)in[p.nst + j]->dims[p.in_axis[j]]);
    mq_status st = MQ_OK;
    mq_tensor *states = mq_calloc((size_t)p.nst + 1, sizeof *states);
    unsigned char *owned = mq_calloc((size_t)p.nst + 1, 1);
    mq_tensor *so = mq_calloc((size_t)p.nso + 1, sizeof *so);
    if (!states || !owned || !so) {
        st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < p.nst; k++) states[k] = *in[k];
    st = scan_run(n, &p, in, len, states, owned, in + p.nst, noa >= 0 ? oaxes : NULL, nod >= 0 ? odirs : NULL, so,
                  err);
    for (int k = 0; st == MQ_OK && k < p.nst; k++) {
        if (!out[k]) continue;
        if (owned[k]) {
            move_to(out[k], &states[k]);
            owned[k] = 0;
        } else {
            st = copy_to(n, out[k], &states[k], err);
        }
    }
    for (int k = 0; st == MQ_OK && k < p.nso; k++) {
        mq_tensor *o = out[p.nst + k];
        if (!o) continue;
        if (so[k].data) move_to(o, &so[k]);
        else st = empty_scan_output(n, body_out(p.body, p.nst + k), o, p.nst + k, err);
    }
out:
    if (states && owned)
        for (int k = 0; k < p.nst; k++)
            if (owned[k]) mq_free(states[k].data);
    if (so) free_values(so, p.nso);
    mq_free(states);
    mq_free(owned);
    mq_free(so);
    return st;
}

/* Opset 8: every state and scan input has a leading batch axis; scan inputs are [batch, sequence, ...];
 * sequence_lens (optional) gives each batch entry's length (outputs past it stay zero). */
static mq_status scan8_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    scan_plan p;
    MQ_TRY(scan_plan_make(n, in, &p, err));
    const mq_tensor *const *st_in = in + 1, *const *sc_in = in + 1 + p.nst;
    int64_t batch = -1, maxlen = sc_in[0]->dims[1];
    for (int j = 0; j < p.nst + p.nsc; j++) {
        const mq_tensor *t = in[1 + j];
        if (t->rank < 1 || (batch >= 0 && t->dims[0] != batch) || (j >= p.nst && t->dims[1] != maxlen))
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "inputs need a common batch axis and sequence length");
        batch = t->dims[0];
    }
    if (in[0] && mq_numel(in[0]) != batch)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "sequence_lens has %lld values for batch %lld",
                            (long long)mq_numel(in[0]), (long long)batch);
    scan_plan pb = p; /* per batch entry: scan axis 0 */
    for (int j = 0; j < p.nsc; j++) pb.in_axis[j] = 0;
    mq_status st = MQ_OK;
    int nio = p.nst + p.nsc;
    mq_tensor *items = mq_calloc((size_t)nio + 1, sizeof *items); /* batch entry b of each input */
    const mq_tensor **scans = mq_calloc((size_t)p.nsc + 1, sizeof *scans);
    mq_tensor *states = mq_calloc((size_t)p.nst + 1, sizeof *states);
    unsigned char *owned = mq_calloc((size_t)p.nst + 1, 1);
    mq_tensor *so = mq_calloc((size_t)p.nso + 1, sizeof *so);
    if (!items || !scans || !states || !owned || !so) {
        st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int j = 0; j < nio; j++) {
        const mq_tensor *t = in[1 + j];
        items[j].dtype = t->dtype;
        mq_tensor_set_shape(&items[j], t->rank - 1, t->dims + 1);
        size_t nb = mq_nbytes(&items[j]);
        items[j].data = mq_malloc(nb ? nb : 1);
        if (!items[j].data) {
            st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    for (int j = 0; j < p.nsc; j++) scans[j] = &items[p.nst + j];
    for (int64_t b = 0; b < batch; b++) {
        int64_t len = maxlen;
        if (in[0]) {
            len = mq_load_i64(in[0]->data, in[0]->dtype, (size_t)b);
            if (len < 0 || len > maxlen) {
                st = mq_node_fail(err, n, MQ_ERR_SHAPE, "sequence_lens[%lld] = %lld, the sequence has %lld steps",
                                  (long long)b, (long long)len, (long long)maxlen);
                goto out;
            }
        }
        for (int j = 0; j < nio; j++) {
            size_t nb = mq_nbytes(&items[j]);
            if (nb) memcpy(items[j].data, (const char *)in[1 + j]->data + nb * (size_t)b, nb);
        }
        for (int k = 0; k < p.nst; k++) {
            states[k] = items[k];
            owned[k] = 0;
        }
        st = scan_run(n, &pb, in, len, states, owned, scans, NULL, NULL, so, err);
        /* Scatter this entry's results into the batched outputs. */
        for (int k = 0; st == MQ_OK && k < n->n_out; k++) {
            mq_tensor *o = out[k];
            const mq_tensor *r = k < p.nst ? &states[k] : &so[k - p.nst];
            if (!o || !r->data) continue;
            int64_t dims[MQ_MAX_RANK];
            dims[0] = batch;
            for (int d = 0; d < r->rank; d++) dims[d + 1] = r->dims[d];
            if (k >= p.nst) dims[1] = maxlen;
            if (r->rank + 1 > MQ_MAX_RANK) {
                st = mq_node_fail(err, n, MQ_ERR_LIMIT, "output %d would exceed rank %d", k, MQ_MAX_RANK);
                break;
            }
            if (!o->data) {
                o->dtype = r->dtype;
                mq_tensor_set_shape(o, r->rank + 1, dims);
                size_t nb = mq_nbytes(o);
                o->data = mq_calloc(nb ? nb : 1, 1);
                if (!o->data) {
                    st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for output %d", k);
                    break;
                }
            }
            int ok = o->dtype == r->dtype && o->rank == r->rank + 1;
            for (int d = 1; ok && d < o->rank; d++)
                if (!(k >= p.nst && d == 1) && o->dims[d] != dims[d]) ok = 0;
            if (!ok) {
                st = mq_node_fail(err, n, MQ_ERR_SHAPE, "output %d differs in shape between batch entries", k);
                break;
            }
            size_t per = mq_nbytes(o) / (size_t)(batch ? batch : 1);
            size_t nb = mq_nbytes(r);
            if (nb) memcpy((char *)o->data + per * (size_t)b, r->data, nb);
        }
        for (int k = 0; k < p.nst; k++)
            if (owned[k]) {
                mq_free(states[k].data);
                owned[k] = 0;
            }
        if (so) free_values(so, p.nso);
        if (st != MQ_OK) goto out;
    }
    for (int k = 0; st == MQ_OK && k < n->n_out; k++) {
        mq_tensor *o = out[k];
        if (!o || o->data) continue;
        if (k < p.nst) { /* batch 0: states pass through */
            st = copy_to(n, o, st_in[k], err);
            continue;
        }
        st = empty_scan_output(n, body_out(p.body, k), o, k, err); /* [0, ...]: prepend the batch */
        if (st == MQ_OK && o->rank < MQ_MAX_RANK) {
            int64_t dims[MQ_MAX_RANK];
            dims[0] = batch;
            dims[1] = maxlen;
            for (int d = 1; d < o->rank; d++) dims[d + 1] = o->dims[d];
            mq_tensor_set_shape(o, o->rank + 1, dims);
            mq_free(o->data);
            size_t nb = mq_nbytes(o);
            o->data = mq_calloc(nb ? nb : 1, 1);
            if (!o->data) st = mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
        }
    }
out:
    if (states && owned)
        for (int k = 0; k < p.nst; k++)
            if (owned[k]) mq_free(states[k].data);
    if (so) free_values(so, p.nso);
    if (items) free_values(items, nio);
    mq_free(items);
    mq_free(scans);
    mq_free(states);
    mq_free(owned);
    mq_free(so);
    return st;
}

/* ---- table ------------------------------------------------------------------------------------ */

static const mq_op_def def_if = {.op_type = "If", .domain = "", .since = 1, .until = 0, .min_in = 1, .max_in = 1,
                                 .min_out = 1, .max_out = -1, .infer = if_infer, .forward = if_forward};
static const mq_op_def def_loop = {.op_type = "Loop", .domain = "", .since = 1, .until = 0, .min_in = 2, .static_in = 1u,
                                   .max_in = -1, .min_out = 1, .max_out = -1, .infer = loop_infer,
                                   .forward = loop_forward};
static const mq_op_def def_scan8 = {.op_type = "Scan", .domain = "", .since = 8, .until = 8, .min_in = 2,
                                    .max_in = -1, .min_out = 1, .max_out = -1, .infer = scan_infer,
                                    .forward = scan8_forward};
static const mq_op_def def_scan9 = {.op_type = "Scan", .domain = "", .since = 9, .until = 0, .min_in = 1,
                                    .max_in = -1, .min_out = 1, .max_out = -1, .infer = scan_infer,
                                    .forward = scan9_forward};

const mq_op_def *const mq_ops_control[] = {&def_if, &def_loop, &def_scan8, &def_scan9, NULL};
