"""DataLoader with num_workers > 0: worker processes, as torch's (torch/utils/data/_utils/worker.py, dataloader.py).

The main process runs the sampler and hands each batch's indices to a worker (round robin, at most
prefetch_factor batches per worker in flight); workers fetch and collate, and send the batch back through a
queue, whose tensors travel in shared memory (minitorch/_shared_memory.py); the main process yields batches in
sampler order. Each worker seeds minitorch and `random` with base_seed + worker_id and runs one thread. An
exception in a worker is re-raised in the main process with the worker's traceback; a worker that dies
raises RuntimeError; `timeout` bounds each wait. Iterable datasets run a copy in every worker (shard with
get_worker_info()), batches taken from the workers in turn.
"""
import itertools
import os
import queue
import random
import sys
import traceback

_worker_info = None
_POLL = 0.1  # seconds between checks that the workers are alive


class WorkerInfo:
    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, dataset={self.dataset})"


def get_worker_info():
    return _worker_info


class _ExceptionWrapper:
    """An exception raised in a worker, re-raised in the main process with the worker's traceback (torch's)."""

    def __init__(self, exc_info, where):
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyError(msg)  # KeyError quotes its message: keep the text readable
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception class that takes other arguments
            raise RuntimeError(msg) from None
        raise exception


class _IterableEnd:
    """A worker's iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


def _worker_loop(kind, dataset, index_queue, data_queue, auto_collation, collate_fn, drop_last, batch_size, seed,
                 init_fn, worker_id, num_workers):
    global _worker_info
    import minitorch

    minitorch.set_num_threads(1)
    minitorch.manual_seed(seed)
    random.seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception:
        init_error = _ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
    iterator, iterator_epoch = None, None
    while True:
        try:
            task = index_queue.get(timeout=5.0)
        except queue.Empty:
            if os.getppid() == 1:  # the main process is gone
                return
            continue
        if task is None:
            return
        epoch, idx, indices = task
        if init_error is not None:
            data_queue.put((epoch, idx, init_error))
            init_error = None
            continue
        try:
            if kind == "iterable":
                if iterator_epoch != epoch:  # a new epoch (persistent workers): the dataset from its start
                    iterator, iterator_epoch = iter(dataset), epoch
                if batch_size is None and not auto_collation:
                    data = collate_fn(next(iterator))
                else:
                    items = list(itertools.islice(iterator, batch_size))
                    if not items or (drop_last and len(items) < batch_size):
                        raise StopIteration
                    data = collate_fn(items)
            elif auto_collation:
                getitems = getattr(dataset, "__getitems__", None)
                data = collate_fn(getitems(indices) if callable(getitems) else [dataset[i] for i in indices])
            else:
                data = collate_fn(dataset[indices])
        except StopIteration:
            data = _IterableEnd(worker_id)
        except Exception:
            data = _ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
        data_queue.put((epoch, idx, data))
        del data


class _WorkerPool:
    """The worker processes of one DataLoader (kept across epochs with persistent_workers)."""

    def __init__(self, loader):
        import minitorch.multiprocessing as mp  # noqa: F401  (tensors through queues in shared memory)

        ctx = loader.multiprocessing_context
        if ctx is None:
            import multiprocessing

            ctx = multiprocessing.get_context()
        elif isinstance(ctx, str):
            import multiprocessing

            ctx = multiprocessing.get_context(ctx)
        self.loader = loader
        self.n = loader.num_workers
        base_seed = loader._base_seed
        self.data_queue = ctx.Queue()
        self.index_queues, self.workers = [], []
        for w in range(self.n):
            q = ctx.Queue()
            p = ctx.Process(target=_worker_loop, daemon=True,
                            args=(loader._dataset_kind, loader.dataset, q, self.data_queue, loader._auto_collation,
                                  loader.collate_fn, loader.drop_last, loader.batch_size,
                                  (base_seed + w) % 2 ** 63,
                                  loader.worker_init_fn, w, self.n))
            p.start()
            self.index_queues.append(q)
            self.workers.append(p)
        self.epoch = 0
        self.closed = False

    def get(self, timeout):
        """The next (epoch, idx, data) from any worker; RuntimeError if a worker died or timeout passed."""
        import time

        start = time.monotonic()
        while True:
            try:
                return self.data_queue.get(timeout=_POLL)
            except queue.Empty:
                dead = [p for p in self.workers if not p.is_alive()]
                if dead:
                    self.shutdown()
                    pids = ", ".join(str(p.pid) for p in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly") from None
                if timeout and time.monotonic() - start > timeout:
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None

    def shutdown(self):
        if self.closed:
            return
        self.closed = True
        for q in self.index_queues:
            try:
                q.put(None)
            except Exception:
                pass
        for p in self.workers:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=1)
        for q in self.index_queues + [self.data_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self.shutdown()
        except Exception:
            pass


def generate(loader):
    """The batches of one epoch, in sampler order, loaded by the workers."""
    pool = loader._worker_pool if loader.persistent_workers else None
    if pool is None or pool.closed:
        pool = _WorkerPool(loader)
        if loader.persistent_workers:
            loader._worker_pool = pool
    pool.epoch += 1
    epoch = pool.epoch
    try:
        if loader._dataset_kind == "iterable":
            tasks = (None for _ in itertools.count())
        else:
            tasks = iter(loader.batch_sampler if loader._auto_collation else loader.sampler)
        prefetch = loader.prefetch_factor or 2
        active = list(range(pool.n))  # workers that still have data (iterable datasets run out one by one)
        sent = received = 0
        pending = {}
        exhausted = False

        def send():
            nonlocal sent, exhausted
            if exhausted or not active:
                return False
            try:
                indices = next(tasks)
            except StopIteration:
                exhausted = True
                return False
            w = active[0]
            active.append(active.pop(0))  # round robin over the workers still running
            pool.index_queues[w].put((epoch, sent, indices))
            sent += 1
            return True

        for _ in range(prefetch * pool.n):
            if not send():
                break
        while received < sent:
            if received in pending:
                data = pending.pop(received)
            else:
                e, idx, data = pool.get(loader.timeout)
                if e != epoch:
                    continue  # a result of an epoch that was abandoned
                if idx != received:
                    pending[idx] = data
                    continue
            received += 1
            if isinstance(data, _IterableEnd):
                if data.worker_id in active:
                    active.remove(data.worker_id)
                send()
                continue
            if isinstance(data, _ExceptionWrapper):
                pool.shutdown()
                data.reraise()
            send()
            yield data
    finally:
        if not loader.persistent_workers:
            pool.shutdown()
