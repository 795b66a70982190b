"""minitorch.utils.data.distributed: DistributedSampler, torch's algorithm.

Each of num_replicas ranks takes every num_replicas-th index (from rank) of the dataset's indices padded
(by wrapping around) to a multiple of num_replicas, or cut to one with drop_last. With shuffle=True the
indices are minitorch.randperm(len(dataset)) from a Generator seeded with seed + epoch, as torch does; the
permutation comes from minitorch's generator, which is not torch's Mersenne Twister, so the shuffled order
differs from torch's for the same seed (it is the same on every rank, which is what the sampler needs).
num_replicas and rank default to the default process group's world size and rank (minitorch.distributed),
as in torch; with no process group initialised they must be given."""
import math

from . import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Sampler restricting data loading to a subset (1/num_replicas) of the dataset, for one rank."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist  # ValueError from these when no process group is initialised

            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        if self.shuffle:
            from ..._C import Generator
            from ..._creation import randperm

            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        indices = indices[self.rank : self.total_size : self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not match num_samples "
                                 f"({self.num_samples})")
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Sets the epoch: with shuffle=True, each epoch gets its own order (the same on every rank)."""
        self.epoch = epoch
