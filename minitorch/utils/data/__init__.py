"""minitorch.utils.data: datasets, samplers and DataLoader, like torch.utils.data.

num_workers > 0 loads in worker processes (see _worker.py; batches come back in shared memory). Batches,
their order, drop_last and the default collation match torch's DataLoader. A DataLoader over a TensorDataset (or a
Subset of one, as random_split returns) with the default collate_fn and sampler builds each batch with one
index_select per tensor instead of one Python call per sample.
"""
import bisect
import collections.abc
import copy
import itertools
import math
import re
import sys
import warnings

import numpy as np

from ... import _C

# the top package under the name it was imported as (a second `import minitorch` beside `torch` would load a second
# copy of the Python layer whose Tensor class is not this one's)
_mt = sys.modules[__name__.split(".")[0]]

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset", "StackDataset", "Subset",
    "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "BatchSampler",
    "DataLoader", "default_collate", "default_convert", "get_worker_info",
]


def _is_tensor(x):
    return isinstance(x, _C.TensorBase)


# --------------------------------------------------------------------------------------------- datasets

class Dataset:
    """An abstract map-style dataset: subclasses define __getitem__ (and usually __len__)."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """An abstract iterable-style dataset: subclasses define __iter__."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The iterable datasets one after the other, chained on the fly."""

    def __init__(self, datasets):
        self.datasets = datasets

    def _check(self, d):
        if not isinstance(d, IterableDataset):
            raise AssertionError("ChainDataset only supports IterableDataset")
        return d

    def __iter__(self):
        for d in self.datasets:
            yield from self._check(d)

    def __len__(self):
        return sum(len(self._check(d)) for d in self.datasets)


class StackDataset(Dataset):
    """Samples of several equally long datasets side by side: a tuple (positional datasets) or a dict
    (keyword datasets) per index."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                             "input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(self._length != len(d) for d in parts):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        named = isinstance(self.datasets, dict)
        columns = {}
        for k, d in (self.datasets.items() if named else enumerate(self.datasets)):
            getitems = getattr(d, "__getitems__", None)
            if callable(getitems):
                items = getitems(indices)
                if len(items) != len(indices):
                    raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}")
            else:
                items = [d[i] for i in indices]
            columns[k] = items
        if named:
            return [{k: columns[k][j] for k in columns} for j in range(len(indices))]
        return [tuple(columns[k][j] for k in columns) for j in range(len(indices))]

    def __len__(self):
        return self._length


class TensorDataset(Dataset):
    """Dataset wrapping tensors; sample i is tuple(t[i] for t in tensors)."""

    def __init__(self, *tensors):
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)


class ConcatDataset(Dataset):
    """The concatenation of several map-style datasets."""

    @staticmethod
    def cumsum(sequence):
        r, s = [], 0
        for e in sequence:
            s += len(e)
            r.append(s)
        return r

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]


class Subset(Dataset):
    """The samples of `dataset` at `indices`."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[idx] for idx in indices])
        return [self.dataset[self.indices[idx]] for idx in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split `dataset` into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(int(math.floor(len(dataset) * frac)))
        remainder = len(dataset) - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = _mt.randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, indices[offset - length:offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]


# --------------------------------------------------------------------------------------------- samplers

class Sampler:
    """Base class of index samplers: iterate over dataset indices."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)

    def _index_tensor(self):
        return _mt.arange(len(self.data_source), dtype=_mt.int64)


class RandomSampler(Sampler):
    """Random permutation of the indices (or draws with replacement), from `generator` or the global RNG."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_tensor(self):
        """The epoch's order as one tensor (DataLoader's fast path; the draws __iter__ makes)."""
        n = len(self.data_source)
        if self.num_samples == n:
            return _mt.randperm(n, generator=self.generator)
        parts = [_mt.randperm(n, generator=self.generator) for _ in range(self.num_samples // n)]
        if self.num_samples % n:
            parts.append(_mt.randperm(n, generator=self.generator)[:self.num_samples % n])
        return _mt.cat(parts)

    def __iter__(self):
        n = len(self.data_source)
        if self.replacement:  # drawn 32 at a time, as torch: num_samples may be huge (minGPT asks for 1e10)
            for _ in range(self.num_samples // 32):
                yield from _mt.randint(0, n, (32,), dtype=_mt.int64, generator=self.generator).tolist()
            yield from _mt.randint(0, n, (self.num_samples % 32,), dtype=_mt.int64, generator=self.generator).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from _mt.randperm(n, generator=self.generator).tolist()
        if self.num_samples % n:
            yield from _mt.randperm(n, generator=self.generator)[:self.num_samples % n].tolist()

    def __len__(self):
        return self.num_samples


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probabilities proportional to weights (torch.multinomial)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = _mt.as_tensor(weights, dtype=_mt.float64)
        if weights.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(weights.shape)}")
        self.weights, self.num_samples, self.replacement, self.generator = weights, num_samples, replacement, generator

    def __iter__(self):
        drawn = _mt.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        yield from drawn.tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in _mt.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of batch_size."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


# --------------------------------------------------------------------------------------------- collation

_np_str_obj_array_pattern = re.compile(r"[SaUO]")
_collate_err = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _like_sequence(template, items):
    """items as a sequence of template's type: a copy of a mutable one with its items replaced, else
    type(template)(items); a plain list when the type cannot be built that way (as torch)"""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return items


def default_convert(data):
    """Convert NumPy arrays (and NumPy scalars) inside `data` to tensors; the collate_fn when batching is off."""
    elem_type = type(data)
    if _is_tensor(data):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ == "ndarray" and _np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return _mt.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _like_sequence(data, [default_convert(d) for d in data])
    return data


def default_collate(batch):
    """Collate a list of samples into a batch, as torch's default_collate: tensors are stacked along a new
    dim 0, NumPy arrays/scalars and Python numbers become tensors (floats float64, ints int64, bools bool),
    strings stay lists, and tuples (-> lists), lists, namedtuples and dicts are collated per field."""
    elem = batch[0]
    elem_type = type(elem)
    if _is_tensor(elem):
        return _mt.stack(list(batch), 0)
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if elem_type.__name__ in ("ndarray", "memmap"):
            if _np_str_obj_array_pattern.search(elem.dtype.str) is not None:
                raise TypeError(_collate_err.format(elem.dtype))
            return default_collate([_mt.as_tensor(b) for b in batch])
        if elem.shape == ():  # NumPy scalar
            return _mt.as_tensor(np.asarray(batch))
    if isinstance(elem, float):
        return _mt.tensor(batch, dtype=_mt.float64)
    if isinstance(elem, int):
        return _mt.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: default_collate([d[key] for d in batch]) for key in elem})
                return clone
            return elem_type({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        return _like_sequence(elem, [default_collate(samples) for samples in transposed])
    raise TypeError(_collate_err.format(elem_type))


def get_worker_info():
    """In a DataLoader worker process: its WorkerInfo (id, num_workers, seed, dataset); None elsewhere."""
    from ._worker import get_worker_info as info

    return info()


# --------------------------------------------------------------------------------------------- DataLoader

def _tensor_source(dataset):
    """(tensors, base index tensor or None) when `dataset` is a TensorDataset or a chain of Subsets of one
    (exact types only, so that overridden __getitem__s are honoured); otherwise None."""
    chain = []
    while type(dataset) is Subset:
        chain.append(dataset.indices)
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset or not dataset.tensors:
        return None
    base = None
    for indices in reversed(chain):  # innermost Subset first
        try:
            idx = indices if _is_tensor(indices) else _mt.tensor(list(indices), dtype=_mt.int64)
        except (TypeError, ValueError, OverflowError, RuntimeError):
            return None
        if idx.dim() != 1 or idx.dtype not in (_mt.int64, _mt.int32):
            return None
        idx = idx.to(_mt.int64)
        base = idx if base is None else base.index_select(0, idx)
    return dataset.tensors, base


class _DataLoaderIter:
    def __init__(self, loader):
        self._loader = loader
        # the workers' base seed, drawn first whatever num_workers is, as torch does (so the sampler's shuffle
        # draws the same numbers with and without workers)
        loader._base_seed = int(_mt.empty((), dtype=_mt.int64).random_(generator=loader.generator).item())
        self._it = loader._generate()
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __next__(self):
        data = next(self._it)
        self._num_yielded += 1
        return data

    def __len__(self):
        return len(self._loader)


class DataLoader:
    """Iterate over a dataset in batches, as torch.utils.data.DataLoader (num_workers > 0: worker processes)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self._worker_pool = None
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.generator = generator

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            self._dataset_kind = "map"
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None and self._dataset_kind == "map":
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and self._dataset_kind == "map":
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        elif batch_size is not None and self._dataset_kind == "iterable":
            BatchSampler(range(0), batch_size, drop_last)  # the same argument checks as torch

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._dataset_kind == "iterable" and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self):
        if self._dataset_kind == "iterable":
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        if self._auto_collation:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        return _DataLoaderIter(self)

    def _fast_source(self):
        if (self._dataset_kind != "map" or self.collate_fn is not default_collate
                or type(self.batch_sampler) is not BatchSampler or self.batch_sampler.sampler is not self.sampler):
            return None
        if type(self.sampler) is RandomSampler:
            if self.sampler.data_source is not self.dataset or self.sampler.replacement:
                return None  # (draws with replacement come 32 at a time, as torch's: there may be 1e10 of them)
        elif type(self.sampler) is not SequentialSampler or self.sampler.data_source is not self.dataset:
            return None
        return _tensor_source(self.dataset)

    def _generate(self):
        if self.num_workers > 0:
            from . import _worker

            yield from _worker.generate(self)
            return
        if self._dataset_kind == "iterable":
            yield from self._generate_iterable()
            return
        source = self._fast_source()
        if source is not None:
            yield from self._generate_fast(*source)
            return
        dataset, collate_fn = self.dataset, self.collate_fn
        if self._auto_collation:
            getitems = getattr(dataset, "__getitems__", None)
            for indices in self.batch_sampler:
                data = getitems(indices) if callable(getitems) else [dataset[i] for i in indices]
                yield collate_fn(data)
        else:
            for i in self.sampler:
                yield collate_fn(dataset[i])

    def _generate_fast(self, tensors, base):
        """One index_select per tensor per batch: the batch indices are a slice of one int64 index tensor."""
        order = self.sampler._index_tensor()
        if base is not None:
            order = base.index_select(0, order)
        n, bs = order.shape[0], self.batch_sampler.batch_size
        stop = n - n % bs if self.batch_sampler.drop_last else n
        per_device = {}
        for start in range(0, stop, bs):
            idx = order[start:start + bs]
            batch = []
            for t in tensors:
                dev = t.device
                if dev.type != "cpu":
                    key = str(dev)
                    if key not in per_device:
                        per_device[key] = order.to(dev)
                    i = per_device[key][start:start + bs]
                else:
                    i = idx
                batch.append(t.index_select(0, i))
            yield batch

    def _generate_iterable(self):
        collate_fn = self.collate_fn
        if self.batch_size is None:
            for item in self.dataset:
                yield collate_fn(item)
            return
        it = iter(self.dataset)
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield collate_fn(batch)


from . import dataloader, dataset, distributed, sampler  # noqa: E402,F401  (torch's submodule paths)
from .distributed import DistributedSampler  # noqa: E402,F401

__all__.append("DistributedSampler")
