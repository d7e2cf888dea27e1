/* test_fuse.c: the trainer's fused layer tail (train/fuse.c) against the unfused ops it replaces: LayerBatchNorm
 * (training) -> ActQuant (ste) -> MaxPool 2x2/2 or GlobalAveragePool run through their op definitions (forward
 * and backward rules), and the tail's backward against central finite differences of the function its
 * straight-through surrogate differentiates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/exec.h"
#include "core/op.h"
#include "ops/grad.h"
#include "ops/maqd.h"
#include "train/fuse.h"

#include <math.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static const int64_t k22[] = {2, 2};

/* One node of the chain with its attributes. */
static void make_node(mq_node *n, int *ids, const char *domain, const char *op, int opset, int n_in, mq_attr *a,
                      int n_attr)
{
    memset(n, 0, sizeof *n);
    n->name = op;
    n->op_type = op;
    n->domain = domain;
    n->opset = opset;
    n->def = mq_op_find(domain, op, opset, NULL);
    assert_non_null(n->def);
    n->n_in = n_in;
    n->n_out = 1;
    n->in = ids;
    n->out = ids + 8;
    for (int k = 0; k < n_in; k++) ids[k] = k;
    ids[8] = 8;
    n->attrs = a;
    n->n_attr = n_attr;
}

static void set_f32(mq_tensor *t, int rank, const int64_t *dims, void *data)
{
    memset(t, 0, sizeof *t);
    t->name = "t";
    t->dtype = MQ_F32;
    mq_tensor_set_shape(t, rank, dims);
    t->data = data;
}

/* The unfused chain on X: P, and from dL/dP the rules' dX, dgamma, dbeta. Also Z and A for the caller. */
typedef struct chain {
    size_t N, C, H, W, S, np;
    int gap, states;
    float delta, *x, *gamma, *beta, *z, *a, *p, *gp, *dx, *dg, *db;
    double saved[3];
} chain;

static void run_chain(chain *ch)
{
    mq_err e;
    mq_err_clear(&e);
    size_t total = ch->N * ch->C * ch->S;
    int64_t xd[4] = {(int64_t)ch->N, (int64_t)ch->C, (int64_t)ch->H, (int64_t)ch->W}, cd[1] = {(int64_t)ch->C},
            one[1] = {1};
    int64_t pd[4] = {(int64_t)ch->N, (int64_t)ch->C, ch->gap ? 1 : (int64_t)ch->H / 2,
                     ch->gap ? 1 : (int64_t)ch->W / 2};
    float rm[1] = {0}, rv[1] = {1};
    mq_tensor tx, tg, tb, tm, tv, tz, ta, tp;
    set_f32(&tx, 4, xd, ch->x);
    set_f32(&tg, 1, cd, ch->gamma);
    set_f32(&tb, 1, cd, ch->beta);
    set_f32(&tm, 1, one, rm);
    set_f32(&tv, 1, one, rv);
    set_f32(&tz, 4, xd, ch->z);
    set_f32(&ta, 4, xd, ch->a);
    set_f32(&tp, 4, pd, NULL);
    int ids[3][16];
    mq_node nl, na, np;
    mq_attr al[1] = {{.name = "training", .type = MQ_ATTR_INT, .i = 1}};
    mq_attr aa[2] = {{.name = "states", .type = MQ_ATTR_INT, .i = ch->states},
                     {.name = "delta", .type = MQ_ATTR_FLOAT, .f = ch->delta}};
    mq_attr ap[2] = {{.name = "kernel_shape", .type = MQ_ATTR_INTS, .n = 2, .ints = (int64_t *)k22},
                     {.name = "strides", .type = MQ_ATTR_INTS, .n = 2, .ints = (int64_t *)k22}};
    make_node(&nl, ids[0], MQ_MAQD_DOMAIN, "LayerBatchNorm", 1, 5, al, 1);
    make_node(&na, ids[1], MQ_MAQD_DOMAIN, "ActQuant", 1, 1, aa, 2);
    if (ch->gap) make_node(&np, ids[2], "", "GlobalAveragePool", 1, 1, NULL, 0);
    else make_node(&np, ids[2], "", "MaxPool", 12, 1, ap, 2);
    const mq_tensor *lin[5] = {&tx, &tg, &tb, &tm, &tv}, *ain[1] = {&tz}, *pin[1] = {&ta};
    mq_tensor *lout[1] = {&tz}, *aout[1] = {&ta}, *pout[1] = {&tp};
    assert_int_equal(mq_maqd_lbn_forward_saved(&nl, lin, lout, ch->saved, &e), MQ_OK);
    assert_int_equal(mq_exec_node(&na, ain, aout, &e), MQ_OK);
    memcpy(ch->a, ta.data, sizeof(float) * total);
    mq_free(ta.data);
    ta.data = ch->a;
    assert_int_equal(mq_exec_node(&np, pin, pout, &e), MQ_OK);
    assert_int_equal((size_t)mq_numel(&tp), ch->np);
    memcpy(ch->p, tp.data, sizeof(float) * ch->np);
    mq_free(tp.data);
    tp.data = ch->p;
    /* backward through the three rules */
    float *da = test_malloc(sizeof(float) * total), *dz = test_malloc(sizeof(float) * total);
    const mq_tensor *cpo[1] = {&tp}, *cao[1] = {&ta}, *clo[1] = {&tz};
    const float *gpool[1] = {ch->gp}, *gaq[1] = {da}, *glbn[1] = {dz};
    float *dpool[1] = {da}, *daq[1] = {dz}, *dlbn[5] = {ch->dx, ch->dg, ch->db, NULL, NULL};
    assert_int_equal(mq_op_backward(np.def)(&np, pin, cpo, gpool, dpool, &e), MQ_OK);
    assert_int_equal(mq_op_backward(na.def)(&na, ain, cao, gaq, daq, &e), MQ_OK);
    assert_int_equal(mq_maqd_lbn_backward_saved(&nl, lin, clo, glbn, dlbn, ch->saved, &e), MQ_OK);
    test_free(da);
    test_free(dz);
}

static void chain_alloc(chain *ch, size_t N, size_t C, size_t H, size_t W, int gap, int states, float delta)
{
    memset(ch, 0, sizeof *ch);
    ch->N = N;
    ch->C = C;
    ch->H = H;
    ch->W = W;
    ch->S = H * W;
    ch->gap = gap;
    ch->states = states;
    ch->delta = delta;
    ch->np = gap ? N * C : N * C * (H / 2) * (W / 2);
    size_t total = N * C * H * W;
    ch->x = test_malloc(sizeof(float) * total);
    ch->z = test_malloc(sizeof(float) * total);
    ch->a = test_malloc(sizeof(float) * total);
    ch->dx = test_malloc(sizeof(float) * total);
    ch->gamma = test_malloc(sizeof(float) * C);
    ch->beta = test_malloc(sizeof(float) * C);
    ch->dg = test_malloc(sizeof(float) * C);
    ch->db = test_malloc(sizeof(float) * C);
    ch->p = test_malloc(sizeof(float) * ch->np);
    ch->gp = test_malloc(sizeof(float) * ch->np);
    /* X on a coarse grid, so that quantized values tie inside windows (also -0.0 with +0.0), and symmetric (the
     * second half is the first negated) so that its mean is exactly 0: channel 0 (beta 0) then has Z = a X, 0 where
     * X is 0, and delta is chosen so that Z = a at X = 1 is exactly the mask's upper edge (m - 1/2) delta */
    for (size_t i = 0; i < total / 2; i++) {
        ch->x[i] = (float)(0.25 * floor(12 * urand()) - 1.0);
        ch->x[total - 1 - i] = -ch->x[i];
    }
    if (total % 2) ch->x[total / 2] = 0.0f;
    ch->x[0] = 1.0f; /* channel 0 of image 0: a 1 and a 0 (mirrored at the end) */
    ch->x[1] = 0.0f;
    ch->x[total - 1] = -1.0f;
    ch->x[total - 2] = 0.0f;
    for (size_t c = 0; c < C; c++) {
        ch->gamma[c] = (float)(0.5 + urand());
        ch->beta[c] = c ? (float)(urand() - 0.2) : 0.0f;
    }
    double st[3];
    mq_maqd_lbn_batch_stats(ch->x, total, st);
    assert_true(st[0] == 0.0);
    float a0 = (float)(ch->gamma[0] * (1.0 / sqrt(st[1] + (double)1e-5f))), d = a0 / ((float)states - 0.5f);
    for (int k = 0; k < 64 && ((float)states - 0.5f) * d != a0; k++)
        d = nextafterf(d, ((float)states - 0.5f) * d < a0 ? 1e30f : 0.0f);
    if (((float)states - 0.5f) * d == a0) ch->delta = d;
    for (size_t o = 0; o < ch->np; o++) ch->gp[o] = (float)(2 * urand() - 1);
    if (ch->np > 1) ch->gp[1] = -0.0f;
}

static void chain_free(chain *ch)
{
    test_free(ch->x);
    test_free(ch->z);
    test_free(ch->a);
    test_free(ch->dx);
    test_free(ch->gamma);
    test_free(ch->beta);
    test_free(ch->dg);
    test_free(ch->db);
    test_free(ch->p);
    test_free(ch->gp);
}

static void tail_of(const chain *ch, mq_fuse_tail *f)
{
    memset(f, 0, sizeof *f);
    f->N = ch->N;
    f->C = ch->C;
    f->H = ch->H;
    f->W = ch->W;
    f->pool = ch->gap ? MQ_FUSE_GAP : MQ_FUSE_MAXPOOL2;
    f->gamma = ch->gamma;
    f->beta = ch->beta;
    f->eps = 1e-5f;
    f->mu = ch->saved[0];
    f->var = ch->saved[1];
    f->states = ch->states;
    f->delta = ch->delta;
}

/* max |a - b| <= tol * max |b| */
static void assert_close(const float *a, const float *b, size_t n, double tol, const char *what)
{
    double scale = 0, worst = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    if (!(worst <= tol * scale)) fail_msg("%s: max difference %g of max magnitude %g", what, worst, scale);
}

static void check_shape(size_t N, size_t C, size_t H, size_t W, int gap, int states, float delta)
{
    chain ch;
    chain_alloc(&ch, N, C, H, W, gap, states, delta);
    run_chain(&ch);
    mq_fuse_tail f;
    tail_of(&ch, &f);
    size_t total = N * C * H * W;
    /* the statistics the trainer gives the tail are the op's */
    double st[3];
    mq_maqd_lbn_batch_stats(ch.x, total, st);
    assert_memory_equal(st, ch.saved, sizeof st);
    /* the data reach the mask's edges: Z exactly 0 and exactly (m - 1/2) delta */
    int at0 = 0, athi = 0;
    for (size_t i = 0; i < total; i++) {
        at0 += ch.z[i] == 0.0f;
        athi += ch.z[i] == ((float)states - 0.5f) * ch.delta;
    }
    if (!(at0 > 0 && athi > 0)) fail_msg("shape %zux%zux%zux%zu: %d zeros, %d at the edge", N, C, H, W, at0, athi);
    void *saved = test_malloc(mq_fuse_saved_bytes(&f) + 1);
    float *scratch = test_malloc(sizeof(float) * mq_fuse_scratch_floats(&f));
    float *p = test_malloc(sizeof(float) * ch.np), *dx = test_malloc(sizeof(float) * total);
    float dg[64], db[64];
    assert_true(C <= 64);
    mq_fuse_forward_tail(&f, ch.x, p, saved, scratch);
    /* forward: bit for bit */
    assert_memory_equal(p, ch.p, sizeof(float) * ch.np);
    mq_fuse_backward_tail(&f, ch.x, saved, ch.gp, scratch, dx, dg, db);
    if (gap) { /* the same sums in the same order: bit for bit */
        assert_memory_equal(dx, ch.dx, sizeof(float) * total);
        assert_memory_equal(dg, ch.dg, sizeof(float) * C);
        assert_memory_equal(db, ch.db, sizeof(float) * C);
    } else { /* the per-channel sums in another order (double): float rounding */
        assert_close(dx, ch.dx, total, 1e-6, "dX");
        assert_close(dg, ch.dg, C, 1e-6, "dgamma");
        assert_close(db, ch.db, C, 1e-6, "dbeta");
    }
    test_free(saved);
    test_free(scratch);
    test_free(p);
    test_free(dx);
    chain_free(&ch);
}

static void test_maxpool_tail_matches_ops(void **state)
{
    (void)state;
    check_shape(3, 4, 6, 8, 0, 4, 0.7f);  /* rows of 8: a multiple of four */
    check_shape(2, 3, 6, 6, 0, 3, 0.5f);  /* rows of 6 */
    check_shape(2, 3, 5, 7, 0, 2, 0.9f);  /* odd sizes: the last row and column are in no window */
    check_shape(1, 2, 4, 4, 0, 16, 0.1f); /* many states */
}

static void test_gap_tail_matches_ops(void **state)
{
    (void)state;
    check_shape(3, 4, 4, 3, 1, 4, 0.7f);
    check_shape(2, 5, 7, 7, 1, 2, 0.6f);
}

/* The surrogate's function: with the tail's routing frozen at X (which tap of each window gets the gradient and
 * whether the mask passes it), L = sum_o r_o Z[tap_o], Z = LBN(X) with the batch statistics of X. The tail's
 * dL/dX, dL/dgamma, dL/dbeta for dL/dP = r are its exact derivatives. */
static double frozen_objective(const chain *ch, const int32_t *tap, const float *r)
{
    mq_err e;
    mq_err_clear(&e);
    size_t total = ch->N * ch->C * ch->S;
    int64_t xd[4] = {(int64_t)ch->N, (int64_t)ch->C, (int64_t)ch->H, (int64_t)ch->W}, cd[1] = {(int64_t)ch->C},
            one[1] = {1};
    float rm[1] = {0}, rv[1] = {1};
    float *z = test_malloc(sizeof(float) * total);
    mq_tensor tx, tg, tb, tm, tv, tz;
    set_f32(&tx, 4, xd, ch->x);
    set_f32(&tg, 1, cd, ch->gamma);
    set_f32(&tb, 1, cd, ch->beta);
    set_f32(&tm, 1, one, rm);
    set_f32(&tv, 1, one, rv);
    set_f32(&tz, 4, xd, z);
    int ids[16];
    mq_node nl;
    mq_attr al[1] = {{.name = "training", .type = MQ_ATTR_INT, .i = 1}};
    make_node(&nl, ids, MQ_MAQD_DOMAIN, "LayerBatchNorm", 1, 5, al, 1);
    const mq_tensor *lin[5] = {&tx, &tg, &tb, &tm, &tv};
    mq_tensor *lout[1] = {&tz};
    double saved[3];
    assert_int_equal(mq_maqd_lbn_forward_saved(&nl, lin, lout, saved, &e), MQ_OK);
    double s = 0;
    for (size_t o = 0; o < ch->np; o++)
        if (tap[o] >= 0) s += (double)r[o] * z[tap[o]];
    test_free(z);
    return s;
}

static void test_maxpool_tail_finite_differences(void **state)
{
    (void)state;
    chain ch;
    chain_alloc(&ch, 2, 3, 4, 6, 0, 4, 0.6f);
    /* values away from the quantizer's steps and mask edges, so that the routing is clear */
    size_t total = ch.N * ch.C * ch.S;
    for (size_t i = 0; i < total; i++) ch.x[i] = (float)(3 * urand() - 1);
    run_chain(&ch);
    /* routing from the unfused forward: the first tap equal to the window's max of A, if Z there is in
     * [0, (m - 1/2) delta] */
    size_t OH = ch.H / 2, OW = ch.W / 2;
    int32_t *tap = test_malloc(sizeof(int32_t) * ch.np);
    float hi = ((float)ch.states - 0.5f) * ch.delta;
    int routed = 0;
    for (size_t pl = 0; pl < ch.N * ch.C; pl++)
        for (size_t oh = 0; oh < OH; oh++)
            for (size_t ow = 0; ow < OW; ow++) {
                size_t o = (pl * OH + oh) * OW + ow, t = SIZE_MAX;
                for (size_t k = 0; k < 4 && t == SIZE_MAX; k++) {
                    size_t i = pl * ch.S + (2 * oh + k / 2) * ch.W + 2 * ow + k % 2;
                    if (ch.a[i] == ch.p[o]) t = i;
                }
                int pass = t != SIZE_MAX && ch.z[t] >= 0 && ch.z[t] <= hi;
                tap[o] = pass ? (int32_t)t : -1;
                routed += pass;
            }
    assert_true(routed > (int)ch.np / 4);
    mq_fuse_tail f;
    tail_of(&ch, &f);
    void *saved = test_malloc(mq_fuse_saved_bytes(&f) + 1);
    float *scratch = test_malloc(sizeof(float) * mq_fuse_scratch_floats(&f));
    float *p = test_malloc(sizeof(float) * ch.np), *dx = test_malloc(sizeof(float) * total), dg[3], db[3];
    mq_fuse_forward_tail(&f, ch.x, p, saved, scratch);
    mq_fuse_backward_tail(&f, ch.x, saved, ch.gp, scratch, dx, dg, db);
    const double eps = 1e-3;
    float *vars[3] = {ch.x, ch.gamma, ch.beta}, *grads[3] = {dx, dg, db};
    size_t counts[3] = {total, ch.C, ch.C};
    for (int v = 0; v < 3; v++)
        for (size_t j = 0; j < counts[v]; j++) {
            float keep = vars[v][j];
            vars[v][j] = (float)(keep + eps);
            double lp = frozen_objective(&ch, tap, ch.gp);
            vars[v][j] = (float)(keep - eps);
            double lm = frozen_objective(&ch, tap, ch.gp);
            vars[v][j] = keep;
            double num = (lp - lm) / ((double)(float)(keep + eps) - (double)(float)(keep - eps)), got = grads[v][j];
            if (!(fabs(num - got) <= 2e-3 + 1e-2 * fabs(num)))
                fail_msg("input %d [%zu]: tail %.6g, finite difference %.6g", v, j, got, num);
        }
    test_free(tap);
    test_free(saved);
    test_free(scratch);
    test_free(p);
    test_free(dx);
    chain_free(&ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxpool_tail_matches_ops),
        cmocka_unit_test(test_gap_tail_matches_ops),
        cmocka_unit_test(test_maxpool_tail_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
