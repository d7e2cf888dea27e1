/* test_parallel.c: data-parallel fine-tuning without MPI: per-batch sharding gives every rank its slice of
 * each global batch (together exactly one process's batch, augmentation included), and a step over LBN
 * groups applies the mean of the groups' gradients (checked against separate one-group steps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "frontend/onnx_import.h"
#include "train/data.h"
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif

enum { N = 103, C = 2, H = 3, W = 3 };

static mq_tensor tensor(mq_dtype dtype, int rank, const int64_t *dims, void *data)
{
    mq_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    mq_tensor_set_shape(&t, rank, dims);
    t.data = data;
    return t;
}

/* N images of C x H x W bytes that differ per sample and pixel; label = index. */
static mq_dataset *dataset(const mq_data_opts *o, mq_status *st)
{
    static uint8_t px[N * C * H * W];
    static int32_t lab[N];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7 % 251);
    for (int i = 0; i < N; i++) lab[i] = i;
    int64_t xd[4] = {N, C, H, W}, yd[1] = {N};
    mq_tensor xt = tensor(MQ_U8, 4, xd, px), yt = tensor(MQ_I32, 1, yd, lab);
    mq_err e;
    mq_err_clear(&e);
    mq_dataset *ds = NULL;
    *st = mq_data_from_tensors(&xt, &yt, o, &ds, &e);
    return ds;
}

static mq_data_opts base_opts(int batch)
{
    mq_data_opts o;
    mq_data_opts_init(&o);
    o.batch = batch;
    o.drop_last = 1;
    o.shuffle = 1;
    o.crop_pad = 1;
    o.hflip = 1;
    return o;
}

static void test_batch_sharding(void **state)
{
    (void)state;
    static const int cfg[][3] = {{12, 1, 2}, {12, 1, 5}, {12, 4, 3}, {12, 4, 2}, {12, 6, 2}, {12, 1, 12}};
    enum { F = C * H * W };
    for (size_t t = 0; t < sizeof cfg / sizeof cfg[0]; t++) {
        int B = cfg[t][0], unit = cfg[t][1], R = cfg[t][2];
        mq_status st;
        mq_data_opts o = base_opts(B);
        mq_dataset *one = dataset(&o, &st), *rk[12];
        assert_int_equal(st, MQ_OK);
        mq_data_epoch_begin(one, 3, 99);
        for (int r = 0; r < R; r++) {
            mq_data_opts ro = base_opts(B);
            ro.shard_per_batch = 1;
            ro.shard_unit = unit;
            ro.shard_rank = r;
            ro.shard_count = R;
            rk[r] = dataset(&ro, &st);
            assert_int_equal(st, MQ_OK);
            mq_data_info info;
            mq_data_get_info(rk[r], &info);
            assert_int_equal(info.batches, N / B);
            assert_int_equal(info.slice % (size_t)unit, 0);
            int units = B / unit;
            assert_int_equal(info.slice, (size_t)unit * (size_t)(units / R + (r < units % R)));
            assert_int_equal(info.shard_count, info.slice * (size_t)(N / B));
            mq_data_epoch_begin(rk[r], 3, 99);
        }
        float x1[12 * F], xr[12 * F];
        int32_t y1[12], yr[12];
        for (int step = 0; step < N / B; step++) {
            int n1 = 0, at = 0;
            assert_int_equal(mq_data_next_batch(one, x1, y1, &n1, NULL), MQ_OK);
            assert_int_equal(n1, B);
            for (int r = 0; r < R; r++) { /* the ranks' batches in rank order are the single process's batch */
                int n = 0;
                assert_int_equal(mq_data_next_batch(rk[r], xr + (size_t)at * F, yr + at, &n, NULL), MQ_OK);
                assert_true(n >= 1);
                at += n;
            }
            assert_int_equal(at, B);
            assert_memory_equal(y1, yr, sizeof(int32_t) * (size_t)B);
            assert_memory_equal(x1, xr, sizeof(float) * (size_t)B * F);
        }
        for (int r = 0; r < R; r++) { /* then the epoch ends everywhere: the last partial batch is dropped */
            int n = -1;
            assert_int_equal(mq_data_next_batch(rk[r], xr, yr, &n, NULL), MQ_OK);
            assert_int_equal(n, 0);
            mq_data_close(rk[r]);
        }
        mq_data_close(one);
    }
    /* a unit that does not divide the batch, or fewer units than ranks */
    static const int bad[][3] = {{12, 5, 2}, {12, 4, 4}, {12, 1, 13}};
    for (size_t t = 0; t < 3; t++) {
        mq_data_opts o = base_opts(bad[t][0]);
        o.shard_per_batch = 1;
        o.shard_unit = bad[t][1];
        o.shard_count = bad[t][2];
        mq_status st;
        assert_null(dataset(&o, &st));
        assert_int_equal(st, MQ_ERR_INVALID);
    }
}

/* ---- LBN groups -------------------------------------------------------------------------------------- */

static mq_trainer *cnn(int batch, int group)
{
    mq_err e;
    mq_err_clear(&e);
    mq_import_result res;
    memset(&res, 0, sizeof res);
    if (mq_import_onnx_file(MAQD_SOURCE_DIR "/models/fashion_cnn.onnx", NULL, &res, &e) != MQ_OK) fail_msg("%s", e.msg);
    mq_graph *g = res.graph;
    res.graph = NULL;
    mq_import_result_free(&res);
    mq_train_opts o;
    mq_train_opts_init(&o);
    o.batch = batch;
    o.lbn_group = group;
    o.momentum = 0; /* plain SGD: w1 = w0 - lr * gradient */
    o.weight_decay = 0;
    o.w_states = 3;
    o.a_states = 4;
    mq_trainer *tr = NULL;
    mq_status st = mq_trainer_new(g, NULL, &o, &tr, &e);
    if (st != MQ_OK) {
        assert_null(tr);
        return NULL;
    }
    return tr;
}

static void step(mq_trainer *tr, const float *x, const int32_t *y, int n)
{
    mq_err e;
    mq_err_clear(&e);
    double loss = 0;
    int cor = 0;
    if (mq_trainer_step(tr, x, y, n, 0.5f, &loss, &cor, &e) != MQ_OK) fail_msg("%s", e.msg);
}

static void test_group_gradients(void **state)
{
    (void)state;
    enum { B = 8, F = 784 };
    float *x = test_malloc(sizeof(float) * B * F);
    int32_t y[B];
    for (int i = 0; i < B * F; i++) x[i] = (float)sin(0.37 * i) + (float)((i / F) % 3) * 0.2f;
    for (int i = 0; i < B; i++) y[i] = (i * 3) % 10;
    /* one step on two groups of 4 moves the weights by the mean of the two one-group steps */
    mq_trainer *w0 = cnn(4, 0), *a = cnn(4, 0), *b = cnn(4, 0), *g2 = cnn(B, 4), *whole = cnn(B, 0), *g1 = cnn(B, B);
    step(a, x, y, 4);
    step(b, x + 4 * F, y + 4, 4);
    step(g2, x, y, B);
    step(whole, x, y, B);
    step(g1, x, y, B);
    int np = mq_trainer_n_params(w0);
    assert_true(np > 0);
    double worst = 0;
    for (int i = 0; i < np; i++) {
        size_t n;
        const float *p0 = mq_trainer_param(w0, i, NULL, &n), *pa = mq_trainer_param(a, i, NULL, NULL);
        const float *pb = mq_trainer_param(b, i, NULL, NULL), *pg = mq_trainer_param(g2, i, NULL, NULL);
        double scale = 0, diff = 0;
        for (size_t k = 0; k < n; k++) {
            double want = 0.5 * (((double)p0[k] - pa[k]) + ((double)p0[k] - pb[k])), got = (double)p0[k] - pg[k];
            scale = fmax(scale, fabs(want));
            diff = fmax(diff, fabs(want - got));
        }
        if (scale > 0) worst = fmax(worst, diff / scale);
        /* one group of the whole batch is the plain step, bit for bit */
        assert_memory_equal(mq_trainer_param(whole, i, NULL, NULL), mq_trainer_param(g1, i, NULL, NULL), sizeof(float) * n);
    }
    print_message("two LBN groups against the mean of two steps: largest relative difference %.3g\n", worst);
    assert_true(worst < 1e-5);
    mq_trainer *t[] = {w0, a, b, g2, whole, g1};
    for (size_t i = 0; i < 6; i++) mq_trainer_free(t[i]);
    test_free(x);
    /* a group must divide the batch */
    assert_null(cnn(B, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_sharding),
        cmocka_unit_test(test_group_gradients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
