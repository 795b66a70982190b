"""Child functions for test_multiprocessing.py: spawn pickles them by module and name, so they
live at the top level of an importable module. Also alive(pid), shared by the process tests."""
import os
import signal
import sys
import time


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def write_result(i, out_dir, scale):
    with open(os.path.join(out_dir, f"{i}.txt"), "w") as f:
        f.write(f"{i * scale} {os.getpid()}")


def put_result(i, queue):
    queue.put((i, i * i, os.getpid()))


def _record_pid(i, out_dir):
    tmp = os.path.join(out_dir, f"{i}.pid.tmp")
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
    os.rename(tmp, os.path.join(out_dir, f"{i}.pid"))


def _wait_for_all(out_dir, nprocs):
    while not all(os.path.exists(os.path.join(out_dir, f"{j}.pid")) for j in range(nprocs)):
        time.sleep(0.02)


def raise_in_one(i, out_dir, nprocs):
    _record_pid(i, out_dir)
    if i == 1:
        _wait_for_all(out_dir, nprocs)
        raise ValueError(f"bad value in child {i}")
    time.sleep(600)


def exit_in_one(i, out_dir, nprocs, code):
    _record_pid(i, out_dir)
    if i == 0:
        _wait_for_all(out_dir, nprocs)
        os._exit(code)
    time.sleep(600)


def kill_self(i, out_dir, nprocs):
    _record_pid(i, out_dir)
    if i == 1:
        _wait_for_all(out_dir, nprocs)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(600)


def sleep_then_exit(i, seconds):
    time.sleep(seconds)
    sys.exit(0)


def distributed_all_reduce(i, port, nprocs, out_dir):
    """A process of torch's mp.spawn + init_process_group(rank=, world_size=) recipe."""
    import minitorch
    import minitorch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=i, world_size=nprocs)
    x = minitorch.tensor([float(i + 1)])
    dist.all_reduce(x)
    with open(os.path.join(out_dir, f"{i}.txt"), "w") as f:
        f.write(f"{dist.get_rank()} {dist.get_world_size()} {x.item()}")
    dist.destroy_process_group()


def fill_shared(i, t, value):
    t[i].fill_(value + i)


def put_tensor(queue, ack):
    import minitorch

    t = minitorch.arange(6.).view(2, 3)[:, 1:]   # a non-contiguous view at an offset
    queue.put(t)
    ack.get(timeout=30)  # as with torch, the sender lives until the receiver has the descriptor
    t.fill_(-1.0)        # ... and then shares the memory with it
    queue.put("written")


def hogwild_train(rank, model, steps):
    import minitorch

    minitorch.manual_seed(rank)
    opt = minitorch.optim.SGD(model.parameters(), lr=0.05)
    w_true = minitorch.tensor([[2.0, -3.0]])
    for _ in range(steps):
        x = minitorch.randn(16, 2)
        loss = ((model(x) - x @ w_true.t()) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


class SquaresDataset:
    """A map-style dataset whose items are computed (so a worker does real work)."""

    def __init__(self, n, fail_at=None, die_at=None):
        self.n, self.fail_at, self.die_at = n, fail_at, die_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        import minitorch

        if i == self.fail_at:
            raise ValueError(f"item {i} is broken")
        if i == self.die_at:
            os._exit(3)
        return minitorch.tensor([float(i), float(i * i)]), i


from minitorch.utils.data import IterableDataset as _IterableDataset  # noqa: E402


class ShardedRange(_IterableDataset):
    """An iterable dataset that each worker shards with get_worker_info()."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        from minitorch.utils.data import get_worker_info

        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def record_init(worker_id):
    import minitorch
    from minitorch.utils.data import get_worker_info

    info = get_worker_info()
    assert info.id == worker_id
    os.environ["MT_WORKER_SEED"] = str(info.seed)


def slow_item(i):
    time.sleep(10)
