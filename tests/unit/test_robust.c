/* test_robust.c: faults and limits (docs/ROBUSTNESS.md): the Nth allocation failing during import and
 * during every compile stage (lowering, memory plan, .mqd writing, C emission) gives a clean
 * MQ_ERR_NOMEM and leaves no output file (leaks: the ASan build); each import limit triggers with a
 * message naming what exceeded it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/emit_c.h"
#include "backend/mqd_write.h"
#include "backend/program.h"
#include "core/alloc.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"
#include "train/data.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif
#define CONF "/usr/share/libonnx-testdata/data/"

static const char *const models[] = {
    MAQD_SOURCE_DIR "/tests/data/frontend/good_add.onnx",
    MAQD_SOURCE_DIR "/tests/data/cli/small_cnn.onnx",
    MAQD_SOURCE_DIR "/models/fashion_cnn.onnx",
    CONF "node/test_gather_0/model.onnx",
};

static void assert_msg_has(const mq_err *e, const char *s)
{
    if (!strstr(e->msg, s)) fail_msg("message lacks '%s': %s", s, e->msg);
}

/* A fresh folder for outputs; count its entries (every file a compile step left behind). */
static void make_dir(char *tmpl)
{
    assert_non_null(mkdtemp(tmpl));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
}

static mq_graph *import_ok(const char *path)
{
    mq_import_result r;
    mq_err e;
    mq_err_clear(&e);
    if (mq_import_onnx_file(path, NULL, &r, &e) != MQ_OK) fail_msg("%s", e.msg);
    mq_graph *g = r.graph;
    r.graph = NULL;
    mq_import_result_free(&r);
    return g;
}

/* One compile to .mqd (lowering, plan, serialization, the atomic file write) and one to C (lowering
 * for C, emission of both files, their atomic writes), with allocation number n failing (0: none). */
static mq_status compile_all(const mq_graph *g, const char *dir, long n, int *written, mq_err *e)
{
    *written = 0;
    char mqd[4096], c[4096], h[4096];
    snprintf(mqd, sizeof mqd, "%s/m.mqd", dir);
    snprintf(c, sizeof c, "%s/m.c", dir);
    snprintf(h, sizeof h, "%s/m.h", dir);
    mq_err_clear(e);
    mq_alloc_fail_after(n);
    mq_program p;
    mq_status st = mq_program_build(g, NULL, &p, e);
    if (st == MQ_OK) {
        void *buf = NULL;
        size_t len = 0;
        st = mq_mqd_write(&p, &buf, &len, e);
        mq_free(buf);
    }
    if (st == MQ_OK) st = mq_mqd_write_file(&p, mqd, e);
    if (st == MQ_OK) *written = 1;
    mq_program_free(&p);
    if (st == MQ_OK) {
        mq_program_opts po;
        mq_emit_c_program_opts(&po);
        st = mq_program_build(g, &po, &p, e);
        mq_emit_c_opts o;
        mq_emit_c_opts_init(&o);
        o.prefix = "m";
        o.with_main = 1;
        if (st == MQ_OK) st = mq_emit_c_files(&p, &o, c, h, e);
        if (st == MQ_OK) *written = 3;
        mq_program_free(&p);
    }
    mq_alloc_fail_after(0);
    return st;
}

/* Allocation 1, 2, ... N failing in turn during compilation, until a run needs no more: each failure
 * is MQ_ERR_NOMEM with a message and leaves no file but those of the stages that completed (m.mqd
 * before C emission): no partial file, no temporary; the run without failures writes m.mqd, m.c, m.h. */
static void test_compile_alloc_sweep(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_robust_XXXXXX";
    make_dir(dir);
    for (size_t f = 0; f < sizeof models / sizeof models[0]; f++) {
        mq_graph *g = import_ok(models[f]);
        mq_err e;
        long n, failures = 0;
        for (n = 1; n < 1000000; n++) {
            int written;
            mq_status st = compile_all(g, dir, n, &written, &e);
            if (st == MQ_OK) break;
            if (st != MQ_ERR_NOMEM) fail_msg("%s, failing allocation %ld: %s (%s)", models[f], n, e.msg, mq_status_name(st));
            assert_true(e.msg[0] != 0);
            if (count_entries(dir) != written)
                fail_msg("%s, failing allocation %ld: %d files in the folder, %d expected", models[f], n,
                         count_entries(dir), written);
            clear_dir(dir);
            failures++;
        }
        assert_int_equal(count_entries(dir), 3);
        print_message("%s: compile failed cleanly at each of its %ld allocations\n", models[f], failures);
        assert_true(failures > 5);
        clear_dir(dir);
        mq_graph_free(g);
    }
    rmdir(dir);
}

/* The whole path, import included, for the small models. */
static void test_import_compile_alloc_sweep(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_robust_XXXXXX";
    make_dir(dir);
    for (size_t f = 0; f < 2; f++) {
        long n;
        for (n = 1; n < 1000000; n++) {
            mq_import_result r;
            mq_err e;
            mq_err_clear(&e);
            mq_alloc_fail_after(n);
            mq_status st = mq_import_onnx_file(models[f], NULL, &r, &e);
            /* the compile sweep's counter restarts; continue the same count through it */
            long used = mq_alloc_count();
            mq_alloc_fail_after(0);
            int written = 0;
            if (st == MQ_OK) {
                st = compile_all(r.graph, dir, n > used ? n - used : 0, &written, &e);
                if (n <= used) fail_msg("import succeeded with allocation %ld failing", n);
            }
            mq_import_result_free(&r);
            if (st == MQ_OK) break;
            if (st != MQ_ERR_NOMEM) fail_msg("%s, failing allocation %ld: %s", models[f], n, e.msg);
            assert_int_equal(count_entries(dir), written);
            clear_dir(dir);
        }
        assert_int_equal(count_entries(dir), 3);
        clear_dir(dir);
    }
    rmdir(dir);
}

/* Each cap of mq_import_opts triggers with MQ_ERR_LIMIT and a message saying what exceeded it. */
static void test_import_limits(void **state)
{
    (void)state;
    const char *cnn = models[1];
    mq_import_result r;
    mq_err e;
    struct {
        mq_import_opts o;
        const char *msg;
    } cases[] = {
        {{.max_rank = 3}, "exceeds the maximum rank 3"},          /* conv weights are rank 4 */
        {{.max_elems = 100}, "element count exceeds the limit of 100"},
        {{.max_bytes = 1000}, "over the limit of 1000"},
        {{.max_nodes = 2}, "exceed the limit of 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mq_err_clear(&e);
        assert_int_equal(mq_import_onnx_file(cnn, &cases[i].o, &r, &e), MQ_ERR_LIMIT);
        assert_msg_has(&e, cases[i].msg);
        assert_msg_has(&e, "small_cnn.onnx: ");
        assert_null(r.graph);
    }
    /* Unsqueeze of a rank-3 input to rank 4 (checked at the declared output or the inferred value) */
    mq_import_opts o = {.max_rank = 3};
    mq_err_clear(&e);
    assert_int_equal(mq_import_onnx_file(CONF "node/test_unsqueeze_axis_0/model.onnx", &o, &r, &e), MQ_ERR_LIMIT);
    assert_msg_has(&e, "rank 4");
    assert_msg_has(&e, "maximum rank 3");
    mq_import_opts bad = {.max_rank = MQ_MAX_RANK + 1};
    mq_err_clear(&e);
    assert_int_equal(mq_import_onnx_file(cnn, &bad, &r, &e), MQ_ERR_INVALID);
    /* at the limit itself: accepted */
    mq_import_opts at = {.max_rank = 4, .max_nodes = 1000};
    mq_err_clear(&e);
    assert_int_equal(mq_import_onnx_file(cnn, &at, &r, &e), MQ_OK);
    mq_import_result_free(&r);
}

/* mq_data_open_mem (the fuzz target's entry) reads what mq_data_open reads, and its byte cap holds. */
static void test_data_open_mem(void **state)
{
    (void)state;
    const char *imgp = MAQD_SOURCE_DIR "/tests/data/datasets/tiny-images-idx3-ubyte.gz";
    const char *labp = MAQD_SOURCE_DIR "/tests/data/datasets/tiny-labels-idx1-ubyte";
    void *img, *lab;
    size_t il, ll;
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_read_file(imgp, 1 << 20, &img, &il, &e), MQ_OK);
    assert_int_equal(mq_read_file(labp, 1 << 20, &lab, &ll, &e), MQ_OK);
    mq_dataset *a = NULL, *b = NULL;
    assert_int_equal(mq_data_open(imgp, labp, NULL, &a, &e), MQ_OK);
    assert_int_equal(mq_data_open_mem(img, il, lab, ll, NULL, &b, &e), MQ_OK);
    mq_data_info ia, ib;
    mq_data_get_info(a, &ia);
    mq_data_get_info(b, &ib);
    assert_int_equal(ia.count, ib.count);
    assert_int_equal(ia.sample_floats, ib.sample_floats);
    float *xa = malloc(sizeof(float) * ia.sample_floats), *xb = malloc(sizeof(float) * ib.sample_floats);
    int32_t ya, yb;
    for (size_t i = 0; i < ia.count; i++) {
        assert_int_equal(mq_data_get(a, i, xa, &ya, &e), MQ_OK);
        assert_int_equal(mq_data_get(b, i, xb, &yb, &e), MQ_OK);
        assert_int_equal(ya, yb);
        assert_memory_equal(xa, xb, sizeof(float) * ia.sample_floats);
    }
    free(xa);
    free(xb);
    mq_data_close(a);
    mq_data_close(b);
    mq_data_opts o;
    mq_data_opts_init(&o);
    o.max_bytes = 100; /* the decompressed images are 716 bytes */
    assert_int_equal(mq_data_open_mem(img, il, NULL, 0, &o, &b, &e), MQ_ERR_LIMIT);
    assert_msg_has(&e, "images: ");
    assert_null(b);
    mq_free(img);
    mq_free(lab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_limits),
        cmocka_unit_test(test_data_open_mem),
        cmocka_unit_test(test_compile_alloc_sweep),
        cmocka_unit_test(test_import_compile_alloc_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
