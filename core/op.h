/* op.h: one definition per op serves every consumer: shape/dtype inference, the reference executor,
 * (issue 4) the trainer's backward rule and (issue 3) the backends' kernel choice. Each op family file
 * in ops/ exports a table of these; ops/registry.c lists the families. */
#ifndef MQ_OP_H
#define MQ_OP_H

#include "core/graph.h"
#include "runtime/mqr_kernel.h"

/* Inference: validate attributes and input dtypes/ranks; set every present output's dtype and shape.
 * in[i] is NULL for an omitted optional input. An input whose data is non-NULL has a known value
 * (constant at import, always at run time). If an output shape depends on a value that is not known
 * yet, set that output's rank to -1 (run-time shape) and return MQ_OK. */
typedef mq_status (*mq_infer_fn)(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                 mq_err *err);
/* Forward: compute the outputs. Shapes are as inference set them with all data known; every present
 * output has data allocated (mq_nbytes bytes, at least 1). May assume inference succeeded. */
typedef mq_status (*mq_forward_fn)(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                   mq_err *err);

/* Lowering (for the backends, and the executor's kernel path): choose the runtime kernel for this node
 * with static shapes and write its parameters. in[i]->data is non-NULL for constants (weights, shape
 * inputs), whose values may be baked into parameters. Return MQ_ERR_UNSUPPORTED (naming the node and
 * the reason) if no runtime kernel covers this combination of dtypes and attributes. */
typedef struct mq_kcall {
    const char *kernel;               /* name in the runtime's kernel list (runtime/kernels/list_*.h) */
    int32_t p[MQR_MAX_PARAMS];
    int n_p;
    size_t scratch_bytes;
    /* Data-dependent output shapes (NonZero, Compress, Unique, NonMaxSuppression): lower is called with
     * such outputs at rank -1 and, for each, sets bit k of `bounded` and bound_rank[k], bound[k] to
     * output k's largest dims (k < MQ_KCALL_MAX_BOUND). The kernel then takes, after the node's outputs,
     * one int32 [rank] output per bounded output (in order) where it writes the actual dims; the data
     * is written compactly for those dims (docs/C_BACKEND.md, "Data-dependent output shapes"). */
    unsigned bounded;
    int bound_rank[4];
    int64_t bound[4][MQR_MAX_RANK];
} mq_kcall;
#define MQ_KCALL_MAX_BOUND 4
typedef mq_status (*mq_lower_fn)(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                 mq_kcall *kc, mq_err *err);

/* Backward (the trainer, issue 4): in[] and out[] are the node's inputs and outputs with the values
 * the forward computed (in[i] NULL for an omitted optional input); dout[k] is dL/d(output k) as float32
 * with output k's shape (NULL: no gradient reaches that output). For every i with din[i] != NULL, write
 * (overwrite, do not accumulate) dL/d(input i) into din[i], float32 with input i's shape. The caller
 * passes din[i] only for float inputs it needs. Quantizers use their surrogate gradients. */
typedef mq_status (*mq_backward_fn)(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                                    const float *const *dout, float *const *din, mq_err *err);

typedef struct mq_op_def {
    const char *op_type;
    const char *domain;          /* "" for ai.onnx */
    int since, until;            /* opset versions supported, inclusive (until 0: any newer too) */
    int min_in, max_in;          /* inputs, counting omitted optional ones (max -1: variadic) */
    int min_out, max_out;        /* max -1: variadic */
    uint32_t shape_only_in;      /* bitmask of inputs whose values forward never reads (Shape, Size) */
    /* Bitmask of inputs whose values a static program needs (a shape, axes, sizes, counts, pads: what
     * infer or lower reads as a value). The backends name the graph inputs these come from, so a user
     * can freeze them (`maqdc --const`). Data inputs, even those read as a whole, are not in it. */
    uint32_t static_in;
    unsigned nondeterministic : 1; /* never fold at import (Random*, Bernoulli) */
    unsigned bounded_out : 1;      /* lower bounds outputs whose shapes depend on values (mq_kcall.bounded) */
    mq_infer_fn infer;
    mq_forward_fn forward;
    /* Bitmask of inputs whose buffer output 0 may reuse (in-place) when this node is that input's
     * last use and the two have the same dtype and element count (backend/plan.c checks that): the
     * kernel reads element i of such an input before it writes element i of the output, and never
     * reads it after (elementwise ops), or the output is the input's bytes (Reshape: an alias).
     * Kernels must tolerate out == in (no memcpy onto itself). 0: never. */
    uint32_t inplace_in;
    /* Lowering to a runtime kernel (see mq_lower_fn); NULL: the backends cannot compile this op yet.
     * Ops whose forward is mq_forward_lowered run that same kernel in the executor. */
    mq_lower_fn lower;
    /* Backward rule (see mq_backward_fn); NULL: not differentiable here (ops/grad.h's mq_op_backward
     * also looks in the trainer's table while rules move into the op files). */
    mq_backward_fn backward;
} mq_op_def;

/* A forward that lowers the node and runs the chosen runtime kernel on the host, so the executor
 * checks the very kernels the backends ship. */
mq_status mq_forward_lowered(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err);
/* Run a lowered call on host tensors (allocates and frees the scratch). */
mq_status mq_run_kcall(const mq_node *n, const mq_kcall *kc, const mq_tensor *const *in, mq_tensor *const *out,
                       mq_err *err);
/* Host tensor to kernel tensor (fails naming the node if a dim or the element count exceeds int32). */
mq_status mq_to_mqr(const mq_node *n, const mq_tensor *t, mqr_tensor *r, mq_err *err);

/* Look up by domain ("" or "ai.onnx" for the default), op type and the model's opset for that
 * domain. *why is set when the op is known but not at that opset version. */
const mq_op_def *mq_op_find(const char *domain, const char *op_type, int opset, const char **why);
/* Walk every definition (tests sweep the table). Returns NULL past the end. */
const mq_op_def *mq_op_at(int i);

/* Op families: each ops/<family>.c defines `const mq_op_def *const mq_ops_<family>[]`, NULL-ended. */
#define MQ_OP_FAMILIES(X)                                                                          \
    X(elementwise)                                                                                 \
    X(nn)                                                                                          \
    X(shape)                                                                                       \
    X(reduce)                                                                                      \
    X(misc)                                                                                        \
    X(loss)                                                                                        \
    X(signal)                                                                                      \
    X(control)                                                                                     \
    X(maqd)                                                                                        \
    X(maqd_int)
#define X(f) extern const mq_op_def *const mq_ops_##f[];
MQ_OP_FAMILIES(X)
#undef X

#endif
