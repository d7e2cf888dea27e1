/* reduce_einsum.c: Einsum (general index loops over the labels: transpose, (batch) matmul, diagonal,
 * sums, inner/outer products, '...' broadcasting) and Det. Part of the 'reduce' family (reduce.c). */
#include "ops/util.h"

#include <math.h>
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

static mq_status einsum_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    ein_plan *p = mq_malloc(sizeof *p);
    if (!p) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    mq_status s = ein_plan_make(n, in, p, err);
    if (s != MQ_OK) {
        mq_free(p);
        return s;
    }
    /* loop order: output labels, then the summed ones */
    int loop[EIN_LABELS], nl = 0, in_out[EIN_LABELS] = {0};
    for (int d = 0; d < p->out.n; d++) {
        loop[nl++] = p->out.lab[d];
        in_out[p->out.lab[d]] = 1;
    }
    int n_outer = nl;
    for (int l = 0; l < EIN_LABELS; l++)
        if (p->used[l] && !in_out[l]) loop[nl++] = l;
    /* per-input strides per loop position */
    int64_t (*st)[EIN_LABELS] = mq_calloc((size_t)p->n_in, sizeof *st);
    if (!st) {
        mq_free(p);
        return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < p->n_in; i++) {
        int64_t cs[MQ_MAX_RANK];
        mq_strides(in[i]->rank, in[i]->dims, cs);
        for (int d = 0; d < p->in[i].n; d++) {
            int l = p->in[i].lab[d];
            if (in[i]->dims[d] == 1 && p->size[l] != 1) continue;
            for (int k = 0; k < nl; k++)
                if (loop[k] == l) st[i][k] += cs[d];
        }
    }
    int64_t inner_total = 1, outer_total = 1;
    for (int k = 0; k < nl; k++) {
        if (k < n_outer)
            outer_total *= p->size[loop[k]];
        else
            inner_total *= p->size[loop[k]];
    }
    mq_tensor *y = out[0];
    int is_int = mq_dtype_is_int(y->dtype);
    int64_t idx[EIN_LABELS] = {0}, off[EIN_MAX_IN] = {0};
    for (int64_t o = 0; o < outer_total; o++) {
        double acc = 0;
        int64_t iacc = 0;
        for (int64_t c = 0; c < inner_total; c++) {
            if (is_int) {
                int64_t prod = 1;
                for (int i = 0; i < p->n_in; i++)
                    prod = (int64_t)((uint64_t)prod * (uint64_t)mq_load_i64(in[i]->data, in[i]->dtype, (size_t)off[i]));
                iacc = (int64_t)((uint64_t)iacc + (uint64_t)prod);
            } else {
                double prod = 1;
                for (int i = 0; i < p->n_in; i++) prod *= mq_load_f64(in[i]->data, in[i]->dtype, (size_t)off[i]);
                acc += prod;
            }
            /* advance the summed labels (innermost last) */
            for (int k = nl - 1; k >= n_outer; k--) {
                for (int i = 0; i < p->n_in; i++) off[i] += st[i][k];
                if (++idx[k] < p->size[loop[k]]) break;
                for (int i = 0; i < p->n_in; i++) off[i] -= st[i][k] * p->size[loop[k]];
                idx[k] = 0;
            }
        }
        if (is_int)
            mq_store_i64(y->data, y->dtype, (size_t)o, iacc);
        else
            mq_store_f64(y->data, y->dtype, (size_t)o, acc);
        for (int k = n_outer - 1; k >= 0; k--) {
            for (int i = 0; i < p->n_in; i++) off[i] += st[i][k];
            if (++idx[k] < p->size[loop[k]]) break;
            for (int i = 0; i < p->n_in; i++) off[i] -= st[i][k] * p->size[loop[k]];
            idx[k] = 0;
        }
    }
    mq_free(st);
    mq_free(p);
    return MQ_OK;
}

const mq_op_def mq_def_einsum = {.op_type = "Einsum", .domain = "", .since = 12, .until = 0, .min_in = 1,
                                 .max_in = -1, .min_out = 1, .max_out = 1, .infer = einsum_infer,
                                 .forward = einsum_forward};

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

static mq_status det_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    const mq_tensor *x = in[0];
    int64_t m = x->dims[x->rank - 1], batch = mq_numel(out[0]);
    size_t mm;
    if (mq_mul_size((size_t)m, (size_t)m, &mm) != 0) return mq_node_fail(err, n, MQ_ERR_LIMIT, "matrix too large");
    double *a = mq_calloc(mm ? mm : 1, sizeof(double));
    if (!a) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory");
    for (int64_t b = 0; b < batch; b++) {
        for (size_t i = 0; i < mm; i++) a[i] = mq_load_f64(x->data, x->dtype, (size_t)b * mm + i);
        double det = 1;
        for (int64_t c = 0; c < m; c++) {
            int64_t piv = c;
            for (int64_t r = c + 1; r < m; r++)
                if (fabs(a[r * m + c]) > fabs(a[piv * m + c])) piv = r;
            if (a[piv * m + c] == 0) {
                det = 0;
                break;
            }
            if (piv != c) {
                for (int64_t k = 0; k < m; k++) {
                    double t = a[c * m + k];
                    a[c * m + k] = a[piv * m + k];
                    a[piv * m + k] = t;
                }
                det = -det;
            }
            double d = a[c * m + c];
            det *= d;
            for (int64_t r = c + 1; r < m; r++) {
                double f = a[r * m + c] / d;
                for (int64_t k = c; k < m; k++) a[r * m + k] -= f * a[c * m + k];
            }
        }
        mq_store_f64(out[0]->data, out[0]->dtype, (size_t)b, det);
    }
    mq_free(a);
    return MQ_OK;
}

const mq_op_def mq_def_det = {.op_type = "Det", .domain = "", .since = 11, .until = 0, .min_in = 1, .max_in = 1,
                              .min_out = 1, .max_out = 1, .infer = det_infer, .forward = det_forward};
