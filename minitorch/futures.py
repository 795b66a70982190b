"""minitorch.futures: torch.futures' Future, collect_all and wait_all.

A Future is completed by set_result / set_exception, or by the distributed Work it stands for (its wait()
waits for the Work). Callbacks given to then() and add_done_callback() run once the value is there, on the
thread that completes or waits for it; minitorch runs nothing in the background that would complete one."""

__all__ = ["Future", "collect_all", "wait_all"]


class Future:
    def __init__(self, *, devices=None):
        self._done, self._value, self._error, self._callbacks = False, None, None, []
        self._work = None  # a distributed Work that supplies the value

    def done(self):
        if not self._done and self._work is not None and self._work.is_completed():
            self._complete_from_work()
        return self._done

    def _complete_from_work(self):
        try:
            self._work.wait()
        except Exception as e:  # the work's failure becomes the future's
            if not self._done:
                self._finish(None, e)
            return
        if not self._done:  # (a then() future is completed by its callback)
            self._finish(self._work.result(), None)

    def _finish(self, value, error):
        if self._done:
            raise RuntimeError("Future can only be marked completed once.")
        self._done, self._value, self._error = True, value, error
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(self)

    def wait(self):
        if not self._done:
            if self._work is None:
                raise RuntimeError("Future.wait(): the future has no value and nothing to wait for (it is "
                                   "completed by set_result or set_exception)")
            self._complete_from_work()
        if self._error is not None:
            raise self._error
        return self._value

    def value(self):
        return self.wait()

    def set_result(self, result):
        self._finish(result, None)

    def set_exception(self, result):
        if not isinstance(result, BaseException):
            raise TypeError(f"{result!r} is not an Exception")
        self._finish(None, result)

    def add_done_callback(self, callback):
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def then(self, callback):
        """A Future of callback(self), run when this one completes."""
        out = Future()

        def run(fut):
            try:
                out.set_result(callback(fut))
            except Exception as e:
                out.set_exception(e)

        self.add_done_callback(run)
        if not self._done and self._work is not None:
            out._work = _Chained(self)
        return out


class _Chained:
    """What a then() future waits for: the future it follows (whose callbacks complete it)."""

    def __init__(self, base):
        self.base = base

    def is_completed(self):
        return self.base.done()

    def wait(self):
        if not self.base._done:
            self.base._complete_from_work()


class _AllOf:
    def __init__(self, futures):
        self.futures = list(futures)

    def is_completed(self):
        return all(f.done() for f in self.futures)

    def wait(self):
        for f in self.futures:
            if not f._done and f._work is not None:
                f._complete_from_work()

    def result(self):
        return self.futures


def collect_all(futures):
    """A Future of the list of futures, completed when all are."""
    out = Future()
    out._work = _AllOf(futures)
    if out._work.is_completed():
        out.set_result(list(futures))
    return out


def wait_all(futures):
    """The values of all futures (raises the first error)."""
    return [f.wait() for f in futures]
