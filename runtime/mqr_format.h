/* mqr_format.h: the layout of the packed .mqd format (docs/MQD_FORMAT.md), shared by the writer
 * (backend/mqd_write.c) and the runtime's loader. All fields are little-endian 32-bit words. */
#ifndef MQR_FORMAT_H
#define MQR_FORMAT_H

#include <stdint.h>

#define MQR_FMT_MAGIC "MQD1"
#define MQR_FMT_VERSION 3u        /* 2: control steps (IF, LOOP); 3: data-dependent shapes (mqr_fmt_tensor.shape) */
#define MQR_FMT_VERSION_STATIC 2u /* also read: a file without data-dependent shapes is written as version 2 */
#define MQR_FMT_FLAG_LE 1u            /* bit 0: little-endian (the only byte order defined) */
#define MQR_FMT_HEADER_BYTES 32u
#define MQR_FMT_SECTION_BYTES 16u
#define MQR_FMT_MAX_SECTIONS 16u
#define MQR_FMT_WEIGHT_ALIGN 16u      /* every weight's offset in the WEIGHTS section, and the section */
#define MQR_FMT_NONE 0xffffffffu      /* "no tensor" in an index list (an omitted optional) */

/* Section types (each appears exactly once; CHECKSUM is the last bytes of the file). */
enum {
    MQR_SEC_STRINGS = 1,  /* NUL-terminated strings; byte 0 is "" */
    MQR_SEC_KERNELS = 2,  /* u32 string offsets: the distinct kernel names the steps use */
    MQR_SEC_TENSORS = 3,  /* mqr_fmt_tensor records */
    MQR_SEC_WEIGHTS = 4,  /* raw constant data, each weight 16-byte aligned */
    MQR_SEC_PARAMS = 5,   /* int32 kernel parameters, the steps' slices */
    MQR_SEC_INDICES = 6,  /* u32 tensor indices, the steps' input/output lists (MQR_FMT_NONE: omitted) */
    MQR_SEC_STEPS = 7,    /* mqr_fmt_step records, in execution order */
    MQR_SEC_PLAN = 8,     /* one mqr_fmt_plan record */
    MQR_SEC_IO = 9,       /* u32 n_inputs, u32 n_outputs, then that many u32 tensor indices each */
    MQR_SEC_CHECKSUM = 10 /* u32 CRC-32 (IEEE, as zlib's crc32) of every byte before this section */
};
#define MQR_SEC_FIRST 1
#define MQR_SEC_LAST 10

/* Where a tensor's bytes are at run time. */
enum {
    MQR_LOC_INPUT = 1,  /* the caller's inputs[where] */
    MQR_LOC_OUTPUT = 2, /* the caller's outputs[where] (written by a step) */
    MQR_LOC_WEIGHT = 3, /* WEIGHTS section + where (a multiple of 16) */
    MQR_LOC_ARENA = 4   /* arena + where (a multiple of the element size) */
};

/* Header, at offset 0 (32 bytes). */
typedef struct mqr_fmt_header {
    char magic[4];         /* "MQD1" */
    uint32_t version;      /* MQR_FMT_VERSION */
    uint32_t flags;        /* MQR_FMT_FLAG_LE; every other bit 0 */
    uint32_t header_bytes; /* 32 */
    uint32_t total_bytes;  /* the whole file */
    uint32_t n_sections;
    uint32_t section_table; /* offset of the section table (n_sections entries of 16 bytes) */
    uint32_t reserved;     /* 0 */
} mqr_fmt_header;

typedef struct mqr_fmt_section {
    uint32_t type;
    uint32_t offset; /* from the start of the file; a multiple of align */
    uint32_t size;   /* bytes */
    uint32_t align;  /* 4, or 16 for WEIGHTS */
} mqr_fmt_section;

typedef struct mqr_fmt_tensor {
    uint32_t name;   /* STRINGS offset */
    uint32_t dtype;  /* ONNX numbering (mqr_kernel.h) */
    uint32_t rank;   /* 0..MQR_MAX_RANK */
    uint32_t loc;    /* MQR_LOC_* */
    uint32_t where;  /* input/output index, or byte offset (weights, arena) */
    uint32_t shape;  /* 0: dims are the shape. Version 3, k + 1: a data-dependent shape; dims are its upper
                      * bound and tensor k (int32 [rank], arena) holds the actual dims after the step that
                      * writes both (docs/MQD_FORMAT.md). Version 2: always 0 */
    int32_t dims[8]; /* first rank used, each >= 0; the rest 0 */
} mqr_fmt_tensor;   /* 56 bytes */

typedef struct mqr_fmt_step {
    uint32_t name;        /* STRINGS offset: the node's name (diagnostics) */
    uint32_t kernel;      /* index into KERNELS */
    uint32_t param_first; /* index into PARAMS (int32 elements) */
    uint32_t n_params;    /* <= MQR_MAX_PARAMS */
    uint32_t in_first;    /* index into INDICES */
    uint32_t n_in;
    uint32_t out_first;   /* index into INDICES */
    uint32_t n_out;
    uint32_t scratch_bytes; /* <= the plan's scratch_bytes */
    uint32_t kind;        /* MQR_STEP_*: a kernel call, or control flow over the steps after it */
} mqr_fmt_step;          /* 40 bytes */

/* Step kinds. A control step has kernel MQR_FMT_NONE and no scratch; its sub-programs are the steps
 * right after it (docs/MQD_FORMAT.md, "Control steps"). */
enum {
    MQR_STEP_KERNEL = 0, /* call kernels[kernel] */
    MQR_STEP_IF = 1,     /* in: cond (bool, 1 element); params: then steps, else steps */
    MQR_STEP_LOOP = 2    /* in: cond or NONE; out: int64 counter or NONE; params: body steps, trip, must_complete */
};
#define MQR_MAX_NEST 16  /* control steps inside control steps, at most */

typedef struct mqr_fmt_plan {
    uint32_t arena_bytes;    /* the planned tensors: every ARENA tensor lies in [0, arena_bytes) */
    uint32_t scratch_offset; /* >= arena_bytes, a multiple of 16 */
    uint32_t scratch_bytes;  /* the largest scratch any step asks for */
    uint32_t reserved;       /* 0 */
} mqr_fmt_plan;

/* The actual dims of tensor descriptor d after a run (d's dims when static; a data-dependent shape's
 * slot clamped into [0, bound]). Shared by mqr_run and mqr_output_dims. */
struct mqr_model;
void mqr_actual_dims(const struct mqr_model *m, const uint8_t *arena, const mqr_fmt_tensor *d,
                     int32_t dims[8]);

#endif
