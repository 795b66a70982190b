/* Fused recurrent layers of minitorch.nn (the op layer with its own backward in ops/rnn.c, the CPU
 * kernels and float32 AVX-512 time loops in ops/rnn_cpu.c; a device port fills its mt_rnn_backends
 * entry).
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
 * dw_hh, dw_ih and dx are one GEMM each over all steps. (Float32 on CPUs with AVX-512: the loops of
 * ops/rnn_cpu.c, with the input projection and the weight gradients inside the steps.)
 * Float32/float64; CPU tensors, and tensors of devices whose mt_rnn_backends entry is filled (else
 * NotImplementedError). */
int mt_lstm_layer(mt_tensor *x, mt_tensor *h0, mt_tensor *c0, mt_tensor *w_ih, mt_tensor *w_hh, mt_tensor *b_ih,
                  mt_tensor *b_hh, bool reverse, mt_tensor **out, mt_tensor **hn, mt_tensor **cn);

/* One GRU step's pointwise part (ops/gru_cell.c): h' from the input projection xp = x @ w_ih^T + b_ih
 * (B, 3H), the recurrent one hh = h @ w_hh^T + b_hh (B, 3H) and h (B, H), gate order (r, z, n);
 * one autograd node (GruCellBackward0). Float32/float64 CPU tensors. New ref, or NULL + error. */
mt_tensor *mt_gru_cell(mt_tensor *xp, mt_tensor *hh, mt_tensor *h);
/* its two halves without autograd, for the GRU layer's own backward through time: h' and the
 * activations act = [r z n hn] (B, 4H); the gradients from dL/dh' (those asked for, else NULL).
 * 0, or -1 + error. */
int mt_gru_cell_forward(mt_tensor *xp, mt_tensor *hh, mt_tensor *h, mt_tensor **out, mt_tensor **act);
int mt_gru_cell_backward(mt_tensor *g, mt_tensor *act, mt_tensor *h, bool need_dxp, bool need_dhh, bool need_dh,
                         mt_tensor **dxp, mt_tensor **dhh, mt_tensor **dh);

/* ---- per-device kernels ----
 * The op layer (allocation, GEMMs through mt_backend_of(x)->gemm, autograd) is device-neutral; the
 * elementwise parts of the layer run through the entry of the tensors' device. Kernel contract: all
 * pointers are device memory of dtype dt (MT_FLOAT32 or MT_FLOAT64), contiguous rows; a kernel
 * handles batch rows [b0, b1) of one step (row b of a (B, 4H) buffer at b * 4H, of a (B, H) buffer at
 * b * H). Kernels may run asynchronously on the device's stream (ordered with its gemm / copy).
 * Return 0, or -1 with mt_error set. */
typedef struct mt_rnn_backend {
    /* g: (B, 4H) pre-activations without bias, gate order (i, f, g, o), overwritten with the
     * activations (sigmoid, sigmoid, tanh, sigmoid of g + bias); bias (4H); cp = c_{t-1} (B, H);
     * writes c = f * cp + i * gg and h = o * tanh(c) (both (B, H)). */
    int (*lstm_fwd)(mt_dtype dt, int64_t b0, int64_t b1, int64_t H, void *g, const void *bias, const void *cp,
                    void *c, void *h);
    /* a: activations (B, 4H) as lstm_fwd left them; c = c_t, cp = c_{t-1}; dh = dout + dhr (both (B, H));
     * dc: dc_t in, dc_{t-1} out; dg (B, 4H): the gate pre-activation gradients out. */
    int (*lstm_bwd)(mt_dtype dt, int64_t b0, int64_t b1, int64_t H, const void *a, const void *c, const void *cp,
                    const void *dout, const void *dhr, void *dc, void *dg);
    /* db[j] = sum over r < rows of dg[r * G + j] (accumulated in double), j < G */
    int (*colsum)(mt_dtype dt, int64_t rows, int64_t G, const void *dg, void *db);
    /* Optional: enter = 1 before the layer's GEMMs, 0 after them. The CUDA entry switches cuBLAS to
     * the recurrent layers' TF32 setting (on by default, as PyTorch's cuDNN RNNs:
     * torch.backends.cudnn.allow_tf32) and back to the matmul one. */
    int (*gemm_scope)(int enter);
} mt_rnn_backend;

/* Indexed by mt_device_type; [MT_CPU] is filled statically (ops/rnn.c), the CUDA extension fills [MT_CUDA]. */
extern const mt_rnn_backend *mt_rnn_backends[MT_NUM_DEVICE_TYPES];

#endif
