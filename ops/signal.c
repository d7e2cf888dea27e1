/* signal.c: op family 'signal' (opset 17): DFT, STFT, the Hann/Hamming/Blackman windows and
 * MelWeightMatrix. Everything is computed in double; transforms use a radix-2 FFT for power-of-two
 * lengths and a direct O(n^2) DFT otherwise. */
#include "ops/util.h"

#include <math.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

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

/* ---- the transform ---------------------------------------------------------------------------------- */

/* Work space for transforms of one length: twiddles cos/sin(2 pi k / len) and a complex buffer plus a
 * scratch buffer for the direct DFT. */
typedef struct sig_plan {
    size_t len;
    int pow2;
    double *cs, *sn;     /* [len] */
    double *re, *im;     /* [len]: the sequence, transformed in place */
    double *tre, *tim;   /* [len]: scratch for the direct DFT */
    double *mem;
} sig_plan;

static mq_status sig_plan_new(const mq_node *n, size_t len, sig_plan *p, mq_err *err)
{
    memset(p, 0, sizeof *p);
    size_t nb;
    if (mq_mul_size(len, 6 * sizeof(double), &nb))
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "transform length %zu too large", len);
    p->mem = mq_malloc(nb ? nb : 1);
    if (!p->mem) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    p->len = len;
    p->pow2 = len > 0 && (len & (len - 1)) == 0;
    p->cs = p->mem;
    p->sn = p->cs + len;
    p->re = p->sn + len;
    p->im = p->re + len;
    p->tre = p->im + len;
    p->tim = p->tre + len;
    for (size_t k = 0; k < len; k++) {
        double a = 2.0 * M_PI * (double)k / (double)len;
        p->cs[k] = cos(a);
        p->sn[k] = sin(a);
    }
    return MQ_OK;
}

static void sig_plan_free(sig_plan *p) { mq_free(p->mem); }

/* Transform p->re/p->im in place: X[k] = sum_j x[j] exp(-+ 2 pi i j k / len) (minus sign forward, plus
 * inverse; the inverse is also divided by len). */
static void sig_transform(sig_plan *p, int inverse)
{
    size_t L = p->len;
    double *re = p->re, *im = p->im, sgn = inverse ? 1.0 : -1.0;
    if (L <= 1) return;
    if (p->pow2) {
        for (size_t i = 1, j = 0; i < L; i++) { /* bit-reversal permutation */
            size_t bit = L >> 1;
            for (; j & bit; bit >>= 1) j ^= bit;
            j |= bit;
            if (i < j) {
                double t = re[i];
                re[i] = re[j];
                re[j] = t;
                t = im[i];
                im[i] = im[j];
                im[j] = t;
            }
        }
        for (size_t len = 2; len <= L; len <<= 1) {
            size_t half = len >> 1, step = L / len;
            for (size_t s = 0; s < L; s += len) {
                for (size_t j = 0; j < half; j++) {
                    double wr = p->cs[j * step], wi = sgn * p->sn[j * step];
                    size_t a = s + j, b = a + half;
                    double vr = re[b] * wr - im[b] * wi, vi = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - vr;
                    im[b] = im[a] - vi;
                    re[a] += vr;
                    im[a] += vi;
                }
            }
        }
    } else {
        for (size_t k = 0; k < L; k++) {
            double sr = 0, si = 0;
            size_t idx = 0; /* (j * k) mod L, kept incrementally */
            for (size_t j = 0; j < L; j++) {
                double wr = p->cs[idx], wi = sgn * p->sn[idx];
                sr += re[j] * wr - im[j] * wi;
                si += re[j] * wi + im[j] * wr;
                idx += k;
                if (idx >= L) idx -= L;
            }
            p->tre[k] = sr;
            p->tim[k] = si;
        }
        memcpy(re, p->tre, L * sizeof(double));
        memcpy(im, p->tim, L * sizeof(double));
    }
    if (inverse) {
        double s = 1.0 / (double)L;
        for (size_t k = 0; k < L; k++) {
            re[k] *= s;
            im[k] *= s;
        }
    }
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
    dft_cfg c;
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

static mq_status dft_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    mq_tensor *y = out[0];
    dft_cfg c;
    MQ_TRY(dft_config(n, in, &c, err));
    int r = x->rank, cin = c.complex_in ? 2 : 1;
    int64_t outer = 1, inner = 1, in_len = x->dims[c.axis];
    for (int d = 0; d < c.axis; d++) outer *= x->dims[d];
    for (int d = c.axis + 1; d < r - 1; d++) inner *= x->dims[d];
    sig_plan p;
    MQ_TRY(sig_plan_new(n, (size_t)c.len, &p, err));
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            for (int64_t j = 0; j < c.len; j++) {
                if (j < in_len) {
                    size_t at = (size_t)(((o * in_len + j) * inner + i) * cin);
                    p.re[j] = mq_load_f64(x->data, x->dtype, at);
                    p.im[j] = cin == 2 ? mq_load_f64(x->data, x->dtype, at + 1) : 0.0;
                } else {
                    p.re[j] = p.im[j] = 0.0; /* zero padding up to dft_length */
                }
            }
            sig_transform(&p, c.inverse);
            for (int64_t k = 0; k < c.out_len; k++) {
                size_t at = (size_t)(((o * c.out_len + k) * inner + i) * 2);
                mq_store_f64(y->data, y->dtype, at, p.re[k]);
                mq_store_f64(y->data, y->dtype, at + 1, p.im[k]);
            }
        }
    }
    sig_plan_free(&p);
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

static mq_status stft_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0], *w = n->n_in > 2 ? in[2] : NULL;
    mq_tensor *y = out[0];
    stft_cfg c;
    MQ_TRY(stft_config(n, in, &c, err));
    if (!c.known) return mq_node_fail(err, n, MQ_ERR_SHAPE, "shape unknown with all inputs known");
    int64_t B = x->dims[0], Ls = x->dims[1], cin = x->dims[2];
    sig_plan p;
    MQ_TRY(sig_plan_new(n, (size_t)c.n_fft, &p, err));
    for (int64_t b = 0; b < B; b++) {
        for (int64_t f = 0; f < c.frames; f++) {
            for (int64_t j = 0; j < c.n_fft; j++) {
                size_t at = (size_t)((b * Ls + f * c.step + j) * cin);
                double wj = w ? mq_load_f64(w->data, w->dtype, (size_t)j) : 1.0;
                p.re[j] = wj * mq_load_f64(x->data, x->dtype, at);
                p.im[j] = cin == 2 ? wj * mq_load_f64(x->data, x->dtype, at + 1) : 0.0;
            }
            sig_transform(&p, 0);
            for (int64_t k = 0; k < c.bins; k++) {
                size_t at = (size_t)(((b * c.frames + f) * c.bins + k) * 2);
                mq_store_f64(y->data, y->dtype, at, p.re[k]);
                mq_store_f64(y->data, y->dtype, at + 1, p.im[k]);
            }
        }
    }
    sig_plan_free(&p);
    return MQ_OK;
}

/* ---- windows ---------------------------------------------------------------------------------------- */

/* Generalized cosine window: w[k] = a0 - a1 cos(2 pi k / N) + a2 cos(4 pi k / N), N = size when
 * periodic, size - 1 when symmetric. */
static void win_coeffs(const char *op, double *a0, double *a1, double *a2)
{
    *a2 = 0;
    if (strcmp(op, "HammingWindow") == 0) {
        *a0 = 25.0 / 46.0;
        *a1 = 21.0 / 46.0;
    } else if (strcmp(op, "BlackmanWindow") == 0) {
        *a0 = 0.42;
        *a1 = 0.5;
        *a2 = 0.08;
    } else { /* HannWindow */
        *a0 = 0.5;
        *a1 = 0.5;
    }
}

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

static mq_status win_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    (void)in;
    (void)err;
    mq_tensor *y = out[0];
    int64_t size = y->dims[0];
    double a0, a1, a2;
    win_coeffs(n->op_type, &a0, &a1, &a2);
    int64_t N = mq_attr_int(n, "periodic", 1) ? size : size - 1;
    for (int64_t k = 0; k < size; k++) {
        double v;
        if (N <= 0) {
            v = 1.0; /* a symmetric window of one point (numpy and PyTorch give 1) */
        } else {
            double a = 2.0 * M_PI * (double)k / (double)N;
            v = a0 - a1 * cos(a) + a2 * cos(2.0 * a);
        }
        mq_store_f64(y->data, y->dtype, (size_t)k, v);
    }
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
    int64_t bins, len;
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

/* Triangular filters on the mel scale, as in the ONNX specification's reference: num_mel_bins + 2 band
 * edges evenly spaced in mel from lower to upper edge (step (high - low) / (num_mel_bins + 2)), mapped to
 * spectrogram bin floor((dft_length + 1) * hz / sample_rate); filter i rises from edge i to edge i + 1
 * (peak 1) and falls to edge i + 2. */
static mq_status mel_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    mq_tensor *y = out[0];
    int64_t nmel, len, rate;
    double lo_hz, hi_hz;
    MQ_TRY(sig_int_scalar(n, in[0], &nmel, err));
    MQ_TRY(sig_int_scalar(n, in[1], &len, err));
    MQ_TRY(sig_int_scalar(n, in[2], &rate, err));
    MQ_TRY(sig_float_scalar(n, in[3], &lo_hz, err));
    MQ_TRY(sig_float_scalar(n, in[4], &hi_hz, err));
    if (rate < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "sample_rate %lld must be positive", (long long)rate);
    int64_t nspec = y->dims[0];
    size_t nb, nedge;
    if (mq_add_size((size_t)nmel, 2, &nedge) || mq_mul_size(nedge, sizeof(int64_t), &nb))
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "num_mel_bins too large");
    int64_t *edge = mq_malloc(nb);
    if (!edge) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    double lo_mel = mel_of_hz(lo_hz), step = (mel_of_hz(hi_hz) - lo_mel) / (double)(nmel + 2);
    for (int64_t i = 0; i < nmel + 2; i++) {
        double hz = hz_of_mel((double)i * step + lo_mel);
        double b = floor(((double)len + 1.0) * hz / (double)rate);
        if (!(b > -1e15 && b < 1e15)) {
            mq_free(edge);
            return mq_node_fail(err, n, MQ_ERR_INVALID, "band edge %lld is not a finite bin", (long long)i);
        }
        edge[i] = (int64_t)b;
    }
    for (int64_t i = 0; i < nmel; i++) {
        int64_t l = edge[i], c = edge[i + 1], h = edge[i + 2];
        if (c == l) {
            if (c >= 0 && c < nspec) mq_store_f64(y->data, y->dtype, (size_t)(c * nmel + i), 1.0);
        } else {
            for (int64_t j = l > 0 ? l : 0; j <= c && j < nspec; j++)
                mq_store_f64(y->data, y->dtype, (size_t)(j * nmel + i), (double)(j - l) / (double)(c - l));
        }
        if (h > c)
            for (int64_t j = c > 0 ? c : 0; j < h && j < nspec; j++)
                mq_store_f64(y->data, y->dtype, (size_t)(j * nmel + i), (double)(h - j) / (double)(h - c));
    }
    mq_free(edge);
    return MQ_OK;
}

/* ---- table ------------------------------------------------------------------------------------------ */

static const mq_op_def def_dft = {.op_type = "DFT", .domain = "", .since = 17, .until = 19, .min_in = 1,
                                  .max_in = 2, .min_out = 1, .max_out = 1, .infer = dft_infer,
                                  .forward = dft_forward};
static const mq_op_def def_stft = {.op_type = "STFT", .domain = "", .since = 17, .until = 0, .min_in = 2,
                                   .max_in = 4, .min_out = 1, .max_out = 1, .infer = stft_infer,
                                   .forward = stft_forward};
static const mq_op_def def_hann = {.op_type = "HannWindow", .domain = "", .since = 17, .until = 0, .min_in = 1,
                                   .max_in = 1, .min_out = 1, .max_out = 1, .infer = win_infer,
                                   .forward = win_forward};
static const mq_op_def def_hamming = {.op_type = "HammingWindow", .domain = "", .since = 17, .until = 0,
                                      .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .infer = win_infer,
                                      .forward = win_forward};
static const mq_op_def def_blackman = {.op_type = "BlackmanWindow", .domain = "", .since = 17, .until = 0,
                                       .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1, .infer = win_infer,
                                       .forward = win_forward};
static const mq_op_def def_mel = {.op_type = "MelWeightMatrix", .domain = "", .since = 17, .until = 0, .min_in = 5,
                                  .max_in = 5, .min_out = 1, .max_out = 1, .infer = mel_infer,
                                  .forward = mel_forward};

const mq_op_def *const mq_ops_signal[] = {&def_dft, &def_stft, &def_hann, &def_hamming, &def_blackman, &def_mel,
                                          NULL};
