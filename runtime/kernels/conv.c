/* conv.c: direct N-D convolution / transposed convolution and the im2col / col2im helpers (see
 * conv.h). Shapes are padded to 3 spatial dims internally (size 1, kernel 1, stride 1, pad 0). */
#include "runtime/kernels/conv.h"

typedef struct conv3 {
    int32_t in[3], out[3], k[3], s[3], p[3], d[3];
} conv3;

static void conv_expand(const mqk_conv_params *p, conv3 *c)
{
    int i, off = 3 - p->nd;
    for (i = 0; i < 3; i++) {
        c->in[i] = c->out[i] = c->k[i] = c->s[i] = c->d[i] = 1;
        c->p[i] = 0;
    }
    for (i = 0; i < p->nd; i++) {
        c->in[off + i] = p->in_size[i];
        c->out[off + i] = p->out_size[i];
        c->k[off + i] = p->kernel[i];
        c->s[off + i] = p->stride[i];
        c->p[off + i] = p->pad_begin[i];
        c->d[off + i] = p->dilation[i];
    }
}

#define MQK_CONV_DIRECT(T, ACC_EXPR)                                                                 \
    conv3 c;                                                                                       \
    int32_t n, m, ci, od, oh, ow, kd, kh, kw;                                                      \
    int32_t cg, mg;                                                                                \
    size_t in_sp, out_sp, ksz;                                                                     \
    conv_expand(p, &c);                                                                            \
    cg = p->in_ch / p->group;                                                                      \
    mg = p->out_ch / p->group;                                                                     \
    in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];                                   \
    out_sp = (size_t)c.out[0] * (size_t)c.out[1] * (size_t)c.out[2];                               \
    ksz = (size_t)c.k[0] * (size_t)c.k[1] * (size_t)c.k[2];                                        \
    for (n = 0; n < p->batch; n++)                                                                 \
        for (m = 0; m < p->out_ch; m++) {                                                          \
            int32_t g = m / mg;                                                                    \
            T *yo = y + ((size_t)n * (size_t)p->out_ch + (size_t)m) * out_sp;                      \
            for (od = 0; od < c.out[0]; od++)                                                      \
                for (oh = 0; oh < c.out[1]; oh++)                                                  \
                    for (ow = 0; ow < c.out[2]; ow++) {                                            \
                        T acc = INIT;                                                              \
                        for (ci = 0; ci < cg; ci++) {                                              \
                            const T *xi = x + ((size_t)n * (size_t)p->in_ch + (size_t)(g * cg + ci)) * in_sp; \
                            const T *wk = w + ((size_t)m * (size_t)cg + (size_t)ci) * ksz;         \
                            for (kd = 0; kd < c.k[0]; kd++) {                                      \
                                int32_t id = od * c.s[0] - c.p[0] + kd * c.d[0];                   \
                                if (id < 0 || id >= c.in[0]) continue;                             \
                                for (kh = 0; kh < c.k[1]; kh++) {                                  \
                                    int32_t ih = oh * c.s[1] - c.p[1] + kh * c.d[1];               \
                                    if (ih < 0 || ih >= c.in[1]) continue;                         \
                                    for (kw = 0; kw < c.k[2]; kw++) {                              \
                                        int32_t iw = ow * c.s[2] - c.p[2] + kw * c.d[2];           \
                                        T xv, wv;                                                  \
                                        if (iw < 0 || iw >= c.in[2]) continue;                     \
                                        xv = xi[((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2] + (size_t)iw]; \
                                        wv = wk[((size_t)kd * (size_t)c.k[1] + (size_t)kh) * (size_t)c.k[2] + (size_t)kw]; \
                                        ACC_EXPR;                                                  \
                                    }                                                              \
                                }                                                                  \
                            }                                                                      \
                        }                                                                          \
                        yo[((size_t)od * (size_t)c.out[1] + (size_t)oh) * (size_t)c.out[2] + (size_t)ow] = acc; \
                    }                                                                              \
        }

void mqk_conv_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias, float *y)
{
#define INIT (bias ? bias[m] : 0.0f)
    MQK_CONV_DIRECT(float, acc += xv * wv)
#undef INIT
}

void mqk_conv_i32(const mqk_conv_params *p, const int32_t *x, const int32_t *w, int32_t *y)
{
#define INIT 0
    MQK_CONV_DIRECT(int32_t, acc = (int32_t)((uint32_t)acc + (uint32_t)xv * (uint32_t)wv))
#undef INIT
}

void mqk_conv_transpose_f32(const mqk_conv_params *p, const float *x, const float *w, const float *bias,
                            float *y)
{
    conv3 c;
    int32_t n, m, ci, id, ih, iw, kd, kh, kw, cg, mg;
    size_t in_sp, out_sp, ksz, i;
    conv_expand(p, &c);
    cg = p->in_ch / p->group;
    mg = p->out_ch / p->group;
    in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];
    out_sp = (size_t)c.out[0] * (size_t)c.out[1] * (size_t)c.out[2];
    ksz = (size_t)c.k[0] * (size_t)c.k[1] * (size_t)c.k[2];
    for (n = 0; n < p->batch; n++)
        for (m = 0; m < p->out_ch; m++) {
            float *yo = y + ((size_t)n * (size_t)p->out_ch + (size_t)m) * out_sp;
            float b = bias ? bias[m] : 0.0f;
            for (i = 0; i < out_sp; i++) yo[i] = b;
        }
    for (n = 0; n < p->batch; n++)
        for (ci = 0; ci < p->in_ch; ci++) {
            int32_t g = ci / cg;
            const float *xi = x + ((size_t)n * (size_t)p->in_ch + (size_t)ci) * in_sp;
            for (m = 0; m < mg; m++) {
                float *yo = y + ((size_t)n * (size_t)p->out_ch + (size_t)(g * mg + m)) * out_sp;
                const float *wk = w + ((size_t)ci * (size_t)mg + (size_t)m) * ksz;
                for (id = 0; id < c.in[0]; id++)
                    for (ih = 0; ih < c.in[1]; ih++)
                        for (iw = 0; iw < c.in[2]; iw++) {
                            float xv = xi[((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2] + (size_t)iw];
                            for (kd = 0; kd < c.k[0]; kd++) {
                                int32_t od = id * c.s[0] - c.p[0] + kd * c.d[0];
                                if (od < 0 || od >= c.out[0]) continue;
                                for (kh = 0; kh < c.k[1]; kh++) {
                                    int32_t oh = ih * c.s[1] - c.p[1] + kh * c.d[1];
                                    if (oh < 0 || oh >= c.out[1]) continue;
                                    for (kw = 0; kw < c.k[2]; kw++) {
                                        int32_t ow = iw * c.s[2] - c.p[2] + kw * c.d[2];
                                        if (ow < 0 || ow >= c.out[2]) continue;
                                        yo[((size_t)od * (size_t)c.out[1] + (size_t)oh) * (size_t)c.out[2] + (size_t)ow] +=
                                            xv * wk[((size_t)kd * (size_t)c.k[1] + (size_t)kh) * (size_t)c.k[2] + (size_t)kw];
                                    }
                                }
                            }
                        }
            }
        }
}

size_t mqk_im2col_bytes(const mqk_conv_params *p)
{
    conv3 c;
    conv_expand(p, &c);
    return (size_t)(p->in_ch / p->group) * (size_t)c.k[0] * (size_t)c.k[1] * (size_t)c.k[2] * (size_t)c.out[0] *
           (size_t)c.out[1] * (size_t)c.out[2] * sizeof(float);
}

void mqk_im2col_f32(const mqk_conv_params *p, const float *x_img, float *col)
{
    conv3 c;
    int32_t ci, kd, kh, kw, od, oh, ow, cg;
    size_t in_sp;
    conv_expand(p, &c);
    cg = p->in_ch / p->group;
    in_sp = (size_t)c.in[0] * (size_t)c.in[1] * (size_t)c.in[2];
    for (ci = 0; ci < cg; ci++) {
        const float *xi = x_img + (size_t)ci * in_sp;
        for (kd = 0; kd < c.k[0]; kd++)
            for (kh = 0; kh < c.k[1]; kh++)
                for (kw = 0; kw < c.k[2]; kw++)
                    for (od = 0; od < c.out[0]; od++) {
                        int32_t id = od * c.s[0] - c.p[0] + kd * c.d[0];
                        for (oh = 0; oh < c.out[1]; oh++) {
                            int32_t ih = oh * c.s[1] - c.p[1] + kh * c.d[1];
                            int row_ok = id >= 0 && id < c.in[0] && ih >= 0 && ih < c.in[1];
                            for (ow = 0; ow < c.out[2]; ow++) {
                                int32_t iw = ow * c.s[2] - c.p[2] + kw * c.d[2];
                                *col++ = (row_ok && iw >= 0 && iw < c.in[2])
                                             ? xi[((size_t)id * (size_t)c.in[1] + (size_t)ih) * (size_t)c.in[2] + (size_t)iw]
                                             : 0.0f;
                            }
                        }
                    }
    }
}

size_t mqk_col2im_bytes(const mqk_conv_params *p)
{
    conv3 c;
    conv_expand(p, &c);
    return (size_t)(p->out_ch / p->group) * (size_t)c.k[0] * (size_t)c.k[1] * (size_t)c.k[2] * (size_t)c.in[0] *
           (size_t)c.in[1] * (size_t)c.in[2] * sizeof(float);
}

void mqk_col2im_add_f32(const mqk_conv_params *p, const float *col, float *y_img)
{
    conv3 c;
    int32_t m, kd, kh, kw, id, ih, iw, mg;
    size_t out_sp;
    conv_expand(p, &c);
    mg = p->out_ch / p->group;
    out_sp = (size_t)c.out[0] * (size_t)c.out[1] * (size_t)c.out[2];
    for (m = 0; m < mg; m++) {
        float *yo = y_img + (size_t)m * out_sp;
        for (kd = 0; kd < c.k[0]; kd++)
            for (kh = 0; kh < c.k[1]; kh++)
                for (kw = 0; kw < c.k[2]; kw++)
                    for (id = 0; id < c.in[0]; id++) {
                        int32_t od = id * c.s[0] - c.p[0] + kd * c.d[0];
                        for (ih = 0; ih < c.in[1]; ih++) {
                            int32_t oh = ih * c.s[1] - c.p[1] + kh * c.d[1];
                            int row_ok = od >= 0 && od < c.out[0] && oh >= 0 && oh < c.out[1];
                            for (iw = 0; iw < c.in[2]; iw++) {
                                int32_t ow = iw * c.s[2] - c.p[2] + kw * c.d[2];
                                float v = *col++;
                                if (row_ok && ow >= 0 && ow < c.out[2])
                                    yo[((size_t)od * (size_t)c.out[1] + (size_t)oh) * (size_t)c.out[2] + (size_t)ow] += v;
                            }
                        }
                    }
    }
}
