/* data.h: training data for fine-tuning: IDX (MNIST family, raw or gzip) and NumPy .npy images and
 * labels, validated at the door, then normalized, shuffled, augmented, batched and sharded. */
#ifndef MQ_DATA_H
#define MQ_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/dtype.h"
#include "core/graph.h"
#include "core/status.h"

/* ---- a small seeded generator: SplitMix64 (Steele, Lea, Flood 2014) ------------------------------
 * state += 0x9e3779b97f4a7c15; output = mix(state), with the fixed 64-bit finalizer
 *   z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9; z = (z ^ z >> 27) * 0x94d049bb133111eb; z ^ z >> 31.
 * Integer arithmetic only, so the same seed gives the same stream on every platform and compiler. */
typedef struct mq_rng {
    uint64_t state;
} mq_rng;

void mq_rng_seed(mq_rng *r, uint64_t seed);    /* state = seed */
uint64_t mq_rng_next(mq_rng *r);               /* next 64 random bits */
uint64_t mq_rng_below(mq_rng *r, uint64_t n);  /* uniform in [0, n), unbiased (rejection); n >= 1 */
float mq_rng_uniform(mq_rng *r);               /* uniform in [0, 1), 24 random bits */
uint64_t mq_mix64(uint64_t z);                 /* the finalizer above: a good 64-bit hash */

/* ---- options ----------------------------------------------------------------------------------- */
#define MQ_DATA_MAX_CHANNELS 16
#define MQ_DATA_DEFAULT_MAX_BYTES ((size_t)4 << 30)

typedef struct mq_data_opts {
    /* Labels must lie in [0, num_classes); 0: only label >= 0 is checked (and label < 2^31). */
    int64_t num_classes;
    /* Normalization of each pixel value v of channel c: (v / scale - mean[c]) / std[c], computed in
     * float32 in that order (as torchvision's ToTensor + Normalize). scale 0 means 255 for uint8
     * images and 1 for float32 images. n_mean / n_std: 0 (mean 0 / std 1), 1 (one value for every
     * channel) or C (one per channel, C <= MQ_DATA_MAX_CHANNELS). */
    float scale;
    int n_mean, n_std;
    float mean[MQ_DATA_MAX_CHANNELS], std[MQ_DATA_MAX_CHANNELS];
    int batch;       /* samples per batch, >= 1 */
    int drop_last;   /* 1: the last partial batch of an epoch is dropped; 0: it is returned short */
    int shuffle;     /* 1: a new permutation each epoch from (seed, epoch); 0: file order */
    /* Augmentation (training only), drawn per sample from (seed, epoch, sample index), so a run is
     * reproducible whatever the batch size or sharding:
     *   crop_pad > 0: pad the raw image with zeros (crop_pad on each side; a padded pixel becomes the
     *                 normalized value of raw 0), then take an H x W window at a uniform offset
     *                 (dy, dx) in [0, 2*crop_pad]^2 (torchvision RandomCrop(size, padding));
     *   hflip:        then mirror left-right with probability 1/2 (RandomHorizontalFlip). */
    int crop_pad;
    int hflip;
    /* Data-parallel sharding: every rank computes the same permutation and takes its own contiguous
     * slice of it: rank r of R gets positions [r*q + min(r, N%R), ...) with q = N/R, so slice sizes
     * differ by at most one and the slices cover every sample exactly once. count 0 or 1: no sharding. */
    int shard_rank, shard_count;
    /* shard_per_batch 1 (data-parallel training, train/parallel.c): instead, the permutation is cut into
     * global batches of `batch` samples (a last partial one is dropped) and rank r takes its slice of every
     * one, in units of shard_unit samples (0: 1; it must divide batch): with U = batch / shard_unit units
     * and R = shard_count ranks, units [r*q + min(r, U%R), ...) with q = U/R (U >= R is required). Each
     * batch returned is this rank's slice, so the ranks' batches of step k together are exactly a single
     * process's batch k, with the same augmentation (which depends on the sample index only). */
    int shard_per_batch, shard_unit;
    /* Cap on each file and on decompressed gzip data; 0: MQ_DATA_DEFAULT_MAX_BYTES. */
    size_t max_bytes;
} mq_data_opts;

/* Defaults: num_classes 0, scale 0 (auto), no mean/std, batch 64, keep the last batch, no shuffle,
 * no augmentation, no sharding, default cap. */
void mq_data_opts_init(mq_data_opts *o);

/* ---- the dataset ------------------------------------------------------------------------------- */
typedef struct mq_dataset mq_dataset;

typedef struct mq_data_info {
    size_t count;          /* samples in the files */
    size_t shard_count;    /* samples this rank iterates per epoch */
    size_t batches;        /* batches per epoch for this rank (drop_last applied) */
    int batch;             /* the batch option: samples per (global) batch */
    size_t slice;          /* samples of each full batch this rank gets: batch unless shard_per_batch */
    int channels, height, width;
    size_t sample_floats;  /* channels * height * width: x needs batch * sample_floats floats */
    int64_t num_classes;   /* the option, or 1 + the largest label when the option is 0 (0 if no labels) */
    int has_labels;
    mq_dtype source;       /* MQ_U8 or MQ_F32: how the images are stored (kept as stored, normalized
                            * batch by batch) */
} mq_data_info;

/* Open an image file and a label file. The format is chosen by content, never by name: gzip (magic
 * 1f 8b, decompressed first), then NumPy .npy (magic \x93NUMPY) or IDX (magic 00 00 type rank).
 *   images: IDX 0x00000803 (uint8, N x H x W), or .npy uint8/float32 of shape (N, H, W) or (N, C, H, W)
 *   labels: IDX 0x00000801 (uint8, N), or .npy of any integer dtype, shape (N,).
 * labels may be NULL (unlabelled data, e.g. for distillation): batches then carry label -1.
 * Every error message names the file. After open, the dataset is at epoch 0 with seed 0. */
mq_status mq_data_open(const char *images, const char *labels, const mq_data_opts *o, mq_dataset **out,
                       mq_err *err);
/* The same from file contents in memory (copied; e.g. a fuzzer's input); messages say "images" and
 * "labels" where mq_data_open names the files. */
mq_status mq_data_open_mem(const void *images, size_t images_len, const void *labels, size_t labels_len,
                           const mq_data_opts *o, mq_dataset **out, mq_err *err);
/* The same from tensors already in memory (copied; the caller keeps its own): images uint8 or float32
 * of rank 3 or 4 as above, labels any integer dtype of rank 1 (or NULL). */
mq_status mq_data_from_tensors(const mq_tensor *images, const mq_tensor *labels, const mq_data_opts *o,
                               mq_dataset **out, mq_err *err);
void mq_data_close(mq_dataset *ds); /* NULL is fine */

void mq_data_get_info(const mq_dataset *ds, mq_data_info *info);

/* Start an epoch: the order is a Fisher-Yates shuffle of 0..N-1 driven by an mq_rng seeded with
 * mq_mix64(seed + 0x9e3779b97f4a7c15 * (epoch + 1)) (identity if shuffle is off), then this rank's
 * slice of it. Depends only on (seed, epoch): never on earlier epochs. Allocates nothing. */
void mq_data_epoch_begin(mq_dataset *ds, uint64_t epoch, uint64_t seed);
/* The next batch of this rank's slice: *n samples (0 at the end of the epoch, and then again until the
 * next mq_data_epoch_begin). x gets *n x C x H x W normalized (and augmented) floats, y gets *n labels;
 * either may be NULL. Never fails on a valid dataset (errors only for NULL ds or n). */
mq_status mq_data_next_batch(mq_dataset *ds, float *x, int32_t *y, int *n, mq_err *err);
/* This rank's sample indices (into the files) for the current epoch, in iteration order. */
const size_t *mq_data_epoch_order(const mq_dataset *ds, size_t *count);
/* One sample by its index in the files, normalized but never augmented (evaluation, tests). */
mq_status mq_data_get(const mq_dataset *ds, size_t index, float *x, int32_t *y, mq_err *err);

#endif
