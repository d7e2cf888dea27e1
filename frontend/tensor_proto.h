/* tensor_proto.h (frontend-internal): decoding ONNX TensorProto messages into mq_tensor, shared by the
 * model importer (initializers, tensor attributes) and tensor_io (.pb files), plus protobuf-c glue. */
#ifndef MQ_FRONTEND_TENSOR_PROTO_H
#define MQ_FRONTEND_TENSOR_PROTO_H

#include "core/graph.h"
#include "onnx/onnx.pb-c.h"

/* A protobuf-c allocator routed to mq_malloc/mq_free; `failed` is set when an allocation failed, so
 * a NULL from unpack can be told apart (out of memory vs malformed bytes). */
typedef struct mq_pb_alloc {
    ProtobufCAllocator a;
    int failed;
} mq_pb_alloc;
void mq_pb_alloc_init(mq_pb_alloc *pa);

/* Where the decoded element buffer comes from (the graph arena, or mq_malloc). Must return zeroed or
 * fully overwritten memory of n bytes (n >= 1), NULL on failure. */
typedef void *(*mq_tp_alloc_fn)(void *ctx, size_t n);

/* External data context: base_dir NULL means external data is refused. bytes_used accumulates the
 * external bytes read, capped by max_bytes. */
typedef struct mq_tp_ext {
    const char *base_dir;
    int64_t max_bytes;
    int64_t bytes_used;
} mq_tp_ext;

/* Decode tp into t: dtype (float16/bfloat16 become float32), rank, dims and data. `what` names the
 * tensor in messages ("initializer 'W'"). Validates dims, element count (<= max_elems), the data
 * size against the element count, the rank against MQ_MAX_RANK. Does not set t->name. Messages have
 * no file prefix (the caller adds it). On failure t->data is either untouched or the buffer from
 * alloc (the caller frees it if alloc was not an arena). */
mq_status mq_tp_decode(const Onnx__TensorProto *tp, const char *what, mq_tp_ext *ext, int64_t max_elems,
                       mq_tp_alloc_fn alloc, void *alloc_ctx, mq_tensor *t, mq_err *err);

/* As mq_tp_decode, for a value whose declared ONNX element type is known (declared; 0: unknown, the
 * same as mq_tp_decode). One reinterpretation only: declared BFLOAT16 stored as UINT16 (ONNX <= 1.13
 * test data write bfloat16 bit patterns through numpy, which has no bfloat16, as uint16) decodes the
 * 16-bit patterns as bfloat16. Every other check is unchanged. */
mq_status mq_tp_decode_as(const Onnx__TensorProto *tp, int32_t declared, const char *what, mq_tp_ext *ext,
                          int64_t max_elems, mq_tp_alloc_fn alloc, void *alloc_ctx, mq_tensor *t, mq_err *err);

/* Validated element count of dims[0..rank): MQ_ERR_INVALID on a negative dim, MQ_ERR_LIMIT past
 * max_elems or on overflow. `what` names the tensor in messages. */
mq_status mq_tp_numel(const int64_t *dims, int rank, int64_t max_elems, const char *what, int64_t *out,
                      mq_err *err);

#endif
