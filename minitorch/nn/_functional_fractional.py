"""F.fractional_max_pool2d / 3d (Graham's fractional max pooling): torch's pseudo-random window starts, computed
from the per-plane samples in [0, 1) exactly as ATen does (in the input's floating type), then a gather + max, so
that the values, the indices and the gradient (through gather) match torch's for the same _random_samples."""
import numpy as np

from .._C import TensorBase

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
           "fractional_max_pool3d_with_indices"]


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _intervals(sample, input_size, output_size, pool_size):
    """ATen's generate_intervals for an array of samples: (planes,) -> (planes, output_size) window starts."""
    dt = sample.dtype
    seq = np.zeros(sample.shape + (output_size,), dtype=np.int64)
    if output_size > 1:
        alpha = dt.type(input_size - pool_size) / dt.type(output_size - 1)
        i = np.arange(output_size - 1, dtype=dt)
        # static_cast<int> truncates toward zero; the operands are >= 0
        seq[..., :-1] = ((i + sample[..., None]) * alpha).astype(np.int64) - \
            (sample[..., None] * alpha).astype(np.int64)[..., :1]
    if output_size > 0:
        seq[..., -1] = input_size - pool_size
    return seq


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, n):
    name = f"fractional_max_pool{n}d"
    if not isinstance(input, TensorBase):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got: {list(input.shape)}")
    kernel_size = _ntuple(kernel_size, n)
    spatial = tuple(input.shape[-n:])
    if output_size is None:
        if len(output_ratio) > n:  # a bare float fails here with TypeError, as in torch's F (the module pairs it)
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = _ntuple(output_ratio, n)
        output_size = [int(s * r) for s, r in zip(spatial, ratio)]
    output_size = _ntuple(output_size, n)
    if len(kernel_size) != n:
        raise RuntimeError(f"{name}(): pool_size must be {n}-dimensional")
    if len(output_size) != n:
        raise RuntimeError(f"{name}(): output_size must be {n}-dimensional")
    dims = ["time", "height", "width"][-n:]
    for d, o, k, s in zip(dims, output_size, kernel_size, spatial):
        if o + k - 1 > s:
            where = f"{name}()" if n == 2 else f"{name}_out()"  # ATen's two spellings
            raise RuntimeError(f"{where}: pool {d} {k} too large relative to input {d} {s}")
    batched = input.dim() == n + 2
    x = input if batched else input.unsqueeze(0)
    nb, c = x.shape[0], x.shape[1]
    if _random_samples is None:
        from .._creation import rand
        _random_samples = rand(nb, c, n, dtype=input.dtype, device=input.device)
    samples = _random_samples.detach().cpu().numpy()
    if samples.shape[0] < nb or samples.shape[1] != c or samples.shape[2] != n:
        raise RuntimeError(f"Expected _random_samples to have shape ({nb}, {c}, {n}), got "
                           f"{tuple(_random_samples.shape)}")
    samples = samples[:nb]
    # ATen reads the plane's samples as (w, h) for 2-d and (t, h, w) for 3-d
    order = [1, 0] if n == 2 else [0, 1, 2]
    starts = [_intervals(samples[..., order[d]], spatial[d], output_size[d], kernel_size[d]) for d in range(n)]
    # the flat (row-major) input index of every window element: (nb, c, *output, *kernel)
    flat = np.zeros((nb, c) + output_size + kernel_size, dtype=np.int64)
    stride = 1
    for d in reversed(range(n)):
        pos = starts[d][..., None] + np.arange(kernel_size[d])  # (nb, c, out_d, k_d)
        shape = [nb, c] + [1] * (2 * n)
        shape[2 + d] = output_size[d]
        shape[2 + n + d] = kernel_size[d]
        flat = flat + pos.reshape(shape) * stride
        stride *= spatial[d]
    from .._creation import tensor
    idx = tensor(flat.reshape(nb, c, -1), device=input.device)
    windows = x.flatten(2).gather(2, idx).view(nb, c, int(np.prod(output_size)), int(np.prod(kernel_size)))
    out, arg = windows.max(-1)  # first maximum in the window's row-major order, as ATen
    indices = idx.view(nb, c, int(np.prod(output_size)), -1).gather(3, arg.unsqueeze(-1)).squeeze(-1)
    out = out.view((nb, c) + output_size)
    indices = indices.view((nb, c) + output_size)
    if not batched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return out, indices


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 2)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    out = _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 2)
    return out if return_indices else out[0]


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 3)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    out = _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 3)
    return out if return_indices else out[0]
