/* mqr_kernel.h: the kernel ABI shared by the runtime, the emitted C and the host executor. A kernel
 * is a C99 function of one mqr_call: tensors with their data, a flat int32 parameter vector, scratch. */
#ifndef MQR_KERNEL_H
#define MQR_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MQR_MAX_RANK 8
#define MQR_MAX_PARAMS 128

/* dtype numbering is ONNX's TensorProto.DataType (as in core/dtype.h): 1 float32, 2 uint8, 3 int8,
 * 4 uint16, 5 int16, 6 int32, 7 int64, 9 bool (one byte), 11 float64, 12 uint32, 13 uint64. */
enum {
    MQR_F32 = 1, MQR_U8 = 2, MQR_I8 = 3, MQR_U16 = 4, MQR_I16 = 5, MQR_I32 = 6, MQR_I64 = 7,
    MQR_BOOL = 9, MQR_F64 = 11, MQR_U32 = 12, MQR_U64 = 13
};

typedef struct mqr_tensor {
    int32_t dtype;
    int32_t rank;                 /* -1: an omitted optional input (data NULL) */
    int32_t dims[MQR_MAX_RANK];   /* element counts fit in int32 (the compiler checks) */
    void *data;
} mqr_tensor;

/* One kernel invocation. Parameters are int32; a float parameter is stored as its IEEE-754 bits
 * (mqr_p_f32). The parameter layout of each kernel is documented beside it. Shapes and parameters
 * were validated when the call was prepared (host) or loaded (runtime): kernels check nothing. */
typedef struct mqr_call {
    const int32_t *p;
    int32_t n_p;
    const mqr_tensor *in;
    int32_t n_in;
    mqr_tensor *out;
    int32_t n_out;
    void *scratch;                /* as many bytes as the preparation asked for; may be NULL if 0 */
} mqr_call;

typedef void (*mqr_kernel_fn)(const mqr_call *c);

/* Every kernel `name` also has a check, int mqk_c_<name>(const mqr_call *c, uint32_t scratch_bytes),
 * which the runtime's loader calls once per step of a packed model before anything runs: the bytes
 * are hostile, and after the check the kernel trusts the call. It sees the tensor descriptors (dtype,
 * rank, dims; data is non-NULL only for weights, whose values it may inspect, e.g. constant indices),
 * the parameters and the scratch size, and must prove that the kernel, run on data of those shapes,
 * reads and writes only inside the described tensors and the scratch: counts of inputs/outputs,
 * dtypes, n_p, every parameter's range, every extent computed from parameters against the element
 * counts. It returns MQR_CHECK_OK, or MQR_CHECK_BAD. MQR_CHECK_NONE means no check is written yet: the
 * loader refuses such a kernel; the host executor (core/kcall.c), which checks every call it lowers,
 * lets it pass. Values that only exist at run time (indices in an activation tensor) cannot be checked
 * at load: kernels that read such values must bound them themselves (skip or clamp, never read out of
 * bounds). */
#define MQR_CHECK_OK 0
#define MQR_CHECK_BAD 1
#define MQR_CHECK_NONE 2
typedef int (*mqr_check_fn)(const mqr_call *c, uint32_t scratch_bytes);

static inline float mqr_p_f32(int32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline int32_t mqr_f32_bits(float f)
{
    int32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static inline int32_t mqr_numel(const mqr_tensor *t)
{
    int32_t n = 1, d;
    for (d = 0; d < t->rank; d++) n *= t->dims[d];
    return n;
}

/* 1 when the call has outputs and none holds an element (all omitted or with a 0 dim): kernels write
 * nothing but their outputs and scratch, so such a call is skipped. Kernels loop over leading output
 * dims before reaching a 0 one; a shape like [1, 1, 150994946, 0] would otherwise cost 1.5e8 empty
 * iterations (found by fuzz_mqd). */
static inline int mqr_call_writes_nothing(const mqr_call *c)
{
    int32_t i;
    if (c->n_out <= 0) return 0;
    for (i = 0; i < c->n_out; i++)
        if (c->out[i].rank >= 0 && mqr_numel(&c->out[i]) > 0) return 0;
    return 1;
}

/* Kernel lists, one per family file (runtime/kernels/list_*.h): X(name, "source file under runtime/").
 * The function of kernel `name` is mqk_k_<name>. The packed binary names kernels by string, so the list
 * order carries no meaning. */
#include "runtime/kernels/list.h"

#define MQR_DECLARE_KERNEL(name, src)                                                              \
    void mqk_k_##name(const mqr_call *c);                                                          \
    int mqk_c_##name(const mqr_call *c, uint32_t scratch_bytes);
MQR_KERNELS(MQR_DECLARE_KERNEL)
#undef MQR_DECLARE_KERNEL

typedef struct mqr_kernel_info {
    const char *name;
    mqr_kernel_fn fn;
    mqr_check_fn check;           /* the load-time check of a call (see MQR_CHECK_OK) */
    const char *source;           /* e.g. "kernels/conv.c", relative to runtime/ */
} mqr_kernel_info;

extern const mqr_kernel_info mqr_kernel_table[];
extern const int32_t mqr_kernel_count;
/* NULL if this runtime has no kernel of that name. */
const mqr_kernel_info *mqr_kernel_find(const char *name);

#endif
