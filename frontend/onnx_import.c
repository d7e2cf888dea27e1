/* onnx_import.c: ONNX ModelProto (protobuf-c) into the graph IR: opsets, initializers, inputs/outputs,
 * nodes and attributes, --shape pins, op look-up with every unsupported node reported at once. */
#include "frontend/onnx_import.h"

#include "core/infer.h"
#include "core/op.h"
#include "frontend/tensor_io.h"
#include "frontend/tensor_proto.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growable text (notes, unsupported list) ------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static int sb_vprintf(sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return -1;
    size_t need;
    if (mq_add_size(b->len, (size_t)n, &need) || mq_add_size(need, 1, &need)) return -1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) {
            if (mq_mul_size(cap, 2, &cap)) return -1;
        }
        char *p = mq_realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

static int sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = sb_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

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
    sbuf notes;
    sbuf unsup;
    int n_unsup;
    unsigned char *reported; /* per node: already listed as unsupported (attribute problem) */
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

    pin *whole = kind == V_INPUT ? find_pin(im, nm) : NULL;
    if (whole) whole->used = 1;
    const Onnx__TensorShapeProto *sh = tt->shape;
    if (!sh) {
        if (whole) {
            mq_tensor_set_shape(t, whole->rank, whole->dims);
            t->sym_mask = (1u << whole->rank) - 1u;
        } else if (kind == V_INPUT) {
            t->rank = -1;
            if (sb_printf(&im->notes, "input '%s' has no shape: it is known only at run time; pin it with "
                          "--shape %s=DIMS\n", nm, nm))
                return NOMEM(im);
        }
        return MQ_OK;
    }
    if (sh->n_dim > MQ_MAX_RANK) {
        if (kind == V_INFO) return MQ_OK;
        return mq_fail(im->err, MQ_ERR_LIMIT, "%s '%s': rank %zu exceeds the maximum rank %d", vkind_name(kind),
                       nm, sh->n_dim, MQ_MAX_RANK);
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
            int r = param[0] ? sb_printf(&im->notes, "input '%s' dim %d ('%s') is symbolic: using 1; pin it "
                                         "with --shape\n", nm, d, param)
                             : sb_printf(&im->notes, "input '%s' dim %d is symbolic: using 1; pin it with "
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

static mq_status decode_tensor(imp *im, const Onnx__TensorProto *tp, const char *what, mq_tensor *t)
{
    t->producer = -1;
    t->is_const = 1;
    return mq_tp_decode(tp, what, &im->ext, im->max_elems, arena_alloc_cb, im->g->arena, t, im->err);
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
                snprintf(whybuf, whycap, "%s", local.msg + (strncmp(local.msg, nlabel, strlen(nlabel)) ? 0
                                                             : strlen(nlabel) + 1));
                *bad = 1;
                return MQ_OK;
            }
            if (s != MQ_OK) return mq_fail(im->err, s, "%s", local.msg);
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
    if (def->max_in >= 0 && n->n_in > def->max_in) {
        WHY("takes at most %d input(s), got %d", def->max_in, n->n_in);
        ok = 0;
    }
    if (n->n_in < def->min_in) { /* counts positions: whether an omitted one is allowed is infer's call */
        WHY("needs at least %d input(s), got %d", def->min_in, n->n_in);
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
    if (ok) n->def = def;
#undef WHY
}

/* ---- the import ------------------------------------------------------------------------------- */

static mq_status new_tensor(imp *im, const char *name, int *id)
{
    *id = mq_graph_find(im->g, name);
    if (*id >= 0) return MQ_OK;
    *id = mq_graph_tensor(im->g, name);
    if (*id < 0) return mq_fail(im->err, MQ_ERR_NOMEM, "out of memory (tensor '%s')", name);
    mq_tensor *t = &im->g->tensors[*id];
    t->dtype = MQ_UNDEFINED;
    t->rank = -1;
    t->producer = -1;
    return MQ_OK;
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

static mq_status import_model(imp *im, const mq_import_opts *o)
{
    const Onnx__ModelProto *m = im->m;
    const Onnx__GraphProto *gp = m->graph;
    if (!gp) return mq_fail(im->err, MQ_ERR_INVALID, "the model has no graph");
    im->gp = gp;
    int max_nodes = o && o->max_nodes > 0 ? o->max_nodes : MQ_DEFAULT_MAX_NODES;
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
        if (sb_printf(&im->notes, "the model declares no opset for the default domain: assuming opset 1\n"))
            return NOMEM(im);
    }

    /* Initializers: constants. */
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp || !tp->name || !tp->name[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "initializer #%zu has no name", i);
        if (mq_graph_find(g, tp->name) >= 0)
            return mq_fail(im->err, MQ_ERR_INVALID, "initializer '%s' appears twice", tp->name);
        int id;
        MQ_TRY(new_tensor(im, tp->name, &id));
        char what[300];
        snprintf(what, sizeof what, "initializer '%s'", tp->name);
        MQ_TRY(decode_tensor(im, tp, what, &g->tensors[id]));
    }

    /* Graph inputs (those with an initializer are constants, not inputs). */
    mark_sym_pins(im, gp->input, gp->n_input);
    mark_sym_pins(im, gp->output, gp->n_output);
    mark_sym_pins(im, gp->value_info, gp->n_value_info);
    g->inputs = mq_arena_array(ar, gp->n_input ? gp->n_input : 1, sizeof(int));
    g->outputs = mq_arena_array(ar, gp->n_output ? gp->n_output : 1, sizeof(int));
    if (!g->inputs || !g->outputs) return NOMEM(im);
    g->n_inputs = 0;
    g->n_outputs = 0;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi || !vi->name || !vi->name[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "graph input #%zu has no name", i);
        int id = mq_graph_find(g, vi->name);
        if (id >= 0 && g->tensors[id].is_const) continue;
        if (id >= 0) return mq_fail(im->err, MQ_ERR_INVALID, "graph input '%s' appears twice", vi->name);
        MQ_TRY(new_tensor(im, vi->name, &id));
        mq_tensor *t = &g->tensors[id];
        t->is_input = 1;
        MQ_TRY(apply_type(im, t, vi, V_INPUT));
        g->inputs[g->n_inputs++] = id;
    }
    for (int i = 0; i < im->n_pins; i++)
        if (!im->pins[i].used)
            return mq_fail(im->err, MQ_ERR_INVALID, "--shape '%s': the model has no graph input or symbolic "
                           "dimension called '%s'", im->pins[i].spec, im->pins[i].name);

    /* Nodes, pass 1: outputs and attributes. */
    im->reported = mq_calloc(gp->n_node ? gp->n_node : 1, 1);
    if (!im->reported) return NOMEM(im);
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        mq_node *n = mq_graph_add_node(g);
        if (!n) return NOMEM(im);
        if (!np || !np->op_type || !np->op_type[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "node #%zu has no op_type", i);
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
        node_label(n, (int)i, lbl, sizeof lbl);
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
            MQ_TRY(new_tensor(im, on, &id));
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
            if (sb_printf(&im->unsup, "%s (%s, domain '%s'): %s\n", lbl, n->op_type,
                          n->domain[0] ? n->domain : "ai.onnx", why))
                return NOMEM(im);
            im->n_unsup++;
            im->reported[i] = 1;
        }
    }

    /* Pass 2: inputs (dangling names are errors), then the op look-up. */
    for (int i = 0; i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        const Onnx__NodeProto *np = gp->node[i];
        char lbl[300];
        node_label(n, i, lbl, sizeof lbl);
        for (int k = 0; k < n->n_in; k++) {
            const char *in = nz(np->input[k]);
            if (!in[0]) {
                n->in[k] = -1;
                continue;
            }
            n->in[k] = mq_graph_find(g, in);
            if (n->in[k] < 0)
                return mq_fail(im->err, MQ_ERR_INVALID, "%s (%s): input '%s' is not a graph input, initializer "
                               "or node output", lbl, n->op_type, in);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        mq_node *n = &g->nodes[i];
        if (im->reported[i]) {
            n->def = NULL;
            continue;
        }
        char why[1024] = "";
        check_node(g, n, why, sizeof why);
        if (why[0]) {
            char lbl[300];
            node_label(n, i, lbl, sizeof lbl);
            if (sb_printf(&im->unsup, "%s (%s, domain '%s'): %s\n", lbl, n->op_type,
                          n->domain[0] ? n->domain : "ai.onnx", why))
                return NOMEM(im);
            im->n_unsup++;
        }
    }

    /* Graph outputs and value_info. */
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        if (!vi || !vi->name || !vi->name[0])
            return mq_fail(im->err, MQ_ERR_INVALID, "graph output #%zu has no name", i);
        int id = mq_graph_find(g, vi->name);
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
    mq_status st = MQ_OK;
    Onnx__ModelProto *m = NULL;
    mq_pb_alloc pa;
    mq_pb_alloc_init(&pa);

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
    }

out:
    if (m) onnx__model_proto__free_unpacked(m, &pa.a);
    free_pins(&im);
    mq_free(im.unsup.p);
    mq_free(im.reported);
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
