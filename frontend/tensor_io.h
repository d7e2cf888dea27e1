/* tensor_io.h: tensors in files: ONNX TensorProto (.pb, as in the conformance data) and NumPy .npy. */
#ifndef MQ_TENSOR_IO_H
#define MQ_TENSOR_IO_H

#include "core/graph.h"

#include <stdio.h>

/* Read a tensor file; the format is chosen by content (.npy magic) else TensorProto. On success
 * t->data is mq_malloc'ed (free with mq_tensor_free_data), t->name is left NULL.
 * float16/bfloat16 data is converted to float32. */
mq_status mq_tensor_read_file(const char *path, mq_tensor *t, mq_err *err);
mq_status mq_tensor_read_pb(const void *buf, size_t len, mq_tensor *t, mq_err *err);
/* As mq_tensor_read_file / mq_tensor_read_pb for a value whose declared ONNX element type is known
 * (e.g. from the model's graph input/output); declared 0 means unknown. A TensorProto stored as uint16
 * for a declared bfloat16 value is read as bfloat16 (see mq_tp_decode_as); nothing else changes. */
mq_status mq_tensor_read_file_as(const char *path, int32_t declared, mq_tensor *t, mq_err *err);
mq_status mq_tensor_read_pb_as(const void *buf, size_t len, int32_t declared, mq_tensor *t, mq_err *err);
mq_status mq_tensor_read_npy(const void *buf, size_t len, mq_tensor *t, mq_err *err);
/* Write (to a temporary next to path, then rename). */
mq_status mq_tensor_write_pb(const char *path, const mq_tensor *t, mq_err *err);
mq_status mq_tensor_write_npy(const char *path, const mq_tensor *t, mq_err *err);
void mq_tensor_free_data(mq_tensor *t); /* frees t->data only (never t->name) and sets it NULL */
/* For writers: the data bytes of t (rank known), checking overflow and that data is present. */
mq_status mq_tensor_write_bytes(const char *path, const mq_tensor *t, size_t *nbytes, mq_err *err);

/* Read a whole file (at most max_bytes) into mq_malloc'ed memory. */
mq_status mq_read_file(const char *path, size_t max_bytes, void **buf, size_t *len, mq_err *err);
/* Write a whole file atomically: temporary in the same folder, fsync, rename. */
mq_status mq_write_file_atomic(const char *path, const void *buf, size_t len, mq_err *err);

/* The same for output written piece by piece: mq_atomic_open creates PATH.tmpXXXXXX (unique) and opens
 * it as a->f; mq_atomic_commit flushes, fsyncs and renames it onto path (then fsyncs the folder);
 * mq_atomic_abort (also after a failed commit: done for you) removes it. Until the commit, path keeps
 * its old content (or stays absent); a process killed before it leaves at most the temporary. */
typedef struct mq_atomic_file {
    FILE *f;
    char *tmp;
    const char *path;
} mq_atomic_file;
mq_status mq_atomic_open(mq_atomic_file *a, const char *path, mq_err *err);
mq_status mq_atomic_commit(mq_atomic_file *a, mq_err *err);
void mq_atomic_abort(mq_atomic_file *a);

#endif
