"""The CUDA backend against the CPU (and against PyTorch on CUDA when available).

Skipped when minitorch.cuda.is_available() is False (no GPU, no driver, or built without nvcc).
"""
import numpy as np
import pytest

import minitorch as mt
import minitorch.cuda as mcuda

pytestmark = pytest.mark.skipif(not mcuda.is_available(), reason="CUDA is not available to minitorch "
                                "(no GPU/driver, or built without nvcc)")

try:
    import torch

    HAVE_TORCH_CUDA = torch.cuda.is_available()
except Exception:  # noqa: BLE001
    torch = None
    HAVE_TORCH_CUDA = False

RNG = np.random.default_rng(0)
FLOATS = [mt.float32, mt.float64]


@pytest.fixture(autouse=True)
def _fp32_recurrent_gemms():
    """The recurrent layers' GEMMs in true float32 for the comparisons with the CPU (TF32 is their
    default on CUDA, as in PyTorch; test_lstm_tf32_default checks that setting)"""
    prev = mt.backends.cudnn.allow_tf32
    mt.backends.cudnn.allow_tf32 = False
    yield
    mt.backends.cudnn.allow_tf32 = prev
NP = {mt.float32: np.float32, mt.float64: np.float64, mt.int32: np.int32, mt.int64: np.int64, mt.bool: np.bool_}


def arr(shape, dtype=mt.float32, lo=-2.0, hi=2.0):
    if dtype == mt.bool:
        return RNG.random(shape) > 0.5
    if dtype in (mt.int32, mt.int64):
        return RNG.integers(-5, 6, size=shape).astype(NP[dtype])
    return RNG.uniform(lo, hi, size=shape).astype(NP[dtype])


def both(a):
    c = mt.tensor(a)
    return c, c.to("cuda")


def check(got_cuda, want_cpu, rtol=1e-5, atol=1e-6):
    assert got_cuda.device.type == "cuda"
    assert got_cuda.dtype == want_cpu.dtype, (got_cuda.dtype, want_cpu.dtype)
    assert tuple(got_cuda.shape) == tuple(want_cpu.shape)
    g, w = got_cuda.cpu().numpy(), want_cpu.numpy()
    if g.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


# ---------------- transfers, printing, errors ----------------
def test_transfers_roundtrip():
    for dt in [mt.float32, mt.float64, mt.int32, mt.int64, mt.bool]:
        a = arr((3, 4), dt)
        c = mt.tensor(a)
        g = c.to("cuda")
        assert g.is_cuda and g.device.type == "cuda" and g.device.index == 0
        np.testing.assert_array_equal(g.cpu().numpy(), a)
        np.testing.assert_array_equal(c.cuda().cpu().numpy(), a)


def test_noncontiguous_and_dtype_transfers():
    a = arr((4, 6))
    c = mt.tensor(a)
    g = c.t().to("cuda")
    np.testing.assert_array_equal(g.cpu().numpy(), a.T)
    g2 = c.to("cuda").t().contiguous()
    np.testing.assert_array_equal(g2.cpu().numpy(), a.T)
    g3 = c.to("cuda")[:, ::2].cpu()
    np.testing.assert_array_equal(g3.numpy(), a[:, ::2])
    g4 = c.to(device="cuda", dtype=mt.float64)
    assert g4.dtype == mt.float64
    np.testing.assert_allclose(g4.cpu().numpy(), a.astype(np.float64))
    # copy_ across devices into a non-contiguous destination
    dst = mt.zeros(6, 4, device="cuda").t()
    dst.copy_(c)
    np.testing.assert_array_equal(dst.cpu().numpy(), a)
    hd = mt.zeros(6, 4).t()
    hd.copy_(c.to("cuda"))
    np.testing.assert_array_equal(hd.numpy(), a)


def test_printing():
    g = mt.tensor([1.0, 2.0]).to("cuda")
    assert "device='cuda:0'" in repr(g)
    assert g.tolist() == [1.0, 2.0]
    assert g.sum().item() == 3.0


def test_mixing_devices_raises():
    a = mt.ones(3)
    b = mt.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + b
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        b.matmul(mt.ones(3))


def test_numpy_on_cuda_raises_type_error():
    with pytest.raises(TypeError):
        mt.ones(2, device="cuda").numpy()


# ---------------- elementwise ----------------
UNARY_FLOAT = ["neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu",
               "sign", "floor", "ceil", "round", "trunc", "reciprocal", "isnan", "isinf", "isfinite", "logical_not"]


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("name", UNARY_FLOAT)
def test_unary_float(name, dt):
    a = arr((5, 7), dt, 0.1, 3.0) if name in ("log", "sqrt", "rsqrt", "log1p") else arr((5, 7), dt)
    c, g = both(a)
    check(getattr(g, name)(), getattr(c, name)(), rtol=2e-6 if dt == mt.float32 else 1e-12)
    check(getattr(g.t(), name)(), getattr(c.t(), name)(), rtol=2e-6 if dt == mt.float32 else 1e-12)


@pytest.mark.parametrize("dt", [mt.int32, mt.int64, mt.bool])
def test_unary_int(dt):
    c, g = both(arr((4, 5), dt))
    names = ["logical_not", "isnan", "isinf", "isfinite"] + ([] if dt == mt.bool else ["neg", "abs", "relu", "sign"])
    for name in names:
        check(getattr(g, name)(), getattr(c, name)())


def test_clamp():
    c, g = both(arr((6, 6)))
    check(g.clamp(-0.5, 0.7), c.clamp(-0.5, 0.7))
    check(g.clamp(min=0.1), c.clamp(min=0.1))
    ci, gi = both(arr((6,), mt.int64))
    check(gi.clamp(-1, 2), ci.clamp(-1, 2))


BINARY = ["add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "maximum", "minimum", "eq", "ne", "lt", "le",
          "gt", "ge", "logical_and", "logical_or", "logical_xor"]


def binary_operands(name, dt, shape_a, shape_b):
    a, b = arr(shape_a, dt), arr(shape_b, dt)
    if name in ("floor_divide", "remainder") and dt in (mt.int32, mt.int64):
        b[b == 0] = 3
    if name == "pow":
        a = np.abs(a) + (0.5 if dt in FLOATS else 0)
        b = np.abs(b) % 4
    return a, b


@pytest.mark.parametrize("dt", [mt.float32, mt.float64, mt.int32, mt.int64])
@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcast(name, dt):
    a, b = binary_operands(name, dt, (4, 1, 5), (3, 5))
    ca, ga = both(a)
    cb, gb = both(b)
    tol = 2e-6 if dt == mt.float32 else 1e-12
    check(getattr(ga, name)(gb), getattr(ca, name)(cb), rtol=tol)
    # tensor-scalar (torch's maximum/minimum/logical_* take only a Tensor: TypeError on both
    # devices), and non-contiguous operands broadcast against each other
    if name in ("maximum", "minimum", "logical_and", "logical_or", "logical_xor"):
        for t in (ga, ca):
            with pytest.raises(TypeError, match="must be Tensor"):
                getattr(t, name)(3)
    else:
        check(getattr(ga, name)(3), getattr(ca, name)(3), rtol=tol)
    a, b = binary_operands(name, dt, (4, 1, 5), (4, 3, 5))
    ca, ga = both(a)
    cb, gb = both(b)
    check(getattr(ga.transpose(0, 2), name)(gb.transpose(0, 2)), getattr(ca.transpose(0, 2), name)(cb.transpose(0, 2)),
          rtol=tol)


def test_scalar_first_and_large_vectorised():
    a = arr((1000003,))
    c, g = both(a)
    check(2 - g, 2 - c)
    check(g + 2, c + 2)
    check(g * g, c * c)
    check(g[1:] + g[:-1], c[1:] + c[:-1])  # misaligned: scalar path
    check(g > 0, c > 0)
    z = mt.tensor(3.0).to("cuda")  # a 0-d CUDA tensor broadcast
    check(g * z, c * mt.tensor(3.0))


def test_where_and_masked_fill():
    c, g = both(arr((5, 6)))
    cm, gm = c > 0, g > 0
    check(mt.where(gm, g, -g), mt.where(cm, c, -c))
    check(g.masked_fill(gm, 0.5), c.masked_fill(cm, 0.5))


def test_fill_and_creation():
    g = mt.zeros(3, 4, device="cuda")
    check(g, mt.zeros(3, 4))
    check(mt.full((2, 3), 7, device="cuda"), mt.full((2, 3), 7))
    check(mt.ones(5, dtype=mt.int64, device="cuda"), mt.ones(5, dtype=mt.int64))
    g.fill_(2.5)
    check(g, mt.full((3, 4), 2.5))
    g.t()[1].fill_(-1)  # strided fill
    c = mt.full((3, 4), 2.5)
    c.t()[1].fill_(-1)
    check(g, c)


def test_casts():
    c, g = both(arr((4, 4)) * 3)
    for dt in [mt.int32, mt.int64, mt.bool, mt.float64]:
        check(g.to(dt), c.to(dt))
    check(g.t().to(mt.int64), c.t().to(mt.int64))


# ---------------- reductions ----------------
@pytest.mark.parametrize("dt", FLOATS)
def test_reductions_float(dt):
    for shape, dim in [((7, 9), 1), ((7, 9), 0), ((3, 4000), 1), ((3, 300000), 1), ((200000, 3), 1), ((5,), 0)]:
        c, g = both(arr(shape, dt))
        tol = 1e-5 if dt == mt.float32 else 1e-10
        for name in ["sum", "mean", "prod", "amax", "amin", "logsumexp"]:
            if name == "prod" and shape[dim] > 100:
                continue
            if not hasattr(c, name):
                continue
            check(getattr(g, name)(dim), getattr(c, name)(dim), rtol=tol, atol=1e-5)
        check(g.var(dim), c.var(dim), rtol=tol, atol=1e-6)
        check(g.std(dim, correction=0) if _has_correction() else g.std(dim), c.std(dim, correction=0)
              if _has_correction() else c.std(dim), rtol=tol, atol=1e-6)
        check(g.norm(dim=dim), c.norm(dim=dim), rtol=tol)
        check(g.argmax(dim), c.argmax(dim))
        check(g.argmin(dim), c.argmin(dim))
        gv, gi = g.max(dim)
        cv, ci = c.max(dim)
        check(gv, cv)
        check(gi, ci)
    c, g = both(arr((1 << 20,), dt))
    check(g.sum(), c.sum(), rtol=1e-5, atol=1e-4)
    check(g.max(), c.max())


def _has_correction():
    try:
        mt.ones(3).std(0, correction=0)
        return True
    except TypeError:
        return False


def test_reductions_int_bool():
    c, g = both(arr((6, 50), mt.int64))
    check(g.sum(1), c.sum(1))
    check(g.max(1)[0], c.max(1)[0])
    check(g.argmax(1), c.argmax(1))
    cb, gb = both(arr((6, 50), mt.bool))
    check(gb.all(1), cb.all(1))
    check(gb.any(1), cb.any(1))


def test_argmax_first_occurrence_and_nan():
    a = np.array([[1, 3, 3, 0], [np.nan, 2, np.nan, 1], [-np.inf, -np.inf, -np.inf, -np.inf]], np.float32)
    c, g = both(a)
    check(g.argmax(1), c.argmax(1))
    check(g.amax(1), c.amax(1))
    check(g.logsumexp(1), c.logsumexp(1))


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("inner", [1, 10, 47, 1000, 5000])
def test_softmax(dt, inner):
    c, g = both(arr((13, inner), dt, -5, 5))
    tol = 1e-5 if dt == mt.float32 else 1e-12
    check(g.softmax(1), c.softmax(1), rtol=tol, atol=1e-7)
    check(g.log_softmax(1), c.log_softmax(1), rtol=tol, atol=1e-6)
    check(g.softmax(0), c.softmax(0), rtol=tol, atol=1e-7)
    for log in (False, True):
        x = mt.tensor(arr((13, inner), dt), requires_grad=True)
        xg = x.detach().to("cuda").requires_grad_()
        w = arr((13, inner), dt)
        (x.log_softmax(1) if log else x.softmax(1)).mul(mt.tensor(w)).sum().backward()
        (xg.log_softmax(1) if log else xg.softmax(1)).mul(mt.tensor(w).to("cuda")).sum().backward()
        check(xg.grad, x.grad, rtol=1e-4 if dt == mt.float32 else 1e-10, atol=1e-6)


# ---------------- matmul ----------------
@pytest.mark.parametrize("dt", [mt.float32, mt.float64, mt.int64])
def test_matmul(dt):
    tol = 1e-4 if dt == mt.float32 else 1e-10
    for sa, sb in [((5, 7), (7, 3)), ((7,), (7, 3)), ((4, 5, 7), (7, 3)), ((2, 1, 5, 7), (3, 7, 2)), ((64, 65), (65, 33))]:
        ca, ga = both(arr(sa, dt))
        cb, gb = both(arr(sb, dt))
        check(ga @ gb, ca @ cb, rtol=tol, atol=1e-4)
    ca, ga = both(arr((6, 5), dt))
    cb, gb = both(arr((6, 4), dt))
    check(ga.t() @ gb, ca.t() @ cb, rtol=tol, atol=1e-4)  # transposed operand
    check(gb.t() @ ga, cb.t() @ ca, rtol=tol, atol=1e-4)


def test_matmul_vs_torch_and_no_tf32():
    if not HAVE_TORCH_CUDA:
        pytest.skip("torch.cuda not available")
    a, b = arr((256, 512)), arr((512, 128))
    got = (mt.tensor(a).to("cuda") @ mt.tensor(b).to("cuda")).cpu().numpy()
    torch.backends.cuda.matmul.allow_tf32 = False
    want = (torch.tensor(a).cuda() @ torch.tensor(b).cuda()).cpu().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert np.abs(got - ref).max() < 1e-3  # TF32 would be ~1e-2 off


# ---------------- indexing ----------------
def test_index_ops():
    c, g = both(arr((5, 6)))
    ci, gi = both(np.array([4, 0, 2, 2], np.int64))
    check(g.index_select(0, gi), c.index_select(0, ci))
    check(g.index_select(1, gi), c.index_select(1, ci))
    cidx, gidx = both(RNG.integers(0, 6, size=(5, 3)).astype(np.int64))
    check(g.gather(1, gidx), c.gather(1, cidx))
    src_c, src_g = both(arr((5, 3)))
    check(mt.zeros(5, 6, device="cuda").scatter_add(1, gidx, src_g), mt.zeros(5, 6).scatter_add(1, cidx, src_c),
          rtol=1e-6)
    uidx = np.stack([RNG.permutation(6)[:3] for _ in range(5)]).astype(np.int64)
    cu, gu = both(uidx)
    check(g.scatter(1, gu, src_g), c.scatter(1, cu, src_c))
    with pytest.raises(IndexError):
        g.index_select(0, mt.tensor([7]).to("cuda"))
    with pytest.raises(RuntimeError, match="out of bounds"):
        g.gather(1, mt.tensor([[9]]).to("cuda"))
    # the process and the device are fine afterwards
    check(g + 1, c + 1)


def test_index_select_backward():
    x = mt.tensor(arr((6, 4)), requires_grad=True)
    xg = x.detach().to("cuda").requires_grad_()
    idx = mt.tensor([0, 5, 5, 2])
    x.index_select(0, idx).sum().backward()
    xg.index_select(0, idx.to("cuda")).sum().backward()
    check(xg.grad, x.grad)


# ---------------- random ----------------
def test_same_seed_same_numbers():
    mt.manual_seed(1234)
    c_u, c_n = mt.rand(1000), mt.randn(1001, dtype=mt.float64)
    c_i = mt.randint(0, 100, (999,))
    mt.manual_seed(1234)
    g_u, g_n = mt.rand(1000, device="cuda"), mt.randn(1001, dtype=mt.float64, device="cuda")
    g_i = mt.randint(0, 100, (999,), device="cuda")
    np.testing.assert_array_equal(g_u.cpu().numpy(), c_u.numpy())
    np.testing.assert_allclose(g_n.cpu().numpy(), c_n.numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(g_i.cpu().numpy(), c_i.numpy())
    mcuda.manual_seed(5)
    a = mt.rand(10, device="cuda").cpu().numpy()
    mcuda.manual_seed(5)
    np.testing.assert_array_equal(mt.rand(10, device="cuda").cpu().numpy(), a)


# ---------------- autograd ----------------
def test_mlp_backward_matches_cpu():
    x = arr((16, 8))
    w1, b1, w2 = arr((8, 32)), arr((32,)), arr((32, 4))
    grads = {}
    for dev in ("cpu", "cuda"):
        ps = [mt.tensor(p).to(dev).requires_grad_() for p in (w1, b1, w2)]
        h = (mt.tensor(x).to(dev) @ ps[0] + ps[1]).relu()
        loss = (h @ ps[2]).tanh().sum() + h.pow(2).mean()
        loss.backward()
        grads[dev] = [p.grad for p in ps] + [loss.detach()]
    for g, c in zip(grads["cuda"], grads["cpu"]):
        check(g, c, rtol=1e-4, atol=1e-5)


# ---------------- allocator ----------------
def test_allocator_stats_and_cache():
    mcuda.synchronize()
    base = mcuda.memory_allocated()
    t = mt.empty(1 << 20, device="cuda")  # 4 MiB
    assert mcuda.memory_allocated() >= base + (4 << 20)
    assert mcuda.max_memory_allocated() >= mcuda.memory_allocated()
    reserved = mcuda.memory_reserved()
    assert reserved >= mcuda.memory_allocated()
    del t
    assert mcuda.memory_allocated() == base
    assert mcuda.memory_reserved() == reserved  # cached, not freed
    t2 = mt.empty(1 << 20, device="cuda")  # reuses the cached block
    assert mcuda.memory_reserved() == reserved
    del t2
    mcuda.empty_cache()
    assert mcuda.memory_reserved() <= reserved - (4 << 20)


def test_oom_raises_and_process_continues():
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        mt.empty(1 << 40, device="cuda")  # 4 TiB
    check(mt.ones(3, device="cuda") * 2, mt.ones(3) * 2)


def test_device_queries():
    assert mcuda.device_count() >= 1
    assert mcuda.current_device() == 0
    assert isinstance(mcuda.get_device_name(0), str) and mcuda.get_device_name()


def test_vs_torch_cuda_elementwise_and_reduce():
    if not HAVE_TORCH_CUDA:
        pytest.skip("torch.cuda not available")
    a = arr((64, 300))
    g = mt.tensor(a).to("cuda")
    t = torch.tensor(a).cuda()
    np.testing.assert_allclose((g.exp() * 2 - g).sum(1).cpu().numpy(), (t.exp() * 2 - t).sum(1).cpu().numpy(),
                               rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(g.softmax(1).cpu().numpy(), t.softmax(1).cpu().numpy(), rtol=1e-5, atol=1e-7)


# ---------------- fused optimizer steps (cuda/optim.cu) vs the CPU kernels ----------------
OPTIM_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
]


def _run_optimizer(name, kw, dev, dt, inits, grads, step_on_cuda=False):
    import minitorch.optim as optim

    ps = [mt.tensor(a, dtype=dt).to(dev).requires_grad_() for a in inits]
    opt = getattr(optim, name)(ps, **kw)
    for k, gs in enumerate(grads):
        for p, g in zip(ps, gs):
            p.grad = mt.tensor(g, dtype=dt).to(dev)
        opt.step()
        if step_on_cuda and k == 0:  # a 'step' state living on the GPU (capturable / moved state)
            for p in ps:
                st = opt.state[p]
                if "step" in st:
                    st["step"] = st["step"].to("cuda")
    return ps, opt


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("name,kw", OPTIM_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIM_CASES)])
def test_optimizer_cuda_matches_cpu(name, kw, dt):
    inits = [arr((7, 5), dt), arr((13,), dt), arr((300, 40), dt)]
    grads = [[arr(a.shape, dt) for a in inits] for _ in range(5)]
    cpu_ps, cpu_opt = _run_optimizer(name, kw, "cpu", dt, inits, grads)
    cu_ps, cu_opt = _run_optimizer(name, kw, "cuda", dt, inits, grads)
    tol = dict(rtol=1e-6, atol=1e-7) if dt == mt.float32 else dict(rtol=1e-13, atol=1e-15)
    for pc, pg in zip(cpu_ps, cu_ps):
        check(pg.detach(), pc.detach(), **tol)
        for key, v in cpu_opt.state[pc].items():
            if key == "step":
                assert float(cu_opt.state[pg][key]) == float(v)
            else:
                check(cu_opt.state[pg][key], v, **tol)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("Adagrad", dict(lr=0.1, lr_decay=0.1))])
def test_optimizer_step_state_on_cuda(name, kw):
    inits = [arr((6, 4))]
    grads = [[arr((6, 4))] for _ in range(4)]
    cpu_ps, _ = _run_optimizer(name, kw, "cpu", mt.float32, inits, grads)
    cu_ps, cu_opt = _run_optimizer(name, kw, "cuda", mt.float32, inits, grads, step_on_cuda=True)
    st = cu_opt.state[cu_ps[0]]["step"]
    assert st.is_cuda and float(st) == 4.0
    check(cu_ps[0].detach(), cpu_ps[0].detach(), rtol=1e-6, atol=1e-7)


def test_optimizer_mixed_devices_raise():
    p = mt.zeros(3, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match="grad is on cpu"):
        mt._C._sgd_step(p, mt.zeros(3), None, 0.1, 0.0, 0.0, False, 0.0, False, False)


# ---------------- fused losses (cuda/loss.cu) vs the CPU kernels ----------------
def _loss_case(fn, dev, x, t, kw, x_grad=True, t_grad=False):
    import minitorch.nn.functional as F

    xs = mt.tensor(x).to(dev)
    if x_grad:
        xs.requires_grad_()
    ts = mt.tensor(t).to(dev)
    if t_grad:
        ts.requires_grad_()
    kw = {k: (mt.tensor(v).to(dev) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    out = getattr(F, fn)(xs, ts, **kw)
    g = np.random.default_rng(1).uniform(-2, 2, size=tuple(out.shape)).astype(x.dtype)  # same on both devices
    out.backward(mt.tensor(g).to(dev))
    return out.detach(), xs.grad, ts.grad if t_grad else None, out.grad_fn


def _targets(shape, C, ignore=None, rng=RNG):
    t = rng.integers(0, C, size=shape).astype(np.int64)
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


CE_SHAPES = [((8, 5), (8,)), ((4, 1000), (4,)), ((3, 4, 5, 6), (3, 5, 6)), ((2, 7, 9), (2, 9)), ((6,), ())]


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", ["plain", "weight", "ignore", "smooth", "all"])
@pytest.mark.parametrize("shapes", CE_SHAPES, ids=lambda s: "x".join(map(str, s[0])))
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_losses_cuda_match_cpu(fn, shapes, opts, reduction, dt):
    xshape, tshape = shapes
    C = xshape[0] if len(xshape) == 1 else xshape[1]
    x = arr(xshape, dt, -4.0, 4.0)
    if fn == "nll_loss":  # log-probabilities
        x = (x - np.log(np.exp(x.astype(np.float64)).sum(axis=0 if len(xshape) == 1 else 1, keepdims=True))).astype(x.dtype)
    kw = {"reduction": reduction}
    ignore = None
    if opts in ("weight", "all"):
        kw["weight"] = RNG.uniform(0.2, 2.0, size=C).astype(x.dtype)
    if opts in ("ignore", "all") and tshape != ():
        ignore = 1
        kw["ignore_index"] = ignore
    if opts in ("smooth", "all"):
        if fn == "nll_loss":
            pytest.skip("nll_loss has no label smoothing")
        kw["label_smoothing"] = 0.15
    t = _targets(tshape, C, ignore)
    want = _loss_case(fn, "cpu", x, t, kw)
    got = _loss_case(fn, "cuda", x, t, kw)
    tol = dict(rtol=2e-5, atol=2e-6) if dt == mt.float32 else dict(rtol=1e-11, atol=1e-13)
    check(got[0], want[0], **tol)
    check(got[1], want[1], **tol)
    assert got[3].name() == want[3].name()


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["mse", "bce", "bce_w", "logits", "logits_w_pw"])
def test_pointwise_losses_cuda_match_cpu(case, reduction, dt):
    shape = (5, 7)
    kw = {"reduction": reduction}
    if case == "mse":
        fn, x, t = "mse_loss", arr(shape, dt), arr(shape, dt)
    elif case.startswith("bce"):
        fn, x, t = "binary_cross_entropy", arr(shape, dt, 0.01, 0.99), arr(shape, dt, 0.0, 1.0)
        if case == "bce_w":
            kw["weight"] = arr(shape, dt, 0.5, 2.0)
    else:
        fn, x, t = "binary_cross_entropy_with_logits", arr(shape, dt, -10, 10), arr(shape, dt, 0.0, 1.0)
        if case == "logits_w_pw":
            kw["weight"] = arr((7,), dt, 0.5, 2.0)
            kw["pos_weight"] = arr((7,), dt, 0.5, 3.0)
    want = _loss_case(fn, "cpu", x, t, kw, t_grad=True)
    got = _loss_case(fn, "cuda", x, t, kw, t_grad=True)
    tol = dict(rtol=2e-5, atol=2e-6) if dt == mt.float32 else dict(rtol=1e-11, atol=1e-13)
    for g, w in zip(got[:3], want[:3]):
        check(g, w, **tol)
    assert got[3].name() == want[3].name()


def test_large_losses_cuda_match_cpu():
    import minitorch.nn.functional as F

    x, t = arr((512, 37), mt.float32, -8, 8), _targets((512,), 37)
    want = _loss_case("cross_entropy", "cpu", x, t, {})
    got = _loss_case("cross_entropy", "cuda", x, t, {})
    check(got[0], want[0], rtol=1e-5, atol=1e-6)
    check(got[1], want[1], rtol=1e-5, atol=1e-7)
    a, b = arr((300000,)), arr((300000,))
    check(F.mse_loss(mt.tensor(a).cuda(), mt.tensor(b).cuda()), F.mse_loss(mt.tensor(a), mt.tensor(b)), rtol=1e-6)


def test_cross_entropy_inf_and_nan_rows():
    x = np.array([[0.0, np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [1.0, 2.0, 3.0]], dtype=np.float32)
    t = np.array([0, 1, 2], dtype=np.int64)
    want = _loss_case("cross_entropy", "cpu", x, t, {"reduction": "none"})
    got = _loss_case("cross_entropy", "cuda", x, t, {"reduction": "none"})
    check(got[0], want[0])


def test_bad_targets_raise_at_the_next_sync():
    import minitorch.nn.functional as F

    x = mt.tensor(arr((4, 3))).cuda()
    loss = F.cross_entropy(x, mt.tensor([0, 1, 3, 2]).cuda())  # no sync here: the error is reported later
    with pytest.raises(RuntimeError, match="Target 3 is out of bounds"):
        loss.item()
    # the report is consumed: the device keeps working
    assert abs(F.cross_entropy(x, mt.tensor([0, 1, 2, 2]).cuda()).item()) < 100
    F.nll_loss(x, mt.tensor([0, -1, 0, 0]).cuda())
    with pytest.raises(RuntimeError, match="Target -1 is out of bounds"):
        mcuda.synchronize()
    mcuda.synchronize()
    F.binary_cross_entropy(mt.tensor([0.5, 1.5]).cuda(), mt.tensor([0.0, 1.0]).cuda())
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        mcuda.synchronize()
    # ignore_index is never out of bounds
    assert F.cross_entropy(x, mt.tensor([0, -100, 2, 2]).cuda()).item() > 0


def test_loss_mixed_devices_raise():
    import minitorch.nn.functional as F

    with pytest.raises(RuntimeError):
        F.cross_entropy(mt.zeros(2, 3, device="cuda"), mt.tensor([0, 1]))


# ---------------- a training step on CUDA equals the CPU run ----------------
def test_mlp_training_step_adam_cross_entropy_matches_cpu():
    import minitorch.nn as nn
    import minitorch.optim as optim

    x, y = arr((32, 10)), _targets((32,), 4)
    res = {}
    for dev in ("cpu", "cuda"):
        mt.manual_seed(123)
        model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4)).to(dev)
        crit = nn.CrossEntropyLoss()
        opt = optim.Adam(model.parameters(), lr=0.01)
        xs, ys = mt.tensor(x).to(dev), mt.tensor(y).to(dev)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = crit(model(xs), ys)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        res[dev] = (losses, [p.detach() for p in model.parameters()])
    np.testing.assert_allclose(res["cuda"][0], res["cpu"][0], rtol=1e-5)
    for g, c in zip(res["cuda"][1], res["cpu"][1]):
        check(g, c, rtol=1e-4, atol=1e-5)


def test_seed_training_example_runs_on_cuda():
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(mt.__file__))))
    r = subprocess.run([sys.executable, os.path.join(root, "examples", "seed_training.py")], capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "Training step completed on: cuda"


# ---------------- the fused LSTM layer on CUDA (csrc/ops/rnn.c + cuda/rnn.cu) against the CPU ----------------
_LSTM_CASES = [
    dict(num_layers=1),
    dict(num_layers=2),
    dict(num_layers=1, batch_first=True),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=2, batch_first=True, bidirectional=True),
    dict(num_layers=1, bias=False),
]


def _lstm_run(dev, kw, dt, x, state, ws):
    import minitorch.nn as nn

    mt.manual_seed(7)
    m = nn.LSTM(3, 5, dtype=dt, **kw).to(dev)
    xm = mt.tensor(x).to(dev).requires_grad_(True)
    hx = None
    if state is not None:
        hx = tuple(mt.tensor(s).to(dev).requires_grad_(True) for s in state)
    out, (hn, cn) = m(xm) if hx is None else m(xm, hx)
    loss = ((out * mt.tensor(ws[0]).to(dev)).sum() + (hn * mt.tensor(ws[1]).to(dev)).sum()
            + (cn * mt.tensor(ws[2]).to(dev)).sum())
    loss.backward()
    grads = [xm.grad] + ([s.grad for s in hx] if hx is not None else [])
    grads += [p.grad for p in m.parameters()]
    return [out, hn, cn], grads


@pytest.mark.parametrize("dt", FLOATS)
@pytest.mark.parametrize("kw", _LSTM_CASES)
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_fused_matches_cpu(dt, kw, with_state):
    T, B, I, H = 6, 4, 3, 5
    L, D = kw.get("num_layers", 1), 2 if kw.get("bidirectional") else 1
    npdt = NP[dt]
    x = arr((B, T, I) if kw.get("batch_first") else (T, B, I)).astype(npdt)
    state = (arr((L * D, B, H)).astype(npdt), arr((L * D, B, H)).astype(npdt)) if with_state else None
    out_shape = (B, T, D * H) if kw.get("batch_first") else (T, B, D * H)
    ws = [arr(out_shape).astype(npdt), arr((L * D, B, H)).astype(npdt), arr((L * D, B, H)).astype(npdt)]
    vc, gc = _lstm_run("cpu", kw, dt, x, state, ws)
    vg, gg = _lstm_run("cuda", kw, dt, x, state, ws)
    tol = dict(rtol=1e-4, atol=1e-5) if dt == mt.float32 else dict(rtol=1e-10, atol=1e-12)
    for g, c in zip(vg, vc):
        check(g.detach(), c.detach(), **tol)
    assert len(gg) == len(gc)
    for g, c in zip(gg, gc):
        assert g is not None and c is not None
        check(g, c, **tol)


def test_lstm_tf32_default():
    """With minitorch.backends.cudnn.allow_tf32 (True by default, as torch.backends.cudnn.allow_tf32)
    the LSTM's GEMMs use TF32: close to the float32 CPU results at TF32 precision; matmul is unaffected"""
    kw, dt = dict(num_layers=2), mt.float32
    T, B, I, H = 6, 4, 3, 5
    x = arr((T, B, I)).astype(np.float32)
    ws = [arr((T, B, H)).astype(np.float32), arr((2, B, H)).astype(np.float32), arr((2, B, H)).astype(np.float32)]
    vc, gc = _lstm_run("cpu", kw, dt, x, None, ws)
    mt.backends.cudnn.allow_tf32 = True
    assert mt.backends.cudnn.allow_tf32 is True and mt.backends.cuda.matmul.allow_tf32 is False
    vg, gg = _lstm_run("cuda", kw, dt, x, None, ws)
    for g, c in zip(vg + gg, vc + gc):
        check(g.detach(), c.detach(), rtol=2e-2, atol=2e-3)
    a, b = mt.tensor(arr((64, 64))), mt.tensor(arr((64, 64)))
    check((a.cuda() @ b.cuda()), a @ b, rtol=1e-5, atol=1e-5)  # matmul stays float32


def test_lstm_cuda_uses_the_fused_layer():
    import minitorch.nn as nn

    m = nn.LSTM(2, 3).to("cuda")
    out, (h, c) = m(mt.randn(4, 2, 2).to("cuda"))
    assert out.device.type == "cuda" and h.device.type == "cuda" and c.device.type == "cuda"
    assert type(out.grad_fn).__name__ == "MkldnnRnnLayerBackward0" or out.grad_fn.name() == "MkldnnRnnLayerBackward0"


def test_lstm_cuda_zero_steps_and_mixed_devices_raise():
    import minitorch.nn as nn

    m = nn.LSTM(2, 3).to("cuda")
    h0, c0 = mt.randn(1, 2, 3).to("cuda"), mt.randn(1, 2, 3).to("cuda")
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):  # as torch, CPU too
        m(mt.zeros(0, 2, 2).to("cuda"), (h0, c0))
    with pytest.raises(RuntimeError):
        m(mt.randn(3, 2, 2))  # CPU input, CUDA weights


def test_lstm_tutorial_training_step_matches_cpu():
    import minitorch.nn as nn
    import minitorch.optim as optim

    class Tutorial(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(input_size=1, hidden_size=32, num_layers=1, batch_first=True)
            self.linear = nn.Linear(32, 10)

        def forward(self, x):
            x, _ = self.lstm(x)
            return self.linear(x[:, -1, :])

    x, y = arr((16, 20, 1), lo=0.0, hi=1.0), _targets((16,), 10)
    res = {}
    for dev in ("cpu", "cuda"):
        mt.manual_seed(123)
        model = Tutorial().to(dev)
        crit = nn.CrossEntropyLoss(reduction="sum")
        opt = optim.Adam(model.parameters(), lr=0.01)
        xs, ys = mt.tensor(x).to(dev), mt.tensor(y).to(dev)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = crit(model(xs), ys)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        res[dev] = (losses, [p.detach() for p in model.parameters()])
    np.testing.assert_allclose(res["cuda"][0], res["cpu"][0], rtol=1e-4)
    for g, c in zip(res["cuda"][1], res["cpu"][1]):
        check(g, c, rtol=1e-4, atol=1e-5)


def test_text_generation_charrnn_trains_on_cuda(tmp_path):
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rng = np.random.default_rng(3)
    words = ["alice", "rabbit", "queen", "hatter", "tea", "down", "the", "hole", "said", "cat"]
    text = "\n".join(" ".join(rng.choice(words, size=12)) + "." for _ in range(200))
    corpus = tmp_path / "small.txt"
    corpus.write_text(text, encoding="utf-8")
    env = dict(os.environ)
    for k in ("MINITORCH_DATA", "MINITORCH_CACHE", "MINITORCH_OFFLINE"):
        env.pop(k, None)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(mt.__file__)))
    r = subprocess.run([sys.executable, os.path.join(root, "examples", "text_generation.py"), "train", "--model",
                        "charrnn", "--data", str(corpus), "--device", "cuda", "--max-batches", "2", "--epochs", "1",
                        "--seed", "0", "--checkpoint", str(tmp_path / "charrnn.pth"), "--no-progress"],
                       capture_output=True, text=True, timeout=300, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
