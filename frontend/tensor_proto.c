/* tensor_proto.c: ONNX TensorProto -> mq_tensor (raw_data, every typed field, external data files),
 * shared by the importer and tensor_io so both validate and convert tensors the same way. */
#include "frontend/tensor_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensor_proto.c reads raw_data as little-endian host memory"
#endif

static void *pb_alloc(void *data, size_t size)
{
    mq_pb_alloc *pa = data;
    void *p = mq_malloc(size);
    if (!p) pa->failed = 1;
    return p;
}

static void pb_free(void *data, void *p)
{
    (void)data;
    mq_free(p);
}

void mq_pb_alloc_init(mq_pb_alloc *pa)
{
    pa->a.alloc = pb_alloc;
    pa->a.free = pb_free;
    pa->a.allocator_data = pa;
    pa->failed = 0;
}

mq_status mq_tp_numel(const int64_t *dims, int rank, int64_t max_elems, const char *what, int64_t *out,
                      mq_err *err)
{
    int has_zero = 0;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0)
            return mq_fail(err, MQ_ERR_INVALID, "%s: dimension %d is negative (%" PRId64 ")", what, d,
                           dims[d]);
        if (dims[d] == 0) has_zero = 1;
    }
    if (has_zero) {
        *out = 0;
        return MQ_OK;
    }
    int64_t n = 1;
    for (int d = 0; d < rank; d++) {
        if (mq_mul_i64(n, dims[d], &n) || n > max_elems)
            return mq_fail(err, MQ_ERR_LIMIT, "%s: element count exceeds the limit of %" PRId64, what,
                           max_elems);
    }
    *out = n;
    return MQ_OK;
}

/* Source-type element size as stored in the file (float16/bfloat16: 2). */
static int tp_dtype_ok(int32_t dt)
{
    switch (dt) {
    case MQ_F32: case MQ_U8: case MQ_I8: case MQ_U16: case MQ_I16: case MQ_I32: case MQ_I64:
    case MQ_BOOL: case MQ_F16: case MQ_F64: case MQ_U32: case MQ_U64: case MQ_BF16: return 1;
    default: return 0;
    }
}

/* Convert n little-endian source elements at src into dst (already of the destination type). */
static void convert_raw(void *dst, const unsigned char *src, size_t n, mq_dtype st, size_t srcsz)
{
    if (st == MQ_F16 || st == MQ_BF16) {
        float *d = dst;
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            d[i] = st == MQ_F16 ? mq_f16_to_f32(h) : mq_bf16_to_f32(h);
        }
    } else if (st == MQ_BOOL) {
        uint8_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = src[i] != 0;
    } else if (n) {
        memcpy(dst, src, n * srcsz);
    }
}

static int parse_u64_str(const char *s, int64_t *out)
{
    if (!s || !*s) return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        int dgt = *s - '0';
        if (v > (INT64_MAX - dgt) / 10) return -1;
        v = v * 10 + dgt;
    }
    *out = v;
    return 0;
}

/* A location must stay inside the model's folder: relative, no ".." component. */
static int location_escapes(const char *loc)
{
    if (loc[0] == '/') return 1;
    const char *p = loc;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static mq_status read_external(const Onnx__TensorProto *tp, const char *what, mq_tp_ext *ext,
                               size_t want, void *dst, mq_err *err)
{
    const char *loc = NULL, *off_s = NULL, *len_s = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *kv = tp->external_data[i];
        if (!kv || !kv->key) continue;
        if (!strcmp(kv->key, "location")) loc = kv->value;
        else if (!strcmp(kv->key, "offset")) off_s = kv->value;
        else if (!strcmp(kv->key, "length")) len_s = kv->value;
    }
    if (!loc || !*loc) return mq_fail(err, MQ_ERR_INVALID, "%s: external data without a location", what);
    if (!ext || !ext->base_dir)
        return mq_fail(err, MQ_ERR_INVALID, "%s: external data '%s' is not allowed here", what, loc);
    if (location_escapes(loc))
        return mq_fail(err, MQ_ERR_INVALID,
                       "%s: external data location '%s' escapes the model's folder", what, loc);
    int64_t off = 0, len = -1;
    if (off_s && parse_u64_str(off_s, &off))
        return mq_fail(err, MQ_ERR_INVALID, "%s: bad external data offset '%s'", what, off_s);
    if (len_s && parse_u64_str(len_s, &len))
        return mq_fail(err, MQ_ERR_INVALID, "%s: bad external data length '%s'", what, len_s);

    size_t bl = strlen(ext->base_dir), ll = strlen(loc), pl;
    if (mq_add_size(bl, ll, &pl) || mq_add_size(pl, 2, &pl))
        return mq_fail(err, MQ_ERR_LIMIT, "%s: external data path too long", what);
    char *path = mq_malloc(pl);
    if (!path) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory", what);
    snprintf(path, pl, "%s/%s", ext->base_dir, loc);

    mq_status st = MQ_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = mq_fail(err, MQ_ERR_IO, "%s: external data file '%s': %s", what, loc, strerror(errno));
        goto out;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = mq_fail(err, MQ_ERR_IO, "%s: external data file '%s' is not a regular file", what, loc);
        goto out;
    }
    int64_t fsize = (int64_t)sb.st_size;
    if (off > fsize) {
        st = mq_fail(err, MQ_ERR_INVALID, "%s: external data offset %" PRId64 " is past the end of '%s' (%" PRId64
                     " bytes)", what, off, loc, fsize);
        goto out;
    }
    if (len < 0) len = fsize - off;
    if (len > fsize - off) {
        st = mq_fail(err, MQ_ERR_INVALID, "%s: external data (offset %" PRId64 ", length %" PRId64
                     ") runs past the end of '%s' (%" PRId64 " bytes)", what, off, len, loc, fsize);
        goto out;
    }
    if ((uint64_t)len != (uint64_t)want) {
        st = mq_fail(err, MQ_ERR_INVALID, "%s: external data is %" PRId64 " bytes but the shape needs %zu",
                     what, len, want);
        goto out;
    }
    if (len > ext->max_bytes - ext->bytes_used) {
        st = mq_fail(err, MQ_ERR_LIMIT, "%s: the model and its external data exceed the limit of %" PRId64 " bytes", what,
                     ext->max_bytes);
        goto out;
    }
    ext->bytes_used += len;
    size_t done = 0;
    while (done < want) {
        ssize_t r = pread(fd, (char *)dst + done, want - done, (off_t)(off + (int64_t)done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            st = mq_fail(err, MQ_ERR_IO, "%s: reading external data file '%s': %s", what, loc,
                         r < 0 ? strerror(errno) : "unexpected end of file");
            goto out;
        }
        done += (size_t)r;
    }
out:
    if (fd >= 0) close(fd);
    mq_free(path);
    return st;
}

mq_status mq_tp_decode(const Onnx__TensorProto *tp, const char *what, mq_tp_ext *ext, int64_t max_elems,
                       mq_tp_alloc_fn alloc, void *alloc_ctx, mq_tensor *t, mq_err *err)
{
    return mq_tp_decode_as(tp, 0, what, ext, max_elems, alloc, alloc_ctx, t, err);
}

mq_status mq_tp_decode_as(const Onnx__TensorProto *tp, int32_t declared, const char *what, mq_tp_ext *ext,
                          int64_t max_elems, mq_tp_alloc_fn alloc, void *alloc_ctx, mq_tensor *t, mq_err *err)
{
    if (tp->segment) return mq_fail(err, MQ_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", what);
    int32_t dt = tp->has_data_type ? tp->data_type : 0;
    /* ONNX <= 1.13 stores bfloat16 test data as uint16 bit patterns (numpy has no bfloat16): same
     * element size, so the size checks below hold unchanged. */
    if (declared == MQ_BF16 && dt == MQ_U16) dt = MQ_BF16;
    if (!tp_dtype_ok(dt)) {
        if (dt == MQ_STRING || dt == MQ_C64 || dt == MQ_C128)
            return mq_fail(err, MQ_ERR_UNSUPPORTED, "%s: unsupported dtype %s", what,
                           mq_dtype_name((mq_dtype)dt));
        if (dt == MQ_UNDEFINED) return mq_fail(err, MQ_ERR_INVALID, "%s: data type not set", what);
        return mq_fail(err, MQ_ERR_UNSUPPORTED, "%s: unsupported data type %d", what, (int)dt);
    }
    if (tp->n_dims > MQ_MAX_RANK)
        return mq_fail(err, MQ_ERR_LIMIT, "%s: rank %zu exceeds the maximum rank %d", what, tp->n_dims,
                       MQ_MAX_RANK);
    int rank = (int)tp->n_dims;
    int64_t numel;
    MQ_TRY(mq_tp_numel(tp->dims, rank, max_elems, what, &numel, err));

    mq_dtype st = (mq_dtype)dt;
    mq_dtype dtt = (st == MQ_F16 || st == MQ_BF16) ? MQ_F32 : st;
    size_t srcsz = mq_dtype_size(st), dstsz = mq_dtype_size(dtt), n = (size_t)numel, srcbytes, dstbytes;
    if ((uint64_t)numel > SIZE_MAX || mq_mul_size(n, srcsz, &srcbytes) || mq_mul_size(n, dstsz, &dstbytes))
        return mq_fail(err, MQ_ERR_LIMIT, "%s: tensor too large", what);

    /* Check the data source before allocating. */
    int external = tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    size_t have = 0;
    const char *field = NULL;
    if (!external && tp->has_raw_data) {
        if (tp->raw_data.len != srcbytes)
            return mq_fail(err, MQ_ERR_INVALID,
                           "%s: raw_data is %zu bytes but %" PRId64 " elements of %s need %zu", what,
                           tp->raw_data.len, numel, mq_dtype_name(st), srcbytes);
    } else if (!external) {
        switch (st) {
        case MQ_F32: have = tp->n_float_data; field = "float_data"; break;
        case MQ_F64: have = tp->n_double_data; field = "double_data"; break;
        case MQ_I64: have = tp->n_int64_data; field = "int64_data"; break;
        case MQ_U32: case MQ_U64: have = tp->n_uint64_data; field = "uint64_data"; break;
        default: have = tp->n_int32_data; field = "int32_data"; break;
        }
        if (have != n)
            return mq_fail(err, MQ_ERR_INVALID, "%s: %s holds %zu values but the shape needs %" PRId64,
                           what, field, have, numel);
    }

    if (external && (!ext || !ext->base_dir))
        return mq_fail(err, MQ_ERR_INVALID, "%s: external data is not allowed here", what);

    void *data = alloc(alloc_ctx, dstbytes ? dstbytes : 1);
    if (!data) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory (%zu bytes)", what, dstbytes);
    t->data = data; /* on failure below the caller still owns (and frees) it */

    if (external) {
        if (st == dtt && st != MQ_BOOL) {
            MQ_TRY(read_external(tp, what, ext, srcbytes, data, err));
        } else {
            unsigned char *tmp = mq_malloc(srcbytes ? srcbytes : 1);
            if (!tmp) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory (%zu bytes)", what, srcbytes);
            mq_status s = read_external(tp, what, ext, srcbytes, tmp, err);
            if (s == MQ_OK) convert_raw(data, tmp, n, st, srcsz);
            mq_free(tmp);
            if (s != MQ_OK) return s;
        }
    } else if (tp->has_raw_data) {
        convert_raw(data, tp->raw_data.data, n, st, srcsz);
    } else {
        for (size_t i = 0; i < n; i++) {
            switch (st) {
            case MQ_F32: ((float *)data)[i] = tp->float_data[i]; break;
            case MQ_F64: ((double *)data)[i] = tp->double_data[i]; break;
            case MQ_I64: ((int64_t *)data)[i] = tp->int64_data[i]; break;
            case MQ_U32: ((uint32_t *)data)[i] = (uint32_t)tp->uint64_data[i]; break;
            case MQ_U64: ((uint64_t *)data)[i] = tp->uint64_data[i]; break;
            case MQ_I32: ((int32_t *)data)[i] = tp->int32_data[i]; break;
            case MQ_I16: ((int16_t *)data)[i] = (int16_t)tp->int32_data[i]; break;
            case MQ_I8: ((int8_t *)data)[i] = (int8_t)tp->int32_data[i]; break;
            case MQ_U16: ((uint16_t *)data)[i] = (uint16_t)tp->int32_data[i]; break;
            case MQ_U8: ((uint8_t *)data)[i] = (uint8_t)tp->int32_data[i]; break;
            case MQ_BOOL: ((uint8_t *)data)[i] = tp->int32_data[i] != 0; break;
            case MQ_F16: ((float *)data)[i] = mq_f16_to_f32((uint16_t)tp->int32_data[i]); break;
            case MQ_BF16: ((float *)data)[i] = mq_bf16_to_f32((uint16_t)tp->int32_data[i]); break;
            default: break;
            }
        }
    }

    t->dtype = dtt;
    t->decl_dtype = dtt != st ? st : MQ_UNDEFINED;
    t->rank = rank;
    for (int d = 0; d < MQ_MAX_RANK; d++) t->dims[d] = d < rank ? tp->dims[d] : 0;
    t->data = data;
    return MQ_OK;
}
