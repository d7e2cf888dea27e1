/* npy.c: NumPy .npy tensors: strict reading of format versions 1.0/2.0/3.0 (little-endian, C order)
 * and writing version 1.0, as numpy.save does. */
#include "frontend/tensor_io.h"

#include "frontend/tensor_proto.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

typedef struct npy_hdr {
    const char *p, *end;
    mq_dtype dtype;     /* as stored (F16 before conversion) */
    int fortran;
    int rank;
    int64_t dims[MQ_MAX_RANK];
} npy_hdr;

static void skip_ws(npy_hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r')) h->p++;
}

static int accept(npy_hdr *h, char c)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string without escapes (all the header ever holds); copied into out. */
static int parse_str(npy_hdr *h, char *out, size_t cap)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return -1;
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || n + 1 >= cap) return -1;
        out[n++] = *h->p++;
    }
    if (h->p >= h->end) return -1;
    h->p++;
    out[n] = 0;
    return 0;
}

static int parse_word(npy_hdr *h, const char *w)
{
    skip_ws(h);
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, w, n)) return 0;
    const char *after = h->p + n;
    if (after < h->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') ||
                           (*after >= '0' && *after <= '9') || *after == '_'))
        return 0;
    h->p = after;
    return 1;
}

static mq_status parse_descr(const char *d, mq_dtype *out, mq_err *err)
{
    static const struct { const char *code; mq_dtype t; } map[] = {
        {"f4", MQ_F32}, {"f8", MQ_F64}, {"i1", MQ_I8}, {"i2", MQ_I16}, {"i4", MQ_I32}, {"i8", MQ_I64},
        {"u1", MQ_U8}, {"u2", MQ_U16}, {"u4", MQ_U32}, {"u8", MQ_U64}, {"b1", MQ_BOOL}, {"f2", MQ_F16},
    };
    if (d[0] != '<' && d[0] != '|' && d[0] != '>' && d[0] != '=')
        return mq_fail(err, MQ_ERR_UNSUPPORTED, ".npy: unsupported dtype '%s'", d);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(d + 1, map[i].code)) continue;
        size_t sz = mq_dtype_size(map[i].t);
        if (d[0] == '<' || (d[0] == '|' && sz == 1)) {
            *out = map[i].t;
            return MQ_OK;
        }
        if (d[0] == '|') return mq_fail(err, MQ_ERR_PARSE, ".npy: dtype '%s' needs a byte order", d);
        return mq_fail(err, MQ_ERR_UNSUPPORTED, ".npy: byte order of dtype '%s' is not supported (only "
                       "little-endian '<')", d);
    }
    return mq_fail(err, MQ_ERR_UNSUPPORTED, ".npy: unsupported dtype '%s'", d);
}

static mq_status parse_shape(npy_hdr *h, mq_err *err)
{
    if (!accept(h, '(')) return mq_fail(err, MQ_ERR_PARSE, ".npy header: 'shape' is not a tuple");
    h->rank = 0;
    int commas = 0;
    for (;;) {
        if (accept(h, ')')) break;
        skip_ws(h);
        if (h->p >= h->end || *h->p < '0' || *h->p > '9')
            return mq_fail(err, MQ_ERR_PARSE, ".npy header: bad dimension in 'shape'");
        int64_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            int dg = *h->p++ - '0';
            if (v > (INT64_MAX - dg) / 10) return mq_fail(err, MQ_ERR_LIMIT, ".npy header: dimension too large");
            v = v * 10 + dg;
        }
        if (h->p < h->end && *h->p == 'L') h->p++; /* written by Python 2 */
        if (h->rank >= MQ_MAX_RANK)
            return mq_fail(err, MQ_ERR_LIMIT, ".npy: rank exceeds the maximum rank %d", MQ_MAX_RANK);
        h->dims[h->rank++] = v;
        if (accept(h, ',')) {
            commas++;
            continue;
        }
        if (accept(h, ')')) break;
        return mq_fail(err, MQ_ERR_PARSE, ".npy header: expected ',' or ')' in 'shape'");
    }
    if (h->rank == 1 && commas == 0)
        return mq_fail(err, MQ_ERR_PARSE, ".npy header: 'shape' is not a tuple (a 1-tuple needs a comma)");
    return MQ_OK;
}

static mq_status parse_header(npy_hdr *h, mq_err *err)
{
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    if (!accept(h, '{')) return mq_fail(err, MQ_ERR_PARSE, ".npy header: not a dictionary");
    for (;;) {
        if (accept(h, '}')) break;
        char key[32], val[32];
        if (parse_str(h, key, sizeof key)) return mq_fail(err, MQ_ERR_PARSE, ".npy header: bad key");
        if (!accept(h, ':')) return mq_fail(err, MQ_ERR_PARSE, ".npy header: expected ':' after '%s'", key);
        if (!strcmp(key, "descr")) {
            if (seen_descr++) return mq_fail(err, MQ_ERR_PARSE, ".npy header: 'descr' appears twice");
            if (parse_str(h, val, sizeof val))
                return mq_fail(err, MQ_ERR_UNSUPPORTED, ".npy: 'descr' is not a simple dtype string");
            MQ_TRY(parse_descr(val, &h->dtype, err));
        } else if (!strcmp(key, "fortran_order")) {
            if (seen_fortran++) return mq_fail(err, MQ_ERR_PARSE, ".npy header: 'fortran_order' appears twice");
            if (parse_word(h, "False")) h->fortran = 0;
            else if (parse_word(h, "True")) h->fortran = 1;
            else return mq_fail(err, MQ_ERR_PARSE, ".npy header: 'fortran_order' is not True or False");
        } else if (!strcmp(key, "shape")) {
            if (seen_shape++) return mq_fail(err, MQ_ERR_PARSE, ".npy header: 'shape' appears twice");
            MQ_TRY(parse_shape(h, err));
        } else {
            return mq_fail(err, MQ_ERR_PARSE, ".npy header: unexpected key '%s'", key);
        }
        if (accept(h, ',')) continue;
        if (accept(h, '}')) break;
        return mq_fail(err, MQ_ERR_PARSE, ".npy header: expected ',' or '}'");
    }
    skip_ws(h);
    if (h->p != h->end) return mq_fail(err, MQ_ERR_PARSE, ".npy header: trailing bytes after the dictionary");
    if (!seen_descr || !seen_fortran || !seen_shape)
        return mq_fail(err, MQ_ERR_PARSE, ".npy header: missing '%s'",
                       !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
    if (h->fortran) return mq_fail(err, MQ_ERR_UNSUPPORTED, ".npy: fortran_order True is not supported");
    return MQ_OK;
}

mq_status mq_tensor_read_npy(const void *buf, size_t len, mq_tensor *t, mq_err *err)
{
    memset(t, 0, sizeof *t);
    t->producer = -1;
    t->rank = -1;
    const unsigned char *b = buf;
    if (len < 10 || memcmp(b, "\x93NUMPY", 6)) return mq_fail(err, MQ_ERR_PARSE, "not a .npy file");
    unsigned major = b[6], minor = b[7];
    size_t hlen, hstart;
    if (major == 1 && minor == 0) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        hstart = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
        if (len < 12) return mq_fail(err, MQ_ERR_PARSE, ".npy: truncated header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        hstart = 12;
    } else {
        return mq_fail(err, MQ_ERR_UNSUPPORTED, ".npy: format version %u.%u is not supported", major, minor);
    }
    if (hlen > len - hstart) return mq_fail(err, MQ_ERR_PARSE, ".npy: header runs past the end of the file");
    npy_hdr h;
    memset(&h, 0, sizeof h);
    h.p = (const char *)b + hstart;
    h.end = h.p + hlen;
    for (const char *c = h.p; c < h.end; c++)
        if (*c == 0) return mq_fail(err, MQ_ERR_PARSE, ".npy header: NUL byte");
    MQ_TRY(parse_header(&h, err));

    int64_t numel;
    MQ_TRY(mq_tp_numel(h.dims, h.rank, INT64_MAX, ".npy", &numel, err));
    size_t srcsz = mq_dtype_size(h.dtype), have = len - hstart - hlen, want;
    mq_dtype dt = h.dtype == MQ_F16 ? MQ_F32 : h.dtype;
    if ((uint64_t)numel > SIZE_MAX || mq_mul_size((size_t)numel, srcsz, &want) || want != have)
        return mq_fail(err, MQ_ERR_PARSE, ".npy: data is %zu bytes but shape and dtype %s need %" PRId64
                       " x %zu", have, mq_dtype_name(h.dtype), numel, srcsz);
    size_t n = (size_t)numel, outbytes;
    if (mq_mul_size(n, mq_dtype_size(dt), &outbytes)) /* float16 grows to float32 */
        return mq_fail(err, MQ_ERR_LIMIT, ".npy: %" PRId64 " elements of %s are too large", numel, mq_dtype_name(dt));
    void *data = mq_malloc(outbytes ? outbytes : 1);
    if (!data) return mq_fail(err, MQ_ERR_NOMEM, ".npy: out of memory (%zu bytes)", outbytes);
    const unsigned char *src = b + hstart + hlen;
    if (h.dtype == MQ_F16) {
        for (size_t i = 0; i < n; i++) {
            uint16_t v;
            memcpy(&v, src + 2 * i, 2);
            ((float *)data)[i] = mq_f16_to_f32(v);
        }
    } else if (h.dtype == MQ_BOOL) {
        for (size_t i = 0; i < n; i++) ((uint8_t *)data)[i] = src[i] != 0;
    } else if (want) {
        memcpy(data, src, want);
    }
    t->dtype = dt;
    mq_tensor_set_shape(t, h.rank, h.dims);
    t->data = data;
    t->is_const = 1;
    return MQ_OK;
}

static const char *npy_descr(mq_dtype t)
{
    switch (t) {
    case MQ_F32: return "<f4";
    case MQ_F64: return "<f8";
    case MQ_I8: return "|i1";
    case MQ_I16: return "<i2";
    case MQ_I32: return "<i4";
    case MQ_I64: return "<i8";
    case MQ_U8: return "|u1";
    case MQ_U16: return "<u2";
    case MQ_U32: return "<u4";
    case MQ_U64: return "<u8";
    case MQ_BOOL: return "|b1";
    default: return NULL;
    }
}

mq_status mq_tensor_write_npy(const char *path, const mq_tensor *t, mq_err *err)
{
    const char *descr = npy_descr(t->dtype);
    if (!descr) return mq_fail(err, MQ_ERR_UNSUPPORTED, "%s: cannot write dtype %s", path, mq_dtype_name(t->dtype));
    if (t->rank < 0 || t->rank > MQ_MAX_RANK)
        return mq_fail(err, MQ_ERR_INVALID, "%s: tensor has no known shape", path);
    size_t nbytes;
    MQ_TRY(mq_tensor_write_bytes(path, t, &nbytes, err));

    /* Header exactly as numpy.save writes it: dict, spaces, '\n'; total prefix a multiple of 64. */
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < t->rank; d++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%s%" PRId64, d ? ", " : "", t->dims[d]);
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%s), }", t->rank == 1 ? "," : "");
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    size_t fsize;
    if (mq_add_size(10 + hlen, nbytes, &fsize)) return mq_fail(err, MQ_ERR_LIMIT, "%s: tensor too large", path);
    unsigned char *out = mq_malloc(fsize);
    if (!out) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, fsize);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)(hlen & 0xff);
    out[9] = (unsigned char)(hlen >> 8);
    memcpy(out + 10, hdr, (size_t)n);
    memset(out + 10 + n, ' ', pad);
    out[10 + hlen - 1] = '\n';
    if (nbytes) memcpy(out + 10 + hlen, t->data, nbytes);
    mq_status st = mq_write_file_atomic(path, out, fsize, err);
    mq_free(out);
    return st;
}
