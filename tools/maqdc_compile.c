/* maqdc_compile.c: the backend commands of maqdc: `maqdc MODEL -o OUT` (OUT.mqd: packed binary; one
 * branch per output kind), `maqdc run MODEL.mqd` through the runtime, and the program lines of `info`. */
#include "tools/maqdc_backends.h"

#include "backend/emit_c.h"
#include "backend/mqd_write.h"
#include "backend/program.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"
#include "passes/int_lower.h"
#include "passes/int_onnx.h"
#include "runtime/maqdrt.h"
#include "train/train.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PINS 64
#define MAX_CONSTS 64
#define MAX_IO 256
#define MAX_MQD_BYTES ((size_t)1 << 32)

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int maqdc_is_mqd(const char *path) { return ends_with(path, ".mqd"); }

/* The library's message without trailing newlines or spaces. */
static const char *msg_of(mq_err *err)
{
    size_t n = strnlen(err->msg, sizeof err->msg - 1);
    while (n > 0 && (err->msg[n - 1] == '\n' || err->msg[n - 1] == ' ')) n--;
    err->msg[n] = 0;
    return err->msg;
}

void maqdc_usage_compile(FILE *f)
{
    fprintf(f, "usage: maqdc MODEL.onnx -o OUT.mqd [--shape NAME=DIMS]... [--const NAME=FILE]...\n"
               "\n"
               "Compiles the model for the bundled runtime: every node is lowered to a runtime kernel, one\n"
               "arena is planned for the intermediates, and OUT.mqd (the packed binary, docs/MQD_FORMAT.md)\n"
               "is written atomically. Run it with `maqdc run OUT.mqd --input ... --output-dir DIR`.\n"
               "Nodes without a runtime kernel are listed together, one per line.\n"
               "\n"
               "  --shape NAME=1x3x224x224   pin graph input NAME's shape (symbolic dims default to 1)\n"
               "  --shape SYM=4              pin every symbolic dimension called SYM\n"
               "  --const NAME=FILE          freeze graph input NAME to the tensor in FILE (.pb or .npy, the\n"
               "                             input's dtype and shape): it leaves the compiled API and its value\n"
               "                             fixes shapes and parameters. A model whose shapes depend on input\n"
               "                             values names those inputs when it cannot be compiled.\n");
    maqdc_usage_limits(f);
    fprintf(f, "\n"
               "maqdc MODEL.onnx -o OUT.c [--prefix NAME] [--arena=caller] [--main] [--shape ...]\n"
               "  writes OUT.c (C99: the kernels the model uses, its weights, NAME_run()) and OUT.h (NAME_run's\n"
               "  prototype, NAME_IN0_DIMS/_SIZE... per input and output, NAME_ARENA_BYTES).\n"
               "  --prefix NAME     API prefix (default: OUT's file name as a C identifier)\n"
               "  --arena=caller    NAME_run takes `void *arena` of NAME_ARENA_BYTES (default: a static array)\n"
               "  --main            add main(): ./prog in0.npy ... [-o DIR] writes DIR/output_0.npy ...\n"
               "\n"
               "  --int             lower a fine-tuned MaQD model to integers first (docs/INTEGER.md): uint8 input,\n"
               "                    packed weight codes, thresholds, float logits out\n"
               "  --scale S --mean M --std D   with --int: the float input the model was trained on is\n"
               "                    (p / S - M) / D of the uint8 input p (255, 0, 1; as `maqdc finetune`)\n"
               "  -o OUT.onnx --int  the integer program as standard ONNX (ConvInteger/MatMulInteger on uint8\n"
               "                    weight digits, thresholds counted with GreaterOrEqual): the same codes\n");
}

/* ---- compile ----------------------------------------------------------------------------------- */

/* The .mqd branch of the compile command. */
static int write_mqd(const char *model, const mq_program *p, const char *out)
{
    mq_err err = {0};
    if (mq_mqd_write_file(p, out, &err) != MQ_OK) {
        fprintf(stderr, "maqdc: %s: %s\n", out, msg_of(&err));
        return 1;
    }
    printf("%s -> %s: %d steps, %d weights (%zu bytes), arena %zu bytes\n", model, out, p->n_steps, p->n_weights,
           p->weight_bytes, p->arena_bytes);
    return 0;
}

/* The .c branch of the compile command (backend/emit_c.c): OUT.c and OUT.h beside it. */
static int write_c(const char *model, const mq_program *p, const char *out, const char *prefix, int arena_caller,
                   int with_main)
{
    char pfx[80], *h = malloc(strlen(out) + 3);
    if (!h) {
        fprintf(stderr, "maqdc: out of memory\n");
        return 1;
    }
    strcpy(h, out);
    strcpy(h + strlen(h) - 1, "h"); /* OUT ends in ".c" */
    const char *base = strrchr(h, '/');
    mq_emit_c_opts o;
    mq_emit_c_opts_init(&o);
    mq_emit_c_prefix_from_path(out, pfx, sizeof pfx);
    o.prefix = prefix ? prefix : pfx;
    o.header_name = base ? base + 1 : h;
    o.source_name = model;
    o.arena_caller = arena_caller;
    o.with_main = with_main;
    mq_err err = {0};
    int rc = 0;
    if (mq_emit_c_files(p, &o, out, h, &err) != MQ_OK) {
        fprintf(stderr, "maqdc: %s: %s\n", out, msg_of(&err));
        rc = 1;
    } else {
        printf("%s -> %s, %s: %s_run(), %d steps, %d weights (%zu bytes), arena %zu bytes%s\n", model, out, h,
               o.prefix, p->n_steps, p->n_weights, p->weight_bytes, p->arena_bytes,
               arena_caller ? " (caller's)" : " (static)");
    }
    free(h);
    return rc;
}

/* --const NAME=FILE values: cv[k] named NAME (malloc'ed copy), read from FILE. The importer checks
 * NAME, dtype and shape against the model. Returns 0, 2 (not NAME=FILE) or 1 (a file error). */
static int read_consts(const char *const *specs, int n, mq_tensor *cv)
{
    for (int k = 0; k < n; k++) {
        const char *eq = strchr(specs[k], '=');
        if (!eq || eq == specs[k] || !eq[1]) {
            fprintf(stderr, "maqdc: --const '%s': expected NAME=FILE\n", specs[k]);
            return 2;
        }
        mq_err err = {0};
        mq_tensor t = {0};
        if (mq_tensor_read_file(eq + 1, &t, &err) != MQ_OK) {
            const char *msg = msg_of(&err);
            size_t l = strlen(eq + 1);
            if (!strncmp(msg, eq + 1, l) && msg[l] == ':') fprintf(stderr, "maqdc: --const %s\n", msg);
            else fprintf(stderr, "maqdc: --const %s: %s\n", eq + 1, msg);
            return 1;
        }
        char *name = malloc((size_t)(eq - specs[k]) + 1);
        if (!name) {
            mq_tensor_free_data(&t);
            fprintf(stderr, "maqdc: out of memory\n");
            return 1;
        }
        memcpy(name, specs[k], (size_t)(eq - specs[k]));
        name[eq - specs[k]] = 0;
        cv[k] = t;
        cv[k].name = name;
    }
    return 0;
}

int maqdc_compile(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *pins[MAX_PINS], *consts[MAX_CONSTS];
    int n_pins = 0, n_consts = 0;
    const char *c_prefix = NULL; /* .c only: --prefix, --arena=caller, --main */
    int c_arena_caller = 0, c_main = 0, c_opts = 0, to_int = 0;
    mq_int_opts iopts = {0};
    mq_import_opts opts = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc, lr;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            maqdc_usage_compile(stdout);
            return 0;
        } else if ((lr = maqdc_limit_option(argc, argv, &i, &opts)) != 0) {
            if (lr < 0) return 2;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && more) {
            if (!strcmp(argv[i + 1], "--help") || !strcmp(argv[i + 1], "-h")) { /* `maqdc -o --help` */
                maqdc_usage_compile(stdout);
                return 0;
            }
            out = argv[++i];
        } else if ((!strcmp(a, "--const") && more) || !strncmp(a, "--const=", 8)) {
            if (n_consts >= MAX_CONSTS) {
                fprintf(stderr, "maqdc: too many --const options (at most %d)\n", MAX_CONSTS);
                return 2;
            }
            consts[n_consts++] = a[7] == '=' ? a + 8 : argv[++i];
        } else if ((!strcmp(a, "--shape") && more) || !strncmp(a, "--shape=", 8)) {
            if (n_pins >= MAX_PINS) {
                fprintf(stderr, "maqdc: too many --shape options (at most %d)\n", MAX_PINS);
                return 2;
            }
            pins[n_pins++] = a[7] == '=' ? a + 8 : argv[++i];
        } else if ((!strcmp(a, "--prefix") && more) || !strncmp(a, "--prefix=", 9)) {
            c_prefix = a[8] == '=' ? a + 9 : argv[++i];
            c_opts = 1;
        } else if (!strcmp(a, "--arena=caller") || !strcmp(a, "--arena=static")) {
            c_arena_caller = !strcmp(a, "--arena=caller");
            c_opts = 1;
        } else if (!strcmp(a, "--main")) {
            c_main = c_opts = 1;
        } else if (!strcmp(a, "--int")) {
            to_int = 1;
        } else if ((!strcmp(a, "--scale") || !strcmp(a, "--mean") || !strcmp(a, "--std")) && more) {
            char *end;
            float v = strtof(argv[++i], &end);
            if (*end || end == argv[i] || !(v == v) || (a[2] != 'm' && !(v > 0))) {
                fprintf(stderr, "maqdc: %s needs a number%s\n", a, a[2] != 'm' ? " > 0" : "");
                return 2;
            }
            *(a[2] == 's' && a[3] == 'c' ? &iopts.in_scale : a[2] == 'm' ? &iopts.in_mean : &iopts.in_std) = v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "maqdc: unknown or incomplete option '%s'\n", a);
            maqdc_usage_compile(stderr);
            return 2;
        } else if (!model) {
            model = a;
        } else {
            fprintf(stderr, "maqdc: unexpected argument '%s'\n", a);
            maqdc_usage_compile(stderr);
            return 2;
        }
    }
    if (!model || !out) {
        fprintf(stderr, "maqdc: %s\n", !model ? "no model given" : "no output given (-o OUT.mqd)");
        maqdc_usage_compile(stderr);
        return 2;
    }
    /* the output kinds: one branch each (the C emitter adds ".c") */
    enum { OUT_MQD, OUT_C, OUT_ONNX } kind;
    if (ends_with(out, ".mqd")) {
        kind = OUT_MQD;
    } else if (ends_with(out, ".onnx") && to_int) {
        kind = OUT_ONNX;
    } else if (ends_with(out, ".c")) {
        kind = OUT_C;
    } else {
        fprintf(stderr, "maqdc: %s: unknown output kind (use .mqd or .c, or .onnx with --int)\n", out);
        return 2;
    }
    if (c_opts && kind != OUT_C) {
        fprintf(stderr, "maqdc: --prefix, --arena and --main apply to C output (-o OUT.c) only\n");
        return 2;
    }
    mq_program_opts popts;
    mq_program_opts_init(&popts);
    if (kind == OUT_C) mq_emit_c_program_opts(&popts);
    mq_tensor cvals[MAX_CONSTS];
    memset(cvals, 0, sizeof cvals);
    opts.n_shapes = n_pins;
    opts.shapes = pins;
    opts.n_consts = n_consts;
    opts.consts = cvals;
    mq_import_result res = {0};
    mq_program prog;
    memset(&prog, 0, sizeof prog);
    mq_err err = {0};
    int rc = 1;
    if ((rc = read_consts(consts, n_consts, cvals)) != 0) goto done;
    rc = 1;
    mq_status ist = mq_import_onnx_file(model, &opts, &res, &err);
    if (ist != MQ_OK) {
        fprintf(stderr, "maqdc: %s%s\n", msg_of(&err), maqdc_limit_hint(ist));
        goto done;
    }
    if (to_int) {
        mq_int_stats istat;
        if (mq_int_lower(res.graph, &iopts, &istat, &err) != MQ_OK) {
            fprintf(stderr, "maqdc: %s: %s\n", model, msg_of(&err));
            goto done;
        }
        printf("%s: integer program: %d layers (%d quantized, %d with wide integer weights), packed weights %zu bytes, "
               "thresholds %zu bytes",
               model, istat.layers, istat.exact_layers, istat.wide_layers, istat.weight_bytes, istat.threshold_bytes);
        if (istat.adds) printf(", %d residual adds on %d int32 accumulators", istat.adds, istat.acc_layers);
        if (istat.requants) printf(", %d Concat inputs requantized", istat.requants);
        printf("\n");
        if (kind == OUT_ONNX) { /* standard ops (passes/int_onnx.c), the fine-tuning export's writer */
            if (mq_int_to_onnx(res.graph, &err) != MQ_OK || mq_graph_export_onnx(res.graph, out, &err) != MQ_OK) {
                fprintf(stderr, "maqdc: %s: %s\n", model, msg_of(&err));
                goto done;
            }
            printf("%s -> %s: the integer program as standard ONNX, %d nodes\n", model, out, res.graph->n_nodes);
            rc = 0;
            goto done;
        }
    }
    if (mq_program_build(res.graph, &popts, &prog, &err) != MQ_OK) {
        /* the unsupported-nodes report: a header line naming the file, then one line per node */
        fprintf(stderr, "maqdc: %s: %s\n", model, msg_of(&err));
        goto done;
    }
    switch (kind) {
    case OUT_MQD: rc = write_mqd(model, &prog, out); break;
    case OUT_C: rc = write_c(model, &prog, out, c_prefix, c_arena_caller, c_main); break;
    case OUT_ONNX: break; /* written above */
    }
done:
    mq_program_free(&prog);
    mq_import_result_free(&res);
    for (int k = 0; k < n_consts; k++) {
        mq_tensor_free_data(&cvals[k]);
        free((char *)cvals[k].name);
    }
    return rc;
}

/* ---- run a .mqd -------------------------------------------------------------------------------- */


/* Input file k against the model's input k: same dtype and shape. */
static int check_input(const char *model, const char *file, uint32_t k, const mqr_io_info *info,
                       const mq_tensor *t)
{
    int same = t->dtype == (mq_dtype)info->dtype && t->rank == info->rank;
    for (int d = 0; same && d < t->rank; d++) same = t->dims[d] == info->dims[d];
    if (same) return 0;
    mq_tensor want = {.dtype = (mq_dtype)info->dtype, .rank = info->rank};
    for (int d = 0; d < info->rank; d++) want.dims[d] = info->dims[d];
    char a[256], b[256];
    fprintf(stderr, "maqdc: %s: input %u '%s' is %s %s, the model wants %s %s (from %s)\n", model, (unsigned)k,
            info->name, mq_dtype_name(t->dtype), mq_shape_str(t, a, sizeof a), mq_dtype_name(want.dtype),
            mq_shape_str(&want, b, sizeof b), file);
    return -1;
}

int maqdc_run_mqd(const char *model, int n_inputs, const char *const *inputs, const char *out_dir,
                  int64_t max_bytes)
{
    mq_err err = {0};
    void *file = NULL, *buf = NULL, *arena = NULL;
    size_t len = 0;
    mq_tensor in[MAX_IO];
    void *outs[MAX_IO];
    const void *ins[MAX_IO];
    memset(in, 0, sizeof in);
    memset(outs, 0, sizeof outs);
    int rc = 1, n_written = 0;
    uint32_t n_out = 0;
    mqr_model m;
    struct stat st;
    if (stat(out_dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "maqdc: %s: output dir exists and is not a directory\n", out_dir);
        return 1;
    }
    mq_status fst = mq_read_file(model, max_bytes > 0 && (uint64_t)max_bytes < MAX_MQD_BYTES ? (size_t)max_bytes
                                                                                                  : MAX_MQD_BYTES,
                                 &file, &len, &err);
    if (fst != MQ_OK) {
        fprintf(stderr, "maqdc: %s: %s%s\n", model, msg_of(&err), maqdc_limit_hint(fst));
        return 1;
    }
    /* the runtime reads weights in place: give it a 16-byte aligned copy */
    buf = aligned_alloc(16, (len + 15) / 16 * 16 + 16);
    if (!buf) {
        fprintf(stderr, "maqdc: out of memory\n");
        goto done;
    }
    memcpy(buf, file, len);
    mqr_status rs = mqr_load(&m, buf, len);
    if (rs != MQR_OK) {
        fprintf(stderr, "maqdc: %s: %s\n", model, mqr_status_str(rs));
        goto done;
    }
    if ((uint32_t)n_inputs != mqr_input_count(&m) || n_inputs > MAX_IO || mqr_output_count(&m) > MAX_IO) {
        fprintf(stderr, "maqdc: %s: the model has %u input(s), %d --input given\n", model,
                (unsigned)mqr_input_count(&m), n_inputs);
        goto done;
    }
    for (int k = 0; k < n_inputs; k++) {
        mqr_io_info info;
        mqr_input_info(&m, (uint32_t)k, &info);
        if (mq_tensor_read_file_as(inputs[k], info.dtype, &in[k], &err) != MQ_OK) {
            const char *msg = msg_of(&err);
            size_t n = strlen(inputs[k]);
            if (!strncmp(msg, inputs[k], n) && msg[n] == ':') fprintf(stderr, "maqdc: %s\n", msg);
            else fprintf(stderr, "maqdc: %s: %s\n", inputs[k], msg);
            goto done;
        }
        if (check_input(model, inputs[k], (uint32_t)k, &info, &in[k])) goto done;
        ins[k] = in[k].data;
    }
    n_out = mqr_output_count(&m);
    for (uint32_t k = 0; k < n_out; k++) {
        mqr_io_info info;
        mqr_output_info(&m, k, &info);
        outs[k] = malloc(info.bytes ? info.bytes : 1);
        if (!outs[k]) {
            fprintf(stderr, "maqdc: out of memory\n");
            goto done;
        }
    }
    size_t an = mqr_arena_size(&m);
    arena = aligned_alloc(16, (an + 15) / 16 * 16 + 16);
    if (!arena) {
        fprintf(stderr, "maqdc: out of memory for an arena of %zu bytes\n", an);
        goto done;
    }
    rs = mqr_run(&m, arena, ins, outs);
    if (rs != MQR_OK) {
        fprintf(stderr, "maqdc: %s: %s\n", model, mqr_status_str(rs));
        goto done;
    }
    if (maqdc_ensure_dir(out_dir)) goto done;
    for (uint32_t k = 0; k < n_out; k++) {
        mqr_io_info info;
        mqr_output_info(&m, k, &info);
        mq_tensor t = {.name = info.name, .dtype = (mq_dtype)info.dtype, .rank = info.rank, .data = outs[k]};
        int32_t actual[MQR_MAX_RANK];
        mqr_output_dims(&m, arena, k, actual); /* a data-dependent shape: the actual dims */
        for (int d = 0; d < info.rank; d++) t.dims[d] = actual[d];
        char path[4096];
        int pl = snprintf(path, sizeof path, "%s/output_%u.pb", out_dir, (unsigned)k);
        if (pl < 0 || (size_t)pl >= sizeof path) {
            fprintf(stderr, "maqdc: %s: output dir path too long\n", out_dir);
            goto done;
        }
        if (mq_tensor_write_pb(path, &t, &err) != MQ_OK) {
            fprintf(stderr, "maqdc: %s: %s\n", path, msg_of(&err));
            goto done;
        }
        n_written++;
    }
    for (uint32_t k = 0; k < n_out; k++) {
        mqr_io_info info;
        mqr_output_info(&m, k, &info);
        mq_tensor t = {.dtype = (mq_dtype)info.dtype, .rank = info.rank};
        int32_t actual[MQR_MAX_RANK];
        mqr_output_dims(&m, arena, k, actual);
        for (int d = 0; d < info.rank; d++) t.dims[d] = actual[d];
        char sh[256];
        printf("%s: %s %s -> %s/output_%u.pb\n", info.name, mq_dtype_name(t.dtype), mq_shape_str(&t, sh, sizeof sh),
               out_dir, (unsigned)k);
    }
    rc = 0;
done:
    for (int i = 0; rc && i < n_written; i++) { /* a failed run leaves no outputs of ours behind */
        char path[4096];
        snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, i);
        remove(path);
    }
    for (int k = 0; k < MAX_IO; k++) {
        mq_tensor_free_data(&in[k]);
        free(outs[k]);
    }
    free(arena);
    free(buf);
    mq_free(file);
    return rc;
}

/* ---- info -------------------------------------------------------------------------------------- */

void maqdc_info_program(const mq_graph *g, FILE *f)
{
    mq_program p;
    mq_err err = {0};
    if (mq_program_build(g, NULL, &p, &err) != MQ_OK) {
        const char *m = msg_of(&err);
        const char *nl = strchr(m, '\n');
        if (err.code == MQ_ERR_UNSUPPORTED && nl) {
            int l = (int)(nl - m);
            if (l > 0 && m[l - 1] == ':') l--;
            fprintf(f, "compile:    not yet: %.*s (`maqdc MODEL -o x.mqd` lists them)\n", l, m);
        }
        else
            fprintf(f, "compile:    not possible: %s\n", m);
        return;
    }
    int nk = 0;
    for (int s = 0; s < p.n_steps; s++) {
        int seen = !p.steps[s].kernel; /* a control step */
        for (int t = 0; t < s && !seen; t++) seen = p.steps[t].kernel && !strcmp(p.steps[t].kernel, p.steps[s].kernel);
        nk += !seen;
    }
    fprintf(f, "compile:    %d steps, %d kernels, %d weights (%zu bytes); arena %zu bytes = tensors %zu + scratch %zu\n",
            p.n_steps, nk, p.n_weights, p.weight_bytes, p.arena_bytes, p.tensor_bytes, p.scratch_bytes);
    mq_program_free(&p);
}
