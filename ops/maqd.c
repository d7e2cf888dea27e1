/* maqd.c: op family 'maqd' (domain "ai.maqd", since 1): LayerBatchNorm, WeightQuant (WS + SRC) and
 * ActQuant of the MaQD method (../shared/MAQD.md sections 1-3); eval runs runtime/kernels/maqd.c. */
#include "ops/maqd.h"
#include "ops/grad.h"
#include "ops/util.h"
#include "runtime/kernels/maqd.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

static const mq_dtype types_f32[] = {MQ_F32, MQ_UNDEFINED};

/* Keeps a loop in a function of its own, where the compiler vectorizes it (inlined, GCC 12 does not). */
#if defined(__GNUC__)
#define MQ_NOINLINE __attribute__((noinline))
#else
#define MQ_NOINLINE
#endif

/* ---- numeric helpers ------------------------------------------------------------------------------ */

float mq_maqd_round_level(float v, int n) { return mqk_maqd_round_level(v, n); }

float mq_maqd_src(float x, int n, float delta) { return mqk_maqd_src(x, n, delta); }

float mq_maqd_actq(float x, int m, float delta) { return mqk_maqd_actq(x, m, delta); }

void mq_maqd_ws_f32(size_t outer, size_t channels, size_t inner, const float *w, float eps, float *out)
{
    mqk_maqd_ws_f32(outer, channels, inner, w, eps, out);
}

/* Backward pieces (declared in ops/grad.h): WS, the quantizers' surrogates. */
void mq_grad_ws_f32(size_t outer, size_t channels, size_t inner, const float *w, const float *g, float eps, float *dw)
{
    /* w_hat = d r, d = w - mean, r = 1 / (s + eps), s = sqrt(mean(d^2)). With F the fan-in:
     * dL/dw_i = r (g_i - mean(g)) - r^2 d_i / (F s) * sum_j g_j d_j   (the mean of d is 0). */
    size_t fan = outer * inner, stride = channels * inner;
    if (fan == 0) return;
    for (size_t c = 0; c < channels; c++) {
        double sw = 0, sg = 0;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                sw += w[o * stride + c * inner + i];
                sg += g[o * stride + c * inner + i];
            }
        double mean = sw / (double)fan, gmean = sg / (double)fan, ss = 0, gd = 0;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                size_t k = o * stride + c * inner + i;
                double d = w[k] - mean;
                ss += d * d;
                gd += g[k] * d;
            }
        double s = sqrt(ss / (double)fan), r = 1.0 / (s + (double)eps);
        double coef = s > 0 ? r * r * gd / ((double)fan * s) : 0;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                size_t k = o * stride + c * inner + i;
                dw[k] = (float)(r * (g[k] - gmean) - coef * (w[k] - mean));
            }
    }
}

float mq_grad_actq_surrogate(float x, int m, float delta, int sigmoid)
{
    if (!sigmoid) return x >= 0 && x <= ((float)m - 0.5f) * delta ? 1.0f : 0.0f;
    double a = MQ_GRAD_SIGMOID_ALPHA, d = 0;
    for (int k = 1; k < m; k++) {
        double t = (k - 0.5) * delta, s = 1.0 / (1.0 + exp(-a * (x - t) / delta));
        d += a * s * (1 - s);
    }
    return (float)d;
}

double mq_grad_step_term(float g, float q, float v, float s) { return (double)g * ((double)q - (double)v * s); }

int mq_grad_wq_pass(float w_hat, int n, float delta) { return fabsf(w_hat / delta) <= 0.5f * (float)(n - 1) + 0.5f; }

static double norm_pdf(double x) { return isinf(x) ? 0 : exp(-0.5 * x * x) * 0.39894228040143267794 /* 1/sqrt(2 pi) */; }
static double norm_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static double x_pdf(double x) { return isinf(x) ? 0 : x * norm_pdf(x); }

double mq_maqd_src_mse_normal(int n, double delta)
{
    /* Level k (0..n-1) is l = delta (k - (n-1)/2) and takes x in [b_{k-1}, b_k], b_k = delta (k + 1 - n/2)
     * (midpoints; b_{-1} = -inf, b_{n-1} = +inf). With phi, Phi the normal density and distribution,
     * the integral of (x - l)^2 phi(x) over [a, b] is
     *   (1 + l^2)(Phi(b) - Phi(a)) - (b phi(b) - a phi(a)) + 2 l (phi(b) - phi(a)). */
    double e = 0;
    for (int k = 0; k < n; k++) {
        double l = delta * (k - 0.5 * (n - 1));
        double a = k == 0 ? -INFINITY : delta * (k - 0.5 * n);
        double b = k == n - 1 ? INFINITY : delta * (k + 1 - 0.5 * n);
        e += (1 + l * l) * (norm_cdf(b) - norm_cdf(a)) - (x_pdf(b) - x_pdf(a)) + 2 * l * (norm_pdf(b) - norm_pdf(a));
    }
    return e;
}

static double compute_optimal_step(int n)
{
    /* Scan a log grid over [1e-3, 4] for the best point, then golden-section search between its two
     * neighbours (the grid guards against a local minimum far from the global one). */
    enum { GRID = 240 };
    const double lo = log(1e-3), hi = log(4.0);
    int best = 0;
    double best_e = INFINITY;
    for (int i = 0; i <= GRID; i++) {
        double e = mq_maqd_src_mse_normal(n, exp(lo + (hi - lo) * i / GRID));
        if (e < best_e) {
            best_e = e;
            best = i;
        }
    }
    double a = exp(lo + (hi - lo) * (best > 0 ? best - 1 : 0) / GRID);
    double b = exp(lo + (hi - lo) * (best < GRID ? best + 1 : GRID) / GRID);
    const double r = (sqrt(5.0) - 1) / 2;
    double c = b - r * (b - a), d = a + r * (b - a);
    double fc = mq_maqd_src_mse_normal(n, c), fd = mq_maqd_src_mse_normal(n, d);
    for (int it = 0; it < 200 && b - a > 1e-12; it++) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = mq_maqd_src_mse_normal(n, c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = mq_maqd_src_mse_normal(n, d);
        }
    }
    return 0.5 * (a + b);
}

double mq_maqd_optimal_step(int n)
{
    static _Atomic double cache[MQ_MAQD_MAX_STATES + 1]; /* 0: not computed yet */
    if (n < MQ_MAQD_MIN_STATES || n > MQ_MAQD_MAX_STATES) return 0;
    double v = atomic_load_explicit(&cache[n], memory_order_relaxed);
    if (v > 0) return v;
    v = compute_optimal_step(n); /* deterministic: a concurrent first call stores the same value */
    atomic_store_explicit(&cache[n], v, memory_order_relaxed);
    return v;
}

/* ---- shared attribute checks ---------------------------------------------------------------------- */

static mq_status states_attr(const mq_node *n, int *states, mq_err *err)
{
    const mq_attr *a = mq_attr_get(n, "states");
    if (!a) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'states' is required");
    if (a->type != MQ_ATTR_INT || a->i < MQ_MAQD_MIN_STATES || a->i > MQ_MAQD_MAX_STATES)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'states' must be an integer in %d..%d",
                            MQ_MAQD_MIN_STATES, MQ_MAQD_MAX_STATES);
    *states = (int)a->i;
    return MQ_OK;
}

/* delta: the attribute if present (must be finite and > 0), else dflt. */
static mq_status delta_attr(const mq_node *n, float dflt, float *delta, mq_err *err)
{
    const mq_attr *a = mq_attr_get(n, "delta");
    if (!a) {
        *delta = dflt;
        return MQ_OK;
    }
    if (a->type != MQ_ATTR_FLOAT || !(a->f > 0) || isinf(a->f))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'delta' must be a finite float > 0");
    *delta = a->f;
    return MQ_OK;
}

/* The step of a quantizer: its optional input 1 when present (the learned step, trainer option
 * --learn-act-step / --learn-weight-step: one float32 value, finite and > 0), else the attribute 'delta'
 * (dflt if absent). need_value 0 (inference): a step input of unknown value gives dflt. */
static mq_status step_of(const mq_node *n, const mq_tensor *const *in, float dflt, int need_value, float *delta,
                         mq_err *err)
{
    const mq_tensor *t = n->n_in > 1 ? in[1] : NULL;
    if (!t) return delta_attr(n, dflt, delta, err);
    if (t->dtype != MQ_F32 || (t->rank >= 0 && mq_numel(t) != 1))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "input 1 (the step) must be one float32 value");
    if (!t->data) {
        *delta = dflt;
        return need_value ? mq_node_fail(err, n, MQ_ERR_INVALID, "input 1 (the step) has no value") : MQ_OK;
    }
    float d = ((const float *)t->data)[0];
    if (!(d > 0) || isinf(d))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "the step (input 1, '%s') must be finite and > 0, is %g",
                            t->name ? t->name : "", (double)d);
    *delta = d;
    return MQ_OK;
}

static mq_status training_attr(const mq_node *n, int *training, mq_err *err)
{
    int64_t t = mq_attr_int(n, "training", 0);
    if (t != 0 && t != 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'training' must be 0 or 1");
    *training = (int)t;
    return MQ_OK;
}

static size_t prod(const int64_t *dims, int from, int to)
{
    size_t p = 1;
    for (int d = from; d < to; d++) p *= (size_t)dims[d];
    return p;
}

/* ---- LayerBatchNorm ------------------------------------------------------------------------------- */

void mq_maqd_stats(const float *x, size_t n, double *mean, double *ssd)
{
    double s[8] = {0}, q[8] = {0};
    size_t i = 0, n8 = n - n % 8;
    for (; i < n8; i += 8)
        for (int k = 0; k < 8; k++) s[k] += x[i + k];
    for (; i < n; i++) s[0] += x[i];
    double mu = n ? (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) / (double)n : 0;
    for (i = 0; i < n8; i += 8)
        for (int k = 0; k < 8; k++) {
            double d = x[i + k] - mu;
            q[k] += d * d;
        }
    for (; i < n; i++) q[0] += (x[i] - mu) * (x[i] - mu);
    *mean = mu;
    *ssd = ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7]));
}

void mq_maqd_lbn_batch_stats(const float *x, size_t total, double st[3])
{
    double ss;
    mq_maqd_stats(x, total, &st[0], &ss);
    st[1] = total ? ss / (double)total : 0;
    st[2] = total > 1 ? ss / (double)(total - 1) : st[1];
}

/* Inputs X (N, C, S...), gamma [C], beta [C], mu_run and var_run (one value each: shape [1] or scalar).
 * Attributes epsilon (1e-5), training (0), momentum (0.1, MAQD.md's convention: run = (1-m) run + m batch).
 * Eval (training = 0): y[c] = gamma[c] (x[c] - mu_run) / sqrt(var_run + eps) + beta[c].
 * Training: mu, var (biased) over all of N, C, S; y[c] = gamma[c] (x[c] - mu) / sqrt(var + eps) + beta[c];
 * optional outputs 1, 2 are the updated running mean and variance (the latter from the unbiased variance). */
static mq_status lbn_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    for (int i = 0; i < 5; i++) {
        MQ_TRY(mq_require_input(n, in, i, err));
        MQ_TRY(mq_require_dtype(n, in[i], types_f32, err));
    }
    int training = 0;
    MQ_TRY(training_attr(n, &training, err));
    float mom = mq_attr_float(n, "momentum", 0.1f);
    if (!(mom >= 0 && mom <= 1)) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'momentum' must be in [0, 1]");
    if (!(mq_attr_float(n, "epsilon", 1e-5f) >= 0))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'epsilon' must be >= 0");
    if (!training)
        for (int i = 1; i < n->n_out; i++)
            if (out[i]) return mq_node_fail(err, n, MQ_ERR_INVALID, "running-statistics outputs need training=1");
    for (int i = 3; i < 5; i++)
        if (in[i]->rank >= 0 && mq_numel(in[i]) != 1)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s must hold one value", i == 3 ? "mu_run" : "var_run");
    for (int i = 1; i < n->n_out; i++)
        if (out[i]) mq_set_like(out[i], in[2 + i]);
    if (in[0]->rank < 0) {
        mq_set_out(out[0], MQ_F32, -1, NULL);
        return MQ_OK;
    }
    if (in[0]->rank < 2) return mq_node_fail(err, n, MQ_ERR_SHAPE, "X must have rank >= 2 (N, C, ...)");
    int64_t C = in[0]->dims[1];
    for (int i = 1; i < 3; i++)
        if (in[i]->rank >= 0 && (in[i]->rank != 1 || in[i]->dims[0] != C))
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "%s must have shape [%lld]", i == 1 ? "gamma" : "beta",
                                (long long)C);
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

/* Eval lowering: kernel maqd_lbn_f32 (runtime/kernels/maqd.h). Training mode (batch statistics,
 * running-statistics outputs) runs on the host only. */
static mq_status lbn_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    (void)in;
    (void)out;
    int training = 0;
    MQ_TRY(training_attr(n, &training, err));
    if (training) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "training=1 has no runtime kernel (eval only)");
    kc->kernel = "maqd_lbn_f32";
    kc->p[0] = mqr_f32_bits(mq_attr_float(n, "epsilon", 1e-5f));
    kc->n_p = 1;
    return MQ_OK;
}

/* The forward; training mode also leaves the batch statistics in saved (when not NULL): mean, biased and
 * unbiased variance of X over all its elements. */
static mq_status lbn_forward_saving(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, double *saved,
                                    mq_err *err)
{
    int training = 0;
    MQ_TRY(training_attr(n, &training, err));
    if (!training) return mq_forward_lowered(n, in, out, err);
    const mq_tensor *x = in[0];
    size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], S = prod(x->dims, 2, x->rank), total = N * C * S;
    const float *xs = x->data;
    double eps = mq_attr_float(n, "epsilon", 1e-5f);
    double st[3]; /* statistics of this batch over every element */
    mq_maqd_lbn_batch_stats(xs, total, st);
    double mu = st[0], bvar = st[1], uvar = st[2];
    if (saved) memcpy(saved, st, sizeof st);
    double m = mq_attr_float(n, "momentum", 0.1f);
    double run_mu = ((const float *)in[3]->data)[0], run_var = ((const float *)in[4]->data)[0];
    if (n->n_out > 1 && out[1]) ((float *)out[1]->data)[0] = (float)((1 - m) * run_mu + m * mu);
    if (n->n_out > 2 && out[2]) ((float *)out[2]->data)[0] = (float)((1 - m) * run_var + m * uvar);
    /* Per channel an affine map y = a x + b (MAQD.md section 1). */
    mqk_maqd_lbn_f32(N, C, S, xs, in[1]->data, in[2]->data, mu, bvar, eps, out[0]->data);
    return MQ_OK;
}

static mq_status lbn_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return lbn_forward_saving(n, in, out, NULL, err);
}

mq_status mq_maqd_lbn_forward_saved(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                    double saved[3], mq_err *err)
{
    return lbn_forward_saving(n, in, out, saved, err);
}

/* One row of LayerBatchNorm's backward sums: the sum of g and of g x over S values, four partial sums each
 * (lane j takes the elements k = j mod 4, the remainder goes to lane 0), added into a[4] and b[4]. Written
 * so that the compiler vectorizes it; the order of the additions is fixed. */
MQ_NOINLINE void mq_maqd_lbn_row_sums(size_t S, const float *restrict xp, const float *restrict gp, double *restrict a,
                                     double *restrict b)
{
    double sa[4], sb[4];
    for (int j = 0; j < 4; j++) {
        sa[j] = a[j];
        sb[j] = b[j];
    }
    size_t k = 0;
    for (; k + 4 <= S; k += 4)
        for (int j = 0; j < 4; j++) {
            sa[j] += gp[k + j];
            sb[j] += (double)gp[k + j] * xp[k + j];
        }
    for (; k < S; k++) {
        sa[0] += gp[k];
        sb[0] += (double)gp[k] * xp[k];
    }
    for (int j = 0; j < 4; j++) {
        a[j] = sa[j];
        b[j] = sb[j];
    }
}

void mq_maqd_lbn_dx_row(size_t S, float p, float q, float r, const float *restrict gp, const float *restrict xp,
                       float *restrict dp)
{
    for (size_t k = 0; k < S; k++) dp[k] = p * gp[k] + q * xp[k] + r;
}

void mq_maqd_lbn_backward_planes(size_t N, size_t C, size_t S, const float *gamma, int training, double eps,
                                 double mu, double var, const mq_lbn_planes *src, double *acc, float *const *din)
{
    double inv = 1.0 / sqrt(var + eps);
    size_t total = N * C * S;
    /* per channel: sum of gy and of gy * (x - mu) (= sum gy x - mu sum gy), four partial sums each; with acc,
     * the planes in memory order (each channel's sums still take its images in order: the same sums) */
    if (acc) {
        memset(acc, 0, sizeof(double) * 8 * C);
        for (size_t i = 0; i < N; i++)
            for (size_t c = 0; c < C; c++) src->sums(src->ctx, i, c, acc + 8 * c, acc + 8 * c + 4);
    }
    double sum_dxh = 0, sum_dxh_xh = 0, dmu_run = 0, dvar_run = 0;
    for (size_t c = 0; c < C; c++) {
        double a[4] = {0}, b[4] = {0};
        if (acc) {
            memcpy(a, acc + 8 * c, sizeof a);
            memcpy(b, acc + 8 * c + 4, sizeof b);
        } else
            for (size_t i = 0; i < N; i++) src->sums(src->ctx, i, c, a, b);
        double sg = (a[0] + a[1]) + (a[2] + a[3]), sgx = ((b[0] + b[1]) + (b[2] + b[3]) - mu * sg) * inv;
        if (din[1]) din[1][c] = (float)sgx;
        if (din[2]) din[2][c] = (float)sg;
        sum_dxh += gamma[c] * sg;
        sum_dxh_xh += gamma[c] * sgx;
        dmu_run -= gamma[c] * sg * inv;
        dvar_run += gamma[c] * sgx * (-0.5) / (var + eps);
    }
    if (din[3]) din[3][0] = training ? 0.0f : (float)dmu_run;
    if (din[4]) din[4][0] = training ? 0.0f : (float)dvar_run;
    if (!din[0]) return;
    double mean_dxh = total ? sum_dxh / (double)total : 0, mean_dxh_xh = total ? sum_dxh_xh / (double)total : 0;
    /* dx = inv (gamma g - mean_dxh - xh mean_dxh_xh), xh = (x - mu) inv: per channel p g + q x + r; the planes in
     * memory order (X and dX stream) */
    float q = 0, r = 0;
    if (training) {
        q = (float)(-inv * inv * mean_dxh_xh);
        r = (float)(inv * (mu * inv * mean_dxh_xh - mean_dxh));
    }
    for (size_t i = 0; i < N; i++)
        for (size_t c = 0; c < C; c++) src->dx(src->ctx, i, c, (float)(inv * gamma[c]), q, r, din[0] + (i * C + c) * S);
}

/* The planes of the op's own backward: X and dL/dY themselves. */
typedef struct lbn_tensors {
    const float *x, *g;
    size_t C, S;
} lbn_tensors;

static void lbn_tensor_sums(void *ctx, size_t i, size_t c, double a[4], double b[4])
{
    const lbn_tensors *t = ctx;
    size_t o = (i * t->C + c) * t->S;
    mq_maqd_lbn_row_sums(t->S, t->x + o, t->g + o, a, b);
}

static void lbn_tensor_dx(void *ctx, size_t i, size_t c, float p, float q, float r, float *dx)
{
    const lbn_tensors *t = ctx;
    size_t o = (i * t->C + c) * t->S;
    mq_maqd_lbn_dx_row(t->S, p, q, r, t->g + o, t->x + o, dx);
}

/* Backward: exact, through the batch statistics in training mode (they depend on X). */
static mq_status lbn_backward_saved(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                    const float *const *dout, float *const *din, const double *saved, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    (void)out;
    const mq_tensor *x = in[0];
    size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], S = prod(x->dims, 2, x->rank), total = N * C * S;
    const float *xs = x->data;
    int training = mq_attr_int(n, "training", 0) != 0;
    double eps = mq_attr_float(n, "epsilon", 1e-5f);
    double mu = ((const float *)in[3]->data)[0], var = ((const float *)in[4]->data)[0];
    if (training && saved) { /* the forward's statistics */
        mu = saved[0];
        var = saved[1];
    } else if (training) { /* the forward's statistics, recomputed the same way */
        double st[3];
        mq_maqd_lbn_batch_stats(xs, total, st);
        mu = st[0];
        var = st[1];
    }
    lbn_tensors t = {xs, dout[0], C, S};
    mq_lbn_planes src = {lbn_tensor_sums, lbn_tensor_dx, &t};
    mq_maqd_lbn_backward_planes(N, C, S, in[1]->data, training, eps, mu, var, &src, NULL, din);
    return MQ_OK;
}

static mq_status lbn_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              const float *const *dout, float *const *din, mq_err *err)
{
    return lbn_backward_saved(n, in, out, dout, din, NULL, err);
}

mq_status mq_maqd_lbn_backward_saved(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                     const float *const *dout, float *const *din, const double saved[3], mq_err *err)
{
    return lbn_backward_saved(n, in, out, dout, din, saved, err);
}

static const mq_op_def op_lbn = {.op_type = "LayerBatchNorm", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                 .min_in = 5, .max_in = 5, .min_out = 1, .max_out = 3, .infer = lbn_infer,
                                 .forward = lbn_forward, .inplace_in = 1, .lower = lbn_lower,
                                 .backward = lbn_backward};

/* ---- WeightQuant ---------------------------------------------------------------------------------- */

/* Input W; output w_q = SRC_n(WS(W); delta), same shape. Attributes: states n (2..256, required),
 * delta (default: mq_maqd_optimal_step(n)), eps_w (1e-5), axis (0: the output channel axis that WS
 * standardizes per; 1 for a MatMul [K, N] weight), standardize (1; 0 quantizes W itself). */
static mq_status wq_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_f32, err));
    int states = 2, axis = 0;
    float delta = 1.0f;
    MQ_TRY(states_attr(n, &states, err));
    MQ_TRY(step_of(n, in, 1.0f, 0, &delta, err));
    float eps = mq_attr_float(n, "eps_w", 1e-5f);
    if (!(eps >= 0) || isinf(eps)) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'eps_w' must be >= 0");
    int64_t stdz = mq_attr_int(n, "standardize", 1);
    if (stdz != 0 && stdz != 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'standardize' must be 0 or 1");
    if (in[0]->rank >= 0) {
        if (in[0]->rank < 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "W must have rank >= 1");
        MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), in[0]->rank, &axis, err));
    }
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

/* Lowering: kernel maqd_weight_quant_f32 (runtime/kernels/maqd.h); the default delta (the MSE-optimal
 * step) is computed here, on the host. */
static mq_status wq_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    (void)out;
    int states = 2, axis = 0;
    float delta = 1.0f;
    MQ_TRY(states_attr(n, &states, err));
    MQ_TRY(step_of(n, in, (float)mq_maqd_optimal_step(states), 1, &delta, err));
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), in[0]->rank, &axis, err));
    kc->kernel = "maqd_weight_quant_f32";
    kc->p[0] = states;
    kc->p[1] = mqr_f32_bits(delta);
    kc->p[2] = mqr_f32_bits(mq_attr_float(n, "eps_w", 1e-5f));
    kc->p[3] = axis;
    kc->p[4] = mq_attr_int(n, "standardize", 1) != 0;
    kc->n_p = 5;
    return MQ_OK;
}

/* Backward (MAQD.md section 4): straight-through where |w_hat / delta| <= (n-1)/2 + 1/2, then exactly
 * through WS. With a step input, also dL/d(step) = sum g (q - v pass), v = w_hat / delta, q the clipped
 * level (mq_grad_step_term). */
static mq_status wq_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    (void)out;
    float *dstep = n->n_in > 1 ? din[1] : NULL;
    if (!din[0] && !dstep) return MQ_OK;
    int states = 2, axis = 0;
    MQ_TRY(states_attr(n, &states, err));
    float delta = 1.0f;
    MQ_TRY(step_of(n, in, (float)mq_maqd_optimal_step(states), 1, &delta, err));
    const mq_tensor *w = in[0];
    MQ_TRY(mq_axis(n, mq_attr_int(n, "axis", 0), w->rank, &axis, err));
    size_t total = prod(w->dims, 0, w->rank), outer = prod(w->dims, 0, axis), inner = prod(w->dims, axis + 1, w->rank);
    float eps = mq_attr_float(n, "eps_w", 1e-5f);
    int stdz = mq_attr_int(n, "standardize", 1) != 0;
    const float *ws = w->data;
    float *what = stdz ? mq_malloc(sizeof(float) * (total ? 2 * total : 1)) : NULL;
    if (stdz && !what) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    const float *wh = ws;
    if (stdz) {
        mq_maqd_ws_f32(outer, (size_t)w->dims[axis], inner, ws, eps, what);
        wh = what;
    }
    if (dstep) {
        double sum = 0;
        for (size_t i = 0; i < total; i++) {
            float v = wh[i] / delta, h = 0.5f * (float)(states - 1), q = mq_maqd_round_level(v, states);
            q = q > h ? h : q < -h ? -h : q;
            sum += mq_grad_step_term(dout[0][i], q, v, (float)mq_grad_wq_pass(wh[i], states, delta));
        }
        dstep[0] = (float)sum;
    }
    if (din[0]) {
        float *g = stdz ? what + total : din[0];
        for (size_t i = 0; i < total; i++) g[i] = mq_grad_wq_pass(wh[i], states, delta) ? dout[0][i] : 0.0f;
        if (stdz) mq_grad_ws_f32(outer, (size_t)w->dims[axis], inner, ws, g, eps, din[0]);
    }
    mq_free(what);
    return MQ_OK;
}

/* Input 1 (optional): the step as a float32 value of one element (a learned step); it replaces 'delta'. */
static const mq_op_def op_wq = {.op_type = "WeightQuant", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1, .static_in = 2u,
                                .infer = wq_infer, .forward = mq_forward_lowered, .lower = wq_lower,
                                .backward = wq_backward};

/* ---- ActQuant ------------------------------------------------------------------------------------- */

/* Input X and (optional) the step: y = A_m(x; delta) = delta * clip(round(x / delta), 0, m-1), round ties
 * away from zero (C's roundf). Attributes: states m (2..256, required), delta (1.0 until calibrated; input 1,
 * one float32 value, replaces it: a learned step), training (0; the forward is the same in both modes, the
 * surrogate gradient differs). */
static mq_status aq_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_f32, err));
    int states = 2, training = 0;
    float delta = 1.0f;
    MQ_TRY(states_attr(n, &states, err));
    MQ_TRY(step_of(n, in, 1.0f, 0, &delta, err));
    MQ_TRY(training_attr(n, &training, err));
    mq_set_like(out[0], in[0]);
    return MQ_OK;
}

/* Lowering: kernel maqd_act_quant_f32 (runtime/kernels/maqd.h). */
static mq_status aq_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                          mq_err *err)
{
    (void)out;
    int states = 2;
    float delta = 1.0f;
    MQ_TRY(states_attr(n, &states, err));
    MQ_TRY(step_of(n, in, 1.0f, 1, &delta, err));
    kc->kernel = "maqd_act_quant_f32";
    kc->p[0] = states;
    kc->p[1] = mqr_f32_bits(delta);
    kc->n_p = 2;
    return MQ_OK;
}

/* dL/d(step) of ActQuant: sum over i of g (q - v s) (mq_grad_step_term), v = x / delta, q = clip(round(v), 0,
 * m-1) computed as floor(clip(v, 0, m-1) + 1/2) (the same for ties away from zero; exact in double, no libm
 * call), s the surrogate; eight partial sums in a fixed order, so that the compiler vectorizes the STE loop. */
MQ_NOINLINE static double aq_step_grad(size_t n, const float *restrict x, const float *restrict g, int states,
                                       float delta, int sigmoid)
{
    const float top = (float)(states - 1), hi = ((float)states - 0.5f) * delta;
    double acc[8] = {0};
    size_t i = 0;
    if (!sigmoid)
        for (; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++) {
                float xi = x[i + j], v = xi / delta, vc = v < 0 ? 0.0f : v > top ? top : v;
                float q = (float)(int32_t)((double)vc + 0.5), s = ((xi >= 0) & (xi <= hi)) ? 1.0f : 0.0f;
                acc[j] += (double)g[i + j] * ((double)q - (double)v * s);
            }
    for (; i < n; i++) {
        float xi = x[i], v = xi / delta, vc = v < 0 ? 0.0f : v > top ? top : v;
        float q = (float)(int32_t)((double)vc + 0.5);
        float s = sigmoid ? mq_grad_actq_surrogate(xi, states, delta, 1) : ((xi >= 0) & (xi <= hi)) ? 1.0f : 0.0f;
        acc[0] += mq_grad_step_term(g[i], q, v, s);
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Backward: the surrogate named by the attribute 'surrogate' ("ste" or "sigmoid", MAQD.md section 4).
 * With a step input, also dL/d(step) = sum g (q - v s), v = x / delta, q = clip(round(v), 0, m-1), s the
 * surrogate dy/dx (mq_grad_step_term). */
static mq_status aq_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    (void)out;
    int states = 2;
    MQ_TRY(states_attr(n, &states, err));
    float delta = 1.0f;
    MQ_TRY(step_of(n, in, 1.0f, 1, &delta, err));
    const char *sur = mq_attr_str(n, "surrogate", "ste");
    int sigmoid = strcmp(sur, "sigmoid") == 0;
    if (!sigmoid && strcmp(sur, "ste") != 0)
        return mq_node_fail(err, n, MQ_ERR_INVALID, "unknown surrogate '%s' (ste or sigmoid)", sur);
    const float *restrict x = in[0]->data, *restrict g = dout[0];
    float *restrict dx = din[0], *dstep = n->n_in > 1 ? din[1] : NULL;
    size_t total = prod(in[0]->dims, 0, in[0]->rank);
    if (dstep) dstep[0] = (float)aq_step_grad(total, x, g, states, delta, sigmoid);
    if (!dx) return MQ_OK;
    if (!sigmoid) {
        float hi = ((float)states - 0.5f) * delta;
        for (size_t i = 0; i < total; i++) {
            float xi = x[i], gi = g[i]; /* both loaded unconditionally: the select vectorizes */
            dx[i] = ((xi >= 0) & (xi <= hi)) ? gi : 0.0f;
        }
    } else
        for (size_t i = 0; i < total; i++) dx[i] = g[i] * mq_grad_actq_surrogate(x[i], states, delta, 1);
    return MQ_OK;
}

static const mq_op_def op_aq = {.op_type = "ActQuant", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1, .static_in = 2u,
                                .infer = aq_infer, .forward = mq_forward_lowered, .inplace_in = 1,
                                .lower = aq_lower, .backward = aq_backward};

const mq_op_def *const mq_ops_maqd[] = {&op_lbn, &op_wq, &op_aq, NULL};
