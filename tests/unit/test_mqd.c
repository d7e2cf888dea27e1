/* test_mqd.c: the packed binary end to end: conformance models compiled to .mqd in memory, loaded and
 * run by the runtime, compared with the executor and the ONNX expected outputs; every byte flipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/mqd_write.h"
#include "backend/program.h"
#include "core/exec.h"
#include "core/op.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"
#include "runtime/maqdrt.h"
#include "runtime/mqr_format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONF_ROOT "/usr/share/libonnx-testdata/data/"
#define MAX_IO 16

/* ---- helpers ------------------------------------------------------------------------------------- */

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* A 16-byte aligned copy (the runtime reads weights in place). */
static void *aligned_copy(const void *src, size_t len)
{
    void *p = aligned_alloc(16, (len + 15) / 16 * 16 + 16);
    assert_non_null(p);
    memcpy(p, src, len);
    return p;
}

typedef struct conf_model {
    mq_import_result res;
    int n_in;
    mq_tensor in[MAX_IO]; /* test_data_set_0 inputs */
} conf_model;

/* Import a conformance test (specialized to its first data set's inputs). 0 if missing. */
static int conf_load(const char *test, conf_model *cm)
{
    char path[512];
    memset(cm, 0, sizeof *cm);
    snprintf(path, sizeof path, CONF_ROOT "node/%s/model.onnx", test);
    if (!exists(path)) return 0;
    for (cm->n_in = 0; cm->n_in < MAX_IO; cm->n_in++) {
        char p[600];
        snprintf(p, sizeof p, CONF_ROOT "node/%s/test_data_set_0/input_%d.pb", test, cm->n_in);
        if (!exists(p)) break;
        mq_err e = {0};
        assert_int_equal(mq_tensor_read_file(p, &cm->in[cm->n_in], &e), MQ_OK);
    }
    mq_import_opts o = {0};
    mq_err err = {0};
    mq_status st = mq_import_onnx_for_inputs(path, &o, cm->in, cm->n_in, &cm->res, &err);
    if (st != MQ_OK) print_message("%s: %s\n", test, err.msg);
    assert_int_equal(st, MQ_OK);
    return 1;
}

static void conf_free(conf_model *cm)
{
    for (int k = 0; k < MAX_IO; k++) mq_tensor_free_data(&cm->in[k]);
    mq_import_result_free(&cm->res);
}

/* Compile to .mqd bytes; returns the status of mq_program_build (write must then succeed). */
static mq_status compile(const mq_graph *g, void **buf, size_t *len, mq_err *err)
{
    mq_program p;
    mq_status st = mq_program_build(g, NULL, &p, err);
    if (st != MQ_OK) return st;
    assert_int_equal(mq_mqd_write(&p, buf, len, err), MQ_OK);
    mq_program_free(&p);
    return MQ_OK;
}

/* Run a loaded model on host tensors; outputs malloc'ed, described by mqr_output_info. */
static mqr_status rt_run(const mqr_model *m, const mq_tensor *in, void **outs)
{
    const void *ins[MAX_IO];
    assert_true(mqr_input_count(m) <= MAX_IO && mqr_output_count(m) <= MAX_IO);
    for (uint32_t k = 0; k < mqr_input_count(m); k++) ins[k] = in[k].data;
    for (uint32_t k = 0; k < mqr_output_count(m); k++) {
        mqr_io_info info;
        assert_int_equal(mqr_output_info(m, k, &info), MQR_OK);
        outs[k] = malloc(info.bytes + 1);
        assert_non_null(outs[k]);
    }
    size_t an = mqr_arena_size(m);
    void *arena = aligned_alloc(16, (an + 15) / 16 * 16 + 16);
    assert_non_null(arena);
    memset(arena, 0xa5, an); /* no reliance on a zeroed arena */
    mqr_status st = mqr_run(m, arena, ins, (void *const *)outs);
    free(arena);
    return st;
}

/* ---- CRC-32 against the published check value ---------------------------------------------------- */

static void test_crc32(void **state)
{
    (void)state;
    /* the CRC-32/ISO-HDLC check value of "123456789" (as zlib.crc32) */
    assert_int_equal(mqr_crc32(0, "123456789", 9), 0xcbf43926u);
    assert_int_equal(mqr_crc32(mqr_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
    assert_int_equal(mqr_crc32(0, "", 0), 0);
}

/* ---- round trips --------------------------------------------------------------------------------- */

/* Tests whose nodes may all have runtime kernels (more as the op families are converted). Kernel-path
 * ops give the executor's bits exactly; exact 0: compare with a tolerance (host BLAS paths). */
static const struct {
    const char *test;
    int exact;
} round_trips[] = {
    {"test_shape", 1},          /* no steps: the output is a folded constant (a weight) */
    {"test_constant", 1},
    {"test_relu", 1},
    {"test_abs", 1},
    {"test_add", 1},
    {"test_add_bcast", 1},
    {"test_sigmoid", 1},
    {"test_softmax_axis_1", 1},
    {"test_gemm_default_single_elem_vector_bias", 0},
    {"test_conv_with_strides_padding", 0},
    {"test_conv_with_autopad_same", 0},
    {"test_maxpool_2d_pads", 1},
    {"test_averagepool_2d_pads", 1},
    {"test_batchnorm_example", 1},
    {"test_reshape_reordered_all_dims", 1},
    {"test_transpose_all_permutations_0", 1},
    {"test_concat_2d_axis_0", 1},
};

static int n_round_trips_run;

static void round_trip_one(const char *test, int exact)
{
    conf_model cm;
    if (!conf_load(test, &cm)) return;
    const mq_graph *g = cm.res.graph;
    void *bytes = NULL;
    size_t len = 0;
    mq_err err = {0};
    mq_status st = compile(g, &bytes, &len, &err);
    if (st == MQ_ERR_UNSUPPORTED) { /* that family is not converted yet */
        conf_free(&cm);
        return;
    }
    if (st != MQ_OK) print_message("%s: %s\n", test, err.msg);
    assert_int_equal(st, MQ_OK);
    void *buf = aligned_copy(bytes, len);
    mq_free(bytes);
    mqr_model m;
    assert_int_equal(mqr_load(&m, buf, len), MQR_OK);
    assert_int_equal(mqr_input_count(&m), (uint32_t)g->n_inputs);
    assert_int_equal(mqr_output_count(&m), (uint32_t)g->n_outputs);
    for (int k = 0; k < g->n_inputs; k++) {
        mqr_io_info info;
        const mq_tensor *t = &g->tensors[g->inputs[k]];
        assert_int_equal(mqr_input_info(&m, (uint32_t)k, &info), MQR_OK);
        assert_string_equal(info.name, t->name);
        assert_int_equal(info.dtype, t->dtype);
        assert_int_equal(info.rank, t->rank);
        assert_int_equal(info.bytes, mq_nbytes(t));
    }
    /* every data set: runtime vs executor vs the expected outputs */
    for (int s = 0; s < 8; s++) {
        char dir[600];
        snprintf(dir, sizeof dir, CONF_ROOT "node/%s/test_data_set_%d", test, s);
        if (!exists(dir)) break;
        mq_tensor in[MAX_IO], ex[MAX_IO];
        memset(in, 0, sizeof in);
        memset(ex, 0, sizeof ex);
        for (int k = 0; k < g->n_inputs; k++) {
            char p[700];
            snprintf(p, sizeof p, "%s/input_%d.pb", dir, k);
            assert_int_equal(mq_tensor_read_file(p, &in[k], &err), MQ_OK);
        }
        assert_int_equal(mq_exec_run(g, in, ex, &err), MQ_OK);
        void *outs[MAX_IO] = {0};
        assert_int_equal(rt_run(&m, in, outs), MQR_OK);
        for (int k = 0; k < g->n_outputs; k++) {
            mqr_io_info info;
            assert_int_equal(mqr_output_info(&m, (uint32_t)k, &info), MQR_OK);
            assert_int_equal(info.dtype, ex[k].dtype);
            assert_int_equal(info.bytes, mq_nbytes(&ex[k]));
            if (exact || ex[k].dtype != MQ_F32) {
                if (memcmp(outs[k], ex[k].data, info.bytes) != 0) print_message("%s: output %d differs\n", test, k);
                assert_memory_equal(outs[k], ex[k].data, info.bytes);
            } else {
                const float *a = outs[k], *b = ex[k].data;
                for (size_t i = 0; i < info.bytes / 4; i++)
                    assert_true(fabsf(a[i] - b[i]) <= 1e-5f + 1e-5f * fabsf(b[i]));
            }
            /* and the ONNX expected output */
            char p[700];
            snprintf(p, sizeof p, "%s/output_%d.pb", dir, k);
            mq_tensor want = {0};
            assert_int_equal(mq_tensor_read_file(p, &want, &err), MQ_OK);
            assert_int_equal(mq_nbytes(&want), info.bytes);
            if (want.dtype == MQ_F32) {
                const float *a = outs[k], *b = want.data;
                for (size_t i = 0; i < info.bytes / 4; i++)
                    assert_true(isnan(b[i]) ? isnan(a[i]) : fabs(a[i] - b[i]) <= 1e-7 + 1e-3 * fabs(b[i]));
            } else {
                assert_memory_equal(outs[k], want.data, info.bytes);
            }
            mq_tensor_free_data(&want);
            free(outs[k]);
            mq_tensor_free_data(&ex[k]);
        }
        for (int k = 0; k < MAX_IO; k++) mq_tensor_free_data(&in[k]);
    }
    n_round_trips_run++;
    free(buf);
    conf_free(&cm);
}

static void test_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++)
        round_trip_one(round_trips[i].test, round_trips[i].exact);
    print_message("%d of %zu round-trip models compiled and matched\n", n_round_trips_run,
                  sizeof round_trips / sizeof round_trips[0]);
    assert_true(n_round_trips_run >= 2); /* the step-less ones always compile */
}

/* ---- the unsupported report ---------------------------------------------------------------------- */

static void test_unsupported_report(void **state)
{
    (void)state;
    /* NonZero has a data-dependent output shape: never a runtime kernel; the graph is dynamic */
    conf_model cm;
    if (!conf_load("test_nonzero_example", &cm)) skip();
    mq_program p;
    mq_err err = {0};
    mq_status st = mq_program_build(cm.res.graph, NULL, &p, &err);
    assert_int_not_equal(st, MQ_OK);
    assert_non_null(strstr(err.msg, "NonZero"));
    mq_program_free(&p); /* safe after failure */
    conf_free(&cm);
}

/* ---- corruption ---------------------------------------------------------------------------------- */

/* Load one mutated image; if it loads and may run, run it with inputs sized as the file now says.
 * A mutated image with steps is not run: the loader checks every offset, count and extent, but not
 * whether a kernel's parameters and shapes agree with each other (no per-kernel validators in the
 * kernel ABI yet, docs/MQD_FORMAT.md), so a crafted file can still drive a kernel out of bounds. */
static int try_image_run(const uint8_t *img, size_t len, int may_run)
{
    void *buf = aligned_copy(img, len);
    mqr_model m;
    mqr_status st = mqr_load(&m, buf, len);
    assert_true(st >= MQR_OK && st <= MQR_E_LIMIT);
    assert_non_null(mqr_status_str(st));
    if (st == MQR_OK && (may_run || m.n_steps == 0) && mqr_arena_size(&m) < ((size_t)64 << 20)) {
        mq_tensor in[MAX_IO];
        memset(in, 0, sizeof in);
        uint32_t ni = mqr_input_count(&m), no = mqr_output_count(&m);
        int small = ni <= MAX_IO && no <= MAX_IO;
        for (uint32_t k = 0; small && k < ni + no; k++) {
            mqr_io_info info;
            assert_int_equal(k < ni ? mqr_input_info(&m, k, &info) : mqr_output_info(&m, k - ni, &info), MQR_OK);
            small = info.bytes < ((size_t)64 << 20);
        }
        if (small) {
            for (uint32_t k = 0; k < ni; k++) {
                mqr_io_info info;
                assert_int_equal(mqr_input_info(&m, k, &info), MQR_OK);
                in[k].data = calloc(1, info.bytes + 1);
                assert_non_null(in[k].data);
            }
            void *outs[MAX_IO] = {0};
            assert_int_equal(rt_run(&m, in, outs), MQR_OK);
            for (uint32_t k = 0; k < no; k++) free(outs[k]);
            for (uint32_t k = 0; k < ni; k++) free(in[k].data);
        }
    }
    free(buf);
    return st == MQR_OK;
}

static int try_image(const uint8_t *img, size_t len) { return try_image_run(img, len, 0); }

static void recrc(uint8_t *img, size_t len)
{
    uint32_t c = mqr_crc32(0, img, len - 4);
    for (int i = 0; i < 4; i++) img[len - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
}

static void fuzz_model(const char *test)
{
    conf_model cm;
    if (!conf_load(test, &cm)) return;
    void *bytes = NULL;
    size_t len = 0;
    mq_err err = {0};
    if (compile(cm.res.graph, &bytes, &len, &err) != MQ_OK) {
        conf_free(&cm);
        return;
    }
    uint8_t *img = malloc(len);
    assert_non_null(img);
    assert_true(try_image_run(bytes, len, 1));
    int loaded_raw = 0, loaded_recrc = 0, n = 0;
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit <= 8; bit++) { /* each bit, then all 8 (xor 0xff) */
            uint8_t x = bit < 8 ? (uint8_t)(1u << bit) : 0xff;
            memcpy(img, bytes, len);
            img[i] ^= x;
            /* a flip always breaks the CRC (or, inside the stored CRC, disagrees with it) */
            loaded_raw += try_image(img, len);
            /* the validators behind the checksum: same flip with a recomputed CRC */
            if (i < len - 4) {
                recrc(img, len);
                loaded_recrc += try_image(img, len);
            }
            n++;
        }
    assert_int_equal(loaded_raw, 0);
    /* every truncation */
    for (size_t l = 0; l < len; l++) assert_false(try_image(bytes, l));
    print_message("%s: %zu bytes, %d flips: all refused with the stored CRC; %d loaded with a "
                  "recomputed CRC (run if step-less); %zu truncations refused\n", test, len, n, loaded_recrc, len);
    free(img);
    mq_free(bytes);
    conf_free(&cm);
}

static void test_corruption(void **state)
{
    (void)state;
    fuzz_model("test_shape"); /* no steps: header, sections, tensors, weights, io */
    fuzz_model("test_relu");  /* one step, once the elementwise family has kernels */
    fuzz_model("test_add_bcast");
}

/* ---- argument checks ----------------------------------------------------------------------------- */

static void test_arguments(void **state)
{
    (void)state;
    mqr_model m;
    static uint8_t junk[64] __attribute__((aligned(16)));
    assert_int_equal(mqr_load(NULL, junk, sizeof junk), MQR_E_ARG);
    assert_int_equal(mqr_load(&m, NULL, 10), MQR_E_ARG);
    assert_int_equal(mqr_load(&m, junk + 1, 32), MQR_E_ARG);
    assert_int_equal(mqr_load(&m, junk, 8), MQR_E_TRUNCATED);
    assert_int_equal(mqr_load(&m, junk, sizeof junk), MQR_E_MAGIC);
    assert_int_equal(mqr_arena_size(&m), 0);
    mqr_io_info info;
    assert_int_equal(mqr_input_info(&m, 0, &info), MQR_E_ARG);
    assert_int_equal(mqr_run(&m, junk, NULL, NULL), MQR_E_ARG);
    for (int s = MQR_OK; s <= MQR_E_LIMIT; s++) assert_true(strlen(mqr_status_str((mqr_status)s)) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_unsupported_report),
        cmocka_unit_test(test_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
