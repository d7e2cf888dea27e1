/* test_data.c: the training data layer (train/data.h): Fashion-MNIST and small IDX/.npy files against
 * python3's view of them, bad inputs, normalization, shuffling, augmentation, sharding, OOM sweeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "frontend/tensor_io.h"
#include "train/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#ifndef MAQD_SOURCE_DIR
#define MAQD_SOURCE_DIR "."
#endif
#define DATA MAQD_SOURCE_DIR "/tests/data/datasets/"
#define FMNIST "/usr/share/datasets/fashion-mnist/"

/* ---- helpers ----------------------------------------------------------------------------------- */

static char g_tmp[256];  /* a private temporary folder for files written by the tests */

static const char *tmp_path(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", g_tmp, name);
    return p;
}

static const char *write_tmp(const char *name, const void *data, size_t len)
{
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    void *buf;
    mq_err e;
    mq_err_clear(&e);
    if (mq_read_file(path, (size_t)1 << 30, &buf, len, &e) != MQ_OK) fail_msg("%s", e.msg);
    return buf;
}

/* gzip with zlib (the test's own writer, independent of the reader under test) */
static unsigned char *gz(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static size_t idx_header(unsigned char *b, unsigned type, unsigned rank, const uint32_t *dims)
{
    b[0] = b[1] = 0;
    b[2] = (unsigned char)type;
    b[3] = (unsigned char)rank;
    for (unsigned d = 0; d < rank; d++) {
        b[4 + 4 * d] = (unsigned char)(dims[d] >> 24);
        b[5 + 4 * d] = (unsigned char)(dims[d] >> 16);
        b[6 + 4 * d] = (unsigned char)(dims[d] >> 8);
        b[7 + 4 * d] = (unsigned char)dims[d];
    }
    return 4 + 4 * (size_t)rank;
}

static mq_dataset *open_ok(const char *img, const char *lab, const mq_data_opts *o)
{
    mq_dataset *ds = NULL;
    mq_err e;
    mq_err_clear(&e);
    mq_status st = mq_data_open(img, lab, o, &ds, &e);
    if (st != MQ_OK) fail_msg("mq_data_open(%s, %s): %s", img, lab ? lab : "NULL", e.msg);
    assert_non_null(ds);
    return ds;
}

/* Open must fail with code, and the message must contain each of the given substrings. */
static void open_fails(const char *img, const char *lab, const mq_data_opts *o, mq_status code, const char *s1,
                       const char *s2)
{
    mq_dataset *ds = (mq_dataset *)1;
    mq_err e;
    mq_err_clear(&e);
    mq_status st = mq_data_open(img, lab, o, &ds, &e);
    if (st != code) fail_msg("%s: got %s (%s), want %s", img, mq_status_name(st), e.msg, mq_status_name(code));
    assert_null(ds);
    assert_int_equal(e.code, code);
    if (s1 && !strstr(e.msg, s1)) fail_msg("message '%s' lacks '%s'", e.msg, s1);
    if (s2 && !strstr(e.msg, s2)) fail_msg("message '%s' lacks '%s'", e.msg, s2);
}

static mq_data_opts opts(void)
{
    mq_data_opts o;
    mq_data_opts_init(&o);
    return o;
}

/* all batches of one epoch, concatenated (x: count * sample floats, y: count) */
static size_t read_epoch(mq_dataset *ds, float *x, int32_t *y)
{
    mq_data_info info;
    mq_data_get_info(ds, &info);
    size_t total = 0;
    for (;;) {
        int n = -1;
        mq_err e;
        mq_err_clear(&e);
        assert_int_equal(mq_data_next_batch(ds, x ? x + total * info.sample_floats : NULL, y ? y + total : NULL, &n,
                                            &e), MQ_OK);
        assert_true(n >= 0);
        if (n == 0) break;
        total += (size_t)n;
    }
    return total;
}

/* ---- Fashion-MNIST ----------------------------------------------------------------------------- */

static void test_fashion_mnist_t10k(void **state)
{
    (void)state;
    /* The dataset package (dataset-fashion-mnist) is required: missing files fail this test. */
    mq_data_opts o = opts();
    o.scale = 1; /* raw pixel values */
    o.num_classes = 10;
    o.batch = 10000;
    mq_dataset *ds = open_ok(FMNIST "t10k-images-idx3-ubyte.gz", FMNIST "t10k-labels-idx1-ubyte.gz", &o);
    mq_data_info info;
    mq_data_get_info(ds, &info);
    assert_int_equal(info.count, 10000);
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.height, 28);
    assert_int_equal(info.width, 28);
    assert_int_equal(info.num_classes, 10);
    assert_int_equal(info.batches, 1);
    assert_int_equal(info.source, MQ_U8);
    float *x = malloc(10000 * 784 * sizeof(float));
    int32_t *y = malloc(10000 * sizeof(int32_t));
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(read_epoch(ds, x, y), 10000);

    /* Expected values from /usr/bin/python3 with gzip + numpy on the same files:
     *   im = np.frombuffer(gzip.open(images).read(), np.uint8, offset=16).reshape(-1, 28, 28)
     *   lb = np.frombuffer(gzip.open(labels).read(), np.uint8, offset=8)
     *   lb[:20], lb[-5:], im[0,10,10:20], im[1].sum(), im[9999].sum(), im[9999,14,14], im.sum(),
     *   np.bincount(lb) == [1000] * 10 */
    static const int32_t first[20] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1, 2, 4, 8, 0};
    static const int32_t last[5] = {9, 1, 8, 1, 5};
    static const float row[10] = {0, 0, 0, 4, 0, 53, 129, 120, 147, 175};
    for (int i = 0; i < 20; i++) assert_int_equal(y[i], first[i]);
    for (int i = 0; i < 5; i++) assert_int_equal(y[9995 + i], last[i]);
    for (int j = 0; j < 10; j++) assert_true(x[10 * 28 + 10 + j] == row[j]);
    double s1 = 0, s9999 = 0, all = 0;
    for (int i = 0; i < 784; i++) {
        s1 += x[784 + i];
        s9999 += x[9999 * 784 + i];
    }
    for (size_t i = 0; i < (size_t)10000 * 784; i++) all += x[i];
    assert_true(s1 == 100994);
    assert_true(s9999 == 24390);
    assert_true(x[9999 * 784 + 14 * 28 + 14] == 132);
    assert_true(all == 573469082.0);
    int counts[10] = {0};
    for (int i = 0; i < 10000; i++) counts[y[i]]++;
    for (int k = 0; k < 10; k++) assert_int_equal(counts[k], 1000);
    mq_data_close(ds);

    /* the default normalization is x / 255 (as torchvision's ToTensor) */
    o = opts();
    ds = open_ok(FMNIST "t10k-images-idx3-ubyte.gz", FMNIST "t10k-labels-idx1-ubyte.gz", &o);
    float s[784];
    int32_t l;
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_data_get(ds, 0, s, &l, &e), MQ_OK);
    assert_int_equal(l, 9);
    assert_true(s[10 * 28 + 19] == 175.0f / 255.0f);
    mq_data_close(ds);
    free(x);
    free(y);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_fashion_mnist_train(void **state)
{
    (void)state;
    mq_data_opts o = opts();
    o.num_classes = 10;
    o.shuffle = 1;
    o.batch = 64;
    o.crop_pad = 2;
    o.hflip = 1;
    o.n_mean = o.n_std = 1;
    o.mean[0] = 0.2860f; /* Fashion-MNIST's usual statistics */
    o.std[0] = 0.3530f;
    double t0 = now();
    mq_dataset *ds = open_ok(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", &o);
    double t1 = now();
    mq_data_info info;
    mq_data_get_info(ds, &info);
    assert_int_equal(info.count, 60000);
    assert_int_equal(info.batches, 938);
    /* python3: np.frombuffer(gzip.open(train labels).read(), np.uint8, offset=8)[:10] */
    static const int32_t first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    for (int i = 0; i < 10; i++) {
        int32_t l;
        assert_int_equal(mq_data_get(ds, (size_t)i, NULL, &l, NULL), MQ_OK);
        assert_int_equal(l, first[i]);
    }
    mq_data_epoch_begin(ds, 0, 1);
    float *x = malloc(64 * 784 * sizeof(float));
    int32_t y[64];
    assert_non_null(x);
    size_t total = 0;
    int n;
    while (mq_data_next_batch(ds, x, y, &n, NULL) == MQ_OK && n > 0) total += (size_t)n;
    double t2 = now();
    assert_int_equal(total, 60000);
    print_message("[   INFO   ] 60000 training images: open %.0f ms, one augmented epoch of batches %.0f ms\n",
                  1e3 * (t1 - t0), 1e3 * (t2 - t1));
    free(x);
    mq_data_close(ds);
}

/* ---- formats ----------------------------------------------------------------------------------- */

/* values printed by make_datasets.py (numpy) for the tiny 20 x 7 x 5 set */
static const int32_t tiny_labels[20] = {6, 1, 4, 6, 6, 0, 7, 8, 3, 3, 8, 6, 6, 4, 1, 7, 8, 9, 3, 7};

static void check_tiny(mq_dataset *ds, float scale)
{
    mq_data_info info;
    mq_data_get_info(ds, &info);
    assert_int_equal(info.count, 20);
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.height, 7);
    assert_int_equal(info.width, 5);
    float x[20 * 35];
    int32_t y[20];
    assert_int_equal(read_epoch(ds, x, y), 20);
    for (int i = 0; i < 20; i++) assert_int_equal(y[i], tiny_labels[i]);
    static const float r0[5] = {88, 71, 136, 7, 138}, r19[5] = {32, 149, 171, 35, 172};
    for (int j = 0; j < 5; j++) {
        assert_true(x[j] == r0[j] / scale);
        assert_true(x[19 * 35 + 6 * 5 + j] == r19[j] / scale);
    }
    assert_true(x[7 * 35 + 3 * 5 + 2] == 250 / scale);
    double sum = 0;
    for (int i = 0; i < 700; i++) sum += x[i] * scale;
    assert_true(fabs(sum - 87748) < 1e-2);
}

static void test_formats_agree(void **state)
{
    (void)state;
    mq_data_opts o = opts();
    o.batch = 7; /* batches of 7, 7, 6 */
    o.num_classes = 10;
    static const char *images[] = {DATA "tiny-images-idx3-ubyte", DATA "tiny-images-idx3-ubyte.gz",
                                   DATA "tiny-images-2members.gz", DATA "tiny-images-u8.npy"};
    static const char *labels[] = {DATA "tiny-labels-idx1-ubyte", DATA "tiny-labels-idx1-ubyte.gz",
                                   DATA "tiny-labels-i64.npy", DATA "tiny-labels-u8.npy"};
    float ref[700], x[700];
    int32_t yref[20], y[20];
    for (size_t i = 0; i < 4; i++)
        for (size_t l = 0; l < 4; l++) {
            mq_dataset *ds = open_ok(images[i], labels[l], &o);
            check_tiny(ds, 255.0f);
            mq_data_epoch_begin(ds, 0, 0);
            assert_int_equal(read_epoch(ds, i || l ? x : ref, i || l ? y : yref), 20);
            if (i || l) {
                assert_memory_equal(x, ref, sizeof x);
                assert_memory_equal(y, yref, sizeof y);
            }
            mq_data_close(ds);
        }
    /* float32 .npy (N, 1, H, W) holding u8 / 255 (numpy, float32): scale defaults to 1, so the
     * batches equal those of the uint8 files, bit for bit */
    mq_dataset *ds = open_ok(DATA "tiny-images-f32.npy", DATA "tiny-labels-i64.npy", &o);
    mq_data_info info;
    mq_data_get_info(ds, &info);
    assert_int_equal(info.source, MQ_F32);
    check_tiny(ds, 255.0f);
    mq_data_epoch_begin(ds, 0, 0);
    assert_int_equal(read_epoch(ds, x, y), 20);
    assert_memory_equal(x, ref, sizeof x);
    mq_data_close(ds);

    /* the format comes from the content, not the name */
    size_t lg, lr;
    unsigned char *g = slurp(DATA "tiny-images-idx3-ubyte.gz", &lg), *r = slurp(DATA "tiny-images-idx3-ubyte", &lr);
    const char *gz_as_raw = write_tmp("images.idx", g, lg), *raw_as_gz = write_tmp("images.gz", r, lr);
    ds = open_ok(gz_as_raw, DATA "tiny-labels-idx1-ubyte", &o);
    check_tiny(ds, 255.0f);
    mq_data_close(ds);
    ds = open_ok(raw_as_gz, DATA "tiny-labels-idx1-ubyte.gz", &o);
    check_tiny(ds, 255.0f);
    mq_data_close(ds);
    mq_free(g);
    mq_free(r);
}

static void test_unlabelled(void **state)
{
    (void)state;
    mq_data_opts o = opts();
    mq_dataset *ds = open_ok(DATA "tiny-images-u8.npy", NULL, &o);
    mq_data_info info;
    mq_data_get_info(ds, &info);
    assert_int_equal(info.has_labels, 0);
    assert_int_equal(info.num_classes, 0);
    float x[700];
    int32_t y[20];
    assert_int_equal(read_epoch(ds, x, y), 20);
    for (int i = 0; i < 20; i++) assert_int_equal(y[i], -1);
    mq_data_close(ds);
}

/* ---- bad inputs -------------------------------------------------------------------------------- */

static void test_bad_idx(void **state)
{
    (void)state;
    mq_data_opts o = opts();
    const char *lab2 = NULL;
    unsigned char b[64];
    uint32_t d3[3] = {2, 2, 2}, d1[1] = {2};
    size_t h;

    h = idx_header(b, 0x08, 1, d1);
    b[h] = 1;
    b[h + 1] = 2;
    lab2 = write_tmp("labels2", b, h + 2);

    /* a good 2 x 2 x 2 file opens */
    h = idx_header(b, 0x08, 3, d3);
    memset(b + h, 7, 8);
    mq_dataset *ds = open_ok(write_tmp("good", b, h + 8), lab2, &o);
    mq_data_close(ds);

    /* bad magic: not 00 00, or an unknown type code */
    memcpy(b, "\x12\x34\x08\x03", 4);
    const char *p = write_tmp("magic1", b, h + 8);
    open_fails(p, lab2, &o, MQ_ERR_PARSE, p, "bad header");
    h = idx_header(b, 0x07, 3, d3);
    p = write_tmp("magic2", b, h + 8);
    open_fails(p, lab2, &o, MQ_ERR_PARSE, p, "not IDX");
    /* wrong dtype: float32 IDX images (0x00000D03) */
    h = idx_header(b, 0x0D, 3, d3);
    p = write_tmp("f32idx", b, h + 32);
    open_fails(p, lab2, &o, MQ_ERR_SHAPE, p, "wrong dtype float32");
    /* a label file given as images, and an image file given as labels */
    open_fails(lab2, lab2, &o, MQ_ERR_SHAPE, lab2, "must have rank 3");
    h = idx_header(b, 0x08, 3, d3);
    const char *img = write_tmp("img", b, h + 8);
    open_fails(img, img, &o, MQ_ERR_SHAPE, img, "must have rank 1");
    /* wrong dtype for labels: int32 IDX labels */
    h = idx_header(b, 0x0C, 1, d1);
    memset(b + h, 0, 8);
    p = write_tmp("i32labels", b, h + 8);
    open_fails(img, p, &o, MQ_ERR_SHAPE, p, "wrong dtype int32");
    /* truncated header */
    h = idx_header(b, 0x08, 3, d3);
    p = write_tmp("trunc_hdr", b, 10);
    open_fails(p, lab2, &o, MQ_ERR_PARSE, p, "truncated header");
    p = write_tmp("trunc_hdr2", b, 3);
    open_fails(p, lab2, &o, MQ_ERR_PARSE, p, "truncated header");
    /* truncated data, trailing data */
    p = write_tmp("trunc_data", b, h + 7);
    open_fails(p, lab2, &o, MQ_ERR_PARSE, p, "truncated");
    p = write_tmp("trailing", b, h + 9);
    open_fails(p, lab2, &o, MQ_ERR_PARSE, p, "1 trailing bytes");
    /* dims whose product overflows 64 bits, and a huge product with a tiny file (no allocation) */
    uint32_t big[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, large[3] = {0xFFFFFFFFu, 0xFFFFu, 2};
    h = idx_header(b, 0x08, 3, big);
    p = write_tmp("overflow", b, h + 8);
    open_fails(p, lab2, &o, MQ_ERR_LIMIT, p, "overflow");
    h = idx_header(b, 0x08, 3, large);
    p = write_tmp("huge", b, h + 8);
    open_fails(p, lab2, &o, MQ_ERR_PARSE, p, "truncated");
    /* no samples */
    uint32_t zero[3] = {0, 2, 2}, zl[1] = {0};
    h = idx_header(b, 0x08, 3, zero);
    p = write_tmp("empty_n", b, h);
    h = idx_header(b, 0x08, 1, zl);
    open_fails(p, write_tmp("empty_l", b, h), &o, MQ_ERR_SHAPE, p, "empty images");
    /* empty file, missing file */
    p = write_tmp("empty", b, 0);
    open_fails(p, lab2, &o, MQ_ERR_PARSE, p, "bad header");
    p = tmp_path("does-not-exist");
    open_fails(p, lab2, &o, MQ_ERR_IO, p, "cannot open");
    open_fails(img, p, &o, MQ_ERR_IO, p, "cannot open");
}

static void test_bad_counts_and_labels(void **state)
{
    (void)state;
    mq_data_opts o = opts();
    /* 20 images, 19 labels: both files named */
    size_t len;
    unsigned char *l = slurp(DATA "tiny-labels-idx1-ubyte", &len);
    l[7] = 19;
    const char *l19 = write_tmp("labels19", l, len - 1);
    open_fails(DATA "tiny-images-idx3-ubyte.gz", l19, &o, MQ_ERR_SHAPE, "tiny-images-idx3-ubyte.gz has 20 images",
               "labels19 has 19 labels");
    mq_free(l);
    /* labels out of range: the tiny labels go up to 9 */
    o.num_classes = 9;
    open_fails(DATA "tiny-images-u8.npy", DATA "tiny-labels-i64.npy", &o, MQ_ERR_INVALID, "tiny-labels-i64.npy",
               "label 9 at index 17 is out of range [0, 9)");
    o.num_classes = 5;
    open_fails(DATA "tiny-images-u8.npy", DATA "tiny-labels-idx1-ubyte.gz", &o, MQ_ERR_INVALID,
               "tiny-labels-idx1-ubyte.gz", "label 6 at index 0 is out of range [0, 5)");
    o.num_classes = 10;
    mq_data_close(open_ok(DATA "tiny-images-u8.npy", DATA "tiny-labels-i64.npy", &o));
    /* negative labels, and values beyond int32 */
    int64_t neg[20] = {0};
    neg[3] = -1;
    mq_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = MQ_I64;
    t.rank = 1;
    t.dims[0] = 20;
    t.data = neg;
    mq_err e;
    mq_err_clear(&e);
    const char *p = tmp_path("neg.npy");
    assert_int_equal(mq_tensor_write_npy(p, &t, &e), MQ_OK);
    o.num_classes = 0;
    open_fails(DATA "tiny-images-u8.npy", p, &o, MQ_ERR_INVALID, p, "label -1 at index 3 is out of range");
    neg[3] = (int64_t)1 << 40;
    p = tmp_path("big.npy");
    assert_int_equal(mq_tensor_write_npy(p, &t, &e), MQ_OK);
    open_fails(DATA "tiny-images-u8.npy", p, &o, MQ_ERR_INVALID, p, "at index 3 is out of range");
}

static void test_bad_npy(void **state)
{
    (void)state;
    mq_data_opts o = opts();
    mq_err e;
    mq_err_clear(&e);
    mq_tensor t;
    memset(&t, 0, sizeof t);
    int16_t s16[2 * 3 * 3] = {0};
    float f[2 * 3 * 3] = {0};
    /* images of int16 */
    t.dtype = MQ_I16;
    t.rank = 3;
    t.dims[0] = 2;
    t.dims[1] = t.dims[2] = 3;
    t.data = s16;
    const char *p = tmp_path("i16.npy");
    assert_int_equal(mq_tensor_write_npy(p, &t, &e), MQ_OK);
    open_fails(p, NULL, &o, MQ_ERR_SHAPE, p, "wrong dtype: images must be uint8 or float32, not int16");
    /* images of rank 2 and rank 5 */
    t.dtype = MQ_F32;
    t.data = f;
    t.rank = 2;
    t.dims[1] = 9;
    p = tmp_path("rank2.npy");
    assert_int_equal(mq_tensor_write_npy(p, &t, &e), MQ_OK);
    open_fails(p, NULL, &o, MQ_ERR_SHAPE, p, "not rank 2");
    t.rank = 5;
    t.dims[1] = 1;
    t.dims[2] = 1;
    t.dims[3] = 3;
    t.dims[4] = 3;
    p = tmp_path("rank5.npy");
    assert_int_equal(mq_tensor_write_npy(p, &t, &e), MQ_OK);
    open_fails(p, NULL, &o, MQ_ERR_SHAPE, p, "not rank 5");
    /* labels of float32, labels of rank 2 */
    t.rank = 1;
    t.dims[0] = 20;
    float fl[20] = {0};
    t.data = fl;
    p = tmp_path("flabels.npy");
    assert_int_equal(mq_tensor_write_npy(p, &t, &e), MQ_OK);
    open_fails(DATA "tiny-images-u8.npy", p, &o, MQ_ERR_SHAPE, p, "wrong dtype: labels must be integers, not float32");
    int32_t l2[20] = {0};
    t.dtype = MQ_I32;
    t.data = l2;
    t.rank = 2;
    t.dims[1] = 1;
    p = tmp_path("labels2d.npy");
    assert_int_equal(mq_tensor_write_npy(p, &t, &e), MQ_OK);
    open_fails(DATA "tiny-images-u8.npy", p, &o, MQ_ERR_SHAPE, p, "not rank 2");
    /* a non-finite float image */
    f[12] = NAN;
    t.dtype = MQ_F32;
    t.data = f;
    t.rank = 3;
    t.dims[0] = 2;
    t.dims[1] = t.dims[2] = 3;
    p = tmp_path("nan.npy");
    assert_int_equal(mq_tensor_write_npy(p, &t, &e), MQ_OK);
    open_fails(p, NULL, &o, MQ_ERR_INVALID, p, "image 1 has a non-finite value");
    /* a truncated .npy (the project's reader finds it; the message names the file) */
    size_t len;
    unsigned char *b = slurp(DATA "tiny-images-u8.npy", &len);
    p = write_tmp("trunc.npy", b, len - 1);
    open_fails(p, NULL, &o, MQ_ERR_PARSE, p, ".npy");
    mq_free(b);
}

static void test_bad_gzip(void **state)
{
    (void)state;
    mq_data_opts o = opts();
    size_t len, glen;
    unsigned char *raw = slurp(DATA "tiny-images-idx3-ubyte", &len);
    unsigned char *g = slurp(DATA "tiny-images-idx3-ubyte.gz", &glen);
    const char *lab = DATA "tiny-labels-idx1-ubyte";
    /* truncated compressed streams: in the deflate data, and in the 8-byte trailer */
    const char *p = write_tmp("cut10.gz", g, glen - 10);
    open_fails(p, lab, &o, MQ_ERR_PARSE, p, "truncated");
    p = write_tmp("cut4.gz", g, glen - 4);
    open_fails(p, lab, &o, MQ_ERR_PARSE, p, "truncated");
    p = write_tmp("cut3", g, 3);
    open_fails(p, lab, &o, MQ_ERR_PARSE, p, "truncated");
    /* corrupt data (CRC or deflate error) */
    unsigned char *c = malloc(glen);
    assert_non_null(c);
    memcpy(c, g, glen);
    for (size_t i = 100; i < 110; i++) c[i] ^= 0x5a;
    p = write_tmp("corrupt.gz", c, glen);
    open_fails(p, lab, &o, MQ_ERR_PARSE, p, "corrupt");
    /* garbage after the gzip data */
    memcpy(c, g, glen);
    unsigned char *c2 = malloc(glen + 3);
    assert_non_null(c2);
    memcpy(c2, g, glen);
    memcpy(c2 + glen, "xyz", 3);
    p = write_tmp("garbage.gz", c2, glen + 3);
    open_fails(p, lab, &o, MQ_ERR_PARSE, p, "3 bytes of garbage");
    free(c);
    free(c2);
    /* the decompressed length disagrees with the IDX header (one extra byte; one missing) */
    unsigned char *r2 = malloc(len + 1);
    assert_non_null(r2);
    memcpy(r2, raw, len);
    r2[len] = 0;
    size_t zl;
    unsigned char *z = gz(r2, len + 1, &zl);
    p = write_tmp("long.gz", z, zl);
    open_fails(p, lab, &o, MQ_ERR_PARSE, p, "1 trailing bytes");
    free(z);
    z = gz(raw, len - 1, &zl);
    p = write_tmp("short.gz", z, zl);
    open_fails(p, lab, &o, MQ_ERR_PARSE, p, "truncated");
    free(z);
    free(r2);
    /* the decompression cap: 1000 zero images of 28 x 28 (784016 bytes) compress to about 800 */
    size_t big = 16 + 1000 * 784;
    unsigned char *zeros = calloc(1, big);
    assert_non_null(zeros);
    uint32_t dims[3] = {1000, 28, 28};
    idx_header(zeros, 0x08, 3, dims);
    z = gz(zeros, big, &zl);
    assert_true(zl < 10000);
    p = write_tmp("zeros.gz", z, zl);
    o.max_bytes = 100000;
    open_fails(p, NULL, &o, MQ_ERR_LIMIT, p, "exceeds the limit of 100000 bytes");
    o.max_bytes = big;
    mq_data_close(open_ok(p, NULL, &o)); /* exactly at the cap */
    o.max_bytes = 0;
    free(z);
    free(zeros);
    mq_free(raw);
    mq_free(g);
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *img = DATA "tiny-images-u8.npy", *lab = DATA "tiny-labels-u8.npy";
    mq_data_opts o = opts();
    o.batch = 0;
    open_fails(img, lab, &o, MQ_ERR_INVALID, "batch 0", NULL);
    o = opts();
    o.n_mean = 3; /* 3 means for 1 channel */
    o.mean[0] = o.mean[1] = o.mean[2] = 0.5f;
    open_fails(img, lab, &o, MQ_ERR_SHAPE, img, "3 mean and 0 std values given for images of 1 channels");
    o = opts();
    o.n_std = 1;
    o.std[0] = 0;
    open_fails(img, lab, &o, MQ_ERR_INVALID, "std[0]", NULL);
    o = opts();
    o.scale = -1;
    open_fails(img, lab, &o, MQ_ERR_INVALID, "scale", NULL);
    o = opts();
    o.shard_count = 4;
    o.shard_rank = 4;
    open_fails(img, lab, &o, MQ_ERR_INVALID, "shard rank 4 of 4", NULL);
    o = opts();
    o.crop_pad = -1;
    open_fails(img, lab, &o, MQ_ERR_INVALID, "crop padding", NULL);
}

/* ---- normalization ----------------------------------------------------------------------------- */

static void test_normalization(void **state)
{
    (void)state;
    /* one sample, 2 channels of 1 x 2, uint8: channel 0 = [0, 255], channel 1 = [51, 102] */
    uint8_t px[4] = {0, 255, 51, 102};
    int64_t lab[1] = {3};
    mq_tensor im, lb;
    memset(&im, 0, sizeof im);
    memset(&lb, 0, sizeof lb);
    im.dtype = MQ_U8;
    im.rank = 4;
    im.dims[0] = 1;
    im.dims[1] = 2;
    im.dims[2] = 1;
    im.dims[3] = 2;
    im.data = px;
    lb.dtype = MQ_I64;
    lb.rank = 1;
    lb.dims[0] = 1;
    lb.data = lab;
    mq_data_opts o = opts();
    o.n_mean = o.n_std = 2;
    o.mean[0] = 0.5f;
    o.std[0] = 0.5f;
    o.mean[1] = 0.25f;
    o.std[1] = 0.2f;
    mq_dataset *ds;
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_data_from_tensors(&im, &lb, &o, &ds, &e), MQ_OK);
    /* by hand, scale 255 (default for uint8):
     *   c0: (0/255 - 0.5)/0.5 = -1,  (255/255 - 0.5)/0.5 = 1
     *   c1: (51/255 - 0.25)/0.2 = (0.2 - 0.25)/0.2 = -0.25,  (102/255 - 0.25)/0.2 = (0.4 - 0.25)/0.2 = 0.75 */
    float x[4];
    int32_t y;
    int n;
    assert_int_equal(mq_data_next_batch(ds, x, &y, &n, &e), MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(y, 3);
    const float want[4] = {-1, 1, -0.25f, 0.75f};
    for (int i = 0; i < 4; i++) assert_float_equal(x[i], want[i], 1e-6);
    mq_data_close(ds);

    /* scalar mean/std on float32 with an explicit scale: v = [3, -1, 0.5, 8], scale 2, mean 0.5,
     * std 0.25: (1.5 - 0.5)/0.25 = 4, (-0.5 - 0.5)/0.25 = -4, (0.25 - 0.5)/0.25 = -1, (4 - 0.5)/0.25 = 14 */
    float fv[4] = {3, -1, 0.5f, 8};
    im.dtype = MQ_F32;
    im.data = fv;
    o = opts();
    o.scale = 2;
    o.n_mean = o.n_std = 1;
    o.mean[0] = 0.5f;
    o.std[0] = 0.25f;
    assert_int_equal(mq_data_from_tensors(&im, NULL, &o, &ds, &e), MQ_OK);
    assert_int_equal(mq_data_get(ds, 0, x, &y, &e), MQ_OK);
    assert_int_equal(y, -1);
    const float want2[4] = {4, -4, -1, 14};
    for (int i = 0; i < 4; i++) assert_float_equal(x[i], want2[i], 1e-6);
    mq_data_close(ds);
    /* float32 default: scale 1, no mean/std: the values themselves */
    assert_int_equal(mq_data_from_tensors(&im, NULL, NULL, &ds, &e), MQ_OK);
    assert_int_equal(mq_data_get(ds, 0, x, NULL, &e), MQ_OK);
    assert_memory_equal(x, fv, sizeof fv);
    assert_int_equal(mq_data_get(ds, 1, x, NULL, &e), MQ_ERR_INVALID);
    mq_data_close(ds);
}

/* ---- shuffling, batching, sharding ------------------------------------------------------------- */

static mq_dataset *index_dataset(size_t n, const mq_data_opts *o)
{
    /* images 1 x 1 x 1 holding nothing useful; label i for sample i, so y shows the order */
    uint8_t *px = calloc(n, 1);
    int32_t *lab = malloc(n * sizeof(int32_t));
    assert_non_null(px);
    assert_non_null(lab);
    for (size_t i = 0; i < n; i++) lab[i] = (int32_t)i;
    mq_tensor im, lb;
    memset(&im, 0, sizeof im);
    memset(&lb, 0, sizeof lb);
    im.dtype = MQ_U8;
    im.rank = 3;
    im.dims[0] = (int64_t)n;
    im.dims[1] = im.dims[2] = 1;
    im.data = px;
    lb.dtype = MQ_I32;
    lb.rank = 1;
    lb.dims[0] = (int64_t)n;
    lb.data = lab;
    mq_dataset *ds;
    mq_err e;
    mq_err_clear(&e);
    if (mq_data_from_tensors(&im, &lb, o, &ds, &e) != MQ_OK) fail_msg("%s", e.msg);
    free(px);
    free(lab);
    return ds;
}

static void assert_permutation(const int32_t *y, size_t n)
{
    unsigned char *seen = calloc(n, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < n; i++) {
        assert_true(y[i] >= 0 && (size_t)y[i] < n);
        assert_int_equal(seen[y[i]], 0);
        seen[y[i]] = 1;
    }
    free(seen);
}

static void test_rng_reference(void **state)
{
    (void)state;
    /* SplitMix64 with seed 0: the first outputs of Vigna's reference splitmix64.c */
    mq_rng r;
    mq_rng_seed(&r, 0);
    assert_true(mq_rng_next(&r) == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(mq_rng_next(&r) == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(mq_rng_next(&r) == UINT64_C(0x06c45d188009454f));
    for (int i = 0; i < 1000; i++) {
        assert_true(mq_rng_below(&r, 7) < 7);
        float u = mq_rng_uniform(&r);
        assert_true(u >= 0 && u < 1);
    }
    assert_true(mq_rng_below(&r, 1) == 0);
}

static void test_shuffle(void **state)
{
    (void)state;
    const size_t n = 1000;
    mq_data_opts o = opts();
    o.shuffle = 1;
    o.batch = 64;
    mq_dataset *ds = index_dataset(n, &o);
    int32_t *a = malloc(n * sizeof(int32_t)), *b = malloc(n * sizeof(int32_t));
    assert_non_null(a);
    assert_non_null(b);
    mq_data_epoch_begin(ds, 0, 42);
    assert_int_equal(read_epoch(ds, NULL, a), n);
    assert_permutation(a, n);
    /* the documented algorithm, re-implemented in Python (SplitMix64 keyed by
     * mix64(seed + 0x9e3779b97f4a7c15 * (epoch + 1)), Fisher-Yates from the top, rejection below):
     * epoch 0 seed 42 starts 849, 670, 133, ...; epoch 3 seed 7 ends ..., 745, 132 */
    static const int32_t head[12] = {849, 670, 133, 846, 151, 200, 466, 182, 981, 968, 701, 963};
    for (int i = 0; i < 12; i++) assert_int_equal(a[i], head[i]);
    /* the same seed and epoch again (after another epoch in between): the same order */
    mq_data_epoch_begin(ds, 3, 7);
    assert_int_equal(read_epoch(ds, NULL, b), n);
    static const int32_t tail[6] = {465, 315, 778, 800, 745, 132};
    for (int i = 0; i < 6; i++) assert_int_equal(b[n - 6 + i], tail[i]);
    mq_data_epoch_begin(ds, 0, 42);
    assert_int_equal(read_epoch(ds, NULL, b), n);
    assert_memory_equal(a, b, n * sizeof(int32_t));
    size_t cnt;
    const size_t *order = mq_data_epoch_order(ds, &cnt);
    assert_int_equal(cnt, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(order[i], (size_t)a[i]);
    /* another seed, another epoch: different orders, still permutations */
    mq_data_epoch_begin(ds, 0, 43);
    assert_int_equal(read_epoch(ds, NULL, b), n);
    assert_permutation(b, n);
    assert_true(memcmp(a, b, n * sizeof(int32_t)) != 0);
    mq_data_epoch_begin(ds, 1, 42);
    assert_int_equal(read_epoch(ds, NULL, b), n);
    assert_permutation(b, n);
    assert_true(memcmp(a, b, n * sizeof(int32_t)) != 0);
    /* at the end of an epoch, n stays 0 */
    int k = -1;
    assert_int_equal(mq_data_next_batch(ds, NULL, b, &k, NULL), MQ_OK);
    assert_int_equal(k, 0);
    mq_data_close(ds);
    /* shuffle off: file order, whatever the seed */
    o.shuffle = 0;
    ds = index_dataset(n, &o);
    mq_data_epoch_begin(ds, 5, 99);
    assert_int_equal(read_epoch(ds, NULL, a), n);
    for (size_t i = 0; i < n; i++) assert_int_equal(a[i], (int32_t)i);
    mq_data_close(ds);
    free(a);
    free(b);
}

static void test_batching(void **state)
{
    (void)state;
    mq_data_opts o = opts();
    o.batch = 4;
    for (int drop = 0; drop < 2; drop++) {
        o.drop_last = drop;
        mq_dataset *ds = index_dataset(10, &o);
        mq_data_info info;
        mq_data_get_info(ds, &info);
        assert_int_equal(info.batches, drop ? 2 : 3);
        int32_t y[4];
        int n, sizes[4] = {-1, -1, -1, -1};
        for (int i = 0; i < 4; i++) {
            assert_int_equal(mq_data_next_batch(ds, NULL, y, &n, NULL), MQ_OK);
            sizes[i] = n;
            for (int k = 0; k < n; k++) assert_int_equal(y[k], 4 * i + k);
        }
        assert_int_equal(sizes[0], 4);
        assert_int_equal(sizes[1], 4);
        assert_int_equal(sizes[2], drop ? 0 : 2);
        assert_int_equal(sizes[3], 0);
        mq_data_close(ds);
    }
    /* a batch larger than the dataset */
    o.batch = 64;
    o.drop_last = 0;
    mq_dataset *ds = index_dataset(10, &o);
    int32_t y[64];
    assert_int_equal(read_epoch(ds, NULL, y), 10);
    mq_data_close(ds);
    o.drop_last = 1;
    ds = index_dataset(10, &o);
    assert_int_equal(read_epoch(ds, NULL, y), 0);
    mq_data_close(ds);
    /* bad calls */
    mq_err e;
    mq_err_clear(&e);
    assert_int_equal(mq_data_next_batch(NULL, NULL, NULL, NULL, &e), MQ_ERR_INVALID);
}

static void test_sharding(void **state)
{
    (void)state;
    static const size_t ns[] = {103, 3, 64};
    static const int rs[] = {4, 5, 1};
    for (size_t t = 0; t < 3; t++) {
        size_t n = ns[t];
        int R = rs[t];
        int32_t *all = malloc(n * sizeof(int32_t));
        assert_non_null(all);
        size_t total = 0, minsz = n, maxsz = 0;
        for (int r = 0; r < R; r++) {
            mq_data_opts o = opts();
            o.shuffle = 1;
            o.batch = 5;
            o.shard_rank = r;
            o.shard_count = R;
            mq_dataset *ds = index_dataset(n, &o);
            mq_data_epoch_begin(ds, 2, 1234);
            size_t got = read_epoch(ds, NULL, all + total);
            mq_data_info info;
            mq_data_get_info(ds, &info);
            assert_int_equal(info.shard_count, got);
            total += got;
            if (got < minsz) minsz = got;
            if (got > maxsz) maxsz = got;
            mq_data_close(ds);
        }
        assert_int_equal(total, n);
        assert_permutation(all, n); /* every sample exactly once across the ranks */
        assert_true(maxsz - minsz <= 1);
        free(all);
    }
}

/* ---- augmentation ------------------------------------------------------------------------------ */

/* The 1 x 3 x 3 image 1..9 padded by 1 with zeros, by hand:
 *   0 0 0 0 0
 *   0 1 2 3 0
 *   0 4 5 6 0
 *   0 7 8 9 0
 *   0 0 0 0 0
 * A crop at (dy, dx) is the 3 x 3 window whose top-left corner is padded[dy][dx]; a flip mirrors it. */
static const float padded[5][5] = {
    {0, 0, 0, 0, 0}, {0, 1, 2, 3, 0}, {0, 4, 5, 6, 0}, {0, 7, 8, 9, 0}, {0, 0, 0, 0, 0}};

static void window(int dy, int dx, int flip, float *out)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) out[3 * i + j] = padded[dy + i][dx + (flip ? 2 - j : j)];
}

static mq_dataset *image_1x3x3(const mq_data_opts *o, int copies)
{
    uint8_t px[8 * 9];
    for (int c = 0; c < copies; c++)
        for (int i = 0; i < 9; i++) px[9 * c + i] = (uint8_t)(i + 1);
    mq_tensor im;
    memset(&im, 0, sizeof im);
    im.dtype = MQ_U8;
    im.rank = 4;
    im.dims[0] = copies;
    im.dims[1] = 1;
    im.dims[2] = im.dims[3] = 3;
    im.data = px;
    mq_dataset *ds;
    mq_err e;
    mq_err_clear(&e);
    if (mq_data_from_tensors(&im, NULL, o, &ds, &e) != MQ_OK) fail_msg("%s", e.msg);
    return ds;
}

static void test_crop_flip(void **state)
{
    (void)state;
    /* hand-written members of the candidate set, as a check of window() itself */
    static const float up_left[9] = {0, 0, 0, 0, 1, 2, 0, 4, 5};
    static const float down_right[9] = {5, 6, 0, 8, 9, 0, 0, 0, 0};
    static const float mirrored[9] = {3, 2, 1, 6, 5, 4, 9, 8, 7};
    static const float up_left_mirrored[9] = {0, 0, 0, 2, 1, 0, 5, 4, 0};
    float cand[18][9];
    for (int k = 0; k < 18; k++) window(k / 6, (k / 2) % 3, k % 2, cand[k]);
    assert_memory_equal(cand[0], up_left, sizeof up_left);        /* dy 0, dx 0 */
    assert_memory_equal(cand[16], down_right, sizeof down_right); /* dy 2, dx 2 */
    assert_memory_equal(cand[9], mirrored, sizeof mirrored);      /* dy 1, dx 1, flip */
    assert_memory_equal(cand[1], up_left_mirrored, sizeof up_left_mirrored);

    mq_data_opts o = opts();
    o.scale = 1;
    o.crop_pad = 1;
    o.hflip = 1;
    mq_dataset *ds = image_1x3x3(&o, 1);
    int seen[18] = {0};
    float x[9], first[9];
    for (uint64_t ep = 0; ep < 400; ep++) {
        mq_data_epoch_begin(ds, ep, 5);
        int n;
        assert_int_equal(mq_data_next_batch(ds, x, NULL, &n, NULL), MQ_OK);
        assert_int_equal(n, 1);
        int k = 0;
        while (k < 18 && memcmp(x, cand[k], sizeof x)) k++;
        if (k == 18) fail_msg("epoch %d: output is no crop/flip of the image", (int)ep);
        seen[k]++;
        if (ep == 0) memcpy(first, x, sizeof x);
    }
    for (int k = 0; k < 18; k++)
        if (!seen[k]) fail_msg("crop (%d, %d) flip %d never drawn in 400 epochs", k / 6, (k / 2) % 3, k % 2);
    /* reproducible: the same (seed, epoch) gives the same crop; mq_data_get never augments */
    mq_data_epoch_begin(ds, 0, 5);
    int n;
    assert_int_equal(mq_data_next_batch(ds, x, NULL, &n, NULL), MQ_OK);
    assert_memory_equal(x, first, sizeof x);
    assert_int_equal(mq_data_get(ds, 0, x, NULL, NULL), MQ_OK);
    assert_memory_equal(x, cand[8], sizeof x); /* dy 1, dx 1, no flip: the image */
    mq_data_close(ds);

    /* flip only: the image or its mirror, both drawn */
    o.crop_pad = 0;
    ds = image_1x3x3(&o, 1);
    int plain = 0, mirror = 0;
    for (uint64_t ep = 0; ep < 64; ep++) {
        mq_data_epoch_begin(ds, ep, 11);
        assert_int_equal(mq_data_next_batch(ds, x, NULL, &n, NULL), MQ_OK);
        if (!memcmp(x, cand[8], sizeof x)) plain++;
        else if (!memcmp(x, cand[9], sizeof x)) mirror++;
        else fail_msg("flip-only output is neither the image nor its mirror");
    }
    assert_true(plain > 0 && mirror > 0);
    mq_data_close(ds);

    /* padding takes the normalized value of raw 0: mean 1, std 2, scale 1: pad (0-1)/2 = -0.5, and
     * pixel v becomes (v-1)/2 */
    o = opts();
    o.scale = 1;
    o.n_mean = o.n_std = 1;
    o.mean[0] = 1;
    o.std[0] = 2;
    o.crop_pad = 1;
    ds = image_1x3x3(&o, 1);
    int corner = 0;
    for (uint64_t ep = 0; ep < 200 && !corner; ep++) {
        mq_data_epoch_begin(ds, ep, 3);
        assert_int_equal(mq_data_next_batch(ds, x, NULL, &n, NULL), MQ_OK);
        float want[9];
        memcpy(want, cand[0], sizeof want); /* dy 0 dx 0 */
        for (int i = 0; i < 9; i++) want[i] = (want[i] - 1) / 2;
        if (!memcmp(x, want, sizeof want)) corner = 1;
    }
    assert_true(corner);
    mq_data_close(ds);

    /* the draw depends on (seed, epoch, sample), not on batch size or sharding: 8 copies of the image,
     * batch 1 vs batch 8 vs rank 1 of 2 give the same output per sample */
    o = opts();
    o.scale = 1;
    o.crop_pad = 1;
    o.hflip = 1;
    o.shuffle = 1;
    float a[8][9], b[8][9];
    ds = image_1x3x3(&o, 8);
    mq_data_epoch_begin(ds, 4, 77);
    size_t cnt;
    const size_t *ord = mq_data_epoch_order(ds, &cnt);
    size_t order1[8];
    memcpy(order1, ord, sizeof order1);
    assert_int_equal(read_epoch(ds, &a[0][0], NULL), 8);
    mq_data_close(ds);
    o.batch = 1;
    ds = image_1x3x3(&o, 8);
    mq_data_epoch_begin(ds, 4, 77);
    assert_int_equal(read_epoch(ds, &b[0][0], NULL), 8);
    assert_memory_equal(a, b, sizeof a);
    mq_data_close(ds);
    o.shard_count = 2;
    o.shard_rank = 1;
    ds = image_1x3x3(&o, 8);
    mq_data_epoch_begin(ds, 4, 77);
    assert_int_equal(read_epoch(ds, &b[0][0], NULL), 4);
    ord = mq_data_epoch_order(ds, &cnt);
    assert_int_equal(cnt, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ord[i], order1[4 + i]);
        assert_memory_equal(b[i], a[4 + i], sizeof b[i]);
    }
    mq_data_close(ds);
}

/* ---- allocation failures ----------------------------------------------------------------------- */

static void test_alloc_failure_sweep(void **state)
{
    (void)state;
    static const char *files[][2] = {
        {DATA "tiny-images-idx3-ubyte.gz", DATA "tiny-labels-idx1-ubyte.gz"},
        {DATA "tiny-images-2members.gz", DATA "tiny-labels-idx1-ubyte"},
        {DATA "tiny-images-f32.npy", DATA "tiny-labels-i64.npy"},
        {DATA "tiny-images-u8.npy", NULL},
    };
    mq_data_opts o = opts();
    o.shuffle = 1;
    o.crop_pad = 2;
    o.hflip = 1;
    o.num_classes = 10;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        long n;
        for (n = 1; n < 10000; n++) {
            mq_dataset *ds = (mq_dataset *)1;
            mq_err e;
            mq_err_clear(&e);
            mq_alloc_fail_after(n);
            mq_status st = mq_data_open(files[f][0], files[f][1], &o, &ds, &e);
            mq_alloc_fail_after(0);
            if (st == MQ_OK) {
                float x[20 * 35];
                assert_int_equal(read_epoch(ds, x, NULL), 20);
                mq_data_close(ds);
                break;
            }
            if (st != MQ_ERR_NOMEM) fail_msg("%s, failing allocation %ld: %s", files[f][0], n, e.msg);
            assert_null(ds);
        }
        assert_true(n > 3 && n < 10000);
    }
    /* from tensors */
    uint8_t px[2 * 9] = {0};
    int32_t lab[2] = {0, 1};
    mq_tensor im, lb;
    memset(&im, 0, sizeof im);
    memset(&lb, 0, sizeof lb);
    im.dtype = MQ_U8;
    im.rank = 3;
    im.dims[0] = 2;
    im.dims[1] = im.dims[2] = 3;
    im.data = px;
    lb.dtype = MQ_I32;
    lb.rank = 1;
    lb.dims[0] = 2;
    lb.data = lab;
    long n;
    for (n = 1; n < 1000; n++) {
        mq_dataset *ds = (mq_dataset *)1;
        mq_alloc_fail_after(n);
        mq_status st = mq_data_from_tensors(&im, &lb, &o, &ds, NULL);
        mq_alloc_fail_after(0);
        if (st == MQ_OK) {
            mq_data_close(ds);
            break;
        }
        assert_int_equal(st, MQ_ERR_NOMEM);
        assert_null(ds);
    }
    assert_true(n > 3 && n < 1000);
}

/* ---- main -------------------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/maqd-test-data-XXXXXX", base && base[0] ? base : "/tmp");
    return mkdtemp(g_tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *names[] = {
        "images.idx", "images.gz", "labels2", "good", "magic1", "magic2", "f32idx", "img", "i32labels",
        "trunc_hdr", "trunc_hdr2", "trunc_data", "trailing", "overflow", "huge", "empty_n", "empty_l", "empty",
        "labels19", "neg.npy", "big.npy", "i16.npy", "rank2.npy", "rank5.npy", "flabels.npy", "labels2d.npy",
        "nan.npy", "trunc.npy", "cut10.gz", "cut4.gz", "cut3", "corrupt.gz", "garbage.gz", "long.gz", "short.gz",
        "zeros.gz"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(tmp_path(names[i]));
    rmdir(g_tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fashion_mnist_t10k),
        cmocka_unit_test(test_fashion_mnist_train),
        cmocka_unit_test(test_formats_agree),
        cmocka_unit_test(test_unlabelled),
        cmocka_unit_test(test_bad_idx),
        cmocka_unit_test(test_bad_counts_and_labels),
        cmocka_unit_test(test_bad_npy),
        cmocka_unit_test(test_bad_gzip),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_normalization),
        cmocka_unit_test(test_rng_reference),
        cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_batching),
        cmocka_unit_test(test_sharding),
        cmocka_unit_test(test_crop_flip),
        cmocka_unit_test(test_alloc_failure_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
