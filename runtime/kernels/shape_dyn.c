/* shape_dyn.c: kernels with data-dependent output shapes (NonZero, Compress, Unique, NonMaxSuppression;
 * see shape_dyn.h): values written compactly for the actual shape, actual dims into an int32 tensor. */
#include "runtime/kernels/shape_dyn.h"
#include "runtime/kernels/shape_check.h"

#include <math.h>
#include <string.h>

/* Element i of a against element j of b (both of dtype dt): (x > y) - (x < y), so NaN equals anything. */
static int dyn_cmp(int32_t dt, const void *a, size_t i, const void *b, size_t j)
{
#define MQK_DYN_CMP(T)                                                                             \
    {                                                                                              \
        T x = ((const T *)a)[i], y = ((const T *)b)[j];                                            \
        return (x > y) - (x < y);                                                                  \
    }
    switch (dt) {
    case MQR_F32: MQK_DYN_CMP(float)
    case MQR_F64: MQK_DYN_CMP(double)
    case MQR_I8: MQK_DYN_CMP(int8_t)
    case MQR_U8: case MQR_BOOL: MQK_DYN_CMP(uint8_t)
    case MQR_I16: MQK_DYN_CMP(int16_t)
    case MQR_U16: MQK_DYN_CMP(uint16_t)
    case MQR_I32: MQK_DYN_CMP(int32_t)
    case MQR_U32: MQK_DYN_CMP(uint32_t)
    case MQR_U64: MQK_DYN_CMP(uint64_t)
    default: MQK_DYN_CMP(int64_t)
    }
#undef MQK_DYN_CMP
}

/* Element i of x is not zero (by value: -0.0 is zero, NaN is not). */
static int dyn_nonzero(int32_t dt, const void *x, size_t i)
{
    switch (dt) {
    case MQR_F32: return ((const float *)x)[i] != 0.0f;
    case MQR_F64: return ((const double *)x)[i] != 0.0;
    case MQR_I8: case MQR_U8: case MQR_BOOL: return ((const uint8_t *)x)[i] != 0;
    case MQR_I16: case MQR_U16: return ((const uint16_t *)x)[i] != 0;
    case MQR_I32: case MQR_U32: return ((const uint32_t *)x)[i] != 0;
    default: return ((const uint64_t *)x)[i] != 0;
    }
}

/* x's shape split at axis (-1: flattened): outer x extent x inner elements. */
static void dyn_split(const mqr_tensor *x, int32_t axis, size_t *outer, size_t *extent, size_t *inner)
{
    int32_t d;
    *outer = *inner = 1;
    *extent = (size_t)mqr_numel(x);
    if (axis < 0) return;
    *extent = (size_t)x->dims[axis];
    for (d = 0; d < x->rank; d++) {
        if (d < axis) *outer *= (size_t)x->dims[d];
        if (d > axis) *inner *= (size_t)x->dims[d];
    }
}

/* The actual dims of a bounded copy of x's shape: x's dims with `count` at axis, or [count] for -1. */
static void dyn_dims(const mqr_tensor *x, int32_t axis, int32_t count, int32_t *dims)
{
    int32_t d;
    if (axis < 0) {
        dims[0] = count;
        return;
    }
    for (d = 0; d < x->rank; d++) dims[d] = d == axis ? count : x->dims[d];
}

void mqk_k_sh_nonzero(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    int64_t *y = (int64_t *)c->out[0].data;
    int32_t *dims = (int32_t *)c->out[1].data;
    int32_t idx[MQR_MAX_RANK], r = x->rank > 0 ? x->rank : 1, d;
    size_t n = (size_t)mqr_numel(x), i, cnt = 0, k = 0;
    for (i = 0; i < n; i++) cnt += (size_t)dyn_nonzero(x->dtype, x->data, i);
    memset(idx, 0, sizeof idx);
    for (i = 0; i < n; i++) {
        if (dyn_nonzero(x->dtype, x->data, i)) {
            for (d = 0; d < r; d++) y[(size_t)d * cnt + k] = x->rank > 0 ? idx[d] : 0;
            k++;
        }
        for (d = x->rank - 1; d >= 0; d--) { /* the next coordinate, row-major */
            if (++idx[d] < x->dims[d]) break;
            idx[d] = 0;
        }
    }
    dims[0] = r;
    dims[1] = (int32_t)cnt;
}

void mqk_k_sh_compress(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0], *cond = &c->in[1];
    const uint8_t *cv = (const uint8_t *)cond->data, *xs = (const uint8_t *)x->data;
    uint8_t *y = (uint8_t *)c->out[0].data;
    int32_t axis = c->p[0];
    size_t outer, extent, inner, es = mqk_sh_esize(x->dtype), row, L = (size_t)mqr_numel(cond), o, i, w = 0, cnt = 0;
    dyn_split(x, axis, &outer, &extent, &inner);
    if (L > extent) L = extent; /* conditions past the extent select nothing */
    row = inner * es;
    for (i = 0; i < L; i++) cnt += cv[i] != 0;
    for (o = 0; o < outer; o++)
        for (i = 0; i < L; i++) {
            if (!cv[i]) continue;
            if (row) memcpy(y + w, xs + (o * extent + i) * row, row);
            w += row;
        }
    dyn_dims(x, axis, (int32_t)cnt, (int32_t *)c->out[1].data);
}

/* A stable merge sort of perm[0..m) (tmp: m more entries) by before(ctx, a, b): 1 if a goes before b. */
static void dyn_sort(int32_t *perm, int32_t *tmp, size_t m, int (*before)(const void *, int32_t, int32_t),
                     const void *ctx)
{
    size_t w, lo;
    for (w = 1; w < m; w *= 2) {
        for (lo = 0; lo < m; lo += 2 * w) {
            size_t mid = w < m - lo ? lo + w : m, hi = 2 * w < m - lo ? lo + 2 * w : m, p = lo, q = mid, k = lo;
            while (p < mid && q < hi) tmp[k++] = before(ctx, perm[q], perm[p]) ? perm[q++] : perm[p++];
            while (p < mid) tmp[k++] = perm[p++];
            while (q < hi) tmp[k++] = perm[q++];
        }
        memcpy(perm, tmp, sizeof(int32_t) * m);
    }
}

/* Unique's slices of x, split outer x extent x inner. */
typedef struct dyn_slices {
    const mqr_tensor *x;
    size_t outer, extent, inner;
} dyn_slices;

/* Slices a and b, lexicographically by value. */
static int dyn_slice_cmp(const dyn_slices *s, int32_t a, int32_t b)
{
    size_t o, j;
    for (o = 0; o < s->outer; o++)
        for (j = 0; j < s->inner; j++) {
            int r = dyn_cmp(s->x->dtype, s->x->data, (o * s->extent + (size_t)a) * s->inner + j, s->x->data,
                            (o * s->extent + (size_t)b) * s->inner + j);
            if (r) return r;
        }
    return 0;
}

static int dyn_slice_before(const void *ctx, int32_t a, int32_t b)
{
    return dyn_slice_cmp((const dyn_slices *)ctx, a, b) < 0;
}

/* NonMaxSuppression's candidates: by descending score. */
static int dyn_score_before(const void *ctx, int32_t a, int32_t b)
{
    const float *sc = (const float *)ctx;
    return sc[a] > sc[b];
}

void mqk_k_sh_unique(const mqr_call *c)
{
    const mqr_tensor *x = &c->in[0];
    int32_t sorted = c->p[0], axis = c->p[1], n = c->p[2], m, g, groups = 0, next = 0;
    int32_t *perm = (int32_t *)c->scratch, *tmp, *gid, *pos, *first, *count;
    const mqr_tensor *oy = &c->out[0], *oi = n > 1 ? &c->out[1] : 0, *ov = n > 2 ? &c->out[2] : 0,
                     *oc = n > 3 ? &c->out[3] : 0;
    size_t outer, extent, inner, es = mqk_sh_esize(x->dtype), o, i;
    dyn_slices sl;
    dyn_split(x, axis, &outer, &extent, &inner);
    m = (int32_t)extent;
    tmp = perm + m;
    gid = tmp + m;
    pos = gid + m;
    /* a stable merge sort of the slices, then group ids in sorted order */
    for (i = 0; i < extent; i++) perm[i] = (int32_t)i;
    sl.x = x;
    sl.outer = outer;
    sl.extent = extent;
    sl.inner = inner;
    dyn_sort(perm, tmp, extent, dyn_slice_before, &sl);
    for (g = 0; g < m; g++) {
        if (g > 0 && dyn_slice_cmp(&sl, perm[g - 1], perm[g]) != 0) groups++;
        gid[perm[g]] = groups;
    }
    if (m) groups++;
    /* output position of each group: sorted order, or order of first occurrence */
    for (g = 0; g < groups; g++) pos[g] = sorted ? g : -1;
    for (g = 0; g < m; g++)
        if (pos[gid[g]] < 0) pos[gid[g]] = next++;
    first = perm; /* perm and tmp are free now */
    count = tmp;
    for (g = 0; g < groups; g++) count[g] = 0;
    for (g = 0; g < m; g++) {
        int32_t p = pos[gid[g]];
        if (count[p]++ == 0) first[p] = g;
    }
    if (!mqk_shc_omitted(oy)) {
        uint8_t *y = (uint8_t *)oy->data;
        size_t row = inner * es, wr = 0;
        for (o = 0; o < outer; o++)
            for (g = 0; g < groups; g++, wr += row)
                if (row) memcpy(y + wr, (const uint8_t *)x->data + (o * extent + (size_t)first[g]) * row, row);
        dyn_dims(x, axis, groups, (int32_t *)c->out[n].data);
    }
    for (g = 0; g < groups; g++) {
        if (oi && !mqk_shc_omitted(oi)) ((int64_t *)oi->data)[g] = first[g];
        if (oc && !mqk_shc_omitted(oc)) ((int64_t *)oc->data)[g] = count[g];
    }
    if (oi && !mqk_shc_omitted(oi)) *(int32_t *)c->out[n + 1].data = groups;
    if (ov && !mqk_shc_omitted(ov)) {
        for (g = 0; g < m; g++) ((int64_t *)ov->data)[g] = pos[gid[g]];
        *(int32_t *)c->out[n + 2].data = m;
    }
    if (oc && !mqk_shc_omitted(oc)) *(int32_t *)c->out[n + 3].data = groups;
}

/* Box i of boxes (float32, 4 values) as y0, x0, y1, x1 (corners, or center and size for center 1). */
static void dyn_box(const float *b, size_t i, int32_t center, double *v)
{
    double a = b[4 * i], e = b[4 * i + 1], f = b[4 * i + 2], h = b[4 * i + 3];
    if (center) {
        v[0] = e - h / 2;
        v[1] = a - f / 2;
        v[2] = e + h / 2;
        v[3] = a + f / 2;
    } else {
        v[0] = fmin(a, f);
        v[1] = fmin(e, h);
        v[2] = fmax(a, f);
        v[3] = fmax(e, h);
    }
}

/* 1 if boxes i and j overlap by an IoU above th. */
static int dyn_suppress(const float *b, size_t i, size_t j, int32_t center, double th)
{
    double p[4], q[4], ap, aq, iy, ix, inter, uni;
    dyn_box(b, i, center, p);
    dyn_box(b, j, center, q);
    ap = (p[2] - p[0]) * (p[3] - p[1]);
    aq = (q[2] - q[0]) * (q[3] - q[1]);
    if (ap <= 0 || aq <= 0) return 0;
    iy = fmin(p[2], q[2]) - fmax(p[0], q[0]);
    ix = fmin(p[3], q[3]) - fmax(p[1], q[1]);
    if (iy <= 0 || ix <= 0) return 0;
    inter = iy * ix;
    uni = ap + aq - inter;
    if (uni <= 0) return 0;
    return inter / uni > th;
}

/* A threshold input: float32 with one element, else (empty or omitted) absent. */
static int dyn_threshold(const mqr_call *c, int32_t k, double *v)
{
    if (k >= c->n_in || c->in[k].rank < 0 || mqr_numel(&c->in[k]) != 1) return 0;
    *v = *(const float *)c->in[k].data;
    return 1;
}

void mqk_k_sh_nms(const mqr_call *c)
{
    const float *boxes = (const float *)c->in[0].data, *scores = (const float *)c->in[1].data;
    int32_t B = c->in[0].dims[0], N = c->in[0].dims[1], C = c->in[1].dims[1], center = c->p[0];
    int32_t max_out = c->p[1] < N ? c->p[1] : N, b, k, *cand = (int32_t *)c->scratch, *tmp = cand + N, *kept = tmp + N;
    int64_t *sel = (int64_t *)c->out[0].data;
    double iou = 0, sth = 0;
    int has_sth = dyn_threshold(c, 4, &sth);
    size_t total = 0;
    (void)dyn_threshold(c, 3, &iou);
    for (b = 0; b < B; b++)
        for (k = 0; k < C; k++) {
            const float *sc = scores + ((size_t)b * (size_t)C + (size_t)k) * (size_t)N;
            const float *bx = boxes + (size_t)b * (size_t)N * 4;
            int32_t nc = 0, nk = 0, i, j;
            for (i = 0; i < N; i++)
                if (!has_sth || sc[i] > sth) cand[nc++] = i;
            dyn_sort(cand, tmp, (size_t)nc, dyn_score_before, sc); /* stable: ties keep the lower index */
            for (i = 0; i < nc && nk < max_out; i++) {
                int ok = 1;
                for (j = 0; j < nk && ok; j++)
                    if (dyn_suppress(bx, (size_t)cand[i], (size_t)kept[j], center, iou)) ok = 0;
                if (!ok) continue;
                kept[nk++] = cand[i];
                sel[3 * total] = b;
                sel[3 * total + 1] = k;
                sel[3 * total + 2] = cand[i];
                total++;
            }
        }
    ((int32_t *)c->out[1].data)[0] = (int32_t)total;
    ((int32_t *)c->out[1].data)[1] = 3;
}

/* ---- load-time checks (see MQR_CHECK_OK in mqr_kernel.h) ---------------------------------------- */

/* An actual-dims output: int32 [rank of y]. */
static int dyn_slot_ok(const mqr_tensor *slot, const mqr_tensor *y)
{
    int64_t n;
    return mqk_shc_tensor(slot, &n) && slot->dtype == MQR_I32 && slot->rank == 1 && n == y->rank;
}

/* The counts and that every listed tensor is present or omitted as the runtime binds it. */
static int dyn_counts(const mqr_call *c, int32_t n_in_lo, int32_t n_in_hi, int32_t n_out, int32_t n_p)
{
    int32_t i;
    if (c->n_in < n_in_lo || c->n_in > n_in_hi || c->n_out != n_out || c->n_p != n_p) return 0;
    if (!c->in || !c->out || (n_p && !c->p)) return 0;
    for (i = 0; i < c->n_in + c->n_out; i++) {
        const mqr_tensor *t = i < c->n_in ? &c->in[i] : &c->out[i - c->n_in];
        if (!mqk_shc_omitted(t) && !mqk_shc_tensor(t, 0)) return 0;
    }
    return 1;
}

/* y bounds a copy of x compressed along axis (-1: flattened): x's dtype, [>= numel(x)] or x's dims with
 * dims[axis] >= x.dims[axis]. */
static int dyn_bound_like(const mqr_tensor *y, const mqr_tensor *x, int32_t axis)
{
    int32_t d;
    if (mqk_shc_omitted(y) || y->dtype != x->dtype) return 0;
    if (axis < 0) return y->rank == 1 && (int64_t)y->dims[0] >= (int64_t)mqr_numel(x);
    if (y->rank != x->rank) return 0;
    for (d = 0; d < x->rank; d++)
        if (d == axis ? y->dims[d] < x->dims[d] : y->dims[d] != x->dims[d]) return 0;
    return 1;
}

/* An int64 vector of at least n elements. */
static int dyn_vec_ok(const mqr_tensor *t, int64_t n)
{
    return t->dtype == MQR_I64 && t->rank == 1 && t->dims[0] >= n;
}

int mqk_c_sh_nonzero(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *y;
    int64_t n;
    (void)scratch_bytes;
    if (!dyn_counts(c, 1, 1, 2, 0)) return MQR_CHECK_BAD;
    x = &c->in[0];
    y = &c->out[0];
    if (!mqk_shc_tensor(x, &n) || mqk_shc_omitted(y) || mqk_shc_omitted(&c->out[1])) return MQR_CHECK_BAD;
    if (y->dtype != MQR_I64 || y->rank != 2 || y->dims[0] != (x->rank > 0 ? x->rank : 1) || y->dims[1] < n ||
        !dyn_slot_ok(&c->out[1], y))
        return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

int mqk_c_sh_compress(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x, *cond, *y;
    (void)scratch_bytes;
    if (!dyn_counts(c, 2, 2, 2, 1)) return MQR_CHECK_BAD;
    x = &c->in[0];
    cond = &c->in[1];
    y = &c->out[0];
    if (mqk_shc_omitted(x) || mqk_shc_omitted(cond) || mqk_shc_omitted(&c->out[1])) return MQR_CHECK_BAD;
    if (cond->dtype != MQR_BOOL || cond->rank != 1 || c->p[0] < -1 || c->p[0] >= x->rank) return MQR_CHECK_BAD;
    if (!dyn_bound_like(y, x, c->p[0]) || !dyn_slot_ok(&c->out[1], y)) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}

int mqk_c_sh_unique(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *x;
    int32_t n, k, axis;
    int64_t extent;
    if (!c || c->n_p != 3 || !c->p || c->p[2] < 1 || c->p[2] > 4) return MQR_CHECK_BAD;
    n = c->p[2];
    if (!dyn_counts(c, 1, 1, 2 * n, 3)) return MQR_CHECK_BAD;
    x = &c->in[0];
    axis = c->p[1];
    if (mqk_shc_omitted(x) || (c->p[0] != 0 && c->p[0] != 1) || axis < -1 || axis >= x->rank) return MQR_CHECK_BAD;
    extent = axis < 0 ? (int64_t)mqr_numel(x) : (int64_t)x->dims[axis];
    if ((int64_t)scratch_bytes < 16 * extent) return MQR_CHECK_BAD;
    for (k = 0; k < n; k++) {
        const mqr_tensor *o = &c->out[k], *s = &c->out[n + k];
        if (mqk_shc_omitted(o) != mqk_shc_omitted(s)) return MQR_CHECK_BAD;
        if (mqk_shc_omitted(o)) continue;
        if (k == 0 ? !dyn_bound_like(o, x, axis) : !dyn_vec_ok(o, extent)) return MQR_CHECK_BAD;
        if (!dyn_slot_ok(s, o)) return MQR_CHECK_BAD;
    }
    return MQR_CHECK_OK;
}

int mqk_c_sh_nms(const mqr_call *c, uint32_t scratch_bytes)
{
    const mqr_tensor *bx, *sc, *y;
    int64_t per, k;
    int32_t i;
    if (!dyn_counts(c, 2, 5, 2, 2)) return MQR_CHECK_BAD;
    bx = &c->in[0];
    sc = &c->in[1];
    y = &c->out[0];
    if (mqk_shc_omitted(bx) || mqk_shc_omitted(sc) || mqk_shc_omitted(y) || mqk_shc_omitted(&c->out[1]))
        return MQR_CHECK_BAD;
    if (bx->dtype != MQR_F32 || bx->rank != 3 || bx->dims[2] != 4 || sc->dtype != MQR_F32 || sc->rank != 3 ||
        sc->dims[0] != bx->dims[0] || sc->dims[2] != bx->dims[1])
        return MQR_CHECK_BAD;
    for (i = 3; i < c->n_in; i++) { /* thresholds: float32, one element or none */
        int64_t n;
        if (mqk_shc_omitted(&c->in[i])) continue;
        if (!mqk_shc_tensor(&c->in[i], &n) || c->in[i].dtype != MQR_F32 || n > 1) return MQR_CHECK_BAD;
    }
    if ((c->p[0] != 0 && c->p[0] != 1) || c->p[1] < 0) return MQR_CHECK_BAD;
    per = c->p[1] < bx->dims[1] ? c->p[1] : bx->dims[1];
    k = (int64_t)sc->dims[0] * sc->dims[1]; /* both dims of a checked tensor: the product fits int32 */
    if (y->dtype != MQR_I64 || y->rank != 2 || y->dims[1] != 3 || (int64_t)y->dims[0] < k * per ||
        !dyn_slot_ok(&c->out[1], y))
        return MQR_CHECK_BAD;
    if ((int64_t)scratch_bytes < 12 * (int64_t)bx->dims[1]) return MQR_CHECK_BAD;
    return MQR_CHECK_OK;
}
