"""minitorch.fx.passes.shape_prop (torch.fx.passes.shape_prop): run a GraphModule on sample inputs and record
each node's result shape / dtype in node.meta['tensor_meta'] (a TensorMetadata) and its type in meta['type']."""
import traceback
from typing import Any, NamedTuple, Optional, Tuple

from ..interpreter import Interpreter
from ..node import map_aggregate

__all__ = ["TensorMetadata", "ShapeProp"]


class TensorMetadata(NamedTuple):
    shape: Any  # minitorch.Size
    dtype: Any
    requires_grad: bool
    stride: Tuple[int, ...]
    memory_format: Optional[Any]  # always None: minitorch has no memory formats (torch: torch.contiguous_format, ...)
    is_quantized: bool
    qparams: dict


def _extract_tensor_metadata(result, include_contiguity=True):
    return TensorMetadata(result.shape, result.dtype, result.requires_grad, result.stride(), None, False, {})


class ShapeProp(Interpreter):
    """ShapeProp(gm).propagate(*sample_inputs) runs gm node by node and records each result's TensorMetadata."""

    def __init__(self, gm, fake_mode=None):
        if fake_mode is not None:
            raise NotImplementedError("minitorch.fx ShapeProp: fake_mode is not supported (minitorch has no fake "
                                      "tensors)")
        super().__init__(gm)
        self.fake_module = None
        self.fake_mode = None
        self.real_module = self.module

    def run_node(self, n):
        from ..._tensor import Tensor

        try:
            result = super().run_node(n)
        except Exception as e:
            traceback.print_exc()
            raise RuntimeError(f"ShapeProp error for: node={n.format_node()} with meta={n.meta}") from e
        found_tensor = False

        def extract_tensor_meta(obj):
            nonlocal found_tensor
            if isinstance(obj, Tensor):
                found_tensor = True
                return _extract_tensor_metadata(obj)
            return obj

        meta = map_aggregate(result, extract_tensor_meta)
        if found_tensor:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args):
        """Run the module on args, recording shapes; returns its result."""
        return super().run(*args)
