/* fuzz_idx.c: fuzz target: an image file and a label file (IDX raw or gzip, or .npy: train/data.c)
 * opened as a data set, then one epoch of batches served with cropping and flipping. Input layout:
 * u16 little-endian L, then L bytes of labels (L = 0: no labels), then the images. */
#include "train/data.h"

#include "core/alloc.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t ll = (size_t)data[0] | (size_t)data[1] << 8;
    if (ll > size - 2) ll = size - 2;
    const uint8_t *lab = data + 2, *img = lab + ll;
    size_t il = size - 2 - ll;
    mq_data_opts o;
    mq_data_opts_init(&o);
    o.batch = 3;
    o.shuffle = 1;
    o.hflip = 1;
    o.crop_pad = 2;
    o.max_bytes = (size_t)1 << 24; /* decompressed gzip included */
    mq_dataset *ds = NULL;
    mq_err e;
    mq_err_clear(&e);
    if (mq_data_open_mem(img, il, ll ? lab : NULL, ll, &o, &ds, &e) != MQ_OK) return 0;
    mq_data_info info;
    mq_data_get_info(ds, &info);
    size_t nx;
    if (!mq_mul_size(info.sample_floats, 3 * sizeof(float), &nx) && nx <= ((size_t)1 << 26)) {
        float *x = mq_malloc(nx);
        int32_t y[3];
        if (x) {
            mq_data_epoch_begin(ds, 1, 7);
            int n = 0, batches = 0;
            do {
                if (mq_data_next_batch(ds, x, y, &n, &e) != MQ_OK) break;
            } while (n > 0 && ++batches < 64);
            if (info.count) (void)mq_data_get(ds, info.count - 1, x, y, &e);
            mq_free(x);
        }
    }
    mq_data_close(ds);
    return 0;
}
