/* emit_c.h: the portable C backend: a lowered program (backend/program.h) becomes one C99 file (the
 * kernels it uses copied from runtime/, weights, parameters, the run function) and its header. */
#ifndef MQ_EMIT_C_H
#define MQ_EMIT_C_H

#include "backend/program.h"
#include "core/status.h"

#include <stddef.h>
#include <stdio.h>

typedef struct mq_emit_c_opts {
    const char *prefix;        /* C identifier for the API (PREFIX_run, PREFIX_IN0_SIZE); NULL: "model" */
    const char *header_name;   /* how model.c includes its header; NULL: "<prefix>.h" */
    const char *source_name;   /* the model file, named in the opening comments; may be NULL */
    int arena_caller;          /* 1: PREFIX_run takes `void *arena` (PREFIX_ARENA_BYTES); 0: static arena */
    int with_main;             /* 1: add main() reading inputs from .npy and writing DIR/output_K.npy */
} mq_emit_c_opts;

void mq_emit_c_opts_init(mq_emit_c_opts *o);

/* The program options the C backend builds with: graph outputs are written straight into the
 * caller's buffers (no copy, less arena). */
void mq_emit_c_program_opts(mq_program_opts *po);

/* Writes the C source to c_out and the header to h_out. Fails (MQ_ERR_INVALID) on a prefix that is
 * not a C identifier, MQ_ERR_UNSUPPORTED on a dtype or kernel it cannot emit, MQ_ERR_IO on a write
 * error. */
mq_status mq_emit_c(const mq_program *p, const mq_emit_c_opts *o, FILE *c_out, FILE *h_out, mq_err *err);

/* As mq_emit_c into files (each written to PATH.tmp, then renamed; nothing is left on failure). */
mq_status mq_emit_c_files(const mq_program *p, const mq_emit_c_opts *o, const char *c_path, const char *h_path,
                          mq_err *err);

/* The default prefix from an output path: the file name without folder and extension, every
 * character that cannot be in a C identifier turned into '_' ("out/fashion-cnn.c" -> "fashion_cnn";
 * a leading digit gets "m_"). Always NUL-terminates buf (n >= 1). */
void mq_emit_c_prefix_from_path(const char *path, char *buf, size_t n);

/* Writes the runtime sources that define the given kernels (names as in runtime/kernels/list_*.h),
 * inlined as in an emitted model (headers resolved once each, functions static). n 0: every kernel
 * of the runtime (the amalgamation test compiles that to find clashes between kernel files). */
mq_status mq_emit_c_kernels(FILE *f, const char *const *kernels, int n, mq_err *err);

/* The runtime's headers and kernel sources, embedded at build time by cmake/embed_runtime.cmake:
 * path relative to the source root ("runtime/kernels/conv.c"), NUL-terminated text, length. */
typedef struct mq_embedded_file {
    const char *path;
    const char *text;
    size_t len;
} mq_embedded_file;
extern const mq_embedded_file mq_embedded_runtime[];
extern const int mq_embedded_runtime_count;

#endif
