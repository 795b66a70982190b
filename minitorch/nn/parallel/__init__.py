"""minitorch.nn.parallel: DataParallel on minitorch's one device."""
from ..modules.module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Runs `module` on its one device (minitorch drives a single GPU, so there is nothing to scatter); the
    wrapped module is `self.module`, so state_dict keys carry the "module." prefix, as in PyTorch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if device_ids is not None and len(device_ids) > 1:
            raise NotImplementedError("DataParallel over several devices: minitorch drives one device")
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


from .distributed import DistributedDataParallel  # noqa: E402

__all__ += ["DistributedDataParallel"]
