/* fuzz_npy.c: fuzz target: bytes as a NumPy .npy file (frontend/npy.c). */
#include "frontend/tensor_io.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mq_tensor t;
    mq_err e;
    mq_err_clear(&e);
    if (mq_tensor_read_npy(data, size, &t, &e) == MQ_OK) mq_tensor_free_data(&t);
    return 0;
}
