/* Convolution and pooling of minitorch.nn (CPU kernels and their own backward, in ops/conv.c and ops/pool.c).
 *
 * Ownership as everywhere in the core: tensor arguments are borrowed (bias may be NULL), results are new
 * references, NULL (or -1) with the core error set on failure. Inputs are batched: [N, C, *spatial] with 1 to 3
 * spatial dims; the Python layer adds and removes the batch dim of unbatched input, pads for the padding modes
 * other than zeros and for padding='same'. */
#ifndef MT_CONV_H
#define MT_CONV_H

#include "../core/mt.h"

#define MT_CONV_MAX_SPATIAL 3

typedef struct mt_conv_params {
    int nsp; /* spatial dims: 1, 2 or 3 */
    int64_t stride[MT_CONV_MAX_SPATIAL], padding[MT_CONV_MAX_SPATIAL], dilation[MT_CONV_MAX_SPATIAL];
    int64_t output_padding[MT_CONV_MAX_SPATIAL]; /* transposed only */
    bool transposed;
    int64_t groups;
} mt_conv_params;

/* PyTorch's convolution: weight [C_out, C_in / groups, *k] (transposed: [C_in, C_out / groups, *k]), bias
 * [C_out] or NULL. Forward and both gradients are im2col + GEMM per sample and group (a 1x1 stride-1
 * convolution skips the im2col). One autograd node, ConvolutionBackward0. float32, float64, int32, int64
 * (no gradient for the integer types), CPU only; PyTorch's shape, dtype and argument errors. */
mt_tensor *mt_convolution(mt_tensor *input, mt_tensor *weight, mt_tensor *bias, const mt_conv_params *p);
/* The argument checks of mt_convolution alone (any device): 0, or -1 with PyTorch's error. The Python layer runs
 * them before composing the convolution of CUDA tensors from unfold and matmul. */
int mt_convolution_check(mt_tensor *input, mt_tensor *weight, mt_tensor *bias, const mt_conv_params *p);

enum { MT_POOL_MAX, MT_POOL_AVG, MT_POOL_ADAPTIVE_MAX, MT_POOL_ADAPTIVE_AVG };

typedef struct mt_pool_params {
    int nsp; /* spatial dims: 2 or 3 (1-d pooling is the 2-d kernel on an unsqueezed input) */
    int64_t kernel[MT_CONV_MAX_SPATIAL], stride[MT_CONV_MAX_SPATIAL], padding[MT_CONV_MAX_SPATIAL];
    int64_t dilation[MT_CONV_MAX_SPATIAL];
    int64_t output_size[MT_CONV_MAX_SPATIAL]; /* adaptive only */
    bool ceil_mode, count_include_pad;
    int64_t divisor_override; /* 0: none */
} mt_pool_params;

/* Pooling of input [N, C, *sp] or [C, *sp] (unbatched) over its last nsp dims. *out gets the result; for the max
 * kinds *indices (may be NULL to not ask) gets int64 flat indices into each input plane, as PyTorch's
 * return_indices. Nodes: MaxPool2DWithIndicesBackward0, AvgPool2DBackward0, AdaptiveMaxPool2DBackward0,
 * AdaptiveAvgPool2DBackward0 (3D for nsp 3). Returns 0 or -1. out NULL: only the argument checks (any device). */
int mt_pooling(int kind, mt_tensor *input, const mt_pool_params *p, mt_tensor **out, mt_tensor **indices);

#endif
