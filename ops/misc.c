/* misc.c: op family 'misc': quantization (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear; kernels in
 * runtime/kernels/misc_quant.c), the random generators, and the family table (others in misc_*.c). */
#include "ops/util.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

/* ---- QuantizeLinear / DequantizeLinear ----------------------------------------------------------- */

/* Scale / zero-point layout: per tensor (one value) or per axis (1-D of the axis length). Sets *axis
 * (-1 for per tensor). */
static mq_status q_layout(const mq_node *n, const mq_tensor *x, const mq_tensor *scale, const mq_tensor *zp,
                          int *axis, mq_err *err)
{
    *axis = -1;
    int64_t ns = mq_numel(scale);
    if (scale->rank < 0 || x->rank < 0) return MQ_OK;
    if (zp && zp->rank >= 0 && mq_numel(zp) != ns)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "scale and zero point differ in size");
    if (scale->rank == 0 || (scale->rank == 1 && ns == 1 && n->opset < 13)) return MQ_OK;
    if (scale->rank == 1 && ns == 1 && x->rank == 0) return MQ_OK;
    if (n->opset < 13 && ns != 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "scale must be a scalar before opset 13");
    if (scale->rank != 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "scale must be a scalar or 1-D");
    int a;
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 1), x->rank, &a, err));
    if (x->rank == 0 || x->dims[a] != ns) {
        if (ns == 1) return MQ_OK;
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "scale has %lld values for axis of size %lld", (long long)ns,
                            x->rank ? (long long)x->dims[a] : 1LL);
    }
    *axis = a;
    return MQ_OK;
}

static const mq_dtype q_types[] = {MQ_U8, MQ_I8, MQ_UNDEFINED};

static mq_status quant_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    static const mq_dtype xt[] = {MQ_F32, MQ_I32, MQ_UNDEFINED};
    MQ_TRY(mq_require_dtype(n, in[0], xt, err));
    MQ_TRY(mq_require_dtype(n, in[1], mq_types_float, err));
    const mq_tensor *zp = n->n_in > 2 ? in[2] : NULL;
    mq_dtype yt = MQ_U8;
    if (zp) {
        MQ_TRY(mq_require_dtype(n, zp, q_types, err));
        yt = zp->dtype;
    }
    int axis;
    MQ_TRY(q_layout(n, in[0], in[1], zp, &axis, err));
    mq_set_out(out[0], yt, in[0]->rank, in[0]->dims);
    return MQ_OK;
}

/* Lowering of both: kernels quantize_linear / dequantize_linear (runtime/kernels/misc_quant.h). */
static mq_status q_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                         mq_err *err)
{
    (void)out;
    const mq_tensor *zp = n->n_in > 2 ? in[2] : NULL;
    int axis;
    MQ_TRY(q_layout(n, in[0], in[1], zp, &axis, err));
    if (in[1]->dtype != MQ_F32)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "scale of dtype %s has no runtime kernel (float32 only)",
                            mq_dtype_name(in[1]->dtype));
    kc->kernel = strcmp(n->op_type, "QuantizeLinear") == 0 ? "quantize_linear" : "dequantize_linear";
    kc->p[0] = axis;
    kc->n_p = 1;
    return MQ_OK;
}

static mq_status dequant_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    static const mq_dtype xt[] = {MQ_U8, MQ_I8, MQ_I32, MQ_UNDEFINED};
    MQ_TRY(mq_require_dtype(n, in[0], xt, err));
    MQ_TRY(mq_require_dtype(n, in[1], mq_types_float, err));
    const mq_tensor *zp = n->n_in > 2 ? in[2] : NULL;
    if (zp && zp->dtype != in[0]->dtype)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "zero point dtype %s differs from input dtype %s",
                            mq_dtype_name(zp->dtype), mq_dtype_name(in[0]->dtype));
    int axis;
    MQ_TRY(q_layout(n, in[0], in[1], zp, &axis, err));
    mq_set_out(out[0], MQ_F32, in[0]->rank, in[0]->dims);
    return MQ_OK;
}

static const mq_op_def def_quant = {.op_type = "QuantizeLinear", .domain = "", .since = 10, .until = 0,
                                    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
                                    .infer = quant_infer, .forward = mq_forward_lowered, .lower = q_lower};
static const mq_op_def def_dequant = {.op_type = "DequantizeLinear", .domain = "", .since = 10, .until = 0,
                                      .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
                                      .infer = dequant_infer, .forward = mq_forward_lowered,
                                      .lower = q_lower};

/* ---- DynamicQuantizeLinear ----------------------------------------------------------------------- */

static mq_status dynq_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    static const mq_dtype xt[] = {MQ_F32, MQ_UNDEFINED};
    MQ_TRY(mq_require_dtype(n, in[0], xt, err));
    mq_set_out(out[0], MQ_U8, in[0]->rank, in[0]->dims);
    if (n->n_out > 1 && out[1]) mq_set_out(out[1], MQ_F32, 0, NULL);
    if (n->n_out > 2 && out[2]) mq_set_out(out[2], MQ_U8, 0, NULL);
    return MQ_OK;
}

/* Lowering: kernel dynamic_quantize_u8 (runtime/kernels/misc_quant.h). */
static mq_status dynq_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    (void)n;
    (void)in;
    (void)out;
    (void)err;
    kc->kernel = "dynamic_quantize_u8";
    kc->n_p = 0;
    return MQ_OK;
}

static const mq_op_def def_dynq = {.op_type = "DynamicQuantizeLinear", .domain = "", .since = 11, .until = 0,
                                   .min_in = 1, .max_in = 1, .min_out = 3, .max_out = 3, .infer = dynq_infer,
                                   .forward = mq_forward_lowered, .lower = dynq_lower};

/* ---- random generators --------------------------------------------------------------------------- */

/* No lower: these are nondeterministic (never folded, not reproducible against a reference), are not part
 * of inference graphs for the targets, and the runtime has no random source to share with the host. */

/* splitmix64: small, good enough for test data and dropout-like uses; not cryptographic. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

static double rng_normal(rng *r)
{
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static rng rng_for(const mq_node *n)
{
    static _Atomic uint64_t calls = 0;
    rng r;
    const mq_attr *a = mq_attr_get(n, "seed");
    if (a) {
        double s = a->f;
        r.s = (uint64_t)(int64_t)s * 0x2545F4914F6CDD1Dull + 1;
    } else {
        r.s = 0x853C49E6748FEA9Bull + atomic_fetch_add(&calls, 1) * 0xDA942042E4DD58B5ull;
    }
    return r;
}

static const mq_dtype rnd_types[] = {MQ_F32, MQ_F64, MQ_UNDEFINED};

static mq_status rnd_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    int like = strstr(n->op_type, "Like") != NULL;
    mq_dtype dt = MQ_F32;
    if (like) {
        MQ_TRY(mq_require_input(n, in, 0, err));
        dt = in[0]->dtype;
    }
    dt = (mq_dtype)mq_attr_int(n, "dtype", dt);
    mq_tensor tmp = {.dtype = dt};
    MQ_TRY(mq_require_dtype(n, &tmp, rnd_types, err));
    if (like) {
        mq_set_out(out[0], dt, in[0]->rank, in[0]->dims);
        return MQ_OK;
    }
    const int64_t *shape;
    int r = mq_attr_ints(n, "shape", &shape);
    if (r < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "missing attribute 'shape'");
    if (r > MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_LIMIT, "rank %d too large", r);
    for (int d = 0; d < r; d++)
        if (shape[d] < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "negative dimension in 'shape'");
    mq_set_out(out[0], dt, r, shape);
    return MQ_OK;
}

static mq_status rnd_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)in;
    (void)err;
    mq_tensor *y = out[0];
    rng r = rng_for(n);
    int normal = strncmp(n->op_type, "RandomNormal", 12) == 0;
    double a = normal ? mq_attr_float(n, "mean", 0) : mq_attr_float(n, "low", 0);
    double b = normal ? mq_attr_float(n, "scale", 1) : mq_attr_float(n, "high", 1);
    int64_t ny = mq_numel(y);
    for (int64_t i = 0; i < ny; i++) {
        double v = normal ? a + b * rng_normal(&r) : a + (b - a) * rng_uniform(&r);
        mq_store_f64(y->data, y->dtype, (size_t)i, v);
    }
    return MQ_OK;
}

#define RND_DEF(sym, name, nin)                                                                    \
    static const mq_op_def sym = {.op_type = name, .domain = "", .since = 1, .until = 0, .min_in = nin, \
                                  .max_in = nin, .min_out = 1, .max_out = 1, .nondeterministic = 1,  \
                                  .infer = rnd_infer, .forward = rnd_forward};
RND_DEF(def_rnormal, "RandomNormal", 0)
RND_DEF(def_runiform, "RandomUniform", 0)
RND_DEF(def_rnormal_like, "RandomNormalLike", 1)
RND_DEF(def_runiform_like, "RandomUniformLike", 1)

static mq_status bern_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    mq_dtype dt = (mq_dtype)mq_attr_int(n, "dtype", in[0]->dtype);
    mq_tensor tmp = {.dtype = dt};
    MQ_TRY(mq_require_dtype(n, &tmp, mq_types_all, err));
    mq_set_out(out[0], dt, in[0]->rank, in[0]->dims);
    return MQ_OK;
}

static mq_status bern_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)err;
    rng r = rng_for(n);
    int64_t nx = mq_numel(in[0]);
    for (int64_t i = 0; i < nx; i++) {
        double p = mq_load_f64(in[0]->data, in[0]->dtype, (size_t)i);
        mq_store_i64(out[0]->data, out[0]->dtype, (size_t)i, rng_uniform(&r) < p ? 1 : 0);
    }
    return MQ_OK;
}

static const mq_op_def def_bernoulli = {.op_type = "Bernoulli", .domain = "", .since = 15, .until = 0,
                                        .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
                                        .nondeterministic = 1, .infer = bern_infer, .forward = bern_forward};

static mq_status multi_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    mq_dtype dt = (mq_dtype)mq_attr_int(n, "dtype", MQ_I32);
    if (dt != MQ_I32 && dt != MQ_I64) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "dtype must be int32 or int64");
    int64_t ss = mq_attr_int(n, "sample_size", 1);
    if (ss < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "sample_size must be >= 0");
    if (in[0]->rank < 0) {
        mq_set_out(out[0], dt, -1, NULL);
        return MQ_OK;
    }
    if (in[0]->rank != 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must be [batch, classes]");
    int64_t dims[2] = {in[0]->dims[0], ss};
    mq_set_out(out[0], dt, 2, dims);
    return MQ_OK;
}

static mq_status multi_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    rng r = rng_for(n);
    const mq_tensor *x = in[0];
    int64_t b = x->dims[0], c = x->dims[1], ss = out[0]->dims[1];
    double *p = mq_malloc(sizeof(double) * (size_t)(c > 0 ? c : 1));
    if (!p) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < b; i++) {
        double m = -INFINITY, tot = 0;
        for (int64_t j = 0; j < c; j++) {
            p[j] = mq_load_f64(x->data, x->dtype, (size_t)(i * c + j));
            if (p[j] > m) m = p[j];
        }
        for (int64_t j = 0; j < c; j++) {
            p[j] = isfinite(m) ? exp(p[j] - m) : 1;
            tot += p[j];
        }
        for (int64_t s = 0; s < ss; s++) {
            double u = rng_uniform(&r) * tot, acc = 0;
            int64_t pick = c > 0 ? c - 1 : 0;
            for (int64_t j = 0; j < c; j++) {
                acc += p[j];
                if (u < acc) {
                    pick = j;
                    break;
                }
            }
            mq_store_i64(out[0]->data, out[0]->dtype, (size_t)(i * ss + s), pick);
        }
    }
    mq_free(p);
    return MQ_OK;
}

static const mq_op_def def_multinomial = {.op_type = "Multinomial", .domain = "", .since = 7, .until = 0,
                                          .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
                                          .nondeterministic = 1, .infer = multi_infer, .forward = multi_forward};

/* Defined in misc_resize.c, misc_qlinear.c and misc_nms.c. */
extern const mq_op_def mq_def_resize, mq_def_upsample, mq_def_gridsample, mq_def_qlinear_matmul,
    mq_def_qlinear_conv, mq_def_nms;

const mq_op_def *const mq_ops_misc[] = {
    &def_quant,       &def_dequant,      &def_dynq,         &def_rnormal,          &def_runiform,
    &def_rnormal_like, &def_runiform_like, &def_bernoulli,  &def_multinomial,      &mq_def_resize,
    &mq_def_upsample, &mq_def_gridsample, &mq_def_qlinear_matmul, &mq_def_qlinear_conv, &mq_def_nms,
    NULL};
