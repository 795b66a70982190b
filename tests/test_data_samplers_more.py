"""WeightedRandomSampler, ChainDataset, StackDataset, and RandomSampler's lazy draws with replacement."""
import itertools

import numpy as np
import pytest

import minitorch
from minitorch.utils import data


def test_weighted_random_sampler_frequencies():
    w = [1.0, 0.0, 3.0, 6.0]
    g = minitorch.Generator().manual_seed(0)
    s = data.WeightedRandomSampler(w, 20000, generator=g)
    draws = np.array(list(s))
    assert len(s) == 20000 and draws.shape == (20000,)
    freq = np.bincount(draws, minlength=4) / 20000
    np.testing.assert_allclose(freq, np.array(w) / 10, atol=0.015)
    assert freq[1] == 0
    unique = list(data.WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("kwargs,err", [(dict(weights=[1, 2], num_samples=0), ValueError),
                                        (dict(weights=[1, 2], num_samples=True), ValueError),
                                        (dict(weights=[1, 2], num_samples=2, replacement=1), ValueError),
                                        (dict(weights=[[1, 2]], num_samples=2), ValueError)])
def test_weighted_random_sampler_errors_as_torch(kwargs, err):
    torch = pytest.importorskip("torch")
    with pytest.raises(err) as mine:
        data.WeightedRandomSampler(**kwargs)
    with pytest.raises(err) as theirs:
        torch.utils.data.WeightedRandomSampler(**kwargs)
    assert str(mine.value) == str(theirs.value)


class Count(data.IterableDataset):
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __iter__(self):
        return iter(range(self.a, self.b))

    def __len__(self):
        return self.b - self.a


def test_chain_dataset():
    chained = Count(0, 3) + Count(10, 12)
    assert isinstance(chained, data.ChainDataset)
    assert list(chained) == [0, 1, 2, 10, 11] and len(chained) == 5
    loader = data.DataLoader(data.ChainDataset([Count(0, 5), Count(5, 7)]), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(data.ChainDataset([Count(0, 1), [1, 2]]))


def test_stack_dataset():
    x = data.TensorDataset(minitorch.arange(6.).view(3, 2))
    labels = [7, 8, 9]
    t = data.StackDataset(x, labels)
    assert len(t) == 3 and t[1][1] == 8 and t[1][0][0].tolist() == [2.0, 3.0]
    d = data.StackDataset(img=x, label=labels)
    assert set(d[2]) == {"img", "label"} and d[2]["label"] == 9
    batch = next(iter(data.DataLoader(d, batch_size=2)))
    assert batch["label"].tolist() == [7, 8] and batch["img"][0].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert d.__getitems__([0, 2])[1]["label"] == 9
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        data.StackDataset(x, [1])
    with pytest.raises(ValueError, match="but both types are given"):
        data.StackDataset(x, label=labels)
    with pytest.raises(ValueError, match="At least one dataset"):
        data.StackDataset()


def test_random_sampler_with_replacement_is_lazy():
    """minGPT: RandomSampler(replacement=True, num_samples=int(1e10)) must not draw everything up front."""
    ds = data.TensorDataset(minitorch.arange(10.))
    s = data.RandomSampler(ds, replacement=True, num_samples=int(1e10))
    first = list(itertools.islice(iter(s), 100))
    assert len(first) == 100 and all(0 <= i < 10 for i in first) and len(set(first)) > 5
    loader = data.DataLoader(ds, sampler=s, batch_size=4)
    b = next(iter(loader))
    assert b[0].shape == (4,)
    g = minitorch.Generator().manual_seed(3)
    draws = list(data.RandomSampler(ds, replacement=True, num_samples=7006, generator=g))  # 218 chunks of 32 + 30
    assert len(draws) == 7006
    np.testing.assert_allclose(np.bincount(draws, minlength=10) / 7006, 0.1, atol=0.02)


def test_import_paths():
    from minitorch.utils.data.dataset import ChainDataset, StackDataset  # noqa: F401
    from minitorch.utils.data.sampler import WeightedRandomSampler  # noqa: F401
