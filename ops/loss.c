/* loss.c: op family 'loss': NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+), lowered to
 * runtime/kernels/misc_loss.c, MaQD's DistillLoss (ai.maqd), their backward rules, and the trainer's
 * softmax cross-entropy and distillation kernels (ops/loss.h). */
#include "ops/loss.h"
#include "ops/grad.h"
#include "ops/maqd.h"
#include "ops/util.h"
#include "runtime/kernels/misc_loss.h"

#include <math.h>
#include <string.h>

/* ---- the trainer's kernel ------------------------------------------------------------------------ */

int mq_softmax_xent_mean_f32(size_t n, size_t c, const float *logits, const int64_t *labels, float *loss,
                             float *grad)
{
    if (c == 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (uint64_t)labels[i] >= (uint64_t)c) return -1;
    double total = 0, inv_n = n > 0 ? 1.0 / (double)n : 0;
    for (size_t i = 0; i < n; i++) {
        const float *x = logits + i * c;
        double mx = x[0];
        for (size_t j = 1; j < c; j++)
            if (x[j] > mx) mx = x[j];
        double s = 0;
        for (size_t j = 0; j < c; j++) s += exp((double)x[j] - mx);
        double lse = mx + log(s);
        size_t t = (size_t)labels[i];
        total += lse - (double)x[t];
        if (grad) {
            float *g = grad + i * c;
            for (size_t j = 0; j < c; j++) {
                double p = exp((double)x[j] - lse);
                g[j] = (float)((p - (j == t ? 1.0 : 0.0)) * inv_n);
            }
        }
    }
    *loss = (float)(total * inv_n);
    return 0;
}

/* softmax(z / T) of one row into p (double). */
static void soft_row(const float *z, size_t c, double T, double *p)
{
    double mx = -INFINITY, s = 0;
    for (size_t j = 0; j < c; j++) mx = fmax(mx, z[j] / T);
    for (size_t j = 0; j < c; j++) s += (p[j] = exp(z[j] / T - mx));
    for (size_t j = 0; j < c; j++) p[j] /= s;
}

int mq_distill_kl_mean_f32(size_t n, size_t c, const float *student, const float *teacher, double T, double scale,
                           double *loss, float *grad_s, float *grad_t, double *work)
{
    if (c == 0 || !(T > 0)) return -1;
    double kl = 0, dn = n ? (double)n : 1;
    for (size_t i = 0; i < n; i++) {
        double *pt = work + c, *ps = work, kli = 0;
        soft_row(teacher + i * c, c, T, pt);
        soft_row(student + i * c, c, T, ps);
        for (size_t j = 0; j < c; j++) {
            if (pt[j] > 0) kli += pt[j] * (log(pt[j]) - log(ps[j] > 1e-300 ? ps[j] : 1e-300));
            if (grad_s) grad_s[i * c + j] += (float)(scale * T * (ps[j] - pt[j]) / dn);
        }
        if (grad_t)
            for (size_t j = 0; j < c; j++) {
                double d = pt[j] > 0 ? log(pt[j]) - log(ps[j] > 1e-300 ? ps[j] : 1e-300) - kli : 0;
                grad_t[i * c + j] += (float)(scale * T * pt[j] * d / dn);
            }
        kl += kli;
    }
    *loss = T * T * kl / dn;
    return 0;
}

/* ---- shared op plumbing ----------------------------------------------------------------------------- */

typedef enum loss_red { LOSS_NONE, LOSS_SUM, LOSS_MEAN } loss_red;

static mq_status loss_reduction(const mq_node *n, loss_red *red, mq_err *err)
{
    const char *s = mq_attr_str(n, "reduction", "mean");
    if (strcmp(s, "none") == 0) *red = LOSS_NONE;
    else if (strcmp(s, "sum") == 0) *red = LOSS_SUM;
    else if (strcmp(s, "mean") == 0) *red = LOSS_MEAN;
    else return mq_node_fail(err, n, MQ_ERR_INVALID, "reduction '%s' is not one of none, sum, mean", s);
    return MQ_OK;
}

/* Inputs: x [N, C, d1..dk] (float), target [N, d1..dk] (int32/int64), weight [C] (optional, x's type).
 * Outputs: loss ([N, d1..dk] for reduction none, else a scalar); for SoftmaxCrossEntropyLoss an optional
 * log_prob shaped like x. */
static mq_status loss_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    const mq_tensor *x = in[0], *t = in[1], *w = n->n_in > 2 ? in[2] : NULL;
    MQ_TRY(mq_require_dtype(n, x, mq_types_float, err));
    MQ_TRY(mq_require_dtype(n, t, mq_types_index, err));
    if (w) {
        if (w->dtype != x->dtype)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "weight dtype %s differs from input dtype %s",
                                mq_dtype_name(w->dtype), mq_dtype_name(x->dtype));
        if (w->rank >= 0 && w->rank != 1)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "weight must be 1-D, not rank %d", w->rank);
    }
    loss_red red = LOSS_MEAN;
    MQ_TRY(loss_reduction(n, &red, err));
    if (x->rank >= 0 && x->rank < 2)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must have rank >= 2 (N x C x ...), not %d", x->rank);
    if (x->rank >= 0 && t->rank >= 0) {
        if (t->rank != x->rank - 1)
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "target rank %d must be input rank %d minus 1", t->rank,
                                x->rank);
        for (int d = 0; d < t->rank; d++) {
            int64_t xd = x->dims[d == 0 ? 0 : d + 1];
            if (t->dims[d] != xd)
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "target dimension %d is %lld, input has %lld", d,
                                    (long long)t->dims[d], (long long)xd);
        }
        if (w && w->rank == 1 && w->dims[0] != x->dims[1])
            return mq_node_fail(err, n, MQ_ERR_SHAPE, "weight has %lld entries for %lld classes",
                                (long long)w->dims[0], (long long)x->dims[1]);
    }
    if (red == LOSS_NONE) {
        if (t->rank >= 0) mq_set_out(out[0], x->dtype, t->rank, t->dims);
        else if (x->rank >= 0) {
            int64_t dims[MQ_MAX_RANK];
            dims[0] = x->dims[0];
            for (int d = 2; d < x->rank; d++) dims[d - 1] = x->dims[d];
            mq_set_out(out[0], x->dtype, x->rank - 1, dims);
        } else {
            mq_set_out(out[0], x->dtype, -1, NULL);
        }
    } else {
        mq_set_out(out[0], x->dtype, 0, NULL);
    }
    if (n->n_out > 1 && out[1]) mq_set_like(out[1], x);
    return MQ_OK;
}

/* Lowering of both ops: kernel loss_nll (runtime/kernels/misc_loss.h). */
static mq_status loss_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    (void)in;
    (void)out;
    loss_red red = LOSS_MEAN;
    MQ_TRY(loss_reduction(n, &red, err));
    const mq_attr *ii = mq_attr_get(n, "ignore_index");
    uint64_t iv = ii ? (uint64_t)ii->i : 0;
    kc->kernel = "loss_nll";
    kc->p[0] = strcmp(n->op_type, "SoftmaxCrossEntropyLoss") == 0;
    kc->p[1] = red == LOSS_NONE ? MQK_LOSS_NONE : red == LOSS_SUM ? MQK_LOSS_SUM : MQK_LOSS_MEAN;
    kc->p[2] = ii != NULL;
    kc->p[3] = (int32_t)(uint32_t)(iv & 0xffffffffu);
    kc->p[4] = (int32_t)(uint32_t)(iv >> 32);
    kc->n_p = 5;
    return MQ_OK;
}

/* The kernel ignores targets outside [0, C); the host reports them first. */
static mq_status loss_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0], *t = in[1];
    const mq_attr *ii = mq_attr_get(n, "ignore_index");
    int64_t C = x->dims[1], nt = mq_numel(t);
    for (int64_t k = 0; k < nt; k++) {
        int64_t c = mq_load_i64(t->data, t->dtype, (size_t)k);
        if ((ii && c == ii->i) || (c >= 0 && c < C)) continue;
        return mq_node_fail(err, n, MQ_ERR_INVALID, "target %lld at element %lld is outside [0, %lld)", (long long)c,
                            (long long)k, (long long)C);
    }
    return mq_forward_lowered(n, in, out, err);
}

/* Backward of both ops (float32 x): per element (i, d) with target t not ignored, the loss term is
 * -w_t lp[i, t, d] (lp: log_softmax(x) over C for SCE, x itself for NLL), scaled by dL/dloss (none), by the
 * scalar's gradient (sum), or by it over W = the sum of the weights used (mean). dL/dlog_prob (SCE's
 * optional output 1) adds to dL/dlp; SCE maps dL/dlp to dx = dlp - softmax(x) sum_c dlp. */
static mq_status loss_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    const mq_tensor *x = in[0], *t = in[1], *w = n->n_in > 2 ? in[2] : NULL;
    if (n->n_in > 1 && din[1]) return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "no gradient for the targets");
    loss_red red = LOSS_MEAN;
    MQ_TRY(loss_reduction(n, &red, err));
    int sce = strcmp(n->op_type, "SoftmaxCrossEntropyLoss") == 0;
    const mq_attr *ii = mq_attr_get(n, "ignore_index");
    size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], D = (size_t)(mq_numel(x) / (x->dims[0] * x->dims[1]));
    if (N * C * D == 0) {
        if (din[0]) memset(din[0], 0, sizeof(float) * N * C * D);
        if (w && din[2]) memset(din[2], 0, sizeof(float) * C);
        return MQ_OK;
    }
    const float *xs = x->data, *ws = w ? w->data : NULL, *g = dout[0];
    const float *glp = n->n_out > 1 && out[1] ? dout[1] : NULL;
    double *lp = mq_malloc(sizeof(double) * N * C * D);
    double *dlp = mq_calloc(N * C * D, sizeof(double));
    if (!lp || !dlp) {
        mq_free(lp);
        mq_free(dlp);
        return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < N; i++)
        for (size_t d = 0; d < D; d++) {
            double mx = -INFINITY, s = 0;
            for (size_t c = 0; c < C; c++) mx = fmax(mx, xs[(i * C + c) * D + d]);
            if (sce)
                for (size_t c = 0; c < C; c++) s += exp(xs[(i * C + c) * D + d] - mx);
            for (size_t c = 0; c < C; c++)
                lp[(i * C + c) * D + d] = sce ? xs[(i * C + c) * D + d] - mx - log(s) : xs[(i * C + c) * D + d];
        }
    double W = 0, S = 0;
    for (size_t k = 0; k < N * D; k++) {
        int64_t tc = mq_load_i64(t->data, t->dtype, k);
        if ((ii && tc == ii->i) || tc < 0 || (size_t)tc >= C) continue;
        size_t i = k / D, d = k % D;
        double wt = ws ? ws[tc] : 1.0;
        W += wt;
        S -= wt * lp[(i * C + (size_t)tc) * D + d];
    }
    if (w && din[2]) memset(din[2], 0, sizeof(float) * C);
    for (size_t k = 0; k < N * D; k++) {
        int64_t tc = mq_load_i64(t->data, t->dtype, k);
        if ((ii && tc == ii->i) || tc < 0 || (size_t)tc >= C) continue;
        size_t i = k / D, d = k % D, e = (i * C + (size_t)tc) * D + d;
        double wt = ws ? ws[tc] : 1.0, coef = red == LOSS_NONE ? g[k] : red == LOSS_SUM ? g[0] : g[0] / W;
        dlp[e] -= coef * wt;
        if (w && din[2]) /* mean: L = S / W, and W depends on the weights too */
            din[2][tc] += (float)(red == LOSS_MEAN ? g[0] * (-lp[e] - S / W) / W : -coef * lp[e]);
    }
    if (glp)
        for (size_t e = 0; e < N * C * D; e++) dlp[e] += glp[e];
    if (din[0]) {
        for (size_t i = 0; i < N; i++)
            for (size_t d = 0; d < D; d++) {
                double s = 0;
                if (sce)
                    for (size_t c = 0; c < C; c++) s += dlp[(i * C + c) * D + d];
                for (size_t c = 0; c < C; c++) {
                    size_t e = (i * C + c) * D + d;
                    din[0][e] = (float)(sce ? dlp[e] - exp(lp[e]) * s : dlp[e]);
                }
            }
    }
    mq_free(lp);
    mq_free(dlp);
    return MQ_OK;
}

static const mq_op_def def_nll = {.op_type = "NegativeLogLikelihoodLoss", .domain = "", .since = 12, .until = 0,
                                  .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1, .infer = loss_infer,
                                  .forward = loss_forward, .lower = loss_lower, .backward = loss_backward};
static const mq_op_def def_sce = {.op_type = "SoftmaxCrossEntropyLoss", .domain = "", .since = 12, .until = 0,
                                  .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 2, .infer = loss_infer,
                                  .forward = loss_forward, .lower = loss_lower, .backward = loss_backward};

/* ---- DistillLoss (ai.maqd) ---------------------------------------------------------------------------- */

/* Inputs: student logits [N, C], teacher logits [N, C] (float32). Attribute temperature T (default 4,
 * > 0). Output: the scalar T^2 mean_i KL(softmax(teacher_i / T) || softmax(student_i / T)), the trainer's
 * distillation term (train/train.c runs the same kernel, mq_distill_kl_mean_f32). Host only. */
static mq_status distill_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    static const mq_dtype f32[] = {MQ_F32, MQ_UNDEFINED};
    for (int i = 0; i < 2; i++) {
        MQ_TRY(mq_require_input(n, in, i, err));
        MQ_TRY(mq_require_dtype(n, in[i], f32, err));
    }
    if (!(mq_attr_float(n, "temperature", 4.0f) > 0))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute 'temperature' must be > 0");
    if (in[0]->rank >= 0 && in[1]->rank >= 0 &&
        (in[0]->rank != 2 || in[1]->rank != 2 || in[0]->dims[0] != in[1]->dims[0] || in[0]->dims[1] != in[1]->dims[1]))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "student and teacher logits must both be [N, C]");
    mq_set_out(out[0], MQ_F32, 0, NULL);
    return MQ_OK;
}

static mq_status distill_run(const mq_node *n, const mq_tensor *const *in, float *loss, float g, float *ds, float *dt,
                             mq_err *err)
{
    size_t N = (size_t)in[0]->dims[0], C = (size_t)in[0]->dims[1];
    double *work = mq_malloc(sizeof(double) * 2 * (C ? C : 1)), l = 0;
    if (!work) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    if (ds) memset(ds, 0, sizeof(float) * N * C);
    if (dt) memset(dt, 0, sizeof(float) * N * C);
    int rc = mq_distill_kl_mean_f32(N, C, in[0]->data, in[1]->data, mq_attr_float(n, "temperature", 4.0f), g, &l, ds,
                                    dt, work);
    mq_free(work);
    if (rc != 0) return mq_node_fail(err, n, MQ_ERR_SHAPE, "no classes");
    if (loss) *loss = (float)l;
    return MQ_OK;
}

static mq_status distill_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return distill_run(n, in, out[0]->data, 0.0f, NULL, NULL, err);
}

static mq_status distill_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                  const float *const *dout, float *const *din, mq_err *err)
{
    (void)out;
    return distill_run(n, in, NULL, dout[0][0], din[0], din[1], err);
}

static const mq_op_def def_distill = {.op_type = "DistillLoss", .domain = MQ_MAQD_DOMAIN, .since = 1, .until = 0,
                                      .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1, .infer = distill_infer,
                                      .forward = distill_forward, .backward = distill_backward};

const mq_op_def *const mq_ops_loss[] = {&def_nll, &def_sce, &def_distill, NULL};
