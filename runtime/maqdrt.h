/* maqdrt.h: the public header of the maqd target runtime (C99, no malloc, no stdio, no dependencies
 * but libm): load a packed .mqd model from the caller's buffer, ask its arena size, run it. */
#ifndef MAQDRT_H
#define MAQDRT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"

#define MAQDRT_VERSION_MAJOR 0
#define MAQDRT_VERSION_MINOR 4

const char *mqr_version(void);

/* Status of every runtime call; mqr_status_str gives a static sentence per code. */
typedef enum mqr_status {
    MQR_OK = 0,
    MQR_E_ARG,        /* a NULL or misaligned argument (buffer, arena, input/output pointer) */
    MQR_E_HOST,       /* this host is big-endian: the format is little-endian only */
    MQR_E_TRUNCATED,  /* the buffer is shorter than the header or than the size it declares */
    MQR_E_MAGIC,      /* not a .mqd file (magic "MQD1" missing) */
    MQR_E_VERSION,    /* a format version or flag this runtime does not know */
    MQR_E_CHECKSUM,   /* the CRC-32 does not match: the file is corrupted */
    MQR_E_SECTION,    /* section table: unknown/duplicate/missing section, bad offset, size or alignment */
    MQR_E_STRING,     /* a string offset outside the string section or a string without its NUL */
    MQR_E_TENSOR,     /* a tensor descriptor: bad dtype, rank, dim, location or bytes outside its region */
    MQR_E_STEP,       /* a step: bad tensor index, parameter range, scratch, writes a read-only tensor, or an
                       * output partly overlapping an input */
    MQR_E_KERNEL,     /* a kernel this runtime does not have */
    MQR_E_PLAN,       /* the memory plan: arena/scratch sizes inconsistent or too large */
    MQR_E_IO,         /* graph inputs/outputs: bad count or index, or a location that does not match */
    MQR_E_LIMIT,      /* a fixed limit of this runtime (kernels per model, tensors per step, sizes beyond size_t) */
    MQR_E_CHECK,      /* a step's kernel refuses its parameters or shapes (the kernel's load-time check) */
    MQR_E_UNCHECKED,  /* a step's kernel has no load-time check in this runtime, so it cannot be trusted */
    MQR_E_LOOP        /* mqr_run: a Loop with scan outputs ended (its condition turned false) before its
                       * compiled trip count; the outputs would have fewer rows than compiled */
} mqr_status;
#define MQR_STATUS_LAST MQR_E_LOOP

const char *mqr_status_str(mqr_status s);

/* Distinct kernels one model may use (the kernel functions are resolved once at load into mqr_model). */
#define MQR_MAX_MODEL_KERNELS 64
/* Inputs plus outputs of one step: the loader builds each step's call on its stack to run the kernel's
 * check (44 bytes a tensor on a 32-bit target: 1.4 KiB at 32). A model beyond it is refused with
 * MQR_E_LIMIT; build with -DMQR_MAX_STEP_IO=n for wider steps (a concatenation of many inputs). */
#ifndef MQR_MAX_STEP_IO
#define MQR_MAX_STEP_IO 32
#endif
/* The largest trip count of a LOOP step the loader accepts (a bound on run time; -DMQR_MAX_TRIP=n). */
#ifndef MQR_MAX_TRIP
#define MQR_MAX_TRIP 65536
#endif

/* A loaded model: lives in the caller's memory (fixed size) and points into the caller's buffer,
 * which must stay alive and unchanged while the model is used. Fields are private to the runtime. */
typedef struct mqr_model {
    const uint8_t *buf;
    uint32_t len;
    const char *strings;
    uint32_t strings_len;
    const uint8_t *tensors;     /* mqr_fmt_tensor records */
    uint32_t n_tensors;
    const uint8_t *weights;
    const int32_t *params;
    const uint8_t *indices;     /* u32 records */
    const uint8_t *steps;       /* mqr_fmt_step records */
    uint32_t n_steps;
    const uint8_t *io;          /* u32 n_in, u32 n_out, indices */
    uint32_t n_inputs, n_outputs;
    uint32_t arena_bytes, scratch_offset, scratch_bytes;
    uint32_t max_in, max_out;   /* the most inputs / outputs of one step */
    size_t work_offset;         /* the runtime's own region of the arena (kernel call descriptors) */
    size_t total_arena;         /* what mqr_arena_size returns */
    uint32_t n_kernels;
    const mqr_kernel_info *kernels[MQR_MAX_MODEL_KERNELS]; /* resolved by name once, at load */
    int32_t err_step;           /* after a failed load: see mqr_load_error */
    const char *err_kernel, *err_node;
} mqr_model;

/* Validate the whole file once (header, checksum, every section, offset, count, descriptor, step and
 * kernel name), then call every step's kernel check (mqr_kernel.h) on the call mqr_run will make, and
 * fill *m. buf must be 16-byte aligned (weights are read in place). After MQR_OK, mqr_run checks
 * nothing about the model again. On failure *m is zeroed but for what mqr_load_error reports. */
mqr_status mqr_load(mqr_model *m, const void *buf, size_t len);

/* After mqr_load failed: the step it refused (its index, or -1 if the failure is not about one step),
 * and when known that step's kernel name (a static string of this runtime) and node name (inside the
 * buffer). Each pointer may be NULL; the strings are NULL when unknown. */
void mqr_load_error(const mqr_model *m, int32_t *step, const char **kernel, const char **node);

/* Bytes of the arena mqr_run needs (intermediate tensors, scratch, and the runtime's call
 * descriptors). Depends on the host's pointer size, so ask it on the target. */
size_t mqr_arena_size(const mqr_model *m);

/* Run once. arena: mqr_arena_size(m) bytes, 16-byte aligned, contents need not be initialized (it is
 * scratch between runs). inputs[k]: graph input k, laid out as mqr_input_info describes (dtype,
 * row-major dims); outputs[k]: room for graph output k (mqr_output_info). Inputs are only read;
 * outputs must not overlap the inputs or the arena. Only the pointers are checked (non-NULL, arena
 * alignment); the data is trusted to be the declared size. Returns MQR_E_LOOP when a Loop with scan
 * outputs stops before its compiled trip count (the outputs are then incomplete). */
mqr_status mqr_run(const mqr_model *m, void *arena, const void *const *inputs, void *const *outputs);

/* Graph inputs and outputs. */
typedef struct mqr_io_info {
    const char *name;
    int32_t dtype;                /* ONNX numbering, as mqr_kernel.h */
    int32_t rank;
    int32_t dims[MQR_MAX_RANK];
    size_t bytes;                 /* element count * element size */
    /* 1: a data-dependent shape (NonZero, Compress, Unique, NonMaxSuppression outputs): dims and bytes are
     * its upper bound (give that much room); after mqr_run, mqr_output_dims gives the actual dims and
     * the first (product of them) elements of the output buffer hold the values, row-major. 0: static. */
    int32_t bounded;
} mqr_io_info;

uint32_t mqr_input_count(const mqr_model *m);
uint32_t mqr_output_count(const mqr_model *m);
/* MQR_E_ARG if k is out of range. */
mqr_status mqr_input_info(const mqr_model *m, uint32_t k, mqr_io_info *info);
mqr_status mqr_output_info(const mqr_model *m, uint32_t k, mqr_io_info *info);

/* After mqr_run(m, arena, ...): the actual dims of graph output k (rank from mqr_output_info), read from
 * the arena, so call it before the arena is used again. A static output's dims are its declared ones;
 * a bounded one's are at most its bound. MQR_E_ARG for a bad k, NULL or misaligned pointer. */
mqr_status mqr_output_dims(const mqr_model *m, const void *arena, uint32_t k, int32_t dims[MQR_MAX_RANK]);

/* Bytes per element of a dtype the runtime knows; 0 otherwise. */
size_t mqr_dtype_size(int32_t dtype);

/* CRC-32 (IEEE 802.3, reflected, init and final xor 0xffffffff: zlib's crc32) of n bytes; pass 0 as
 * crc to start, or the previous result to continue. The writer uses it too. */
uint32_t mqr_crc32(uint32_t crc, const void *data, size_t n);

#endif
