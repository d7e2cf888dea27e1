/* kernel_table.c: the runtime's table of kernels by name (the packed binary refers to kernels by
 * name; the loader resolves each once). */
#include "runtime/mqr_kernel.h"

#define MQR_ENTRY(name, src) {#name, mqk_k_##name, mqk_c_##name, src},
const mqr_kernel_info mqr_kernel_table[] = {MQR_KERNELS(MQR_ENTRY){0, 0, 0, 0}};
#undef MQR_ENTRY
const int32_t mqr_kernel_count = (int32_t)(sizeof mqr_kernel_table / sizeof mqr_kernel_table[0]) - 1;

const mqr_kernel_info *mqr_kernel_find(const char *name)
{
    int32_t i;
    for (i = 0; i < mqr_kernel_count; i++)
        if (strcmp(mqr_kernel_table[i].name, name) == 0) return &mqr_kernel_table[i];
    return 0;
}
