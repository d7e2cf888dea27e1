/* qint_tensor.h: for the integer-kernel unit tests (test_qint.c, test_qint_bits.c): a runtime tensor
 * descriptor of a dtype, rank, dims and data. */
#ifndef TEST_QINT_TENSOR_H
#define TEST_QINT_TENSOR_H

#include <string.h>

#include "runtime/mqr_kernel.h"

static mqr_tensor T(int32_t dt, int32_t rank, const int32_t *dims, void *data)
{
    mqr_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dt;
    t.rank = rank;
    for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
    t.data = data;
    return t;
}

#endif
