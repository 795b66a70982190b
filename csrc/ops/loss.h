/* Fused losses of minitorch.nn (CPU kernels and their own backward, in ops/loss.c).
 *
 * Ownership as everywhere in the core: tensor arguments are borrowed (weight may be NULL),
 * the result is a new reference, NULL with the core error set on failure. */
#ifndef MT_LOSS_H
#define MT_LOSS_H

#include "../core/mt.h"

/* PyTorch's Reduction enum (torch.nn._reduction.get_enum): 'none' 0, 'mean' 1, 'sum' 2 */
enum { MT_REDUCTION_NONE = 0, MT_REDUCTION_MEAN = 1, MT_REDUCTION_SUM = 2 };

/* Cross-entropy of logits `input` ((C), (N, C) or (N, C, d1, ...)) against int64 class indices
 * `target` ((), (N) or (N, d1, ...)): log-softmax over dim 1 and the gather in one pass per row,
 * optional per-class `weight` (C), targets equal to ignore_index contribute nothing, label
 * smoothing as torch's. 'mean' divides by the summed weights of the non-ignored targets.
 * Autograd: one node (torch's top node name: NllLossBackward0, NllLoss2DBackward0 for ndim >= 3,
 * AddBackward0 with label smoothing) whose backward is softmax - one-hot in one pass.
 * Targets outside [0, C) raise IndexError "Target k is out of bounds.". CPU tensors only. */
mt_tensor *mt_cross_entropy(mt_tensor *input, mt_tensor *target, mt_tensor *weight, int64_t ignore_index,
                            double label_smoothing, int reduction);

/* Negative log-likelihood of log-probabilities `input` (same shapes and rules as above). */
mt_tensor *mt_nll_loss(mt_tensor *input, mt_tensor *target, mt_tensor *weight, int64_t ignore_index, int reduction);

/* Elementwise losses with one fused kernel and their own backward (gradients for input and target):
 *   MT_LOSS_MSE         (x - y)^2                                        node MseLossBackward0
 *   MT_LOSS_BCE         -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100))
 *                       (x and y must lie in [0, 1])                     node BinaryCrossEntropyBackward0
 *   MT_LOSS_BCE_LOGITS  w ((1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x))), computed stably
 *                                                                        node BinaryCrossEntropyWithLogitsBackward0
 * target must have input's shape; weight / pos_weight (may be NULL; not differentiated) must have
 * it too (the Python layer expands them). 'mean' divides by the number of elements. CPU only. */
enum { MT_LOSS_MSE, MT_LOSS_BCE, MT_LOSS_BCE_LOGITS };
mt_tensor *mt_pointwise_loss(int kind, mt_tensor *input, mt_tensor *target, mt_tensor *weight, mt_tensor *pos_weight,
                             int reduction);

#endif
