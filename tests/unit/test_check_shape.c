/* test_check_shape.c: the load-time checks of the 'shape' kernels (mqk_c_sh_*): each accepts a valid call,
 * and every mutated call it accepts runs its kernel inside buffers of exactly the described sizes (ASan). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/kernels/shape.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifndef HAVE_ASAN
#define HAVE_ASAN 0
#endif

#define MAXT 8                 /* tensors per side of a call (mutations add one) */
#define GUARD (HAVE_ASAN ? 0 : 64) /* without ASan: canary bytes after each buffer */
#define CAP_BYTES ((int64_t)1 << 22) /* described buffers beyond this are not allocated (the run is skipped) */

/* A tensor descriptor of a case; konst: its values are known at check time (a weight), from kvals. */
typedef struct tdesc {
    int32_t dtype, rank, dims[MQR_MAX_RANK];
    int konst;
    int64_t kvals[8];
    int n_kvals;
} tdesc;

typedef struct kcase {
    const char *name;
    mqr_kernel_fn fn;
    mqr_check_fn check;
    int32_t n_p, p[MQR_MAX_PARAMS];
    int32_t n_in, n_out;
    tdesc in[MAXT], out[MAXT];
    uint32_t scratch; /* bytes of scratch the call gets (allocated exactly when the check accepts) */
} kcase;

typedef struct stats {
    long accepted, refused, skipped;
} stats;

static uint32_t rng = 2463534242u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static size_t esize(int32_t dt)
{
    switch (dt) {
    case MQR_U8: case MQR_I8: case MQR_BOOL: return 1;
    case MQR_U16: case MQR_I16: return 2;
    case MQR_F32: case MQR_I32: case MQR_U32: return 4;
    case MQR_I64: case MQR_F64: case MQR_U64: return 8;
    default: return 0;
    }
}

/* Bytes a descriptor describes; 0 when it describes nothing sensible (bad rank, dtype, dims); -1 when
 * beyond CAP_BYTES. */
static int64_t desc_bytes(const tdesc *t)
{
    int64_t n = 1;
    size_t es = esize(t->dtype);
    if (t->rank < 0 || t->rank > MQR_MAX_RANK || !es) return 0;
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return 0;
        if (t->dims[d] == 0) return 0;
    }
    for (int d = 0; d < t->rank; d++) {
        n *= t->dims[d];
        if (n * (int64_t)es > CAP_BYTES) return -1;
    }
    return n * (int64_t)es;
}

/* Exact bytes of a sensible descriptor up to 2^38 (for a read-only mapping), else -1. */
static int64_t desc_bytes_big(const tdesc *t)
{
    int64_t n = (int64_t)esize(t->dtype);
    for (int d = 0; d < t->rank; d++)
        if ((n *= t->dims[d]) > ((int64_t)1 << 38)) return -1;
    return n;
}

/* A large input the kernel may read only in part: `bytes` of zeros, read-only, ending exactly at an
 * inaccessible page (so reading past the end faults); reserved, not committed. */
static void *map_exact(int64_t bytes)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = ((size_t)bytes + pg - 1) / pg * pg;
    uint8_t *m = mmap(NULL, span + 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + pg, span, PROT_READ), 0);
    return m + pg + span - (size_t)bytes;
}

static void unmap_exact(void *p, int64_t bytes)
{
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = ((size_t)bytes + pg - 1) / pg * pg;
    munmap((uint8_t *)p + (size_t)bytes - span - pg, span + 2 * pg);
}

static void store_int(void *p, int32_t dt, int64_t i, int64_t v)
{
    switch (esize(dt)) {
    case 1: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case 2: ((int16_t *)p)[i] = (int16_t)v; break;
    case 4:
        if (dt == MQR_F32) ((float *)p)[i] = (float)v;
        else ((int32_t *)p)[i] = (int32_t)v;
        break;
    default:
        if (dt == MQR_F64) ((double *)p)[i] = (double)v;
        else ((int64_t *)p)[i] = v;
        break;
    }
}

/* Hostile index values: small ones around the dims, and extremes. */
static int64_t hostile(void)
{
    static const int64_t v[] = {0, 1, -1, 2, -2, 3, -3, 4, -5, 7, 100, -100, INT32_MAX, INT32_MIN,
                                INT64_MAX, INT64_MIN, (int64_t)1 << 33, -((int64_t)1 << 33)};
    return v[rnd() % (sizeof v / sizeof v[0])];
}

/* One allocation of exactly `bytes` (plus a canary without ASan). */
static void *alloc_exact(int64_t bytes)
{
    uint8_t *p = malloc((size_t)bytes + GUARD);
    if (!p && bytes + GUARD == 0) p = malloc(1); /* a 0-byte buffer: ASan still flags any access */
    assert_non_null(p);
    memset(p + bytes, 0xA5, GUARD);
    return p;
}

static void guard_ok(const void *p, int64_t bytes, const char *what)
{
    const uint8_t *g = (const uint8_t *)p + bytes;
    for (int i = 0; i < GUARD; i++)
        if (g[i] != 0xA5) fail_msg("%s: write past the end of a buffer", what);
}

/* Fill a run-time input: integer tensors get hostile values, others random bytes. */
static void fill_input(void *p, const tdesc *t, int64_t bytes)
{
    size_t es = esize(t->dtype);
    int64_t n = es ? bytes / (int64_t)es : 0;
    if (t->dtype == MQR_I32 || t->dtype == MQR_I64) {
        for (int64_t i = 0; i < n; i++) store_int(p, t->dtype, i, hostile());
    } else if (t->dtype == MQR_F32 || t->dtype == MQR_F64) {
        for (int64_t i = 0; i < n; i++) store_int(p, t->dtype, i, (int64_t)(rnd() % 21) - 10);
    } else {
        for (int64_t i = 0; i < bytes; i++) ((uint8_t *)p)[i] = (uint8_t)rnd();
    }
}

/* Check a case; if the check accepts, run the kernel on exact buffers. Returns the check's verdict. */
static int try_case(const kcase *k, const char *what, stats *st)
{
    mqr_tensor ti[MAXT], to[MAXT];
    void *bufs[2 * MAXT] = {0};
    int64_t sizes[2 * MAXT] = {0};
    int n_t = k->n_in + k->n_out, r;
    /* constant tensors: their data exists at check time */
    for (int i = 0; i < n_t; i++) {
        const tdesc *t = i < k->n_in ? &k->in[i] : &k->out[i - k->n_in];
        mqr_tensor *m = i < k->n_in ? &ti[i] : &to[i - k->n_in];
        memset(m, 0, sizeof *m);
        m->dtype = t->dtype;
        m->rank = t->rank;
        memcpy(m->dims, t->dims, sizeof m->dims);
        if (t->rank < 0) continue;
        if (t->konst) {
            int64_t b = desc_bytes(t);
            if (b < 0) { /* the test cannot hold these values: skip */
                for (int j = 0; j < i; j++) free(bufs[j]);
                st->skipped++;
                return -1;
            }
            bufs[i] = alloc_exact(b);
            sizes[i] = b;
            if (b) {
                int64_t n = b / (int64_t)esize(t->dtype);
                for (int64_t e = 0; e < n; e++) store_int(bufs[i], t->dtype, e, t->kvals[e % t->n_kvals]);
            }
            m->data = bufs[i];
        }
    }
    mqr_call c = {k->p, k->n_p, ti, k->n_in, to, k->n_out, NULL};
    r = k->check(&c, k->scratch);
    assert_true(r == MQR_CHECK_OK || r == MQR_CHECK_BAD);
    if (r == MQR_CHECK_BAD) {
        st->refused++;
        for (int i = 0; i < n_t; i++) free(bufs[i]);
        return r;
    }
    /* accepted: every present tensor gets exactly its described bytes (large inputs: a mapping) */
    int64_t total = 0;
    int big[2 * MAXT] = {0};
    for (int i = 0; i < n_t; i++) {
        const tdesc *t = i < k->n_in ? &k->in[i] : &k->out[i - k->n_in];
        if (t->rank < 0 || t->konst) continue;
        int64_t b = desc_bytes(t);
        if (b < 0 && i < k->n_in && (b = desc_bytes_big(t)) >= 0) {
            big[i] = 1;
        } else if (b < 0 || (total += b) > 4 * CAP_BYTES) {
            for (int j = 0; j < n_t; j++) free(bufs[j]);
            st->skipped++;
            return r;
        }
        sizes[i] = b;
    }
    for (int i = 0; i < n_t; i++) {
        const tdesc *t = i < k->n_in ? &k->in[i] : &k->out[i - k->n_in];
        mqr_tensor *m = i < k->n_in ? &ti[i] : &to[i - k->n_in];
        if (t->rank < 0 || t->konst) continue;
        if (big[i]) {
            bufs[i] = map_exact(sizes[i]);
        } else {
            bufs[i] = alloc_exact(sizes[i]);
            if (i < k->n_in) fill_input(bufs[i], t, sizes[i]);
            else memset(bufs[i], 0xCD, (size_t)sizes[i]);
        }
        m->data = bufs[i];
    }
    void *scratch = k->scratch ? alloc_exact(k->scratch) : NULL;
    c.scratch = scratch;
    k->fn(&c);
    if (scratch) guard_ok(scratch, k->scratch, what);
    free(scratch);
    for (int i = 0; i < n_t; i++) {
        if (big[i]) {
            unmap_exact(bufs[i], sizes[i]);
            continue;
        }
        if (bufs[i]) guard_ok(bufs[i], sizes[i], what);
        free(bufs[i]);
    }
    st->accepted++;
    return r;
}

static tdesc *tensor_at(kcase *k, int i)
{
    return i < k->n_in ? &k->in[i] : &k->out[i - k->n_in];
}

/* Mutations applied to every tensor that shares a shape or a dtype with tensor i (a call where only
 * one of them changes is refused for the mismatch; this reaches the checks behind that). */
static void mutate_linked(const kcase *base, stats *st)
{
    static const int32_t dtypes[] = {MQR_U8, MQR_I16, MQR_F32, MQR_I32, MQR_I64, MQR_F64, MQR_BOOL, 0};
    char what[160];
    kcase k;
    const int n_t = base->n_in + base->n_out;
    for (int i = 0; i < n_t; i++) {
        const tdesc *t0 = tensor_at((kcase *)base, i);
        if (t0->rank < 0) continue;
        for (int d = 0; d < t0->rank; d++) {
            const int64_t v = t0->dims[d];
            const int64_t vals[] = {v + 1, v - 1, 0, 1, 2, v * 2, INT32_MAX, -1};
            for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
                if (vals[j] < INT32_MIN || vals[j] > INT32_MAX || vals[j] == v) continue;
                k = *base;
                for (int u = 0; u < n_t; u++) {
                    tdesc *t = tensor_at(&k, u);
                    if (t->rank == t0->rank && !memcmp(t->dims, t0->dims, sizeof t->dims)) t->dims[d] = (int32_t)vals[j];
                }
                snprintf(what, sizeof what, "%s: dims[%d] = %lld in every tensor shaped like tensor %d", base->name, d,
                         (long long)vals[j], i);
                try_case(&k, what, st);
            }
        }
        for (size_t j = 0; j < sizeof dtypes / sizeof dtypes[0]; j++) {
            if (dtypes[j] == t0->dtype) continue;
            k = *base;
            for (int u = 0; u < n_t; u++) {
                tdesc *t = tensor_at(&k, u);
                if (t->dtype == t0->dtype) {
                    t->dtype = dtypes[j];
                    if (t->konst && !esize(t->dtype)) t->konst = 0;
                }
            }
            snprintf(what, sizeof what, "%s: dtype %d in every tensor of tensor %d's dtype", base->name, (int)dtypes[j], i);
            try_case(&k, what, st);
        }
    }
}

/* Every mutation of one case: each parameter, each dim, rank, dtype, presence, and the counts. */
static void mutate_all(const kcase *base, stats *st)
{
    static const int32_t dtypes[] = {MQR_F32, MQR_U8, MQR_I16, MQR_I32, MQR_I64, MQR_BOOL, 0, 8, 10, 16, -1};
    char what[160];
    kcase k;
    for (int i = 0; i < base->n_p; i++) {
        const int64_t v = base->p[i];
        const int64_t vals[] = {v + 1, v - 1, 0, 1, -1, 2, v * 2, v + 7, INT32_MAX, INT32_MIN, INT32_MAX / 2};
        for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
            if (vals[j] < INT32_MIN || vals[j] > INT32_MAX || vals[j] == v) continue;
            k = *base;
            k.p[i] = (int32_t)vals[j];
            snprintf(what, sizeof what, "%s: p[%d] = %lld", base->name, i, (long long)vals[j]);
            try_case(&k, what, st);
        }
    }
    /* n_p + 1 (a trailing 0 or 1), n_p - 1 */
    for (int extra = 0; extra < 2 && base->n_p < MQR_MAX_PARAMS; extra++) {
        k = *base;
        k.p[k.n_p++] = extra;
        snprintf(what, sizeof what, "%s: n_p + 1", base->name);
        try_case(&k, what, st);
    }
    if (base->n_p > 0) {
        k = *base;
        k.n_p--;
        snprintf(what, sizeof what, "%s: n_p - 1", base->name);
        try_case(&k, what, st);
    }
    if (base->scratch > 0) { /* one byte less scratch than the kernel needs */
        k = *base;
        k.scratch--;
        snprintf(what, sizeof what, "%s: scratch - 1", base->name);
        assert_int_equal(try_case(&k, what, st), MQR_CHECK_BAD);
    }
    for (int side = 0; side < 2; side++) {
        const int n = side ? base->n_out : base->n_in;
        for (int i = 0; i < n; i++) {
            const tdesc *t0 = side ? &base->out[i] : &base->in[i];
            /* dims */
            for (int d = 0; d < t0->rank; d++) {
                const int64_t v = t0->dims[d];
                const int64_t vals[] = {v + 1, v - 1, 0, 1, 2, v * 2, v + 5, INT32_MAX, -1, INT32_MIN, 1 << 20};
                for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
                    if (vals[j] < INT32_MIN || vals[j] > INT32_MAX || vals[j] == v) continue;
                    k = *base;
                    (side ? &k.out[i] : &k.in[i])->dims[d] = (int32_t)vals[j];
                    snprintf(what, sizeof what, "%s: %s[%d].dims[%d] = %lld", base->name, side ? "out" : "in", i, d,
                             (long long)vals[j]);
                    try_case(&k, what, st);
                }
            }
            /* rank + 1 (new dim 0, 1 or 3), rank - 1, omitted */
            for (int nd = 0; nd <= 3 && t0->rank >= 0 && t0->rank < MQR_MAX_RANK; nd += 1 + (nd == 1)) {
                k = *base;
                tdesc *t = side ? &k.out[i] : &k.in[i];
                t->dims[t->rank++] = nd;
                snprintf(what, sizeof what, "%s: %s[%d] rank + 1", base->name, side ? "out" : "in", i);
                try_case(&k, what, st);
                k = *base;
                t = side ? &k.out[i] : &k.in[i];
                memmove(t->dims + 1, t->dims, sizeof(int32_t) * (size_t)t->rank);
                t->dims[0] = nd;
                t->rank++;
                snprintf(what, sizeof what, "%s: %s[%d] leading dim", base->name, side ? "out" : "in", i);
                try_case(&k, what, st);
            }
            if (t0->rank > 0) {
                k = *base;
                tdesc *t = side ? &k.out[i] : &k.in[i];
                t->dims[--t->rank] = 0;
                snprintf(what, sizeof what, "%s: %s[%d] rank - 1", base->name, side ? "out" : "in", i);
                try_case(&k, what, st);
            }
            if (t0->rank >= 0) {
                k = *base;
                tdesc *t = side ? &k.out[i] : &k.in[i];
                t->rank = -1;
                t->konst = 0;
                snprintf(what, sizeof what, "%s: %s[%d] omitted", base->name, side ? "out" : "in", i);
                try_case(&k, what, st);
            }
            if (t0->rank == -1) { /* an omitted one made present, shaped like the first tensor */
                k = *base;
                tdesc *t = side ? &k.out[i] : &k.in[i];
                *t = side ? base->out[0] : base->in[0];
                t->konst = 0;
                snprintf(what, sizeof what, "%s: %s[%d] present", base->name, side ? "out" : "in", i);
                try_case(&k, what, st);
            }
            /* dtype */
            for (size_t j = 0; j < sizeof dtypes / sizeof dtypes[0]; j++) {
                if (dtypes[j] == t0->dtype) continue;
                k = *base;
                tdesc *t = side ? &k.out[i] : &k.in[i];
                t->dtype = dtypes[j];
                if (t->konst && !esize(t->dtype)) t->konst = 0;
                snprintf(what, sizeof what, "%s: %s[%d].dtype = %d", base->name, side ? "out" : "in", i, (int)dtypes[j]);
                try_case(&k, what, st);
            }
            /* constant values out of range */
            if (t0->konst) {
                static const int64_t bad[] = {1000, -1000, INT32_MAX, INT32_MIN};
                for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
                    k = *base;
                    tdesc *t = side ? &k.out[i] : &k.in[i];
                    t->kvals[rnd() % (uint32_t)t->n_kvals] = bad[j];
                    snprintf(what, sizeof what, "%s: %s[%d] constant %lld", base->name, side ? "out" : "in", i,
                             (long long)bad[j]);
                    /* an out-of-range constant index is an invalid model: refused */
                    assert_int_equal(try_case(&k, what, st), MQR_CHECK_BAD);
                }
            }
        }
        /* one tensor more (a copy of the last, or of the first), one less */
        if (n < MAXT && n > 0) {
            for (int src = 0; src < 2; src++) {
                k = *base;
                tdesc *arr = side ? k.out : k.in;
                arr[n] = arr[src ? 0 : n - 1];
                if (side) k.n_out++;
                else k.n_in++;
                snprintf(what, sizeof what, "%s: one %s more", base->name, side ? "output" : "input");
                try_case(&k, what, st);
            }
        }
        if (n > 0) {
            k = *base;
            if (side) k.n_out--;
            else k.n_in--;
            snprintf(what, sizeof what, "%s: one %s less", base->name, side ? "output" : "input");
            try_case(&k, what, st);
        }
    }
}

/* ---- the valid calls, one or more per kernel (as the ops' lower functions build them) ------------- */

#define T(dt, r, ...) {dt, r, {__VA_ARGS__}, 0, {0}, 0}
#define K(dt, r, nv, vals, ...) {dt, r, {__VA_ARGS__}, 1, vals, nv}
#define VALS(...) {__VA_ARGS__}
#define OMIT {0, -1, {0}, 0, {0}, 0}
#define KERNEL(n) #n, mqk_k_##n, mqk_c_##n

static const kcase cases[] = {
    /* Reshape [2,3] -> [3,2] (the shape input not read) */
    {KERNEL(sh_copy), 0, {0}, 2, 1, {T(MQR_F32, 2, 2, 3), T(MQR_I64, 1, 2)}, {T(MQR_F32, 2, 3, 2)}, 0},
    /* Flatten, bytes */
    {KERNEL(sh_copy), 0, {0}, 1, 1, {T(MQR_U8, 3, 2, 3, 4)}, {T(MQR_U8, 2, 2, 12)}, 0},
    /* Transpose [2,3,4] perm (2,0,1): out [4,2,3], strides (1,12,4) */
    {KERNEL(sh_strided), 8, {3, 0, 4, 2, 3, 1, 12, 4}, 1, 1, {T(MQR_F32, 3, 2, 3, 4)}, {T(MQR_F32, 3, 4, 2, 3)}, 0},
    /* Slice [5,4] int16 rows 4..0 step -2, cols 1..2: dims (3,2), strides (-8,1), offset 17 */
    {KERNEL(sh_strided), 6, {2, 17, 3, 2, -8, 1}, 3, 1, {T(MQR_I16, 2, 5, 4), T(MQR_I64, 1, 2), T(MQR_I64, 1, 2)},
     {T(MQR_I16, 2, 3, 2)}, 0},
    /* Expand [3,1] -> [3,4]: stride 0 */
    {KERNEL(sh_strided), 6, {2, 0, 3, 4, 1, 0}, 2, 1, {T(MQR_I64, 2, 3, 1), T(MQR_I64, 1, 2)}, {T(MQR_I64, 2, 3, 4)}, 0},
    /* one element (rank-0 view) at offset 3 */
    {KERNEL(sh_strided), 2, {0, 3}, 1, 1, {T(MQR_F64, 2, 2, 2)}, {T(MQR_F64, 0, 0)}, 0},
    /* an empty view */
    {KERNEL(sh_strided), 4, {1, 0, 0, 1}, 1, 1, {T(MQR_F32, 2, 2, 2)}, {T(MQR_F32, 2, 0, 2)}, 0},
    /* Concat axis 1: [2,3] + [2,1] + [2,0] = [2,4] */
    {KERNEL(sh_concat), 1, {1}, 3, 1, {T(MQR_F32, 2, 2, 3), T(MQR_F32, 2, 2, 1), T(MQR_F32, 2, 2, 0)},
     {T(MQR_F32, 2, 2, 4)}, 0},
    /* Split [5,2] int8 axis 0 into (2, 0, 3), with a constant split input */
    {KERNEL(sh_split), 5, {0, 3, 2, 0, 3}, 2, 3, {T(MQR_I8, 2, 5, 2), T(MQR_I64, 1, 3)},
     {T(MQR_I8, 2, 2, 2), T(MQR_I8, 2, 0, 2), T(MQR_I8, 2, 3, 2)}, 0},
    /* Split [2,6] axis 1 into (2, 4), the first output omitted */
    {KERNEL(sh_split), 4, {1, 2, 2, 4}, 1, 2, {T(MQR_F32, 2, 2, 6)}, {OMIT, T(MQR_F32, 2, 2, 4)}, 0},
    /* Pad constant [2,3] begins (1,-1), ends (1,1): out [4,3], value 7 */
    {KERNEL(sh_pad), 7, {MQK_PAD_CONSTANT, 2, 1, -1, 7, 0, 0}, 1, 1, {T(MQR_I32, 2, 2, 3)}, {T(MQR_I32, 2, 4, 3)}, 0},
    /* Pad constant from in[2] (opset 11): [3] float begins 2: out [6] */
    {KERNEL(sh_pad), 6, {MQK_PAD_CONSTANT, 1, 2, 0, 0, 1}, 3, 1,
     {T(MQR_F32, 1, 3), T(MQR_I64, 1, 2), T(MQR_F32, 0, 0)}, {T(MQR_F32, 1, 6)}, 0},
    /* Pad reflect [3,4] begins (2,1), ends (1,2): out [6,7] */
    {KERNEL(sh_pad), 7, {MQK_PAD_REFLECT, 2, 2, 1, 0, 0, 0}, 2, 1, {T(MQR_F32, 2, 3, 4), T(MQR_I64, 1, 4)},
     {T(MQR_F32, 2, 6, 7)}, 0},
    /* Pad edge [2,3] begins (1,4) ends (2,0): out [5,7] */
    {KERNEL(sh_pad), 7, {MQK_PAD_EDGE, 2, 1, 4, 0, 0, 0}, 1, 1, {T(MQR_U16, 2, 2, 3)}, {T(MQR_U16, 2, 5, 7)}, 0},
    /* Pad wrap [2,3] begins (3,-1) ends (0,5): out [5,7] */
    {KERNEL(sh_pad), 7, {MQK_PAD_WRAP, 2, 3, -1, 0, 0, 0}, 1, 1, {T(MQR_I64, 2, 2, 3)}, {T(MQR_I64, 2, 5, 7)}, 0},
    /* Pad of a scalar */
    {KERNEL(sh_pad), 5, {MQK_PAD_CONSTANT, 0, 0, 0, 0}, 1, 1, {T(MQR_F32, 0, 0)}, {T(MQR_F32, 0, 0)}, 0},
    /* Gather [3,4] axis 1, run-time indices [2,2] -> [3,2,2] */
    {KERNEL(sh_gather), 1, {1}, 2, 1, {T(MQR_F32, 2, 3, 4), T(MQR_I64, 2, 2, 2)}, {T(MQR_F32, 3, 3, 2, 2)}, 0},
    /* Gather [4,2] axis 0, constant int32 indices [3] -> [3,2] */
    {KERNEL(sh_gather), 1, {0}, 2, 1, {T(MQR_U8, 2, 4, 2), K(MQR_I32, 1, 3, VALS(3, -4, 0), 3)}, {T(MQR_U8, 2, 3, 2)}, 0},
    /* Gather of a scalar index: [5] -> [] */
    {KERNEL(sh_gather), 1, {0}, 2, 1, {T(MQR_I64, 1, 5), K(MQR_I64, 0, 1, VALS(-1), 0)}, {T(MQR_I64, 0, 0)}, 0},
    /* GatherElements [3,4] axis 0, indices [5,3] */
    {KERNEL(sh_gather_elems), 1, {0}, 2, 1, {T(MQR_F32, 2, 3, 4), T(MQR_I64, 2, 5, 3)}, {T(MQR_F32, 2, 5, 3)}, 0},
    {KERNEL(sh_gather_elems), 1, {1}, 2, 1, {T(MQR_I16, 2, 3, 4), K(MQR_I32, 2, 4, VALS(0, 3, -1, -4), 2, 2)},
     {T(MQR_I16, 2, 2, 2)}, 0},
    /* GatherND [2,3,4] batch_dims 1, indices [2,5,1] -> [2,5,4] */
    {KERNEL(sh_gather_nd), 1, {1}, 2, 1, {T(MQR_F32, 3, 2, 3, 4), T(MQR_I64, 3, 2, 5, 1)}, {T(MQR_F32, 3, 2, 5, 4)}, 0},
    /* GatherND [3,4] batch_dims 0, constant indices [3,2] -> [3] */
    {KERNEL(sh_gather_nd), 1, {0}, 2, 1, {T(MQR_F64, 2, 3, 4), K(MQR_I64, 2, 6, VALS(0, 1, 2, 3, -1, -4), 3, 2)},
     {T(MQR_F64, 1, 3)}, 0},
    /* ScatterElements [3,4] axis 1 add, indices and updates [2,3] */
    {KERNEL(sh_scatter_elems), 2, {1, MQK_SCAT_ADD}, 3, 1, {T(MQR_F32, 2, 3, 4), T(MQR_I64, 2, 2, 3), T(MQR_F32, 2, 2, 3)},
     {T(MQR_F32, 2, 3, 4)}, 0},
    {KERNEL(sh_scatter_elems), 2, {0, MQK_SCAT_NONE}, 3, 1,
     {T(MQR_I32, 2, 3, 4), K(MQR_I32, 2, 4, VALS(2, 0, -1, 1), 1, 4), T(MQR_I32, 2, 1, 4)}, {T(MQR_I32, 2, 3, 4)}, 0},
    /* ScatterND [4,3], indices [2,1], updates [2,3] */
    {KERNEL(sh_scatter_nd), 1, {MQK_SCAT_NONE}, 3, 1, {T(MQR_F32, 2, 4, 3), T(MQR_I64, 2, 2, 1), T(MQR_F32, 2, 2, 3)},
     {T(MQR_F32, 2, 4, 3)}, 0},
    {KERNEL(sh_scatter_nd), 1, {MQK_SCAT_MAX}, 3, 1,
     {T(MQR_I64, 2, 4, 3), K(MQR_I64, 2, 4, VALS(0, 2, -1, 1), 2, 2), T(MQR_I64, 1, 2)}, {T(MQR_I64, 2, 4, 3)}, 0},
    /* ConstantOfShape -> [2,3] int32 of 7 */
    {KERNEL(sh_fill), 2, {7, 0}, 1, 1, {T(MQR_I64, 1, 2)}, {T(MQR_I32, 2, 2, 3)}, 0},
    /* Shape of [2,3,4] */
    {KERNEL(sh_values), 4, {3, 2, 3, 4}, 1, 1, {T(MQR_F32, 3, 2, 3, 4)}, {T(MQR_I64, 1, 3)}, 0},
    /* Size of [2,3] */
    {KERNEL(sh_values), 2, {1, 6}, 1, 1, {T(MQR_F32, 2, 2, 3)}, {T(MQR_I64, 0, 0)}, 0},
    /* EyeLike [3,4] float, k 1 */
    {KERNEL(sh_eyelike), 3, {1, 0x3f800000, 0}, 1, 1, {T(MQR_F32, 2, 3, 4)}, {T(MQR_F32, 2, 3, 4)}, 0},
    /* Range float [5], int64 [4] */
    {KERNEL(sh_range), 0, {0}, 3, 1, {T(MQR_F32, 0, 0), T(MQR_F32, 0, 0), T(MQR_F32, 0, 0)}, {T(MQR_F32, 1, 5)}, 0},
    {KERNEL(sh_range), 0, {0}, 3, 1, {T(MQR_I64, 1, 1), T(MQR_I64, 1, 1), T(MQR_I64, 1, 1)}, {T(MQR_I64, 1, 4)}, 0},
    /* OneHot indices [2,3] axis 1 depth 5 -> [2,5,3] */
    {KERNEL(sh_onehot), 1, {1}, 3, 1, {T(MQR_I64, 2, 2, 3), T(MQR_F32, 0, 0), T(MQR_F32, 1, 2)}, {T(MQR_F32, 3, 2, 5, 3)}, 0},
    {KERNEL(sh_onehot), 1, {0}, 3, 1, {T(MQR_F32, 1, 4), T(MQR_I64, 1, 1), T(MQR_I8, 1, 2)}, {T(MQR_I8, 2, 3, 4)}, 0},
    /* Trilu [2,3,4] upper, k from the parameter; lower with a run-time k */
    {KERNEL(sh_trilu), 2, {1, 0}, 1, 1, {T(MQR_F32, 3, 2, 3, 4)}, {T(MQR_F32, 3, 2, 3, 4)}, 0},
    {KERNEL(sh_trilu), 2, {0, 0}, 2, 1, {T(MQR_I16, 2, 4, 3), T(MQR_I64, 0, 0)}, {T(MQR_I16, 2, 4, 3)}, 0},
    /* ReverseSequence [4,3,2] time 0 batch 1, run-time lengths; [3,4] batch 0 time 1, constant lengths */
    {KERNEL(sh_revseq), 2, {1, 0}, 2, 1, {T(MQR_F32, 3, 4, 3, 2), T(MQR_I64, 1, 3)}, {T(MQR_F32, 3, 4, 3, 2)}, 0},
    {KERNEL(sh_revseq), 2, {0, 1}, 2, 1, {T(MQR_I32, 2, 3, 4), K(MQR_I32, 1, 3, VALS(4, 0, 2), 3)},
     {T(MQR_I32, 2, 3, 4)}, 0},
    /* data-dependent shapes (shape_dyn.h): outputs at their bound, then int32 [rank] actual dims */
    /* NonZero [2,3] float -> [2, <= 6]; a bool scalar -> [1, <= 1] */
    {KERNEL(sh_nonzero), 0, {0}, 1, 2, {T(MQR_F32, 2, 2, 3)}, {T(MQR_I64, 2, 2, 6), T(MQR_I32, 1, 2)}, 0},
    {KERNEL(sh_nonzero), 0, {0}, 1, 2, {T(MQR_BOOL, 0, 0)}, {T(MQR_I64, 2, 1, 1), T(MQR_I32, 1, 2)}, 0},
    /* Compress [2,3] axis 1 with 4 conditions -> [2, <= 3]; int16 [2,3] flattened with 5 -> [<= 6] */
    {KERNEL(sh_compress), 1, {1}, 2, 2, {T(MQR_F32, 2, 2, 3), T(MQR_BOOL, 1, 4)}, {T(MQR_F32, 2, 2, 3), T(MQR_I32, 1, 2)}, 0},
    {KERNEL(sh_compress), 1, {-1}, 2, 2, {T(MQR_I16, 2, 2, 3), T(MQR_BOOL, 1, 5)}, {T(MQR_I16, 1, 6), T(MQR_I32, 1, 1)}, 0},
    /* Unique of 6 floats, sorted, four outputs; of [2,3,2] int32 along axis 1, first occurrence order, two
     * outputs; of 4 bytes with indices omitted */
    {KERNEL(sh_unique), 3, {1, -1, 4}, 1, 8, {T(MQR_F32, 2, 2, 3)},
     {T(MQR_F32, 1, 6), T(MQR_I64, 1, 6), T(MQR_I64, 1, 6), T(MQR_I64, 1, 6), T(MQR_I32, 1, 1), T(MQR_I32, 1, 1),
      T(MQR_I32, 1, 1), T(MQR_I32, 1, 1)},
     96},
    {KERNEL(sh_unique), 3, {0, 1, 2}, 1, 4, {T(MQR_I32, 3, 2, 3, 2)},
     {T(MQR_I32, 3, 2, 3, 2), T(MQR_I64, 1, 3), T(MQR_I32, 1, 3), T(MQR_I32, 1, 1)}, 48},
    {KERNEL(sh_unique), 3, {1, -1, 3}, 1, 6, {T(MQR_U8, 1, 4)},
     {T(MQR_U8, 1, 4), OMIT, T(MQR_I64, 1, 4), T(MQR_I32, 1, 1), OMIT, T(MQR_I32, 1, 1)}, 64},
    /* NonMaxSuppression: 2 batches, 2 classes, 3 boxes, at most 2 per class -> [<= 8, 3]; thresholds at run
     * time (the score threshold empty) */
    {KERNEL(sh_nms), 2, {0, 2}, 5, 2,
     {T(MQR_F32, 3, 2, 3, 4), T(MQR_F32, 3, 2, 2, 3), T(MQR_I64, 1, 1), T(MQR_F32, 1, 1), T(MQR_F32, 1, 0)},
     {T(MQR_I64, 2, 8, 3), T(MQR_I32, 1, 2)}, 36},
    {KERNEL(sh_nms), 2, {1, 5}, 2, 2, {T(MQR_F32, 3, 1, 4, 4), T(MQR_F32, 3, 1, 1, 4)},
     {T(MQR_I64, 2, 4, 3), T(MQR_I32, 1, 2)}, 48},
};

#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void test_valid_accepted(void **state)
{
    (void)state;
    stats st = {0, 0, 0};
    for (int i = 0; i < N_CASES; i++) {
        if (try_case(&cases[i], cases[i].name, &st) != MQR_CHECK_OK) fail_msg("case %d (%s) refused", i, cases[i].name);
    }
    assert_int_equal(st.accepted, N_CASES);
}

static void test_mutations(void **state)
{
    (void)state;
    stats st = {0, 0, 0};
    for (int i = 0; i < N_CASES; i++) {
        mutate_all(&cases[i], &st);
        mutate_linked(&cases[i], &st);
    }
    print_message("shape checks: %ld mutated calls refused, %ld accepted and run in bounds, %ld too large to run%s\n",
                  st.refused, st.accepted, st.skipped, HAVE_ASAN ? " (ASan)" : " (canaries only: build with ASan)");
    assert_true(st.refused > st.accepted); /* most mutations break a call */
}

/* Every kernel of the family has a real check: a call that cannot be valid (no tensors) is refused. */
static void test_every_kernel_checked(void **state)
{
    (void)state;
    mqr_tensor none[1];
    memset(none, 0, sizeof none);
    int32_t p[MQR_MAX_PARAMS] = {0};
    mqr_call c = {p, 0, none, 0, none, 0, NULL};
#define ONE(name, src) assert_int_equal(mqk_c_##name(&c, 0), MQR_CHECK_BAD);
    MQR_KERNELS_SHAPE(ONE)
#undef ONE
}

/* Run-time index values are bounded by the kernels: out-of-range gathers give zeros, scatters skip. */
static void test_runtime_indices(void **state)
{
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6}; /* [2,3] */
    const int64_t ix[4] = {2, -1, 3, INT64_MIN};
    float o[8];
    /* the indices are an activation: no data when the check runs */
    mqr_tensor in[2] = {{MQR_F32, 2, {2, 3}, (void *)x}, {MQR_I64, 1, {4}, NULL}}, out[1] = {{MQR_F32, 2, {2, 4}, o}};
    int32_t p[1] = {1};
    mqr_call c = {p, 1, in, 2, out, 1, NULL};
    assert_int_equal(mqk_c_sh_gather(&c, 0), MQR_CHECK_OK);
    in[1].data = (void *)ix;
    assert_int_equal(mqk_c_sh_gather(&c, 0), MQR_CHECK_BAD); /* as constants they are refused */
    mqk_k_sh_gather(&c);
    const float want[8] = {3, 3, 0, 0, 6, 6, 0, 0};
    assert_memory_equal(o, want, sizeof want);

    /* scatter_elems: an out-of-range index is skipped */
    const int64_t six[3] = {0, 5, -3};
    const float upd[3] = {10, 20, 30};
    float so[6];
    mqr_tensor sin[3] = {{MQR_F32, 2, {2, 3}, (void *)x}, {MQR_I64, 2, {1, 3}, NULL}, {MQR_F32, 2, {1, 3}, (void *)upd}};
    mqr_tensor sout[1] = {{MQR_F32, 2, {2, 3}, so}};
    int32_t sp[2] = {1, MQK_SCAT_NONE};
    mqr_call sc = {sp, 2, sin, 3, sout, 1, NULL};
    assert_int_equal(mqk_c_sh_scatter_elems(&sc, 0), MQR_CHECK_OK);
    sin[1].data = (void *)six;
    mqk_k_sh_scatter_elems(&sc);
    /* x[0, 0] = 10; index 5 of 3 skipped; x[0, -3 -> 0] = 30 */
    const float swant[6] = {30, 2, 3, 4, 5, 6};
    assert_memory_equal(so, swant, sizeof swant);
}

/* Trilu with a computed k of any int64 value (no overflow; every |k| beyond the matrix acts alike). */
static void test_trilu_extreme_k(void **state)
{
    (void)state;
    const float x[6] = {1, 2, 3, 4, 5, 6}; /* [2,3] */
    float o[6];
    int64_t k = INT64_MAX;
    mqr_tensor in[2] = {{MQR_F32, 2, {2, 3}, (void *)x}, {MQR_I64, 0, {0}, &k}}, out[1] = {{MQR_F32, 2, {2, 3}, o}};
    int32_t p[2] = {1, 0};
    mqr_call c = {p, 2, in, 2, out, 1, NULL};
    const float zeros[6] = {0};
    assert_int_equal(mqk_c_sh_trilu(&c, 0), MQR_CHECK_OK);
    mqk_k_sh_trilu(&c); /* upper, k huge: nothing kept */
    assert_memory_equal(o, zeros, sizeof zeros);
    p[0] = 0; /* lower, k huge: everything kept */
    mqk_k_sh_trilu(&c);
    assert_memory_equal(o, x, sizeof x);
    k = INT64_MIN; /* lower, k very negative: nothing kept */
    mqk_k_sh_trilu(&c);
    assert_memory_equal(o, zeros, sizeof zeros);
    p[0] = 1; /* upper, k very negative: everything kept */
    mqk_k_sh_trilu(&c);
    assert_memory_equal(o, x, sizeof x);
}

/* The strided check's bounds: the last element reachable is exactly the last of the source. */
static void test_strided_edges(void **state)
{
    (void)state;
    float x[12] = {0}, o[12];
    mqr_tensor in[1] = {{MQR_F32, 1, {12}, x}}, out[1] = {{MQR_F32, 2, {3, 4}, o}};
    int32_t p[6] = {2, 0, 3, 4, 4, 1};
    mqr_call c = {p, 6, in, 1, out, 1, NULL};
    assert_int_equal(mqk_c_sh_strided(&c, 0), MQR_CHECK_OK);
    p[1] = 1; /* one past the end */
    assert_int_equal(mqk_c_sh_strided(&c, 0), MQR_CHECK_BAD);
    p[1] = 11; /* reversed rows and columns from the end: offsets 11 - 4i - j */
    p[4] = -4;
    p[5] = -1;
    assert_int_equal(mqk_c_sh_strided(&c, 0), MQR_CHECK_OK);
    p[1] = 10;
    assert_int_equal(mqk_c_sh_strided(&c, 0), MQR_CHECK_BAD);
    p[1] = 11; /* a stride whose span overflows int32 products */
    p[4] = INT32_MIN;
    assert_int_equal(mqk_c_sh_strided(&c, 0), MQR_CHECK_BAD);
    p[4] = INT32_MAX;
    p[1] = 0;
    assert_int_equal(mqk_c_sh_strided(&c, 0), MQR_CHECK_BAD);
    p[4] = 0; /* a broadcast source of 4 elements read as [3, 4] */
    p[5] = 1;
    in[0].dims[0] = 4;
    assert_int_equal(mqk_c_sh_strided(&c, 0), MQR_CHECK_OK);
    in[0].dims[0] = 3;
    assert_int_equal(mqk_c_sh_strided(&c, 0), MQR_CHECK_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_accepted),  cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_every_kernel_checked), cmocka_unit_test(test_runtime_indices),
        cmocka_unit_test(test_trilu_extreme_k), cmocka_unit_test(test_strided_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
