"""Anomaly detection: a backward that fails or produces NaN names the node, with the forward
traceback that created it (torch.autograd.detect_anomaly / set_detect_anomaly)."""
import warnings

from .. import _C


class detect_anomaly:
    def __init__(self, check_nan=True):
        self.prev = _C.is_anomaly_enabled()
        self.check_nan = check_nan
        if not check_nan:
            raise NotImplementedError("minitorch: detect_anomaly(check_nan=False) is not supported")
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self):
        _C._set_anomaly_enabled(True)

    def __exit__(self, *args):
        _C._set_anomaly_enabled(self.prev)

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with self.__class__(self.check_nan):
                return fn(*a, **k)
        return wrapper


class set_detect_anomaly:
    def __init__(self, mode, check_nan=True):
        self.prev = _C.is_anomaly_enabled()
        if not check_nan:
            raise NotImplementedError("minitorch: set_detect_anomaly(check_nan=False) is not supported")
        _C._set_anomaly_enabled(bool(mode))

    def __enter__(self):
        pass

    def __exit__(self, *args):
        _C._set_anomaly_enabled(self.prev)


def is_anomaly_enabled():
    return _C.is_anomaly_enabled()
