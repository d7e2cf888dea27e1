/* shape_index.c: 'shape' family ops driven by index or mask values: Gather, GatherElements, GatherND,
 * ScatterElements, Scatter, ScatterND, OneHot (runtime kernels), NonZero, Compress, Unique (host only). */
#include "ops/shape_common.h"
#include "runtime/kernels/shape.h"

#include <string.h>

static int64_t prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int d = from; d < to; d++) p *= dims[d];
    return p;
}

/* ---- Gather -------------------------------------------------------------------------------------- */

static mq_status gather_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    MQ_TRY(mq_sh_require(n, in, 1, mq_types_index, err));
    const mq_tensor *x = in[0], *ix = in[1];
    if (x->rank < 0 || ix->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    if (x->rank == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot gather from a scalar");
    int axis = 0;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), x->rank, &axis, err));
    int r = x->rank - 1 + ix->rank;
    if (r > MQ_MAX_RANK)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "output rank %d exceeds the limit %d", r, MQ_MAX_RANK);
    int64_t dims[MQ_MAX_RANK];
    int k = 0;
    for (int d = 0; d < axis; d++) dims[k++] = x->dims[d];
    for (int d = 0; d < ix->rank; d++) dims[k++] = ix->dims[d];
    for (int d = axis + 1; d < x->rank; d++) dims[k++] = x->dims[d];
    MQ_TRY(mq_sh_check_shape(n, r, dims, err));
    mq_set_out(out[0], x->dtype, r, dims);
    return MQ_OK;
}

/* When the index values are known (constants; every run on the host), each must lie in [-dim, dim):
 * the kernel would only write zeros for one that does not. */
static mq_status check_indices(const mq_node *n, const mq_tensor *ix, int64_t dim, mq_err *err)
{
    if (!ix->data) return MQ_OK;
    int64_t m = mq_numel(ix), v = 0;
    for (int64_t j = 0; j < m; j++) MQ_TRY(mq_sh_index(n, mq_load_i64(ix->data, ix->dtype, (size_t)j), dim, "index", &v, err));
    return MQ_OK;
}

static mq_status gather_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *x = in[0];
    int axis = 0;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), x->rank, &axis, err));
    MQ_TRY(check_indices(n, in[1], x->dims[axis], err));
    kc->kernel = "sh_gather";
    kc->p[0] = axis;
    kc->n_p = 1;
    return MQ_OK;
}

const mq_op_def mq_shape_op_Gather = {
    .op_type = "Gather", .domain = "", .since = 1, .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = gather_infer, .forward = mq_forward_lowered, .lower = gather_lower};

/* ---- GatherElements / ScatterElements / Scatter: indices of the data's rank ------------------------ */

/* Checks shared by the element-wise index ops: same rank, index dims within data dims off the axis. */
static mq_status elems_check(const mq_node *n, const mq_tensor *x, const mq_tensor *ix, int *axis, mq_err *err)
{
    if (x->rank == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "data must have rank >= 1");
    if (ix->rank != x->rank)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "indices rank %d differs from data rank %d", ix->rank, x->rank);
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), x->rank, axis, err));
    for (int d = 0; d < x->rank; d++)
        if (d != *axis && ix->dims[d] > x->dims[d])
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "indices dimension %d (%lld) exceeds the data's (%lld)", d,
                                (long long)ix->dims[d], (long long)x->dims[d]);
    return MQ_OK;
}

static mq_status gather_elems_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                    mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    MQ_TRY(mq_sh_require(n, in, 1, mq_types_index, err));
    if (in[0]->rank < 0 || in[1]->rank < 0) {
        mq_sh_set_unknown(n, out, in[0]->dtype);
        return MQ_OK;
    }
    int axis = 0;
    MQ_TRY(elems_check(n, in[0], in[1], &axis, err));
    mq_set_out(out[0], in[0]->dtype, in[1]->rank, in[1]->dims);
    return MQ_OK;
}

static mq_status gather_elems_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                    mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    int axis = 0;
    MQ_TRY(elems_check(n, in[0], in[1], &axis, err));
    MQ_TRY(check_indices(n, in[1], in[0]->dims[axis], err));
    kc->kernel = "sh_gather_elems";
    kc->p[0] = axis;
    kc->n_p = 1;
    return MQ_OK;
}

const mq_op_def mq_shape_op_GatherElements = {
    .op_type = "GatherElements", .domain = "", .since = 11, .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = gather_elems_infer, .forward = mq_forward_lowered, .lower = gather_elems_lower};

/* Scatter reductions. */
typedef enum red_kind { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } red_kind;

static mq_status read_reduction(const mq_node *n, red_kind *k, mq_err *err)
{
    *k = RED_NONE;
    if (n->opset < 16 || !strcmp(n->op_type, "Scatter")) return MQ_OK;
    const char *r = mq_attr_str(n, "reduction", "none");
    if (!strcmp(r, "none"))
        *k = RED_NONE;
    else if (!strcmp(r, "add"))
        *k = RED_ADD;
    else if (!strcmp(r, "mul"))
        *k = RED_MUL;
    else if (!strcmp(r, "max"))
        *k = RED_MAX;
    else if (!strcmp(r, "min"))
        *k = RED_MIN;
    else
        return mq_node_fail(err, n, MQ_ERR_INVALID, "reduction '%s' is not one of none, add, mul, max, min", r);
    return MQ_OK;
}

/* The inputs common to ScatterElements and ScatterND: data, integer indices, updates of data's
 * dtype, and a valid reduction attribute. */
static mq_status scatter_inputs_check(const mq_node *n, const mq_tensor *const *in, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    MQ_TRY(mq_sh_require(n, in, 1, mq_types_index, err));
    MQ_TRY(mq_sh_require(n, in, 2, NULL, err));
    red_kind k = RED_NONE;
    MQ_TRY(read_reduction(n, &k, err));
    if (in[2]->dtype != in[0]->dtype)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "updates dtype %s differs from data dtype %s",
                            mq_dtype_name(in[2]->dtype), mq_dtype_name(in[0]->dtype));
    return MQ_OK;
}

static mq_status scatter_elems_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                     mq_err *err)
{
    MQ_TRY(scatter_inputs_check(n, in, err));
    if (in[0]->rank >= 0 && in[1]->rank >= 0) {
        int axis = 0;
        MQ_TRY(elems_check(n, in[0], in[1], &axis, err));
        if (in[2]->rank >= 0 && !mq_shape_equal(in[1], in[2]))
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "updates shape differs from indices shape");
    }
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static const int32_t red_code[] = {MQK_SCAT_NONE, MQK_SCAT_ADD, MQK_SCAT_MUL, MQK_SCAT_MAX, MQK_SCAT_MIN};

static mq_status lower_reduction(const mq_node *n, mq_dtype dt, int32_t *code, mq_err *err)
{
    red_kind k = RED_NONE;
    MQ_TRY(read_reduction(n, &k, err));
    if (k != RED_NONE && dt == MQ_BOOL)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "reduction on bool has no runtime kernel");
    *code = red_code[k];
    return MQ_OK;
}

static mq_status scatter_elems_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                     mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    int axis = 0;
    int32_t red = 0;
    MQ_TRY(lower_reduction(n, in[0]->dtype, &red, err));
    MQ_TRY(elems_check(n, in[0], in[1], &axis, err));
    MQ_TRY(check_indices(n, in[1], in[0]->dims[axis], err));
    kc->kernel = "sh_scatter_elems";
    kc->p[0] = axis;
    kc->p[1] = red;
    kc->n_p = 2;
    return MQ_OK;
}

const mq_op_def mq_shape_op_ScatterElements = {
    .op_type = "ScatterElements", .domain = "", .since = 11, .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = scatter_elems_infer, .forward = mq_forward_lowered, .lower = scatter_elems_lower};
const mq_op_def mq_shape_op_Scatter = {
    .op_type = "Scatter", .domain = "", .since = 9, .until = 10, .min_in = 3, .max_in = 3, .min_out = 1,
    .max_out = 1, .infer = scatter_elems_infer, .forward = mq_forward_lowered, .lower = scatter_elems_lower};

/* ---- GatherND, ScatterND ------------------------------------------------------------------------- */

static mq_status gathernd_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    MQ_TRY(mq_sh_require(n, in, 1, mq_types_index, err));
    const mq_tensor *x = in[0], *ix = in[1];
    if (x->rank < 0 || ix->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    int64_t b = n->opset >= 12 ? mq_attr_int(n, "batch_dims", 0) : 0;
    if (x->rank < 1 || ix->rank < 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "data and indices need rank >= 1");
    if (b < 0 || b >= ix->rank || b >= x->rank)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "batch_dims %lld out of range", (long long)b);
    int64_t k = ix->dims[ix->rank - 1];
    if (k < 1 || k > x->rank - b)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "indices' last dimension %lld must be in [1, %lld]", (long long)k,
                            (long long)(x->rank - b));
    for (int d = 0; d < b; d++)
        if (ix->dims[d] != x->dims[d])
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "batch dimension %d differs between data and indices", d);
    int64_t dims[2 * MQ_MAX_RANK];
    int r = 0;
    for (int d = 0; d < ix->rank - 1; d++) dims[r++] = ix->dims[d];
    for (int d = (int)(b + k); d < x->rank; d++) dims[r++] = x->dims[d];
    MQ_TRY(mq_sh_check_shape(n, r, dims, err));
    mq_set_out(out[0], x->dtype, r, dims);
    return MQ_OK;
}

/* Known index tuples (last dim k of ix) each address data dims [b, b + k) in range. */
static mq_status check_tuples(const mq_node *n, const mq_tensor *x, const mq_tensor *ix, int b, mq_err *err)
{
    if (!ix->data) return MQ_OK;
    int k = (int)ix->dims[ix->rank - 1];
    int64_t m = mq_numel(ix), v = 0;
    for (int64_t j = 0; j < m; j++)
        MQ_TRY(mq_sh_index(n, mq_load_i64(ix->data, ix->dtype, (size_t)j), x->dims[b + j % k], "index", &v, err));
    return MQ_OK;
}

static mq_status gathernd_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    int b = n->opset >= 12 ? (int)mq_attr_int(n, "batch_dims", 0) : 0; /* validated by inference */
    MQ_TRY(check_tuples(n, in[0], in[1], b, err));
    kc->kernel = "sh_gather_nd";
    kc->p[0] = b;
    kc->n_p = 1;
    return MQ_OK;
}

const mq_op_def mq_shape_op_GatherND = {
    .op_type = "GatherND", .domain = "", .since = 11, .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = gathernd_infer, .forward = mq_forward_lowered, .lower = gathernd_lower};

static mq_status scatternd_check(const mq_node *n, const mq_tensor *x, const mq_tensor *ix, const mq_tensor *u,
                                 mq_err *err)
{
    if (x->rank < 1 || ix->rank < 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "data and indices need rank >= 1");
    int64_t k = ix->dims[ix->rank - 1];
    if (k < 1 || k > x->rank)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "indices' last dimension %lld must be in [1, %d]", (long long)k,
                            x->rank);
    int ur = ix->rank - 1 + x->rank - (int)k;
    int ok = u->rank == ur;
    for (int d = 0; ok && d < ix->rank - 1; d++) ok = u->dims[d] == ix->dims[d];
    for (int d = 0; ok && d < x->rank - k; d++) ok = u->dims[ix->rank - 1 + d] == x->dims[k + d];
    if (!ok) return mq_node_fail(err, n, MQ_ERR_SHAPE, "updates shape does not match indices and data");
    return MQ_OK;
}

static mq_status scatternd_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                 mq_err *err)
{
    MQ_TRY(scatter_inputs_check(n, in, err));
    if (in[0]->rank >= 0 && in[1]->rank >= 0 && in[2]->rank >= 0) MQ_TRY(scatternd_check(n, in[0], in[1], in[2], err));
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status scatternd_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                 mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    int32_t red = 0;
    MQ_TRY(lower_reduction(n, in[0]->dtype, &red, err));
    MQ_TRY(scatternd_check(n, in[0], in[1], in[2], err));
    MQ_TRY(check_tuples(n, in[0], in[1], 0, err));
    kc->kernel = "sh_scatter_nd";
    kc->p[0] = red;
    kc->n_p = 1;
    return MQ_OK;
}

const mq_op_def mq_shape_op_ScatterND = {
    .op_type = "ScatterND", .domain = "", .since = 11, .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
    .infer = scatternd_infer, .forward = mq_forward_lowered, .lower = scatternd_lower};

/* ---- OneHot -------------------------------------------------------------------------------------- */

static mq_status onehot_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, mq_types_numeric, err));
    MQ_TRY(mq_sh_require(n, in, 1, mq_types_numeric, err));
    MQ_TRY(mq_sh_require(n, in, 2, NULL, err));
    const mq_tensor *ix = in[0], *dp = in[1], *vals = in[2];
    if (vals->rank >= 0 && mq_numel(vals) != 2)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "values must hold two elements [off, on]");
    if (dp->rank >= 0 && mq_numel(dp) != 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "depth must be a scalar");
    if (ix->rank < 0 || !mq_sh_known(dp)) {
        mq_sh_set_unknown(n, out, vals->dtype);
        return MQ_OK;
    }
    double dv = 0;
    MQ_TRY(mq_sh_read_scalar_f64(n, dp, "depth", &dv, err));
    if (!(dv >= 1 && dv < (double)MQ_SHAPE_MAX_ELEMS))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "depth %g must be positive", dv);
    int r = ix->rank + 1, axis;
    if (r > MQ_MAX_RANK)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "output rank %d exceeds the limit %d", r, MQ_MAX_RANK);
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), r, &axis, err));
    int64_t dims[MQ_MAX_RANK];
    for (int d = 0, j = 0; d < r; d++) dims[d] = d == axis ? (int64_t)dv : ix->dims[j++];
    MQ_TRY(mq_sh_check_shape(n, r, dims, err));
    mq_set_out(out[0], vals->dtype, r, dims);
    return MQ_OK;
}

static mq_status onehot_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    int axis = 0;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", -1), out[0]->rank, &axis, err));
    kc->kernel = "sh_onehot"; /* depth is out[0]'s dim on the axis; indices and values are read at run time */
    kc->p[0] = axis;
    kc->n_p = 1;
    return MQ_OK;
}

const mq_op_def mq_shape_op_OneHot = {
    .op_type = "OneHot", .domain = "", .since = 9, .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
    .static_in = 2u, .infer = onehot_infer, .forward = mq_forward_lowered, .lower = onehot_lower};

/* ---- NonZero ------------------------------------------------------------------------------------- */
/* The output shape depends on the input values: lowered with a bound (nonzero_lower, below). */

static int elem_nonzero(const void *data, mq_dtype dt, size_t esz, int64_t i)
{
    if (mq_dtype_is_float(dt)) return mq_load_f64(data, dt, (size_t)i) != 0;
    const unsigned char *p = (const unsigned char *)data + (size_t)i * esz;
    for (size_t b = 0; b < esz; b++)
        if (p[b]) return 1;
    return 0;
}

static int64_t count_nonzero(const mq_tensor *x)
{
    int64_t ne = mq_numel(x), c = 0;
    size_t esz = mq_dtype_size(x->dtype);
    for (int64_t i = 0; i < ne; i++) c += elem_nonzero(x->data, x->dtype, esz, i);
    return c;
}

static mq_status nonzero_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                               mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    if (x->rank < 0 || !mq_sh_known(x)) {
        mq_sh_set_unknown(n, out, MQ_I64);
        return MQ_OK;
    }
    int64_t dims[2] = {x->rank > 0 ? x->rank : 1, count_nonzero(x)};
    mq_set_out(out[0], MQ_I64, 2, dims);
    return MQ_OK;
}

static mq_status nonzero_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                 mq_err *err)
{
    (void)n;
    (void)err;
    const mq_tensor *x = in[0];
    int r = x->rank > 0 ? x->rank : 1;
    int64_t one = 1;
    const int64_t *xd = x->rank > 0 ? x->dims : &one;
    int64_t ne = mq_numel(x), nnz = out[0]->dims[1], c = 0, idx[MQ_MAX_RANK] = {0};
    size_t esz = mq_dtype_size(x->dtype);
    int64_t *o = out[0]->data;
    for (int64_t i = 0; i < ne; i++) {
        if (elem_nonzero(x->data, x->dtype, esz, i)) {
            for (int d = 0; d < r; d++) o[d * nnz + c] = idx[d];
            c++;
        }
        mq_index_next(r, xd, idx);
    }
    return MQ_OK;
}

/* Data-dependent outputs (kernels of runtime/kernels/shape_dyn.h): output k is planned at the bound
 * `dims` (rank r) and the kernel writes its actual dims. The node runs only when the values are not
 * known at compile time, so its outputs are at rank -1 here. */
static mq_status dyn_bound(const mq_node *n, const mq_tensor *const *out, int k, int r, const int64_t *dims,
                           mq_kcall *kc, mq_err *err)
{
    if (!out[k]) {
        kc->bounded |= 1u << k; /* an absent output: its actual-dims slot is omitted too */
        return MQ_OK;
    }
    if (out[k]->rank >= 0)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "output '%s' has a static shape but the kernel writes a bounded one",
                            out[k]->name);
    kc->bounded |= 1u << k;
    kc->bound_rank[k] = r;
    for (int d = 0; d < r; d++) kc->bound[k][d] = dims[d];
    return MQ_OK;
}

/* The bound of a copy of x compressed along axis (-1: flattened): x's dims, or [numel(x)]. */
static mq_status dyn_bound_like(const mq_node *n, const mq_tensor *const *out, int k, const mq_tensor *x, int axis,
                                mq_kcall *kc, mq_err *err)
{
    int64_t ne = mq_numel(x);
    return axis < 0 ? dyn_bound(n, out, k, 1, &ne, kc, err) : dyn_bound(n, out, k, x->rank, x->dims, kc, err);
}

static mq_status nonzero_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               mq_kcall *kc, mq_err *err)
{
    int64_t dims[2] = {in[0]->rank > 0 ? in[0]->rank : 1, mq_numel(in[0])};
    kc->kernel = "sh_nonzero";
    kc->n_p = 0;
    return dyn_bound(n, out, 0, 2, dims, kc, err);
}

const mq_op_def mq_shape_op_NonZero = {
    .op_type = "NonZero", .domain = "", .since = 9, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = nonzero_infer, .forward = nonzero_forward, .lower = nonzero_lower, .bounded_out = 1};

/* ---- Compress ------------------------------------------------------------------------------------ */
/* The output shape depends on the condition's values: lowered with a bound (compress_lower). */

/* The selected count along the axis (or over the flattened input when has_axis is 0). */
static mq_status compress_count(const mq_node *n, const mq_tensor *x, const mq_tensor *c, int64_t dim,
                                int64_t *count, mq_err *err)
{
    int64_t L = mq_numel(c), k = 0;
    for (int64_t i = 0; i < L; i++) {
        if (!mq_load_i64(c->data, c->dtype, (size_t)i)) continue;
        if (i >= dim)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "condition selects index %lld beyond size %lld of '%s'",
                                (long long)i, (long long)dim, x->name ? x->name : "");
        k++;
    }
    *count = k;
    return MQ_OK;
}

static mq_status compress_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    static const mq_dtype cond_types[] = {MQ_BOOL, MQ_UNDEFINED};
    MQ_TRY(mq_sh_require(n, in, 1, cond_types, err));
    const mq_tensor *x = in[0], *c = in[1];
    if (c->rank > 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "condition must be 1-D");
    if (x->rank < 0 || !mq_sh_known(c)) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    const mq_attr *a = mq_attr_get(n, "axis");
    int64_t cnt = 0;
    if (!a) {
        MQ_TRY(compress_count(n, x, c, mq_numel(x), &cnt, err));
        mq_set_out(out[0], x->dtype, 1, &cnt);
        return MQ_OK;
    }
    int axis = 0;
    if (x->rank == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "axis given for a scalar");
    MQ_TRY(mq_axis(n, a->i, x->rank, &axis, err));
    MQ_TRY(compress_count(n, x, c, x->dims[axis], &cnt, err));
    mq_set_like(out[0], x);
    out[0]->dims[axis] = cnt;
    return MQ_OK;
}

static mq_status compress_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                  mq_err *err)
{
    const mq_tensor *x = in[0], *c = in[1];
    const mq_attr *a = mq_attr_get(n, "axis");
    int64_t outer = 1, A = mq_numel(x), inner = 1;
    if (a) {
        int axis = 0;
        MQ_TRY(mq_axis(n, a->i, x->rank, &axis, err));
        outer = prod(x->dims, 0, axis);
        A = x->dims[axis];
        inner = prod(x->dims, axis + 1, x->rank);
    }
    size_t esz = mq_dtype_size(x->dtype), row = (size_t)inner * esz;
    int64_t L = mq_numel(c);
    if (L > A) L = A;
    const char *s = x->data;
    char *o = out[0]->data;
    for (int64_t p = 0; p < outer; p++)
        for (int64_t i = 0; i < L; i++) {
            if (!mq_load_i64(c->data, c->dtype, (size_t)i)) continue;
            memcpy(o, s + (size_t)((p * A + i) * inner) * esz, row);
            o += row;
        }
    return MQ_OK;
}

static mq_status compress_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                mq_kcall *kc, mq_err *err)
{
    const mq_attr *a = mq_attr_get(n, "axis");
    int axis = -1;
    if (a) {
        if (in[0]->rank == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "axis given for a scalar");
        MQ_TRY(mq_axis(n, a->i, in[0]->rank, &axis, err));
    }
    if (in[1]->rank != 1) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "condition of rank %d (the kernel takes 1-D)", in[1]->rank);
    kc->kernel = "sh_compress";
    kc->p[0] = axis;
    kc->n_p = 1;
    return dyn_bound_like(n, out, 0, in[0], axis, kc, err);
}

const mq_op_def mq_shape_op_Compress = {
    .op_type = "Compress", .domain = "", .since = 9, .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = compress_infer, .forward = compress_forward, .lower = compress_lower, .bounded_out = 1};

/* ---- Unique -------------------------------------------------------------------------------------- */
/* The output shapes depend on the values: lowered with bounds (unique_lower). */

typedef struct uniq_ctx {
    const void *data;
    mq_dtype dt;
    int64_t outer, A, inner; /* slice i: elements (p * A + i) * inner + j */
} uniq_ctx;

static int elem_cmp(const void *data, mq_dtype dt, int64_t a, int64_t b)
{
    switch (dt) {
#define X(e, c)                                                                                                \
    case e: {                                                                                                  \
        c va = ((const c *)data)[a], vb = ((const c *)data)[b];                                                \
        return (va > vb) - (va < vb);                                                                          \
    }
        MQ_FOR_ALL_TYPES(X)
#undef X
    default: return 0;
    }
}

static int slice_cmp(const uniq_ctx *u, int64_t a, int64_t b)
{
    for (int64_t p = 0; p < u->outer; p++)
        for (int64_t j = 0; j < u->inner; j++) {
            int c = elem_cmp(u->data, u->dt, (p * u->A + a) * u->inner + j, (p * u->A + b) * u->inner + j);
            if (c) return c;
        }
    return 0;
}

/* Stable merge sort of perm[0..m) by slice order. */
static void uniq_sort(const uniq_ctx *u, int64_t *perm, int64_t *tmp, int64_t m)
{
    for (int64_t w = 1; w < m; w *= 2) {
        for (int64_t lo = 0; lo < m; lo += 2 * w) {
            int64_t mid = lo + w < m ? lo + w : m, hi = lo + 2 * w < m ? lo + 2 * w : m;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = slice_cmp(u, perm[j], perm[i]) < 0 ? perm[j++] : perm[i++];
            while (i < mid) tmp[k++] = perm[i++];
            while (j < hi) tmp[k++] = perm[j++];
        }
        memcpy(perm, tmp, sizeof(int64_t) * (size_t)m);
    }
}

/* Result of Unique: U groups in output order; first[u], count[u]; inverse[i] for each of A slices. */
typedef struct uniq_res {
    int64_t U;
    int64_t *first, *count, *inverse; /* mq_malloc'ed, each of A entries */
} uniq_res;

static void uniq_free(uniq_res *r)
{
    mq_free(r->first);
    mq_free(r->count);
    mq_free(r->inverse);
    memset(r, 0, sizeof *r);
}

static mq_status uniq_setup(const mq_node *n, const mq_tensor *x, uniq_ctx *u, int *axis, mq_err *err)
{
    const mq_attr *a = mq_attr_get(n, "axis");
    u->data = x->data;
    u->dt = x->dtype;
    u->outer = 1;
    u->A = mq_numel(x);
    u->inner = 1;
    *axis = -1;
    if (a) {
        if (x->rank == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "axis given for a scalar");
        MQ_TRY(mq_axis(n, a->i, x->rank, axis, err));
        u->outer = prod(x->dims, 0, *axis);
        u->A = x->dims[*axis];
        u->inner = prod(x->dims, *axis + 1, x->rank);
    }
    return MQ_OK;
}

static mq_status uniq_run(const mq_node *n, const uniq_ctx *u, uniq_res *r, mq_err *err)
{
    int64_t m = u->A;
    size_t nb = sizeof(int64_t) * (size_t)(m ? m : 1);
    memset(r, 0, sizeof *r);
    int64_t *perm = mq_malloc(nb), *tmp = mq_malloc(nb), *gid = mq_malloc(nb), *pos = mq_malloc(nb);
    r->first = mq_malloc(nb);
    r->count = mq_malloc(nb);
    r->inverse = mq_malloc(nb);
    if (!perm || !tmp || !gid || !pos || !r->first || !r->count || !r->inverse) {
        mq_free(perm);
        mq_free(tmp);
        mq_free(gid);
        mq_free(pos);
        uniq_free(r);
        return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < m; i++) perm[i] = i;
    uniq_sort(u, perm, tmp, m);
    int64_t G = 0;
    for (int64_t i = 0; i < m; i++) {
        if (i > 0 && slice_cmp(u, perm[i - 1], perm[i]) != 0) G++;
        gid[perm[i]] = G;
    }
    if (m) G++;
    int sorted = mq_attr_int(n, "sorted", 1) != 0;
    for (int64_t g = 0; g < G; g++) pos[g] = sorted ? g : -1;
    int64_t next = 0;
    for (int64_t i = 0; i < m; i++) {
        int64_t g = gid[i];
        if (pos[g] < 0) pos[g] = next++;
    }
    for (int64_t g = 0; g < G; g++) r->count[g] = 0;
    for (int64_t i = 0; i < m; i++) {
        int64_t p = pos[gid[i]];
        if (r->count[p]++ == 0) r->first[p] = i;
        r->inverse[i] = p;
    }
    r->U = G;
    mq_free(perm);
    mq_free(tmp);
    mq_free(gid);
    mq_free(pos);
    return MQ_OK;
}

static mq_status unique_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    if (x->rank < 0 || !mq_sh_known(x)) {
        mq_sh_set_unknown(n, out, MQ_I64);
        if (out[0]) out[0]->dtype = x->dtype;
        return MQ_OK;
    }
    uniq_ctx u = {0};
    uniq_res r = {0};
    int axis = 0;
    MQ_TRY(uniq_setup(n, x, &u, &axis, err));
    MQ_TRY(uniq_run(n, &u, &r, err));
    int64_t U = r.U, A = u.A;
    uniq_free(&r);
    if (out[0]) {
        if (axis < 0) {
            mq_set_out(out[0], x->dtype, 1, &U);
        } else {
            mq_set_like(out[0], x);
            out[0]->dims[axis] = U;
        }
    }
    for (int k = 1; k < 4; k++) {
        mq_tensor *o = sh_out(n, out, k);
        if (o) mq_set_out(o, MQ_I64, 1, k == 2 ? &A : &U);
    }
    return MQ_OK;
}

static mq_status unique_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                mq_err *err)
{
    const mq_tensor *x = in[0];
    uniq_ctx u = {0};
    uniq_res r = {0};
    int axis = 0;
    MQ_TRY(uniq_setup(n, x, &u, &axis, err));
    MQ_TRY(uniq_run(n, &u, &r, err));
    size_t esz = mq_dtype_size(x->dtype), row = (size_t)u.inner * esz;
    if (out[0]) {
        char *o = out[0]->data;
        const char *s = x->data;
        for (int64_t p = 0; p < u.outer; p++)
            for (int64_t g = 0; g < r.U; g++) {
                memcpy(o, s + (size_t)((p * u.A + r.first[g]) * u.inner) * esz, row);
                o += row;
            }
    }
    mq_tensor *oi = sh_out(n, out, 1), *ov = sh_out(n, out, 2), *oc = sh_out(n, out, 3);
    if (oi && r.U) memcpy(oi->data, r.first, sizeof(int64_t) * (size_t)r.U);
    if (ov && u.A) memcpy(ov->data, r.inverse, sizeof(int64_t) * (size_t)u.A);
    if (oc && r.U) memcpy(oc->data, r.count, sizeof(int64_t) * (size_t)r.U);
    uniq_free(&r);
    return MQ_OK;
}

static mq_status unique_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    uniq_ctx u = {0};
    int axis = -1;
    MQ_TRY(uniq_setup(n, in[0], &u, &axis, err));
    if ((uint64_t)u.A * 16 > UINT32_MAX) return mq_node_fail(err, n, MQ_ERR_LIMIT, "%lld slices: scratch beyond 4 GiB", (long long)u.A);
    kc->kernel = "sh_unique";
    kc->p[0] = mq_attr_int(n, "sorted", 1) != 0;
    kc->p[1] = axis;
    kc->p[2] = n->n_out;
    kc->n_p = 3;
    kc->scratch_bytes = 16 * (size_t)u.A;
    MQ_TRY(dyn_bound_like(n, out, 0, in[0], axis, kc, err));
    for (int k = 1; k < n->n_out; k++) MQ_TRY(dyn_bound(n, out, k, 1, &u.A, kc, err));
    return MQ_OK;
}

const mq_op_def mq_shape_op_Unique = {
    .op_type = "Unique", .domain = "", .since = 11, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 4,
    .infer = unique_infer, .forward = unique_forward, .lower = unique_lower, .bounded_out = 1};
