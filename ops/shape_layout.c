/* shape_layout.c: 'shape' family ops that rearrange elements without looking at them: Transpose, Concat,
 * Split, Slice, Expand, Tile, Pad, DepthToSpace, SpaceToDepth, Trilu, ReverseSequence. */
#include "ops/grad.h"
#include "ops/shape_common.h"
#include "runtime/kernels/shape.h"

#include <string.h>

/* ---- Transpose ----------------------------------------------------------------------------------- */

static mq_status transpose_perm(const mq_node *n, int r, int *perm, mq_err *err)
{
    const int64_t *p;
    int k = mq_attr_ints(n, "perm", &p);
    if (k < 0) {
        for (int d = 0; d < r; d++) perm[d] = r - 1 - d;
        return MQ_OK;
    }
    if (k != r) return mq_node_fail(err, n, MQ_ERR_INVALID, "perm has %d entries for rank %d", k, r);
    uint32_t seen = 0;
    for (int d = 0; d < r; d++) {
        if (p[d] < 0 || p[d] >= r || ((seen >> p[d]) & 1u))
            return mq_node_fail(err, n, MQ_ERR_INVALID, "perm is not a permutation of 0..%d", r - 1);
        seen |= 1u << p[d];
        perm[d] = (int)p[d];
    }
    return MQ_OK;
}

static mq_status transpose_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                 mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    if (x->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    int perm[MQ_MAX_RANK];
    MQ_TRY(transpose_perm(n, x->rank, perm, err));
    int64_t dims[MQ_MAX_RANK];
    for (int d = 0; d < x->rank; d++) dims[d] = x->dims[perm[d]];
    mq_set_out(out[0], x->dtype, x->rank, dims);
    return MQ_OK;
}

static mq_status transpose_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                 mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *x = in[0];
    int perm[MQ_MAX_RANK];
    MQ_TRY(transpose_perm(n, x->rank, perm, err));
    int64_t xs[MQ_MAX_RANK], st[MQ_MAX_RANK];
    mq_strides(x->rank, x->dims, xs);
    for (int d = 0; d < x->rank; d++) st[d] = xs[perm[d]];
    mq_sh_lower_strided(kc, x->rank, out[0]->dims, st, 0);
    return MQ_OK;
}

const mq_op_def mq_shape_op_Transpose = {
    .op_type = "Transpose", .domain = "", .since = 1, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = transpose_infer, .forward = mq_forward_lowered, .lower = transpose_lower};

/* ---- Concat -------------------------------------------------------------------------------------- */

static mq_status concat_axis(const mq_node *n, int r, int *axis, mq_err *err)
{
    const mq_attr *a = mq_attr_get(n, "axis");
    if (!a && n->opset >= 4) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'axis' is required");
    int64_t v = a ? a->i : 1;
    /* negative axes are accepted at every opset (exporters emitted them before opset 11 made them legal) */
    return mq_axis(n, v, r, axis, err);
}

static mq_status concat_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    int r = -1;
    for (int i = 0; i < n->n_in; i++) {
        MQ_TRY(mq_sh_require(n, in, i, NULL, err));
        if (in[i]->dtype != in[0]->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "input %d has dtype %s, input 0 has %s", i,
                                mq_dtype_name(in[i]->dtype), mq_dtype_name(in[0]->dtype));
        if (in[i]->rank >= 0) r = in[i]->rank;
    }
    for (int i = 0; i < n->n_in; i++)
        if (in[i]->rank < 0) {
            mq_sh_set_unknown(n, out, in[0]->dtype);
            return MQ_OK;
        }
    if (r == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot concatenate scalars");
    int axis = 0;
    MQ_TRY(concat_axis(n, r, &axis, err));
    int64_t dims[MQ_MAX_RANK];
    memcpy(dims, in[0]->dims, sizeof(int64_t) * (size_t)r);
    dims[axis] = 0;
    for (int i = 0; i < n->n_in; i++) {
        if (in[i]->rank != r)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "input %d has rank %d, input 0 has %d", i, in[i]->rank, r);
        for (int d = 0; d < r; d++)
            if (d != axis && in[i]->dims[d] != in[0]->dims[d])
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "input %d dimension %d is %lld, input 0 has %lld", i,
                                    d, (long long)in[i]->dims[d], (long long)in[0]->dims[d]);
        if (__builtin_add_overflow(dims[axis], in[i]->dims[axis], &dims[axis]))
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "concatenated dimension overflows");
    }
    MQ_TRY(mq_sh_check_shape(n, r, dims, err));
    mq_set_out(out[0], in[0]->dtype, r, dims);
    return MQ_OK;
}

static mq_status concat_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    int axis = 0;
    MQ_TRY(concat_axis(n, out[0]->rank, &axis, err));
    kc->kernel = "sh_concat";
    kc->p[0] = axis;
    kc->n_p = 1;
    return MQ_OK;
}

/* Backward: each input gets its slice of dL/dY along the axis. */
static mq_status concat_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                 const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, out[0], err));
    int axis;
    MQ_TRY(concat_axis(n, out[0]->rank, &axis, err));
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= out[0]->dims[d];
    for (int d = axis + 1; d < out[0]->rank; d++) inner *= out[0]->dims[d];
    int64_t total = out[0]->dims[axis] * inner, pos = 0;
    for (int i = 0; i < n->n_in; i++) {
        if (!in[i]) continue;
        int64_t len = in[i]->dims[axis] * inner;
        if (din[i])
            for (int64_t o = 0; o < outer; o++)
                memcpy(din[i] + o * len, dout[0] + o * total + pos, sizeof(float) * (size_t)len);
        pos += len;
    }
    return MQ_OK;
}

const mq_op_def mq_shape_op_Concat = {
    .op_type = "Concat", .domain = "", .since = 1, .min_in = 1, .max_in = -1, .min_out = 1, .max_out = 1,
    .infer = concat_infer, .forward = mq_forward_lowered, .lower = concat_lower,
    .backward = concat_backward};

/* ---- Split --------------------------------------------------------------------------------------- */

#define SPLIT_MAX_OUT 4096

/* Sizes of the n_out parts along the axis (sizes holds SPLIT_MAX_OUT). *unknown when they come from an
 * input whose value is not known yet. */
static mq_status split_sizes(const mq_node *n, const mq_tensor *const *in, int64_t dim, int64_t *sizes,
                             int *unknown, mq_err *err)
{
    int k = n->n_out, cnt = -1;
    *unknown = 0;
    const mq_tensor *s = sh_in(n, in, 1);
    if (s && s->rank >= 0 && mq_numel(s) == 0) s = NULL; /* an empty split input means "not given" */
    if (s && (n->opset >= 13 || n->opset < 2)) {
        if (!mq_dtype_is_int(s->dtype))
            return mq_node_fail(err, n, MQ_ERR_INVALID, "split must be int64, not %s", mq_dtype_name(s->dtype));
        if (!mq_sh_known(s)) {
            *unknown = 1;
            return MQ_OK;
        }
        MQ_TRY(mq_sh_read_ints(n, s, "split", sizes, SPLIT_MAX_OUT, &cnt, err));
        if (cnt != k)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "split has %d values for %d outputs", cnt, k);
    } else if (n->opset < 13) {
        const int64_t *v;
        cnt = mq_attr_ints(n, "split", &v);
        if (cnt >= 0) {
            if (cnt != k) return mq_node_fail(err, n, MQ_ERR_INVALID, "split has %d values for %d outputs", cnt, k);
            memcpy(sizes, v, sizeof(int64_t) * (size_t)k);
        }
    }
    if (cnt >= 0) {
        int64_t sum = 0;
        for (int i = 0; i < k; i++) {
            if (sizes[i] < 0)
                return mq_node_fail(err, n, MQ_ERR_INVALID, "split[%d] = %lld is negative", i, (long long)sizes[i]);
            if (__builtin_add_overflow(sum, sizes[i], &sum))
                return mq_node_fail(err, n, MQ_ERR_INVALID, "split sizes overflow");
        }
        if (sum != dim)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "split sizes add up to %lld, the axis has %lld",
                                (long long)sum, (long long)dim);
        return MQ_OK;
    }
    const mq_attr *no = mq_attr_get(n, "num_outputs");
    if (no) { /* opset 18 style: ceil-sized chunks, the last one smaller */
        if (no->i != k)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "num_outputs %lld but %d outputs", (long long)no->i, k);
        int64_t c = (dim + k - 1) / k;
        for (int i = 0; i < k; i++) {
            int64_t left = dim - c * i;
            sizes[i] = left < 0 ? 0 : (left < c ? left : c);
        }
        return MQ_OK;
    }
    if (dim % k != 0)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "axis of size %lld does not split into %d equal parts",
                            (long long)dim, k);
    for (int i = 0; i < k; i++) sizes[i] = dim / k;
    return MQ_OK;
}

static mq_status split_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    if (n->n_out > SPLIT_MAX_OUT) return mq_node_fail(err, n, MQ_ERR_LIMIT, "too many outputs");
    if (x->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    int axis = 0;
    int64_t av = mq_attr_int(n, "axis", 0);
    MQ_TRY(mq_axis(n, av, x->rank, &axis, err));
    if (x->rank == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot split a scalar");
    int64_t sizes[SPLIT_MAX_OUT];
    int unknown = 0;
    MQ_TRY(split_sizes(n, in, x->dims[axis], sizes, &unknown, err));
    if (unknown) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    for (int i = 0; i < n->n_out; i++) {
        if (!out[i]) continue;
        mq_set_like(out[i], x);
        out[i]->dims[axis] = sizes[i];
    }
    return MQ_OK;
}

static mq_status split_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *x = in[0];
    int axis = 0;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), x->rank, &axis, err));
    if (n->n_out > MQR_MAX_PARAMS - 2)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "%d outputs exceed the runtime kernel's limit of %d", n->n_out,
                            MQR_MAX_PARAMS - 2);
    int64_t sizes[SPLIT_MAX_OUT];
    int unknown = 0;
    MQ_TRY(split_sizes(n, in, x->dims[axis], sizes, &unknown, err));
    if (unknown) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "split sizes must be constant for a runtime kernel");
    kc->kernel = "sh_split";
    kc->p[0] = axis;
    kc->p[1] = n->n_out;
    for (int i = 0; i < n->n_out; i++) kc->p[2 + i] = (int32_t)sizes[i]; /* they add up to a dim of x */
    kc->n_p = 2 + n->n_out;
    return MQ_OK;
}

const mq_op_def mq_shape_op_Split = {
    .op_type = "Split", .domain = "", .since = 1, .min_in = 1, .max_in = 2, .min_out = 1, .max_out = -1,
    .static_in = 2u, .infer = split_infer, .forward = mq_forward_lowered, .lower = split_lower};

/* ---- Slice --------------------------------------------------------------------------------------- */

typedef struct slice_plan {
    int64_t start[MQ_MAX_RANK], step[MQ_MAX_RANK], count[MQ_MAX_RANK];
} slice_plan;

/* Read starts/ends/axes/steps (attributes before opset 10, inputs after) and clamp them against x. */
static mq_status slice_plan_make(const mq_node *n, const mq_tensor *const *in, slice_plan *p, int *unknown,
                                 mq_err *err)
{
    const mq_tensor *x = in[0];
    int r = x->rank;
    int64_t starts[MQ_MAX_RANK], ends[MQ_MAX_RANK], axes[MQ_MAX_RANK], steps[MQ_MAX_RANK];
    int ns = 0, ne = 0, na = -1, nst = -1;
    *unknown = 0;
    if (n->opset < 10) {
        const int64_t *v;
        ns = mq_attr_ints(n, "starts", &v);
        if (ns < 0 || ns > MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_INVALID, "bad or missing 'starts'");
        memcpy(starts, v, sizeof(int64_t) * (size_t)ns);
        ne = mq_attr_ints(n, "ends", &v);
        if (ne < 0 || ne > MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_INVALID, "bad or missing 'ends'");
        memcpy(ends, v, sizeof(int64_t) * (size_t)ne);
        na = mq_attr_ints(n, "axes", &v);
        if (na > MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_INVALID, "too many axes");
        if (na > 0) memcpy(axes, v, sizeof(int64_t) * (size_t)na);
    } else {
        const char *names[4] = {"starts", "ends", "axes", "steps"};
        int64_t *dst[4] = {starts, ends, axes, steps};
        int *cnt[4] = {&ns, &ne, &na, &nst};
        for (int i = 1; i <= 4; i++) {
            const mq_tensor *t = sh_in(n, in, i);
            if (!t) {
                if (i <= 2) return mq_node_fail(err, n, MQ_ERR_INVALID, "input '%s' is required", names[i - 1]);
                continue;
            }
            if (t->dtype != MQ_I32 && t->dtype != MQ_I64)
                return mq_node_fail(err, n, MQ_ERR_INVALID, "%s must be int32 or int64", names[i - 1]);
            if (!mq_sh_known(t)) {
                *unknown = 1;
                continue;
            }
            MQ_TRY(mq_sh_read_ints(n, t, names[i - 1], dst[i - 1], MQ_MAX_RANK, cnt[i - 1], err));
        }
        if (*unknown) return MQ_OK;
    }
    if (ns != ne) return mq_node_fail(err, n, MQ_ERR_INVALID, "starts has %d values, ends %d", ns, ne);
    if (na >= 0 && na != ns) return mq_node_fail(err, n, MQ_ERR_INVALID, "axes has %d values, starts %d", na, ns);
    if (nst >= 0 && nst != ns)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "steps has %d values, starts %d", nst, ns);
    for (int d = 0; d < r; d++) {
        p->start[d] = 0;
        p->step[d] = 1;
        p->count[d] = x->dims[d];
    }
    uint32_t seen = 0;
    for (int i = 0; i < ns; i++) {
        int a = 0;
        int64_t av = na >= 0 ? axes[i] : i;
        MQ_TRY(mq_axis(n, av, r, &a, err));
        if (r == 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot slice a scalar");
        if ((seen >> a) & 1u) return mq_node_fail(err, n, MQ_ERR_INVALID, "axis %d repeated", a);
        seen |= 1u << a;
        int64_t dim = x->dims[a], st = nst >= 0 ? steps[i] : 1, s = starts[i], e = ends[i];
        if (st == 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "step for axis %d is 0", a);
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        int64_t c = 0;
        if (st > 0) {
            s = s < 0 ? 0 : (s > dim ? dim : s);
            e = e < 0 ? 0 : (e > dim ? dim : e);
            c = e > s ? (e - s - 1) / st + 1 : 0;
        } else {
            s = s < 0 ? -1 : (s > dim - 1 ? dim - 1 : s);
            e = e < -1 ? -1 : (e > dim - 1 ? dim - 1 : e);
            c = s > e ? (s - e - 1) / (-st) + 1 : 0;
        }
        p->start[a] = c ? s : 0;
        p->step[a] = st;
        p->count[a] = c;
    }
    return MQ_OK;
}

static mq_status slice_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    if (x->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    slice_plan p = {{0}, {0}, {0}};
    int unknown = 0;
    MQ_TRY(slice_plan_make(n, in, &p, &unknown, err));
    if (unknown) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    mq_set_out(out[0], x->dtype, x->rank, p.count);
    return MQ_OK;
}

static mq_status slice_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *x = in[0];
    slice_plan p = {{0}, {0}, {0}};
    int unknown = 0;
    MQ_TRY(slice_plan_make(n, in, &p, &unknown, err));
    if (unknown)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "starts, ends, axes and steps must be constant for a runtime kernel");
    int64_t xs[MQ_MAX_RANK], st[MQ_MAX_RANK], off = 0;
    mq_strides(x->rank, x->dims, xs);
    for (int d = 0; d < x->rank; d++) {
        st[d] = p.count[d] > 1 ? xs[d] * p.step[d] : 0; /* a huge step only matters when it is taken */
        off += xs[d] * p.start[d];
    }
    mq_sh_lower_strided(kc, x->rank, p.count, st, off);
    return MQ_OK;
}

const mq_op_def mq_shape_op_Slice = {
    .op_type = "Slice", .domain = "", .since = 1, .min_in = 1, .max_in = 5, .min_out = 1, .max_out = 1,
    .static_in = 0x1eu, .infer = slice_infer, .forward = mq_forward_lowered, .lower = slice_lower};

/* ---- Expand -------------------------------------------------------------------------------------- */

static mq_status expand_shape(const mq_node *n, const mq_tensor *const *in, int *rank, int64_t *dims, mq_err *err)
{
    const mq_tensor *x = in[0];
    int64_t s[MQ_MAX_RANK];
    int k = 0;
    MQ_TRY(mq_sh_read_ints(n, in[1], "the shape input", s, MQ_MAX_RANK, &k, err));
    int r = k > x->rank ? k : x->rank;
    for (int d = 0; d < r; d++) {
        int xi = d - (r - x->rank), si = d - (r - k);
        int64_t a = xi >= 0 ? x->dims[xi] : 1, b = si >= 0 ? s[si] : 1;
        if (b < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "shape[%d] = %lld is negative", si, (long long)b);
        if (a == b || b == 1)
            dims[d] = a;
        else if (a == 1)
            dims[d] = b;
        else
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "cannot expand dimension of size %lld to %lld", (long long)a,
                                (long long)b);
    }
    *rank = r;
    return mq_sh_check_shape(n, r, dims, err);
}

static mq_status expand_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    MQ_TRY(mq_sh_require(n, in, 1, mq_types_int, err));
    if (in[1]->rank > 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "the shape input must be 1-D");
    if (in[0]->rank < 0 || !mq_sh_known(in[1])) {
        mq_sh_set_unknown(n, out, in[0]->dtype);
        return MQ_OK;
    }
    int r = 0;
    int64_t dims[MQ_MAX_RANK];
    MQ_TRY(expand_shape(n, in, &r, dims, err));
    mq_set_out(out[0], in[0]->dtype, r, dims);
    return MQ_OK;
}

static mq_status expand_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *o = out[0];
    int64_t st[MQ_MAX_RANK];
    mq_broadcast_strides(in[0], o->rank, o->dims, st);
    mq_sh_lower_strided(kc, o->rank, o->dims, st, 0);
    return MQ_OK;
}

const mq_op_def mq_shape_op_Expand = {
    .op_type = "Expand", .domain = "", .since = 8, .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .static_in = 2u, .infer = expand_infer, .forward = mq_forward_lowered, .lower = expand_lower};

/* ---- Tile ---------------------------------------------------------------------------------------- */

static mq_status tile_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    MQ_TRY(mq_sh_require(n, in, 1, mq_types_int, err));
    const mq_tensor *x = in[0];
    if (x->rank < 0 || !mq_sh_known(in[1])) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    int64_t rep[MQ_MAX_RANK], dims[MQ_MAX_RANK];
    int k = 0;
    MQ_TRY(mq_sh_read_ints(n, in[1], "repeats", rep, MQ_MAX_RANK, &k, err));
    if (k != x->rank)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "repeats has %d values for an input of rank %d", k, x->rank);
    for (int d = 0; d < k; d++) {
        if (rep[d] < 0)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "repeats[%d] = %lld is negative", d, (long long)rep[d]);
        if (mq_mul_i64(x->dims[d], rep[d], &dims[d]))
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "tiled dimension %d overflows", d);
    }
    MQ_TRY(mq_sh_check_shape(n, k, dims, err));
    mq_set_out(out[0], x->dtype, k, dims);
    return MQ_OK;
}

static mq_status tile_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *x = in[0], *o = out[0];
    int r = x->rank;
    int64_t xs[MQ_MAX_RANK], dims[MQ_VIEW_MAX_RANK], st[MQ_VIEW_MAX_RANK];
    mq_strides(r, x->dims, xs);
    for (int d = 0; d < r; d++) { /* out dim d viewed as (repeat, in dim) */
        dims[2 * d] = x->dims[d] ? o->dims[d] / x->dims[d] : 0;
        st[2 * d] = 0;
        dims[2 * d + 1] = x->dims[d];
        st[2 * d + 1] = xs[d];
    }
    mq_sh_lower_strided(kc, 2 * r, dims, st, 0);
    return MQ_OK;
}

const mq_op_def mq_shape_op_Tile = {
    .op_type = "Tile", .domain = "", .since = 6, .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .static_in = 2u, .infer = tile_infer, .forward = mq_forward_lowered, .lower = tile_lower};

/* ---- Pad ----------------------------------------------------------------------------------------- */

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

/* pads[0..r) begins, pads[r..2r) ends; from attributes (opset < 11) or inputs (>= 11, axes from 18). */
static mq_status pad_read(const mq_node *n, const mq_tensor *const *in, int64_t *pads, pad_mode *mode,
                          int *unknown, mq_err *err)
{
    int r = in[0]->rank;
    *unknown = 0;
    const char *m = mq_attr_str(n, "mode", "constant");
    if (!strcmp(m, "constant"))
        *mode = PAD_CONSTANT;
    else if (!strcmp(m, "reflect"))
        *mode = PAD_REFLECT;
    else if (!strcmp(m, "edge"))
        *mode = PAD_EDGE;
    else if (!strcmp(m, "wrap"))
        *mode = PAD_WRAP;
    else
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "mode '%s' is not supported", m);
    int64_t v[2 * MQ_MAX_RANK];
    int k = 0;
    if (n->opset < 11) {
        const int64_t *a;
        k = mq_attr_ints(n, n->opset < 2 ? "paddings" : "pads", &a);
        if (k < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'pads' is required");
        if (k != 2 * r) return mq_node_fail(err, n, MQ_ERR_INVALID, "pads has %d values for rank %d", k, r);
        if (k) memcpy(pads, a, sizeof(int64_t) * (size_t)k);
        return MQ_OK;
    }
    const mq_tensor *p = sh_in(n, in, 1), *ax = sh_in(n, in, 3);
    if (!p) return mq_node_fail(err, n, MQ_ERR_INVALID, "input 1 (pads) is required");
    if (p->dtype != MQ_I64) return mq_node_fail(err, n, MQ_ERR_INVALID, "pads must be int64");
    if (!mq_sh_known(p) || (ax && !mq_sh_known(ax))) {
        *unknown = 1;
        return MQ_OK;
    }
    MQ_TRY(mq_sh_read_ints(n, p, "pads", v, 2 * MQ_MAX_RANK, &k, err));
    if (!ax) {
        if (k != 2 * r) return mq_node_fail(err, n, MQ_ERR_INVALID, "pads has %d values for rank %d", k, r);
        if (k) memcpy(pads, v, sizeof(int64_t) * (size_t)k);
        return MQ_OK;
    }
    int64_t axes[MQ_MAX_RANK];
    int na = 0;
    MQ_TRY(mq_sh_read_ints(n, ax, "axes", axes, MQ_MAX_RANK, &na, err));
    if (k != 2 * na) return mq_node_fail(err, n, MQ_ERR_INVALID, "pads has %d values for %d axes", k, na);
    for (int d = 0; d < 2 * r; d++) pads[d] = 0;
    for (int i = 0; i < na; i++) {
        int a = 0;
        MQ_TRY(mq_axis(n, axes[i], r, &a, err));
        pads[a] = v[i];
        pads[r + a] = v[na + i];
    }
    return MQ_OK;
}

static mq_status pad_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    const mq_tensor *cv = sh_in(n, in, 2);
    if (n->opset >= 11 && cv) {
        if (cv->dtype != x->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "constant_value dtype %s differs from data dtype %s",
                                mq_dtype_name(cv->dtype), mq_dtype_name(x->dtype));
        if (cv->rank > 1 || (cv->rank == 1 && cv->dims[0] > 1))
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "constant_value must be a scalar");
    }
    if (x->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    int64_t pads[2 * MQ_MAX_RANK], dims[MQ_MAX_RANK];
    pad_mode mode = PAD_CONSTANT;
    int unknown = 0;
    MQ_TRY(pad_read(n, in, pads, &mode, &unknown, err));
    if (unknown) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    int r = x->rank;
    for (int d = 0; d < r; d++) {
        int64_t v = 0;
        if (__builtin_add_overflow(x->dims[d], pads[d], &v) || __builtin_add_overflow(v, pads[r + d], &v))
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "padded dimension %d overflows", d);
        if (v < 0)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "pads make dimension %d negative (%lld)", d, (long long)v);
        dims[d] = v;
        if (mode != PAD_CONSTANT && x->dims[d] == 0 && v > 0)
            return mq_node_fail(err, n, MQ_ERR_INVALID, "cannot pad an empty dimension %d in this mode", d);
    }
    MQ_TRY(mq_sh_check_shape(n, r, dims, err));
    mq_set_out(out[0], x->dtype, r, dims);
    return MQ_OK;
}

static mq_status pad_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *x = in[0];
    int64_t pads[2 * MQ_MAX_RANK];
    pad_mode mode = PAD_CONSTANT;
    int unknown = 0, r = x->rank;
    MQ_TRY(pad_read(n, in, pads, &mode, &unknown, err));
    if (unknown) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "pads must be constant for a runtime kernel");
    static const int32_t kmode[] = {MQK_PAD_CONSTANT, MQK_PAD_REFLECT, MQK_PAD_EDGE, MQK_PAD_WRAP};
    kc->kernel = "sh_pad";
    kc->p[0] = kmode[mode];
    kc->p[1] = r;
    for (int d = 0; d < r; d++) {
        if (pads[d] < -INT32_MAX || pads[d] > INT32_MAX)
            return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "pad %lld exceeds the runtime kernel's int32 range",
                                (long long)pads[d]);
        kc->p[2 + d] = (int32_t)pads[d];
    }
    unsigned char val[8] = {0};
    const mq_tensor *cv = sh_in(n, in, 2);
    int from_input = 0;
    if (n->opset < 11)
        mq_store_f64(val, x->dtype, 0, (double)mq_attr_float(n, "value", 0.0f));
    else if (cv && mq_numel(cv) == 1)
        from_input = 1; /* read when the kernel runs: it may be computed */
    mq_sh_elem_bits(val, mq_dtype_size(x->dtype), &kc->p[2 + r], &kc->p[3 + r]);
    kc->p[4 + r] = from_input;
    kc->n_p = 5 + r;
    return MQ_OK;
}

const mq_op_def mq_shape_op_Pad = {
    .op_type = "Pad", .domain = "", .since = 1, .min_in = 1, .max_in = 4, .min_out = 1, .max_out = 1,
    .static_in = 0xau, .infer = pad_infer, .forward = mq_forward_lowered, .lower = pad_lower};

/* ---- DepthToSpace, SpaceToDepth ------------------------------------------------------------------ */

static mq_status d2s_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *x = in[0];
    int to_space = !strcmp(n->op_type, "DepthToSpace");
    int64_t b = mq_attr_int(n, "blocksize", 0);
    if (b <= 0 || b > 1 << 20) return mq_node_fail(err, n, MQ_ERR_INVALID, "blocksize must be positive");
    if (to_space) {
        const char *m = mq_attr_str(n, "mode", "DCR");
        if (strcmp(m, "DCR") && strcmp(m, "CRD"))
            return mq_node_fail(err, n, MQ_ERR_INVALID, "mode '%s' must be DCR or CRD", m);
    }
    if (x->rank < 0) {
        mq_sh_set_unknown(n, out, x->dtype);
        return MQ_OK;
    }
    if (x->rank != 4) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must be 4-D (rank %d)", x->rank);
    int64_t dims[4] = {x->dims[0], 0, 0, 0};
    if (to_space) {
        if (x->dims[1] % (b * b))
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "channels %lld not divisible by blocksize^2",
                                (long long)x->dims[1]);
        dims[1] = x->dims[1] / (b * b);
        if (mq_mul_i64(x->dims[2], b, &dims[2]) || mq_mul_i64(x->dims[3], b, &dims[3]))
            return mq_node_fail(err, n, MQ_ERR_LIMIT, "output too large");
    } else {
        if (x->dims[2] % b || x->dims[3] % b)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "height and width must be divisible by blocksize");
        if (mq_mul_i64(x->dims[1], b * b, &dims[1])) return mq_node_fail(err, n, MQ_ERR_LIMIT, "output too large");
        dims[2] = x->dims[2] / b;
        dims[3] = x->dims[3] / b;
    }
    mq_set_out(out[0], x->dtype, 4, dims);
    return MQ_OK;
}

static mq_status d2s_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *x = in[0];
    int64_t b = mq_attr_int(n, "blocksize", 0), N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    if (!strcmp(n->op_type, "DepthToSpace")) {
        int64_t c = C / (b * b); /* output viewed as [N, c, H, b, W, b] */
        int crd = !strcmp(mq_attr_str(n, "mode", "DCR"), "CRD");
        int64_t sc = crd ? b * b * H * W : H * W, sb1 = crd ? b * H * W : b * c * H * W, sb2 = crd ? H * W : c * H * W;
        int64_t d[6] = {N, c, H, b, W, b}, s[6] = {C * H * W, sc, W, sb1, 1, sb2};
        mq_sh_lower_strided(kc, 6, d, s, 0);
    } else { /* output viewed as [N, b1, b2, C, H/b, W/b] of input [N, C, H/b, b1, W/b, b2] */
        int64_t d[6] = {N, b, b, C, H / b, W / b}, s[6] = {C * H * W, W, 1, H * W, b * W, b};
        mq_sh_lower_strided(kc, 6, d, s, 0);
    }
    return MQ_OK;
}

const mq_op_def mq_shape_op_DepthToSpace = {
    .op_type = "DepthToSpace", .domain = "", .since = 1, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = d2s_infer, .forward = mq_forward_lowered, .lower = d2s_lower};
const mq_op_def mq_shape_op_SpaceToDepth = {
    .op_type = "SpaceToDepth", .domain = "", .since = 1, .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .infer = d2s_infer, .forward = mq_forward_lowered, .lower = d2s_lower};

/* ---- Trilu --------------------------------------------------------------------------------------- */

static mq_status trilu_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    const mq_tensor *k = sh_in(n, in, 1);
    if (k && (k->dtype != MQ_I64 || (k->rank >= 0 && mq_numel(k) != 1)))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "k must be an int64 scalar");
    if (in[0]->rank >= 0 && in[0]->rank < 2)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 2 (rank %d)", in[0]->rank);
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

static mq_status trilu_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    kc->kernel = "sh_trilu"; /* k, when given, is read when the kernel runs */
    kc->p[0] = mq_attr_int(n, "upper", 1) != 0;
    kc->p[1] = 0;
    kc->n_p = 2;
    return MQ_OK;
}

const mq_op_def mq_shape_op_Trilu = {
    .op_type = "Trilu", .domain = "", .since = 14, .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = trilu_infer, .forward = mq_forward_lowered, .lower = trilu_lower};

/* ---- ReverseSequence ----------------------------------------------------------------------------- */

static mq_status revseq_axes(const mq_node *n, int *batch, int *time, mq_err *err)
{
    int64_t b = mq_attr_int(n, "batch_axis", 1), t = mq_attr_int(n, "time_axis", 0);
    if (!((b == 0 && t == 1) || (b == 1 && t == 0)))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "batch_axis and time_axis must be 0 and 1 (or 1 and 0)");
    *batch = (int)b;
    *time = (int)t;
    return MQ_OK;
}

static mq_status revseq_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_sh_require(n, in, 0, NULL, err));
    MQ_TRY(mq_sh_require(n, in, 1, mq_types_index, err));
    int b = 0, t = 0;
    MQ_TRY(revseq_axes(n, &b, &t, err));
    const mq_tensor *x = in[0], *l = in[1];
    if (x->rank >= 0 && x->rank < 2)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 2 (rank %d)", x->rank);
    if (x->rank >= 0 && l->rank >= 0 && (l->rank != 1 || l->dims[0] != x->dims[b]))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "sequence_lens must be 1-D with one value per batch entry");
    mq_set_like(out[0], x);
    return MQ_OK;
}

static mq_status revseq_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    MQ_TRY(mq_sh_lower_check(n, in, out, err));
    const mq_tensor *x = in[0], *l = in[1];
    int b = 0, t = 0;
    MQ_TRY(revseq_axes(n, &b, &t, err));
    if (l->data) { /* known (a constant, or a run on the host): check it; the kernel clamps */
        int64_t B = x->dims[b], T = x->dims[t];
        for (int64_t i = 0; i < B; i++) {
            int64_t len = mq_load_i64(l->data, l->dtype, (size_t)i);
            if (len < 0 || len > T)
                return mq_node_fail(err, n, MQ_ERR_INVALID, "sequence_lens[%lld] = %lld is out of range [0, %lld]",
                                    (long long)i, (long long)len, (long long)T);
        }
    }
    kc->kernel = "sh_revseq";
    kc->p[0] = b;
    kc->p[1] = t;
    kc->n_p = 2;
    return MQ_OK;
}

const mq_op_def mq_shape_op_ReverseSequence = {
    .op_type = "ReverseSequence", .domain = "", .since = 10, .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,
    .infer = revseq_infer, .forward = mq_forward_lowered, .lower = revseq_lower};
