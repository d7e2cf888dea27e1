/* misc_signal.c: DFT / STFT (radix-2 FFT or direct DFT, in double), the generalized cosine windows and
 * the mel filter bank. Layouts: misc_signal.h. */
#include "runtime/kernels/misc_signal.h"
#include "runtime/kernels/reduce_check.h"
#include "runtime/kernels/reduce_dt.h"

#include <math.h>

#define SIG_PI 3.14159265358979323846

/* Work space of one transform length in scratch: twiddles cs/sn, the sequence re/im, scratch tre/tim. */
typedef struct sig_plan {
    int32_t len;
    int pow2;
    double *cs, *sn, *re, *im, *tre, *tim;
} sig_plan;

static void sig_plan_init(sig_plan *p, int32_t len, void *scratch)
{
    int32_t k;
    p->len = len;
    p->pow2 = len > 0 && (len & (len - 1)) == 0;
    p->cs = (double *)scratch;
    p->sn = p->cs + len;
    p->re = p->sn + len;
    p->im = p->re + len;
    p->tre = p->im + len;
    p->tim = p->tre + len;
    for (k = 0; k < len; k++) {
        double a = 2.0 * SIG_PI * (double)k / (double)len;
        p->cs[k] = cos(a);
        p->sn[k] = sin(a);
    }
}

/* X[k] = sum_j x[j] exp(-+ 2 pi i j k / len) in place (minus forward; the inverse also divides by len). */
static void sig_transform(const sig_plan *p, int inverse)
{
    int32_t L = p->len, i, j, k;
    double *re = p->re, *im = p->im, sgn = inverse ? 1.0 : -1.0;
    if (L <= 1) return;
    if (p->pow2) {
        int32_t len;
        for (i = 1, j = 0; i < L; i++) { /* bit-reversal permutation */
            int32_t bit = L >> 1;
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
        for (len = 2; len <= L; len <<= 1) {
            int32_t half = len >> 1, step = L / len, s;
            for (s = 0; s < L; s += len)
                for (j = 0; j < half; j++) {
                    double wr = p->cs[j * step], wi = sgn * p->sn[j * step];
                    int32_t a = s + j, b = a + half;
                    double vr = re[b] * wr - im[b] * wi, vi = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - vr;
                    im[b] = im[a] - vi;
                    re[a] += vr;
                    im[a] += vi;
                }
        }
    } else {
        for (k = 0; k < L; k++) {
            double sr = 0, si = 0;
            int32_t idx = 0; /* (j * k) mod L, kept incrementally */
            for (j = 0; j < L; j++) {
                double wr = p->cs[idx], wi = sgn * p->sn[idx];
                sr += re[j] * wr - im[j] * wi;
                si += re[j] * wi + im[j] * wr;
                idx += k;
                if (idx >= L) idx -= L;
            }
            p->tre[k] = sr;
            p->tim[k] = si;
        }
        memcpy(re, p->tre, (size_t)L * sizeof(double));
        memcpy(im, p->tim, (size_t)L * sizeof(double));
    }
    if (inverse) {
        double s = 1.0 / (double)L;
        for (k = 0; k < L; k++) {
            re[k] *= s;
            im[k] *= s;
        }
    }
}

void mqk_k_dft(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    mqr_tensor *y = &c->out[0];
    int32_t axis = c->p[0], cin = c->p[1] ? 2 : 1, len = c->p[3], out_len = c->p[4], in_len = x->dims[axis];
    int32_t outer = 1, inner = 1, d, o, i, j, k;
    sig_plan p;
    sig_plan_init(&p, len, c->scratch);
    for (d = 0; d < axis; d++) outer *= x->dims[d];
    for (d = axis + 1; d < x->rank - 1; d++) inner *= x->dims[d];
    for (o = 0; o < outer; o++)
        for (i = 0; i < inner; i++) {
            for (j = 0; j < len; j++) {
                if (j < in_len) {
                    int32_t at = ((o * in_len + j) * inner + i) * cin;
                    p.re[j] = mqk_ld_f64(x->data, x->dtype, at);
                    p.im[j] = cin == 2 ? mqk_ld_f64(x->data, x->dtype, at + 1) : 0.0;
                } else {
                    p.re[j] = p.im[j] = 0.0; /* zero padding up to dft_length */
                }
            }
            sig_transform(&p, c->p[2]);
            for (k = 0; k < out_len; k++) {
                int32_t at = ((o * out_len + k) * inner + i) * 2;
                mqk_st_f64(y->data, y->dtype, at, p.re[k]);
                mqk_st_f64(y->data, y->dtype, at + 1, p.im[k]);
            }
        }
}

void mqk_k_stft(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *w = c->n_in > 2 && c->in[2].rank >= 0 ? &c->in[2] : 0;
    mqr_tensor *y = &c->out[0];
    int32_t step = c->p[0], n_fft = c->p[1], B = x->dims[0], Ls = x->dims[1], cin = x->dims[2];
    int32_t frames = y->dims[1], bins = y->dims[2], b, f, j, k;
    sig_plan p;
    sig_plan_init(&p, n_fft, c->scratch);
    for (b = 0; b < B; b++)
        for (f = 0; f < frames; f++) {
            for (j = 0; j < n_fft; j++) {
                int32_t at = (b * Ls + f * step + j) * cin;
                double wj = w ? mqk_ld_f64(w->data, w->dtype, j) : 1.0;
                p.re[j] = wj * mqk_ld_f64(x->data, x->dtype, at);
                p.im[j] = cin == 2 ? wj * mqk_ld_f64(x->data, x->dtype, at + 1) : 0.0;
            }
            sig_transform(&p, 0);
            for (k = 0; k < bins; k++) {
                int32_t at = ((b * frames + f) * bins + k) * 2;
                mqk_st_f64(y->data, y->dtype, at, p.re[k]);
                mqk_st_f64(y->data, y->dtype, at + 1, p.im[k]);
            }
        }
}

/* Generalized cosine window: w[k] = a0 - a1 cos(2 pi k / N) + a2 cos(4 pi k / N), N = size when
 * periodic, size - 1 when symmetric (a one-point symmetric window is 1, as numpy and PyTorch). */
void mqk_k_window(const mqr_call *c)
{
    mqr_tensor *y = &c->out[0];
    int32_t size = y->dims[0], N = c->p[1] ? size : size - 1, k;
    double a0 = 0.5, a1 = 0.5, a2 = 0.0;
    if (c->p[0] == MQK_WIN_HAMMING) {
        a0 = 25.0 / 46.0;
        a1 = 21.0 / 46.0;
    } else if (c->p[0] == MQK_WIN_BLACKMAN) {
        a0 = 0.42;
        a1 = 0.5;
        a2 = 0.08;
    }
    for (k = 0; k < size; k++) {
        double v = 1.0;
        if (N > 0) {
            double a = 2.0 * SIG_PI * (double)k / (double)N;
            v = a0 - a1 * cos(a) + a2 * cos(2.0 * a);
        }
        mqk_st_f64(y->data, y->dtype, k, v);
    }
}

static double sig_f64(const int32_t *p)
{
    uint64_t b = (uint64_t)(uint32_t)p[0] | ((uint64_t)(uint32_t)p[1] << 32);
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static double mel_of_hz(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double hz_of_mel(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

/* Band edge i of the mel filter bank (before the conversion to int32): num_mel_bins + 2 edges evenly
 * spaced in mel (step (high - low) / (num_mel_bins + 2)), mapped to bin floor((dft_length + 1) hz / rate).
 * The kernel and its check both compute the edges with this function. */
static double mel_edge(const int32_t *p, int32_t i)
{
    double lo_mel = mel_of_hz(sig_f64(p + 3)), step = (mel_of_hz(sig_f64(p + 5)) - lo_mel) / (double)(p[0] + 2);
    return floor(((double)p[1] + 1.0) * hz_of_mel((double)i * step + lo_mel) / (double)p[2]);
}

/* Triangular filters on the mel scale as in the ONNX reference: filter i rises from edge i to edge i + 1
 * (peak 1) and falls to edge i + 2. The check proved every edge a finite bin in (-2^30, 2^30). */
void mqk_k_mel_weight_matrix(const mqr_call *c)
{
    mqr_tensor *y = &c->out[0];
    int32_t nmel = c->p[0], nspec = y->dims[0], i, j, dt = y->dtype;
    int32_t *edge = (int32_t *)c->scratch, ny = mqr_numel(y);
    for (i = 0; i < ny; i++) mqk_st_f64(y->data, dt, i, 0.0);
    for (i = 0; i < nmel + 2; i++) edge[i] = (int32_t)mel_edge(c->p, i);
    for (i = 0; i < nmel; i++) {
        int32_t l = edge[i], m = edge[i + 1], h = edge[i + 2];
        if (m == l) {
            if (m >= 0 && m < nspec) mqk_st_f64(y->data, dt, m * nmel + i, 1.0);
        } else {
            for (j = l > 0 ? l : 0; j <= m && j < nspec; j++)
                mqk_st_f64(y->data, dt, j * nmel + i, (double)(j - l) / (double)(m - l));
        }
        if (h > m)
            for (j = m > 0 ? m : 0; j < h && j < nspec; j++)
                mqk_st_f64(y->data, dt, j * nmel + i, (double)(h - j) / (double)(h - m));
    }
}

/* x float [..., 1 or 2] (rank >= 2; the last dim matches p[1]), axis < rank - 1; transform length >= 1 and
 * the output length len or len / 2 + 1 (never more than len: it reads the transform's first out_len
 * values); y of x's dtype and dims but out_len along the axis and 2 last; scratch for six arrays of len. */
int mqk_c_dft(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *y;
    int32_t axis, len, out_len, d;
    if (c->n_in < 1 || c->n_in > 2 || c->n_out != 1 || c->n_p != 5) return MQR_CHECK_BAD;
    x = &c->in[0];
    y = &c->out[0];
    axis = c->p[0];
    len = c->p[3];
    out_len = c->p[4];
    if (!mqk_ck_tensor(x) || !mqk_ck_float(x->dtype) || !mqk_ck_t(y, x->dtype) || x->rank < 2 || y->rank != x->rank)
        return MQR_CHECK_BAD;
    if (axis < 0 || axis > x->rank - 2 || !mqk_ck_bool(c->p[1]) || !mqk_ck_bool(c->p[2]) ||
        x->dims[x->rank - 1] != (c->p[1] ? 2 : 1))
        return MQR_CHECK_BAD;
    if (len < 1 || (out_len != len && out_len != len / 2 + 1)) return MQR_CHECK_BAD;
    for (d = 0; d < x->rank; d++)
        if (y->dims[d] != (d == axis ? out_len : d == x->rank - 1 ? 2 : x->dims[d])) return MQR_CHECK_BAD;
    return 48 * (int64_t)len <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* signal float [B, L, 1 or 2], optional window of its dtype [n_fft]; frame_step >= 1, 1 <= n_fft <= L;
 * y of x's dtype [B, (L - n_fft) / step + 1, n_fft / 2 + 1 (real signal) or n_fft, 2]; scratch for six
 * arrays of n_fft. */
int mqk_c_stft(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *y;
    int32_t step, n_fft, bins;
    if (c->n_in < 2 || c->n_in > 4 || c->n_out != 1 || c->n_p != 2) return MQR_CHECK_BAD;
    x = &c->in[0];
    y = &c->out[0];
    step = c->p[0];
    n_fft = c->p[1];
    if (!mqk_ck_tensor(x) || !mqk_ck_float(x->dtype) || !mqk_ck_t(y, x->dtype) || x->rank != 3 || y->rank != 4)
        return MQR_CHECK_BAD;
    if ((x->dims[2] != 1 && x->dims[2] != 2) || step < 1 || n_fft < 1 || n_fft > x->dims[1]) return MQR_CHECK_BAD;
    bins = y->dims[2];
    if (y->dims[0] != x->dims[0] || y->dims[1] != (x->dims[1] - n_fft) / step + 1 || y->dims[3] != 2 ||
        (bins != n_fft && (x->dims[2] == 2 || bins != n_fft / 2 + 1)))
        return MQR_CHECK_BAD;
    if (c->n_in > 2 && !mqk_ck_absent(&c->in[2]) &&
        (!mqk_ck_t(&c->in[2], x->dtype) || c->in[2].rank != 1 || c->in[2].dims[0] != n_fft))
        return MQR_CHECK_BAD;
    return 48 * (int64_t)n_fft <= (int64_t)scratch_bytes ? MQR_CHECK_OK : MQR_CHECK_BAD;
}

/* y numeric [size]; the window kind and periodic flag in range. */
int mqk_c_window(const mqr_call *c, uint32_t scratch_bytes)
{
    (void)scratch_bytes;
    if (c->n_in != 1 || c->n_out != 1 || c->n_p != 2) return MQR_CHECK_BAD;
    if (!mqk_ck_t(&c->out[0], 0) || c->out[0].rank != 1) return MQR_CHECK_BAD;
    return c->p[0] >= MQK_WIN_HANN && c->p[0] <= MQK_WIN_BLACKMAN && mqk_ck_bool(c->p[1]) ? MQR_CHECK_OK
                                                                                         : MQR_CHECK_BAD;
}

/* 1 <= num_mel_bins <= 2^24 (as the host), dft_length >= 1, sample_rate >= 1; y numeric [dft_length / 2 + 1,
 * num_mel_bins]; scratch for num_mel_bins + 2 int32 edges, each (computed as the kernel does) a finite bin in
 * (-2^30, 2^30), so the kernel's int32 edges and their differences cannot overflow. */
int mqk_c_mel_weight_matrix(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *y;
    int32_t nmel, len, i;
    if (c->n_in != 5 || c->n_out != 1 || c->n_p != 7) return MQR_CHECK_BAD;
    y = &c->out[0];
    nmel = c->p[0];
    len = c->p[1];
    if (nmel < 1 || nmel > (1 << 24) || len < 1 || c->p[2] < 1) return MQR_CHECK_BAD;
    if (!mqk_ck_t(y, 0) || y->rank != 2 || y->dims[0] != len / 2 + 1 || y->dims[1] != nmel) return MQR_CHECK_BAD;
    if (4 * ((int64_t)nmel + 2) > (int64_t)scratch_bytes) return MQR_CHECK_BAD;
    for (i = 0; i < nmel + 2; i++) {
        double e = mel_edge(c->p, i);
        if (!(e > -1073741824.0 && e < 1073741824.0)) return MQR_CHECK_BAD;
    }
    return MQR_CHECK_OK;
}
