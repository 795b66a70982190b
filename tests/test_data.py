"""minitorch.utils.data: Dataset, TensorDataset, Subset, random_split, samplers, default_collate and DataLoader.

Batches, their order, drop_last and collation against torch.utils.data.DataLoader on the same data
(shuffle=False); shuffling is a permutation reproducible under minitorch.manual_seed; a DataLoader over a
TensorDataset builds a batch with one index_select per tensor, never a __getitem__ per sample."""
import collections

import numpy as np
import pytest

import minitorch as mt
import minitorch.utils.data as D
from minitorch.utils.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def to_np(x):
    """Nested structure of tensors -> the same structure with NumPy arrays (for torch or minitorch)."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return ("T", str(x.dtype).replace("torch.", ""), x.detach().numpy().tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: to_np(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [to_np(v) for v in x])
    return x


def mt_batches(loader):
    return [to_np(b) for b in loader]


class ListDataset(Dataset):
    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def make_xy(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = (np.arange(n) % 4).astype(np.int64)
    return x, y


# ------------------------------------------------------------------------------------------ datasets

def test_tensor_dataset_items_and_len():
    x, y = make_xy(5)
    ds = TensorDataset(mt.tensor(x), mt.tensor(y))
    assert len(ds) == 5
    a, b = ds[2]
    np.testing.assert_array_equal(a.numpy(), x[2])
    assert b.item() == y[2]
    assert isinstance(ds[0], tuple) and len(ds[0]) == 2


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(mt.zeros(3, 2), mt.zeros(4))


def test_tensor_dataset_size_mismatch_matches_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError) as te:
        torch.utils.data.TensorDataset(torch.zeros(3, 2), torch.zeros(4))
    with pytest.raises(type(te.value), match=str(te.value)):
        TensorDataset(mt.zeros(3, 2), mt.zeros(4))


def test_dataset_base_raises():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_subset_semantics():
    ds = ListDataset(list(range(100, 110)))
    sub = Subset(ds, [3, 1, 7])
    assert len(sub) == 3
    assert [sub[i] for i in range(3)] == [103, 101, 107]
    assert sub.__getitems__([0, 2]) == [103, 107]


def test_concat_dataset():
    c = ListDataset([1, 2]) + ListDataset([3, 4, 5])
    assert len(c) == 5 and [c[i] for i in range(5)] == [1, 2, 3, 4, 5] and c[-1] == 5


@pytest.mark.parametrize("lengths", [[3, 7], [5, 0, 5], [0.3, 0.7], [0.5, 0.25, 0.25], [0.33, 0.33, 0.34]])
def test_random_split_disjoint_cover(lengths):
    ds = ListDataset(list(range(10)))
    mt.manual_seed(0)
    parts = random_split(ds, lengths)
    assert all(isinstance(p, Subset) for p in parts)
    got = [p.indices for p in parts]
    flat = sorted(i for g in got for i in g)
    assert flat == list(range(10))
    if all(isinstance(v, int) for v in lengths):
        assert [len(p) for p in parts] == lengths


def test_random_split_fraction_lengths_match_torch():
    torch = pytest.importorskip("torch")
    for n, fr in [(10, [0.3, 0.7]), (11, [0.5, 0.25, 0.25]), (7, [0.33, 0.33, 0.34]), (5, [0.1, 0.9])]:
        t = [len(p) for p in torch.utils.data.random_split(range(n), fr)]
        m = [len(p) for p in random_split(ListDataset(list(range(n))), fr)]
        assert m == t


def test_random_split_errors():
    ds = ListDataset(list(range(10)))
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(ds, [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(ds, [-0.5, 1.5])


def test_random_split_reproducible():
    ds = ListDataset(list(range(20)))
    mt.manual_seed(123)
    a = [p.indices for p in random_split(ds, [5, 15])]
    mt.manual_seed(123)
    b = [p.indices for p in random_split(ds, [5, 15])]
    assert a == b


def test_random_split_generator():
    ds = ListDataset(list(range(20)))
    g1, g2 = mt.Generator().manual_seed(7), mt.Generator().manual_seed(7)
    a = [p.indices for p in random_split(ds, [5, 15], generator=g1)]
    mt.randn(10)  # global RNG use in between does not matter
    b = [p.indices for p in random_split(ds, [5, 15], generator=g2)]
    assert a == b
    c = [p.indices for p in random_split(ds, [5, 15], generator=g1)]  # the generator advanced
    assert c != a


def test_random_split_zero_fraction_warns():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        parts = random_split(ListDataset([0]), [0.5, 0.5])
    assert [len(p) for p in parts] == [1, 0]


# ------------------------------------------------------------------------------------------ DataLoader vs torch

@pytest.mark.parametrize("n,bs,drop_last", [(10, 1, False), (10, 3, False), (10, 3, True), (10, 5, True),
                                            (10, 16, False), (10, 16, True), (0, 4, False), (7, 7, False)])
def test_tensor_dataset_loader_matches_torch(n, bs, drop_last):
    torch = pytest.importorskip("torch")
    x, y = make_xy(n)
    tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                     batch_size=bs, shuffle=False, drop_last=drop_last)
    ml = DataLoader(TensorDataset(mt.tensor(x), mt.tensor(y)), batch_size=bs, shuffle=False, drop_last=drop_last)
    assert len(ml) == len(tl)
    assert mt_batches(ml) == [to_np(b) for b in tl]


def _samples():
    rng = np.random.default_rng(0)
    return [
        [(rng.standard_normal(3).astype(np.float32), i) for i in range(7)],               # (ndarray, int)
        [{"x": float(i) / 2, "y": [i, i + 1], "name": f"s{i}"} for i in range(7)],      # dict of float/list/str
        [np.float32(i) for i in range(5)],                                                # numpy scalars
        [np.int64(i) for i in range(5)],
        [True, False, True],                                                              # bools
        [[1.5, 2], [3.5, 4], [5.5, 6]],                                                   # lists
        [collections.OrderedDict(a=np.arange(2), b=(1, 2.0)) for _ in range(4)],         # OrderedDict, tuple
        [b"ab", b"cd"],
    ]


@pytest.mark.parametrize("case", range(len(_samples())))
@pytest.mark.parametrize("bs", [1, 2, 3])
def test_collate_matches_torch(case, bs):
    torch = pytest.importorskip("torch")
    items = _samples()[case]

    class TDS(torch.utils.data.Dataset):
        def __getitem__(self, i):
            return items[i]

        def __len__(self):
            return len(items)

    tl = torch.utils.data.DataLoader(TDS(), batch_size=bs)
    ml = DataLoader(ListDataset(items), batch_size=bs)
    assert mt_batches(ml) == [to_np(b) for b in tl]


def test_collate_tensor_samples_matches_torch():
    torch = pytest.importorskip("torch")
    x, y = make_xy(6)
    t_items = [(torch.tensor(x[i]), torch.tensor(y[i])) for i in range(6)]
    m_items = [(mt.tensor(x[i]), mt.tensor(y[i])) for i in range(6)]
    tl = torch.utils.data.DataLoader(t_items, batch_size=4)
    ml = DataLoader(m_items, batch_size=4)
    assert mt_batches(ml) == [to_np(b) for b in tl]


def test_default_collate_direct():
    b = default_collate([mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0])])
    np.testing.assert_array_equal(b.numpy(), [[1, 2], [3, 4]])
    assert default_collate([1.5, 2.5]).dtype is mt.float64
    assert default_collate([1, 2]).dtype is mt.int64
    assert default_collate([True, False]).dtype is mt.bool
    assert default_collate(["a", "b"]) == ["a", "b"]
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert type(p) is Point and p.x.tolist() == [1, 3] and p.y.dtype is mt.float64


def test_default_collate_errors():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                                        "or lists; found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_custom_collate_fn_and_no_batching():
    ds = ListDataset([np.array([i, i]) for i in range(5)])
    out = list(DataLoader(ds, batch_size=2, collate_fn=lambda b: len(b)))
    assert out == [2, 2, 1]
    # batch_size=None: no batching, samples go through default_convert (ndarray -> tensor)
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 5 and mt.is_tensor(items[0]) and items[3].tolist() == [3, 3]


def test_batch_size_none_matches_torch():
    torch = pytest.importorskip("torch")
    items = [(np.arange(2) + i, i, "s") for i in range(3)]
    tl = torch.utils.data.DataLoader(items, batch_size=None)
    ml = DataLoader(items, batch_size=None)
    assert mt_batches(ml) == [to_np(b) for b in tl]


def test_dataloader_argument_errors_match_torch():
    torch = pytest.importorskip("torch")
    tds = torch.utils.data.TensorDataset(torch.zeros(4))
    mds = TensorDataset(mt.zeros(4))
    cases = [dict(batch_size=0), dict(batch_size=-1), dict(batch_size=None, drop_last=True),
             dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
             dict(num_workers=-1), dict(drop_last=1)]
    for kw in cases:
        with pytest.raises(Exception) as te:
            torch.utils.data.DataLoader(tds, **kw)
        with pytest.raises(type(te.value)) as me:
            DataLoader(mds, **kw)
        assert str(me.value) == str(te.value), kw


def test_len_and_drop_last():
    ds = TensorDataset(mt.arange(10))
    assert len(DataLoader(ds, batch_size=3)) == 4
    assert len(DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(ds, batch_size=3, drop_last=True, shuffle=True)) == 3
    assert [b[0].shape[0] for b in DataLoader(ds, batch_size=3, drop_last=True, shuffle=True)] == [3, 3, 3]


def test_num_workers_accepted():
    ds = TensorDataset(mt.arange(6))
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=4, num_workers=2, pin_memory=False)] == [[0, 1, 2, 3],
                                                                                                      [4, 5]]


# ------------------------------------------------------------------------------------------ shuffling

def _epoch(loader):
    return [v for b in loader for v in b[0].tolist()]


@pytest.mark.parametrize("fast", [True, False])
def test_shuffle_is_reproducible_permutation(fast):
    n = 50
    ds = TensorDataset(mt.arange(n)) if fast else ListDataset([(i,) for i in range(n)])
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    mt.manual_seed(42)
    e1, e2 = _epoch(loader), _epoch(loader)
    assert sorted(e1) == list(range(n)) and sorted(e2) == list(range(n))
    assert e1 != list(range(n)) and e1 != e2  # shuffled, and a new order each epoch
    mt.manual_seed(42)
    assert _epoch(loader) == e1 and _epoch(loader) == e2


def test_shuffle_fast_and_slow_paths_agree():
    n = 23
    fast = DataLoader(TensorDataset(mt.arange(n)), batch_size=5, shuffle=True)
    slow = DataLoader(ListDataset([(i,) for i in range(n)]), batch_size=5, shuffle=True)
    mt.manual_seed(3)
    a = _epoch(fast)
    mt.manual_seed(3)
    b = _epoch(slow)
    assert a == b


def test_shuffle_with_generator():
    ds = TensorDataset(mt.arange(30))
    a = _epoch(DataLoader(ds, batch_size=4, shuffle=True, generator=mt.Generator().manual_seed(5)))
    mt.randn(7)
    b = _epoch(DataLoader(ds, batch_size=4, shuffle=True, generator=mt.Generator().manual_seed(5)))
    assert a == b and sorted(a) == list(range(30))


def test_samplers():
    ds = ListDataset(list(range(10)))
    assert list(D.SequentialSampler(ds)) == list(range(10))
    mt.manual_seed(0)
    r = list(D.RandomSampler(ds))
    assert sorted(r) == list(range(10))
    r2 = list(D.RandomSampler(ds, replacement=True, num_samples=25))
    assert len(r2) == 25 and all(0 <= i < 10 for i in r2)
    assert len(list(D.RandomSampler(ds, num_samples=25))) == 25
    assert list(D.BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(D.BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert sorted(D.SubsetRandomSampler([5, 6, 7])) == [5, 6, 7]
    out = [b for b in DataLoader(ds, sampler=[9, 8, 7], batch_size=2)]
    assert [b.tolist() for b in out] == [[9, 8], [7]]
    out = [b for b in DataLoader(ds, batch_sampler=[[1, 2], [0]])]
    assert [b.tolist() for b in out] == [[1, 2], [0]]


def test_iterable_dataset():
    class Stream(D.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(), batch_size=3)) == 3
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)


# ------------------------------------------------------------------------------------------ the fast path

class CountingTensorDataset(TensorDataset):
    calls = 0

    def __getitem__(self, index):
        type(self).calls += 1
        return super().__getitem__(index)


def test_fast_path_one_index_select_per_tensor(monkeypatch):
    x, y = make_xy(10)
    ds = TensorDataset(mt.tensor(x), mt.tensor(y))
    calls = []
    real = mt.Tensor.index_select

    def counting(self, dim, index):
        calls.append((tuple(self.shape), index.dtype, tuple(index.shape)))
        return real(self, dim, index)
    monkeypatch.setattr(mt.Tensor, "index_select", counting)

    def no_getitem(self, index):
        raise AssertionError("TensorDataset.__getitem__ called per sample")
    monkeypatch.setattr(TensorDataset, "__getitem__", no_getitem)
    for shuffle in (False, True):
        calls.clear()
        batches = list(DataLoader(ds, batch_size=4, shuffle=shuffle))
        assert len(batches) == 3
        assert len(calls) == 2 * 3  # one index_select per tensor per batch
        assert all(dt is mt.int64 for _, dt, _ in calls)
        assert [c[2] for c in calls] == [(4,), (4,), (4,), (4,), (2,), (2,)]
        xs = np.concatenate([b[0].numpy() for b in batches])
        ys = np.concatenate([b[1].numpy() for b in batches])
        order = ys * 0 + (xs[:, 0] // 3).astype(np.int64)
        np.testing.assert_array_equal(xs, x[order])
        np.testing.assert_array_equal(ys, y[order])
        if not shuffle:
            np.testing.assert_array_equal(order, np.arange(10))


def test_fast_path_through_random_split(monkeypatch):
    x, y = make_xy(20)
    ds = TensorDataset(mt.tensor(x), mt.tensor(y))
    mt.manual_seed(1)
    train, val = random_split(ds, [0.75, 0.25])

    def no_getitem(self, index):
        raise AssertionError("per-sample __getitem__")
    monkeypatch.setattr(TensorDataset, "__getitem__", no_getitem)
    got = np.concatenate([b[1].numpy() for b in DataLoader(val, batch_size=2)])
    np.testing.assert_array_equal(got, y[val.indices])
    got = np.concatenate([b[0].numpy() for b in DataLoader(train, batch_size=4, shuffle=True)])
    assert sorted(got[:, 0].tolist()) == sorted(x[train.indices][:, 0].tolist())


def test_subclass_getitem_is_honoured():
    CountingTensorDataset.calls = 0
    ds = CountingTensorDataset(mt.arange(6))
    out = [b[0].tolist() for b in DataLoader(ds, batch_size=4)]
    assert out == [[0, 1, 2, 3], [4, 5]] and CountingTensorDataset.calls == 6


def test_fast_path_batches_are_copies():
    base = mt.arange(6.0)
    ds = TensorDataset(base)
    (b,) = next(iter(DataLoader(ds, batch_size=3)))
    b.add_(100)
    assert base.tolist() == [0, 1, 2, 3, 4, 5]


def test_fast_path_matches_torch_with_requires_grad_and_views():
    torch = pytest.importorskip("torch")
    x, y = make_xy(9)
    mx = mt.tensor(x.T.copy()).t()  # a non-contiguous view
    tl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=4)
    ml = DataLoader(TensorDataset(mx, mt.tensor(y)), batch_size=4)
    assert mt_batches(ml) == [to_np(b) for b in tl]
