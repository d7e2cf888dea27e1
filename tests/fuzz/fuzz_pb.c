/* fuzz_pb.c: fuzz target: bytes as an ONNX TensorProto (.pb) tensor file (frontend/tensor_io.c). */
#include "frontend/tensor_io.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mq_tensor t;
    mq_err e;
    mq_err_clear(&e);
    /* the first byte picks the declared dtype the caller knows (0: none; 16: bfloat16 read as uint16) */
    int32_t declared = size && (data[0] & 1) ? 16 : 0;
    if (mq_tensor_read_pb_as(data, size, declared, &t, &e) == MQ_OK) mq_tensor_free_data(&t);
    return 0;
}
