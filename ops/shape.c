/* shape.c: op family 'shape' (core/op.h): the family table, helpers shared by ops/shape_*.c, and the ops
 * that make or relabel shapes: Constant(OfShape), Shape, Size, Reshape, Flatten, (Un)Squeeze, EyeLike, Range.
 * Every op but Constant, NonZero, Compress and Unique runs a runtime kernel (runtime/kernels/shape*.c). */
#include "ops/grad.h"
#include "ops/shape_common.h"

#include <math.h>
#include <string.h>

/* ---- shared helpers ------------------------------------------------------------------------------ */

int mq_sh_known(const mq_tensor *t)
{
    if (!t) return 0;
    if (t->data) return 1;
    return t->is_const && t->rank >= 0 && mq_numel(t) == 0;
}

void mq_sh_set_unknown(const mq_node *n, mq_tensor *const *out, mq_dtype dt)
{
    for (int k = 0; k < n->n_out; k++)
        if (out[k]) {
            out[k]->dtype = dt;
            out[k]->rank = -1;
        }
}

mq_status mq_sh_require(const mq_node *n, const mq_tensor *const *in, int i, const mq_dtype *allowed, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, i, err));
    return mq_require_dtype(n, in[i], allowed ? allowed : mq_types_all, err);
}

mq_status mq_sh_check_shape(const mq_node *n, int rank, const int64_t *dims, mq_err *err)
{
    if (rank > MQ_MAX_RANK)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "output rank %d exceeds the limit %d", rank, MQ_MAX_RANK);
    for (int d = 0; d < rank; d++)
        if (dims[d] < 0)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "output dimension %d is negative (%lld)", d,
                                (long long)dims[d]);
    int64_t ne = 0;
    if (mq_shape_numel(dims, rank, MQ_SHAPE_MAX_ELEMS, &ne, NULL) != MQ_OK)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "output has more than %lld elements",
                            (long long)MQ_SHAPE_MAX_ELEMS);
    return MQ_OK;
}

mq_status mq_sh_read_ints(const mq_node *n, const mq_tensor *t, const char *what, int64_t *vals, int max, int *count,
                          mq_err *err)
{
    if (!mq_sh_known(t)) return mq_node_fail(err, n, MQ_ERR_INVALID, "%s must be known", what);
    if (!mq_dtype_is_int(t->dtype) && t->dtype != MQ_BOOL)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "%s must be an integer tensor, not %s", what,
                            mq_dtype_name(t->dtype));
    int64_t k = mq_numel(t);
    if (k < 0 || k > max)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "%s has %lld values (at most %d)", what, (long long)k, max);
    for (int64_t i = 0; i < k; i++) vals[i] = mq_load_i64(t->data, t->dtype, (size_t)i);
    *count = (int)k;
    return MQ_OK;
}

mq_status mq_sh_read_scalar_i64(const mq_node *n, const mq_tensor *t, const char *what, int64_t *v, mq_err *err)
{
    if (!mq_sh_known(t)) return mq_node_fail(err, n, MQ_ERR_INVALID, "%s must be known", what);
    if (mq_numel(t) != 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s must have exactly one value", what);
    if (mq_dtype_is_float(t->dtype)) {
        double d = mq_load_f64(t->data, t->dtype, 0);
        if (!(d > -9.2e18 && d < 9.2e18)) return mq_node_fail(err, n, MQ_ERR_INVALID, "%s is out of range", what);
        *v = (int64_t)d;
    } else {
        *v = mq_load_i64(t->data, t->dtype, 0);
    }
    return MQ_OK;
}

mq_status mq_sh_read_scalar_f64(const mq_node *n, const mq_tensor *t, const char *what, double *v, mq_err *err)
{
    if (!mq_sh_known(t)) return mq_node_fail(err, n, MQ_ERR_INVALID, "%s must be known", what);
    if (mq_numel(t) != 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s must have exactly one value", what);
    *v = mq_load_f64(t->data, t->dtype, 0);
    return MQ_OK;
}

mq_status mq_sh_index(const mq_node *n, int64_t idx, int64_t dim, const char *what, int64_t *out, mq_err *err)
{
    int64_t j = idx < 0 ? idx + dim : idx;
    if (j < 0 || j >= dim)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "%s %lld is out of range for a dimension of size %lld", what,
                            (long long)idx, (long long)dim);
    *out = j;
    return MQ_OK;
}

mq_status mq_sh_lower_check(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_err *err)
{
    mqr_tensor r;
    for (int i = 0; i < n->n_in; i++)
        if (in[i]) MQ_TRY(mq_to_mqr(n, in[i], &r, err));
    for (int i = 0; i < n->n_out; i++)
        if (out[i]) MQ_TRY(mq_to_mqr(n, out[i], &r, err));
    return MQ_OK;
}

void mq_sh_lower_strided(mq_kcall *kc, int rank, const int64_t *dims, const int64_t *strides, int64_t off)
{
    int64_t d2[MQ_VIEW_MAX_RANK], s2[MQ_VIEW_MAX_RANK];
    int k = 0;
    for (int d = 0; d < rank; d++)
        if (dims[d] == 0) { /* empty: nothing to copy */
            rank = 0;
            k = 1;
            d2[0] = 0;
            s2[0] = 1;
            off = 0;
        }
    for (int d = 0; d < rank; d++) {
        if (dims[d] == 1) continue;
        if (k > 0 && s2[k - 1] == strides[d] * dims[d]) { /* the previous dim steps over this one whole */
            d2[k - 1] *= dims[d];
            s2[k - 1] = strides[d];
        } else {
            d2[k] = dims[d];
            s2[k] = strides[d];
            k++;
        }
    }
    kc->kernel = "sh_strided";
    kc->p[0] = k;
    kc->p[1] = (int32_t)off;
    for (int d = 0; d < k; d++) {
        kc->p[2 + d] = (int32_t)d2[d];
        kc->p[2 + k + d] = (int32_t)s2[d];
    }
    kc->n_p = 2 + 2 * k;
}

void mq_sh_elem_bits(const void *p, size_t esz, int32_t *lo, int32_t *hi)
{
    uint64_t v = 0;
    switch (esz) {
    case 1: v = *(const uint8_t *)p; break;
    case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
    case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
    default: memcpy(&v, p, 8); break;
    }
    *lo = (int32_t)(uint32_t)(v & 0xffffffffu);
    *hi = (int32_t)(uint32_t)(v >> 32);
}

/* Reshape, Flatten, Squeeze, Unsqueeze: the bytes stay as they are (out may alias in). */
static mq_status copy_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    kc->kernel = "sh_copy";
    kc->n_p = 0;
    return MQ_OK;
}

/* ---- Constant ------------------------------------------------------------------------------------ */
/* No lower: a Constant has no inputs, so it always folds at import. */

static mq_status constant_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)in;
    const mq_attr *a = NULL;
    int found = 0;
    for (int i = 0; i < n->n_attr; i++) {
        const mq_attr *x = &n->attrs[i];
        if (!strcmp(x->name, "sparse_value") || !strcmp(x->name, "value_string") ||
            !strcmp(x->name, "value_strings"))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "attribute '%s' is not supported", x->name);
        if (!strcmp(x->name, "value") || !strcmp(x->name, "value_float") || !strcmp(x->name, "value_floats") ||
            !strcmp(x->name, "value_int") || !strcmp(x->name, "value_ints")) {
            a = x;
            found++;
        }
    }
    if (found != 1)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "exactly one value attribute is required (found %d)", found);
    mq_tensor *o = out[0];
    if (!strcmp(a->name, "value")) {
        if (a->type != MQ_ATTR_TENSOR || !a->t)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'value' must be a tensor");
        const mq_tensor *t = a->t;
        if (!mq_dtype_supported(t->dtype))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "value of dtype %s is not supported",
                                mq_dtype_name(t->dtype));
        if (t->rank < 0 || t->rank > MQ_MAX_RANK)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "value has an invalid rank %d", t->rank);
        if (!t->data && mq_numel(t) != 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "value has no data");
        mq_set_out(o, t->dtype, t->rank, t->dims);
    } else if (!strcmp(a->name, "value_float")) {
        if (a->type != MQ_ATTR_FLOAT) return mq_node_fail(err, n, MQ_ERR_INVALID, "value_float must be a float");
        mq_set_out(o, MQ_F32, 0, NULL);
    } else if (!strcmp(a->name, "value_int")) {
        if (a->type != MQ_ATTR_INT) return mq_node_fail(err, n, MQ_ERR_INVALID, "value_int must be an int");
        mq_set_out(o, MQ_I64, 0, NULL);
    } else {
        int isf = !strcmp(a->name, "value_floats");
        if (a->type != (isf ? MQ_ATTR_FLOATS : MQ_ATTR_INTS) || a->n < 0)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute '%s' has the wrong type", a->name);
        int64_t d = a->n;
        mq_set_out(o, isf ? MQ_F32 : MQ_I64, 1, &d);
    }
    return MQ_OK;
}

static mq_status constant_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                  mq_err *err)
{
    (void)in;
    (void)err;
    mq_tensor *o = out[0];
    const mq_attr *a;
    if ((a = mq_attr_get(n, "value"))) {
        size_t nb = mq_nbytes(a->t);
        if (nb) memcpy(o->data, a->t->data, nb);
    } else if ((a = mq_attr_get(n, "value_float"))) {
        ((float *)o->data)[0] = a->f;
    } else if ((a = mq_attr_get(n, "value_int"))) {
        ((int64_t *)o->data)[0] = a->i;
    } else if ((a = mq_attr_get(n, "value_floats"))) {
        if (a->n) memcpy(o->data, a->floats, sizeof(float) * (size_t)a->n);
    } else if ((a = mq_attr_get(n, "value_ints"))) {
        if (a->n) memcpy(o->data, a->ints, sizeof(int64_t) * (size_t)a->n);
    }
    return MQ_OK;
}

const mq_op_def mq_shape_op_Constant = {
    .op_type = "Constant", .domain = "", .since = 1, .min_in = 0, .max_in = 0, .min_out = 1, .max_out = 1,
    .infer = constant_infer, .forward = constant_forward};

/* ---- ConstantOfShape ----------------------------------------------------------------------------- */

static mq_status cos_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, mq_types_int, err));
    const mq_attr *v = mq_attr_get(n, "value");
    mq_dtype dt = MQ_F32;
    if (v) {
        if (v->type != MQ_ATTR_TENSOR || !v->t || mq_numel(v->t) != 1 || !v->t->data)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'value' must be a one-element tensor");
        dt = v->t->dtype;
        if (!mq_dtype_supported(dt))
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "value dtype %s is not supported", mq_dtype_name(dt));
    }
    if (in[0]->rank > 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "the shape input must be 1-D");
    if (!mq_sh_known(in[0])) {
        mq_sh_set_unknown(n, out, dt);
        return MQ_OK;
    }
    int64_t dims[MQ_MAX_RANK];
    int r = 0;
    MQ_TRY(mq_sh_read_ints(n, in[0], "the shape input", dims, MQ_MAX_RANK, &r, err));
    MQ_TRY(mq_sh_check_shape(n, r, dims, err));
    mq_set_out(out[0], dt, r, dims);
    return MQ_OK;
}

static mq_status cos_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_attr *v = mq_attr_get(n, "value");
    kc->kernel = "sh_fill";
    kc->p[0] = kc->p[1] = 0; /* absent: float 0.0, all-zero bytes */
    if (v) mq_sh_elem_bits(v->t->data, mq_dtype_size(out[0]->dtype), &kc->p[0], &kc->p[1]);
    kc->n_p = 2;
    return MQ_OK;
}

const mq_op_def mq_shape_op_ConstantOfShape = {
    .op_type = "ConstantOfShape", .domain = "", .since = 9, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .static_in = 1u, .infer = cos_infer, .forward = mq_forward_lowered, .lower = cos_lower};

/* ---- Shape, Size --------------------------------------------------------------------------------- */

static void shape_range(const mq_node *n, int r, int *start, int *end)
{
    int64_t s = 0, e = r;
    if (n->opset >= 15) {
        s = mq_attr_int(n, "start", 0);
        e = mq_attr_int(n, "end", r);
    }
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = s < 0 ? 0 : (s > r ? r : s);
    e = e < 0 ? 0 : (e > r ? r : e);
    *start = (int)s;
    *end = (int)(e > s ? e : s);
}

static mq_status shape_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    if (in[0]->rank < 0) {
        mq_sh_set_unknown(n, out, MQ_I64);
        return MQ_OK;
    }
    int s = 0, e = 0;
    shape_range(n, in[0]->rank, &s, &e);
    int64_t d = e - s;
    mq_set_out(out[0], MQ_I64, 1, &d);
    return MQ_OK;
}

static mq_status shape_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    int s = 0, e = 0;
    shape_range(n, in[0]->rank, &s, &e);
    kc->kernel = "sh_values";
    kc->p[0] = e - s;
    for (int d = s; d < e; d++) kc->p[1 + d - s] = (int32_t)in[0]->dims[d]; /* dims fit int32 (checked) */
    kc->n_p = 1 + e - s;
    return MQ_OK;
}

const mq_op_def mq_shape_op_Shape = {
    .op_type = "Shape", .domain = "", .since = 1, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .shape_only_in = 1u, .infer = shape_infer, .forward = mq_forward_lowered, .lower = shape_lower};

static mq_status size_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    if (in[0]->rank < 0) {
        mq_sh_set_unknown(n, out, MQ_I64);
        return MQ_OK;
    }
    mq_set_out(out[0], MQ_I64, 0, NULL);
    return MQ_OK;
}

static mq_status size_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                            mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    kc->kernel = "sh_values";
    kc->p[0] = 1;
    kc->p[1] = (int32_t)mq_numel(in[0]); /* fits int32 (checked) */
    kc->n_p = 2;
    return MQ_OK;
}

const mq_op_def mq_shape_op_Size = {
    .op_type = "Size", .domain = "", .since = 1, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .shape_only_in = 1u, .infer = size_infer, .forward = mq_forward_lowered, .lower = size_lower};

/* ---- Reshape ------------------------------------------------------------------------------------- */

static mq_status reshape_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    int64_t want[MQ_MAX_RANK];
    int r = 0;
    if (n->opset < 5) {
        const int64_t *v;
        r = mq_attr_ints(n, "shape", &v);
        if (r < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'shape' is required");
        if (r > MQ_MAX_RANK)
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "shape has %d values (at most %d)", r, MQ_MAX_RANK);
        if (r) memcpy(want, v, sizeof(int64_t) * (size_t)r);
    } else {
        const mq_tensor *s = sh_in(n, in, 1);
        if (!s) return mq_node_fail(err, n, MQ_ERR_INVALID, "input 1 (shape) is required");
        if (s->dtype != MQ_I64 && s->dtype != MQ_I32)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "the shape input must be int64, not %s",
                                mq_dtype_name(s->dtype));
        if (!mq_sh_known(s) || in[0]->rank < 0) {
            mq_sh_set_unknown(n, out, in[0]->dtype);
            return MQ_OK;
        }
        MQ_TRY(mq_sh_read_ints(n, s, "the shape input", want, MQ_MAX_RANK, &r, err));
    }
    if (in[0]->rank < 0) {
        mq_sh_set_unknown(n, out, in[0]->dtype);
        return MQ_OK;
    }
    int allowzero = n->opset >= 14 && mq_attr_int(n, "allowzero", 0) != 0;
    int neg = -1;
    int64_t prod = 1, total = mq_numel(in[0]);
    for (int d = 0; d < r; d++) {
        int64_t v = want[d];
        if (v == 0 && !allowzero) {
            if (d >= in[0]->rank)
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "shape[%d] is 0 but the input has rank %d", d,
                                    in[0]->rank);
            v = in[0]->dims[d];
        } else if (v == -1) {
            if (neg >= 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "more than one -1 in the shape");
            neg = d;
            continue;
        } else if (v < 0) {
            return mq_node_fail(err, n, MQ_ERR_INVALID, "shape[%d] = %lld is invalid", d, (long long)v);
        }
        want[d] = v;
        if (mq_mul_i64(prod, v, &prod))
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "the requested shape overflows");
    }
    if (neg >= 0) {
        if (allowzero && prod == 0)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "shape holds both -1 and 0 with allowzero");
        if (prod == 0 || total % prod != 0)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot reshape %lld elements: -1 cannot be resolved",
                                (long long)total);
        want[neg] = total / prod;
        prod = total;
    }
    if (prod != total) {
        char b[128];
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot reshape %s (%lld elements) into %lld elements",
                            mq_shape_str(in[0], b, sizeof b), (long long)total, (long long)prod);
    }
    mq_set_out(out[0], in[0]->dtype, r, want);
    return MQ_OK;
}

const mq_op_def mq_shape_op_Reshape = {
    .op_type = "Reshape", .domain = "", .since = 1, .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = reshape_infer, .forward = mq_forward_lowered, .inplace_in = 1u, .static_in = 2u,
    .lower = copy_lower, .backward = mq_grad_copy0};

/* ---- Flatten ------------------------------------------------------------------------------------- */

static mq_status flatten_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    if (x->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    int64_t axis = mq_attr_int(n, "axis", 1);
    int r = x->rank;
    if (axis < 0) axis += r; /* legal from opset 11; older exporters emitted it too */
    if (axis < 0 || axis > r)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "axis %lld out of range for rank %d",
                            (long long)mq_attr_int(n, "axis", 1), r);
    int64_t d[2] = {1, 1};
    for (int i = 0; i < r; i++) d[i < axis ? 0 : 1] *= x->dims[i];
    mq_set_out(out[0], x->dtype, 2, d);
    return MQ_OK;
}

const mq_op_def mq_shape_op_Flatten = {
    .op_type = "Flatten", .domain = "", .since = 1, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = flatten_infer, .forward = mq_forward_lowered, .inplace_in = 1u,
    .lower = copy_lower, .backward = mq_grad_copy0};

/* ---- Squeeze, Unsqueeze -------------------------------------------------------------------------- */

/* Axes from the attribute (opset < 13) or input 1 (>= 13). *count -1: absent. *unknown: input 1 given
 * but its value is not known yet. */
static mq_status read_axes(const mq_node *n, const mq_tensor *const *in, int64_t *axes, int *count, int *unknown,
                           mq_err *err)
{
    *unknown = 0;
    *count = -1;
    if (n->opset < 13) {
        const int64_t *v;
        int k = mq_attr_ints(n, "axes", &v);
        if (k < 0) return MQ_OK;
        if (k > MQ_MAX_RANK * 2)
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "too many axes (%d)", k);
        if (k) memcpy(axes, v, sizeof(int64_t) * (size_t)k);
        *count = k;
        return MQ_OK;
    }
    const mq_tensor *a = sh_in(n, in, 1);
    if (!a) return MQ_OK;
    if (a->dtype != MQ_I64 && a->dtype != MQ_I32)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "axes must be int64, not %s", mq_dtype_name(a->dtype));
    if (!mq_sh_known(a)) {
        *unknown = 1;
        return MQ_OK;
    }
    return mq_sh_read_ints(n, a, "axes", axes, MQ_MAX_RANK * 2, count, err);
}

/* Normalize axes against rank r into a bitmask; duplicates and out-of-range axes fail. */
static mq_status axes_mask(const mq_node *n, const int64_t *axes, int k, int r, uint32_t *mask, mq_err *err)
{
    *mask = 0;
    for (int i = 0; i < k; i++) {
        int a = 0;
        MQ_TRY(mq_axis(n, axes[i], r, &a, err));
        if (r == 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "axis %lld for a scalar", (long long)axes[i]);
        if ((*mask >> a) & 1u) return mq_node_fail(err, n, MQ_ERR_INVALID, "axis %lld repeated", (long long)axes[i]);
        *mask |= 1u << a;
    }
    return MQ_OK;
}

static mq_status squeeze_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    int64_t axes[MQ_MAX_RANK * 2];
    int k = 0, unknown = 0;
    MQ_TRY(read_axes(n, in, axes, &k, &unknown, err));
    if (unknown || x->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    uint32_t mask = 0;
    if (k <= 0) { /* absent or empty axes: every size-1 dimension (as onnxruntime does) */
        for (int d = 0; d < x->rank; d++)
            if (x->dims[d] == 1) mask |= 1u << d;
    } else {
        MQ_TRY(axes_mask(n, axes, k, x->rank, &mask, err));
        for (int d = 0; d < x->rank; d++)
            if (((mask >> d) & 1u) && x->dims[d] != 1)
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot squeeze axis %d of size %lld", d,
                                    (long long)x->dims[d]);
    }
    int64_t dims[MQ_MAX_RANK];
    int r = 0;
    for (int d = 0; d < x->rank; d++)
        if (!((mask >> d) & 1u)) dims[r++] = x->dims[d];
    mq_set_out(out[0], x->dtype, r, dims);
    return MQ_OK;
}

const mq_op_def mq_shape_op_Squeeze = {
    .op_type = "Squeeze", .domain = "", .since = 1, .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = squeeze_infer, .forward = mq_forward_lowered, .inplace_in = 1u, .static_in = 2u,
    .lower = copy_lower, .backward = mq_grad_copy0};

static mq_status unsqueeze_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                 mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    int64_t axes[MQ_MAX_RANK * 2];
    int k = 0, unknown = 0;
    MQ_TRY(read_axes(n, in, axes, &k, &unknown, err));
    if (!unknown && k < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "axes are required");
    if (unknown || x->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    int r = x->rank + k;
    if (r > MQ_MAX_RANK)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "output rank %d exceeds the limit %d", r, MQ_MAX_RANK);
    uint32_t mask;
    MQ_TRY(axes_mask(n, axes, k, r, &mask, err));
    int64_t dims[MQ_MAX_RANK];
    for (int d = 0, j = 0; d < r; d++) dims[d] = ((mask >> d) & 1u) ? 1 : x->dims[j++];
    mq_set_out(out[0], x->dtype, r, dims);
    return MQ_OK;
}

const mq_op_def mq_shape_op_Unsqueeze = {
    .op_type = "Unsqueeze", .domain = "", .since = 1, .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = unsqueeze_infer, .forward = mq_forward_lowered, .inplace_in = 1u, .static_in = 2u,
    .lower = copy_lower, .backward = mq_grad_copy0};

/* ---- EyeLike ------------------------------------------------------------------------------------- */

static mq_status eyelike_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    mq_dtype dt = (mq_dtype)mq_attr_int(n, "dtype", in[0]->dtype);
    if (!mq_dtype_supported(dt))
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "output dtype %s is not supported", mq_dtype_name(dt));
    if (in[0]->rank < 0) {
        mq_sh_set_unknown(n, out, dt);
        return MQ_OK;
    }
    if (in[0]->rank != 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must be 2-D (rank %d)", in[0]->rank);
    mq_set_out(out[0], dt, 2, in[0]->dims);
    return MQ_OK;
}

static mq_status eyelike_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *o = out[0];
    int64_t rows = o->dims[0], cols = o->dims[1], k = mq_attr_int(n, "k", 0);
    if (k < -rows) k = -rows; /* beyond these no diagonal element lands in the matrix */
    if (k > cols) k = cols;
    unsigned char one[8] = {0};
    mq_store_f64(one, o->dtype, 0, 1.0);
    kc->kernel = "sh_eyelike";
    kc->p[0] = (int32_t)k;
    mq_sh_elem_bits(one, mq_dtype_size(o->dtype), &kc->p[1], &kc->p[2]);
    kc->n_p = 3;
    return MQ_OK;
}

const mq_op_def mq_shape_op_EyeLike = {
    .op_type = "EyeLike", .domain = "", .since = 9, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .shape_only_in = 1u, .infer = eyelike_infer, .forward = mq_forward_lowered, .lower = eyelike_lower};

/* ---- Range --------------------------------------------------------------------------------------- */

static const mq_dtype range_types[] = {MQ_F32, MQ_F64, MQ_I16, MQ_I32, MQ_I64, MQ_UNDEFINED};

static mq_status range_count(const mq_node *n, const mq_tensor *const *in, int64_t *count, mq_err *err)
{
    mq_dtype dt = in[0]->dtype;
    if (mq_dtype_is_float(dt)) {
        double s = 0, l = 0, d = 0;
        MQ_TRY(mq_sh_read_scalar_f64(n, in[0], "start", &s, err));
        MQ_TRY(mq_sh_read_scalar_f64(n, in[1], "limit", &l, err));
        MQ_TRY(mq_sh_read_scalar_f64(n, in[2], "delta", &d, err));
        if (d == 0 || !isfinite(s) || !isfinite(l) || !isfinite(d))
            return mq_node_fail(err, n, MQ_ERR_INVALID, "start, limit and delta must be finite, delta non-zero");
        double c = ceil((l - s) / d);
        if (!(c < (double)MQ_SHAPE_MAX_ELEMS))
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "range has too many elements");
        *count = c > 0 ? (int64_t)c : 0;
        return MQ_OK;
    }
    int64_t s = 0, l = 0, d = 0, diff = 0;
    MQ_TRY(mq_sh_read_scalar_i64(n, in[0], "start", &s, err));
    MQ_TRY(mq_sh_read_scalar_i64(n, in[1], "limit", &l, err));
    MQ_TRY(mq_sh_read_scalar_i64(n, in[2], "delta", &d, err));
    if (d == 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "delta must be non-zero");
    if (__builtin_sub_overflow(l, s, &diff)) return mq_node_fail(err, n, MQ_ERR_LIMIT, "range overflows");
    if ((diff > 0) != (d > 0) || diff == 0) {
        *count = 0;
        return MQ_OK;
    }
    /* ceil(diff / d) with both of the same sign */
    int64_t c = diff / d + (diff % d != 0);
    if (c > MQ_SHAPE_MAX_ELEMS) return mq_node_fail(err, n, MQ_ERR_LIMIT, "range has too many elements");
    *count = c;
    return MQ_OK;
}

static mq_status range_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 3; i++) {
        MQ_TRY(mq_sh_require(n, in, i, range_types, err));
        if (in[i]->dtype != in[0]->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "start, limit and delta must have the same dtype");
        if (in[i]->rank > 1 || (in[i]->rank == 1 && in[i]->dims[0] != 1))
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "input %d must be a scalar", i);
    }
    if (!mq_sh_known(in[0]) || !mq_sh_known(in[1]) || !mq_sh_known(in[2])) {
        mq_sh_set_unknown(n, out, in[0]->dtype);
        return MQ_OK;
    }
    int64_t c = 0;
    MQ_TRY(range_count(n, in, &c, err));
    mq_set_out(out[0], in[0]->dtype, 1, &c);
    return MQ_OK;
}

static mq_status range_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    kc->kernel = "sh_range"; /* start and delta are read at run time; the count is out[0]'s shape */
    kc->n_p = 0;
    return MQ_OK;
}

const mq_op_def mq_shape_op_Range = {
    .op_type = "Range", .domain = "", .since = 11, .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
    .static_in = 7u, .infer = range_infer, .forward = mq_forward_lowered, .lower = range_lower};

/* ---- the family table ---------------------------------------------------------------------------- */

const mq_op_def *const mq_ops_shape[] = {
    &mq_shape_op_Constant, &mq_shape_op_ConstantOfShape, &mq_shape_op_Shape, &mq_shape_op_Size,
    &mq_shape_op_Reshape, &mq_shape_op_Flatten, &mq_shape_op_Squeeze, &mq_shape_op_Unsqueeze,
    &mq_shape_op_EyeLike, &mq_shape_op_Range,
    /* shape_layout.c */
    &mq_shape_op_Transpose, &mq_shape_op_Concat, &mq_shape_op_Split, &mq_shape_op_Slice, &mq_shape_op_Expand,
    &mq_shape_op_Tile, &mq_shape_op_Pad, &mq_shape_op_DepthToSpace, &mq_shape_op_SpaceToDepth, &mq_shape_op_Trilu,
    &mq_shape_op_ReverseSequence,
    /* shape_index.c */
    &mq_shape_op_Gather, &mq_shape_op_GatherElements, &mq_shape_op_GatherND, &mq_shape_op_ScatterElements,
    &mq_shape_op_Scatter, &mq_shape_op_ScatterND, &mq_shape_op_OneHot, &mq_shape_op_NonZero, &mq_shape_op_Compress,
    &mq_shape_op_Unique,
    NULL};
