/* roi.h: region-of-interest pooling on NCHW float32 data: RoiAlign (bilinear samples, avg or max)
 * and MaxRoiPool (quantized bins, max). */
#ifndef MQK_ROI_H
#define MQK_ROI_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"

/* Limits the load-time checks hold calls to: image sides (exact as float32) and samples per bin axis. */
#define MQK_ROI_MAX_SIZE 16777216
#define MQK_ROI_MAX_SAMPLES 32768

typedef struct mqk_roi_params {
    int32_t channels, height, width;  /* of one image of x */
    int32_t out_h, out_w;
    float spatial_scale;
    int32_t sampling_ratio; /* RoiAlign: samples per bin and axis; 0: ceil(roi size / bins) */
    int half_pixel;         /* RoiAlign: 1 'half_pixel' (shift by -0.5), 0 'output_half_pixel' (legacy) */
    int max_mode;           /* RoiAlign: 1 'max', 0 'avg' */
} mqk_roi_params;

/* One RoI of one image: roi is [x1, y1, x2, y2] (input coordinates before spatial_scale);
 * img is [channels, height, width]; y is [channels, out_h, out_w]. */
void mqk_roialign_f32(const mqk_roi_params *p, const float *img, const float *roi, float *y);
void mqk_maxroipool_f32(const mqk_roi_params *p, const float *img, const float *roi, float *y);

/* Kernel roialign_f32 (RoiAlign): in[0] X [N, C, H, W], in[1] rois [R, 4], in[2] batch_indices int64
 * [R]; out[0] y [R, C, out_h, out_w]. p[0] spatial_scale (f32 bits), p[1] sampling_ratio,
 * p[2] half_pixel, p[3] max_mode. A batch index outside [0, N) gives zeros. Adaptive sampling
 * (sampling_ratio 0) takes at most MQK_ROI_MAX_SAMPLES samples per bin axis. */
void mqk_k_roialign_f32(const mqr_call *c);
/* Kernel maxroipool_f32 (MaxRoiPool): in[0] X [N, C, H, W], in[1] rois [R, 5] (batch, x1, y1, x2, y2);
 * out[0] y [R, C, out_h, out_w]. p[0] spatial_scale (f32 bits), p[1..3] 0. A batch index outside
 * [0, N) (or not a number) gives zeros. */
void mqk_k_maxroipool_f32(const mqr_call *c);

#endif
