/* maqdc_backends.h: the maqdc commands of the backends (tools/maqdc_compile.c): compiling a model to a
 * .mqd (and, later, to C), running a .mqd through the runtime, and the program summary of `info`. */
#ifndef MAQDC_BACKENDS_H
#define MAQDC_BACKENDS_H

#include "core/graph.h"
#include "frontend/onnx_import.h"

#include <stdio.h>

/* `maqdc MODEL -o OUT [--shape NAME=DIMS]...`: argv holds everything after "maqdc". Exit code. */
int maqdc_compile(int argc, char **argv);
void maqdc_usage_compile(FILE *f);
/* Does this path name a packed model (.mqd)? `maqdc run` hands those to maqdc_run_mqd. */
int maqdc_is_mqd(const char *path);
/* `maqdc run MODEL.mqd --input FILE... --output-dir DIR`: inputs in graph-input order. Exit code. */
int maqdc_run_mqd(const char *model, int n_inputs, const char *const *inputs, const char *out_dir,
                  int64_t max_bytes); /* max_bytes: cap on the .mqd file (0: 4 GiB) */
/* Lines for `maqdc info`: the lowered program (steps, kernels, weights, arena with scratch), or why
 * the model cannot be compiled yet. */
void maqdc_info_program(const mq_graph *g, FILE *f);
/* Create the output directory if missing (tools/maqdc.c); prints the error; 0 on success. */
int maqdc_ensure_dir(const char *dir);

/* tools/maqdc_limits.c: argv[*i] as a limit option (--max-rank/--max-elems/--max-bytes/--max-nodes,
 * "--opt V" or "--opt=V") into o: 1 consumed (*i advanced past its value), 0 not one, -1 bad value
 * (printed). maqdc_limit_hint: the end of an error line saying how to raise the limits after an
 * MQ_ERR_LIMIT ("" for other errors). */
int maqdc_limit_option(int argc, char **argv, int *i, mq_import_opts *o);
const char *maqdc_limit_hint(mq_status st);
void maqdc_usage_limits(FILE *f);

#endif
