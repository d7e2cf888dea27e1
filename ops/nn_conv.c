/* nn_conv.c: Conv, ConvTranspose and ConvInteger (1D/2D/3D, groups, strides, pads, dilations,
 * auto_pad), lowered to runtime/kernels/conv.c. Conv's host forward sends large cases to im2col +
 * OpenBLAS sgemm (unless MAQD_NO_BLAS) and the rest to the kernel. */
#include "ops/grad.h"
#include "ops/nn_internal.h"
#include "runtime/kernels/conv.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* Everything the forward needs, derived from shapes and attributes. */
typedef struct conv_geom {
    mqk_conv_params p;
    nn_window w;
    int64_t out_dims[MQ_MAX_RANK];
    int rank;
} conv_geom;

static void geom_params(conv_geom *g, int64_t N, int64_t C, int64_t M, int64_t group)
{
    mqk_conv_params *p = &g->p;
    memset(p, 0, sizeof *p);
    p->nd = g->w.nd;
    p->batch = (int32_t)N;
    p->in_ch = (int32_t)C;
    p->out_ch = (int32_t)M;
    p->group = (int32_t)group;
    for (int i = 0; i < g->w.nd; i++) {
        p->in_size[i] = (int32_t)g->w.in[i];
        p->out_size[i] = (int32_t)g->w.out[i];
        p->kernel[i] = (int32_t)g->w.k[i];
        p->stride[i] = (int32_t)g->w.s[i];
        p->pad_begin[i] = (int32_t)g->w.pb[i];
        p->dilation[i] = (int32_t)g->w.d[i];
    }
}

/* Shared shape logic of Conv and ConvInteger: x [N, C, ...], w [M, C/group, k...]. */
static mq_status conv_geometry(const mq_node *n, const mq_tensor *x, const mq_tensor *w, conv_geom *g,
                               mq_err *err)
{
    if (x->rank < 3 || x->rank > 2 + NN_MAX_SPATIAL)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "input rank %d (3 to %d supported)", x->rank,
                            2 + NN_MAX_SPATIAL);
    if (w->rank != x->rank)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "weight rank %d differs from input rank %d", w->rank, x->rank);
    int nd = x->rank - 2;
    int64_t group = mq_attr_int(n, "group", 1);
    int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0];
    if (group < 1 || C % group || M % group || w->dims[1] * group != C)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "channels %lld, weight %lldx%lld and group %lld do not match",
                            (long long)C, (long long)M, (long long)w->dims[1], (long long)group);
    const int64_t *ks;
    int kc = mq_attr_ints(n, "kernel_shape", &ks);
    if (kc >= 0) {
        if (kc != nd) return mq_node_fail(err, n, MQ_ERR_INVALID, "kernel_shape has %d values", kc);
        for (int i = 0; i < nd; i++)
            if (ks[i] != w->dims[2 + i])
                return mq_node_fail(err, n, MQ_ERR_SHAPE, "kernel_shape does not match the weight shape");
    }
    MQ_TRY(nn_window_forward(n, nd, x->dims + 2, w->dims + 2, 0, 1, &g->w, err));
    int64_t nc[2] = {N, M};
    MQ_TRY(nn_check_i32(n, nc, 2, err));
    MQ_TRY(nn_check_i32(n, &C, 1, err));
    g->rank = x->rank;
    g->out_dims[0] = N;
    g->out_dims[1] = M;
    for (int i = 0; i < nd; i++) g->out_dims[2 + i] = g->w.out[i];
    geom_params(g, N, C, M, group);
    return MQ_OK;
}

/* ---- Conv ---------------------------------------------------------------------------------------- */

typedef mq_status (*geometry_fn)(const mq_node *n, const mq_tensor *x, const mq_tensor *w, conv_geom *g,
                                  mq_err *err);

/* Inference shared by Conv and ConvTranspose: X, W, optional B of one float dtype; the geometry
 * function gives the output shape. */
static mq_status conv_like_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out,
                                 geometry_fn geometry, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], mq_types_float, err));
    const mq_tensor *b = nn_opt(n, in, 2);
    if (in[1]->dtype != in[0]->dtype || (b && b->dtype != in[0]->dtype))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "X, W and B must have the same dtype");
    if (nn_unknown(in[0]) || nn_unknown(in[1])) {
        mq_set_out(out[0], in[0]->dtype, -1, NULL);
        return MQ_OK;
    }
    conv_geom g;
    MQ_TRY(geometry(n, in[0], in[1], &g, err));
    if (b && b->rank >= 0 && (b->rank != 1 || b->dims[0] != g.out_dims[1]))
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "bias must have %lld values", (long long)g.out_dims[1]);
    mq_set_out(out[0], in[0]->dtype, g.rank, g.out_dims);
    return MQ_OK;
}

static mq_status conv_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return conv_like_infer(n, in, out, conv_geometry, err);
}

/* Kernel parameters p[0..10] shared by conv_f32 and conv_transpose_f32 (see runtime/kernels/conv.h). */
static void conv_kparams(const conv_geom *g, mq_kcall *kc)
{
    kc->p[0] = g->w.nd;
    kc->p[1] = g->p.group;
    for (int i = 0; i < NN_MAX_SPATIAL; i++) {
        int sp = i < g->w.nd;
        kc->p[2 + i] = sp ? g->p.stride[i] : 1;
        kc->p[5 + i] = sp ? g->p.pad_begin[i] : 0;
        kc->p[8 + i] = sp ? g->p.dilation[i] : 1;
    }
    kc->n_p = 11;
}

/* im2col tiles are sized to about this many bytes of scratch (at least one output row); see
 * MAQD_CONV_TILE_BYTES in runtime/kernels/conv.h. */
#ifndef MAQD_CONV_TILE_BYTES
#define MAQD_CONV_TILE_BYTES 524288
#endif
#define CONV_TILE_BYTES MAQD_CONV_TILE_BYTES
#ifndef MAQD_CONV_TILE_MIN_COLS
#define MAQD_CONV_TILE_MIN_COLS 128
#endif
#define CONV_TILE_MIN_COLS MAQD_CONV_TILE_MIN_COLS

static mq_status conv_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out, mq_kcall *kc,
                            mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    conv_geom g;
    MQ_TRY(conv_geometry(n, in[0], in[1], &g, err));
    conv_kparams(&g, kc);
    const mqk_conv_params *p = &g.p;
    int pointwise = 1;
    for (int i = 0; i < g.w.nd; i++)
        if (g.w.k[i] != 1 || g.w.s[i] != 1 || g.w.pb[i] != 0 || g.w.pe[i] != 0) pointwise = 0;
    /* direct: one input channel per group and few output channels per group (depthwise: the kernel
     * has a 3x3 fast path); a single-channel image with many filters unfolds to a wide GEMM instead */
    int method = p->in_ch / p->group == 1 && p->out_ch / p->group < 8 ? MQK_CONV_DIRECT
                 : pointwise                                          ? MQK_CONV_POINTWISE
                                                                      : MQK_CONV_IM2COL;
    int32_t out_rows = mqk_conv_out_rows(p), tile = 0;
    if (method == MQK_CONV_IM2COL) {
        size_t row_bytes = mqk_conv_scratch_bytes(p, method, 1), w = (size_t)p->out_size[p->nd - 1];
        size_t t = row_bytes ? CONV_TILE_BYTES / row_bytes : 1;
        size_t t_min = (CONV_TILE_MIN_COLS + w - 1) / w; /* a GEMM at least this wide, whatever the bytes */
        if (t < t_min) t = t_min;
        /* a tile narrower than the output: a whole number of 32-column panels (the register tiles are 8
         * to 32 columns wide: no edge panel then) if at most twice or at least half the rows do it */
        size_t g32 = w % 32 == 0 ? 32 : w % 16 == 0 ? 16 : w % 8 == 0 ? 8 : w % 4 == 0 ? 4 : w % 2 == 0 ? 2 : 1;
        size_t m = 32 / g32, tu = (t + m - 1) / m * m, td = t / m * m;
        if (t < (size_t)out_rows) {
            if (tu <= (size_t)out_rows && tu <= 2 * t) t = tu;
            else if (td >= 1 && td * 2 >= t) t = td;
        }
        tile = t < 1 ? 1 : t > (size_t)out_rows ? out_rows : (int32_t)t;
    }
    kc->kernel = "conv_f32";
    kc->p[11] = method;
    kc->p[12] = tile;
    kc->n_p = 13;
    kc->scratch_bytes = mqk_conv_scratch_bytes(p, method, tile);
    return MQ_OK;
}

/* Host path: large convolutions as im2col + OpenBLAS sgemm; the rest through the runtime kernel. The
 * columns are made a tile of output rows at a time, at most 32 MiB (environment MAQD_HOST_COL_BYTES
 * overrides it: ctest real_models_col_tiles runs with a tiny value so every tile boundary is crossed). */
static size_t host_col_bytes(void)
{
    static size_t bytes = 0;
    if (!bytes) {
        const char *v = getenv("MAQD_HOST_COL_BYTES");
        long long b = v ? atoll(v) : 0;
        bytes = b > 0 ? (size_t)b : (size_t)32 << 20;
    }
    return bytes;
}

static mq_status conv_forward32(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    conv_geom g;
    MQ_TRY(conv_geometry(n, in[0], in[1], &g, err));
    const mqk_conv_params *p = &g.p;
    size_t cg = (size_t)(p->in_ch / p->group), mg = (size_t)(p->out_ch / p->group);
    size_t ksz = nn_prod(g.w.k, 0, g.w.nd), in_sp = nn_prod(g.w.in, 0, g.w.nd), out_sp = nn_prod(g.w.out, 0, g.w.nd);
    size_t rows = cg * ksz;
    if (!nn_use_blas() || (cg == 1 && mg < 8) || (double)mg * (double)out_sp * (double)rows < NN_BLAS_MIN_MACS || rows > INT32_MAX ||
        out_sp > INT32_MAX)
        return mq_forward_lowered(n, in, out, err);
    const float *x = in[0]->data, *w = in[1]->data, *b = nn_opt(n, in, 2) ? nn_opt(n, in, 2)->data : NULL;
    float *y = out[0]->data;
    int direct = 1; /* 1x1, stride 1, no pad: the image itself is the im2col matrix */
    for (int i = 0; i < g.w.nd; i++)
        if (g.w.k[i] != 1 || g.w.s[i] != 1 || g.w.pb[i] != 0 || g.w.pe[i] != 0) direct = 0;
    float *col = NULL;
    int32_t out_rows = mqk_conv_out_rows(p), tile = out_rows;
    size_t W = (size_t)p->out_size[p->nd - 1]; /* output positions per row */
    if (!direct) {
        /* im2col of a tile of output rows at a time: at most host_col_bytes() of columns (one row at
         * least), so the scratch stays bounded for large images or kernels */
        size_t row_bytes = mqk_conv_scratch_bytes(p, MQK_CONV_IM2COL, 1);
        size_t t = row_bytes ? host_col_bytes() / row_bytes : (size_t)out_rows;
        tile = t < 1 ? 1 : t > (size_t)out_rows ? out_rows : (int32_t)t;
        size_t bytes = mqk_conv_scratch_bytes(p, MQK_CONV_IM2COL, tile);
        col = mq_malloc(bytes);
        if (!col) return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for im2col (%zu bytes)", bytes);
    }
    for (int32_t bi = 0; bi < p->batch; bi++)
        for (int32_t gi = 0; gi < p->group; gi++) {
            const float *xg = x + ((size_t)bi * (size_t)p->in_ch + (size_t)gi * cg) * in_sp;
            float *yg = y + ((size_t)bi * (size_t)p->out_ch + (size_t)gi * mg) * out_sp;
            const float *wg = w + (size_t)gi * mg * rows;
            if (direct)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)mg, (int)out_sp, (int)rows, 1.0f, wg,
                            (int)rows, xg, (int)out_sp, 0.0f, yg, (int)out_sp);
            else
                for (int32_t r0 = 0; r0 < out_rows; r0 += tile) {
                    int32_t nr = out_rows - r0 < tile ? out_rows - r0 : tile;
                    int nc = (int)((size_t)nr * W);
                    mqk_im2col_f32(p, xg, r0, nr, col);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)mg, nc, (int)rows, 1.0f, wg,
                                (int)rows, col, nc, 0.0f, yg + (size_t)r0 * W, (int)out_sp);
                }
            if (b)
                for (size_t m = 0; m < mg; m++) {
                    float bv = b[(size_t)gi * mg + m];
                    for (size_t j = 0; j < out_sp; j++) yg[m * out_sp + j] += bv;
                }
        }
    mq_free(col);
    return MQ_OK;
}

static mq_status conv_forward(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return nn_forward_f32(n, in, out, err, conv_forward32);
}

/* ---- Conv backward ------------------------------------------------------------------------------- */

/* The adjoint of mqk_im2col_f32 for all output rows (same loops): dx_img[c, i] += dcol[(c, kd, kh, kw), o]
 * for every tap reading input i from output position o; each row's valid range from mqk_conv_tap_range. */
static void col2im_add(const mqk_conv_params *p, const float *dcol, float *dx_img)
{
    mqk_conv3 c;
    mqk_conv_expand(p, &c);
    int32_t cg = p->in_ch / p->group, W = c.out[2];
    size_t in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];
    for (int32_t ci = 0; ci < cg; ci++) {
        float *xi = dx_img + (size_t)ci * in_sp;
        for (int32_t kd = 0; kd < c.k[0]; kd++)
            for (int32_t kh = 0; kh < c.k[1]; kh++)
                for (int32_t kw = 0; kw < c.k[2]; kw++) {
                    int32_t offw = kw * c.d[2] - c.p[2], sw = c.s[2], low, hiw;
                    mqk_conv_tap_range(c.in[2], W, sw, offw, &low, &hiw);
                    for (int32_t od = 0; od < c.out[0]; od++) {
                        int32_t id = od * c.s[0] - c.p[0] + kd * c.d[0];
                        for (int32_t oh = 0; oh < c.out[1]; oh++, dcol += W) {
                            int32_t ih = oh * c.s[1] - c.p[1] + kh * c.d[1];
                            if (id < 0 || id >= c.in[0] || ih < 0 || ih >= c.in[1]) continue;
                            float *xr = xi + ((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2];
                            if (sw == 1) {
                                float *restrict xs = xr + offw;
                                const float *restrict dr = dcol;
                                for (int32_t ow = low; ow < hiw; ow++) xs[ow] += dr[ow];
                            } else
                                for (int32_t ow = low; ow < hiw; ow++) xr[(size_t)ow * (size_t)sw + (size_t)offw] += dcol[ow];
                        }
                    }
                }
    }
}

/* db[m] = the sum of gy (N, M, S) over images and positions of channel m, in double, in the order b, k. Four
 * channels at a time: four independent chains of additions (each in that same order) instead of one, so the
 * adds overlap instead of waiting for each other. */
static void conv_bias_grad(int64_t N, int64_t M, int64_t S, const float *gy, float *db)
{
    int64_t m = 0;
    for (; m + 4 <= M; m += 4) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int64_t b = 0; b < N; b++) {
            const float *g0 = gy + (b * M + m) * S, *g1 = g0 + S, *g2 = g1 + S, *g3 = g2 + S;
            for (int64_t k = 0; k < S; k++) {
                s0 += g0[k];
                s1 += g1[k];
                s2 += g2[k];
                s3 += g3[k];
            }
        }
        db[m] = (float)s0;
        db[m + 1] = (float)s1;
        db[m + 2] = (float)s2;
        db[m + 3] = (float)s3;
    }
    for (; m < M; m++) {
        double s = 0;
        for (int64_t b = 0; b < N; b++)
            for (int64_t k = 0; k < S; k++) s += gy[(b * M + m) * S + k];
        db[m] = (float)s;
    }
}

/* dW = dY im2col(X)^T, dX = col2im(W^T dY), dB = sums of dY, per image and group (OpenBLAS sgemm). */
static mq_status conv_backward(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               const float *const *dout, float *const *din, mq_err *err)
{
    MQ_TRY(mq_grad_need_f32(n, in[0], err));
    (void)out;
    conv_geom geo;
    MQ_TRY(conv_geometry(n, in[0], in[1], &geo, err));
    const mqk_conv_params *p = &geo.p;
    nn_window g;
    nn_window_pad3(&geo.w, &g);
    int64_t N = p->batch, C = p->in_ch, M = p->out_ch, group = p->group, cg = C / group, mg = M / group;
    int64_t in_sp = g.in[0] * g.in[1] * g.in[2], out_sp = g.out[0] * g.out[1] * g.out[2];
    int64_t R = cg * g.k[0] * g.k[1] * g.k[2];
    const float *xs = in[0]->data, *ws = in[1]->data, *gy = dout[0];
    float *dx = din[0], *dw = din[1], *db = n->n_in > 2 ? din[2] : NULL;
    if (db) conv_bias_grad(N, M, out_sp, gy, db);
    if (!dx && !dw) return MQ_OK;
    size_t col_n = (size_t)(R * out_sp);
    float *col = dw ? mq_malloc(sizeof(float) * (col_n ? col_n : 1)) : NULL;
    float *dcol = dx ? mq_malloc(sizeof(float) * (col_n ? col_n : 1)) : NULL;
    if ((dw && !col) || (dx && !dcol)) {
        mq_free(col);
        mq_free(dcol);
        return mq_node_fail(err, n, MQ_ERR_NOMEM, "out of memory for the im2col buffer (%zu floats)", col_n);
    }
    if (dw) memset(dw, 0, sizeof(float) * (size_t)(M * R));
    int32_t rows = mqk_conv_out_rows(p);
    for (int64_t b = 0; b < N; b++)
        for (int64_t gi = 0; gi < group; gi++) {
            const float *gyg = gy + (b * M + gi * mg) * out_sp;
            if (dw) {
                mqk_im2col_f32(p, xs + (b * C + gi * cg) * in_sp, 0, rows, col);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mg, (int)R, (int)out_sp, 1.0f, gyg,
                            (int)out_sp, col, (int)out_sp, 1.0f, dw + gi * mg * R, (int)R);
            }
            if (dx) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)R, (int)out_sp, (int)mg, 1.0f,
                            ws + gi * mg * R, (int)R, gyg, (int)out_sp, 0.0f, dcol, (int)out_sp);
                float *dxg = dx + (b * C + gi * cg) * in_sp; /* cleared here, while it is in cache for col2im */
                memset(dxg, 0, sizeof(float) * (size_t)(cg * in_sp));
                col2im_add(p, dcol, dxg);
            }
        }
    mq_free(col);
    mq_free(dcol);
    return MQ_OK;
}

const mq_op_def nn_op_conv = {.op_type = "Conv", .domain = "", .since = 1, .until = 0, .min_in = 2, .max_in = 3,
                              .min_out = 1, .max_out = 1, .infer = conv_infer, .forward = conv_forward,
                              .lower = conv_lower, .backward = conv_backward};

/* ---- ConvInteger ---------------------------------------------------------------------------------- */

static const mq_dtype types_8bit[] = {MQ_I8, MQ_U8, MQ_UNDEFINED};

static mq_status convint_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    MQ_TRY(mq_require_input(n, in, 0, err));
    MQ_TRY(mq_require_input(n, in, 1, err));
    MQ_TRY(mq_require_dtype(n, in[0], types_8bit, err));
    MQ_TRY(mq_require_dtype(n, in[1], types_8bit, err));
    if (nn_opt(n, in, 2) && nn_opt(n, in, 2)->dtype != in[0]->dtype)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "x_zero_point must have the dtype of x");
    if (nn_opt(n, in, 3) && nn_opt(n, in, 3)->dtype != in[1]->dtype)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "w_zero_point must have the dtype of w");
    if (nn_unknown(in[0]) || nn_unknown(in[1])) {
        mq_set_out(out[0], MQ_I32, -1, NULL);
        return MQ_OK;
    }
    conv_geom g;
    MQ_TRY(conv_geometry(n, in[0], in[1], &g, err));
    if (nn_opt(n, in, 2) && nn_opt(n, in, 2)->rank >= 0 && mq_numel(nn_opt(n, in, 2)) != 1)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "x_zero_point must be a scalar");
    if (nn_opt(n, in, 3) && nn_opt(n, in, 3)->rank >= 0 && mq_numel(nn_opt(n, in, 3)) != 1 && mq_numel(nn_opt(n, in, 3)) != g.out_dims[1])
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "w_zero_point must be a scalar or have one value per output channel");
    mq_set_out(out[0], MQ_I32, g.rank, g.out_dims);
    return MQ_OK;
}

static mq_status convint_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                               mq_kcall *kc, mq_err *err)
{
    (void)out;
    conv_geom g;
    MQ_TRY(conv_geometry(n, in[0], in[1], &g, err));
    conv_kparams(&g, kc);
    kc->kernel = "conv_integer";
    size_t nx = (size_t)mq_numel(in[0]), nw = (size_t)mq_numel(in[1]);
    if (nx + nw > SIZE_MAX / sizeof(int32_t)) return mq_node_fail(err, n, MQ_ERR_LIMIT, "tensors too large");
    kc->scratch_bytes = (nx + nw) * sizeof(int32_t);
    return MQ_OK;
}

const mq_op_def nn_op_conv_integer = {.op_type = "ConvInteger", .domain = "", .since = 10, .until = 0, .min_in = 2,
                                      .max_in = 4, .min_out = 1, .max_out = 1, .infer = convint_infer,
                                      .forward = mq_forward_lowered, .lower = convint_lower};

/* ---- ConvTranspose -------------------------------------------------------------------------------- */

/* floor division for possibly negative a, b > 0 */
static int64_t floordiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static mq_status convt_geometry(const mq_node *n, const mq_tensor *x, const mq_tensor *w, conv_geom *g, mq_err *err)
{
    if (x->rank < 3 || x->rank > 2 + NN_MAX_SPATIAL)
        return mq_node_fail(err, n, MQ_ERR_UNSUPPORTED, "input rank %d (3 to %d supported)", x->rank,
                            2 + NN_MAX_SPATIAL);
    if (w->rank != x->rank)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "weight rank %d differs from input rank %d", w->rank, x->rank);
    int nd = x->rank - 2;
    int64_t group = mq_attr_int(n, "group", 1);
    int64_t N = x->dims[0], C = x->dims[1];
    if (group < 1 || C % group || w->dims[0] != C)
        return mq_node_fail(err, n, MQ_ERR_SHAPE, "channels %lld, weight %lld and group %lld do not match",
                            (long long)C, (long long)w->dims[0], (long long)group);
    int64_t M;
    if (mq_mul_i64(w->dims[1], group, &M)) return mq_node_fail(err, n, MQ_ERR_LIMIT, "too many output channels");
    const int64_t *v;
    int c;
    nn_window *wn = &g->w;
    memset(wn, 0, sizeof *wn);
    wn->nd = nd;
    int64_t pads[2 * NN_MAX_SPATIAL] = {0}, opad[NN_MAX_SPATIAL] = {0}, oshape[NN_MAX_SPATIAL];
    int have_oshape = 0;
    for (int i = 0; i < nd; i++) {
        wn->in[i] = x->dims[2 + i];
        wn->k[i] = w->dims[2 + i];
        wn->s[i] = wn->d[i] = 1;
    }
#define READ_INTS(name, dst, cnt, minv)                                                              \
    if ((c = mq_attr_ints(n, name, &v)) >= 0) {                                                    \
        if (c != (cnt)) return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute '%s' has %d values", name, c); \
        for (int i = 0; i < c; i++) {                                                              \
            if (v[i] < (minv) || v[i] > INT32_MAX)                                                 \
                return mq_node_fail(err, n, MQ_ERR_INVALID, "attribute '%s' value out of range", name); \
            (dst)[i] = v[i];                                                                       \
        }                                                                                          \
    }
    READ_INTS("strides", wn->s, nd, 1)
    READ_INTS("dilations", wn->d, nd, 1)
    READ_INTS("pads", pads, 2 * nd, 0)
    READ_INTS("output_padding", opad, nd, 0)
#undef READ_INTS
    if ((c = mq_attr_ints(n, "kernel_shape", &v)) >= 0) {
        if (c != nd) return mq_node_fail(err, n, MQ_ERR_INVALID, "kernel_shape has %d values", c);
        for (int i = 0; i < nd; i++)
            if (v[i] != wn->k[i]) return mq_node_fail(err, n, MQ_ERR_SHAPE, "kernel_shape does not match the weight");
    }
    if ((c = mq_attr_ints(n, "output_shape", &v)) >= 0) {
        if (c != nd && c != nd + 2) return mq_node_fail(err, n, MQ_ERR_INVALID, "output_shape has %d values", c);
        for (int i = 0; i < nd; i++) {
            oshape[i] = v[c - nd + i];
            if (oshape[i] < 1 || oshape[i] > INT32_MAX)
                return mq_node_fail(err, n, MQ_ERR_INVALID, "output_shape value out of range");
        }
        have_oshape = 1;
    }
    MQ_TRY(nn_check_i32(n, wn->in, nd, err));
    MQ_TRY(nn_check_i32(n, wn->k, nd, err));
    const char *ap = mq_attr_str(n, "auto_pad", "NOTSET");
    int same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER");
    if (!same && strcmp(ap, "NOTSET") && strcmp(ap, "VALID"))
        return mq_node_fail(err, n, MQ_ERR_INVALID, "unknown auto_pad '%s'", ap);
    for (int i = 0; i < nd; i++) {
        int64_t ek = (wn->k[i] - 1) * wn->d[i] + 1;
        int64_t full = wn->s[i] * (wn->in[i] - 1) + opad[i] + ek;
        if (have_oshape || same) {
            int64_t o = have_oshape ? oshape[i] : wn->in[i] * wn->s[i];
            int64_t total = full - o;
            if (!strcmp(ap, "SAME_UPPER")) {
                wn->pb[i] = floordiv(total, 2);
                wn->pe[i] = total - wn->pb[i];
            } else {
                wn->pe[i] = floordiv(total, 2);
                wn->pb[i] = total - wn->pe[i];
            }
            wn->out[i] = o;
        } else {
            if (!strcmp(ap, "NOTSET")) {
                wn->pb[i] = pads[i];
                wn->pe[i] = pads[nd + i];
            }
            wn->out[i] = full - wn->pb[i] - wn->pe[i];
        }
        if (wn->out[i] < 1) return mq_node_fail(err, n, MQ_ERR_SHAPE, "output size %lld", (long long)wn->out[i]);
    }
    MQ_TRY(nn_check_i32(n, wn->in, nd, err));
    MQ_TRY(nn_check_i32(n, wn->out, nd, err));
    MQ_TRY(nn_check_i32(n, wn->pb, nd, err));
    int64_t nc[3] = {N, C, M};
    MQ_TRY(nn_check_i32(n, nc, 3, err));
    g->rank = x->rank;
    g->out_dims[0] = N;
    g->out_dims[1] = M;
    for (int i = 0; i < nd; i++) g->out_dims[2 + i] = wn->out[i];
    geom_params(g, N, C, M, group);
    return MQ_OK;
}

static mq_status convt_infer(const mq_node *n, const mq_tensor *const *in, mq_tensor *const *out, mq_err *err)
{
    return conv_like_infer(n, in, out, convt_geometry, err);
}

static mq_status convt_lower(const mq_node *n, const mq_tensor *const *in, const mq_tensor *const *out,
                             mq_kcall *kc, mq_err *err)
{
    MQ_TRY(nn_lower_dtype(n, in, out, MQ_F32, err));
    conv_geom g;
    MQ_TRY(convt_geometry(n, in[0], in[1], &g, err));
    conv_kparams(&g, kc);
    kc->kernel = "conv_transpose_f32";
    return MQ_OK;
}

const mq_op_def nn_op_conv_transpose = {.op_type = "ConvTranspose", .domain = "", .since = 1, .until = 0,
                                        .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
                                        .infer = convt_infer, .forward = nn_forward_kernel,
                                        .lower = convt_lower};
