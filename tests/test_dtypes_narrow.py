"""The narrow dtypes (uint8, int8, int16, float16, bfloat16) against PyTorch: creation, conversion, promotion,
elementwise ops with tensors and Python numbers, reductions, matmul, indexing, autograd, printing, NumPy.

On the CPU they are storage dtypes computed in float32 / int32 and rounded once per op (csrc/ops/narrow.c),
which is PyTorch's CPU arithmetic for Half and BFloat16: elementwise results are compared exactly where the
op is exact in float32 (+ - * / comparisons, integer ops) and to one unit of the narrow dtype elsewhere."""
import itertools
import re

import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

NARROW = ["uint8", "int8", "int16", "float16", "bfloat16"]
ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
FLOAT16S = ["float16", "bfloat16"]
# one unit in the last place, relative
ULP = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}


def mdt(name):
    return getattr(mt, name)


def tdt(name):
    return getattr(torch, name)


def values(name, n=12, seed=0):
    """Values that fit dtype `name` (both signs where it is signed), as a float64 NumPy array."""
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.integers(0, 2, n).astype(np.float64)
    if name == "uint8":
        return rng.integers(0, 256, n).astype(np.float64)
    if name in ("int8",):
        return rng.integers(-128, 128, n).astype(np.float64)
    if name in ("int16", "int32", "int64"):
        return rng.integers(-300, 300, n).astype(np.float64)
    return np.round(rng.standard_normal(n) * 10, 3)


def both(v, name):
    """(minitorch, torch) tensors of dtype `name` holding v, built the same way (from float64 values)."""
    return mt.tensor(v.tolist(), dtype=mt.float64).to(mdt(name)), torch.tensor(v.tolist(), dtype=torch.float64).to(tdt(name))


def check(m, t, name=None, exact=True):
    """m (minitorch) equals t (torch): same dtype, same shape, values equal (or to a unit of the dtype)."""
    assert m.dtype.name == str(t.dtype).replace("torch.", ""), (m.dtype, t.dtype)
    assert tuple(m.shape) == tuple(t.shape)
    mv = m.detach().double().numpy() if m.dtype is not mt.bool else m.numpy()
    tv = t.detach().double().numpy() if t.dtype is not torch.bool else t.numpy()
    if exact or t.dtype.is_floating_point is False:
        np.testing.assert_array_equal(mv, tv)
    else:
        tol = 2 * ULP[str(t.dtype).replace("torch.", "")]
        np.testing.assert_allclose(mv, tv, rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------------ names, limits

def test_names_aliases_and_attributes():
    for name in NARROW:
        d, td = mdt(name), tdt(name)
        assert repr(d) == repr(td)
        assert d.itemsize == td.itemsize and d.is_floating_point == td.is_floating_point and d.is_signed == td.is_signed
    assert mt.half is mt.float16 and mt.short is mt.int16
    assert mt.promote_types(mt.uint8, mt.int8) is mt.int16


@pytest.mark.parametrize("a,b", list(itertools.combinations_with_replacement(ALL, 2)))
def test_promote_types_matches_torch(a, b):
    assert repr(mt.promote_types(mdt(a), mdt(b))) == repr(torch.promote_types(tdt(a), tdt(b)))


def test_finfo_iinfo():
    for name in ["float16", "bfloat16", "float32", "float64"]:
        f, g = mt.finfo(mdt(name)), torch.finfo(tdt(name))
        assert repr(f) == repr(g)
        for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(f, attr) == getattr(g, attr), (name, attr)
    for name in ["uint8", "int8", "int16", "int32", "int64"]:
        f, g = mt.iinfo(mdt(name)), torch.iinfo(tdt(name))
        assert repr(f) == repr(g) and (f.bits, f.min, f.max, f.dtype) == (g.bits, g.min, g.max, g.dtype)
    assert repr(mt.finfo()) == repr(torch.finfo())
    for fn in (lambda m: m.finfo(m.int32), lambda m: m.iinfo(m.float32), lambda m: m.iinfo(m.bool)):
        with pytest.raises(TypeError) as te:
            fn(torch)
        with pytest.raises(TypeError, match=re.escape(str(te.value))):
            fn(mt)


# ------------------------------------------------------------------------------------------------ creation

@pytest.mark.parametrize("name", NARROW)
def test_creation_and_printing(name):
    m, t = both(values(name), name)
    assert repr(m) == repr(t)
    assert repr(m[:0]) == repr(t[:0]) and repr(m[3]) == repr(t[3])
    for fn in (lambda l, d: l.zeros(2, 3, dtype=d), lambda l, d: l.ones(4, dtype=d), lambda l, d: l.full((2,), 7, dtype=d),
               lambda l, d: l.arange(6, dtype=d), lambda l, d: l.eye(3, dtype=d), lambda l, d: l.tensor([[1, 2], [3, 4]], dtype=d)):
        check(fn(mt, mdt(name)), fn(torch, tdt(name)))
        assert repr(fn(mt, mdt(name))) == repr(fn(torch, tdt(name)))
    if name in FLOAT16S:
        check(mt.linspace(-1, 1, 7, dtype=mdt(name)), torch.linspace(-1, 1, 7, dtype=tdt(name)))
        big = [1e-8, 3.14159, 70000.0, -1e5, 123.456]
        check(mt.tensor(big, dtype=mdt(name)), torch.tensor(big, dtype=tdt(name)))
        assert repr(mt.tensor(big, dtype=mdt(name))) == repr(torch.tensor(big, dtype=tdt(name)))


@pytest.mark.parametrize("name,value", [("uint8", 300), ("uint8", -1), ("uint8", -256), ("uint8", 2.5), ("uint8", -2.7),
                                        ("int8", 200), ("int8", -128.9), ("int16", 70000), ("float16", 1e6),
                                        ("float16", float("inf")), ("bfloat16", 1e39), ("float16", 65504)])
def test_checked_number_conversion(name, value):
    """full() checks the value as c10 does (an unsigned type lets integers down to -max wrap; floats must fit)."""
    try:
        want = torch.full((2,), value, dtype=tdt(name))
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=re.escape(str(e))):
            mt.full((2,), value, dtype=mdt(name))
    else:
        check(mt.full((2,), value, dtype=mdt(name)), want)


@pytest.mark.parametrize("name,data", [("uint8", [300]), ("uint8", [-1]), ("int8", [-129]), ("uint8", [1.5, -2.7]),
                                       ("int16", [40000]), ("float16", [70000.0]), ("bfloat16", [1e39])])
def test_tensor_from_list_overflow(name, data):
    try:
        want = torch.tensor(data, dtype=tdt(name))
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=re.escape(str(e))):
            mt.tensor(data, dtype=mdt(name))
    else:
        check(mt.tensor(data, dtype=mdt(name)), want)


@pytest.mark.parametrize("src,dst", [(a, b) for a in ALL for b in ALL if a in NARROW or b in NARROW])
def test_conversion_between_every_pair(src, dst):
    v = values(src, 40, seed=3)
    if src in ("float32", "float64", "float16", "bfloat16"):
        v = np.concatenate([v, [-1.5, 0.5, 255.7, -129.2, 300.9, 65519.0, 70000.0]])  # wraps, rounding, overflow
        if dst in ("float16", "bfloat16", "float32", "float64", "bool"):
            v = np.concatenate([v, [np.inf, -np.inf, np.nan, 1e-7, 6e-8]])
    m, t = both(v, src)
    check(m.to(mdt(dst)), t.to(tdt(dst)))


def test_conversion_methods_and_legacy_types():
    x = mt.tensor([1.7, -2.2, 300.0])
    y = torch.tensor([1.7, -2.2, 300.0])
    for meth in ("half", "bfloat16", "byte", "char", "short"):
        check(getattr(x, meth)(), getattr(y, meth)())
        assert getattr(x, meth)().type() == getattr(y, meth)().type()
    for name in ("HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor", "ShortTensor"):
        check(getattr(mt, name)([1, 2, 3]), getattr(torch, name)([1, 2, 3]))
        assert isinstance(getattr(mt, name)(2), getattr(mt, name))
    assert x.type("torch.HalfTensor").dtype is mt.float16


# ------------------------------------------------------------------------------------------------ NumPy

@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "float16"])
def test_numpy_round_trip_shares_memory(name):
    a = values(name).astype(name)
    t = mt.from_numpy(a)
    assert t.dtype is mdt(name)
    a[0] = 7
    assert t[0].item() == 7  # shared
    back = t.numpy()
    assert back.dtype == a.dtype and np.shares_memory(back, a)
    np.testing.assert_array_equal(mt.tensor(a).numpy(), a)
    assert mt.as_tensor(a).dtype is mdt(name)


def test_bfloat16_numpy_raises_as_torch():
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        mt.ones(2, dtype=mt.bfloat16).numpy()
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        torch.ones(2, dtype=torch.bfloat16).numpy()


# ------------------------------------------------------------------------------------------------ elementwise

BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "floor_divide": lambda a, b: a // b, "remainder": lambda a, b: a % b, "maximum": lambda a, b: a.maximum(b),
    "eq": lambda a, b: a == b, "lt": lambda a, b: a < b, "ge": lambda a, b: a >= b,
}
INT_BINARY = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
              "lshift": lambda a, b: a << (b.abs() % 8 if hasattr(b, "abs") else b), "rshift": lambda a, b: a >> 2}


def _nonzero(v):
    return np.where(v == 0, 3, v)


@pytest.mark.parametrize("op", list(BINARY) + list(INT_BINARY))
@pytest.mark.parametrize("a,b", [(a, b) for a in ALL for b in ALL if (a in NARROW or b in NARROW) and "bool" not in (a, b)])
def test_binary_tensor_tensor(op, a, b):
    fn = BINARY.get(op) or INT_BINARY[op]
    if op in INT_BINARY and any(n in ("float16", "bfloat16", "float32", "float64") for n in (a, b)):
        return
    if op == "lshift" and "uint8" != a:
        return  # torch's left shift of negative values is undefined behaviour in C++
    va, vb = values(a, 24, 1), values(b, 24, 2)
    if op in ("floor_divide", "remainder", "div"):
        vb = _nonzero(vb)
    ma, ta = both(va, a)
    mb, tb = both(vb, b)
    want = fn(ta, tb)
    exact = op not in ("div", "floor_divide", "remainder")
    check(fn(ma, mb), want, exact=exact)
    # broadcast: a column against a row
    check(fn(ma[:4].reshape(4, 1), mb[:6].reshape(1, 6)), fn(ta[:4].reshape(4, 1), tb[:6].reshape(1, 6)), exact=exact)


@pytest.mark.parametrize("name", NARROW)
@pytest.mark.parametrize("s", [3, 300, -1, 2.5, 0.1, -0.0999, 3.3, 1e-4])
def test_binary_tensor_scalar(name, s):
    """A Python number is converted to the tensor's dtype first (uint8: x < 300 compares with 44), except by
    multiplication and division, which read it in float as PyTorch's CPU kernels do."""
    v = values(name, 24, 5)
    m, t = both(v, name)
    for op, fn in BINARY.items():
        if op in ("maximum",):
            continue
        if op in ("floor_divide", "remainder") and (s == 0 or (isinstance(s, float) and name not in FLOAT16S)):
            continue
        want = fn(t, s)
        check(fn(m, s), want, exact=op not in ("floor_divide", "remainder"))
    check(s - m if name != "uint8" or isinstance(s, float) else m - s, s - t if name != "uint8" or isinstance(s, float) else t - s)


@pytest.mark.parametrize("name", NARROW)
def test_unary(name):
    v = values(name, 32, 7)
    m, t = both(v, name)
    exact_ops = ["neg", "abs", "sign", "floor", "ceil", "round", "trunc", "relu", "square"]
    float_ops = ["exp", "sin", "cos", "tanh", "sigmoid", "sqrt", "log", "rsqrt", "erf", "expm1", "log1p", "reciprocal"]
    for op in exact_ops:
        if name == "uint8" and op in ("neg",):
            check(-m, -t)
            continue
        check(getattr(m, op)(), getattr(t, op)())
    if name in ("uint8", "int8", "int16"):
        check(~m, ~t)
    for op in float_ops:
        x, y = (m.abs() + 1, t.abs() + 1) if op in ("sqrt", "log", "rsqrt", "log1p") else (m, t)
        check(getattr(x, op)(), getattr(y, op)(), exact=False)
    check(m.clamp(-3, 5), t.clamp(-3, 5))
    if name in FLOAT16S:
        check(m.clamp(min=0.1), t.clamp(min=0.1))
        x = mt.tensor([float("nan"), float("inf"), -float("inf"), 1.0], dtype=mdt(name))
        y = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0], dtype=tdt(name))
        check(x.nan_to_num(), y.nan_to_num())
        check(x.isnan(), y.isnan())


@pytest.mark.parametrize("name", NARROW)
def test_inplace_and_views(name):
    v = values(name, 24, 9)
    m, t = both(v, name)
    m2, t2 = m.clone().reshape(4, 6), t.clone().reshape(4, 6)
    m2[:, 1] += 3
    t2[:, 1] += 3
    m2.t()[2].mul_(2)
    t2.t()[2].mul_(2)
    check(m2, t2)
    m2[1:3, 2:5] = 9
    t2[1:3, 2:5] = 9
    check(m2, t2)
    check(m2.t().contiguous(), t2.t().contiguous())
    check(m2.permute(1, 0)[::2], t2.permute(1, 0)[::2])


# ------------------------------------------------------------------------------------------------ reductions, scans

@pytest.mark.parametrize("name", NARROW)
def test_reductions(name):
    v = values(name, 60, 11)
    m, t = both(v, name)
    m, t = m.reshape(5, 12), t.reshape(5, 12)
    fl = name in FLOAT16S
    for fn in (lambda x: x.sum(), lambda x: x.sum(1), lambda x: x.max(), lambda x: x.min(0).values, lambda x: x.argmax(1),
               lambda x: x.amax(0), lambda x: x.cumsum(1), lambda x: x.tril(1), lambda x: x.sort(1).values):
        check(fn(m), fn(t), exact=not fl)
    if fl:
        for fn in (lambda x: x.mean(), lambda x: x.mean(0), lambda x: x.var(1), lambda x: x.std(), lambda x: x.prod(1),
                   lambda x: x.softmax(1), lambda x: x.log_softmax(0), lambda x: x.logsumexp(1), lambda x: x.norm()):
            check(fn(m), fn(t), exact=False)
    else:
        check(m.sum(1, dtype=mt.int16), t.sum(1, dtype=torch.int16))
        with pytest.raises(RuntimeError, match="mean"):
            m.mean()


# ------------------------------------------------------------------------------------------------ matmul, indexing

@pytest.mark.parametrize("name", FLOAT16S)
def test_matmul_accumulates_in_float32(name):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 33, 40)), rng.standard_normal((40, 17))
    ma, ta = both(a.ravel(), name)
    mb, tb = both(b.ravel(), name)
    ma, ta, mb, tb = ma.reshape(3, 33, 40), ta.reshape(3, 33, 40), mb.reshape(40, 17), tb.reshape(40, 17)
    for fn in (lambda x, y: x @ y, lambda x, y: x[0] @ y, lambda x, y: x[1].t()[:17] @ y[:33],
               lambda x, y: x[0] @ y[:, 0], lambda x, y: (x[0, :2, :17] * 1).addmm(x[0, :2], y, beta=0.5)):
        mr, tr = fn(ma, mb), fn(ta, tb)
        # the float32 reference, rounded once to the dtype: PyTorch's CPU half GEMM may round partial sums
        ref = fn(ta.float(), tb.float()).to(tdt(name))
        check(mr, ref, exact=False)
        check(mr, tr, exact=False) if name == "bfloat16" else None


@pytest.mark.parametrize("name", NARROW)
def test_indexing_and_joining(name):
    v = values(name, 30, 13)
    m, t = both(v, name)
    m, t = m.reshape(5, 6), t.reshape(5, 6)
    idx = [4, 0, 2, 2]
    check(m[idx], t[idx])
    check(m.index_select(1, mt.tensor([5, 1])), t.index_select(1, torch.tensor([5, 1])))
    gi = [[0, 1, 2, 3, 4, 0]] * 2
    check(m.gather(0, mt.tensor(gi)), t.gather(0, torch.tensor(gi)))
    check(m.masked_fill(m > 0, 1), t.masked_fill(t > 0, 1))
    check(mt.cat([m, m[:2]]), torch.cat([t, t[:2]]))
    check(mt.stack([m, m], 1), torch.stack([t, t], 1))
    check(mt.where(m > 0, m, m.flip(0)), torch.where(t > 0, t, t.flip(0)))
    z, w = mt.zeros(3, 6, dtype=mdt(name)), torch.zeros(3, 6, dtype=tdt(name))
    si = [[0, 1, 2, 0, 1, 2]] * 5
    check(z.scatter_add(0, mt.tensor(si), m), w.scatter_add(0, torch.tensor(si), t), exact=name not in FLOAT16S)
    check(z.clone().index_put_((mt.tensor([0, 2, 0, 1, 1]),), m, accumulate=True),
          w.clone().index_put_((torch.tensor([0, 2, 0, 1, 1]),), t, accumulate=True), exact=name not in FLOAT16S)
    check(m.sum(0), t.sum(0), exact=name not in FLOAT16S)
    m2, t2 = m.clone(), t.clone()
    m2[mt.tensor([0, 3])] = m[1]
    t2[torch.tensor([0, 3])] = t[1]
    check(m2, t2)


# ------------------------------------------------------------------------------------------------ autograd

@pytest.mark.parametrize("name", FLOAT16S)
def test_autograd_in_16_bit_floats(name):
    rng = np.random.default_rng(4)
    v, w = rng.standard_normal(12), rng.standard_normal(12)
    mx, tx = both(v, name)
    mw, tw = both(w, name)
    mx.requires_grad_()
    tx.requires_grad_()
    mw.requires_grad_()
    tw.requires_grad_()
    ml = ((mx.reshape(3, 4) @ mw.reshape(4, 3)).tanh() * mx[:3] + mx.exp().sum() / 7).sum()
    tl = ((tx.reshape(3, 4) @ tw.reshape(4, 3)).tanh() * tx[:3] + tx.exp().sum() / 7).sum()
    ml.backward()
    tl.backward()
    assert ml.grad_fn.name() == tl.grad_fn.name()
    check(ml, tl, exact=False)
    tol = 8 * ULP[name]
    for mg, tg in ((mx.grad, tx.grad), (mw.grad, tw.grad)):
        assert mg.dtype is mdt(name)
        np.testing.assert_allclose(mg.double().numpy(), tg.double().numpy(), rtol=tol, atol=tol)
    # a float32 leaf through a cast: the gradient comes back as float32
    a = mt.ones(3, requires_grad=True)
    (a.half() * 2).sum().backward()
    assert a.grad.dtype is mt.float32 and a.grad.tolist() == [2.0, 2.0, 2.0]


def test_integer_narrow_tensors_cannot_require_grad():
    for name in ("uint8", "int8", "int16"):
        with pytest.raises(RuntimeError, match="floating point"):
            mt.zeros(2, dtype=mdt(name), requires_grad=True)


# ------------------------------------------------------------------------------------------------ what is not there

FUSED = {
    "conv2d": lambda F, x, w: F.conv2d(x, w[:4], padding=1),
    "conv1d": lambda F, x, w: F.conv1d(x[:, :, 0], w[:4, :, 0], stride=2),
    "conv_transpose2d": lambda F, x, w: F.conv_transpose2d(x, w[:, :4].transpose(0, 1).contiguous()[:3]),
    "max_pool2d": lambda F, x, w: F.max_pool2d(x, 2),
    "avg_pool2d": lambda F, x, w: F.avg_pool2d(x, 3, stride=2, padding=1),
    "adaptive_avg_pool2d": lambda F, x, w: F.adaptive_avg_pool2d(x, 3),
    "cross_entropy": lambda F, x, w: F.cross_entropy(x[:, :, 0, 0], x[:, 0, 0, :3].argmax(-1)),
    "mse_loss": lambda F, x, w: F.mse_loss(x, x.flip(0)),
    "bce_with_logits": lambda F, x, w: F.binary_cross_entropy_with_logits(x, x.sigmoid().flip(1)),
    "smooth_l1_loss": lambda F, x, w: F.smooth_l1_loss(x, x * 0.5, reduction="sum"),
}


@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize("dt", FLOAT16S)
def test_fused_kernels_compute_in_float32_and_round_once(name, dt):
    """conv, pooling and the fused losses run on float32 copies and round their result once (the reference:
    torch in float32, rounded; torch's own Half kernels round at other points on some CPUs, e.g. its float16
    conv_transpose2d on AVX512-BF16 EPYCs is 4 ulp off it); gradients flow back to the 16-bit inputs."""
    import minitorch.nn.functional as F
    rng = np.random.default_rng(8)
    mx, tx = both(rng.standard_normal(2 * 3 * 6 * 6), dt)
    mw, tw = both(rng.standard_normal(5 * 3 * 3 * 3), dt)
    mx, tx = mx.reshape(2, 3, 6, 6).requires_grad_(), tx.reshape(2, 3, 6, 6).requires_grad_()
    mw, tw = mw.reshape(5, 3, 3, 3).requires_grad_(), tw.reshape(5, 3, 3, 3).requires_grad_()
    mo, to = FUSED[name](F, mx, mw), FUSED[name](torch.nn.functional, tx, tw)
    check(mo, FUSED[name](torch.nn.functional, tx.float(), tw.float()).to(to.dtype), exact=False)
    g = rng.standard_normal(tuple(to.shape))
    mo.backward(mt.tensor(g.tolist(), dtype=mt.float64).to(mo.dtype))
    to.backward(torch.tensor(g.tolist(), dtype=torch.float64).to(to.dtype))
    tol = 16 * ULP[dt]  # the backward rounds at different points (torch in its kernels, here at the conversions)
    for m, t in ((mx, tx), (mw, tw)):
        if t.grad is not None:
            assert m.grad.dtype is mdt(dt)
            np.testing.assert_allclose(m.grad.double().numpy(), t.grad.double().numpy(), rtol=tol,
                                       atol=tol * float(t.grad.abs().max()))


@pytest.mark.parametrize("dt", FLOAT16S)
def test_recurrent_layers_in_16_bit_floats(dt):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((6, 2, 3))
    for name in ("LSTM", "GRU", "RNN"):
        mt.manual_seed(0)
        m = getattr(mt.nn, name)(3, 5, num_layers=2).to(mdt(dt))
        t = getattr(torch.nn, name)(3, 5, num_layers=2).to(tdt(dt))
        t.load_state_dict({k: torch.tensor(v.float().detach().numpy()).to(tdt(dt)) for k, v in m.state_dict().items()})
        mo, _ = m(mt.tensor(x.tolist()).to(mdt(dt)))
        to, _ = t(torch.tensor(x.tolist()).to(tdt(dt)))
        assert mo.dtype is mdt(dt)
        # the float32 state between steps (torch keeps it in the narrow dtype): a few units over 6 steps
        np.testing.assert_allclose(mo.detach().double().numpy(), to.detach().double().numpy(), atol=8 * ULP[dt])


def test_what_still_refuses_narrow_dtypes():
    import minitorch.nn.functional as F
    x = mt.randn(4, 3).half()
    with pytest.raises(NotImplementedError, match="Half"):
        F.batch_norm(x, mt.zeros(3).half(), mt.ones(3).half(), training=True)
    p = mt.zeros(3, dtype=mt.bfloat16, requires_grad=True)
    p.grad = mt.ones(3, dtype=mt.bfloat16)
    with pytest.raises(NotImplementedError, match="BFloat16"):
        mt.optim.SGD([p], lr=0.1).step()


def test_narrow_dtypes_stay_off_cuda():
    if not mt.cuda.is_available():
        pytest.skip("needs a CUDA device")
    with pytest.raises(NotImplementedError, match="float16 tensors are supported on the CPU only"):
        mt.ones(2, dtype=mt.float16).cuda()
    with pytest.raises(NotImplementedError, match="uint8"):
        mt.zeros(2, dtype=mt.uint8, device="cuda")
    # a CUDA tensor converted into a narrow CPU tensor goes through the host
    check(mt.tensor([1.5, 300.0], device="cuda").to("cpu", mt.float16), torch.tensor([1.5, 300.0]).half())


# ------------------------------------------------------------------------------------------------ fuzzer finds

def _same_outcome(fn):
    """fn(minitorch) and fn(torch): the same exception type and message, or equal results (dtype included)."""
    try:
        want = fn(torch)
    except Exception as e:  # noqa: BLE001 - the oracle's exception is the expectation
        with pytest.raises(type(e), match=re.escape(str(e))):
            fn(mt)
        return
    check(fn(mt), want)


@pytest.mark.parametrize("fn", [
    lambda l: l.tensor([0, 3], dtype=l.uint8).any(),
    lambda l: l.tensor([[0, 3], [1, 1]], dtype=l.uint8).all(0),
    lambda l: l.tensor([[0], [3]], dtype=l.uint8).expand(2, 1).any(dim=()),
    lambda l: l.tensor([1, 2], dtype=l.int32).where(l.tensor([True, False]), 2 ** 40),
    lambda l: l.tensor([1, 2], dtype=l.int8).where(l.tensor([True, False]), 300),
    lambda l: l.where(l.tensor([True, False]), l.tensor([1, 2], dtype=l.int32), 2 ** 40),
    lambda l: l.tensor(5, dtype=l.int32).where(l.tensor([True, False]), -1),
    lambda l: l.tensor([1, 2], dtype=l.int32).where(l.tensor([True, False]), 0.5),
    lambda l: l.tensor([1.0, 2.0], dtype=l.half).where(l.tensor([True, False]), -2 ** 31 - 1),
    lambda l: l.where(l.tensor([True, False]), l.ones(2), 1e39),
    lambda l: l.ones(7, 1, 1).expand(2 ** 62, 7, 0, 0),
], ids=["any-u8", "all-u8", "any-dims()-u8", "where-int32-big", "where-int8-300", "torch.where-int32-big",
        "where-0d-int32", "where-int32-float", "where-half-int-inf", "where-float32-1e39", "expand-overflow"])
def test_fuzzer_finds_fixed(fn):
    _same_outcome(fn)


def test_repeat_size_overflow_raises():
    # (torch's words for it are odd: "maximum size for tensor at dimension 0 is 0 but size is 8")
    for lib in (torch, mt):
        with pytest.raises(RuntimeError):
            lib.ones(8, 2).repeat(2 ** 62, 3)


@pytest.mark.parametrize("dt", FLOAT16S)
def test_backward_with_numbers_beyond_the_dtype(dt):
    for f in (lambda x: x * 1e20, lambda x: x.logcumsumexp(0)):
        mx = mt.tensor([0.5, 1.0], dtype=mdt(dt), requires_grad=True)
        tx = torch.tensor([0.5, 1.0], dtype=tdt(dt), requires_grad=True)
        f(mx).sum().backward()
        f(tx).sum().backward()
        check(mx.grad, tx.grad, exact=False)


def test_sinc_gradient_where_pi_x_squared_underflows():
    for dt, v in (("float32", 1e-23), ("float64", 1e-170), ("float16", 4.65e-6)):
        mx = mt.tensor([v, 0.0], dtype=mdt(dt), requires_grad=True)
        tx = torch.tensor([v, 0.0], dtype=tdt(dt), requires_grad=True)
        mx.sinc().sum().backward()
        tx.sinc().sum().backward()
        np.testing.assert_array_equal(mx.grad.double().numpy(), tx.grad.double().numpy())


def test_type_names_in_messages_name_the_narrow_dtypes():
    for fn in (lambda l: l.mm(l.ones(2, 2, dtype=l.bfloat16), l.ones(2, 2, dtype=l.float16)),
               lambda l: l.ones(2, dtype=l.uint8).log_softmax(0)):
        with pytest.raises(RuntimeError) as te:
            fn(torch)
        with pytest.raises((RuntimeError, NotImplementedError)) as me:
            fn(mt)
        msg = str(me.value)
        assert msg.isprintable() and "(null)" not in msg and ("BFloat16" in msg or "Byte" in msg or "Half" in msg), msg
