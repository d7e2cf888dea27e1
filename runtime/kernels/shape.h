/* shape.h: the 'shape' family kernels' parameter layouts and the small helpers they share (static
 * inline, so each kernel file stands alone when the emitter copies it). Kernels move bytes by element size. */
#ifndef MQK_SHAPE_H
#define MQK_SHAPE_H

#include "runtime/mqr_kernel.h"

/* ---- parameter layouts ---------------------------------------------------------------------------
 * Every kernel takes the element size from out[0]'s dtype (1, 2, 4 or 8 bytes), so one kernel serves
 * every dtype. Index inputs are int32 or int64 (negative values count from the end); the host checked
 * their range whenever it knew them; a kernel meeting one out of range writes zeros (never reads beyond).
 *
 * kernels/shape_copy.c (Reshape-likes, layout moves: what most models use)
 *   sh_copy    : no parameters. out[0] = in[0] byte for byte; out may be in (then nothing is copied)
 *                (Reshape, Flatten, Squeeze, Unsqueeze).
 *   sh_strided : p[0] = r (0..MQK_SH_MAX_VIEW), p[1] = source offset (elements), p[2 .. 2+r) = dims of
 *                the view, p[2+r .. 2+2r) = source strides (elements, may be 0 or negative). Output
 *                element (i0..i_{r-1}) = in[0][off + sum i_d * stride_d], out contiguous (Transpose,
 *                Slice, Expand, Tile, DepthToSpace, SpaceToDepth; the host merges contiguous dims).
 *   sh_concat  : p[0] = axis. out[0] = in[0..n_in) joined along axis.
 *   sh_split   : p[0] = axis, p[1] = k (outputs), p[2 .. 2+k) = part sizes along axis; outputs with
 *                NULL data (omitted) are skipped.
 * kernels/shape_stack.c (Loop and Scan bodies: the row of the current iteration)
 *   sh_stack_get : p[0] = axis, p[1] = reverse (0/1). in[0] stacked [1.., rows, ...], in[1] the
 *                  iteration counter (int64 scalar i); out[0] = row i (rows-1-i if reverse) along axis.
 *                  Dims before axis are 1, so a row is contiguous.
 *   sh_stack_put : the same layout; in[0] a row, in[1] the counter; writes row i of out[0].
 * kernels/shape_pad.c
 *   sh_pad     : p[0] = mode (MQK_PAD_*), p[1] = r, p[2 .. 2+r) = pads at the start of each dim
 *                (negative: crop), p[2+r], p[3+r] = constant value bits (lo, hi; see mqk_sh_put),
 *                p[4+r] = 1: take the constant from in[2] instead. End pads follow from the shapes.
 * kernels/shape_gather.c
 *   sh_gather        : p[0] = axis (normalized). in[1] indices.
 *   sh_gather_elems  : p[0] = axis (normalized). in[1] indices of the data's rank.
 *   sh_gather_nd     : p[0] = batch_dims. in[1] indices, last dim = index depth.
 * kernels/shape_scatter.c
 *   sh_scatter_elems : p[0] = axis (normalized), p[1] = reduction (MQK_SCAT_*). in[1] indices, in[2] updates.
 *   sh_scatter_nd    : p[0] = reduction (MQK_SCAT_*). in[1] indices, in[2] updates.
 * kernels/shape_fill.c (ops that make values)
 *   sh_fill      : p[0], p[1] = value bits (lo, hi): every element of out[0] (ConstantOfShape).
 *   sh_values    : p[0] = k, p[1 .. 1+k) = values: out[0] (int64) = those values (Shape, Size).
 *   sh_eyelike   : p[0] = k (diagonal offset, clamped to [-rows, cols]), p[1], p[2] = bits of one;
 *                  out[0] 2-D.
 *   sh_range     : no parameters; start in[0], delta in[2] (float32, float64, int16, int32, int64
 *                  scalars), count = out[0].dims[0].
 * kernels/shape_misc.c
 *   sh_onehot    : p[0] = axis (normalized against out's rank). in[0] indices (any numeric dtype),
 *                  in[2] = [off, on] values of out's dtype; depth = out[0].dims[axis].
 *   sh_trilu     : p[0] = upper, p[1] = k when in[1] is absent (else in[1], an int64 scalar).
 *   sh_revseq    : p[0] = batch_axis, p[1] = time_axis (0 and 1 in some order). in[1] sequence lengths.
 *
 * Load-time checks (mqr_kernel.h): mqk_c_<name> beside each kernel, helpers in shape_check.h. Besides
 * the layouts above they require every tensor a kernel reads or writes to have a runtime dtype, dims
 * >= 0 and the product of its non-zero dims within int32 (so no int32 product a kernel takes
 * overflows, even for an empty tensor), refuse constant indices out of range, and leave computed
 * indices, lengths and Trilu's k to the kernels, which skip, zero or clamp them.
 */

#define MQK_SH_MAX_VIEW (2 * MQR_MAX_RANK)

enum { MQK_PAD_CONSTANT, MQK_PAD_REFLECT, MQK_PAD_EDGE, MQK_PAD_WRAP };
enum { MQK_SCAT_NONE, MQK_SCAT_ADD, MQK_SCAT_MUL, MQK_SCAT_MAX, MQK_SCAT_MIN };

/* bytes per element of a runtime dtype */
static inline size_t mqk_sh_esize(int32_t dt)
{
    switch (dt) {
    case MQR_U8: case MQR_I8: case MQR_BOOL: return 1;
    case MQR_U16: case MQR_I16: return 2;
    case MQR_F32: case MQR_I32: case MQR_U32: return 4;
    default: return 8;
    }
}

/* Element i of an int32 / int64 index tensor. */
static inline int64_t mqk_sh_index(const mqr_tensor *t, int32_t i)
{
    return t->dtype == MQR_I32 ? (int64_t)((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

/* Normalize index v into [0, dim); -1 when out of range. */
static inline int32_t mqk_sh_norm(int64_t v, int32_t dim)
{
    if (v < 0) v += dim;
    return v >= 0 && v < dim ? (int32_t)v : -1;
}

/* Writes one element of esz bytes whose bits are lo (and hi, the upper 32 bits of an 8-byte one):
 * the value as an unsigned integer of that size, independent of byte order. */
static inline void mqk_sh_put(void *dst, size_t esz, int32_t lo, int32_t hi)
{
    uint8_t b1;
    uint16_t b2;
    uint32_t b4;
    uint64_t b8;
    switch (esz) {
    case 1: b1 = (uint8_t)(uint32_t)lo; memcpy(dst, &b1, 1); break;
    case 2: b2 = (uint16_t)(uint32_t)lo; memcpy(dst, &b2, 2); break;
    case 4: b4 = (uint32_t)lo; memcpy(dst, &b4, 4); break;
    default: b8 = (uint64_t)(uint32_t)lo | ((uint64_t)(uint32_t)hi << 32); memcpy(dst, &b8, 8); break;
    }
}

/* Fills n elements of esz bytes with the one at src (dst aligned for its dtype). */
static inline void mqk_sh_fill(void *dst, const void *src, size_t esz, int32_t n)
{
    int32_t i;
    if (esz == 1) {
        memset(dst, *(const uint8_t *)src, (size_t)n);
    } else if (esz == 2) {
        uint16_t v, *o = (uint16_t *)dst;
        memcpy(&v, src, 2);
        for (i = 0; i < n; i++) o[i] = v;
    } else if (esz == 4) {
        uint32_t v, *o = (uint32_t *)dst;
        memcpy(&v, src, 4);
        for (i = 0; i < n; i++) o[i] = v;
    } else {
        uint64_t v, *o = (uint64_t *)dst;
        memcpy(&v, src, 8);
        for (i = 0; i < n; i++) o[i] = v;
    }
}

/* Product of dims [from, to). */
static inline int32_t mqk_sh_prod(const int32_t *dims, int from, int to)
{
    int32_t p = 1;
    int d;
    for (d = from; d < to; d++) p *= dims[d];
    return p;
}

#endif
