"""Python-layer safety: legacy constructors, tensor(), factories, nn and checkpoints give PyTorch's values or
raise PyTorch's exception types, never a silently wrong result.

Each case is a function of the module (torch or minitorch), run on both: torch's exception class (and, where
given, message) must be minitorch's; torch's result dtype, shape and (unless values=False) values must be too."""
import io
import json
import os
import pickle
import re
import shutil
import struct
import tempfile
import warnings
import zlib

import numpy as np
import pytest

import minitorch as mt
from minitorch import serialization

torch = pytest.importorskip("torch")


def _run(fn, m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(m)


def _same_value(got, want, values):
    if isinstance(want, torch.Tensor):
        assert isinstance(got, mt.Tensor), f"expected a tensor, got {type(got).__name__}"
        assert got.dtype.name == str(want.dtype).replace("torch.", "")
        assert tuple(got.shape) == tuple(want.shape)
        if values:
            np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    elif isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same_value(g, w, values)
    else:
        assert got == want


def same(fn, values=True, msg=None):
    """fn(torch) and fn(minitorch) agree: the same exception class (message msg when given), else equal results."""
    try:
        want = _run(fn, torch)
    except Exception as e:  # noqa: BLE001 (torch's exception is the spec)
        with pytest.raises(type(e), match=None if msg is None else re.escape(msg)):
            _run(fn, mt)
        return
    _same_value(_run(fn, mt), want, values)


# ------------------------------------------------------------------------------------------------ case 1: legacy

LEGACY = [
    # data: float32 (the default dtype) of the values
    (lambda m: m.Tensor([1., 2.]), True, None),
    (lambda m: m.Tensor([1, 2]), True, None),
    (lambda m: m.Tensor((1., 2.)), True, None),
    (lambda m: m.Tensor([[1, 2], [3, 4]]), True, None),
    (lambda m: m.Tensor(range(3)), True, None),
    (lambda m: m.Tensor(np.array([1, 2])), True, None),
    (lambda m: m.Tensor([True, False]), True, None),
    (lambda m: m.Tensor([m.tensor([1]), m.tensor([2])]), True, None),
    # sizes: uninitialised storage of that shape
    (lambda m: m.Tensor(2, 3), False, None),
    (lambda m: m.Tensor(m.Size([2, 3])), False, None),
    (lambda m: m.Tensor(m.Size([])), False, None),
    (lambda m: m.Tensor(np.int64(3)), False, None),
    (lambda m: m.Tensor(2, np.int64(3)), False, None),
    (lambda m: m.Tensor(3, device="cpu"), False, None),
    # a tensor: an alias keeping its dtype
    (lambda m: m.Tensor(m.tensor([1, 2])), True, None),
    (lambda m: m.Tensor(m.tensor(3)), True, None),
    (lambda m: m.Tensor(m.tensor([1., 2.], dtype=m.float64)), True, None),
    # errors
    (lambda m: m.Tensor(-1), True, "Trying to create tensor with negative dimension -1: [-1]"),
    (lambda m: m.Tensor(2, -1), True, "Trying to create tensor with negative dimension -1: [2, -1]"),
    (lambda m: m.Tensor("a"), True, "new(): invalid data type 'str'"),
    (lambda m: m.Tensor(b"ab"), True, "new(): invalid data type 'bytes'"),
    (lambda m: m.Tensor(None), True, "new(): data must be a sequence (got NoneType)"),
    (lambda m: m.Tensor(2.5), True, "new(): data must be a sequence (got float)"),
    (lambda m: m.Tensor(True), True, "new(): data must be a sequence (got bool)"),
    (lambda m: m.Tensor({1, 2}), True, "new(): data must be a sequence (got set)"),
    (lambda m: m.Tensor(np.float64(2)), True, "new(): data must be a sequence (got numpy.float64)"),
    (lambda m: m.Tensor(2, 3.0), True, None),
    (lambda m: m.Tensor(2 ** 63), True, None),
    (lambda m: m.Tensor([1], [2]), True, None),
    (lambda m: m.Tensor(m.ones(1), 2), True, None),
    (lambda m: m.Tensor([1.], dtype=m.float64), True, None),
    (lambda m: m.Tensor([1.], requires_grad=True), True, None),
    (lambda m: m.Tensor([[1], [2, 3]]), True, None),
    # the typed constructors
    (lambda m: m.FloatTensor([1, 2]), True, None),
    (lambda m: m.DoubleTensor([1.5]), True, None),
    (lambda m: m.LongTensor([1.5, -2.7]), True, None),
    (lambda m: m.IntTensor(np.array([3, 4])), True, None),
    (lambda m: m.BoolTensor([0, 2]), True, None),
    (lambda m: m.FloatTensor(), True, None),
    (lambda m: m.LongTensor(m.tensor([1, 2])), True, None),
    (lambda m: m.LongTensor(3), False, None),
    (lambda m: m.DoubleTensor(2, 3), False, None),
    (lambda m: m.IntTensor(m.Size([2])), False, None),
    (lambda m: m.LongTensor(-1), True, "Trying to create tensor with negative dimension -1: [-1]"),
    (lambda m: m.FloatTensor(None), True, "new(): data must be a sequence (got NoneType)"),
    (lambda m: m.FloatTensor("a"), True, None),
    (lambda m: m.FloatTensor(m.tensor([1, 2])), True, None),
    (lambda m: m.LongTensor(m.tensor([1.5])), True, None),
    (lambda m: m.FloatTensor([1], dtype=m.float64), True, None),
    (lambda m: isinstance(m.ones(1), m.FloatTensor), True, None),
    (lambda m: isinstance(m.ones(1, dtype=m.int64), m.FloatTensor), True, None),
    (lambda m: isinstance(m.ones(1, dtype=m.int64), m.LongTensor), True, None),
    (lambda m: isinstance(m.LongTensor([1]), m.Tensor), True, None),
]


@pytest.mark.parametrize("fn,values,msg", LEGACY)
def test_legacy_constructors(fn, values, msg):
    same(fn, values, msg)


def test_legacy_constructor_of_a_tensor_is_an_alias():
    for m in (torch, mt):
        base = m.tensor([1, 2])
        alias = m.Tensor(base)
        alias[0] = 5
        assert base.tolist() == [5, 2]
        leaf = m.ones(2, requires_grad=True)
        out = m.Tensor(leaf)
        assert out.requires_grad and out.grad_fn is not None
        out.sum().backward()
        assert leaf.grad.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------------------------------------ case 2: tensor()

TENSOR = [
    (lambda m: m.tensor(None), "Could not infer dtype of NoneType"),
    (lambda m: m.tensor({1, 2}), "Could not infer dtype of set"),
    (lambda m: m.tensor({1: 2}), "Could not infer dtype of dict"),
    (lambda m: m.tensor(x for x in range(3)), "Could not infer dtype of generator"),
    (lambda m: m.tensor(object()), "Could not infer dtype of object"),
    (lambda m: m.tensor([None]), "Could not infer dtype of NoneType"),
    (lambda m: m.tensor([1, None]), "Could not infer dtype of NoneType"),
    (lambda m: m.tensor([1.0, {2}]), "Could not infer dtype of set"),
    (lambda m: m.tensor("a"), "new(): invalid data type 'str'"),
    (lambda m: m.tensor(["a"]), "too many dimensions 'str'"),
    (lambda m: m.tensor(range(3)), None),
    # integers past int64, values that do not fit the dtype
    (lambda m: m.tensor(2 ** 63), "Overflow when unpacking long long"),
    (lambda m: m.tensor(-2 ** 63 - 1), "Overflow when unpacking long long"),
    (lambda m: m.tensor([1, 2 ** 63]), "Overflow when unpacking long long"),
    (lambda m: m.tensor([2 ** 63], dtype=m.int64), "Overflow when unpacking long long"),
    (lambda m: m.tensor(2 ** 31, dtype=m.int32), "value cannot be converted to type int32 without overflow"),
    (lambda m: m.tensor([-2 ** 31 - 1], dtype=m.int32), "value cannot be converted to type int32 without overflow"),
    (lambda m: m.tensor(1e20, dtype=m.int64), "value cannot be converted to type int64 without overflow"),
    (lambda m: m.tensor([float("nan")], dtype=m.int64), "value cannot be converted to type int64 without overflow"),
    (lambda m: m.tensor(np.uint64(2 ** 63)), None),
    (lambda m: m.tensor([np.uint64(5)]), None),
    # tensors inside sequences are scalars
    (lambda m: m.tensor([m.tensor([1.]), m.tensor([2.])]), None),
    (lambda m: m.tensor([m.ones(1, 1), m.ones(1, 1)]), None),
    (lambda m: m.tensor([[m.tensor([1.])], [m.tensor([2.])]]), None),
    (lambda m: m.tensor([m.tensor([1.]), 2.]), None),
    (lambda m: m.tensor([m.tensor([1., 2.]), m.tensor([3., 4.])]),
     "only one element tensors can be converted to Python scalars"),
    (lambda m: m.tensor([m.tensor([]), m.tensor([])]), "only one element tensors can be converted to Python scalars"),
    (lambda m: m.tensor([m.tensor(1, dtype=m.int32)]), None),
    (lambda m: m.tensor([m.tensor(1., dtype=m.float64)]), None),
    (lambda m: m.tensor([m.tensor(1), np.float64(2)]), None),
    # NumPy scalars and arrays keep their dtype; the list's dtype is the promotion of its elements'
    *[(lambda m, s=s: m.tensor([s, s]), None) for s in (np.float64(1.5), np.int32(3))],
    *[(lambda m, s=s: m.tensor([True, s]), None) for s in (np.float64(1.5), np.int32(3))],
    (lambda m: m.tensor([np.float64(1.5), 1.]), None),
    (lambda m: m.tensor([np.float32(1), np.float64(1)]), None),
    (lambda m: m.tensor([np.array([1., 2.]), np.array([3., 4.])]), None),
    (lambda m: m.tensor([np.array([1, 2], dtype=np.int32)]), None),
    (lambda m: m.tensor([np.array([1., 2.], dtype=np.float32), [3., 4.]]), None),
    # an explicit dtype converts any NumPy numbers
    (lambda m: m.tensor(np.array(["1"]), dtype=m.float32), None),
]


@pytest.mark.parametrize("fn,msg", TENSOR)
def test_tensor_inference_and_errors(fn, msg):
    same(fn, True, msg)


@pytest.mark.parametrize("npdt", [np.uint16, np.uint32, np.uint64, np.complex64, np.complex128])
def test_numpy_dtypes_minitorch_lacks_raise(npdt):
    """torch has these dtypes; minitorch does not: TypeError naming the dtype (from_numpy's wording), never a
    silent widening."""
    a = np.array([1, 2], dtype=npdt)
    msg = f"can't convert np.ndarray of type numpy.{np.dtype(npdt).type.__name__}"
    for fn in (lambda: mt.tensor(a), lambda: mt.as_tensor(a), lambda: mt.from_numpy(a), lambda: mt.tensor(a[0]),
               lambda: mt.tensor([a[0], a[1]]), lambda: mt.tensor([a])):
        with pytest.raises(TypeError, match=re.escape(msg)):
            fn()


# ------------------------------------------------------------------------------------------------ case 3: factories

FACTORIES = [
    # full: fill_value is a Number
    (lambda m: m.full((4,), None), True, "full(): argument 'fill_value' (position 2) must be Number, not NoneType"),
    (lambda m: m.full((4,), "a"), True, "full(): argument 'fill_value' (position 2) must be Number, not str"),
    (lambda m: m.full_like(m.zeros(2), None), True,
     "full_like(): argument 'fill_value' (position 2) must be Number, not NoneType"),
    (lambda m: m.zeros(2).new_full((2,), None), True, None),
    (lambda m: m.full((2,), m.tensor(3.)), True, None),
    (lambda m: m.full((2,), m.tensor(3)), True, None),
    (lambda m: m.full((2,), 2 ** 40, dtype=m.int32), True, None),
    (lambda m: m.full_like(m.zeros(2, dtype=m.int32), 2 ** 40), True, None),
    # arange: the size from the doubles (int64: from the truncated bounds), the step nonzero after truncation
    (lambda m: m.arange(0., 1., 0.3, dtype=m.int64), True, "step must be nonzero"),
    (lambda m: m.arange(0., -1., -0.3, dtype=m.int64), True, "step must be nonzero"),
    (lambda m: m.arange(0., 3., 1.5, dtype=m.int64), True, None),
    (lambda m: m.arange(1.7, 5.2, 1.5, dtype=m.int64), True, None),
    (lambda m: m.arange(-1.7, 5.2, 1.5, dtype=m.int64), True, None),
    (lambda m: m.arange(0, 3.5, dtype=m.int64), True, None),
    (lambda m: m.arange(-0.5, 0.9, 1, dtype=m.int64), True, None),
    (lambda m: m.arange(3, dtype=m.bool), True, "\"arange_cpu\" not implemented for 'Bool'"),
    (lambda m: m.arange(0, 1, float("nan")), True, "step must be nonzero"),
    (lambda m: m.arange(0, float("nan")), True, "unsupported range: 0 -> nan"),
    (lambda m: m.arange(float("-inf"), 0), True, "unsupported range: -inf -> 0"),
    (lambda m: m.arange(1, 0), True, "upper bound and lower bound inconsistent with step sign"),
    (lambda m: m.arange(0, 1, 1e-300), True, "invalid size, possible overflow?"),
    (lambda m: m.arange(0, 1e19, 1e18, dtype=m.int64), True, None),
    (lambda m: m.arange(0, 2 ** 63), True, None),
    (lambda m: m.arange(None), True, "arange(): argument 'end' (position 1) must be Number, not NoneType"),
    (lambda m: m.arange(m.tensor([3., 4.])), True, None),
    # linspace
    (lambda m: m.linspace(0, 1, 2.5), True, None),
    (lambda m: m.linspace(0, 1, True), True, None),
    (lambda m: m.linspace(0, 1, m.tensor(3.)), True, None),
    (lambda m: m.linspace(0, 10, 5, dtype=m.bool), True, "\"linspace_cpu\" not implemented for 'Bool'"),
    (lambda m: m.linspace(0, 1, 2 ** 63), True, "Overflow when unpacking long long"),
    # eye
    (lambda m: m.eye(2, -1), True, "m must be greater or equal to 0, got -1"),
    (lambda m: m.eye(2 ** 63), True, "Overflow when unpacking long long"),
    # sizes that cannot be allocated: RuntimeError, never NumPy's ValueError or MemoryError
    (lambda m: m.linspace(0, 1, 2 ** 62), True, None),
    (lambda m: m.linspace(0, 1, 2 ** 62, dtype=m.int32), True, None),
    (lambda m: m.eye(2 ** 40), True, None),
    (lambda m: m.eye(2 ** 31, 2 ** 31), True, None),
    (lambda m: m.arange(0, 2 ** 62), True, None),
    (lambda m: m.arange(0., 2. ** 62), True, None),
    # randperm
    (lambda m: m.randperm(3, dtype=m.bool), True, "\"randperm\" not implemented for 'Bool'"),
    (lambda m: m.randperm(1.5), True, "randperm(): argument 'n' (position 1) must be int, not float"),
    (lambda m: m.randperm(True), True, None),
    (lambda m: m.randperm(2 ** 63), True, "Overflow when unpacking long long"),
    # randint: the range must fit the dtype
    (lambda m: m.randint(0, 5, (5,), dtype=m.bool), True, "to - 1 is out of bounds for bool"),
    (lambda m: m.randint(3, (5,), dtype=m.bool), True, "to - 1 is out of bounds for bool"),
    (lambda m: m.randint(-1, 2, (5,), dtype=m.bool), True, "from is out of bounds for bool"),
    (lambda m: m.randint(0, 2 ** 40, (3,), dtype=m.int32), True, "to - 1 is out of bounds for int"),
    (lambda m: m.randint(2 ** 31, 2 ** 31 + 5, (3,), dtype=m.int32), True, "from is out of bounds for int"),
    (lambda m: m.randint(0, 2 ** 63, (3,)), True, "Overflow when unpacking long long"),
    (lambda m: m.randint(5.0, (2,)), True, None),
    (lambda m: m.randint(True, (2,)), True, None),
    (lambda m: m.randint(1.5, 3, (3,)), True, None),
    # normal: std >= 0 everywhere; one draw per element of the broadcast shape, in mean's dtype
    (lambda m: m.normal(m.zeros(3), m.tensor([1., -1., 1.])), True, "normal expects all elements of std >= 0.0"),
    (lambda m: m.normal(0., m.tensor([1., -1.])), True, "normal expects all elements of std >= 0.0"),
    (lambda m: m.normal(m.zeros(3), m.tensor([float("nan")] * 3)), True,
     "normal expects all elements of std >= 0.0"),
    (lambda m: m.normal(m.zeros(3), -1.), True, "normal expects std >= 0.0, but found std -1"),
    (lambda m: m.normal(m.zeros(3), -1.5), True, "normal expects std >= 0.0, but found std -1.5"),
    (lambda m: m.normal(m.zeros(3), float("nan")), True, "normal expects std >= 0.0, but found std nan"),
    (lambda m: m.normal(m.zeros(3), m.ones(3, dtype=m.float64)), False, None),
    # manual_seed: a 64-bit seed (negative ones wrap), returning the default generator
    (lambda m: m.manual_seed(2 ** 64), True, "Overflow when unpacking long long"),
    (lambda m: m.manual_seed(-2 ** 63 - 1), True, "Overflow when unpacking long long"),
    (lambda m: isinstance(m.manual_seed(3), m.Generator), True, None),
    (lambda m: m.manual_seed(3) is m.default_generator, True, None),
    (lambda m: m.Generator().manual_seed(2 ** 64), True, "Overflow when unpacking long long"),
]


@pytest.mark.parametrize("fn,values,msg", FACTORIES)
def test_factories(fn, values, msg):
    same(fn, values, msg)


def test_normal_draws_each_element_of_the_broadcast_shape():
    """normal(mean (3, 1), std (2,)) is one independent draw per element, not one per row repeated."""
    for mean, std in ((mt.zeros(3, 1), mt.ones(2)), (mt.zeros(3), mt.ones(2, 3))):
        r = mt.normal(mean, std).numpy()
        assert len(np.unique(r)) == r.size


# ------------------------------------------------------------------------------------------------ case 4: nn

def _f(m):
    return m.nn.functional


NN = [
    (lambda m: _f(m).pad(m.ones(2, 3), (1,)), "Padding length must be divisible by 2"),
    (lambda m: _f(m).pad(m.ones(2, 3), (1, 1, 1)), "Padding length must be divisible by 2"),
    (lambda m: _f(m).pad(m.ones(2, 3), (1,) * 6), "Padding length should be less than or equal to two times the input "
                                                  "dimension but got padding length 6 and input of dimension 2"),
    (lambda m: _f(m).pad(m.ones(2, 3), (1.5, 1)), "pad(): argument 'pad' (position 2) must be tuple of ints, but found "
                                                 "element of type float at pos 0"),
    (lambda m: _f(m).pad(m.ones(2, 3), (1, 1.5)), None),
    (lambda m: _f(m).pad(m.ones(2, 3), (True, 1)), None),
    (lambda m: _f(m).pad(m.ones(2), (1, 1), mode="bogus"), "Unrecognised padding mode bogus"),
    (lambda m: _f(m).pad(m.ones(2, dtype=m.int32), (1, 1), value=1e10), None),
    (lambda m: m.nn.LSTMCell(2, 3)(m.zeros(1, 2), (m.zeros(1, 3),)), "lstm_cell expects two hidden states"),
    (lambda m: m.nn.LSTMCell(2, 3)(m.zeros(1, 2), (m.zeros(1, 3),) * 3), "lstm_cell expects two hidden states"),
    (lambda m: m.nn.LSTMCell(2, 3)(m.zeros(1, 2), m.zeros(1, 3)), None),
    (lambda m: _f(m).embedding(m.tensor([0, 1]), m.ones(5)), "'weight' must be 2-D"),
    (lambda m: _f(m).embedding(m.tensor([0, 1]), m.ones(5, 2, 2)), "'weight' must be 2-D"),
    (lambda m: _f(m).embedding(m.tensor([0, 1]), m.tensor(1.)), "'weight' must be 2-D"),
    (lambda m: _f(m).embedding(m.tensor([0.]), m.ones(5)), "'weight' must be 2-D"),
    *[(lambda m, c=c, kw=kw, x=x: getattr(m.nn, c)(2, 3, **kw)(m.zeros(*x)),
       "Expected sequence length to be larger than 0 in RNN")
      for c in ("LSTM", "GRU", "RNN")
      for kw, x in (({}, (0, 1, 2)), ({"batch_first": True}, (1, 0, 2)), ({}, (0, 2)), ({"num_layers": 2,
                                                                                          "bidirectional": True},
                                                                                         (0, 1, 2)))],
    # floating-point kernels on integer and bool tensors
    *[(lambda m, f=f, d=d: f(m)(m.tensor([-1, 0, 2]).to(getattr(m, d))), None)
      for f in (lambda m: _f(m).gelu, lambda m: (lambda x: _f(m).gelu(x, approximate="tanh")),
                lambda m: _f(m).silu, lambda m: (lambda x: _f(m).silu(x, inplace=True)),
                lambda m: _f(m).leaky_relu, lambda m: (lambda x: _f(m).leaky_relu(x, inplace=True)),
                lambda m: _f(m).leaky_relu_, lambda m: m.nn.GELU(), lambda m: m.nn.SiLU(), lambda m: m.nn.LeakyReLU(),
                lambda m: (lambda x: _f(m).layer_norm(x, (3,))),
                lambda m: _f(m).dropout, lambda m: (lambda x: _f(m).dropout(x, 0.5, inplace=True)))
      for d in ("int64", "int32", "bool")],
    (lambda m: _f(m).silu(m.zeros(0, dtype=m.int64)), "\"silu_cpu\" not implemented for 'Long'"),
    (lambda m: _f(m).gelu(m.tensor([1])), "\"GeluKernelImpl\" not implemented for 'Long'"),
    (lambda m: _f(m).layer_norm(m.ones(2, 3, dtype=m.int64), (3,)),
     "\"LayerNormKernelImpl\" not implemented for 'Long'"),
    (lambda m: _f(m).dropout(m.ones(3, dtype=m.int64), 0.5), "result type Float can't be cast to the desired output "
                                                            "type Long"),
    (lambda m: _f(m).dropout(m.ones(3, dtype=m.int64), 1.0), None),
    (lambda m: _f(m).dropout(m.ones(3, dtype=m.bool), 1.0), None),
]


@pytest.mark.parametrize("fn,msg", NN)
def test_nn(fn, msg):
    torch.manual_seed(0)
    same(fn, True, msg)


# ------------------------------------------------------------------------------------------------ case 5: checkpoints

def _as_unprivileged(fn):
    """Run fn in a child process without root's permission override (uid 65534 when running as root); returns
    the class name and message of what it raised, or None."""
    if os.geteuid() != 0:
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e)
        return None
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, run, report, exit without running the parent's cleanup
        try:
            os.close(r)
            os.setuid(65534)
            try:
                fn()
                res = None
            except Exception as e:  # noqa: BLE001
                res = (type(e).__name__, str(e))
            os.write(w, pickle.dumps(res))
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return pickle.loads(data)


def test_save_over_a_read_only_file_fails():
    """torch.save cannot open a read-only file for writing (torch 2.13: RuntimeError 'open file failed with
    strerror: Permission denied'); minitorch.save raises PermissionError and leaves the file as it was, instead of
    renaming a new file over it."""
    d = tempfile.mkdtemp()  # (pytest's tmp_path lies under a 0700 directory the unprivileged child cannot enter)
    try:
        os.chmod(d, 0o777)  # the directory stays writable: only the file's own permission says no
        p = os.path.join(d, "ro.pt")
        with open(p, "wb") as fh:
            fh.write(b"keep")
        os.chmod(p, 0o444)
        torch.save({"a": 1}, io.BytesIO())  # torch's lazy imports, before dropping privileges
        res = _as_unprivileged(lambda: torch.save({"a": 1}, p))
        assert res is not None and "Permission denied" in res[1]
        res = _as_unprivileged(lambda: mt.save({"a": mt.ones(2)}, p))
        assert res is not None and res[0] == "PermissionError"
        with open(p, "rb") as fh:
            assert fh.read() == b"keep"
        assert os.listdir(d) == ["ro.pt"]  # no temp file left behind
    finally:
        shutil.rmtree(d)


def test_save_writes_through_a_symlink(tmp_path):
    """torch.save(path) of a symlink writes the file it points to; the link stays a link."""
    for m in (torch, mt):
        target, link = tmp_path / f"{m.__name__}.target", tmp_path / f"{m.__name__}.link"
        target.write_bytes(b"old")
        link.symlink_to(target)
        m.save({"a": m.ones(2)}, str(link))
        assert link.is_symlink() and link.resolve() == target.resolve()
        assert m.load(str(target))["a"].tolist() == [1.0, 1.0]


def _checkpoint(obj):
    buf = io.BytesIO()
    serialization._save_minitorch(obj, buf)
    return buf.getvalue()


def _rewrite_header(data, edit):
    """Apply edit(header) -> header to a checkpoint and re-emit it with a correct header CRC."""
    m = len(serialization.MAGIC)
    hlen, _ = struct.unpack("<QI", data[m:m + 12])
    header = edit(json.loads(data[m + 12:m + 12 + hlen]))
    body = data[(m + 12 + hlen + 63) // 64 * 64:]
    hj = json.dumps(header, separators=(",", ":")).encode()
    head = serialization.MAGIC + struct.pack("<QI", len(hj), zlib.crc32(hj)) + hj
    return head + bytes(-len(head) % 64) + body


def _record(**fields):
    return lambda h: {**h, "tensors": [{**h["tensors"][0], **fields}]}


@pytest.mark.parametrize("obj,edit", [
    (mt.zeros(0), _record(shape=[0, 2 ** 62, 2 ** 62])),  # no data, but strides past int64
    (mt.zeros(0), _record(shape=[0, 2 ** 64])),
    (mt.zeros(0), _record(shape=[0, 2 ** 61, 4])),  # element count fits, byte strides do not
    (np.zeros(0), _record(shape=[0, 2 ** 62, 2 ** 62])),
])
def test_load_rejects_crafted_records(obj, edit):
    """A record whose zero dim leaves no data but whose strides overflow int64 raises RuntimeError naming
    minitorch.load, not NumPy's ValueError (torch raises RuntimeError 'Stride calculation overflowed' for such a
    shape). Negative sizes, over 64 dims and short storage already raise: test_serialization.py."""
    with pytest.raises(RuntimeError, match="minitorch.load"):
        mt.load(io.BytesIO(_rewrite_header(_checkpoint({"w": obj}), edit)))


# ------------------------------------------------------------------------------------------------ .type()

@pytest.mark.parametrize("fn,msg", [
    (lambda m: m.ones(1).type("bogus"), "invalid type: 'bogus'"),
    (lambda m: m.ones(1).type("torch.float32"), "invalid type: 'torch.float32'"),
    (lambda m: m.ones(1, dtype=m.int64).type(m.FloatTensor), None),
    (lambda m: m.ones(1).type(m.LongTensor), None),
])
def test_tensor_type(fn, msg):
    same(fn, True, msg)


def test_where_single_argument_flip_no_dims_unbind_empty_mT_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        cond = lib.tensor([[1, 0], [0, 3]]) > 0
        r = lib.where(cond)
        assert isinstance(r, tuple) and [t.tolist() for t in r] == [[0, 1], [0, 1]]
        y = lib.ones(3)
        z = y.flip(())
        z.add_(1)  # a copy: y is unchanged
        assert y.tolist() == [1.0, 1.0, 1.0]
        assert lib.zeros(0, 3).unbind(0) == ()
        with pytest.raises(IndexError):
            lib.zeros(0, 3).unbind(2)
        with warnings.catch_warnings(record=True) as caught:  # torch warns once per process (TORCH_WARN_ONCE)
            warnings.simplefilter("always")
            assert lib.tensor(2.0).mT.item() == 2.0
        assert lib is torch or any("mT is deprecated on 0-D" in str(w.message) for w in caught)
        with pytest.raises(RuntimeError, match="only supported on matrices"):
            lib.zeros(3).mT
