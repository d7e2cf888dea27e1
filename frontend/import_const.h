/* import_const.h: graph inputs frozen to values at import (mq_import_opts.consts, `maqdc --const`);
 * used by the importer (frontend/onnx_import.c). */
#ifndef MQ_IMPORT_CONST_H
#define MQ_IMPORT_CONST_H

#include "frontend/onnx_import.h"

/* Index in o->consts of the value for graph input `name`, or -1. */
int mq_import_const_find(const mq_import_opts *o, const char *name);
/* Freeze graph input t (typed and shaped from the model) to value v: v's dtype must be t's and its shape
 * t's declared one (symbolic dims take v's); t becomes a constant holding a copy in g's arena and is no
 * longer an input (the caller leaves it out of g->inputs). */
mq_status mq_import_const_apply(mq_graph *g, mq_tensor *t, const mq_tensor *v, mq_err *err);
/* After the graph inputs: every const named a graph input once (used[i] set by the caller). */
mq_status mq_import_const_check_used(const mq_graph *g, const mq_import_opts *o, const unsigned char *used,
                                     mq_err *err);

#endif
