/* conformance.c: the ONNX backend conformance runner. Walks the test folders (model.onnx +
 * test_data_set_N/{input,output}_K.pb), runs each set through the reference executor in a child
 * process, compares with the ONNX backend tolerances, and checks against the committed pass list. */
#include "backend/emit_c.h"
#include "backend/mqd_write.h"
#include "backend/program.h"
#include "core/exec.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"
#include "onnx/onnx.pb-c.h"
#include "runtime/maqdrt.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ROOT "/usr/share/libonnx-testdata/data"
#define MAX_TESTS 4096
#define MAX_OPS_PER_TEST 64
#define MAX_SETS 16
#define MAX_IO 32

typedef enum { R_PASS, R_FAIL, R_UNSUPPORTED, R_CRASH, R_TIMEOUT, R_EXCLUDED, R_NCAT } result_kind;
static const char *kind_name[R_NCAT] = {"pass", "fail", "unsupported", "crash", "timeout", "excluded"};

typedef struct test_case {
    char folder[64];
    char name[192];
    char dir[1024];
    result_kind result;
    char message[600];
    int n_ops;
    char ops[MAX_OPS_PER_TEST][64];
    int expected; /* in the committed pass list */
    int32_t in_type[MAX_IO], out_type[MAX_IO]; /* declared elem_type of graph.input[k] / output[k], 0 unknown */
    int mqd_result;     /* --backend mqd: a result_kind, or -1 when not tried (executor did not pass) */
    char mqd_message[600];
} test_case;

static test_case *tests;
static int n_tests;
static int verbose;
static double rel_tol = 1e-3, abs_tol = 1e-7;
static int timeout_s = 120;
static char **exp_names; /* expected-pass list: global so forked children still reach it (LeakSanitizer) */
static int backend_mqd;  /* --backend mqd: also compile each passing test to .mqd and run it on the runtime */
static int child_fd = -1; /* the child's end of the result pipe */

/* Does the model use things outside this scope (training, sequences, optionals, strings,
 * ai.onnx.ml)? Also collects the op types. */
static int classify(test_case *tc, char *why, size_t whylen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/model.onnx", tc->dir);
    void *buf;
    size_t len;
    mq_err err = {0};
    if (mq_read_file(path, (size_t)1 << 31, &buf, &len, &err) != MQ_OK) {
        snprintf(why, whylen, "%s", err.msg);
        return 0;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    mq_free(buf);
    if (!m || !m->graph) {
        if (m) onnx__model_proto__free_unpacked(m, NULL);
        return 0;
    }
    int excluded = 0;
    Onnx__GraphProto *g = m->graph;
    for (size_t i = 0; i < g->n_node; i++) {
        const char *dom = g->node[i]->domain ? g->node[i]->domain : "";
        if (strcmp(dom, "ai.onnx.ml") == 0 || strstr(dom, "training")) {
            excluded = 1;
            snprintf(why, whylen, "domain %s", dom);
        }
        int seen = 0;
        for (int k = 0; k < tc->n_ops; k++)
            if (strcmp(tc->ops[k], g->node[i]->op_type) == 0) seen = 1;
        if (!seen && tc->n_ops < MAX_OPS_PER_TEST) snprintf(tc->ops[tc->n_ops++], 64, "%s", g->node[i]->op_type);
    }
    Onnx__ValueInfoProto **vis[2] = {g->input, g->output};
    size_t nvis[2] = {g->n_input, g->n_output};
    int32_t *decl[2] = {tc->in_type, tc->out_type};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < nvis[s]; i++) {
            Onnx__TypeProto *t = vis[s][i]->type;
            if (!t) continue;
            if (i < MAX_IO && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && t->tensor_type &&
                t->tensor_type->has_elem_type)
                decl[s][i] = t->tensor_type->elem_type;
            if (t->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
                excluded = 1;
                snprintf(why, whylen, "sequence type");
            } else if (t->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE) {
                excluded = 1;
                snprintf(why, whylen, "optional type");
            } else if (t->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE ||
                       t->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE) {
                excluded = 1;
                snprintf(why, whylen, "map/sparse type");
            } else if (t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && t->tensor_type &&
                       t->tensor_type->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__STRING) {
                excluded = 1;
                snprintf(why, whylen, "string tensor");
            }
        }
    /* Ops of sequences/optionals/strings inside the graph. */
    for (size_t i = 0; i < g->n_node; i++) {
        const char *op = g->node[i]->op_type;
        if (strncmp(op, "Sequence", 8) == 0 || strcmp(op, "ConcatFromSequence") == 0 ||
            strcmp(op, "SplitToSequence") == 0 || strncmp(op, "Optional", 8) == 0 ||
            strcmp(op, "StringNormalizer") == 0 || strcmp(op, "TfIdfVectorizer") == 0) {
            excluded = 1;
            snprintf(why, whylen, "op %s", op);
        }
        /* Random ops: the expected data come from numpy's global generator; ONNX's own test case
         * (bernoulli.py) says other implementations need not reproduce them. */
        if (strcmp(op, "Bernoulli") == 0 || strncmp(op, "RandomNormal", 12) == 0 ||
            strncmp(op, "RandomUniform", 13) == 0 || strcmp(op, "Multinomial") == 0) {
            excluded = 1;
            snprintf(why, whylen, "random output of %s is not reproducible", op);
        }
    }
    onnx__model_proto__free_unpacked(m, NULL);
    return excluded;
}

static int compare(const mq_tensor *got, const mq_tensor *want, char *msg, size_t n)
{
    char a[128], b[128];
    if (got->dtype != want->dtype) {
        snprintf(msg, n, "dtype %s, expected %s", mq_dtype_name(got->dtype), mq_dtype_name(want->dtype));
        return 0;
    }
    if (!mq_shape_equal(got, want)) {
        snprintf(msg, n, "shape %s, expected %s", mq_shape_str(got, a, sizeof a), mq_shape_str(want, b, sizeof b));
        return 0;
    }
    int64_t ne = mq_numel(want);
    for (int64_t i = 0; i < ne; i++) {
        if (mq_dtype_is_float(want->dtype)) {
            double x = mq_load_f64(got->data, got->dtype, (size_t)i), y = mq_load_f64(want->data, want->dtype, (size_t)i);
            if (isnan(x) && isnan(y)) continue;
            if (isinf(y) && x == y) continue;
            /* an infinite expectation makes rel_tol * |y| infinite: only the same infinity matches */
            if (isinf(y) || !(fabs(x - y) <= abs_tol + rel_tol * fabs(y))) {
                snprintf(msg, n, "element %lld: %.9g, expected %.9g", (long long)i, x, y);
                return 0;
            }
        } else {
            size_t es = mq_dtype_size(want->dtype);
            if (memcmp((const char *)got->data + (size_t)i * es, (const char *)want->data + (size_t)i * es, es) != 0) {
                snprintf(msg, n, "element %lld: %lld, expected %lld", (long long)i,
                         (long long)mq_load_i64(got->data, got->dtype, (size_t)i),
                         (long long)mq_load_i64(want->data, want->dtype, (size_t)i));
                return 0;
            }
        }
    }
    return 1;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Writes one result record to the parent: kind byte, 16-bit length, message. */
static void put_record(unsigned char rk, const char *msg)
{
    size_t l = strlen(msg);
    if (l > 0xffff) l = 0xffff;
    unsigned char h[3] = {rk, (unsigned char)(l & 0xff), (unsigned char)(l >> 8)};
    ssize_t w = write(child_fd, h, 3);
    w += write(child_fd, msg, l);
    (void)w;
}

/* Import the test's model with symbolic input dims pinned from the first data set's inputs, as
 * `maqdc run` pins them from its input files. frozen (NULL: none): graph inputs k with frozen[k] set
 * are frozen to the first set's values instead (`maqdc --const`), which are kept in vals[k]. */
static mq_status import_for_first_set(const test_case *tc, const char *path, const mq_import_opts *opts,
                                      const unsigned char *frozen, mq_tensor *vals, mq_import_result *res,
                                      mq_err *err)
{
    mq_tensor first[MAX_IO], cv[MAX_IO];
    memset(first, 0, sizeof first);
    memset(cv, 0, sizeof cv);
    int n_first = 0, n_cv = 0;
    for (int k = 0; k < MAX_IO; k++) {
        char p[1400];
        snprintf(p, sizeof p, "%s/test_data_set_0/input_%d.pb", tc->dir, k);
        if (!file_exists(p)) break;
        mq_err e2 = {0};
        mq_tensor t = {0};
        if (mq_tensor_read_file_as(p, tc->in_type[k], &t, &e2) != MQ_OK) break;
        if (frozen && frozen[k]) {
            t.name = vals[k].name; /* the model's input name */
            vals[k] = t;
            cv[n_cv++] = t;
        } else {
            first[n_first++] = t;
        }
    }
    mq_import_opts o = *opts;
    o.n_consts = n_cv;
    o.consts = cv;
    mq_status st = mq_import_onnx_for_inputs(path, &o, first, n_first, res, err);
    for (int k = 0; k < MAX_IO; k++) mq_tensor_free_data(&first[k]);
    return st;
}

/* What the backends compile for a test: the executor's graph, or, when its shapes depend on input
 * values, the model re-imported with exactly the inputs the compiler names as shape-defining
 * (mq_program_static_inputs) frozen to the first set's values. */
typedef struct backend_graph {
    const mq_graph *g;
    mq_import_result res;              /* the re-import, if any */
    unsigned char frozen[MAX_IO];      /* by the test's input number */
    mq_tensor val[MAX_IO];             /* the frozen inputs' values (names are the model's) */
    int n_frozen;
} backend_graph;

static mq_status backend_graph_make(const test_case *tc, const mq_graph *g, backend_graph *bg, mq_err *err)
{
    memset(bg, 0, sizeof *bg);
    bg->g = g;
    if (g->n_inputs > MAX_IO) return MQ_OK;
    int cnt = mq_program_static_inputs(g, bg->frozen, err);
    if (cnt < 0) return err->code;
    if (cnt == 0) return MQ_OK;
    for (int k = 0; k < g->n_inputs; k++) bg->val[k].name = g->tensors[g->inputs[k]].name;
    char path[1200];
    snprintf(path, sizeof path, "%s/model.onnx", tc->dir);
    mq_import_opts opts = {0};
    MQ_TRY(import_for_first_set(tc, path, &opts, bg->frozen, bg->val, &bg->res, err));
    bg->g = bg->res.graph;
    bg->n_frozen = cnt;
    return MQ_OK;
}

static void backend_graph_free(backend_graph *bg)
{
    for (int k = 0; k < MAX_IO; k++) mq_tensor_free_data(&bg->val[k]);
    mq_import_result_free(&bg->res);
}

/* Set s's inputs for the compiled program: every test input but the frozen ones, which must hold the
 * values they were frozen to. Returns the program's input count, or -1 with msg. */
static int backend_inputs(const test_case *tc, const backend_graph *bg, int n_test_in, int s, mq_tensor *in,
                          char *msg, size_t n)
{
    int j = 0;
    for (int k = 0; k < n_test_in; k++) {
        char p[1400];
        mq_err e2 = {0};
        mq_tensor t = {0};
        snprintf(p, sizeof p, "%s/test_data_set_%d/input_%d.pb", tc->dir, s, k);
        if (mq_tensor_read_file_as(p, tc->in_type[k], &t, &e2) != MQ_OK) {
            snprintf(msg, n, "reading %s: %s", p, e2.msg);
            return -1;
        }
        if (!bg->frozen[k]) {
            in[j++] = t;
            continue;
        }
        int same = t.dtype == bg->val[k].dtype && mq_shape_equal(&t, &bg->val[k]) &&
                   !memcmp(t.data, bg->val[k].data, mq_nbytes(&t));
        mq_tensor_free_data(&t);
        if (!same) {
            snprintf(msg, n, "set %d input %d: differs from set 0's value, to which it was frozen", s, k);
            return -1;
        }
    }
    return j;
}

/* --backend mqd (in the child, after the executor passed): compile g to .mqd in memory, load it with
 * the runtime, run every data set and compare with the expected outputs as the executor was. */
static result_kind run_mqd(const test_case *tc, const mq_graph *g0, char *msg, size_t n)
{
    mq_program prog;
    mq_err err = {0};
    backend_graph bg;
    mq_status st = backend_graph_make(tc, g0, &bg, &err);
    if (st != MQ_OK) {
        snprintf(msg, n, "freezing the shape-defining inputs: %s", err.msg);
        backend_graph_free(&bg);
        return st == MQ_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
    }
    const mq_graph *g = bg.g;
    st = mq_program_build(g, NULL, &prog, &err);
    if (st != MQ_OK) {
        snprintf(msg, n, "compile: %s", err.msg);
        backend_graph_free(&bg);
        return st == MQ_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
    }
    void *bytes = NULL;
    size_t len = 0;
    st = mq_mqd_write(&prog, &bytes, &len, &err);
    mq_program_free(&prog);
    if (st != MQ_OK) {
        snprintf(msg, n, "write: %s", err.msg);
        backend_graph_free(&bg);
        return R_FAIL;
    }
    void *buf = aligned_alloc(16, (len + 15) / 16 * 16 + 16), *arena = NULL;
    memcpy(buf, bytes, len);
    mq_free(bytes);
    mqr_model m;
    result_kind rk = R_PASS;
    mqr_status rs = mqr_load(&m, buf, len);
    if (rs != MQR_OK) {
        int32_t step;
        const char *kname, *node;
        mqr_load_error(&m, &step, &kname, &node);
        if (step >= 0)
            snprintf(msg, n, "load: %s (step %d, kernel %s, node '%s')", mqr_status_str(rs), (int)step,
                     kname ? kname : "?", node ? node : "");
        else
            snprintf(msg, n, "load: %s", mqr_status_str(rs));
        rk = R_FAIL;
    } else {
        size_t an = mqr_arena_size(&m);
        arena = aligned_alloc(16, (an + 15) / 16 * 16 + 16);
    }
    for (int s = 0; s < MAX_SETS && rk == R_PASS; s++) {
        char sdir[1300];
        snprintf(sdir, sizeof sdir, "%s/test_data_set_%d", tc->dir, s);
        if (!file_exists(sdir)) break;
        mq_tensor in[MAX_IO], want[MAX_IO];
        void *outs[MAX_IO] = {0};
        const void *ins[MAX_IO] = {0};
        memset(in, 0, sizeof in);
        memset(want, 0, sizeof want);
        if (backend_inputs(tc, &bg, g0->n_inputs, s, in, msg, n) != g->n_inputs) {
            if (!msg[0]) snprintf(msg, n, "set %d: input count", s);
            rk = R_UNSUPPORTED;
        }
        for (int k = 0; k < g->n_inputs && rk == R_PASS; k++) {
            mqr_io_info info;
            mqr_input_info(&m, (uint32_t)k, &info);
            if (mq_nbytes(&in[k]) != info.bytes || (int32_t)in[k].dtype != info.dtype) {
                snprintf(msg, n, "set %d input %d: not the compiled shape/dtype", s, k);
                rk = R_UNSUPPORTED;
            }
            ins[k] = in[k].data;
        }
        for (int k = 0; k < g->n_outputs && rk == R_PASS; k++) {
            mqr_io_info info;
            mqr_output_info(&m, (uint32_t)k, &info);
            outs[k] = malloc(info.bytes + 1);
        }
        if (rk == R_PASS) {
            memset(arena, 0xa5, mqr_arena_size(&m)); /* catch reads of never-written arena bytes */
            rs = mqr_run(&m, arena, ins, outs);
            if (rs != MQR_OK) {
                snprintf(msg, n, "run: %s", mqr_status_str(rs));
                rk = R_FAIL;
            }
        }
        for (int k = 0; k < g->n_outputs && rk == R_PASS; k++) {
            char p[1400], cm[400];
            mq_err e2 = {0};
            mqr_io_info info;
            snprintf(p, sizeof p, "%s/output_%d.pb", sdir, k);
            if (mq_tensor_read_file_as(p, tc->out_type[k], &want[k], &e2) != MQ_OK) {
                snprintf(msg, n, "reading %s: %s", p, e2.msg);
                rk = R_FAIL;
                break;
            }
            mqr_output_info(&m, (uint32_t)k, &info);
            mq_tensor got = {.dtype = (mq_dtype)info.dtype, .rank = info.rank, .data = outs[k]};
            int32_t actual[MQR_MAX_RANK];
            mqr_output_dims(&m, arena, (uint32_t)k, actual); /* a data-dependent shape: the actual dims */
            for (int d = 0; d < info.rank; d++) got.dims[d] = actual[d];
            if (!compare(&got, &want[k], cm, sizeof cm)) {
                snprintf(msg, n, "set %d output %d '%s': %s", s, k, g->tensors[g->outputs[k]].name, cm);
                rk = R_FAIL;
            }
        }
        for (int k = 0; k < MAX_IO; k++) {
            mq_tensor_free_data(&in[k]);
            mq_tensor_free_data(&want[k]);
            free(outs[k]);
        }
    }
    free(arena);
    free(buf);
    backend_graph_free(&bg);
    return rk;
}

/* ==== --backend mqd: its own expected-pass list ===================================================
 * --expected-mqd FILE: folder/test names that must pass on the runtime too (implies --backend mqd);
 * --write-passing-mqd FILE: write the tests that passed on the runtime. */
static const char *mqd_expected_file, *mqd_write_file;

static int mqd_option(const char *a, int more, char **argv, int *i)
{
    if (!strcmp(a, "--expected-mqd") && more) mqd_expected_file = argv[++*i];
    else if (!strcmp(a, "--write-passing-mqd") && more) mqd_write_file = argv[++*i];
    else return 0;
    backend_mqd = 1;
    return 1;
}

/* After the runs: compare with --expected-mqd and write --write-passing-mqd. Returns the number of
 * listed tests that did not pass on the runtime (or -1 if the list cannot be read). */
static int mqd_expected_report(const char *filter)
{
    int regress = 0;
    if (mqd_write_file) {
        FILE *wf = fopen(mqd_write_file, "w");
        if (!wf) {
            fprintf(stderr, "maqd-conformance: cannot write %s\n", mqd_write_file);
            return -1;
        }
        fprintf(wf, "# Conformance tests expected to pass on the .mqd runtime (folder/test). Regenerate with\n"
                    "#   maqd-conformance --backend mqd --write-passing-mqd tests/conformance/expected_pass_mqd.txt\n");
        for (int i = 0; i < n_tests; i++)
            if (tests[i].result == R_PASS && tests[i].mqd_result == R_PASS)
                fprintf(wf, "%s/%s\n", tests[i].folder, tests[i].name);
        fclose(wf);
    }
    if (!mqd_expected_file) return 0;
    FILE *ef = fopen(mqd_expected_file, "r");
    if (!ef) {
        fprintf(stderr, "maqd-conformance: cannot open %s: %s\n", mqd_expected_file, strerror(errno));
        return -1;
    }
    char line[512];
    while (fgets(line, sizeof line, ef)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        int found = 0;
        for (int i = 0; i < n_tests && !found; i++) {
            char id[300];
            snprintf(id, sizeof id, "%s/%s", tests[i].folder, tests[i].name);
            if (strcmp(id, line) != 0) continue;
            found = 1;
            if (tests[i].mqd_result != R_PASS) {
                printf("mqd regression: %s: %s%s%s\n", line,
                       tests[i].result != R_PASS ? "the executor does not pass it" :
                       tests[i].mqd_result < 0 ? "not run" : kind_name[tests[i].mqd_result],
                       tests[i].mqd_message[0] ? ": " : "", tests[i].mqd_message);
                regress++;
            }
        }
        if (!found && !filter) {
            printf("mqd regression: %s is expected to pass but was not found\n", line);
            regress++;
        }
    }
    fclose(ef);
    if (regress) printf("%d test(s) expected to pass on the .mqd runtime regressed\n", regress);
    return regress;
}
/* ==== end of --backend mqd expected-pass list ==================================================== */

/* Runs in the child: import, run every data set, compare. Returns the result kind. */
static result_kind run_test(const test_case *tc, char *msg, size_t n)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/model.onnx", tc->dir);
    mq_import_opts opts = {0};
    mq_import_result res = {0};
    mq_err err = {0};
    mq_status st = import_for_first_set(tc, path, &opts, NULL, NULL, &res, &err);
    if (st != MQ_OK) {
        snprintf(msg, n, "import: %s", err.msg);
        mq_import_result_free(&res);
        return st == MQ_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
    }
    mq_graph *g = res.graph;
    result_kind rk = R_PASS;
    int n_sets = 0;
    for (int s = 0; s < MAX_SETS && rk == R_PASS; s++) {
        char sdir[1300];
        snprintf(sdir, sizeof sdir, "%s/test_data_set_%d", tc->dir, s);
        if (!file_exists(sdir)) break;
        n_sets++;
        mq_tensor in[MAX_IO], out[MAX_IO], want[MAX_IO];
        memset(in, 0, sizeof in);
        memset(out, 0, sizeof out);
        memset(want, 0, sizeof want);
        int n_in = 0, n_want = 0;
        for (; n_in < MAX_IO; n_in++) {
            char p[1400];
            snprintf(p, sizeof p, "%s/input_%d.pb", sdir, n_in);
            if (!file_exists(p)) break;
            mq_err e2 = {0};
            if (mq_tensor_read_file_as(p, tc->in_type[n_in], &in[n_in], &e2) != MQ_OK) {
                snprintf(msg, n, "reading %s: %s", p, e2.msg);
                rk = R_FAIL;
                break;
            }
        }
        for (; rk == R_PASS && n_want < MAX_IO; n_want++) {
            char p[1400];
            snprintf(p, sizeof p, "%s/output_%d.pb", sdir, n_want);
            if (!file_exists(p)) break;
            mq_err e2 = {0};
            if (mq_tensor_read_file_as(p, tc->out_type[n_want], &want[n_want], &e2) != MQ_OK) {
                snprintf(msg, n, "reading %s: %s", p, e2.msg);
                rk = R_FAIL;
                break;
            }
        }
        if (rk == R_PASS && n_in != g->n_inputs) {
            snprintf(msg, n, "set %d has %d inputs, the graph %d", s, n_in, g->n_inputs);
            rk = R_FAIL;
        }
        if (rk == R_PASS && n_want != g->n_outputs) {
            snprintf(msg, n, "set %d has %d outputs, the graph %d", s, n_want, g->n_outputs);
            rk = R_FAIL;
        }
        if (rk == R_PASS) {
            mq_err e2 = {0};
            mq_status rs = mq_exec_run(g, in, out, &e2);
            if (rs != MQ_OK) {
                snprintf(msg, n, "run: %s", e2.msg);
                rk = rs == MQ_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
            } else {
                for (int k = 0; k < n_want && rk == R_PASS; k++) {
                    char cm[400];
                    if (!compare(&out[k], &want[k], cm, sizeof cm)) {
                        snprintf(msg, n, "set %d output %d '%s': %s", s, k, g->tensors[g->outputs[k]].name, cm);
                        rk = R_FAIL;
                    }
                }
                for (int k = 0; k < g->n_outputs; k++) mq_tensor_free_data(&out[k]);
            }
        }
        for (int k = 0; k < MAX_IO; k++) {
            mq_tensor_free_data(&in[k]);
            mq_tensor_free_data(&want[k]);
        }
    }
    if (rk == R_PASS && n_sets == 0) {
        snprintf(msg, n, "no test_data_set");
        rk = R_FAIL;
    }
    if (backend_mqd && rk == R_PASS) {
        /* the executor's record first: a crash in the runtime then only fails the mqd backend */
        put_record((unsigned char)rk, msg);
        char m2[600] = {0};
        result_kind mk = run_mqd(tc, g, m2, sizeof m2);
        put_record((unsigned char)mk, m2);
        mq_import_result_free(&res);
        return (result_kind)-1; /* both records written */
    }
    mq_import_result_free(&res);
    return rk;
}

static void run_isolated(test_case *tc)
{
    int fd[2];
    if (pipe(fd) != 0) {
        tc->result = R_CRASH;
        snprintf(tc->message, sizeof tc->message, "pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        alarm((unsigned)timeout_s);
        char msg[sizeof tc->message] = {0};
        child_fd = fd[1];
        result_kind rk = run_test(tc, msg, sizeof msg);
        if (rk != (result_kind)-1) put_record((unsigned char)rk, msg);
        close(fd[1]);
        exit(0); /* not _exit: under ASan, LeakSanitizer checks the child at exit */
    }
    close(fd[1]);
    char buf[2 * (sizeof tc->message + 3) + 1];
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)r;
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    /* records: kind byte, 16-bit length, message; the executor's, then (--backend mqd) the runtime's */
    size_t rec_end[2] = {0, 0};
    int n_rec = 0;
    for (size_t at = 0; n_rec < 2 && at + 3 <= got;) {
        size_t l = (size_t)(unsigned char)buf[at + 1] | (size_t)(unsigned char)buf[at + 2] << 8;
        if (at + 3 + l > got) break;
        rec_end[n_rec++] = at + 3 + l;
        at += 3 + l;
    }
    tc->mqd_result = -1;
    int signaled = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
    if (n_rec >= 1 && backend_mqd && (n_rec == 2 || signaled)) {
        size_t l0 = rec_end[0] - 3;
        tc->result = (result_kind)(unsigned char)buf[0];
        snprintf(tc->message, sizeof tc->message, "%.*s", (int)l0, buf + 3);
        if (n_rec == 2 && !signaled) {
            tc->mqd_result = (unsigned char)buf[rec_end[0]];
            snprintf(tc->mqd_message, sizeof tc->mqd_message, "%.*s", (int)(rec_end[1] - rec_end[0] - 3),
                     buf + rec_end[0] + 3);
        } else {
            int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            tc->mqd_result = sig == SIGALRM ? R_TIMEOUT : R_CRASH;
            snprintf(tc->mqd_message, sizeof tc->mqd_message, "runtime %s",
                     sig ? strsignal(sig) : "child exited with an error (sanitizer?)");
        }
        return;
    }
    if (signaled || n_rec == 0) {
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        tc->result = sig == SIGALRM ? R_TIMEOUT : R_CRASH;
        if (sig == SIGALRM)
            snprintf(tc->message, sizeof tc->message, "timed out after %d s", timeout_s);
        else if (sig)
            snprintf(tc->message, sizeof tc->message, "killed by signal %d (%s)", sig, strsignal(sig));
        else
            snprintf(tc->message, sizeof tc->message, "child exited with status %d%s", WEXITSTATUS(status),
                     WEXITSTATUS(status) == 23 ? " (LeakSanitizer found a leak)" : "");
        return;
    }
    tc->result = (result_kind)(unsigned char)buf[0];
    snprintf(tc->message, sizeof tc->message, "%.*s", (int)(rec_end[0] - 3), buf + 3);
}

/* ==== --backend c (issue 3, tests/emit): the emitted C, compiled and run ===========================
 * For each test the executor passed: a child imports the model as run_test does, builds the program
 * with the C backend's options, emits model.c with main(), writes the data sets' inputs as .npy, and
 * runs the same model as a .mqd on the runtime, keeping its raw output bytes. The parent then compiles
 * every model.c with `cc -std=c99 -O1 -Wall -Wextra -Werror -pedantic` (c_jobs at a time), runs each
 * program on each set, compares with the expected outputs (the executor's tolerances) and byte for
 * byte with the runtime's outputs (same kernels, same order: they must be identical). */
static int backend_c;              /* --backend c */
static const char *c_cc = "cc";    /* --c-cc */
static int c_jobs = 2;             /* --c-jobs */
static const char *c_dir_opt;      /* --c-dir: keep every emitted file there */
static char c_root[1024];

typedef struct c_result {
    int result;        /* a result_kind, -1: not tried (the executor did not pass) */
    char message[600];
    int n_sets;
    int same_bytes;    /* 1: every output identical to the runtime's; 0: some differ; -1: not compared */
} c_result;
static c_result *c_res;

static void c_path(char *buf, size_t n, int i, const char *fmt, int a, int b)
{
    int l = snprintf(buf, n, "%s/t%04d/", c_root, i);
    if (l > 0 && (size_t)l < n) snprintf(buf + l, n - (size_t)l, fmt, a, b);
}

static void c_rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) c_rm_tree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* In the child: write prep.txt ("<kind>\n<message>") in the test's folder. */
static void c_put_prep(int i, result_kind rk, const char *msg)
{
    char p[1400];
    c_path(p, sizeof p, i, "prep.txt", 0, 0);
    FILE *f = fopen(p, "w");
    if (f) {
        fprintf(f, "%d\n%s", (int)rk, msg);
        fclose(f);
    }
}

/* In the child: the runtime's outputs for every set, as raw bytes s<S>_mqd<K>.bin (none if the .mqd
 * path fails: the bit-for-bit check is then skipped and the mqd backend reports that failure). */
static void c_runtime_outputs(int i, const test_case *tc, const backend_graph *bg, int n_test_in)
{
    const mq_graph *g = bg->g;
    mq_program prog;
    mq_err err = {0};
    if (mq_program_build(g, NULL, &prog, &err) != MQ_OK) return;
    void *bytes = NULL;
    size_t len = 0;
    mq_status st = mq_mqd_write(&prog, &bytes, &len, &err);
    mq_program_free(&prog);
    if (st != MQ_OK) return;
    void *buf = aligned_alloc(16, (len + 15) / 16 * 16 + 16), *arena = NULL;
    if (!buf) {
        mq_free(bytes);
        return;
    }
    memcpy(buf, bytes, len);
    mq_free(bytes);
    mqr_model m;
    if (mqr_load(&m, buf, len) == MQR_OK) arena = aligned_alloc(16, (mqr_arena_size(&m) + 15) / 16 * 16 + 16);
    for (int s = 0; arena && s < MAX_SETS; s++) {
        char sdir[1300];
        snprintf(sdir, sizeof sdir, "%s/test_data_set_%d", tc->dir, s);
        if (!file_exists(sdir)) break;
        mq_tensor in[MAX_IO];
        memset(in, 0, sizeof in);
        const void *ins[MAX_IO] = {0};
        void *outs[MAX_IO] = {0};
        char msg[600];
        int ok = backend_inputs(tc, bg, n_test_in, s, in, msg, sizeof msg) == g->n_inputs;
        for (int k = 0; k < g->n_inputs && ok; k++) ins[k] = in[k].data;
        for (int k = 0; k < g->n_outputs && ok; k++) {
            mqr_io_info info;
            mqr_output_info(&m, (uint32_t)k, &info);
            outs[k] = calloc(1, info.bytes + 1);
            ok = outs[k] != NULL;
        }
        if (ok) ok = mqr_run(&m, arena, ins, outs) == MQR_OK;
        for (int k = 0; k < g->n_outputs && ok; k++) {
            mqr_io_info info;
            char p[1400];
            mqr_output_info(&m, (uint32_t)k, &info);
            int32_t actual[MQR_MAX_RANK];
            size_t nb = mqr_dtype_size(info.dtype);
            mqr_output_dims(&m, arena, (uint32_t)k, actual); /* the actual elements of a bounded output */
            for (int d = 0; d < info.rank; d++) nb *= (size_t)actual[d];
            c_path(p, sizeof p, i, "s%d_mqd%d.bin", s, k);
            FILE *f = fopen(p, "wb");
            if (f) {
                if (nb) fwrite(outs[k], 1, nb, f);
                fclose(f);
            }
        }
        for (int k = 0; k < MAX_IO; k++) {
            mq_tensor_free_data(&in[k]);
            free(outs[k]);
        }
    }
    free(arena);
    free(buf);
}

/* In the child: import, build, emit, write the inputs as .npy. */
static void c_prepare(int i, const test_case *tc)
{
    char path[1200], msg[600] = {0};
    snprintf(path, sizeof path, "%s/model.onnx", tc->dir);
    mq_import_opts opts = {0};
    mq_import_result res = {0};
    mq_err err = {0};
    mq_status st = import_for_first_set(tc, path, &opts, NULL, NULL, &res, &err);
    if (st != MQ_OK) {
        snprintf(msg, sizeof msg, "import: %s", err.msg);
        c_put_prep(i, R_FAIL, msg);
        mq_import_result_free(&res);
        return;
    }
    backend_graph bg;
    st = backend_graph_make(tc, res.graph, &bg, &err);
    if (st != MQ_OK) {
        snprintf(msg, sizeof msg, "freezing the shape-defining inputs: %s", err.msg);
        c_put_prep(i, st == MQ_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL, msg);
        backend_graph_free(&bg);
        mq_import_result_free(&res);
        return;
    }
    const mq_graph *g = bg.g;
    int n_test_in = res.graph->n_inputs;
    mq_program prog;
    mq_program_opts po;
    mq_emit_c_program_opts(&po);
    st = mq_program_build(g, &po, &prog, &err);
    if (st != MQ_OK) {
        snprintf(msg, sizeof msg, "compile: %s", err.msg);
        c_put_prep(i, st == MQ_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL, msg);
        backend_graph_free(&bg);
        mq_import_result_free(&res);
        return;
    }
    mq_emit_c_opts eo;
    mq_emit_c_opts_init(&eo);
    eo.prefix = "model";
    eo.header_name = "model.h";
    eo.source_name = tc->name;
    eo.with_main = 1;
    char cp[1400], hp[1400];
    c_path(cp, sizeof cp, i, "model.c", 0, 0);
    c_path(hp, sizeof hp, i, "model.h", 0, 0);
    result_kind rk = R_PASS;
    if (mq_emit_c_files(&prog, &eo, cp, hp, &err) != MQ_OK) {
        snprintf(msg, sizeof msg, "emit: %s", err.msg);
        rk = err.code == MQ_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
    }
    int s = 0;
    for (; rk == R_PASS && s < MAX_SETS; s++) {
        char sdir[1300];
        snprintf(sdir, sizeof sdir, "%s/test_data_set_%d", tc->dir, s);
        if (!file_exists(sdir)) break;
        mq_tensor in[MAX_IO];
        memset(in, 0, sizeof in);
        if (backend_inputs(tc, &bg, n_test_in, s, in, msg, sizeof msg) != g->n_inputs) rk = R_UNSUPPORTED;
        for (int k = 0; k < g->n_inputs && rk == R_PASS; k++) {
            char q[1400];
            mq_err e2 = {0};
            const mq_prog_tensor *pt = &prog.tensors[prog.inputs[k]];
            c_path(q, sizeof q, i, "s%d_in%d.npy", s, k);
            if ((int32_t)in[k].dtype != pt->dtype || mq_nbytes(&in[k]) != pt->bytes) {
                snprintf(msg, sizeof msg, "set %d input %d: not the compiled shape/dtype", s, k);
                rk = R_UNSUPPORTED;
            } else if (mq_tensor_write_npy(q, &in[k], &e2) != MQ_OK) {
                snprintf(msg, sizeof msg, "writing %s: %s", q, e2.msg);
                rk = R_FAIL;
            }
        }
        for (int k = 0; k < MAX_IO; k++) mq_tensor_free_data(&in[k]);
    }
    mq_program_free(&prog);
    if (rk == R_PASS) {
        snprintf(msg, sizeof msg, "%d", s);
        c_runtime_outputs(i, tc, &bg, n_test_in);
    }
    c_put_prep(i, rk, msg);
    backend_graph_free(&bg);
    mq_import_result_free(&res);
}

/* Fork, run argv with stdout+stderr to log, alarm after timeout_s. Returns the pid (-1 on failure). */
static pid_t c_spawn(char *const *argv, const char *log)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *lf = freopen(log, "w", stdout);
        if (lf) dup2(fileno(stdout), 2);
        alarm((unsigned)timeout_s);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void c_status_msg(c_result *r, int status, const char *what, const char *log)
{
    char tail[300] = {0};
    FILE *f = fopen(log, "r");
    if (f) {
        size_t n = fread(tail, 1, sizeof tail - 1, f);
        tail[n] = 0;
        for (size_t k = 0; k < n; k++)
            if (tail[k] == '\n') tail[k] = ' ';
        fclose(f);
    }
    if (WIFSIGNALED(status)) {
        r->result = WTERMSIG(status) == SIGALRM ? R_TIMEOUT : R_CRASH;
        snprintf(r->message, sizeof r->message, "%s: %s", what, strsignal(WTERMSIG(status)));
    } else {
        r->result = R_FAIL;
        snprintf(r->message, sizeof r->message, "%s: exit %d: %s", what, WEXITSTATUS(status), tail);
    }
}

/* Run the compiled program of test i on every set and compare. */
static void c_check(int i, const test_case *tc, c_result *r)
{
    int n_in = 0, n_out = 0;
    for (; n_in < MAX_IO; n_in++) {
        char p[1400];
        c_path(p, sizeof p, i, "s0_in%d.npy", n_in, 0);
        if (!file_exists(p)) break;
    }
    for (; n_out < MAX_IO; n_out++) {
        char p[1400];
        snprintf(p, sizeof p, "%s/test_data_set_0/output_%d.pb", tc->dir, n_out);
        if (!file_exists(p)) break;
    }
    r->same_bytes = -1;
    for (int s = 0; s < r->n_sets && r->result == R_PASS; s++) {
        char exe[1400], odir[1400], log[1400], ins[MAX_IO][1400];
        char *argv[MAX_IO + 5];
        int a = 0;
        c_path(exe, sizeof exe, i, "model", 0, 0);
        c_path(odir, sizeof odir, i, "out%d", s, 0);
        c_path(log, sizeof log, i, "run%d.log", s, 0);
        argv[a++] = exe;
        for (int k = 0; k < n_in; k++) {
            c_path(ins[k], sizeof ins[k], i, "s%d_in%d.npy", s, k);
            argv[a++] = ins[k];
        }
        argv[a++] = "-o";
        argv[a++] = odir;
        argv[a] = NULL;
        mkdir(odir, 0777);
        int status = 0;
        pid_t pid = c_spawn(argv, log);
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            c_status_msg(r, status, "run", log);
            break;
        }
        for (int k = 0; k < n_out && r->result == R_PASS; k++) {
            char p[1400], q[1400], b[1400], cm[400];
            mq_tensor got = {0}, want = {0};
            mq_err e2 = {0};
            snprintf(p, sizeof p, "%s/test_data_set_%d/output_%d.pb", tc->dir, s, k);
            snprintf(q, sizeof q, "%s/output_%d.npy", odir, k);
            if (mq_tensor_read_file(q, &got, &e2) != MQ_OK) {
                snprintf(r->message, sizeof r->message, "set %d output %d: %s", s, k, e2.msg);
                r->result = R_FAIL;
            } else if (mq_tensor_read_file_as(p, tc->out_type[k], &want, &e2) != MQ_OK) {
                snprintf(r->message, sizeof r->message, "reading %s: %s", p, e2.msg);
                r->result = R_FAIL;
            } else if (!compare(&got, &want, cm, sizeof cm)) {
                snprintf(r->message, sizeof r->message, "set %d output %d: %s", s, k, cm);
                r->result = R_FAIL;
            }
            /* byte for byte against the runtime, whether or not the tolerance check passed */
            c_path(b, sizeof b, i, "s%d_mqd%d.bin", s, k);
            void *rb = NULL;
            size_t rl = 0;
            if (got.data && file_exists(b) && mq_read_file(b, (size_t)1 << 31, &rb, &rl, &e2) == MQ_OK) {
                int same = rl == mq_nbytes(&got) && (rl == 0 || memcmp(rb, got.data, rl) == 0);
                if (r->same_bytes != 0) r->same_bytes = same;
                mq_free(rb);
            } /* else: the runtime gave no bytes to compare (its own failure is the mqd backend's) */
            mq_tensor_free_data(&got);
            mq_tensor_free_data(&want);
        }
    }
}

/* All three phases; called after the executor pass over every test. */
static void c_backend_run(void)
{
    c_res = calloc((size_t)n_tests + 1, sizeof *c_res);
    if (!c_res) return;
    if (c_dir_opt) {
        snprintf(c_root, sizeof c_root, "%s", c_dir_opt);
        mkdir(c_root, 0777);
    } else {
        snprintf(c_root, sizeof c_root, "/tmp/maqd-conf-c-XXXXXX");
        if (!mkdtemp(c_root)) {
            fprintf(stderr, "maqd-conformance: cannot create a folder for the emitted C\n");
            return;
        }
    }
    time_t t0 = time(NULL);
    /* 1. emit (a child per test: a crash in the emitter fails only that test) */
    for (int i = 0; i < n_tests; i++) {
        c_result *r = &c_res[i];
        r->result = -1;
        r->same_bytes = -1;
        if (tests[i].result != R_PASS) continue;
        char d[1200], p[1400];
        c_path(d, sizeof d, i, "", 0, 0);
        mkdir(d, 0777);
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            alarm((unsigned)timeout_s);
            c_prepare(i, &tests[i]);
            exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        c_path(p, sizeof p, i, "prep.txt", 0, 0);
        FILE *f = fopen(p, "r");
        int k = -1;
        if (f && fscanf(f, "%d", &k) == 1 && k >= 0 && k < R_NCAT) {
            r->result = k;
            int ch = fgetc(f);
            (void)ch;
            size_t n = fread(r->message, 1, sizeof r->message - 1, f);
            r->message[n] = 0;
        } else {
            r->result = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? R_TIMEOUT : R_CRASH;
            snprintf(r->message, sizeof r->message, "emitting: %s",
                     WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "the child wrote no result");
        }
        if (f) fclose(f);
        if (r->result == R_PASS) {
            r->n_sets = atoi(r->message);
            r->message[0] = 0;
        }
    }
    time_t t1 = time(NULL);
    /* 2. compile, c_jobs at a time */
    pid_t running[64] = {0};
    int which[64], n_run = 0, next = 0, jobs = c_jobs < 1 ? 1 : c_jobs > 64 ? 64 : c_jobs;
    for (;;) {
        while (n_run < jobs && next < n_tests) {
            int i = next++;
            if (c_res[i].result != R_PASS) continue;
            char src[1400], exe[1400], log[1400];
            c_path(src, sizeof src, i, "model.c", 0, 0);
            c_path(exe, sizeof exe, i, "model", 0, 0);
            c_path(log, sizeof log, i, "cc.log", 0, 0);
            char *argv[] = {(char *)c_cc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", exe, src,
                            "-lm", NULL};
            pid_t pid = c_spawn(argv, log);
            if (pid < 0) {
                c_res[i].result = R_FAIL;
                snprintf(c_res[i].message, sizeof c_res[i].message, "cannot start %s", c_cc);
                continue;
            }
            for (int s = 0; s < jobs; s++)
                if (!running[s]) {
                    running[s] = pid;
                    which[s] = i;
                    break;
                }
            n_run++;
        }
        if (!n_run) break;
        int status = 0;
        pid_t pid = wait(&status);
        if (pid < 0) break;
        for (int s = 0; s < jobs; s++)
            if (running[s] == pid) {
                running[s] = 0;
                n_run--;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    char log[1400];
                    c_path(log, sizeof log, which[s], "cc.log", 0, 0);
                    c_status_msg(&c_res[which[s]], status, "cc", log);
                }
            }
    }
    time_t t2 = time(NULL);
    /* 3. run and compare; the folders of passing tests are removed unless --c-dir */
    for (int i = 0; i < n_tests; i++) {
        c_result *r = &c_res[i];
        if (r->result == R_PASS) c_check(i, &tests[i], r);
        if (!c_dir_opt && r->result >= 0 && (r->result == R_PASS || r->result == R_UNSUPPORTED) && r->same_bytes != 0) {
            char d[1200];
            c_path(d, sizeof d, i, "", 0, 0);
            c_rm_tree(d);
        }
    }
    time_t t3 = time(NULL);
    printf("\nbackend c: emit %lds, compile %lds (%s, %d jobs), run %lds; files in %s\n", (long)(t1 - t0),
           (long)(t2 - t1), c_cc, jobs, (long)(t3 - t2), c_root);
}

/* Per-test lines and the summary; returns the count of C failures (a test the executor passes whose
 * every node lowers must pass as C and agree with the runtime bit for bit). */
static int c_backend_report(int quiet)
{
    if (!c_res) return 1;
    int c[R_NCAT] = {0}, same = 0, differ = 0, unknown = 0, n_exec = 0;
    for (int i = 0; i < n_tests; i++) {
        c_result *r = &c_res[i];
        if (r->result < 0) continue;
        n_exec++;
        c[r->result]++;
        if (r->result == R_PASS || r->result == R_FAIL) {
            if (r->same_bytes == 1) same++;
            else if (r->same_bytes == 0) differ++;
            else unknown++;
        }
        int show = verbose || (!quiet && ((r->result != R_PASS && r->result != R_UNSUPPORTED) || r->same_bytes == 0));
        if (show)
            printf("c %-9s %s/%s%s%s%s\n", kind_name[r->result], tests[i].folder, tests[i].name,
                   r->same_bytes == 0 ? " (differs from the runtime)" : "", r->message[0] ? ": " : "", r->message);
    }
    printf("%-20s %6s %6s %6s %6s %6s  (of the %d tests the executor passed)\n", "backend", "pass", "fail", "unsup",
           "crash", "tmout", n_exec);
    printf("%-20s %6d %6d %6d %6d %6d\n", "c", c[R_PASS], c[R_FAIL], c[R_UNSUPPORTED], c[R_CRASH], c[R_TIMEOUT]);
    printf("c vs runtime (.mqd): %d identical bytes, %d differ, %d not compared\n", same, differ, unknown);
    if (!differ && !c[R_FAIL] && !c[R_CRASH] && !c[R_TIMEOUT] && !c_dir_opt) rmdir(c_root);
    free(c_res);
    c_res = NULL;
    return c[R_FAIL] + c[R_CRASH] + c[R_TIMEOUT] + differ;
}
/* ==== end of --backend c ========================================================================= */

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void collect(const char *root, const char *folder, const char *filter)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, folder);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "maqd-conformance: cannot open %s: %s\n", dir, strerror(errno));
        return;
    }
    char *names[MAX_TESTS];
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)) && k < MAX_TESTS) {
        if (e->d_name[0] == '.') continue;
        char full[1500];
        snprintf(full, sizeof full, "%s/%s/model.onnx", dir, e->d_name);
        if (!file_exists(full)) continue;
        char id[300];
        snprintf(id, sizeof id, "%s/%s", folder, e->d_name);
        if (filter && !strstr(id, filter)) continue;
        names[k++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)k, sizeof names[0], cmp_names);
    for (int i = 0; i < k; i++) {
        if (n_tests < MAX_TESTS) {
            test_case *tc = &tests[n_tests++];
            memset(tc, 0, sizeof *tc);
            snprintf(tc->folder, sizeof tc->folder, "%s", folder);
            snprintf(tc->name, sizeof tc->name, "%s", names[i]);
            snprintf(tc->dir, sizeof tc->dir, "%s/%s", dir, names[i]);
        }
        free(names[i]);
    }
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: maqd-conformance [options]\n"
            "Runs the ONNX backend conformance tests through the reference executor.\n"
            "  --root DIR          test data root (default " DEFAULT_ROOT ")\n"
            "  --folder NAME       only this folder (repeatable; default node simple pytorch-converted pytorch-operator)\n"
            "  --filter STR        only tests whose folder/name contains STR\n"
            "  --expected FILE     list of folder/test expected to pass: any of them not passing fails the run\n"
            "  --write-passing FILE  write the tests that passed (to update the expected list)\n"
            "  --json FILE         write a machine-readable summary\n"
            "  --timeout S         per-test timeout in seconds (default 120)\n"
            "  --backend mqd       also compile each test the executor passes to .mqd (in memory), run it on\n"
            "                      the runtime and compare with the expected outputs; prints pass counts per\n"
            "                      backend (the exit status still follows the executor and --expected)\n"
            "  --expected-mqd FILE  list of folder/test expected to pass on the .mqd runtime (implies --backend\n"
            "                      mqd): any of them not passing there fails the run\n"
            "  --write-passing-mqd FILE  write the tests that passed on the .mqd runtime\n"
            "  --backend c         also emit each test the executor passes as C with main(), compile it with\n"
            "                      --c-cc (default cc) -std=c99 -O1 -Wall -Wextra -Werror -pedantic, --c-jobs at a\n"
            "                      time (default 2), run it on the test's inputs and compare with the expected\n"
            "                      outputs and byte for byte with the runtime's; any C failure fails the run\n"
            "  --c-dir DIR         keep the emitted C of every test in DIR (default: a temporary folder, kept\n"
            "                      only for failing tests)\n"
            "  -v                  print every test; -q prints only the summary\n");
}

int main(int argc, char **argv)
{
    const char *root = DEFAULT_ROOT, *filter = NULL, *expected = NULL, *json = NULL, *write_passing = NULL;
    const char *folders[8];
    int n_folders = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--root") && more) root = argv[++i];
        else if (!strcmp(a, "--folder") && more && n_folders < 8) folders[n_folders++] = argv[++i];
        else if (!strcmp(a, "--filter") && more) filter = argv[++i];
        else if (!strcmp(a, "--expected") && more) expected = argv[++i];
        else if (!strcmp(a, "--write-passing") && more) write_passing = argv[++i];
        else if (!strcmp(a, "--json") && more) json = argv[++i];
        else if (!strcmp(a, "--timeout") && more) timeout_s = atoi(argv[++i]);
        else if (mqd_option(a, more, argv, &i)) continue;
        else if (!strcmp(a, "--backend") && more) {
            const char *b = argv[++i];
            if (!strcmp(b, "mqd")) backend_mqd = 1;
            else if (!strcmp(b, "c")) backend_c = 1;
            else if (strcmp(b, "exec") != 0) {
                fprintf(stderr, "maqd-conformance: unknown backend '%s' (exec, mqd, c)\n", b);
                return 2;
            }
        } else if (!strcmp(a, "--c-cc") && more) c_cc = argv[++i];
        else if (!strcmp(a, "--c-jobs") && more) c_jobs = atoi(argv[++i]);
        else if (!strcmp(a, "--c-dir") && more) c_dir_opt = argv[++i];
        else if (!strcmp(a, "-v")) verbose = 1;
        else if (!strcmp(a, "-q")) quiet = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "maqd-conformance: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!n_folders) {
        folders[0] = "node";
        folders[1] = "simple";
        folders[2] = "pytorch-converted";
        folders[3] = "pytorch-operator";
        n_folders = 4;
    }
    tests = calloc(MAX_TESTS, sizeof *tests);
    if (!tests) return 2;
    for (int f = 0; f < n_folders; f++) collect(root, folders[f], filter);
    if (n_tests == 0) {
        fprintf(stderr, "maqd-conformance: no tests found under %s\n", root);
        return 2;
    }

    /* Expected-pass list. */
    int n_exp = 0;
    if (expected) {
        FILE *ef = fopen(expected, "r");
        if (!ef) {
            fprintf(stderr, "maqd-conformance: cannot open %s: %s\n", expected, strerror(errno));
            return 2;
        }
        exp_names = calloc(MAX_TESTS, sizeof *exp_names);
        char line[512];
        while (fgets(line, sizeof line, ef) && n_exp < MAX_TESTS) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0] || line[0] == '#') continue;
            exp_names[n_exp++] = strdup(line);
        }
        fclose(ef);
    }

    for (int i = 0; i < n_tests; i++) {
        test_case *tc = &tests[i];
        char why[256] = {0};
        if (classify(tc, why, sizeof why)) {
            tc->result = R_EXCLUDED;
            snprintf(tc->message, sizeof tc->message, "out of scope: %s", why);
        } else {
            run_isolated(tc);
        }
        char id[300];
        snprintf(id, sizeof id, "%s/%s", tc->folder, tc->name);
        for (int k = 0; k < n_exp; k++)
            if (!strcmp(exp_names[k], id)) tc->expected = 1;
        if (verbose || (!quiet && (tc->result == R_CRASH || tc->result == R_TIMEOUT ||
                                   (tc->expected && tc->result != R_PASS))))
            printf("%-11s %s%s%s\n", kind_name[tc->result], id, tc->message[0] ? ": " : "", tc->message);
        if (backend_mqd && tc->mqd_result >= 0 &&
            (verbose || (!quiet && tc->mqd_result != R_PASS && tc->mqd_result != R_UNSUPPORTED)))
            printf("mqd %-7s %s%s%s\n", kind_name[tc->mqd_result], id, tc->mqd_message[0] ? ": " : "",
                   tc->mqd_message);
    }

    if (backend_c) c_backend_run(); /* --backend c: emit, compile and run every test the executor passed */

    /* Per-folder table. */
    printf("\n%-20s %6s %6s %6s %6s %6s %6s %6s\n", "folder", "pass", "fail", "unsup", "crash", "tmout",
           "excl", "pass%");
    int total[R_NCAT] = {0};
    for (int f = 0; f < n_folders; f++) {
        int c[R_NCAT] = {0};
        for (int i = 0; i < n_tests; i++)
            if (!strcmp(tests[i].folder, folders[f])) c[tests[i].result]++;
        int in_scope = c[R_PASS] + c[R_FAIL] + c[R_UNSUPPORTED] + c[R_CRASH] + c[R_TIMEOUT];
        printf("%-20s %6d %6d %6d %6d %6d %6d %5.1f%%\n", folders[f], c[R_PASS], c[R_FAIL], c[R_UNSUPPORTED],
               c[R_CRASH], c[R_TIMEOUT], c[R_EXCLUDED], in_scope ? 100.0 * c[R_PASS] / in_scope : 0.0);
        for (int k = 0; k < R_NCAT; k++) total[k] += c[k];
    }
    int in_scope = total[R_PASS] + total[R_FAIL] + total[R_UNSUPPORTED] + total[R_CRASH] + total[R_TIMEOUT];
    printf("%-20s %6d %6d %6d %6d %6d %6d %5.1f%%\n", "total", total[R_PASS], total[R_FAIL],
           total[R_UNSUPPORTED], total[R_CRASH], total[R_TIMEOUT], total[R_EXCLUDED],
           in_scope ? 100.0 * total[R_PASS] / in_scope : 0.0);

    /* Per-op table (a test counts for every op type its model uses). */
    if (!quiet) {
        printf("\n%-28s %6s %6s %6s %6s\n", "op", "pass", "fail", "unsup", "other");
        char seen[512][64];
        int n_seen = 0;
        for (int i = 0; i < n_tests; i++)
            for (int k = 0; k < tests[i].n_ops; k++) {
                int dup = 0;
                for (int s = 0; s < n_seen; s++)
                    if (!strcmp(seen[s], tests[i].ops[k])) dup = 1;
                if (!dup && n_seen < 512) snprintf(seen[n_seen++], 64, "%s", tests[i].ops[k]);
            }
        qsort(seen, (size_t)n_seen, sizeof seen[0], (int (*)(const void *, const void *))strcmp);
        for (int s = 0; s < n_seen; s++) {
            int c[R_NCAT] = {0};
            for (int i = 0; i < n_tests; i++)
                for (int k = 0; k < tests[i].n_ops; k++)
                    if (!strcmp(tests[i].ops[k], seen[s])) c[tests[i].result]++;
            if (c[R_EXCLUDED] && !c[R_PASS] && !c[R_FAIL] && !c[R_UNSUPPORTED]) continue;
            printf("%-28s %6d %6d %6d %6d\n", seen[s], c[R_PASS], c[R_FAIL], c[R_UNSUPPORTED],
                   c[R_CRASH] + c[R_TIMEOUT]);
        }
    }

    if (json) {
        FILE *jf = fopen(json, "w");
        if (jf) {
            fprintf(jf, "{\n  \"totals\": {");
            for (int k = 0; k < R_NCAT; k++) fprintf(jf, "%s\"%s\": %d", k ? ", " : "", kind_name[k], total[k]);
            fprintf(jf, "},\n  \"tests\": [\n");
            for (int i = 0; i < n_tests; i++) {
                fprintf(jf, "    {\"folder\": ");
                json_str(jf, tests[i].folder);
                fprintf(jf, ", \"name\": ");
                json_str(jf, tests[i].name);
                fprintf(jf, ", \"result\": \"%s\", \"message\": ", kind_name[tests[i].result]);
                json_str(jf, tests[i].message);
                fprintf(jf, ", \"ops\": [");
                for (int k = 0; k < tests[i].n_ops; k++) {
                    if (k) fputs(", ", jf);
                    json_str(jf, tests[i].ops[k]);
                }
                fprintf(jf, "]}%s\n", i + 1 < n_tests ? "," : "");
            }
            fprintf(jf, "  ]\n}\n");
            fclose(jf);
        } else {
            fprintf(stderr, "maqd-conformance: cannot write %s\n", json);
        }
    }
    if (write_passing) {
        FILE *wf = fopen(write_passing, "w");
        if (wf) {
            fprintf(wf, "# Conformance tests expected to pass (folder/test). Regenerate with\n"
                        "#   maqd-conformance --write-passing tests/conformance/expected_pass.txt\n");
            for (int i = 0; i < n_tests; i++)
                if (tests[i].result == R_PASS) fprintf(wf, "%s/%s\n", tests[i].folder, tests[i].name);
            fclose(wf);
        }
    }

    if (backend_mqd) {
        /* per backend, over the tests the executor passed */
        int c[R_NCAT] = {0};
        for (int i = 0; i < n_tests; i++)
            if (tests[i].result == R_PASS && tests[i].mqd_result >= 0 && tests[i].mqd_result < R_NCAT)
                c[tests[i].mqd_result]++;
        printf("\n%-20s %6s %6s %6s %6s %6s  (of the %d tests the executor passed)\n", "backend", "pass", "fail",
               "unsup", "crash", "tmout", total[R_PASS]);
        printf("%-20s %6d %6d %6d %6d %6d\n", "exec", total[R_PASS], 0, 0, 0, 0);
        printf("%-20s %6d %6d %6d %6d %6d\n", "mqd", c[R_PASS], c[R_FAIL], c[R_UNSUPPORTED], c[R_CRASH], c[R_TIMEOUT]);
    }

    int mqd_bad = backend_mqd ? mqd_expected_report(filter) : 0;
    int c_bad = 0;
    if (backend_c) {
        printf("\n");
        c_bad = c_backend_report(quiet);
    }

    int bad = total[R_CRASH] + total[R_TIMEOUT], regress = 0;
    for (int k = 0; k < n_exp; k++) {
        int found = 0;
        for (int i = 0; i < n_tests; i++) {
            char id[300];
            snprintf(id, sizeof id, "%s/%s", tests[i].folder, tests[i].name);
            if (!strcmp(exp_names[k], id)) found = 1;
        }
        if (!found && !filter) {
            printf("regression: %s is expected to pass but was not found\n", exp_names[k]);
            regress++;
        }
    }
    for (int i = 0; i < n_tests; i++)
        if (tests[i].expected && tests[i].result != R_PASS) regress++;
    printf("\n%d passed, %d failed\n", total[R_PASS], total[R_FAIL] + total[R_CRASH] + total[R_TIMEOUT] + total[R_UNSUPPORTED]);
    if (regress) printf("%d expected-pass test(s) regressed\n", regress);
    if (bad) printf("%d test(s) crashed or timed out\n", bad);
    for (int k = 0; k < n_exp; k++) free(exp_names[k]);
    free(exp_names);
    free(tests);
    if (c_bad) printf("%d test(s) failed as emitted C\n", c_bad);
    return (bad || regress || c_bad || mqd_bad) ? 1 : 0;
}
