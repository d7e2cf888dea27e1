/* misc_signal.h: parameter layouts of the signal kernels (misc_signal.c, opset 17): DFT, STFT, the
 * Hann/Hamming/Blackman windows and MelWeightMatrix. Transforms run in double: a radix-2 FFT for
 * power-of-two lengths, a direct O(n^2) DFT otherwise. */
#ifndef MQK_MISC_SIGNAL_H
#define MQK_MISC_SIGNAL_H

enum { MQK_WIN_HANN = 0, MQK_WIN_HAMMING = 1, MQK_WIN_BLACKMAN = 2 };

/* dft: in[0] x [..., 1 or 2] (float32/float64; in[1] dft_length is not read); out[0] [..., 2] of x's dtype.
 *   p[0] axis (normalized, < rank - 1), p[1] 1: complex input, p[2] inverse, p[3] transform length
 *   (x zero-padded or cut to it), p[4] output length along the axis (len, or len / 2 + 1 onesided).
 *   scratch: 6 * 8 * len bytes.
 * stft: in[0] signal [B, L, 1 or 2], in[2] optional window [n_fft] (rank -1: none); out[0] [B, frames,
 *   bins, 2]. p[0] frame_step, p[1] n_fft. scratch: 6 * 8 * n_fft bytes.
 * window: no inputs read; out[0] [size] of any numeric dtype. p[0] MQK_WIN_*, p[1] periodic.
 * mel_weight_matrix: no inputs read; out[0] [dft_length / 2 + 1, num_mel_bins] (any numeric dtype).
 *   p[0] num_mel_bins, p[1] dft_length, p[2] sample_rate; p[3], p[4] lower_edge_hertz and p[5], p[6]
 *   upper_edge_hertz as the low and high 32 bits of float64s. scratch: 4 * (num_mel_bins + 2) bytes. */

#endif
