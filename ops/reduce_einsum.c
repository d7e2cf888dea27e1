/* reduce_einsum.c: Einsum (equation parsing and the loop-nest plan: transpose, (batch) matmul, diagonal, sums,
 * '...' broadcasting) and Det, lowered to runtime/kernels/reduce_einsum.c. Part of the 'reduce' family. */
#include "ops/util.h"
#include "runtime/kernels/reduce_einsum.h"

#include <string.h>

/* ---- Einsum -------------------------------------------------------------------------------------- */

#define EIN_MAX_IN 16
#define EIN_ELL 52                      /* labels 52.. are the broadcast ('...') dimensions */
#define EIN_LABELS (EIN_ELL + MQ_MAX_RANK)

typedef struct ein_term {
    int n;                              /* labels in the term (after '...' expansion) */
    int lab[MQ_MAX_RANK];
    int has_ell;
} ein_term;

typedef struct ein_plan {
    int n_in;
    ein_term in[EIN_MAX_IN];
    ein_term out;
    int n_ell;                          /* broadcast dimensions */
    int64_t size[EIN_LABELS];
    int used[EIN_LABELS];
} ein_plan;

static int ein_letter(char c)
{
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
    return -1;
}

/* Parse one term between s and e into letters (ell position marked with -2). */
static mq_status ein_parse_term(const mq_node *n, const char *s, const char *e, int *raw, int *nraw, int *has_ell,
                                mq_err *err)
{
    int k = 0;
    *has_ell = 0;
    for (const char *p = s; p < e; p++) {
        if (*p == ' ') continue;
        if (*p == '.') {
            if (e - p < 3 || p[1] != '.' || p[2] != '.' || *has_ell)
                return mq_node_fail(err, n, MQ_ERR_INVALID, "bad '...' in equation");
            *has_ell = 1;
            p += 2;
            if (k >= 2 * MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_INVALID, "term too long");
            raw[k++] = -2;
            continue;
        }
        int l = ein_letter(*p);
        if (l < 0) return mq_node_fail(err, n, MQ_ERR_INVALID, "bad character '%c' in equation", *p);
        if (k >= 2 * MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_INVALID, "term too long");
        raw[k++] = l;
    }
    *nraw = k;
    return MQ_OK;
}

/* Expand a raw term for a tensor of rank `rank` (or for the output when rank < 0). */
static mq_status ein_expand(const mq_node *n, const int *raw, int nraw, int has_ell, int rank, int n_ell,
                            ein_term *t, mq_err *err)
{
    int letters = nraw - has_ell;
    int e = rank >= 0 ? rank - letters : n_ell;
    if (e < 0 || (!has_ell && e != 0))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "equation term does not match input rank %d", rank);
    if (letters + e > MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_LIMIT, "einsum term rank too large");
    t->n = 0;
    t->has_ell = has_ell;
    for (int i = 0; i < nraw; i++) {
        if (raw[i] == -2) {
            for (int j = 0; j < e; j++) t->lab[t->n++] = EIN_ELL + (n_ell - e) + j;
        } else {
            t->lab[t->n++] = raw[i];
        }
    }
    return MQ_OK;
}

static mq_status ein_plan_make(const mq_node *n, const mq_tensor *const *in, ein_plan *p, mq_err *err)
{
    const char *eq = mq_attr_str(n, "equation", NULL);
    if (!eq) return mq_node_fail(err, n, MQ_ERR_INVALID, "missing attribute 'equation'");
    if (n->n_in > EIN_MAX_IN) return mq_node_fail(err, n, MQ_ERR_LIMIT, "too many inputs");
    memset(p, 0, sizeof *p);
    p->n_in = n->n_in;
    const char *arrow = strstr(eq, "->");
    const char *lhs_end = arrow ? arrow : eq + strlen(eq);
    int raw[EIN_MAX_IN][2 * MQ_MAX_RANK], nraw[EIN_MAX_IN], hell[EIN_MAX_IN];
    const char *s = eq;
    int t = 0;
    for (;;) {
        const char *c = memchr(s, ',', (size_t)(lhs_end - s));
        const char *e = c ? c : lhs_end;
        if (t >= p->n_in) return mq_node_fail(err, n, MQ_ERR_INVALID, "equation has more terms than inputs");
        MQ_TRY(ein_parse_term(n, s, e, raw[t], &nraw[t], &hell[t], err));
        t++;
        if (!c) break;
        s = c + 1;
    }
    if (t != p->n_in) return mq_node_fail(err, n, MQ_ERR_INVALID, "equation has %d terms for %d inputs", t, p->n_in);
    for (int i = 0; i < t; i++) {
        if (!in[i]) return mq_node_fail(err, n, MQ_ERR_INVALID, "input %d is required", i);
        int e = in[i]->rank - (nraw[i] - hell[i]);
        if (hell[i] && e > p->n_ell) p->n_ell = e;
    }
    for (int i = 0; i < t; i++) {
        MQ_TRY(ein_expand(n, raw[i], nraw[i], hell[i], in[i]->rank, p->n_ell, &p->in[i], err));
        for (int d = 0; d < p->in[i].n; d++) {
            int l = p->in[i].lab[d];
            int64_t sz = in[i]->dims[d];
            if (!p->used[l] || p->size[l] == 1) {
                p->size[l] = sz;
            } else if (sz != 1 && sz != p->size[l]) {
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "label '%c' has sizes %lld and %lld",
                                    l < EIN_ELL ? (l < 26 ? 'a' + l : 'A' + l - 26) : '.', (long long)p->size[l],
                                    (long long)sz);
            }
            p->used[l]++;
        }
    }
    if (arrow) {
        int oraw[2 * MQ_MAX_RANK], on, oh;
        MQ_TRY(ein_parse_term(n, arrow + 2, arrow + strlen(arrow), oraw, &on, &oh, err));
        if (!oh && p->n_ell > 0) {
            /* numpy allows dropping '...' only if the broadcast dims are summed; keep it simple: sum them */
        }
        MQ_TRY(ein_expand(n, oraw, on, oh, -1, oh ? p->n_ell : 0, &p->out, err));
        for (int d = 0; d < p->out.n; d++) {
            int l = p->out.lab[d];
            if (!p->used[l] && l < EIN_ELL)
                return mq_node_fail(err, n, MQ_ERR_INVALID, "output label not in any input");
            for (int d2 = 0; d2 < d; d2++)
                if (p->out.lab[d2] == l) return mq_node_fail(err, n, MQ_ERR_INVALID, "repeated output label");
        }
    } else {
        p->out.n = 0;
        for (int j = 0; j < p->n_ell; j++) p->out.lab[p->out.n++] = EIN_ELL + j;
        for (int l = 26; l < 52; l++) /* uppercase sorts before lowercase, as in ASCII */
            if (p->used[l] == 1) {
                if (p->out.n >= MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_LIMIT, "output rank too large");
                p->out.lab[p->out.n++] = l;
            }
        for (int l = 0; l < 26; l++)
            if (p->used[l] == 1) {
                if (p->out.n >= MQ_MAX_RANK) return mq_node_fail(err, n, MQ_ERR_LIMIT, "output rank too large");
                p->out.lab[p->out.n++] = l;
            }
    }
    for (int j = 0; j < p->n_ell; j++)
        if (!p->used[EIN_ELL + j]) p->size[EIN_ELL + j] = 1;
    return MQ_OK;
}

static mq_status einsum_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    if (n->n_in < 1) return mq_node_fail(err, n, MQ_ERR_INVALID, "needs at least one input");
    for (int i = 0; i < n->n_in; i++) {
        MQ_TRY(mq_require_input(n, in, i, err));
        MQ_TRY(mq_require_dtype(n, in[i], mq_types_numeric, err));
        if (in[i]->dtype != in[0]->dtype) return mq_node_fail(err, n, MQ_ERR_SHAPE, "inputs differ in dtype");
        if (in[i]->rank < 0) {
            mq_set_out(out[0], in[0]->dtype, -1, NULL);
            return MQ_OK;
        }
    }
    ein_plan *p = mq_malloc(sizeof *p);
    if (!p) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    mq_status s = ein_plan_make(n, in, p, err);
    if (s == MQ_OK) {
        int64_t dims[MQ_MAX_RANK];
        for (int d = 0; d < p->out.n; d++) dims[d] = p->size[p->out.lab[d]];
        mq_set_out(out[0], in[0]->dtype, p->out.n, dims);
    }
    mq_free(p);
    return s;
}

/* Lowering: the loop nest of kernel einsum (runtime/kernels/reduce_einsum.h): output labels first, then
 * the summed ones, with each input's element stride per loop. */
static mq_status einsum_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                              mq_kcall *kc, mq_err *err)
{
    (void)out;
    ein_plan *p = mq_malloc(sizeof *p);
    if (!p) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    mq_status s = ein_plan_make(n, in, p, err);
    if (s != MQ_OK) {
        mq_free(p);
        return s;
    }
    int loop[EIN_LABELS], nl = 0, in_out[EIN_LABELS] = {0};
    for (int d = 0; d < p->out.n; d++) {
        loop[nl++] = p->out.lab[d];
        in_out[p->out.lab[d]] = 1;
    }
    int n_outer = nl;
    for (int l = 0; l < EIN_LABELS; l++)
        if (p->used[l] && !in_out[l]) loop[nl++] = l;
    if (nl > MQK_EIN_MAX_LOOPS || p->n_in > MQK_EIN_MAX_IN || 3 + nl * (1 + p->n_in) > MQR_MAX_PARAMS) {
        mq_free(p);
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "%d labels over %d inputs exceed the kernel's parameters", nl,
                            n->n_in);
    }
    kc->kernel = "einsum";
    kc->p[0] = p->n_in;
    kc->p[1] = nl;
    kc->p[2] = n_outer;
    for (int k = 0; k < nl; k++) kc->p[3 + k] = (int32_t)p->size[loop[k]];
    int32_t *st = kc->p + 3 + nl;
    memset(st, 0, sizeof(int32_t) * (size_t)(nl * p->n_in));
    for (int i = 0; i < p->n_in; i++) {
        int64_t cs[MQ_MAX_RANK];
        mq_strides(in[i]->rank, in[i]->dims, cs);
        for (int d = 0; d < p->in[i].n; d++) {
            int l = p->in[i].lab[d];
            if (in[i]->dims[d] == 1 && p->size[l] != 1) continue;
            for (int k = 0; k < nl; k++)
                if (loop[k] == l) st[i * nl + k] += (int32_t)cs[d];
        }
    }
    kc->n_p = 3 + nl * (1 + p->n_in);
    mq_free(p);
    return MQ_OK;
}

const mq_op_def mq_def_einsum = {.op_type = "Einsum", .domain = "", .since = 12, .until = 0, .min_in = 1,
                                 .max_in = -1, .min_out = 1, .max_out = 1, .infer = einsum_infer,
                                 .forward = mq_forward_lowered, .lower = einsum_lower};

/* ---- Det ----------------------------------------------------------------------------------------- */

static mq_status det_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    const mq_tensor *x = in[0];
    MQ_TRY(mq_require_dtype(n, x, mq_types_float, err));
    if (x->rank < 0) {
        mq_set_out(out[0], x->dtype, -1, NULL);
        return MQ_OK;
    }
    if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2])
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "input must be [..., M, M]");
    mq_set_out(out[0], x->dtype, x->rank - 2, x->dims);
    return MQ_OK;
}

/* Lowering: kernel det (runtime/kernels/reduce_einsum.h). */
static mq_status det_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                           mq_err *err)
{
    (void)out;
    size_t m = (size_t)in[0]->dims[in[0]->rank - 1], mm;
    if (mq_mul_size(m, m, &mm) != 0 || mq_mul_size(mm, sizeof(double), &kc->scratch_bytes) != 0)
        return mq_node_fail(err, n, MQ_ERR_LIMIT, "matrix too large");
    kc->kernel = "det";
    kc->n_p = 0;
    return MQ_OK;
}

const mq_op_def mq_def_det = {.op_type = "Det", .domain = "", .since = 11, .until = 0, .min_in = 1, .max_in = 1,
                              .min_out = 1, .max_out = 1, .infer = det_infer, .forward = mq_forward_lowered,
                              .lower = det_lower};
