/* check_todo_shape.c: kernels of the 'shape' family whose load-time check is not written yet
 * (MQR_CHECK_NONE: the loader refuses them). Delete a line when its real check exists. */
#include "runtime/mqr_kernel.h"

#define MQR_NO_CHECK(name) \
    int mqk_c_##name(const mqr_call *c, uint32_t scratch_bytes) \
    { \
        (void)c; \
        (void)scratch_bytes; \
        return MQR_CHECK_NONE; \
    }

MQR_NO_CHECK(sh_copy)
MQR_NO_CHECK(sh_strided)
MQR_NO_CHECK(sh_concat)
MQR_NO_CHECK(sh_split)
MQR_NO_CHECK(sh_pad)
MQR_NO_CHECK(sh_gather)
MQR_NO_CHECK(sh_gather_elems)
MQR_NO_CHECK(sh_gather_nd)
MQR_NO_CHECK(sh_scatter_elems)
MQR_NO_CHECK(sh_scatter_nd)
MQR_NO_CHECK(sh_fill)
MQR_NO_CHECK(sh_values)
MQR_NO_CHECK(sh_eyelike)
MQR_NO_CHECK(sh_range)
MQR_NO_CHECK(sh_onehot)
MQR_NO_CHECK(sh_trilu)
MQR_NO_CHECK(sh_revseq)
