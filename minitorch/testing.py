"""minitorch.testing (torch.testing: assert_close, make_tensor) and minitorch.isclose / allclose.

isclose is written in minitorch ops (it runs on the tensors' device); assert_close reads the values on
the host and reports mismatches in torch's words."""
import math

import numpy as np

from . import _C
from ._types import SCALAR_TYPE_NAMES, bool_, float32, float64, int32, int64

__all__ = ["assert_close", "make_tensor", "assert_allclose"]


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (broadcast), and equal values (infinities
    included); NaNs are close to each other only with equal_nan. As torch: the dtypes must match, and
    integer tensors are compared in the default float dtype."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, _C.TensorBase):
            pos = 1 if name == "input" else 2
            raise TypeError(f"isclose(): argument '{name}' (position {pos}) must be Tensor, not {type(t).__name__}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"{SCALAR_TYPE_NAMES[input.dtype]} did not match {SCALAR_TYPE_NAMES[other.dtype]}")
    if not rtol >= 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol:g}")
    if not atol >= 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol:g}")
    close = input == other
    if input.dtype == bool_ or (rtol == 0 and atol == 0):
        return close
    if not input.dtype.is_floating_point:
        from ._creation import get_default_dtype
        input, other = input.to(get_default_dtype()), other.to(get_default_dtype())
    elif equal_nan:
        close = close | (input.isnan() & other.isnan())
    allowed = atol + (rtol * other).abs()
    actual = (input - other).abs()
    return close | (actual.isfinite() & (actual <= allowed))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


_TOP = {"isclose": isclose, "allclose": allclose}

# torch.testing's default (rtol, atol) per dtype
_TOLERANCES = {float32: (1.3e-6, 1e-5), float64: (1e-7, 1e-7)}


def _tolerances(*dtypes):
    r = [_TOLERANCES.get(d, (0.0, 0.0)) for d in dtypes]
    return max(x[0] for x in r), max(x[1] for x in r)


class _Mismatch(Exception):
    """An AssertionError (or TypeError / ValueError) found somewhere inside nested sequences / mappings."""

    def __init__(self, exc_type, message, path=""):
        super().__init__(message)
        self.exc_type, self.message, self.path = exc_type, message, path


def _host(t):
    t = t.detach()
    return t.numpy() if t.device.type == "cpu" else t.cpu().numpy()


def _diff_line(kind, diff, idx, tol, equality):
    msg = f"{kind.title()} difference: {diff}" if idx is None else f"Greatest {kind} difference: {diff} at index {idx}"
    return msg + ("" if equality else f" (up to {tol} allowed)") + "\n"


def _mismatch_message(identifier, extra, abs_diff, abs_idx, rel_diff, rel_idx, rtol, atol):
    equality = rtol == 0 and atol == 0
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += extra.strip() + "\n"
    msg += _diff_line("absolute", abs_diff, abs_idx, atol, equality)
    msg += _diff_line("relative", rel_diff, rel_idx, rtol, equality)
    return msg.strip()


def _close_np(a, e, rtol, atol, equal_nan):
    with np.errstate(invalid="ignore", over="ignore"):
        close = a == e
        if a.dtype.kind == "f" and equal_nan:
            close |= np.isnan(a) & np.isnan(e)
        if a.dtype.kind != "b" and (rtol or atol):
            af, ef = a.astype(np.float64), e.astype(np.float64)
            actual = np.abs(af - ef)
            close |= np.isfinite(actual) & (actual <= atol + rtol * np.abs(ef))
    return close


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride):
    for attr, a, e in (("shape", actual.shape, expected.shape),
                       ("device", actual.device, expected.device) if check_device else (None, 0, 0),
                       ("dtype", actual.dtype, expected.dtype) if check_dtype else (None, 0, 0)):
        if attr and a != e:
            raise _Mismatch(AssertionError, f"The values for attribute '{attr}' do not match: {a} != {e}.")
    if check_stride and actual.stride() != expected.stride():
        raise _Mismatch(AssertionError, f"The values for attribute 'stride()' do not match: {actual.stride()} != "
                                        f"{expected.stride()}.")
    if rtol is None:
        rtol, atol = _tolerances(actual.dtype, expected.dtype)
    a, e = _host(actual), _host(expected)
    if a.dtype != e.dtype:  # check_dtype=False: compared in the promoted dtype
        floats = [x.dtype for x in (a, e) if x.dtype.kind == "f"]
        common = np.result_type(*floats) if len(floats) == 1 else np.result_type(a, e)  # int + float: the float
        a, e = a.astype(common), e.astype(common)
    close = _close_np(a, e, rtol, atol, equal_nan)
    if close.all():
        return
    if a.ndim == 0:
        scalar_a, scalar_e = a.item(), e.item()
        diff = abs(scalar_a - scalar_e)
        rel = diff / abs(scalar_e) if scalar_e else (math.inf if diff else math.nan)
        raise _Mismatch(AssertionError, _mismatch_message(
            "Scalars", f"Expected {scalar_e} but got {scalar_a}.", diff, None, rel, None, rtol, atol))
    af, ef, cf = a.reshape(-1), e.reshape(-1), close.reshape(-1)
    integral = af.dtype.kind in "biu"
    if integral:  # as torch: differences in int64, the relative one in the default float dtype
        af, ef = af.astype(np.int64), ef.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(af - ef)  # in the tensors' dtype, as torch prints it
        abs_diff[cf] = 0
        rel_diff = abs_diff / np.abs(ef)
    if integral:
        rel_diff = rel_diff.astype(np.float32)
    rel_diff[cf] = 0

    def greatest(d):  # torch.max: a NaN wins
        nan = np.isnan(d) if d.dtype.kind == "f" else np.zeros(d.shape, bool)
        k = int(np.argmax(nan)) if nan.any() else int(np.argmax(d))
        return d[k].item(), tuple(int(i) for i in np.unravel_index(k, a.shape))

    n, bad = cf.size, int(cf.size - cf.sum())
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    (ad, ai), (rd, ri) = greatest(abs_diff), greatest(rel_diff)
    raise _Mismatch(AssertionError, _mismatch_message("Tensor-likes", extra, ad, ai, float(rd), ri, rtol, atol))


def _compare(actual, expected, path, kw):
    from collections.abc import Mapping, Sequence
    if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):  # compared as tensors, as torch
        from ._creation import tensor
        actual, expected = tensor(actual), tensor(expected)
    at, et = isinstance(actual, _C.TensorBase), isinstance(expected, _C.TensorBase)
    if at and et and (kw["allow_subclasses"] or type(actual) is type(expected)):
        return _compare_tensors(actual, expected, **{k: v for k, v in kw.items() if k != "allow_subclasses"})
    if at or et:
        raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                                   f"{type(expected)}.")
    if isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)):
        if bool(actual) != bool(expected):
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return None
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)) and \
            not isinstance(actual, bool) and not isinstance(expected, bool):
        if isinstance(actual, float) != isinstance(expected, float) and kw["check_dtype"]:
            raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
        rtol, atol = kw["rtol"], kw["atol"]
        if rtol is None:
            rtol, atol = (1e-7, 1e-7) if isinstance(actual, float) or isinstance(expected, float) else (0.0, 0.0)
        a, e = np.array(actual), np.array(expected)
        if _close_np(a, e, rtol, atol, kw["equal_nan"]):
            return None
        diff = abs(actual - expected)
        rel = diff / abs(expected) if expected else (math.inf if diff else math.nan)
        raise _Mismatch(AssertionError, _mismatch_message("Scalars", f"Expected {expected} but got {actual}.",
                                                          diff, None, rel, None, rtol, atol))
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        ak, ek = list(actual.keys()), list(expected.keys())
        if set(ak) != set(ek):
            missing = [k for k in ek if k not in actual]
            additional = [k for k in ak if k not in expected]
            raise _Mismatch(AssertionError, "The keys of the mappings do not match:\n"
                                            f"Missing keys in the actual mapping: {sorted(missing)}\n"
                                            f"Additional keys in the actual mapping: {sorted(additional)}")
        for k in ek:
            _compare_item(actual[k], expected[k], f"{path}[{k!r}]", kw)
        return None
    if isinstance(actual, Sequence) and isinstance(expected, Sequence) and \
            not isinstance(actual, str) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for k, (x, y) in enumerate(zip(actual, expected)):
            _compare_item(x, y, f"{path}[{k}]", kw)
        return None
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                               f"{type(expected)}.")


def _compare_item(actual, expected, path, kw):
    try:
        _compare(actual, expected, path, kw)
    except _Mismatch as m:
        if not m.path:
            m.path = path
        raise


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raises AssertionError unless actual and expected (tensors, Python numbers, or sequences / mappings
    of them) are close: |actual - expected| <= atol + rtol * |expected|, with torch's per-dtype defaults
    (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7; integers and bool: exact)."""
    __tracebackhide__ = True
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    kw = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
              check_stride=check_stride, allow_subclasses=allow_subclasses)
    try:
        _compare(actual, expected, "", kw)
    except _Mismatch as m:
        message = m.message
        if m.exc_type is AssertionError:
            if m.path:
                message += f"\n\nThe failure occurred for item {m.path}"
            if msg is not None:
                message = msg(message) if callable(msg) else msg
        raise m.exc_type(message) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated (FutureWarning, as torch): assert_close with the dtypes not checked, NaNs equal, and the old
    defaults (float16 1e-3 / 1e-3, float32 1e-4 / 1e-5, float64 1e-5 / 1e-8; exact otherwise)."""
    import warnings

    from ._creation import tensor
    from ._types import float16

    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
                  "release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade "
                  "instructions in https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    __tracebackhide__ = True
    if not isinstance(actual, _C.TensorBase):
        actual = tensor(actual)
    if not isinstance(expected, _C.TensorBase):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        precisions = {float16: (1e-3, 1e-3), float32: (1e-4, 1e-5), float64: (1e-5, 1e-8)}
        pairs = [precisions.get(t.dtype, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
                 check_stride=False, msg=msg or None)


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of the given shape filled with random values from [low, high): floats from [-9, 9),
    integers from [-9, 10) (clamped to the dtype's range) by default, bools from {False, True}."""
    from ._creation import rand, randint
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(shape)
    for v in (low, high):
        if v is not None and isinstance(v, float) and math.isnan(v):
            default = 10 if dtype in (int32, int64) else 9
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={-9 if low is None else low} and "
                             f"high={default if high is None else high}")
    if dtype == bool_:
        t = randint(0, 2, shape, device=device).to(bool_)
    elif dtype in (int32, int64):
        info = np.iinfo(np.int32 if dtype == int32 else np.int64)
        lo = -9 if low is None else max(math.ceil(low), info.min)
        hi = 10 if high is None else min(math.ceil(high), info.max)
        if lo >= hi:
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        t = randint(lo, hi, shape, dtype=dtype, device=device)
        if exclude_zero:
            t = t + (t == 0).to(dtype)
    elif dtype in (float32, float64):
        lo = -9.0 if low is None else float(low)
        hi = 9.0 if high is None else float(high)
        if lo >= hi:
            raise ValueError(f"`low` must be less than `high`, but got {low if low is not None else lo} >= "
                             f"{high if high is not None else hi}")
        t = rand(shape, dtype=dtype, device=device) * (hi - lo) + lo
        if exclude_zero:
            tiny = float(np.finfo(np.float32 if dtype == float32 else np.float64).tiny)
            t = t + (t == 0).to(dtype) * tiny
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by minitorch.testing.make_tensor.")
    if noncontiguous and t.numel() > 1:
        from . import stack
        t = stack([t, t], -1)[..., 0]  # every other element of a wider buffer
    if requires_grad:
        t.requires_grad_()
    return t
