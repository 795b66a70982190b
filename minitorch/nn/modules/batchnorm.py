"""BatchNorm1d/2d/3d and SyncBatchNorm (batch statistics over all the ranks of a process group in training; with
no process group initialised, or in eval mode, it is BatchNorm)."""
import sys

from ...autograd.function import Function
from ..._creation import empty, ones, tensor, zeros
from ..._types import int64
from .. import _functional_norm as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]


def _factory(device, dtype):
    return {k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None}


class _NormBase(Module):
    """Common base of batch and instance norm: affine weight/bias, running_mean/running_var/num_batches_tracked."""

    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        kw = _factory(device, dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = Parameter(empty(num_features, **kw))
            if bias:
                self.bias = Parameter(empty(num_features, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, **kw))
            self.register_buffer("running_var", ones(num_features, **kw))
            self.register_buffer("num_batches_tracked",
                                 tensor(0, dtype=int64, **{k: v for k, v in kw.items() if k != "dtype"}))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs, assign=False):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints from before num_batches_tracked existed
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                                   else tensor(0, dtype=int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs, assign)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        return self._batch_norm(input)

    def _batch_norm(self, input):
        exponential_average_factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
                if self.momentum is None:  # cumulative moving average
                    exponential_average_factor = 1.0 / float(self.num_batches_tracked)
                else:
                    exponential_average_factor = self.momentum
        if self.training:
            bn_training = True
        else:
            bn_training = self.running_mean is None and self.running_var is None
        use_buffers = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if use_buffers else None,
                            self.running_var if use_buffers else None, self.weight, self.bias, bn_training,
                            exponential_average_factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input."""

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input."""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) input."""

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, *) input whose training statistics are those of the whole batch across the ranks
    of process_group (the default group when None): each rank normalises its part with the global mean and
    variance, the running statistics follow the global ones, and backward gives every rank the gradients of
    the global batch (torch's SyncBatchNorm). Without an initialised process group, with one rank, or in eval
    mode it is BatchNorm."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        exponential_average_factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                exponential_average_factor = 1.0 / float(self.num_batches_tracked)
            else:
                exponential_average_factor = self.momentum
        bn_training = True if self.training else (self.running_mean is None and self.running_var is None)
        running_mean = self.running_mean if not self.training or self.track_running_stats else None
        running_var = self.running_var if not self.training or self.track_running_stats else None
        dist = sys.modules.get("minitorch.distributed")  # never imported: no process group either
        need_sync = bn_training and self.training and dist is not None and dist.is_initialized()
        if need_sync:
            process_group = self.process_group if self.process_group else dist.group.WORLD
            world_size = dist.get_world_size(process_group)
            need_sync = world_size > 1
        if not need_sync:
            return F.batch_norm(input, running_mean, running_var, self.weight, self.bias, bn_training,
                                exponential_average_factor, self.eps)
        return _SyncBatchNormFunction.apply(input, self.weight, self.bias, running_mean, running_var, self.eps,
                                            exponential_average_factor, process_group, world_size)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replaces every BatchNorm*d in module by a SyncBatchNorm sharing its parameters and buffers."""
        module_output = module
        if isinstance(module, _BatchNorm):
            module_output = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                          module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                module_output.weight = module.weight
                module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return module_output


class _SyncBatchNormFunction(Function):
    """torch's sync_batch_norm: forward all-gathers each rank's per-channel (mean, biased variance, count) and
    combines them into the global statistics; backward all-reduces the per-channel sums of dy and dy*(x-mean)
    that the input gradient of the global batch needs (weight and bias get this rank's part: DDP averages
    them)."""

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, eps, momentum, process_group, world_size):
        from ... import cat, distributed as dist
        from ..._types import float64

        input = input.contiguous()
        c = input.shape[1]
        dims = [0] + list(range(2, input.dim()))
        count = input.numel() // c
        if count > 0:
            x = input.to(float64)
            mean = x.mean(dims)
            var = ((x - mean.view(_channel_shape(input))) ** 2).mean(dims)
            combined = cat([mean, var, tensor([float(count)], dtype=float64, device=input.device)])
        else:  # an empty part still joins the collective so that the others do not wait
            combined = zeros(2 * c + 1, dtype=float64, device=input.device)
        gathered = zeros(world_size * (2 * c + 1), dtype=float64, device=input.device)
        dist.all_gather_into_tensor(gathered, combined, group=process_group)
        gathered = gathered.view(world_size, 2 * c + 1)
        means, variances, counts = gathered[:, :c], gathered[:, c:2 * c], gathered[:, 2 * c:]
        total = float(counts.sum())
        g_mean = (means * counts).sum(0) / total
        g_var = ((variances + (means - g_mean) ** 2) * counts).sum(0) / total
        invstd = (g_var + eps).rsqrt()
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_((g_mean * momentum).to(running_mean.dtype))
        if running_var is not None:
            unbiased = g_var * (total / (total - 1)) if total > 1 else g_var
            running_var.mul_(1 - momentum).add_((unbiased * momentum).to(running_var.dtype))
        mean32, invstd32 = g_mean.to(input.dtype), invstd.to(input.dtype)
        ctx.save_for_backward(input, weight, mean32, invstd32)
        ctx.process_group, ctx.total = process_group, total
        shape = _channel_shape(input)
        out = (input - mean32.view(shape)) * invstd32.view(shape)
        if weight is not None:
            out = out * weight.view(shape)
        if bias is not None:
            out = out + bias.view(shape)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        from ... import cat, distributed as dist

        x, weight, mean, invstd = ctx.saved_tensors
        grad_output = grad_output.contiguous()
        c = x.shape[1]
        shape = _channel_shape(x)
        dims = [0] + list(range(2, x.dim()))
        grad_input = grad_weight = grad_bias = None
        if x.numel() > 0:
            xmu = x - mean.view(shape)
            sum_dy = grad_output.sum(dims)
            sum_dy_xmu = (grad_output * xmu).sum(dims)
            if weight is not None and ctx.needs_input_grad[1]:
                grad_weight = sum_dy_xmu * invstd
            if ctx.needs_input_grad[2]:
                grad_bias = sum_dy
            if ctx.needs_input_grad[0]:
                combined = cat([sum_dy, sum_dy_xmu])
                dist.all_reduce(combined, dist.ReduceOp.SUM, ctx.process_group)
                mean_dy = combined[:c] / ctx.total
                mean_dy_xmu = combined[c:] / ctx.total
                scale = invstd if weight is None else invstd * weight
                grad_input = ((grad_output - mean_dy.view(shape) - xmu * (invstd * invstd * mean_dy_xmu).view(shape))
                              * scale.view(shape))
        elif ctx.needs_input_grad[0]:  # join the all-reduce the other ranks make
            dist.all_reduce(zeros(2 * c, dtype=x.dtype, device=x.device), dist.ReduceOp.SUM, ctx.process_group)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None, None


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.dim() - 2)
