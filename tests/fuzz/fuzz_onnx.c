/* fuzz_onnx.c: fuzz target: bytes as an ONNX model through the importer, shape inference and constant
 * folding, then lowering and the memory plan (backend/program.c) when the import succeeds. */
#include "backend/program.h"
#include "frontend/onnx_import.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* small caps: the fuzzer looks for crashes, not for large allocations (which the caps refuse) */
    mq_import_opts o = {.max_elems = (int64_t)1 << 20, .max_bytes = (int64_t)1 << 24, .max_nodes = 4096};
    mq_import_result r;
    mq_err e;
    mq_err_clear(&e);
    if (mq_import_onnx_buffer(data, size, NULL, "fuzz.onnx", &o, &r, &e) == MQ_OK) {
        mq_program p;
        mq_err pe;
        mq_err_clear(&pe);
        if (mq_program_build(r.graph, NULL, &p, &pe) == MQ_OK) mq_program_free(&p);
    }
    mq_import_result_free(&r);
    return 0;
}
