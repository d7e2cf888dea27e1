/* cmd_report.c: `maqdc report MODEL [--log LOG.csv] -o report.html` (one self-contained page, report/)
 * and `maqdc info MODEL --dot [-o FILE]`; runs Graphviz's dot program for the drawing. */
#include "backend/plan.h"
#include "frontend/onnx_import.h"
#include "frontend/tensor_io.h"
#include "report/report.h"
#include "tools/maqdc_backends.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PINS 64
#define DOT_TIMEOUT_S 120

extern char **environ;

int maqdc_report(int argc, char **argv);
int maqdc_take_dot_args(int *argc, char **argv, const char **out);
int maqdc_info_dot(const char *model, int n_pins, const char *const *pins, const char *out);

static void usage_report(FILE *f)
{
    fprintf(f, "usage: maqdc report MODEL.onnx [--log FINETUNE_LOG.csv] [--shape NAME=DIMS]... -o REPORT.html\n"
               "\n"
               "Writes one self-contained HTML page (inline CSS and SVG, no script, no network): a summary (the\n"
               "numbers of `maqdc info`), the graph drawn by Graphviz (`dot`; the page says so if it is missing),\n"
               "per-layer parameters, MACs, weight bytes float vs packed and quantizer states, the arena timeline\n"
               "of the memory plan, and, with --log (the CSV `maqdc finetune` writes), loss and accuracy per epoch\n"
               "and float vs fine-tuned accuracy and size. A bad or missing log gives the page without that\n"
               "section and a note. MAQD_DOT names another dot program.\n");
}

static void print_err(const char *file, const mq_err *e)
{
    const char *m = e->msg[0] ? e->msg : "error";
    size_t n = file ? strlen(file) : 0;
    size_t l = strlen(m);
    while (l && (m[l - 1] == '\n' || m[l - 1] == ' ')) l--;
    if (file && strncmp(m, file, n)) fprintf(stderr, "maqdc: %s: %.*s\n", file, (int)l, m);
    else fprintf(stderr, "maqdc: %.*s\n", (int)l, m);
}

static int import_model(const char *model, int n_pins, const char *const *pins, mq_import_result *res)
{
    mq_import_opts opts = {.n_shapes = n_pins, .shapes = pins};
    mq_err err = {0};
    memset(res, 0, sizeof *res);
    if (mq_import_onnx_file(model, &opts, res, &err) != MQ_OK) {
        print_err(NULL, &err);
        mq_import_result_free(res);
        return -1;
    }
    return 0;
}

int maqdc_take_dot_args(int *argc, char **argv, const char **out)
{
    int dot = 0, k = 0;
    for (int i = 0; i < *argc; i++) {
        if (!strcmp(argv[i], "--dot")) dot = 1;
        else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < *argc) *out = argv[++i];
        else argv[k++] = argv[i];
    }
    *argc = k;
    if (*out && !dot) {
        fprintf(stderr, "maqdc info: -o goes with --dot\n");
        return -1;
    }
    return dot;
}

static int write_text(const char *path, const mq_strbuf *b)
{
    mq_err err = {0};
    if (mq_write_file_atomic(path, b->p, b->len, &err) != MQ_OK) {
        print_err(path, &err);
        return -1;
    }
    return 0;
}

int maqdc_info_dot(const char *model, int n_pins, const char *const *pins, const char *out)
{
    mq_import_result res;
    if (import_model(model, n_pins, pins, &res)) return 1;
    mq_report_model m;
    mq_strbuf b = {0};
    mq_err err = {0};
    int rc = 1;
    if (mq_report_analyze(res.graph, &m, &err) != MQ_OK || mq_report_dot(res.graph, &m, &b, &err) != MQ_OK)
        print_err(model, &err);
    else if (out) rc = write_text(out, &b) ? 1 : 0;
    else rc = fwrite(b.p, 1, b.len, stdout) == b.len && fflush(stdout) == 0 ? 0 : 1;
    mq_report_model_free(&m);
    mq_sb_free(&b);
    mq_import_result_free(&res);
    return rc;
}

/* Run `dot -Tsvg` on the text; the SVG (mq_malloc'ed) or NULL with *why set. */
static char *run_dot(const mq_strbuf *dot, char *why, size_t why_n)
{
    const char *prog = getenv("MAQD_DOT") && getenv("MAQD_DOT")[0] ? getenv("MAQD_DOT") : "dot";
    const char *tmp = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    char in[1100], outp[1200];
    if (strlen(tmp) > 1000) tmp = "/tmp";
    snprintf(in, sizeof in, "%s/maqdc-report-XXXXXX", tmp);
    int fd = mkstemp(in);
    if (fd < 0) {
        snprintf(why, why_n, "cannot make a temporary file in %.200s: %s", tmp, strerror(errno));
        return NULL;
    }
    snprintf(outp, sizeof outp, "%s.svg", in);
    char *svg = NULL;
    size_t done = 0;
    while (done < dot->len) {
        ssize_t w = write(fd, dot->p + done, dot->len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    close(fd);
    if (done != dot->len) {
        snprintf(why, why_n, "cannot write the temporary file %.200s", in);
        remove(in);
        return NULL;
    }
    char *args[] = {(char *)prog, (char *)"-Tsvg", in, (char *)"-o", outp, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int e = posix_spawnp(&pid, prog, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) {
        snprintf(why, why_n, "Graphviz's '%s' could not be run (%s): install Debian's graphviz to draw the graph "
                 "(`maqdc info MODEL --dot` writes the dot text)", prog, strerror(e));
    } else {
        int status = 0, waited = 0;
        struct timespec ts = {0, 50 * 1000 * 1000};
        for (;;) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid || (r < 0 && errno != EINTR)) break;
            if (waited++ >= DOT_TIMEOUT_S * 20) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                status = -1;
                break;
            }
            nanosleep(&ts, NULL);
        }
        if (status == -1) snprintf(why, why_n, "Graphviz's '%s' took over %d s and was stopped", prog, DOT_TIMEOUT_S);
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            snprintf(why, why_n, "Graphviz's '%s' failed (%s %d)%s", prog, WIFEXITED(status) ? "exit" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                     WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": is Debian's graphviz installed?" : "");
        else {
            void *buf = NULL;
            size_t len = 0;
            mq_err err = {0};
            if (mq_read_file(outp, (size_t)256 << 20, &buf, &len, &err) != MQ_OK)
                snprintf(why, why_n, "cannot read Graphviz's output: %.300s", err.msg);
            else if (!(svg = mq_malloc(len + 1))) snprintf(why, why_n, "out of memory");
            else {
                memcpy(svg, buf, len);
                svg[len] = 0;
                if (!strstr(svg, "<svg")) {
                    mq_free(svg);
                    svg = NULL;
                    snprintf(why, why_n, "Graphviz's output is not SVG");
                }
            }
            mq_free(buf);
        }
    }
    remove(in);
    remove(outp);
    return svg;
}

/* `maqdc info`'s "compile:" line (tools/maqdc_compile.c), without its label. */
static char *program_line(const mq_graph *g)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    maqdc_info_program(g, f);
    fclose(f);
    if (!text) return NULL;
    size_t l = strlen(text);
    while (l && text[l - 1] == '\n') text[--l] = 0;
    const char *s = !strncmp(text, "compile:", 8) ? text + 8 : text;
    while (*s == ' ') s++;
    memmove(text, s, strlen(s) + 1);
    return text;
}

int maqdc_report(int argc, char **argv)
{
    const char *model = NULL, *log_path = NULL, *out = NULL, *pins[MAX_PINS];
    int n_pins = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_report(stdout);
            return 0;
        }
        int takes = !strcmp(a, "--log") || !strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--shape");
        if (takes && !v) {
            fprintf(stderr, "maqdc report: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--log")) log_path = argv[++i];
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) out = argv[++i];
        else if (!strcmp(a, "--shape")) {
            if (n_pins == MAX_PINS) {
                fprintf(stderr, "maqdc report: too many --shape options (at most %d)\n", MAX_PINS);
                return 2;
            }
            pins[n_pins++] = argv[++i];
        } else if (a[0] == '-' || model) {
            fprintf(stderr, "maqdc report: unexpected argument '%s'\n", a);
            usage_report(stderr);
            return 2;
        } else
            model = a;
    }
    if (!model || !out) {
        fprintf(stderr, "maqdc report: %s\n", model ? "-o REPORT.html is required" : "no model given");
        usage_report(stderr);
        return 2;
    }
    mq_import_result res;
    if (import_model(model, n_pins, pins, &res)) return 1;
    const mq_graph *g = res.graph;
    mq_report_model m;
    mq_plan plan;
    mq_err err = {0}, perr = {0};
    mq_strbuf dot = {0}, page = {0};
    mq_trainlog log = {0};
    char graph_why[1024] = "", log_why[MQ_ERR_MSG_MAX + 64] = "", *svg = NULL, *prog = NULL;
    int rc = 1, have_log = 0;
    memset(&plan, 0, sizeof plan);
    if (mq_report_analyze(g, &m, &err) != MQ_OK) {
        print_err(model, &err);
        mq_import_result_free(&res);
        return 1;
    }
    int have_plan = mq_plan_memory(g, NULL, &plan, &perr) == MQ_OK;
    if (mq_report_dot(g, &m, &dot, &err) != MQ_OK) goto fail;
    svg = run_dot(&dot, graph_why, sizeof graph_why);
    if (!svg) fprintf(stderr, "maqdc report: note: no graph drawing: %s\n", graph_why);
    if (log_path) {
        mq_err lerr = {0};
        if (mq_trainlog_read(log_path, &log, &lerr) == MQ_OK) have_log = 1;
        else {
            snprintf(log_why, sizeof log_why, "the log could not be used: %s", lerr.msg);
            fprintf(stderr, "maqdc report: note: no fine-tuning section: %s\n", lerr.msg);
        }
    }
    prog = program_line(g);
    mq_report_inputs in = {.model_path = model,
                           .graph_svg = svg,
                           .graph_note = graph_why,
                           .log = have_log ? &log : NULL,
                           .log_path = log_path,
                           .log_note = log_why[0] ? log_why : NULL,
                           .program_note = prog};
    if (mq_report_html(g, &m, have_plan ? &plan : NULL, perr.msg, &in, &page, &err) != MQ_OK) goto fail;
    if (write_text(out, &page)) goto done;
    printf("wrote %s (%zu bytes)\n", out, page.len);
    rc = 0;
    goto done;
fail:
    print_err(model, &err);
done:
    free(prog);
    mq_free(svg);
    mq_sb_free(&dot);
    mq_sb_free(&page);
    mq_trainlog_free(&log);
    mq_plan_free(&plan);
    mq_report_model_free(&m);
    mq_import_result_free(&res);
    return rc;
}
