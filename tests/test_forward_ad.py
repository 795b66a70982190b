"""minitorch.autograd.forward_ad (dual tensors) against PyTorch's forward AD."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.autograd.forward_ad as fwAD

torch = pytest.importorskip("torch")
tfwAD = torch.autograd.forward_ad
# torch's make_dual loads its jvp decompositions through the deprecated torch.jit.script
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(a, b, **kw):
    np.testing.assert_allclose(_np(a), _np(b), rtol=kw.get("rtol", 1e-10), atol=kw.get("atol", 1e-10))


def _jvp_both(fn, primals, tangents, extra=()):
    """fn(lib, *duals, *extra) under each library's forward AD; returns the (primal, tangent) pairs."""
    res = []
    for lib, ad in ((mt, fwAD), (torch, tfwAD)):
        with ad.dual_level():
            duals = [ad.make_dual(lib.tensor(p, dtype=lib.float64), lib.tensor(t, dtype=lib.float64))
                     for p, t in zip(primals, tangents)]
            ex = [lib.tensor(e, dtype=lib.float64) for e in extra]
            out = fn(lib, *duals, *ex)
            res.append(ad.unpack_dual(out))
    return res


def _check(fn, shapes, extra_shapes=(), **kw):
    primals = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    tangents = [_rand(*s, seed=100 + i) for i, s in enumerate(shapes)]
    extra = [_rand(*s, seed=200 + i) for i, s in enumerate(extra_shapes)]
    (mp, mtan), (tp, ttan) = _jvp_both(fn, primals, tangents, extra)
    _close(mp, tp, **kw)
    assert (mtan is None) == (ttan is None)
    if ttan is not None:
        assert tuple(mtan.shape) == tuple(ttan.shape)
        _close(mtan, ttan, **kw)


UNARY = {
    "sin": lambda lib, x: x.sin(),
    "exp": lambda lib, x: lib.exp(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "relu": lambda lib, x: lib.relu(x),
    "pow_scalar": lambda lib, x: x ** 3,
    "pow_tensor": lambda lib, x: x.abs() ** x,
    "rpow": lambda lib, x: 2.0 ** x,
    "log_abs": lambda lib, x: (x.abs() + 0.1).log(),
    "sqrt": lambda lib, x: (x * x + 1).sqrt(),
    "chain": lambda lib, x: lib.tanh(x.sin() * x.exp()) / (1 + x * x),
    "neg_sub": lambda lib, x: 1.0 - (-x),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "softplus": lambda lib, x: lib.nn.functional.softplus(x),
    "clamp": lambda lib, x: x.clamp(-0.5, 0.5),
    "where": lambda lib, x: lib.where(x > 0, x * x, -x),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_elementwise_tangents(name):
    _check(UNARY[name], [(3, 4)])


@pytest.mark.parametrize("case", ["mul", "div", "add", "rdiv"])
def test_binary_broadcasting_with_a_non_dual(case):
    ops = {"mul": lambda lib, x, w: x * w, "div": lambda lib, x, w: x / (w.abs() + 1),
           "add": lambda lib, x, w: x + w, "rdiv": lambda lib, x, w: w / (x * x + 1)}
    _check(ops[case], [(3, 1)], extra_shapes=[(2, 1, 4)])


@pytest.mark.parametrize("case", ["mul", "div", "sub_pow"])
def test_binary_broadcasting_two_duals(case):
    ops = {"mul": lambda lib, x, y: x * y, "div": lambda lib, x, y: x / (y * y + 1),
           "sub_pow": lambda lib, x, y: (x - y) ** 2}
    _check(ops[case], [(4, 1), (3,)])


REDUCTIONS = {
    "sum": lambda lib, x: x.sum(),
    "sum_dim": lambda lib, x: x.sum(dim=1, keepdim=True),
    "mean": lambda lib, x: x.mean(),
    "mean_dim": lambda lib, x: x.mean(0),
    "norm": lambda lib, x: x.norm(),
    "norm_dim": lambda lib, x: x.norm(dim=1),
    "logsumexp": lambda lib, x: lib.logsumexp(x, dim=1),
    "softmax": lambda lib, x: lib.softmax(x, dim=-1),
    "log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, dim=0),
    "max_dim": lambda lib, x: x.max(dim=1).values,
    "prod": lambda lib, x: x.prod(dim=0),
    "var": lambda lib, x: x.var(dim=1),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_tangents(name):
    _check(REDUCTIONS[name], [(3, 5)])


def test_matmul_both_duals():
    _check(lambda lib, a, b: a @ b, [(3, 4), (4, 2)])


def test_batched_matmul_and_vector():
    _check(lambda lib, a, b: lib.matmul(a, b), [(2, 3, 4), (4,)])
    _check(lambda lib, a, b: lib.bmm(a, b), [(2, 3, 4), (2, 4, 5)])


def test_linear_with_dual_input_weight_and_bias():
    _check(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), [(5, 3), (4, 3), (4,)])
    _check(lambda lib, x, w: lib.nn.functional.linear(x, w), [(5, 3)], extra_shapes=[(4, 3)])


SHAPES = {
    "view": lambda lib, x: x.view(4, 6) * 2,
    "reshape": lambda lib, x: x.reshape(-1),
    "permute": lambda lib, x: x.permute(2, 0, 1).sin(),
    "transpose": lambda lib, x: x.transpose(0, 2),
    "slice": lambda lib, x: x[1:, ::2, 1],
    "index": lambda lib, x: x[lib.tensor([1, 0, 1])],
    "expand": lambda lib, x: x[:, :1, :].expand(2, 5, 4),
    "squeeze": lambda lib, x: x[:, :1].squeeze(1).unsqueeze(0),
    "flatten": lambda lib, x: x.flatten(1),
    "chunk": lambda lib, x: x.chunk(2, dim=2)[1],
    "flip": lambda lib, x: x.flip(0),
    "contiguous": lambda lib, x: x.transpose(0, 1).contiguous().exp(),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_op_tangents(name):
    _check(SHAPES[name], [(2, 3, 4)])


def test_cat_and_stack_of_duals_and_non_duals():
    _check(lambda lib, a, b, c: lib.cat([a, c, b * 2], dim=1), [(2, 3), (2, 1)], extra_shapes=[(2, 2)])
    _check(lambda lib, a, b, c: lib.stack([a, c.sin(), b], dim=0), [(2, 3), (2, 3)], extra_shapes=[(2, 3)])


def test_dual_passes_through_and_zero_derivative_ops():
    _check(lambda lib, x: x, [(3,)])
    _check(lambda lib, x: x.sign(), [(3,)])
    _check(lambda lib, x: x.round() + x.floor(), [(3,)])
    _check(lambda lib, x: x * 0, [(3,)])
    _check(lambda lib, x: lib.zeros_like(x), [(3,)])  # no tangent (None) in both
    _check(lambda lib, x: (x > 0).double(), [(3,)])
    _check(lambda lib, x: x.detach(), [(3,)])


def _mlp_params():
    return [_rand(8, 3, seed=1), _rand(8, seed=2), _rand(2, 8, seed=3), _rand(2, seed=4)]


def _mlp(lib, params):
    m = lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2)).double()
    with lib.no_grad():
        for p, v in zip(m.parameters(), params):
            p.copy_(lib.tensor(v, dtype=lib.float64))
    return m


def test_mlp_jvp_wrt_input_and_backward_of_primal_and_tangent():
    x, v = _rand(5, 3, seed=10), _rand(5, 3, seed=11)
    out = {}
    for lib, ad in ((mt, fwAD), (torch, tfwAD)):
        m = _mlp(lib, _mlp_params())
        with ad.dual_level():
            d = ad.make_dual(lib.tensor(x, dtype=lib.float64), lib.tensor(v, dtype=lib.float64))
            y = m(d).tanh()
            p, tan = ad.unpack_dual(y)
            assert p.requires_grad and tan.requires_grad  # both depend on the parameters
            # reverse mode through the primal and through the tangent (backward differentiable)
            (p.pow(2).sum() + (tan * tan).sum()).backward()
            out[lib] = (p, tan, [q.grad for q in m.parameters()])
    _close(out[mt][0], out[torch][0])
    _close(out[mt][1], out[torch][1])
    for a, b in zip(out[mt][2], out[torch][2]):
        _close(a, b)


def test_mlp_jvp_wrt_parameters():
    x = _rand(4, 3, seed=12)
    tangents = [_rand(*p.shape, seed=20 + i) for i, p in enumerate(_mlp_params())]
    out = {}
    for lib, ad in ((mt, fwAD), (torch, tfwAD)):
        params = _mlp_params()
        with ad.dual_level():
            w1, b1, w2, b2 = [ad.make_dual(lib.tensor(p, dtype=lib.float64), lib.tensor(t, dtype=lib.float64))
                              for p, t in zip(params, tangents)]
            xx = lib.tensor(x, dtype=lib.float64)
            y = lib.nn.functional.linear(lib.tanh(lib.nn.functional.linear(xx, w1, b1)), w2, b2)
            loss = ((y - 1) ** 2).mean()  # mse_loss is fused: no double backward in minitorch
            out[lib] = [ad.unpack_dual(t) for t in (y, loss)]
    for (mp, mtan), (tp, ttan) in zip(out[mt], out[torch]):
        _close(mp, tp)
        _close(mtan, ttan)


def test_multiple_duals_sum_their_contributions():
    a, b = _rand(3, seed=30), _rand(3, seed=31)
    ta, tb = _rand(3, seed=32), _rand(3, seed=33)
    with fwAD.dual_level():
        da = fwAD.make_dual(mt.tensor(a), mt.tensor(ta))
        db = fwAD.make_dual(mt.tensor(b), mt.tensor(tb))
        _close(fwAD.unpack_dual(da * db).tangent, ta * b + a * tb)
        _close(fwAD.unpack_dual(da.sin()).tangent, np.cos(a) * ta)  # depends on one of them only
        _close(fwAD.unpack_dual((da * db).sum() + db.exp().sum()).tangent,
               (ta * b + a * tb).sum() + (np.exp(b) * tb).sum())
        # two duals of the same primal are independent
        da2 = fwAD.make_dual(mt.tensor(a), mt.tensor(tb))
        _close(fwAD.unpack_dual(da * da2).tangent, ta * a + a * tb)


def mt_jvp(func, primals, tangents):
    """A jvp built on minitorch's forward AD (the shape of torch.func.jvp)."""
    with fwAD.dual_level():
        duals = [fwAD.make_dual(p, t) for p, t in zip(primals, tangents)]
        out = func(*duals)
        outs = out if isinstance(out, tuple) else (out,)
        unpacked = [fwAD.unpack_dual(o) for o in outs]
    ps = tuple(u.primal for u in unpacked)
    ts = tuple(u.tangent for u in unpacked)
    return (ps, ts) if isinstance(out, tuple) else (ps[0], ts[0])


def _f(lib):
    def f(x, w):
        h = lib.tanh(x @ w)
        return (h * x[:, :1]).logsumexp(dim=1), h.norm()
    return f


def test_hand_written_jvp_matches_torch_func_jvp():
    x, w = _rand(4, 3, seed=40), _rand(3, 5, seed=41)
    tx, tw = _rand(4, 3, seed=42), _rand(3, 5, seed=43)
    (mp, mtan) = mt_jvp(_f(mt), (mt.tensor(x), mt.tensor(w)), (mt.tensor(tx), mt.tensor(tw)))
    (tp, ttan) = torch.func.jvp(_f(torch), (torch.tensor(x), torch.tensor(w)), (torch.tensor(tx), torch.tensor(tw)))
    for a, b in zip(mp + mtan, tp + ttan):
        _close(a, b)
    # and against central finite differences
    eps = 1e-6
    f = _f(mt)
    plus = f(mt.tensor(x + eps * tx), mt.tensor(w + eps * tw))
    minus = f(mt.tensor(x - eps * tx), mt.tensor(w - eps * tw))
    for t, p, m in zip(mtan, plus, minus):
        _close(t, (_np(p) - _np(m)) / (2 * eps), rtol=1e-6, atol=1e-7)


def test_custom_function_with_differentiable_backward():
    class Cube(mt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x * x * g

    x, t = _rand(4, seed=50), _rand(4, seed=51)
    with fwAD.dual_level():
        y = Cube.apply(fwAD.make_dual(mt.tensor(x), mt.tensor(t)))
        _close(fwAD.unpack_dual(y).tangent, 3 * x * x * t)


def test_unpack_of_the_dual_itself_primal_shares_storage():
    for lib, ad in ((mt, fwAD), (torch, tfwAD)):
        x = lib.tensor(_rand(3))
        t = lib.tensor(_rand(3, seed=1))
        with ad.dual_level():
            d = ad.make_dual(x, t)
            assert d.data_ptr() == x.data_ptr()
            u = ad.unpack_dual(d)
            assert isinstance(u, ad.UnpackedDualTensor) and u._fields == ("primal", "tangent")
            assert u.tangent is t
            assert u.primal.data_ptr() == x.data_ptr() and not u.primal.requires_grad
            y = d * 2
            p = ad.unpack_dual(y).primal
            assert p.data_ptr() == y.data_ptr()
            assert not p.requires_grad
            # neither the primal nor the tangent carries a tangent at the level
            assert ad.unpack_dual(p.sin()).tangent is None
            assert ad.unpack_dual(ad.unpack_dual(y).tangent * 3).tangent is None
            x.add_(1)  # the dual aliases the primal
            _close(d, x)


def test_requires_grad_primal_backward_through_dual_and_tangent():
    x, t = _rand(3, seed=60), _rand(3, seed=61)
    res = {}
    for lib, ad in ((mt, fwAD), (torch, tfwAD)):
        xr = lib.tensor(x, requires_grad=True)
        tr = lib.tensor(t, requires_grad=True)
        with ad.dual_level():
            d = ad.make_dual(xr, tr)
            y = (d.sin() * d).sum()
            p, tan = ad.unpack_dual(y)
            assert p.requires_grad and tan.requires_grad
            # tangent of p is gone, but p's history reaches xr
            assert ad.unpack_dual(p * p).tangent is None
            # y's graph is still there after the unpacks
            y.backward(retain_graph=True)
            (p * 2 + tan * tan).backward()
        res[lib] = (tan, xr.grad, tr.grad)
    for a, b in zip(res[mt], res[torch]):
        _close(a, b)


def test_tangent_requiring_grad_only():
    x, t = _rand(3, seed=62), _rand(3, seed=63)
    res = {}
    for lib, ad in ((mt, fwAD), (torch, tfwAD)):
        tr = lib.tensor(t, requires_grad=True)
        with ad.dual_level():
            tan = ad.unpack_dual(ad.make_dual(lib.tensor(x), tr).exp()).tangent
            assert tan.requires_grad
            tan.sum().backward()
        res[lib] = (tan, tr.grad)
    for a, b in zip(res[mt], res[torch]):
        _close(a, b)


def test_no_requires_grad_anywhere_gives_tangent_without_history():
    with fwAD.dual_level():
        tan = fwAD.unpack_dual(fwAD.make_dual(mt.tensor(_rand(3)), mt.tensor(_rand(3, seed=1))) ** 2).tangent
        assert not tan.requires_grad and tan.grad_fn is None


def test_inplace_on_dual_and_into_a_non_dual():
    x, t = _rand(3, seed=70), _rand(3, seed=71)
    for lib, ad in ((mt, fwAD), (torch, tfwAD)):
        with ad.dual_level():
            d = ad.make_dual(lib.tensor(x), lib.tensor(t).clone())
            d.mul_(2)
            _close(ad.unpack_dual(d).tangent, 2 * t)
            _close(ad.unpack_dual(d.sin()).tangent, np.cos(2 * x) * 2 * t)
            z = lib.ones(3, dtype=lib.float64)
            z.mul_(ad.make_dual(lib.tensor(x), lib.tensor(t)) ** 2)
            _close(ad.unpack_dual(z).tangent, 2 * x * t)


def test_level_exit_drops_tangents_and_decorator():
    x = mt.tensor(_rand(3))
    with fwAD.dual_level() as level:
        assert level == 0
        y = fwAD.make_dual(x, mt.ones(3, dtype=mt.float64)).exp()
        assert fwAD.unpack_dual(y).tangent is not None
    assert fwAD.unpack_dual(y).tangent is None
    assert fwAD.unpack_dual(y, level=0).tangent is None
    assert fwAD.unpack_dual(x).primal is x

    @fwAD.dual_level()
    def g(a):
        return fwAD.unpack_dual(fwAD.make_dual(a, mt.ones_like(a)) * 3).tangent
    _close(g(x), 3 * np.ones(3))
    assert fwAD._current_level == -1
    # a new level after an exit; duals of the old level are plain tensors there
    lvl = fwAD.enter_dual_level()
    try:
        assert lvl == 0
        assert fwAD.unpack_dual(y * 2).tangent is None
        d = fwAD.make_dual(y, mt.ones(3, dtype=mt.float64))
        _close(fwAD.unpack_dual(d * y).tangent, _np(y))
    finally:
        fwAD.exit_dual_level()


def test_unpack_of_non_dual_inside_level():
    for lib, ad in ((mt, fwAD), (torch, tfwAD)):
        x = lib.tensor(_rand(3))
        w = lib.tensor(_rand(3), requires_grad=True)
        with ad.dual_level():
            ad.make_dual(lib.tensor(_rand(3)), lib.tensor(_rand(3)))
            p, t = ad.unpack_dual(x)
            assert t is None and p.data_ptr() == x.data_ptr()
            p, t = ad.unpack_dual(w * 2)
            assert t is None and p.requires_grad
            assert ad.unpack_dual(lib.arange(3)).tangent is None


def _errors(lib, ad):
    x = lib.tensor(_rand(3))
    msgs = []

    def grab(fn, exc=Exception):
        with pytest.raises(exc) as info:
            fn()
        msgs.append((type(info.value).__name__, str(info.value)))

    grab(lambda: ad.make_dual(x, x), RuntimeError)
    grab(lambda: ad.exit_dual_level(), RuntimeError)
    with ad.dual_level():
        def nested():
            with ad.dual_level():
                pass
        grab(nested, RuntimeError)
        grab(lambda: ad.make_dual(x, lib.ones(4, dtype=lib.float64)), RuntimeError)
        grab(lambda: ad.make_dual(x, lib.ones(1, 3, dtype=lib.float64)), RuntimeError)
        grab(lambda: ad.make_dual(lib.arange(3), x), ValueError)
        grab(lambda: ad.make_dual(x, lib.arange(3)), ValueError)
        d = ad.make_dual(x, x)
        grab(lambda: ad.make_dual(d * 2, x), RuntimeError)
        grab(lambda: ad.make_dual(x, x, level=3), RuntimeError)
        grab(lambda: ad.unpack_dual(d.sin(), level=3), RuntimeError)
        grab(lambda: ad.exit_dual_level(level=5), RuntimeError)
        grab(lambda: ad.make_dual(x, 1.0), AttributeError if lib is torch else TypeError)
        grab(lambda: ad.unpack_dual(3.0), TypeError)
    grab(lambda: ad.make_dual(x, x, level=0), RuntimeError)
    return msgs


def test_errors_match_torch():
    m, t = _errors(mt, fwAD), _errors(torch, tfwAD)
    assert fwAD._current_level == -1
    assert len(m) == len(t)
    for (mk, mm), (tk, tm) in zip(m, t):
        if tk == "AttributeError" or mk == "TypeError" and tk == "TypeError":
            continue  # a non-tensor argument: torch's message comes from its binding layer
        assert (mk, mm) == (tk, tm)


def test_fused_ops_tangents_match_finite_differences():
    # conv, pooling, batch norm, the losses and cumsum have double backward: their tangents are right
    x, t = _rand(1, 2, 5, seed=80), _rand(1, 2, 5, seed=81)
    w = mt.tensor(_rand(3, 2, 2, seed=82))
    fns = [lambda a: mt.nn.functional.conv1d(a, w), lambda a: a.cumsum(2),
           lambda a: mt.nn.functional.max_pool1d(a, 2), lambda a: mt.nn.functional.mse_loss(a, mt.zeros_like(a)),
           lambda a: mt.nn.functional.batch_norm(a, None, None, training=True)]
    h = 1e-6
    for f in fns:
        with fwAD.dual_level():
            tangent = fwAD.unpack_dual(f(fwAD.make_dual(mt.tensor(x), mt.tensor(t)))).tangent
        num = (f(mt.tensor(x + h * t)).numpy() - f(mt.tensor(x - h * t)).numpy()) / (2 * h)
        np.testing.assert_allclose(tangent.numpy(), num, rtol=1e-5, atol=1e-7)


def test_double_backward_not_implemented_propagates():
    x = _rand(1, 2, 5, seed=80)
    with fwAD.dual_level():
        d = fwAD.make_dual(mt.tensor(x), mt.tensor(_rand(1, 2, 5, seed=81)))
        z = mt.zeros(1, 2, 6, dtype=mt.float64)
        z[..., 1:] = d  # an in-place write into a view (CopySlices)
        for out in (d.cumprod(2), z):
            with pytest.raises(NotImplementedError, match="double backward"):
                fwAD.unpack_dual(out)
        # the other ops still work in the same level, and the failed unpacks left the graph usable
        _close(fwAD.unpack_dual(d * 2).tangent, 2 * _rand(1, 2, 5, seed=81))


def test_grad_mode_disabled_raises_instead_of_a_missing_tangent():
    x = mt.tensor(_rand(3))
    with fwAD.dual_level():
        with mt.no_grad():
            with pytest.raises(RuntimeError, match="grad mode"):
                fwAD.make_dual(x, x)
        d = fwAD.make_dual(x, x)
        with mt.no_grad():
            y = d * 2
            with pytest.raises(RuntimeError, match="grad mode"):
                fwAD.unpack_dual(y)
        # a tensor with history still unpacks under no_grad
        z = d * 3
        with mt.no_grad():
            _close(fwAD.unpack_dual(z).tangent, 3 * _np(x))


def test_dual_tensor_backward_leaves_no_grad_on_hidden_leaves():
    x = mt.tensor(_rand(3))
    with fwAD.dual_level():
        d = fwAD.make_dual(x, mt.ones(3, dtype=mt.float64))
        (d * d).sum().backward()
        assert x.grad is None and d.grad is None
        entry, = fwAD._state.duals.values()
        assert entry.leaf.grad is None
