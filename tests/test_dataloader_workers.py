"""DataLoader(num_workers > 0): the batches of num_workers=0, in order, from worker processes; errors, deaths,
timeouts and shutdown."""
import time

import numpy as np
import pytest

import _mp_workers

import minitorch
from minitorch.utils import data


def batches(loader):
    return [(x.numpy().copy(), y.tolist()) for x, y in loader]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_same_batches_as_the_main_process(shuffle, workers):
    ds = _mp_workers.SquaresDataset(23)
    want = batches(data.DataLoader(ds, batch_size=4, shuffle=shuffle, generator=minitorch.Generator().manual_seed(5)))
    got = batches(data.DataLoader(ds, batch_size=4, shuffle=shuffle, num_workers=workers,
                                  generator=minitorch.Generator().manual_seed(5)))
    assert len(got) == len(want) == 6
    for (gx, gy), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(gx, wx)
        assert gy == wy


def test_batches_are_in_shared_memory_and_unbatched_mode():
    loader = data.DataLoader(_mp_workers.SquaresDataset(5), batch_size=2, num_workers=2)
    x, y = next(iter(loader))
    assert x.is_shared() and x.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    single = list(data.DataLoader(_mp_workers.SquaresDataset(3), batch_size=None, num_workers=2))
    assert [t[1] for t in single] == [0, 1, 2] and single[2][0].tolist() == [2.0, 4.0]


def test_iterable_dataset_sharded_by_worker_info():
    ds = _mp_workers.ShardedRange(10)
    got = [b.tolist() for b in data.DataLoader(ds, batch_size=2, num_workers=2)]
    # torch takes batches from the workers in turn: worker 0 holds 0,2,4,..., worker 1 holds 1,3,5,...
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]


def test_worker_exception_is_reraised_with_its_traceback():
    loader = data.DataLoader(_mp_workers.SquaresDataset(10, fail_at=6), batch_size=2, num_workers=2)
    it = iter(loader)
    assert [y.tolist() for _, y in (next(it), next(it), next(it))] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(ValueError, match=r"(?s)Caught ValueError in DataLoader worker process \d.*item 6 is broken"):
        next(it)


def test_dead_worker_and_timeout_raise_quickly():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader worker \\(pid\\(s\\) \\d+\\) exited unexpectedly"):
        list(data.DataLoader(_mp_workers.SquaresDataset(8, die_at=3), batch_size=2, num_workers=2))
    assert time.monotonic() - start < 10

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 1 seconds"):
        list(data.DataLoader(_SlowDataset(), num_workers=1, timeout=1))
    assert time.monotonic() - start < 8


class _SlowDataset:
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(5)
        return i


def test_worker_init_fn_seeds_and_persistent_workers():
    loader = data.DataLoader(_mp_workers.SquaresDataset(6), batch_size=3, num_workers=2, persistent_workers=True,
                             worker_init_fn=_mp_workers.record_init)
    first = batches(loader)
    pids = [p.pid for p in loader._worker_pool.workers]
    second = batches(loader)
    assert [b[1] for b in first] == [b[1] for b in second] == [[0, 1, 2], [3, 4, 5]]
    assert [p.pid for p in loader._worker_pool.workers] == pids  # the same processes served both epochs
    it = iter(loader)
    next(it)  # an abandoned epoch: its leftovers are dropped by the next one
    assert [b[1] for b in batches(loader)] == [[0, 1, 2], [3, 4, 5]]
    loader._worker_pool.shutdown()
    assert all(not p.is_alive() for p in loader._worker_pool.workers)


def test_no_workers_left_after_the_loop_or_a_break():
    loader = data.DataLoader(_mp_workers.SquaresDataset(20), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    gen = it._it
    gen.close()  # what a `break` out of the for loop ends in
    import multiprocessing

    time.sleep(0.2)
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_argument_errors_as_torch():
    torch = pytest.importorskip("torch")
    for kwargs in (dict(num_workers=0, prefetch_factor=2), dict(num_workers=0, persistent_workers=True),
                   dict(num_workers=-1)):
        with pytest.raises(ValueError) as mine:
            data.DataLoader([1, 2], **kwargs)
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader([1, 2], **kwargs)
        assert str(mine.value) == str(theirs.value)
