/* shape_common.h: private to the 'shape' op family (ops/shape*.c): the op definitions each file exports
 * to the family table in shape.c, and the helpers they share (index reads, lowering to the runtime kernels). */
#ifndef MQ_OPS_SHAPE_COMMON_H
#define MQ_OPS_SHAPE_COMMON_H

#include "ops/util.h"

#include <stddef.h>
#include <stdint.h>

/* Element-count cap used when an op computes a shape from values (Range, Tile, Expand, ...): the
 * importer's default cap (MQ_DEFAULT_MAX_ELEMS), which constant folding and the executor do not apply;
 * it also keeps every byte offset far from int64/size_t overflow. */
#define MQ_SHAPE_MAX_ELEMS ((int64_t)1 << 32)

/* Rank of the helper views below: ops view tensors with up to twice the IR rank (Tile, DepthToSpace). */
#define MQ_VIEW_MAX_RANK (2 * MQ_MAX_RANK)

/* Input / output i of a node, NULL when absent or omitted. */
static inline const mq_tensor *sh_in(const mq_node *n, const mq_tensor *const *in, int i)
{
    return i < n->n_in ? in[i] : NULL;
}
static inline mq_tensor *sh_out(const mq_node *n, mq_tensor *const *out, int i)
{
    return i < n->n_out ? out[i] : NULL;
}

/* A value is known when data is set (an empty constant may carry no data). */
int mq_sh_known(const mq_tensor *t);
/* Every present output gets rank -1 (run-time shape) and dtype dt. */
void mq_sh_set_unknown(const mq_node *n, mq_tensor *const *out, mq_dtype dt);
/* Input i present, dtype among allowed (NULL: any type the executor holds). */
mq_status mq_sh_require(const mq_node *n, const mq_tensor *const *in, int i, const mq_dtype *allowed, mq_err *err);
/* Validate a computed output shape: rank within MQ_MAX_RANK, dims >= 0, element count within the cap. */
mq_status mq_sh_check_shape(const mq_node *n, int rank, const int64_t *dims, mq_err *err);
/* Read the values of a known integer (or bool) tensor into int64; fails naming the node when the
 * type is not an integer or there are more than max values. */
mq_status mq_sh_read_ints(const mq_node *n, const mq_tensor *t, const char *what, int64_t *vals, int max, int *count,
                          mq_err *err);
/* Read one scalar (or one-element) value as int64 / double. */
mq_status mq_sh_read_scalar_i64(const mq_node *n, const mq_tensor *t, const char *what, int64_t *v, mq_err *err);
mq_status mq_sh_read_scalar_f64(const mq_node *n, const mq_tensor *t, const char *what, double *v, mq_err *err);
/* Normalize an index into [0, dim): negative ones count from the end; fails naming the node. */
mq_status mq_sh_index(const mq_node *n, int64_t idx, int64_t dim, const char *what, int64_t *out, mq_err *err);

/* Lowering: every present input and output has a static shape whose element count fits int32 (the
 * runtime's limit); fails naming the node otherwise. */
mq_status mq_sh_lower_check(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_err *err);
/* Writes an sh_strided call (runtime/kernels/shape.h): contiguous output element (i0..ik) = input element
 * off + sum i_d*strides[d] (strides in elements, may be 0 or negative), rank <= MQ_VIEW_MAX_RANK. Size-1
 * dims are dropped and runs contiguous in the input merged. Offsets and strides must fit int32 (they do
 * when they address elements of an input that passed mq_sh_lower_check). */
void mq_sh_lower_strided(mq_kcall *kc, int rank, const int64_t *dims, const int64_t *strides, int64_t off);
/* The bits of one element (esz bytes at p) as the two parameters mqk_sh_put reads. */
void mq_sh_elem_bits(const void *p, size_t esz, int32_t *lo, int32_t *hi);

/* Definitions, one per op (listed in shape.c's table). */
extern const mq_op_def mq_shape_op_Constant, mq_shape_op_ConstantOfShape, mq_shape_op_Shape, mq_shape_op_Size,
    mq_shape_op_Reshape, mq_shape_op_Flatten, mq_shape_op_Squeeze, mq_shape_op_Unsqueeze, mq_shape_op_EyeLike,
    mq_shape_op_Range;
extern const mq_op_def mq_shape_op_Transpose, mq_shape_op_Concat, mq_shape_op_Split, mq_shape_op_Slice,
    mq_shape_op_Expand, mq_shape_op_Tile, mq_shape_op_Pad, mq_shape_op_DepthToSpace, mq_shape_op_SpaceToDepth,
    mq_shape_op_Trilu, mq_shape_op_ReverseSequence;
extern const mq_op_def mq_shape_op_Gather, mq_shape_op_GatherElements, mq_shape_op_GatherND,
    mq_shape_op_ScatterElements, mq_shape_op_Scatter, mq_shape_op_ScatterND, mq_shape_op_OneHot,
    mq_shape_op_NonZero, mq_shape_op_Compress, mq_shape_op_Unique;

#endif
