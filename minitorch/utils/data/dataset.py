"""minitorch.utils.data.dataset: the dataset classes, at torch.utils.data.dataset's path."""
from . import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split  # noqa: F401

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset", "random_split"]
