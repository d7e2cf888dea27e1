/* onnx_import.h: ONNX ModelProto (protobuf-c, Debian's onnx.proto) into the graph IR, then shape and
 * dtype inference with constant folding. */
#ifndef MQ_ONNX_IMPORT_H
#define MQ_ONNX_IMPORT_H

#include "core/graph.h"

typedef struct mq_import_opts {
    /* "--shape" pins: "NAME=1x3x224x224" pins graph input NAME's whole shape; "SYM=4" pins every
     * symbolic dimension called SYM. Unpinned symbolic dims default to 1 (with a note). */
    int n_shapes;
    const char *const *shapes;
    /* "--const" values: graph input consts[i].name frozen to consts[i] (dtype and shape must be the
     * declared ones; symbolic dims take the value's). A frozen input becomes a constant and leaves the
     * graph's inputs, so its value folds and fixes shapes and kernel parameters. */
    int n_consts;
    const mq_tensor *consts;
    /* Keep going when ops are unsupported: the graph is returned with the list in *unsupported
     * (`maqdc info` prints it) instead of failing. */
    int allow_unsupported;
    /* The limits on untrusted models (0 in a field: its default below). Each one exceeded fails with
     * MQ_ERR_LIMIT and a message naming the tensor/node and the limit (docs/ROBUSTNESS.md); maqdc
     * sets them with --max-rank, --max-elems, --max-bytes, --max-nodes. */
    int64_t max_elems;      /* elements of any one tensor (initializers, inputs, inferred values) */
    int64_t max_bytes;      /* the model file and its external data together */
    int max_nodes;          /* nodes, subgraphs included */
    int max_rank;           /* rank of any tensor, 1..MQ_MAX_RANK */
} mq_import_opts;

#define MQ_DEFAULT_MAX_ELEMS ((int64_t)1 << 32)
#define MQ_DEFAULT_MAX_BYTES ((int64_t)4 << 30)
#define MQ_DEFAULT_MAX_NODES 1000000
#define MQ_DEFAULT_MAX_RANK MQ_MAX_RANK

typedef struct mq_import_result {
    mq_graph *graph;
    /* Notes for the user (e.g. "input 'x' dim 0 'batch' is symbolic: using 1"), one per line. */
    char *notes;            /* mq_malloc'ed, may be NULL; freed by mq_import_result_free */
    /* Unsupported ops, one per line: "node 'n3' op Foo domain 'com.x': unknown domain". */
    char *unsupported;      /* mq_malloc'ed, NULL if none */
    int n_unsupported;
} mq_import_result;

/* Import a model file. On failure the message names the file (and node/op where it applies).
 * All unsupported ops, unknown domains and unsupported opset versions are reported together.
 * After success the graph is topologically sorted and inferred (mq_graph_infer). */
mq_status mq_import_onnx_file(const char *path, const mq_import_opts *opts, mq_import_result *res,
                              mq_err *err);
/* Same from memory; base_dir is where external data files are looked up (NULL: none allowed). */
mq_status mq_import_onnx_buffer(const void *buf, size_t len, const char *base_dir, const char *path_for_msgs,
                                const mq_import_opts *opts, mq_import_result *res, mq_err *err);
void mq_import_result_free(mq_import_result *res);

/* Import specialized to given input values (frontend/import_pinned.c): where a value's shape differs
 * from a graph input's symbolic dimensions as imported, those inputs are pinned to the values' shapes.
 * Explicit pins in opts stay in force. */
mq_status mq_import_onnx_for_inputs(const char *path, const mq_import_opts *opts, const mq_tensor *inputs,
                                    int n_inputs, mq_import_result *res, mq_err *err);

#endif
