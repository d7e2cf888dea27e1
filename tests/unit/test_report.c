/* test_report.c: what `maqdc report` computes (report/report.h): weight-grid states and bits by hand,
 * per-layer MACs, parameters and packed bytes of the example CNN by hand (float and exported at (5, 7)),
 * quantizer states found in a fine-tuned export, and the fine-tuning CSV log (train/trainlog.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "frontend/onnx_import.h"
#include "report/report.h"
#include "train/train.h"
#include "train/trainlog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif

static void test_bits(void **state)
{
    (void)state;
    assert_int_equal(mq_report_bits(0), 32);
    assert_int_equal(mq_report_bits(2), 1);
    assert_int_equal(mq_report_bits(3), 2);
    assert_int_equal(mq_report_bits(4), 2);
    assert_int_equal(mq_report_bits(5), 3);
    assert_int_equal(mq_report_bits(16), 4);
    assert_int_equal(mq_report_bits(17), 5);
    assert_int_equal(mq_report_bits(256), 8);
}

static void test_grid_states(void **state)
{
    (void)state;
    float v[64];
    for (int i = 0; i < 64; i++) v[i] = 0.37f * (float)(i % 3 - 1); /* -d, 0, d */
    assert_int_equal(mq_report_grid_states(v, 64), 3);
    for (int i = 0; i < 64; i++) v[i] = 0.25f * (float)(i % 4) - 0.375f; /* 4 levels, step 0.25 */
    assert_int_equal(mq_report_grid_states(v, 64), 4);
    for (int i = 0; i < 64; i++) v[i] = i % 2 ? 1.5f : -0.5f; /* levels -0.5 and 1.5 of a step-0.5 grid? no: */
    assert_int_equal(mq_report_grid_states(v, 64), 2);         /* two values are two states */
    for (int i = 0; i < 64; i++) v[i] = (float)(i % 3) == 1 ? 1.5f : (i % 3 ? -1.5f : -0.5f); /* -1.5, -0.5, 1.5 */
    assert_int_equal(mq_report_grid_states(v, 64), 4);                                     /* 0.5 unused */
    for (int i = 0; i < 64; i++) v[i] = (float)sin(i * 1.7); /* not on a grid */
    assert_int_equal(mq_report_grid_states(v, 64), 0);
    for (int i = 0; i < 64; i++) v[i] = 0.5f; /* one value */
    assert_int_equal(mq_report_grid_states(v, 64), 0);
    float w[3] = {-1, 0, 1}; /* as many values as levels: nothing says it was quantized */
    assert_int_equal(mq_report_grid_states(w, 3), 0);
    for (int i = 0; i < 64; i++) v[i] = (float)i; /* 64 levels */
    assert_int_equal(mq_report_grid_states(v, 64), 0); /* numel == states */
    v[0] = NAN;
    assert_int_equal(mq_report_grid_states(v, 64), 0);
}

static mq_graph *import(const char *path)
{
    mq_import_result res;
    mq_err e = {0};
    memset(&res, 0, sizeof res);
    if (mq_import_onnx_file(path, NULL, &res, &e) != MQ_OK) fail_msg("%s", e.msg);
    mq_graph *g = res.graph;
    res.graph = NULL;
    mq_import_result_free(&res);
    return g;
}

static int find_node(const mq_graph *g, const char *op, int nth)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].op_type, op) && nth-- == 0) return i;
    fail_msg("no %s number %d", op, nth);
    return -1;
}

/* fashion_cnn (models/README.md): Conv 1->32, 32->64, 64->128 (3x3, no bias) at 28, 14, 7; Gemm 128->10. */
static void test_cnn_float(void **state)
{
    (void)state;
    mq_graph *g = import(MAQD_SOURCE_DIR "/models/fashion_cnn.onnx");
    mq_report_model m;
    mq_err e = {0};
    assert_int_equal(mq_report_analyze(g, &m, &e), MQ_OK);
    int c0 = find_node(g, "Conv", 0), c1 = find_node(g, "Conv", 1), c2 = find_node(g, "Conv", 2), fc = find_node(g, "Gemm", 0);
    assert_int_equal(m.nodes[c0].macs, 28 * 28 * 32 * 1 * 9);
    assert_int_equal(m.nodes[c1].macs, 14 * 14 * 64 * 32 * 9);
    assert_int_equal(m.nodes[c2].macs, 7 * 7 * 128 * 64 * 9);
    assert_int_equal(m.nodes[fc].macs, 10 * 128);
    assert_int_equal(m.nodes[c0].params, 32 * 9);
    assert_int_equal(m.nodes[c2].params, 128 * 64 * 9);
    assert_int_equal(m.nodes[fc].params, 10 * 128 + 10);
    assert_int_equal(m.nodes[c2].float_bytes, 4 * 128 * 64 * 9);
    for (int i = 0; i < g->n_nodes; i++) { /* a float model: nothing packed, no states */
        assert_int_equal(m.nodes[i].w_states, 0);
        assert_int_equal(m.nodes[i].a_states, 0);
        assert_int_equal(m.nodes[i].packed_bytes, m.nodes[i].float_bytes);
    }
    /* BN: 4 vectors of C each; 3 Conv + 3 BN + Gemm are the layers */
    assert_int_equal(m.nodes[find_node(g, "BatchNormalization", 1)].params, 4 * 64);
    assert_int_equal(m.n_layers, 7);
    assert_int_equal(m.n_wq_layers, 0);
    int64_t sum = 0;
    for (int i = 0; i < g->n_nodes; i++) sum += m.nodes[i].params;
    assert_int_equal(sum, m.stats.params);
    assert_int_equal(m.float_bytes, m.stats.param_bytes);
    assert_int_equal(m.packed_bytes, m.float_bytes);
    mq_report_model_free(&m);
    mq_graph_free(g);
}

/* The CNN exported by the trainer at (w, a) = (5, 7), first and last layers float (the default): the
 * middle convs' weights are on a 5-level grid (3 bits), three ActQuant chains of 7 states. */
static void test_cnn_exported(void **state)
{
    (void)state;
    mq_graph *g = import(MAQD_SOURCE_DIR "/models/fashion_cnn.onnx");
    mq_train_opts o;
    mq_train_opts_init(&o);
    o.w_states = 5;
    o.a_states = 7;
    mq_trainer *tr = NULL;
    mq_err e = {0};
    if (mq_trainer_new(g, NULL, &o, &tr, &e) != MQ_OK) fail_msg("%s", e.msg);
    /* the training graph itself: WeightQuant and ActQuant nodes carry the states */
    const mq_graph *tg = mq_trainer_graph(tr);
    mq_report_model m;
    assert_int_equal(mq_report_analyze(tg, &m, &e), MQ_OK);
    assert_int_equal(m.nodes[find_node(tg, "Conv", 1)].w_states, 5);
    assert_int_equal(m.nodes[find_node(tg, "Conv", 0)].w_states, 0);
    assert_int_equal(m.nodes[find_node(tg, "ActQuant", 2)].a_states, 7);
    assert_int_equal(m.n_aq, 3);
    mq_report_model_free(&m);

    char path[] = "/tmp/test_report_export_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    if (mq_trainer_export_onnx(tr, path, &e) != MQ_OK) fail_msg("%s", e.msg);
    mq_trainer_free(tr);
    mq_graph *x = import(path);
    unlink(path);
    assert_int_equal(mq_report_analyze(x, &m, &e), MQ_OK);
    int c0 = find_node(x, "Conv", 0), c1 = find_node(x, "Conv", 1), c2 = find_node(x, "Conv", 2), fc = find_node(x, "Gemm", 0);
    assert_int_equal(m.nodes[c0].w_states, 0);
    assert_int_equal(m.nodes[c1].w_states, 5);
    assert_int_equal(m.nodes[c2].w_states, 5);
    assert_int_equal(m.nodes[fc].w_states, 0);
    assert_int_equal(m.nodes[c1].packed_bytes, (64 * 32 * 9 * 3 + 7) / 8);
    assert_int_equal(m.nodes[c2].packed_bytes, 128 * 64 * 9 * 3 / 8);
    assert_int_equal(m.nodes[c1].float_bytes, 4 * 64 * 32 * 9);
    assert_int_equal(m.n_wq_layers, 2);
    assert_int_equal(m.n_aq, 3);
    int chains = 0;
    for (int i = 0; i < x->n_nodes; i++)
        if (m.nodes[i].group == i) {
            chains++;
            assert_string_equal(x->nodes[i].op_type, "Div");
            assert_string_equal(x->nodes[m.nodes[i].group_end].op_type, "Mul");
            assert_int_equal(m.nodes[i].a_states, 7);
        }
    assert_int_equal(chains, 3);
    /* each conv's output reaches a quantizer through the exported LBN (Mul, Add) */
    assert_int_equal(m.nodes[c0].out_a_states, 7);
    assert_int_equal(m.nodes[fc].out_a_states, 0);
    assert_int_equal(m.packed_bytes, m.float_bytes - (4 * 64 * 32 * 9 - (64 * 32 * 9 * 3 + 7) / 8) -
                                         (4 * 128 * 64 * 9 - 128 * 64 * 9 * 3 / 8));
    mq_strbuf b = {0};
    assert_int_equal(mq_report_dot(x, &m, &b, &e), MQ_OK);
    assert_non_null(strstr(b.p, "w: 5 states, 3 bit"));
    assert_non_null(strstr(b.p, "a: 7 states, 3 bit"));
    assert_null(strstr(b.p, "label=\"Floor")); /* no box of its own: each chain is one box */
    int boxes = 0;
    for (const char *s = b.p; (s = strstr(s, "label=\"ActQuant (Div Add Floor Clip Mul)")); s++) boxes++;
    assert_int_equal(boxes, 3);
    mq_sb_free(&b);
    mq_report_model_free(&m);
    mq_graph_free(x);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_trainlog_roundtrip(void **state)
{
    (void)state;
    char path[] = "/tmp/test_report_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    mq_trainlog log = {0};
    mq_err e = {0};
    mq_trainlog_row f = {MQ_LOG_FLOAT, 0, 0, NAN, NAN, NAN, 0.25, 0.875, NAN, 1.5};
    mq_trainlog_row r1 = {MQ_LOG_TRAIN, 1, 93, 0.005, 0.5, 0.75, NAN, NAN, 100, 2.5};
    mq_trainlog_row r2 = {MQ_LOG_TRAIN, 2, 186, 0.0025, 0.375, 0.8125, 0.3125, 0.84375, 120, 2};
    assert_int_equal(mq_trainlog_add(&log, &f, &e), MQ_OK);
    assert_int_equal(mq_trainlog_add(&log, &r1, &e), MQ_OK);
    assert_int_equal(mq_trainlog_add(&log, &r2, &e), MQ_OK);
    assert_int_equal(mq_trainlog_write(&log, path, &e), MQ_OK);
    assert_string_equal(slurp(path), MQ_TRAINLOG_HEADER "\n"
                                     "float,0,0,,,,0.25,0.875,,1.5\n"
                                     "train,1,93,0.005,0.5,0.75,,,100,2.5\n"
                                     "train,2,186,0.0025,0.375,0.8125,0.3125,0.84375,120,2\n");
    mq_trainlog_truncate(&log, 1); /* resuming after epoch 1 drops epoch 2 */
    assert_int_equal(log.n, 2);
    r1.train_loss = 0.4; /* the same epoch again replaces its row */
    assert_int_equal(mq_trainlog_add(&log, &r1, &e), MQ_OK);
    assert_int_equal(log.n, 2);
    mq_trainlog_free(&log);
    mq_trainlog in = {0};
    assert_int_equal(mq_trainlog_read(path, &in, &e), MQ_OK);
    assert_int_equal(in.n, 3);
    assert_int_equal(in.rows[0].phase, MQ_LOG_FLOAT);
    assert_true(isnan(in.rows[0].lr) && isnan(in.rows[0].train_acc));
    assert_true(in.rows[0].val_acc == 0.875);
    assert_int_equal(in.rows[2].epoch, 2);
    assert_int_equal(in.rows[2].step, 186);
    assert_true(in.rows[2].val_loss == 0.3125 && in.rows[2].images_per_s == 120);
    assert_true(isnan(in.rows[1].val_acc));
    mq_trainlog_free(&in);
    write_text(path, MQ_TRAINLOG_HEADER "\r\ntrain,1,10,0.1,1,0.5,,,,\r\n\r\n"); /* CRLF, blank line */
    assert_int_equal(mq_trainlog_read(path, &in, &e), MQ_OK);
    assert_int_equal(in.n, 1);
    mq_trainlog_free(&in);
    unlink(path);
}

static void test_trainlog_bad(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"", "empty file"},
        {"epoch,loss\n1,2\n", "line 1 is not the header"},
        {MQ_TRAINLOG_HEADER "\ntrain,1,10,0.1,1,0.5\n", "line 2: 6 fields, expected 10"},
        {MQ_TRAINLOG_HEADER "\ntrain,1,10,0.1,1,0.5,,,,,\n", "line 2: 11 fields"},
        {MQ_TRAINLOG_HEADER "\ntrain,1,10,0.1,1,0.5,,,,\neval,2,20,0.1,1,0.5,,,,\n", "line 3: phase 'eval'"},
        {MQ_TRAINLOG_HEADER "\ntrain,1,10,abc,1,0.5,,,,\n", "line 2: field 4 ('abc') is not a number"},
        {MQ_TRAINLOG_HEADER "\ntrain,1,10,0.1,nan,0.5,,,,\n", "field 5 ('nan')"},
        {MQ_TRAINLOG_HEADER "\ntrain,1,10,0.1,1,1.5,,,,\n", "accuracy outside [0, 1]"},
        {MQ_TRAINLOG_HEADER "\ntrain,0,10,0.1,1,0.5,,,,\n", "epoch starts at 1"},
        {MQ_TRAINLOG_HEADER "\ntrain,1.5,10,0.1,1,0.5,,,,\n", "whole numbers"},
        {MQ_TRAINLOG_HEADER "\ntrain,-1,10,0.1,1,0.5,,,,\n", "whole numbers"},
    };
    char path[] = "/tmp/test_report_bad_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_text(path, cases[k].text);
        mq_trainlog in = {0};
        mq_err e = {0};
        assert_int_equal(mq_trainlog_read(path, &in, &e), MQ_ERR_PARSE);
        if (!strstr(e.msg, cases[k].msg) || strncmp(e.msg, path, strlen(path)))
            fail_msg("case %zu: '%s' lacks '%s' or the file name", k, e.msg, cases[k].msg);
        assert_int_equal(in.n, 0);
        assert_null(in.rows);
    }
    FILE *f = fopen(path, "wb"); /* a NUL byte: not text */
    fwrite(MQ_TRAINLOG_HEADER "\n\0x", 1, strlen(MQ_TRAINLOG_HEADER) + 3, f);
    fclose(f);
    mq_trainlog in = {0};
    mq_err e = {0};
    assert_int_equal(mq_trainlog_read(path, &in, &e), MQ_ERR_PARSE);
    assert_non_null(strstr(e.msg, "not a text file"));
    unlink(path);
    assert_int_equal(mq_trainlog_read(path, &in, &e), MQ_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bits),
        cmocka_unit_test(test_grid_states),
        cmocka_unit_test(test_cnn_float),
        cmocka_unit_test(test_cnn_exported),
        cmocka_unit_test(test_trainlog_roundtrip),
        cmocka_unit_test(test_trainlog_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
