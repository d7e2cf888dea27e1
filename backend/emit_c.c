/* emit_c.c: the portable C backend: writes model.c (the runtime kernels the program uses, copied from
 * the embedded runtime sources, then weights, parameters, tensor table and the run function) and model.h. */
#include "backend/emit_c.h"

#include "core/alloc.h"
#include "core/dtype.h"
#include "frontend/tensor_io.h"
#include "runtime/maqdrt.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SRC 256       /* runtime files one emitted model may inline */
#define MAX_PREFIX 64
#define LIST_H "runtime/kernels/list.h"
#define KERNEL_H "runtime/mqr_kernel.h"

void mq_emit_c_opts_init(mq_emit_c_opts *o)
{
    memset(o, 0, sizeof *o);
}

void mq_emit_c_program_opts(mq_program_opts *po)
{
    mq_program_opts_init(po);
    po->outputs_in_arena = 0;
}

/* ---- the embedded runtime sources -------------------------------------------------------------- */

static const mq_embedded_file *embedded(const char *path)
{
    for (int i = 0; i < mq_embedded_runtime_count; i++)
        if (!strcmp(mq_embedded_runtime[i].path, path)) return &mq_embedded_runtime[i];
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The path of a line `#include "path"` (into out), else 0. */
static int include_path(const char *line, size_t len, char *out, size_t n)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i >= len || line[i] != '#') return 0;
    i++;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (len - i < 7 || strncmp(line + i, "include", 7)) return 0;
    i += 7;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (i >= len || line[i] != '"') return 0;
    size_t s = ++i;
    while (i < len && line[i] != '"') i++;
    if (i >= len || i - s + 1 > n) return 0;
    memcpy(out, line + s, i - s);
    out[i - s] = 0;
    return 1;
}

/* The .c beside a header ("runtime/kernels/conv.h" -> "runtime/kernels/conv.c"), if embedded. */
static const mq_embedded_file *sibling_c(const char *h)
{
    char buf[512];
    size_t l = strlen(h);
    if (l < 3 || l >= sizeof buf || strcmp(h + l - 2, ".h")) return NULL;
    memcpy(buf, h, l + 1);
    buf[l - 1] = 'c';
    return embedded(buf);
}

static int is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Does this line start a file-scope declaration or definition of a function mqk_*( that is not
 * static yet (`int32_t mqk_conv_out_rows(const ...`)? Such functions are made static in the
 * emitted file so unused ones vanish and two models can be linked together. */
static int needs_static(const char *line, size_t len)
{
    static const char *const no[] = {"static", "extern", "typedef", "return", "if", "else", "for", "while",
                                     "do", "switch", "case", "goto", "default", "sizeof", NULL};
    if (!len || !(isalpha((unsigned char)line[0]) || line[0] == '_')) return 0;
    size_t i = 0, w0 = 0, last = 0;
    int n_words = 0;
    while (i < len) {
        char ch = line[i];
        if (ch == ' ' || ch == '\t' || ch == '*') {
            i++;
        } else if (is_ident_char(ch)) {
            size_t s = i;
            while (i < len && is_ident_char(line[i])) i++;
            if (n_words == 0) {
                w0 = i - s;
                for (int k = 0; no[k]; k++)
                    if (strlen(no[k]) == w0 && !strncmp(line, no[k], w0)) return 0;
            }
            n_words++;
            last = s;
        } else if (ch == '(') {
            return n_words >= 2 && !strncmp(line + last, "mqk_", 4);
        } else {
            return 0;
        }
    }
    return 0;
}

/* The name a file-scope `static` line of a .c defines (a function, or an object), else 0: kernel
 * files are separate translation units in the runtime, so their file-local names may repeat; the
 * emitted file renames them per file (#define name mqm_<file>_name around the file). */
static int static_name(const char *line, size_t len, char *out, size_t n)
{
    static const char *const kw[] = {"static", "const", "inline", "void", "char", "short", "int", "long", "float",
                                      "double", "signed", "unsigned", "struct", "union", "enum", "volatile",
                                      "MQM_UNUSED", NULL};
    if (len < 8 || strncmp(line, "static ", 7)) return 0;
    size_t stop = len;
    for (size_t i = 0; i < len; i++)
        if (line[i] == '(' || line[i] == '[' || line[i] == '=' || line[i] == ';') {
            stop = i;
            break;
        }
    if (stop == len) return 0;
    size_t e = stop;
    while (e > 0 && (line[e - 1] == ' ' || line[e - 1] == '\t')) e--;
    size_t b = e;
    while (b > 0 && is_ident_char(line[b - 1])) b--;
    if (b == e || e - b + 1 > n || isdigit((unsigned char)line[b])) return 0;
    for (int k = 0; kw[k]; k++)
        if (strlen(kw[k]) == e - b && !strncmp(line + b, kw[k], e - b)) return 0;
    memcpy(out, line + b, e - b);
    out[e - b] = 0;
    return 1;
}

/* A line of a file's opening: blank, a comment line, or an #include. */
static int preamble_line(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t')) i++;
    if (i == len) return 1;
    if (p[i] == '*' || (p[i] == '/' && i + 1 < len && (p[i + 1] == '*' || p[i + 1] == '/'))) return 1;
    char path[512];
    return include_path(p, len, path, sizeof path);
}

/* A file-scope `static ... name(` line (a static or static inline function): it gets MQM_UNUSED, since
 * in one file clang warns about every unused static inline function, not only in the main file. */
static int static_fn_line(const char *line, size_t len)
{
    if (len < 8 || strncmp(line, "static ", 7)) return 0;
    int n_words = 0;
    for (size_t i = 7; i < len; i++) {
        char ch = line[i];
        if (ch == '(') return n_words >= 2;
        if (is_ident_char(ch)) {
            while (i + 1 < len && is_ident_char(line[i + 1])) i++;
            n_words++;
        } else if (ch != ' ' && ch != '\t' && ch != '*') {
            return 0;
        }
    }
    return 0;
}

typedef struct inliner {
    FILE *f;
    const char *done[MAX_SRC];  /* files written (or being written) */
    int n_done;
    const char *cfiles[MAX_SRC]; /* the kernel sources to write: used kernels' files and their headers' .c */
    int n_c;
    const char *seen_h[MAX_SRC]; /* headers scanned for the closure */
    int n_seen_h;
    char (*defined)[96];         /* mqk_* functions the chosen .c files define at column 0 */
    int n_defined;
    mq_err *err;
} inliner;

static int in_list(const char *const *l, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(l[i], s)) return 1;
    return 0;
}

static mq_status add_c(inliner *in, const char *path)
{
    if (in_list(in->cfiles, in->n_c, path)) return MQ_OK;
    if (in->n_c >= MAX_SRC) return mq_fail(in->err, MQ_ERR_LIMIT, "C emitter: more than %d runtime files", MAX_SRC);
    in->cfiles[in->n_c++] = path;
    return MQ_OK;
}

/* The name before the first '(' of a needs_static line. */
static void fn_name(const char *line, size_t len, char *out, size_t n)
{
    size_t e = 0;
    while (e < len && line[e] != '(') e++;
    while (e > 0 && (line[e - 1] == ' ' || line[e - 1] == '\t')) e--;
    size_t b = e;
    while (b > 0 && is_ident_char(line[b - 1])) b--;
    size_t l = e - b < n ? e - b : n - 1;
    memcpy(out, line + b, l);
    out[l] = 0;
}

static int is_defined(const inliner *in, const char *name)
{
    for (int i = 0; i < in->n_defined; i++)
        if (!strcmp(in->defined[i], name)) return 1;
    return 0;
}

/* Collect the mqk_* functions a .c defines in plain text (a column-0 line that is not a prototype):
 * only those are made static, in every declaration, so no static prototype lacks its definition
 * (a function defined elsewhere, or by a macro, keeps external linkage). */
static mq_status collect_defined(inliner *in, const mq_embedded_file *e)
{
    const char *p = e->text, *end = e->text + e->len;
    int cont = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t t = len;
        while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t' || p[t - 1] == '\r')) t--;
        if (!cont && needs_static(p, len) && !(t > 0 && p[t - 1] == ';')) {
            char nm[96];
            fn_name(p, len, nm, sizeof nm);
            if (!is_defined(in, nm)) {
                if (in->n_defined % 256 == 0) {
                    char(*grown)[96] = mq_calloc((size_t)in->n_defined + 256, sizeof *grown);
                    if (!grown) return mq_fail(in->err, MQ_ERR_NOMEM, "out of memory emitting C");
                    if (in->n_defined) memcpy(grown, in->defined, (size_t)in->n_defined * sizeof *grown);
                    mq_free(in->defined);
                    in->defined = grown;
                }
                memcpy(in->defined[in->n_defined++], nm, sizeof nm);
            }
        }
        cont = len > 0 && p[len - 1] == '\\';
        p = nl ? nl + 1 : end;
    }
    return MQ_OK;
}

/* The closure: every header a file includes (recursively) and the .c beside each such header. */
static mq_status scan(inliner *in, const mq_embedded_file *e, int depth)
{
    if (depth > 32) return mq_fail(in->err, MQ_ERR_LIMIT, "C emitter: runtime includes nest too deep at %s", e->path);
    const char *p = e->text, *end = e->text + e->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char path[512];
        if (include_path(p, len, path, sizeof path) && strcmp(path, LIST_H)) {
            const mq_embedded_file *h = embedded(path);
            if (!h)
                return mq_fail(in->err, MQ_ERR_UNSUPPORTED, "C emitter: %s includes \"%s\", which is not a runtime file",
                               e->path, path);
            if (!in_list(in->seen_h, in->n_seen_h, h->path)) {
                if (in->n_seen_h >= MAX_SRC) return mq_fail(in->err, MQ_ERR_LIMIT, "C emitter: too many runtime headers");
                in->seen_h[in->n_seen_h++] = h->path;
                const mq_embedded_file *c = sibling_c(h->path);
                if (c) MQ_TRY(add_c(in, c->path));
                MQ_TRY(scan(in, h, depth + 1));
            }
        }
        p = nl ? nl + 1 : end;
    }
    return MQ_OK;
}

/* Writes one runtime file with its runtime includes inlined at their first inclusion (later ones
 * dropped: the headers have include guards anyway), file-scope mqk_* functions made static, and the
 * macros a .c defines undefined after it (so kernel files cannot clash through them). */
static mq_status emit_file(inliner *in, const mq_embedded_file *e, int depth)
{
    if (in_list(in->done, in->n_done, e->path)) return MQ_OK;
    if (in->n_done >= MAX_SRC || depth > 32) return mq_fail(in->err, MQ_ERR_LIMIT, "C emitter: too many runtime files");
    in->done[in->n_done++] = e->path;
    FILE *f = in->f;
    int is_c = ends_with(e->path, ".c");
    char macros[64][64], (*names)[64] = NULL, stem[64];
    int n_macros = 0, n_names = 0, renamed = !is_c;
    fprintf(f, "\n/* ---- %s ---- */\n", e->path);
    const char *p = e->text, *end = e->text + e->len;
    int cont = 0;
    if (is_c) { /* the file-local names, renamed for this file */
        names = mq_calloc(256, sizeof *names);
        if (!names) return mq_fail(in->err, MQ_ERR_NOMEM, "out of memory emitting C");
        for (const char *q = p; q < end;) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            size_t len = nl ? (size_t)(nl - q) : (size_t)(end - q);
            if (n_names < 256 && static_name(q, len, names[n_names], sizeof names[0])) {
                int dup = 0;
                for (int k = 0; k < n_names && !dup; k++) dup = !strcmp(names[k], names[n_names]);
                n_names += !dup;
            }
            q = nl ? nl + 1 : end;
        }
        const char *b = strrchr(e->path, '/');
        b = b ? b + 1 : e->path;
        size_t k = 0;
        for (; b[k] && b[k] != '.' && k + 1 < sizeof stem; k++) stem[k] = is_ident_char(b[k]) ? b[k] : '_';
        stem[k] = 0;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char path[512];
        int next_cont = len > 0 && p[len - 1] == '\\';
        if (!renamed && !cont && !preamble_line(p, len)) {
            for (int k = 0; k < n_names; k++) fprintf(f, "#define %s mqm_%s_%s\n", names[k], stem, names[k]);
            renamed = 1;
        }
        if (!cont && include_path(p, len, path, sizeof path)) {
            if (!strcmp(path, LIST_H)) {
                fprintf(f, "/* an emitted model has no kernel table: the kernels it uses are static functions */\n"
                           "#define MQR_KERNELS(X)\n");
            } else {
                const mq_embedded_file *h = embedded(path);
                mq_status st = MQ_OK;
                if (!h)
                    st = mq_fail(in->err, MQ_ERR_UNSUPPORTED,
                                 "C emitter: %s includes \"%s\", which is not a runtime file", e->path, path);
                else if (in_list(in->done, in->n_done, h->path))
                    fprintf(f, "/* #include \"%s\": inlined above */\n", path);
                else if ((st = emit_file(in, h, depth + 1)) == MQ_OK)
                    fprintf(f, "\n/* ---- %s (continued) ---- */\n", e->path);
                if (st != MQ_OK) {
                    mq_free(names);
                    return st;
                }
            }
        } else {
            if (!cont && is_c && len > 8 && !strncmp(p, "#define ", 8) && n_macros < 64) {
                size_t s = 8, k = 0;
                while (s < len && is_ident_char(p[s]) && k < 63) macros[n_macros][k++] = p[s++];
                macros[n_macros][k] = 0;
                if (k) n_macros++;
            }
            char fnm[96] = {0};
            if (!cont && needs_static(p, len)) fn_name(p, len, fnm, sizeof fnm);
            if (fnm[0] && is_defined(in, fnm)) {
                fputs("static MQM_UNUSED ", f);
            } else if (!cont && static_fn_line(p, len)) {
                fputs("static MQM_UNUSED", f);
                p += 6;
                len -= 6;
            }
            fwrite(p, 1, len, f);
            fputc('\n', f);
        }
        cont = next_cont;
        p = nl ? nl + 1 : end;
    }
    for (int i = 0; i < n_macros; i++) fprintf(f, "#undef %s\n", macros[i]);
    if (renamed)
        for (int k = 0; k < n_names; k++) fprintf(f, "#undef %s\n", names[k]);
    mq_free(names);
    return MQ_OK;
}

/* The kernels' sources: mqr_kernel.h, static prototypes of every kernel the chosen files define (so
 * the definitions, some made by macros, get internal linkage), then the files. */
static mq_status emit_kernels(FILE *f, const char *const *kernels, int n, mq_err *err)
{
    inliner *in = mq_calloc(1, sizeof *in);
    if (!in) return mq_fail(err, MQ_ERR_NOMEM, "out of memory emitting C");
    in->f = f;
    in->err = err;
    mq_status st = MQ_OK;
    for (int i = 0; i < (n ? n : mqr_kernel_count) && st == MQ_OK; i++) {
        const mqr_kernel_info *k = n ? mqr_kernel_find(kernels[i]) : &mqr_kernel_table[i];
        if (!k) {
            st = mq_fail(err, MQ_ERR_UNSUPPORTED, "C emitter: the runtime has no kernel '%s'", kernels[i]);
            break;
        }
        char path[512];
        snprintf(path, sizeof path, "runtime/%s", k->source);
        const mq_embedded_file *e = embedded(path);
        if (!e) st = mq_fail(err, MQ_ERR_UNSUPPORTED, "C emitter: kernel '%s' lives in %s, which is not embedded", k->name, path);
        else st = add_c(in, e->path);
    }
    for (int i = 0; i < in->n_c && st == MQ_OK; i++) st = scan(in, embedded(in->cfiles[i]), 0);
    for (int i = 0; i < in->n_c && st == MQ_OK; i++) st = collect_defined(in, embedded(in->cfiles[i]));
    const mq_embedded_file *kh = embedded(KERNEL_H);
    if (st == MQ_OK && !kh) st = mq_fail(err, MQ_ERR_UNSUPPORTED, "C emitter: %s is not embedded", KERNEL_H);
    if (st == MQ_OK) st = emit_file(in, kh, 0);
    if (st == MQ_OK) {
        fprintf(f, "\n/* the kernels below are file-local */\n");
        for (int i = 0; i < mqr_kernel_count; i++) {
            char path[512];
            snprintf(path, sizeof path, "runtime/%s", mqr_kernel_table[i].source);
            if (in_list(in->cfiles, in->n_c, path))
                fprintf(f, "static MQM_UNUSED void mqk_k_%s(const mqr_call *c);\n", mqr_kernel_table[i].name);
        }
    }
    for (int i = 0; i < in->n_c && st == MQ_OK; i++) st = emit_file(in, embedded(in->cfiles[i]), 0);
    mq_free(in->defined);
    mq_free(in);
    return st;
}

static const char unused_macro[] = "#define MQR_EMITTED_MODEL 1 /* kernel sources may leave out what only the .mqd loader needs */\n"
                                   "#if defined(__GNUC__) || defined(__clang__)\n"
                                   "#define MQM_UNUSED __attribute__((unused))\n"
                                   "#else\n"
                                   "#define MQM_UNUSED\n"
                                   "#endif\n";

mq_status mq_emit_c_kernels(FILE *f, const char *const *kernels, int n, mq_err *err)
{
    fputs(unused_macro, f);
    return emit_kernels(f, kernels, n, err);
}

/* ---- model.c / model.h ------------------------------------------------------------------------- */

typedef struct ctype {
    const char *c;        /* element type in C */
    const char *carrier;  /* unsigned type of the same size, for bit-exact initializers */
    char kind;            /* .npy kind: f i u b */
    size_t size;
} ctype;

static int ctype_of(int32_t dt, ctype *t)
{
    switch (dt) {
    case MQR_F32: *t = (ctype){"float", "uint32_t", 'f', 4}; return 1;
    case MQR_F64: *t = (ctype){"double", "uint64_t", 'f', 8}; return 1;
    case MQR_U8: *t = (ctype){"uint8_t", "uint8_t", 'u', 1}; return 1;
    case MQR_I8: *t = (ctype){"int8_t", "uint8_t", 'i', 1}; return 1;
    case MQR_U16: *t = (ctype){"uint16_t", "uint16_t", 'u', 2}; return 1;
    case MQR_I16: *t = (ctype){"int16_t", "uint16_t", 'i', 2}; return 1;
    case MQR_I32: *t = (ctype){"int32_t", "uint32_t", 'i', 4}; return 1;
    case MQR_I64: *t = (ctype){"int64_t", "uint64_t", 'i', 8}; return 1;
    case MQR_U32: *t = (ctype){"uint32_t", "uint32_t", 'u', 4}; return 1;
    case MQR_U64: *t = (ctype){"uint64_t", "uint64_t", 'u', 8}; return 1;
    case MQR_BOOL: *t = (ctype){"uint8_t", "uint8_t", 'b', 1}; return 1;
    default: /* refused up front (mq_emit_c checks every dtype); a defined value all the same */
        *t = (ctype){"uint8_t", "uint8_t", 'u', 1};
        return 0;
    }
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* A string for a C comment: printable ASCII, no comment terminator, bounded. */
static void comment_str(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; s && *s && k + 4 < n; s++) {
        char c = *s;
        if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e) c = '?';
        if (c == '/' && k > 0 && out[k - 1] == '*') c = '|';
        if (c == '*' && s[1] == '/') c = '+';
        out[k++] = c;
    }
    if (s && *s) {
        out[k++] = '.';
        out[k++] = '.';
    }
    out[k] = 0;
}

/* A C string literal's body: printable ASCII, with \ " ? escaped (no trigraphs), others as octal. */
static void literal_str(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"' || c == '?') fprintf(f, "\\%c", c);
        else if (c < 0x20 || c > 0x7e) fprintf(f, "\\%03o", c);
        else fputc(c, f);
    }
}

static void put_hex(FILE *f, uint64_t v)
{
    char b[24];
    int k = 0;
    static const char hx[] = "0123456789abcdef";
    do {
        b[k++] = hx[v & 15];
        v >>= 4;
    } while (v);
    fputc('0', f);
    fputc('x', f);
    while (k) fputc(b[--k], f);
}

static void put_i32(FILE *f, int32_t v)
{
    if (v == INT32_MIN) fputs("(-2147483647 - 1)", f);
    else fprintf(f, "%ld", (long)v);
}

static void dims_init(FILE *f, const mq_prog_tensor *t)
{
    fputc('{', f);
    if (t->rank == 0) fputc('0', f);
    for (int d = 0; d < t->rank; d++) fprintf(f, "%s%ld", d ? ", " : "", (long)t->dims[d]);
    fputc('}', f);
}

static void shape_str(const mq_prog_tensor *t, char *buf, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int d = 0; d < t->rank && k < n; d++) k += (size_t)snprintf(buf + k, n - k, "%s%ld", d ? ", " : "", (long)t->dims[d]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static int64_t numel(const mq_prog_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->rank; d++) n *= t->dims[d];
    return n;
}

/* Where a program tensor's bytes are inside PREFIX_run. */
static void data_expr(const mq_program *p, int t, char *buf, size_t n)
{
    const mq_prog_tensor *pt = &p->tensors[t];
    switch (pt->loc) {
    case MQ_LOC_INPUT: snprintf(buf, n, "in%d", pt->index); break;
    case MQ_LOC_OUTPUT: snprintf(buf, n, "out%d", pt->index); break;
    case MQ_LOC_WEIGHT: snprintf(buf, n, "mqm_w%d.v", pt->index); break;
    default: snprintf(buf, n, "a + %lu", (unsigned long)pt->offset); break;
    }
}

typedef struct model {
    const mq_program *p;
    const mq_emit_c_opts *o;
    char prefix[MAX_PREFIX + 1], up[MAX_PREFIX + 1];
    char header[512];
    size_t arena_words;  /* uint64_t words of the static arena (at least 1) */
} model;

static void signature(FILE *f, const model *m)
{
    const mq_program *p = m->p;
    fprintf(f, "int %s_run(", m->prefix);
    int first = 1;
    for (int k = 0; k < p->n_inputs; k++) {
        ctype ct;
        ctype_of(p->tensors[p->inputs[k]].dtype, &ct);
        fprintf(f, "%sconst %s *in%d", first ? "" : ", ", ct.c, k);
        first = 0;
    }
    for (int k = 0; k < p->n_outputs; k++) {
        ctype ct;
        ctype_of(p->tensors[p->outputs[k]].dtype, &ct);
        fprintf(f, "%s%s *out%d", first ? "" : ", ", ct.c, k);
        first = 0;
    }
    for (int k = 0; k < p->n_outputs; k++) /* data-dependent shapes: where the actual dims go */
        if (p->tensors[p->outputs[k]].shape >= 0) fprintf(f, ", int32_t *out%d_dims", k);
    if (m->o->arena_caller) fprintf(f, "%svoid *arena", first ? "" : ", "), first = 0;
    if (first) fputs("void", f);
    fputc(')', f);
}

static void header_io(FILE *h, const model *m, const char *what, int k, const mq_prog_tensor *t)
{
    ctype ct;
    ctype_of(t->dtype, &ct);
    char nm[160], sh[200];
    comment_str(t->name, nm, sizeof nm);
    shape_str(t, sh, sizeof sh);
    fprintf(h, "\n/* %s %d '%s': %s %s */\n", !strcmp(what, "IN") ? "input" : "output", k, nm,
            mq_dtype_name((mq_dtype)t->dtype), sh);
    fprintf(h, "#define %s_%s%d_NAME \"", m->up, what, k);
    literal_str(h, t->name);
    fprintf(h, "\"\n#define %s_%s%d_DTYPE %ld /* ONNX TensorProto numbering; C type %s */\n", m->up, what, k, (long)t->dtype, ct.c);
    fprintf(h, "#define %s_%s%d_RANK %d\n", m->up, what, k, t->rank);
    fprintf(h, "#define %s_%s%d_DIMS ", m->up, what, k);
    dims_init(h, t);
    if (t->rank == 0) fputs(" /* a scalar: no dims */", h);
    fputc('\n', h);
    for (int d = 0; d < t->rank; d++) fprintf(h, "#define %s_%s%d_DIM%d %ld\n", m->up, what, k, d, (long)t->dims[d]);
    fprintf(h, "#define %s_%s%d_SIZE %lld /* elements%s */\n", m->up, what, k, (long long)numel(t),
            t->shape >= 0 ? ", at most" : "");
    fprintf(h, "#define %s_%s%d_BYTES %lu\n", m->up, what, k, (unsigned long)t->bytes);
    if (!strcmp(what, "OUT")) {
        if (t->shape >= 0)
            fprintf(h, "/* A data-dependent shape: the dims above are its upper bound (give out%d that much room);\n"
                       " * %s_run writes the actual dims to out%d_dims (%s_OUT%d_RANK values) and the values, row-major\n"
                       " * for those dims, to the start of out%d. */\n",
                    k, m->prefix, k, m->up, k, k);
        fprintf(h, "#define %s_OUT%d_BOUNDED %d\n", m->up, k, t->shape >= 0);
    }
}

static void emit_header(FILE *h, const model *m)
{
    const mq_program *p = m->p;
    char src[300];
    comment_str(m->o->source_name ? base_name(m->o->source_name) : "an ONNX model", src, sizeof src);
    fprintf(h, "/* %s: the API of the model compiled by maqdc from %s: one function runs the\n"
               " * whole network on static buffers (no malloc). Generated: do not edit. */\n",
            m->header, src);
    fprintf(h, "#ifndef %s_H_INCLUDED\n#define %s_H_INCLUDED\n\n#include <stdint.h>\n\n", m->up, m->up);
    fprintf(h, "#define %s_N_INPUTS %d\n#define %s_N_OUTPUTS %d\n", m->up, p->n_inputs, m->up, p->n_outputs);
    for (int k = 0; k < p->n_inputs; k++) header_io(h, m, "IN", k, &p->tensors[p->inputs[k]]);
    for (int k = 0; k < p->n_outputs; k++) header_io(h, m, "OUT", k, &p->tensors[p->outputs[k]]);
    fprintf(h, "\n/* Working memory: every intermediate tensor and the kernels' scratch, planned at compile time\n"
               " * (%s). Aligned to %s_ARENA_ALIGN bytes. */\n",
            m->o->arena_caller ? "passed by the caller to each run" : "a static array inside the model's .c", m->up);
    fprintf(h, "#define %s_ARENA_BYTES %lu\n#define %s_ARENA_ALIGN 8\n\n", m->up, (unsigned long)p->arena_bytes, m->up);
    fprintf(h, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    fprintf(h, "/* Runs the model: in<k> holds input k (%s_IN<k>_SIZE elements, row-major), out<k> receives output k.\n"
               " * Buffers must not overlap.%s%s%s Returns 0, or -1 if a pointer is NULL%s.%s */\n",
            m->up, m->o->arena_caller ? " arena: " : "", m->o->arena_caller ? m->up : "",
            m->o->arena_caller ? "_ARENA_BYTES bytes, 8-byte aligned, not used by anything else during the run." : "",
            m->o->arena_caller ? " or the arena misaligned" : "",
            m->o->arena_caller ? "" : "\n * Not reentrant: the arena is static (compile with --arena=caller to pass your own).");
    for (int k = 0; k < p->n_outputs; k++)
        if (p->tensors[p->outputs[k]].shape >= 0) {
            fprintf(h, "/* out<k>_dims (after the outputs): for each output whose %s_OUT<k>_BOUNDED is 1, room for its\n"
                       " * rank's int32 actual dims, written by the run. */\n",
                    m->up);
            break;
        }
    for (int s = 0; s < p->n_steps; s++)
        if (p->steps[s].kind == MQ_STEP_LOOP && p->steps[s].p[2]) {
            fprintf(h, "/* Returns -2 if a Loop with scan outputs ends (its condition turns false) before its compiled trip\n"
                       " * count: those outputs would have fewer rows than compiled (a data-dependent shape). */\n");
            break;
        }
    signature(h, m);
    fprintf(h, ";\n\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
}

static void emit_weights(FILE *f, const model *m)
{
    const mq_program *p = m->p;
    if (p->n_weights) fprintf(f, "\n/* ---- weights: exact bits (as unsigned integers of the element's size) ---- */\n");
    for (int i = 0; i < p->n_weights; i++) {
        const mq_prog_weight *w = &p->weights[i];
        const mq_prog_tensor *t = &p->tensors[w->tensor];
        ctype ct;
        ctype_of(t->dtype, &ct);
        size_t n = w->bytes / ct.size;
        char nm[160], sh[200];
        comment_str(t->name, nm, sizeof nm);
        shape_str(t, sh, sizeof sh);
        fprintf(f, "/* '%s' %s %s */\n", nm, mq_dtype_name((mq_dtype)t->dtype), sh);
        fprintf(f, "static const union { %s u[%lu]; %s v[%lu]; } mqm_w%d = {{", ct.carrier, (unsigned long)(n ? n : 1), ct.c,
                (unsigned long)(n ? n : 1), i);
        int per_line = ct.size >= 8 ? 6 : ct.size == 4 ? 10 : 16;
        const unsigned char *b = w->data;
        for (size_t e = 0; e < n; e++) {
            uint64_t v = 0;
            switch (ct.size) {
            case 1: v = b[e]; break;
            case 2: { uint16_t x; memcpy(&x, b + 2 * e, 2); v = x; } break;
            case 4: { uint32_t x; memcpy(&x, b + 4 * e, 4); v = x; } break;
            default: memcpy(&v, b + 8 * e, 8); break;
            }
            fputs(e ? (e % (size_t)per_line ? ", " : ",\n    ") : "\n    ", f);
            put_hex(f, v);
        }
        fputs(n ? "\n}};\n" : "0}};\n", f);
    }
}

/* Steps [first, end) as statements at nesting depth `depth` (indent 4 * depth): kernel calls, and the
 * control steps as C's own if/else and for over the steps that follow them. */
static int emit_steps(FILE *f, const mq_program *p, int first, int end, int depth)
{
    char expr[64];
    int ind = 4 * depth;
    for (int s = first; s < end;) {
        const mq_prog_step *st = &p->steps[s];
        char nm[120], op[64];
        comment_str(st->name, nm, sizeof nm);
        comment_str(st->op_type, op, sizeof op);
        if (nm[0]) fprintf(f, "%*s/* step %d: node '%s' (%s) */\n", ind, "", s, nm, op);
        else fprintf(f, "%*s/* step %d: an unnamed %s node */\n", ind, "", s, op);
        if (st->kind == MQ_STEP_IF) {
            int nt = st->p[0], ne = st->p[1];
            data_expr(p, st->in[0], expr, sizeof expr);
            fprintf(f, "%*sif (*(const unsigned char *)(const void *)(%s)) {\n", ind, "", expr);
            emit_steps(f, p, s + 1, s + 1 + nt, depth + 1);
            fprintf(f, "%*s} else {\n", ind, "");
            emit_steps(f, p, s + 1 + nt, s + 1 + nt + ne, depth + 1);
            fprintf(f, "%*s}\n", ind, "");
            s += 1 + nt + ne;
            continue;
        }
        if (st->kind == MQ_STEP_LOOP) {
            int nb = st->p[0];
            fprintf(f, "%*s{\n%*sint64_t it%d;\n", ind, "", ind + 4, "", depth);
            fprintf(f, "%*sfor (it%d = 0; it%d < %ld; it%d++) {\n", ind + 4, "", depth, depth, (long)st->p[1], depth);
            if (st->in[0] >= 0) {
                data_expr(p, st->in[0], expr, sizeof expr);
                fprintf(f, "%*sif (!*(const unsigned char *)(const void *)(%s)) break;\n", ind + 8, "", expr);
            }
            if (st->out[0] >= 0) {
                data_expr(p, st->out[0], expr, sizeof expr);
                fprintf(f, "%*smemcpy(%s, &it%d, sizeof it%d); /* the iteration counter */\n", ind + 8, "", expr,
                        depth, depth);
            }
            emit_steps(f, p, s + 1, s + 1 + nb, depth + 2);
            fprintf(f, "%*s}\n", ind + 4, "");
            if (st->p[2])
                fprintf(f, "%*sif (it%d < %ld) return -2; /* ended early: the scan outputs would be short */\n",
                        ind + 4, "", depth, (long)st->p[1]);
            fprintf(f, "%*s}\n", ind, "");
            s += 1 + nb;
            continue;
        }
        for (int k = 0; k < st->n_in; k++) {
            if (st->in[k] < 0) {
                fprintf(f, "%*smqm_none(&in[%d]);\n", ind, "", k);
                continue;
            }
            data_expr(p, st->in[k], expr, sizeof expr);
            fprintf(f, "%*smqm_bind(&in[%d], %d, %s);\n", ind, "", k, st->in[k], expr);
        }
        for (int k = 0; k < st->n_out; k++) {
            if (st->out[k] < 0) {
                fprintf(f, "%*smqm_none(&out[%d]);\n", ind, "", k);
                continue;
            }
            data_expr(p, st->out[k], expr, sizeof expr);
            fprintf(f, "%*smqm_bind(&out[%d], %d, %s);\n", ind, "", k, st->out[k], expr);
        }
        if (st->n_p) fprintf(f, "%*smqm_call(&c, mqm_p%d, %d, %d, %d, ", ind, "", s, st->n_p, st->n_in, st->n_out);
        else fprintf(f, "%*smqm_call(&c, 0, 0, %d, %d, ", ind, "", st->n_in, st->n_out);
        if (st->scratch_bytes) fprintf(f, "a + %lu);\n", (unsigned long)p->scratch_offset);
        else fputs("0);\n", f);
        fprintf(f, "%*smqk_k_%s(&c);\n", ind, "", st->kernel);
        s++;
    }
    return end;
}

static void emit_run(FILE *f, const model *m)
{
    const mq_program *p = m->p;
    int max_in = 1, max_out = 1;
    for (int s = 0; s < p->n_steps; s++) {
        if (p->steps[s].n_in > max_in) max_in = p->steps[s].n_in;
        if (p->steps[s].n_out > max_out) max_out = p->steps[s].n_out;
    }
    fprintf(f, "\n/* ---- parameters of each step (layouts beside each kernel in runtime/kernels/) ---- */\n");
    for (int s = 0; s < p->n_steps; s++) {
        const mq_prog_step *st = &p->steps[s];
        if (!st->n_p || st->kind != MQ_STEP_KERNEL) continue; /* control steps become C's if and for */
        fprintf(f, "static const int32_t mqm_p%d[%d] = {", s, st->n_p);
        for (int k = 0; k < st->n_p; k++) {
            if (k) fputs(k % 16 ? ", " : ",\n    ", f);
            put_i32(f, st->p[k]);
        }
        fputs("};\n", f);
    }
    fprintf(f, "\n/* ---- tensors: dtype (ONNX numbering), rank, dims; the data pointer is set at run time ---- */\n");
    fprintf(f, "static const mqr_tensor mqm_t[%d] = {\n", p->n_tensors ? p->n_tensors : 1);
    static const char *const locs[] = {"", "input", "output", "weight", "arena"};
    for (int t = 0; t < p->n_tensors; t++) {
        const mq_prog_tensor *pt = &p->tensors[t];
        char nm[120];
        comment_str(pt->name, nm, sizeof nm);
        fprintf(f, "    {%ld, %d, ", (long)pt->dtype, pt->rank);
        dims_init(f, pt);
        fprintf(f, ", 0}, /* %d '%s': %s", t, nm, pt->loc >= 1 && pt->loc <= 4 ? locs[pt->loc] : "?");
        if (pt->loc == MQ_LOC_ARENA) fprintf(f, " +%lu", (unsigned long)pt->offset);
        else fprintf(f, " %d", pt->index);
        fputs(" */\n", f);
    }
    if (!p->n_tensors) fputs("    {0, 0, {0}, 0}\n", f);
    fputs("};\n", f);

    fputs("\nstatic MQM_UNUSED void mqm_bind(mqr_tensor *r, int t, const void *data)\n{\n    *r = mqm_t[t];\n"
          "    r->data = (void *)data; /* kernels write only their outputs */\n}\n\n"
          "static MQM_UNUSED void mqm_none(mqr_tensor *r)\n{\n    memset(r, 0, sizeof *r);\n    r->rank = -1;\n}\n\n"
          "static MQM_UNUSED void mqm_call(mqr_call *c, const int32_t *p, int32_t n_p, int32_t n_in, int32_t n_out, void *scratch)\n"
          "{\n    c->p = p;\n    c->n_p = n_p;\n    c->n_in = n_in;\n    c->n_out = n_out;\n    c->scratch = scratch;\n}\n",
          f);
    if (p->n_bounded)
        fputs("\n/* The actual dims of a data-dependent shape, as its kernel wrote them at slot (kept inside the bound);\n"
              " * returns the element count. */\n"
              "static size_t mqm_dims(int32_t *dims, const unsigned char *slot, const int32_t *bound, int rank)\n{\n"
              "    size_t n = 1;\n    int d;\n    for (d = 0; d < rank; d++) {\n        int32_t v;\n"
              "        memcpy(&v, slot + 4 * d, 4);\n        dims[d] = v < 0 ? 0 : v > bound[d] ? bound[d] : v;\n"
              "        n *= (size_t)dims[d];\n    }\n    return n;\n}\n",
              f);
    if (!m->o->arena_caller)
        fprintf(f, "\n/* the arena: %lu bytes = planned tensors %lu + scratch %lu (at %lu) */\nstatic uint64_t mqm_arena[%lu];\n",
                (unsigned long)p->arena_bytes, (unsigned long)p->tensor_bytes, (unsigned long)p->scratch_bytes,
                (unsigned long)p->scratch_offset, (unsigned long)m->arena_words);

    fputc('\n', f);
    signature(f, m);
    fprintf(f, "\n{\n    unsigned char *a = (unsigned char *)%s;\n", m->o->arena_caller ? "arena" : "mqm_arena");
    fprintf(f, "    mqr_tensor in[%d], out[%d];\n    mqr_call c;\n", max_in, max_out);
    if (p->n_bounded) fputs("    size_t n;\n", f);
    fputs("    if (", f);
    int any = 0;
    for (int k = 0; k < p->n_inputs; k++) fprintf(f, "%s!in%d", any++ ? " || " : "", k);
    for (int k = 0; k < p->n_outputs; k++) fprintf(f, "%s!out%d", any++ ? " || " : "", k);
    for (int k = 0; k < p->n_outputs; k++)
        if (p->tensors[p->outputs[k]].shape >= 0) fprintf(f, "%s!out%d_dims", any++ ? " || " : "", k);
    if (m->o->arena_caller) fprintf(f, "%s!arena || (uintptr_t)arena %% 8u", any++ ? " || " : "");
    if (!any) fputs("!a", f);
    fputs(") return -1;\n    c.in = in;\n    c.out = out;\n    (void)a;\n    (void)c;\n", f);
    if (p->n_bounded) fputs("    (void)n;\n", f);
    emit_steps(f, p, 0, p->n_steps, 1);
    char expr[64];
    for (int k = 0; k < p->n_outputs; k++) {
        const mq_prog_tensor *t = &p->tensors[p->outputs[k]];
        if (t->shape >= 0) { /* the actual dims (clamped to the bound), then only the actual elements */
            ctype ct;
            ctype_of(t->dtype, &ct);
            fprintf(f, "    n = mqm_dims(out%d_dims, a + %lu, mqm_t[%d].dims, %d) * %lu; /* output %d: actual dims */\n", k,
                    (unsigned long)p->tensors[t->shape].offset, p->outputs[k], t->rank, (unsigned long)ct.size, k);
            if (t->loc == MQ_LOC_OUTPUT && t->index == k) continue;
            data_expr(p, p->outputs[k], expr, sizeof expr);
            fprintf(f, "    if (n) memmove(out%d, %s, n);\n", k, expr);
            continue;
        }
        if (t->loc == MQ_LOC_OUTPUT && t->index == k) continue;
        data_expr(p, p->outputs[k], expr, sizeof expr);
        if (!t->bytes) { /* an empty output: nothing to copy (an empty constant is still referenced) */
            if (t->loc == MQ_LOC_WEIGHT) fprintf(f, "    (void)%s; /* output %d is empty */\n", expr, k);
            continue;
        }
        fprintf(f, "    memmove(out%d, %s, %lu); /* output %d */\n", k, expr, (unsigned long)t->bytes, k);
    }
    fputs("    return 0;\n}\n", f);
}

/* The optional main(): a small self-contained .npy reader/writer and the command line. */
static const char main_common[] =
    "\n/* ---- main (--main): ./model in0.npy ... [-o DIR] writes DIR/output_0.npy ... ---- */\n"
    "#include <stdio.h>\n"
    "#if defined(__unix__) || defined(__APPLE__)\n"
    "#include <sys/stat.h>\n"
    "#define MQM_MKDIR(d) mkdir((d), 0777)\n"
    "#else\n"
    "#define MQM_MKDIR(d) ((void)(d), 0)\n"
    "#endif\n"
    "\n"
    "static MQM_UNUSED int mqm_little(void)\n"
    "{\n"
    "    const uint16_t one = 1;\n"
    "    unsigned char b;\n"
    "    memcpy(&b, &one, 1);\n"
    "    return b == 1;\n"
    "}\n"
    "\n"
    "static MQM_UNUSED void mqm_swap(unsigned char *p, size_t n, size_t es)\n"
    "{\n"
    "    size_t i, k;\n"
    "    for (i = 0; es > 1 && i < n; i++, p += es)\n"
    "        for (k = 0; k < es / 2; k++) {\n"
    "            unsigned char t = p[k];\n"
    "            p[k] = p[es - 1 - k];\n"
    "            p[es - 1 - k] = t;\n"
    "        }\n"
    "}\n"
    "\n"
    "static char mqm_hdr[65536];\n"
    "\n"
    "/* Reads a .npy file that holds exactly this dtype (kind f/i/u/b, es bytes) and shape into data. */\n"
    "static MQM_UNUSED int mqm_npy_read(const char *path, char kind, size_t es, int rank, const long *dims, void *data, size_t n)\n"
    "{\n"
    "    unsigned char pre[12];\n"
    "    unsigned long hl;\n"
    "    size_t pl;\n"
    "    const char *s;\n"
    "    char order = '|', k = 0;\n"
    "    unsigned long size = 0;\n"
    "    int r = 0, swap;\n"
    "    FILE *f = fopen(path, \"rb\");\n"
    "    if (!f) {\n"
    "        fprintf(stderr, \"%s: cannot open\\n\", path);\n"
    "        return -1;\n"
    "    }\n"
    "    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, \"\\223NUMPY\", 6) || pre[6] < 1 || pre[6] > 3) goto bad;\n"
    "    hl = pre[8] | (unsigned long)pre[9] << 8;\n"
    "    pl = 10;\n"
    "    if (pre[6] > 1) {\n"
    "        if (fread(pre + 10, 1, 2, f) != 2) goto bad;\n"
    "        hl |= (unsigned long)pre[10] << 16 | (unsigned long)pre[11] << 24;\n"
    "        pl = 12;\n"
    "    }\n"
    "    if (hl >= sizeof mqm_hdr || fread(mqm_hdr, 1, hl, f) != hl) goto bad;\n"
    "    (void)pl;\n"
    "    mqm_hdr[hl] = 0;\n"
    "    s = strstr(mqm_hdr, \"'descr'\");\n"
    "    if (!s || !(s = strchr(s + 7, ':'))) goto bad;\n"
    "    while (*++s == ' ') {}\n"
    "    if (*s != '\\'' && *s != '\"') goto bad;\n"
    "    order = s[1];\n"
    "    k = s[2];\n"
    "    for (s += 3; *s >= '0' && *s <= '9'; s++) size = size * 10 + (unsigned long)(*s - '0');\n"
    "    if (k != kind || size != es || !strchr(\"<>|=\", order)) {\n"
    "        fprintf(stderr, \"%s: dtype is not the model's (%c%lu)\\n\", path, kind, (unsigned long)es);\n"
    "        fclose(f);\n"
    "        return -1;\n"
    "    }\n"
    "    s = strstr(mqm_hdr, \"'fortran_order'\");\n"
    "    if (!s || !(s = strchr(s, ':'))) goto bad;\n"
    "    while (*++s == ' ') {}\n"
    "    if (*s != 'F' && rank > 1) {\n"
    "        fprintf(stderr, \"%s: Fortran order is not supported\\n\", path);\n"
    "        fclose(f);\n"
    "        return -1;\n"
    "    }\n"
    "    s = strstr(mqm_hdr, \"'shape'\");\n"
    "    if (!s || !(s = strchr(s, '('))) goto bad;\n"
    "    for (s++;;) {\n"
    "        long v = 0;\n"
    "        while (*s == ' ' || *s == ',') s++;\n"
    "        if (*s == ')') break;\n"
    "        if (*s < '0' || *s > '9') goto bad;\n"
    "        for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (*s - '0');\n"
    "        if (*s == 'L') s++;\n"
    "        if (r >= rank || v != dims[r]) r = -1000;\n"
    "        r++;\n"
    "    }\n"
    "    if (r != rank) {\n"
    "        fprintf(stderr, \"%s: shape is not the model's\\n\", path);\n"
    "        fclose(f);\n"
    "        return -1;\n"
    "    }\n"
    "    if (n && fread(data, es, n, f) != n) goto bad;\n"
    "    fclose(f);\n"
    "    swap = (order == '<' && !mqm_little()) || (order == '>' && mqm_little());\n"
    "    if (swap) mqm_swap((unsigned char *)data, n, es);\n"
    "    return 0;\n"
    "bad:\n"
    "    fprintf(stderr, \"%s: not a .npy file this program can read\\n\", path);\n"
    "    fclose(f);\n"
    "    return -1;\n"
    "}\n"
    "\n"
    "static MQM_UNUSED int mqm_npy_write(const char *path, char kind, size_t es, int rank, const long *dims, const void *data, size_t n)\n"
    "{\n"
    "    size_t l;\n"
    "    int d, ok;\n"
    "    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};\n"
    "    FILE *f;\n"
    "    l = (size_t)sprintf(mqm_hdr, \"{'descr': '%c%c%lu', 'fortran_order': False, 'shape': (\",\n"
    "                        es == 1 ? '|' : mqm_little() ? '<' : '>', kind, (unsigned long)es);\n"
    "    for (d = 0; d < rank; d++) l += (size_t)sprintf(mqm_hdr + l, \"%ld,%s\", dims[d], d + 1 < rank ? \" \" : \"\");\n"
    "    l += (size_t)sprintf(mqm_hdr + l, \"), }\");\n"
    "    while ((10 + l + 1) % 64) mqm_hdr[l++] = ' ';\n"
    "    mqm_hdr[l++] = '\\n';\n"
    "    pre[8] = (unsigned char)(l & 255);\n"
    "    pre[9] = (unsigned char)(l >> 8);\n"
    "    f = fopen(path, \"wb\");\n"
    "    if (!f) {\n"
    "        fprintf(stderr, \"%s: cannot write (does the folder exist?)\\n\", path);\n"
    "        return -1;\n"
    "    }\n"
    "    ok = fwrite(pre, 1, 10, f) == 10 && fwrite(mqm_hdr, 1, l, f) == l && (!n || fwrite(data, es, n, f) == n);\n"
    "    if (fclose(f) != 0 || !ok) {\n"
    "        fprintf(stderr, \"%s: write error\\n\", path);\n"
    "        return -1;\n"
    "    }\n"
    "    return 0;\n"
    "}\n";

static void emit_main(FILE *f, const model *m)
{
    const mq_program *p = m->p;
    fputs(main_common, f);
    for (int pass = 0; pass < 2; pass++) {
        int n = pass ? p->n_outputs : p->n_inputs;
        for (int k = 0; k < n; k++) {
            const mq_prog_tensor *t = &p->tensors[pass ? p->outputs[k] : p->inputs[k]];
            ctype ct;
            ctype_of(t->dtype, &ct);
            int64_t ne = numel(t);
            fprintf(f, "static %s mqm_%s%d[%lld];\n", ct.c, pass ? "out" : "in", k, (long long)(ne ? ne : 1));
            fprintf(f, "static %slong mqm_%s%d_dims[] = ", pass && t->shape >= 0 ? "" : "const ", pass ? "out" : "in", k);
            dims_init(f, t);
            fputs(";\n", f);
            if (pass && t->shape >= 0) fprintf(f, "static int32_t mqm_out%d_adims[%d];\n", k, t->rank);
        }
    }
    if (m->o->arena_caller) fprintf(f, "static uint64_t mqm_main_arena[%lu];\n", (unsigned long)m->arena_words);
    fprintf(f, "\nint main(int argc, char **argv)\n{\n    const char *files[%d] = {0};\n    const char *dir = \".\";\n"
               "    char path[4096];\n    int i, nf = 0;\n%s",
            p->n_inputs ? p->n_inputs : 1, p->n_bounded ? "    size_t n;\n" : "");
    fprintf(f, "    for (i = 1; i < argc; i++) {\n"
               "        if (!strcmp(argv[i], \"-o\") && i + 1 < argc) {\n"
               "            dir = argv[++i];\n"
               "        } else if (argv[i][0] == '-' && argv[i][1]) {\n"
               "            fprintf(stderr, \"usage: %%s");
    for (int k = 0; k < p->n_inputs; k++) fprintf(f, " in%d.npy", k);
    fprintf(f, " [-o DIR]\\n  runs the model, writes DIR/output_0.npy ...\\n\", argv[0]);\n"
               "            return 2;\n"
               "        } else if (nf < %d) {\n"
               "            files[nf++] = argv[i];\n"
               "        } else {\n"
               "            fprintf(stderr, \"%%s: the model has %d input(s)\\n\", argv[0]);\n"
               "            return 2;\n"
               "        }\n"
               "    }\n"
               "    if (nf != %d) {\n"
               "        fprintf(stderr, \"%%s: the model has %d input(s), %%d given\\n\", argv[0], nf);\n"
               "        return 2;\n"
               "    }\n",
            p->n_inputs, p->n_inputs, p->n_inputs, p->n_inputs);
    for (int k = 0; k < p->n_inputs; k++) {
        const mq_prog_tensor *t = &p->tensors[p->inputs[k]];
        ctype ct;
        ctype_of(t->dtype, &ct);
        int64_t ne = numel(t);
        fprintf(f, "    if (mqm_npy_read(files[%d], '%c', %lu, %d, mqm_in%d_dims, mqm_in%d, %lld)) return 1;\n", k, ct.kind,
                (unsigned long)ct.size, t->rank, k, k, (long long)ne);
    }
    fprintf(f, "    if (%s_run(", m->prefix);
    int first = 1;
    for (int k = 0; k < p->n_inputs; k++, first = 0) fprintf(f, "%smqm_in%d", first ? "" : ", ", k);
    for (int k = 0; k < p->n_outputs; k++, first = 0) fprintf(f, "%smqm_out%d", first ? "" : ", ", k);
    for (int k = 0; k < p->n_outputs; k++)
        if (p->tensors[p->outputs[k]].shape >= 0) fprintf(f, ", mqm_out%d_adims", k);
    if (m->o->arena_caller) fprintf(f, "%smqm_main_arena", first ? "" : ", ");
    fprintf(f, ")) {\n        fprintf(stderr, \"%%s: the run failed\\n\", argv[0]);\n        return 1;\n    }\n"
               "    (void)MQM_MKDIR(dir);\n    (void)files;\n");
    for (int k = 0; k < p->n_outputs; k++) {
        const mq_prog_tensor *t = &p->tensors[p->outputs[k]];
        ctype ct;
        ctype_of(t->dtype, &ct);
        char sh[200];
        shape_str(t, sh, sizeof sh);
        fprintf(f, "    if (strlen(dir) + 32 > sizeof path) {\n        fprintf(stderr, \"%%s: output dir path too long\\n\", dir);\n"
                   "        return 1;\n    }\n");
        fprintf(f, "    sprintf(path, \"%%s/output_%d.npy\", dir);\n", k);
        if (t->shape >= 0) { /* the actual shape */
            fprintf(f, "    n = 1;\n    for (i = 0; i < %d; i++) n *= (size_t)(mqm_out%d_dims[i] = mqm_out%d_adims[i]);\n", t->rank,
                    k, k);
            fprintf(f, "    if (mqm_npy_write(path, '%c', %lu, %d, mqm_out%d_dims, mqm_out%d, n)) return 1;\n", ct.kind,
                    (unsigned long)ct.size, t->rank, k, k);
            fprintf(f, "    printf(\"%%s: %s (at most %s)\\n\", path);\n", mq_dtype_name((mq_dtype)t->dtype), sh);
            continue;
        }
        fprintf(f, "    if (mqm_npy_write(path, '%c', %lu, %d, mqm_out%d_dims, mqm_out%d, %lld)) return 1;\n", ct.kind,
                (unsigned long)ct.size, t->rank, k, k, (long long)numel(t));
        fprintf(f, "    printf(\"%%s: %s %s\\n\", path);\n", mq_dtype_name((mq_dtype)t->dtype), sh);
    }
    fputs("    return 0;\n}\n", f);
}

static mq_status check_prefix(const char *s, mq_err *err)
{
    size_t n = strlen(s);
    if (!n || n > MAX_PREFIX || isdigit((unsigned char)s[0]))
        return mq_fail(err, MQ_ERR_INVALID, "prefix '%s' is not a C identifier (1..%d letters, digits, _)", s, MAX_PREFIX);
    for (size_t i = 0; i < n; i++)
        if (!is_ident_char(s[i]) || (unsigned char)s[i] > 0x7e)
            return mq_fail(err, MQ_ERR_INVALID, "prefix '%s' is not a C identifier (letters, digits, _)", s);
    return MQ_OK;
}

mq_status mq_emit_c(const mq_program *p, const mq_emit_c_opts *o, FILE *c_out, FILE *h_out, mq_err *err)
{
    mq_emit_c_opts def;
    if (!o) {
        mq_emit_c_opts_init(&def);
        o = &def;
    }
    if (!p || !c_out || !h_out) return mq_fail(err, MQ_ERR_INVALID, "mq_emit_c: missing argument");
    model *m = mq_calloc(1, sizeof *m);
    if (!m) return mq_fail(err, MQ_ERR_NOMEM, "out of memory emitting C");
    mq_status st = MQ_OK;
    const char **kernels = NULL;
    m->p = p;
    m->o = o;
    const char *prefix = o->prefix ? o->prefix : "model";
    if ((st = check_prefix(prefix, err)) != MQ_OK) goto done;
    snprintf(m->prefix, sizeof m->prefix, "%s", prefix);
    for (size_t i = 0; m->prefix[i]; i++) m->up[i] = (char)toupper((unsigned char)m->prefix[i]);
    snprintf(m->header, sizeof m->header, "%s", o->header_name ? o->header_name : "");
    if (!o->header_name) snprintf(m->header, sizeof m->header, "%s.h", m->prefix);
    for (const char *c = m->header; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) {
            st = mq_fail(err, MQ_ERR_INVALID, "header name '%s' cannot be #included", m->header);
            goto done;
        }
    m->arena_words = (p->arena_bytes + 7) / 8;
    if (!m->arena_words) m->arena_words = 1;
    for (int t = 0; t < p->n_tensors; t++) {
        ctype ct;
        if (!ctype_of(p->tensors[t].dtype, &ct)) {
            st = mq_fail(err, MQ_ERR_UNSUPPORTED, "tensor '%s': dtype %s has no C type in the C backend", p->tensors[t].name,
                         mq_dtype_name((mq_dtype)p->tensors[t].dtype));
            goto done;
        }
    }
    /* the distinct kernels, in order of first use */
    kernels = mq_calloc((size_t)p->n_steps + 1, sizeof *kernels);
    if (!kernels) {
        st = mq_fail(err, MQ_ERR_NOMEM, "out of memory emitting C");
        goto done;
    }
    int nk = 0;
    for (int s = 0; s < p->n_steps; s++) {
        int seen = !p->steps[s].kernel; /* a control step */
        for (int k = 0; k < nk && !seen; k++) seen = !strcmp(kernels[k], p->steps[s].kernel);
        if (!seen) kernels[nk++] = p->steps[s].kernel;
    }

    emit_header(h_out, m);

    FILE *f = c_out;
    char src[300];
    comment_str(o->source_name ? base_name(o->source_name) : "an ONNX model", src, sizeof src);
    fprintf(f, "/* %s.c: the model compiled by maqdc from %s (API in %s): the runtime kernels it uses,\n"
               " * its weights and one run function. C99, no malloc. Generated: do not edit. */\n",
            m->prefix, src, m->header);
    if (o->with_main) fputs("#define _POSIX_C_SOURCE 200809L /* mkdir, for main() only */\n", f);
    fprintf(f, "#include \"%s\"\n\n", m->header);
    fputs(unused_macro, f);
    if (nk) st = emit_kernels(f, kernels, nk, err);
    else fprintf(f, "#include <string.h>\n"), st = emit_file(&(inliner){.f = f, .err = err}, embedded(KERNEL_H), 0);
    if (st != MQ_OK) goto done;
    fprintf(f, "\n/* ==== the model: %d steps, %d weights (%lu bytes), arena %lu bytes ==== */\n", p->n_steps,
            p->n_weights, (unsigned long)p->weight_bytes, (unsigned long)p->arena_bytes);
    emit_weights(f, m);
    emit_run(f, m);
    if (o->with_main) emit_main(f, m);
    if (ferror(c_out) || ferror(h_out)) st = mq_fail(err, MQ_ERR_IO, "write error emitting C");
done:
    mq_free(kernels);
    mq_free(m);
    return st;
}

mq_status mq_emit_c_files(const mq_program *p, const mq_emit_c_opts *o, const char *c_path, const char *h_path,
                          mq_err *err)
{
    /* both written to unique temporaries (frontend/tensor_io.h), renamed only once both are complete */
    mq_atomic_file fc, fh;
    MQ_TRY(mq_atomic_open(&fc, c_path, err));
    mq_status st = mq_atomic_open(&fh, h_path, err);
    if (st != MQ_OK) {
        mq_atomic_abort(&fc);
        return st;
    }
    st = mq_emit_c(p, o, fc.f, fh.f, err);
    if (st == MQ_OK) st = mq_atomic_commit(&fh, err);
    if (st == MQ_OK) st = mq_atomic_commit(&fc, err);
    mq_atomic_abort(&fh); /* no-ops after a commit */
    mq_atomic_abort(&fc);
    return st;
}

void mq_emit_c_prefix_from_path(const char *path, char *buf, size_t n)
{
    if (!n) return;
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t l = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    size_t k = 0;
    if (l && isdigit((unsigned char)b[0]) && n > 3) {
        buf[k++] = 'm';
        buf[k++] = '_';
    }
    for (size_t i = 0; i < l && k + 1 < n && k < MAX_PREFIX; i++)
        buf[k++] = is_ident_char(b[i]) && (unsigned char)b[i] <= 0x7e ? b[i] : '_';
    if (!k && n > 5) {
        memcpy(buf, "model", 5);
        k = 5;
    }
    buf[k] = 0;
}
