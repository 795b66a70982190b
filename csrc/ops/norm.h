/* Fused batch normalisation of minitorch.nn (CPU kernel and its own backward, in ops/norm.c).
 *
 * Ownership as everywhere in the core: tensor arguments are borrowed (weight, bias, running_mean, running_var may
 * be NULL), results are new references; -1 with the core error set on failure. */
#ifndef MT_NORM_H
#define MT_NORM_H

#include "../core/mt.h"

/* y = (x - mean) / sqrt(var + eps) * weight + bias over every dim of input [N, C, *] but dim 1. training: mean and
 * var are the batch's (biased variance), returned in *mean and *var ([C], input's dtype, no autograd) so the caller
 * can move its running buffers; else running_mean and running_var ([C]) are used and *mean, *var are NULL. One
 * autograd node, NativeBatchNormBackward0, differentiating input, weight and bias (the statistics in training).
 * float32 / float64 CPU tensors, weight / bias / running stats of input's dtype and C elements (the Python layer
 * checks them with PyTorch's errors). */
int mt_batch_norm(mt_tensor *input, mt_tensor *weight, mt_tensor *bias, mt_tensor *running_mean,
                  mt_tensor *running_var, bool training, double eps, mt_tensor **out, mt_tensor **mean,
                  mt_tensor **var);

/* layer_norm over the last k dims of input (float32 / float64, CPU): weight and bias NULL or of those k dims' N
 * elements and input's dtype (the Python layer checks them with PyTorch's errors); one node,
 * NativeLayerNormBackward0, differentiating input, weight and bias; new reference or NULL with the error set. */
mt_tensor *mt_layer_norm(mt_tensor *input, mt_tensor *weight, mt_tensor *bias, int k, double eps);

#endif
