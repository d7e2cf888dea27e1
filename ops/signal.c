/* signal.c: op family 'signal' (opset 17): DFT, STFT, the Hann/Hamming/Blackman windows and
 * MelWeightMatrix: shapes, checks and lowering to runtime/kernels/misc_signal.c. */
#include "ops/util.h"
#include "runtime/kernels/misc_signal.h"

#include <math.h>
#include <string.h>

/* ---- scalar inputs ---------------------------------------------------------------------------------- */

/* The value of a one-element integer input (rank 0 or [1]); fails if unknown. */
static mq_status sig_int_scalar(const mq_node *n, const mq_tensor *t, int64_t *v, mq_err *err)
{
    int64_t vals[1];
    int k = 0;
    MQ_TRY(mq_read_ints(n, t, vals, 1, &k, err));
    if (k != 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "input '%s' must hold one value", t->name ? t->name : "");
    *v = vals[0];
    return MQ_OK;
}

static mq_status sig_float_scalar(const mq_node *n, const mq_tensor *t, double *v, mq_err *err)
{
    if (!t->data) return mq_node_fail(err, n, MQ_ERR_INVALID, "input '%s' must be known", t->name ? t->name : "");
    if (mq_numel(t) != 1)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "input '%s' must hold one value", t->name ? t->name : "");
    *v = mq_load_f64(t->data, t->dtype, 0);
    return MQ_OK;
}

/* Rank 0 or a single element: scalar-like shape check at inference. */
static mq_status sig_require_scalar(const mq_node *n, const mq_tensor *t, mq_err *err)
{
    if (t->rank > 1 || (t->rank == 1 && t->dims[0] != 1))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "input '%s' must be a scalar", t->name ? t->name : "");
    return MQ_OK;
}

/* output_datatype attribute: a numeric type the executor can hold. */
static mq_status sig_out_dtype(const mq_node *n, mq_dtype *dt, mq_err *err)
{
    int64_t v = mq_attr_int(n, "output_datatype", MQ_F32);
    for (const mq_dtype *a = mq_types_numeric; *a != MQ_UNDEFINED; a++)
        if ((int64_t)*a == v) {
            *dt = *a;
            return MQ_OK;
        }
    return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "output_datatype %lld is not supported", (long long)v);
}

/* ---- DFT -------------------------------------------------------------------------------------------- */

typedef struct dft_cfg {
    int axis, complex_in, onesided, inverse;
    int64_t len;       /* transform length (dft_length, or the axis size) */
    int64_t out_len;   /* len, or len / 2 + 1 when onesided */
    int len_known;
} dft_cfg;

static mq_status dft_config(const mq_node *n, const mq_tensor *const *in, dft_cfg *c, mq_err *err)
{
    const mq_tensor *x = in[0], *dl = n->n_in > 1 ? in[1] : NULL;
    int r = x->rank;
    if (r < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 2 ([batch, ..., 1 or 2]), not %d", r);
    if (x->dims[r - 1] != 1 && x->dims[r - 1] != 2)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "last dimension must be 1 (real) or 2 (complex), not %lld",
                            (long long)x->dims[r - 1]);
    c->complex_in = x->dims[r - 1] == 2;
    int64_t axis = mq_attr_int(n, "axis", 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r - 2)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "axis %lld out of range for rank %d",
                            (long long)mq_attr_int(n, "axis", 1), r);
    c->axis = (int)axis;
    c->onesided = mq_attr_int(n, "onesided", 0) != 0;
    c->inverse = mq_attr_int(n, "inverse", 0) != 0;
    if (c->onesided && c->complex_in)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "onesided output needs a real input");
    c->len_known = 1;
    c->len = x->dims[c->axis];
    if (dl) {
        MQ_TRY(mq_require_dtype(n, dl, mq_types_index, err));
        MQ_TRY(sig_require_scalar(n, dl, err));
        if (!dl->data) {
            c->len_known = 0;
            return MQ_OK;
        }
        MQ_TRY(sig_int_scalar(n, dl, &c->len, err));
    }
    if (c->len < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "DFT length %lld must be positive", (long long)c->len);
    c->out_len = c->onesided ? c->len / 2 + 1 : c->len;
    return MQ_OK;
}

static mq_status dft_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    const mq_tensor *x = in[0];
    MQ_TRY(mq_require_dtype(n, x, mq_types_float, err));
    if (x->rank < 0) {
        mq_set_out(out[0], x->dtype, -1, NULL);
        return MQ_OK;
    }
    dft_cfg c = {0};
    MQ_TRY(dft_config(n, in, &c, err));
    if (!c.len_known) {
        mq_set_out(out[0], x->dtype, -1, NULL);
        return MQ_OK;
    }
    int64_t dims[MQ_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[c.axis] = c.out_len;
    dims[x->rank - 1] = 2;
    mq_set_out(out[0], x->dtype, x->rank, dims);
    return MQ_OK;
}

/* Lowering: kernel dft (runtime/kernels/misc_signal.h); dft_length must be a constant. */
static mq_status dft_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    (void)out;
    dft_cfg c = {0};
    MQ_TRY(dft_config(n, in, &c, err));
    if (!c.len_known) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "dft_length is not a constant");
    size_t nb;
    if (c.len > INT32_MAX || mq_mul_size((size_t)c.len, 6 * sizeof(double), &nb))
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "transform length %lld too large", (long long)c.len);
    kc->kernel = "dft";
    kc->p[0] = c.axis;
    kc->p[1] = c.complex_in;
    kc->p[2] = c.inverse;
    kc->p[3] = (int32_t)c.len;
    kc->p[4] = (int32_t)c.out_len;
    kc->n_p = 5;
    kc->scratch_bytes = nb;
    return MQ_OK;
}

/* ---- STFT ------------------------------------------------------------------------------------------- */

typedef struct stft_cfg {
    int complex_in, onesided, known;
    int64_t step, n_fft, frames, bins;
} stft_cfg;

static mq_status stft_config(const mq_node *n, const mq_tensor *const *in, stft_cfg *c, mq_err *err)
{
    const mq_tensor *x = in[0], *st = in[1], *w = n->n_in > 2 ? in[2] : NULL, *fl = n->n_in > 3 ? in[3] : NULL;
    c->known = 0;
    if (x->rank >= 0) {
        if (x->rank != 3)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "signal must be [batch, length, 1 or 2], not rank %d", x->rank);
        if (x->dims[2] != 1 && x->dims[2] != 2)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "signal's last dimension must be 1 or 2, not %lld",
                                (long long)x->dims[2]);
    }
    MQ_TRY(mq_require_dtype(n, st, mq_types_index, err));
    MQ_TRY(sig_require_scalar(n, st, err));
    if (w) {
        if (w->dtype != x->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "window dtype %s differs from signal dtype %s",
                                mq_dtype_name(w->dtype), mq_dtype_name(x->dtype));
        if (w->rank >= 0 && w->rank != 1)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "window must be 1-D, not rank %d", w->rank);
    }
    if (fl) {
        MQ_TRY(mq_require_dtype(n, fl, mq_types_index, err));
        MQ_TRY(sig_require_scalar(n, fl, err));
    }
    if (!w && !fl) return mq_node_fail(err, n, MQ_ERR_INVALID, "either window or frame_length is required");
    c->onesided = mq_attr_int(n, "onesided", 1) != 0;
    if (x->rank < 0 || !st->data || (fl && !fl->data) || (!fl && w->rank < 0)) return MQ_OK; /* run-time shape */
    c->complex_in = x->dims[2] == 2;
    if (c->onesided && c->complex_in)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "onesided output needs a real signal");
    MQ_TRY(sig_int_scalar(n, st, &c->step, err));
    if (c->step < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "frame_step %lld must be positive", (long long)c->step);
    if (fl) {
        MQ_TRY(sig_int_scalar(n, fl, &c->n_fft, err));
        if (w && w->rank == 1 && w->dims[0] != c->n_fft)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "window length %lld differs from frame_length %lld",
                                (long long)w->dims[0], (long long)c->n_fft);
    } else {
        c->n_fft = w->dims[0];
    }
    if (c->n_fft < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "frame length %lld must be positive", (long long)c->n_fft);
    if (c->n_fft > x->dims[1])
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "frame length %lld exceeds the signal length %lld",
                            (long long)c->n_fft, (long long)x->dims[1]);
    c->frames = (x->dims[1] - c->n_fft) / c->step + 1;
    c->bins = c->onesided ? c->n_fft / 2 + 1 : c->n_fft;
    c->known = 1;
    return MQ_OK;
}

static mq_status stft_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    stft_cfg c;
    MQ_TRY(stft_config(n, in, &c, err));
    if (!c.known) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    int64_t dims[4] = {in[0]->dims[0], c.frames, c.bins, 2};
    mq_set_out(out[0], in[0]->dtype, 4, dims);
    return MQ_OK;
}

/* Lowering: kernel stft (runtime/kernels/misc_signal.h); frame_step and the frame length must be known. */
static mq_status stft_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    (void)out;
    stft_cfg c;
    MQ_TRY(stft_config(n, in, &c, err));
    if (!c.known) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "frame_step / frame_length are not constants");
    size_t nb;
    if (c.step > INT32_MAX || mq_mul_size((size_t)c.n_fft, 6 * sizeof(double), &nb))
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "frame too large");
    kc->kernel = "stft";
    kc->p[0] = (int32_t)c.step;
    kc->p[1] = (int32_t)c.n_fft;
    kc->n_p = 2;
    kc->scratch_bytes = nb;
    return MQ_OK;
}

/* ---- windows ---------------------------------------------------------------------------------------- */

static mq_status win_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_index, err));
    MQ_TRY(sig_require_scalar(n, in[0], err));
    mq_dtype dt = MQ_F32;
    MQ_TRY(sig_out_dtype(n, &dt, err));
    if (!in[0]->data) {
        mq_set_out(out[0], dt, -1, NULL);
        return MQ_OK;
    }
    int64_t size;
    MQ_TRY(sig_int_scalar(n, in[0], &size, err));
    if (size < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "window size %lld is negative", (long long)size);
    mq_set_out(out[0], dt, 1, &size);
    return MQ_OK;
}

/* Lowering: kernel window (runtime/kernels/misc_signal.h). */
static mq_status win_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    (void)in;
    (void)out;
    (void)err;
    kc->kernel = "window";
    kc->p[0] = strcmp(n->op_type, "HammingWindow") == 0    ? MQK_WIN_HAMMING
               : strcmp(n->op_type, "BlackmanWindow") == 0 ? MQK_WIN_BLACKMAN
                                                           : MQK_WIN_HANN;
    kc->p[1] = mq_attr_int(n, "periodic", 1) != 0;
    kc->n_p = 2;
    return MQ_OK;
}

/* ---- MelWeightMatrix -------------------------------------------------------------------------------- */

static mq_status mel_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 5; i++) {
        MQ_TRY(mq_require_input(n, in, i, err));
        MQ_TRY(mq_require_dtype(n, in[i], i < 3 ? mq_types_index : mq_types_float, err));
        MQ_TRY(sig_require_scalar(n, in[i], err));
    }
    mq_dtype dt = MQ_F32;
    MQ_TRY(sig_out_dtype(n, &dt, err));
    if (!in[0]->data || !in[1]->data) {
        mq_set_out(out[0], dt, -1, NULL);
        return MQ_OK;
    }
    int64_t bins = 0, len = 0;
    MQ_TRY(sig_int_scalar(n, in[0], &bins, err));
    MQ_TRY(sig_int_scalar(n, in[1], &len, err));
    if (bins < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "num_mel_bins %lld must be positive", (long long)bins);
    if (len < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "dft_length %lld must be positive", (long long)len);
    int64_t dims[2] = {len / 2 + 1, bins};
    mq_set_out(out[0], dt, 2, dims);
    return MQ_OK;
}

static double mel_of_hz(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double hz_of_mel(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

static void split_f64(double v, int32_t *p)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    p[0] = (int32_t)(uint32_t)(b & 0xffffffffu);
    p[1] = (int32_t)(uint32_t)(b >> 32);
}

/* Lowering: kernel mel_weight_matrix (runtime/kernels/misc_signal.h, which describes the filters). The
 * band edges are checked here to be finite bins of moderate size. */
static mq_status mel_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    (void)out;
    int64_t nmel = 0, len = 0, rate = 0;
    double lo_hz = 0, hi_hz = 0;
    MQ_TRY(sig_int_scalar(n, in[0], &nmel, err));
    MQ_TRY(sig_int_scalar(n, in[1], &len, err));
    MQ_TRY(sig_int_scalar(n, in[2], &rate, err));
    MQ_TRY(sig_float_scalar(n, in[3], &lo_hz, err));
    MQ_TRY(sig_float_scalar(n, in[4], &hi_hz, err));
    if (rate < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "sample_rate %lld must be positive", (long long)rate);
    if (nmel > (1 << 24) || len > INT32_MAX - 1 || rate > INT32_MAX)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "num_mel_bins, dft_length or sample_rate too large");
    double lo_mel = mel_of_hz(lo_hz), step = (mel_of_hz(hi_hz) - lo_mel) / (double)(nmel + 2);
    for (int64_t i = 0; i < nmel + 2; i++) {
        double b = floor(((double)len + 1.0) * hz_of_mel((double)i * step + lo_mel) / (double)rate);
        if (!(b > -1073741824.0 && b < 1073741824.0))
            return mq_node_fail(err, n, MQ_ERR_INVALID, "band edge %lld is not a finite bin", (long long)i);
    }
    kc->kernel = "mel_weight_matrix";
    kc->p[0] = (int32_t)nmel;
    kc->p[1] = (int32_t)len;
    kc->p[2] = (int32_t)rate;
    split_f64(lo_hz, kc->p + 3);
    split_f64(hi_hz, kc->p + 5);
    kc->n_p = 7;
    kc->scratch_bytes = (size_t)(nmel + 2) * sizeof(int32_t);
    return MQ_OK;
}

/* ---- table ------------------------------------------------------------------------------------------ */

static const mq_op_def def_dft = {.op_type = "DFT", .domain = "", .since = 17, .until = 19, .min_in = 1,
                                  .max_in = 2, .min_out = 1, .max_out = 1, .static_in = 2u, .infer = dft_infer,
                                  .forward = mq_forward_lowered, .lower = dft_lower};
static const mq_op_def def_stft = {.op_type = "STFT", .domain = "", .since = 17, .until = 0, .min_in = 2,
                                   .max_in = 4, .min_out = 1, .max_out = 1, .static_in = 0xau, .infer = stft_infer,
                                   .forward = mq_forward_lowered, .lower = stft_lower};
static const mq_op_def def_hann = {.op_type = "HannWindow", .domain = "", .since = 17, .until = 0, .min_in = 1,
                                   .max_in = 1, .min_out = 1, .max_out = 1, .static_in = 1u, .infer = win_infer,
                                   .forward = mq_forward_lowered, .lower = win_lower};
static const mq_op_def def_hamming = {.op_type = "HammingWindow", .domain = "", .since = 17, .until = 0,
                                      .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .static_in = 1u, .infer = win_infer,
                                      .forward = mq_forward_lowered, .lower = win_lower};
static const mq_op_def def_blackman = {.op_type = "BlackmanWindow", .domain = "", .since = 17, .until = 0,
                                       .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .static_in = 1u, .infer = win_infer,
                                       .forward = mq_forward_lowered, .lower = win_lower};
static const mq_op_def def_mel = {.op_type = "MelWeightMatrix", .domain = "", .since = 17, .until = 0, .min_in = 5,
                                  .max_in = 5, .min_out = 1, .max_out = 1, .static_in = 0x1fu, .infer = mel_infer,
                                  .forward = mq_forward_lowered, .lower = mel_lower};

const mq_op_def *const mq_ops_signal[] = {&def_dft, &def_stft, &def_hann, &def_hamming, &def_blackman, &def_mel,
                                          NULL};
