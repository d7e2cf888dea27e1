/* tensor_io.c: whole-file reads and atomic writes, and tensors in ONNX TensorProto (.pb) files; the
 * .npy format is in npy.c. TensorProto decoding is shared with the importer (tensor_proto.c). */
#include "frontend/tensor_io.h"

#include "frontend/onnx_import.h"
#include "frontend/tensor_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

mq_status mq_read_file(const char *path, size_t max_bytes, void **buf, size_t *len, mq_err *err)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mq_fail(err, MQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return mq_fail(err, MQ_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return mq_fail(err, MQ_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < 0 || (uint64_t)sb.st_size > (uint64_t)max_bytes) {
        close(fd);
        return mq_fail(err, MQ_ERR_LIMIT, "%s: file is %" PRId64 " bytes, over the limit of %zu", path,
                       (int64_t)sb.st_size, max_bytes);
    }
    size_t n = (size_t)sb.st_size, done = 0;
    unsigned char *p = mq_malloc(n ? n : 1);
    if (!p) {
        close(fd);
        return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, n);
    }
    while (done < n) {
        ssize_t r = read(fd, p + done, n - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            mq_free(p);
            return mq_fail(err, MQ_ERR_IO, "%s: read failed: %s", path, r < 0 ? strerror(e) : "file shrank");
        }
        done += (size_t)r;
    }
    close(fd);
    *buf = p;
    *len = n;
    return MQ_OK;
}

/* fsync the folder holding path, so a rename into it survives a crash (best effort). */
static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 1;
    char *dir = mq_malloc(n + 1);
    if (!dir) return;
    if (slash) memcpy(dir, path, n);
    else dir[0] = '.';
    dir[n] = 0;
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    mq_free(dir);
}

mq_status mq_atomic_open(mq_atomic_file *a, const char *path, mq_err *err)
{
    static const char suffix[] = ".tmpXXXXXX";
    memset(a, 0, sizeof *a);
    a->path = path;
    size_t pl = strlen(path), tl;
    if (mq_add_size(pl, sizeof suffix, &tl)) return mq_fail(err, MQ_ERR_LIMIT, "%s: path too long", path);
    a->tmp = mq_malloc(tl);
    if (!a->tmp) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory", path);
    memcpy(a->tmp, path, pl);
    memcpy(a->tmp + pl, suffix, sizeof suffix);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        mq_free(a->tmp);
        a->tmp = NULL;
        return mq_fail(err, MQ_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(e));
    }
    (void)fchmod(fd, 0644);
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        mq_atomic_abort(a);
        return mq_fail(err, MQ_ERR_IO, "%s: cannot open a temporary file: %s", path, strerror(e));
    }
    return MQ_OK;
}

mq_status mq_atomic_commit(mq_atomic_file *a, mq_err *err)
{
    mq_status st = MQ_OK;
    if (!a->f) st = mq_fail(err, MQ_ERR_IO, "%s: not open", a->path ? a->path : "");
    if (st == MQ_OK && (fflush(a->f) != 0 || ferror(a->f)))
        st = mq_fail(err, MQ_ERR_IO, "%s: write failed: %s", a->path, strerror(errno));
    if (st == MQ_OK && fsync(fileno(a->f)) != 0)
        st = mq_fail(err, MQ_ERR_IO, "%s: fsync failed: %s", a->path, strerror(errno));
    if (a->f && fclose(a->f) != 0 && st == MQ_OK)
        st = mq_fail(err, MQ_ERR_IO, "%s: close failed: %s", a->path, strerror(errno));
    a->f = NULL;
    if (st == MQ_OK && rename(a->tmp, a->path) != 0)
        st = mq_fail(err, MQ_ERR_IO, "%s: rename failed: %s", a->path, strerror(errno));
    if (st != MQ_OK) {
        mq_atomic_abort(a);
        return st;
    }
    sync_parent(a->path);
    mq_free(a->tmp);
    a->tmp = NULL;
    return MQ_OK;
}

void mq_atomic_abort(mq_atomic_file *a)
{
    if (a->f) fclose(a->f);
    a->f = NULL;
    if (a->tmp) unlink(a->tmp);
    mq_free(a->tmp);
    a->tmp = NULL;
}

mq_status mq_write_file_atomic(const char *path, const void *buf, size_t len, mq_err *err)
{
    mq_atomic_file a;
    MQ_TRY(mq_atomic_open(&a, path, err));
    if (len && fwrite(buf, 1, len, a.f) != len) {
        int e = errno;
        mq_atomic_abort(&a);
        return mq_fail(err, MQ_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    return mq_atomic_commit(&a, err);
}

/* Frees the data only: the executor hands out tensors whose names live in the graph arena. A name
 * read from a file is stored in the data block (after the elements), so it goes with the data. */
void mq_tensor_free_data(mq_tensor *t)
{
    if (!t) return;
    mq_free(t->data);
    t->data = NULL;
}

/* Data block with room for the tensor's name after the elements. */
typedef struct pb_block {
    size_t extra;      /* bytes to add for the name */
    size_t data_bytes; /* where the name goes */
} pb_block;

static void *malloc_cb(void *ctx, size_t n)
{
    pb_block *b = ctx;
    size_t total;
    if (mq_add_size(n, b->extra, &total)) return NULL;
    b->data_bytes = n;
    return mq_malloc(total);
}

static void tensor_reset(mq_tensor *t)
{
    memset(t, 0, sizeof *t);
    t->producer = -1;
    t->rank = -1;
}

mq_status mq_tensor_read_pb(const void *buf, size_t len, mq_tensor *t, mq_err *err)
{
    return mq_tensor_read_pb_as(buf, len, 0, t, err);
}

mq_status mq_tensor_read_pb_as(const void *buf, size_t len, int32_t declared, mq_tensor *t, mq_err *err)
{
    tensor_reset(t);
    mq_pb_alloc pa;
    mq_pb_alloc_init(&pa);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(&pa.a, len, buf);
    if (!tp)
        return pa.failed ? mq_fail(err, MQ_ERR_NOMEM, "out of memory while parsing a TensorProto")
                         : mq_fail(err, MQ_ERR_PARSE, "not a TensorProto (protobuf parse failed)");
    char what[300];
    if (tp->name && tp->name[0]) snprintf(what, sizeof what, "tensor '%s'", tp->name);
    else snprintf(what, sizeof what, "tensor");
    pb_block blk = {.extra = tp->name && tp->name[0] ? strlen(tp->name) + 1 : 0, .data_bytes = 0};
    mq_status st = mq_tp_decode_as(tp, declared, what, NULL, MQ_DEFAULT_MAX_ELEMS, malloc_cb, &blk, t, err);
    if (st == MQ_OK && blk.extra) {
        char *name = (char *)t->data + blk.data_bytes;
        memcpy(name, tp->name, blk.extra);
        t->name = name;
    }
    onnx__tensor_proto__free_unpacked(tp, &pa.a);
    if (st != MQ_OK) {
        mq_tensor_free_data(t);
        tensor_reset(t);
    } else {
        t->is_const = 1;
    }
    return st;
}

mq_status mq_tensor_read_file(const char *path, mq_tensor *t, mq_err *err)
{
    return mq_tensor_read_file_as(path, 0, t, err);
}

mq_status mq_tensor_read_file_as(const char *path, int32_t declared, mq_tensor *t, mq_err *err)
{
    tensor_reset(t);
    void *buf;
    size_t len;
    MQ_TRY(mq_read_file(path, (size_t)MQ_DEFAULT_MAX_BYTES, &buf, &len, err));
    mq_status st;
    if (len >= 6 && !memcmp(buf, "\x93NUMPY", 6)) st = mq_tensor_read_npy(buf, len, t, err);
    else st = mq_tensor_read_pb_as(buf, len, declared, t, err);
    mq_free(buf);
    if (st != MQ_OK && err && err->code != MQ_OK) mq_err_prefix(err, "%s: ", path);
    return st;
}

mq_status mq_tensor_write_bytes(const char *path, const mq_tensor *t, size_t *nbytes, mq_err *err)
{
    int64_t numel;
    if (mq_tp_numel(t->dims, t->rank, INT64_MAX, "tensor", &numel, err) != MQ_OK) {
        mq_err_prefix(err, "%s: ", path);
        return err ? err->code : MQ_ERR_INVALID;
    }
    if ((uint64_t)numel > SIZE_MAX || mq_mul_size((size_t)numel, mq_dtype_size(t->dtype), nbytes))
        return mq_fail(err, MQ_ERR_LIMIT, "%s: tensor too large", path);
    if (!t->data && *nbytes) return mq_fail(err, MQ_ERR_INVALID, "%s: tensor has no data", path);
    return MQ_OK;
}

mq_status mq_tensor_write_pb(const char *path, const mq_tensor *t, mq_err *err)
{
    if (t->rank < 0 || t->rank > MQ_MAX_RANK)
        return mq_fail(err, MQ_ERR_INVALID, "%s: tensor has no known shape", path);
    if (!mq_dtype_supported(t->dtype))
        return mq_fail(err, MQ_ERR_UNSUPPORTED, "%s: cannot write dtype %s", path, mq_dtype_name(t->dtype));
    size_t nbytes;
    MQ_TRY(mq_tensor_write_bytes(path, t, &nbytes, err));

    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[MQ_MAX_RANK];
    memcpy(dims, t->dims, sizeof dims);
    tp.n_dims = (size_t)t->rank;
    tp.dims = dims;
    tp.has_data_type = 1;
    tp.data_type = (int32_t)t->dtype;
    tp.name = (char *)(uintptr_t)t->name;
    tp.has_raw_data = 1;
    tp.raw_data.len = nbytes;
    tp.raw_data.data = (uint8_t *)(uintptr_t)t->data;
    size_t size = onnx__tensor_proto__get_packed_size(&tp);
    uint8_t *out = mq_malloc(size ? size : 1);
    if (!out) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, size);
    onnx__tensor_proto__pack(&tp, out);
    mq_status st = mq_write_file_atomic(path, out, size, err);
    mq_free(out);
    return st;
}
