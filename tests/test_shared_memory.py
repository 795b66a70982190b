"""Tensor.share_memory_, Module.share_memory and tensors through multiprocessing in shared memory."""
import numpy as np
import pytest

import _mp_workers

import minitorch
import minitorch.multiprocessing as mp


def test_share_memory_keeps_values_and_views():
    base = minitorch.arange(12.).view(3, 4)
    view = base[1:, ::2]
    assert not base.is_shared()
    assert base.share_memory_() is base
    assert base.is_shared() and view.is_shared()
    np.testing.assert_array_equal(base.numpy(), np.arange(12.).reshape(3, 4))
    view.fill_(-1)  # views still share the (moved) storage
    assert base[1].tolist() == [-1, 5, -1, 7]
    assert base.share_memory_() is base  # already shared: nothing moves
    e = minitorch.zeros(0).share_memory_()
    assert e.is_shared() and e.numel() == 0


def test_share_memory_with_autograd():
    w = minitorch.randn(3, requires_grad=True)
    before = w.detach().clone()
    w.share_memory_()
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0] and w.tolist() == before.tolist()


def test_module_share_memory():
    m = minitorch.nn.Sequential(minitorch.nn.Linear(3, 2), minitorch.nn.BatchNorm1d(2))
    assert m.share_memory() is m
    assert all(p.is_shared() for p in m.parameters()) and all(b.is_shared() for b in m.buffers())


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_child_writes_are_seen_by_the_parent(method):
    t = minitorch.zeros(3, 4).share_memory_()
    ctx = mp.get_context(method)
    procs = [ctx.Process(target=_mp_workers.fill_shared, args=(i, t, 10.0)) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert t.tolist() == [[10.0] * 4, [11.0] * 4, [12.0] * 4]


def test_tensor_through_a_queue_is_shared():
    ctx = mp.get_context("spawn")
    q, ack = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=_mp_workers.put_tensor, args=(q, ack))
    p.start()
    got = q.get(timeout=30)
    assert got.is_shared()
    assert got.tolist() == [[1.0, 2.0], [4.0, 5.0]] and got.stride() == (3, 1)
    ack.put(True)
    assert q.get(timeout=30) == "written"
    p.join(30)
    assert got.tolist() == [[-1.0, -1.0], [-1.0, -1.0]]  # the child's write, seen here


def test_hogwild():
    """Two processes train one shared model: both runs' updates land in the parent's parameters."""
    minitorch.manual_seed(0)
    model = minitorch.nn.Linear(2, 1, bias=False)
    model.share_memory()
    start = model.weight.detach().clone()
    mp.spawn(_mp_workers.hogwild_train, args=(model, 60), nprocs=2)
    w = model.weight.detach().numpy()
    assert not np.allclose(w, start.numpy())
    np.testing.assert_allclose(w, [[2.0, -3.0]], atol=0.1)
