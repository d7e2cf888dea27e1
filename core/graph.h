/* graph.h: the IR. A graph owns tensors (values with dtype, shape and maybe data) and nodes (an op
 * applied to tensor ids), kept in topological order; everything lives in the graph's arena. */
#ifndef MQ_GRAPH_H
#define MQ_GRAPH_H

#include "core/alloc.h"
#include "core/dtype.h"
#include "core/status.h"

#include <stddef.h>
#include <stdint.h>

#define MQ_MAX_RANK 8

/* A tensor: in the graph it describes a value; in the executor the same struct holds a run-time value.
 * rank < 0: shape unknown until run time (data-dependent). data != NULL: value known (initializer,
 * Constant, or folded at import; or, in the executor, computed). */
typedef struct mq_tensor {
    const char *name;
    mq_dtype dtype;               /* MQ_UNDEFINED until inferred */
    mq_dtype decl_dtype;          /* the model's type where the IR holds another: MQ_F16/MQ_BF16 values
                                   * are held as MQ_F32 (CastLike needs the declared one); else 0 */
    int rank;                     /* -1: unknown */
    int64_t dims[MQ_MAX_RANK];
    uint32_t sym_mask;            /* graph inputs: bit d set if dim d was symbolic (any size accepted) */
    void *data;                   /* row-major, dtype elements; NULL if not known */
    int producer;                 /* index of the producing node, -1 for inputs and constants */
    unsigned is_input : 1;        /* a graph input the caller supplies */
    unsigned is_output : 1;       /* a graph output */
    unsigned is_const : 1;        /* value fixed at import (initializer, Constant, folded) */
} mq_tensor;

/* Attribute kinds, numbered as ONNX's AttributeProto.AttributeType. */
typedef enum mq_attr_type {
    MQ_ATTR_UNDEFINED = 0,
    MQ_ATTR_FLOAT = 1,
    MQ_ATTR_INT = 2,
    MQ_ATTR_STRING = 3,
    MQ_ATTR_TENSOR = 4,
    MQ_ATTR_GRAPH = 5,
    MQ_ATTR_FLOATS = 6,
    MQ_ATTR_INTS = 7,
    MQ_ATTR_STRINGS = 8,
    MQ_ATTR_TENSORS = 9,
    MQ_ATTR_GRAPHS = 10,
    MQ_ATTR_SPARSE_TENSOR = 11,
    MQ_ATTR_SPARSE_TENSORS = 12,
    MQ_ATTR_TYPE_PROTO = 13,
    MQ_ATTR_TYPE_PROTOS = 14
} mq_attr_type;

typedef struct mq_attr {
    const char *name;
    mq_attr_type type;
    float f;
    int64_t i;
    const char *s;          /* NUL-terminated copy; s_len bytes (may hold NULs) */
    size_t s_len;
    int n;                  /* element count of floats / ints / strings / tensors */
    const float *floats;
    const int64_t *ints;
    const char *const *strings;
    const mq_tensor *t;     /* MQ_ATTR_TENSOR */
    const mq_tensor *const *tensors;
    const struct mq_graph *g;               /* MQ_ATTR_GRAPH: a subgraph (If/Loop/Scan body) */
    const struct mq_graph *const *graphs;   /* MQ_ATTR_GRAPHS (n of them) */
} mq_attr;

struct mq_op_def;

typedef struct mq_node {
    const char *name;       /* never NULL; "" if the model gave none (then n<index> is used in messages) */
    const char *op_type;
    const char *domain;     /* "" for the default ONNX domain */
    int opset;              /* the model's opset version for this node's domain */
    int n_in, n_out;
    int *in, *out;          /* tensor ids; -1 for an omitted optional input/output */
    int n_attr;
    mq_attr *attrs;
    const struct mq_op_def *def; /* NULL if unsupported */
    /* The last n_hidden_in of in[] are not ONNX inputs: they are outer-scope values that the node's
     * subgraphs read (If/Loop/Scan), listed so sorting and liveness see them; 0 for other nodes.
     * They match, in order, the captures of each of the node's subgraphs (mq_graph.n_captures). */
    int n_hidden_in;
} mq_node;

typedef struct mq_opset_import {
    const char *domain;
    int64_t version;
} mq_opset_import;

typedef struct mq_graph {
    mq_arena *arena;
    const char *path;            /* model file, for messages */
    const char *name;
    int64_t ir_version;
    const char *producer;
    int n_opsets;
    mq_opset_import *opsets;
    int opset;                   /* default-domain version */
    int n_tensors, cap_tensors;
    mq_tensor *tensors;
    int n_nodes, cap_nodes;
    mq_node *nodes;              /* topological order after mq_graph_toposort */
    int n_inputs, n_outputs;
    int *inputs, *outputs;       /* tensor ids, in the model's order (inputs exclude initializers) */
    int dynamic;                 /* some shape is only known at run time */
    int *name_hash;              /* open addressing over tensor names: tensor id + 1, 0 empty */
    int hash_cap;                /* power of two, > 2 * cap_tensors */
    /* Subgraphs (attributes of If/Loop/Scan) live in the top graph's arena and are freed with it:
     * never call mq_graph_free on one. Their inputs are the formal inputs followed by n_captures
     * outer-scope values (named as in the outer graph), which the owning node passes as its hidden
     * inputs. parent is NULL and n_captures 0 for the top graph. */
    const struct mq_graph *parent;
    int n_captures;
} mq_graph;

/* Building (frontend and passes). Arrays are sized up front by the caller (cap_*). */
mq_status mq_graph_new(int cap_tensors, int cap_nodes, mq_graph **out, mq_err *err);
void mq_graph_free(mq_graph *g);
/* Find or add the tensor with this name; returns its id or -1 on allocation failure / full. */
int mq_graph_tensor(mq_graph *g, const char *name);
int mq_graph_find(const mq_graph *g, const char *name); /* -1 if absent */
mq_node *mq_graph_add_node(mq_graph *g);                /* NULL if full */
/* Sort nodes topologically; fails naming a node on a cycle or on an input no one produces. */
mq_status mq_graph_toposort(mq_graph *g, mq_err *err);

/* Tensor helpers. */
int64_t mq_numel(const mq_tensor *t);   /* product of dims (1 for rank 0); -1 if rank unknown */
size_t mq_nbytes(const mq_tensor *t);   /* numel * element size */
/* Validated element count: fails with MQ_ERR_LIMIT on negative dims or overflow past max_elems. */
mq_status mq_shape_numel(const int64_t *dims, int rank, int64_t max_elems, int64_t *out, mq_err *err);
void mq_tensor_set_shape(mq_tensor *t, int rank, const int64_t *dims);
int mq_shape_equal(const mq_tensor *a, const mq_tensor *b);
/* "1x3x224x224" into buf; "?" if unknown, "scalar" for rank 0 */
const char *mq_shape_str(const mq_tensor *t, char *buf, size_t n);

/* Attribute look-up (NULL / default if absent). */
const mq_attr *mq_attr_get(const mq_node *n, const char *name);
int64_t mq_attr_int(const mq_node *n, const char *name, int64_t dflt);
float mq_attr_float(const mq_node *n, const char *name, float dflt);
const char *mq_attr_str(const mq_node *n, const char *name, const char *dflt);
/* Returns the count and sets *vals, or -1 if absent. */
int mq_attr_ints(const mq_node *n, const char *name, const int64_t **vals);
int mq_attr_floats(const mq_node *n, const char *name, const float **vals);

/* Node input/output helpers: the tensor id, or -1 if absent/omitted. */
static inline int mq_node_in(const mq_node *n, int i) { return i < n->n_in ? n->in[i] : -1; }
static inline int mq_node_out(const mq_node *n, int i) { return i < n->n_out ? n->out[i] : -1; }

#endif
