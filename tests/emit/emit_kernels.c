/* emit_kernels.c: writes every runtime kernel, inlined as the C emitter inlines them into a model, to
 * one file (test_emit_kernels compiles it with -std=c99 -pedantic -Werror to catch clashes between kernel files). */
#include "backend/emit_c.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: maqd-emit-kernels OUT.c\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        fprintf(stderr, "maqd-emit-kernels: cannot write %s\n", argv[1]);
        return 1;
    }
    mq_err err = {0};
    fprintf(f, "/* every runtime kernel, as the C emitter inlines them */\n");
    mq_status st = mq_emit_c_kernels(f, NULL, 0, &err);
    /* a use of every kernel, so the compiler checks each definition is reachable and complete */
    fprintf(f, "\ntypedef void (*mqm_fn)(const mqr_call *);\nconst mqm_fn mqm_all[] = {\n");
    for (int i = 0; i < mqr_kernel_count; i++) fprintf(f, "    mqk_k_%s,\n", mqr_kernel_table[i].name);
    fprintf(f, "    0};\n");
    if (fclose(f) != 0 || st != MQ_OK) {
        fprintf(stderr, "maqd-emit-kernels: %s\n", st != MQ_OK ? err.msg : "write error");
        return 1;
    }
    return 0;
}
