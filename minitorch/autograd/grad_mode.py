"""no_grad / enable_grad / set_grad_enabled: context managers and decorators."""
import functools

from .. import _C


class _GradMode:
    _target = True

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self._target)
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():  # one mode object per call: calls may nest or run in threads
                return fn(*args, **kwargs)
        return wrapper

    def _fresh(self):
        mode = object.__new__(type(self))
        mode._target = self._target
        return mode


class no_grad(_GradMode):
    _target = False


class enable_grad(_GradMode):
    _target = True


class set_grad_enabled(_GradMode):
    def __init__(self, mode):
        self._target = bool(mode)
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self._target)  # takes effect at once, like PyTorch's

    def __enter__(self):
        return self

    def __call__(self, fn):
        _C._set_grad_enabled(self._prev)
        mode = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class inference_mode(no_grad):
    """no_grad, and the tensors made inside are inference tensors: autograd refuses to save them and
    only inference mode may change them in place (torch's rules)."""

    def __init__(self, mode=True):
        self._target = not mode
        self._mode = bool(mode)

    def __enter__(self):
        super().__enter__()
        self._prev_inference = _C._set_inference_mode(self._mode)
        return self

    def __exit__(self, *exc):
        _C._set_inference_mode(self._prev_inference)
        return super().__exit__(*exc)

    def _fresh(self):
        mode = super()._fresh()
        mode._mode = self._mode
        return mode
