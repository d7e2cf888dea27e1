/* cmd_finetune.c: `maqdc finetune` (MaQD quantization-aware fine-tuning, train/train.h) and `maqdc eval`
 * (accuracy, top-5 and per-class accuracy of a classifier on an image/label set). */
#include "frontend/onnx_import.h"
#include "train/data.h"
#include "train/dist.h"
#include "train/train.h"
#include "tools/finetune_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_OVERRIDES 64

int maqdc_finetune_main(const char *cmd, int argc, char **argv);

static void usage_finetune(FILE *f)
{
    fprintf(f,
            "usage: maqdc finetune MODEL.onnx --train-images F --train-labels F [--val-images F --val-labels F]\n"
            "                      --epochs E --batch B --lr L --w-states N --a-states M -o OUT.onnx [options]\n"
            "Fine-tunes MODEL with MaQD (BatchNorm -> LBN, weight and activation quantizers, calibration, QAT) and\n"
            "writes OUT.onnx in standard ONNX ops. Options:\n"
            "  --seed S                 data order, augmentation (default 0); same seed, same weights bit for bit\n"
            "  --optimizer sgd|adamw    (sgd; --momentum 0.9)   --weight-decay W (5e-4, on conv/gemm weights)\n"
            "  --schedule cosine|step|const  (cosine; step: --step-epochs K --step-gamma G)\n"
            "  --distill [--temperature T (4)] [--distill-weight W (0.5)]   KL to the float model's outputs\n"
            "  --surrogate ste|sigmoid  activation surrogate gradient (ste)\n"
            "  --quant-first --quant-last   also quantize the first / last layer's weights\n"
            "  --override PATTERN=W:A   per-layer states (W, A: 2..256, '-' default, 'f' float); repeatable\n"
            "  --learn-act-step         learn each activation step (LSQ gradient, after calibration; not the default)\n"
            "  --learn-weight-step      learn each weight step (LSQ gradient; default: the MSE-optimal step)\n"
            "  --no-quant               no quantizers: float weights and activations (the normalization stays)\n"
            "  --norm lbn|bn            lbn (default): BatchNorm -> LBN; bn: keep BatchNorm (per-channel batch\n"
            "                           statistics in training, running statistics updated as PyTorch does)\n"
            "  --calib-batches K        calibration batches before training (8)\n"
            "  --scale S --mean M --std D   input normalization (v / S - M) / D (S: 255 for uint8; M 0, D 1)\n"
            "  --hflip --crop-pad P     augmentation\n"
            "  --checkpoint DIR [--resume]  checkpoint every epoch (DIR/checkpoint.mqck); resume from it\n"
            "  --log FILE               per-epoch CSV log for `maqdc report` (default: OUT without .onnx + .log.csv)\n"
            "  --lbn-group G            samples per LBN statistics group (G divides B; default: the whole batch,\n"
            "                           or each rank's share under mpirun; docs/DISTRIBUTED.md)\n"
            "  --quiet                  no progress output\n");
}

static void usage_eval(FILE *f)
{
    fprintf(f, "usage: maqdc eval MODEL.onnx --images F --labels F [--scale S --mean M --std D] [--batch B]\n"
               "Prints 'accuracy: 0.XXXX', top-5 and per-class accuracy (output 0 = class scores).\n");
}

static int num(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || !end || *end || end == v || !(d >= lo && d <= hi)) {
        fprintf(stderr, "maqdc: %s: '%s' is not a number in [%g, %g]\n", opt, v, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

typedef struct common {
    double scale, mean, std;
    int has_norm;
} common;

static void data_opts(const common *c, mq_data_opts *o)
{
    mq_data_opts_init(o);
    o->scale = (float)c->scale;
    if (c->has_norm) {
        o->n_mean = o->n_std = 1;
        o->mean[0] = (float)c->mean;
        o->std[0] = (float)c->std;
    }
}

static void print_err(const mq_err *e) { fprintf(stderr, "maqdc: %s\n", e->msg[0] ? e->msg : "error"); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct progress_ctx {
    int tty, quiet;
    double last;
} progress_ctx;

static void on_progress(void *ctx, const mq_train_progress *p)
{
    progress_ctx *c = ctx;
    if (c->quiet || !c->tty) return;
    double t = now_s();
    if (p->step != p->steps && t - c->last < 0.2) return;
    c->last = t;
    int width = 30, fill = p->steps ? (int)(width * p->step / p->steps) : width;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double eta = p->step && p->images_per_s > 0 ? p->elapsed_s * (double)(p->steps - p->step) / (double)p->step : 0;
    fprintf(stderr, "\repoch %d/%d [%s] %zu/%zu loss %.4f acc %.4f %.0f img/s ETA %.0fs   ", p->epoch + 1, p->epochs,
            bar, p->step, p->steps, p->loss, p->accuracy, p->images_per_s, eta);
    if (p->step == p->steps) fputc('\n', stderr);
    fflush(stderr);
}

static void print_eval(const mq_eval_result *r)
{
    double n = r->count ? (double)r->count : 1;
    printf("images: %zu\n", r->count);
    printf("accuracy: %.4f\n", (double)r->correct / n);
    printf("top-5: %.4f\n", (double)r->correct_top5 / n);
    printf("per-class accuracy:\n");
    for (int64_t c = 0; c < r->classes; c++)
        printf("  class %lld: %.4f (%zu images)\n", (long long)c,
               r->class_count[c] ? (double)r->class_correct[c] / (double)r->class_count[c] : 0.0, r->class_count[c]);
}

/* Import with the first input's symbolic batch dimension (if any) pinned to batch. */
static int import_graph(const char *path, int batch, mq_graph **g, mq_err *e)
{
    mq_import_result res;
    memset(&res, 0, sizeof res);
    if (mq_import_onnx_file(path, NULL, &res, e) != MQ_OK) return -1;
    const mq_graph *g0 = res.graph;
    if (batch > 0 && g0->n_inputs >= 1 && (g0->tensors[g0->inputs[0]].sym_mask & 1) &&
        g0->tensors[g0->inputs[0]].dims[0] != batch) {
        mq_tensor want[16];
        int n = g0->n_inputs < 16 ? g0->n_inputs : 16;
        for (int i = 0; i < n; i++) want[i] = g0->tensors[g0->inputs[i]];
        want[0].dims[0] = batch;
        mq_import_result_free(&res);
        memset(&res, 0, sizeof res);
        if (mq_import_onnx_for_inputs(path, NULL, want, n, &res, e) != MQ_OK) return -1;
    }
    *g = res.graph;
    res.graph = NULL;
    mq_import_result_free(&res);
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    const char *model = NULL, *images = NULL, *labels = NULL;
    common c = {0, 0, 1, 0};
    double batch = 256;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_eval(stdout);
            return 0;
        }
        int takes = !strcmp(a, "--images") || !strcmp(a, "--labels") || !strcmp(a, "--scale") || !strcmp(a, "--mean") ||
                    !strcmp(a, "--std") || !strcmp(a, "--batch");
        if (takes && !v) {
            fprintf(stderr, "maqdc eval: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--images")) images = argv[++i];
        else if (!strcmp(a, "--labels")) labels = argv[++i];
        else if (!strcmp(a, "--scale")) { if (num(a, argv[++i], 1e-30, 1e30, &c.scale)) return 2; }
        else if (!strcmp(a, "--mean")) { if (num(a, argv[++i], -1e30, 1e30, &c.mean)) return 2; c.has_norm = 1; }
        else if (!strcmp(a, "--std")) { if (num(a, argv[++i], 1e-30, 1e30, &c.std)) return 2; c.has_norm = 1; }
        else if (!strcmp(a, "--batch")) { if (num(a, argv[++i], 1, 65536, &batch)) return 2; }
        else if (a[0] == '-' || model) {
            fprintf(stderr, "maqdc eval: unexpected argument '%s'\n", a);
            usage_eval(stderr);
            return 2;
        } else
            model = a;
    }
    if (!model || !images || !labels) {
        usage_eval(stderr);
        return 2;
    }
    mq_err e;
    mq_err_clear(&e);
    mq_graph *g = NULL;
    if (import_graph(model, (int)batch, &g, &e)) {
        print_err(&e);
        return 1;
    }
    mq_data_opts o;
    data_opts(&c, &o);
    o.batch = (int)batch;
    mq_dataset *ds = NULL;
    int rc = 1;
    mq_eval_result r;
    memset(&r, 0, sizeof r);
    if (mq_data_open(images, labels, &o, &ds, &e) != MQ_OK || mq_eval_graph(g, ds, (int)batch, &r, &e) != MQ_OK)
        print_err(&e);
    else {
        print_eval(&r);
        rc = 0;
    }
    mq_eval_result_free(&r);
    mq_data_close(ds);
    mq_graph_free(g);
    return rc;
}

/* The float model's validation loss and accuracy, the log's first row. */
static int float_row(const char *model, mq_dataset *val, maqdc_ftlog *l, mq_err *e)
{
    mq_graph *fg = NULL;
    mq_eval_result r;
    memset(&r, 0, sizeof r);
    double t0 = now_s();
    int bad = import_graph(model, 256, &fg, e) || mq_eval_graph(fg, val, 256, &r, e) != MQ_OK ||
              maqdc_ftlog_float(l, &r, now_s() - t0, e) != MQ_OK;
    mq_eval_result_free(&r);
    mq_graph_free(fg);
    return bad ? -1 : 0;
}

static int cmd_finetune(int argc, char **argv)
{
    const char *model = NULL, *ti = NULL, *tl = NULL, *vi = NULL, *vl = NULL, *out = NULL, *ckdir = NULL, *log = NULL;
    const char *overrides[MAX_OVERRIDES];
    int n_over = 0, resume = 0, quiet = 0;
    common c = {0, 0, 1, 0};
    double crop = 0;
    int hflip = 0;
    mq_train_opts o;
    mq_train_opts_init(&o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_finetune(stdout);
            return 0;
        }
        static const char *const flags[] = {"--distill", "--resume", "--quiet", "--quant-first", "--quant-last",
                                            "--no-quant", "--hflip", "--learn-act-step",
                                            "--learn-weight-step", NULL};
        int is_flag = 0;
        for (int k = 0; flags[k]; k++) is_flag |= !strcmp(a, flags[k]);
        if (a[0] == '-' && !is_flag && !v) {
            fprintf(stderr, "maqdc finetune: %s needs a value\n", a);
            return 2;
        }
#define NUM(lo, hi) (num(a, argv[++i], lo, hi, &d) ? -1 : 0)
        if (!strcmp(a, "--train-images")) ti = argv[++i];
        else if (!strcmp(a, "--train-labels")) tl = argv[++i];
        else if (!strcmp(a, "--val-images")) vi = argv[++i];
        else if (!strcmp(a, "--val-labels")) vl = argv[++i];
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) out = argv[++i];
        else if (!strcmp(a, "--checkpoint")) ckdir = argv[++i];
        else if (!strcmp(a, "--log")) log = argv[++i];
        else if (!strcmp(a, "--resume")) resume = 1;
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (!strcmp(a, "--distill")) o.distill = 1;
        else if (!strcmp(a, "--quant-first")) o.quant_first = 1;
        else if (!strcmp(a, "--quant-last")) o.quant_last = 1;
        else if (!strcmp(a, "--no-quant")) o.quantize = 0;
        else if (!strcmp(a, "--learn-act-step")) o.learn_act_step = 1;
        else if (!strcmp(a, "--learn-weight-step")) o.learn_weight_step = 1;
        else if (!strcmp(a, "--hflip")) hflip = 1;
        else if (!strcmp(a, "--epochs")) { if (NUM(0, 100000)) return 2; o.epochs = (int)d; }
        else if (!strcmp(a, "--batch")) { if (NUM(1, 65536)) return 2; o.batch = (int)d; }
        else if (!strcmp(a, "--lbn-group")) { if (NUM(1, 65536)) return 2; o.lbn_group = (int)d; }
        else if (!strcmp(a, "--lr")) { if (NUM(0, 1e6)) return 2; o.lr = (float)d; }
        else if (!strcmp(a, "--momentum")) { if (NUM(0, 1)) return 2; o.momentum = (float)d; }
        else if (!strcmp(a, "--weight-decay")) { if (NUM(0, 1e3)) return 2; o.weight_decay = (float)d; }
        else if (!strcmp(a, "--w-states")) { if (NUM(2, 256)) return 2; o.w_states = (int)d; }
        else if (!strcmp(a, "--a-states")) { if (NUM(2, 256)) return 2; o.a_states = (int)d; }
        else if (!strcmp(a, "--seed")) { if (NUM(0, 9007199254740992.0)) return 2; o.seed = (uint64_t)d; }
        else if (!strcmp(a, "--calib-batches")) { if (NUM(0, 1e6)) return 2; o.calib_batches = (int)d; }
        else if (!strcmp(a, "--temperature")) { if (NUM(1e-3, 1e3)) return 2; o.temperature = (float)d; }
        else if (!strcmp(a, "--distill-weight")) { if (NUM(0, 1)) return 2; o.distill_weight = (float)d; }
        else if (!strcmp(a, "--step-epochs")) { if (NUM(1, 1e6)) return 2; o.step_epochs = (int)d; }
        else if (!strcmp(a, "--step-gamma")) { if (NUM(0, 1)) return 2; o.step_gamma = (float)d; }
        else if (!strcmp(a, "--scale")) { if (NUM(1e-30, 1e30)) return 2; c.scale = d; }
        else if (!strcmp(a, "--mean")) { if (NUM(-1e30, 1e30)) return 2; c.mean = d; c.has_norm = 1; }
        else if (!strcmp(a, "--std")) { if (NUM(1e-30, 1e30)) return 2; c.std = d; c.has_norm = 1; }
        else if (!strcmp(a, "--crop-pad")) { if (NUM(0, 1024)) return 2; crop = d; }
        else if (!strcmp(a, "--surrogate")) o.surrogate = argv[++i];
        else if (!strcmp(a, "--norm")) {
            const char *s = argv[++i];
            if (!strcmp(s, "lbn")) o.keep_bn = 0;
            else if (!strcmp(s, "bn")) o.keep_bn = 1;
            else { fprintf(stderr, "maqdc finetune: --norm lbn|bn\n"); return 2; }
        } else if (!strcmp(a, "--optimizer")) {
            const char *s = argv[++i];
            if (!strcmp(s, "sgd")) o.optimizer = MQ_OPT_SGD;
            else if (!strcmp(s, "adamw")) o.optimizer = MQ_OPT_ADAMW;
            else { fprintf(stderr, "maqdc finetune: --optimizer sgd|adamw\n"); return 2; }
        } else if (!strcmp(a, "--schedule")) {
            const char *s = argv[++i];
            if (!strcmp(s, "cosine")) o.schedule = MQ_SCHED_COSINE;
            else if (!strcmp(s, "step")) o.schedule = MQ_SCHED_STEP;
            else if (!strcmp(s, "const")) o.schedule = MQ_SCHED_CONST;
            else { fprintf(stderr, "maqdc finetune: --schedule cosine|step|const\n"); return 2; }
        } else if (!strcmp(a, "--override")) {
            if (n_over == MAX_OVERRIDES) { fprintf(stderr, "maqdc finetune: too many --override\n"); return 2; }
            overrides[n_over++] = argv[++i];
        } else if (a[0] == '-' || model) {
            fprintf(stderr, "maqdc finetune: unexpected argument '%s'\n", a);
            usage_finetune(stderr);
            return 2;
        } else
            model = a;
#undef NUM
    }
    if (!model || !ti || !out || (!tl && !o.distill) || (!vi != !vl) || (resume && !ckdir)) {
        if (resume && !ckdir) fprintf(stderr, "maqdc finetune: --resume needs --checkpoint DIR\n");
        usage_finetune(stderr);
        return 2;
    }
    o.n_overrides = n_over;
    o.overrides = overrides;
    /* data-parallel under mpirun (docs/DISTRIBUTED.md): rank 0 alone prints, checkpoints and writes */
    int rank = mq_dist_rank(), ranks = mq_dist_size();
    quiet |= rank != 0;
    /* the teacher runs on one LBN group at a time */
    int group = o.lbn_group ? o.lbn_group : o.batch / ranks + (rank < o.batch % ranks);
    if (ranks > 1 && o.keep_bn) { /* BatchNorm's per-channel running statistics are not agreed across ranks */
        fprintf(stderr, "maqdc finetune: --norm bn runs in one process only (under mpirun use LBN, the default)\n");
        mq_dist_abort(2);
        return 2;
    }
    if (ranks > 1 && !o.lbn_group && !quiet)
        fprintf(stderr, "note: without --lbn-group each rank's LBN statistics see its %d of the %d images of a batch, "
                "so the result depends on the number of ranks (docs/DISTRIBUTED.md)\n", group, o.batch);
    mq_err e;
    mq_err_clear(&e);
    mq_graph *g = NULL, *teacher = NULL;
    if (import_graph(model, 0, &g, &e) || (o.distill && import_graph(model, group, &teacher, &e))) {
        mq_graph_free(g);
        print_err(&e);
        return 1;
    }
    mq_data_opts dopt;
    data_opts(&c, &dopt);
    dopt.batch = o.batch;
    dopt.drop_last = 1;
    dopt.shuffle = 1;
    dopt.hflip = hflip;
    dopt.crop_pad = (int)crop;
    if (ranks > 1) { /* each rank reads its slice of every global batch */
        dopt.shard_rank = rank;
        dopt.shard_count = ranks;
        dopt.shard_per_batch = 1;
        dopt.shard_unit = o.lbn_group;
    }
    mq_dataset *train = NULL, *val = NULL;
    mq_trainer *tr = NULL;
    maqdc_ftlog flog; /* tools/finetune_log.h */
    memset(&flog, 0, sizeof flog);
    int rc = 1, saved = -1; /* saved: epochs in the checkpoint on disk (-1: none yet) */
    char ckpath[4096] = "";
    if (ckdir) {
        if (rank == 0 && mkdir(ckdir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "maqdc finetune: cannot create %s: %s\n", ckdir, strerror(errno));
            mq_graph_free(g);
            mq_graph_free(teacher);
            return 1;
        }
        snprintf(ckpath, sizeof ckpath, "%s/checkpoint.mqck", ckdir);
    }
    if (mq_data_open(ti, tl, &dopt, &train, &e) != MQ_OK) goto fail;
    if (vi && rank == 0) { /* rank 0 alone evaluates */
        mq_data_opts vo;
        data_opts(&c, &vo);
        vo.batch = 256;
        if (mq_data_open(vi, vl, &vo, &val, &e) != MQ_OK) goto fail;
    }
    mq_status ts = mq_trainer_new(g, teacher, &o, &tr, &e);
    g = teacher = NULL; /* the trainer's now (freed by it, also on failure) */
    if (ts != MQ_OK) goto fail;
    int start = 0, found = 0;
    if (resume && mq_trainer_resume(tr, ckpath, &found, &start, &e) != MQ_OK) goto fail;
    if (found) {
        if (rank == 0) fprintf(stderr, "resumed from %s after epoch %d\n", ckpath, start);
        saved = start;
    } else {
        double t0 = now_s();
        if (mq_trainer_calibrate(tr, train, &e) != MQ_OK) goto fail;
        if (!quiet) fprintf(stderr, "calibrated in %.1fs (%d batches)\n", now_s() - t0, o.calib_batches);
    }
    char logpath[4096];
    maqdc_ftlog_path(log, out, logpath, sizeof logpath);
    if (rank == 0 && maqdc_ftlog_begin(&flog, logpath, start, &e) != MQ_OK) goto fail;
    if (val && !maqdc_ftlog_has_float(&flog) && float_row(model, val, &flog, &e)) {
        fprintf(stderr, "maqdc finetune: note: the log has no float row: %s\n", e.msg); /* not worth failing */
        mq_err_clear(&e);
    }
    progress_ctx pc = {isatty(2), quiet, 0};
    for (int ep = start; ep < o.epochs; ep++) {
        mq_train_progress p;
        if (mq_trainer_epoch(tr, train, ep, on_progress, &pc, &p, &e) != MQ_OK) goto fail;
        char vbuf[64] = "";
        mq_eval_result r;
        memset(&r, 0, sizeof r);
        if (val && rank == 0) {
            if (mq_trainer_evaluate(tr, val, 256, &r, &e) != MQ_OK) goto fail;
            snprintf(vbuf, sizeof vbuf, " val-acc %.4f", r.count ? (double)r.correct / (double)r.count : 0.0);
        }
        mq_status ls = rank == 0 ? maqdc_ftlog_epoch(&flog, ep + 1, &p, val ? &r : NULL, &e) : MQ_OK;
        mq_eval_result_free(&r);
        if (ls != MQ_OK) goto fail;
        if (ckdir && rank == 0 && mq_trainer_save_checkpoint(tr, ckpath, ep + 1, &e) != MQ_OK) goto fail;
        if (ckdir) saved = ep + 1;
        if (!quiet)
            fprintf(stderr, "epoch %d/%d: loss %.4f train-acc %.4f%s lr %.3g %.0f img/s %.1fs\n", ep + 1, o.epochs, p.loss,
                    p.accuracy, vbuf, (double)p.lr, p.images_per_s, p.elapsed_s);
    }
    if (rank == 0 && mq_trainer_export_onnx(tr, out, &e) != MQ_OK) goto fail;
    if (!quiet) fprintf(stderr, "wrote %s\n", out);
    mq_dist_stats ds;
    mq_dist_get_stats(&ds);
    if (!quiet && ranks > 1 && ds.calls)
        fprintf(stderr, "%d ranks: %zu gradient allreduces of %zu bytes, %.3f ms each (%.3f ms waiting before)\n", ranks,
                ds.calls, ds.bytes, 1e3 * ds.seconds / (double)ds.calls, 1e3 * ds.wait_seconds / (double)ds.calls);
    rc = 0;
    goto done;
fail:
    if (ranks > 1) fprintf(stderr, "maqdc: rank %d of %d:\n", rank, ranks);
    print_err(&e);
    if (saved >= 0) /* a failure never touches the checkpoint on disk */
        fprintf(stderr, "maqdc: the last good checkpoint (%s, after epoch %d) is kept: continue from it with --resume\n",
                ckpath, saved);
done:
    maqdc_ftlog_end(&flog);
    mq_graph_free(g);
    mq_graph_free(teacher);
    mq_trainer_free(tr);
    mq_data_close(train);
    mq_data_close(val);
    return rc;
}

int maqdc_finetune_main(const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "eval")) return cmd_eval(argc, argv);
    if (mq_dist_init() != 0) {
        fprintf(stderr, "maqdc finetune: MPI could not start\n");
        return 1;
    }
    int rc = cmd_finetune(argc, argv);
    if (rc != 0) mq_dist_abort(rc); /* the other ranks may be waiting in a collective */
    mq_dist_finalize();
    return rc;
}
