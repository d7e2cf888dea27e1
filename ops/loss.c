/* loss.c: op family 'loss': NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+), lowered to
 * runtime/kernels/misc_loss.c, and the trainer's 2-D softmax cross-entropy with its gradient (ops/loss.h). */
#include "ops/loss.h"
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

static const mq_op_def def_nll = {.op_type = "NegativeLogLikelihoodLoss", .domain = "", .since = 12, .until = 0,
                                  .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1, .infer = loss_infer,
                                  .forward = loss_forward, .lower = loss_lower};
static const mq_op_def def_sce = {.op_type = "SoftmaxCrossEntropyLoss", .domain = "", .since = 12, .until = 0,
                                  .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 2, .infer = loss_infer,
                                  .forward = loss_forward, .lower = loss_lower};

const mq_op_def *const mq_ops_loss[] = {&def_nll, &def_sce, NULL};
