/* Fused recurrent layers of minitorch.nn (CPU kernels with their own backward, in ops/rnn.c).
 *
 * Ownership as everywhere in the core: tensor arguments are borrowed (h0, c0, b_ih, b_hh may be
 * NULL), results are new references; -1 / NULL with the core error set on failure. */
#ifndef MT_RNN_H
#define MT_RNN_H

#include "../core/mt.h"

/* One LSTM layer in one direction, PyTorch's gate order (i, f, g, o):
 *   gates_t = x_t @ w_ih^T + b_ih + h_{t-1} @ w_hh^T + b_hh
 *   c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g),  h_t = sigmoid(o) * tanh(c_t)
 * x (T, B, I) (any strides), h0 / c0 (B, H) or NULL (zeros), w_ih (4H, I), w_hh (4H, H),
 * b_ih / b_hh (4H) or NULL. reverse runs t = T-1 .. 0 (the _reverse direction of a
 * bidirectional layer; out[t] is still the state at time t).
 * Results: *out (T, B, H) contiguous, *hn and *cn (B, H) (the final states).
 * Forward: the input projection of all steps is one GEMM into a (T, B, 4H) gate buffer; each
 * step adds h_{t-1} @ w_hh^T with one GEMM and runs one fused gate kernel that overwrites the
 * pre-activations with the activations (kept for backward) and writes c_t and h_t.
 * Autograd: one node (MkldnnRnnLayerBackward0, torch's CPU name) with outputs (out, hn, cn) and
 * inputs (x, h0, c0, w_ih, w_hh, b_ih, b_hh). Backward through time runs one fused
 * gate-gradient kernel and one GEMM (dgates_t @ w_hh) per step into buffers allocated once; then
 * dw_hh, dw_ih and dx are one GEMM each over all steps. Float32/float64, CPU tensors. */
int mt_lstm_layer(mt_tensor *x, mt_tensor *h0, mt_tensor *c0, mt_tensor *w_ih, mt_tensor *w_hh, mt_tensor *b_ih,
                  mt_tensor *b_hh, bool reverse, mt_tensor **out, mt_tensor **hn, mt_tensor **cn);

#endif
