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

/* Load; on failure say which step and kernel refused. */
static mqr_status load_verbose(const char *what, mqr_model *m, const void *buf, size_t len)
{
    mqr_status st = mqr_load(m, buf, len);
    if (st != MQR_OK) {
        int32_t step;
        const char *kernel, *node;
        mqr_load_error(m, &step, &kernel, &node);
        print_message("%s: load: %s (step %d, kernel %s, node '%s')\n", what, mqr_status_str(st), (int)step,
                      kernel ? kernel : "-", node ? node : "-");
    }
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

/* Tests whose nodes all have runtime kernels. Kernel-path ops give the executor's bits exactly; exact 0:
 * compare with a tolerance (host BLAS paths). frozen >= 0: that input fixes a shape, so the model is
 * compiled with it frozen to set 0's value (`maqdc --const`) and the runtime takes the other inputs. */
static const struct {
    const char *test;
    int exact;
    int frozen;
} round_trips[] = {
    {"test_shape", 1, -1},          /* no steps: the output is a folded constant (a weight) */
    {"test_constant", 1, -1},
    {"test_relu", 1, -1},
    {"test_abs", 1, -1},
    {"test_add", 1, -1},
    {"test_add_bcast", 1, -1},
    {"test_sigmoid", 1, -1},
    {"test_softmax_axis_1", 1, -1},
    {"test_gemm_default_single_elem_vector_bias", 0, -1},
    {"test_conv_with_strides_padding", 0, -1},
    {"test_conv_with_autopad_same", 0, -1},
    {"test_maxpool_2d_pads", 1, -1},
    {"test_averagepool_2d_pads", 1, -1},
    {"test_batchnorm_example", 1, -1},
    {"test_reshape_reordered_all_dims", 1, 1},
    {"test_transpose_all_permutations_0", 1, -1},
    {"test_concat_2d_axis_0", 1, -1},
    {"test_if", 1, -1},           /* control flow: an IF step picks a branch (both are in the program) */
    {"test_scan_sum", 1, -1},     /* Scan-8 (a batch of one) and Scan-9: a LOOP step over the body */
    {"test_scan9_sum", 1, -1},
};

static int n_round_trips_run;

static void round_trip_one(const char *test, int exact, int frozen)
{
    conf_model cm;
    if (!conf_load(test, &cm)) return;
    const mq_graph *g = cm.res.graph, *gc = g; /* the executor's graph, the compiled one */
    void *bytes = NULL;
    size_t len = 0;
    mq_err err = {0};
    mq_import_result fres = {0};
    if (frozen >= 0) {
        /* not compilable as is; the report names exactly the frozen input as shape-defining */
        mq_status st0 = compile(g, &bytes, &len, &err);
        assert_int_equal(st0, MQ_ERR_UNSUPPORTED);
        char want[300];
        snprintf(want, sizeof want, "shape-defining graph input(s), known only at run time: '%s' (freeze",
                 g->tensors[g->inputs[frozen]].name);
        if (!strstr(err.msg, want)) print_message("%s: %s\n", test, err.msg);
        assert_non_null(strstr(err.msg, want));
        char path[512];
        snprintf(path, sizeof path, CONF_ROOT "node/%s/model.onnx", test);
        mq_tensor cv = cm.in[frozen];
        cv.name = g->tensors[g->inputs[frozen]].name;
        mq_import_opts o = {.n_consts = 1, .consts = &cv};
        assert_int_equal(mq_import_onnx_file(path, &o, &fres, &err), MQ_OK);
        gc = fres.graph;
        assert_int_equal(gc->n_inputs, g->n_inputs - 1);
    }
    mq_status st = compile(gc, &bytes, &len, &err);
    if (st != MQ_OK) print_message("%s: %s\n", test, err.msg);
    assert_int_equal(st, MQ_OK);
    void *buf = aligned_copy(bytes, len);
    mq_free(bytes);
    mqr_model m;
    assert_int_equal(load_verbose(test, &m, buf, len), MQR_OK);
    assert_int_equal(mqr_input_count(&m), (uint32_t)gc->n_inputs);
    assert_int_equal(mqr_output_count(&m), (uint32_t)g->n_outputs);
    for (int k = 0; k < gc->n_inputs; k++) {
        mqr_io_info info;
        const mq_tensor *t = &gc->tensors[gc->inputs[k]];
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
        mq_tensor rin[MAX_IO]; /* the runtime's inputs: all but the frozen one (shallow copies) */
        for (int k = 0, j = 0; k < g->n_inputs; k++)
            if (k != frozen) rin[j++] = in[k];
        assert_int_equal(rt_run(&m, rin, outs), MQR_OK);
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
    mq_import_result_free(&fres);
    conf_free(&cm);
}

static void test_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++)
        round_trip_one(round_trips[i].test, round_trips[i].exact, round_trips[i].frozen);
    print_message("%d of %zu round-trip models compiled and matched\n", n_round_trips_run,
                  sizeof round_trips / sizeof round_trips[0]);
    assert_int_equal(n_round_trips_run, (int)(sizeof round_trips / sizeof round_trips[0])); /* none left out */
}

static void import_named(const char *name, int conformance, conf_model *cm);

/* ---- the unsupported report ---------------------------------------------------------------------- */

static void test_unsupported_report(void **state)
{
    (void)state;
    /* a data-dependent shape may only reach graph outputs: the node reading one is named, with why */
    conf_model cm;
    import_named("dyn_consumed", 0, &cm);
    mq_program p;
    mq_err err = {0};
    mq_status st = mq_program_build(cm.res.graph, NULL, &p, &err);
    assert_int_equal(st, MQ_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "1 node(s) cannot be compiled"));
    assert_non_null(strstr(err.msg, "node 'transpose' (Transpose): input 'nz' has a data-dependent shape"));
    mq_program_free(&p); /* safe after failure */
    mq_import_result_free(&cm.res);
}

/* ---- load-time checks and corruption ------------------------------------------------------------- */

/* Small models with weights, several steps, constant and run-time indices (tests/data/mqd/, made by
 * make_fuzz_models.py), plus conformance models. Between them the common kernels: conv, gemm, relu,
 * add with broadcast, maxpool, reshape, transpose, concat, gather, softmax, reduce_mean, resize. */
static const char *const fuzz_files[] = {"fuzz_cnn", "fuzz_shape", "fuzz_gather_dyn", "dyn_outputs"};
static const char *const fuzz_conf[] = {"test_shape", "test_relu", "test_add_bcast", "test_if", "test_scan9_sum"};

/* A graph imported from tests/data/mqd/NAME.onnx or the conformance folder. */
static void import_named(const char *name, int conformance, conf_model *cm)
{
    if (conformance) {
        assert_true(conf_load(name, cm));
        return;
    }
    char path[512];
    memset(cm, 0, sizeof *cm);
    snprintf(path, sizeof path, "%s/tests/data/mqd/%s.onnx", MAQD_SOURCE_DIR, name);
    mq_import_opts o = {0};
    mq_err err = {0};
    mq_status st = mq_import_onnx_file(path, &o, &cm->res, &err);
    if (st != MQ_OK) print_message("%s: %s\n", name, err.msg);
    assert_int_equal(st, MQ_OK);
}

/* A copy of exactly len bytes, 16-byte aligned, so that ASan sees any read past the end. */
static void *exact_copy(const void *src, size_t len)
{
    void *p = NULL;
    assert_int_equal(posix_memalign(&p, 16, len ? len : 1), 0);
    if (len) memcpy(p, src, len);
    return p;
}

static uint64_t rng_state;
static uint8_t rng_byte(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint8_t)(rng_state >> 56);
}

#define FUZZ_MAX_BYTES ((size_t)1 << 32) /* a mutated file may ask for gigabytes: run those too, up to 4 GiB */

typedef struct fuzz_counts {
    long mutants, refused_raw, loaded, ran, too_big;
    long by_status[MQR_STATUS_LAST + 1];
} fuzz_counts;

/* Load one image; when it loads, run it with buffers of exactly the sizes the file declares (arena
 * from malloc of exactly mqr_arena_size bytes, inputs of random bytes): under ASan any access outside
 * them is an error. Returns the load status. */
static mqr_status try_image(const uint8_t *img, size_t len, fuzz_counts *fc)
{
    void *buf = exact_copy(img, len);
    mqr_model m;
    mqr_status st = mqr_load(&m, buf, len);
    assert_true(st >= MQR_OK && st <= MQR_STATUS_LAST);
    assert_non_null(mqr_status_str(st));
    if (fc) fc->by_status[st]++;
    if (st == MQR_OK) {
        uint32_t ni = mqr_input_count(&m), no = mqr_output_count(&m);
        size_t total = mqr_arena_size(&m);
        assert_true(ni <= MAX_IO && no <= MAX_IO);
        mqr_io_info info[2 * MAX_IO];
        for (uint32_t k = 0; k < ni + no; k++) {
            assert_int_equal(k < ni ? mqr_input_info(&m, k, &info[k]) : mqr_output_info(&m, k - ni, &info[k]), MQR_OK);
            total += info[k].bytes;
        }
        void *arena = total <= FUZZ_MAX_BYTES ? malloc(mqr_arena_size(&m) ? mqr_arena_size(&m) : 1) : NULL;
        void *io[2 * MAX_IO] = {0};
        int have = arena != NULL;
        for (uint32_t k = 0; have && k < ni + no; k++) {
            io[k] = malloc(info[k].bytes ? info[k].bytes : 1);
            have = io[k] != NULL;
            /* random bytes (NaNs, huge values, indices out of range); a large input (a mutated dim that
             * the kernel does not read past) keeps the rest as malloc gives it, so it costs no time */
            for (size_t b = 0; have && k < ni && b < info[k].bytes && b < 4096; b++) ((uint8_t *)io[k])[b] = rng_byte();
        }
        if (have) {
            assert_true(((uintptr_t)arena & 15u) == 0);
            mqr_status rs = mqr_run(&m, arena, (const void *const *)io, (void *const *)(io + ni));
            assert_true(rs == MQR_OK || rs == MQR_E_LOOP); /* a mutated loop may end early: a run-time status */
            if (fc) fc->ran++;
        } else if (fc) {
            fc->too_big++;
        }
        for (uint32_t k = 0; k < ni + no; k++) free(io[k]);
        free(arena);
    }
    free(buf);
    return st;
}

static void recrc(uint8_t *img, size_t len)
{
    uint32_t c = mqr_crc32(0, img, len - 4);
    for (int i = 0; i < 4; i++) img[len - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
}

/* Offset of the WEIGHTS section of a valid image (its bytes may be sampled). */
static void weights_extent(const uint8_t *img, uint32_t *off, uint32_t *size)
{
    *off = *size = 0;
    for (uint32_t i = 0; i < MQR_SEC_LAST; i++) {
        const uint8_t *e = img + MQR_FMT_HEADER_BYTES + MQR_FMT_SECTION_BYTES * i;
        uint32_t type, o, sz;
        memcpy(&type, e, 4);
        memcpy(&o, e + 4, 4);
        memcpy(&sz, e + 8, 4);
        if (type == MQR_SEC_WEIGHTS) {
            *off = o;
            *size = sz;
        }
    }
}

static long fuzz_total_mutants, fuzz_total_loaded, fuzz_total_ran;

/* Every byte of the file with each single-bit flip and an xor 0xff, with
 * the stored CRC (all refused) and with the CRC recomputed (refused by the validators or the kernels'
 * checks, or loaded and run); every truncation refused. */
static void fuzz_model(const char *name, int conformance)
{
    conf_model cm;
    import_named(name, conformance, &cm);
    const mq_graph *g = cm.res.graph;
    void *bytes = NULL;
    size_t len = 0;
    mq_err err = {0};
    mq_status cst = compile(g, &bytes, &len, &err);
    if (cst != MQ_OK) print_message("%s: compile: %s\n", name, err.msg);
    assert_int_equal(cst, MQ_OK);
    /* the unmodified model loads (every kernel it uses has its check) and matches the executor */
    void *buf = exact_copy(bytes, len);
    mqr_model m;
    assert_int_equal(load_verbose(name, &m, buf, len), MQR_OK);
    mq_tensor in[MAX_IO], ex[MAX_IO];
    memset(in, 0, sizeof in);
    memset(ex, 0, sizeof ex);
    for (int k = 0; k < g->n_inputs; k++) {
        const mq_tensor *t = &g->tensors[g->inputs[k]];
        in[k] = *t;
        in[k].name = NULL;
        in[k].data = mq_malloc(mq_nbytes(t) + 1);
        assert_non_null(in[k].data);
        static const int64_t idx[4] = {1, 0, -2, 3}; /* indices valid on an axis of 4 or more */
        for (int64_t i = 0; i < mq_numel(t); i++) {
            if (t->dtype == MQ_F32) ((float *)in[k].data)[i] = (float)((i * 7 + k * 3) % 11) * 0.25f - 1.2f;
            else if (t->dtype == MQ_I64) ((int64_t *)in[k].data)[i] = idx[i % 4];
            else memset(in[k].data, 0, mq_nbytes(t));
        }
    }
    assert_int_equal(mq_exec_run(g, in, ex, &err), MQ_OK);
    void *outs[MAX_IO] = {0};
    assert_int_equal(rt_run(&m, in, outs), MQR_OK);
    for (int k = 0; k < g->n_outputs; k++) {
        const float *a = outs[k], *b = ex[k].data;
        if (ex[k].dtype != MQ_F32) assert_memory_equal(outs[k], ex[k].data, mq_nbytes(&ex[k]));
        else
            for (int64_t i = 0; i < mq_numel(&ex[k]); i++) assert_true(fabsf(a[i] - b[i]) <= 1e-5f + 1e-5f * fabsf(b[i]));
        free(outs[k]);
        mq_tensor_free_data(&ex[k]);
    }
    for (int k = 0; k < g->n_inputs; k++) mq_free(in[k].data);
    free(buf);

    uint8_t *img = malloc(len);
    assert_non_null(img);
    uint32_t w_off, w_size;
    weights_extent(bytes, &w_off, &w_size);
    fuzz_counts fc;
    memset(&fc, 0, sizeof fc);
    rng_state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit <= 8; bit++) { /* each bit, then all 8 (xor 0xff) */
            uint8_t x = bit < 8 ? (uint8_t)(1u << bit) : 0xff;
            memcpy(img, bytes, len);
            img[i] ^= x;
            /* a flip always breaks the CRC (or, inside the stored CRC, disagrees with it) */
            mqr_status raw = try_image(img, len, NULL);
            assert_int_not_equal(raw, MQR_OK);
            fc.refused_raw++;
            /* the validators and checks behind the checksum: same flip with a recomputed CRC */
            if (i < len - 4) {
                recrc(img, len);
                fc.mutants++;
                fc.loaded += try_image(img, len, &fc) == MQR_OK;
            }
        }
    }
    /* every truncation */
    for (size_t l = 0; l < len; l++) assert_int_not_equal(try_image(bytes, l, NULL), MQR_OK);
    print_message("%s: %zu bytes (%u of weights), every byte flipped 9 ways: %ld refused with "
                  "the stored CRC; with a recomputed CRC %ld mutants: %ld loaded, %ld of them run (%ld not run: over 4 GiB "
                  "or out of memory); refused as", name, len, w_size, fc.refused_raw, fc.mutants, fc.loaded,
                  fc.ran, fc.too_big);
    static const char *const short_name[MQR_STATUS_LAST + 1] = {
        "OK", "ARG", "HOST", "TRUNCATED", "MAGIC", "VERSION", "CHECKSUM", "SECTION", "STRING",
        "TENSOR", "STEP", "KERNEL", "PLAN", "IO", "LIMIT", "CHECK", "UNCHECKED", "LOOP"};
    for (int s = 1; s <= MQR_STATUS_LAST; s++)
        if (fc.by_status[s]) print_message(" %s %ld", short_name[s], fc.by_status[s]);
    print_message("; %zu truncations refused\n", len);
    assert_int_equal(fc.by_status[MQR_E_UNCHECKED], 0);
    assert_int_equal(fc.ran + fc.too_big, fc.loaded);
    fuzz_total_mutants += fc.mutants;
    fuzz_total_loaded += fc.loaded;
    fuzz_total_ran += fc.ran;
    free(img);
    mq_free(bytes);
    if (conformance) conf_free(&cm);
    else mq_import_result_free(&cm.res);
}

static void test_corruption(void **state)
{
    (void)state;
    const char *only = getenv("MQD_FUZZ_ONLY"); /* while debugging: only the models whose name has it */
    for (size_t i = 0; i < sizeof fuzz_files / sizeof fuzz_files[0]; i++)
        if (!only || strstr(fuzz_files[i], only)) fuzz_model(fuzz_files[i], 0);
    for (size_t i = 0; i < sizeof fuzz_conf / sizeof fuzz_conf[0]; i++)
        if (!only || strstr(fuzz_conf[i], only)) fuzz_model(fuzz_conf[i], 1);
    print_message("corruption: %ld mutants with a valid CRC, %ld loaded, %ld run\n", fuzz_total_mutants,
                  fuzz_total_loaded, fuzz_total_ran);
}

/* A step whose call its kernel cannot make (the conv without its parameters) is refused at load by
 * the kernel's check, and the loader says which step, kernel and node. */
static void test_check_refuses(void **state)
{
    (void)state;
    conf_model cm;
    import_named("fuzz_cnn", 0, &cm);
    void *bytes = NULL;
    size_t len = 0;
    mq_err err = {0};
    assert_int_equal(compile(cm.res.graph, &bytes, &len, &err), MQ_OK);
    uint8_t *img = exact_copy(bytes, len);
    mqr_model m;
    assert_int_equal(load_verbose("fuzz_cnn", &m, img, len), MQR_OK);
    uint32_t st_off = 0;
    for (uint32_t i = 0; i < MQR_SEC_LAST; i++) {
        const uint8_t *e = img + MQR_FMT_HEADER_BYTES + MQR_FMT_SECTION_BYTES * i;
        uint32_t type;
        memcpy(&type, e, 4);
        if (type == MQR_SEC_STEPS) memcpy(&st_off, e + 4, 4);
    }
    mqr_fmt_step s;
    memcpy(&s, img + st_off, sizeof s); /* step 0: the conv */
    assert_true(s.n_params > 0);
    s.n_params = 0;
    memcpy(img + st_off, &s, sizeof s);
    recrc(img, len);
    assert_int_equal(mqr_load(&m, img, len), MQR_E_CHECK);
    int32_t step;
    const char *kernel, *node;
    mqr_load_error(&m, &step, &kernel, &node);
    assert_int_equal(step, 0);
    assert_string_equal(kernel, "conv_f32");
    assert_string_equal(node, "conv");
    assert_int_equal(mqr_arena_size(&m), 0);
    free(img);
    mq_free(bytes);
    mq_import_result_free(&cm.res);
}

/* ---- control flow -------------------------------------------------------------------------------- */

/* The offset of section `type` of a valid image. */
static uint32_t section_off(const uint8_t *img, uint32_t type)
{
    for (uint32_t i = 0; i < MQR_SEC_LAST; i++) {
        const uint8_t *e = img + MQR_FMT_HEADER_BYTES + MQR_FMT_SECTION_BYTES * i;
        uint32_t t, off;
        memcpy(&t, e, 4);
        memcpy(&off, e + 4, 4);
        if (t == type) return off;
    }
    return 0;
}

/* tests/data/mqd/loop_scan.onnx: Loop with trip count 4, y <- 2y + 1 while iteration < limit, rows of
 * y stacked. By hand from y0 = [1, -1]: y_k = 2^k * (y0 + 1) - 1, rows 3 7 15 31 and -1 -1 -1 -1. A
 * limit of 2 ends it after 3 iterations: the static program cannot hold 3 rows, mqr_run says so. */
static void test_loop(void **state)
{
    (void)state;
    conf_model cm;
    import_named("loop_scan", 0, &cm);
    const mq_graph *g = cm.res.graph;
    void *bytes = NULL;
    size_t len = 0;
    mq_err err = {0};
    assert_int_equal(compile(g, &bytes, &len, &err), MQ_OK);
    uint8_t *img = exact_copy(bytes, len);
    mqr_model m;
    assert_int_equal(load_verbose("loop_scan", &m, img, len), MQR_OK);
    float y0[2] = {1, -1};
    int64_t limit = 10;
    mq_tensor in[2] = {{.dtype = MQ_F32, .rank = 1, .dims = {2}, .data = y0},
                       {.dtype = MQ_I64, .rank = 0, .data = &limit}};
    void *outs[MAX_IO] = {0};
    assert_int_equal(rt_run(&m, in, outs), MQR_OK);
    static const float want_y[2] = {31, -1}, want_rows[8] = {3, -1, 7, -1, 15, -1, 31, -1};
    assert_memory_equal(outs[0], want_y, sizeof want_y);
    assert_memory_equal(outs[1], want_rows, sizeof want_rows);
    mq_tensor ex[MAX_IO];
    memset(ex, 0, sizeof ex);
    assert_int_equal(mq_exec_run(g, in, ex, &err), MQ_OK); /* the executor agrees */
    assert_memory_equal(ex[1].data, want_rows, sizeof want_rows);
    for (int k = 0; k < 2; k++) {
        free(outs[k]);
        mq_tensor_free_data(&ex[k]);
    }
    limit = 2;
    assert_int_equal(rt_run(&m, in, outs), MQR_E_LOOP);
    for (int k = 0; k < 2; k++) free(outs[k]);

    /* the loader refuses bad control steps: find the LOOP step (kind 2) and break one field at a time */
    uint32_t so = section_off(img, MQR_SEC_STEPS), po = section_off(img, MQR_SEC_PARAMS), n_steps = m.n_steps, ls = 0;
    mqr_fmt_step s;
    for (uint32_t i = 0; i < n_steps; i++) {
        memcpy(&s, img + so + i * sizeof s, sizeof s);
        if (s.kind == MQR_STEP_LOOP) ls = i;
    }
    memcpy(&s, img + so + ls * sizeof s, sizeof s);
    assert_int_equal(s.kind, MQR_STEP_LOOP);
    assert_int_equal(s.kernel, MQR_FMT_NONE);
    int32_t p[3];
    memcpy(p, img + po + 4 * s.param_first, sizeof p);
    assert_int_equal(p[1], 4);
    assert_int_equal(p[2], 1);
    struct {
        uint32_t off, value;
        mqr_status want;
    } bad[] = {
        {so + ls * 40 + 36, 3, MQR_E_STEP},                            /* an unknown kind */
        {so + ls * 40 + 4, 0, MQR_E_STEP},                             /* a control step naming a kernel */
        {so + ls * 40 + 32, 16, MQR_E_STEP},                           /* ... or scratch */
        {po + 4 * s.param_first, n_steps, MQR_E_STEP},                 /* a body past the last step */
        {po + 4 * s.param_first + 4, MQR_MAX_TRIP + 1u, MQR_E_LIMIT},  /* a trip count beyond the bound */
        {po + 4 * s.param_first + 4, 0x80000000u, MQR_E_STEP},         /* a negative one */
        {po + 4 * s.param_first + 8, 2, MQR_E_STEP},                   /* must_complete not 0/1 */
        {so + ls * 40 + 12, 2, MQR_E_STEP},                            /* two parameters */
        {so + ls * 40 + 28, 0, MQR_E_STEP},                            /* no counter output slot */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        uint8_t *mut = exact_copy(img, len);
        memcpy(mut + bad[k].off, &bad[k].value, 4);
        recrc(mut, len);
        mqr_status st = mqr_load(&m, mut, len);
        if (st != bad[k].want) print_message("control mutation %zu: %s\n", k, mqr_status_str(st));
        assert_int_equal(st, bad[k].want);
        int32_t step;
        mqr_load_error(&m, &step, NULL, NULL);
        assert_int_equal(step, (int32_t)ls);
        free(mut);
    }
    free(img);
    mq_free(bytes);
    mq_import_result_free(&cm.res);
}

/* tests/data/mqd/scan_rev.onnx: Scan over x = [[1,2],[3,4],[5,6]] in reverse, summing from s0 = 0:
 * by hand rows [5,6], [8,10], [9,12], final [9,12]; a Mul by 2 after the Scan reads the stacked rows
 * (static only once the backend has shaped the Scan's outputs). */
static void test_scan_reverse(void **state)
{
    (void)state;
    conf_model cm;
    import_named("scan_rev", 0, &cm);
    void *bytes = NULL;
    size_t len = 0;
    mq_err err = {0};
    mq_status st = compile(cm.res.graph, &bytes, &len, &err);
    if (st != MQ_OK) print_message("scan_rev: %s\n", err.msg);
    assert_int_equal(st, MQ_OK);
    uint8_t *img = exact_copy(bytes, len);
    mqr_model m;
    assert_int_equal(load_verbose("scan_rev", &m, img, len), MQR_OK);
    float s0[2] = {0, 0}, x[6] = {1, 2, 3, 4, 5, 6};
    mq_tensor in[2] = {{.dtype = MQ_F32, .rank = 1, .dims = {2}, .data = s0},
                       {.dtype = MQ_F32, .rank = 2, .dims = {3, 2}, .data = x}};
    void *outs[MAX_IO] = {0};
    assert_int_equal(rt_run(&m, in, outs), MQR_OK);
    static const float want_s[2] = {9, 12}, want_rows2[6] = {10, 12, 16, 20, 18, 24};
    assert_memory_equal(outs[0], want_s, sizeof want_s);
    assert_memory_equal(outs[1], want_rows2, sizeof want_rows2);
    for (int k = 0; k < 2; k++) free(outs[k]);
    free(img);
    mq_free(bytes);
    mq_import_result_free(&cm.res);
}

/* The memory plan of a program with control flow, checked by running it symbolically: the steps in the
 * order they execute (loops unrolled, one branch of each IF), each arena tensor's live segments from a
 * write to its last read before the next write (graph outputs until the end), and no two segments
 * alive at once sharing a byte, except an in-place step (one dies where the other is born, same
 * offset). Independent of the planner's own lifetime rules. */
#define TRACE_MAX 4096
static void trace_steps(const mq_program *p, int first, int end, int take_then, int *tr, int *n)
{
    for (int s = first; s < end;) {
        const mq_prog_step *st = &p->steps[s];
        assert_true(*n < TRACE_MAX);
        tr[(*n)++] = s;
        if (st->kind == MQ_STEP_IF) {
            if (take_then) trace_steps(p, s + 1, s + 1 + st->p[0], take_then, tr, n);
            else trace_steps(p, s + 1 + st->p[0], s + 1 + st->p[0] + st->p[1], take_then, tr, n);
            s += 1 + st->p[0] + st->p[1];
        } else if (st->kind == MQ_STEP_LOOP) {
            for (int it = 0; it < st->p[1]; it++) {
                if (it) tr[(*n)++] = s; /* reads the condition, writes the counter again */
                trace_steps(p, s + 1, s + 1 + st->p[0], take_then, tr, n);
            }
            s += 1 + st->p[0];
        } else {
            s++;
        }
    }
}

static int plan_violations(const char *what, const mq_program *p, int take_then)
{
    int *tr = malloc(sizeof(int) * TRACE_MAX), n = 0, bad = 0;
    assert_non_null(tr);
    trace_steps(p, 0, p->n_steps, take_then, tr, &n);
    /* segments [start, end] per arena tensor */
    typedef struct seg { int t, start, end; } seg;
    seg *sg = malloc(sizeof(seg) * (size_t)(2 * TRACE_MAX));
    int ns = 0;
    assert_non_null(sg);
    for (int t = 0; t < p->n_tensors; t++) {
        if (p->tensors[t].loc != MQ_LOC_ARENA) continue;
        int open = -1;
        for (int x = 0; x < n; x++) {
            const mq_prog_step *st = &p->steps[tr[x]];
            for (int k = 0; k < st->n_in; k++)
                if (st->in[k] == t && open >= 0) sg[open].end = x;
            for (int k = 0; k < st->n_out; k++)
                if (st->out[k] == t) {
                    sg[ns] = (seg){t, x, x};
                    open = ns++;
                }
        }
        for (int k = 0; k < p->n_outputs; k++)
            if (p->outputs[k] == t && open >= 0) sg[open].end = n; /* copied out after the last step */
    }
    for (int a = 0; a < ns; a++)
        for (int b = a + 1; b < ns; b++) {
            const mq_prog_tensor *ta = &p->tensors[sg[a].t], *tb = &p->tensors[sg[b].t];
            if (sg[a].t == sg[b].t || sg[a].end < sg[b].start || sg[b].end < sg[a].start) continue;
            if (ta->offset + ta->bytes <= tb->offset || tb->offset + tb->bytes <= ta->offset) continue;
            if (ta->offset == tb->offset && (sg[a].end == sg[b].start || sg[b].end == sg[a].start)) continue;
            if (bad++ < 5)
                print_message("%s: '%s' [%zu,+%zu) live %d..%d overlaps '%s' [%zu,+%zu) live %d..%d\n", what, ta->name,
                              ta->offset, ta->bytes, sg[a].start, sg[a].end, tb->name, tb->offset, tb->bytes,
                              sg[b].start, sg[b].end);
        }
    free(sg);
    free(tr);
    return bad;
}

static void test_control_plan(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int conformance;
    } models[] = {{"loop_scan", 0}, {"scan_rev", 0}, {"test_if", 1}, {"test_scan_sum", 1}, {"test_scan9_sum", 1}};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        conf_model cm;
        import_named(models[i].name, models[i].conformance, &cm);
        for (int outside = 0; outside < 2; outside++) { /* outputs in the arena (.mqd), or not (C) */
            mq_program p;
            mq_program_opts o;
            mq_program_opts_init(&o);
            o.outputs_in_arena = !outside;
            mq_err err = {0};
            assert_int_equal(mq_program_build(cm.res.graph, &o, &p, &err), MQ_OK);
            int controls = 0;
            for (int s = 0; s < p.n_steps; s++) controls += p.steps[s].kind != MQ_STEP_KERNEL;
            assert_true(controls > 0);
            assert_int_equal(plan_violations(models[i].name, &p, 1), 0);
            assert_int_equal(plan_violations(models[i].name, &p, 0), 0);
            mq_program_free(&p);
        }
        if (models[i].conformance) conf_free(&cm);
        else mq_import_result_free(&cm.res);
    }
}

/* ---- argument checks ----------------------------------------------------------------------------- */

/* ---- data-dependent output shapes (NonZero, Compress, Unique: tests/data/mqd/dyn_outputs.onnx) ------ */

/* Tensor descriptor i of a valid image (TENSORS section). */
static uint8_t *tensor_rec(uint8_t *img, uint32_t i)
{
    return img + section_off(img, MQR_SEC_TENSORS) + sizeof(mqr_fmt_tensor) * (size_t)i;
}

/* The tensor index of graph output k (IO section). */
static uint32_t output_tensor(const uint8_t *img, uint32_t k)
{
    uint32_t io = section_off(img, MQR_SEC_IO), n_in, t;
    memcpy(&n_in, img + io, 4);
    memcpy(&t, img + io + 8 + 4 * (n_in + k), 4);
    return t;
}

/* Set field `off` (a u32) of tensor descriptor i, recompute the CRC, load. */
static mqr_status load_with_field(const uint8_t *bytes, size_t len, uint32_t i, uint32_t off, uint32_t v)
{
    uint8_t *img = exact_copy(bytes, len);
    mqr_model m;
    memcpy(tensor_rec(img, i) + off, &v, 4);
    recrc(img, len);
    mqr_status st = mqr_load(&m, img, len);
    free(img);
    return st;
}

static void test_bounded_outputs(void **state)
{
    (void)state;
    conf_model cm;
    import_named("dyn_outputs", 0, &cm);
    void *bytes = NULL;
    size_t len = 0;
    mq_err err = {0};
    assert_int_equal(compile(cm.res.graph, &bytes, &len, &err), MQ_OK);
    uint32_t version;
    memcpy(&version, (uint8_t *)bytes + 4, 4);
    assert_int_equal(version, 3); /* data-dependent shapes: version 3 */
    uint8_t *img = exact_copy(bytes, len);
    mqr_model m;
    assert_int_equal(load_verbose("dyn_outputs", &m, img, len), MQR_OK);
    /* the values numpy gives: np.nonzero, np.compress(axis=1), np.unique with index, inverse, counts */
    const float x[6] = {1, 0, 2, 2, -0.0f, 1};
    const uint8_t cond[3] = {1, 0, 1};
    const int64_t nz[8] = {0, 0, 1, 1, 0, 2, 0, 2}, ui[3] = {1, 0, 2}, uv[6] = {1, 0, 2, 2, 0, 1}, uc[3] = {2, 2, 2};
    const float cz[4] = {1, 2, 2, 1}, u[3] = {0, 1, 2};
    const int32_t want_dims[7][2] = {{2, 4}, {2, 3}, {2, 2}, {3}, {3}, {6}, {3}};
    const int32_t want_bound[7][2] = {{2, 6}, {2, 3}, {2, 3}, {6}, {6}, {6}, {6}};
    const void *want[7] = {nz, x, cz, u, ui, uv, uc};
    mq_tensor in[2] = {{.dtype = MQ_F32, .rank = 2, .dims = {2, 3}, .data = (void *)x},
                       {.dtype = MQ_BOOL, .rank = 1, .dims = {3}, .data = (void *)cond}};
    void *outs[MAX_IO] = {0};
    const void *ins[2] = {x, cond};
    for (uint32_t k = 0; k < 7; k++) {
        mqr_io_info info;
        assert_int_equal(mqr_output_info(&m, k, &info), MQR_OK);
        assert_int_equal(info.bounded, k != 1);
        for (int d = 0; d < info.rank; d++) assert_int_equal(info.dims[d], want_bound[k][d]);
        outs[k] = malloc(info.bytes);
        memset(outs[k], 0x5a, info.bytes);
    }
    size_t an = mqr_arena_size(&m);
    uint8_t *arena = aligned_alloc(16, (an + 15) / 16 * 16);
    memset(arena, 0xa5, an);
    assert_int_equal(mqr_run(&m, arena, ins, (void *const *)outs), MQR_OK);
    for (uint32_t k = 0; k < 7; k++) {
        mqr_io_info info;
        int32_t dims[MQR_MAX_RANK];
        size_t n = 1;
        mqr_output_info(&m, k, &info);
        assert_int_equal(mqr_output_dims(&m, arena, k, dims), MQR_OK);
        for (int d = 0; d < info.rank; d++) {
            assert_int_equal(dims[d], want_dims[k][d]);
            n *= (size_t)dims[d];
        }
        assert_memory_equal(outs[k], want[k], n * mqr_dtype_size(info.dtype));
    }
    /* a slot holding garbage (as after a step that did not run) is kept inside the bound */
    uint32_t t0 = output_tensor(img, 0), slot;
    mqr_fmt_tensor d0, ds;
    memcpy(&d0, tensor_rec(img, t0), sizeof d0);
    assert_true(d0.shape > 0);
    slot = d0.shape - 1;
    memcpy(&ds, tensor_rec(img, slot), sizeof ds);
    int32_t huge[2] = {INT32_MAX, -5}, dims[MQR_MAX_RANK];
    memcpy(arena + ds.where, huge, sizeof huge);
    assert_int_equal(mqr_output_dims(&m, arena, 0, dims), MQR_OK);
    assert_int_equal(dims[0], 2);
    assert_int_equal(dims[1], 0);
    assert_int_equal(mqr_run(&m, arena, ins, (void *const *)outs), MQR_OK); /* the kernel writes it again */
    assert_int_equal(mqr_output_dims(&m, arena, 0, dims), MQR_OK);
    assert_int_equal(dims[1], 4);
    assert_int_equal(mqr_output_dims(&m, arena, 7, dims), MQR_E_ARG);
    assert_int_equal(mqr_output_dims(&m, arena + 1, 0, dims), MQR_E_ARG);
    assert_int_equal(mqr_output_dims(&m, arena, 0, NULL), MQR_E_ARG);
    (void)in;
    /* hostile links: to itself, past the tensors, to a float tensor, to a tensor of the wrong length; a
     * link in a version 2 file */
    uint32_t r = output_tensor(img, 1);
    assert_int_equal(load_with_field(bytes, len, t0, 20, t0 + 1), MQR_E_TENSOR);
    assert_int_equal(load_with_field(bytes, len, t0, 20, m.n_tensors + 1), MQR_E_TENSOR);
    assert_int_equal(load_with_field(bytes, len, t0, 20, r + 1), MQR_E_TENSOR);
    assert_int_equal(load_with_field(bytes, len, slot, 24, 3), MQR_E_TENSOR);
    {
        uint8_t *v2 = exact_copy(bytes, len);
        uint32_t two = 2;
        memcpy(v2 + 4, &two, 4);
        recrc(v2, len);
        assert_int_equal(mqr_load(&m, v2, len), MQR_E_TENSOR);
        free(v2);
    }
    /* a step that reads a bounded tensor: the NonZero step given its own output as input */
    {
        uint8_t *bad = exact_copy(bytes, len);
        mqr_fmt_step s;
        uint32_t st_off = section_off(bad, MQR_SEC_STEPS), ix = section_off(bad, MQR_SEC_INDICES), i;
        for (i = 0;; i++) {
            uint32_t t;
            memcpy(&s, bad + st_off + sizeof s * i, sizeof s);
            memcpy(&t, bad + ix + 4 * (size_t)s.out_first, 4);
            if (t == t0) break;
        }
        memcpy(bad + ix + 4 * (size_t)s.in_first, &t0, 4);
        recrc(bad, len);
        assert_int_equal(mqr_load(&m, bad, len), MQR_E_STEP);
        free(bad);
    }
    for (int k = 0; k < 7; k++) free(outs[k]);
    free(arena);
    free(img);
    mq_free(bytes);
    mq_import_result_free(&cm.res);

    /* a model without them stays version 2 (older runtimes load it) */
    import_named("fuzz_cnn", 0, &cm);
    assert_int_equal(compile(cm.res.graph, &bytes, &len, &err), MQ_OK);
    memcpy(&version, (uint8_t *)bytes + 4, 4);
    assert_int_equal(version, 2);
    mq_free(bytes);
    mq_import_result_free(&cm.res);

}

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
    for (int s = MQR_OK; s <= MQR_STATUS_LAST; s++) assert_true(strlen(mqr_status_str((mqr_status)s)) > 0);
    assert_string_equal(mqr_status_str(MQR_STATUS_LAST + 1), "unknown status");
    int32_t step = 7;
    const char *kernel = "x";
    mqr_load_error(&m, &step, &kernel, NULL);
    assert_int_equal(step, -1);
    assert_null(kernel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_loop),
        cmocka_unit_test(test_scan_reverse),
        cmocka_unit_test(test_control_plan),
        cmocka_unit_test(test_unsupported_report),
        cmocka_unit_test(test_check_refuses),
        cmocka_unit_test(test_bounded_outputs),
        cmocka_unit_test(test_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
