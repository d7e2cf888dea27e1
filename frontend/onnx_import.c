/* onnx_import.c: ONNX ModelProto (protobuf-c) into the graph IR: opsets, initializers, inputs/outputs,
 * nodes and attributes, --shape pins, op look-up with every unsupported node reported at once. */
#include "frontend/onnx_import.h"
#include "frontend/import_const.h"

#include "core/infer.h"
#include "core/op.h"
#include "core/strbuf.h"
#include "frontend/tensor_io.h"
#include "frontend/tensor_proto.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- importer state --------------------------------------------------------------------------- */

typedef struct pin {
    const char *spec;  /* the whole "NAME=..." string, for messages */
    char *name;        /* mq_malloc'ed */
    int rank;
    int64_t dims[MQ_MAX_RANK];
    int used;
} pin;

typedef struct imp {
    const Onnx__ModelProto *m;
    const Onnx__GraphProto *gp;
    mq_graph *g;
    mq_err *err;
    int64_t max_elems;
    mq_tp_ext ext;
    int n_pins;
    pin *pins;
    mq_strbuf notes; /* core/strbuf.h */
    mq_strbuf unsup;
    int n_unsup;
    int max_nodes;           /* cap on nodes, subgraphs included */
    size_t total_nodes;
    int max_rank;            /* cap on any tensor's rank (<= MQ_MAX_RANK) */
} imp;

#define NOMEM(im) mq_fail((im)->err, MQ_ERR_NOMEM, "out of memory")

static const char *nz(const char *s) { return s ? s : ""; }

static int is_default_domain(const char *d) { return !d || !*d || !strcmp(d, "ai.onnx"); }

static void *arena_alloc_cb(void *ctx, size_t n) { return mq_arena_alloc(ctx, n); }

/* "node 'conv1'" or "node #12" for an unnamed node. */
static const char *node_label(const mq_node *n, int idx, char *buf, size_t cap)
{
    if (n->name && n->name[0]) snprintf(buf, cap, "node '%s'", n->name);
    else snprintf(buf, cap, "node #%d", idx);
    return buf;
}

/* ---- --shape pins ----------------------------------------------------------------------------- */

static mq_status parse_pins(imp *im, const mq_import_opts *o)
{
    if (!o || o->n_shapes <= 0) return MQ_OK;
    im->pins = mq_calloc((size_t)o->n_shapes, sizeof(pin));
    if (!im->pins) return NOMEM(im);
    im->n_pins = o->n_shapes;
    for (int i = 0; i < o->n_shapes; i++) {
        const char *s = o->shapes[i];
        pin *p = &im->pins[i];
        p->spec = s ? s : "";
        const char *eq = s ? strrchr(s, '=') : NULL;
        if (!eq || eq == s)
            return mq_fail(im->err, MQ_ERR_INVALID, "bad --shape '%s': expected NAME=DIMS (e.g. x=1x3x224x224)",
                           p->spec);
        p->name = mq_malloc((size_t)(eq - s) + 1);
        if (!p->name) return NOMEM(im);
        memcpy(p->name, s, (size_t)(eq - s));
        p->name[eq - s] = 0;
        const char *v = eq + 1;
        if (!*v) return mq_fail(im->err, MQ_ERR_INVALID, "bad --shape '%s': no dimensions", p->spec);
        for (;;) {
            if (*v < '0' || *v > '9')
                return mq_fail(im->err, MQ_ERR_INVALID, "bad --shape '%s': expected a dimension at '%s'",
                               p->spec, v);
            int64_t d = 0;
            while (*v >= '0' && *v <= '9') {
                int dg = *v++ - '0';
                if (d > (INT64_MAX - dg) / 10)
                    return mq_fail(im->err, MQ_ERR_LIMIT, "bad --shape '%s': dimension too large", p->spec);
                d = d * 10 + dg;
            }
            if (p->rank >= MQ_MAX_RANK)
                return mq_fail(im->err, MQ_ERR_LIMIT, "bad --shape '%s': more than %d dimensions", p->spec,
                               MQ_MAX_RANK);
            p->dims[p->rank++] = d;
            if (!*v) break;
            if (*v != 'x' && *v != 'X' && *v != ',')
                return mq_fail(im->err, MQ_ERR_INVALID, "bad --shape '%s': unexpected '%c'", p->spec, *v);
            v++;
        }
    }
    return MQ_OK;
}

static pin *find_pin(imp *im, const char *name)
{
    for (int i = 0; i < im->n_pins; i++)
        if (!strcmp(im->pins[i].name, name)) return &im->pins[i];
    return NULL;
}

static void free_pins(imp *im)
{
    for (int i = 0; i < im->n_pins; i++) mq_free(im->pins[i].name);
    mq_free(im->pins);
    im->pins = NULL;
    im->n_pins = 0;
}

/* ---- value types (graph inputs, outputs, value_info) ------------------------------------------ */

enum vkind { V_INPUT, V_OUTPUT, V_INFO };

static const char *vkind_name(enum vkind k)
{
    return k == V_INPUT ? "graph input" : k == V_OUTPUT ? "graph output" : "value_info";
}

static mq_status apply_type(imp *im, mq_tensor *t, const Onnx__ValueInfoProto *vi, enum vkind kind)
{
    const char *nm = nz(vi->name);
    const Onnx__TypeProto *tp = vi->type;
    if (!tp) {
        if (kind == V_INPUT) return mq_fail(im->err, MQ_ERR_INVALID, "graph input '%s' has no type", nm);
        return MQ_OK;
    }
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) {
        if (kind == V_INFO) return MQ_OK;
        return mq_fail(im->err, MQ_ERR_UNSUPPORTED, "%s '%s' is not a tensor (sequence, map, optional and "
                       "sparse values are not supported)", vkind_name(kind), nm);
    }
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int32_t et = tt->has_elem_type ? tt->elem_type : 0;
    mq_dtype dt = (et == MQ_F16 || et == MQ_BF16) ? MQ_F32 : (mq_dtype)et;
    if (et != 0 && !mq_dtype_supported(dt)) {
        if (kind == V_INFO) return MQ_OK;
        return mq_fail(im->err, MQ_ERR_UNSUPPORTED, "%s '%s': unsupported dtype %s", vkind_name(kind), nm,
                       mq_dtype_name((mq_dtype)et));
    }
    if (et == 0 && kind == V_INPUT)
        return mq_fail(im->err, MQ_ERR_INVALID, "graph input '%s' has no element type", nm);
    if (et != 0) t->dtype = dt;
    if (et == MQ_F16 || et == MQ_BF16) t->decl_dtype = (mq_dtype)et;

    pin *whole = kind == V_INPUT ? find_pin(im, nm) : NULL;
    if (whole) whole->used = 1;
    const Onnx__TensorShapeProto *sh = tt->shape;
    if (!sh) {
        if (whole) {
            mq_tensor_set_shape(t, whole->rank, whole->dims);
            t->sym_mask = (1u << whole->rank) - 1u;
        } else if (kind == V_INPUT) {
            t->rank = -1;
            if (mq_sb_printf(&im->notes, "input '%s' has no shape: it is known only at run time; pin it with "
                          "--shape %s=DIMS\n", nm, nm))
                return NOMEM(im);
        }
        return MQ_OK;
    }
    if (sh->n_dim > (size_t)im->max_rank) {
        if (kind == V_INFO) return MQ_OK;
        return mq_fail(im->err, MQ_ERR_LIMIT, "%s '%s': rank %zu exceeds the maximum rank %d", vkind_name(kind),
                       nm, sh->n_dim, im->max_rank);
    }
    int rank = (int)sh->n_dim;
    if (whole && whole->rank != rank)
        return mq_fail(im->err, MQ_ERR_SHAPE, "--shape '%s': input '%s' has rank %d, the pin gives %d",
                       whole->spec, nm, rank, whole->rank);
    int64_t dims[MQ_MAX_RANK];
    uint32_t sym = 0;
    int unresolved = 0;
    for (int d = 0; d < rank; d++) {
        const Onnx__TensorShapeProto__Dimension *dm = sh->dim[d];
        if (dm && dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (dm->dim_value < 0)
                return mq_fail(im->err, MQ_ERR_INVALID, "%s '%s': dimension %d is negative (%" PRId64 ")",
                               vkind_name(kind), nm, d, dm->dim_value);
            dims[d] = dm->dim_value;
            if (whole && whole->dims[d] != dims[d])
                return mq_fail(im->err, MQ_ERR_SHAPE, "--shape '%s': input '%s' dim %d is fixed at %" PRId64
                               " by the model", whole->spec, nm, d, dims[d]);
            continue;
        }
        const char *param = dm && dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                                ? nz(dm->dim_param) : "";
        sym |= 1u << d;
        pin *sp = param[0] ? find_pin(im, param) : NULL;
        if (sp && sp->rank != 1)
            return mq_fail(im->err, MQ_ERR_INVALID, "--shape '%s': a symbolic dimension takes one value",
                           sp->spec);
        if (whole) {
            dims[d] = whole->dims[d];
            if (sp) sp->used = 1;
        } else if (sp) {
            sp->used = 1;
            dims[d] = sp->dims[0];
        } else if (kind == V_INPUT) {
            dims[d] = 1;
            int r = param[0] ? mq_sb_printf(&im->notes, "input '%s' dim %d ('%s') is symbolic: using 1; pin it "
                                         "with --shape\n", nm, d, param)
                             : mq_sb_printf(&im->notes, "input '%s' dim %d is symbolic: using 1; pin it with "
                                         "--shape\n", nm, d);
            if (r) return NOMEM(im);
        } else {
            dims[d] = 0;
            unresolved = 1;
        }
    }
    if (unresolved) {
        t->rank = -1;
        return MQ_OK;
    }
    if (kind == V_INPUT) {
        char what[300];
        int64_t numel;
        snprintf(what, sizeof what, "graph input '%s'", nm);
        MQ_TRY(mq_tp_numel(dims, rank, im->max_elems, what, &numel, im->err));
        t->sym_mask = sym;
    }
    mq_tensor_set_shape(t, rank, dims);
    return MQ_OK;
}

/* Mark every SYM pin whose name appears as a dim_param somewhere (so unused pins can be reported). */
static void mark_sym_pins(imp *im, Onnx__ValueInfoProto *const *vis, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const Onnx__ValueInfoProto *vi = vis[i];
        if (!vi || !vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !vi->type->tensor_type || !vi->type->tensor_type->shape)
            continue;
        const Onnx__TensorShapeProto *sh = vi->type->tensor_type->shape;
        for (size_t d = 0; d < sh->n_dim; d++) {
            const Onnx__TensorShapeProto__Dimension *dm = sh->dim[d];
            if (dm && dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && dm->dim_param) {
                pin *p = find_pin(im, dm->dim_param);
                if (p) p->used = 1;
            }
        }
    }
}

/* ---- tensors and attributes ------------------------------------------------------------------- */

/* The rank cap on a decoded constant (the decoder itself allows MQ_MAX_RANK). */
static mq_status check_rank(imp *im, const mq_tensor *t, const char *what)
{
    if (t->rank > im->max_rank)
        return mq_fail(im->err, MQ_ERR_LIMIT, "%s: rank %d exceeds the maximum rank %d", what, t->rank, im->max_rank);
    return MQ_OK;
}

static mq_status decode_tensor(imp *im, const Onnx__TensorProto *tp, const char *what, mq_tensor *t)
{
    t->producer = -1;
    t->is_const = 1;
    MQ_TRY(mq_tp_decode(tp, what, &im->ext, im->max_elems, arena_alloc_cb, im->g->arena, t, im->err));
    return check_rank(im, t, what);
}

static mq_status check_count(imp *im, size_t n, const char *what)
{
    if (n > INT_MAX) return mq_fail(im->err, MQ_ERR_LIMIT, "%s: too many values", what);
    return MQ_OK;
}

/* Parse one attribute. A problem that makes the node unsupported (function attribute reference,
 * tensor of an unsupported dtype) goes to *why (static or in `whybuf`) and returns MQ_OK. */
static mq_status parse_attr(imp *im, const Onnx__AttributeProto *ap, const char *nlabel, mq_attr *a,
                            char *whybuf, size_t whycap, int *bad)
{
    mq_arena *ar = im->g->arena;
    if (!ap) return mq_fail(im->err, MQ_ERR_INVALID, "%s: empty attribute", nlabel);
    a->name = mq_arena_strdup(ar, nz(ap->name));
    if (!a->name) return NOMEM(im);
    if (!a->name[0]) return mq_fail(im->err, MQ_ERR_INVALID, "%s: attribute without a name", nlabel);
    if (ap->ref_attr_name && ap->ref_attr_name[0]) {
        snprintf(whybuf, whycap, "attribute '%s' refers to function attribute '%s' (not supported)", a->name,
                 ap->ref_attr_name);
        *bad = 1;
        return MQ_OK;
    }
    int type = ap->has_type ? (int)ap->type : 0;
    if (type == 0) { /* very old models leave the type out: infer it from the field that is set */
        if (ap->has_f) type = MQ_ATTR_FLOAT;
        else if (ap->has_i) type = MQ_ATTR_INT;
        else if (ap->has_s) type = MQ_ATTR_STRING;
        else if (ap->t) type = MQ_ATTR_TENSOR;
        else if (ap->g) type = MQ_ATTR_GRAPH;
        else if (ap->n_floats) type = MQ_ATTR_FLOATS;
        else if (ap->n_ints) type = MQ_ATTR_INTS;
        else if (ap->n_strings) type = MQ_ATTR_STRINGS;
        else if (ap->n_tensors) type = MQ_ATTR_TENSORS;
        else if (ap->n_graphs) type = MQ_ATTR_GRAPHS;
    }
    a->type = (mq_attr_type)type;
    char what[512];
    snprintf(what, sizeof what, "%s attribute '%s'", nlabel, a->name);
    switch (type) {
    case MQ_ATTR_FLOAT: a->f = ap->f; break;
    case MQ_ATTR_INT: a->i = ap->i; break;
    case MQ_ATTR_STRING: {
        char *s = mq_arena_alloc(ar, ap->s.len + 1);
        if (!s) return NOMEM(im);
        if (ap->s.len) memcpy(s, ap->s.data, ap->s.len);
        a->s = s;
        a->s_len = ap->s.len;
        break;
    }
    case MQ_ATTR_TENSOR:
    case MQ_ATTR_TENSORS: {
        size_t n = type == MQ_ATTR_TENSOR ? 1 : ap->n_tensors;
        MQ_TRY(check_count(im, n, what));
        if (type == MQ_ATTR_TENSOR && !ap->t)
            return mq_fail(im->err, MQ_ERR_INVALID, "%s: tensor attribute without a tensor", what);
        mq_tensor **arr = mq_arena_array(ar, n ? n : 1, sizeof *arr);
        if (!arr) return NOMEM(im);
        for (size_t k = 0; k < n; k++) {
            const Onnx__TensorProto *tp = type == MQ_ATTR_TENSOR ? ap->t : ap->tensors[k];
            if (!tp) return mq_fail(im->err, MQ_ERR_INVALID, "%s: empty tensor", what);
            mq_tensor *t = mq_arena_alloc(ar, sizeof *t);
            if (!t) return NOMEM(im);
            t->name = mq_arena_strdup(ar, tp->name && tp->name[0] ? tp->name : a->name);
            if (!t->name) return NOMEM(im);
            mq_err local;
            mq_err_clear(&local);
            mq_status s = mq_tp_decode(tp, what, &im->ext, im->max_elems, arena_alloc_cb, ar, t, &local);
            t->producer = -1;
            t->is_const = 1;
            if (s == MQ_ERR_UNSUPPORTED) {
                const char *msg = local.msg + (strncmp(local.msg, nlabel, strlen(nlabel)) ? 0 : strlen(nlabel) + 1);
                size_t ml = strnlen(msg, whycap - 1);
                memcpy(whybuf, msg, ml);
                whybuf[ml] = 0;
                *bad = 1;
                return MQ_OK;
            }
            if (s != MQ_OK) return mq_fail(im->err, s, "%s", local.msg);
            MQ_TRY(check_rank(im, t, what));
            arr[k] = t;
        }
        if (type == MQ_ATTR_TENSOR) a->t = arr[0];
        a->tensors = (const mq_tensor *const *)arr;
        a->n = (int)n;
        break;
    }
    case MQ_ATTR_FLOATS: {
        MQ_TRY(check_count(im, ap->n_floats, what));
        float *v = mq_arena_array(ar, ap->n_floats ? ap->n_floats : 1, sizeof *v);
        if (!v) return NOMEM(im);
        if (ap->n_floats) memcpy(v, ap->floats, ap->n_floats * sizeof *v);
        a->floats = v;
        a->n = (int)ap->n_floats;
        break;
    }
    case MQ_ATTR_INTS: {
        MQ_TRY(check_count(im, ap->n_ints, what));
        int64_t *v = mq_arena_array(ar, ap->n_ints ? ap->n_ints : 1, sizeof *v);
        if (!v) return NOMEM(im);
        if (ap->n_ints) memcpy(v, ap->ints, ap->n_ints * sizeof *v);
        a->ints = v;
        a->n = (int)ap->n_ints;
        break;
    }
    case MQ_ATTR_STRINGS: {
        MQ_TRY(check_count(im, ap->n_strings, what));
        char **v = mq_arena_array(ar, ap->n_strings ? ap->n_strings : 1, sizeof *v);
        if (!v) return NOMEM(im);
        for (size_t k = 0; k < ap->n_strings; k++) {
            v[k] = mq_arena_alloc(ar, ap->strings[k].len + 1);
            if (!v[k]) return NOMEM(im);
            if (ap->strings[k].len) memcpy(v[k], ap->strings[k].data, ap->strings[k].len);
        }
        a->strings = (const char *const *)v;
        a->n = (int)ap->n_strings;
        break;
    }
    case MQ_ATTR_GRAPHS: a->n = ap->n_graphs > INT_MAX ? INT_MAX : (int)ap->n_graphs; break;
    case MQ_ATTR_SPARSE_TENSOR:
    case MQ_ATTR_SPARSE_TENSORS:
        snprintf(whybuf, whycap, "attribute '%s' is a sparse tensor (not supported)", a->name);
        *bad = 1;
        break;
    default: break; /* GRAPH, sparse tensors, type protos: kind only (their ops are unsupported) */
    }
    return MQ_OK;
}

/* ---- op look-up ------------------------------------------------------------------------------- */

static int domain_in_table(const char *domain)
{
    if (is_default_domain(domain)) return 1;
    for (int i = 0;; i++) {
        const mq_op_def *d = mq_op_at(i);
        if (!d) return 0;
        if (d->domain && !strcmp(d->domain, domain)) return 1;
    }
}

static const mq_opset_import *find_opset(const mq_graph *g, const char *domain)
{
    const char *d = is_default_domain(domain) ? "" : domain;
    for (int i = 0; i < g->n_opsets; i++)
        if (!strcmp(g->opsets[i].domain, d)) return &g->opsets[i];
    return NULL;
}

/* Append the reasons node n cannot run (empty string if it can) to `why`. */
static void check_node(const mq_graph *g, mq_node *n, char *why, size_t cap)
{
    size_t len = strlen(why);
#define WHY(...)                                                                                   \
    do {                                                                                           \
        if (len < cap) {                                                                           \
            int w_ = snprintf(why + len, cap - len, "%s", len ? "; " : "");                        \
            if (w_ > 0) len += (size_t)w_;                                                         \
            if (len < cap) {                                                                       \
                w_ = snprintf(why + len, cap - len, __VA_ARGS__);                                  \
                if (w_ > 0) len += (size_t)w_;                                                     \
            }                                                                                      \
        }                                                                                          \
    } while (0)
    n->def = NULL;
    if (!domain_in_table(n->domain)) {
        WHY("unknown domain");
        return;
    }
    if (!find_opset(g, n->domain)) {
        WHY("domain '%s' is not declared in the model's opset_import", n->domain);
        return;
    }
    const char *vwhy = NULL;
    const mq_op_def *def = mq_op_find(n->domain, n->op_type, n->opset, &vwhy);
    if (!def) {
        if (vwhy) WHY("opset %d not supported (%s)", n->opset, vwhy);
        else WHY("unknown op");
        return;
    }
    int ok = len == 0;
    /* Only the control-flow ops take subgraphs: the executor lets a node with a graph attribute allocate
     * its own outputs, so a graph on any other op (a hostile model) must not reach it. */
    int control = is_default_domain(n->domain) &&
                  (!strcmp(n->op_type, "If") || !strcmp(n->op_type, "Loop") || !strcmp(n->op_type, "Scan"));
    for (int k = 0; k < n->n_attr && !control; k++)
        if (n->attrs[k].type == MQ_ATTR_GRAPH || n->attrs[k].type == MQ_ATTR_GRAPHS) {
            WHY("attribute '%s' is a graph, which this op does not take", n->attrs[k].name);
            ok = 0;
            break;
        }
    int n_in = n->n_in - n->n_hidden_in; /* the ONNX inputs */
    if (def->max_in >= 0 && n_in > def->max_in) {
        WHY("takes at most %d input(s), got %d", def->max_in, n_in);
        ok = 0;
    }
    if (n_in < def->min_in) { /* counts positions: whether an omitted one is allowed is infer's call */
        WHY("needs at least %d input(s), got %d", def->min_in, n_in);
        ok = 0;
    }
    if (def->max_out >= 0 && n->n_out > def->max_out) {
        WHY("has at most %d output(s), got %d", def->max_out, n->n_out);
        ok = 0;
    }
    if (n->n_out < def->min_out) {
        WHY("needs at least %d output(s), got %d", def->min_out, n->n_out);
        ok = 0;
    }
    for (int k = 0; k < def->min_out && k < n->n_out; k++) /* only optional outputs may be omitted ("") */
        if (n->out[k] < 0) {
            WHY("output %d is required but has no name", k);
            ok = 0;
            break;
        }
    if (ok) n->def = def;
#undef WHY
}

/* ---- the import ------------------------------------------------------------------------------- */

#define MAX_SUBGRAPH_DEPTH 32

static mq_status new_tensor(imp *im, mq_graph *g, const char *name, int *id)
{
    *id = mq_graph_find(g, name);
    if (*id >= 0) return MQ_OK;
    *id = mq_graph_tensor(g, name);
    if (*id < 0) return mq_fail(im->err, MQ_ERR_NOMEM, "out of memory (tensor '%s')", name);
    mq_tensor *t = &g->tensors[*id];
    t->dtype = MQ_UNDEFINED;
    t->rank = -1;
    t->producer = -1;
    return MQ_OK;
}

/* "node 'conv1'" / "node #12", with " in subgraph 'body'" for a node of a subgraph. */
static const char *graph_node_label(const mq_graph *g, const mq_node *n, int idx, char *buf, size_t cap)
{
    node_label(n, idx, buf, cap);
    if (g->parent) {
        size_t l = strlen(buf);
        if (l < cap) snprintf(buf + l, cap - l, " in subgraph '%s'", g->name ? g->name : "");
    }
    return buf;
}

static mq_status count_tensors(imp *im, int *cap)
{
    const Onnx__GraphProto *gp = im->gp;
    size_t n = 0;
    if (mq_add_size(n, gp->n_input, &n) || mq_add_size(n, gp->n_initializer, &n) ||
        mq_add_size(n, gp->n_output, &n) || mq_add_size(n, gp->n_value_info, &n))
        goto big;
    for (size_t i = 0; i < gp->n_node; i++)
        if (gp->node[i] && mq_add_size(n, gp->node[i]->n_output, &n)) goto big;
    if (n > INT_MAX / 2) goto big;
    *cap = (int)n + 1;
    return MQ_OK;
big:
    return mq_fail(im->err, MQ_ERR_LIMIT, "too many tensors");
}

/* Upper bound on the tensor names a subgraph can hold: its own, plus the outer names it and its nested
 * subgraphs read (each becomes one of its captures). */
static mq_status names_bound(imp *im, const Onnx__GraphProto *gp, int depth, size_t *out)
{
    if (depth > MAX_SUBGRAPH_DEPTH)
        return mq_fail(im->err, MQ_ERR_LIMIT, "subgraphs are nested more than %d deep", MAX_SUBGRAPH_DEPTH);
    size_t n = 0;
    if (mq_add_size(n, gp->n_input, &n) || mq_add_size(n, gp->n_initializer, &n) ||
        mq_add_size(n, gp->n_output, &n) || mq_add_size(n, gp->n_value_info, &n))
        goto big;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        if (!np) continue;
        if (mq_add_size(n, np->n_output, &n) || mq_add_size(n, np->n_input, &n)) goto big;
        for (size_t k = 0; k < np->n_attribute; k++) {
            const Onnx__AttributeProto *ap = np->attribute[k];
            if (!ap) continue;
            size_t sub;
            if (ap->g) {
                MQ_TRY(names_bound(im, ap->g, depth + 1, &sub));
                if (mq_add_size(n, sub, &n)) goto big;
            }
            for (size_t j = 0; j < ap->n_graphs; j++)
                if (ap->graphs[j]) {
                    MQ_TRY(names_bound(im, ap->graphs[j], depth + 1, &sub));
                    if (mq_add_size(n, sub, &n)) goto big;
                }
        }
    }
    if (n > INT_MAX / 4) goto big;
    *out = n;
    return MQ_OK;
big:
    return mq_fail(im->err, MQ_ERR_LIMIT, "too many tensors");
}

/* A name a subgraph reads from an outer scope: a tensor of the subgraph appended to its inputs as a
 * capture (the owning node passes the outer value as a hidden input). */
static mq_status add_capture(imp *im, mq_graph *g, const char *name, int *id)
{
    MQ_TRY(new_tensor(im, g, name, id));
    if (g->n_inputs >= g->cap_tensors) return mq_fail(im->err, MQ_ERR_LIMIT, "too many tensors");
    g->tensors[*id].is_input = 1;
    g->inputs[g->n_inputs++] = *id;
    g->n_captures++;
    return MQ_OK;
}

static mq_status import_subgraph(imp *im, mq_graph *parent, const Onnx__GraphProto *gp, size_t extra, int depth,
                                 mq_graph **out);

/* Import the GRAPH / GRAPHS attributes of every node of g, give each node the union of the outer names
 * its subgraphs read as hidden inputs, and make every subgraph of the node capture exactly that list. */
static mq_status import_node_subgraphs(imp *im, mq_graph *g, const Onnx__GraphProto *gp,
                                       const unsigned char *reported, int depth)
{
    mq_arena *ar = g->arena;
    for (int i = 0; i < g->n_nodes; i++) {
        if (reported[i]) continue;
        mq_node *n = &g->nodes[i];
        const Onnx__NodeProto *np = gp->node[i];
        char lbl[300];
        graph_node_label(g, n, i, lbl, sizeof lbl);
        size_t n_sub = 0, extra = 0;
        for (int k = 0; k < n->n_attr; k++) {
            const Onnx__AttributeProto *ap = np->attribute[k];
            mq_attr_type ty = n->attrs[k].type;
            if (ty != MQ_ATTR_GRAPH && ty != MQ_ATTR_GRAPHS) continue;
            size_t cnt = ty == MQ_ATTR_GRAPH ? 1 : ap->n_graphs;
            for (size_t j = 0; j < cnt; j++) {
                const Onnx__GraphProto *sg = ty == MQ_ATTR_GRAPH ? ap->g : ap->graphs[j];
                if (!sg)
                    return mq_fail(im->err, MQ_ERR_INVALID, "%s (%s): attribute '%s' has no graph", lbl,
                                   n->op_type, n->attrs[k].name);
                size_t b = 0;
                MQ_TRY(names_bound(im, sg, depth + 1, &b));
                if (mq_add_size(extra, b, &extra) || extra > INT_MAX / 4)
                    return mq_fail(im->err, MQ_ERR_LIMIT, "%s: too many tensors in subgraphs", lbl);
                n_sub++;
            }
        }
        if (!n_sub) continue;
        mq_graph **subs = mq_arena_array(ar, n_sub, sizeof *subs);
        if (!subs) return NOMEM(im);
        size_t ns = 0, total_caps = 0;
        for (int k = 0; k < n->n_attr; k++) {
            const Onnx__AttributeProto *ap = np->attribute[k];
            mq_attr *a = &n->attrs[k];
            if (a->type != MQ_ATTR_GRAPH && a->type != MQ_ATTR_GRAPHS) continue;
            size_t cnt = a->type == MQ_ATTR_GRAPH ? 1 : ap->n_graphs;
            size_t first = ns;
            for (size_t j = 0; j < cnt; j++) {
                const Onnx__GraphProto *sg = a->type == MQ_ATTR_GRAPH ? ap->g : ap->graphs[j];
                mq_status st = import_subgraph(im, g, sg, extra, depth + 1, &subs[ns]);
                if (st != MQ_OK) {
                    mq_err_prefix(im->err, "%s (%s) attribute '%s': ", lbl, n->op_type, a->name);
                    return st;
                }
                total_caps += (size_t)subs[ns]->n_captures;
                ns++;
            }
            if (a->type == MQ_ATTR_GRAPH) a->g = subs[first];
            else {
                a->graphs = (const mq_graph *const *)&subs[first];
                a->n = (int)cnt;
            }
        }
        /* The union of the names the subgraphs capture, in order of first appearance. */
        const char **names = mq_arena_array(ar, total_caps ? total_caps : 1, sizeof *names);
        if (!names) return NOMEM(im);
        int nh = 0;
        for (size_t s = 0; s < ns; s++) {
            const mq_graph *sg = subs[s];
            for (int c = sg->n_inputs - sg->n_captures; c < sg->n_inputs; c++) {
                const char *nm = sg->tensors[sg->inputs[c]].name;
                int seen = 0;
                for (int u = 0; u < nh && !seen; u++) seen = !strcmp(names[u], nm);
                if (!seen) names[nh++] = nm;
            }
        }
        if (!nh) continue;
        if (n->n_in > INT_MAX / 2 - nh) return mq_fail(im->err, MQ_ERR_LIMIT, "%s: too many inputs", lbl);
        int *in = mq_arena_array(ar, (size_t)(n->n_in + nh), sizeof *in);
        if (!in) return NOMEM(im);
        if (n->n_in) memcpy(in, n->in, sizeof *in * (size_t)n->n_in);
        for (int u = 0; u < nh; u++) {
            int id = mq_graph_find(g, names[u]);
            if (id < 0) {
                if (!g->parent)
                    return mq_fail(im->err, MQ_ERR_INVALID, "%s (%s): a subgraph reads '%s', which is not a graph "
                                   "input, initializer or node output", lbl, n->op_type, names[u]);
                MQ_TRY(add_capture(im, g, names[u], &id));
            }
            in[n->n_in + u] = id;
        }
        n->in = in;
        n->n_in += nh;
        n->n_hidden_in = nh;
        /* Every subgraph of the node captures the whole list, in the same order. */
        int *old = mq_arena_array(ar, (size_t)nh, sizeof *old);
        if (!old) return NOMEM(im);
        for (size_t s = 0; s < ns; s++) {
            mq_graph *sg = subs[s];
            int nf = sg->n_inputs - sg->n_captures, nc = sg->n_captures;
            memcpy(old, sg->inputs + nf, sizeof *old * (size_t)nc);
            sg->n_inputs = nf;
            sg->n_captures = 0;
            for (int u = 0; u < nh; u++) {
                int id = mq_graph_find(sg, names[u]);
                int was_capture = 0;
                for (int c = 0; c < nc && !was_capture; c++) was_capture = old[c] == id;
                if (id >= 0 && !was_capture)
                    return mq_fail(im->err, MQ_ERR_UNSUPPORTED, "%s (%s): subgraph '%s' defines '%s', which "
                                   "another subgraph of the node reads from the outer scope (shadowing is not "
                                   "supported)", lbl, n->op_type, sg->name, names[u]);
                if (id < 0) {
                    MQ_TRY(add_capture(im, sg, names[u], &id));
                    sg->n_inputs--; /* re-added below, in order */
                    sg->n_captures--;
                }
                sg->inputs[sg->n_inputs++] = id;
                sg->n_captures++;
            }
        }
    }
    return MQ_OK;
}

/* Nodes (outputs, attributes, inputs, op look-up, subgraphs), then the graph outputs and value_info.
 * g's inputs and initializers are already in place. */
static mq_status import_nodes(imp *im, mq_graph *g, const Onnx__GraphProto *gp, int depth)
{
    mq_arena *ar = g->arena;
    unsigned char *reported = mq_arena_alloc(ar, gp->n_node ? gp->n_node : 1); /* listed as unsupported */
    if (!reported) return NOMEM(im);

    /* Pass 1: outputs and attributes. */
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        mq_node *n = mq_graph_add_node(g);
        if (!n) return NOMEM(im);
        if (!np || !np->op_type || !np->op_type[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "node #%zu%s%s%s has no op_type", i,
                           g->parent ? " in subgraph '" : "", g->parent ? g->name : "", g->parent ? "'" : "");
        n->name = mq_arena_strdup(ar, nz(np->name));
        n->op_type = mq_arena_strdup(ar, np->op_type);
        n->domain = mq_arena_strdup(ar, is_default_domain(np->domain) ? "" : np->domain);
        if (!n->name || !n->op_type || !n->domain) return NOMEM(im);
        const mq_opset_import *oi = find_opset(g, n->domain);
        n->opset = oi ? (int)oi->version : 0;
        if (np->n_input > INT_MAX / 4 || np->n_output > INT_MAX / 4 || np->n_attribute > INT_MAX / 4)
            return mq_fail(im->err, MQ_ERR_LIMIT, "node #%zu: too many inputs, outputs or attributes", i);
        n->n_in = (int)np->n_input;
        n->n_out = (int)np->n_output;
        n->in = mq_arena_array(ar, np->n_input ? np->n_input : 1, sizeof(int));
        n->out = mq_arena_array(ar, np->n_output ? np->n_output : 1, sizeof(int));
        n->attrs = mq_arena_array(ar, np->n_attribute ? np->n_attribute : 1, sizeof(mq_attr));
        if (!n->in || !n->out || !n->attrs) return NOMEM(im);
        n->def = NULL;
        char lbl[300];
        graph_node_label(g, n, (int)i, lbl, sizeof lbl);
        for (size_t k = 0; k < np->n_output; k++) {
            const char *on = nz(np->output[k]);
            if (!on[0]) {
                n->out[k] = -1;
                continue;
            }
            int id = mq_graph_find(g, on);
            if (id >= 0) {
                const mq_tensor *t = &g->tensors[id];
                return mq_fail(im->err, MQ_ERR_INVALID, "%s (%s): output '%s' is already %s", lbl, n->op_type,
                               on, t->is_const ? "an initializer" : t->is_input ? "a graph input"
                                                                              : "produced by another node");
            }
            MQ_TRY(new_tensor(im, g, on, &id));
            g->tensors[id].producer = (int)i;
            n->out[k] = id;
        }
        char why[1024] = "";
        int bad = 0;
        n->n_attr = 0;
        for (size_t k = 0; k < np->n_attribute; k++) {
            MQ_TRY(parse_attr(im, np->attribute[k], lbl, &n->attrs[k], why, sizeof why, &bad));
            n->n_attr = (int)k + 1;
            if (bad) break;
        }
        if (bad) {
            if (mq_sb_printf(&im->unsup, "%s (%s, domain '%s'): %s\n", lbl, n->op_type,
                          n->domain[0] ? n->domain : "ai.onnx", why))
                return NOMEM(im);
            im->n_unsup++;
            reported[i] = 1;
        }
    }

    /* Pass 2: inputs (dangling names are errors; in a subgraph they are outer-scope captures), then the
     * op look-up. */
    for (int i = 0; i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        const Onnx__NodeProto *np = gp->node[i];
        char lbl[300];
        graph_node_label(g, n, i, lbl, sizeof lbl);
        for (int k = 0; k < n->n_in; k++) {
            const char *in = nz(np->input[k]);
            if (!in[0]) {
                n->in[k] = -1;
                continue;
            }
            n->in[k] = mq_graph_find(g, in);
            if (n->in[k] < 0 && g->parent) MQ_TRY(add_capture(im, g, in, &n->in[k]));
            if (n->in[k] < 0)
                return mq_fail(im->err, MQ_ERR_INVALID, "%s (%s): input '%s' is not a graph input, initializer "
                               "or node output", lbl, n->op_type, in);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        if (reported[i]) {
            n->def = NULL;
            continue;
        }
        char why[1024] = "";
        check_node(g, n, why, sizeof why);
        if (why[0]) {
            char lbl[300];
            graph_node_label(g, n, i, lbl, sizeof lbl);
            if (mq_sb_printf(&im->unsup, "%s (%s, domain '%s'): %s\n", lbl, n->op_type,
                          n->domain[0] ? n->domain : "ai.onnx", why))
                return NOMEM(im);
            im->n_unsup++;
        }
    }
    MQ_TRY(import_node_subgraphs(im, g, gp, reported, depth));

    /* Graph outputs and value_info. */
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        if (!vi || !vi->name || !vi->name[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "graph output #%zu has no name", i);
        int id = mq_graph_find(g, vi->name);
        if (id < 0 && g->parent) MQ_TRY(add_capture(im, g, vi->name, &id));
        if (id < 0)
            return mq_fail(im->err, MQ_ERR_INVALID, "graph output '%s' is not produced by any node, input or "
                           "initializer", vi->name);
        mq_tensor *t = &g->tensors[id];
        if (!t->is_input && !t->is_const) MQ_TRY(apply_type(im, t, vi, V_OUTPUT));
        t->is_output = 1;
        g->outputs[g->n_outputs++] = id;
    }
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        if (!vi || !vi->name) continue;
        int id = mq_graph_find(g, vi->name);
        if (id < 0) continue;
        mq_tensor *t = &g->tensors[id];
        if (t->is_input || t->is_const || t->is_output) continue;
        MQ_TRY(apply_type(im, t, vi, V_INFO));
    }
    return MQ_OK;
}

static mq_status add_initializers(imp *im, mq_graph *g, const Onnx__GraphProto *gp)
{
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp || !tp->name || !tp->name[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "initializer #%zu has no name", i);
        if (mq_graph_find(g, tp->name) >= 0)
            return mq_fail(im->err, MQ_ERR_INVALID, "initializer '%s' appears twice", tp->name);
        int id;
        MQ_TRY(new_tensor(im, g, tp->name, &id));
        char what[300];
        snprintf(what, sizeof what, "initializer '%s'", tp->name);
        MQ_TRY(decode_tensor(im, tp, what, &g->tensors[id]));
    }
    return MQ_OK;
}

/* A subgraph (If branch, Loop/Scan body): an mq_graph in the parent's arena. Its formal inputs may
 * leave type and shape out (the node supplies them at run time); any dims it declares are not checked
 * at run time, only the rank. extra: room for captures that sibling subgraphs add. */
static mq_status import_subgraph(imp *im, mq_graph *parent, const Onnx__GraphProto *gp, size_t extra, int depth,
                                 mq_graph **out)
{
    size_t bound;
    MQ_TRY(names_bound(im, gp, depth, &bound));
    if (mq_add_size(bound, extra, &bound) || bound > INT_MAX / 4)
        return mq_fail(im->err, MQ_ERR_LIMIT, "too many tensors");
    im->total_nodes += gp->n_node;
    if (im->total_nodes > (size_t)im->max_nodes)
        return mq_fail(im->err, MQ_ERR_LIMIT, "%zu nodes (with subgraphs) exceed the limit of %d", im->total_nodes,
                       im->max_nodes);
    if (gp->n_sparse_initializer > 0)
        return mq_fail(im->err, MQ_ERR_UNSUPPORTED, "sparse initializers are not supported");
    mq_arena *ar = parent->arena;
    mq_graph *g = mq_arena_alloc(ar, sizeof *g);
    if (!g) return NOMEM(im);
    g->arena = ar;
    g->cap_tensors = (int)bound + 1;
    g->cap_nodes = (int)gp->n_node + 1;
    g->tensors = mq_arena_array(ar, (size_t)g->cap_tensors + 1, sizeof(mq_tensor));
    g->nodes = mq_arena_array(ar, (size_t)g->cap_nodes + 1, sizeof(mq_node));
    g->hash_cap = 16;
    while (g->hash_cap < 2 * (g->cap_tensors + 1)) g->hash_cap *= 2;
    g->name_hash = mq_arena_array(ar, (size_t)g->hash_cap, sizeof(int));
    g->inputs = mq_arena_array(ar, (size_t)g->cap_tensors, sizeof(int));
    g->outputs = mq_arena_array(ar, gp->n_output ? gp->n_output : 1, sizeof(int));
    g->name = mq_arena_strdup(ar, nz(gp->name));
    if (!g->tensors || !g->nodes || !g->name_hash || !g->inputs || !g->outputs || !g->name) return NOMEM(im);
    g->path = parent->path ? parent->path : "";
    g->producer = parent->producer;
    g->ir_version = parent->ir_version;
    g->n_opsets = parent->n_opsets;
    g->opsets = parent->opsets;
    g->opset = parent->opset;
    g->parent = parent;

    MQ_TRY(add_initializers(im, g, gp));
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi || !vi->name || !vi->name[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "subgraph '%s' input #%zu has no name", g->name, i);
        int id = mq_graph_find(g, vi->name);
        if (id >= 0) return mq_fail(im->err, MQ_ERR_INVALID, "subgraph '%s' input '%s' appears twice or is an "
                                    "initializer", g->name, vi->name);
        if (vi->type && vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
            return mq_fail(im->err, MQ_ERR_UNSUPPORTED, "subgraph '%s' input '%s' is not a tensor (sequence, map, "
                           "optional and sparse values are not supported)", g->name, vi->name);
        MQ_TRY(new_tensor(im, g, vi->name, &id));
        mq_tensor *t = &g->tensors[id];
        t->is_input = 1;
        MQ_TRY(apply_type(im, t, vi, V_INFO));
        if (t->dtype == MQ_UNDEFINED) t->rank = -1;
        t->sym_mask = t->rank > 0 ? (uint32_t)((1ull << t->rank) - 1) : 0;
        g->inputs[g->n_inputs++] = id;
    }
    MQ_TRY(import_nodes(im, g, gp, depth));
    mq_status st = mq_graph_toposort(g, im->err);
    if (st != MQ_OK) mq_err_prefix(im->err, "subgraph '%s': ", g->name);
    *out = g;
    return st;
}

static mq_status import_model(imp *im, const mq_import_opts *o)
{
    const Onnx__ModelProto *m = im->m;
    const Onnx__GraphProto *gp = m->graph;
    if (!gp) return mq_fail(im->err, MQ_ERR_INVALID, "the model has no graph");
    im->gp = gp;
    int max_nodes = o && o->max_nodes > 0 ? o->max_nodes : MQ_DEFAULT_MAX_NODES;
    im->max_nodes = max_nodes;
    im->total_nodes = gp->n_node;
    if (gp->n_node > (size_t)max_nodes)
        return mq_fail(im->err, MQ_ERR_LIMIT, "%zu nodes exceed the limit of %d", gp->n_node, max_nodes);
    if (gp->n_sparse_initializer > 0)
        return mq_fail(im->err, MQ_ERR_UNSUPPORTED, "sparse initializer '%s' is not supported",
                       gp->sparse_initializer[0] && gp->sparse_initializer[0]->values
                           ? nz(gp->sparse_initializer[0]->values->name) : "");
    if (gp->n_input > INT_MAX / 4 || gp->n_output > INT_MAX / 4 || gp->n_initializer > INT_MAX / 4 ||
        m->n_opset_import > INT_MAX / 4)
        return mq_fail(im->err, MQ_ERR_LIMIT, "too many graph inputs, outputs or initializers");

    int cap_t = 0;
    MQ_TRY(count_tensors(im, &cap_t));
    MQ_TRY(mq_graph_new(cap_t, (int)gp->n_node + 1, &im->g, im->err));
    mq_graph *g = im->g;
    mq_arena *ar = g->arena;

    /* Model-level facts. */
    g->ir_version = m->has_ir_version ? m->ir_version : 0;
    g->producer = mq_arena_strdup(ar, nz(m->producer_name));
    g->name = mq_arena_strdup(ar, nz(gp->name));
    if (!g->producer || !g->name) return NOMEM(im);

    g->opsets = mq_arena_array(ar, m->n_opset_import ? m->n_opset_import : 1, sizeof *g->opsets);
    if (!g->opsets) return NOMEM(im);
    int have_default = 0;
    g->opset = 1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = m->opset_import[i];
        if (!os) continue;
        const char *d = is_default_domain(os->domain) ? "" : os->domain;
        int64_t v = os->has_version ? os->version : 0;
        if (v <= 0 || v > INT_MAX)
            return mq_fail(im->err, MQ_ERR_INVALID, "opset_import for domain '%s' has version %" PRId64,
                           d[0] ? d : "ai.onnx", v);
        if (find_opset(g, d)) continue; /* duplicate: first wins */
        mq_opset_import *oi = &g->opsets[g->n_opsets++];
        oi->domain = mq_arena_strdup(ar, d);
        if (!oi->domain) return NOMEM(im);
        oi->version = v;
        if (!d[0]) {
            have_default = 1;
            g->opset = (int)v;
        }
    }
    if (!have_default) {
        mq_opset_import *oi = &g->opsets[0];
        if (g->n_opsets) { /* room was sized for the imports; add the default one in a new array */
            mq_opset_import *na = mq_arena_array(ar, (size_t)g->n_opsets + 1, sizeof *na);
            if (!na) return NOMEM(im);
            memcpy(na, g->opsets, (size_t)g->n_opsets * sizeof *na);
            g->opsets = na;
            oi = &na[g->n_opsets];
        }
        g->n_opsets++;
        oi->domain = "";
        oi->version = 1;
        if (mq_sb_printf(&im->notes, "the model declares no opset for the default domain: assuming opset 1\n"))
            return NOMEM(im);
    }

    /* Initializers: constants. */
    MQ_TRY(add_initializers(im, g, gp));

    /* Graph inputs (those with an initializer are constants, not inputs). */
    mark_sym_pins(im, gp->input, gp->n_input);
    mark_sym_pins(im, gp->output, gp->n_output);
    mark_sym_pins(im, gp->value_info, gp->n_value_info);
    g->inputs = mq_arena_array(ar, gp->n_input ? gp->n_input : 1, sizeof(int));
    g->outputs = mq_arena_array(ar, gp->n_output ? gp->n_output : 1, sizeof(int));
    if (!g->inputs || !g->outputs) return NOMEM(im);
    g->n_inputs = 0;
    g->n_outputs = 0;
    unsigned char *const_used = NULL; /* --const values applied */
    if (o && o->n_consts > 0 && !(const_used = mq_arena_array(ar, (size_t)o->n_consts, 1))) return NOMEM(im);
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi || !vi->name || !vi->name[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "graph input #%zu has no name", i);
        int id = mq_graph_find(g, vi->name);
        if (id >= 0 && g->tensors[id].is_const) continue;
        if (id >= 0) return mq_fail(im->err, MQ_ERR_INVALID, "graph input '%s' appears twice", vi->name);
        MQ_TRY(new_tensor(im, g, vi->name, &id));
        mq_tensor *t = &g->tensors[id];
        t->is_input = 1;
        MQ_TRY(apply_type(im, t, vi, V_INPUT));
        int c = mq_import_const_find(o, vi->name);
        if (c >= 0) {
            MQ_TRY(mq_import_const_apply(g, t, &o->consts[c], im->err));
            const_used[c] = 1;
            continue;
        }
        g->inputs[g->n_inputs++] = id;
    }
    MQ_TRY(mq_import_const_check_used(g, o, const_used, im->err));
    for (int i = 0; i < im->n_pins; i++)
        if (!im->pins[i].used)
            return mq_fail(im->err, MQ_ERR_INVALID, "--shape '%s': the model has no graph input or symbolic "
                           "dimension called '%s'", im->pins[i].spec, im->pins[i].name);

    return import_nodes(im, g, gp, 0);
}

/* ---- subgraph inference ----------------------------------------------------------------------- */

/* The dtype a subgraph's formal input j takes when the subgraph does not declare it: a fixed one
 * (*fixed, scalar) or that of the node input returned (-1: none). */
static int formal_source(const mq_node *n, int j, mq_dtype *fixed)
{
    *fixed = MQ_UNDEFINED;
    int n_decl = n->n_in - n->n_hidden_in, src = -1;
    if (!strcmp(n->op_type, "Loop")) {
        if (j == 0) *fixed = MQ_I64;
        else if (j == 1) *fixed = MQ_BOOL;
        else src = j;
    } else if (!strcmp(n->op_type, "Scan")) {
        src = n->opset < 9 ? j + 1 : j;
    }
    return src >= 0 && src < n_decl ? src : -1;
}

/* After g is inferred: type every subgraph's formal inputs (where the subgraph leaves them out) and
 * captures from the node's inputs, then infer the subgraph (at run time the executor re-infers it on
 * the actual values; this gives `maqdc info` shapes, reports errors early and folds constants). */
static mq_status infer_subgraphs(imp *im, mq_graph *g, int depth)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const mq_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_attr; k++) {
            const mq_attr *a = &n->attrs[k];
            int cnt = a->type == MQ_ATTR_GRAPH ? (a->g ? 1 : 0) : a->type == MQ_ATTR_GRAPHS && a->graphs ? a->n : 0;
            for (int j = 0; j < cnt; j++) {
                mq_graph *s = (mq_graph *)(a->type == MQ_ATTR_GRAPH ? a->g : a->graphs[j]); /* ours to fill */
                int nf = s->n_inputs - s->n_captures;
                for (int f = 0; f < nf; f++) {
                    mq_tensor *t = &s->tensors[s->inputs[f]];
                    if (t->dtype != MQ_UNDEFINED) continue;
                    mq_dtype fixed;
                    int src = formal_source(n, f, &fixed);
                    if (fixed != MQ_UNDEFINED) {
                        t->dtype = fixed;
                        mq_tensor_set_shape(t, 0, NULL);
                    } else if (src >= 0 && n->in[src] >= 0) {
                        t->dtype = g->tensors[n->in[src]].dtype; /* shape: may differ (slices, carried values) */
                        t->rank = -1;
                    }
                }
                for (int c = 0; c < s->n_captures; c++) {
                    mq_tensor *t = &s->tensors[s->inputs[nf + c]];
                    const mq_tensor *o = &g->tensors[n->in[n->n_in - n->n_hidden_in + c]];
                    t->dtype = o->dtype;
                    if (o->dtype != MQ_UNDEFINED && o->rank >= 0) {
                        mq_tensor_set_shape(t, o->rank, o->dims);
                        t->sym_mask = o->rank > 0 ? (uint32_t)((1ull << o->rank) - 1) : 0;
                    } else {
                        t->rank = -1;
                    }
                }
                mq_status st = mq_graph_infer(s, im->max_elems, im->err);
                if (st == MQ_OK) st = infer_subgraphs(im, s, depth + 1);
                if (st != MQ_OK) {
                    char lbl[300];
                    mq_err_prefix(im->err, "%s (%s) subgraph '%s': ", node_label(n, i, lbl, sizeof lbl),
                                  n->op_type, a->name);
                    return st;
                }
            }
        }
    }
    return MQ_OK;
}

/* After inference: no value of g (or of its subgraphs) may have a rank over the cap. */
static mq_status check_inferred_ranks(imp *im, const mq_graph *g)
{
    if (im->max_rank >= MQ_MAX_RANK) return MQ_OK; /* inference itself never goes beyond MQ_MAX_RANK */
    for (int i = 0; i < g->n_tensors; i++) {
        const mq_tensor *t = &g->tensors[i];
        if (t->rank <= im->max_rank) continue;
        if (t->producer >= 0) {
            char lbl[300];
            const mq_node *n = &g->nodes[t->producer];
            return mq_fail(im->err, MQ_ERR_LIMIT, "%s (%s): output '%s' has rank %d, over the maximum rank %d",
                           graph_node_label(g, n, t->producer, lbl, sizeof lbl), n->op_type, t->name, t->rank,
                           im->max_rank);
        }
        return mq_fail(im->err, MQ_ERR_LIMIT, "tensor '%s' has rank %d, over the maximum rank %d", t->name, t->rank,
                       im->max_rank);
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_attr; k++) {
            const mq_attr *a = &g->nodes[i].attrs[k];
            if (a->type == MQ_ATTR_GRAPH && a->g) MQ_TRY(check_inferred_ranks(im, a->g));
            if (a->type == MQ_ATTR_GRAPHS && a->graphs)
                for (int j = 0; j < a->n; j++) MQ_TRY(check_inferred_ranks(im, a->graphs[j]));
        }
    return MQ_OK;
}

static void res_clear(mq_import_result *res)
{
    mq_graph_free(res->graph);
    mq_free(res->notes);
    mq_free(res->unsupported);
    memset(res, 0, sizeof *res);
}

void mq_import_result_free(mq_import_result *res)
{
    if (res) res_clear(res);
}

mq_status mq_import_onnx_buffer(const void *buf, size_t len, const char *base_dir, const char *path_for_msgs,
                                const mq_import_opts *opts, mq_import_result *res, mq_err *err)
{
    const char *path = path_for_msgs ? path_for_msgs : "<buffer>";
    memset(res, 0, sizeof *res);
    imp im;
    memset(&im, 0, sizeof im);
    im.err = err;
    im.max_elems = opts && opts->max_elems > 0 ? opts->max_elems : MQ_DEFAULT_MAX_ELEMS;
    im.ext.base_dir = base_dir;
    im.ext.max_bytes = opts && opts->max_bytes > 0 ? opts->max_bytes : MQ_DEFAULT_MAX_BYTES;
    im.ext.bytes_used = (int64_t)len; /* the cap covers the model and its external data together */
    im.max_rank = opts && opts->max_rank > 0 ? opts->max_rank : MQ_DEFAULT_MAX_RANK;
    mq_status st = MQ_OK;
    Onnx__ModelProto *m = NULL;
    mq_pb_alloc pa;
    mq_pb_alloc_init(&pa);

    if (opts && (opts->max_rank < 0 || opts->max_rank > MQ_MAX_RANK)) {
        st = mq_fail(err, MQ_ERR_INVALID, "the rank limit %d is out of range [1, %d]", opts->max_rank, MQ_MAX_RANK);
        goto out;
    }
    if ((uint64_t)len > (uint64_t)im.ext.max_bytes) {
        st = mq_fail(err, MQ_ERR_LIMIT, "model is %zu bytes, over the limit of %" PRId64, len, im.ext.max_bytes);
        goto out;
    }
    st = parse_pins(&im, opts);
    if (st != MQ_OK) goto out;
    m = onnx__model_proto__unpack(&pa.a, len, buf);
    if (!m) {
        st = pa.failed ? mq_fail(err, MQ_ERR_NOMEM, "out of memory while parsing the model")
                       : mq_fail(err, MQ_ERR_PARSE, "not an ONNX model (protobuf parse failed)");
        goto out;
    }
    im.m = m;
    st = import_model(&im, opts);
    if (st != MQ_OK) goto out;
    im.g->path = mq_arena_strdup(im.g->arena, path);
    if (!im.g->path) {
        st = NOMEM(&im);
        goto out;
    }
    if (im.n_unsup) {
        res->n_unsupported = im.n_unsup;
        res->unsupported = im.unsup.p;
        im.unsup.p = NULL;
        if (!(opts && opts->allow_unsupported)) {
            st = mq_fail(err, MQ_ERR_UNSUPPORTED, "%d unsupported node(s):\n%s", res->n_unsupported,
                         res->unsupported);
            goto out;
        }
        st = mq_graph_toposort(im.g, err);
    } else {
        st = mq_graph_toposort(im.g, err);
        if (st == MQ_OK) st = mq_graph_infer(im.g, im.max_elems, err);
        if (st == MQ_OK) st = infer_subgraphs(&im, im.g, 0);
        if (st == MQ_OK) st = check_inferred_ranks(&im, im.g);
    }

out:
    if (m) onnx__model_proto__free_unpacked(m, &pa.a);
    free_pins(&im);
    mq_free(im.unsup.p);
    res->notes = im.notes.p;
    if (st == MQ_OK) {
        res->graph = im.g;
    } else {
        mq_graph_free(im.g);
        res->graph = NULL;
        if (st != MQ_ERR_UNSUPPORTED) res_clear(res);
        if (err && err->code != MQ_OK) mq_err_prefix(err, "%s: ", path);
    }
    return st;
}

mq_status mq_import_onnx_file(const char *path, const mq_import_opts *opts, mq_import_result *res, mq_err *err)
{
    memset(res, 0, sizeof *res);
    int64_t max_bytes = opts && opts->max_bytes > 0 ? opts->max_bytes : MQ_DEFAULT_MAX_BYTES;
    void *buf = NULL;
    size_t len = 0;
    MQ_TRY(mq_read_file(path, (uint64_t)max_bytes > SIZE_MAX ? SIZE_MAX : (size_t)max_bytes, &buf, &len, err));
    /* External data lives next to the model. */
    const char *slash = strrchr(path, '/');
    char *dir;
    if (slash) {
        size_t dl = (size_t)(slash - path);
        dir = mq_malloc(dl + 2);
        if (dir) {
            memcpy(dir, path, dl);
            dir[dl] = 0;
            if (dl == 0) strcpy(dir, "/");
        }
    } else {
        dir = mq_malloc(2);
        if (dir) strcpy(dir, ".");
    }
    if (!dir) {
        mq_free(buf);
        return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory", path);
    }
    mq_status st = mq_import_onnx_buffer(buf, len, dir, path, opts, res, err);
    mq_free(dir);
    mq_free(buf);
    return st;
}
