/* data.c: image/label files (IDX raw or gzip, NumPy .npy) read and validated once, then served as
 * normalized, shuffled, augmented, sharded float batches without further checks (see data.h). */
#include "train/data.h"

#include "core/alloc.h"
#include "frontend/tensor_io.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <zlib.h>

/* ---- generator --------------------------------------------------------------------------------- */

uint64_t mq_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void mq_rng_seed(mq_rng *r, uint64_t seed) { r->state = seed; }

uint64_t mq_rng_next(mq_rng *r)
{
    r->state += UINT64_C(0x9e3779b97f4a7c15);
    return mq_mix64(r->state);
}

uint64_t mq_rng_below(mq_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t threshold = (0 - n) % n; /* 2^64 mod n: values below it would bias the remainder */
    for (;;) {
        uint64_t v = mq_rng_next(r);
        if (v >= threshold) return v % n;
    }
}

float mq_rng_uniform(mq_rng *r) { return (float)(mq_rng_next(r) >> 40) * (1.0f / 16777216.0f); }

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)
#define AUG_STREAM UINT64_C(0xd1b54a32d192ed03)

/* ---- options ----------------------------------------------------------------------------------- */

void mq_data_opts_init(mq_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 64;
    o->shard_count = 1;
}

static mq_status check_opts(const mq_data_opts *o, mq_err *err)
{
    if (o->num_classes < 0 || o->num_classes > INT32_MAX)
        return mq_fail(err, MQ_ERR_INVALID, "data options: num_classes %" PRId64 " is out of range", o->num_classes);
    if (!(o->scale >= 0) || !isfinite(o->scale))
        return mq_fail(err, MQ_ERR_INVALID, "data options: scale %g must be positive (or 0 for automatic)",
                       (double)o->scale);
    if (o->n_mean < 0 || o->n_mean > MQ_DATA_MAX_CHANNELS || o->n_std < 0 || o->n_std > MQ_DATA_MAX_CHANNELS)
        return mq_fail(err, MQ_ERR_INVALID, "data options: %d mean and %d std values (at most %d)", o->n_mean,
                       o->n_std, MQ_DATA_MAX_CHANNELS);
    for (int i = 0; i < o->n_mean; i++)
        if (!isfinite(o->mean[i])) return mq_fail(err, MQ_ERR_INVALID, "data options: mean[%d] is not finite", i);
    for (int i = 0; i < o->n_std; i++)
        if (!(o->std[i] > 0) || !isfinite(o->std[i]))
            return mq_fail(err, MQ_ERR_INVALID, "data options: std[%d] = %g must be positive and finite", i,
                           (double)o->std[i]);
    if (o->batch < 1) return mq_fail(err, MQ_ERR_INVALID, "data options: batch %d must be >= 1", o->batch);
    if (o->crop_pad < 0 || o->crop_pad > 65535)
        return mq_fail(err, MQ_ERR_INVALID, "data options: crop padding %d is out of range [0, 65535]", o->crop_pad);
    int count = o->shard_count ? o->shard_count : 1;
    if (o->shard_count < 0 || o->shard_rank < 0 || o->shard_rank >= count)
        return mq_fail(err, MQ_ERR_INVALID, "data options: shard rank %d of %d is out of range", o->shard_rank,
                       o->shard_count);
    int unit = o->shard_unit ? o->shard_unit : 1;
    if (o->shard_per_batch && (unit < 1 || o->batch % unit || o->batch / unit < count))
        return mq_fail(err, MQ_ERR_INVALID, "data options: a batch of %d in units of %d cannot be shared by %d ranks",
                       o->batch, o->shard_unit, count);
    return MQ_OK;
}

/* ---- gzip -------------------------------------------------------------------------------------- */

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return mq_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    mq_free(p);
}

/* Decompress a whole gzip file (all members) into mq_malloc'ed memory of at most cap bytes. */
static mq_status gunzip(const unsigned char *in, size_t in_len, size_t cap, unsigned char **out, size_t *out_len,
                        mq_err *err)
{
    *out = NULL;
    *out_len = 0;
    /* First guess: ISIZE, the last member's length mod 2^32 from the trailer, bounded by deflate's
     * largest ratio (1032:1) and the cap; grown on demand. */
    size_t capa = in_len >= 18 ? (size_t)in[in_len - 4] | (size_t)in[in_len - 3] << 8 |
                                     (size_t)in[in_len - 2] << 16 | (size_t)in[in_len - 1] << 24
                               : 0;
    size_t bound = in_len > (SIZE_MAX - 4096) / 1032 ? SIZE_MAX : in_len * 1032 + 4096;
    if (capa > bound) capa = bound;
    if (capa < 4096) capa = 4096;
    if (capa > cap) capa = cap ? cap : 1;
    unsigned char *buf = mq_malloc(capa);
    if (!buf) return mq_fail(err, MQ_ERR_NOMEM, "gzip: out of memory (%zu bytes)", capa);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    int rc = inflateInit2(&zs, 15 + 16); /* gzip wrapper only */
    if (rc != Z_OK) {
        mq_free(buf);
        return rc == Z_MEM_ERROR ? mq_fail(err, MQ_ERR_NOMEM, "gzip: out of memory")
                                 : mq_fail(err, MQ_ERR_PARSE, "gzip: cannot initialize zlib (%d)", rc);
    }
    size_t pos = 0, len = 0;
    mq_status st = MQ_OK;
    for (;;) {
        /* When the buffer is full, inflate into one spare byte: the stream may just be ending (its
         * trailer), and the buffer grows only if real output remains. */
        unsigned char spare;
        const int full = len == capa;
        size_t ai = in_len - pos, ao = full ? 1 : capa - len;
        if (ai > UINT_MAX) ai = UINT_MAX;
        if (ao > UINT_MAX) ao = UINT_MAX;
        zs.next_in = (Bytef *)(uintptr_t)(in + pos);
        zs.avail_in = (uInt)ai;
        zs.next_out = full ? &spare : buf + len;
        zs.avail_out = (uInt)ao;
        rc = inflate(&zs, Z_NO_FLUSH);
        pos += ai - zs.avail_in;
        if (!full) {
            len += ao - zs.avail_out;
        } else if (zs.avail_out == 0) { /* one more byte came out: grow */
            if (capa >= cap) {
                st = mq_fail(err, MQ_ERR_LIMIT, "gzip: decompressed data exceeds the limit of %zu bytes", cap);
                break;
            }
            size_t ncap = capa > cap / 2 ? cap : capa * 2;
            unsigned char *nb = mq_realloc(buf, ncap);
            if (!nb) {
                st = mq_fail(err, MQ_ERR_NOMEM, "gzip: out of memory (%zu bytes)", ncap);
                break;
            }
            buf = nb;
            capa = ncap;
            buf[len++] = spare;
        }
        if (rc == Z_STREAM_END) {
            if (pos == in_len) break;
            if (in_len - pos >= 2 && in[pos] == 0x1f && in[pos + 1] == 0x8b) { /* another member */
                inflateReset(&zs);
                continue;
            }
            st = mq_fail(err, MQ_ERR_PARSE, "gzip: %zu bytes of garbage after the compressed data", in_len - pos);
            break;
        }
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue; /* output full */
        if (rc == Z_BUF_ERROR) {
            st = mq_fail(err, MQ_ERR_PARSE, "gzip: compressed data is truncated (ends after %zu bytes)", in_len);
            break;
        }
        if (rc == Z_MEM_ERROR) {
            st = mq_fail(err, MQ_ERR_NOMEM, "gzip: out of memory");
            break;
        }
        st = mq_fail(err, MQ_ERR_PARSE, "gzip: corrupt compressed data (%s)", zs.msg ? zs.msg : "zlib error");
        break;
    }
    inflateEnd(&zs);
    if (st != MQ_OK) {
        mq_free(buf);
        return st;
    }
    *out = buf;
    *out_len = len;
    return MQ_OK;
}

/* ---- file formats ------------------------------------------------------------------------------ */

/* A file's content after validation: data points into owner (mq_free owner). */
typedef struct loaded {
    void *owner;
    const void *data;
    mq_dtype dtype;
    int rank;
    int64_t dims[4]; /* images: N, C, H, W; labels: N */
} loaded;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const char *idx_type_name(unsigned t)
{
    switch (t) {
    case 0x08: return "uint8";
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return NULL;
    }
}

/* IDX: 00 00 type rank, rank big-endian uint32 dims, then the data; exactly that many bytes. */
static mq_status parse_idx(const unsigned char *b, size_t len, int images, loaded *out, mq_err *err)
{
    const unsigned want_rank = images ? 3 : 1;
    const char *what = images ? "images" : "labels";
    if (len < 4) return mq_fail(err, MQ_ERR_PARSE, "IDX: truncated header (%zu bytes)", len);
    uint32_t magic = be32(b);
    const char *tname = idx_type_name(b[2]);
    if (b[0] || b[1] || !tname || b[3] == 0)
        return mq_fail(err, MQ_ERR_PARSE, "bad header: magic 0x%08" PRIx32 " is not IDX (expected 0x%08x for %s)",
                       magic, 0x800u | want_rank, what);
    if (b[2] != 0x08)
        return mq_fail(err, MQ_ERR_SHAPE, "IDX: wrong dtype %s (magic 0x%08" PRIx32 "): %s must be uint8 (0x%08x)",
                       tname, magic, what, 0x800u | want_rank);
    if (b[3] != want_rank)
        return mq_fail(err, MQ_ERR_SHAPE, "IDX: rank %u (magic 0x%08" PRIx32 "), but %s must have rank %u (0x%08x)",
                       b[3], magic, what, want_rank, 0x800u | want_rank);
    size_t hdr = 4 + 4 * (size_t)want_rank;
    if (len < hdr) return mq_fail(err, MQ_ERR_PARSE, "IDX: truncated header (%zu of %zu bytes)", len, hdr);
    size_t total = 1;
    for (unsigned d = 0; d < want_rank; d++) {
        uint32_t v = be32(b + 4 + 4 * d);
        if (mq_mul_size(total, v, &total))
            return mq_fail(err, MQ_ERR_LIMIT, "IDX: dimensions overflow the address space");
        out->dims[d ? d + 1 : 0] = v; /* images: N, (C), H, W */
    }
    size_t data = len - hdr;
    if (data < total)
        return mq_fail(err, MQ_ERR_PARSE, "IDX: truncated: the header says %zu bytes of data, the file has %zu", total,
                       data);
    if (data > total)
        return mq_fail(err, MQ_ERR_PARSE, "IDX: %zu trailing bytes after the %zu bytes of data the header says",
                       data - total, total);
    out->data = b + hdr;
    out->dtype = MQ_U8;
    if (images) {
        out->rank = 4;
        out->dims[1] = 1;
    } else {
        out->rank = 1;
    }
    return MQ_OK;
}

/* Check a tensor (from .npy or the caller) and describe it as a loaded of rank 4 / 1. */
static mq_status check_tensor(const mq_tensor *t, int images, loaded *out, mq_err *err)
{
    if (images) {
        if (t->dtype != MQ_U8 && t->dtype != MQ_F32)
            return mq_fail(err, MQ_ERR_SHAPE, "wrong dtype: images must be uint8 or float32, not %s",
                           mq_dtype_name(t->dtype));
        if (t->rank != 3 && t->rank != 4)
            return mq_fail(err, MQ_ERR_SHAPE, "images must have shape (N, H, W) or (N, C, H, W), not rank %d",
                           t->rank);
        out->rank = 4;
        out->dims[0] = t->dims[0];
        out->dims[1] = t->rank == 4 ? t->dims[1] : 1;
        out->dims[2] = t->dims[t->rank - 2];
        out->dims[3] = t->dims[t->rank - 1];
    } else {
        if (!mq_dtype_is_int(t->dtype))
            return mq_fail(err, MQ_ERR_SHAPE, "wrong dtype: labels must be integers, not %s", mq_dtype_name(t->dtype));
        if (t->rank != 1) return mq_fail(err, MQ_ERR_SHAPE, "labels must have shape (N,), not rank %d", t->rank);
        out->rank = 1;
        out->dims[0] = t->dims[0];
    }
    out->dtype = t->dtype;
    out->data = t->data;
    return MQ_OK;
}

static mq_status load_bytes(unsigned char *buf, size_t len, size_t cap, int images, loaded *out, mq_err *err)
{
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
        unsigned char *raw;
        size_t rlen;
        mq_status st = gunzip(buf, len, cap, &raw, &rlen, err);
        mq_free(buf);
        if (st != MQ_OK) return st;
        buf = raw;
        len = rlen;
    }
    if (len >= 6 && !memcmp(buf, "\x93NUMPY", 6)) {
        mq_tensor t;
        mq_status st = mq_tensor_read_npy(buf, len, &t, err);
        mq_free(buf);
        if (st != MQ_OK) return st;
        st = check_tensor(&t, images, out, err);
        if (st != MQ_OK) {
            mq_tensor_free_data(&t);
            return st;
        }
        out->owner = t.data;
        return MQ_OK;
    }
    if (len >= 2 && buf[0] == 0 && buf[1] == 0) {
        mq_status st = parse_idx(buf, len, images, out, err);
        if (st != MQ_OK) {
            mq_free(buf);
            return st;
        }
        out->owner = buf;
        return MQ_OK;
    }
    mq_free(buf);
    return mq_fail(err, MQ_ERR_PARSE, "bad header: not an IDX, .npy or gzip file");
}

static mq_status load_file(const char *path, size_t cap, int images, loaded *out, mq_err *err)
{
    memset(out, 0, sizeof *out);
    void *buf;
    size_t len;
    MQ_TRY(mq_read_file(path, cap, &buf, &len, err)); /* its messages name the file */
    mq_status st = load_bytes(buf, len, cap, images, out, err);
    if (st != MQ_OK && err && err->code == st) mq_err_prefix(err, "%s: ", path);
    return st;
}

/* ---- the dataset ------------------------------------------------------------------------------- */

struct mq_dataset {
    mq_data_opts o;
    size_t n, chw, hw;
    int c, h, w;
    mq_dtype dtype;
    const uint8_t *u8;
    const float *f32;
    void *owner;      /* the image storage */
    int32_t *labels;  /* NULL: unlabelled */
    int64_t num_classes;
    size_t *perm;     /* n entries: the epoch's order over all samples */
    float *norm;      /* per channel: scale-free mean, std, pad value; then 256 entries per channel (u8) */
    float scale;
    size_t lo, hi;    /* this rank's slice of perm */
    size_t *mine;     /* shard_per_batch: this rank's order (hi entries; lo = 0), rebuilt each epoch */
    size_t slice, slice_off; /* shard_per_batch: this rank's samples of each batch and where they start */
    size_t cursor;    /* next position in the slice, relative to lo */
    uint64_t epoch_key;
};

static float norm_f(const mq_dataset *ds, int c, float v)
{
    return (v / ds->scale - ds->norm[c]) / ds->norm[ds->c + c];
}

/* Build a dataset from validated images and labels; takes ownership of img->owner and lab->owner
 * (freed here on failure too). */
static mq_status build(loaded *img, loaded *lab, const char *iname, const char *lname, const mq_data_opts *o,
                       mq_dataset **out, mq_err *err)
{
    mq_status st = MQ_OK;
    mq_dataset *ds = NULL;
    *out = NULL;
    for (int d = 0; d < 4; d++)
        if (img->dims[d] < 0 || img->dims[d] > INT32_MAX) {
            st = mq_fail(err, MQ_ERR_LIMIT, "%s: image dimension %" PRId64 " is out of range", iname, img->dims[d]);
            goto fail;
        }
    if (img->dims[2] >= (1 << 30) || img->dims[3] >= (1 << 30)) {
        st = mq_fail(err, MQ_ERR_LIMIT, "%s: images of %" PRId64 " x %" PRId64 " are too large", iname, img->dims[2],
                     img->dims[3]);
        goto fail;
    }
    if (img->dims[0] == 0 || img->dims[1] == 0 || img->dims[2] == 0 || img->dims[3] == 0) {
        st = mq_fail(err, MQ_ERR_SHAPE, "%s: empty images (%" PRId64 " x %" PRId64 " x %" PRId64 " x %" PRId64 ")",
                     iname, img->dims[0], img->dims[1], img->dims[2], img->dims[3]);
        goto fail;
    }
    size_t n = (size_t)img->dims[0], hw, chw, nchw;
    if (mq_mul_size((size_t)img->dims[2], (size_t)img->dims[3], &hw) ||
        mq_mul_size(hw, (size_t)img->dims[1], &chw) || chw > INT32_MAX || mq_mul_size(chw, n, &nchw)) {
        st = mq_fail(err, MQ_ERR_LIMIT, "%s: images too large", iname);
        goto fail;
    }
    int c = (int)img->dims[1];
    if ((o->n_mean > 1 && o->n_mean != c) || (o->n_std > 1 && o->n_std != c)) {
        st = mq_fail(err, MQ_ERR_SHAPE, "%s: %d mean and %d std values given for images of %d channels", iname,
                     o->n_mean, o->n_std, c);
        goto fail;
    }
    if (lab->owner && (uint64_t)lab->dims[0] != (uint64_t)n) {
        st = mq_fail(err, MQ_ERR_SHAPE, "%s has %zu images but %s has %" PRId64 " labels", iname, n, lname,
                     lab->dims[0]);
        goto fail;
    }
    if (img->dtype == MQ_F32) {
        const float *f = img->data;
        for (size_t i = 0; i < nchw; i++)
            if (!isfinite(f[i])) {
                st = mq_fail(err, MQ_ERR_INVALID, "%s: image %zu has a non-finite value", iname, i / chw);
                goto fail;
            }
    }

    ds = mq_calloc(1, sizeof *ds);
    if (!ds) {
        st = mq_fail(err, MQ_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    ds->o = *o;
    ds->n = n;
    ds->c = c;
    ds->h = (int)img->dims[2];
    ds->w = (int)img->dims[3];
    ds->hw = hw;
    ds->chw = chw;
    ds->dtype = img->dtype;
    ds->owner = img->owner;
    img->owner = NULL;
    if (ds->dtype == MQ_U8) ds->u8 = img->data;
    else ds->f32 = img->data;
    ds->scale = o->scale > 0 ? o->scale : ds->dtype == MQ_U8 ? 255.0f : 1.0f;

    if (lab->owner) {
        size_t lbytes;
        if (mq_mul_size(n, sizeof(int32_t), &lbytes) || !(ds->labels = mq_malloc(lbytes))) {
            st = mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory for %zu labels", lname, n);
            goto fail;
        }
        int64_t maxl = -1;
        for (size_t i = 0; i < n; i++) {
            int64_t v = mq_load_i64(lab->data, lab->dtype, i);
            if (lab->dtype == MQ_U64 && ((const uint64_t *)lab->data)[i] > INT64_MAX) {
                st = mq_fail(err, MQ_ERR_INVALID, "%s: label %" PRIu64 " at index %zu is out of range", lname,
                             ((const uint64_t *)lab->data)[i], i);
                goto fail;
            }
            if (v < 0 || (o->num_classes > 0 && v >= o->num_classes) || v > INT32_MAX) {
                if (o->num_classes > 0)
                    st = mq_fail(err, MQ_ERR_INVALID, "%s: label %" PRId64 " at index %zu is out of range [0, %" PRId64
                                 ")", lname, v, i, o->num_classes);
                else
                    st = mq_fail(err, MQ_ERR_INVALID, "%s: label %" PRId64 " at index %zu is out of range", lname, v, i);
                goto fail;
            }
            ds->labels[i] = (int32_t)v;
            if (v > maxl) maxl = v;
        }
        ds->num_classes = o->num_classes > 0 ? o->num_classes : maxl + 1;
        mq_free(lab->owner);
        lab->owner = NULL;
    }

    size_t pbytes, nfl;
    if (mq_mul_size(n, sizeof(size_t), &pbytes) || !(ds->perm = mq_malloc(pbytes))) {
        st = mq_fail(err, MQ_ERR_NOMEM, "dataset: out of memory for the order of %zu samples", n);
        goto fail;
    }
    /* norm: mean[c], std[c], pad[c], then lut[c][256] for uint8 */
    if (mq_mul_size((size_t)c, ds->dtype == MQ_U8 ? 3 + 256 : 3, &nfl) ||
        !(ds->norm = mq_calloc(nfl, sizeof(float)))) {
        st = mq_fail(err, MQ_ERR_NOMEM, "dataset: out of memory");
        goto fail;
    }
    for (int k = 0; k < c; k++) {
        ds->norm[k] = o->n_mean == 0 ? 0.0f : o->mean[o->n_mean == 1 ? 0 : k];
        ds->norm[c + k] = o->n_std == 0 ? 1.0f : o->std[o->n_std == 1 ? 0 : k];
        ds->norm[2 * c + k] = norm_f(ds, k, 0.0f);
        if (ds->dtype == MQ_U8) {
            float *lut = ds->norm + 3 * (size_t)c + 256 * (size_t)k;
            for (int v = 0; v < 256; v++) lut[v] = norm_f(ds, k, (float)v);
        }
    }
    int count = o->shard_count > 1 ? o->shard_count : 1, r = count > 1 ? o->shard_rank : 0;
    size_t q = n / (size_t)count, rem = n % (size_t)count;
    ds->lo = (size_t)r * q + ((size_t)r < rem ? (size_t)r : rem);
    ds->hi = ds->lo + q + ((size_t)r < rem ? 1 : 0);
    ds->slice = (size_t)o->batch;
    if (o->shard_per_batch) {
        size_t unit = o->shard_unit ? (size_t)o->shard_unit : 1, u = (size_t)o->batch / unit;
        size_t uq = u / (size_t)count, urem = u % (size_t)count;
        ds->slice_off = unit * ((size_t)r * uq + ((size_t)r < urem ? (size_t)r : urem));
        ds->slice = unit * (uq + ((size_t)r < urem ? 1 : 0));
        ds->lo = 0;
        ds->hi = n / (size_t)o->batch * ds->slice;
        if (!(ds->mine = mq_malloc(sizeof(size_t) * (ds->hi ? ds->hi : 1)))) {
            st = mq_fail(err, MQ_ERR_NOMEM, "dataset: out of memory for the order of %zu samples", ds->hi);
            goto fail;
        }
    }
    mq_data_epoch_begin(ds, 0, 0);
    *out = ds;
    return MQ_OK;

fail:
    mq_free(img->owner);
    mq_free(lab->owner);
    img->owner = lab->owner = NULL;
    mq_data_close(ds);
    return st;
}

/* Where a file's bytes come from: a path, or memory (copied: load_bytes takes ownership). */
typedef struct source {
    const char *path;  /* NULL: bytes/len */
    const void *bytes;
    size_t len;
    const char *name;  /* for messages */
} source;

static mq_status load_source(const source *s, size_t cap, int images, loaded *out, mq_err *err)
{
    if (s->path) return load_file(s->path, cap, images, out, err);
    memset(out, 0, sizeof *out);
    if (s->len > cap) return mq_fail(err, MQ_ERR_LIMIT, "%s: %zu bytes, over the limit of %zu", s->name, s->len, cap);
    void *buf = mq_malloc(s->len ? s->len : 1);
    if (!buf) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory (%zu bytes)", s->name, s->len);
    if (s->len) memcpy(buf, s->bytes, s->len);
    mq_status st = load_bytes(buf, s->len, cap, images, out, err);
    if (st != MQ_OK && err && err->code == st) mq_err_prefix(err, "%s: ", s->name);
    return st;
}

static mq_status open_sources(const source *images, const source *labels, const mq_data_opts *o, mq_dataset **out,
                              mq_err *err)
{
    *out = NULL;
    mq_data_opts def;
    if (!o) {
        mq_data_opts_init(&def);
        o = &def;
    }
    MQ_TRY(check_opts(o, err));
    size_t cap = o->max_bytes ? o->max_bytes : MQ_DATA_DEFAULT_MAX_BYTES;
    loaded img, lab;
    memset(&lab, 0, sizeof lab);
    MQ_TRY(load_source(images, cap, 1, &img, err));
    if (labels) {
        mq_status st = load_source(labels, cap, 0, &lab, err);
        if (st != MQ_OK) {
            mq_free(img.owner);
            return st;
        }
    }
    return build(&img, &lab, images->name, labels ? labels->name : "(no labels)", o, out, err);
}

mq_status mq_data_open(const char *images, const char *labels, const mq_data_opts *o, mq_dataset **out,
                       mq_err *err)
{
    source i = {.path = images, .name = images}, l = {.path = labels, .name = labels};
    return open_sources(&i, labels ? &l : NULL, o, out, err);
}

mq_status mq_data_open_mem(const void *images, size_t images_len, const void *labels, size_t labels_len,
                           const mq_data_opts *o, mq_dataset **out, mq_err *err)
{
    source i = {.bytes = images, .len = images_len, .name = "images"};
    source l = {.bytes = labels, .len = labels_len, .name = "labels"};
    return open_sources(&i, labels ? &l : NULL, o, out, err);
}

static mq_status copy_tensor(const mq_tensor *t, int images, loaded *out, mq_err *err)
{
    memset(out, 0, sizeof *out);
    const char *what = images ? "images" : "labels";
    MQ_TRY(check_tensor(t, images, out, err));
    size_t n = 1, bytes;
    for (int d = 0; d < t->rank; d++)
        if (t->dims[d] < 0 || mq_mul_size(n, (size_t)t->dims[d], &n))
            return mq_fail(err, MQ_ERR_LIMIT, "%s: bad or too large shape", what);
    if (mq_mul_size(n, mq_dtype_size(t->dtype), &bytes)) return mq_fail(err, MQ_ERR_LIMIT, "%s: too large", what);
    if (bytes && !t->data) return mq_fail(err, MQ_ERR_INVALID, "%s: tensor has no data", what);
    void *p = mq_malloc(bytes);
    if (!p) return mq_fail(err, MQ_ERR_NOMEM, "%s: out of memory (%zu bytes)", what, bytes);
    if (bytes) memcpy(p, t->data, bytes);
    out->owner = p;
    out->data = p;
    return MQ_OK;
}

mq_status mq_data_from_tensors(const mq_tensor *images, const mq_tensor *labels, const mq_data_opts *o,
                               mq_dataset **out, mq_err *err)
{
    *out = NULL;
    mq_data_opts def;
    if (!o) {
        mq_data_opts_init(&def);
        o = &def;
    }
    MQ_TRY(check_opts(o, err));
    loaded img, lab;
    memset(&lab, 0, sizeof lab);
    MQ_TRY(copy_tensor(images, 1, &img, err));
    if (labels) {
        mq_status st = copy_tensor(labels, 0, &lab, err);
        if (st != MQ_OK) {
            mq_free(img.owner);
            return st;
        }
    }
    return build(&img, &lab, "images", "labels", o, out, err);
}

void mq_data_close(mq_dataset *ds)
{
    if (!ds) return;
    mq_free(ds->owner);
    mq_free(ds->labels);
    mq_free(ds->perm);
    mq_free(ds->mine);
    mq_free(ds->norm);
    mq_free(ds);
}

static size_t shard_batches(const mq_dataset *ds)
{
    size_t m = ds->hi - ds->lo, b = ds->slice;
    return ds->o.drop_last ? m / b : m / b + (m % b != 0);
}

void mq_data_get_info(const mq_dataset *ds, mq_data_info *info)
{
    memset(info, 0, sizeof *info);
    info->count = ds->n;
    info->shard_count = ds->hi - ds->lo;
    info->batches = shard_batches(ds);
    info->batch = ds->o.batch;
    info->slice = ds->slice;
    info->channels = ds->c;
    info->height = ds->h;
    info->width = ds->w;
    info->sample_floats = ds->chw;
    info->num_classes = ds->labels ? ds->num_classes : 0;
    info->has_labels = ds->labels != NULL;
    info->source = ds->dtype;
}

void mq_data_epoch_begin(mq_dataset *ds, uint64_t epoch, uint64_t seed)
{
    ds->epoch_key = mq_mix64(seed + GOLDEN * (epoch + 1));
    for (size_t i = 0; i < ds->n; i++) ds->perm[i] = i;
    if (ds->o.shuffle) {
        mq_rng r;
        mq_rng_seed(&r, ds->epoch_key);
        for (size_t i = ds->n; i > 1; i--) { /* Fisher-Yates: position i-1 gets a uniform pick of 0..i-1 */
            size_t j = (size_t)mq_rng_below(&r, i);
            size_t t = ds->perm[i - 1];
            ds->perm[i - 1] = ds->perm[j];
            ds->perm[j] = t;
        }
    }
    if (ds->mine) /* this rank's slice of every full batch */
        for (size_t j = 0, at = 0; at < ds->hi; j++)
            for (size_t k = 0; k < ds->slice; k++) ds->mine[at++] = ds->perm[j * (size_t)ds->o.batch + ds->slice_off + k];
    ds->cursor = 0;
}

static const size_t *rank_order(const mq_dataset *ds) { return ds->mine ? ds->mine : ds->perm + ds->lo; }

const size_t *mq_data_epoch_order(const mq_dataset *ds, size_t *count)
{
    *count = ds->hi - ds->lo;
    return rank_order(ds);
}

/* Write sample idx, cropped at offset (dy, dx) of the image padded by pad, then mirrored if flip. */
static void write_sample(const mq_dataset *ds, size_t idx, int pad, int dy, int dx, int flip, float *x)
{
    const int H = ds->h, W = ds->w;
    const int plain = dy == pad && dx == pad && !flip;
    for (int c = 0; c < ds->c; c++) {
        float *o = x + (size_t)c * ds->hw;
        const float padv = ds->norm[2 * ds->c + c];
        if (ds->dtype == MQ_U8) {
            const uint8_t *src = ds->u8 + idx * ds->chw + (size_t)c * ds->hw;
            const float *lut = ds->norm + 3 * (size_t)ds->c + 256 * (size_t)c;
            if (plain) {
                for (size_t i = 0; i < ds->hw; i++) o[i] = lut[src[i]];
                continue;
            }
            for (int i = 0; i < H; i++, o += W) {
                int sy = i + dy - pad;
                if (sy < 0 || sy >= H) {
                    for (int j = 0; j < W; j++) o[j] = padv;
                    continue;
                }
                const uint8_t *row = src + (size_t)sy * (size_t)W;
                for (int j = 0; j < W; j++) {
                    int sx = (flip ? W - 1 - j : j) + dx - pad;
                    o[j] = sx >= 0 && sx < W ? lut[row[sx]] : padv;
                }
            }
        } else {
            const float *src = ds->f32 + idx * ds->chw + (size_t)c * ds->hw;
            const float sc = ds->scale, m = ds->norm[c], s = ds->norm[ds->c + c];
            if (plain) {
                for (size_t i = 0; i < ds->hw; i++) o[i] = (src[i] / sc - m) / s;
                continue;
            }
            for (int i = 0; i < H; i++, o += W) {
                int sy = i + dy - pad;
                if (sy < 0 || sy >= H) {
                    for (int j = 0; j < W; j++) o[j] = padv;
                    continue;
                }
                const float *row = src + (size_t)sy * (size_t)W;
                for (int j = 0; j < W; j++) {
                    int sx = (flip ? W - 1 - j : j) + dx - pad;
                    o[j] = sx >= 0 && sx < W ? (row[sx] / sc - m) / s : padv;
                }
            }
        }
    }
}

mq_status mq_data_next_batch(mq_dataset *ds, float *x, int32_t *y, int *n, mq_err *err)
{
    if (!n) return mq_fail(err, MQ_ERR_INVALID, "mq_data_next_batch: n is NULL");
    *n = 0;
    if (!ds) return mq_fail(err, MQ_ERR_INVALID, "mq_data_next_batch: no dataset");
    size_t left = ds->hi - ds->lo - ds->cursor, b = ds->slice;
    if (left == 0 || (left < b && ds->o.drop_last)) {
        ds->cursor = ds->hi - ds->lo;
        return MQ_OK;
    }
    size_t m = left < b ? left : b;
    const size_t *order = rank_order(ds) + ds->cursor;
    const int pad = ds->o.crop_pad;
    for (size_t k = 0; k < m; k++) {
        size_t idx = order[k];
        if (x) {
            int dy = pad, dx = pad, flip = 0;
            if (pad > 0 || ds->o.hflip) {
                mq_rng r;
                mq_rng_seed(&r, mq_mix64(ds->epoch_key ^ mq_mix64(AUG_STREAM * ((uint64_t)idx + 1))));
                if (pad > 0) {
                    dy = (int)mq_rng_below(&r, 2 * (uint64_t)pad + 1);
                    dx = (int)mq_rng_below(&r, 2 * (uint64_t)pad + 1);
                }
                if (ds->o.hflip) flip = (int)(mq_rng_next(&r) >> 63);
            }
            write_sample(ds, idx, pad, dy, dx, flip, x + k * ds->chw);
        }
        if (y) y[k] = ds->labels ? ds->labels[idx] : -1;
    }
    ds->cursor += m;
    *n = (int)m;
    return MQ_OK;
}

mq_status mq_data_get(const mq_dataset *ds, size_t index, float *x, int32_t *y, mq_err *err)
{
    if (!ds) return mq_fail(err, MQ_ERR_INVALID, "mq_data_get: no dataset");
    if (index >= ds->n)
        return mq_fail(err, MQ_ERR_INVALID, "mq_data_get: sample %zu is out of range (%zu samples)", index, ds->n);
    if (x) write_sample(ds, index, 0, 0, 0, 0, x);
    if (y) *y = ds->labels ? ds->labels[index] : -1;
    return MQ_OK;
}
