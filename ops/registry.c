/* registry.c: the op table: looks an op up by domain, type and opset version across the families
 * listed in MQ_OP_FAMILIES (core/op.h). */
#include "core/op.h"

#include <string.h>

static const mq_op_def *const *const families[] = {
#define X(f) mq_ops_##f,
    MQ_OP_FAMILIES(X)
#undef X
};

static int same_domain(const char *a, const char *b)
{
    if (!a || !*a || strcmp(a, "ai.onnx") == 0) a = "";
    if (!b || !*b || strcmp(b, "ai.onnx") == 0) b = "";
    return strcmp(a, b) == 0;
}

const mq_op_def *mq_op_at(int i)
{
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const mq_op_def *const *d = families[f]; *d; d++)
            if (i-- == 0) return *d;
    return NULL;
}

const mq_op_def *mq_op_find(const char *domain, const char *op_type, int opset, const char **why)
{
    const mq_op_def *known = NULL;
    if (why) *why = NULL;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const mq_op_def *const *d = families[f]; *d; d++) {
            if (strcmp((*d)->op_type, op_type) != 0 || !same_domain((*d)->domain, domain)) continue;
            if (opset >= (*d)->since && ((*d)->until == 0 || opset <= (*d)->until)) return *d;
            known = *d;
        }
    if (known && why) *why = "op is supported, but not at this opset version";
    return NULL;
}
