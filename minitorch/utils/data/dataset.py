"""minitorch.utils.data.dataset: the dataset classes, at torch.utils.data.dataset's path."""
from . import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset,  # noqa: F401
               TensorDataset, random_split)

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset", "Subset", "TensorDataset",
           "random_split"]
