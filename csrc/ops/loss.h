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
 * Targets outside [0, C) raise IndexError "Target k is out of bounds.". CPU tensors, and devices whose
 * mt_loss_backends entry has ce_forward. */
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

/* ---- per-device kernels (the CPU kernels run inline in loss.c; a device port fills its entry) ----
 * Kernel contract: the op layer has checked every argument; all tensors are contiguous and on the device;
 * x is [N, C, inner] of a floating dtype, tg int64 [N * inner], w NULL or (C) of x's dtype. An entry may be NULL
 * (that loss then raises NotImplementedError on the device). Kernels return 0, or -1 with mt_error set. */
typedef struct mt_ce_args {
    int64_t N, C, inner;
    int64_t ignore_index;
    double eps;    /* label smoothing (0 for nll_loss) */
    int reduction; /* MT_REDUCTION_* */
    bool logits;   /* cross_entropy (x: logits) or nll_loss (x: log-probabilities) */
} mt_ce_args;

typedef struct mt_loss_backend {
    /* stats: float64 [2 * N * inner + 2]: per position (row max, log of the sum of exps) (logits only), then
     * (summed weight of the non-ignored targets, summed class weights (C without weight)). out: the per-position
     * losses [N * inner] in x's dtype (reduction none) or one element (the sum; divided by the summed target
     * weight for mean). A target outside [0, C) other than ignore_index may be reported asynchronously (the error
     * is raised at the device's next synchronisation or next loss call, as torch's device-side assert). */
    int (*ce_forward)(const mt_ce_args *a, const mt_tensor *x, const mt_tensor *tg, const mt_tensor *w,
                      mt_tensor *stats, mt_tensor *out);
    /* gi: [N, C, inner]; go: per-position incoming gradients [N * inner] (reduction none) or one element; stats as
     * written by ce_forward; x NULL for nll_loss. */
    int (*ce_backward)(const mt_ce_args *a, mt_tensor *gi, const mt_tensor *x, const mt_tensor *tg,
                       const mt_tensor *w, const mt_tensor *stats, const mt_tensor *go);
    /* elementwise losses over n elements (x, y, w, pw of one floating dtype; w / pw may be NULL). out: [n]
     * (reduction none) or one element (sum, or sum / n for mean). For MT_LOSS_BCE the kernel checks that x and y
     * lie in [0, 1] (raising RuntimeError "all elements of input/target should be between 0 and 1"). */
    int (*pointwise_forward)(int kind, int reduction, int64_t n, const mt_tensor *x, const mt_tensor *y,
                             const mt_tensor *w, const mt_tensor *pw, mt_tensor *out);
    /* gx / gy (either may be NULL) from go: [n] (reduction none) or one element (divided by n for mean). */
    int (*pointwise_backward)(int kind, int reduction, int64_t n, const mt_tensor *x, const mt_tensor *y,
                              const mt_tensor *w, const mt_tensor *pw, const mt_tensor *go, mt_tensor *gx,
                              mt_tensor *gy);
} mt_loss_backend;

/* Indexed by mt_device_type; [MT_CPU] stays NULL (the CPU path is inline), the CUDA extension fills [MT_CUDA]. */
extern const mt_loss_backend *mt_loss_backends[MT_NUM_DEVICE_TYPES];

#endif
