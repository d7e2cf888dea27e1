/* rnn.h: one direction of the ONNX recurrent layers (RNN, GRU, LSTM) over a whole sequence on float32
 * data, with sequence lengths, clipping and the ONNX activation functions. */
#ifndef MQK_RNN_H
#define MQK_RNN_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/mqr_kernel.h"

typedef enum mqk_act_kind {
    MQK_ACT_SIGMOID,
    MQK_ACT_TANH,
    MQK_ACT_RELU,
    MQK_ACT_AFFINE,          /* alpha*x + beta */
    MQK_ACT_LEAKYRELU,       /* alpha */
    MQK_ACT_THRESHOLDEDRELU, /* alpha */
    MQK_ACT_SCALEDTANH,      /* alpha*tanh(beta*x) */
    MQK_ACT_HARDSIGMOID,     /* max(0, min(1, alpha*x + beta)) */
    MQK_ACT_ELU,             /* alpha */
    MQK_ACT_SOFTSIGN,
    MQK_ACT_SOFTPLUS
} mqk_act_kind;

typedef struct mqk_act {
    mqk_act_kind kind;
    float alpha, beta;
} mqk_act;

float mqk_act_apply(const mqk_act *a, float x);

enum { MQK_CELL_RNN = 0, MQK_CELL_GRU = 1, MQK_CELL_LSTM = 2 };

/* gates per cell: RNN 1 (i), GRU 3 (z, r, h), LSTM 4 (i, o, f, c), in ONNX's order.
 * w: [gates*hidden, input], r: [gates*hidden, hidden], b: [2*gates*hidden] (Wb then Rb) or NULL,
 * peep (LSTM): [3*hidden] (i, o, f) or NULL. act: RNN f; GRU f, g; LSTM f, g, h. */
typedef struct mqk_rnn_params {
    int cell;
    int32_t seq, batch, input, hidden;
    int reverse;
    int linear_before_reset; /* GRU */
    int input_forget;        /* LSTM: couple input and forget gates */
    float clip;              /* > 0: clip gate pre-activations to [-clip, clip] */
    mqk_act act[3];
    /* element strides: x[t][b][:] at x + t*x_step + b*x_batch; y likewise (y may be NULL) */
    size_t x_step, x_batch, y_step, y_batch;
} mqk_rnn_params;

size_t mqk_rnn_scratch_bytes(const mqk_rnn_params *p);

/* Run one direction. h ([batch, hidden]) holds the initial state and receives the final one; c
 * likewise for LSTM (ignored otherwise). seq_lens (batch values) may be NULL: steps at or past a
 * batch entry's length leave its state unchanged and write zeros to y. */
void mqk_rnn_f32(const mqk_rnn_params *p, const float *x, const float *w, const float *r, const float *b,
                 const float *peep, const int32_t *seq_lens, float *h, float *c, float *y, float *scratch);

/* Kernel rnn_f32 (RNN, GRU, LSTM, every direction): in[0] X, in[1] W, in[2] R, in[3] B, in[4]
 * sequence_lens (int32), in[5] initial_h, in[6] initial_c, in[7] P (LSTM); out[0] Y, out[1] Y_h,
 * out[2] Y_c; optional ones have rank -1. Shapes as in ONNX (layout 0 or 1). p[0] cell (MQK_CELL_*),
 * p[1] directions (1, 2), p[2] layout, p[3] 1 if the only direction is 'reverse',
 * p[4] linear_before_reset, p[5] input_forget, p[6] clip (f32 bits, 0: none), then for direction d
 * (0, 1) and activation k (0..2) at p[7 + 9*d + 3*k]: kind (mqk_act_kind), alpha, beta (f32 bits).
 * Scratch: mqk_rnn_kernel_scratch_bytes. */
void mqk_k_rnn_f32(const mqr_call *c);
size_t mqk_rnn_kernel_scratch_bytes(int cell, int32_t batch, int32_t hidden);

#endif
