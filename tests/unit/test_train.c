/* test_train.c: the fine-tuning engine on small slices of Fashion-MNIST: a tiny MLP learns (loss falls),
 * the same seed gives the same weights bit for bit, resuming from a checkpoint equals an uninterrupted
 * run, and the exported ONNX of the fine-tuned CNN predicts what the trainer predicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/exec.h"
#include "core/infer.h"
#include "core/op.h"
#include "frontend/onnx_import.h"
#include "train/data.h"
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif
#define FMNIST "/usr/share/datasets/fashion-mnist/"

/* ---- data --------------------------------------------------------------------------------------------- */

/* The first n samples of a Fashion-MNIST file pair, normalized as the example models expect, as a
 * dataset with the given batch size. */
static mq_dataset *slice(const char *images, const char *labels, size_t n, int batch, int shuffle)
{
    mq_err e;
    mq_err_clear(&e);
    mq_data_opts o;
    mq_data_opts_init(&o);
    o.n_mean = o.n_std = 1;
    o.mean[0] = 0.2860f;
    o.std[0] = 0.3530f;
    mq_dataset *full = NULL;
    if (mq_data_open(images, labels, &o, &full, &e) != MQ_OK) fail_msg("%s", e.msg);
    float *x = test_malloc(sizeof(float) * 784 * n);
    int32_t *y = test_malloc(sizeof(int32_t) * n);
    for (size_t i = 0; i < n; i++)
        if (mq_data_get(full, i, x + 784 * i, y + i, &e) != MQ_OK) fail_msg("%s", e.msg);
    mq_data_close(full);
    int64_t xd[4] = {(int64_t)n, 1, 28, 28}, yd[1] = {(int64_t)n};
    mq_tensor xt, yt;
    memset(&xt, 0, sizeof xt);
    memset(&yt, 0, sizeof yt);
    xt.dtype = MQ_F32;
    mq_tensor_set_shape(&xt, 4, xd);
    xt.data = x;
    yt.dtype = MQ_I32;
    mq_tensor_set_shape(&yt, 1, yd);
    yt.data = y;
    mq_data_opts so;
    mq_data_opts_init(&so);
    so.batch = batch;
    so.drop_last = 1;
    so.shuffle = shuffle;
    mq_dataset *ds = NULL;
    if (mq_data_from_tensors(&xt, &yt, &so, &ds, &e) != MQ_OK) fail_msg("%s", e.msg);
    test_free(x);
    test_free(y);
    return ds;
}

/* ---- a tiny MLP built in memory: Flatten, Gemm 784->32, BatchNormalization, Relu, Gemm 32->10 ---------- */

static int add_tensor(mq_graph *g, const char *name, int rank, const int64_t *dims, const float *vals)
{
    int t = mq_graph_tensor(g, name);
    assert_true(t >= 0);
    mq_tensor *x = &g->tensors[t];
    x->dtype = MQ_F32;
    mq_tensor_set_shape(x, rank, dims);
    if (vals) {
        size_t nb = mq_nbytes(x);
        x->data = mq_arena_alloc(g->arena, nb);
        assert_non_null(x->data);
        memcpy(x->data, vals, nb);
        x->is_const = 1;
    }
    return t;
}

static void add_node(mq_graph *g, const char *op, const char *name, int n_in, const int *ins, int out, int n_attr,
                     const mq_attr *attrs)
{
    mq_node *n = mq_graph_add_node(g);
    assert_non_null(n);
    n->name = name;
    n->op_type = op;
    n->opset = 13;
    n->def = mq_op_find("", op, 13, NULL);
    assert_non_null(n->def);
    n->in = mq_arena_array(g->arena, (size_t)n_in + 1, sizeof(int));
    n->out = mq_arena_array(g->arena, 1, sizeof(int));
    memcpy(n->in, ins, sizeof(int) * (size_t)n_in);
    n->out[0] = out;
    n->n_in = n_in;
    n->n_out = 1;
    n->attrs = mq_arena_array(g->arena, (size_t)n_attr + 1, sizeof(mq_attr));
    if (n_attr) memcpy(n->attrs, attrs, sizeof(mq_attr) * (size_t)n_attr);
    n->n_attr = n_attr;
}

/* An empty opset-13 graph, and its one input and output set and shapes inferred. */
static mq_graph *new_graph(void)
{
    mq_graph *g = NULL;
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_graph_new(32, 16, &g, &e), MQ_OK);
    g->opset = 13;
    g->ir_version = 8;
    g->opsets = mq_arena_array(g->arena, 1, sizeof(mq_opset_import));
    g->opsets[0].domain = "";
    g->opsets[0].version = 13;
    g->n_opsets = 1;
    return g;
}

static void finish_graph(mq_graph *g, int x, int y)
{
    mq_err e;
    mq_err_clear(&e);
    g->inputs = mq_arena_array(g->arena, 1, sizeof(int));
    g->outputs = mq_arena_array(g->arena, 1, sizeof(int));
    g->inputs[0] = x;
    g->outputs[0] = y;
    g->n_inputs = g->n_outputs = 1;
    if (mq_graph_infer(g, (int64_t)1 << 32, &e) != MQ_OK) fail_msg("%s", e.msg);
}

static mq_graph *make_mlp_batch(int64_t batch)
{
    enum { H = 32 };
    static float w1[H * 784], b1[H], w2[10 * H], b2[10], sc[H], bi[H], mean[H], var[H];
    uint64_t s = 42;
    for (size_t i = 0; i < sizeof w1 / sizeof w1[0]; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        w1[i] = (float)(((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.1);
    }
    for (size_t i = 0; i < sizeof w2 / sizeof w2[0]; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        w2[i] = (float)(((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.5);
    }
    for (int i = 0; i < H; i++) {
        sc[i] = 1;
        var[i] = 1;
    }
    mq_graph *g = new_graph();
    int64_t din[4] = {batch, 1, 28, 28}, dw1[2] = {H, 784}, dh[1] = {H}, dw2[2] = {10, H}, d10[1] = {10};
    int x = add_tensor(g, "input", 4, din, NULL);
    g->tensors[x].is_input = 1;
    g->tensors[x].sym_mask = 1;
    int tw1 = add_tensor(g, "w1", 2, dw1, w1), tb1 = add_tensor(g, "b1", 1, dh, b1);
    int tsc = add_tensor(g, "bn.scale", 1, dh, sc), tbi = add_tensor(g, "bn.bias", 1, dh, bi);
    int tm = add_tensor(g, "bn.mean", 1, dh, mean), tv = add_tensor(g, "bn.var", 1, dh, var);
    int tw2 = add_tensor(g, "w2", 2, dw2, w2), tb2 = add_tensor(g, "b2", 1, d10, b2);
    int f = add_tensor(g, "flat", -1, NULL, NULL), h = add_tensor(g, "h", -1, NULL, NULL);
    int hb = add_tensor(g, "hb", -1, NULL, NULL), hr = add_tensor(g, "hr", -1, NULL, NULL);
    int y = add_tensor(g, "logits", -1, NULL, NULL);
    g->tensors[y].is_output = 1;
    mq_attr tb = {.name = "transB", .type = MQ_ATTR_INT, .i = 1};
    add_node(g, "Flatten", "flatten", 1, (int[]){x}, f, 0, NULL);
    add_node(g, "Gemm", "fc1", 3, (int[]){f, tw1, tb1}, h, 1, &tb);
    add_node(g, "BatchNormalization", "bn", 5, (int[]){h, tsc, tbi, tm, tv}, hb, 0, NULL);
    add_node(g, "Relu", "relu", 1, (int[]){hb}, hr, 0, NULL);
    add_node(g, "Gemm", "fc2", 3, (int[]){hr, tw2, tb2}, y, 1, &tb);
    finish_graph(g, x, y);
    return g;
}

static mq_graph *make_mlp(void) { return make_mlp_batch(1); }

static mq_trainer *mlp_trainer(const mq_train_opts *o)
{
    mq_trainer *tr = NULL;
    mq_err e;
    mq_err_clear(&e);
    if (mq_trainer_new(make_mlp(), NULL, o, &tr, &e) != MQ_OK) fail_msg("%s", e.msg);
    return tr;
}

static void mlp_opts(mq_train_opts *o)
{
    mq_train_opts_init(o);
    o->batch = 32;
    o->epochs = 3;
    o->lr = 0.05f;
    o->w_states = 3;
    o->a_states = 4;
    o->quant_first = 1; /* the MLP's hidden layer is its first: quantize it */
    o->seed = 7;
    o->calib_batches = 4;
}

static void run_epochs(mq_trainer *tr, mq_dataset *ds, int from, int to, double *loss)
{
    mq_err e;
    mq_err_clear(&e);
    for (int ep = from; ep < to; ep++) {
        mq_train_progress p;
        if (mq_trainer_epoch(tr, ds, ep, NULL, NULL, &p, &e) != MQ_OK) fail_msg("epoch %d: %s", ep, e.msg);
        if (loss) loss[ep] = p.loss;
    }
}

static int same_params(const mq_trainer *a, const mq_trainer *b)
{
    if (mq_trainer_n_params(a) != mq_trainer_n_params(b)) return 0;
    for (int i = 0; i < mq_trainer_n_params(a); i++) {
        size_t na, nb;
        const float *pa = mq_trainer_param(a, i, NULL, &na), *pb = mq_trainer_param(b, i, NULL, &nb);
        if (na != nb || memcmp(pa, pb, sizeof(float) * na)) return 0;
    }
    return 1;
}

/* ---- tests ---------------------------------------------------------------------------------------------- */

static void test_mlp_learns(void **state)
{
    (void)state;
    mq_dataset *ds = slice(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", 1024, 32, 1);
    mq_train_opts o;
    mlp_opts(&o);
    mq_trainer *tr = mlp_trainer(&o);
    /* parameters: w1, b1, w2, b2, LBN gamma and beta */
    assert_int_equal(mq_trainer_n_params(tr), 6);
    mq_err e;
    mq_err_clear(&e);
    if (mq_trainer_calibrate(tr, ds, &e) != MQ_OK) fail_msg("%s", e.msg);
    double loss[3];
    run_epochs(tr, ds, 0, 3, loss);
    print_message("MLP (3,4) losses per epoch: %.4f %.4f %.4f\n", loss[0], loss[1], loss[2]);
    assert_true(loss[2] < 0.8 * loss[0]);
    assert_true(loss[2] < 1.2);
    mq_trainer_free(tr);
    mq_data_close(ds);
}

static void test_same_seed_same_weights(void **state)
{
    (void)state;
    mq_dataset *ds = slice(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", 256, 32, 1);
    mq_train_opts o;
    mlp_opts(&o);
    o.epochs = 2;
    mq_trainer *t[3];
    mq_err e;
    mq_err_clear(&e);
    for (int k = 0; k < 3; k++) {
        o.seed = k == 2 ? 8 : 7;
        t[k] = mlp_trainer(&o);
        if (mq_trainer_calibrate(t[k], ds, &e) != MQ_OK) fail_msg("%s", e.msg);
        run_epochs(t[k], ds, 0, 2, NULL);
    }
    assert_true(same_params(t[0], t[1]));
    assert_false(same_params(t[0], t[2]));
    for (int k = 0; k < 3; k++) mq_trainer_free(t[k]);
    mq_data_close(ds);
}

static void test_resume_equals_uninterrupted(void **state)
{
    (void)state;
    mq_dataset *ds = slice(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", 256, 32, 1);
    mq_train_opts o;
    mlp_opts(&o);
    o.optimizer = MQ_OPT_ADAMW; /* both moments must come back from the checkpoint */
    o.lr = 0.002f;
    o.epochs = 3;
    mq_err e;
    mq_err_clear(&e);
    char path[] = "/tmp/test_train_ckpt_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    mq_trainer *a = mlp_trainer(&o);
    if (mq_trainer_calibrate(a, ds, &e) != MQ_OK) fail_msg("%s", e.msg);
    run_epochs(a, ds, 0, 3, NULL);

    mq_trainer *b = mlp_trainer(&o);
    if (mq_trainer_calibrate(b, ds, &e) != MQ_OK) fail_msg("%s", e.msg);
    run_epochs(b, ds, 0, 1, NULL);
    if (mq_trainer_save_checkpoint(b, path, 1, &e) != MQ_OK) fail_msg("%s", e.msg);
    run_epochs(b, ds, 1, 2, NULL); /* progress after the checkpoint is lost ("kill -9") */
    mq_trainer_free(b);

    mq_trainer *c = mlp_trainer(&o); /* a fresh process: no calibration, state from the checkpoint */
    int done = -1;
    if (mq_trainer_load_checkpoint(c, path, &done, &e) != MQ_OK) fail_msg("%s", e.msg);
    assert_int_equal(done, 1);
    run_epochs(c, ds, done, 3, NULL);
    assert_true(same_params(a, c));

    /* a checkpoint of another configuration is refused */
    mq_train_opts o2 = o;
    o2.seed = 99;
    mq_trainer *d = mlp_trainer(&o2);
    assert_int_equal(mq_trainer_load_checkpoint(d, path, &done, &e), MQ_ERR_INVALID);
    mq_trainer_free(d);
    /* a truncated file is a parse error */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 100), 0);
    fclose(f);
    mq_trainer *d2 = mlp_trainer(&o);
    mq_err_clear(&e);
    assert_int_equal(mq_trainer_load_checkpoint(d2, path, &done, &e), MQ_ERR_PARSE);
    mq_trainer_free(d2);
    unlink(path);
    mq_trainer_free(a);
    mq_trainer_free(c);
    mq_data_close(ds);
}

/* The example CNN at (w, a) = (3, 4): a short fine-tune, then the exported ONNX (standard ops only)
 * re-imported and run by the reference executor predicts exactly what the trainer's eval mode does. */
/* keep_bn 0: MaQD as issue 4 describes; 1: --norm bn (BatchNormalization kept, exported as the model's own
 * version: no training_mode attribute). */
static void cnn_finetune_and_export(int keep_bn)
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
    o.batch = 32;
    o.lr = 0.01f;
    o.w_states = 3;
    o.a_states = 4;
    o.calib_batches = 4;
    o.keep_bn = keep_bn;
    mq_trainer *tr = NULL;
    if (mq_trainer_new(g, NULL, &o, &tr, &e) != MQ_OK) fail_msg("%s", e.msg);
    mq_dataset *train = slice(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", 256, 32, 1);
    mq_dataset *test = slice(FMNIST "t10k-images-idx3-ubyte.gz", FMNIST "t10k-labels-idx1-ubyte.gz", 320, 32, 0);
    if (mq_trainer_calibrate(tr, train, &e) != MQ_OK) fail_msg("%s", e.msg);
    run_epochs(tr, train, 0, 1, NULL);
    mq_eval_result r1, r2;
    if (mq_trainer_evaluate(tr, test, 64, &r1, &e) != MQ_OK) fail_msg("%s", e.msg);
    print_message("fashion_cnn (3,4)%s after 8 steps: %zu/%zu correct on 320 test images\n",
                  keep_bn ? " --norm bn" : "", r1.correct, r1.count);
    assert_true(r1.correct > r1.count / 2);
    char path[] = "/tmp/test_train_export_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    if (mq_trainer_export_onnx(tr, path, &e) != MQ_OK) fail_msg("%s", e.msg);
    memset(&res, 0, sizeof res);
    if (mq_import_onnx_file(path, NULL, &res, &e) != MQ_OK) fail_msg("re-import: %s", e.msg);
    int bns = 0;
    for (int i = 0; i < res.graph->n_nodes; i++) { /* standard ops only */
        const mq_node *n = &res.graph->nodes[i];
        assert_true(n->domain[0] == 0 || !strcmp(n->domain, "ai.onnx"));
        bns += !strcmp(n->op_type, "BatchNormalization");
        assert_null(mq_attr_get(n, "training_mode"));
    }
    assert_int_equal(bns, keep_bn ? 3 : 0);
    if (mq_eval_graph(res.graph, test, 32, &r2, &e) != MQ_OK) fail_msg("%s", e.msg);
    assert_int_equal(r1.count, r2.count);
    assert_int_equal(r1.correct, r2.correct);
    assert_int_equal(r1.correct_top5, r2.correct_top5);
    for (int64_t c = 0; c < r1.classes; c++) assert_int_equal(r1.class_correct[c], r2.class_correct[c]);
    mq_eval_result_free(&r1);
    mq_eval_result_free(&r2);
    mq_import_result_free(&res);
    unlink(path);
    mq_trainer_free(tr);
    mq_data_close(train);
    mq_data_close(test);
}

/* --norm bn: the per-channel running statistics come back from the checkpoint too (training uses batch
 * statistics, so equal parameters alone would not show it). */
static void test_resume_with_batchnorm(void **state)
{
    (void)state;
    mq_dataset *ds = slice(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", 256, 32, 1);
    mq_train_opts o;
    mlp_opts(&o);
    o.keep_bn = 1;
    o.epochs = 2;
    mq_err e;
    mq_err_clear(&e);
    char path[] = "/tmp/test_train_ckpt_bn_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    mq_trainer *a = mlp_trainer(&o);
    if (mq_trainer_calibrate(a, ds, &e) != MQ_OK) fail_msg("%s", e.msg);
    run_epochs(a, ds, 0, 1, NULL);
    if (mq_trainer_save_checkpoint(a, path, 1, &e) != MQ_OK) fail_msg("%s", e.msg);
    run_epochs(a, ds, 1, 2, NULL);
    mq_trainer *c = mlp_trainer(&o);
    int done = -1;
    if (mq_trainer_load_checkpoint(c, path, &done, &e) != MQ_OK) fail_msg("%s", e.msg);
    run_epochs(c, ds, done, 2, NULL);
    assert_true(same_params(a, c));
    const mq_graph *ga = mq_trainer_graph(a), *gc = mq_trainer_graph(c);
    const char *stats[2] = {"bn.mean", "bn.var"};
    for (int s = 0; s < 2; s++) {
        int ta = mq_graph_find(ga, stats[s]), tc = mq_graph_find(gc, stats[s]);
        assert_true(ta >= 0 && tc >= 0);
        assert_int_equal(mq_numel(&ga->tensors[ta]), 32);
        assert_memory_equal(ga->tensors[ta].data, gc->tensors[tc].data, 32 * sizeof(float));
    }
    unlink(path);
    mq_trainer_free(a);
    mq_trainer_free(c);
    mq_data_close(ds);
}

static void test_cnn_finetune_and_export(void **state)
{
    (void)state;
    cnn_finetune_and_export(0);
}

static void test_cnn_finetune_and_export_bn(void **state)
{
    (void)state;
    cnn_finetune_and_export(1);
}

/* Distillation from the float MLP (the teacher runs at the training batch size), without labels too. */
static void test_distillation(void **state)
{
    (void)state;
    mq_dataset *ds = slice(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", 256, 32, 1);
    mq_train_opts o;
    mlp_opts(&o);
    o.distill = 1;
    o.epochs = 2;
    mq_trainer *tr = NULL;
    mq_err e;
    mq_err_clear(&e);
    if (mq_trainer_new(make_mlp(), make_mlp_batch(32), &o, &tr, &e) != MQ_OK) fail_msg("%s", e.msg);
    if (mq_trainer_calibrate(tr, ds, &e) != MQ_OK) fail_msg("%s", e.msg);
    double loss[2];
    run_epochs(tr, ds, 0, 2, loss);
    print_message("MLP (3,4) with distillation: losses %.4f %.4f\n", loss[0], loss[1]);
    assert_true(isfinite(loss[1]) && loss[1] < loss[0]);
    /* unlabelled: the loss is the KL term alone */
    float x[32 * 784];
    for (int i = 0; i < 32 * 784; i++) x[i] = (float)((i % 17) * 0.1 - 0.8);
    double l = -1;
    int cor = 0;
    if (mq_trainer_step(tr, x, NULL, 32, 0.01f, &l, &cor, &e) != MQ_OK) fail_msg("%s", e.msg);
    assert_true(l >= 0 && isfinite(l));
    mq_trainer_free(tr);
    mq_data_close(ds);
}

/* --norm bn: BatchNormalization trains with per-channel batch statistics. At batch 1 its forward and its
 * running statistics after one step (lr 0) match PyTorch's train-mode BatchNorm2d(2, eps=1e-5,
 * momentum=0.1): the values below were printed by torch 2.x (Debian python3-torch) for this input. */
static void test_batchnorm_batch1_matches_pytorch(void **state)
{
    (void)state;
    float x[18], sc[2] = {1.5f, -0.5f}, bi[2] = {0.1f, 0.2f}, rm[2] = {0.3f, -0.2f}, rv[2] = {2.0f, 0.5f};
    for (int i = 0; i < 18; i++) x[i] = (float)((i * 7) % 11) * 0.25f - 1.0f;
    static const float want_y[18] = {-2.0547783f, 1.1022224f, -0.70177794f, 2.4552226f, 0.65122235f, -1.152778f,
                                     2.0042226f, 0.20022222f, -1.6037781f, -0.1991677f, 0.42561653f, 1.0504007f,
                                     -0.042971641f, 0.58181262f, -0.51155984f, 0.11322442f, 0.73800862f,
                                     -0.35536376f};
    static const float want_rm[2] = {0.2894444465637207f, -0.14388887584209442f};
    static const float want_rv[2] = {1.8777776956558228f, 0.5220485925674438f};
    /* the op alone (BatchNormalization-15, training_mode 1) */
    int64_t dx[4] = {1, 2, 3, 3}, d2[1] = {2};
    mq_tensor tin[5], ty;
    memset(tin, 0, sizeof tin);
    memset(&ty, 0, sizeof ty);
    float *vals[5] = {x, sc, bi, rm, rv};
    for (int i = 0; i < 5; i++) {
        tin[i].dtype = MQ_F32;
        mq_tensor_set_shape(&tin[i], i ? 1 : 4, i ? d2 : dx);
        tin[i].data = vals[i];
    }
    mq_attr tm = {.name = "training_mode", .type = MQ_ATTR_INT, .i = 1};
    int ids[6] = {0, 1, 2, 3, 4, 5};
    mq_node n;
    memset(&n, 0, sizeof n);
    n.name = "bn";
    n.op_type = "BatchNormalization";
    n.domain = "";
    n.opset = 15;
    n.def = mq_op_find("", "BatchNormalization", 15, NULL);
    n.n_in = 5;
    n.n_out = 1;
    n.in = ids;
    n.out = ids + 5;
    n.attrs = &tm;
    n.n_attr = 1;
    const mq_tensor *pin[5] = {&tin[0], &tin[1], &tin[2], &tin[3], &tin[4]};
    mq_tensor *pout[1] = {&ty};
    mq_err e;
    mq_err_clear(&e);
    if (mq_exec_node(&n, pin, pout, &e) != MQ_OK) fail_msg("%s", e.msg);
    for (int i = 0; i < 18; i++)
        if (fabsf(((float *)ty.data)[i] - want_y[i]) > 2e-6f * (1 + fabsf(want_y[i])))
            fail_msg("y[%d] = %.8g, PyTorch %.8g", i, ((float *)ty.data)[i], want_y[i]);
    mq_free(ty.data);
    /* the trainer with --norm bn --no-quant: x -> BatchNormalization -> Flatten -> Gemm 18 -> 3 */
    mq_graph *g = new_graph();
    float w[3 * 18], b[3] = {0};
    for (int i = 0; i < 3 * 18; i++) w[i] = (float)((i % 5) - 2) * 0.1f;
    int64_t dw[2] = {3, 18}, d3[1] = {3};
    int tx = add_tensor(g, "input", 4, dx, NULL);
    g->tensors[tx].is_input = 1;
    int tsc = add_tensor(g, "bn.scale", 1, d2, sc), tbi = add_tensor(g, "bn.bias", 1, d2, bi);
    int tm_ = add_tensor(g, "bn.mean", 1, d2, rm), tv = add_tensor(g, "bn.var", 1, d2, rv);
    int tw = add_tensor(g, "w", 2, dw, w), tb = add_tensor(g, "b", 1, d3, b);
    int hb = add_tensor(g, "hb", -1, NULL, NULL), f = add_tensor(g, "flat", -1, NULL, NULL);
    int y = add_tensor(g, "logits", -1, NULL, NULL);
    g->tensors[y].is_output = 1;
    mq_attr tr_b = {.name = "transB", .type = MQ_ATTR_INT, .i = 1};
    add_node(g, "BatchNormalization", "bn", 5, (int[]){tx, tsc, tbi, tm_, tv}, hb, 0, NULL);
    add_node(g, "Flatten", "flatten", 1, (int[]){hb}, f, 0, NULL);
    add_node(g, "Gemm", "fc", 3, (int[]){f, tw, tb}, y, 1, &tr_b);
    finish_graph(g, tx, y);
    mq_train_opts o;
    mq_train_opts_init(&o);
    o.keep_bn = 1;
    o.quantize = 0;
    o.batch = 1;
    o.calib_batches = 0;
    mq_trainer *tr = NULL;
    if (mq_trainer_new(g, NULL, &o, &tr, &e) != MQ_OK) fail_msg("%s", e.msg);
    int32_t label = 2;
    double loss = 0;
    int correct = 0;
    if (mq_trainer_step(tr, x, &label, 1, 0.0f, &loss, &correct, &e) != MQ_OK) fail_msg("%s", e.msg);
    const mq_graph *tg = mq_trainer_graph(tr);
    const float *got_rm = tg->tensors[tm_].data, *got_rv = tg->tensors[tv].data;
    for (int c = 0; c < 2; c++) {
        if (fabsf(got_rm[c] - want_rm[c]) > 1e-6f || fabsf(got_rv[c] - want_rv[c]) > 1e-6f)
            fail_msg("channel %d running stats %.8g %.8g, PyTorch %.8g %.8g", c, got_rm[c], got_rv[c], want_rm[c],
                     want_rv[c]);
    }
    /* BatchNormalization's scale and bias are parameters (with the Gemm's weight and bias) */
    assert_int_equal(mq_trainer_n_params(tr), 4);
    mq_trainer_free(tr);
}

/* The i-th parameter whose name ends in ".step" (a learned quantizer step), -1 if none. */
static int step_param(const mq_trainer *tr, int which)
{
    for (int i = 0, k = 0; i < mq_trainer_n_params(tr); i++) {
        const char *nm = NULL;
        mq_trainer_param(tr, i, &nm, NULL);
        size_t l = strlen(nm);
        if (l > 5 && !strcmp(nm + l - 5, ".step") && k++ == which) return i;
    }
    return -1;
}

/* --learn-act-step --learn-weight-step: both steps are parameters (the act step takes the calibrated value,
 * the weight step starts at MAQD.md's 1.224 for 3 states); weight decay does not touch them: after one SGD
 * step from the same state, runs with and without decay have the same steps and different weights. */
static void test_learned_steps(void **state)
{
    (void)state;
    mq_dataset *ds = slice(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", 256, 32, 1);
    mq_train_opts o;
    mlp_opts(&o);
    o.learn_act_step = o.learn_weight_step = 1;
    o.momentum = 0;
    mq_trainer *t[2];
    float x[32 * 784];
    int32_t y[32];
    for (int i = 0; i < 32 * 784; i++) x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    for (int i = 0; i < 32; i++) y[i] = i % 10;
    mq_err e;
    mq_err_clear(&e);
    float before[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        o.weight_decay = k ? 0.5f : 0.0f;
        t[k] = mlp_trainer(&o);
        assert_int_equal(mq_trainer_n_params(t[k]), 8); /* w1, b1, w2, b2, gamma, beta and two steps */
        int pa = step_param(t[k], 0), pb = step_param(t[k], 1);
        assert_true(pa >= 0 && pb >= 0);
        const char *na = NULL;
        mq_trainer_param(t[k], pa, &na, NULL);
        int wa = strstr(na, ".wq") != NULL; /* which of the two is the weight step */
        int pw = wa ? pa : pb, pact = wa ? pb : pa;
        assert_true(fabsf(mq_trainer_param(t[k], pw, NULL, NULL)[0] - 1.224f) < 1e-3f);
        if (mq_trainer_calibrate(t[k], ds, &e) != MQ_OK) fail_msg("%s", e.msg);
        float act = mq_trainer_param(t[k], pact, NULL, NULL)[0];
        const mq_graph *g = mq_trainer_graph(t[k]);
        for (int i = 0; i < g->n_nodes; i++)
            if (!strcmp(g->nodes[i].op_type, "ActQuant")) assert_true(mq_attr_float(&g->nodes[i], "delta", 0) == act);
        assert_true(act > 0 && act != 1.0f);
        before[0] = mq_trainer_param(t[k], pa, NULL, NULL)[0];
        before[1] = mq_trainer_param(t[k], pb, NULL, NULL)[0];
        double loss = 0;
        int cor = 0;
        if (mq_trainer_step(t[k], x, y, 32, 0.05f, &loss, &cor, &e) != MQ_OK) fail_msg("%s", e.msg);
    }
    for (int j = 0; j < 2; j++) {
        float s0 = mq_trainer_param(t[0], step_param(t[0], j), NULL, NULL)[0];
        float s1 = mq_trainer_param(t[1], step_param(t[1], j), NULL, NULL)[0];
        assert_true(s0 == s1);          /* no decay on a step */
        assert_true(s0 != before[j]);   /* but it moved */
        assert_true(s0 > 0);
    }
    int iw = -1;
    for (int i = 0; i < mq_trainer_n_params(t[0]); i++) {
        const char *nm = NULL;
        mq_trainer_param(t[0], i, &nm, NULL);
        if (!strcmp(nm, "w1")) iw = i;
    }
    assert_true(iw >= 0);
    size_t n0;
    const float *w0 = mq_trainer_param(t[0], iw, NULL, &n0), *w1 = mq_trainer_param(t[1], iw, NULL, NULL);
    assert_true(memcmp(w0, w1, sizeof(float) * n0) != 0); /* the weights did decay */
    for (int k = 0; k < 2; k++) mq_trainer_free(t[k]);
    mq_data_close(ds);
}

static void test_bad_options(void **state)
{
    (void)state;
    mq_train_opts o;
    mlp_opts(&o);
    o.surrogate = "tanh";
    mq_trainer *tr = NULL;
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_trainer_new(make_mlp(), NULL, &o, &tr, &e), MQ_ERR_INVALID);
    assert_null(tr);
    mlp_opts(&o);
    o.distill = 1; /* needs the float model */
    assert_int_equal(mq_trainer_new(make_mlp(), NULL, &o, &tr, &e), MQ_ERR_INVALID);
    mlp_opts(&o);
    o.batch = 0;
    assert_int_equal(mq_trainer_new(make_mlp(), NULL, &o, &tr, &e), MQ_ERR_INVALID);
    mlp_opts(&o);
    o.quantize = 0; /* a learned step needs the quantizers */
    o.learn_act_step = 1;
    assert_int_equal(mq_trainer_new(make_mlp(), NULL, &o, &tr, &e), MQ_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_batchnorm_batch1_matches_pytorch),
        cmocka_unit_test(test_mlp_learns),
        cmocka_unit_test(test_distillation),
        cmocka_unit_test(test_same_seed_same_weights),
        cmocka_unit_test(test_resume_equals_uninterrupted),
        cmocka_unit_test(test_resume_with_batchnorm),
        cmocka_unit_test(test_learned_steps),
        cmocka_unit_test(test_cnn_finetune_and_export),
        cmocka_unit_test(test_cnn_finetune_and_export_bn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
