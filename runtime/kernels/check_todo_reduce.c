/* check_todo_reduce.c: kernels of the 'reduce' family whose load-time check is not written yet
 * (MQR_CHECK_NONE: the loader refuses them). Delete a line when its real check exists. */
#include "runtime/mqr_kernel.h"

#define MQR_NO_CHECK(name) \
    int mqk_c_##name(const mqr_call *c, uint32_t scratch_bytes) \
    { \
        (void)c; \
        (void)scratch_bytes; \
        return MQR_CHECK_NONE; \
    }

MQR_NO_CHECK(reduce_f32)
MQR_NO_CHECK(arg_f32)
MQR_NO_CHECK(reduce_any)
MQR_NO_CHECK(arg_any)
MQR_NO_CHECK(topk)
MQR_NO_CHECK(cumsum)
MQR_NO_CHECK(einsum)
MQR_NO_CHECK(det)
MQR_NO_CHECK(quantize_linear)
MQR_NO_CHECK(dequantize_linear)
MQR_NO_CHECK(dynamic_quantize_u8)
MQR_NO_CHECK(resize)
MQR_NO_CHECK(gridsample)
MQR_NO_CHECK(qlinear_matmul)
MQR_NO_CHECK(qlinear_conv)
MQR_NO_CHECK(loss_nll)
MQR_NO_CHECK(dft)
MQR_NO_CHECK(stft)
MQR_NO_CHECK(window)
MQR_NO_CHECK(mel_weight_matrix)
MQR_NO_CHECK(maqd_lbn_f32)
MQR_NO_CHECK(maqd_weight_quant_f32)
MQR_NO_CHECK(maqd_act_quant_f32)
