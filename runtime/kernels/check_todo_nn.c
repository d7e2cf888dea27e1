/* check_todo_nn.c: kernels of the 'nn' family whose load-time check is not written yet
 * (MQR_CHECK_NONE: the loader refuses them). Delete a line when its real check exists. */
#include "runtime/mqr_kernel.h"

#define MQR_NO_CHECK(name) \
    int mqk_c_##name(const mqr_call *c, uint32_t scratch_bytes) \
    { \
        (void)c; \
        (void)scratch_bytes; \
        return MQR_CHECK_NONE; \
    }

MQR_NO_CHECK(conv_f32)
MQR_NO_CHECK(conv_transpose_f32)
MQR_NO_CHECK(conv_integer)
MQR_NO_CHECK(gemm_f32)
MQR_NO_CHECK(matmul_f32)
MQR_NO_CHECK(matmul_integer)
MQR_NO_CHECK(pool_f32)
MQR_NO_CHECK(global_pool_f32)
MQR_NO_CHECK(maxunpool_f32)
MQR_NO_CHECK(batchnorm_f32)
MQR_NO_CHECK(instancenorm_f32)
MQR_NO_CHECK(layernorm_f32)
MQR_NO_CHECK(lpnorm_f32)
MQR_NO_CHECK(lrn_f32)
MQR_NO_CHECK(mvn_f32)
MQR_NO_CHECK(softmax_f32)
MQR_NO_CHECK(rnn_f32)
MQR_NO_CHECK(roialign_f32)
MQR_NO_CHECK(maxroipool_f32)
