/* maqdc.c: the maqd command line: `maqdc info`, `maqdc run` (more commands arrive with the backends
 * and fine-tuning). The only place that prints and chooses exit codes. */
#include "core/exec.h"
#include "core/op.h"
#include "backend/plan.h"
#include "core/stats.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"
#include "tools/maqdc_backends.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PINS 64
#define MAX_RUN_IO 256

static void usage_main(FILE *f)
{
    fprintf(f, "usage: maqdc COMMAND [options]\n"
               "       maqdc MODEL.onnx -o OUT.c|OUT.mqd [options]          compile (maqdc compile --help)\n"
               "\n"
               "Commands:\n"
               "  info MODEL.onnx     opset, inputs/outputs, op histogram, parameters, MACs, unsupported ops\n"
               "  run MODEL.onnx      run the model on input tensors with the reference executor\n"
               "  run MODEL.mqd       run a compiled model through the bundled runtime\n"
               "  finetune MODEL.onnx MaQD quantization-aware fine-tuning (writes a standard ONNX model)\n"
               "  eval MODEL.onnx     accuracy, top-5 and per-class accuracy on labelled images\n"
               "  report MODEL.onnx   one HTML page: graph drawing, per-layer costs, arena timeline, fine-tuning log\n"
               "\n"
               "Run 'maqdc COMMAND --help' for a command's options.\n");
}

static void usage_info(FILE *f)
{
    fprintf(f, "usage: maqdc info MODEL.onnx [--shape NAME=DIMS]... [--dot [-o FILE.dot]]\n"
               "\n"
               "Prints the model's opset imports, graph inputs and outputs (dtype and shape), a histogram\n"
               "of op types, the parameter count and bytes, multiply-accumulates per run, and every node\n"
               "whose op, domain or opset version is not supported.\n"
               "\n"
               "  --shape NAME=1x3x224x224   pin graph input NAME's shape (symbolic dims default to 1)\n"
               "  --shape SYM=4              pin every symbolic dimension called SYM\n"
               "  --dot                      write the graph in Graphviz dot instead (stdout, or -o FILE)\n");
    maqdc_usage_limits(f);
}

static void usage_run(FILE *f)
{
    fprintf(f, "usage: maqdc run MODEL.onnx --input FILE [--input FILE]... --output-dir DIR [--shape NAME=DIMS]...\n"
               "\n"
               "Runs the model with the reference executor. Inputs are given in graph-input order, each\n"
               "an ONNX TensorProto (.pb) or a NumPy .npy file. Writes DIR/output_0.pb, output_1.pb, ...\n"
               "(TensorProto) in graph-output order; DIR is created if missing.\n");
    maqdc_usage_limits(f);
}

typedef struct cli {
    const char *model;
    const char *pins[MAX_PINS];
    int n_pins;
    const char *inputs[MAX_RUN_IO];
    int n_inputs;
    const char *out_dir;
    mq_import_opts lim; /* --max-rank, --max-elems, --max-bytes, --max-nodes */
} cli;

/* Parse options shared by the commands; returns 0 ok, 1 help printed, 2 error. */
static int parse(int argc, char **argv, cli *c, int allow_run, void (*usage)(FILE *))
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc, lr;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        } else if ((lr = maqdc_limit_option(argc, argv, &i, &c->lim)) != 0) {
            if (lr < 0) return 2;
        } else if (!strcmp(a, "--shape") && more) {
            if (c->n_pins >= MAX_PINS) {
                fprintf(stderr, "maqdc: too many --shape options (at most %d)\n", MAX_PINS);
                return 2;
            }
            c->pins[c->n_pins++] = argv[++i];
        } else if (!strncmp(a, "--shape=", 8)) {
            if (c->n_pins >= MAX_PINS) {
                fprintf(stderr, "maqdc: too many --shape options (at most %d)\n", MAX_PINS);
                return 2;
            }
            c->pins[c->n_pins++] = a + 8;
        } else if (allow_run && !strcmp(a, "--input") && more) {
            if (c->n_inputs >= MAX_RUN_IO) {
                fprintf(stderr, "maqdc: too many --input options (at most %d)\n", MAX_RUN_IO);
                return 2;
            }
            c->inputs[c->n_inputs++] = argv[++i];
        } else if (allow_run && !strcmp(a, "--output-dir") && more) {
            c->out_dir = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "maqdc: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!c->model) {
            c->model = a;
        } else {
            fprintf(stderr, "maqdc: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!c->model) {
        fprintf(stderr, "maqdc: no model given\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

/* The library's message without trailing newlines (multi-line reports such as the unsupported-ops
 * list end with one), so every report ends with exactly one newline. */
static const char *msg_of(mq_err *err)
{
    size_t n = strnlen(err->msg, sizeof err->msg - 1);
    while (n > 0 && (err->msg[n - 1] == '\n' || err->msg[n - 1] == ' ')) n--;
    err->msg[n] = 0;
    return err->msg;
}

/* One error line naming the file: library messages about files usually start with the path already
 * ("x.npy: .npy header: ..."), so the prefix is added only when it is missing. */
static void print_file_err(const char *file, mq_err *err)
{
    size_t n = strlen(file);
    const char *m = msg_of(err);
    if (!strncmp(m, file, n) && m[n] == ':') fprintf(stderr, "maqdc: %s\n", m);
    else fprintf(stderr, "maqdc: %s: %s\n", file, m);
}

int maqdc_take_dot_args(int *argc, char **argv, const char **out); /* tools/cmd_report.c */
int maqdc_info_dot(const char *model, int n_pins, const char *const *pins, const char *out);

static int cmd_info(int argc, char **argv)
{
    cli c = {0};
    const char *dot_out = NULL;
    int dot = maqdc_take_dot_args(&argc, argv, &dot_out);
    if (dot < 0) return 2;
    int p = parse(argc, argv, &c, 0, usage_info);
    if (p) return p == 1 ? 0 : 2;
    if (dot) return maqdc_info_dot(c.model, c.n_pins, c.pins, dot_out);
    mq_import_opts opts = c.lim;
    opts.n_shapes = c.n_pins;
    opts.shapes = c.pins;
    opts.allow_unsupported = 1;
    mq_import_result res = {0};
    mq_err err = {0};
    mq_status ist = mq_import_onnx_file(c.model, &opts, &res, &err);
    if (ist != MQ_OK) {
        fprintf(stderr, "maqdc: %s%s\n", msg_of(&err), maqdc_limit_hint(ist));
        mq_import_result_free(&res);
        return 1;
    }
    mq_graph *g = res.graph;
    printf("model:      %s\n", c.model);
    printf("graph:      %s\n", g->name);
    printf("producer:   %s\n", g->producer);
    printf("ir_version: %lld\n", (long long)g->ir_version);
    printf("opsets:    ");
    for (int i = 0; i < g->n_opsets; i++)
        printf(" %s=%lld", g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx", (long long)g->opsets[i].version);
    printf("\n\ninputs:\n");
    char buf[256];
    for (int i = 0; i < g->n_inputs; i++) {
        const mq_tensor *t = &g->tensors[g->inputs[i]];
        printf("  %-24s %-8s %s\n", t->name, mq_dtype_name(t->dtype), mq_shape_str(t, buf, sizeof buf));
    }
    printf("outputs:\n");
    for (int i = 0; i < g->n_outputs; i++) {
        const mq_tensor *t = &g->tensors[g->outputs[i]];
        printf("  %-24s %-8s %s\n", t->name, mq_dtype_name(t->dtype), mq_shape_str(t, buf, sizeof buf));
    }
    /* Op histogram, in order of first appearance. */
    printf("\nops (%d nodes):\n", g->n_nodes);
    for (int i = 0; i < g->n_nodes; i++) {
        int first = 1, count = 0;
        for (int j = 0; j < g->n_nodes; j++)
            if (!strcmp(g->nodes[j].op_type, g->nodes[i].op_type) && !strcmp(g->nodes[j].domain, g->nodes[i].domain)) {
                if (j < i) first = 0;
                count++;
            }
        if (first) printf("  %-24s %d\n", g->nodes[i].op_type, count);
    }
    if (res.n_unsupported == 0) {
        mq_graph_stats s;
        mq_graph_stats_compute(g, &s);
        printf("\nparameters: %lld (%lld bytes)\n", (long long)s.params, (long long)s.param_bytes);
        if (s.macs >= 0) printf("MACs:       %lld\n", (long long)s.macs);
        else printf("MACs:       unknown (shapes known only at run time)\n");
        /* memory plan (backend/plan.h): one arena for every intermediate, outputs included */
        mq_plan plan;
        mq_err perr = {0};
        if (mq_plan_memory(g, NULL, &plan, &perr) == MQ_OK)
            printf("arena:      %zu bytes (sum of intermediates %zu, largest %zu)\n", plan.arena_bytes,
                   plan.sum_bytes, plan.largest_bytes);
        else
            printf("arena:      not static: %s\n", perr.msg);
        mq_plan_free(&plan);
        maqdc_info_program(g, stdout); /* tools/maqdc_compile.c */
        if (g->dynamic) printf("note: some shapes are known only at run time\n");
    }
    if (res.notes) printf("\nnotes:\n%s", res.notes);
    int rc = 0;
    if (res.n_unsupported) {
        printf("\nunsupported (%d):\n%s", res.n_unsupported, res.unsupported);
        fprintf(stderr, "maqdc: %s: %d unsupported node(s), listed above\n", c.model, res.n_unsupported);
        rc = 1;
    }
    mq_import_result_free(&res);
    return rc;
}

/* The output folder may be missing (created after a successful run) but must not be something else;
 * checked before any work so a wrong path fails at once. */
static int check_out_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "maqdc: %s: output dir exists and is not a directory\n", dir);
        return -1;
    }
    return 0;
}

int maqdc_ensure_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        fprintf(stderr, "maqdc: %s: output dir exists and is not a directory\n", dir);
        return -1;
    }
    if (mkdir(dir, 0777) != 0) {
        fprintf(stderr, "maqdc: %s: cannot create the output dir: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    cli c = {0};
    int p = parse(argc, argv, &c, 1, usage_run);
    if (p) return p == 1 ? 0 : 2;
    if (!c.out_dir) {
        fprintf(stderr, "maqdc run: --output-dir is required\n");
        return 2;
    }
    if (maqdc_is_mqd(c.model)) { /* a compiled model: the runtime (tools/maqdc_compile.c) */
        if (c.n_pins) {
            fprintf(stderr, "maqdc run: --shape does not apply to a compiled .mqd (shapes were fixed at compile time)\n");
            return 2;
        }
        return maqdc_run_mqd(c.model, c.n_inputs, c.inputs, c.out_dir, c.lim.max_bytes);
    }
    mq_import_opts opts = c.lim;
    opts.n_shapes = c.n_pins;
    opts.shapes = c.pins;
    mq_import_result res = {0};
    mq_err err = {0};
    int rc = 1;
    mq_tensor in[MAX_RUN_IO], *out = NULL;
    memset(in, 0, sizeof in);
    int n_written = 0;
    if (check_out_dir(c.out_dir)) goto done;
    for (int i = 0; i < c.n_inputs; i++) {
        if (mq_tensor_read_file(c.inputs[i], &in[i], &err) != MQ_OK) {
            print_file_err(c.inputs[i], &err);
            goto done;
        }
    }
    /* symbolic input dims are pinned from the input files' shapes */
    mq_status ist = mq_import_onnx_for_inputs(c.model, &opts, in, c.n_inputs, &res, &err);
    if (ist != MQ_OK) {
        fprintf(stderr, "maqdc: %s%s\n", msg_of(&err), maqdc_limit_hint(ist));
        goto done;
    }
    mq_graph *g = res.graph;
    if (c.n_inputs != g->n_inputs) {
        fprintf(stderr, "maqdc: %s: the model has %d input(s), %d --input given\n", c.model, g->n_inputs, c.n_inputs);
        goto done;
    }
    out = calloc((size_t)g->n_outputs + 1, sizeof *out);
    if (!out) {
        fprintf(stderr, "maqdc: out of memory\n");
        goto done;
    }
    if (mq_exec_run(g, in, out, &err) != MQ_OK) {
        /* "input K 'x': dtype/shape ..." is about an input file: name it too */
        int k = -1;
        if (sscanf(err.msg, "input %d '", &k) == 1 && k >= 0 && k < c.n_inputs)
            fprintf(stderr, "maqdc: %s: %s (from %s)\n", c.model, msg_of(&err), c.inputs[k]);
        else
            fprintf(stderr, "maqdc: %s: %s\n", c.model, msg_of(&err));
        goto done;
    }
    if (maqdc_ensure_dir(c.out_dir)) goto done;
    for (int i = 0; i < g->n_outputs; i++) {
        char path[4096];
        int pl = snprintf(path, sizeof path, "%s/output_%d.pb", c.out_dir, i);
        if (pl < 0 || (size_t)pl >= sizeof path) {
            fprintf(stderr, "maqdc: %s: output dir path too long\n", c.out_dir);
            goto done;
        }
        out[i].name = g->tensors[g->outputs[i]].name;
        if (mq_tensor_write_pb(path, &out[i], &err) != MQ_OK) {
            print_file_err(path, &err);
            goto done;
        }
        n_written++;
    }
    for (int i = 0; i < g->n_outputs; i++) { /* only once every output is written */
        char sh[256];
        printf("%s: %s %s -> %s/output_%d.pb\n", out[i].name, mq_dtype_name(out[i].dtype),
               mq_shape_str(&out[i], sh, sizeof sh), c.out_dir, i);
    }
    rc = 0;
done:
    /* a failed run leaves no outputs behind (only ours: output_0.pb .. output_{n_written-1}.pb) */
    for (int i = 0; rc && i < n_written; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/output_%d.pb", c.out_dir, i);
        remove(path);
    }
    for (int i = 0; i < MAX_RUN_IO; i++) mq_tensor_free_data(&in[i]);
    if (out && res.graph)
        for (int i = 0; i < res.graph->n_outputs; i++) {
            out[i].name = NULL;
            mq_tensor_free_data(&out[i]);
        }
    free(out);
    mq_import_result_free(&res);
    return rc;
}

int maqdc_finetune_main(const char *cmd, int argc, char **argv); /* tools/cmd_finetune.c */
int maqdc_report(int argc, char **argv);                          /* tools/cmd_report.c */
int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage_main(stdout);
        return 0;
    }
    if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "finetune") || !strcmp(cmd, "eval")) return maqdc_finetune_main(cmd, argc - 2, argv + 2);
    if (!strcmp(cmd, "report")) return maqdc_report(argc - 2, argv + 2);
    if (!strcmp(cmd, "compile")) return maqdc_compile(argc - 2, argv + 2); /* maqdc compile MODEL -o OUT */
    if (!strcmp(cmd, "-o") || !strcmp(cmd, "--output")) return maqdc_compile(argc - 1, argv + 1);
    for (int i = 2; i < argc; i++) /* maqdc MODEL -o OUT: compile (tools/maqdc_compile.c) */
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) return maqdc_compile(argc - 1, argv + 1);
    fprintf(stderr, "maqdc: unknown command '%s'\n", cmd);
    usage_main(stderr);
    return 2;
}
