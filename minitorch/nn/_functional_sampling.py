"""F.affine_grid and F.grid_sample (the spatial-transformer pair), composed from tensor ops so that autograd
reaches both the input and the grid. PyTorch's coordinate rules (aten/src/ATen/native/GridSampler.h):
unnormalise, then pad ('zeros' / 'border' / 'reflection'), then interpolate ('bilinear' / 'nearest')."""


import warnings

from .._C import stack, where
from .._creation import arange, ones, tensor
from .._types import int64
from ..autograd.function import Function

__all__ = ["affine_grid", "grid_sample"]


def _default_align_corners(align_corners):
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=3)
        return False
    return bool(align_corners)


def _base_coords(n, align_corners, like):
    """The n pixel centres in [-1, 1] (align_corners: the corner pixels' centres at -1 and 1)."""
    if n <= 1:
        return tensor([0.0], dtype=like.dtype, device=like.device) if n == 1 else \
            tensor([], dtype=like.dtype, device=like.device)
    r = arange(n, dtype=like.dtype, device=like.device)
    if align_corners:
        return r * (2.0 / (n - 1)) - 1.0
    return (r * 2.0 + 1.0) / n - 1.0


def affine_grid(theta, size, align_corners=None):
    """theta [N, 2, 3] and size (N, C, H, W) -> grid [N, H, W, 2]; theta [N, 3, 4] and (N, C, D, H, W) -> [N, D, H, W, 3]."""
    align_corners = _default_align_corners(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{list(theta.shape)}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{list(theta.shape)}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                      "affine_grid for details.", stacklevel=2)
    if theta.shape[0] != size[0]:
        raise ValueError(f"Expected theta to have the same batch size as size ({size[0]}). Got {theta.shape[0]}")
    # base [*spatial, k + 1]: (x, y[, z], 1), x along the last dim
    axes = [_base_coords(s, align_corners, theta) for s in reversed(spatial)]  # x first
    k = len(spatial)
    cols = []
    for i, a in enumerate(axes):
        shape = [1] * k
        shape[k - 1 - i] = spatial[k - 1 - i]
        cols.append(a.reshape(shape).expand(*spatial))
    cols.append(ones(*spatial, dtype=theta.dtype, device=theta.device))
    base = stack(cols, -1).reshape(1, -1, k + 1)                     # [1, prod(spatial), k + 1]
    grid = base.matmul(theta.transpose(1, 2))                         # [N, prod(spatial), k]
    return grid.reshape(size[0], *spatial, k)


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1.0) * ((size - 1) / 2.0)
    return ((coord + 1.0) * size - 1.0) / 2.0


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return coord * 0.0
    lo = twice_low / 2.0
    span = (twice_high - twice_low) / 2.0
    c = (coord - lo).abs()
    extra = c.fmod(span)
    flips = (c / span).floor()
    even = flips.remainder(2) == 0
    return where(even, extra + lo, span - extra + lo)


def _clip(c, size):
    """c clipped to [0, size - 1]; like torch's clip_coordinates_set_grad, no gradient at or past the limits"""
    inside = (c > 0) & (c < size - 1)
    return where(inside, c, c.detach().clamp(0, size - 1))


def _source_index(coord, size, padding_mode, align_corners):
    c = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        c = _clip(c, size)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        c = _clip(c, size)
    return c


class _ZeroGradTo(Function):
    """out unchanged, and a zero gradient for `grid` (torch's nearest mode reports zeros, not no gradient)."""

    @staticmethod
    def forward(ctx, out, grid):
        ctx.grid_shape = tuple(grid.shape)
        return out.clone()

    @staticmethod
    def backward(ctx, g):
        from .._creation import zeros
        return g, zeros(ctx.grid_shape, dtype=g.dtype, device=g.device)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """input [N, C, H, W] sampled at grid [N, Ho, Wo, 2] ((x, y) in [-1, 1]) -> [N, C, Ho, Wo]."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    align_corners = _default_align_corners(align_corners)
    if input.dim() == 5:
        raise NotImplementedError("grid_sample: 5-D (volumetric) input is not supported yet, only 4-D")
    if input.dim() != 4 or grid.dim() != 4:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode='bicubic' is not supported yet")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if not input.is_floating_point():
        raise RuntimeError(f"\"grid_sampler_2d_cpu\" not implemented for '{input.type().split('.')[-1][:-6]}'")
    n, c, h, w = input.shape
    ho, wo = grid.shape[1], grid.shape[2]
    ix = _source_index(grid[..., 0], w, padding_mode, align_corners).reshape(n, 1, ho * wo)
    iy = _source_index(grid[..., 1], h, padding_mode, align_corners).reshape(n, 1, ho * wo)
    flat = input.reshape(n, c, h * w)

    def tap(xi, yi):
        """input at integer positions (xi, yi) [n, 1, L] (no gradient), zero outside the image"""
        valid = (xi >= 0) & (xi <= w - 1) & (yi >= 0) & (yi <= h - 1)
        idx = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).to(int64)
        vals = flat.gather(2, idx.expand(n, c, ho * wo))
        return where(valid, vals, 0.0)

    if mode == "nearest":
        out = tap(ix.detach().round(), iy.detach().round())
        if grid.requires_grad:
            out = _ZeroGradTo.apply(out, grid)
    else:
        x0, y0 = ix.detach().floor(), iy.detach().floor()
        x1, y1 = x0 + 1, y0 + 1
        wx1, wy1 = ix - x0, iy - y0
        wx0, wy0 = 1.0 - wx1, 1.0 - wy1
        out = (tap(x0, y0) * (wx0 * wy0) + tap(x1, y0) * (wx1 * wy0) + tap(x0, y1) * (wx0 * wy1)
               + tap(x1, y1) * (wx1 * wy1))
    return out.reshape(n, c, ho, wo)



