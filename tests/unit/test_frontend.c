/* test_frontend.c: the ONNX importer and tensor files against python3-onnx's view of the same files
 * (ONNX conformance models, tests/data/frontend/ made by make_bad_models.py), bad inputs, OOM sweeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/graph.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif
#define DATA MAQD_SOURCE_DIR "/tests/data/frontend/"
#define CONF "/usr/share/libonnx-testdata/data/"

static mq_status import(const char *path, const mq_import_opts *o, mq_import_result *r, mq_err *e)
{
    mq_err_clear(e);
    return mq_import_onnx_file(path, o, r, e);
}

static const mq_tensor *tensor(const mq_graph *g, const char *name)
{
    int id = mq_graph_find(g, name);
    assert_true(id >= 0);
    return &g->tensors[id];
}

static void assert_dims(const mq_tensor *t, int rank, const int64_t *dims)
{
    assert_int_equal(t->rank, rank);
    for (int d = 0; d < rank; d++) assert_int_equal(t->dims[d], dims[d]);
}

static void assert_msg_has(const mq_err *e, const char *s)
{
    if (!strstr(e->msg, s)) fail_msg("message lacks '%s': %s", s, e->msg);
}

/* ---- conformance models; expected values printed by /usr/bin/python3 with onnx 1.12:
 *   m = onnx.load(p); [(n.op_type, n.name) for n in m.graph.node]; numpy_helper.to_array(init) ---- */

static void test_conv2d_pytorch(void **state)
{
    (void)state;
    mq_import_result r;
    mq_err e;
    assert_int_equal(import(CONF "pytorch-converted/test_Conv2d/model.onnx", NULL, &r, &e), MQ_OK);
    const mq_graph *g = r.graph;
    assert_int_equal(g->ir_version, 3);
    assert_string_equal(g->producer, "pytorch");
    assert_string_equal(g->name, "torch-jit-export");
    assert_int_equal(g->opset, 6);
    assert_int_equal(g->n_nodes, 1);
    assert_string_equal(g->nodes[0].op_type, "Conv");
    assert_non_null(g->nodes[0].def);
    /* inputs '0','1','2' are listed; '1' and '2' have initializers, so only '0' is a graph input */
    assert_int_equal(g->n_inputs, 1);
    const mq_tensor *x = &g->tensors[g->inputs[0]];
    assert_string_equal(x->name, "0");
    assert_dims(x, 4, (const int64_t[]){2, 3, 7, 5});
    const mq_tensor *w = tensor(g, "1");
    assert_true(w->is_const);
    assert_int_equal(w->dtype, MQ_F32);
    assert_dims(w, 4, (const int64_t[]){4, 3, 3, 2});
    const float *wd = w->data;
    assert_float_equal(wd[0], -0.1429409235715866, 1e-9);
    assert_float_equal(wd[1], -0.08505815267562866, 1e-9);
    assert_float_equal(wd[3], 0.1322888284921646, 1e-9);
    assert_float_equal(wd[71], -0.10345208644866943, 1e-9);
    const mq_tensor *b = tensor(g, "2");
    assert_dims(b, 1, (const int64_t[]){4});
    assert_float_equal(((const float *)b->data)[0], -0.17454391717910767, 1e-9);
    assert_float_equal(((const float *)b->data)[3], 0.18244947493076324, 1e-9);
    assert_int_equal(g->n_outputs, 1);
    const mq_tensor *y = &g->tensors[g->outputs[0]];
    assert_string_equal(y->name, "3");
    assert_int_equal(y->dtype, MQ_F32);
    assert_dims(y, 4, (const int64_t[]){2, 4, 5, 4});
    mq_import_result_free(&r);
}

static void test_conv_node_and_relu(void **state)
{
    (void)state;
    mq_import_result r;
    mq_err e;
    assert_int_equal(import(CONF "node/test_conv_with_strides_padding/model.onnx", NULL, &r, &e), MQ_OK);
    const mq_graph *g = r.graph;
    assert_int_equal(g->opset, 11);
    assert_int_equal(g->n_inputs, 2);
    assert_dims(tensor(g, "W"), 4, (const int64_t[]){1, 1, 3, 3});
    assert_true(tensor(g, "W")->is_input);
    assert_dims(tensor(g, "y"), 4, (const int64_t[]){1, 1, 4, 3});
    const mq_node *n = &g->nodes[0];
    assert_int_equal(n->n_in, 2);
    const int64_t *strides;
    assert_int_equal(mq_attr_ints(n, "strides", &strides), 2);
    assert_int_equal(strides[0], 2);
    const int64_t *pads;
    assert_int_equal(mq_attr_ints(n, "pads", &pads), 4);
    assert_int_equal(pads[0], 1);
    mq_import_result_free(&r);

    assert_int_equal(import(CONF "simple/test_single_relu_model/model.onnx", NULL, &r, &e), MQ_OK);
    assert_int_equal(r.graph->n_nodes, 1);
    assert_string_equal(r.graph->nodes[0].name, "test");
    assert_string_equal(r.graph->nodes[0].op_type, "Relu");
    assert_int_equal(r.graph->opset, 9);
    assert_dims(tensor(r.graph, "y"), 2, (const int64_t[]){1, 2});
    mq_import_result_free(&r);

    assert_int_equal(import(CONF "pytorch-converted/test_BatchNorm2d_eval/model.onnx", NULL, &r, &e), MQ_OK);
    assert_int_equal(r.graph->n_nodes, 1);
    assert_int_equal(r.graph->nodes[0].n_in, 5);
    assert_int_equal(r.graph->n_inputs, 1);
    assert_float_equal(((const float *)tensor(r.graph, "1")->data)[2], 0.3748341202735901, 1e-9);
    assert_float_equal(((const float *)tensor(r.graph, "4")->data)[1], 1.0, 0);
    mq_import_result_free(&r);
}

static void test_constant_node(void **state)
{
    (void)state;
    mq_import_result r;
    mq_err e;
    assert_int_equal(import(CONF "node/test_constant/model.onnx", NULL, &r, &e), MQ_OK);
    const mq_graph *g = r.graph;
    assert_int_equal(g->n_inputs, 0);
    assert_int_equal(g->n_nodes, 1);
    const mq_attr *a = mq_attr_get(&g->nodes[0], "value");
    assert_non_null(a);
    assert_int_equal(a->type, MQ_ATTR_TENSOR);
    assert_int_equal(a->t->dtype, MQ_F32);
    assert_dims(a->t, 2, (const int64_t[]){5, 5});
    const float *v = a->t->data; /* typed float_data in the file */
    assert_float_equal(v[0], 1.764052391052246, 1e-9);
    assert_float_equal(v[1], 0.40015721321105957, 1e-9);
    assert_float_equal(v[2], 0.978738009929657, 1e-9);
    assert_dims(tensor(g, "values"), 2, (const int64_t[]){5, 5});
    mq_import_result_free(&r);
}

/* ---- models from make_bad_models.py ---------------------------------------------------------- */

static void test_typed_initializers(void **state)
{
    (void)state;
    mq_import_result r;
    mq_err e;
    assert_int_equal(import(DATA "typed.onnx", NULL, &r, &e), MQ_OK);
    const mq_graph *g = r.graph;
    assert_int_equal(g->n_nodes, 8);
    const float *f = tensor(g, "f32")->data;
    assert_true(f[0] == 1.5f && f[1] == -2.25f);
    const int8_t *i8 = tensor(g, "i8")->data;
    assert_true(tensor(g, "i8")->dtype == MQ_I8 && i8[0] == -128 && i8[1] == 5 && i8[2] == 127);
    const uint16_t *u16 = tensor(g, "u16")->data;
    assert_true(u16[0] == 65535 && u16[1] == 7);
    const int64_t *i64 = tensor(g, "i64")->data;
    assert_true(i64[0] == -((int64_t)1 << 40) && i64[1] == 3);
    assert_true(((const double *)tensor(g, "f64")->data)[0] == 0.1);
    const uint32_t *u32 = tensor(g, "u32")->data;
    assert_true(tensor(g, "u32")->dtype == MQ_U32 && u32[0] == 4000000000u && u32[1] == 1);
    const uint8_t *bo = tensor(g, "b")->data;
    assert_true(tensor(g, "b")->dtype == MQ_BOOL && bo[0] == 1 && bo[1] == 0 && bo[2] == 1);
    const mq_tensor *h = tensor(g, "f16");
    assert_int_equal(h->dtype, MQ_F32); /* float16 becomes float32 */
    const float *hf = h->data;
    assert_true(hf[0] == 0.5f && hf[1] == -1.0f && hf[2] == 65504.0f);
    assert_int_equal(tensor(g, "o_f16")->dtype, MQ_F32);
    mq_import_result_free(&r);
}

static void test_external_data(void **state)
{
    (void)state;
    mq_import_result r;
    mq_err e;
    assert_int_equal(import(DATA "ext_ok.onnx", NULL, &r, &e), MQ_OK);
    const float *w = tensor(r.graph, "w")->data;
    assert_true(w[0] == 1.5f && w[1] == -2.0f && w[2] == 3.25f);
    mq_import_result_free(&r);

    assert_int_equal(import(DATA "ext_escape.onnx", NULL, &r, &e), MQ_ERR_INVALID);
    assert_null(r.graph);
    assert_msg_has(&e, "ext_escape.onnx: ");
    assert_msg_has(&e, "../secret.bin");
    assert_msg_has(&e, "'w'");

    /* from memory without a folder: external data is refused */
    void *buf;
    size_t len;
    assert_int_equal(mq_read_file(DATA "ext_ok.onnx", 1 << 20, &buf, &len, &e), MQ_OK);
    mq_err_clear(&e);
    assert_int_equal(mq_import_onnx_buffer(buf, len, NULL, "mem.onnx", NULL, &r, &e), MQ_ERR_INVALID);
    assert_msg_has(&e, "mem.onnx: ");
    mq_free(buf);
}

static void test_symbolic_dims(void **state)
{
    (void)state;
    mq_import_result r;
    mq_err e;
    assert_int_equal(import(DATA "symbolic.onnx", NULL, &r, &e), MQ_OK);
    const mq_tensor *x = tensor(r.graph, "x");
    assert_dims(x, 3, (const int64_t[]){1, 3, 1});
    assert_int_equal(x->sym_mask, 5u);
    assert_non_null(r.notes);
    assert_non_null(strstr(r.notes, "input 'x' dim 0 ('batch') is symbolic: using 1"));
    assert_non_null(strstr(r.notes, "('n')"));
    assert_dims(tensor(r.graph, "y"), 3, (const int64_t[]){1, 3, 1});
    mq_import_result_free(&r);

    const char *pin_sym[] = {"batch=4"};
    mq_import_opts o = {.n_shapes = 1, .shapes = pin_sym};
    assert_int_equal(import(DATA "symbolic.onnx", &o, &r, &e), MQ_OK);
    assert_dims(tensor(r.graph, "x"), 3, (const int64_t[]){4, 3, 1});
    assert_int_equal(tensor(r.graph, "x")->sym_mask, 5u);
    assert_null(strstr(r.notes, "batch"));
    assert_dims(tensor(r.graph, "y"), 3, (const int64_t[]){4, 3, 1});
    mq_import_result_free(&r);

    const char *pin_all[] = {"x=2x3x5"};
    o.shapes = pin_all;
    assert_int_equal(import(DATA "symbolic.onnx", &o, &r, &e), MQ_OK);
    assert_dims(tensor(r.graph, "x"), 3, (const int64_t[]){2, 3, 5});
    assert_int_equal(tensor(r.graph, "x")->sym_mask, 5u);
    assert_null(r.notes);
    mq_import_result_free(&r);

    const char *pin_bad[] = {"x=2x4x5"}; /* dim 1 is fixed at 3 */
    o.shapes = pin_bad;
    assert_int_equal(import(DATA "symbolic.onnx", &o, &r, &e), MQ_ERR_SHAPE);
    assert_msg_has(&e, "symbolic.onnx: ");
    mq_import_result_free(&r);

    const char *pin_none[] = {"nothing=3"};
    o.shapes = pin_none;
    assert_int_equal(import(DATA "symbolic.onnx", &o, &r, &e), MQ_ERR_INVALID);
    assert_msg_has(&e, "'nothing'");
    mq_import_result_free(&r);

    const char *pin_syntax[] = {"x=2xx"};
    o.shapes = pin_syntax;
    assert_int_equal(import(DATA "symbolic.onnx", &o, &r, &e), MQ_ERR_INVALID);
    mq_import_result_free(&r);
}

static void test_bad_models(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        mq_status want;
        const char *has[3];
    } cases[] = {
        {"truncated.onnx", MQ_ERR_PARSE, {"truncated.onnx: "}},
        {"random.onnx", MQ_ERR_PARSE, {"random.onnx: "}},
        {"dangling.onnx", MQ_ERR_INVALID, {"dangling.onnx: ", "'add1'", "'ghost'"}},
        {"dangling_output.onnx", MQ_ERR_INVALID, {"dangling_output.onnx: ", "'nowhere'"}},
        {"bad_init_size.onnx", MQ_ERR_INVALID, {"bad_init_size.onnx: ", "initializer 'w'", "20 bytes"}},
        {"absurd_dims.onnx", MQ_ERR_LIMIT, {"absurd_dims.onnx: ", "'huge'"}},
        {"deep_rank.onnx", MQ_ERR_LIMIT, {"deep_rank.onnx: ", "'deep'", "rank 9"}},
        {"const_string.onnx", MQ_ERR_UNSUPPORTED, {"const_string.onnx: ", "'const_str'", "string"}},
        {"no_such_file.onnx", MQ_ERR_IO, {"no_such_file.onnx: "}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mq_import_result r;
        mq_err e;
        char path[512];
        snprintf(path, sizeof path, DATA "%s", cases[i].file);
        mq_status st = import(path, NULL, &r, &e);
        if (st != cases[i].want)
            fail_msg("%s: got %s, want %s: %s", cases[i].file, mq_status_name(st), mq_status_name(cases[i].want),
                     e.msg);
        assert_null(r.graph);
        assert_true(strncmp(e.msg, path, strlen(path)) == 0);
        for (int k = 0; k < 3 && cases[i].has[k]; k++) assert_msg_has(&e, cases[i].has[k]);
        mq_import_result_free(&r);
    }
}

static void test_unsupported_together(void **state)
{
    (void)state;
    mq_import_result r;
    mq_err e;
    assert_int_equal(import(DATA "unsupported.onnx", NULL, &r, &e), MQ_ERR_UNSUPPORTED);
    assert_null(r.graph);
    assert_msg_has(&e, "unsupported.onnx: 2 unsupported node(s):\n");
    assert_msg_has(&e, "node 'foo1' (Foo, domain 'com.example'): unknown domain");
    assert_msg_has(&e, "node 'nosuch1' (NoSuchOp, domain 'ai.onnx'): unknown op");
    assert_int_equal(r.n_unsupported, 2);
    assert_non_null(strstr(r.unsupported, "foo1"));
    assert_non_null(strstr(r.unsupported, "nosuch1"));
    assert_null(strstr(r.unsupported, "#2")); /* the unnamed Relu is fine */
    mq_import_result_free(&r);

    mq_import_opts o = {.allow_unsupported = 1};
    assert_int_equal(import(DATA "unsupported.onnx", &o, &r, &e), MQ_OK);
    assert_non_null(r.graph);
    assert_int_equal(r.graph->n_nodes, 3);
    assert_int_equal(r.n_unsupported, 2);
    assert_null(r.graph->nodes[0].def);
    assert_non_null(r.graph->nodes[2].def);
    mq_import_result_free(&r);
}

static void test_limits(void **state)
{
    (void)state;
    mq_import_result r;
    mq_err e;
    mq_import_opts o = {.max_nodes = 1}; /* good_add has 2 nodes */
    assert_int_equal(import(DATA "good_add.onnx", &o, &r, &e), MQ_ERR_LIMIT);
    assert_msg_has(&e, "good_add.onnx: ");
    mq_import_opts o2 = {.max_bytes = 100}; /* the file is 152 bytes */
    assert_int_equal(import(DATA "good_add.onnx", &o2, &r, &e), MQ_ERR_LIMIT);
    assert_msg_has(&e, "good_add.onnx: ");
    mq_import_opts o3 = {.max_elems = 5}; /* initializer 'w' has 6 elements */
    assert_int_equal(import(DATA "good_add.onnx", &o3, &r, &e), MQ_ERR_LIMIT);
    assert_msg_has(&e, "initializer 'w'");
    mq_import_opts o4 = {.max_bytes = 155}; /* the 148-byte model fits, with its 12 bytes of external data not */
    assert_int_equal(import(DATA "ext_ok.onnx", &o4, &r, &e), MQ_ERR_LIMIT);
    assert_msg_has(&e, "external data");
    assert_int_equal(import(DATA "good_add.onnx", NULL, &r, &e), MQ_OK);
    assert_int_equal(r.graph->n_nodes, 2);
    mq_import_result_free(&r);
}

/* Flip bytes of a good model: every import must fail or succeed cleanly (ASan checks the rest). */
static void test_mutated_bytes(void **state)
{
    (void)state;
    void *buf;
    size_t len;
    mq_err e;
    assert_int_equal(mq_read_file(DATA "good_add.onnx", 1 << 20, &buf, &len, &e), MQ_OK);
    unsigned char *b = buf;
    for (size_t i = 0; i < len; i++) {
        static const unsigned char flips[] = {0xff, 0x80, 0x01, 0x7f};
        for (size_t k = 0; k < sizeof flips; k++) {
            unsigned char old = b[i];
            b[i] ^= flips[k];
            mq_import_result r;
            mq_err_clear(&e);
            mq_status st = mq_import_onnx_buffer(b, len, NULL, "mut.onnx", NULL, &r, &e);
            if (st != MQ_OK) assert_true(strncmp(e.msg, "mut.onnx: ", 10) == 0);
            mq_import_result_free(&r);
            b[i] = old;
        }
    }
    mq_free(buf);
}

static void test_alloc_failure_sweep(void **state)
{
    (void)state;
    static const char *files[] = {DATA "good_add.onnx", DATA "typed.onnx", DATA "symbolic.onnx",
                                  DATA "unsupported.onnx"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        long n;
        for (n = 1; n < 100000; n++) {
            mq_import_result r;
            mq_err e;
            mq_err_clear(&e);
            mq_alloc_fail_after(n);
            mq_import_opts o = {.allow_unsupported = f == 3};
            mq_status st = mq_import_onnx_file(files[f], &o, &r, &e);
            mq_alloc_fail_after(0);
            if (st == MQ_OK) {
                assert_non_null(r.graph);
                mq_import_result_free(&r);
                break;
            }
            if (st != MQ_ERR_NOMEM) fail_msg("%s, failing allocation %ld: %s", files[f], n, e.msg);
            assert_null(r.graph);
            mq_import_result_free(&r);
        }
        assert_true(n > 1 && n < 100000);
    }
}

/* ---- tensor files ------------------------------------------------------------------------------ */

static void test_read_pb(void **state)
{
    (void)state;
    mq_tensor t;
    mq_err e;
    mq_err_clear(&e);
    /* numpy_helper.to_array: float32 (1,1,7,5), values 0..34, name 'x' */
    assert_int_equal(mq_tensor_read_file(CONF "node/test_conv_with_strides_padding/test_data_set_0/input_0.pb",
                                         &t, &e), MQ_OK);
    assert_string_equal(t.name, "x");
    assert_int_equal(t.dtype, MQ_F32);
    assert_dims(&t, 4, (const int64_t[]){1, 1, 7, 5});
    for (int i = 0; i < 35; i++) assert_true(((const float *)t.data)[i] == (float)i);
    mq_tensor_free_data(&t);

    /* float16 input of Cast: after conversion it equals the float32 output numpy_helper gives */
    mq_tensor h, f;
    assert_int_equal(mq_tensor_read_file(CONF "node/test_cast_FLOAT16_to_FLOAT/test_data_set_0/input_0.pb", &h, &e),
                     MQ_OK);
    assert_int_equal(mq_tensor_read_file(CONF "node/test_cast_FLOAT16_to_FLOAT/test_data_set_0/output_0.pb", &f,
                                         &e), MQ_OK);
    assert_int_equal(h.dtype, MQ_F32);
    assert_dims(&h, 2, (const int64_t[]){3, 4});
    assert_memory_equal(h.data, f.data, 12 * sizeof(float));
    assert_float_equal(((const float *)h.data)[0], 0.1182861328125, 0);
    mq_tensor_free_data(&h);
    mq_tensor_free_data(&f);

    /* round trip through mq_tensor_write_pb */
    char dir[] = "/tmp/mqfeXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/t.pb", dir);
    int64_t vals[3] = {-5, 0, (int64_t)1 << 50};
    mq_tensor w = {.name = "v", .dtype = MQ_I64, .rank = 2, .dims = {1, 3}, .data = vals};
    assert_int_equal(mq_tensor_write_pb(path, &w, &e), MQ_OK);
    assert_int_equal(mq_tensor_read_file(path, &t, &e), MQ_OK);
    assert_string_equal(t.name, "v");
    assert_int_equal(t.dtype, MQ_I64);
    assert_dims(&t, 2, (const int64_t[]){1, 3});
    assert_memory_equal(t.data, vals, sizeof vals);
    mq_tensor_free_data(&t);
    unlink(path);
    /* nothing left behind but nothing: no temporaries */
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d))) files += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 0);
    rmdir(dir);

    /* garbage is refused */
    mq_err_clear(&e);
    assert_int_not_equal(mq_tensor_read_pb("\xff\xff\xff", 3, &t, &e), MQ_OK);
    assert_null(t.data);
}

static void test_npy(void **state)
{
    (void)state;
    mq_tensor t;
    mq_err e;
    mq_err_clear(&e);
    /* np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5 */
    assert_int_equal(mq_tensor_read_file(DATA "arange_2x3_f4.npy", &t, &e), MQ_OK);
    assert_int_equal(t.dtype, MQ_F32);
    assert_dims(&t, 2, (const int64_t[]){2, 3});
    for (int i = 0; i < 6; i++) assert_true(((const float *)t.data)[i] == (float)i - 2.5f);
    /* writing it back gives numpy's bytes exactly */
    char dir[] = "/tmp/mqfeXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    assert_int_equal(mq_tensor_write_npy(path, &t, &e), MQ_OK);
    void *a, *b;
    size_t la, lb;
    assert_int_equal(mq_read_file(path, 1 << 20, &a, &la, &e), MQ_OK);
    assert_int_equal(mq_read_file(DATA "arange_2x3_f4.npy", 1 << 20, &b, &lb, &e), MQ_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    mq_free(a);
    mq_tensor_free_data(&t);

    /* np.array([True, False, False, True]) */
    assert_int_equal(mq_tensor_read_file(DATA "bools_4.npy", &t, &e), MQ_OK);
    assert_int_equal(t.dtype, MQ_BOOL);
    assert_memory_equal(t.data, "\1\0\0\1", 4);
    assert_int_equal(mq_tensor_write_npy(path, &t, &e), MQ_OK);
    assert_int_equal(mq_read_file(path, 1 << 20, &a, &la, &e), MQ_OK);
    mq_free(b);
    assert_int_equal(mq_read_file(DATA "bools_4.npy", 1 << 20, &b, &lb, &e), MQ_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    mq_free(a);
    mq_tensor_free_data(&t);

    /* np.array(-7, dtype=np.int64): rank 0 */
    assert_int_equal(mq_tensor_read_file(DATA "scalar_i8.npy", &t, &e), MQ_OK);
    assert_int_equal(t.dtype, MQ_I64);
    assert_int_equal(t.rank, 0);
    assert_int_equal(((const int64_t *)t.data)[0], -7);
    mq_tensor_free_data(&t);

    /* np.array([0.5, -2.0, 1024.0], dtype=np.float16) becomes float32 */
    assert_int_equal(mq_tensor_read_file(DATA "half_3.npy", &t, &e), MQ_OK);
    assert_int_equal(t.dtype, MQ_F32);
    assert_true(((const float *)t.data)[0] == 0.5f && ((const float *)t.data)[1] == -2.0f &&
                ((const float *)t.data)[2] == 1024.0f);
    mq_tensor_free_data(&t);

    /* strictness: edit numpy's header in memory */
    unsigned char *m = b;
    size_t hl = lb - 4; /* bools: 4 data bytes */
    static const struct { const char *from, *to; mq_status want; } edits[] = {
        {"False", "True ", MQ_ERR_UNSUPPORTED},
        {"|b1", ">i4", MQ_ERR_UNSUPPORTED},
        {"descr", "descx", MQ_ERR_PARSE},
        {"(4,)", "(5,)", MQ_ERR_PARSE},
        {"(4,)", "(4) ", MQ_ERR_PARSE},
        {"}", ")", MQ_ERR_PARSE},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        unsigned char *c = mq_malloc(lb);
        assert_non_null(c);
        memcpy(c, m, lb);
        char *at = NULL;
        for (size_t k = 0; k + strlen(edits[i].from) <= hl; k++)
            if (!memcmp(c + k, edits[i].from, strlen(edits[i].from))) {
                at = (char *)c + k;
                break;
            }
        assert_non_null(at);
        memcpy(at, edits[i].to, strlen(edits[i].to));
        mq_err_clear(&e);
        mq_status st = mq_tensor_read_npy(c, lb, &t, &e);
        if (st != edits[i].want) fail_msg("edit %zu: got %s: %s", i, mq_status_name(st), e.msg);
        assert_null(t.data);
        mq_free(c);
    }
    mq_err_clear(&e);
    assert_int_equal(mq_tensor_read_npy(m, lb - 1, &t, &e), MQ_ERR_PARSE); /* data one byte short */
    mq_err_clear(&e);
    assert_int_equal(mq_tensor_read_npy(m, 9, &t, &e), MQ_ERR_PARSE);
    mq_free(b);
    unlink(path);
    rmdir(dir);
}

static void test_tensor_alloc_sweep(void **state)
{
    (void)state;
    static const char *files[] = {DATA "arange_2x3_f4.npy",
                                  CONF "node/test_conv_with_strides_padding/test_data_set_0/input_0.pb"};
    for (size_t f = 0; f < 2; f++) {
        long n;
        for (n = 1; n < 10000; n++) {
            mq_tensor t;
            mq_err e;
            mq_err_clear(&e);
            mq_alloc_fail_after(n);
            mq_status st = mq_tensor_read_file(files[f], &t, &e);
            mq_alloc_fail_after(0);
            if (st == MQ_OK) {
                mq_tensor_free_data(&t);
                break;
            }
            assert_int_equal(st, MQ_ERR_NOMEM);
            assert_null(t.data);
        }
        assert_true(n > 1 && n < 10000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_pytorch),
        cmocka_unit_test(test_conv_node_and_relu),
        cmocka_unit_test(test_constant_node),
        cmocka_unit_test(test_typed_initializers),
        cmocka_unit_test(test_external_data),
        cmocka_unit_test(test_symbolic_dims),
        cmocka_unit_test(test_bad_models),
        cmocka_unit_test(test_unsupported_together),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_mutated_bytes),
        cmocka_unit_test(test_alloc_failure_sweep),
        cmocka_unit_test(test_read_pb),
        cmocka_unit_test(test_npy),
        cmocka_unit_test(test_tensor_alloc_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
