/* test_loss.c: the softmax cross-entropy kernel of ops/loss.h (loss and dL/dlogits, mean reduction) on
 * cases worked out by hand, on extreme logits, on bad labels, and its gradient against finite differences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "ops/loss.h"

static void near(const float *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol))
            fail_msg("element %zu: got %.9g, want %.9g", i, (double)got[i], want[i]);
}

/* deterministic pseudo-random values in [-1, 1) */
static uint32_t rng = 2024u;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}

static void test_two_equal_logits(void **state)
{
    (void)state;
    /* logits [0, 0], label 0: p = [1/2, 1/2], loss = ln 2, grad = p - onehot = [-1/2, 1/2] */
    const float x[2] = {0, 0};
    const int64_t lab[1] = {0};
    float loss = -1, g[2];
    assert_int_equal(mq_softmax_xent_mean_f32(1, 2, x, lab, &loss, g), 0);
    const double want_loss = 0.693147181, want_g[2] = {-0.5, 0.5};
    near(&loss, &want_loss, 1, 1e-6);
    near(g, want_g, 2, 1e-7);
}

static void test_batch_of_two(void **state)
{
    (void)state;
    /* row 0: logits [1, 2, 3], label 2. With s = 1 + e^-1 + e^-2 = 1.503214724,
     *   log-sum-exp = 3 + ln s = 3.407605964, loss0 = 3.407605964 - 3 = 0.407605964,
     *   p = [e^-2, e^-1, 1] / s = [0.090030573, 0.244728471, 0.665240956].
     * row 1: logits [0, 0, 0], label 1: loss1 = ln 3 = 1.098612289, p = [1/3, 1/3, 1/3].
     * mean loss = (0.407605964 + 1.098612289) / 2 = 0.753109127;
     * grad = (p - onehot) / 2. */
    const float x[6] = {1, 2, 3, 0, 0, 0};
    const int64_t lab[2] = {2, 1};
    float loss, g[6];
    assert_int_equal(mq_softmax_xent_mean_f32(2, 3, x, lab, &loss, g), 0);
    const double want_loss = 0.753109127;
    const double want_g[6] = {0.045015287, 0.122364236, -0.167379522, 1.0 / 6, -1.0 / 3, 1.0 / 6};
    near(&loss, &want_loss, 1, 1e-6);
    near(g, want_g, 6, 1e-7);

    /* the loss alone (grad NULL) is the same */
    float loss2;
    assert_int_equal(mq_softmax_xent_mean_f32(2, 3, x, lab, &loss2, NULL), 0);
    assert_true(loss2 == loss);
}

static void test_extreme_logits(void **state)
{
    (void)state;
    /* [1000, 0]: a naive exp overflows. Label 0: loss = ln(1 + e^-1000) = 0 in float, grad [0, 0].
     * Label 1: loss = 1000, grad = [1, -1]. */
    const float x[4] = {1000, 0, 1000, 0};
    const int64_t lab0[2] = {0, 0}, lab1[2] = {1, 1};
    float loss, g[4];
    assert_int_equal(mq_softmax_xent_mean_f32(2, 2, x, lab0, &loss, g), 0);
    const double zero = 0, z4[4] = {0, 0, 0, 0};
    near(&loss, &zero, 1, 1e-30);
    near(g, z4, 4, 1e-30);
    assert_int_equal(mq_softmax_xent_mean_f32(2, 2, x, lab1, &loss, g), 0);
    const double thousand = 1000, half[4] = {0.5, -0.5, 0.5, -0.5};
    near(&loss, &thousand, 1, 1e-3);
    near(g, half, 4, 1e-7);
}

static void test_bad_labels(void **state)
{
    (void)state;
    const float x[4] = {1, 2, 3, 4};
    float loss = 42, g[4] = {7, 7, 7, 7};
    const int64_t too_big[2] = {0, 2}, negative[2] = {-1, 0};
    assert_int_equal(mq_softmax_xent_mean_f32(2, 2, x, too_big, &loss, g), -1);
    assert_int_equal(mq_softmax_xent_mean_f32(2, 2, x, negative, &loss, g), -1);
    assert_int_equal(mq_softmax_xent_mean_f32(2, 0, x, negative, &loss, g), -1);
    assert_true(loss == 42 && g[0] == 7 && g[3] == 7); /* untouched on failure */
    /* an empty batch has loss 0 */
    assert_int_equal(mq_softmax_xent_mean_f32(0, 2, x, NULL, &loss, g), 0);
    assert_true(loss == 0);
}

static void test_finite_differences(void **state)
{
    (void)state;
    enum { N = 4, C = 5 };
    float x[N * C], g[N * C];
    int64_t lab[N] = {3, 0, 4, 1};
    for (int i = 0; i < N * C; i++) x[i] = 3.0f * frand();
    float loss;
    assert_int_equal(mq_softmax_xent_mean_f32(N, C, x, lab, &loss, g), 0);
    const float h = 1e-2f;
    for (int i = 0; i < N * C; i++) {
        float xp[N * C], xm[N * C], lp, lm;
        for (int j = 0; j < N * C; j++) xp[j] = xm[j] = x[j];
        xp[i] += h;
        xm[i] -= h;
        assert_int_equal(mq_softmax_xent_mean_f32(N, C, xp, lab, &lp, NULL), 0);
        assert_int_equal(mq_softmax_xent_mean_f32(N, C, xm, lab, &lm, NULL), 0);
        double fd = ((double)lp - (double)lm) / ((double)xp[i] - (double)xm[i]);
        near(&g[i], &fd, 1, 1e-4);
    }
    /* each row of the gradient sums to zero (softmax sums to one) */
    for (int r = 0; r < N; r++) {
        double s = 0;
        for (int j = 0; j < C; j++) s += g[r * C + j];
        assert_true(fabs(s) < 1e-7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_equal_logits), cmocka_unit_test(test_batch_of_two),
        cmocka_unit_test(test_extreme_logits),   cmocka_unit_test(test_bad_labels),
        cmocka_unit_test(test_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
