/* roi.h: region-of-interest pooling on NCHW float32 data: RoiAlign (bilinear samples, avg or max)
 * and MaxRoiPool (quantized bins, max). */
#ifndef MQK_ROI_H
#define MQK_ROI_H

#include <stddef.h>
#include <stdint.h>

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

#endif
